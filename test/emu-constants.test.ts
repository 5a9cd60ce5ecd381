/**
 * Every Unicorn constant in emu/constants.ts, checked against each engine
 * build's own headers: a tiny C program is compiled with gcc against that
 * build's include directory (no libunicorn link needed: it only prints
 * enum and macro values) and prints them as JSON.
 *
 * Builds: Debian's libunicorn-dev (2.0.1) in /usr/include/unicorn, and the
 * project's 2.1.4 wheel in vendor/unicorn/unicorn/include/unicorn, and
 * faultline's own 2.1.4 build in vendor/unicorn-fl/include/unicorn. A build
 * whose headers are absent is skipped, with the reason in the test name.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CPU_STATE_LAYOUT_VERSION, StateLayout } from "../emu/cpu-view.js";
import {
  Reg, UC_ARCH_X86, UC_CTL_CPU_STATE, UC_CTL_IO_READ, UC_CTL_IO_WRITE, UC_CTL_TB_FLUSH, UC_CTL_TB_REMOVE_CACHE, UC_ERR_NAMES, UC_HOOK_INSN,
  UC_HOOK_INTR, UC_HOOK_MEM_INVALID, UC_MODE_64, UC_PROT_ALL, UC_QUERY_TIMEOUT, UC_X86_INS_SYSCALL, ucCtlRead, ucCtlWrite,
} from "../emu/constants.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** One engine build: where its headers are, and how else we know its version. */
interface Build {
  label: string;
  /** The directory that holds unicorn/unicorn.h (passed to gcc -I). */
  includeParent: string;
  /** The build's version from its packaging (dpkg, wheel metadata), when known. */
  packagedVersion: () => string | undefined;
  /** Values only this build's headers have (faultline's patches), checked besides scalarRows. */
  ownRows?: Row[];
}

/** "2.0.1" from a dpkg package version such as "2.0.1.post1-1+b1". */
function dpkgVersion(pkg: string): string | undefined {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  return /^(\d+\.\d+\.\d+)/.exec(r.stdout.trim())?.[1];
}

/** "2.1.4" from vendor/unicorn/unicorn-2.1.4.dist-info. */
function wheelVersion(): string | undefined {
  const dir = path.join(root, "vendor", "unicorn");
  if (!fs.existsSync(dir)) return undefined;
  for (const name of fs.readdirSync(dir)) {
    const m = /^unicorn-(\d+\.\d+\.\d+)\.dist-info$/.exec(name);
    if (m) return m[1];
  }
  return undefined;
}

/** "major.minor.patch" from a unicorn.h's UC_API_* defines (for test names only). */
function headerVersionText(unicornH: string): string {
  const text = fs.readFileSync(unicornH, "utf8");
  const part = (p: string) => new RegExp(`#define\\s+UC_API_${p}\\s+(\\d+)`).exec(text)?.[1] ?? "?";
  return `${part("MAJOR")}.${part("MINOR")}.${part("PATCH")}`;
}

/** uc_cpu_state_layout's members (patch 0004's unicorn.h) and the word cpu-view.ts reads each from. */
const STATE_LAYOUT_FIELDS: Record<string, StateLayout> = {
  version: StateLayout.Version, size: StateLayout.Size, gpr: StateLayout.Gpr, pc: StateLayout.Pc, flags: StateLayout.Flags,
  fault_addr: StateLayout.FaultAddr, error_code: StateLayout.ErrorCode, old_exception: StateLayout.OldException,
};

const builds: Build[] = [
  { label: "system build (Debian libunicorn-dev)", includeParent: "/usr/include", packagedVersion: () => dpkgVersion("libunicorn-dev") },
  {
    label: "project build (vendor, official wheel)",
    includeParent: path.join(root, "vendor", "unicorn", "unicorn", "include"),
    packagedVersion: wheelVersion,
  },
  {
    label: "faultline's build (vendor/unicorn-fl, from third_party/unicorn)",
    includeParent: path.join(root, "vendor", "unicorn-fl", "include"),
    packagedVersion: () => /unicorn-(\d+\.\d+\.\d+)-pruned\.tar\.xz/.exec(fs.readdirSync(path.join(root, "third_party", "unicorn")).join(" "))?.[1],
    ownRows: [
      { name: "UC_CTL_CPU_STATE", ts: UC_CTL_CPU_STATE, c: "UC_CTL_CPU_STATE" },
      { name: "ucCtlRead(UC_CTL_CPU_STATE, 2)", ts: ucCtlRead(UC_CTL_CPU_STATE, 2), c: "(int)UC_CTL_READ(UC_CTL_CPU_STATE, 2)" },
      { name: "UC_CPU_STATE_LAYOUT_VERSION", ts: CPU_STATE_LAYOUT_VERSION, c: "UC_CPU_STATE_LAYOUT_VERSION" },
      ...Object.entries(STATE_LAYOUT_FIELDS).map(([k, field]) => ({
        name: `StateLayout.${StateLayout[field]}`, ts: field, c: `offsetof(uc_cpu_state_layout, ${k}) / 4`,
      })),
      { name: "StateLayout.Words", ts: StateLayout.Words, c: "sizeof(uc_cpu_state_layout) / 4" },
    ],
  },
];

/** One checked value: the TS side, and the C expression giving the header's value. */
interface Row {
  name: string;
  ts: number;
  c: string;
}

const scalarRows: Row[] = [
  { name: "UC_ARCH_X86", ts: UC_ARCH_X86, c: "UC_ARCH_X86" },
  { name: "UC_MODE_64", ts: UC_MODE_64, c: "UC_MODE_64" },
  { name: "UC_PROT_ALL", ts: UC_PROT_ALL, c: "UC_PROT_ALL" },
  { name: "UC_HOOK_INTR", ts: UC_HOOK_INTR, c: "UC_HOOK_INTR" },
  { name: "UC_HOOK_INSN", ts: UC_HOOK_INSN, c: "UC_HOOK_INSN" },
  { name: "UC_HOOK_MEM_INVALID", ts: UC_HOOK_MEM_INVALID, c: "UC_HOOK_MEM_INVALID" },
  { name: "UC_CTL_TB_REMOVE_CACHE", ts: UC_CTL_TB_REMOVE_CACHE, c: "UC_CTL_TB_REMOVE_CACHE" },
  { name: "UC_CTL_TB_FLUSH", ts: UC_CTL_TB_FLUSH, c: "UC_CTL_TB_FLUSH" },
  { name: "UC_CTL_IO_WRITE", ts: UC_CTL_IO_WRITE, c: "UC_CTL_IO_WRITE" },
  { name: "UC_CTL_IO_READ", ts: UC_CTL_IO_READ, c: "UC_CTL_IO_READ" },
  { name: "UC_X86_INS_SYSCALL", ts: UC_X86_INS_SYSCALL, c: "UC_X86_INS_SYSCALL" },
  { name: "UC_QUERY_TIMEOUT", ts: UC_QUERY_TIMEOUT, c: "UC_QUERY_TIMEOUT" },
  ...Object.entries(Reg).map(([k, v]) => ({ name: `Reg.${k}`, ts: v as number, c: `UC_X86_REG_${k}` })),
  {
    name: "ucCtlWrite(UC_CTL_TB_REMOVE_CACHE, 2)",
    ts: ucCtlWrite(UC_CTL_TB_REMOVE_CACHE, 2),
    c: "(unsigned int)UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2)",
  },
  { name: "ucCtlWrite(UC_CTL_TB_FLUSH, 0)", ts: ucCtlWrite(UC_CTL_TB_FLUSH, 0), c: "(unsigned int)UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0)" },
];

/** The enumerators of `typedef enum uc_err {...}` in the preprocessed header. */
function errEnumerators(preprocessed: string): string[] {
  const body = /typedef\s+enum\s+uc_err\s*\{([^}]*)\}\s*uc_err\s*;/.exec(preprocessed)?.[1];
  if (body === undefined) throw new Error("uc_err enum not found in the preprocessed unicorn.h");
  return body.split(",").map((s) => /^\s*(UC_ERR_\w+)/.exec(s)?.[1]).filter((s): s is string => s !== undefined);
}

function cProgram(rows: { name: string; c: string }[]): string {
  const lines = rows.map((r) => `  printf("\\"%s\\": %lld,\\n", "${r.name}", (long long)(${r.c}));`);
  return [
    "#include <stddef.h>",
    "#include <stdio.h>",
    "#include <unicorn/unicorn.h>",
    "int main(void) {",
    '  printf("{\\n");',
    ...lines,
    '  printf("\\"UC_API\\": \\"%d.%d.%d\\"\\n}\\n", UC_API_MAJOR, UC_API_MINOR, UC_API_PATCH);',
    "  return 0;",
    "}",
    "",
  ].join("\n");
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

for (const b of builds) {
  const unicornH = path.join(b.includeParent, "unicorn", "unicorn.h");
  const x86H = path.join(b.includeParent, "unicorn", "x86.h");
  if (!fs.existsSync(unicornH) || !fs.existsSync(x86H)) {
    describe(b.label, () => {
      it.skip(`skipped: headers absent (${unicornH}); install libunicorn-dev / run scripts/setup.sh`, () => {});
    });
    continue;
  }

  describe(`${b.label}: Unicorn ${headerVersionText(unicornH)} headers in ${path.dirname(unicornH)}`, () => {
    /** Values printed by the compiled program, by row name. */
    let header: Record<string, number | string> = {};
    /** The header's uc_err enumerators, in order. */
    let errNames: string[] = [];

    beforeAll(() => {
      const gcc = spawnSync("gcc", ["--version"], { encoding: "utf8" });
      if (gcc.status !== 0) throw new Error("gcc not found (got no gcc, want one on PATH; run scripts/setup.sh)");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-uc-const-"));
      tmpDirs.push(dir);
      const inc = ["-I", b.includeParent];
      const probe = path.join(dir, "probe.c");
      fs.writeFileSync(probe, "#include <unicorn/unicorn.h>\n");
      const pre = execFileSync("gcc", ["-E", "-P", ...inc, probe], { encoding: "utf8", maxBuffer: 64 << 20 });
      errNames = errEnumerators(pre);
      const errRows = errNames.map((n) => ({ name: n, c: n }));
      const src = path.join(dir, "consts.c");
      const exe = path.join(dir, "consts");
      fs.writeFileSync(src, cProgram([...scalarRows, ...(b.ownRows ?? []), ...errRows]));
      const cc = spawnSync("gcc", ["-std=gnu11", ...inc, "-o", exe, src], { encoding: "utf8" });
      if (cc.status !== 0) throw new Error(`gcc failed on ${src} (got exit ${cc.status}, want 0):\n${cc.stderr}`);
      header = JSON.parse(execFileSync(exe, { encoding: "utf8" })) as Record<string, number | string>;
    });

    it("the compiled headers are this build's (version matches its packaging)", () => {
      const got = String(header.UC_API);
      expect(got, `header UC_API_*: got ${got}, want "2.x.y"`).toMatch(/^2\.\d+\.\d+$/);
      const want = b.packagedVersion();
      if (want !== undefined) expect(got, `header version: got ${got}, want ${want} (from packaging)`).toBe(want);
    });

    it.each([...scalarRows, ...(b.ownRows ?? [])])("$name matches $c", (row) => {
      const want = header[row.name];
      expect(row.ts, `${row.name}: got ${row.ts} (TS), want ${want} (${row.c} in ${unicornH})`).toBe(want);
    });

    it.each(UC_ERR_NAMES.map((name, index) => ({ name, index })))("UC_ERR_NAMES[$index] = $name", ({ name, index }) => {
      if (errNames.includes(name)) {
        const want = header[name];
        expect(index, `${name}: got index ${index} in UC_ERR_NAMES, want ${want} (the header's value)`).toBe(want);
      } else {
        // Only allowed for codes newer than this build: it can never return them.
        const max = errNames.length - 1;
        expect(index, `${name} absent from this build's uc_err: got index ${index}, want > ${max} (beyond its last code)`)
          .toBeGreaterThan(max);
      }
    });

    it("every uc_err enumerator of the header is named in UC_ERR_NAMES at its value", () => {
      const missing = errNames.filter((n) => (UC_ERR_NAMES as readonly string[])[header[n] as number] !== n);
      expect(missing, `misnamed or missing in UC_ERR_NAMES: got [${missing.join(", ")}], want []`).toEqual([]);
      expect(errNames.length, `uc_err enumerators: got ${errNames.length}, want > 20`).toBeGreaterThan(20);
    });
  });
}
