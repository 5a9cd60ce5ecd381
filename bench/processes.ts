/**
 * Process costs, native vs qemu-x86_64 vs faultline, in one run:
 * bench/programs/processes.c (gcc -O2 -static) times its own loops
 * (clock_gettime around the loop: process start excluded) and prints JSON.
 *
 *   fork     N x fork -> the child _exits(0) -> waitpid; also the time from
 *            just before fork() to the child's first instruction after it
 *   exec     N x fork -> the child execs /bin/true (dynamic: ld.so, libc) -> waitpid
 *   spawn    N x fork -> the child execs processes.c itself, whose main()
 *            writes the time to a pipe: fork to the new image's main()
 *   pipeline /bin/sh -c 'cat FILE | sha256sum' over 64 MiB of random bytes
 *            (coreutils; FILE made once in a temp dir), wall-clock, the
 *            output checked against the native run; and sha256sum FILE alone
 *
 * Under qemu-x86_64 every program a guest starts is started under
 * qemu-x86_64 too (qemu-user does not follow execve into its own emulation:
 * without the prefix /bin/true would run natively). A fourth runner,
 * faultline with FAULTLINE_NO_CPU_VIEW=1, shows by difference what the
 * per-engine CPU-state search (emu/cpu-view.ts) costs each new process.
 * Then one faultline run of `exec` under node --cpu-prof says where a
 * process's time goes (inclusive ms per process of the functions in PROFILE_FRAMES).
 *
 * Runners are interleaved round by round (measureInterleaved); medians.
 * Results: bench/results/processes.json.
 *
 *   npm run bench:processes
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { projectRoot } from "../emu/unicorn.js";
import { measureWall } from "./programs.js";
import {
  RUNNERS, engineVersion, fmt, machine, measureInterleaved, median, ratio, runGuestLoop, times, type Case, type Runs,
} from "./signals.js";

/** Measured rounds per case (after one warm-up round). */
const SAMPLES = Number(process.env.PROCESSES_SAMPLES ?? 5);
/** Iterations of the fork loop. */
const N_FORK = Number(process.env.PROCESSES_N_FORK ?? 60);
/** Iterations of the exec and spawn loops. */
const N_EXEC = Number(process.env.PROCESSES_N_EXEC ?? 30);
/** Bytes through the pipeline. */
const PIPE_BYTES = Number(process.env.PROCESSES_PIPE_MIB ?? 64) << 20;

const root = projectRoot();

/** A runner: how the guest's command line is started, and how the guest's own children are. */
interface Runner {
  /** The command line that runs `argv` under this runner. */
  wrap(argv: string[]): string[];
  /** What a guest running under it must exec to run `argv` under it too. */
  child(argv: string[]): string[];
  /** A shell command line (for sh -c) that runs `argv` under it. */
  inShell(argv: string[]): string;
}

const RUN: Record<string, Runner> = {
  native: { wrap: RUNNERS.native, child: (a) => a, inShell: (a) => a.join(" ") },
  "qemu-x86_64": { wrap: RUNNERS["qemu-x86_64"], child: (a) => ["/usr/bin/qemu-x86_64", ...a], inShell: (a) => ["qemu-x86_64", ...a].join(" ") },
  faultline: { wrap: RUNNERS.faultline, child: (a) => a, inShell: (a) => a.join(" ") },
  "faultline, no CPU view": {
    wrap: (a) => ["/usr/bin/env", "FAULTLINE_NO_CPU_VIEW=1", ...RUNNERS.faultline(a)], child: (a) => a, inShell: (a) => a.join(" "),
  },
};
const NAMES = Object.keys(RUN);

/** One guest loop figure: ns per iteration, and ns from fork to the child's first timestamp (fork, spawn). */
interface LoopSample { nsPerIter: number; startNs: number }

/** One case's result under one runner. */
interface CaseResult {
  /** Median ns per iteration (loops) or ms per run (pipeline). */
  median?: number;
  /** Median fork-to-child-start ns (fork, spawn). */
  startMedianNs?: number;
  samples: number[];
  startSamplesNs?: number[];
  error?: string;
}

/** A guest loop case: its mode and its arguments under a runner. */
interface LoopCase extends Case {
  /** The loop's arguments after mode and N, under runner `r`. */
  args(r: Runner, bin: string): string[];
  /** Whether startNs means something for it. */
  start: boolean;
}

const LOOPS: LoopCase[] = [
  { mode: "fork", what: "fork + _exit(0) + waitpid", n: N_FORK, args: () => [], start: true },
  { mode: "exec", what: "fork + execve /bin/true (dynamic) + waitpid", n: N_EXEC, args: (r) => r.child(["/bin/true"]), start: false },
  { mode: "spawn", what: "fork + execve of a static program whose main() stamps the time + waitpid", n: N_EXEC, args: (r, bin) => r.child([bin, "stamp"]), start: true },
];

/** Per runner, the loop's samples and medians. */
function loopCase(c: LoopCase, bin: string): Record<string, CaseResult> {
  const cmds = Object.fromEntries(NAMES.map((name) => [name, RUN[name].wrap([bin, c.mode, String(c.n), ...c.args(RUN[name], bin)])]));
  const runs = measureInterleaved<LoopSample>(cmds, (cmd) => {
    const r = runGuestLoop(cmd, c);
    return { nsPerIter: r.ns / c.n, startNs: Number(r.startNs) };
  }, SAMPLES);
  return Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, summarize(r, c.start)]));
}

function summarize(r: Runs<LoopSample>, start: boolean): CaseResult {
  if (r.error !== undefined) return { samples: [], error: r.error };
  const per = r.samples.map((s) => s.nsPerIter), st = r.samples.map((s) => s.startNs);
  return {
    median: median(per), samples: per.map(Math.round),
    ...(start ? { startMedianNs: median(st), startSamplesNs: st.map(Math.round) } : {}),
  };
}

/** Per runner, wall-clock ms of `argvOf(runner)` (its stdout must be `expect`). */
function wallCase(argvOf: (r: Runner) => string[], expect: string): Record<string, CaseResult> {
  const cmds = Object.fromEntries(NAMES.map((name) => [name, RUN[name].wrap(argvOf(RUN[name]))]));
  const runs = measureWall(cmds, expect, SAMPLES);
  return Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, r.error !== undefined
    ? { samples: [], error: r.error }
    : { median: median(r.samples), samples: r.samples.map((x) => Math.round(x * 10) / 10) }]));
}

// ---------------------------------------------------------------- where a process's time goes

/** Functions whose inclusive time the profile reports ("name file", file relative to dist/). */
const PROFILE_FRAMES = [
  "cloneProcess emu/fork.js",
  "Process emu/process.js",
  "Engine emu/engine.js",
  "ExceptionState emu/exception-state.js",
  "find emu/cpu-view.js",
  "dupMmap mm/fork.js",
  "execveat emu/exec.js",
  "destroy emu/process.js",
  "runSlice emu/process.js",
];

interface ProfileNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** "name file" of a node, file relative to dist/ (or the URL as it is). */
function frameOf(n: ProfileNode): string {
  const url = n.callFrame.url.replace(/^file:\/\//, "");
  const at = url.lastIndexOf("/dist/");
  return `${n.callFrame.functionName} ${at >= 0 ? url.slice(at + 6) : url}`;
}

/**
 * Inclusive ms of each of `frames` (a sample counts once under a frame
 * however deep the recursion), and the top self-time frames.
 */
function profileSummary(p: CpuProfile, frames: string[]): { totalMs: number; inclusiveMs: Record<string, number>; topSelfMs: [string, number][] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i + 1] ?? 0)));
  const inclusive: Record<string, number> = Object.fromEntries(frames.map((f) => [f, 0]));
  const self = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    const f0 = frameOf(byId.get(id)!);
    self.set(f0, (self.get(f0) ?? 0) + us);
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = frameOf(byId.get(at)!);
      if (f in inclusive && !seen.has(f)) {
        seen.add(f);
        inclusive[f] += us;
      }
    }
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    totalMs: ms(p.endTime - p.startTime),
    inclusiveMs: Object.fromEntries(Object.entries(inclusive).map(([f, us]) => [f, ms(us)])),
    topSelfMs: [...self].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([f, us]) => [f, ms(us)]),
  };
}

/**
 * One faultline run of `argv` under node --cpu-prof; the profile's summary.
 * It runs dist/'s separate modules, not the bundle bin/faultline.mjs loads,
 * so that the frames keep their files (PROFILE_FRAMES names them).
 */
function profileRun(argv: string[], dir: string): ReturnType<typeof profileSummary> {
  const profDir = path.join(dir, "prof");
  const entry = pathToFileURL(path.join(root, "dist", "cli", "main.js")).href;
  const script = `const { main } = await import(${JSON.stringify(entry)}); process.exitCode = await main(process.argv.slice(1));`;
  execFileSync(process.execPath, ["--cpu-prof", "--cpu-prof-dir", profDir, "--input-type=module", "-e", script, "run", "--timeout", "600", ...argv], { stdio: ["ignore", "ignore", "inherit"] });
  const [file] = fs.readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"));
  return profileSummary(JSON.parse(fs.readFileSync(path.join(profDir, file), "utf8")) as CpuProfile, PROFILE_FRAMES);
}

// ---------------------------------------------------------------- main

const ms = (ns?: number) => (ns === undefined ? undefined : ns / 1e6);

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-processes-"));
  try {
    const bin = path.join(dir, "processes");
    execFileSync("gcc", ["-O2", "-static", "-o", bin, path.join(root, "bench", "programs", "processes.c")]);
    const data = path.join(dir, "data.bin");
    fs.writeFileSync(data, crypto.randomBytes(PIPE_BYTES));
    const load0 = os.loadavg();

    const loops = LOOPS.map((c) => ({ mode: c.mode, what: c.what, n: c.n, runners: loopCase(c, bin) }));
    const sha = execFileSync("/usr/bin/sha256sum", [data], { encoding: "utf8" });
    const piped = sha.replace(data, "-");
    const pipeline = wallCase((r) => ["/bin/sh", "-c", `${r.inShell(["/bin/cat", data])} | ${r.inShell(["/usr/bin/sha256sum"])}`], piped);
    const single = wallCase(() => ["/usr/bin/sha256sum", data], sha);
    const profile = profileRun([bin, "exec", String(N_EXEC), "/bin/true"], dir);
    const perProcess = Object.fromEntries(Object.entries(profile.inclusiveMs).map(([f, v]) => [f, Math.round((v / N_EXEC) * 100) / 100]));

    const vs = (x: Record<string, CaseResult>) => ({
      faultlineVsNative: ratio(x.faultline.median, x.native.median),
      faultlineVsQemu: ratio(x.faultline.median, x["qemu-x86_64"].median),
      qemuVsNative: ratio(x["qemu-x86_64"].median, x.native.median),
      cpuViewCostPerIterNs: x.faultline.median !== undefined && x["faultline, no CPU view"].median !== undefined
        ? x.faultline.median - x["faultline, no CPU view"].median : undefined,
    });
    const out = {
      date: new Date().toISOString(),
      machine: machine(),
      loadBefore: load0.map((x) => Number(x.toFixed(2))),
      engine: engineVersion(),
      samples: SAMPLES,
      note: "loops: guest-timed (clock_gettime around the loop, process start excluded), ns per iteration; startNs: from just before fork() to the child's first timestamp (fork: its first instruction after fork; spawn: the exec'd static program's main()); pipeline and sha256sum: wall-clock ms per run, process start included (faultline's includes starting Node). Under qemu-x86_64 every child program is started under qemu-x86_64 too. 'faultline, no CPU view' is faultline with FAULTLINE_NO_CPU_VIEW=1: the difference is the per-engine CPU-state search. Runners interleaved round by round; medians.",
      loops: loops.map((l) => ({ ...l, ...vs(l.runners) })),
      pipeline: { what: `/bin/sh -c 'cat FILE | sha256sum', FILE ${PIPE_BYTES >> 20} MiB of random bytes (coreutils)`, runners: pipeline, ...vs(pipeline) },
      sha256sumAlone: { what: `sha256sum FILE (the pipeline's reader alone, for reference)`, runners: single, ...vs(single) },
      profile: {
        what: `one faultline run of 'processes exec ${N_EXEC} /bin/true' under node --cpu-prof: inclusive ms of each function over the run, and per process (/ ${N_EXEC})`,
        ...profile, inclusiveMsPerProcess: perProcess,
      },
    };
    fs.mkdirSync(path.join(root, "bench", "results"), { recursive: true });
    fs.writeFileSync(path.join(root, "bench", "results", "processes.json"), JSON.stringify(out, null, 2) + "\n");

    const col = (s: string, w: number) => s.padStart(w);
    console.log(`process costs, median of ${SAMPLES} (load before: ${load0.map((x) => x.toFixed(2)).join(" ")})`);
    console.log(`${"case".padEnd(10)} ${col("N", 4)} ${col("native", 9)} ${col("qemu", 9)} ${col("faultline", 10)} ${col("no cpu view", 12)}  vs native  vs qemu`);
    const row = (name: string, n: string, x: Record<string, CaseResult>, f: (v?: number) => number | undefined, unit: string) => {
      const v = (k: string) => fmt(f(x[k].median), 2);
      console.log(`${name.padEnd(10)} ${col(n, 4)} ${col(v("native"), 9)} ${col(v("qemu-x86_64"), 9)} ${col(v("faultline"), 10)} ${col(v("faultline, no CPU view"), 12)}  ${col(times(ratio(x.faultline.median, x.native.median)), 9)} ${col(times(ratio(x.faultline.median, x["qemu-x86_64"].median)), 7)}  ${unit}`);
      for (const k of NAMES) if (x[k].error) console.log(`  ${k} failed: ${x[k].error}`);
    };
    for (const l of loops) {
      row(l.mode, String(l.n), l.runners, ms, "ms per iteration");
      if (l.runners.native.startMedianNs !== undefined || l.runners.faultline.startMedianNs !== undefined) {
        const st = Object.fromEntries(NAMES.map((k) => [k, { median: l.runners[k].startMedianNs, samples: [] }])) as Record<string, CaseResult>;
        row(`  start`, "", st, ms, l.mode === "fork" ? "ms, fork() to the child's first instruction" : "ms, fork() to the new image's main()");
      }
    }
    row("pipeline", "", pipeline, (v) => v, `ms per run: cat ${PIPE_BYTES >> 20} MiB | sha256sum`);
    row("sha256sum", "", single, (v) => v, "ms per run: sha256sum alone");
    console.log(`profile (faultline, exec /bin/true x ${N_EXEC}), inclusive ms per process:`);
    for (const [f, v] of Object.entries(perProcess)) console.log(`  ${f.padEnd(40)} ${v.toFixed(2)}`);
    console.log("wrote bench/results/processes.json");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
