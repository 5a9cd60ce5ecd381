/**
 * Process-lifetime, identity, limits, time and scheduling calls (cf.
 * kernel/sys.c, kernel/exit.c, arch/x86/kernel/process_64.c, kernel/time/).
 * A guest is one single-threaded process: uid/gid 0 as the host's root would
 * report are replaced by the host's own ids, pid 1000-ish comes from the host.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import { ErrnoError } from "../../lib/errors.js";
import { Errno, fail } from "../../lib/errno.js";
import { copyFromUser, copyToUser } from "../../mm/index.js";
import { Reg } from "../constants.js";
import type { Process } from "../process.js";
import { RestartError } from "../signal/index.js";
import { nowNs, readTimeNs, sleepUntil } from "./poll.js";
import { i32, u64, type SyscallTable } from "./types.js";

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004, ARCH_GET_CPUID = 0x1011;
const RLIMIT_STACK = 3, RLIM_INFINITY = 2n ** 64n - 1n;

/** A little-endian byte buffer writer for kernel structures. */
export class Out {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u64(off: number, v: number | bigint): this {
    this.view.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
    return this;
  }
  u32(off: number, v: number): this {
    this.view.setUint32(off, v >>> 0, true);
    return this;
  }
  u16(off: number, v: number): this {
    this.view.setUint16(off, v, true);
    return this;
  }
  str(off: number, s: string, max: number): this {
    this.bytes.set(Buffer.from(s, "utf8").subarray(0, max - 1), off);
    return this;
  }
}

/** A struct timespec for `ns` nanoseconds since the epoch or since boot. */
function timespec(ns: bigint): Out {
  return new Out(16).u64(0, ns / 1_000_000_000n).u64(8, ns % 1_000_000_000n);
}

/** Wall-clock nanoseconds since the epoch. */
export function realtimeNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

function clockNs(clock: number): bigint {
  switch (clock) {
    case 0: case 5: case 8: case 11: return realtimeNs(); // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
    case 1: case 4: case 6: case 7: case 9: return process.hrtime.bigint(); // MONOTONIC(_RAW/_COARSE), BOOTTIME(_ALARM)
    case 2: case 3: { // PROCESS_CPUTIME_ID, THREAD_CPUTIME_ID: the host process's CPU time
      const u = process.cpuUsage();
      return BigInt(u.user + u.system) * 1000n;
    }
    default: return fail("EINVAL", `clock_gettime: unknown clock ${clock}`);
  }
}

export function registerProcess(t: SyscallTable): void {
  t.set(60, { name: "exit", fn: (p, a) => p.exit(i32(a[0]) & 0xff) });
  t.set(231, { name: "exit_group", fn: (p, a) => p.exit(i32(a[0]) & 0xff) });
  t.set(158, { name: "arch_prctl", fn: (p, a) => archPrctl(p, i32(a[0]), u64(a[1])) });
  t.set(218, { name: "set_tid_address", fn: (p) => p.pid });
  t.set(273, { name: "set_robust_list", fn: (_p, a) => (u64(a[1]) !== 24 ? fail("EINVAL", "set_robust_list: bad size") : 0) });
  t.set(334, { name: "rseq", fn: (p, a) => rseq(p, u64(a[0]), u64(a[1]), i32(a[2])) });
  t.set(302, { name: "prlimit64", fn: (p, a) => prlimit(p, { pid: i32(a[0]), resource: u64(a[1]) % 2 ** 32, newAddr: u64(a[2]), oldAddr: u64(a[3]) }) });
  t.set(97, { name: "getrlimit", fn: (p, a) => prlimit(p, { pid: 0, resource: u64(a[0]) % 2 ** 32, newAddr: 0, oldAddr: u64(a[1]) }) });
  t.set(63, { name: "uname", fn: (p, a) => uname(p, u64(a[0])) });
  t.set(318, { name: "getrandom", fn: (p, a) => getrandom(p, u64(a[0]), u64(a[1]), u64(a[2]) % 2 ** 32) });
  t.set(39, { name: "getpid", fn: (p) => p.pid });
  t.set(110, { name: "getppid", fn: () => process.pid });
  t.set(186, { name: "gettid", fn: (p) => p.pid });
  t.set(102, { name: "getuid", fn: () => process.getuid?.() ?? 0 });
  t.set(107, { name: "geteuid", fn: () => process.geteuid?.() ?? 0 });
  t.set(104, { name: "getgid", fn: () => process.getgid?.() ?? 0 });
  t.set(108, { name: "getegid", fn: () => process.getegid?.() ?? 0 });
  t.set(111, { name: "getpgrp", fn: (p) => p.pid });
  t.set(121, { name: "getpgid", fn: (p, a) => (mustBeSelf(p, i32(a[0]), "getpgid"), p.pid) });
  t.set(124, { name: "getsid", fn: (p, a) => (mustBeSelf(p, i32(a[0]), "getsid"), p.pid) });
  t.set(115, { name: "getgroups", fn: (p, a) => getgroups(p, i32(a[0]), u64(a[1])) });
  t.set(118, { name: "getresuid", fn: (p, a) => ids(p, a, process.getuid?.() ?? 0) });
  t.set(120, { name: "getresgid", fn: (p, a) => ids(p, a, process.getgid?.() ?? 0) });
  t.set(95, { name: "umask", fn: (p, a) => p.fs.setUmask(i32(a[0]) & 0o777) });
  t.set(99, { name: "sysinfo", fn: (p, a) => sysinfo(p, u64(a[0])) });
  t.set(204, { name: "sched_getaffinity", fn: (p, a) => schedGetaffinity(p, i32(a[0]), u64(a[1]) % 2 ** 32, u64(a[2])) });
  t.set(24, { name: "sched_yield", fn: () => 0 });
  t.set(157, { name: "prctl", fn: () => 0 });
  t.set(202, { name: "futex", fn: (p, a) => futex(p, u64(a[0]), i32(a[1]), i32(a[2])) });
  t.set(228, { name: "clock_gettime", fn: (p, a) => (copyToUser(p.mm, u64(a[1]), timespec(clockNs(i32(a[0]))).bytes), 0) });
  t.set(229, { name: "clock_getres", fn: (p, a) => {
    clockNs(i32(a[0])); // EINVAL for a clock that does not exist (cf. posix_get_res's clockid_to_kclock)
    if (u64(a[1]) !== 0) copyToUser(p.mm, u64(a[1]), timespec(1n).bytes);
    return 0;
  } });
  t.set(96, { name: "gettimeofday", fn: (p, a) => {
    if (u64(a[0]) === 0) return 0;
    const us = realtimeNs() / 1000n;
    copyToUser(p.mm, u64(a[0]), new Out(16).u64(0, us / 1_000_000n).u64(8, us % 1_000_000n).bytes);
    return 0;
  } });
  t.set(201, { name: "time", fn: (p, a) => {
    const s = Number(realtimeNs() / 1_000_000_000n);
    if (u64(a[0]) !== 0) copyToUser(p.mm, u64(a[0]), new Out(8).u64(0, s).bytes);
    return s;
  } });
  t.set(35, { name: "nanosleep", fn: (p, a) => sleep(p, u64(a[0]), { clock: 1, abs: false, remAddr: u64(a[1]) }) });
  t.set(230, { name: "clock_nanosleep", fn: (p, a) => clockNanosleep(p, i32(a[0]), i32(a[1]), u64(a[2]), u64(a[3])) });
}

/** arch_prctl(2): the FS and GS bases that TLS uses. */
function archPrctl(p: Process, code: number, addr: number): number {
  switch (code) {
    case ARCH_SET_FS: p.engine.writeReg(Reg.FS_BASE, addr); return 0;
    case ARCH_SET_GS: p.engine.writeReg(Reg.GS_BASE, addr); return 0;
    case ARCH_GET_FS: copyToUser(p.mm, addr, new Out(8).u64(0, p.engine.readReg(Reg.FS_BASE)).bytes); return 0;
    case ARCH_GET_GS: copyToUser(p.mm, addr, new Out(8).u64(0, p.engine.readReg(Reg.GS_BASE)).bytes); return 0;
    case ARCH_GET_CPUID: return 1;
    default: return fail("EINVAL", `arch_prctl: unknown code 0x${code.toString(16)}`);
  }
}

/**
 * rseq(2) for one thread on one CPU: registration stores cpu_id_start and
 * cpu_id = 0 in the guest's struct rseq (what sched_getcpu() then reads);
 * nothing ever preempts the guest, so no critical section is ever aborted.
 */
function rseq(p: Process, addr: number, len: number, flags: number): number {
  const RSEQ_FLAG_UNREGISTER = 1;
  if (flags & ~RSEQ_FLAG_UNREGISTER) fail("EINVAL", "rseq: unknown flags");
  if (flags & RSEQ_FLAG_UNREGISTER) return 0;
  if (len < 32 || addr % 32 !== 0) fail("EINVAL", "rseq: bad struct rseq");
  copyToUser(p.mm, addr, new Out(8).u32(0, 0).u32(4, 0).bytes); // cpu_id_start, cpu_id
  return 0;
}

/** The arguments of prlimit64(2) (getrlimit is prlimit64 of the caller with no new limit). */
interface PrlimitArgs {
  /** Whose limits: 0 or the guest's own pid. */
  pid: number;
  /** RLIMIT_* (unsigned). */
  resource: number;
  /** struct rlimit64 to set, or 0. */
  newAddr: number;
  /** Where to store the old limits, or 0. */
  oldAddr: number;
}

/**
 * prlimit64/getrlimit: reports limits; a new limit is read and checked, then
 * ignored. Checks in Linux's order (cf. SYSCALL_DEFINE4(prlimit64) and
 * do_prlimit): the new limit's copy (EFAULT), the pid (ESRCH), the resource
 * (EINVAL), cur > max (EINVAL), then the old limits' copy (EFAULT).
 */
function prlimit(p: Process, a: PrlimitArgs): number {
  const RLIM_NLIMITS = 16;
  const next = a.newAddr !== 0 ? new DataView(copyFromUser(p.mm, a.newAddr, 16).buffer) : undefined;
  mustBeSelf(p, a.pid, "prlimit64");
  if (a.resource >= RLIM_NLIMITS) fail("EINVAL", `prlimit: unknown resource ${a.resource}`);
  if (next && next.getBigUint64(0, true) > next.getBigUint64(8, true)) fail("EINVAL", "prlimit: rlim_cur above rlim_max");
  if (a.oldAddr !== 0) {
    const r = a.resource;
    const cur = r === RLIMIT_STACK ? 8n * 1024n * 1024n : r === 7 ? 1024n : RLIM_INFINITY;
    copyToUser(p.mm, a.oldAddr, new Out(16).u64(0, cur).u64(8, r === 7 ? 1048576n : RLIM_INFINITY).bytes);
  }
  return 0;
}

/** ESRCH unless `pid` names the guest itself (0 or its pid): it is the only process it can see. */
function mustBeSelf(p: Process, pid: number, call: string): void {
  if (pid !== 0 && pid !== p.pid) fail("ESRCH", `${call}: no process ${pid}`);
}

/**
 * getrandom(2) (cf. SYSCALL_DEFINE3(getrandom) and get_random_bytes_user):
 * unknown flags, or GRND_INSECURE with GRND_RANDOM, are EINVAL; the bytes go
 * out page by page, so a buffer that runs into unmapped memory gets what
 * fits before it (EFAULT only when nothing did). At most 32 MiB - 1 a call.
 */
function getrandom(p: Process, buf: number, len: number, flags: number): number {
  const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) fail("EINVAL", `getrandom: unknown flags 0x${flags.toString(16)}`);
  if ((flags & (GRND_INSECURE | GRND_RANDOM)) === (GRND_INSECURE | GRND_RANDOM)) fail("EINVAL", "getrandom: GRND_INSECURE with GRND_RANDOM");
  const total = Math.min(len, 0x1ffffff); // cf. MAX_RW_COUNT >> (ENTROPY_SHIFT + 3): the kernel caps at INT_MAX >> 6
  let done = 0;
  while (done < total) {
    const n = Math.min(total - done, 4096 - ((buf + done) % 4096));
    try {
      copyToUser(p.mm, buf + done, crypto.randomBytes(n));
    } catch (e) {
      if (done > 0 && e instanceof ErrnoError && e.errno === Errno.EFAULT) return done;
      throw e;
    }
    done += n;
  }
  return done;
}

/**
 * getgroups(2) from the host's supplementary groups (cf. SYSCALL_DEFINE2(getgroups)):
 * size 0 asks for the count; a negative size or one below the count is EINVAL.
 */
function getgroups(p: Process, size: number, list: number): number {
  if (size < 0) fail("EINVAL", "getgroups: negative size");
  const groups = hostGroups();
  if (size === 0) return groups.length;
  if (size < groups.length) fail("EINVAL", `getgroups: ${size} slots for ${groups.length} groups`);
  const out = new Out(groups.length * 4);
  groups.forEach((g, k) => out.u32(k * 4, g));
  if (groups.length > 0) copyToUser(p.mm, list, out.bytes);
  return groups.length;
}

/** The host process's supplementary groups, as /proc/self/status lists them (Node's getgroups adds the egid). */
function hostGroups(): number[] {
  const line = /^Groups:(.*)$/m.exec(fs.readFileSync("/proc/self/status", "latin1"));
  return (line?.[1] ?? "").trim().split(/\s+/).filter((g) => g !== "").map(Number);
}

/**
 * sched_getaffinity(2) for one CPU (cf. SYSCALL_DEFINE3(sched_getaffinity)):
 * the length must hold nr_cpu_ids bits and be a multiple of 8 (EINVAL); the
 * pid must be the guest's (ESRCH); returns the bytes stored, 8.
 */
function schedGetaffinity(p: Process, pid: number, len: number, mask: number): number {
  if (len * 8 < 1 || len % 8 !== 0) fail("EINVAL", `sched_getaffinity: bad mask length ${len}`);
  mustBeSelf(p, pid, "sched_getaffinity");
  copyToUser(p.mm, mask, new Out(8).u64(0, 1).bytes); // one CPU
  return 8;
}

/** uname(2): the host's kernel, named as Linux x86_64. */
function uname(p: Process, addr: number): number {
  const f = 65;
  const o = new Out(6 * f)
    .str(0, "Linux", f).str(f, os.hostname(), f).str(2 * f, os.release(), f)
    .str(3 * f, os.version(), f).str(4 * f, "x86_64", f).str(5 * f, "(none)", f);
  copyToUser(p.mm, addr, o.bytes);
  return 0;
}

function ids(p: Process, a: readonly number[], id: number): number {
  for (let k = 0; k < 3; k++) if (u64(a[k]) !== 0) copyToUser(p.mm, u64(a[k]), new Out(4).u32(0, id).bytes);
  return 0;
}

/** sysinfo(2) from the host, with RAM as the RAM limit when there is one. */
function sysinfo(p: Process, addr: number): number {
  const limit = p.mm.sys.config.ramLimitPages;
  const total = limit === Infinity ? os.totalmem() : limit * 4096;
  const used = (p.mm.sys.filePages + p.mm.sys.anonPages) * 4096;
  const load = os.loadavg().map((l) => Math.round(l * 65536));
  const o = new Out(112).u64(0, Math.floor(os.uptime()))
    .u64(8, load[0]).u64(16, load[1]).u64(24, load[2])
    .u64(32, total).u64(40, Math.max(0, total - used)).u64(48, 0).u64(56, p.mm.sys.filePages * 4096)
    .u64(64, 0).u64(72, 0).u16(80, 1).u64(88, 0).u64(96, 0).u32(104, 1);
  copyToUser(p.mm, addr, o.bytes);
  return 0;
}

/** futex(2) for one thread: WAIT on a changed value is EAGAIN, WAIT on an unchanged one would block forever. */
function futex(p: Process, addr: number, op: number, val: number): number {
  const cmd = op & 0x7f;
  if (cmd === 1 || cmd === 10) return 0; // WAKE, WAKE_BITSET: nobody waits
  if (cmd === 0 || cmd === 9) { // WAIT, WAIT_BITSET
    const cur = new DataView(copyFromUser(p.mm, addr, 4).buffer).getInt32(0, true);
    if (cur !== val) fail("EAGAIN", "futex: value changed");
    return fail("EDEADLK", "futex: a single thread would wait forever");
  }
  return fail("ENOSYS", `futex: op ${cmd} not supported`);
}

/**
 * nanosleep(2) / clock_nanosleep(2) (cf. hrtimer_nanosleep): the timespec
 * is checked (EINVAL for tv_nsec outside [0, 1e9) or a negative tv_sec), a
 * TIMER_ABSTIME request sleeps until that time of its clock, and the sleep
 * goes in bounded slices so that --timeout interrupts it.
 * @param clock the clock of an absolute deadline (CLOCK_REALTIME = 0, else monotonic)
 */
function sleep(p: Process, tsAddr: number, o: { clock: number; abs: boolean; remAddr: number }): number {
  const ns = readTimeNs(p, tsAddr);
  const until = o.abs ? nowNs() + (ns > clockNs(o.clock) ? ns - clockNs(o.clock) : 0n) : nowNs() + ns;
  return sleepInterruptibly(p, until, o);
}

/**
 * The sleep itself, and what a signal makes of it (cf. hrtimer_nanosleep,
 * nanosleep_copyout): an absolute sleep restarts as it was
 * (-ERESTARTNOHAND); a relative one writes the time left to `remAddr` and
 * leaves restart_syscall the rest of it (-ERESTART_RESTARTBLOCK), so it
 * is EINTR when a handler runs and goes on sleeping when none does.
 */
function sleepInterruptibly(p: Process, until: bigint, o: { abs: boolean; remAddr: number }): number {
  try {
    sleepUntil(p, until);
    return 0;
  } catch (e) {
    if (!(e instanceof RestartError)) throw e;
    if (o.abs) throw new RestartError("ERESTARTNOHAND", e.message);
    const left = until > nowNs() ? until - nowNs() : 0n;
    if (o.remAddr !== 0) copyToUser(p.mm, o.remAddr, timespec(left).bytes);
    p.sigtask.restart = () => sleepInterruptibly(p, until, o);
    throw new RestartError("ERESTART_RESTARTBLOCK", e.message);
  }
}

/** The clocks clock_nanosleep accepts (cf. the nsleep methods of kernel/time/posix-timers.c). */
const SLEEP_CLOCKS = new Set([0, 1, 2, 7, 8, 9, 11]); // REALTIME, MONOTONIC, PROCESS_CPUTIME, BOOTTIME, the alarms, TAI

/** clock_nanosleep(2) (its errors go back as -errno; glibc returns them as the call's result). */
function clockNanosleep(p: Process, clock: number, flags: number, tsAddr: number, remAddr: number): number {
  const TIMER_ABSTIME = 1;
  if (!SLEEP_CLOCKS.has(clock)) fail("EINVAL", `clock_nanosleep: clock ${clock} cannot sleep`);
  return sleep(p, tsAddr, { clock, abs: (flags & TIMER_ABSTIME) !== 0, remAddr });
}
