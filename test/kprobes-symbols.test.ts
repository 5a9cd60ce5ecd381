/**
 * kprobes/symbols.ts against binutils: a small C program built at test time
 * three ways (PIE, -static, -no-pie), the stripped dynamic /bin/ls and
 * libc.so.6 are read with readSymbols, and names, values, sizes, segments
 * and file offsets are checked against `nm`, `readelf -sW`, `readelf -lW`
 * and `objdump -d` (the bytes at a computed file offset must be the bytes
 * objdump disassembles at that address). Then the spec grammar and the
 * error cases of parseProbeSpec, resolveSpec and readSymbols.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  offsetToVaddr, parseProbeSpec, probeableSymbols, readSymbols, resolveSpec, vaddrToOffset, type ElfSymbols, type Sym,
} from "../kprobes/symbols.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-kprobes-symbols-"));
process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));

const LS = "/bin/ls";
const LIBC = "/lib/x86_64-linux-gnu/libc.so.6";

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 256 << 20, stdio: ["ignore", "pipe", "pipe"] });
}

// Two translation units, each with a static `helper`, so that name is ambiguous.
fs.writeFileSync(path.join(dir, "prog.c"), `
#include <stdio.h>
int table[16] = { 1, 2, 3 };          /* .data object */
long counter;                          /* .bss object: no file bytes */
int other_entry(int x);
static __attribute__((noinline, used)) int helper(int x) { return x * 3 + table[x & 15]; }
__attribute__((noinline)) long compute_sum(const int *v, int n) {
  long s = 0;
  for (int i = 0; i < n; i++) s += v[i] * (long)helper(i);
  return s;
}
__attribute__((noinline)) void scale_vector(int *v, int n, int k) { for (int i = 0; i < n; i++) v[i] *= k; }
__attribute__((noinline, weak)) int hook_weak(int x) { return x + 1; }
int main(int argc, char **argv) {
  (void)argv;
  scale_vector(table, argc, 2);
  counter = compute_sum(table, 16) + hook_weak(argc) + other_entry(argc);
  printf("%ld\\n", counter);
  return 0;
}
`);
fs.writeFileSync(path.join(dir, "other.c"), `
extern int table[16];
static __attribute__((noinline, used)) int helper(int x) { return x ^ table[(x + 1) & 15]; }
__attribute__((noinline)) int other_entry(int x) { return helper(x) + 7; }
`);

const VARIANTS = [
  { name: "pie", flags: [] as string[], type: "dyn" },
  { name: "static", flags: ["-static"], type: "exec" },
  { name: "no-pie", flags: ["-no-pie"], type: "exec" },
] as const;
const OUR_FUNCS = ["compute_sum", "scale_vector", "hook_weak", "other_entry", "main"];

const built = new Map<string, string>();
for (const v of VARIANTS) {
  const out = path.join(dir, `prog-${v.name}`);
  run("gcc", ["-O1", ...v.flags, "-o", out, path.join(dir, "prog.c"), path.join(dir, "other.c")]);
  built.set(v.name, out);
}

// ---- binutils parsers ----

/** `name@value` for each line of `nm [-D] --defined-only` (names without @VERSION). */
function nmSet(file: string, dynamic: boolean): Set<string> {
  let out: string;
  try {
    out = run("nm", [...(dynamic ? ["-D"] : []), "--defined-only", file]);
  } catch {
    return new Set(); // "no symbols"
  }
  const set = new Set<string>();
  for (const line of out.split("\n")) {
    const m = /^([0-9a-f]+) (\S) (.+)$/.exec(line);
    if (m) set.add(`${m[3]!.split("@")[0]}@${parseInt(m[1]!, 16)}`);
  }
  return set;
}

interface ReadelfSym { name: string; version?: string; value: number; size: number; type: string; bind: string; ndx: string }

/** Defined entries of `readelf -sW` (both tables; add --dyn-syms for .dynsym alone). */
function readelfSyms(file: string, extra: string[] = []): ReadelfSym[] {
  const out = run("readelf", ["-sW", ...extra, file]);
  const syms: ReadelfSym[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*\d+:\s+([0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+\s+(\S+)\s+(\S.*?)(?: \(\d+\))?$/.exec(line);
    if (!m || m[5] === "UND") continue;
    const full = m[6]!, at = full.indexOf("@");
    const s: ReadelfSym = {
      name: at > 0 ? full.slice(0, at) : full, value: parseInt(m[1]!, 16), size: Number(m[2]!), type: m[3]!, bind: m[4]!, ndx: m[5]!,
    };
    if (at > 0) s.version = full.slice(at);
    syms.push(s);
  }
  return syms;
}

interface ReadelfLoad { offset: number; vaddr: number; filesz: number; memsz: number; flags: string }

/** LOAD lines of `readelf -lW`. */
function readelfLoads(file: string): ReadelfLoad[] {
  const loads: ReadelfLoad[] = [];
  for (const line of run("readelf", ["-lW", file]).split("\n")) {
    const m = /^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(.{3})/.exec(line);
    if (m) loads.push({ offset: Number(m[1]), vaddr: Number(m[2]), filesz: Number(m[3]), memsz: Number(m[4]), flags: m[5]! });
  }
  return loads;
}

/** File offset of `vaddr` by readelf's segment table. */
function readelfOffset(loads: ReadelfLoad[], vaddr: number): number | undefined {
  const l = loads.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
  return l && vaddr - l.vaddr + l.offset;
}

/** Instructions objdump disassembles, as address and bytes (continuation lines merged). */
function objdumpInsns(args: string[]): { addr: number; bytes: number[] }[] {
  const insns: { addr: number; bytes: number[] }[] = [];
  for (const line of run("objdump", ["-d", "-w", ...args]).split("\n")) {
    const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)/.exec(line);
    if (!m) continue;
    const addr = parseInt(m[1]!, 16), bytes = m[2]!.trim().split(" ").map((b) => parseInt(b, 16));
    insns.push({ addr, bytes });
  }
  return insns;
}

const fileBytes = (file: string, offset: number, len: number) => [...fs.readFileSync(file).subarray(offset, offset + len)];
const hexs = (b: number[]) => b.map((x) => x.toString(16).padStart(2, "0")).join(" ");
const symKey = (s: { name: string; value: number }) => `${s.name}@${s.value}`;

/** What set `got` lacks and has extra compared with `want`, for messages. */
function setDiff(got: Set<string>, want: Set<string>): string {
  const missing = [...want].filter((x) => !got.has(x)), extra = [...got].filter((x) => !want.has(x));
  return `missing ${missing.length} (${missing.slice(0, 8).join(", ")}), extra ${extra.length} (${extra.slice(0, 8).join(", ")})`;
}

/** Checks every defined FUNC/IFUNC line of readelf against `elf`'s symbols. */
function checkFuncs(elf: ElfSymbols, want: ReadelfSym[]): void {
  const ours = new Map<string, Sym[]>();
  for (const s of elf.symbols) ours.set(symKey(s), [...(ours.get(symKey(s)) ?? []), s]);
  const bad: string[] = [];
  let n = 0;
  for (const r of want) {
    if (r.type !== "FUNC" && r.type !== "IFUNC") continue;
    n++;
    // A .symtab line has no version; its .dynsym twin (same name and value) may have one.
    const s = ours.get(symKey(r))?.find((x) => r.version === undefined || x.version === r.version);
    const wantNdx = /^\d+$/.test(r.ndx) ? Number(r.ndx) : r.ndx === "ABS" ? 0xfff1 : -1;
    const got = s && `${s.type}${s.ifunc ? "/ifunc" : ""} size ${s.size} ${s.binding} ndx ${s.shndx}${s.version ?? ""}`;
    const exp = `func${r.type === "IFUNC" ? "/ifunc" : ""} size ${r.size} ${r.bind.toLowerCase()} ndx ${wantNdx}${r.version ?? s?.version ?? ""}`;
    if (got !== exp) bad.push(`${r.name}${r.version ?? ""}@0x${r.value.toString(16)}: got ${got ?? "nothing"}, want ${exp}`);
  }
  expect(n, "readelf FUNC lines").toBeGreaterThan(0);
  expect(bad, `${bad.length} of ${n} FUNC symbols differ from readelf -sW: ${bad.slice(0, 5).join("; ")}`).toEqual([]);
}

/** Checks elf.segments against readelf -lW. */
function checkSegments(elf: ElfSymbols, file: string): void {
  const want = readelfLoads(file).map((l) => ({
    vaddr: l.vaddr, offset: l.offset, filesz: l.filesz, memsz: l.memsz,
    flags: (l.flags.includes("R") ? 4 : 0) | (l.flags.includes("W") ? 2 : 0) | (l.flags.includes("E") ? 1 : 0),
  }));
  expect(want.length, "readelf LOAD lines").toBeGreaterThan(0);
  expect(elf.segments, `segments: got ${JSON.stringify(elf.segments)}, want ${JSON.stringify(want)}`).toEqual(want);
}

// ---- the test program, three ways ----

describe.each(VARIANTS)("test program built $name", ({ name, type }) => {
  const file = built.get(name)!;
  const elf = readSymbols(file);
  const loads = readelfLoads(file);

  it(`is ${type}`, () => {
    expect(elf.type, `type: got ${elf.type}, want ${type}`).toBe(type);
    expect(elf.path).toBe(file);
  });

  it("symbols are nm --defined-only's (and nm -D's), by name and value", () => {
    const want = new Set([...nmSet(file, false), ...nmSet(file, true)]);
    const got = new Set(elf.symbols.map(symKey));
    expect(want.size, "nm lines").toBeGreaterThan(10);
    expect(got.size, `deduplicated: got ${elf.symbols.length} entries for ${got.size} (name, value) pairs`).toBe(elf.symbols.length);
    expect([...got].sort(), `symbols vs nm: ${setDiff(got, want)}`).toEqual([...want].sort());
  });

  it("FUNC symbols match readelf -sW (value, size, binding, section)", () => {
    checkFuncs(elf, readelfSyms(file));
  });

  it("PT_LOAD segments match readelf -lW", () => checkSegments(elf, file));

  it.each(OUR_FUNCS)("%s: file offset is readelf's segment math, and its bytes are objdump's first instruction", (fn) => {
    const syms = elf.symbols.filter((s) => s.name === fn);
    expect(syms.length, `symbols named ${fn}: got ${syms.length}, want 1`).toBe(1);
    const sym = syms[0]!;
    expect(sym.type, `${fn} type`).toBe("func");
    const r = resolveSpec(elf, fn);
    const wantOff = readelfOffset(loads, sym.value);
    expect(r, `resolveSpec(${fn})`).toEqual({ offset: wantOff, vaddr: sym.value, symbol: fn, symOff: 0 });
    expect(vaddrToOffset(elf, sym.value), `vaddrToOffset(0x${sym.value.toString(16)})`).toBe(wantOff);
    expect(offsetToVaddr(elf, r.offset), `offsetToVaddr(0x${r.offset.toString(16)})`).toBe(sym.value);

    const insns = objdumpInsns([`--disassemble=${fn}`, file]);
    expect(insns.length, `objdump instructions of ${fn}`).toBeGreaterThan(0);
    const first = insns[0]!;
    expect(first.addr, `objdump's first address of ${fn}: got 0x${first.addr.toString(16)}, want st_value 0x${sym.value.toString(16)}`).toBe(sym.value);
    const got = fileBytes(file, r.offset, first.bytes.length);
    expect(hexs(got), `bytes at file offset 0x${r.offset.toString(16)}: got ${hexs(got)}, want objdump's ${hexs(first.bytes)}`).toBe(hexs(first.bytes));

    // SYMBOL+OFF at the second instruction, in decimal and in hex.
    const second = insns[1]!;
    const len = second.addr - first.addr;
    for (const where of [`${fn}+${len}`, `${fn}+0x${len.toString(16)}`]) {
      const r2 = resolveSpec(elf, where);
      expect(r2, `resolveSpec(${where})`).toEqual({ offset: wantOff! + len, vaddr: second.addr, symbol: fn, symOff: len });
      const b2 = fileBytes(file, r2.offset, second.bytes.length);
      expect(hexs(b2), `${where}: got ${hexs(b2)}, want ${hexs(second.bytes)}`).toBe(hexs(second.bytes));
      // The same byte by file offset names the function it is in.
      expect(resolveSpec(elf, `0x${r2.offset.toString(16)}`), `resolveSpec(0x${r2.offset.toString(16)})`).toEqual(r2);
    }
  });

  it("vaddrToOffset and offsetToVaddr agree with readelf -lW at every segment's edges, and fail just outside", () => {
    for (const l of loads) {
      if (l.filesz === 0) continue;
      for (const va of [l.vaddr, l.vaddr + l.filesz - 1]) {
        expect(vaddrToOffset(elf, va), `vaddrToOffset(0x${va.toString(16)})`).toBe(readelfOffset(loads, va));
        expect(offsetToVaddr(elf, readelfOffset(loads, va)!), "round trip").toBe(va);
      }
    }
    const end = Math.max(...loads.map((l) => l.vaddr + l.memsz));
    expect(() => vaddrToOffset(elf, end + 0x10000), "past the last segment").toThrow(expect.objectContaining({ code: "EFAULT" }));
    const fileEnd = fs.statSync(file).size;
    expect(() => offsetToVaddr(elf, fileEnd + 1), "past the end of the file").toThrow(expect.objectContaining({ code: "EFAULT" }));
  });

  it("a .bss object has no file bytes: EFAULT; a .data object maps", () => {
    const counter = elf.symbols.find((s) => s.name === "counter")!;
    expect(counter?.type, "counter type").toBe("object");
    expect(() => vaddrToOffset(elf, counter.value)).toThrow(expect.objectContaining({ code: "EFAULT" }));
    expect(() => resolveSpec(elf, "counter")).toThrow(expect.objectContaining({ code: "EFAULT" }));
    const table = elf.symbols.find((s) => s.name === "table")!;
    expect(resolveSpec(elf, "table+4").offset, "table+4").toBe(readelfOffset(loads, table.value + 4));
  });

  it("probeableSymbols: our functions, sorted, one per address, all in executable file bytes", () => {
    const p = probeableSymbols(elf);
    const names = new Set(p.map((s) => s.name));
    for (const fn of OUR_FUNCS) expect(names.has(fn), `${fn} probeable`).toBe(true);
    expect(names.has("table") || names.has("counter"), "objects are not probeable").toBe(false);
    const exec = loads.filter((l) => l.flags.includes("E"));
    for (let k = 0; k < p.length; k++) {
      const s = p[k]!;
      expect(s.type === "func" && s.size > 0, `${s.name}: func with a size`).toBe(true);
      expect(exec.some((l) => s.value >= l.vaddr && s.value < l.vaddr + l.filesz), `${s.name} in an executable segment`).toBe(true);
      if (k > 0) expect(s.value, `${s.name} after ${p[k - 1]!.name}`).toBeGreaterThan(p[k - 1]!.value);
    }
  });

  it("the two static helpers make `helper` ambiguous (EAMBIG, with both file offsets)", () => {
    const helpers = elf.symbols.filter((s) => s.name === "helper");
    expect(helpers.length, `helper symbols: got ${helpers.length}, want 2`).toBe(2);
    const offs = helpers.map((h) => "0x" + vaddrToOffset(elf, h.value).toString(16));
    let err: unknown;
    try { resolveSpec(elf, "helper"); } catch (e) { err = e; }
    expect(err, "resolveSpec(helper)").toMatchObject({ code: "EAMBIG" });
    for (const o of offs) expect((err as Error).message, `message names ${o}`).toContain(o);
    // Either one can still be probed by file offset.
    for (const [k, o] of offs.entries()) {
      expect(resolveSpec(elf, o), `resolveSpec(${o})`).toEqual({ offset: Number(o), vaddr: helpers[k]!.value, symbol: "helper", symOff: 0 });
    }
  });
});

// ---- resolveSpec error cases ----

describe("resolveSpec errors", () => {
  const file = built.get("pie")!;
  const elf = readSymbols(file);
  const size = elf.symbols.find((s) => s.name === "compute_sum")!.size;
  it.each([
    { where: `compute_sum+${size}`, code: "ERANGE", has: [`compute_sum`, `size 0x${size.toString(16)}`] },
    { where: `compute_sum+0x${(size + 100).toString(16)}`, code: "ERANGE", has: ["compute_sum"] },
    { where: "compute_sun", code: "ENOSYM", has: [`no symbol compute_sun in ${file}`, "did you mean compute_sum"] },
    { where: "scale_vectr+2", code: "ENOSYM", has: [`no symbol scale_vectr in ${file}`, "did you mean scale_vector"] },
    { where: "zzqqxxyyww", code: "ENOSYM", has: [`no symbol zzqqxxyyww in ${file}`], hasNot: "did you mean" },
    { where: "compute_sum@@NOPE_1.0", code: "ENOSYM", has: ["no symbol compute_sum@@NOPE_1.0"] },
    { where: "0xffffff", code: "EFAULT", has: ["0xffffff"] },
    { where: "counter", code: "EFAULT", has: [] },
    { where: "helper", code: "EAMBIG", has: ["helper", "PATH:0xOFFSET"] },
    { where: "", code: "EBADSPEC", has: [] },
    { where: "compute_sum+", code: "EBADSPEC", has: [] },
    { where: "compute_sum+-4", code: "EBADSPEC", has: [] },
    { where: "0xzz", code: "EBADSPEC", has: [] },
    { where: "4096", code: "EBADSPEC", has: ["0x"] },
  ] as { where: string; code: string; has: string[]; hasNot?: string }[])("$where -> $code", ({ where, code, has, hasNot }) => {
    let err: unknown;
    try { resolveSpec(elf, where); } catch (e) { err = e; }
    expect((err as { code?: string })?.code, `resolveSpec(${JSON.stringify(where)}): got ${String(err)}, want code ${code}`).toBe(code);
    expect((err as Error).name).toBe("ProbeError");
    for (const h of has) expect((err as Error).message, `message has ${JSON.stringify(h)}`).toContain(h);
    if (hasNot) expect((err as Error).message).not.toContain(hasNot);
    expect((err as Error).message, "one line").not.toContain("\n");
  });

  it("the last byte of a symbol is in range", () => {
    const r = resolveSpec(elf, `compute_sum+${size - 1}`);
    expect(r.symOff, `symOff: got ${r.symOff}, want ${size - 1}`).toBe(size - 1);
  });
});

// ---- /bin/ls: stripped, dynamic ----

describe(`${LS} (stripped, dynamic)`, () => {
  const elf = readSymbols(LS);
  const loads = readelfLoads(LS);

  it("has no .symtab, and its symbols are exactly nm -D --defined-only's", () => {
    expect(run("readelf", ["-SW", LS]), "readelf -S").not.toMatch(/\.symtab\b/);
    expect(elf.type, "type").toBe("dyn");
    const want = nmSet(LS, true), got = new Set(elf.symbols.map(symKey));
    expect(want.size, "nm -D lines").toBeGreaterThan(0);
    expect([...got].sort(), `symbols vs nm -D: ${setDiff(got, want)}`).toEqual([...want].sort());
  });

  it("FUNC symbols match readelf -sW --dyn-syms", () => checkFuncs(elf, readelfSyms(LS, ["--dyn-syms"])));
  it("PT_LOAD segments match readelf -lW", () => checkSegments(elf, LS));

  it("each probeable function's bytes are objdump's at its address; copy-relocated objects in .bss are EFAULT", () => {
    const p = probeableSymbols(elf);
    expect(p.length, "probeable functions in /bin/ls").toBeGreaterThan(0);
    for (const s of p) {
      const r = resolveSpec(elf, s.name);
      expect(r.offset, `${s.name} offset`).toBe(readelfOffset(loads, s.value));
      const insns = objdumpInsns([`--start-address=0x${s.value.toString(16)}`, `--stop-address=0x${(s.value + 16).toString(16)}`, LS]);
      expect(insns[0]?.addr, `${s.name}: objdump's first address`).toBe(s.value);
      const want = insns.flatMap((i) => i.bytes), got = fileBytes(LS, r.offset, want.length);
      expect(hexs(got), `${s.name}: got ${hexs(got)}, want ${hexs(want)}`).toBe(hexs(want));
    }
    const bss = elf.symbols.filter((s) => readelfOffset(loads, s.value) === undefined);
    for (const s of bss) expect(() => vaddrToOffset(elf, s.value), `${s.name} in .bss`).toThrow(expect.objectContaining({ code: "EFAULT" }));
  });
});

// ---- libc.so.6 ----

describe(LIBC, () => {
  const elf = readSymbols(LIBC);
  const loads = readelfLoads(LIBC);
  const dynsyms = readelfSyms(LIBC, ["--dyn-syms"]);

  it("is dyn; FUNC and IFUNC symbols (with versions) match readelf -sW --dyn-syms", () => {
    expect(elf.type).toBe("dyn");
    checkFuncs(elf, dynsyms);
  });

  it("symbols are nm -D --defined-only's (plus nm's, if not stripped)", () => {
    const want = new Set([...nmSet(LIBC, false), ...nmSet(LIBC, true)]), got = new Set(elf.symbols.map(symKey));
    expect([...got].sort(), `symbols vs nm: ${setDiff(got, want)}`).toEqual([...want].sort());
  });

  it("PT_LOAD segments match readelf -lW", () => checkSegments(elf, LIBC));

  it.each(["strlen", "strlen+4", "malloc", "memcpy", "realpath", "realpath@GLIBC_2.2.5", "realpath@@GLIBC_2.3", "pthread_cond_wait+0x10", "dlopen", "dlopen@GLIBC_2.2.5"])(
    "%s resolves, and the bytes at its file offset are objdump's",
    (where) => {
      const [name, off = "0"] = where.split("+") as [string, string?];
      const [bare, ver] = name.includes("@") ? [name.slice(0, name.indexOf("@")), name.slice(name.indexOf("@"))] : [name, undefined];
      // readelf's choice: the named version, else the default (@@) one.
      const want = dynsyms.find((s) => s.name === bare && (ver ? s.version === ver : s.version?.startsWith("@@") ?? true));
      expect(want, `readelf has ${name}`).toBeDefined();
      const vaddr = want!.value + Number(off);
      const r = resolveSpec(elf, where);
      expect(r, `resolveSpec(${where})`).toEqual({ offset: readelfOffset(loads, vaddr), vaddr, symbol: bare, symOff: Number(off) });
      const insns = objdumpInsns([`--start-address=0x${vaddr.toString(16)}`, `--stop-address=0x${(vaddr + 16).toString(16)}`, LIBC]);
      expect(insns[0]?.addr, `objdump's first address for ${where}`).toBe(vaddr);
      const wantBytes = insns.flatMap((i) => i.bytes), got = fileBytes(LIBC, r.offset, wantBytes.length);
      expect(hexs(got), `${where} at file offset 0x${r.offset.toString(16)}: got ${hexs(got)}, want objdump's ${hexs(wantBytes)}`).toBe(hexs(wantBytes));
    },
  );

  it("strlen is an IFUNC (a probe on it is a probe on the resolver)", () => {
    const s = elf.symbols.find((x) => x.name === "strlen")!;
    expect({ type: s.type, ifunc: s.ifunc }, "strlen").toEqual({ type: "func", ifunc: true });
  });

  it("probeableSymbols picks one name per address, preferring the public one", () => {
    const p = probeableSymbols(elf);
    const addrs = new Set(p.map((s) => s.value));
    expect(addrs.size, `unique addresses: got ${addrs.size} for ${p.length} symbols`).toBe(p.length);
    const malloc = elf.symbols.find((s) => s.name === "malloc")!;
    const at = p.find((s) => s.value === malloc.value);
    expect(at?.name, `name kept at malloc's address: got ${at?.name}, want malloc`).toBe("malloc");
  });
});

// ---- parseProbeSpec ----

describe("parseProbeSpec", () => {
  it.each([
    { spec: "/bin/ls:main", want: { ret: false, path: "/bin/ls", where: "main" } },
    { spec: "ret:/bin/ls:main", want: { ret: true, path: "/bin/ls", where: "main" } },
    { spec: "libc.so.6:strlen+4", want: { ret: false, path: "libc.so.6", where: "strlen+4" } },
    { spec: "libc.so.6:strlen+0x1f", want: { ret: false, path: "libc.so.6", where: "strlen+0x1f" } },
    { spec: "ret:libc.so.6:strlen+0", want: { ret: true, path: "libc.so.6", where: "strlen+0" } },
    { spec: "/lib/libc.so.6:0x9f1c0", want: { ret: false, path: "/lib/libc.so.6", where: "0x9f1c0" } },
    { spec: "ret:./prog:0x1129", want: { ret: true, path: "./prog", where: "0x1129" } },
    { spec: "./a:b:foo", want: { ret: false, path: "./a:b", where: "foo" } },
    { spec: "./ret:main", want: { ret: false, path: "./ret", where: "main" } },
    { spec: "x:realpath@GLIBC_2.2.5", want: { ret: false, path: "x", where: "realpath@GLIBC_2.2.5" } },
    { spec: "x:_ZN3foo3barEv+8", want: { ret: false, path: "x", where: "_ZN3foo3barEv+8" } },
  ])("$spec", ({ spec, want }) => {
    const got = parseProbeSpec(spec);
    expect(got, `parseProbeSpec(${spec}): got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`).toEqual(want);
  });

  it.each([
    "", "main", "ret:", "ret:main", ":main", "ret::main", "/bin/ls:", "ret:/bin/ls:",
    "x:foo+", "x:+4", "x:foo+0xzz", "x:foo+-1", "x:foo+1.5", "x:0x", "x:0xg1", "x:123", "x:foo bar",
    "x:@GLIBC_2.2.5", "x:foo@", "x:foo@@", "ret:/bin/ls:main+4", "ret:/bin/ls:main+0x10",
  ])("%j -> EBADSPEC", (spec) => {
    let err: unknown;
    try { parseProbeSpec(spec); } catch (e) { err = e; }
    expect((err as { code?: string })?.code, `parseProbeSpec(${JSON.stringify(spec)}): got ${String(err)}, want EBADSPEC`).toBe("EBADSPEC");
    expect((err as Error).message, "one line").not.toContain("\n");
  });
});

// ---- readSymbols on files that are not usable ELF ----

describe("readSymbols rejects unusable files", () => {
  const good = fs.readFileSync(built.get("pie")!);
  const put = (name: string, bytes: Uint8Array | string) => { const p = path.join(dir, name); fs.writeFileSync(p, bytes); return p; };
  const patched = (edit: (b: Buffer) => void) => { const b = Buffer.from(good); edit(b); return b; };
  const shoff = Number(good.readBigUInt64LE(40)), shnum = good.readUInt16LE(60);
  /** Section header index of the first section of `type`. */
  const sectionOf = (type: number) => [...Array(shnum).keys()].find((k) => good.readUInt32LE(shoff + k * 64 + 4) === type)!;
  const obj = path.join(dir, "other.o");
  run("gcc", ["-c", "-O1", "-o", obj, path.join(dir, "other.c")]);

  it.each([
    { what: "a text file", file: () => put("text", "#!/bin/sh\necho hi\n"), code: "ENOEXEC", has: "not an ELF file" },
    { what: "an empty file", file: () => put("empty", ""), code: "ENOEXEC", has: "not an ELF file" },
    { what: "the first 40 bytes", file: () => put("cut40", good.subarray(0, 40)), code: "ENOEXEC", has: "truncated" },
    { what: "the first 1000 bytes", file: () => put("cut1000", good.subarray(0, 1000)), code: "ENOEXEC", has: "truncated" },
    { what: "all but the last 100 bytes (section headers)", file: () => put("cutend", good.subarray(0, good.length - 100)), code: "ENOEXEC", has: "truncated" },
    { what: "a 32-bit class byte", file: () => put("class32", patched((b) => { b[4] = 1; })), code: "ENOEXEC", has: "64-bit" },
    { what: "big-endian data byte", file: () => put("be", patched((b) => { b[5] = 2; })), code: "ENOEXEC", has: "little-endian" },
    { what: "e_machine aarch64", file: () => put("arm", patched((b) => b.writeUInt16LE(183, 18))), code: "ENOEXEC", has: "aarch64" },
    { what: "a relocatable object", file: () => obj, code: "ENOEXEC", has: "relocatable" },
    { what: "a corrupt e_phentsize", file: () => put("phent", patched((b) => b.writeUInt16LE(32, 54))), code: "ENOEXEC", has: "program headers" },
    { what: "a corrupt e_shentsize", file: () => put("shent", patched((b) => b.writeUInt16LE(40, 58))), code: "ENOEXEC", has: "section headers" },
    { what: "e_shoff past the end", file: () => put("shoff", patched((b) => b.writeBigUInt64LE(BigInt(good.length + 4096), 40))), code: "ENOEXEC", has: "section headers" },
    {
      what: "a .symtab with sh_entsize 16", code: "ENOEXEC", has: ".symtab",
      file: () => put("symentsize", patched((b) => b.writeBigUInt64LE(16n, shoff + sectionOf(2) * 64 + 56))),
    },
    {
      what: "a .symtab past the end of the file", code: "ENOEXEC", has: ".symtab",
      file: () => put("symoff", patched((b) => b.writeBigUInt64LE(BigInt(good.length), shoff + sectionOf(2) * 64 + 24))),
    },
    {
      what: "a .dynsym whose sh_link is not a string table", code: "ENOEXEC", has: ".dynsym",
      file: () => put("dynlink", patched((b) => b.writeUInt32LE(sectionOf(11), shoff + sectionOf(11) * 64 + 40))),
    },
    { what: "a missing file", file: () => path.join(dir, "no-such-file"), code: "ENOENT", has: "no-such-file" },
    { what: "a directory", file: () => dir, code: "EISDIR", has: "directory" },
  ])("$what -> $code", ({ file, code, has }) => {
    const p = file();
    let err: unknown;
    try { readSymbols(p); } catch (e) { err = e; }
    expect((err as { code?: string })?.code, `readSymbols(${p}): got ${String(err)}, want ${code}`).toBe(code);
    expect((err as Error).name).toBe("ProbeError");
    const msg = (err as Error).message;
    expect(msg, `message: got ${JSON.stringify(msg)}, want it to contain ${JSON.stringify(has)}`).toContain(has);
    expect(msg, "one line").not.toContain("\n");
    expect(msg, "names the file").toContain(p);
  });
});
