/**
 * Signal delivery cost, native vs qemu-x86_64 vs faultline, in one run:
 * bench/programs/signals.c (gcc -O2 -static) times its own loops
 * (clock_gettime around the loop: process start excluded) and prints JSON.
 *
 *   kill     N = 100,000 x kill(getpid(), SIGUSR1) -> handler -> rt_sigreturn
 *   segv     N = 20,000 x write to a PROT_NONE page -> SIGSEGV handler
 *            mprotects it RW -> write retried -> mprotect(PROT_NONE) again
 *   syscall  N = 100,000 x getppid(): the bare system-call round trip, to read the two above
 *
 * Each case runs as a child process under each runner, a warm-up then
 * SAMPLES rounds with the runners interleaved; medians of the guest-reported ns, per iteration, and the
 * ratios faultline / native and faultline / qemu-x86_64. A run that fails or
 * whose handler did not count N is recorded as failed (and the bench exits 1
 * after writing the results). Results: bench/results/signals.json.
 *
 *   npm run bench:signals
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../emu/index.js";

/** Samples per case and runner (after one warm-up run). */
const SAMPLES = Number(process.env.SIGNALS_SAMPLES ?? 5);
/** Iterations of the kill and syscall loops. */
const N_KILL = Number(process.env.SIGNALS_N_KILL ?? 100_000);
/** Iterations of the SIGSEGV round trip loop. */
const N_SEGV = Number(process.env.SIGNALS_N_SEGV ?? 20_000);
/** The target: a delivered signal within this many times native. */
const TARGET_RATIO = 5;

const root = projectRoot();
const cli = path.join(root, "bin", "faultline.mjs");

/** One loop of a guest that prints a GuestReport. */
export interface Case {
  /** The guest's mode argument. */
  mode: string;
  /** What one iteration is. */
  what: string;
  /** Iterations of the loop. */
  n: number;
}

/** The JSON line a guest loop prints (bench/programs/signals.c, processes.c). */
export interface GuestReport {
  /** Its mode argument. */
  mode: string;
  /** Iterations run. */
  n: number;
  /** Guest-measured ns of the whole loop (clock_gettime around it). */
  ns: number;
  /** What the guest counted (handled signals, children reaped with status 0): n for a good run. */
  count: number;
  /** Other figures of the guest's own (e.g. processes.c's startNs). */
  [more: string]: unknown;
}

/** The medians of one case under one runner, or why it failed. */
export interface Timing {
  /** Median guest ns per iteration. */
  nsPerIter?: number;
  /** Every sample, ns per iteration. */
  samples: number[];
  /** Why a run was refused (exit status, output), if one was. */
  error?: string;
}

const CASES: Case[] = [
  { mode: "kill", what: "kill(getpid(), SIGUSR1) + handler + rt_sigreturn", n: N_KILL },
  { mode: "segv", what: "SIGSEGV on a PROT_NONE page + handler mprotect RW + retry + mprotect PROT_NONE", n: N_SEGV },
  { mode: "syscall", what: "getppid() (bare system call, for reference)", n: N_KILL },
];

/** The median of `xs` (non-empty). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * One run of `cmd`, a guest loop printing a GuestReport.
 * @returns the report
 * @throws Error with the run's status and output unless it exited 0 and counted c.n for c.mode
 */
export function runGuestLoop(cmd: string[], c: Case): GuestReport {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 600_000 });
  let got: Partial<GuestReport> = {};
  try {
    got = JSON.parse(r.stdout);
  } catch {
    // refused below
  }
  if (r.status !== 0 || got.mode !== c.mode || got.n !== c.n || got.count !== c.n || typeof got.ns !== "number") {
    throw new Error(`status ${r.status}, stdout ${JSON.stringify(r.stdout.slice(0, 200))}, stderr ${JSON.stringify(r.stderr.trim().slice(0, 300))}`);
  }
  return got as GuestReport;
}

/** Every recorded sample of one case under one runner, or why a run was refused. */
export interface Runs<T> {
  /** One value per measured round. */
  samples: T[];
  /** Why a run was refused (then that runner stopped and samples is empty). */
  error?: string;
}

/**
 * A warm-up run per runner, then `rounds` rounds in which every runner runs
 * once in turn (interleaved, so a change of machine load lands on all of
 * them alike). A runner whose run throws stops there.
 * @param once one run of a runner's command, returning its figure
 * @returns per runner (the keys of `cmds`), the figures of the measured rounds, or the first error
 */
export function measureInterleaved<T>(cmds: Record<string, string[]>, once: (cmd: string[]) => T, rounds: number): Record<string, Runs<T>> {
  const out: Record<string, Runs<T>> = {};
  for (const name of Object.keys(cmds)) out[name] = { samples: [] };
  const run = (name: string, record: boolean) => {
    if (out[name].error !== undefined) return;
    try {
      const v = once(cmds[name]);
      if (record) out[name].samples.push(v);
    } catch (e) {
      out[name].error = (e as Error).message;
      out[name].samples = [];
    }
  };
  for (const name of Object.keys(cmds)) run(name, false);
  for (let k = 0; k < rounds; k++) for (const name of Object.keys(cmds)) run(name, true);
  return out;
}

/** measureInterleaved of c's guest loop over `samples` rounds: per runner the median ns per iteration and every sample. */
export function measure(cmds: Record<string, string[]>, c: Case, samples = SAMPLES): Record<string, Timing> {
  const runs = measureInterleaved(cmds, (cmd) => runGuestLoop(cmd, c).ns / c.n, samples);
  return Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, {
    nsPerIter: r.error === undefined ? median(r.samples) : undefined, samples: r.samples.map((x) => Math.round(x)), error: r.error,
  }]));
}

/** One case's figures under the three runners, with the ratios between them. */
export interface LoopRow {
  mode: string;
  what: string;
  n: number;
  native: Timing;
  "qemu-x86_64": Timing;
  faultline: Timing;
  faultlineVsNative?: number;
  faultlineVsQemu?: number;
  qemuVsNative?: number;
}

/** Runs guest loop `c` of `bin` under every runner (measure) and derives the ratios. */
export function loopRow(bin: string, c: Case, samples = SAMPLES): LoopRow {
  const cmds = Object.fromEntries(Object.entries(RUNNERS).map(([name, wrap]) => [name, wrap([bin, c.mode, String(c.n)])]));
  const row = measure(cmds, c, samples);
  return {
    mode: c.mode, what: c.what, n: c.n,
    native: row.native, "qemu-x86_64": row["qemu-x86_64"], faultline: row.faultline,
    faultlineVsNative: ratio(row.faultline.nsPerIter, row.native.nsPerIter),
    faultlineVsQemu: ratio(row.faultline.nsPerIter, row["qemu-x86_64"].nsPerIter),
    qemuVsNative: ratio(row["qemu-x86_64"].nsPerIter, row.native.nsPerIter),
  };
}

/** Whether any runner of `rows` failed. */
export function anyFailed(rows: LoopRow[]): boolean {
  return rows.some((r) => [r.native, r["qemu-x86_64"], r.faultline].some((t) => t.error !== undefined));
}

/** Prints `rows` as the loop benches' table under `title`, with each failure's reason. */
export function printLoopTable(title: string, rows: LoopRow[]): void {
  console.log(title);
  console.log(`${"case".padEnd(10)} ${"N".padStart(7)} ${"native".padStart(8)} ${"qemu".padStart(8)} ${"faultline".padStart(10)}  vs native  vs qemu`);
  for (const r of rows) {
    console.log(`${r.mode.padEnd(10)} ${String(r.n).padStart(7)} ${fmt(r.native.nsPerIter).padStart(8)} ${fmt(r["qemu-x86_64"].nsPerIter).padStart(8)} ${fmt(r.faultline.nsPerIter).padStart(10)}  ${times(r.faultlineVsNative).padStart(9)} ${times(r.faultlineVsQemu).padStart(7)}`);
    for (const side of ["native", "qemu-x86_64", "faultline"] as const) if (r[side].error) console.log(`  ${side} failed: ${r[side].error}`);
  }
}

/** a / b, undefined when either is. */
export const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a / b : undefined);
/** `x` with `digits` decimals, or "failed". */
export const fmt = (x?: number, digits = 0) => (x === undefined ? "failed" : x.toFixed(digits));
/** `x` as a ratio "1.23x", or "-". */
export const times = (x?: number) => (x === undefined ? "-" : `${x.toFixed(2)}x`);

/** The machine line of a result file: CPU model and count, OS, and the load average now. */
export function machine(): string {
  return `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, ${os.platform()} ${os.release()}, load ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`;
}

/**
 * The engine line of a result file (faultline --version).
 * @param env the environment faultline runs with (FAULTLINE_UNICORN selects the library); this process's by default
 */
export function engineVersion(env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(process.execPath, [cli, "--version"], { encoding: "utf8", env }).trim();
}

/** How each bench runs a guest command line: natively, under qemu-x86_64, under faultline run. */
export const RUNNERS: Record<"native" | "qemu-x86_64" | "faultline", (argv: string[]) => string[]> = {
  native: (argv) => argv,
  "qemu-x86_64": (argv) => ["qemu-x86_64", ...argv],
  faultline: (argv) => [process.execPath, cli, "run", "--timeout", "600", ...argv],
};

/** Whether this module is the script node was started with (then it runs its bench; imported, it only lends its helpers). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(url);
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-signals-"));
  let failed = false;
  try {
    const bin = path.join(dir, "signals");
    execFileSync("gcc", ["-O2", "-static", "-o", bin, path.join(root, "bench", "programs", "signals.c")]);
    const results = CASES.map((c) => loopRow(bin, c));
    failed = anyFailed(results);
    const kill = results.find((r) => r.mode === "kill");
    const out = {
      date: new Date().toISOString(),
      machine: machine(),
      engine: engineVersion(),
      samples: SAMPLES,
      note: "guest-timed loops (clock_gettime around the loop), process start excluded; runners interleaved round by round; medians of ns per iteration",
      target: { what: "a delivered signal (kill case) within 5x of native", faultlineVsNativeAtMost: TARGET_RATIO,
        met: kill?.faultlineVsNative !== undefined ? kill.faultlineVsNative <= TARGET_RATIO : false },
      results,
    };
    fs.mkdirSync(path.join(root, "bench", "results"), { recursive: true });
    fs.writeFileSync(path.join(root, "bench", "results", "signals.json"), JSON.stringify(out, null, 2) + "\n");
    printLoopTable(`signal cost, ns per iteration, median of ${SAMPLES} (${out.machine})`, results);
    console.log(`target (kill within ${TARGET_RATIO}x of native): ${out.target.met ? "met" : "NOT met"}`);
    console.log("wrote bench/results/signals.json");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

if (isMain(import.meta.url)) main();
