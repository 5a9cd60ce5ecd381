/**
 * The end of a process and its parent's wait for it (cf. kernel/exit.c
 * exit_notify, forget_original_parent, do_wait, wait_task_zombie).
 *
 *   exitWith(status) ── release files, mm, engine ── children ──> the first process
 *        ├─ a group this leaves orphaned with stopped members: SIGHUP, SIGCONT (kill_orphaned_pgrp)
 *        └─ parent: SIGCHLD (CLD_EXITED / CLD_KILLED / CLD_DUMPED)
 *                   ignores SIGCHLD or SA_NOCLDWAIT ──> reaped at once (no zombie)
 *                   else zombie until wait4/waitid reaps it
 *   stop / continue (signal/jobctl.ts) ──> a report for WUNTRACED / WCONTINUED waits, consumed once
 */
import { fail } from "../lib/errno.js";
import { copyToUser } from "../mm/index.js";
import type { ExitStatus, Process } from "./process.js";
import {
  CLD_CONTINUED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, SA_NOCLDWAIT, SIG, SIG_IGN, SI_USER, encodeSigInfo, sendSignal, type SigInfo,
} from "./signal/index.js";
import { killOrphanedPgrp } from "./signal/jobctl.js";
import { waitUntil } from "./syscalls/poll.js";

/** wait4 options (cf. uapi/linux/wait.h). */
export const WNOHANG = 1, WUNTRACED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x01000000;
const __WALL = 0x40000000, __WCLONE = 0x80000000, __WNOTHREAD = 0x20000000;

/**
 * The status word wait4 reports (cf. wait_task_zombie): code << 8, or the
 * signal; the 0x80 "core dumped" bit never, as faultline writes no core
 * file (Linux sets it only when one was written).
 */
export function waitStatus(s: ExitStatus): number {
  return s.kind === "exited" ? (s.code & 0xff) << 8 : s.signo;
}

/** SIGCHLD's siginfo for a child that ended with `s` (cf. do_notify_parent). */
function chldInfo(child: Process, s: ExitStatus): SigInfo {
  const code = s.kind === "exited" ? CLD_EXITED : CLD_KILLED; // no core is written: never CLD_DUMPED
  return { signo: SIG.SIGCHLD, code, pid: child.pid, uid: process.getuid?.() ?? 0, status: s.kind === "exited" ? s.code : s.signo };
}

/**
 * After `p` ended (cf. exit_notify): its children go to the first process
 * (cf. forget_original_parent; the first process's own orphans have no
 * reaper and are released when they end), each that set PR_SET_PDEATHSIG
 * gets its signal, and its parent hears of it.
 */
export function exitNotify(p: Process): void {
  const init = p.kernel.init;
  const reaper = init !== undefined && init.group !== p.group && init.exitStatus === undefined ? init : undefined;
  for (const c of p.children) {
    // cf. forget_original_parent: a child that asked PR_SET_PDEATHSIG hears that its parent died (SEND_SIG_NOINFO)
    if (c.pdeathSignal !== 0 && c.exitStatus === undefined) sendSignal(c, { signo: c.pdeathSignal, code: SI_USER, pid: p.pid, uid: process.getuid?.() ?? 0 });
    c.parent = reaper;
    reaper?.children.add(c);
    if (!reaper && c.exitStatus !== undefined) p.kernel.release(c);
    else killOrphanedPgrp(c, p); // cf. reparent_leader
  }
  p.children.clear();
  const parent = p.parent;
  killOrphanedPgrp(p, parent);
  if (!parent) {
    if (p !== p.kernel.init) p.kernel.release(p); // an orphan of the first process: nobody reaps it
    return;
  }
  const act = parent.sighand.get(SIG.SIGCHLD);
  if (act.handler === SIG_IGN || act.flags & SA_NOCLDWAIT) {
    reap(p); // cf. do_notify_parent's autoreap
    return;
  }
  if (p.exitSignal !== 0) sendSignal(parent, { ...chldInfo(p, p.exitStatus!), signo: p.exitSignal });
}

/** Takes zombie `c` out of its parent's children and the process table (cf. release_task). */
function reap(c: Process): void {
  c.parent?.children.delete(c);
  c.kernel.release(c);
}

/** Which children a wait asks for (cf. struct wait_opts' wo_type and wo_pid). */
type WaitWho = { kind: "any" } | { kind: "pid"; pid: number } | { kind: "pgid"; pgid: number };

/** The children of `p`'s process (of any of its threads: all are its leader's) that `who` names. */
function matching(p: Process, who: WaitWho): Process[] {
  return [...p.group.leader.children].filter((c) =>
    who.kind === "any" || (who.kind === "pid" ? c.pid === who.pid : c.pgid === who.pgid));
}

/** What a wait reports of a child (cf. wait_task_zombie, wait_task_stopped, wait_task_continued). */
type WaitEvent = "exited" | "stopped" | "continued";

/** Which events a wait asks for, and how (cf. wo_flags). */
interface WaitOpts {
  /** WEXITED (always, for wait4). */
  exited: boolean;
  /** WUNTRACED / WSTOPPED. */
  stopped: boolean;
  /** WCONTINUED. */
  continued: boolean;
  /** WNOHANG: nothing ready is no wait. */
  noHang: boolean;
  /** WNOWAIT: the event stays reportable (a zombie is not reaped). */
  noWait: boolean;
}

/** The event child `c` has to report to a wait asking for `o`, if any (cf. wait_consider_task's order). */
function eventOf(c: Process, o: WaitOpts): WaitEvent | undefined {
  if (c.exitStatus !== undefined) return o.exited ? "exited" : undefined; // a leader whose threads still run is no zombie yet
  const r = c.signal.jobctl.waitReport;
  if (o.stopped && r?.kind === "stopped") return "stopped";
  if (o.continued && r?.kind === "continued") return "continued";
  return undefined;
}

/**
 * Waits for a child named by `who` to end, stop or continue, as `o` asks
 * (cf. do_wait): the first child with an event is reported, and, unless
 * `noWait`, a zombie reaped or a stop/continue consumed; none at all is
 * ECHILD; with `noHang` nothing ready is undefined; else the call waits
 * (parking while other processes run) and a signal interrupts it (ERESTARTSYS).
 * @returns the child and what it reports, or undefined for WNOHANG with none ready
 */
function waitChild(p: Process, who: WaitWho, o: WaitOpts): { child: Process; event: WaitEvent } | undefined {
  let found: { child: Process; event: WaitEvent } | undefined;
  const ready = (): boolean => {
    const cs = matching(p, who);
    if (cs.length === 0) fail("ECHILD", "wait: no such child");
    for (const c of cs) {
      const event = eventOf(c, o);
      if (event) {
        found = { child: c, event };
        return true;
      }
    }
    return false;
  };
  if (!ready()) {
    if (o.noHang) return undefined;
    waitUntil(p, ready);
  }
  if (!o.noWait) {
    if (found!.event === "exited") reap(found!.child);
    else found!.child.signal.jobctl.waitReport = undefined;
  }
  return found;
}

/** The WaitWho of wait4's pid argument (cf. kernel_wait4: < -1 a group, -1 any, 0 the caller's group, > 0 one pid). */
function who4(p: Process, pid: number): WaitWho {
  if (pid === -1) return { kind: "any" };
  if (pid < -1) return { kind: "pgid", pgid: -pid };
  if (pid === 0) return { kind: "pgid", pgid: p.pgid };
  return { kind: "pid", pid };
}

/**
 * wait4(2) (cf. kernel_wait4): the status word (an exit, or with WUNTRACED
 * a stop, with WCONTINUED a continue) to `statusAddr`, an rusage
 * of zeros (faultline does not account CPU time per process) to `ruAddr`.
 * @returns the child's pid, or 0 for WNOHANG with none ready
 */
export function wait4(p: Process, pid: number, statusAddr: number, options: number, ruAddr: number): number {
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) fail("EINVAL", `wait4: bad options 0x${options.toString(16)}`);
  if (pid === -0x80000000) fail("ESRCH", "wait4: pid INT_MIN");
  const w = waitChild(p, who4(p, pid), {
    exited: true, stopped: (options & WUNTRACED) !== 0, continued: (options & WCONTINUED) !== 0, noHang: (options & WNOHANG) !== 0, noWait: false,
  });
  if (!w) return 0;
  if (statusAddr !== 0) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, eventStatus(w.child, w.event), true);
    copyToUser(p.mm, statusAddr, b);
  }
  if (ruAddr !== 0) copyToUser(p.mm, ruAddr, new Uint8Array(144));
  return w.child.pid;
}

/** wait4's status word for `event` (cf. wait_task_stopped's (sig << 8) | 0x7f, wait_task_continued's 0xffff). */
function eventStatus(c: Process, event: WaitEvent): number {
  if (event === "exited") return waitStatus(c.exitStatus!);
  if (event === "continued") return 0xffff;
  return (c.signal.jobctl.stopSignal << 8) | 0x7f;
}

/** The siginfo waitid reports for `event` (cf. wait_task_stopped / wait_task_continued: si_code CLD_STOPPED / CLD_CONTINUED). */
function eventInfo(c: Process, event: WaitEvent): SigInfo {
  if (event === "exited") return chldInfo(c, c.exitStatus!);
  const uid = process.getuid?.() ?? 0;
  if (event === "continued") return { signo: SIG.SIGCHLD, code: CLD_CONTINUED, pid: c.pid, uid, status: SIG.SIGCONT };
  return { signo: SIG.SIGCHLD, code: CLD_STOPPED, pid: c.pid, uid, status: c.signal.jobctl.stopSignal };
}

/** waitid's idtype (cf. P_ALL, P_PID, P_PGID, P_PIDFD). */
const P_ALL = 0, P_PID = 1, P_PGID = 2;

/**
 * waitid(2) (cf. kernel_waitid): at least one of WEXITED, WSTOPPED,
 * WCONTINUED; the child's siginfo (si_code CLD_EXITED/KILLED/STOPPED/CONTINUED,
 * si_pid, si_status) to `infoAddr`; WNOWAIT leaves the event reportable.
 * @returns 0
 */
export function waitid(p: Process, idtype: number, id: number, infoAddr: number, options: number): number {
  if (options & ~(WNOHANG | WNOWAIT | WEXITED | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) fail("EINVAL", "waitid: bad options");
  if (!(options & (WEXITED | WUNTRACED | WCONTINUED))) fail("EINVAL", "waitid: no event asked for");
  let who: WaitWho;
  switch (idtype) {
    case P_ALL: who = { kind: "any" }; break;
    case P_PID: if (id <= 0) fail("EINVAL", "waitid: bad pid"); who = { kind: "pid", pid: id }; break;
    case P_PGID: if (id < 0) fail("EINVAL", "waitid: bad pgid"); who = { kind: "pgid", pgid: id === 0 ? p.pgid : id }; break;
    default: return fail("EINVAL", `waitid: idtype ${idtype}`);
  }
  const w = waitChild(p, who, {
    exited: (options & WEXITED) !== 0, stopped: (options & WUNTRACED) !== 0, continued: (options & WCONTINUED) !== 0,
    noHang: (options & WNOHANG) !== 0, noWait: (options & WNOWAIT) !== 0,
  });
  if (!w) return zeroInfo(p, infoAddr);
  if (infoAddr !== 0) copyToUser(p.mm, infoAddr, encodeSigInfo(eventInfo(w.child, w.event)));
  return 0;
}

/** waitid with WNOHANG and nothing ready: a siginfo of zeros (si_pid 0). */
function zeroInfo(p: Process, infoAddr: number): number {
  if (infoAddr !== 0) copyToUser(p.mm, infoAddr, new Uint8Array(128));
  return 0;
}
