/**
 * execve(2) and execveat(2) made by a running guest: each case runs
 * test/programs/execve-modes.c (or a real Debian program that execs)
 * natively and under `faultline run`, and the two runs must end the same
 * way with the same stdout bytes: what the new image received (argv,
 * environ, /proc/self/exe, descriptors left open) or the errno the call
 * returned to the caller that kept running.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { patchPhdr, PT, readPhdrs, writeProgram } from "./support/elf.js";
import { buildC, expectSameRun, REPO, runFaultline, runNative, scratch, type RunOptions } from "./support/native.js";

const SRC = path.join(REPO, "test", "programs", "execve-modes.c");
const STATIC = buildC(SRC, "gcc-static");
const STATIC_PIE = buildC(SRC, "gcc-dynamic", ["-static-pie"]);
const DYNAMIC_PIE = buildC(SRC, "gcc-dynamic");
const DYNAMIC = buildC(SRC, "gcc-dynamic", ["-no-pie"]);
const MUSL = buildC(SRC, "musl-static");
const FLAGS = ["--timeout", "30"];

const dir = scratch("fl-execve-");
let serial = 0;
/** A file in the scratch directory with `bytes` and `mode`. */
const file = (bytes: string | Buffer, mode = 0o755) => writeProgram(path.join(dir, `f${serial++}`), Buffer.from(bytes), mode);
/** A symbolic link in the scratch directory to `target`. */
function link(target: string): string {
  const at = path.join(dir, `l${serial++}`);
  fs.symlinkSync(target, at);
  return at;
}
/** STATIC's bytes with e_machine set to `machine`. */
function otherMachine(machine: number): string {
  const b = fs.readFileSync(STATIC);
  b.writeUInt16LE(machine, 18);
  return file(b);
}

/** Runs `argv` natively and under faultline; the same status and stdout. */
function expectSame(argv: string[], label: string, o: RunOptions = {}): void {
  const want = runNative(argv, o);
  const got = runFaultline(argv, o, FLAGS);
  expectSameRun(got, want, `${label}\n  argv ${JSON.stringify(argv).slice(0, 300)}`);
}

describe("a new image in the same process: what it receives is what Linux gives it", () => {
  const script = file(`#!/bin/sh\nexec ${STATIC} from-script show "$@"\n`);
  const progScript = file(`#!${STATIC} show\n`);
  const scriptOfScript = file(`#!${progScript}\n`);
  it.each([
    { name: "static to static, odd arguments kept exactly", argv: [STATIC, "exec", STATIC, "x", "show", "a", "", "b c", "\u00fcn\u00ef", "-"] },
    { name: "static to static PIE", argv: [STATIC, "exec", STATIC_PIE, "x", "show", "pie"] },
    { name: "static to dynamic PIE", argv: [STATIC, "exec", DYNAMIC_PIE, "x", "show", "dyn"] },
    { name: "static to dynamic non-PIE", argv: [STATIC, "exec", DYNAMIC, "x", "show"] },
    { name: "static to musl static", argv: [STATIC, "exec", MUSL, "x", "show"] },
    { name: "dynamic to static", argv: [DYNAMIC_PIE, "exec", STATIC, "x", "show"] },
    { name: "a chain of three images", argv: [DYNAMIC_PIE, "exec", MUSL, "y", "exec", STATIC_PIE, "z", "exec", STATIC, "w", "show", "end"] },
    { name: "a /bin/sh script that execs", argv: [STATIC, "exec", script, "s", "arg1", "arg 2"] },
    { name: "a script whose interpreter is the program", argv: [STATIC, "exec", progScript, "p", "q"] },
    { name: "a script whose interpreter is a script", argv: [STATIC, "exec", scriptOfScript, "p", "q"] },
    { name: "/proc/self/exe", argv: [DYNAMIC_PIE, "exec", "/proc/self/exe", "again", "show"] },
    { name: "a relative path", argv: [STATIC, "exec", `./${path.basename(STATIC)}`, "rel", "show"], cwd: path.dirname(STATIC) },
    { name: "a NULL argv: one empty argument (Linux 5.18 on)", argv: [STATIC, "null-argv", STATIC] },
    { name: "a NULL envp: no environment", argv: [STATIC, "null-envp", DYNAMIC_PIE, "n", "show"] },
    { name: "a 131071-byte argument (MAX_ARG_STRLEN with its NUL)", argv: [STATIC, "long-arg", STATIC, "131071", "x", "show"] },
    { name: "17 environment strings of 120000 bytes (under the 2 MiB room)", argv: [STATIC, "big-env", STATIC, "17", "120000", "x", "show"] },
    { name: "execveat of an O_PATH descriptor with AT_EMPTY_PATH", argv: [STATIC, "at-empty", DYNAMIC_PIE, "e", "show"] },
    { name: "execveat relative to a directory descriptor", argv: [STATIC, "at-dir", path.dirname(STATIC), path.basename(MUSL), "d", "show"] },
    { name: "execveat with AT_SYMLINK_NOFOLLOW of a file", argv: [STATIC, "at-nofollow", STATIC, "n", "show"] },
    { name: "signal state: handled back to default, ignored kept, mask and pending kept", argv: [STATIC, "signals", DYNAMIC_PIE, "s", "show"] },
  ])("$name", ({ name, argv, cwd }) => expectSame(argv, name, { cwd }));

  it.each([
    { name: "static", prog: STATIC },
    { name: "dynamic", prog: DYNAMIC_PIE },
    { name: "musl", prog: MUSL },
  ])("O_CLOEXEC descriptors are closed, the others kept ($name)", ({ name, prog }) => {
    const argv = [STATIC, "cloexec", prog, "c", "show"];
    expectSame(argv, name);
    const out = runNative(argv, {}).stdout.toString();
    expect(out, "the ground truth itself: fd 3 closed, fd 4 open").toMatch(/fd 3 closed \(EBADF\)\nfd 4 open\n/);
  });
});

describe("a refused execve is the caller's errno and the caller runs on", () => {
  const loop = path.join(dir, "loop-a");
  fs.symlinkSync(path.join(dir, "loop-b"), loop);
  fs.symlinkSync(loop, path.join(dir, "loop-b"));
  it.each([
    { name: "missing file", argv: [STATIC, "exec", path.join(dir, "missing"), "x"], errno: "ENOENT" },
    { name: "empty path", argv: [STATIC, "exec", "", "x"], errno: "ENOENT" },
    { name: "a directory", argv: [STATIC, "exec", dir, "x"], errno: "EACCES" },
    { name: "no execute bit", argv: [STATIC, "exec", file(fs.readFileSync(STATIC), 0o644), "x"], errno: "EACCES" },
    { name: "a character device", argv: [STATIC, "exec", "/dev/null", "x"], errno: "EACCES" },
    { name: "an ELF header and nothing more", argv: [STATIC, "exec", file(fs.readFileSync(STATIC).subarray(0, 64)), "x"], errno: "ENOEXEC" },
    { name: "an ELF file cut at 20 bytes", argv: [STATIC, "exec", file(fs.readFileSync(STATIC).subarray(0, 20)), "x"], errno: "ENOEXEC" },
    { name: "an ELF file for aarch64", argv: [STATIC, "exec", otherMachine(183), "x"], errno: "ENOEXEC" },
    { name: "text without #!", argv: [STATIC, "exec", file("echo hi\n"), "x"], errno: "ENOEXEC" },
    { name: "a script whose interpreter is missing", argv: [STATIC, "exec", file(`#!${dir}/nope\n`), "x"], errno: "ENOENT" },
    { name: "a file as a directory", argv: [STATIC, "exec", `${STATIC}/x`, "x"], errno: "ENOTDIR" },
    { name: "a symbolic-link loop", argv: [STATIC, "exec", loop, "x"], errno: "ELOOP" },
    { name: "AT_SYMLINK_NOFOLLOW of a link", argv: [STATIC, "at-nofollow", link(STATIC), "x", "show"], errno: "ELOOP" },
    { name: "a component over NAME_MAX", argv: [STATIC, "exec", `${dir}/${"a".repeat(300)}`, "x"], errno: "ENAMETOOLONG" },
    { name: "a path over PATH_MAX", argv: [STATIC, "exec", `${dir}/${"a/".repeat(2100)}`, "x"], errno: "ENAMETOOLONG" },
    { name: "an unknown execveat flag", argv: [STATIC, "at-badflags", STATIC], errno: "EINVAL" },
    { name: "a path at an unmapped address", argv: [STATIC, "bad-path"], errno: "EFAULT" },
    { name: "argv at an unmapped address", argv: [STATIC, "bad-argv", STATIC], errno: "EFAULT" },
    { name: "an argument string at an unmapped address", argv: [STATIC, "bad-arg", STATIC], errno: "EFAULT" },
    { name: "envp at an unmapped address", argv: [STATIC, "bad-envp", STATIC], errno: "EFAULT" },
    { name: "a 131072-byte argument", argv: [STATIC, "long-arg", STATIC, "131072", "x"], errno: "E2BIG" },
    { name: "18 environment strings of 120000 bytes", argv: [STATIC, "big-env", STATIC, "18", "120000", "x"], errno: "E2BIG" },
    { name: "a missing file from a dynamic caller", argv: [DYNAMIC_PIE, "exec", path.join(dir, "missing"), "x"], errno: "ENOENT" },
  ])("$name: $errno", ({ name, argv, errno }) => {
    const want = runNative(argv);
    expect(want.stdout.toString(), `the ground truth itself: native execve says ${errno}`).toContain(`execve: ${errno}\n`);
    expectSameRun(runFaultline(argv, {}, FLAGS), want, name);
  });
});

describe("a failure after the point of no return kills the process with SIGSEGV", () => {
  /** STATIC with its first PT_LOAD edited. */
  const badLoad = (edit: (p: ReturnType<typeof readPhdrs>[number]) => Parameters<typeof patchPhdr>[2]) => {
    const b = fs.readFileSync(STATIC);
    const k = readPhdrs(b).findIndex((p) => p.type === PT.LOAD);
    patchPhdr(b, k, edit(readPhdrs(b)[k]));
    return file(b);
  };
  it.each([
    { name: "p_filesz > p_memsz", prog: () => badLoad((p) => ({ memsz: p.filesz - 1n })) },
    { name: "p_offset and p_vaddr differ modulo the page", prog: () => badLoad((p) => ({ offset: p.offset + 8n })) },
  ])("$name", ({ name, prog }) => {
    const argv = [STATIC, "exec", prog(), "x", "show"];
    const want = runNative(argv);
    expect(want.status, `the ground truth itself: native dies by SIGSEGV (139), stderr ${want.stderr}`).toBe(139);
    expectSameRun(runFaultline(argv, {}, FLAGS), want, name);
  });
});

describe("real programs that exec", () => {
  const data = path.join(dir, "data");
  fs.writeFileSync(data, Array.from({ length: 20000 }, (_, k) => `line ${k} ${(k * 7919) % 10007}\n`).join(""));
  execFileSync("gzip", ["-k", "-9", data]);
  it.each([
    { name: "gunzip -c (a /bin/sh script ending in exec gzip -d)", argv: ["/usr/bin/gunzip", "-c", `${data}.gz`] },
    { name: "busybox sh -c 'exec busybox echo hi'", argv: ["/bin/busybox", "sh", "-c", "exec busybox echo hi"] },
    { name: "/bin/sh -c 'exec /bin/echo hi'", argv: ["/bin/sh", "-c", "exec /bin/echo hi"] },
    { name: "/bin/sh -c 'exec' of a missing program: the shell's own status", argv: ["/bin/sh", "-c", `exec ${dir}/missing; echo not reached`] },
    { name: "/bin/sh -c running a command (fork-less: exec replaces the shell)", argv: ["/bin/sh", "-c", `exec ${STATIC} x show from-sh`] },
  ])("$name", ({ name, argv }) => expectSame(argv, name));

  it("gunzip's output is the file's bytes", () => {
    const r = runFaultline(["/usr/bin/gunzip", "-c", `${data}.gz`], {}, FLAGS);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.equals(fs.readFileSync(data)), `got ${r.stdout.length} bytes, want the ${fs.statSync(data).size} of ${data}`).toBe(true);
  });
});

/** The execve/execveat lines of a trace, addresses and alignment blanked. */
function execLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => /^execve(at)?\(/.test(l)).map((l) => l.replace(/0x[0-9a-f]+/g, "0xADDR").replace(/\s+= /, " = "));
}

describe("--strace decodes execve as strace does", () => {
  it.each([
    { name: "execve that succeeds", argv: [STATIC, "exec", "/bin/true", "true", "a b", ""] },
    { name: "execve that fails", argv: [STATIC, "exec", path.join(dir, "missing"), "m"] },
    { name: "execveat with AT_EMPTY_PATH", argv: [STATIC, "at-empty", "/bin/true", "t"] },
  ])("$name", ({ argv }) => {
    const strace = runNative(["strace", "-f", "-s", "32", "-e", "trace=execve,execveat", ...argv]);
    const want = execLines(strace.stderr).slice(1); // the first line is strace starting the program
    expect(want.length, `strace's own trace: ${strace.stderr}`).toBeGreaterThan(0);
    const got = execLines(runFaultline(argv, {}, ["--strace", ...FLAGS]).stderr);
    expect(got, "faultline's execve lines").toEqual(want);
  });
});

describe("probes on a program that execs itself", () => {
  // main runs once per image: twice in all, and returns once (the first image never returns from it).
  it.each(["aops", "notifier", "preload", "cow"])("--probe-strategy %s: main hit in both images", (strategy) => {
    const argv = [STATIC, "exec", STATIC, "x", "show"];
    const got = runFaultline(argv, {}, ["--probe", `${STATIC}:main`, "--probe", `ret:${STATIC}:main`, "--probe-strategy", strategy, ...FLAGS]);
    const want = runNative(argv, {});
    expect(got.stdout.toString(), "stdout as native").toBe(want.stdout.toString());
    expect(got.stderr.trim().split("\n"), "probe lines").toEqual([`probe ${STATIC}:main hits 2`, `probe ret:${STATIC}:main hits 1`]);
  });
});
