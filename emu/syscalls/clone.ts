/**
 * Process creation, waiting and process groups (cf. kernel/fork.c,
 * kernel/exit.c, kernel/sys.c): fork, vfork, clone, clone3, wait4, waitid,
 * getppid, setpgid/getpgid/getpgrp, setsid/getsid.
 */
import { fail } from "../../lib/errno.js";
import { copyFromUser } from "../../mm/index.js";
import { waitid, wait4 } from "../exit.js";
import { CLONE_VFORK, CLONE_VM, cloneProcess, type CloneArgs } from "../fork.js";
import type { Process } from "../process.js";
import { SIG } from "../signal/index.js";
import { i32, u64, type SyscallTable } from "./types.js";

/** clone(2) on x86-64: flags (with the exit signal in the low byte), stack, parent_tid, child_tid, tls. */
function cloneCall(p: Process, a: readonly number[]): number {
  const flags = u64(a[0]);
  return cloneProcess(p, {
    flags: Number(BigInt(flags) & 0xffffff00n) >>> 0, exitSignal: flags % 256,
    stack: u64(a[1]), parentTid: u64(a[2]), childTid: u64(a[3]), tls: u64(a[4]),
  });
}

/** sizeof(struct clone_args) of its first version (cf. CLONE_ARGS_SIZE_VER0). */
const CLONE_ARGS_SIZE_VER0 = 64;

/**
 * clone3(2) (cf. copy_clone_args_from_user): struct clone_args of at least
 * 64 bytes; the stack is given as base and size (the child's RSP is their end).
 */
function clone3(p: Process, addr: number, size: number): number {
  if (size < CLONE_ARGS_SIZE_VER0 || size > 4096) fail("EINVAL", `clone3: size ${size}`);
  const v = new DataView(copyFromUser(p.mm, addr, Math.min(size, 88)).buffer);
  const q = (k: number) => (k * 8 + 8 <= v.byteLength ? Number(v.getBigUint64(k * 8, true)) : 0);
  const flags = v.getBigUint64(0, true);
  if (flags >> 32n) fail("EINVAL", "clone3: unknown flags");
  const exitSignal = q(4), stack = q(5), stackSize = q(6);
  if ((stack === 0) !== (stackSize === 0)) fail("EINVAL", "clone3: stack and stack_size go together");
  if (q(8) !== 0 || q(9) !== 0) fail("EPERM", "clone3: set_tid needs CAP_SYS_ADMIN in the pid namespace");
  const a: CloneArgs = {
    flags: Number(flags) >>> 0, exitSignal, stack: stack === 0 ? 0 : stack + stackSize,
    childTid: q(2), parentTid: q(3), tls: q(7),
  };
  return cloneProcess(p, a);
}

/** The process with pid `pid` (0: the caller) in the caller's world. @throws ErrnoError ESRCH */
function target(p: Process, pid: number): Process {
  if (pid === 0) return p;
  const t = p.kernel.procs.get(pid);
  return t && t.state !== "zombie" ? t : fail("ESRCH", `no process ${pid}`);
}

/**
 * setpgid(2) (cf. sys_setpgid): the caller or a child of it (EACCES once
 * the child has exec'd is not tracked), into a group of its session; a
 * session leader cannot move (EPERM).
 */
function setpgid(p: Process, pid: number, pgid: number): number {
  if (pgid < 0) fail("EINVAL", "setpgid: negative pgid");
  const t = target(p, pid);
  if (t !== p && t.parent !== p) fail("ESRCH", "setpgid: not the caller or its child");
  if (t.sid !== p.sid) fail("EPERM", "setpgid: the child is in another session");
  if (t.sid === t.pid) fail("EPERM", "setpgid: a session leader");
  const g = pgid === 0 ? t.pid : pgid;
  if (g !== t.pid && ![...p.kernel.procs.values()].some((q) => q.pgid === g && q.sid === p.sid)) fail("EPERM", `setpgid: no group ${g} in the session`);
  t.pgid = g;
  return 0;
}

/** setsid(2) (cf. ksys_setsid): EPERM for a group leader; else a new session and group led by the caller. */
function setsid(p: Process): number {
  if ([...p.kernel.procs.values()].some((q) => q.pgid === p.pid)) fail("EPERM", "setsid: already a process group leader");
  p.sid = p.pid;
  p.pgid = p.pid;
  return p.pid;
}

/** Registers the process-creation and wait calls. */
export function registerClone(t: SyscallTable): void {
  t.set(57, { name: "fork", fn: (p) => cloneProcess(p, { flags: 0, exitSignal: SIG.SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0 }) });
  t.set(58, { name: "vfork", fn: (p) =>
    cloneProcess(p, { flags: CLONE_VM | CLONE_VFORK, exitSignal: SIG.SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0 }) });
  t.set(56, { name: "clone", partial: "namespaces (CLONE_NEW*) are EPERM and CLONE_PIDFD is ENOSYS; CLONE_PARENT is ignored (the child is the caller's process's)", fn: (p, a) => cloneCall(p, a) });
  t.set(435, { name: "clone3", partial: "as clone", fn: (p, a) => clone3(p, u64(a[0]), u64(a[1])) });
  t.set(61, { name: "wait4", partial: "rusage is all zeros", fn: (p, a) => wait4(p, i32(a[0]), u64(a[1]), i32(a[2]), u64(a[3])) });
  t.set(247, { name: "waitid", partial: "as wait4; no P_PIDFD", fn: (p, a) => waitid(p, i32(a[0]), i32(a[1]), u64(a[2]), i32(a[3])) });
  t.set(110, { name: "getppid", fn: (p) => p.parent?.pid ?? 0 }); // the first process's parent is outside the pid namespace: 0
  t.set(109, { name: "setpgid", fn: (p, a) => setpgid(p, i32(a[0]), i32(a[1])) });
  t.set(121, { name: "getpgid", fn: (p, a) => target(p, i32(a[0])).pgid });
  t.set(111, { name: "getpgrp", fn: (p) => p.pgid });
  t.set(112, { name: "setsid", fn: (p) => setsid(p) });
  t.set(124, { name: "getsid", fn: (p, a) => target(p, i32(a[0])).sid });
}
