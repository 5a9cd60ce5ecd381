/**
 * --strace lines as strace(1) prints them. Ground truth: strace itself
 * (Debian's, installed by scripts/setup.sh) on the same freestanding guest
 * (guest/stracecalls.c: no libc start-up calls), line for line, with only
 * mapping addresses masked; and the errno names and messages against the
 * installed headers and glibc's strerror.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ERRNO_TEXT } from "../emu/syscalls/errno-text.js";
import { REPO, buildC, runFaultline, scratch } from "./support/native.js";

const STRACE = "/usr/bin/strace";
const hasStrace = fs.existsSync(STRACE);

/** Lines of a trace, addresses of mappings masked (and, on those lines only, the alignment padding that depends on their width). */
const lines = (text: string) => text.split("\n").filter((l) => l !== "").map((l) => {
  const masked = l.replace(/0x[0-9a-f]{6,}/g, "ADDR");
  return masked === l ? l : masked.replace(/ +=/, " =");
});

describe("--strace against strace(1)", () => {
  it.skipIf(!hasStrace)("every line of guest/stracecalls.c is strace's (skipped without /usr/bin/strace: apt-get install strace)", () => {
    const prog = buildC(path.join(REPO, "guest", "stracecalls.c"), "nolibc");
    const dir = scratch();
    const out = path.join(dir, "native.trace");
    const native = spawnSync(STRACE, ["-o", out, prog, dir], { encoding: "utf8" });
    expect(native.status, `strace: ${native.stderr}`).toBe(0);
    const want = lines(fs.readFileSync(out, "utf8")).filter((l) => !l.startsWith("execve(") && !l.startsWith("+++"));
    const got = runFaultline([prog, dir], {}, ["--timeout", "60", "--strace"]);
    expect(got.status, got.stderr).toBe(0);
    expect(lines(got.stderr)).toEqual(want);
  });
});

describe("errno names and messages", () => {
  it("names are the first of each number in asm-generic/errno-base.h and errno.h", () => {
    const text = ["errno-base.h", "errno.h"].map((f) => fs.readFileSync(`/usr/include/asm-generic/${f}`, "utf8")).join("\n");
    const want = new Map<number, string>();
    for (const m of text.matchAll(/^#define\s+(E\w+)\s+(\d+)/gm)) if (!want.has(Number(m[2]))) want.set(Number(m[2]), m[1]);
    expect(new Map([...ERRNO_TEXT].map(([n, [name]]) => [n, name]))).toEqual(want);
  });

  it("messages are glibc's strerror", () => {
    const prog = buildC('#include <stdio.h>\n#include <string.h>\nint main(int c, char **v) { for (int k = 1; k < 134; k++) printf("%d\\t%s\\n", k, strerror(k)); }\n');
    const want = new Map(execFileSync(prog, { encoding: "utf8" }).trim().split("\n").map((l) => l.split("\t")).map(([n, m]) => [Number(n), m]));
    for (const [n, [, msg]] of ERRNO_TEXT) expect(msg, `errno ${n}`).toBe(want.get(n));
  });
});

describe("--strace of process calls against strace -f", () => {
  it.skipIf(!hasStrace)("clone's flags and tid pointer, wait4's and waitid's options and id types, as strace(1) names them (test/programs/procerr.c wait)", () => {
    const prog = buildC(path.join(REPO, "test", "programs", "procerr.c"), "gcc-static");
    const dir = scratch();
    const out = path.join(dir, "native.trace");
    const native = spawnSync(STRACE, ["-f", "-e", "trace=clone,wait4,waitid", "-o", out, prog, "wait"], { encoding: "utf8" });
    expect(native.status, `strace: ${native.stderr}`).toBe(0);
    // Pids differ (the guest's start at 1): the line's owner, wait's pid argument and a pid result are masked; so are
    // addresses. strace -f splits calls that overlap in time into <unfinished ...> and <... resumed> lines: those are left
    // out, and the complete lines are compared as a set (the order of processes' calls differs between schedulers).
    const shape = (l: string) => l.replace(/^(\[pid +\d+\] |\d+ +)/, "").replace(/0x[0-9a-f]{6,}/g, "ADDR")
      .replace(/^(wait4\(|waitid\(\w+, )-?\d+/, "$1PID").replace(/ += [1-9]\d*$/, " = PID").replace(/ +=/, " =");
    const calls = /^(clone|wait4|waitid)\(.*\) = /;
    const set = (text: string) => [...new Set(text.split("\n").map(shape).filter((l) => calls.test(l)))].sort();
    const want = set(fs.readFileSync(out, "utf8"));
    const got = runFaultline([prog, "wait"], {}, ["--timeout", "60", "--strace"]);
    expect(got.status, got.stderr).toBe(0);
    const gotSet = set(got.stderr);
    for (const l of want) expect(gotSet, `strace's line ${l}`).toContain(l);
    // A line strace split (its call overlapped another's) must at least start as strace's <unfinished ...> line does.
    const unfinished = fs.readFileSync(out, "utf8").split("\n").map(shape).filter((l) => l.endsWith("<unfinished ...>"))
      .map((l) => l.replace(/ *<unfinished \.\.\.>$/, ""));
    for (const l of gotSet.filter((g) => !want.includes(g))) {
      expect(unfinished.some((u) => l.startsWith(u)), `faultline's line ${l}: not strace's, nor the start of a call strace split`).toBe(true);
    }
  });
});
