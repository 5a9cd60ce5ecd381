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
import { CLOCK_REALTIME, CLOCK_REALTIME_COARSE, hostClockNs, hostClockResNs } from "../host-clock.js";
import { COMM_MAX, comm } from "../procfs/self.js";
import { RLIM_NLIMITS } from "../rlimits.js";
import { RestartError } from "../signal/index.js";
import { deadlineNs, nowNs, readTimeNs, sleepUntil } from "./poll.js";
import { i32, u64, type SyscallTable } from "./types.js";

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004, ARCH_GET_CPUID = 0x1011;

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

export function registerProcess(t: SyscallTable): void {
  t.set(60, { name: "exit", fn: (p, a) => p.exitThread(i32(a[0]) & 0xff) });
  t.set(231, { name: "exit_group", fn: (p, a) => p.exit(i32(a[0]) & 0xff) });
  t.set(158, { name: "arch_prctl", fn: (p, a) => archPrctl(p, i32(a[0]), u64(a[1])) });
  t.set(218, { name: "set_tid_address", fn: (p, a) => ((p.clearChildTid = u64(a[0])), p.pid) }); // cf. SYSCALL_DEFINE1(set_tid_address)
  t.set(302, { name: "prlimit64", fn: (p, a) => prlimit(p, { pid: i32(a[0]), resource: u64(a[1]) % 2 ** 32, newAddr: u64(a[2]), oldAddr: u64(a[3]) }) });
  t.set(97, { name: "getrlimit", fn: (p, a) => prlimit(p, { pid: 0, resource: u64(a[0]) % 2 ** 32, newAddr: 0, oldAddr: u64(a[1]) }) });
  t.set(160, { name: "setrlimit", fn: (p, a) => setrlimit(p, u64(a[0]) % 2 ** 32, u64(a[1])) });
  t.set(63, { name: "uname", fn: (p, a) => uname(p, u64(a[0])) });
  t.set(318, { name: "getrandom", fn: (p, a) => getrandom(p, u64(a[0]), u64(a[1]), u64(a[2]) % 2 ** 32) });
  t.set(39, { name: "getpid", fn: (p) => p.tgid });
  t.set(186, { name: "gettid", fn: (p) => p.pid });
  t.set(102, { name: "getuid", fn: () => process.getuid?.() ?? 0 });
  t.set(107, { name: "geteuid", fn: () => process.geteuid?.() ?? 0 });
  t.set(104, { name: "getgid", fn: () => process.getgid?.() ?? 0 });
  t.set(108, { name: "getegid", fn: () => process.getegid?.() ?? 0 });
  t.set(115, { name: "getgroups", fn: (p, a) => getgroups(p, i32(a[0]), u64(a[1])) });
  t.set(118, { name: "getresuid", fn: (p, a) => ids(p, a, process.getuid?.() ?? 0) });
  t.set(120, { name: "getresgid", fn: (p, a) => ids(p, a, process.getgid?.() ?? 0) });
  const uid = process.getuid?.() ?? 0, gid = process.getgid?.() ?? 0;
  t.set(105, { name: "setuid", partial: "one identity: only the current uid", fn: (_p, a) => setIds("setuid", [a[0]], uid) });
  t.set(106, { name: "setgid", partial: "one identity: only the current gid", fn: (_p, a) => setIds("setgid", [a[0]], gid) });
  t.set(113, { name: "setreuid", partial: "one identity: only the current uid or -1", fn: (_p, a) => setIds("setreuid", a.slice(0, 2), uid) });
  t.set(114, { name: "setregid", partial: "one identity: only the current gid or -1", fn: (_p, a) => setIds("setregid", a.slice(0, 2), gid) });
  t.set(117, { name: "setresuid", partial: "one identity: only the current uid or -1", fn: (_p, a) => setIds("setresuid", a.slice(0, 3), uid) });
  t.set(119, { name: "setresgid", partial: "one identity: only the current gid or -1", fn: (_p, a) => setIds("setresgid", a.slice(0, 3), gid) });
  t.set(95, { name: "umask", fn: (p, a) => p.fs.setUmask(i32(a[0]) & 0o777) });
  t.set(99, { name: "sysinfo", fn: (p, a) => sysinfo(p, u64(a[0])) });
  t.set(157, { name: "prctl", fn: (p, a) => prctl(p, i32(a[0]), u64(a[1])) });
  t.set(228, { name: "clock_gettime", fn: (p, a) => (copyToUser(p.mm, u64(a[1]), timespec(hostClockNs(i32(a[0]))).bytes), 0) });
  t.set(229, { name: "clock_getres", fn: (p, a) => {
    const res = hostClockResNs(i32(a[0])); // EINVAL for a clock that does not exist (cf. posix_get_res's clockid_to_kclock)
    if (u64(a[1]) !== 0) copyToUser(p.mm, u64(a[1]), timespec(res).bytes);
    return 0;
  } });
  t.set(96, { name: "gettimeofday", fn: (p, a) => {
    if (u64(a[0]) === 0) return 0;
    const us = hostClockNs(CLOCK_REALTIME) / 1000n;
    copyToUser(p.mm, u64(a[0]), new Out(16).u64(0, us / 1_000_000n).u64(8, us % 1_000_000n).bytes);
    return 0;
  } });
  t.set(201, { name: "time", fn: (p, a) => {
    const s = Number(hostClockNs(CLOCK_REALTIME_COARSE) / 1_000_000_000n); // cf. ktime_get_real_seconds: the tick's time, as file times are
    if (u64(a[0]) !== 0) copyToUser(p.mm, u64(a[0]), new Out(8).u64(0, s).bytes);
    return s;
  } });
  t.set(98, { name: "getrusage", partial: "RUSAGE_SELF reports the whole faultline process's CPU time; children's and the other fields are 0", fn: (p, a) => getrusage(p, i32(a[0]), u64(a[1])) });
  t.set(35, { name: "nanosleep", fn: (p, a) => sleep(p, u64(a[0]), { clock: 1, abs: false, remAddr: u64(a[1]) }) });
  t.set(230, { name: "clock_nanosleep", fn: (p, a) => clockNanosleep(p, i32(a[0]), i32(a[1]), u64(a[2]), u64(a[3])) });
}

/**
 * getrusage(2) (cf. getrusage in kernel/sys.c): RUSAGE_SELF and RUSAGE_THREAD
 * get the CPU times of the faultline process (one guest thread at a time
 * runs on it); RUSAGE_CHILDREN zeros, as faultline does not account per process.
 */
function getrusage(p: Process, who: number, addr: number): number {
  const RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;
  if (who !== RUSAGE_SELF && who !== RUSAGE_CHILDREN && who !== RUSAGE_THREAD) fail("EINVAL", `getrusage: who ${who}`);
  const o = new Out(144);
  if (who !== RUSAGE_CHILDREN) {
    const u = process.cpuUsage();
    o.u64(0, Math.floor(u.user / 1e6)).u64(8, u.user % 1e6).u64(16, Math.floor(u.system / 1e6)).u64(24, u.system % 1e6);
  }
  copyToUser(p.mm, addr, o.bytes);
  return 0;
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

/** The arguments of prlimit64(2) (getrlimit is prlimit64 of the caller with no new limit). */
interface PrlimitArgs {
  /** Whose limits: 0 (the caller) or a guest pid. */
  pid: number;
  /** RLIMIT_* (unsigned). */
  resource: number;
  /** struct rlimit64 to set, or 0. */
  newAddr: number;
  /** Where to store the old limits, or 0. */
  oldAddr: number;
}

/**
 * prlimit64/getrlimit/setrlimit (cf. SYSCALL_DEFINE4(prlimit64) and
 * do_prlimit): the limits of the caller or of any process of its world,
 * zombies included until reaped (emu/rlimits.ts). Checks in Linux's order:
 * the new limit's copy (EFAULT), the pid (ESRCH), the resource (EINVAL),
 * cur > max (EINVAL), raising a hard limit (EPERM); the old limits are
 * stored after the new ones are set (EFAULT).
 */
function prlimit(p: Process, a: PrlimitArgs): number {
  const next = a.newAddr !== 0 ? new DataView(copyFromUser(p.mm, a.newAddr, 16).buffer) : undefined;
  const t = a.pid === 0 ? p : p.kernel.procs.get(a.pid) ?? fail("ESRCH", `prlimit64: no process ${a.pid}`);
  if (a.resource >= RLIM_NLIMITS) fail("EINVAL", `prlimit: unknown resource ${a.resource}`);
  const nproc = BigInt(p.kernel.maxProcs); // --max-procs is RLIMIT_NPROC until a process sets its own (cf. copy_process's check)
  const old = t.rlimits.get(a.resource, nproc);
  if (next) t.rlimits.put(a.resource, { cur: next.getBigUint64(0, true), max: next.getBigUint64(8, true) }, { nproc, privileged: (process.geteuid?.() ?? 1) === 0 });
  if (a.oldAddr !== 0) copyToUser(p.mm, a.oldAddr, new Out(16).u64(0, old.cur).u64(8, old.max).bytes);
  return 0;
}

/** setrlimit(2): prlimit64 of the caller with struct rlimit (two unsigned longs, the same layout as rlimit64 on x86-64). */
function setrlimit(p: Process, resource: number, addr: number): number {
  return prlimit(p, { pid: 0, resource, newAddr: addr, oldAddr: 0 });
}

/** prctl options faultline acts on (cf. uapi/linux/prctl.h). */
const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_SET_NAME = 15, PR_GET_NAME = 16;

/**
 * prctl(2) (cf. SYSCALL_DEFINE5(prctl)): PR_SET_NAME sets the command name
 * /proc shows (the first 15 bytes of the string, cf. strncpy_from_user into
 * TASK_COMM_LEN; EFAULT when it cannot be read), PR_GET_NAME copies it out
 * as 16 bytes NUL-padded (cf. get_task_comm); PR_SET_PDEATHSIG records the
 * signal to get when the parent dies (EINVAL past signal 64, cf.
 * valid_signal), PR_GET_PDEATHSIG stores it as an int; every other option
 * answers 0 and does nothing.
 */
function prctl(p: Process, option: number, addr: number): number {
  if (option === PR_SET_PDEATHSIG) {
    if (addr > 64) fail("EINVAL", `prctl: PR_SET_PDEATHSIG of signal ${addr}`);
    p.pdeathSignal = addr;
  } else if (option === PR_GET_PDEATHSIG) {
    copyToUser(p.mm, addr, new Out(4).u32(0, p.pdeathSignal).bytes);
  } else if (option === PR_SET_NAME) {
    const bytes: number[] = [];
    for (let k = 0; k < COMM_MAX; k++) {
      const b = copyFromUser(p.mm, addr + k, 1)[0];
      if (b === 0) break;
      bytes.push(b);
    }
    p.setName = { image: p.execImage, name: Buffer.from(bytes) };
  } else if (option === PR_GET_NAME) {
    const out = Buffer.alloc(COMM_MAX + 1);
    Buffer.from(comm(p), "latin1").copy(out);
    copyToUser(p.mm, addr, out);
  }
  return 0;
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

/**
 * setuid/setreuid/setresuid and their gid kin (cf. __sys_setresuid in
 * kernel/sys.c): every guest process has the host's one identity, so an id
 * may be -1 (unchanged) or the current id, which is what an unprivileged
 * process may always do and what glibc's posix_spawn(POSIX_SPAWN_RESETIDS)
 * (make's) asks; any other id is EPERM, as for a process without
 * CAP_SETUID, since faultline cannot become another user.
 * @returns 0
 * @throws EPERM for an id other than -1 and `current`
 */
function setIds(name: string, args: readonly number[], current: number): number {
  for (const a of args) {
    const id = u64(a) % 2 ** 32;
    if (id !== 0xffffffff && id !== current) fail("EPERM", `${name}: id ${id} is not the current one (${current}); faultline has one identity`);
  }
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


/**
 * nanosleep(2) / clock_nanosleep(2) (cf. hrtimer_nanosleep): the timespec
 * is checked (EINVAL for tv_nsec outside [0, 1e9) or a negative tv_sec), a
 * TIMER_ABSTIME request sleeps until that time of its clock, and the sleep
 * goes in bounded slices so that --timeout interrupts it.
 * @param clock the clock of an absolute deadline (CLOCK_REALTIME = 0, else monotonic)
 */
function sleep(p: Process, tsAddr: number, o: { clock: number; abs: boolean; remAddr: number }): number {
  const ns = readTimeNs(p, tsAddr);
  const until = o.abs ? absoluteDeadline(ns, o.clock) : deadlineNs(p, ns);
  return sleepInterruptibly(p, until, o);
}

/** The monotonic deadline of absolute time `ns` of clock `clock` (now, if that time has passed). */
function absoluteDeadline(ns: bigint, clock: number): bigint {
  const now = hostClockNs(clock);
  return nowNs() + (ns > now ? ns - now : 0n);
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
