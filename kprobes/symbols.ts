/**
 * Symbols of x86-64 ELF files for user-space probes: where a probe spec
 * (`[ret:]PATH:SYMBOL[+OFF]` or `[ret:]PATH:0xFILEOFFSET`) lands, as a file
 * offset (what a probe is keyed by: the page cache holds file pages) and as
 * the link-time virtual address (st_value space) of that byte.
 *
 * Reads only the ELF header, program and section headers, and the symbol,
 * string and symbol-version tables (positioned reads, never the whole file).
 * Both tables are read: .symtab (absent from stripped files) and .dynsym.
 */
import * as fs from "node:fs";
import { ProbeError } from "./errors.js";

/** One defined symbol of an ELF file. */
export interface Sym {
  /** The name, without any `@VERSION` suffix (see {@link Sym.version}). */
  name: string;
  /** st_value: the link-time virtual address (for ET_DYN, relative to the load base). */
  value: number;
  /** st_size in bytes; 0 when the symbol does not record one. */
  size: number;
  /** "func" for STT_FUNC and STT_GNU_IFUNC, "object" for STT_OBJECT, "other" for the rest (NOTYPE, TLS, COMMON). */
  type: "func" | "object" | "other";
  /** st_shndx: the section the symbol is defined in, or SHN_ABS (0xfff1) / SHN_COMMON (0xfff2). */
  shndx: number;
  /** The ST_BIND of st_info. */
  binding: "local" | "global" | "weak" | "unique" | "other";
  /**
   * Symbol version as readelf prints it after the name: `"@@GLIBC_2.3"` for
   * the default version, `"@GLIBC_2.2.5"` for a hidden (compat) one; absent
   * for unversioned symbols.
   */
  version?: string;
  /**
   * True for STT_GNU_IFUNC: `value` is the resolver that picks an
   * implementation at relocation time, so a probe on it fires when the
   * resolver runs, not on calls of the function (e.g. libc's `strlen`).
   */
  ifunc?: boolean;
}

/** A PT_LOAD program header. */
export interface Segment {
  /** p_vaddr. */
  vaddr: number;
  /** p_offset. */
  offset: number;
  /** p_filesz: bytes backed by the file, from `offset`. */
  filesz: number;
  /** p_memsz (>= filesz; the rest is zero-filled). */
  memsz: number;
  /** p_flags: PF_X = 1, PF_W = 2, PF_R = 4. */
  flags: number;
}

/** What {@link readSymbols} found in an ELF file. */
export interface ElfSymbols {
  /** The path it was read from. */
  path: string;
  /** "exec" for ET_EXEC, "dyn" for ET_DYN (PIE executables and shared objects). */
  type: "exec" | "dyn";
  /** Defined, named symbols of .symtab then .dynsym, one per (name, value, version) (see {@link readSymbols}). */
  symbols: Sym[];
  /** The PT_LOAD segments in program-header order. */
  segments: Segment[];
}

/** Where a probe goes in a file. */
export interface ResolvedSpec {
  /** File offset of the probed byte. */
  offset: number;
  /** Its link-time virtual address. */
  vaddr: number;
  /** The function it lies in (for a symbol spec: the symbol named). */
  symbol?: string;
  /** Its offset from `symbol`'s start. */
  symOff?: number;
}

/** A probe spec split into its parts. */
export interface ProbeSpec {
  /** True for a return probe (`ret:` prefix). */
  ret: boolean;
  /** The file. */
  path: string;
  /** `SYMBOL`, `SYMBOL+OFF` or `0xFILEOFFSET`, as written. */
  where: string;
}

/** Executable segment flag of p_flags. */
export const PF_X = 1;

const ET_EXEC = 2, ET_DYN = 3;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8, SHT_DYNSYM = 11, SHT_SYMTAB_SHNDX = 18;
const SHT_GNU_VERDEF = 0x6ffffffd, SHT_GNU_VERSYM = 0x6fffffff;
const SHN_UNDEF = 0, SHN_XINDEX = 0xffff;
const STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3, STT_FILE = 4, STT_GNU_IFUNC = 10;
const BINDINGS: Record<number, Sym["binding"]> = { 0: "local", 1: "global", 2: "weak", 10: "unique" };
const EHDR = 64, PHDR = 56, SHDR = 64, SYM = 24;
const MACHINES: Record<number, string> = { 3: "i386", 40: "arm", 183: "aarch64", 243: "riscv" };

interface Section { type: number; offset: number; size: number; link: number; entsize: number }

/** The file's bytes by positioned reads, with every read bounds-checked. */
class ElfFile {
  constructor(readonly path: string, private readonly fd: number, readonly size: number) {}

  bad(why: string): never {
    throw new ProbeError("ENOEXEC", `${this.path}: ${why}`);
  }

  /** `len` bytes at `off`, or ENOEXEC naming `what` when they are not all in the file. */
  read(off: number, len: number, what: string): Buffer {
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len < 0 || off + len > this.size) {
      this.bad(`truncated or corrupt: ${what} (${len} bytes at offset 0x${off.toString(16)}) is past the end of the ${this.size}-byte file`);
    }
    const buf = Buffer.alloc(len);
    let done = 0;
    while (done < len) {
      const n = fs.readSync(this.fd, buf, done, len - done, off + done);
      if (n === 0) this.bad(`truncated: short read at offset 0x${(off + done).toString(16)}`);
      done += n;
    }
    return buf;
  }
}

/** A u64 field as a number; ENOEXEC when it does not fit in 2^53. */
function u64(f: ElfFile, b: Buffer, at: number, what: string): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) f.bad(`corrupt ${what} (0x${v.toString(16)})`);
  return Number(v);
}

/** The NUL-terminated string at `at` of string table `tab`. */
function str(f: ElfFile, tab: Buffer, at: number, what: string): string {
  if (at >= tab.length) f.bad(`corrupt ${what}: name offset ${at} is past its string table (${tab.length} bytes)`);
  const end = tab.indexOf(0, at);
  if (end < 0) f.bad(`corrupt ${what}: unterminated name at string-table offset ${at}`);
  return tab.toString("latin1", at, end);
}

function readHeader(f: ElfFile) {
  if (f.size < 4) f.bad("not an ELF file (too short)");
  const id = f.read(0, Math.min(EHDR, f.size), "ELF header");
  if (id.readUInt32BE(0) !== 0x7f454c46) f.bad("not an ELF file");
  if (id[4] !== 2) f.bad(`not a 64-bit ELF file (EI_CLASS ${id[4]})`);
  if (id[5] !== 1) f.bad(`not a little-endian ELF file (EI_DATA ${id[5]})`);
  const h = f.read(0, EHDR, "ELF header");
  const machine = h.readUInt16LE(18);
  if (machine !== EM_X86_64) {
    f.bad(`ELF for another machine (e_machine ${machine}${MACHINES[machine] ? ", " + MACHINES[machine] : ""}), want x86-64`);
  }
  const etype = h.readUInt16LE(16);
  if (etype !== ET_EXEC && etype !== ET_DYN) {
    f.bad(`not an executable or shared object (e_type ${etype}${etype === 1 ? ", relocatable object" : etype === 4 ? ", core file" : ""})`);
  }
  return {
    type: etype === ET_EXEC ? "exec" as const : "dyn" as const,
    phoff: u64(f, h, 32, "e_phoff"),
    shoff: u64(f, h, 40, "e_shoff"),
    phentsize: h.readUInt16LE(54),
    phnum: h.readUInt16LE(56),
    shentsize: h.readUInt16LE(58),
    shnum: h.readUInt16LE(60),
    shstrndx: h.readUInt16LE(62),
  };
}

function readSegments(f: ElfFile, phoff: number, phentsize: number, phnum: number): Segment[] {
  if (phnum === 0) return [];
  if (phentsize !== PHDR) f.bad(`corrupt program headers (e_phentsize ${phentsize}, want ${PHDR})`);
  const ph = f.read(phoff, phnum * PHDR, "program headers");
  const segments: Segment[] = [];
  for (let k = 0; k < phnum; k++) {
    const o = k * PHDR;
    if (ph.readUInt32LE(o) !== PT_LOAD) continue;
    const seg = {
      vaddr: u64(f, ph, o + 16, `p_vaddr of segment ${k}`),
      offset: u64(f, ph, o + 8, `p_offset of segment ${k}`),
      filesz: u64(f, ph, o + 32, `p_filesz of segment ${k}`),
      memsz: u64(f, ph, o + 40, `p_memsz of segment ${k}`),
      flags: ph.readUInt32LE(o + 4),
    };
    if (seg.filesz > seg.memsz) f.bad(`corrupt PT_LOAD segment ${k}: p_filesz 0x${seg.filesz.toString(16)} > p_memsz 0x${seg.memsz.toString(16)}`);
    if (seg.offset + seg.filesz > f.size) f.bad(`truncated: PT_LOAD segment ${k} ends at 0x${(seg.offset + seg.filesz).toString(16)}, past the end of the ${f.size}-byte file`);
    if (!Number.isSafeInteger(seg.vaddr + seg.memsz)) f.bad(`corrupt PT_LOAD segment ${k}: address overflow`);
    segments.push(seg);
  }
  return segments;
}

function readSections(f: ElfFile, shoff: number, shentsize: number, shnum: number): Section[] {
  if (shoff === 0) return [];
  if (shentsize !== SHDR) f.bad(`corrupt section headers (e_shentsize ${shentsize}, want ${SHDR})`);
  if (shnum === 0) {
    // Extended numbering: the real count is section 0's sh_size.
    shnum = u64(f, f.read(shoff, SHDR, "section header 0"), 32, "section count");
    if (shnum === 0) return [];
  }
  if (shnum > 0x1000000) f.bad(`corrupt section headers (${shnum} sections)`);
  const sh = f.read(shoff, shnum * SHDR, "section headers");
  const sections: Section[] = [];
  for (let k = 0; k < shnum; k++) {
    const o = k * SHDR;
    sections.push({
      type: sh.readUInt32LE(o + 4),
      offset: u64(f, sh, o + 24, `sh_offset of section ${k}`),
      size: u64(f, sh, o + 32, `sh_size of section ${k}`),
      link: sh.readUInt32LE(o + 40),
      entsize: u64(f, sh, o + 56, `sh_entsize of section ${k}`),
    });
  }
  return sections;
}

/** The contents of section `k`, checked to lie in the file. */
function sectionBytes(f: ElfFile, sections: Section[], k: number, what: string): Buffer {
  const s = sections[k];
  if (!s) f.bad(`corrupt ${what}: no section ${k}`);
  if (s.type === SHT_NOBITS) return Buffer.alloc(0);
  return f.read(s.offset, s.size, `${what} (section ${k})`);
}

/** Version names by version index, from SHT_GNU_verdef `k` (cf. readelf's process_version_sections). */
function readVerdef(f: ElfFile, sections: Section[], k: number): Map<number, string> {
  const names = new Map<number, string>();
  const d = sectionBytes(f, sections, k, ".gnu.version_d");
  const strtab = sectionBytes(f, sections, sections[k]!.link, ".gnu.version_d string table");
  let at = 0;
  for (let n = 0; n < 0x10000 && at + 20 <= d.length; n++) {
    const ndx = d.readUInt16LE(at + 4), cnt = d.readUInt16LE(at + 6), aux = d.readUInt32LE(at + 12), next = d.readUInt32LE(at + 16);
    if (cnt > 0 && at + aux + 8 <= d.length) names.set(ndx, str(f, strtab, d.readUInt32LE(at + aux), ".gnu.version_d"));
    if (next === 0) break;
    at += next;
  }
  return names;
}

/**
 * Defined symbols of symbol table section `k`, with their version
 * (.dynsym only) and their extended section indexes when the file has them.
 */
function readSymtab(f: ElfFile, sections: Section[], k: number, what: string): Sym[] {
  const s = sections[k]!;
  if (s.entsize !== SYM) f.bad(`corrupt ${what}: sh_entsize ${s.entsize}, want ${SYM}`);
  if (s.size % SYM !== 0) f.bad(`corrupt ${what}: size ${s.size} is not a multiple of ${SYM}`);
  if (sections[s.link]?.type !== SHT_STRTAB) f.bad(`corrupt ${what}: sh_link ${s.link} is not a string table`);
  const tab = sectionBytes(f, sections, k, what);
  const strtab = sectionBytes(f, sections, s.link, `${what} string table`);
  const count = tab.length / SYM;

  let versym: Buffer | null = null, verdef = new Map<number, string>();
  if (s.type === SHT_DYNSYM) {
    const vs = sections.findIndex((x) => x.type === SHT_GNU_VERSYM && x.link === k);
    if (vs >= 0) {
      versym = sectionBytes(f, sections, vs, ".gnu.version");
      if (versym.length < count * 2) f.bad(`corrupt .gnu.version: ${versym.length} bytes for ${count} symbols`);
      const vd = sections.findIndex((x) => x.type === SHT_GNU_VERDEF);
      if (vd >= 0) verdef = readVerdef(f, sections, vd);
    }
  }
  const xi = sections.findIndex((x) => x.type === SHT_SYMTAB_SHNDX && x.link === k);
  const xindex = xi >= 0 ? sectionBytes(f, sections, xi, "extended section indexes") : null;

  const out: Sym[] = [];
  for (let n = 1; n < count; n++) {
    const o = n * SYM;
    const info = tab[o + 4]!, stt = info & 0xf;
    let shndx = tab.readUInt16LE(o + 6);
    if (shndx === SHN_UNDEF || stt === STT_SECTION || stt === STT_FILE) continue;
    if (shndx === SHN_XINDEX && xindex && xindex.length >= (n + 1) * 4) shndx = xindex.readUInt32LE(n * 4);
    let name = str(f, strtab, tab.readUInt32LE(o), what);
    if (name === "") continue;
    const value = tab.readBigUInt64LE(o + 8), size = tab.readBigUInt64LE(o + 16);
    // An absolute symbol may hold any 64-bit constant; those past 2^53 are not addresses we can probe.
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER)) continue;
    let version: string | undefined;
    const at = name.indexOf("@");
    if (at > 0) { // .symtab of files linked with .symver: "name@VER" or "name@@VER"
      version = name.slice(at);
      name = name.slice(0, at);
    } else if (versym) {
      const v = versym.readUInt16LE(n * 2);
      const vname = verdef.get(v & 0x7fff);
      if ((v & 0x7fff) >= 2 && vname !== undefined) version = (v & 0x8000 ? "@" : "@@") + vname;
    }
    const sym: Sym = {
      name, value: Number(value), size: Number(size),
      type: stt === STT_FUNC || stt === STT_GNU_IFUNC ? "func" : stt === STT_OBJECT ? "object" : "other",
      shndx, binding: BINDINGS[info >> 4] ?? "other",
    };
    if (version !== undefined) sym.version = version;
    if (stt === STT_GNU_IFUNC) sym.ifunc = true;
    out.push(sym);
  }
  return out;
}

/**
 * Reads the PT_LOAD segments and the defined symbols of both symbol tables
 * (.symtab, then .dynsym) of an x86-64 ELF64 executable or shared object.
 *
 * Symbols kept: defined (st_shndx not SHN_UNDEF), named, and neither
 * STT_SECTION nor STT_FILE, i.e. what `nm --defined-only` (and `nm -D`)
 * lists; deduplicated by (name, value), the .symtab entry winning and taking
 * the .dynsym entry's version, except that distinct versions of one name at
 * one address stay separate entries (`dlopen@GLIBC_2.2.5` and
 * `dlopen@@GLIBC_2.34` in libc), so each version can be named. A stripped file has only .dynsym symbols; a
 * file without section headers has none.
 *
 * @param path host path of the file
 * @returns its type, symbols and PT_LOAD segments
 * @throws ProbeError ENOEXEC (one line naming the file and the reason) for a
 *   file that is not ELF, not 64-bit little-endian x86-64, not ET_EXEC or
 *   ET_DYN, truncated, or with corrupt headers or tables; the Node error's
 *   code (ENOENT, EACCES, EISDIR, ...) when it cannot be opened or read
 */
export function readSymbols(path: string): ElfSymbols {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (e) {
    throw new ProbeError((e as NodeJS.ErrnoException).code ?? "EACCES", `${path}: cannot open: ${(e as Error).message}`);
  }
  try {
    let size: number;
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw new ProbeError("EISDIR", `${path}: is a directory`);
      size = st.size;
    } catch (e) {
      if (e instanceof ProbeError) throw e;
      throw new ProbeError((e as NodeJS.ErrnoException).code ?? "EACCES", `${path}: cannot read: ${(e as Error).message}`);
    }
    const f = new ElfFile(path, fd, size);
    const h = readHeader(f);
    const segments = readSegments(f, h.phoff, h.phentsize, h.phnum);
    const sections = readSections(f, h.shoff, h.shentsize, h.shnum);
    const symbols: Sym[] = [];
    const seen = new Map<string, Sym[]>();
    for (const type of [SHT_SYMTAB, SHT_DYNSYM]) {
      sections.forEach((s, k) => {
        if (s.type !== type) return;
        for (const sym of readSymtab(f, sections, k, type === SHT_SYMTAB ? ".symtab" : ".dynsym")) {
          const key = `${sym.name}\0${sym.value}`;
          const had = seen.get(key);
          if (!had) {
            seen.set(key, [sym]);
            symbols.push(sym);
          } else if (!had.some((h) => h.version === sym.version)) {
            const plain = had.find((h) => h.version === undefined);
            if (plain) plain.version = sym.version; // the unversioned .symtab entry of a .dynsym one
            else { had.push(sym); symbols.push(sym); } // another version at the same address
          }
        }
      });
    }
    return { path, type: h.type, symbols, segments };
  } finally {
    fs.closeSync(fd);
  }
}

const hex = (n: number) => "0x" + n.toString(16);

/**
 * The file offset of link-time virtual address `vaddr`, through the PT_LOAD
 * segment whose file bytes ([p_vaddr, p_vaddr + p_filesz)) hold it.
 * @param elf from {@link readSymbols}
 * @param vaddr a link-time virtual address (st_value space)
 * @returns `vaddr - p_vaddr + p_offset`
 * @throws ProbeError EFAULT when no segment's file bytes hold it (e.g. .bss)
 */
export function vaddrToOffset(elf: ElfSymbols, vaddr: number): number {
  for (const s of elf.segments) {
    if (vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) return vaddr - s.vaddr + s.offset;
  }
  throw new ProbeError("EFAULT", `${elf.path}: address ${hex(vaddr)} is not in the file bytes of any loadable segment`);
}

/**
 * The link-time virtual address of file offset `offset`, through the first
 * PT_LOAD segment whose file bytes ([p_offset, p_offset + p_filesz)) hold it.
 * @param elf from {@link readSymbols}
 * @param offset a file offset
 * @returns `offset - p_offset + p_vaddr`
 * @throws ProbeError EFAULT when no segment loads that byte of the file
 */
export function offsetToVaddr(elf: ElfSymbols, offset: number): number {
  for (const s of elf.segments) {
    if (offset >= s.offset && offset < s.offset + s.filesz) return offset - s.offset + s.vaddr;
  }
  throw new ProbeError("EFAULT", `${elf.path}: file offset ${hex(offset)} is not in any loadable segment`);
}

/** A parsed `where`: a file offset, or a symbol (with an optional @VERSION) and offset. */
type Where = { kind: "offset"; offset: number } | { kind: "symbol"; name: string; version?: string; off: number };

const HEX = /^0x[0-9a-f]+$/i, DEC = /^[0-9]+$/;

/** A non-negative number written in decimal or 0x hex, or null. */
function parseNumber(s: string): number | null {
  if (!HEX.test(s) && !DEC.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

function parseWhere(where: string): Where {
  const bad = (why: string): never => { throw new ProbeError("EBADSPEC", `bad probe location ${JSON.stringify(where)}: ${why}`); };
  if (where === "") bad("empty");
  if (/\s/.test(where)) bad("contains white space");
  if (/^0x/i.test(where)) {
    const offset = parseNumber(where);
    if (offset === null) bad("want a hexadecimal file offset 0x...");
    return { kind: "offset", offset: offset! };
  }
  if (DEC.test(where)) bad("a file offset is written in hex: 0x...");
  let sym = where, off = 0;
  const plus = where.lastIndexOf("+");
  if (plus >= 0) {
    sym = where.slice(0, plus);
    const n = parseNumber(where.slice(plus + 1));
    if (n === null) bad("want SYMBOL+OFF with OFF in decimal or 0x hex");
    off = n!;
  }
  if (sym === "") bad("missing symbol name");
  const at = sym.indexOf("@");
  if (at === 0) bad("missing symbol name");
  if (at > 0) {
    const version = sym.slice(at);
    if (!/^@@?[^@]+$/.test(version)) bad("want SYMBOL@VERSION or SYMBOL@@VERSION");
    return { kind: "symbol", name: sym.slice(0, at), version, off };
  }
  return { kind: "symbol", name: sym, off };
}

/** Levenshtein distance of `a` and `b`, giving up (returning max + 1) beyond `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]!);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Up to 3 symbol names close to `name`, closest first. */
function closeNames(elf: ElfSymbols, name: string): string[] {
  const max = name.length <= 3 ? 1 : name.length <= 7 ? 2 : 3;
  const want = name.toLowerCase(), bare = want.replace(/^_+/, "");
  const scored = new Map<string, number>();
  for (const s of elf.symbols) {
    if (scored.has(s.name)) continue;
    const lower = s.name.toLowerCase();
    const d = lower.replace(/^_+/, "") === bare ? 0.5 : distance(want, lower, max);
    if (d <= max) scored.set(s.name, d + (s.type === "func" ? 0 : 0.25));
  }
  return [...scored].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 3).map(([n]) => n);
}

const isExported = (s: Sym) => s.binding !== "local";
const isDefaultVersion = (s: Sym) => s.version === undefined || s.version.startsWith("@@");

/** The one symbol `name` stands for (see {@link resolveSpec}). */
function pickSymbol(elf: ElfSymbols, name: string, version: string | undefined): Sym {
  let cands = elf.symbols.filter((s) => s.name === name && (version === undefined || s.version === version));
  if (cands.length === 0) {
    const close = version === undefined ? closeNames(elf, name) : elf.symbols.filter((s) => s.name === name).map((s) => s.name + (s.version ?? "")).slice(0, 3);
    const also = close.length ? ` (did you mean ${close.join(", ")}?)` : "";
    throw new ProbeError("ENOSYM", `no symbol ${name}${version ?? ""} in ${elf.path}${also}`);
  }
  // Narrow step by step, never to nothing: functions, then default versions, then non-local.
  for (const keep of [(s: Sym) => s.type === "func", isDefaultVersion, isExported]) {
    const next = cands.filter(keep);
    if (next.length > 0) cands = next;
  }
  const values = [...new Set(cands.map((s) => s.value))];
  if (values.length > 1) {
    const where = values.slice(0, 4).map((v) => { try { return hex(vaddrToOffset(elf, v)); } catch { return `vaddr ${hex(v)}`; } });
    throw new ProbeError("EAMBIG", `symbol ${name} is ambiguous in ${elf.path}: ${values.length} definitions, at file offsets ${where.join(", ")}${values.length > 4 ? ", ..." : ""}; probe PATH:0xOFFSET instead`);
  }
  return cands[0]!;
}

/**
 * Resolves a probe location in `elf` to a file offset and virtual address.
 *
 * - `0xFILEOFFSET`: that byte of the file, which a PT_LOAD segment must load;
 *   `symbol`/`symOff` name the sized function containing it, if any.
 * - `SYMBOL` or `SYMBOL+OFF` (OFF decimal or 0x hex): OFF bytes into the
 *   symbol. Among several symbols of that name the choice narrows to
 *   functions, then to the default version (`@@`) or unversioned ones, then
 *   to non-local ones; `SYMBOL@VER` / `SYMBOL@@VER` names one version.
 *   An IFUNC symbol resolves to its resolver (see {@link Sym.ifunc}).
 *
 * @param elf from {@link readSymbols}
 * @param where the part of a probe spec after the path
 * @returns file offset and vaddr of the probed byte, and the symbol it is in
 * @throws ProbeError EBADSPEC for a malformed `where`; ENOSYM (`no symbol
 *   NAME in PATH`, with up to 3 close names as "did you mean ...?") for an
 *   unknown symbol; EAMBIG when distinct definitions remain (e.g. two static
 *   functions of one name), listing their file offsets; ERANGE when OFF is
 *   not below the symbol's size (sizes of 0 are not checked); EFAULT when the
 *   byte is not in a segment's file bytes
 */
export function resolveSpec(elf: ElfSymbols, where: string): ResolvedSpec {
  const w = parseWhere(where);
  if (w.kind === "offset") {
    const vaddr = offsetToVaddr(elf, w.offset);
    const r: ResolvedSpec = { offset: w.offset, vaddr };
    const fn = elf.symbols
      .filter((s) => s.type === "func" && s.size > 0 && vaddr >= s.value && vaddr < s.value + s.size)
      .sort((a, b) => b.value - a.value || preferName(a, b))[0];
    if (fn) { r.symbol = fn.name; r.symOff = vaddr - fn.value; }
    return r;
  }
  const sym = pickSymbol(elf, w.name, w.version);
  if (sym.size > 0 && w.off >= sym.size) {
    throw new ProbeError("ERANGE", `${w.name}+${hex(w.off)} is past the end of ${w.name} (size ${hex(sym.size)} = ${sym.size}) in ${elf.path}`);
  }
  const vaddr = sym.value + w.off;
  return { offset: vaddrToOffset(elf, vaddr), vaddr, symbol: sym.name, symOff: w.off };
}

/** Order of names for one address: exported, default version, fewer leading underscores, then alphabetical. */
function preferName(a: Sym, b: Sym): number {
  const us = (s: Sym) => /^_*/.exec(s.name)![0].length;
  return Number(isExported(b)) - Number(isExported(a))
    || Number(isDefaultVersion(b)) - Number(isDefaultVersion(a))
    || us(a) - us(b)
    || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * The functions a probe can go on: func symbols with a size > 0 whose start
 * lies in the file bytes of an executable (PF_X) PT_LOAD segment, sorted by
 * address, one per address. Of aliases (several names at one address) the
 * one kept is, in order of preference: non-local, default or no version,
 * fewest leading underscores, alphabetically first (so `malloc` beats
 * `__libc_malloc`).
 * @param elf from {@link readSymbols}
 * @returns a new array, ascending by `value`
 */
export function probeableSymbols(elf: ElfSymbols): Sym[] {
  const exec = elf.segments.filter((s) => s.flags & PF_X);
  const byAddr = new Map<number, Sym>();
  for (const s of elf.symbols) {
    if (s.type !== "func" || s.size <= 0) continue;
    if (!exec.some((g) => s.value >= g.vaddr && s.value < g.vaddr + g.filesz)) continue;
    const had = byAddr.get(s.value);
    if (!had || preferName(s, had) < 0) byAddr.set(s.value, s);
  }
  return [...byAddr.values()].sort((a, b) => a.value - b.value);
}

/**
 * Splits a probe spec of the CLI grammar `[ret:]PATH:SYMBOL[+OFF]` or
 * `[ret:]PATH:0xFILEOFFSET` at its last colon (so PATH may not contain one
 * in the final part, and a file named `ret` is written `./ret`), checking
 * the location's syntax (see {@link resolveSpec}) without reading the file.
 * @param spec the spec as given on the command line
 * @returns the parts; `where` as written
 * @throws ProbeError EBADSPEC for a missing or empty PATH or location, a
 *   malformed location, or a return probe at SYMBOL+OFF with OFF != 0 (a
 *   return probe must be at a function's entry)
 */
export function parseProbeSpec(spec: string): ProbeSpec {
  const bad = (why: string): never => { throw new ProbeError("EBADSPEC", `bad probe spec ${JSON.stringify(spec)}: ${why}; want [ret:]PATH:SYMBOL[+OFF] or [ret:]PATH:0xFILEOFFSET`); };
  let rest = spec, ret = false;
  if (rest.startsWith("ret:")) { ret = true; rest = rest.slice(4); }
  const colon = rest.lastIndexOf(":");
  if (colon < 0) bad("no PATH:");
  const path = rest.slice(0, colon), where = rest.slice(colon + 1);
  if (path === "") bad("empty PATH");
  if (where === "") bad("empty location after PATH:");
  const w = parseWhere(where);
  if (ret && w.kind === "symbol" && w.off !== 0) bad("a return probe goes at a function's entry, not at +OFF");
  return { ret, path, where };
}
