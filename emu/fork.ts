/**
 * fork, vfork and clone without shared address spaces (cf. kernel/fork.c
 * kernel_clone, copy_process): a new process whose memory is a
 * copy-on-write copy of the caller's (mm/fork.ts dupMmap), whose files and
 * fs context are copies sharing the open file descriptions, whose
 * dispositions and mask are the caller's, and whose registers are the
 * caller's at the syscall's return, with RAX = 0.
 *
 * vfork (CLONE_VM | CLONE_VFORK, as glibc's posix_spawn and gcc's driver
 * use it) is a copy too: the child cannot write the parent's memory (a
 * child that only execs or exits, as POSIX allows, cannot tell), and the
 * parent waits until the child execs or exits, as Linux's does.
 */
import { fail } from "../lib/errno.js";
import { OutOfMemoryError } from "../lib/errors.js";
import { copyToUser, dupMmap } from "../mm/index.js";
import { Reg } from "./constants.js";
import { Process } from "./process.js";
import { restoreFxsave, saveFxsave } from "./signal/index.js";

/** clone flags (cf. uapi/linux/sched.h). */
export const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_PIDFD = 0x1000;
export const CLONE_PTRACE = 0x2000, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000;
export const CLONE_NEWNS = 0x20000, CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000;
export const CLONE_CHILD_CLEARTID = 0x200000, CLONE_DETACHED = 0x400000, CLONE_UNTRACED = 0x800000;
export const CLONE_CHILD_SETTID = 0x1000000;
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
 * Checks `a` as copy_process does, for what faultline supports: no shared
 * address space but vfork's, no shared files, fs or handlers yet (threads,
 * which share them, come with CLONE_THREAD), no namespaces.
 * @throws ErrnoError EINVAL for combinations Linux refuses, ENOSYS for what faultline lacks
 */
function checkFlags(a: CloneArgs): void {
  const f = a.flags;
  if ((f & CLONE_THREAD) && !(f & CLONE_SIGHAND)) fail("EINVAL", "clone: CLONE_THREAD without CLONE_SIGHAND");
  if ((f & CLONE_SIGHAND) && !(f & CLONE_VM)) fail("EINVAL", "clone: CLONE_SIGHAND without CLONE_VM");
  if (f & (CLONE_THREAD | CLONE_SIGHAND | CLONE_FILES | CLONE_FS)) fail("ENOSYS", "clone: threads and shared files/fs/handlers are not supported yet");
  if ((f & CLONE_VM) && !(f & CLONE_VFORK)) fail("ENOSYS", "clone: a shared address space (CLONE_VM without CLONE_VFORK) is not supported yet");
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

/**
 * clone(2)/fork(2)/vfork(2)/clone3(2) (cf. kernel_clone).
 * @returns the child's pid (the child itself returns 0)
 * @throws ErrnoError as checkFlags, EAGAIN past the process limit, ENOMEM when its memory does not fit
 */
export function cloneProcess(parent: Process, a: CloneArgs): number {
  checkFlags(a);
  if (parent.kernel.live().length >= parent.kernel.maxProcs) fail("EAGAIN", "fork: too many processes (--max-procs)");
  const child = new Process(parent.sys, parent.options, parent);
  try {
    dupMmap(parent.mm, child.mm);
  } catch (e) {
    child.abandon();
    if (e instanceof OutOfMemoryError) fail("ENOMEM", `fork: ${e.message}`);
    throw e;
  }
  copyRegisters(parent, child, a);
  child.exitSignal = a.exitSignal;
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
