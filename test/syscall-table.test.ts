/**
 * The system-call table's names and its documentation: names.ts against the
 * installed asm/unistd_64.h (the ground truth), emu/syscalls/README.md's
 * generated section against the table (stale means: run
 * `node scripts/syscall-table.mjs`), and the warning an unimplemented call
 * gives, which names it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ENOSYS_ON_PURPOSE, SYSCALLS } from "../emu/syscalls/index.js";
import { SYSCALL_NAMES } from "../emu/syscalls/names.js";
import { withTable } from "../emu/syscalls/table-doc.js";
import { REPO, buildC, expectSameRun, runFaultline, runNative } from "./support/native.js";

const HEADER = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";

/** `#define __NR_name nr` lines of the header. */
function headerNames(): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of fs.readFileSync(HEADER, "utf8").matchAll(/^#define __NR_(\w+) (\d+)$/gm)) out.set(Number(m[2]), m[1]);
  return out;
}

describe("syscall names", () => {
  it(`names.ts is ${HEADER}, number for number`, () => {
    const want = headerNames();
    expect(want.size, "the header defines calls").toBeGreaterThan(300);
    expect([...SYSCALL_NAMES].sort((a, b) => a[0] - b[0])).toEqual([...want].sort((a, b) => a[0] - b[0]));
  });

  it("every handler's name is the header's name of its number", () => {
    const want = headerNames();
    const wrong = [...SYSCALLS].filter(([nr, e]) => want.get(nr) !== e.name).map(([nr, e]) => `${nr}: got ${e.name}, want ${want.get(nr)}`);
    expect(wrong).toEqual([]);
  });

  it("no call is both implemented and ENOSYS on purpose", () => {
    expect([...ENOSYS_ON_PURPOSE.keys()].filter((nr) => SYSCALLS.has(nr))).toEqual([]);
  });
});

describe("emu/syscalls/README.md", () => {
  it("its generated table is the table's (else run: npx tsc -p tsconfig.json && node scripts/syscall-table.mjs)", () => {
    const readme = fs.readFileSync(path.join(REPO, "emu", "syscalls", "README.md"), "utf8");
    expect(readme, "README.md is stale").toBe(withTable(readme));
  });

  it("has one row per syscall number of the header", () => {
    const readme = fs.readFileSync(path.join(REPO, "emu", "syscalls", "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\| (\d+) \| `(\w+)` \|/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(rows).toEqual([...headerNames()].sort((a, b) => a[0] - b[0]));
  });
});

describe("unimplemented calls", () => {
  const prog = () => buildC(path.join(REPO, "guest", "nosys.c"), "nolibc");

  it("answer -ENOSYS with one warning per call, naming it", () => {
    const r = runFaultline([prog(), "237", "999", "237", "238"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe("237 -38\n999 -38\n237 -38\n238 -38\n");
    expect(r.stderr.trim().split("\n")).toEqual([
      "faultline: unimplemented system call 237 (mbind), returning -ENOSYS",
      "faultline: unimplemented system call 999 (no such x86-64 call), returning -ENOSYS",
      "faultline: unimplemented system call 238 (set_mempolicy), returning -ENOSYS",
    ]);
  });

  it("the ENOSYS-on-purpose ones answer it silently", () => {
    const nrs = [...ENOSYS_ON_PURPOSE.keys()];
    const r = runFaultline([prog(), ...nrs.map(String)]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe(nrs.map((n) => `${n} -38\n`).join(""));
    expect(r.stderr).toBe("");
  });

  it("those Linux has no entry point for answer ENOSYS natively too", () => {
    const nrs = [...ENOSYS_ON_PURPOSE].filter(([, why]) => why.includes("sys_ni_syscall")).map(([nr]) => String(nr));
    expect(nrs.length).toBeGreaterThan(10);
    const want = runNative([prog(), ...nrs]);
    expect(want.stdout.toString()).toBe(nrs.map((n) => `${n} -38\n`).join(""));
    expectSameRun(runFaultline([prog(), ...nrs]), want, "sys_ni_syscall numbers");
  });
});
