/**
 * Sending and delivering signals (cf. kernel/signal.c send_signal_locked,
 * get_signal, force_sig_info_to_task, signal_delivered; arch/x86/kernel/signal.c
 * arch_do_signal_or_restart, handle_signal).
 *
 *   sendSignal ──> ignored? drop ──> pending (the group's shared set, or the task's)
 *
 *   delivery point (syscall exit, end of a run slice, after a probe's step)
 *     └─ deliverSignals: while an unblocked signal is pending
 *          dequeue (task's set first, then the group's; synchronous first)
 *          SIG_IGN ─────────────> next
 *          SIG_DFL ── ignore/continue ──> next;  stop ──> the process stops (jobctl.ts), delivery ends
 *                  └─ terminate/core ──> the guest is killed (GuestSignal)
 *          handler ── restart rules (syscall exit only) ──> frame ──> mask |= sa_mask|sig
 *     └─ nothing ran a handler: a restartable syscall restarts; a saved mask comes back
 *
 *   CPU exception ──> forceSignal: blocked or ignored -> SIG_DFL (kills); handler -> frame now
 */
import { ErrnoError, GuestSignal } from "../../lib/errors.js";
import { Errno } from "../../lib/errno.js";
import { copyFromUser } from "../../mm/index.js";
import { fail } from "../../lib/errno.js";
import { Reg } from "../constants.js";
import type { Process } from "../process.js";
import {
  SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART, SA_RESTORER, SA_SIGINFO, SIG, SIG_DFL, SIG_IGN, SI_KERNEL, SI_QUEUE,
  SI_TIMER, SI_TKILL, SI_USER, UNBLOCKABLE, defaultAction, inSet, sigBit, signalName,
} from "./constants.js";
import { frameAddress, setupRtFrame, type UserContext } from "./frame.js";
import { SigPending } from "./pending.js";
import { DEFAULT_ACTION, type SigAction } from "./sighand.js";
import { JobControl, afterStop, prepareSignal, signalStop } from "./jobctl.js";
import { encodeSigInfo, type SigInfo } from "./siginfo.js";
import type { ProcessTimers } from "./timers.js";

/** The red zone below RSP that a frame never touches (cf. get_sigframe's sp -= 128). */
const RED_ZONE = 128;

/** sigaltstack flags. */
export const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;

/** A task's alternate signal stack (cf. task_struct sas_ss_sp/size/flags). */
export interface AltStack {
  /** Lowest address of the stack, 0 when disabled. */
  sp: number;
  /** Its size in bytes, 0 when disabled. */
  size: number;
  /** As sigaltstack set them: SS_DISABLE, or 0, with SS_AUTODISARM possibly. */
  flags: number;
}

/** The signal state of one task (thread) (cf. task_struct's blocked, pending, sas_ss_*, saved_sigmask). */
export class TaskSignals {
  /** Blocked signals (cf. task->blocked). Invariant: never contains SIGKILL or SIGSTOP. */
  blocked = 0n;
  /** Signals sent to this thread (tkill, tgkill, faults). */
  readonly pending = new SigPending();
  /** The alternate stack. */
  altstack: AltStack = { sp: 0, size: 0, flags: SS_DISABLE };
  /**
   * The mask to restore once a call that replaced it returns (sigsuspend,
   * ppoll, pselect6, epoll_pwait) (cf. TIF_RESTORE_SIGMASK and
   * saved_sigmask); undefined when none is saved.
   */
  savedMask: bigint | undefined = undefined;
  /** What restart_syscall(2) runs after an interrupted nanosleep without a handler (cf. restart_block). */
  restart: (() => number | bigint) | undefined = undefined;

  /** Puts back the mask a call saved, if any (cf. restore_saved_sigmask). */
  restoreSavedMask(): void {
    if (this.savedMask === undefined) return;
    this.blocked = this.savedMask;
    this.savedMask = undefined;
  }

  /** Whether `sp` lies on the alternate stack (cf. on_sig_stack). */
  onAltStack(sp: number): boolean {
    const a = this.altstack;
    return a.size !== 0 && sp > a.sp && sp - a.sp <= a.size;
  }
}

/** The signal state of a thread group (cf. signal_struct): pending signals for the whole group, and its timers. */
export class SignalStruct {
  /** Signals sent to the process (kill, timers, SIGPIPE). */
  readonly shared = new SigPending();
  /** ITIMER_* and POSIX timers; set by the process right after construction. */
  timers!: ProcessTimers;
  /** Stop and continue: the stop signal, what wait may report, the wake-up (see jobctl.ts). */
  readonly jobctl = new JobControl();
}

/** The kernel-internal "restart" codes a call interrupted by a signal returns (cf. include/linux/errno.h). */
export const ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516;
/** restart_syscall(2)'s number, which an interrupted nanosleep becomes when no handler runs. */
const NR_RESTART_SYSCALL = 219;

/** Which restart a call asks for. */
export type RestartCode = "ERESTARTSYS" | "ERESTARTNOINTR" | "ERESTARTNOHAND" | "ERESTART_RESTARTBLOCK";
const RESTART_NUMBERS: Readonly<Record<RestartCode, number>> = {
  ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK,
};

/**
 * A call that a pending signal interrupted. The dispatcher turns it into
 * -512..-516 like any errno, and deliverSignals turns that into -EINTR or a
 * restart (never seen by the guest as such).
 */
export class RestartError extends ErrnoError {
  constructor(readonly restart: RestartCode, why: string) {
    super(RESTART_NUMBERS[restart], restart, why);
  }
}

/** The same interruption with another restart rule (a call that is not restarted the default way). */
export function restartAs(code: RestartCode, fn: () => number | bigint): number | bigint {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RestartError && e.restart !== code) throw new RestartError(code, e.message);
    throw e;
  }
}

/** Whether a signal sent now to `p` would be dropped (cf. sig_ignored: blocked signals are never ignored). */
function ignoredNow(p: Process, sig: number): boolean {
  return !inSet(p.sigtask.blocked, sig) && p.sighand.ignores(sig);
}

/**
 * Sends `info` to `p` (cf. send_signal_locked): first its job-control
 * effects (prepareSignal: SIGCONT continues, a stop signal discards a
 * pending SIGCONT, SIGKILL wakes a stopped process), then dropped when
 * ignored and not blocked; queued on the group's shared set, or on the
 * task's own with `thread` (tkill, tgkill, faults).
 * @returns whether it was queued (false: ignored, or a standard signal already pending)
 */
export function sendSignal(p: Process, info: SigInfo, o: { thread?: boolean } = {}): boolean {
  if (info.signo === 0) return false;
  prepareSignal(p, info.signo);
  if (ignoredNow(p, info.signo)) return false;
  return (o.thread ? p.sigtask.pending : p.signal.shared).add(info);
}

/** Whether an unblocked signal is pending for `p` (cf. signal_pending / recalc_sigpending). */
export function signalPending(p: Process): boolean {
  const t = p.sigtask;
  if (t.pending.signal === 0n && p.signal.shared.signal === 0n) return false;
  return ((t.pending.signal | p.signal.shared.signal) & ~t.blocked) !== 0n;
}

/**
 * Before a process woken from a stop runs on (cf. get_signal after
 * do_signal_stop's schedule): the parent hears CLD_CONTINUED, and what
 * became pending meanwhile (SIGKILL, a SIGCONT handler) is delivered at
 * once, at the point where the guest continues; a process that stopped
 * leaving a system call gets that call's restart rules now (EINTR for a
 * handler without SA_RESTART, else the restart).
 * @returns whether it may run on (false: a stop signal stopped it again)
 * @throws GuestSignal when a signal kills it
 */
export function resumeFromStop(p: Process): boolean {
  if (!afterStop(p)) return true;
  const j = p.signal.jobctl;
  const at = j.interrupted;
  j.interrupted = undefined;
  if (at) deliverSignals(p, { kind: "syscall", nr: at.nr, ret: at.ret, afterHook: true });
  else if (signalPending(p)) deliverSignals(p, { kind: "async" });
  return p.state !== "stopped";
}

/** Fires the group's due timers (cheap when none is armed). */
export function expireTimers(p: Process): void {
  const t = p.signal.timers;
  const due = t.nextDeadlineNs();
  if (due === undefined) return;
  const now = process.hrtime.bigint();
  if (now >= due) t.expire(now);
}

/** Where the guest stands when signals are delivered. */
export type DeliveryPoint =
  /**
   * Leaving system call `nr` with result `ret`: from the syscall hook (RIP at
   * the syscall instruction), or, `afterHook`, when a process stopped at that
   * exit is continued (RIP already past it).
   */
  | { readonly kind: "syscall"; readonly nr: number; readonly ret: number | bigint; readonly afterHook?: boolean }
  /** Leaving rt_sigreturn (registers are the restored ones; nothing restarts), from the syscall hook. */
  | { readonly kind: "sigreturn" }
  /** Between engine runs, or in the interrupt hook: RIP is where the guest continues. */
  | { readonly kind: "async" };

/** The guest's resume address and how to change it, at `point` (see UserContext). */
function userContext(p: Process, point: DeliveryPoint): UserContext {
  const e = p.engine;
  if (point.kind === "async" || (point.kind === "syscall" && point.afterHook)) return { rip: e.rip(), setRip: (a) => e.setRip(a) };
  return { rip: e.rip() + 2, setRip: (a) => e.setRip(a - 2) };
}

/**
 * Takes the next pending signal outside `blocked`: the task's own first,
 * then the group's (cf. dequeue_signal). A signal whose `rearm` answers
 * undefined (a POSIX timer's, set again or deleted since it was queued, cf.
 * posixtimer_deliver_signal) is dropped and the next one taken.
 */
export function dequeueSignal(p: Process, blocked: bigint): SigInfo | undefined {
  const t = p.sigtask;
  for (;;) {
    const info = t.pending.take(blocked) ?? p.signal.shared.take(blocked);
    if (!info?.rearm) return info;
    const out = info.rearm(info);
    if (out) return out;
  }
}

/** Dequeues the next deliverable signal (see dequeueSignal). */
function dequeue(p: Process): SigInfo | undefined {
  return dequeueSignal(p, p.sigtask.blocked);
}

/**
 * Delivers what is pending to `p` at `point` (cf. arch_do_signal_or_restart
 * in the exit-to-user loop): each caught signal gets a frame (later ones on
 * top, so the last one's handler runs first), a default action that kills
 * ends the guest, the rest are dropped. At a syscall exit the restart rules
 * apply to the first handler; when none runs, a restartable call restarts
 * and a mask saved by sigsuspend and its kin comes back.
 * Precondition: registers as the guest will resume (RAX holds the syscall's result).
 * @throws GuestSignal when a default action kills the guest
 */
export function deliverSignals(p: Process, point: DeliveryPoint): void {
  if (p.traps?.stepping?.(p)) return; // held until the probe's step is done (cf. uprobe_deny_signal)
  let at = point;
  let ran = false;
  for (let n = 0; n < 64 && signalPending(p); n++) {
    const info = dequeue(p);
    if (!info) break;
    const act = p.sighand.get(info.signo);
    if (act.handler === SIG_IGN) continue;
    if (act.handler === SIG_DFL) {
      if (defaultActionOf(p, info, at) !== "stopped") continue;
      if (at.kind !== "syscall") break; // the rest waits until it is continued
      p.signal.jobctl.interrupted = { nr: at.nr, ret: at.ret }; // the restart rules too (cf. get_signal's loop after the stop)
      return;
    }
    const ctx = userContext(p, at);
    const rip = at.kind === "syscall" ? restartWithHandler(p, at, act, ctx) : ctx.rip;
    handleSignal(p, info, act, { ...ctx, rip }, undefined);
    ran = true;
    if (at.kind === "syscall") at = { kind: "sigreturn" }; // later frames: still in the hook, nothing restarts
  }
  if (!ran) noHandlerRan(p, point);
}

/**
 * Applies the default action of a dequeued signal: returns when it ignores
 * (or is a stop signal discarded in an orphaned group), "stopped" when it
 * stopped the process, throws when it kills.
 */
function defaultActionOf(p: Process, info: SigInfo, at: DeliveryPoint): "stopped" | undefined {
  switch (defaultAction(info.signo)) {
    case "ignore":
    case "continue":
      return undefined;
    case "stop":
      return signalStop(p, info.signo) ? "stopped" : undefined;
    default:
      throw killedBy(p, info, userContext(p, at).rip);
  }
}

/** The GuestSignal that ends the guest with `info`'s signal as its default action (cf. do_group_exit from get_signal). */
function killedBy(p: Process, info: SigInfo, rip: number): GuestSignal {
  const core = defaultAction(info.signo) === "core" ? " (core dump not written)" : "";
  return new GuestSignal(signalName(info.signo), info.signo, rip, "signal", undefined, `${senderText(p, info)}${core}`);
}

/** Who sent a signal, in words, for the kill report. */
function senderText(p: Process, info: SigInfo): string {
  const from = info.pid === p.pid ? "the guest itself" : `pid ${info.pid ?? 0}`;
  switch (info.code) {
    case SI_USER: return `SI_USER: sent by ${from}`;
    case SI_TKILL: return `SI_TKILL: sent by ${from}`;
    case SI_QUEUE: return `SI_QUEUE: queued by ${from}`;
    case SI_TIMER: return `SI_TIMER: timer ${info.timerId ?? 0} expired`;
    case SI_KERNEL: return "SI_KERNEL: sent by the kernel";
    default: return `si_code ${info.code}`;
  }
}

/**
 * The restart rules when a handler will run (cf. handle_signal): -EINTR for
 * most interrupted calls, a restart (RIP back at the syscall, RAX = its
 * number) for ERESTARTNOINTR and for ERESTARTSYS under SA_RESTART.
 * @returns the address the frame should resume at
 */
function restartWithHandler(p: Process, at: { nr: number; ret: number | bigint }, act: SigAction, ctx: UserContext): number {
  switch (Number(at.ret)) {
    case -ERESTART_RESTARTBLOCK:
    case -ERESTARTNOHAND:
      p.engine.writeReg(Reg.RAX, BigInt(-Errno.EINTR));
      return ctx.rip;
    case -ERESTARTSYS:
      if (!(act.flags & SA_RESTART)) {
        p.engine.writeReg(Reg.RAX, BigInt(-Errno.EINTR));
        return ctx.rip;
      }
      p.engine.writeReg(Reg.RAX, at.nr); // SA_RESTART: as ERESTARTNOINTR
      return ctx.rip - 2;
    case -ERESTARTNOINTR:
      p.engine.writeReg(Reg.RAX, at.nr);
      return ctx.rip - 2;
    default:
      return ctx.rip;
  }
}

/**
 * No handler ran at `point` (cf. the tail of arch_do_signal_or_restart): an
 * interrupted call restarts (nanosleep as restart_syscall), and a mask
 * saved by sigsuspend, ppoll or pselect6 comes back (restore_saved_sigmask).
 */
function noHandlerRan(p: Process, point: DeliveryPoint): void {
  if (point.kind === "syscall") {
    const ret = Number(point.ret);
    if (ret === -ERESTARTSYS || ret === -ERESTARTNOHAND || ret === -ERESTARTNOINTR || ret === -ERESTART_RESTARTBLOCK) {
      const ctx = userContext(p, point);
      p.engine.writeReg(Reg.RAX, ret === -ERESTART_RESTARTBLOCK ? NR_RESTART_SYSCALL : point.nr);
      ctx.setRip(ctx.rip - 2);
    }
  }
  p.sigtask.restoreSavedMask();
}

/**
 * Sets up the handler of `info` (cf. handle_signal, signal_setup_done):
 * the frame on the right stack, then the new mask (current mask | sa_mask |
 * the signal unless SA_NODEFER), SA_RESETHAND, SS_AUTODISARM. A frame that
 * cannot be written forces SIGSEGV (cf. force_sigsegv).
 */
function handleSignal(p: Process, info: SigInfo, act: SigAction, ctx: UserContext, trap: SigInfo["trap"]): void {
  const t = p.sigtask;
  const frameMask = t.savedMask ?? t.blocked;
  t.savedMask = undefined;
  const sp = p.engine.readReg(Reg.RSP) - RED_ZONE;
  const alt = (act.flags & SA_ONSTACK) !== 0 && t.altstack.size !== 0 && !t.onAltStack(sp);
  const stackTop = alt ? t.altstack.sp + t.altstack.size : sp;
  const saved = { ...t.altstack };
  try {
    if (!(act.flags & SA_RESTORER)) throw new ErrnoError(Errno.EFAULT, "EFAULT", "x86-64 handlers need SA_RESTORER");
    if ((alt || t.onAltStack(sp)) && !t.onAltStack(frameAddress(stackTop))) throw new ErrnoError(Errno.EFAULT, "EFAULT", "the frame overflows the alternate stack");
    setupRtFrame(p.engine, p.mm, ctx, {
      sig: info.signo, info: act.flags & SA_SIGINFO ? encodeSigInfo(info) : undefined,
      handler: Number(act.handler), restorer: Number(act.restorer), savedMask: frameMask, stackTop, altstack: saved, trap,
    });
  } catch (e) {
    if (!(e instanceof ErrnoError)) throw e;
    forceSigsegv(p, info.signo, ctx);
    return;
  }
  t.blocked = (t.blocked | act.mask | (act.flags & SA_NODEFER ? 0n : sigBit(info.signo))) & ~UNBLOCKABLE;
  if (act.flags & SA_RESETHAND) p.sighand.set(info.signo, DEFAULT_ACTION);
  if (t.altstack.flags & SS_AUTODISARM) t.altstack = { sp: 0, size: 0, flags: SS_DISABLE };
}

/**
 * The frame for `sig` could not be built (cf. force_sigsegv): SIGSEGV is
 * forced, with SIGSEGV's own handler reset first when that was the signal
 * whose frame failed, so the guest is killed rather than looping.
 */
function forceSigsegv(p: Process, sig: number, ctx: UserContext): void {
  if (sig === SIG.SIGSEGV) p.sighand.set(SIG.SIGSEGV, DEFAULT_ACTION);
  const info: SigInfo = { signo: SIG.SIGSEGV, code: SI_KERNEL };
  const why = new GuestSignal("SIGSEGV", SIG.SIGSEGV, ctx.rip, "signal", undefined, `SI_KERNEL: the frame of ${signalName(sig)} could not be written to the stack`);
  forceSignal(p, info, why, ctx);
}

/**
 * A synchronous signal from the CPU (cf. force_sig_info_to_task): when it
 * is blocked or ignored it gets SIG_DFL and is unblocked, so it kills with
 * `kill`'s report; with a handler the frame is built at once, the faulting
 * instruction's address in it (the handler may return to retry it).
 * Precondition: called from the interrupt hook or at another point where
 * RIP is where the guest would continue (`ctx`).
 * @throws GuestSignal `kill` when the guest dies of it
 */
export function forceSignal(p: Process, info: SigInfo, kill: GuestSignal, ctx?: UserContext): void {
  const sig = info.signo;
  const t = p.sigtask;
  let act = p.sighand.get(sig);
  if (act.handler === SIG_IGN || inSet(t.blocked, sig)) {
    act = { ...act, handler: SIG_DFL };
    p.sighand.set(sig, act);
    t.blocked &= ~sigBit(sig);
  }
  if (act.handler === SIG_DFL) throw kill;
  p.traps?.abortStep?.(p); // a fault in a probe's stepped copy is the original instruction's (cf. arch_uprobe_abort_xol)
  handleSignal(p, info, act, ctx ?? userContext(p, { kind: "async" }), info.trap);
}

/**
 * What execve does to signal state (cf. flush_signal_handlers, exit_itimers,
 * and de_thread's sas reset): caught signals back to SIG_DFL (ignored stay
 * ignored), the alternate stack dropped, POSIX timers deleted; the mask,
 * pending signals, the ITIMER_ timers and alarm are kept.
 */
export function execSignals(p: Process): void {
  p.sighand = p.sighand.unshare(); // cf. de_thread's unshare_sighand
  p.sighand.flushForExec();
  p.sigtask.altstack = { sp: 0, size: 0, flags: SS_DISABLE };
  p.sigtask.savedMask = undefined;
  p.sigtask.restart = undefined;
  p.signal.timers.onExec();
}

/** Reads a 64-bit sigset from guest memory (EFAULT when unreadable). */
export function sigsetFromUser(p: Process, addr: number): bigint {
  return new DataView(copyFromUser(p.mm, addr, 8).buffer).getBigUint64(0, true);
}

/**
 * Runs `fn` with the mask at `maskAddr` in place (ppoll, pselect6,
 * epoll_pwait; cf. set_user_sigmask and restore_saved_sigmask_unless): on a
 * normal return the old mask comes back at once; when a signal interrupts,
 * delivery puts the old mask in the handler's frame. `maskAddr` 0 changes nothing.
 */
export function withSigmask<T>(p: Process, maskAddr: number, size: number, fn: () => T): T {
  if (maskAddr === 0) return fn();
  if (size !== 8) fail("EINVAL", `sigset size ${size}, want 8`);
  const mask = sigsetFromUser(p, maskAddr) & ~UNBLOCKABLE;
  const t = p.sigtask;
  t.savedMask = t.blocked;
  t.blocked = mask;
  try {
    const r = fn();
    t.restoreSavedMask();
    return r;
  } catch (e) {
    if (!(e instanceof RestartError)) t.restoreSavedMask();
    throw e;
  }
}

