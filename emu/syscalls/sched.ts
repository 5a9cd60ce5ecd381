/**
 * Scheduling calls (cf. kernel/sched/core.c, kernel/rseq.c): the CPUs a
 * task may run on and the one it is said to run on, and yielding.
 *
 * The guest has `Kernel.cpus` CPUs (--cpus). Its tasks run one at a time
 * on faultline's one thread, so "the CPU a task runs on" is a fixed,
 * deterministic choice: the first CPU of its affinity mask at or after
 * (tid - 1) mod cpus, what getcpu(2) and rseq's cpu_id report.
 */
import { fail } from "../../lib/errno.js";
import { copyFromUser, copyToUser } from "../../mm/index.js";
import type { Process } from "../process.js";
import { i32, u64, type SyscallTable } from "./types.js";

/** Every CPU of a guest with `cpus` CPUs, as a mask (bit k = CPU k). */
function allCpus(cpus: number): bigint {
  return (1n << BigInt(cpus)) - 1n;
}

/** The CPUs task `p` may run on (cf. task->cpus_mask). */
function affinityOf(p: Process): bigint {
  return p.affinity ?? allCpus(p.kernel.cpus);
}

/** The CPU task `p` is reported to run on (see the file's comment). */
export function taskCpu(p: Process): number {
  const n = p.kernel.cpus, mask = affinityOf(p);
  for (let k = 0; k < n; k++) {
    const cpu = (p.pid - 1 + k) % n;
    if (mask & (1n << BigInt(cpu))) return cpu;
  }
  return 0;
}

/** The bytes of a cpumask as sched_getaffinity stores it: BITS_TO_LONGS(nr_cpu_ids) longs (cf. cpumask_size). */
function maskBytes(cpus: number): number {
  return Math.ceil(cpus / 64) * 8;
}

/** The task `pid` names (0: the caller), zombies included (cf. find_process_by_pid). @throws ErrnoError ESRCH */
function taskOf(p: Process, pid: number, call: string): Process {
  if (pid === 0) return p;
  return p.kernel.procs.get(pid) ?? fail("ESRCH", `${call}: no process ${pid}`);
}

/**
 * sched_getaffinity(2) (cf. SYSCALL_DEFINE3(sched_getaffinity)): `len`
 * must hold nr_cpu_ids bits and be a multiple of 8 (EINVAL).
 * @returns the bytes stored (cpumask_size())
 */
function schedGetaffinity(p: Process, pid: number, len: number, addr: number): number {
  const cpus = p.kernel.cpus;
  if (len * 8 < cpus || len % 8 !== 0) fail("EINVAL", `sched_getaffinity: bad mask length ${len}`);
  const mask = affinityOf(taskOf(p, pid, "sched_getaffinity"));
  const n = Math.min(len, maskBytes(cpus));
  const b = new Uint8Array(n);
  for (let k = 0; k < n; k++) b[k] = Number((mask >> BigInt(8 * k)) & 0xffn);
  copyToUser(p.mm, addr, b);
  return n;
}

/**
 * sched_setaffinity(2) (cf. sched_setaffinity): the mask read (bytes past
 * `len` are zeros), limited to the guest's CPUs; none left is EINVAL.
 */
function schedSetaffinity(p: Process, pid: number, len: number, addr: number): number {
  const t = taskOf(p, pid, "sched_setaffinity");
  const b = copyFromUser(p.mm, addr, Math.min(len, maskBytes(p.kernel.cpus)));
  let mask = 0n;
  for (let k = 0; k < b.length; k++) mask |= BigInt(b[k]) << BigInt(8 * k);
  mask &= allCpus(p.kernel.cpus);
  if (mask === 0n) fail("EINVAL", "sched_setaffinity: no CPU of the guest in the mask");
  t.affinity = mask;
  return 0;
}

/** getcpu(2): the task's CPU (see taskCpu) and NUMA node 0 (cf. SYSCALL_DEFINE3(getcpu)). */
function getcpu(p: Process, cpuAddr: number, nodeAddr: number): number {
  const b = new Uint8Array(4);
  if (cpuAddr !== 0) {
    new DataView(b.buffer).setUint32(0, taskCpu(p), true);
    copyToUser(p.mm, cpuAddr, b);
  }
  if (nodeAddr !== 0) copyToUser(p.mm, nodeAddr, new Uint8Array(4));
  return 0;
}

/**
 * rseq(2) (cf. SYSCALL_DEFINE4(rseq)): registration stores cpu_id_start
 * and cpu_id, the task's CPU, in the guest's struct rseq (what
 * sched_getcpu() then reads). A task never migrates, and no critical
 * section is ever aborted: a slice that ends inside one resumes it where it
 * stopped. That is exact while no two tasks report the same CPU (at most
 * --cpus tasks); past that, two tasks' sections on the same per-CPU data
 * could interleave, which Linux's abort would prevent (see emu/README.md
 * "Threads").
 */
function rseq(p: Process, addr: number, len: number, flags: number): number {
  const RSEQ_FLAG_UNREGISTER = 1;
  if (flags & ~RSEQ_FLAG_UNREGISTER) fail("EINVAL", "rseq: unknown flags");
  if (flags & RSEQ_FLAG_UNREGISTER) return 0;
  if (len < 32 || addr % 32 !== 0) fail("EINVAL", "rseq: bad struct rseq");
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, taskCpu(p), true); // cpu_id_start
  v.setUint32(4, taskCpu(p), true); // cpu_id
  copyToUser(p.mm, addr, b);
  return 0;
}

export function registerSched(t: SyscallTable): void {
  t.set(204, { name: "sched_getaffinity", fn: (p, a) => schedGetaffinity(p, i32(a[0]), u64(a[1]) % 2 ** 32, u64(a[2])) });
  t.set(203, { name: "sched_setaffinity", fn: (p, a) => schedSetaffinity(p, i32(a[0]), u64(a[1]) % 2 ** 32, u64(a[2])) });
  t.set(24, { name: "sched_yield", fn: (p) => (p.yieldCpu(), 0) });
  t.set(309, { name: "getcpu", fn: (p, a) => getcpu(p, u64(a[0]), u64(a[1])) });
  t.set(334, { name: "rseq", fn: (p, a) => rseq(p, u64(a[0]), u64(a[1]), i32(a[2])) });
}
