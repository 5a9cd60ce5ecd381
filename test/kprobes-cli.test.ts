/**
 * The probe options of the faultline command, as a user meets them: run
 * the built CLI (bin/faultline.mjs over dist/, made by scripts/setup.sh or
 * `npx tsc -p .`) in a child process.
 *
 * - `--probe SPEC`: one "probe SPEC hits N" line per probe on stderr at
 *   exit; the guest's stdout and exit status are the native run's.
 * - `--probe-trace`: one line per hit, "[SECONDS] [pid N] probe SPEC rip 0xADDR
 *   args A1 .. A6" (return probes: "[SECONDS] [pid N] probe ret:SPEC returned 0xV").
 * - `faultline symbols PATH`: "0xOFFSET SIZE NAME" per function, checked
 *   against nm -S and readelf -lW.
 * - bad specs: one line on stderr, no stack trace; exit 2 for a malformed
 *   SPEC (a usage error), 1 for a probe that cannot be placed, as the help says.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { scratchDir } from "./support/guest.js";

const root = path.resolve(__dirname, "..");
const dir = scratchDir();
const SRC = path.join(__dirname, "programs", "probe_work.c");
const STATIC = path.join(dir, "work-static");
const PIE = path.join(dir, "work-pie");
execFileSync("gcc", ["-O1", "-fno-optimize-sibling-calls", "-static", "-o", STATIC, SRC]);
execFileSync("gcc", ["-O1", "-fno-optimize-sibling-calls", "-o", PIE, SRC]);
const LIBC = (() => {
  const m = /libc\.so\.6 => (\S+)/.exec(execFileSync("ldd", [PIE], { encoding: "utf8" }));
  return m ? m[1] : "/lib/x86_64-linux-gnu/libc.so.6";
})();

function faultline(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, "bin", "faultline.mjs"), ...args], { encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function native(bin: string, ...args: string[]) {
  const r = spawnSync(bin, args, { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout };
}

/** nm -S: name (without @VERSION) -> every {value, size} of that name among defined text symbols. */
function nmSizes(bin: string, dynamic = false): Map<string, { value: number; size: number }[]> {
  const out = execFileSync("nm", [...(dynamic ? ["-D"] : []), "-S", "--defined-only", bin], { encoding: "utf8", maxBuffer: 64 << 20 });
  const m = new Map<string, { value: number; size: number }[]>();
  for (const line of out.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 4 || !/^[TtWwi]$/.test(f[2])) continue;
    const name = f[3].replace(/@.*/, "");
    m.set(name, [...(m.get(name) ?? []), { value: parseInt(f[0], 16), size: parseInt(f[1], 16) }]);
  }
  return m;
}

/** readelf -lW: the PT_LOAD segments. */
function loads(bin: string) {
  return execFileSync("readelf", ["-lW", bin], { encoding: "utf8" }).split("\n").filter((l) => /^\s+LOAD/.test(l)).map((l) => {
    const f = l.trim().split(/\s+/);
    return { offset: parseInt(f[1], 16), vaddr: parseInt(f[2], 16), filesz: parseInt(f[4], 16) };
  });
}

const noStack = (s: string) => !/^\s+at /m.test(s);

describe("--probe", () => {
  const n = 4;
  it.each([
    { name: "static", bin: STATIC },
    { name: "PIE", bin: PIE },
  ])("$name: one 'probe SPEC hits N' line per probe on stderr; stdout and exit status as native", ({ bin }) => {
    const want = native(bin, String(n));
    const specs = [`${bin}:work`, `${bin}:twice`, `ret:${bin}:twice`, `${bin}:unused`, `${bin}:main`];
    const r = faultline("run", ...specs.flatMap((s) => ["--probe", s]), bin, String(n));
    expect(r.stdout, "stdout: got vs want (native)").toBe(want.stdout);
    expect(r.status, `exit: got ${r.status}, want ${want.status}; stderr ${r.stderr}`).toBe(want.status);
    const lines = r.stderr.trim().split("\n");
    const counts = { [`${bin}:work`]: 2 * n, [`${bin}:twice`]: n, [`ret:${bin}:twice`]: n, [`${bin}:unused`]: 0, [`${bin}:main`]: 1 };
    expect(lines, "stderr: exactly the probe lines, in --probe order").toEqual(specs.map((s) => `probe ${s} hits ${counts[s]}`));
  });

  it("a probe in libc.so.6 of a dynamically linked program (PATH is the library)", () => {
    const want = native(PIE, String(n));
    const r = faultline("run", "--probe", `${LIBC}:printf`, PIE, String(n));
    expect(r.stdout).toBe(want.stdout);
    expect(r.status).toBe(want.status);
    expect(r.stderr, "printf is called once").toBe(`probe ${LIBC}:printf hits 1\n`);
  });

  it("PATH:0xFILEOFFSET names the same instruction as PATH:SYMBOL", () => {
    const line = execFileSync(process.execPath, [path.join(root, "bin", "faultline.mjs"), "symbols", STATIC], { encoding: "utf8" })
      .split("\n").find((l) => / work$/.test(l))!;
    const off = line.split(/\s+/)[0];
    const r = faultline("run", "--probe", `${STATIC}:${off}`, STATIC, String(n));
    expect(r.stderr).toBe(`probe ${STATIC}:${off} hits ${2 * n}\n`);
  });
});

describe("--probe-trace", () => {
  it("one line per hit: [SECONDS] probe SPEC rip 0xADDR args (six registers); return probes: returned 0xVALUE", () => {
    const n = 3;
    const r = faultline("run", "--probe", `${STATIC}:work`, "--probe", `ret:${STATIC}:twice`, "--probe-trace", STATIC, String(n));
    expect(r.status).toBe(native(STATIC, String(n)).status);
    const lines = r.stderr.trim().split("\n");
    const entry = /^\[(\d+\.\d{6})\] \[pid 1\] probe (\S+) rip (0x[0-9a-f]+) args((?: 0x[0-9a-f]+){6})$/;
    const ret = /^\[(\d+\.\d{6})\] \[pid 1\] probe (ret:\S+) returned (0x[0-9a-f]+)$/;
    const trace = lines.filter((l) => l.startsWith("["));
    for (const l of trace) expect(entry.test(l) || ret.test(l), `trace line format: ${JSON.stringify(l)}`).toBe(true);
    expect(lines.slice(trace.length), "then the hit counts").toEqual([`probe ${STATIC}:work hits ${2 * n}`, `probe ret:${STATIC}:twice hits ${n}`]);
    const times = trace.map((l) => Number(/^\[([\d.]+)\]/.exec(l)![1]));
    expect([...times].sort((a, b) => a - b), "times never go back").toEqual(times);
    // what the program does: twice(i) calls work(i), work(i+1), and returns (3i+7)+(3i+10)
    const workAddr = nmSizes(STATIC).get("work")![0].value;
    const want: string[] = [];
    for (let i = 0; i < n; i++) {
      want.push(`work ${i}`, `work ${i + 1}`, `twice => ${6 * i + 17}`);
    }
    const got = trace.map((l) => {
      const e = entry.exec(l);
      if (e) {
        expect(Number(e[3]), `rip of work: got ${e[3]}, want 0x${workAddr.toString(16)}`).toBe(workAddr);
        return `work ${Number(e[4].trim().split(" ")[0])}`;
      }
      return `twice => ${Number(ret.exec(l)![3])}`;
    });
    expect(got, "the hits in order, with the first argument and the return value").toEqual(want);
  });
});

describe("faultline symbols PATH", () => {
  it.each([
    { name: "static", bin: STATIC, dynamic: false },
    { name: "PIE", bin: PIE, dynamic: false },
    { name: "libc.so.6 (stripped: .dynsym)", bin: LIBC, dynamic: true },
  ])("$name: 0xOFFSET SIZE NAME lines; offsets and sizes agree with nm -S and readelf -lW", ({ bin, dynamic }) => {
    const r = faultline("symbols", bin);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    for (const l of lines) expect(l, "line format").toMatch(/^0x[0-9a-f]{8,} +\d+ \S+$/);
    const listed = lines.map((l) => {
      const [off, size, name] = l.trim().split(/\s+/);
      return { name, offset: parseInt(off, 16), size: Number(size) };
    });
    const nm = nmSizes(bin, dynamic);
    const segs = loads(bin);
    const fileOffset = (vaddr: number) => {
      const seg = segs.find((g) => vaddr >= g.vaddr && vaddr < g.vaddr + g.filesz);
      return seg ? vaddr - seg.vaddr + seg.offset : -1;
    };
    /** nm's definitions of `name` as (file offset, size). */
    const wantOf = (name: string) => (nm.get(name) ?? []).map((d) => ({ offset: fileOffset(d.value), size: d.size }));
    const known = dynamic ? ["malloc", "printf", "strlen", "memcpy", "fopen"] : ["work", "twice", "unused", "main"];
    for (const name of known) {
      const got = listed.filter((s) => s.name === name).map(({ offset, size }) => ({ offset, size }));
      expect(got.length, `${name} listed`).toBeGreaterThan(0);
      // every definition nm knows is listed (memcpy has two versions at two addresses: both are)
      expect(got, `${name}: (offset, size) got vs want (nm -S + readelf -lW)`).toEqual(expect.arrayContaining(wantOf(name)));
      expect(got.length, `${name}: one line per definition`).toBe(wantOf(name).length);
    }
    // and every listed function is one of nm's definitions of its name
    let checked = 0;
    for (const s of listed) {
      const want = wantOf(s.name);
      if (want.length === 0) continue; // an alias nm prints under another name at that address
      expect(want, `${s.name} at 0x${s.offset.toString(16)} size ${s.size}: one of nm's definitions`).toContainEqual({ offset: s.offset, size: s.size });
      checked++;
    }
    expect(checked, "functions cross-checked").toBeGreaterThan(dynamic ? 500 : 3);
  });

  it("symbols without PATH: usage error, exit 2, one line", () => {
    const r = faultline("symbols");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("faultline: symbols: want exactly one PATH\n");
  });

  // When the reader goes away (EPIPE), faultline stops quietly, as filters do.
  it("`faultline symbols libc.so.6 | head -1` prints no internal error", () => {
    const r = spawnSync("bash", ["-c", `node ${path.join(root, "bin", "faultline.mjs")} symbols ${LIBC} | head -1`], { encoding: "utf8" });
    expect(r.stdout.split("\n").length, "one line through head").toBe(2);
    expect(r.stderr, "stderr").toBe("");
  });
});

describe("bad specs: one line on stderr, no stack trace, non-zero exit, the program not run", () => {
  const BAD = [
    { spec: "work-static", code: "EBADSPEC", text: /bad probe spec "work-static": no PATH:/ },
    { spec: ":work", code: "EBADSPEC", text: /empty PATH/ },
    { spec: "@BIN:", code: "EBADSPEC", text: /empty location after PATH:/ },
    { spec: "@BIN:12", code: "EBADSPEC", text: /a file offset is written in hex: 0x\.\.\./ },
    { spec: "@BIN:work+zz", code: "EBADSPEC", text: /want SYMBOL\+OFF with OFF in decimal or 0x hex/ },
    { spec: "ret:@BIN:work+4", code: "EBADSPEC", text: /a return probe goes at a function's entry/ },
    { spec: "@BIN:wrok", code: "ENOSYM", text: /no symbol wrok in .* \(did you mean .*work.*\?\)/ },
    { spec: "@BIN:no_such_function", code: "ENOSYM", text: /no symbol no_such_function in / },
    { spec: "@BIN:work+1", code: "ENOTBOUNDARY", text: /\(work\+0x1\) is not the start of an instruction/ },
    { spec: "@BIN:work+0x1000", code: "ERANGE", text: /past the end of work/ },
    { spec: "@BIN:0x7fffffff", code: "EFAULT", text: /file offset 0x7fffffff is not in any loadable segment/ },
    { spec: "/no/such/file:work", code: "ENOENT", text: /no such file or directory/ },
    { spec: "/etc/passwd:work", code: "ENOEXEC", text: /not an ELF file/ },
  ];
  it.each(BAD)("$spec: $code", ({ spec, code, text }) => {
    const s = spec.replace("@BIN", STATIC);
    const r = faultline("run", "--probe", s, STATIC, "3");
    expect(r.stdout, "the program did not run").toBe("");
    expect(r.status, `exit status: got ${r.status}`).not.toBe(0);
    expect(r.status, "not a crash").not.toBeNull();
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    expect(lines, `one line: ${JSON.stringify(r.stderr)}`).toHaveLength(1);
    expect(noStack(r.stderr), "no stack trace").toBe(true);
    expect(lines[0]).toMatch(new RegExp(`^faultline: .*\\[${code}\\]$`));
    expect(lines[0]).toMatch(text);
    // A malformed SPEC is a usage error (2); a probe that cannot be placed is 1.
    const want = code === "EBADSPEC" ? 2 : 1;
    expect(r.status, `exit status: got ${r.status}, want ${want}`).toBe(want);
  });
});
