/**
 * fork, vfork and clone of processes (cf. kernel/fork.c kernel_clone,
 * copy_process): a new process on its own engine whose registers are the
 * caller's at the syscall's return, with RAX = 0, and whose parts are
 * copied or shared as the flags say:
 *
 *   CLONE_VM       the caller's address space itself, run on the child's engine (Mm.share);
 *                  else a copy-on-write copy (mm/fork.ts dupMmap)
 *   CLONE_FILES    the descriptor table itself; else a copy sharing the open file descriptions
 *   CLONE_FS       root, cwd and umask themselves; else a copy
 *   CLONE_SIGHAND  the dispositions themselves (needs CLONE_VM); else a copy
 *   CLONE_THREAD   the caller's thread group (needs CLONE_SIGHAND): a thread of its process, with
 *                  the group's shared pending signals, timers and limits (emu/thread-group.ts)
 *   CLONE_VFORK    the caller waits until the child execs or exits (cf. wait_for_vfork_done)
 *   CLONE_SETTLS, CLONE_PARENT_SETTID, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID  as glibc's and musl's
 *                  pthread_create pass them: the FS base, the tid stored, and the word cleared and
 *                  woken when the thread ends (pthread_join waits on it)
 *
 * vfork is CLONE_VM | CLONE_VFORK, as glibc's posix_spawn and gcc's driver
 * use it: the child writes the parent's memory (posix_spawn's child reports
 * a failed exec through it), and its execve leaves that memory to the
 * parent (emu/exec.ts).
 */
import { fail } from "../lib/errno.js";
import { OutOfMemoryError, UnicornError } from "../lib/errors.js";
import { HostError } from "../lib/hostmem.js";
import { copyToUser, dupMmap } from "../mm/index.js";
import { Reg } from "./constants.js";
import { Process, type CloneShares } from "./process.js";
import { restoreFxsave, saveFxsave } from "./signal/index.js";

/** clone flags (cf. uapi/linux/sched.h). */
export const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_PIDFD = 0x1000;
export const CLONE_PTRACE = 0x2000, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000;
export const CLONE_NEWNS = 0x20000, CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000;
export const CLONE_CHILD_CLEARTID = 0x200000, CLONE_DETACHED = 0x400000, CLONE_UNTRACED = 0x800000;
export const CLONE_CHILD_SETTID = 0x1000000;
/** Namespace flags checked against others (cf. uapi/linux/sched.h). */
const CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000;
/** The namespace flags (CLONE_NEWNS ... CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME): faultline has one of each. */
const CLONE_NEW_ANY = 0x20000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80;

/** What a clone call asks for (cf. struct kernel_clone_args). */
export interface CloneArgs {
  /** CLONE_* bits, without the exit signal. */
  readonly flags: number;
  /** The signal the parent gets when the child ends (SIGCHLD for fork; 0 for none). */
  readonly exitSignal: number;
  /** The child's stack pointer (0: the caller's). */
  readonly stack: number;
  /** CLONE_PARENT_SETTID's and CLONE_CHILD_SETTID's / CLONE_CHILD_CLEARTID's addresses, CLONE_SETTLS's FS base. */
  readonly parentTid: number;
  readonly childTid: number;
  readonly tls: number;
}

/**
 * Checks `a` as copy_process does, for what faultline supports: processes
 * and threads sharing any of their parts, no namespaces, no pidfds.
 * @throws ErrnoError EINVAL for combinations Linux refuses, EPERM for namespaces, ENOSYS for what faultline lacks
 */
function checkFlags(a: CloneArgs): void {
  const f = a.flags;
  if ((f & (CLONE_NEWNS | CLONE_FS)) === (CLONE_NEWNS | CLONE_FS)) fail("EINVAL", "clone: CLONE_NEWNS with CLONE_FS");
  if ((f & (CLONE_NEWUSER | CLONE_FS)) === (CLONE_NEWUSER | CLONE_FS)) fail("EINVAL", "clone: CLONE_NEWUSER with CLONE_FS");
  if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND)) fail("EINVAL", "clone: CLONE_THREAD without CLONE_SIGHAND");
  if ((f & CLONE_SIGHAND) && !(f & CLONE_VM)) fail("EINVAL", "clone: CLONE_SIGHAND without CLONE_VM");
  if ((f & CLONE_THREAD) && (f & (CLONE_NEWUSER | CLONE_NEWPID))) fail("EINVAL", "clone: CLONE_THREAD with a new user or pid namespace");
  if ((f & CLONE_PIDFD) && (f & CLONE_DETACHED)) fail("EINVAL", "clone: CLONE_PIDFD with CLONE_DETACHED");
  if (f & CLONE_NEW_ANY) fail("EPERM", "clone: namespaces cannot be made inside faultline");
  if (f & CLONE_PIDFD) fail("ENOSYS", "clone: pidfds are not supported yet");
  if (a.exitSignal < 0 || a.exitSignal > 64) fail("EINVAL", `clone: bad exit signal ${a.exitSignal}`);
}

/** The registers fork copies besides the general ones and the FPU image. */
const SPECIAL = new Int32Array([Reg.EFLAGS, Reg.FS_BASE, Reg.GS_BASE]);
const GPRS = new Int32Array([Reg.RAX, Reg.RCX, Reg.RDX, Reg.RBX, Reg.RSP, Reg.RBP, Reg.RSI, Reg.RDI,
  Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15]);

/**
 * Gives `child` the caller's registers as they will be when its syscall
 * returns (cf. copy_thread): RIP past the syscall, RAX = 0, RCX = that RIP,
 * R11 = RFLAGS; RSP = `stack` when given, FS base = `tls` with CLONE_SETTLS.
 * Precondition: called from the parent's syscall hook (its RIP at the syscall).
 */
function copyRegisters(parent: Process, child: Process, a: CloneArgs): void {
  const pe = parent.engine, ce = child.engine;
  ce.writeRegBlock(GPRS, 8, pe.readRegBlock(GPRS, 8).slice());
  const special: number[] = [0, 0, 0];
  pe.readRegs(SPECIAL, special);
  ce.writeRegs(SPECIAL, special);
  restoreFxsave(ce, saveFxsave(pe));
  const rip = pe.rip() + 2;
  ce.writeRegs(new Int32Array([Reg.RAX, Reg.RCX, Reg.R11, Reg.RIP]), [0, rip, special[0], rip]);
  if (a.stack !== 0) ce.writeReg(Reg.RSP, a.stack);
  if (a.flags & CLONE_SETTLS) ce.writeReg(Reg.FS_BASE, a.tls);
}

/** What of its parent a child with clone flags `f` shares (cf. copy_process's copy_* calls). */
function sharesOf(f: number): CloneShares {
  return {
    vm: (f & CLONE_VM) !== 0, files: (f & CLONE_FILES) !== 0, fs: (f & CLONE_FS) !== 0, sighand: (f & CLONE_SIGHAND) !== 0,
    thread: (f & CLONE_THREAD) !== 0,
  };
}

/**
 * A new process for `parent`'s clone (cf. dup_task_struct, copy_mm's allocations).
 * @throws ErrnoError ENOMEM when the host refuses the child's engine or memory reservation, or the RAM limit its first table
 */
function newChild(parent: Process, share: CloneShares): Process {
  try {
    return new Process(parent.sys, parent.options, parent, share);
  } catch (e) {
    if (e instanceof HostError || e instanceof UnicornError) fail("ENOMEM", `fork: the host has no room for another process (${e.message}); lower --max-procs`);
    if (e instanceof OutOfMemoryError) fail("ENOMEM", `fork: ${e.message}`);
    throw e;
  }
}

/**
 * clone(2)/fork(2)/vfork(2)/clone3(2) (cf. kernel_clone).
 * @returns the child's pid (the child itself returns 0)
 * @throws ErrnoError as checkFlags, EAGAIN past the process limit, ENOMEM when its memory does not fit
 */
export function cloneProcess(parent: Process, a: CloneArgs): number {
  checkFlags(a);
  // Zombies count until they are reaped, as the user's process count drops only in release_task (cf. copy_process's RLIMIT_NPROC check).
  const share = sharesOf(a.flags), k = parent.kernel;
  if (k.procs.size >= k.maxTasks) fail("EAGAIN", `clone: too many tasks (${k.maxTasks}, cf. threads-max)`);
  if (!share.thread && k.processCount() >= k.maxProcs) fail("EAGAIN", "fork: too many processes (--max-procs, RLIMIT_NPROC)");
  const child = newChild(parent, share);
  if (!share.vm) {
    try {
      dupMmap(parent.mm, child.mm);
    } catch (e) {
      child.abandon();
      if (e instanceof OutOfMemoryError) fail("ENOMEM", `fork: ${e.message}`);
      throw e;
    }
  }
  copyRegisters(parent, child, a);
  child.exitSignal = share.thread ? 0 : a.exitSignal; // a thread's end signals no one (cf. exit_signal = -1)
  child.traps = parent.traps?.fork?.(child);
  const tid = new Uint8Array(4);
  new DataView(tid.buffer).setInt32(0, child.pid, true);
  if (a.flags & CLONE_PARENT_SETTID) copyToUser(parent.mm, a.parentTid, tid);
  if (a.flags & CLONE_CHILD_SETTID) copyToUser(child.mm, a.childTid, tid);
  if (a.flags & CLONE_CHILD_CLEARTID) child.clearChildTid = a.childTid;
  parent.kernel.wake(child);
  if (a.flags & CLONE_VFORK) {
    child.vforkParent = parent;
    parent.state = "vfork-wait";
    parent.engine.stop(); // the call returns the pid, then the parent waits (cf. wait_for_vfork_done)
  }
  return child.pid;
}
