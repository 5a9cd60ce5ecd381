/**
 * execve(2) and execveat(2) inside a running guest: a new program in the
 * same process (cf. fs/exec.c do_execveat_common, bprm_execve,
 * begin_new_exec; fs/binfmt_elf.c load_elf_binary).
 *
 *   before the point of no return (a failure is the caller's errno; it runs on):
 *     path from guest memory -> open and check the file (do_open_execat)
 *     -> argv, envp from guest memory, checked against Linux's limits (count, copy_strings)
 *     -> `#!` chain, ELF headers, PT_INTERP loader (emu/loader.ts prepareExec)
 *   the point of no return (a failure kills the process by SIGSEGV):
 *     signal state (execSignals: flush_signal_handlers) -> the old address space released and an
 *     empty one in its place on the same engine (exec_mmap, Mm.renew) -> close-on-exec descriptors closed (do_close_on_exec) -> probe state
 *     of the old image dropped -> segments and stack mapped (commitExec) -> the CPU as a
 *     fresh process has it (start_thread) -> the engine stopped, all translated code
 *     dropped between runs, and the run resumed at the new entry
 *
 * The pid, cwd, root, umask, descriptors without FD_CLOEXEC, the signal mask
 * and pending signals are kept.
 */
import { fail } from "../lib/errno.js";
import { ErrnoError, GuestSignal } from "../lib/errors.js";
import { bytesFromUser, copyFromUser, PAGE_SIZE } from "../mm/index.js";
import { Reg } from "./constants.js";
import type { Engine } from "./engine.js";
import { allocContext } from "./exception-state.js";
import { afterPointOfNoReturn, closeExec, commitExec, ExecError, ExecKilledError, followScripts, openExec, openExecFd, prepareExec, releaseExec, type ExecFile, type PreparedExec } from "./loader.js";
import type { Process } from "./process.js";
import { procFile } from "./procfs.js";
import { readExecImage } from "./procfs/self.js";
import { execSignals } from "./signal/index.js";
import { USER_EFLAGS } from "./process.js";
import { AT_FDCWD, dirBase, userPath } from "./syscalls/fs.js";
import { guestPath, pathBytes, printable, type GuestPath } from "./vfs.js";

/** execveat's flags (cf. include/uapi/linux/fcntl.h). */
export const AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
/** open's flag not to follow a last link, for /proc lookups. */
const O_NOFOLLOW = 0o400000;
/** Longest argument or environment string, its NUL included (cf. MAX_ARG_STRLEN: 32 pages). */
export const MAX_ARG_STRLEN = 32 * PAGE_SIZE;
/** At least this much room for the strings whatever the stack limit (cf. ARG_MAX in bprm_stack_limits). */
const ARG_MAX = 32 * PAGE_SIZE;
/** The strings' room is at most 3/4 of this (cf. _STK_LIM). */
const STK_LIM = 8 * 1024 * 1024;
/** The stack limit the guest has (prlimit64 reports RLIMIT_STACK as 8 MiB: emu/syscalls/process.ts). */
const RLIMIT_STACK_CUR = 8 * 1024 * 1024;
/** Pointer size on the stack. */
const PTR = 8;

/** What execveat(2) was called with (execve is dirfd AT_FDCWD and flags 0). */
export interface ExecRequest {
  readonly dirfd: number;
  /** Guest address of the path. */
  readonly pathAddr: number;
  /** Guest addresses of the NULL-terminated argv and envp pointer arrays (0: empty). */
  readonly argvAddr: number;
  readonly envpAddr: number;
  readonly flags: number;
}

/**
 * execveat(2) for `p`, from its syscall hook. Before the point of no return
 * any failure is returned as -errno and the caller runs on; after it the
 * process is the new program, which continues at its entry point once the
 * hook returns (RIP, RSP and every register set here), or dies.
 * @returns 0 (the new program's RAX) or -errno
 * @throws ErrnoError (EFAULT, ENAMETOOLONG, E2BIG, EBADF, ENOTDIR, EINVAL...) before the point of no return;
 *   GuestSignal SIGSEGV (SIGKILL when out of memory) after it
 */
export function execveat(p: Process, r: ExecRequest): number {
  let prepared: PreparedExec;
  try {
    prepared = prepare(p, r);
  } catch (e) {
    if (e instanceof ExecError) return -e.errno;
    throw e;
  }
  try {
    pointOfNoReturn(p, prepared);
  } finally {
    releaseExec(prepared);
  }
  return 0;
}

/** Everything before the point of no return (cf. do_execveat_common up to bprm_execve's exec_binprm). */
function prepare(p: Process, r: ExecRequest): PreparedExec {
  const name = userPath(p, r.pathAddr); // cf. getname_uflags, before the flags are looked at
  if (name.length === 0 && !(r.flags & AT_EMPTY_PATH)) fail("ENOENT", "execve: empty path");
  if (r.flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) fail("EINVAL", `execveat: unknown flags 0x${r.flags.toString(16)}`);
  // The loader reads the host file; Linux reads through the page cache. What a guest wrote
  // (a linker's output, a script just made) reaches the host file first.
  p.sys.syncAll();
  const target = openTarget(p, r.dirfd, name, r.flags);
  let argv: Buffer[], envp: Buffer[];
  try {
    ({ argv, envp } = readArgs(p, r, target.execfn));
  } catch (e) {
    closeExec(target.file);
    throw e;
  }
  const image = followScripts(p.fs, target.file, target.execfn, argv, { pathInaccessible: target.inaccessible });
  return prepareExec(p.fs, image, envp);
}

/** The program file opened for exec, the name it runs by (cf. bprm->filename), and whether a script could be named to its interpreter. */
interface Target {
  readonly file: ExecFile;
  readonly execfn: GuestPath;
  /** cf. BINPRM_FLAGS_PATH_INACCESSIBLE: the name goes through a close-on-exec descriptor. */
  readonly inaccessible: boolean;
}

/**
 * Opens the program (cf. alloc_bprm + do_open_execat): by descriptor with
 * AT_EMPTY_PATH and "", else by path from `dirfd` (links under /proc
 * followed to what they name, /proc/self/exe included). The name it runs
 * by is the path, or "/dev/fd/N[/path]" for a relative path or an empty one
 * from a descriptor, as Linux names it.
 * @throws ExecError as openExec; ErrnoError EBADF, ENOTDIR
 */
function openTarget(p: Process, dirfd: number, name: GuestPath, flags: number): Target {
  const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
  const viaFd = !name.startsWith("/") && dirfd !== AT_FDCWD;
  const execfn = !viaFd ? name : guestPath(Buffer.from(name.length === 0 ? `/dev/fd/${dirfd}` : `/dev/fd/${dirfd}/${printable(name)}`));
  const inaccessible = viaFd && p.fds.cloexec(dirfd);
  if (name.length === 0) {
    if (dirfd === AT_FDCWD) return { file: openExec(p.fs, p.fs.cwd), execfn, inaccessible };
    const f = p.fds.must(dirfd);
    if (f.hostInode < 0) throw new ExecError("EACCES", `${printable(execfn)}: cannot execute: not a regular file`);
    return { file: openExecFd(printable(execfn), f.guestPath as GuestPath, f.hostInode), execfn, inaccessible };
  }
  const base = dirBase(p, dirfd, name);
  const proc = procFile(p, name, base, follow ? 0 : O_NOFOLLOW);
  if (proc === null) return { file: openExec(p.fs, name, { base, follow }), execfn, inaccessible };
  if (typeof proc === "string") return { file: openExec(p.fs, proc as GuestPath, { base }), execfn, inaccessible };
  if ("inodeOf" in proc) return { file: openExecFd(printable(name), proc.inodeOf.guestPath as GuestPath, proc.inodeOf.hostInode), execfn, inaccessible };
  if (proc.refs === 0) proc.release();
  throw new ExecError("EACCES", `${printable(name)}: cannot execute: not a regular file`);
}

/**
 * The argument and environment strings (cf. count, bprm_stack_limits,
 * copy_strings): both pointer arrays are counted first (EFAULT), the
 * counts checked against the room for strings, then the strings copied,
 * the environment before the arguments and each array from its end, as
 * Linux copies them; a string longer than MAX_ARG_STRLEN or more bytes
 * than the room is E2BIG. An empty argv becomes [""] (as since Linux 5.18).
 * An array too long to fit is E2BIG as soon as it is counted that far
 * (Linux counts it to its end: an unterminated one is EFAULT there).
 * @throws ErrnoError EFAULT, E2BIG
 */
function readArgs(p: Process, r: ExecRequest, execfn: GuestPath): { argv: Buffer[]; envp: Buffer[] } {
  let room = Math.max(Math.min((STK_LIM / 4) * 3, RLIMIT_STACK_CUR / 4), ARG_MAX);
  const maxCount = Math.floor(room / PTR);
  const argPtrs = readPointers(p, r.argvAddr, maxCount);
  const envPtrs = readPointers(p, r.envpAddr, maxCount);
  const ptrBytes = (Math.max(argPtrs.length, 1) + envPtrs.length) * PTR;
  if (room <= ptrBytes) fail("E2BIG", `execve: ${argPtrs.length} arguments and ${envPtrs.length} environment strings: no room for their pointers`);
  room -= ptrBytes;
  const take = (bytes: number) => {
    room -= bytes;
    if (room < 0) fail("E2BIG", "execve: argument and environment strings over the stack's room for them");
  };
  take(pathBytes(execfn).length + 1); // cf. copy_string_kernel(bprm->filename)
  const strings = (ptrs: number[]): Buffer[] => {
    const out: Buffer[] = new Array(ptrs.length);
    for (let k = ptrs.length - 1; k >= 0; k--) {
      out[k] = argString(p, ptrs[k]);
      take(out[k].length + 1);
    }
    return out;
  };
  const envp = strings(envPtrs);
  const argv = strings(argPtrs);
  if (argv.length === 0) {
    take(1);
    argv.push(Buffer.alloc(0));
  }
  return { argv, envp };
}

/** One string of argv or envp, its NUL not included (cf. strnlen_user with MAX_ARG_STRLEN). @throws ErrnoError EFAULT, E2BIG */
function argString(p: Process, addr: number): Buffer {
  try {
    return bytesFromUser(p.mm, addr, MAX_ARG_STRLEN);
  } catch (e) {
    if (e instanceof ErrnoError && e.code === "ENAMETOOLONG") fail("E2BIG", `execve: a string at 0x${addr.toString(16)} longer than ${MAX_ARG_STRLEN - 1} bytes`);
    throw e;
  }
}

/**
 * The pointers of a NULL-terminated array at guest `addr` (0: none, as
 * Linux takes a NULL argv or envp), read a page at a time (cf. count()).
 * @throws ErrnoError EFAULT, E2BIG past `max` pointers
 */
function readPointers(p: Process, addr: number, max: number): number[] {
  const out: number[] = [];
  if (addr === 0) return out;
  for (let at = addr; ; ) {
    // The rest of this page in whole pointers (one pointer when it straddles two pages).
    const n = Math.max(PTR, Math.floor((PAGE_SIZE - (at % PAGE_SIZE)) / PTR) * PTR);
    const words = new DataView(copyFromUser(p.mm, at, n).slice().buffer);
    for (let o = 0; o + PTR <= n; o += PTR) {
      const v = words.getBigUint64(o, true);
      if (v === 0n) return out;
      if (out.length >= max) fail("E2BIG", `execve: more than ${max} pointers in an argument or environment array`);
      out.push(Number(v));
    }
    at += n;
  }
}

/**
 * From the point of no return on (cf. begin_new_exec + the rest of
 * load_elf_binary + START_THREAD): any failure kills the process.
 * @throws GuestSignal SIGSEGV, or SIGKILL when memory ran out
 */
function pointOfNoReturn(p: Process, prepared: PreparedExec): void {
  const engine = p.engine;
  try {
    afterPointOfNoReturn(prepared.program, () => newImage(p, prepared));
  } catch (e) {
    if (!(e instanceof ExecKilledError)) throw e;
    throw new GuestSignal(e.code, e.signo, engine.rip(), "exec", undefined, e.message);
  }
}

/** pointOfNoReturn's steps, in begin_new_exec's order. */
function newImage(p: Process, prepared: PreparedExec): void {
  p.deThread(); // cf. begin_new_exec's de_thread: the other threads end first
  execSignals(p); // cf. flush_signal_handlers, flush_itimer_signals... (mask and pending kept)
  // cf. exec_mmap: an address space of its own is emptied in place (its teardown drops the code of every
  // present executable page); one still shared (a vfork child's, CLONE_VM) is left to the others, and the
  // new image gets a new engine (no translations, not inside this hook: RIP is set as is).
  const sharedMm = p.mm.shared;
  if (sharedMm) p.execMm();
  else p.mm = p.mm.renew();
  const engine = p.engine;
  p.vforkDone(); // cf. exec_mm_release: a vfork parent runs again
  p.unshareFiles(); // cf. begin_new_exec's unshare_files
  p.fds.closeOnExec();
  p.traps?.onExec?.(p);
  const loaded = commitExec(p.mm, prepared);
  p.exePath = loaded.exePath;
  const startTicks = p.execImage?.startTicks; // the process's start, not the exec's (cf. task->start_time)
  const image = readExecImage(p.mm, loaded.rsp);
  p.execImage = startTicks === undefined ? image : { ...image, startTicks };
  p.resetCpu();
  engine.writeReg(Reg.RSP, loaded.rsp);
  engine.writeReg(Reg.EFLAGS, USER_EFLAGS);
  p.registersReplaced = true;
  if (sharedMm) {
    engine.setRip(loaded.entry); // a new engine, outside any hook
    return;
  }
  // The engine adds the syscall's 2 bytes to RIP after this hook returns.
  engine.setRip(loaded.entry - 2);
  // Every other translation goes too, between runs: run() flushes and resumes at the entry.
  p.codeFlushOwed = true;
  engine.stop();
}

/**
 * A saved CPU state (a Unicorn context) to go back to: a process keeps the
 * one its constructor left, and execve restores it (cf. start_thread and
 * fpu_flush_thread: every register as a fresh process has it, the FPU at
 * its initial state).
 */
export class CpuSnapshot {
  /** The native context's address; 0 once freed. */
  private ctx: number;

  /** Saves `engine`'s CPU state now. @throws UnicornError when the engine refuses */
  constructor(private readonly engine: Engine) {
    this.ctx = allocContext(engine);
    engine.check("uc_context_save", engine.lib.fn.uc_context_save(engine.handle, this.ctx));
  }

  /** Puts the saved state back into the CPU (from a hook too: the guest continues with it). */
  restore(): void {
    this.engine.check("uc_context_restore", this.engine.lib.fn.uc_context_restore(this.engine.handle, this.ctx));
  }

  /** Frees the context. Idempotent. */
  free(): void {
    if (this.ctx === 0) return;
    this.engine.lib.fn.uc_context_free(this.ctx);
    this.ctx = 0;
  }
}
