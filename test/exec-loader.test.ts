/**
 * Program loading against Linux's own answers: each program file (real
 * binaries, some with patched headers) is executed natively by a bare
 * execve(2) (test/programs/execve.c, which prints the errno) and under
 * `faultline run`; the exit status and stdout must be the same, and when
 * execve fails, faultline's one line names the same errno.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { EHDR, findPhdr, patchPhdr, PHDR_SIZE, PT, readPhdrs, writeProgram } from "./support/elf.js";
import { expectSameExec } from "./support/exec.js";
import { buildC, scratch } from "./support/native.js";

const dir = scratch("fl-ex-");
const HELLO_SRC = '#include "nolibc.h"\nNOLIBC_START;\nint main(int argc, char **argv) { put(1, "hello\\n"); return 7; }\n';
const HELLO = buildC(HELLO_SRC, "nolibc");
const CHELLO = buildC('#include <stdio.h>\nint main(void) { puts("hello"); return 5; }\n', "gcc-static");
const DYN = buildC('#include <stdio.h>\nint main(void) { puts("hello"); return 6; }\n', "gcc-dynamic");
const AUXV = buildC('#include <stdio.h>\n#include <sys/auxv.h>\nint main(void) { printf("%lx %lu\\n", getauxval(AT_PHDR), getauxval(AT_PHNUM)); return 0; }\n', "gcc-static");

let serial = 0;
/** A copy of binary `from` patched by `edit`, as an executable file. */
function variant(from: string, edit: (b: Buffer) => Buffer | void, mode = 0o755): string {
  const b = Buffer.from(fs.readFileSync(from));
  return writeProgram(path.join(dir, `v${serial++}`), edit(b) ?? b, mode);
}

/** `file` with its PT_INTERP string replaced by `interp` (which must fit). */
function withInterp(file: string, interp: string): string {
  return variant(file, (b) => {
    const p = readPhdrs(b)[findPhdr(b, PT.INTERP)];
    expect(interp.length, `interpreter ${interp} fits PT_INTERP`).toBeLessThan(Number(p.filesz));
    b.fill(0, Number(p.offset), Number(p.offset + p.filesz));
    b.write(interp, Number(p.offset), "latin1");
  });
}

/** `file` with its program headers moved to the end and padded with PT_NULL entries to `phnum`. */
function withPhnum(file: string, phnum: number): string {
  return variant(file, (b) => {
    const phoff = Number(b.readBigUInt64LE(EHDR.phoff));
    const old = b.readUInt16LE(EHDR.phnum);
    const at = b.length + ((8 - (b.length % 8)) % 8);
    const out = Buffer.alloc(at + phnum * PHDR_SIZE);
    b.copy(out);
    b.copy(out, at, phoff, phoff + old * PHDR_SIZE);
    out.writeBigUInt64LE(BigInt(at), EHDR.phoff);
    out.writeUInt16LE(phnum, EHDR.phnum);
    return out;
  });
}

describe("what is not a regular file is refused before it is read (EACCES, 126)", () => {
  const fifo = path.join(dir, "f");
  execFileSync("mkfifo", [fifo]);
  const ldCopy = path.join(dir, "l");
  fs.copyFileSync(fs.realpathSync("/lib64/ld-linux-x86-64.so.2"), ldCopy);
  fs.chmodSync(ldCopy, 0o644);
  it.each([
    { name: "/dev/zero", prog: () => "/dev/zero" },
    { name: "a FIFO (no reader, no writer: must not block)", prog: () => fifo },
    { name: "a directory", prog: () => dir },
    { name: "PT_INTERP naming /dev/zero", prog: () => withInterp(DYN, "/dev/zero") },
    { name: "PT_INTERP naming a FIFO", prog: () => withInterp(DYN, fifo) },
    { name: "PT_INTERP naming a loader without execute permission", prog: () => withInterp(DYN, ldCopy) },
    { name: "PT_INTERP naming a missing file", prog: () => withInterp(DYN, "/lib64/ld-nowhere.so") },
  ])("$name", ({ name, prog }) => expectSameExec([prog()], name));
});

describe("execute permission as Linux checks it for the caller (root: any x bit)", () => {
  it.each([0o644, 0o000, 0o100, 0o010, 0o001, 0o700, 0o4755])("mode %s", (mode) => {
    expectSameExec([variant(HELLO, () => undefined, mode)], `mode 0${mode.toString(8)}`);
  });
});

describe("ELF checks no stricter than load_elf_binary", () => {
  const set = (at: number, v: number) => (b: Buffer) => { b[at] = v; };
  const u16 = (at: number, v: number) => (b: Buffer) => { b.writeUInt16LE(v, at); };
  const seg = (pick: (p: ReturnType<typeof readPhdrs>[number]) => boolean, edit: (p: ReturnType<typeof readPhdrs>[number]) => Parameters<typeof patchPhdr>[2]) => (b: Buffer) => {
    const k = readPhdrs(b).findIndex(pick);
    expect(k, "a program header to patch").toBeGreaterThanOrEqual(0);
    patchPhdr(b, k, edit(readPhdrs(b)[k]));
  };
  const load = (p: { type: number }) => p.type === PT.LOAD;
  const readOnlyLoad = (p: { type: number; flags: number; filesz: bigint }) => p.type === PT.LOAD && p.flags === 4 && p.filesz % 4096n !== 0n;
  it.each([
    { name: "EI_CLASS 1 (32-bit)", file: HELLO, edit: set(EHDR.class, 1) },
    { name: "EI_CLASS 0", file: CHELLO, edit: set(EHDR.class, 0) },
    { name: "EI_DATA 2 (big-endian)", file: CHELLO, edit: set(EHDR.data, 2) },
    { name: "EI_VERSION 0", file: HELLO, edit: set(EHDR.version, 0) },
    { name: "e_type ET_REL", file: HELLO, edit: u16(EHDR.type, 1) },
    { name: "e_machine i386", file: HELLO, edit: u16(EHDR.machine, 3) },
    { name: "e_phentsize 32", file: HELLO, edit: u16(EHDR.phentsize, 32) },
    { name: "e_phnum 0", file: HELLO, edit: u16(EHDR.phnum, 0) },
    { name: "e_phoff past the end of the file", file: HELLO, edit: (b: Buffer) => { b.writeBigUInt64LE(1n << 40n, EHDR.phoff); } },
    { name: "a read-only PT_LOAD with bss in its last file page (padzero fails, ignored)", file: HELLO, edit: seg(readOnlyLoad, (p) => ({ memsz: p.filesz + 16n })) },
    { name: "a read-only PT_LOAD with bss pages (glibc)", file: CHELLO, edit: seg(readOnlyLoad, (p) => ({ memsz: p.filesz + 16n })) },
    { name: "a PT_LOAD reaching 1 GiB past the end of the file", file: HELLO, edit: seg(load, () => ({ filesz: 1n << 30n, memsz: 1n << 30n })) },
    { name: "p_filesz > p_memsz (killed during exec)", file: HELLO, edit: seg(load, (p) => ({ memsz: p.filesz - 1n })) },
    { name: "p_offset and p_vaddr differ modulo the page (killed during exec)", file: HELLO, edit: seg(load, (p) => ({ offset: p.offset + 8n })) },
    { name: "PT_INTERP of 1 byte", file: DYN, edit: seg((p) => p.type === PT.INTERP, () => ({ filesz: 1n })) },
    { name: "PT_INTERP not NUL-terminated", file: DYN, edit: seg((p) => p.type === PT.INTERP, (p) => ({ filesz: p.filesz - 1n })) },
    { name: "PT_INTERP past the end of the file", file: DYN, edit: seg((p) => p.type === PT.INTERP, () => ({ offset: 1n << 40n })) },
  ])("$name", ({ name, file, edit }) => expectSameExec([variant(file, edit)], name));

  it("an interpreter that is not ELF: ELIBBAD", () => {
    const text = writeProgram(path.join(dir, "t"), Buffer.from("not an ELF file at all\n"));
    expectSameExec([withInterp(DYN, text)], "text interpreter");
  });

  it.each([
    { phnum: 65536 / PHDR_SIZE, runs: true },
    { phnum: 65536 / PHDR_SIZE + 1, runs: false },
  ].map((c) => ({ ...c, phnum: Math.floor(c.phnum) })))("e_phnum $phnum (64 KiB of headers at most)", ({ phnum }) => {
    expectSameExec([withPhnum(HELLO, phnum)], `e_phnum ${phnum}`);
  });

  it("AT_PHDR comes from the PT_LOAD holding the headers, not from a PT_PHDR that lies", () => {
    const lying = variant(AUXV, seg((p) => p.type === PT.NOTE, () => ({ type: PT.PHDR, vaddr: 0x1234_5000n, offset: 0n })));
    expect(findPhdr(fs.readFileSync(lying), PT.PHDR), "the patched file has a PT_PHDR").toBeGreaterThanOrEqual(0);
    expectSameExec([lying], "lying PT_PHDR");
  });
});
