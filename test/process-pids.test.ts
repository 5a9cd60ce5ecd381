/**
 * The guest's pid namespace and /proc/PID of every guest process. Ground
 * truth: the same programs run natively in a new pid namespace
 * (`unshare -pf --mount-proc`, which needs root), where the first process
 * is pid 1 with parent 0 and /proc shows only the namespace's processes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildGuest } from "../cli/demo.js";
import { Process, shellStatus } from "../emu/process.js";
import { HitCounter, Uprobes, allOf, byExe, byPid, countingConsumer } from "../kprobes/index.js";
import { MemSystem } from "../mm/index.js";
import { REPO, buildC, expectSameRun, runFaultline, runNative, scratch, type Variant } from "./support/native.js";

const BUSYBOX = "/bin/busybox";
const PIDS = path.join(REPO, "test", "programs", "pids.c");

/** `argv` run natively as the first process of a new pid namespace with its own /proc. */
function inNewPidNs(argv: string[]) {
  return runNative(["unshare", "--pid", "--fork", "--mount-proc", ...argv]);
}

describe("pids as a new pid namespace numbers them", () => {
  it("unshare can make a pid namespace here (root): the ground truth of this file", () => {
    const r = inNewPidNs([BUSYBOX, "sh", "-c", "echo $$ $PPID"]);
    expect(r.status, `unshare: ${r.stderr}`).toBe(0);
    expect(r.stdout.toString()).toBe("1 0\n");
  });

  const shells: { name: string; script: string }[] = [
    { name: "$$ and $PPID of the first process, of a subshell and of a child", script: "echo $$ $PPID; (echo $$; /bin/busybox sh -c 'echo $$ $PPID')" },
    { name: "$! of background jobs and their exit statuses", script: "/bin/true & echo $!; wait $!; echo $?; (exit 3) & echo $!; wait $!; echo $?" },
    { name: "getpgrp and getsid of the first process are outside the namespace (0)", script: "cut -d' ' -f5,6 /proc/self/stat; cut -d' ' -f4-6 /proc/$$/stat" },
  ];
  for (const { name, script } of shells) {
    it(name, () => {
      const argv = [BUSYBOX, "sh", "-c", script];
      expectSameRun(runFaultline(argv), inNewPidNs(argv), name);
    });
  }
});

describe("/proc/PID of another guest process (test/programs/pids.c): live child, zombie, reaped", () => {
  for (const variant of ["gcc-static", "musl-static", "gcc-dynamic"] as Variant[]) {
    it(variant, () => {
      const prog = buildC(PIDS, variant);
      expectSameRun(runFaultline([prog]), inNewPidNs([prog]), `pids ${variant}`);
    });
  }
});

describe("ps reads the guest's /proc", () => {
  it("busybox ps -o pid,ppid,pgid,comm,args lists the three guest processes of a nested shell", () => {
    // Every process but ps waits in wait4 while ps runs, so the listing does not race natively.
    const argv = [BUSYBOX, "sh", "-c", `/usr/bin/env busybox sh -c "busybox ps -o pid,ppid,pgid,comm,args; true"; true`];
    const native = inNewPidNs(argv);
    expect(native.stdout.toString().trim().split("\n"), "native: a header and three processes").toHaveLength(4);
    expectSameRun(runFaultline(argv), native, "busybox ps");
  });

  it("a background applet: its comm is the name busybox gives it by prctl(PR_SET_NAME) (exec of /proc/self/exe names it \"exe\" first)", () => {
    // Waits (with builtins only, so no pid is used up) until the applet has named itself: natively that races ps.
    const script = `sleep 100 & while read c < /proc/$!/comm; [ "$c" != sleep ]; do :; done; /usr/bin/env busybox sh -c "busybox ps -o pid,ppid,pgid,comm,args; true"; cat /proc/$!/comm; kill $!; wait $!; echo $?`;
    const argv = [BUSYBOX, "sh", "-c", script];
    const native = inNewPidNs(argv);
    expect(native.stdout.toString(), "native: sleep's comm").toContain("\nsleep\n");
    expectSameRun(runFaultline(argv), native, "busybox ps with a sleeping applet");
  });
});

describe("probe hits per process (test/programs/probe_pids.c counts its own calls of work())", () => {
  /** pid -> calls, from the program's own "pid P calls K" lines. */
  const ownCounts = (stdout: Buffer): Map<number, number> =>
    new Map([...stdout.toString().matchAll(/^pid (\d+) calls (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]));
  /** pid -> hits, from faultline's "probe SPEC pid P hits N" lines. */
  const reported = (stderr: string, spec: string): Map<number, number> =>
    new Map([...stderr.matchAll(/^probe (\S+) pid (\d+) hits (\d+)$/gm)].filter((m) => m[1] === spec).map((m) => [Number(m[2]), Number(m[3])]));
  const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

  for (const strategy of ["aops", "notifier", "preload", "cow"]) {
    it(`${strategy}: the total line, then one line per process, each equal to that process's own count`, () => {
      const prog = buildC(path.join(REPO, "test", "programs", "probe_pids.c"), "gcc-static", ["-fno-optimize-sibling-calls"]);
      const spec = `${prog}:work`, ret = `ret:${prog}:work`;
      const r = runFaultline([prog, "3"], {}, ["--timeout", "60", "--probe-strategy", strategy, "--probe", spec, "--probe", ret]);
      expect(r.status, r.stderr).toBe(0);
      const own = ownCounts(r.stdout);
      expect([...own.keys()].sort(), "the program's processes: pids 2, 3, 4 (children), 1 (parent)").toEqual([1, 2, 3, 4]);
      for (const s of [spec, ret]) {
        expect(r.stderr, `${s}: the total`).toContain(`probe ${s} hits ${total(own)}\n`);
        expect(reported(r.stderr, s), `${s}: hits per pid`).toEqual(own);
      }
    });
  }

  it("--probe-pid P: only P's hits are counted and traced, and no per-pid lines", () => {
    const prog = buildC(path.join(REPO, "test", "programs", "probe_pids.c"), "gcc-static", ["-fno-optimize-sibling-calls"]);
    const spec = `${prog}:work`;
    const r = runFaultline([prog, "3"], {}, ["--timeout", "60", "--probe", spec, "--probe-pid", "3", "--probe-trace"]);
    expect(r.status, r.stderr).toBe(0);
    const want = ownCounts(r.stdout).get(3);
    const trace = r.stderr.split("\n").filter((l) => l.startsWith("["));
    expect(trace.length, `trace lines: got ${trace.length}, want ${want}`).toBe(want);
    for (const l of trace) expect(l, "every trace line is pid 3's").toMatch(/^\[\d+\.\d{6}\] \[pid 3\] probe /);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("probe ")), "one total line").toEqual([`probe ${spec} hits ${want}`]);
  });

  it("a probed program run three times by a shell: one line per run, each its own count", () => {
    const prog = buildC(path.join(REPO, "test", "programs", "probe_pids.c"), "gcc-static", ["-fno-optimize-sibling-calls"]);
    const spec = `${prog}:work`;
    const r = runFaultline([BUSYBOX, "sh", "-c", `for i in 0 0 0; do ${prog} $i; done`], {}, ["--timeout", "60", "--probe", spec]);
    expect(r.status, r.stderr).toBe(0);
    const own = ownCounts(r.stdout);
    expect(own.size, `three runs, three pids: ${[...own.keys()]}`).toBe(3);
    expect(reported(r.stderr, spec)).toEqual(own);
  });

  it("--probe-pid without --probe, or with a pid that is not a number, is a usage error (2)", () => {
    for (const flags of [["--probe-pid", "2"], ["--probe", "/bin/true:0x0", "--probe-pid", "x"], ["--probe", "/bin/true:0x0", "--probe-pid", "0"]]) {
      const r = runFaultline(["/bin/true"], {}, flags);
      expect(r.status, `${flags.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split("\n"), "one line").toHaveLength(1);
    }
  });
});

describe("--stats and --stats-json per process", () => {
  /** A shell that runs the touch guest (64 anonymous pages written) in a child, then a subshell that exits 3. */
  const run = (flags: string[]) => {
    const touch = buildGuest("touch");
    return runFaultline([BUSYBOX, "sh", "-c", `${touch} anon 64 >/dev/null; (exit 3); echo done`], {}, ["--timeout", "60", ...flags]);
  };

  it("--stats-json: the totals, and one object per process whose counters add up to them", () => {
    const file = path.join(scratch(), "stats.json");
    const r = run(["--stats-json", file]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(fs.readFileSync(file, "utf8"));
    const procs = j.processes as { pid: number; ppid: number; comm: string; exit: unknown; counters: Record<string, number> }[];
    expect(procs.map((p) => [p.pid, p.ppid, p.comm, p.exit]), "pid, ppid, comm, exit of each process").toEqual([
      [1, 0, "busybox", { code: 0 }], [2, 1, "touch", { code: 0 }], [3, 1, "busybox", { code: 3 }],
    ]);
    for (const k of ["minorFaults", "majorFaults", "cowFaults", "anonPages", "pagesRead", "readpageCalls", "readpagesBatches", "privateCopies"]) {
      const sum = procs.reduce((n, p) => n + p.counters[k], 0);
      expect(sum, `${k}: the processes' sum (${procs.map((p) => p.counters[k])}) is the total ${j[k]}`).toBe(j[k]);
    }
    expect(procs[1].counters.anonPages, "touch wrote 64 anonymous pages: its own").toBeGreaterThanOrEqual(64);
    expect(procs[0].counters.anonPages + procs[2].counters.anonPages, "the shells wrote far fewer").toBeLessThan(64);
    expect(procs[2].counters.cowFaults, "the subshell (a fork child that writes its stack) took copy-on-write faults").toBeGreaterThan(0);
  });

  it("--stats: the totals' table, then a per-process table with a total row", () => {
    const r = run(["--stats"]);
    expect(r.status, r.stderr).toBe(0);
    const tail = r.stderr.split("per process:\n")[1]?.trim().split("\n") ?? [];
    expect(tail.map((l) => l.trim().split(/\s+/).slice(0, 4)).slice(0, 4), "header, then the three processes").toEqual([
      ["pid", "ppid", "comm", "end"], ["1", "0", "busybox", "0"], ["2", "1", "touch", "0"], ["3", "1", "busybox", "3"],
    ]);
    expect(tail[4]?.trim().split(/\s+/).slice(0, 3), "then the total row").toEqual(["total", "3", "processes"]);
    const minor = Number(/^minorFaults\s+(\d+)$/m.exec(r.stderr)?.[1]);
    const col = tail[0].trim().split(/\s+/).indexOf("minorFaults");
    expect(Number(tail[4].trim().split(/\s+/)[col - 1]), "the total row's minorFaults is the table's").toBe(minor);
  });

  it("one process: no per-process table", () => {
    const r = runFaultline(["/bin/true"], {}, ["--timeout", "60", "--stats"]);
    expect(r.stderr).not.toContain("per process:");
  });
});

describe("the TypeScript API's filters: byExe and byPid (kprobes/filters.ts)", () => {
  it("one file under two names (hard links): byExe counts only the processes that exec'd that name, byPid only that pid", async () => {
    const dir = scratch();
    const prog = buildC(path.join(REPO, "test", "programs", "probe_pids.c"), "gcc-static", ["-fno-optimize-sibling-calls"]);
    const a = path.join(dir, "a"), b = path.join(dir, "b");
    fs.copyFileSync(prog, a);
    fs.chmodSync(a, 0o755);
    fs.linkSync(a, b); // same inode: one probe, two exe paths
    const sys = new MemSystem({});
    const out: Buffer[] = [];
    const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) out.push(Buffer.from(d)); }, timeoutMs: 120_000 });
    try {
      const uprobes = new Uprobes(sys);
      const onlyA = new HitCounter(), onlyPid5 = new HitCounter(), all = new HitCounter();
      await uprobes.register(a, "work", countingConsumer({ counter: onlyA, ret: false, filter: byExe(a) }));
      await uprobes.register(a, "work", countingConsumer({ counter: onlyPid5, ret: false, filter: allOf(byExe(b), byPid(5)) }));
      await uprobes.register(b, "work", countingConsumer({ counter: all, ret: false }));
      const argv = [BUSYBOX, "sh", "-c", `${a} 1; ${b} 2`];
      const loaded = proc.exec(argv[0], argv, []);
      uprobes.attach(proc);
      const st = await proc.runAsync(loaded.entry, loaded.rsp);
      expect(shellStatus(st)).toBe(0);
      // The program's own counts, in output order: a's processes print first (the shell waits for a).
      const lines = [...Buffer.concat(out).toString().matchAll(/^pid (\d+) calls (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]);
      const fromA = lines.slice(0, 2), fromB = lines.slice(2);
      expect(fromB.map(([pid]) => pid).sort(), "b 2, the last command, exec'd by the shell itself (pid 1), and its two children 4 and 5").toEqual([1, 4, 5]);
      expect(onlyA.entries(), "byExe(a): a's processes only").toEqual(fromA.sort((x, y) => x[0] - y[0]));
      expect(onlyPid5.entries(), "byExe(b) and byPid(5)").toEqual(fromB.filter(([pid]) => pid === 5));
      expect(all.total, "unfiltered: every process's calls").toBe(lines.reduce((n, [, k]) => n + k, 0));
    } finally {
      proc.destroy();
      sys.close();
    }
  });
});
