/**
 * Program loading (cf. fs/exec.c bprm_execve + exec_binprm, and
 * fs/binfmt_elf.c load_elf_binary): opens the program as open_exec does
 * (a regular file with an execute bit for the caller, opened without
 * blocking), follows `#!` interpreters (emu/binfmt-script.ts) up to Linux's
 * depth, and maps an x86-64 ELF executable's PT_LOAD segments as private
 * file mappings, so program text reaches memory through the page cache and
 * its aops; zero-fills bss; builds the initial stack of the System V x86-64
 * ABI. Only what the headers name is read: the first BINPRM_BUF_SIZE bytes,
 * the program headers and the PT_INTERP string, never the whole file.
 *
 * The checks are Linux's and no stricter: before the point of no return a
 * failure is execve's errno (exit 126, or 127 for ENOENT); after it (a
 * segment that cannot be mapped, a bad entry point) the process dies by
 * SIGSEGV, as bprm_execve makes it.
 *
 * Position-independent executables (ET_DYN) load at PIE_BASE; a program
 * with PT_INTERP gets its dynamic loader from the guest's root mapped too,
 * and starts there with AT_BASE naming it, as the kernel does.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { Errno } from "../lib/errno.js";
import { ErrnoError, FaultlineError, GuestSignal, OutOfMemoryError } from "../lib/errors.js";
import { guestPath, pathBytes, printable, textPath, type GuestPath, type HostPath, type Resolved, type Vfs } from "./vfs.js";
import { parseShebang, scriptArgv } from "./binfmt-script.js";
import {
  copyToUser, mapRegion, MMAP_MIN_ADDR, PAGE_SIZE, pageAlignUp, TASK_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, STACK_TOP, type Mm,
} from "../mm/index.js";

/** execve's errno numbers for the failures the loader reports (ELIBBAD is not in lib/errno's table). */
const EXEC_ERRNO: Record<string, number> = { ...Errno, ELIBBAD: 80 };

/**
 * A program that cannot be run: `code` is execve's errno name (ENOENT: exit
 * 127; ENOEXEC, EACCES, EIO, ELIBBAD, ELOOP, ENOTDIR...: 126).
 */
export class ExecError extends FaultlineError {
  /** The shell's exit status for this failure. */
  get exitStatus(): number {
    return this.code === "ENOENT" ? 127 : 126;
  }

  /** execve's errno number (for a later execve(2) to return), or EINVAL when the code is not one. */
  get errno(): number {
    return EXEC_ERRNO[this.code] ?? Errno.EINVAL;
  }
}

/**
 * exec failed after the point of no return (cf. bprm_execve:
 * force_fatal_sig(SIGSEGV)): the old image is gone, so the process dies by
 * `signo` (SIGSEGV, or SIGKILL when memory ran out) instead of seeing an errno.
 */
export class ExecKilledError extends ExecError {
  /**
   * @param signo the signal that ends the process
   * @param message one line: the program and why
   */
  constructor(readonly signo: number, message: string) {
    super(signo === SIGKILL ? "SIGKILL" : "SIGSEGV", message);
  }

  override get exitStatus(): number {
    return 128 + this.signo;
  }
}

const SIGKILL = 9, SIGSEGV = 11;
const PT_LOAD = 1, PT_INTERP = 3;
const ET_EXEC = 2, ET_DYN = 3;
const EM_X86_64 = 62;
/** Bytes of a program's start read to pick its handler (cf. BINPRM_BUF_SIZE). */
export const BINPRM_BUF_SIZE = 256;
/** Size of an ELF64 header and of one program header. */
const EHDR_SIZE = 64, PHDR_SIZE = 56;
/** Most program-header bytes Linux reads (cf. load_elf_phdrs). */
const MAX_PHDR_BYTES = 65536;
/** Longest PT_INTERP string, NUL included (cf. PATH_MAX). */
const PATH_MAX = 4096;
/** Most `#!` interpreters in a chain (cf. exec_binprm: depth > 5 is ELOOP). */
const MAX_INTERP_DEPTH = 5;
/** Where a position-independent executable is placed: 2/3 of TASK_SIZE, page-aligned (cf. ELF_ET_DYN_BASE). */
export const PIE_BASE = 0x55_5555_4000;
/** Where a PT_INTERP loader goes (cf. the mmap-area placement of ld.so), below the mmap base. */
export const INTERP_BASE = 0x7f_b000_0000;
/** Initial stack size mapped; it grows on faults up to the stack limit. */
const STACK_INITIAL = 128 * 1024;

/** Auxiliary vector keys (cf. include/uapi/linux/auxvec.h). */
const AT = { NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, UID: 11, EUID: 12, GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23, RANDOM: 25, EXECFN: 31 } as const;

const MACHINES: Record<number, string> = { 3: "i386", 40: "arm", 183: "aarch64", 243: "riscv" };

/** A program file opened for exec (cf. struct linux_binprm's file and buf). */
export interface ExecFile {
  /** The path it was opened by, as given (for messages). */
  readonly name: string;
  /** Its canonical guest path (for /proc/self/exe). */
  readonly guest: GuestPath;
  /** Its host path (inside the root). */
  readonly host: HostPath;
  /** Host descriptor, opened O_RDONLY|O_NONBLOCK; closed by closeExec. */
  readonly fd: number;
  /** File size in bytes when opened. */
  readonly size: number;
  /** The first BINPRM_BUF_SIZE bytes, NUL-padded when the file is shorter. */
  readonly buf: Buffer;
}

/** The parts of an ELF program header the loader uses (64-bit fields as bigints: files may hold any value). */
interface Phdr {
  readonly type: number;
  readonly flags: number;
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
}

/** An ELF executable whose headers passed the checks made before the point of no return. */
interface Elf {
  readonly file: ExecFile;
  readonly type: number;
  readonly entry: bigint;
  readonly phoff: bigint;
  readonly phnum: number;
  readonly phdrs: Phdr[];
  /** PT_INTERP's path, if any (up to its first NUL). */
  readonly interp: string | null;
  /** Whether this is a PT_INTERP file (its own PT_INTERP ignored). */
  readonly isInterp: boolean;
}

/** Whether the caller may execute a file of mode/owner `st` (cf. generic_permission with MAY_EXEC; root needs one x bit). */
function mayExec(st: fs.Stats): boolean {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return (st.mode & 0o111) !== 0;
  if (st.uid === uid) return (st.mode & 0o100) !== 0;
  const groups = [process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])];
  return (st.mode & (groups.includes(st.gid) ? 0o010 : 0o001)) !== 0;
}

/** Reads up to `len` bytes at `pos` of `file` (fewer at its end). */
function readAt(file: ExecFile, pos: bigint, len: number): Buffer {
  const out = Buffer.alloc(len);
  if (pos >= BigInt(file.size)) return out.subarray(0, 0);
  let done = 0;
  while (done < len) {
    const n = fs.readSync(file.fd, out, done, len - done, pos + BigInt(done));
    if (n === 0) break;
    done += n;
  }
  return out.subarray(0, done);
}

/** How openExec looks the program up (cf. do_open_execat's lookup flags). */
export interface OpenExecOptions {
  /** Guest directory a relative path starts from (default the cwd). */
  base?: GuestPath;
  /** Whether a symbolic link as the last component is followed (default true; false: ELOOP, cf. AT_SYMLINK_NOFOLLOW). */
  follow?: boolean;
}

/**
 * Opens guest path `path` for exec (cf. open_exec / do_open_execat): it must
 * resolve in the root to a regular file that the caller may execute; it is
 * checked before it is opened, and opened without blocking (a FIFO, a
 * device or /dev/zero is refused, never read). Reads the first
 * BINPRM_BUF_SIZE bytes (cf. prepare_binprm).
 * @returns the open file; the caller closes it with closeExec
 * @throws ExecError ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG (from the lookup), EACCES
 */
export function openExec(vfs: Vfs, path: GuestPath, o: OpenExecOptions = {}): ExecFile {
  const name = printable(path);
  let resolved: Resolved;
  try {
    resolved = vfs.resolve(path, { base: o.base, follow: o.follow });
    if (o.follow === false && fs.lstatSync(resolved.host).isSymbolicLink()) throw new ExecError("ELOOP", `${name}: a symbolic link (AT_SYMLINK_NOFOLLOW)`);
  } catch (e) {
    if (e instanceof ErrnoError) throw new ExecError(e.code, `${name}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
    throw e;
  }
  return openResolved(name, resolved);
}

/**
 * Opens for exec the inode behind host descriptor `hostFd` (cf. execveat
 * with AT_EMPTY_PATH: the file an O_PATH or ordinary descriptor holds),
 * with the same checks as openExec. The ExecFile reaches the inode through
 * its own descriptor, so it outlives `hostFd` (a close-on-exec descriptor
 * is closed before the program is mapped).
 * @param name the program's name for messages and AT_EXECFN ("/dev/fd/N")
 * @param guest the file's guest path (for /proc/self/exe)
 * @throws ExecError EACCES
 */
export function openExecFd(name: string, guest: GuestPath, hostFd: number): ExecFile {
  const file = openResolved(name, { guest, host: Buffer.from(`/proc/self/fd/${hostFd}`) });
  return { ...file, host: Buffer.from(`/proc/self/fd/${file.fd}`) };
}

/** openExec after the lookup: the checks on `resolved`, the open, the first bytes. */
function openResolved(name: string, resolved: Resolved): ExecFile {
  const refuse = (why: string): never => { throw new ExecError("EACCES", `${name}: cannot execute: ${why}`); };
  const check = (st: fs.Stats) => {
    if (!st.isFile()) refuse(st.isDirectory() ? "a directory" : "not a regular file");
    if (!mayExec(st)) refuse("no execute permission");
  };
  let fd: number;
  try {
    check(fs.statSync(resolved.host));
    fd = fs.openSync(resolved.host, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    if (e instanceof ExecError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ExecError("ENOENT", `${name}: no such file`);
    return refuse((e as Error).message);
  }
  try {
    const st = fs.fstatSync(fd);
    check(st); // the same checks on what was opened: it may have been replaced meanwhile
    const file: ExecFile = { name, guest: resolved.guest, host: resolved.host, fd, size: st.size, buf: Buffer.alloc(BINPRM_BUF_SIZE) };
    readAt(file, 0n, BINPRM_BUF_SIZE).copy(file.buf);
    return file;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** Closes a file opened by openExec. */
export function closeExec(file: ExecFile): void {
  fs.closeSync(file.fd);
}

/** What an exec runs after `#!` interpreters are followed: the ELF file, its arguments, and AT_EXECFN. */
export interface ExecImage {
  /** The ELF file to load (open; the caller closes it). */
  readonly file: ExecFile;
  /** The argument vector, with interpreters spliced in for scripts. */
  readonly argv: readonly (string | Uint8Array)[];
  /** The path exec was called with (cf. bprm->filename, for AT_EXECFN). */
  readonly execfn: GuestPath;
}

/**
 * Opens `filename` for exec and follows `#!` interpreters (openExec, then followScripts).
 * @throws ExecError as openExec and followScripts
 */
export function openImage(vfs: Vfs, filename: GuestPath, argv: readonly (string | Uint8Array)[]): ExecImage {
  return followScripts(vfs, openExec(vfs, filename), filename, argv);
}

/**
 * Follows `#!` interpreters from `first`, the program opened by the name
 * `filename` (cf. exec_binprm's loop over search_binary_handler with
 * load_script): at most five scripts in a chain, the sixth is ELOOP. The
 * last file is not checked for being ELF here; prepareExec does that. Takes
 * `first` over: it is closed on failure or when an interpreter replaces it.
 * @param o.pathInaccessible the script cannot be named to its interpreter
 *   (cf. BINPRM_FLAGS_PATH_INACCESSIBLE: execveat of a close-on-exec
 *   descriptor): a script is ENOENT
 * @throws ExecError as openExec, ENOEXEC for a bad `#!` line, ELOOP, ENOENT
 */
export function followScripts(vfs: Vfs, first: ExecFile, filename: GuestPath, argv: readonly (string | Uint8Array)[], o: { pathInaccessible?: boolean } = {}): ExecImage {
  let file = first;
  let path = filename; // cf. bprm->interp: the name the next script is run by
  for (let depth = 0; ; depth++) {
    let next: GuestPath;
    try {
      if (depth > MAX_INTERP_DEPTH) throw new ExecError("ELOOP", `${printable(filename)}: too many levels of #! interpreters (more than ${MAX_INTERP_DEPTH})`);
      const sb = parseShebang(file.buf, path);
      if (sb === null) return { file, argv, execfn: filename };
      if (o.pathInaccessible) throw new ExecError("ENOENT", `${printable(filename)}: a script behind a close-on-exec descriptor cannot be named to its interpreter`);
      argv = scriptArgv(sb, path, argv);
      next = guestPath(Buffer.from(argv[0]));
    } catch (e) {
      closeExec(file);
      throw e;
    }
    closeExec(file);
    file = openExec(vfs, next);
    path = next;
  }
}

/**
 * The ELF header and program headers of `file`, checked as load_elf_binary
 * checks them before the point of no return (and, for an interpreter, as
 * its "simple consistency checks" do: those failures are ELIBBAD). EI_CLASS,
 * EI_DATA and EI_VERSION are not looked at, as Linux does not.
 * @param interpOf for a PT_INTERP file, the program that named it
 * @throws ExecError ENOEXEC, EIO (an interpreter's header or a PT_INTERP string past the end of the file), ELIBBAD
 */
function readElfHeaders(file: ExecFile, interpOf?: string): Elf {
  const who = interpOf === undefined ? file.name : `${interpOf}: interpreter ${file.name}`;
  const fail = (code: string, why: string): never => { throw new ExecError(interpOf !== undefined && code === "ENOEXEC" ? "ELIBBAD" : code, `${who}: ${why}`); };
  const b = file.buf;
  if (interpOf !== undefined && file.size < EHDR_SIZE) fail("EIO", `ELF header cut short (${file.size} bytes)`);
  if (b.readUInt32BE(0) !== 0x7f454c46) fail("ENOEXEC", "not an ELF file");
  const type = b.readUInt16LE(16);
  const machine = b.readUInt16LE(18);
  // The interpreter's e_type is checked only after the point of no return (cf. load_elf_interp).
  if (interpOf === undefined && type !== ET_EXEC && type !== ET_DYN) fail("ENOEXEC", `not an executable (e_type ${type})`);
  if (machine !== EM_X86_64) fail("ENOEXEC", `ELF for another machine (e_machine ${machine}${MACHINES[machine] ? ", " + MACHINES[machine] : ""}), want x86-64`);
  const phoff = b.readBigUInt64LE(32);
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  if (phentsize !== PHDR_SIZE) fail("ENOEXEC", `corrupt program headers (e_phentsize ${phentsize}, want ${PHDR_SIZE})`);
  if (phnum === 0 || phnum * PHDR_SIZE > MAX_PHDR_BYTES) fail("ENOEXEC", `corrupt program headers (e_phnum ${phnum}: 1 to ${MAX_PHDR_BYTES / PHDR_SIZE})`);
  const raw = readAt(file, phoff, phnum * PHDR_SIZE);
  // A short read is ENOEXEC here, not EIO: load_elf_phdrs fails and its caller keeps its ENOEXEC.
  if (raw.length !== phnum * PHDR_SIZE) fail("ENOEXEC", `program headers past the end of the file (e_phoff 0x${phoff.toString(16)})`);
  const phdrs: Phdr[] = [];
  for (let o = 0; o < raw.length; o += PHDR_SIZE) {
    phdrs.push({
      type: raw.readUInt32LE(o), flags: raw.readUInt32LE(o + 4), offset: raw.readBigUInt64LE(o + 8),
      vaddr: raw.readBigUInt64LE(o + 16), filesz: raw.readBigUInt64LE(o + 32), memsz: raw.readBigUInt64LE(o + 40),
    });
  }
  // An interpreter's own PT_INTERP is ignored (cf. load_elf_interp).
  const interp = interpOf === undefined ? readInterp(file, phdrs, fail) : null;
  return { file, type, entry: b.readBigUInt64LE(24), phoff, phnum, phdrs, interp, isInterp: interpOf !== undefined };
}

/** The first PT_INTERP's string (cf. the PT_INTERP loop of load_elf_binary), or null. */
function readInterp(file: ExecFile, phdrs: Phdr[], fail: (code: string, why: string) => never): string | null {
  const pi = phdrs.find((p) => p.type === PT_INTERP);
  if (!pi) return null;
  if (pi.filesz > BigInt(PATH_MAX) || pi.filesz < 2n) fail("ENOEXEC", `corrupt PT_INTERP (p_filesz ${pi.filesz}: 2 to ${PATH_MAX})`);
  const s = readAt(file, pi.offset, Number(pi.filesz));
  if (s.length !== Number(pi.filesz)) fail("EIO", "PT_INTERP past the end of the file");
  if (s[s.length - 1] !== 0) fail("ENOEXEC", "corrupt PT_INTERP (not NUL-terminated)");
  return s.subarray(0, s.indexOf(0)).toString("latin1"); // a GuestPath: the bytes as the file has them
}

/** What exec leaves behind: where to start and with what stack. */
export interface LoadedProgram {
  /** Where the guest starts: the interpreter's entry, or the program's. */
  entry: number;
  /** The initial stack pointer (at argc). */
  rsp: number;
  /** Load bias of the program (0 for ET_EXEC). */
  bias: number;
  /** The program's canonical guest path (for /proc/self/exe: the ELF file, the interpreter of a script). */
  exePath: GuestPath;
}

/**
 * The guest path of program `program`: a name with a slash as it is, a bare
 * name looked up in PATH inside the root (the first regular file), like a shell.
 * @throws ExecError ENOENT
 */
export function resolveProgram(vfs: Vfs, program: GuestPath): GuestPath {
  if (program.includes("/")) return program;
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    if (!dir) continue;
    const candidate = `${pathBytes(textPath(dir)).toString("latin1")}/${program}` as GuestPath;
    try {
      if (fs.statSync(vfs.resolve(candidate).host).isFile()) return candidate;
    } catch {
      // not there: the next directory
    }
  }
  throw new ExecError("ENOENT", `${printable(program)}: command not found`);
}

/**
 * Loads guest program `program` (resolved in `vfs`; `#!` scripts run their
 * interpreter) into the empty address space `mm`, with its dynamic loader
 * when it names one, and builds the initial stack (cf. bprm_execve +
 * load_elf_binary).
 * @throws ExecError before the point of no return (exit 126/127);
 *   ExecKilledError after it (the process dies: SIGSEGV, SIGKILL when out of memory)
 */
export function loadElf(mm: Mm, vfs: Vfs, path: GuestPath, argv: readonly (string | Uint8Array)[], envp: readonly (string | Uint8Array)[]): LoadedProgram {
  const prepared = prepareExec(vfs, openImage(vfs, resolveProgram(vfs, path), argv), envp, printable(path));
  try {
    return commitExec(mm, prepared);
  } finally {
    releaseExec(prepared);
  }
}

/** A program whose every check before the point of no return passed (cf. struct linux_binprm once a binfmt accepted it). */
export interface PreparedExec {
  /** The program's name, for messages. */
  readonly program: string;
  readonly image: ExecImage;
  readonly elf: Elf;
  /** Its PT_INTERP loader, if it names one. */
  readonly ld: Elf | null;
  readonly envp: readonly (string | Uint8Array)[];
  /** Files to close with releaseExec. */
  readonly open: readonly ExecFile[];
}

/**
 * Checks the ELF file `image` leads to and opens and checks its dynamic
 * loader: everything load_elf_binary does before begin_new_exec. Takes
 * `image.file` over (closed here on failure, else by releaseExec).
 * @param program the program's name for messages (default: the path exec was called with)
 * @throws ExecError ENOEXEC, EIO, ELIBBAD, ENOENT (a missing interpreter), EACCES...
 */
export function prepareExec(vfs: Vfs, image: ExecImage, envp: readonly (string | Uint8Array)[], program = printable(image.execfn)): PreparedExec {
  const open: ExecFile[] = [image.file];
  try {
    const elf = readElfHeaders(image.file);
    let ld: Elf | null = null;
    if (elf.interp !== null) {
      let interpFile: ExecFile;
      try {
        interpFile = openExec(vfs, elf.interp as GuestPath);
      } catch (e) {
        if (e instanceof ExecError && e.code === "ENOENT") throw new ExecError("ENOENT", `${program}: interpreter ${elf.interp} not found`);
        throw e;
      }
      open.push(interpFile);
      ld = readElfHeaders(interpFile, program);
    }
    return { program, image, elf, ld, envp, open };
  } catch (e) {
    open.forEach(closeExec);
    throw e;
  }
}

/**
 * Maps a prepared program into the empty address space `mm` and builds its
 * stack: past the point of no return (cf. begin_new_exec onwards).
 * @throws ExecKilledError for any failure (SIGSEGV; SIGKILL when out of memory)
 */
export function commitExec(mm: Mm, p: PreparedExec): LoadedProgram {
  return afterPointOfNoReturn(p.program, () => mapProgram(mm, p.elf, p.ld, p.image, p.envp));
}

/** Closes the files of a prepared exec (cf. free_bprm). */
export function releaseExec(p: PreparedExec): void {
  p.open.forEach(closeExec);
}

/**
 * Runs `load`, turning a failure into the death of the process (cf.
 * bprm_execve after point_of_no_return): an errno or a fault is SIGSEGV,
 * running out of memory SIGKILL.
 * @param program the program's name, for the message
 * @throws ExecKilledError for any of those; anything else (a bug) unchanged
 */
export function afterPointOfNoReturn<T>(program: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof ExecKilledError) throw e;
    if (e instanceof OutOfMemoryError) throw new ExecKilledError(SIGKILL, `${program}: killed by SIGKILL during exec: ${e.message}`);
    if (e instanceof ErrnoError || e instanceof GuestSignal) throw new ExecKilledError(SIGSEGV, `${program}: killed by SIGSEGV during exec: ${e.message}`);
    throw e;
  }
}

/** Maps the program (and its interpreter) and builds the stack; everything here is past the point of no return. */
function mapProgram(mm: Mm, elf: Elf, ld: Elf | null, image: ExecImage, envp: readonly (string | Uint8Array)[]): LoadedProgram {
  const killed = (why: string): never => { throw new ExecKilledError(SIGSEGV, `${printable(image.execfn)}: killed by SIGSEGV during exec: ${why}`); };
  const bias = elf.type === ET_DYN ? PIE_BASE : 0;
  const main = mapImage(mm, elf, bias, killed);
  let entry = elf.entry + BigInt(bias), base = 0;
  if (entry >= BigInt(TASK_SIZE)) killed(`entry point 0x${entry.toString(16)} outside the user address space`);
  const userEntry = Number(entry);
  if (ld !== null) {
    if (ld.type !== ET_EXEC && ld.type !== ET_DYN) killed(`interpreter ${ld.file.name} is not an executable (e_type ${ld.type})`);
    base = ld.type === ET_DYN ? INTERP_BASE : 0;
    mapImage(mm, ld, base, killed);
    entry = ld.entry + BigInt(base);
    if (entry >= BigInt(TASK_SIZE)) killed(`interpreter entry point 0x${entry.toString(16)} outside the user address space`);
  }
  mm.brkStart = mm.brk = main.end;
  const rsp = buildStack(mm, pathBytes(image.execfn), image.argv, envp, [
    [AT.PHDR, main.phdr], [AT.PHENT, PHDR_SIZE], [AT.PHNUM, elf.phnum], [AT.PAGESZ, PAGE_SIZE], [AT.BASE, base], [AT.FLAGS, 0],
    [AT.ENTRY, userEntry], [AT.UID, uid()], [AT.EUID, uid()], [AT.GID, gid()], [AT.EGID, gid()], [AT.SECURE, 0],
    [AT.HWCAP, 0x178bfbff], [AT.CLKTCK, 100],
  ]);
  return { entry: Number(entry), rsp, bias, exePath: image.file.guest };
}

const uid = () => process.getuid?.() ?? 0;
const gid = () => process.getgid?.() ?? 0;

/** "interpreter X: " for an interpreter's segments in messages, "" for the program's. */
const interpOfName = (elf: Elf): string => (elf.isInterp ? `interpreter ${elf.file.name}: ` : "");

const PAGE = BigInt(PAGE_SIZE);
const TASK = BigInt(TASK_SIZE);

/**
 * Maps the PT_LOAD segments of `elf` at `bias` as private file mappings,
 * zero-filling bss (cf. elf_load: elf_map, padzero, vm_brk_flags). Past the
 * point of no return: what Linux refuses here kills through `killed`.
 * @returns the first page past the image, and the address of its program
 *   headers (from the PT_LOAD whose file bytes hold e_phoff, as Linux: a
 *   PT_PHDR is not believed)
 */
function mapImage(mm: Mm, elf: Elf, bias: number, killed: (why: string) => never): { end: number; phdr: number } {
  const mapping = mm.sys.openFile(elf.file.host, false);
  const file = { mapping, readable: true, writable: false };
  const b = BigInt(bias);
  let end = 0n;
  let phdr = 0n;
  elf.phdrs.forEach((s, k) => {
    if (s.type !== PT_LOAD) return;
    const where = `${interpOfName(elf)}PT_LOAD ${k}`;
    const va = (s.vaddr + b) & 0xffff_ffff_ffff_ffffn;
    // cf. the BAD_ADDR / p_filesz > p_memsz / TASK_SIZE checks after elf_load
    if (va >= TASK || s.memsz > TASK || TASK - s.memsz < va) killed(`${where} at 0x${va.toString(16)} (+0x${s.memsz.toString(16)}) outside the user address space (below 0x${TASK_SIZE.toString(16)})`);
    if (s.filesz > s.memsz) killed(`${where}: p_filesz 0x${s.filesz.toString(16)} > p_memsz 0x${s.memsz.toString(16)}`);
    if (s.offset <= elf.phoff && elf.phoff < s.offset + s.filesz) phdr = elf.phoff - s.offset + s.vaddr;
    end = end > va + s.memsz ? end : va + s.memsz;
    mapSegment(mm, s, Number(va), file, elf.file.size, where, killed);
  });
  return { end: pageAlignUp(Number(end)), phdr: Number((phdr + b) & 0xffff_ffff_ffff_ffffn) };
}

/**
 * Maps one PT_LOAD whose range lies in user space at `va` (cf. elf_load):
 * its file bytes privately, the rest of its last file page zeroed (padzero:
 * a failure matters only for a writable segment, as Linux ignores it on
 * others), and the pages past them as anonymous read-write memory, as
 * vm_brk_flags makes them (executable when the segment is).
 */
function mapSegment(mm: Mm, s: Phdr, va: number, file: { mapping: ReturnType<Mm["sys"]["openFile"]>; readable: boolean; writable: boolean }, fileSize: number, where: string, killed: (why: string) => never): void {
  const prot = (s.flags & 4 ? PROT_READ : 0) | (s.flags & 2 ? PROT_WRITE : 0) | (s.flags & 1 ? PROT_EXEC : 0);
  const start = va - (va % PAGE_SIZE);
  const fileEnd = va + Number(s.filesz);
  const memEnd = va + Number(s.memsz);
  if (s.filesz > 0n) {
    if (s.offset % PAGE !== s.vaddr % PAGE || s.offset < s.vaddr % PAGE) killed(`${where}: p_offset 0x${s.offset.toString(16)} and p_vaddr 0x${s.vaddr.toString(16)} differ modulo the page size`);
    if (start < MMAP_MIN_ADDR && uid() !== 0) killed(`${where} at 0x${start.toString(16)} below mmap_min_addr (0x${MMAP_MIN_ADDR.toString(16)})`);
    // Every page at or past the file's end is a SIGBUS page whatever its offset: clamp
    // offsets past the end so they stay small numbers.
    const pgoff = (s.offset - s.vaddr % PAGE) / PAGE;
    const endPage = BigInt(Math.ceil(fileSize / PAGE_SIZE));
    mapRegion(mm, start, pageAlignUp(fileEnd) - start, prot, false, file, Number(pgoff < endPage ? pgoff : endPage), false, "");
    if (s.memsz > s.filesz && fileEnd % PAGE_SIZE !== 0) padzero(mm, fileEnd, prot, where, killed);
  }
  const anonStart = s.filesz > 0n ? pageAlignUp(fileEnd) : start;
  if (s.memsz > s.filesz && pageAlignUp(memEnd) > anonStart) {
    mapRegion(mm, anonStart, pageAlignUp(memEnd) - anonStart, PROT_READ | PROT_WRITE | (prot & PROT_EXEC), false, null, 0, false, "");
  }
}

/** Zeroes [addr, end of its page) (cf. padzero): a failure kills only when the segment is writable. */
function padzero(mm: Mm, addr: number, prot: number, where: string, killed: (why: string) => never): void {
  try {
    copyToUser(mm, addr, new Uint8Array(PAGE_SIZE - (addr % PAGE_SIZE)));
  } catch (e) {
    if (!(e instanceof ErrnoError || e instanceof GuestSignal)) throw e;
    if (prot & PROT_WRITE) killed(`${where}: cannot zero the end of its last file page at 0x${addr.toString(16)} (${e.code})`);
  }
}

/**
 * Maps the main stack and lays out argc, argv, envp and the auxiliary vector
 * (cf. create_elf_tables); strings, AT_RANDOM bytes and AT_PLATFORM live
 * at the top.
 * @returns the initial stack pointer (16-byte aligned, pointing at argc)
 */
function buildStack(mm: Mm, execfn: Uint8Array, argv: readonly (string | Uint8Array)[], envp: readonly (string | Uint8Array)[], aux: [number, number][]): number {
  mapRegion(mm, STACK_TOP - STACK_INITIAL, STACK_INITIAL, PROT_READ | PROT_WRITE, false, null, 0, true, "[stack]");
  let sp = STACK_TOP;
  const push = (bytes: Uint8Array): number => {
    sp -= bytes.length;
    copyToUser(mm, sp, bytes);
    return sp;
  };
  const cstr = (s: string | Uint8Array) => push(Buffer.concat([typeof s === "string" ? Buffer.from(s, "utf8") : s, Buffer.alloc(1)]));
  const execfnAddr = cstr(execfn);
  const envAddrs = envp.map(cstr);
  const argAddrs = argv.map(cstr);
  const platform = cstr("x86_64");
  const random = push(crypto.randomBytes(16));
  sp -= sp % 16;
  const words: number[] = [argv.length, ...argAddrs, 0, ...envAddrs, 0];
  for (const [k, v] of [...aux, [AT.PLATFORM, platform], [AT.RANDOM, random], [AT.EXECFN, execfnAddr], [AT.NULL, 0]]) words.push(k, v);
  if (words.length % 2 === 1) sp -= 8; // keep rsp 16-byte aligned at argc
  const block = new DataView(new ArrayBuffer(words.length * 8));
  words.forEach((w, k) => block.setBigUint64(k * 8, BigInt(w), true));
  return push(new Uint8Array(block.buffer));
}
