/**
 * Test support: assembles guest code with GNU as at test time and runs it
 * in a fresh process whose text arrives through the page cache of a real
 * file (a private, read-execute mapping, like an ELF text segment).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Reg } from "../../emu/constants.js";
import { Process, type ExitStatus } from "../../emu/process.js";
import { MemSystem, mapRegion, PROT_EXEC, PROT_READ, PROT_WRITE, STACK_TOP, type MmConfig } from "../../mm/index.js";

/** A scratch directory, removed at process exit. */
export function scratchDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-test-"));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const dir = scratchDir();
let serial = 0;

/** Assembles Intel-syntax x86-64 `source` into raw bytes (the .text section). */
export function assemble(source: string): Uint8Array {
  const base = path.join(dir, `g${serial++}`);
  fs.writeFileSync(`${base}.s`, `.intel_syntax noprefix\n.text\n${source}\n`);
  execFileSync("as", ["--64", "-o", `${base}.o`, `${base}.s`]);
  execFileSync("objcopy", ["-O", "binary", "-j", ".text", `${base}.o`, `${base}.bin`]);
  return new Uint8Array(fs.readFileSync(`${base}.bin`));
}

/** Writes `bytes` to a fresh file and returns its path. */
export function writeFile(bytes: Uint8Array | string, name = `f${serial++}`): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Where test programs' text goes. */
export const TEXT = 0x400000;
/** Size of the initial stack mapping. */
export const STACK_SIZE = 64 * 1024;

/** A loaded test guest, ready to run. */
export interface Guest {
  readonly sys: MemSystem;
  readonly proc: Process;
  /** Bytes the guest wrote to fd 1. */
  readonly stdout: number[];
  /**
   * Runs snippet `name` (default: the first) with the given registers set
   * first (names as in emu/constants Reg, lower case). A process may run
   * several snippets one after another: its memory stays.
   */
  run(regs?: Partial<Record<Lowercase<keyof typeof Reg>, number>>, name?: string): ExitStatus;
}

/** Bytes reserved per snippet in the text mapping. */
const SNIPPET = 1024;

/**
 * Assembles `source` (one snippet, or several by name, each at most 1 KiB),
 * maps it at TEXT from a file (page cache, aops), adds a stack, and returns
 * the process. `sys` may be shared between guests.
 */
export function loadGuest(source: string | Record<string, string>, sys: MemSystem = new MemSystem(), config?: Partial<MmConfig>): Guest {
  if (config) Object.assign(sys.config, config);
  const snippets = typeof source === "string" ? { main: source } : source;
  const names = Object.keys(snippets);
  const code = new Uint8Array(names.length * SNIPPET);
  names.forEach((n, k) => {
    const bytes = assemble(snippets[n]);
    if (bytes.length > SNIPPET) throw new Error(`snippet ${n} is ${bytes.length} bytes, over ${SNIPPET}`);
    code.set(bytes, k * SNIPPET);
  });
  const file = writeFile(code);
  const stdout: number[] = [];
  const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) stdout.push(...d); }, timeoutMs: 60_000 });
  const mapping = sys.openFile(file, false);
  const len = Math.ceil(code.length / 4096) * 4096;
  mapRegion(proc.mm, TEXT, len, PROT_READ | PROT_EXEC, false, { mapping, readable: true, writable: false }, 0, false, "");
  mapRegion(proc.mm, STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, false, null, 0, true, "[stack]");
  const run = (regs: Partial<Record<string, number>> = {}, name = names[0]) => {
    for (const [r, v] of Object.entries(regs)) proc.engine.writeReg(Reg[r.toUpperCase() as keyof typeof Reg], v!);
    const k = names.indexOf(name);
    if (k < 0) throw new Error(`no snippet ${name}`);
    return proc.run(TEXT + k * SNIPPET, STACK_TOP - 64);
  };
  return { sys, proc, stdout, run };
}

/** Guest: writes i+1 into the first qword of each of rcx pages from rbx, then sums them back into rax. */
export const WRITE_PAGES = `
    mov rsi, rbx
    mov rdx, rcx
    xor rax, rax
1:  inc rax
    mov [rsi], rax
    add rsi, 4096
    dec rdx
    jnz 1b
    xor rax, rax
    mov rsi, rbx
2:  add rax, [rsi]
    add rsi, 4096
    dec rcx
    jnz 2b
    mov rdi, rax
    mov eax, 231
    syscall`;

/** Assembly that exits with the low byte of `reg`. */
export function exitWith(reg = "rax"): string {
  return `mov rdi, ${reg}\nmov eax, 231\nsyscall\n`;
}

/**
 * Guest snippet: hashes rcx qwords from rbx (h = rotl(h ^ q, 13) * 0x9E3779B97F4A7C15 per qword),
 * optionally touching page rdx's first qword after every page (a hot page; rdx = 0: none),
 * stores h at [r12] and exits 0. Pair with hashQwords().
 */
export const HASH_SNIPPET = `
    xor rax, rax
    mov r8, 0x9E3779B97F4A7C15
    xor r9, r9
1:  xor rax, [rbx]
    rol rax, 13
    imul rax, r8
    add rbx, 8
    inc r9
    test r9, 511
    jnz 2f
    test rdx, rdx
    jz 2f
    mov r10, [rdx]
2:  dec rcx
    jnz 1b
    mov [r12], rax
    mov edi, 0
    mov eax, 231
    syscall`;

/** The same hash as HASH_SNIPPET, over `bytes` (length a multiple of 8). */
export function hashQwords(bytes: Uint8Array): bigint {
  const v = new BigUint64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
  const M = 0x9e3779b97f4a7c15n, MASK = (1n << 64n) - 1n;
  let h = 0n;
  for (const q of v) {
    h ^= q;
    h = ((h << 13n) | (h >> 51n)) & MASK;
    h = (h * M) & MASK;
  }
  return h;
}
