/**
 * The ELF loader (cf. fs/binfmt_elf.c load_elf_binary): maps an x86-64 ELF
 * executable's PT_LOAD segments as private file mappings, so program text
 * reaches memory through the page cache and its aops; zero-fills bss; builds
 * the initial stack of the System V x86-64 ABI.
 *
 * Position-independent executables (ET_DYN) load at PIE_BASE; a program
 * with PT_INTERP gets its dynamic loader from the guest's root mapped too,
 * and starts there with AT_BASE naming it, as the kernel does.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { FaultlineError } from "../lib/errors.js";
import { guestPath, textPath, type HostPath, type Vfs } from "./vfs.js";
import {
  copyToUser, mapRegion, MMAP_MIN_ADDR, PAGE_SIZE, pageAlignUp, TASK_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, STACK_TOP, type Mm,
} from "../mm/index.js";

/** A program that cannot be run: `code` is ENOENT (exit 127) or ENOEXEC/EACCES (exit 126). */
export class ExecError extends FaultlineError {
  /** The shell's exit status for this failure. */
  get exitStatus(): number {
    return this.code === "ENOENT" ? 127 : 126;
  }
}

const PT_LOAD = 1, PT_INTERP = 3, PT_PHDR = 6;
const ET_EXEC = 2, ET_DYN = 3;
const EM_X86_64 = 62;
/** Where a position-independent executable is placed: 2/3 of TASK_SIZE, page-aligned (cf. ELF_ET_DYN_BASE). */
export const PIE_BASE = 0x55_5555_4000;
/** Initial stack size mapped; it grows on faults up to the stack limit. */
const STACK_INITIAL = 128 * 1024;

/** The parts of an ELF file the loader uses. */
interface Elf {
  /** Host path it was read from. */
  path: string | HostPath;
  type: number;
  /** PT_INTERP's path, if any. */
  interp: string | null;
  entry: number;
  phoff: number;
  phentsize: number;
  phnum: number;
  segments: { type: number; flags: number; offset: number; vaddr: number; filesz: number; memsz: number }[];
}

/** Auxiliary vector keys (cf. include/uapi/linux/auxvec.h). */
const AT = { NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, UID: 11, EUID: 12, GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23, RANDOM: 25, EXECFN: 31 } as const;

/**
 * Reads and checks the ELF header and program headers of `path`.
 * @throws ExecError ENOENT, EACCES, ENOEXEC with a one-line reason
 */
export function readElf(path: string | HostPath): Elf {
  let data: Buffer;
  try {
    data = fs.readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new ExecError("ENOENT", `${path}: no such file`);
    throw new ExecError("EACCES", `${path}: cannot read: ${(e as Error).message}`);
  }
  const bad = (why: string): never => { throw new ExecError("ENOEXEC", `${path}: ${why}`); };
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) bad("not an ELF file");
  if (data[4] !== 2) bad("not a 64-bit ELF file (class " + data[4] + ")");
  if (data[5] !== 1) bad("not a little-endian ELF file");
  const machine = data.readUInt16LE(18);
  if (machine !== EM_X86_64) bad(`ELF for another machine (e_machine ${machine}${MACHINES[machine] ? ", " + MACHINES[machine] : ""}), want x86-64`);
  const type = data.readUInt16LE(16);
  if (type !== ET_EXEC && type !== ET_DYN) bad(`not an executable (e_type ${type})`);
  const phoff = Number(data.readBigUInt64LE(32));
  const phentsize = data.readUInt16LE(54);
  const phnum = data.readUInt16LE(56);
  if (phentsize !== 56 || phnum === 0 || phnum > 256 || phoff + phnum * 56 > data.length) bad("corrupt program headers");
  const segments = [];
  for (let k = 0; k < phnum; k++) {
    const o = phoff + k * 56;
    const seg = {
      type: data.readUInt32LE(o), flags: data.readUInt32LE(o + 4), offset: Number(data.readBigUInt64LE(o + 8)),
      vaddr: Number(data.readBigUInt64LE(o + 16)), filesz: Number(data.readBigUInt64LE(o + 32)), memsz: Number(data.readBigUInt64LE(o + 40)),
    };
    if (seg.type === PT_LOAD) {
      if (seg.filesz > seg.memsz || seg.offset + seg.filesz > data.length || seg.offset % PAGE_SIZE !== seg.vaddr % PAGE_SIZE) {
        bad(`corrupt PT_LOAD segment ${k}`);
      }
    }
    segments.push(seg);
  }
  if (!segments.some((s) => s.type === PT_LOAD)) bad("no loadable segment");
  let interp: string | null = null;
  const pi = segments.find((s) => s.type === PT_INTERP);
  if (pi) {
    if (pi.offset + pi.filesz > data.length || pi.filesz < 2) bad("corrupt PT_INTERP");
    interp = data.subarray(pi.offset, pi.offset + pi.filesz).toString("latin1").replace(/\0.*$/s, "");
  }
  return { path, type, interp, entry: Number(data.readBigUInt64LE(24)), phoff, phentsize, phnum, segments };
}

const MACHINES: Record<number, string> = { 3: "i386", 40: "arm", 183: "aarch64", 243: "riscv" };

/** What exec leaves behind: where to start and with what stack. */
export interface LoadedProgram {
  entry: number;
  rsp: number;
  /** Load bias of the program (0 for ET_EXEC). */
  bias: number;
  /** The program's canonical guest path (for /proc/self/exe). */
  exePath: string;
}

/**
 * Loads guest program `program` (resolved in `vfs`) into the empty address
 * space `mm`, with its dynamic loader when it names one, and builds the
 * initial stack (cf. load_elf_binary).
 * @throws ExecError for files that cannot be executed (ENOENT: exit 127; ENOEXEC, EACCES: 126)
 */
export function loadElf(mm: Mm, vfs: Vfs, program: string, argv: readonly (string | Uint8Array)[], envp: string[]): LoadedProgram {
  const host = resolveProgram(vfs, program);
  const elf = readElf(host);
  const bias = elf.type === ET_DYN ? PIE_BASE : 0;
  const main = mapImage(mm, elf, bias);
  let entry = elf.entry + bias, base = 0;
  if (elf.interp !== null) {
    let interpHost: HostPath;
    try {
      interpHost = vfs.resolve(guestPath(Buffer.from(elf.interp, "latin1"))).host;
    } catch {
      throw new ExecError("ENOENT", `${program}: interpreter ${elf.interp} not found`);
    }
    const ld = readElf(interpHost);
    if (ld.interp !== null) throw new ExecError("ENOEXEC", `${program}: interpreter ${elf.interp} has an interpreter itself`);
    base = ld.type === ET_DYN ? INTERP_BASE : 0;
    mapImage(mm, ld, base);
    entry = ld.entry + base;
  }
  mm.brkStart = mm.brk = main.end;
  const rsp = buildStack(mm, program, argv, envp, [
    [AT.PHDR, main.phdr], [AT.PHENT, elf.phentsize], [AT.PHNUM, elf.phnum], [AT.PAGESZ, PAGE_SIZE], [AT.BASE, base], [AT.FLAGS, 0],
    [AT.ENTRY, elf.entry + bias], [AT.UID, uid()], [AT.EUID, uid()], [AT.GID, gid()], [AT.EGID, gid()], [AT.SECURE, 0],
    [AT.HWCAP, 0x178bfbff], [AT.CLKTCK, 100],
  ]);
  return { entry, rsp, bias, exePath: vfs.guestOf(host) };
}

/** Where a PT_INTERP loader goes (cf. the mmap-area placement of ld.so), below the mmap base. */
export const INTERP_BASE = 0x7f_b000_0000;

const uid = () => process.getuid?.() ?? 0;
const gid = () => process.getgid?.() ?? 0;

/**
 * The host path of guest program `program`: a name with a slash resolves in
 * the root, a bare name is looked up in PATH inside the root, like a shell.
 * @throws ExecError ENOENT
 */
export function resolveProgram(vfs: Vfs, program: string): HostPath {
  const tryPath = (p: string): HostPath | null => {
    try {
      return vfs.resolve(textPath(p)).host;
    } catch {
      return null;
    }
  };
  if (program.includes("/")) {
    const host = tryPath(program);
    if (host === null) throw new ExecError("ENOENT", `${program}: no such file`);
    return host;
  }
  for (const dir of (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const host = dir ? tryPath(`${dir}/${program}`) : null;
    if (host !== null && fs.statSync(host).isFile()) return host;
  }
  throw new ExecError("ENOENT", `${program}: command not found`);
}

/**
 * Maps the PT_LOAD segments of `elf` at `bias` as private file mappings,
 * zero-filling bss (cf. elf_map + padzero + set_brk).
 * @returns the first page past the image, and the address of its program headers
 */
function mapImage(mm: Mm, elf: Elf, bias: number): { end: number; phdr: number } {
  const mapping = mm.sys.openFile(elf.path, false);
  const file = { mapping, readable: true, writable: false };
  let end = 0;
  let phdr = 0;
  for (const s of elf.segments) {
    if (s.type === PT_PHDR) phdr = s.vaddr + bias;
    if (s.type !== PT_LOAD || s.memsz === 0) continue;
    const prot = (s.flags & 4 ? PROT_READ : 0) | (s.flags & 2 ? PROT_WRITE : 0) | (s.flags & 1 ? PROT_EXEC : 0);
    const start = s.vaddr + bias - ((s.vaddr + bias) % PAGE_SIZE);
    const fileEnd = s.vaddr + bias + s.filesz;
    const memEnd = s.vaddr + bias + s.memsz;
    if (start < MMAP_MIN_ADDR || memEnd > TASK_SIZE) {
      throw new ExecError("ENOEXEC", `${elf.path}: segment at 0x${start.toString(16)} lies outside the address space (0x${MMAP_MIN_ADDR.toString(16)}..0x${TASK_SIZE.toString(16)})`);
    }
    if (s.filesz > 0) {
      mapRegion(mm, start, pageAlignUp(fileEnd) - start, prot, false, file, (s.offset - (s.vaddr % PAGE_SIZE)) / PAGE_SIZE, false, "");
    }
    if (s.memsz > s.filesz) {
      if (s.filesz > 0 && fileEnd % PAGE_SIZE !== 0) copyToUser(mm, fileEnd, new Uint8Array(PAGE_SIZE - (fileEnd % PAGE_SIZE)));
      const anonStart = s.filesz > 0 ? pageAlignUp(fileEnd) : start;
      if (pageAlignUp(memEnd) > anonStart) mapRegion(mm, anonStart, pageAlignUp(memEnd) - anonStart, prot, false, null, 0, false, "");
    }
    if (phdr === 0 && s.offset <= elf.phoff && elf.phoff < s.offset + s.filesz) phdr = s.vaddr + bias + (elf.phoff - s.offset);
    end = Math.max(end, pageAlignUp(memEnd));
  }
  return { end, phdr };
}

/**
 * Maps the main stack and lays out argc, argv, envp and the auxiliary vector
 * (cf. create_elf_tables); strings, AT_RANDOM bytes and AT_PLATFORM live
 * at the top.
 * @returns the initial stack pointer (16-byte aligned, pointing at argc)
 */
function buildStack(mm: Mm, execfn: string, argv: readonly (string | Uint8Array)[], envp: string[], aux: [number, number][]): number {
  mapRegion(mm, STACK_TOP - STACK_INITIAL, STACK_INITIAL, PROT_READ | PROT_WRITE, false, null, 0, true, "[stack]");
  let sp = STACK_TOP;
  const push = (bytes: Uint8Array): number => {
    sp -= bytes.length;
    copyToUser(mm, sp, bytes);
    return sp;
  };
  // Text is UTF-8; bytes (an argument that is not UTF-8) go as they are.
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
