/**
 * The end of a process and its parent's wait for it (cf. kernel/exit.c
 * exit_notify, forget_original_parent, do_wait, wait_task_zombie).
 *
 *   exitWith(status) ── release files, mm, engine ── children ──> the first process
 *        └─ parent: SIGCHLD (CLD_EXITED / CLD_KILLED / CLD_DUMPED)
 *                   ignores SIGCHLD or SA_NOCLDWAIT ──> reaped at once (no zombie)
 *                   else zombie until wait4/waitid reaps it
 */
import { fail } from "../lib/errno.js";
import { copyToUser } from "../mm/index.js";
import type { ExitStatus, Process } from "./process.js";
import {
  CLD_EXITED, CLD_KILLED, SA_NOCLDWAIT, SIG, SIG_IGN, encodeSigInfo, sendSignal, type SigInfo,
} from "./signal/index.js";
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
 * reaper and are released when they end), and its parent hears of it.
 */
export function exitNotify(p: Process): void {
  const reaper = p.kernel.init !== p && p.kernel.init?.state !== "zombie" ? p.kernel.init : undefined;
  for (const c of p.children) {
    c.parent = reaper;
    reaper?.children.add(c);
    if (!reaper && c.state === "zombie") p.kernel.release(c);
  }
  p.children.clear();
  const parent = p.parent;
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

/** The children of `p` that `who` names. */
function matching(p: Process, who: WaitWho): Process[] {
  return [...p.children].filter((c) =>
    who.kind === "any" || (who.kind === "pid" ? c.pid === who.pid : c.pgid === who.pgid));
}

/**
 * Waits for a child named by `who` to end (cf. do_wait): a zombie is
 * reported (and reaped unless `noWait`); none at all is ECHILD; with
 * `noHang` nothing ready is 0; else the call waits (parking while other
 * processes run) and a signal interrupts it (ERESTARTSYS).
 * @returns the child that ended, or undefined for WNOHANG with none ready
 */
function waitChild(p: Process, who: WaitWho, o: { noHang: boolean; noWait: boolean }): Process | undefined {
  let found: Process | undefined;
  const ready = (): boolean => {
    const cs = matching(p, who);
    if (cs.length === 0) fail("ECHILD", "wait: no such child");
    found = cs.find((c) => c.state === "zombie");
    return found !== undefined;
  };
  if (!ready()) {
    if (o.noHang) return undefined;
    waitUntil(p, ready);
  }
  if (!o.noWait) reap(found!);
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
 * wait4(2) (cf. kernel_wait4): the status word to `statusAddr`, an rusage
 * of zeros (faultline does not account CPU time per process) to `ruAddr`.
 * @returns the child's pid, or 0 for WNOHANG with none ready
 */
export function wait4(p: Process, pid: number, statusAddr: number, options: number, ruAddr: number): number {
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) fail("EINVAL", `wait4: bad options 0x${options.toString(16)}`);
  if (pid === -0x80000000) fail("ESRCH", "wait4: pid INT_MIN");
  const c = waitChild(p, who4(p, pid), { noHang: (options & WNOHANG) !== 0, noWait: false });
  if (!c) return 0;
  if (statusAddr !== 0) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, waitStatus(c.exitStatus!), true);
    copyToUser(p.mm, statusAddr, b);
  }
  if (ruAddr !== 0) copyToUser(p.mm, ruAddr, new Uint8Array(144));
  return c.pid;
}

/** waitid's idtype (cf. P_ALL, P_PID, P_PGID, P_PIDFD). */
const P_ALL = 0, P_PID = 1, P_PGID = 2;

/**
 * waitid(2) (cf. kernel_waitid): WEXITED is required; the child's siginfo
 * (si_code CLD_*, si_pid, si_status) to `infoAddr`; WNOWAIT leaves it a zombie.
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
  if (!(options & WEXITED)) {
    // Only stops or continues asked for: faultline never stops a process, so there is nothing to wait for.
    if (matching(p, who).length === 0) fail("ECHILD", "waitid: no such child");
    if (options & WNOHANG) return zeroInfo(p, infoAddr);
    waitUntil(p, () => false);
  }
  const c = waitChild(p, who, { noHang: (options & WNOHANG) !== 0, noWait: (options & WNOWAIT) !== 0 });
  if (!c) return zeroInfo(p, infoAddr);
  if (infoAddr !== 0) copyToUser(p.mm, infoAddr, encodeSigInfo(chldInfo(c, c.exitStatus!)));
  return 0;
}

/** waitid with WNOHANG and nothing ready: a siginfo of zeros (si_pid 0). */
function zeroInfo(p: Process, infoAddr: number): number {
  if (infoAddr !== 0) copyToUser(p.mm, infoAddr, new Uint8Array(128));
  return 0;
}
