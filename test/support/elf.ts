/**
 * Test support: reading and patching the ELF64 header and program headers
 * of real binaries, to make the malformed or unusual files the loader tests
 * run natively and under faultline. Offsets are those of the ELF64 format
 * (System V gABI), not of faultline's loader.
 */
import * as fs from "node:fs";

/** Offsets of ELF64 header fields. */
export const EHDR = { class: 4, data: 5, version: 6, type: 16, machine: 18, entry: 24, phoff: 32, phentsize: 54, phnum: 56 } as const;
/** Program header types used by the tests. */
export const PT = { NULL: 0, LOAD: 1, INTERP: 3, NOTE: 4, PHDR: 6, GNU_STACK: 0x6474e551 } as const;
/** Size of one ELF64 program header. */
export const PHDR_SIZE = 56;

/** One program header, 64-bit fields as bigints. */
export interface Phdr {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

const FIELDS: [keyof Phdr, number, 4 | 8][] = [
  ["type", 0, 4], ["flags", 4, 4], ["offset", 8, 8], ["vaddr", 16, 8], ["paddr", 24, 8], ["filesz", 32, 8], ["memsz", 40, 8], ["align", 48, 8],
];

/** Where the program headers of an image are. */
export interface PhdrTable {
  phoff: number;
  phnum: number;
}

/** Where the header of ELF64 image `b` says its program headers are. */
export function phdrTable(b: Buffer): PhdrTable {
  return { phoff: Number(b.readBigUInt64LE(EHDR.phoff)), phnum: b.readUInt16LE(EHDR.phnum) };
}

/** The program headers of ELF64 image `b` (where its header places them, or at `table`). */
export function readPhdrs(b: Buffer, table: PhdrTable = phdrTable(b)): Phdr[] {
  const { phoff } = table;
  const out: Phdr[] = [];
  for (let k = 0; k < table.phnum; k++) {
    const o = phoff + k * PHDR_SIZE;
    const p = {} as Record<keyof Phdr, number | bigint>;
    for (const [name, at, size] of FIELDS) p[name] = size === 4 ? b.readUInt32LE(o + at) : b.readBigUInt64LE(o + at);
    out.push(p as unknown as Phdr);
  }
  return out;
}

/** Writes `fields` into program header `k` of `b` (in place; at `table`, default where its header says). */
export function patchPhdr(b: Buffer, k: number, fields: Partial<Phdr>, table: PhdrTable = phdrTable(b)): void {
  const o = table.phoff + k * PHDR_SIZE;
  for (const [name, at, size] of FIELDS) {
    const v = fields[name];
    if (v === undefined) continue;
    if (size === 4) b.writeUInt32LE(Number(v), o + at);
    else b.writeBigUInt64LE(BigInt(v), o + at);
  }
}

/** Index of the first program header of type `type`, or -1. */
export function findPhdr(b: Buffer, type: number, where: (p: Phdr) => boolean = () => true): number {
  return readPhdrs(b).findIndex((p) => p.type === type && where(p));
}

/** Writes `bytes` to `file` with mode `mode` (default 0755) and returns the path. */
export function writeProgram(file: string, bytes: Buffer, mode = 0o755): string {
  fs.writeFileSync(file, bytes);
  fs.chmodSync(file, mode);
  return file;
}
