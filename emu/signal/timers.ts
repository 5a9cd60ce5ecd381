/**
 * The timers of a thread group (cf. kernel/time/itimer.c,
 * kernel/time/posix-timers.c, kernel/time/posix-cpu-timers.c): ITIMER_REAL
 * (which alarm(2) also sets), ITIMER_VIRTUAL, ITIMER_PROF, and the POSIX
 * timers of timer_create(2). They live in the SignalStruct (`p.signal.timers`),
 * as Linux keeps real_timer, it[] and posix_timers in signal_struct.
 *
 * Nothing here runs on its own: the signal core calls {@link
 * ProcessTimers.expire} at every delivery point and bounds its engine run
 * slices and sleeps by {@link ProcessTimers.nextDeadlineNs}. A timer that
 * fires hands its siginfo to the `send` function the core gave the
 * constructor.
 *
 * Clocks. Wall-clock timers count on faultline's monotonic clock (`nowNs`,
 * what the guest's CLOCK_MONOTONIC reads); a CLOCK_REALTIME deadline is
 * turned into a monotonic one when the timer is armed (a later change of the
 * host's wall clock does not move it, where Linux's clock_was_set would).
 * CPU-time timers (ITIMER_VIRTUAL, ITIMER_PROF, CLOCK_PROCESS_CPUTIME_ID and
 * the CPU clocks of the process itself) count on the CPU time of the host
 * process, `process.cpuUsage()`: user time for ITIMER_VIRTUAL, user plus
 * system time for the others. That is the emulator's CPU time, Node's own
 * included, so such a timer fires somewhat earlier in the guest's terms than
 * natively; it never fires later than the next delivery point after the
 * host process has used the time.
 */
import { ErrnoError } from "../../lib/errors.js";
import { fail } from "../../lib/errno.js";
import { nowNs } from "../syscalls/poll.js";
import { CLOCK_REALTIME, hostClockNs } from "../host-clock.js";
import { SI_KERNEL, SI_TIMER, SIG } from "./constants.js";
import type { SigInfo } from "./siginfo.js";

/** The three interval timers of setitimer(2) (cf. uapi/linux/time.h). */
export const ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;
/** How a POSIX timer notifies (cf. uapi/asm-generic/siginfo.h). */
export const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD = 2, SIGEV_THREAD_ID = 4;
/** timer_settime(2)'s flag for an absolute expiry time. */
export const TIMER_ABSTIME = 1;

const NSEC_PER_SEC = 1_000_000_000n;
/** The largest time the kernel keeps (cf. KTIME_MAX): timer values and deadlines saturate there. */
export const KTIME_MAX = 2n ** 63n - 1n;

/** `a + b` saturating at KTIME_MAX (cf. ktime_add_safe). */
function addSafe(a: bigint, b: bigint): bigint {
  const sum = a + b;
  return sum > KTIME_MAX ? KTIME_MAX : sum;
}
/** The largest si_overrun / timer_getoverrun value (an int; cf. timer_overrun_to_int). */
const INT_MAX = 0x7fff_ffff;
/**
 * How much CPU time may pass, at most, between two checks of a CPU-time
 * timer while the guest runs: CPU time cannot be turned into a wall-clock
 * deadline exactly (the host process may use more than one CPU), so
 * nextDeadlineNs asks to be called again at least this often.
 */
const CPU_RECHECK_NS = 10_000_000n;
/**
 * The shortest such wait: a guest that sleeps uses no CPU time, and
 * re-checking its nearly due CPU timer more often would only burn the host
 * CPU time that then fires it.
 */
const CPU_RECHECK_MIN_NS = 1_000_000n;
/**
 * Most POSIX timers a process may hold at once: each is memory of the host
 * process, and Linux charges each against RLIMIT_SIGPENDING (its default
 * on a machine with this much memory is of this order); past it,
 * timer_create is EAGAIN as Linux's sigqueue_alloc failure is.
 */
const MAX_TIMERS = 65_536;

/** The time base a timer counts on: faultline's monotonic clock, or the host process's CPU time. */
export type TimeBase = "wall" | "cpu-user" | "cpu-total";

/**
 * The clock a POSIX timer counts on: its time base, and whether absolute
 * times on it are wall-clock (CLOCK_REALTIME, CLOCK_TAI) rather than
 * `base`'s own.
 */
export interface TimerClock {
  readonly base: TimeBase;
  readonly realtime: boolean;
}

/** Now on `base`, in nanoseconds. */
function baseNow(base: TimeBase, wallNs: bigint): bigint {
  if (base === "wall") return wallNs;
  const u = process.cpuUsage();
  return BigInt(base === "cpu-user" ? u.user : u.user + u.system) * 1000n;
}

/** A time value as Linux's itimerspec64 halves: value and interval in ns (value 0: disarmed). */
export interface TimerSpec {
  /** Time left until the next expiry (0: disarmed), ns. */
  readonly valueNs: bigint;
  /** The period (0: one shot), ns. */
  readonly intervalNs: bigint;
}

const DISARMED: TimerSpec = { valueNs: 0n, intervalNs: 0n };

/**
 * The first expiry strictly after `now` on a timer that expired at
 * `expires` with period `interval` > 0, and how many periods that skipped
 * (cf. hrtimer_forward: 0 when `expires` is still ahead).
 */
function forward(expires: bigint, now: bigint, interval: bigint): { expires: bigint; overruns: bigint } {
  if (expires > now) return { expires, overruns: 0n };
  const overruns = (now - expires) / interval + 1n;
  return { expires: expires + overruns * interval, overruns };
}

/** One interval timer of setitimer(2) (cf. signal_struct's real_timer/it_real_incr, and struct cpu_itimer). */
interface ITimer {
  /** The signal it sends. */
  readonly signo: number;
  /** The time base it counts on. */
  readonly base: TimeBase;
  /** The next expiry on `base` (undefined: not running). */
  expires: bigint | undefined;
  /** The period (0: one shot), ns. */
  interval: bigint;
}

/** What timer_create(2) was asked for, checked (cf. good_sigevent). */
export interface TimerEvent {
  /** SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD or SIGEV_SIGNAL|SIGEV_THREAD_ID. */
  readonly notify: number;
  /** The signal (unused with SIGEV_NONE). */
  readonly signo: number;
  /** sigev_value, handed to the handler as si_value. */
  readonly value: bigint;
}

/** One POSIX timer (cf. struct k_itimer). */
interface PosixTimer {
  /** The id timer_create handed out (cf. it_id). */
  readonly id: number;
  /** The clock it counts on (timer_create's clock id, decoded). */
  readonly clock: TimerClock;
  /** How it notifies. */
  readonly event: TimerEvent;
  /** The current expiry on `clock.base`; kept after the timer fires (timer_gettime forwards from it). */
  expires: bigint;
  /** Whether the timer waits to expire (cf. it_active; never for SIGEV_NONE, whose expiry is only computed). */
  active: boolean;
  /** Whether it is armed at all (SIGEV_NONE included); false after a one shot fired or a disarm. */
  armed: boolean;
  /** The period (0: one shot), ns (cf. it_interval). */
  interval: bigint;
  /** Periods missed since the last delivery, minus one (cf. it_overrun, which starts at -1). */
  overrun: bigint;
  /** The overrun count of the last delivered signal (cf. it_overrun_last), what timer_getoverrun answers. */
  overrunLast: bigint;
  /** An interval timer's signal is queued and the timer waits to be rearmed at its delivery (cf. REQUEUE_PENDING). */
  requeuePending: boolean;
  /** Bumped by every timer_settime and every rearm (cf. it_signal_seq): a queued signal older than it is stale. */
  seq: number;
  /**
   * Its last expiry's signal could not be queued (ignored, or a standard
   * signal already pending): it runs on, and signals at once when its
   * signal stops being ignored (see unignore).
   */
  unqueued: boolean;
  /** Set by timer_delete: its queued signal, if any, is stale. */
  deleted: boolean;
}

/**
 * The timers of one thread group (cf. signal_struct's real_timer,
 * it_real_incr, it[2] and posix_timers).
 */
export class ProcessTimers {
  /** ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF by index. */
  private readonly itimers: readonly ITimer[] = [
    { signo: SIG.SIGALRM, base: "wall", expires: undefined, interval: 0n },
    { signo: SIG.SIGVTALRM, base: "cpu-user", expires: undefined, interval: 0n },
    { signo: SIG.SIGPROF, base: "cpu-total", expires: undefined, interval: 0n },
  ];
  /** POSIX timers by id. */
  private readonly posix = new Map<number, PosixTimer>();
  /** The next POSIX timer id to try (cf. signal_struct.next_posix_timer_id): 0, 1, 2... never reused before it wraps. */
  private nextId = 0;

  /**
   * @param send queues a siginfo for the thread group (the core passes
   *   `info => sendSignal(p, info)`); returns whether it was queued (false:
   *   ignored, or a non-real-time signal already pending)
   */
  constructor(private readonly send: (info: SigInfo) => boolean) {}

  /**
   * The monotonic time (ns, `nowNs`'s clock) by which {@link expire} must
   * next run, or undefined when no timer runs. For a CPU-time timer it is
   * the CPU time left read as wall time, kept between CPU_RECHECK_MIN_NS
   * and CPU_RECHECK_NS ahead (now, once it is due).
   */
  nextDeadlineNs(): bigint | undefined {
    let best: bigint | undefined;
    let wall: bigint | undefined; // read only when a CPU-time timer runs: this is called after every system call
    let cpuNow: { user: bigint; total: bigint } | undefined;
    const consider = (base: TimeBase, expires: bigint): void => {
      let at = expires;
      if (base !== "wall") {
        wall ??= nowNs();
        if (!cpuNow) {
          const u = process.cpuUsage();
          cpuNow = { user: BigInt(u.user) * 1000n, total: BigInt(u.user + u.system) * 1000n };
        }
        const left = expires - (base === "cpu-user" ? cpuNow.user : cpuNow.total);
        at = wall + (left <= 0n ? 0n : left < CPU_RECHECK_MIN_NS ? CPU_RECHECK_MIN_NS : left < CPU_RECHECK_NS ? left : CPU_RECHECK_NS);
      }
      if (best === undefined || at < best) best = at;
    };
    for (const t of this.itimers) if (t.expires !== undefined) consider(t.base, t.expires);
    for (const t of this.posix.values()) if (t.active) consider(t.clock.base, t.expires);
    return best;
  }

  /**
   * Fires every timer due at monotonic time `nowNs` (cf. the hrtimer
   * callbacks it_real_fn and posix_timer_fn, and run_posix_cpu_timers):
   * sends their signals and rearms what Linux rearms at expiry.
   */
  expire(now: bigint): void {
    const cpu = new Map<TimeBase, bigint>();
    const at = (base: TimeBase): bigint => {
      if (base === "wall") return now;
      let v = cpu.get(base);
      if (v === undefined) cpu.set(base, (v = baseNow(base, now)));
      return v;
    };
    this.itimers.forEach((t, which) => {
      if (t.expires !== undefined && t.expires <= at(t.base)) this.fireItimer(which, at(t.base));
    });
    for (const t of this.posix.values()) if (t.active && t.expires <= at(t.clock.base)) this.firePosix(t, at(t.clock.base));
  }

  /** What execve does (cf. exit_itimers in begin_new_exec): POSIX timers deleted; the itimers and alarm stay. */
  onExec(): void {
    for (const t of this.posix.values()) t.deleted = true;
    this.posix.clear();
  }

  // ---- setitimer(2), getitimer(2), alarm(2) ----

  /**
   * getitimer(2) (cf. do_getitimer, itimer_get_remtime, get_cpu_itimer):
   * a running timer never reads 0 (one microsecond for ITIMER_REAL about
   * to fire, one tick for a CPU timer).
   * @throws ErrnoError EINVAL for an unknown `which`
   */
  getitimer(which: number): TimerSpec {
    const t = this.itimer(which);
    if (t.expires === undefined) return { valueNs: 0n, intervalNs: t.interval };
    const left = t.expires - baseNow(t.base, nowNs());
    const floor = t.base === "wall" ? 1000n : TICK_NS;
    // A CPU timer's time left is a u64 the kernel hands out as an s64: past KTIME_MAX it reads negative.
    return { valueNs: left > 0n ? BigInt.asIntN(64, left) : floor, intervalNs: t.interval };
  }

  /**
   * setitimer(2) (cf. do_setitimer, set_cpu_itimer): arms `which` with
   * `spec` (value 0 disarms; for ITIMER_REAL the interval is then dropped
   * too, as Linux drops it_real_incr). A CPU timer's first expiry is one
   * tick later than asked, as Linux's is.
   * @returns the previous setting, as getitimer would have read it
   * @throws ErrnoError EINVAL for an unknown `which`
   */
  setitimer(which: number, spec: TimerSpec): TimerSpec {
    const old = this.getitimer(which);
    const t = this.itimer(which);
    if (spec.valueNs === 0n) {
      t.expires = undefined;
      t.interval = which === ITIMER_REAL ? 0n : spec.intervalNs;
      return old;
    }
    const now = baseNow(t.base, nowNs());
    // ITIMER_REAL is an hrtimer (its deadline saturates); a CPU timer's is u64 arithmetic, one tick later.
    t.expires = t.base === "wall" ? addSafe(now, spec.valueNs) : now + spec.valueNs + TICK_NS;
    t.interval = spec.intervalNs;
    return old;
  }

  /**
   * alarm(2) (cf. alarm_setitimer): ITIMER_REAL in whole seconds, no period.
   * @returns the seconds the previous alarm had left, rounded to the
   *   nearest and never 0 for one still pending
   */
  alarm(seconds: number): number {
    const old = this.setitimer(ITIMER_REAL, { valueNs: BigInt(seconds) * NSEC_PER_SEC, intervalNs: 0n });
    let secs = old.valueNs / NSEC_PER_SEC;
    const frac = old.valueNs % NSEC_PER_SEC;
    if ((secs === 0n && frac !== 0n) || frac >= NSEC_PER_SEC / 2n) secs++;
    return Number(secs);
  }

  private itimer(which: number): ITimer {
    const t = this.itimers[which];
    if (!t || !Number.isInteger(which)) fail("EINVAL", `itimer: unknown timer ${which}`);
    return t;
  }

  /**
   * One itimer's expiry (cf. it_real_fn, check_cpu_itimer): the signal,
   * sent as the kernel's own (SI_KERNEL). ITIMER_REAL's next period starts
   * when its SIGALRM is delivered, as Linux restarts real_timer in
   * dequeue_signal; when the signal was not queued (ignored, or a SIGALRM
   * already pending) it restarts at once. CPU timers restart at expiry.
   */
  private fireItimer(which: number, now: bigint): void {
    const t = this.itimers[which];
    const expired = t.expires as bigint;
    if (which !== ITIMER_REAL) {
      t.expires = t.interval !== 0n ? expired + t.interval : undefined;
      this.send({ signo: t.signo, code: SI_KERNEL, pid: 0, uid: 0 });
      return;
    }
    t.expires = undefined;
    const restart = (at: bigint): void => {
      if (t.expires === undefined && t.interval !== 0n) t.expires = forward(expired, at, t.interval).expires;
    };
    const queued = this.send({ signo: t.signo, code: SI_KERNEL, pid: 0, uid: 0, rearm: (info) => (restart(nowNs()), info) });
    if (!queued) restart(now);
  }

  // ---- timer_create(2) and the rest ----

  /**
   * timer_create(2) after the clock and sigevent were read (cf.
   * do_timer_create): the id is taken first, so a bad sigevent still uses
   * one up, as Linux's posix_timer_add does before good_sigevent.
   * @param event the checked sigevent (undefined: none given, so SIGALRM
   *   carrying the id), or the ErrnoError its check failed with, thrown once
   *   the id is taken
   * @returns the new timer's id
   * @throws ErrnoError EAGAIN when no id is left; `event` when it is an error
   */
  create(clock: TimerClock, event: TimerEvent | ErrnoError | undefined): number {
    if (this.posix.size >= MAX_TIMERS) fail("EAGAIN", `timer_create: ${MAX_TIMERS} timers already`);
    const id = this.takeId();
    if (event instanceof ErrnoError) throw event;
    const ev = event ?? { notify: SIGEV_SIGNAL, signo: SIG.SIGALRM, value: BigInt(id) };
    this.posix.set(id, {
      id, clock, event: ev, expires: 0n, active: false, armed: false, interval: 0n,
      overrun: -1n, overrunLast: 0n, requeuePending: false, seq: 0, unqueued: false, deleted: false,
    });
    return id;
  }

  /** The next free id from the counter (cf. posix_timer_add: cyclic over 0..INT_MAX). */
  private takeId(): number {
    for (let tries = 0; tries <= INT_MAX; tries++) {
      const id = this.nextId;
      this.nextId = (id + 1) & INT_MAX;
      if (!this.posix.has(id)) return id;
    }
    return fail("EAGAIN", "timer_create: no timer id left");
  }

  /** @throws ErrnoError EINVAL when `id` names no timer of this process (cf. lock_timer) */
  private timer(id: number): PosixTimer {
    const t = this.posix.get(id);
    if (!t) fail("EINVAL", `timer ${id} does not exist`);
    return t;
  }

  /**
   * timer_gettime(2) (cf. common_timer_get): time left and period. An
   * interval timer whose signal waits to be delivered, and a SIGEV_NONE
   * timer, are first moved past now, counting the periods skipped; a timer
   * that signals reads at least 1 ns until its signal is delivered; an
   * expired SIGEV_NONE one shot reads 0.
   * @throws ErrnoError EINVAL for an unknown id
   */
  gettime(id: number): TimerSpec {
    return this.current(this.timer(id));
  }

  private current(t: PosixTimer): TimerSpec {
    const sigNone = t.event.notify === SIGEV_NONE;
    if (t.interval === 0n && !t.active && !(sigNone && t.armed)) return DISARMED;
    const now = baseNow(t.clock.base, nowNs());
    if (t.interval !== 0n && (t.requeuePending || sigNone)) {
      const f = forward(t.expires, now, t.interval);
      t.expires = f.expires;
      t.overrun += f.overruns;
    }
    const left = t.expires - now;
    return { valueNs: left > 0n ? left : sigNone ? 0n : 1n, intervalNs: t.interval };
  }

  /**
   * timer_settime(2) (cf. common_timer_set): disarms, makes any queued
   * signal of the old setting stale (dropped at delivery), then arms with `spec` (value 0: stays
   * disarmed, period dropped). An absolute value is on the timer's clock
   * (a wall-clock one is turned into a monotonic deadline here).
   * @returns the old setting, as timer_gettime would have read it
   * @throws ErrnoError EINVAL for an unknown id
   */
  settime(id: number, spec: TimerSpec, o: { absolute: boolean }): TimerSpec {
    const t = this.timer(id);
    const old = this.current(t);
    t.interval = 0n;
    t.active = t.armed = false;
    t.requeuePending = t.unqueued = false;
    t.seq++;
    t.overrunLast = 0n;
    t.overrun = -1n;
    if (spec.valueNs === 0n) return old;
    const now = baseNow(t.clock.base, nowNs());
    t.interval = spec.intervalNs;
    if (!o.absolute) t.expires = addSafe(now, spec.valueNs);
    else if (t.clock.realtime) t.expires = now + (spec.valueNs - hostClockNs(CLOCK_REALTIME));
    else t.expires = spec.valueNs;
    t.armed = true;
    t.active = t.event.notify !== SIGEV_NONE;
    return old;
  }

  /**
   * timer_getoverrun(2) (cf. SYSCALL_DEFINE1(timer_getoverrun)): the
   * periods the last delivered signal stood for beyond itself.
   * @throws ErrnoError EINVAL for an unknown id
   */
  getoverrun(id: number): number {
    return clampInt(this.timer(id).overrunLast);
  }

  /**
   * timer_delete(2) (cf. posix_timer_delete): the timer stops and its id is
   * free; a signal of it still queued is stale (see {@link delivered}).
   * @throws ErrnoError EINVAL for an unknown id
   */
  delete(id: number): void {
    this.timer(id).deleted = true;
    this.posix.delete(id);
  }

  /**
   * A POSIX timer's expiry (cf. posix_timer_fn, posix_timer_event,
   * send_sigqueue): an interval timer waits, not rearmed, until its signal
   * is delivered; when the signal cannot be queued (ignored, or a
   * non-real-time one already pending), an interval timer runs on,
   * counting the periods as overruns (Linux 6.13+ parks it until the
   * signal is no longer ignored, see {@link unignore}; a standard signal
   * already pending it would queue a second time).
   */
  private firePosix(t: PosixTimer, now: bigint): void {
    t.active = false;
    if (t.interval !== 0n) t.requeuePending = true;
    else t.armed = false;
    const seq = t.seq;
    const info: SigInfo = {
      signo: t.event.signo, code: SI_TIMER, timerId: t.id, overrun: 0, value: t.event.value,
      rearm: (i) => this.delivered(t, seq, i),
    };
    t.unqueued = !this.send(info);
    if (!t.unqueued || t.interval === 0n) return;
    const f = forward(t.expires, now, t.interval);
    t.expires = f.expires;
    t.overrun += f.overruns;
    t.requeuePending = false;
    t.active = t.armed = true;
  }

  /**
   * `signo`, which was SIG_IGN, got another action (cf.
   * posixtimer_sig_unignore, called from do_sigaction): each interval
   * timer whose last expiry found it ignored signals now; the periods it
   * ran meanwhile are its si_overrun.
   */
  unignore(signo: number): void {
    for (const t of this.posix.values()) {
      if (t.unqueued && t.interval !== 0n && t.event.signo === signo) this.firePosix(t, t.expires);
    }
  }

  /**
   * The delivery of a POSIX timer's signal, queued when the timer's
   * sequence number was `seq` (cf. posixtimer_deliver_signal): dropped when
   * the timer was set again or deleted since; else an interval timer
   * restarts from its last expiry, and the periods it missed meanwhile
   * become si_overrun and what timer_getoverrun answers.
   * @returns the siginfo to deliver, or undefined to drop it
   */
  private delivered(t: PosixTimer, seq: number, info: SigInfo): SigInfo | undefined {
    if (t.deleted || seq !== t.seq) return undefined;
    if (t.interval === 0n || !t.requeuePending) return info;
    const f = forward(t.expires, baseNow(t.clock.base, nowNs()), t.interval);
    t.expires = f.expires;
    t.overrun += f.overruns;
    t.active = t.armed = true;
    t.overrunLast = t.overrun;
    t.overrun = -1n;
    t.requeuePending = false;
    t.seq++;
    return { ...info, overrun: clampInt(t.overrunLast) };
  }
}

/** One scheduler tick (cf. TICK_NSEC at HZ=250, Debian's): the slack Linux adds to CPU itimers. */
const TICK_NS = 4_000_000n;

/** `v` clamped to an int's range, as the kernel's timer_overrun_to_int does. */
function clampInt(v: bigint): number {
  return v > BigInt(INT_MAX) ? INT_MAX : Number(v);
}
