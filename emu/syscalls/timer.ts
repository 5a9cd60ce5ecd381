/**
 * Timer system calls (cf. kernel/time/itimer.c, kernel/time/posix-timers.c):
 * alarm, getitimer, setitimer, and timer_create / timer_settime /
 * timer_gettime / timer_getoverrun / timer_delete. They read and check the
 * guest's structures in Linux's order (a bad pointer is EFAULT, a bad value
 * EINVAL, each where Linux finds it) and hand the rest to the thread
 * group's `ProcessTimers` (emu/signal/timers.ts), which keeps the timers.
 */
import { ErrnoError } from "../../lib/errors.js";
import { Errno, fail } from "../../lib/errno.js";
import { copyFromUser, copyToUser } from "../../mm/index.js";
import type { Process } from "../process.js";
import { NSIG } from "../signal/index.js";
import {
  SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID, TIMER_ABSTIME,
  KTIME_MAX, type TimerClock, type TimerEvent, type TimerSpec,
} from "../signal/timers.js";
import { Out } from "./process.js";
import { i32, u64, type SyscallTable } from "./types.js";

const NSEC_PER_SEC = 1_000_000_000n;
/** Seconds from which a time saturates at KTIME_MAX (cf. KTIME_SEC_MAX in timespec64_to_ktime). */
const KTIME_SEC_MAX = KTIME_MAX / NSEC_PER_SEC;
/** What getitimer/setitimer leave out. */
const CPU_NOTE = "ITIMER_VIRTUAL and ITIMER_PROF count the whole faultline process's CPU time";
/** struct sigevent as the kernel copies it (cf. sigevent_t): value, signo, notify, then the union's tid. */
const SIGEVENT_SIZE = 64;

export function registerTimer(t: SyscallTable): void {
  t.set(37, { name: "alarm", fn: (p, a) => p.signal.timers.alarm(i32(a[0]) >>> 0) });
  t.set(36, { name: "getitimer", fn: (p, a) => getitimer(p, i32(a[0]), u64(a[1])), partial: CPU_NOTE });
  t.set(38, { name: "setitimer", fn: (p, a) => setitimer(p, i32(a[0]), u64(a[1]), u64(a[2])), partial: CPU_NOTE });
  t.set(222, { name: "timer_create", fn: (p, a) => timerCreate(p, i32(a[0]), u64(a[1]), u64(a[2])),
    partial: "SIGEV_THREAD_ID only to the guest's own thread; CPU-time clocks count the whole faultline process; CLOCK_REALTIME_ALARM and CLOCK_BOOTTIME_ALARM are EOPNOTSUPP" });
  t.set(223, { name: "timer_settime", fn: (p, a) => timerSettime(p, i32(a[0]), i32(a[1]), u64(a[2]), u64(a[3])),
    partial: "CLOCK_REALTIME deadlines do not follow later changes of the host's clock" });
  t.set(224, { name: "timer_gettime", fn: (p, a) => (putSpec(p, u64(a[1]), p.signal.timers.gettime(i32(a[0])), NSEC_PER_SEC), 0) });
  t.set(225, { name: "timer_getoverrun", fn: (p, a) => p.signal.timers.getoverrun(i32(a[0])) });
  t.set(226, { name: "timer_delete", fn: (p, a) => (p.signal.timers.delete(i32(a[0])), 0) });
}

/**
 * Reads a struct itimerval (`unit` 1e6: timevals) or itimerspec (`unit`
 * 1e9: timespecs) at `addr`: interval first, then value, each as the
 * kernel's ktime (KTIME_MAX from KTIME_SEC_MAX seconds on).
 * @throws ErrnoError EFAULT; EINVAL for a negative second or a fraction
 *   outside 0..unit-1 in either half (cf. timeval_valid, timespec64_valid)
 */
function getSpec(p: Process, addr: number, unit: bigint): TimerSpec {
  const v = new DataView(copyFromUser(p.mm, addr, 32).buffer);
  const ns = (off: number): bigint => {
    const sec = v.getBigInt64(off, true), frac = v.getBigInt64(off + 8, true);
    if (sec < 0n || frac < 0n || frac >= unit) fail("EINVAL", `timer value ${sec}.${frac} out of range`);
    return sec >= KTIME_SEC_MAX ? KTIME_MAX : sec * NSEC_PER_SEC + frac * (NSEC_PER_SEC / unit);
  };
  const intervalNs = ns(0);
  return { valueNs: ns(16), intervalNs };
}

/**
 * Writes `spec` as a struct itimerval (`unit` 1e6, microseconds truncated
 * as put_itimerval truncates) or itimerspec (`unit` 1e9) at `addr`; a
 * negative time as ns_to_timespec64 splits it (seconds rounded down, the
 * fraction positive).
 * @throws ErrnoError EFAULT
 */
function putSpec(p: Process, addr: number, spec: TimerSpec, unit: bigint): void {
  const per = NSEC_PER_SEC / unit;
  const half = (out: Out, off: number, ns: bigint): Out => {
    const frac = ((ns % NSEC_PER_SEC) + NSEC_PER_SEC) % NSEC_PER_SEC;
    return out.u64(off, (ns - frac) / NSEC_PER_SEC).u64(off + 8, frac / per);
  };
  copyToUser(p.mm, addr, half(half(new Out(32), 0, spec.intervalNs), 16, spec.valueNs).bytes);
}

/** getitimer(2) (cf. SYSCALL_DEFINE2(getitimer)): an unknown timer is EINVAL before the pointer is looked at. */
function getitimer(p: Process, which: number, addr: number): number {
  const spec = p.signal.timers.getitimer(which);
  putSpec(p, addr, spec, 1_000_000n);
  return 0;
}

/**
 * setitimer(2) (cf. SYSCALL_DEFINE3(setitimer)): the new value is read and
 * checked before `which`; a NULL one disarms (the "misfeature" Linux still
 * supports); the timer is set even when the old value's pointer then
 * faults.
 */
function setitimer(p: Process, which: number, newAddr: number, oldAddr: number): number {
  const spec = newAddr !== 0 ? getSpec(p, newAddr, 1_000_000n) : { valueNs: 0n, intervalNs: 0n };
  const old = p.signal.timers.setitimer(which, spec);
  if (oldAddr !== 0) putSpec(p, oldAddr, old, 1_000_000n);
  return 0;
}

/** What a clock id means to timer_create: its clock, or the errno Linux answers and when. */
type ClockChoice =
  | { readonly clock: TimerClock; readonly late?: undefined }
  /** A CPU clock Linux rejects only in posix_cpu_timer_create, after the id is taken and written out. */
  | { readonly clock: TimerClock; readonly late: ErrnoError };

const WALL: TimerClock = { base: "wall", realtime: false };
const REALTIME: TimerClock = { base: "wall", realtime: true };
const CPU: TimerClock = { base: "cpu-total", realtime: false };

/**
 * The clock of a timer_create(2) clock id (cf. clockid_to_kclock, and
 * pid_for_clock for the negative CPU-clock ids): REALTIME and TAI count
 * wall-clock time, MONOTONIC and BOOTTIME monotonic time, the CPU-time
 * clocks the host process's CPU time. Clocks without timers (MONOTONIC_RAW,
 * the COARSE ones, a clock descriptor's) are EOPNOTSUPP, as are the
 * *_ALARM ones, which need a wake-up alarm device faultline has not.
 * @throws ErrnoError EINVAL for a clock that does not exist; EOPNOTSUPP
 */
function clockOf(p: Process, id: number): ClockChoice {
  switch (id) {
    case 0: case 11: return { clock: REALTIME }; // CLOCK_REALTIME, CLOCK_TAI
    case 1: case 7: return { clock: WALL }; // CLOCK_MONOTONIC, CLOCK_BOOTTIME
    case 2: case 3: return { clock: CPU }; // CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID
    case 4: case 5: case 6: return fail("EOPNOTSUPP", `timer_create: clock ${id} has no timers`);
    case 8: case 9: return fail("EOPNOTSUPP", `timer_create: clock ${id} needs a wake-up alarm device`);
    default: break;
  }
  if (id >= 0) return fail("EINVAL", `timer_create: no clock ${id}`);
  // A CPU clock: ~pid << 3 | per-thread bit (4) | which (0 PROF, 1 VIRT, 2 SCHED; 3 without the thread bit: a clock descriptor).
  const which = id & 3, thread = (id & 4) !== 0, pid = ~id >> 3;
  if (which === 3 && !thread) fail("EOPNOTSUPP", `timer_create: clock ${id} is a clock descriptor's`);
  const clock: TimerClock = { base: which === 1 ? "cpu-user" : "cpu-total", realtime: false };
  if (which === 3 || (pid !== 0 && pid !== p.pid && pid !== p.tgid)) {
    return { clock, late: new ErrnoError(Errno.EINVAL, "EINVAL", `timer_create: clock ${id} names no thread or process of this guest`) };
  }
  return { clock };
}

/**
 * A struct sigevent as good_sigevent checks it: SIGEV_NONE with any
 * signal; SIGEV_SIGNAL and SIGEV_THREAD (which the kernel treats as a
 * signal: glibc and musl make SIGEV_THREAD's thread themselves) with a
 * signal 1..64; SIGEV_SIGNAL|SIGEV_THREAD_ID with a thread id of the
 * caller's process first; anything else EINVAL.
 * @returns the event, or the EINVAL to fail with once the id is taken
 */
function sigevent(p: Process, raw: DataView): TimerEvent | ErrnoError {
  const value = raw.getBigUint64(0, true), signo = raw.getInt32(8, true), notify = raw.getInt32(12, true);
  const bad = (why: string): ErrnoError => new ErrnoError(Errno.EINVAL, "EINVAL", `timer_create: ${why}`);
  if (notify === (SIGEV_SIGNAL | SIGEV_THREAD_ID)) {
    const tid = raw.getInt32(16, true);
    // cf. good_sigevent: a thread of the caller's process. The signal is then queued for the process, not
    // that thread alone (a gap: a thread that blocks it while another does not may see it go to the other).
    if (p.kernel.procs.get(tid)?.group !== p.group) return bad(`SIGEV_THREAD_ID to thread ${tid}, not one of the process's`);
  } else if (notify !== SIGEV_SIGNAL && notify !== SIGEV_THREAD && notify !== SIGEV_NONE) {
    return bad(`sigev_notify ${notify}`);
  }
  if (notify !== SIGEV_NONE && (signo <= 0 || signo > NSIG)) return bad(`signal ${signo}`);
  return { notify, signo, value };
}

/**
 * timer_create(2) (cf. SYSCALL_DEFINE3(timer_create), do_timer_create):
 * the sigevent is read first (EFAULT), then the clock is looked up
 * (EINVAL, EOPNOTSUPP); from there on a failure (a bad sigevent, the id's
 * pointer faulting, a CPU clock of another process) has used up an id, as
 * Linux's does. The id is written as an int.
 */
function timerCreate(p: Process, clockId: number, evAddr: number, idAddr: number): number {
  const raw = evAddr !== 0 ? new DataView(copyFromUser(p.mm, evAddr, SIGEVENT_SIZE).buffer) : undefined;
  const choice = clockOf(p, clockId);
  const timers = p.signal.timers;
  const id = timers.create(choice.clock, raw && sigevent(p, raw));
  try {
    copyToUser(p.mm, idAddr, new Out(4).u32(0, id).bytes);
    if (choice.late) throw choice.late;
  } catch (e) {
    timers.delete(id);
    throw e;
  }
  return 0;
}

/**
 * timer_settime(2) (cf. SYSCALL_DEFINE4(timer_settime), do_timer_settime):
 * a NULL new value is EINVAL, a bad one EFAULT, then EINVAL for a bad
 * time, then for an unknown id; flags other than TIMER_ABSTIME are
 * ignored; the old value's pointer faulting leaves the timer set.
 */
function timerSettime(p: Process, id: number, flags: number, newAddr: number, oldAddr: number): number {
  if (newAddr === 0) fail("EINVAL", "timer_settime: no new value");
  const spec = getSpec(p, newAddr, NSEC_PER_SEC);
  const old = p.signal.timers.settime(id, spec, { absolute: (flags & TIMER_ABSTIME) !== 0 });
  if (oldAddr !== 0) putSpec(p, oldAddr, old, NSEC_PER_SEC);
  return 0;
}
