/**
 * Job control: stop and continue (cf. kernel/signal.c prepare_signal,
 * do_signal_stop, do_notify_parent_cldstop, is_current_pgrp_orphaned).
 * A stop is the thread group's (cf. do_signal_stop's group stop): the task
 * that takes the stop signal stops, and every other task of its process
 * with it, at once (none of them runs meanwhile: only one engine runs at a
 * time); SIGCONT continues them all. A task parked in a call when its
 * group stopped runs that call again when it continues (a parked call has
 * changed nothing), so its wait goes on.
 *
 *   send stop sig ──> pending SIGCONT discarded
 *   send SIGCONT  ──> pending stop signals discarded; stopped? ──> runnable,
 *                     wait report "continued", CLD_CONTINUED to the parent when it runs
 *   send SIGKILL  ──> stopped? ──> runnable (it dies at its first delivery point)
 *   deliver stop sig (SIG_DFL) ── SIGTSTP/TTIN/TTOU in an orphaned group: discarded
 *                              └─ state "stopped", wait report "stopped", CLD_STOPPED to the parent
 */
import type { Kernel } from "../kernel.js";
import type { Process } from "../process.js";
import { sendSignal } from "./delivery.js";
import { CLD_CONTINUED, CLD_STOPPED, SA_NOCLDSTOP, SIG, SIG_IGN, SI_KERNEL, sigset } from "./constants.js";

/** The signals whose default action stops (cf. SIG_KERNEL_STOP_MASK). */
export const STOP_SIGNALS = sigset(SIG.SIGSTOP, SIG.SIGTSTP, SIG.SIGTTIN, SIG.SIGTTOU);
const CONT = sigset(SIG.SIGCONT);

/** What a parent's wait may still report of a living child (cf. group_exit_code with SIGNAL_STOP_STOPPED, SIGNAL_STOP_CONTINUED). */
export type WaitReport = { readonly kind: "stopped"; readonly signo: number } | { readonly kind: "continued" };

/** The job-control state of a thread group (cf. signal_struct's flags and group_exit_code). */
export class JobControl {
  /** The signal that stopped the group while it is stopped (cf. SIGNAL_STOP_STOPPED); 0 while it runs. */
  stopSignal = 0;
  /** The stop or continue a wait with WUNTRACED / WCONTINUED has not reported yet; undefined when none. */
  waitReport: WaitReport | undefined = undefined;
  /** Set by the SIGCONT that woke the group: the parent hears CLD_CONTINUED when it runs again (cf. SIGNAL_CLD_CONTINUED). */
  notifyContinued = false;
  /** Set when a SIGCONT or SIGKILL woke the group: pending signals are delivered before it runs on (cf. get_signal's loop after the stop). */
  resumed = false;
  /** The system call whose exit the process stopped at (its result not yet turned into EINTR or a restart); undefined when none. */
  interrupted: { readonly nr: number; readonly ret: number | bigint } | undefined = undefined;
}

/**
 * What sending `sig` to `p` does before it is queued (cf. prepare_signal):
 * a stop signal discards a pending SIGCONT; SIGCONT discards pending stop
 * signals and continues a stopped process, blocked or ignored as it may
 * be; SIGKILL wakes a stopped process so it can die.
 */
export function prepareSignal(p: Process, sig: number): void {
  if (p.group.leader.exitStatus !== undefined) return; // the process has ended (a leader whose threads run on has not)
  const j = p.signal.jobctl;
  if ((STOP_SIGNALS >> BigInt(sig - 1)) & 1n) {
    discardPending(p, CONT);
  } else if (sig === SIG.SIGCONT) {
    discardPending(p, STOP_SIGNALS);
    if (!groupStopped(p)) return;
    j.stopSignal = 0;
    j.waitReport = { kind: "continued" };
    j.notifyContinued = true;
    wakeStopped(p);
  } else if (sig === SIG.SIGKILL && groupStopped(p)) {
    wakeStopped(p); // cf. complete_signal's signal_wake_up(t, fatal); the stop ends with the process
  }
}

/** Drops the signals of `set` from the process's and the task's pending sets (cf. flush_sigqueue_mask). */
function discardPending(p: Process, set: bigint): void {
  p.signal.shared.discard(set);
  p.sigtask.pending.discard(set);
}

/** Whether a task of `p`'s process is stopped (cf. SIGNAL_STOP_STOPPED). */
function groupStopped(p: Process): boolean {
  for (const t of p.group.threads) if (t.state === "stopped") return true;
  return false;
}

/** The stopped tasks of `p`'s process become runnable (cf. wake_up_state(t, __TASK_STOPPED) for each thread). */
function wakeStopped(p: Process): void {
  p.signal.jobctl.resumed = true;
  for (const t of p.group.threads) {
    if (t.state !== "stopped") continue;
    t.state = "runnable";
    t.kernel.wake(t);
  }
}

/**
 * Whether process group `pgid` is orphaned (cf. will_become_orphaned_pgrp):
 * no living member has a parent in another group of the same session. The
 * first process's parent is outside the guest; it counts as the shell that
 * started the job (another group, the same session), so the first process's
 * group is not orphaned while the first process lives in it.
 */
export function pgrpOrphaned(kernel: Kernel, pgid: number): boolean {
  for (const q of kernel.procs.values()) {
    if (q.pgid !== pgid || q.state === "zombie") continue;
    if (q === kernel.init) return false;
    const parent = q.parent;
    if (parent && parent.pgid !== q.pgid && parent.sid === q.sid) return false;
  }
  return true;
}

/**
 * A process left (`gone`, at its exit or as the parent `member` lost):
 * when that was what tied `member`'s group to the session and the group
 * has stopped processes, the group gets SIGHUP then SIGCONT, so that it
 * neither stays stopped forever nor runs on unnoticed (cf. kill_orphaned_pgrp).
 */
export function killOrphanedPgrp(member: Process, gone: Process | undefined): void {
  if (!gone || gone.pgid === member.pgid || gone.sid !== member.sid) return;
  const k = member.kernel;
  const group = [...k.procs.values()].filter((q) => q.pgid === member.pgid && q.state !== "zombie");
  if (!group.some((q) => q.state === "stopped") || !pgrpOrphaned(k, member.pgid)) return;
  for (const sig of [SIG.SIGHUP, SIG.SIGCONT]) for (const q of group) sendSignal(q, { signo: sig, code: SI_KERNEL }); // cf. SEND_SIG_PRIV
}

/**
 * The default action of stop signal `sig` (cf. get_signal's sig_kernel_stop
 * branch and do_signal_stop): SIGTSTP, SIGTTIN and SIGTTOU are discarded in
 * an orphaned process group; otherwise the process stops (the engine is asked
 * to stop when it runs, as from the syscall hook) and its parent hears of it.
 * @returns whether the process stopped
 */
export function signalStop(p: Process, sig: number): boolean {
  if (sig !== SIG.SIGSTOP && pgrpOrphaned(p.kernel, p.pgid)) return false;
  const j = p.signal.jobctl;
  j.stopSignal = sig;
  j.waitReport = { kind: "stopped", signo: sig };
  j.notifyContinued = false;
  p.state = "stopped";
  p.engine.stop();
  for (const t of p.group.threads) {
    if (t === p || (t.state !== "runnable" && t.state !== "parked")) continue;
    t.state = "stopped"; // a parked one re-runs its call when continued
    t.kernel.dequeue(t);
  }
  notifyParentCldstop(p, CLD_STOPPED);
  return true;
}

/**
 * Tells the parent of `p` that it stopped or continued (cf.
 * do_notify_parent_cldstop): SIGCHLD with CLD_STOPPED (si_status the stop
 * signal) or CLD_CONTINUED (si_status SIGCONT), unless the parent ignores
 * SIGCHLD or set SA_NOCLDSTOP. Always SIGCHLD, whatever the exit signal.
 */
export function notifyParentCldstop(p: Process, why: typeof CLD_STOPPED | typeof CLD_CONTINUED): void {
  const parent = p.parent;
  if (!parent || parent.exitStatus !== undefined) return;
  const act = parent.sighand.get(SIG.SIGCHLD);
  if (act.handler === SIG_IGN || act.flags & SA_NOCLDSTOP) return;
  const status = why === CLD_STOPPED ? p.signal.jobctl.stopSignal : SIG.SIGCONT;
  sendSignal(parent, { signo: SIG.SIGCHLD, code: why, pid: p.tgid, uid: process.getuid?.() ?? 0, status });
}

/**
 * Before a process woken from a stop runs on (cf. the top of get_signal):
 * the parent's CLD_CONTINUED when a SIGCONT woke it.
 * @returns whether signals should be delivered now (it was woken from a stop)
 */
export function afterStop(p: Process): boolean {
  const j = p.signal.jobctl;
  if (!j.resumed) return false;
  j.resumed = false;
  if (j.notifyContinued) {
    j.notifyContinued = false;
    notifyParentCldstop(p, CLD_CONTINUED);
  }
  return true;
}
