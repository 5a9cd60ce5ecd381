/**
 * Probes across processes (issue 10, "Probe tests"), under each insertion
 * strategy: a probe registered before `sh -c 'for i in 1 2 3; do PROG i;
 * done'` counts the three runs' calls; a return probe across a fork inside
 * the probed function; exec of a probed binary from a probed one; and an
 * unrelated process in the same run (a byte-identical copy of the probed
 * program, in another file, and cmp reading the probed file) that never
 * hits and reads the file's real bytes (kprobes/README.md: page-cache
 * strategies mask reads, cow leaves the file alone). Ground truth: gdb's
 * breakpoint hit counts on native runs, the native run's stdout.
 * (test/process-fork.test.ts covers a probed function called in parent and
 * child; test/kprobes-*.test.ts one process.)
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, buildC, expectSameRun, runFaultline, runNative, scratch } from "./support/native.js";

const STRATEGIES = ["aops", "notifier", "preload", "cow"];
const PROGRAMS = path.join(REPO, "test", "programs");
const CFLAGS = ["-fno-optimize-sibling-calls"];

/** gdbHits' answers by argv and function (the native runs do not depend on the strategy). */
const gdbCounted = new Map<string, number>();

/** How many times gdb's breakpoint on `fn` is hit in a native run of `argv` (gdb's own count: "breakpoint already hit N times"). */
function gdbHits(argv: string[], fn: string): number {
  const key = JSON.stringify([argv, fn]);
  const known = gdbCounted.get(key);
  if (known !== undefined) return known;
  const n = gdbRun(argv, fn);
  gdbCounted.set(key, n);
  return n;
}

/** gdbHits' one gdb run. */
function gdbRun(argv: string[], fn: string): number {
  const script = ["set pagination off", `break ${fn}`, "commands", "silent", "continue", "end", "run", "info breakpoints"].join("\n");
  const file = path.join(scratch("faultline-gdb-"), "count.gdb");
  fs.writeFileSync(file, script + "\n");
  const out = execFileSync("gdb", ["-batch", "-nx", "-x", file, "--args", ...argv], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
  const m = /breakpoint already hit (\d+) times?/.exec(out);
  if (/Breakpoint 1 at/.test(out) && !m) return 0; // set, never hit
  if (!m) throw new Error(`gdb gave no hit count for ${fn} in ${argv.join(" ")}:\n${out}`);
  return Number(m[1]);
}

/** The hit count faultline reported for `spec` ("probe SPEC hits N"), or undefined. */
function hits(stderr: string, spec: string): number | undefined {
  const line = stderr.split("\n").find((l) => l.startsWith(`probe ${spec} hits `));
  return line === undefined ? undefined : Number(line.slice(`probe ${spec} hits `.length));
}

/** faultline with `probes` under `strategy`. */
function probed(argv: string[], strategy: string, probes: string[]) {
  return runFaultline(argv, {}, ["--timeout", "120", "--probe-strategy", strategy, ...probes.flatMap((p) => ["--probe", p])]);
}

function expectHits(stderr: string, spec: string, want: number, why: string): void {
  expect(hits(stderr, spec), `${spec}: got ${hits(stderr, spec)} hits, want ${want} (${why})\n${stderr}`).toBe(want);
}

describe("probes across processes, native (gdb) vs faultline, per strategy", () => {
  const dir = scratch("faultline-pp-");
  fs.chmodSync(dir, 0o755);
  const work = buildC(path.join(PROGRAMS, "probe_work.c"), "gcc-static", CFLAGS);
  const prog = path.join(dir, "probe_work");
  const twin = path.join(dir, "probe_work_twin"); // the same bytes in another file: unrelated to the probe
  fs.copyFileSync(work, prog);
  fs.copyFileSync(work, twin);
  fs.chmodSync(prog, 0o755);
  fs.chmodSync(twin, 0o755);
  const loop = ["/bin/sh", "-c", `for i in 1 2 3; do ${prog} $i; done; ${twin} 4; cmp ${prog} ${twin} && echo same bytes`];

  const forker = buildC(path.join(PROGRAMS, "fork_in_probe.c"), "gcc-static", CFLAGS);
  const execer = buildC(path.join(PROGRAMS, "exec_probed.c"), "gcc-static", CFLAGS);

  for (const s of STRATEGIES) {
    it(`${s}: sh runs the probed program 3 times: hits = gdb's for the three runs; the twin never hits; cmp reads the real bytes`, () => {
      const want = runNative(loop);
      const got = probed(loop, s, [`${prog}:work`, `ret:${prog}:work`]);
      expectSameRun(got, want, `sh loop under ${s}`);
      expect(got.stdout.toString(), "cmp saw the probed file's real bytes").toContain("same bytes\n");
      const truth = [1, 2, 3].reduce((n, i) => n + gdbHits([prog, String(i)], "work"), 0);
      expectHits(got.stderr, `${prog}:work`, truth, "gdb's hits of work in runs 1, 2 and 3; the twin's 8 calls excluded");
      expectHits(got.stderr, `ret:${prog}:work`, truth, "every call returns");
    }, 180_000);

    it(`${s}: fork inside a probed function: both processes return through it`, () => {
      const want = runNative([forker]);
      const got = probed([forker], s, [`${forker}:spawn_in`, `ret:${forker}:spawn_in`, `${forker}:leaf`]);
      expectSameRun(got, want, `fork_in_probe under ${s}`);
      const out = want.stdout.toString();
      const returns = out.split("\n").filter((l) => l.includes("returned from spawn_in")).length;
      expect(returns, "native: parent and child both return").toBe(2);
      expectHits(got.stderr, `${forker}:spawn_in`, gdbHits([forker], "spawn_in"), "one entry, before the fork (gdb follows the parent)");
      expectHits(got.stderr, `ret:${forker}:spawn_in`, returns, "the returns the processes printed");
      // leaf: the parent's calls are gdb's count (it follows the parent); the child's come from its printed loop (2).
      expectHits(got.stderr, `${forker}:leaf`, gdbHits([forker], "leaf") + 2, "parent's (gdb) plus the child's 2");
    }, 180_000);

    it(`${s}: a probed program execs a probed program`, () => {
      const argv = [execer, prog, "2"];
      const want = runNative(argv);
      const got = probed(argv, s, [`${execer}:hello`, `ret:${execer}:go`, `${prog}:work`]);
      expectSameRun(got, want, `exec_probed under ${s}`);
      expectHits(got.stderr, `${execer}:hello`, gdbHits(argv, "hello"), "gdb's hits before the exec");
      expectHits(got.stderr, `ret:${execer}:go`, 0, "go() never returns: exec dropped its pending return");
      expectHits(got.stderr, `${prog}:work`, gdbHits([prog, "2"], "work"), "gdb's hits in the new image");
    }, 180_000);
  }
});

describe("probes in threads (test/programs/thread_probe.c), native (gdb) vs faultline, per strategy", () => {
  const prog = buildC(path.join(PROGRAMS, "thread_probe.c"), "gcc-static", ["-pthread"]);
  const argv = [prog, "4", "3000"];
  for (const s of STRATEGIES) {
    it(`${s}: 4 threads step two probed instructions out of line in 20 us slices (preempted between breakpoint and step): gdb's counts, 3000 per thread, every return seen, output as native`, () => {
      const want = runNative(argv);
      const got = runFaultline(argv, {}, ["--timeout", "240", "--time-slice", "20", "--probe-strategy", s,
        ...[`${prog}:step_me`, `ret:${prog}:step_me`, `${prog}:step_other`].flatMap((p) => ["--probe", p])]);
      expectHits(got.stderr, `${prog}:step_other`, gdbHits(argv, "step_other"), "gdb's hits of the other stepped instruction");
      expectSameRun(got, want, `thread_probe under ${s}`);
      expectHits(got.stderr, `${prog}:step_me`, gdbHits(argv, "step_me"), "gdb's hits over every thread");
      expectHits(got.stderr, `ret:${prog}:step_me`, gdbHits(argv, "step_me"), "every call returns, in its own thread");
      const perThread = got.stderr.split("\n").filter((l) => l.startsWith(`probe ${prog}:step_me pid 1 tid `));
      expect(perThread.map((l) => l.replace(/ tid \d+ /, " tid T ")), `one line per thread\n${got.stderr}`)
        .toEqual(Array(4).fill(`probe ${prog}:step_me pid 1 tid T hits 3000`));
    }, 180_000);
  }
});
