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
import { projectRoot } from "../emu/unicorn.js";

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

/** One loop of the guest. */
interface Case {
  /** The guest's mode argument. */
  mode: "kill" | "segv" | "syscall";
  /** What one iteration is. */
  what: string;
  n: number;
}

/** The medians of one case under one runner, or why it failed. */
interface Timing {
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Guest-reported ns of one run of `cmd`; throws with the run's status and output unless it counted n. */
function runOnce(cmd: string[], c: Case): number {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 600_000 });
  let got: { mode?: string; n?: number; ns?: number; count?: number } = {};
  try {
    got = JSON.parse(r.stdout);
  } catch {
    // refused below
  }
  if (r.status !== 0 || got.mode !== c.mode || got.n !== c.n || got.count !== c.n || typeof got.ns !== "number") {
    throw new Error(`status ${r.status}, stdout ${JSON.stringify(r.stdout.slice(0, 200))}, stderr ${JSON.stringify(r.stderr.trim().slice(0, 300))}`);
  }
  return got.ns;
}

/**
 * Warm-up runs, then SAMPLES rounds in which every runner runs `c` once in
 * turn (interleaved, so a change of machine load lands on all of them alike).
 * @returns per runner, the ns per iteration (or why a run was refused: that runner stops)
 */
function measure(cmds: Record<string, string[]>, c: Case): Record<string, Timing> {
  const out: Record<string, Timing> = {};
  for (const name of Object.keys(cmds)) out[name] = { samples: [] };
  const once = (name: string, record: boolean) => {
    if (out[name].error !== undefined) return;
    try {
      const ns = runOnce(cmds[name], c) / c.n;
      if (record) out[name].samples.push(ns);
    } catch (e) {
      out[name].error = (e as Error).message;
    }
  };
  for (const name of Object.keys(cmds)) once(name, false);
  for (let k = 0; k < SAMPLES; k++) for (const name of Object.keys(cmds)) once(name, true);
  for (const t of Object.values(out)) {
    if (t.error === undefined) t.nsPerIter = median(t.samples);
    else t.samples = [];
    t.samples = t.samples.map((x) => Math.round(x));
  }
  return out;
}

const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a / b : undefined);
const fmt = (x?: number, digits = 0) => (x === undefined ? "failed" : x.toFixed(digits));
const times = (x?: number) => (x === undefined ? "-" : `${x.toFixed(2)}x`);

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-signals-"));
  let failed = false;
  try {
    const bin = path.join(dir, "signals");
    execFileSync("gcc", ["-O2", "-static", "-o", bin, path.join(root, "bench", "programs", "signals.c")]);
    const runners: Record<string, (argv: string[]) => string[]> = {
      native: (argv) => argv,
      "qemu-x86_64": (argv) => ["qemu-x86_64", ...argv],
      faultline: (argv) => [process.execPath, cli, "run", "--timeout", "600", ...argv],
    };
    const results = CASES.map((c) => {
      const cmds = Object.fromEntries(Object.entries(runners).map(([name, wrap]) => [name, wrap([bin, c.mode, String(c.n)])]));
      const row = measure(cmds, c);
      failed ||= Object.values(row).some((t) => t.error !== undefined);
      return {
        mode: c.mode, what: c.what, n: c.n,
        native: row.native, "qemu-x86_64": row["qemu-x86_64"], faultline: row.faultline,
        faultlineVsNative: ratio(row.faultline.nsPerIter, row.native.nsPerIter),
        faultlineVsQemu: ratio(row.faultline.nsPerIter, row["qemu-x86_64"].nsPerIter),
        qemuVsNative: ratio(row["qemu-x86_64"].nsPerIter, row.native.nsPerIter),
      };
    });
    const kill = results.find((r) => r.mode === "kill");
    const out = {
      date: new Date().toISOString(),
      machine: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, ${os.platform()} ${os.release()}, load ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
      engine: execFileSync(process.execPath, [cli, "--version"], { encoding: "utf8" }).trim(),
      samples: SAMPLES,
      note: "guest-timed loops (clock_gettime around the loop), process start excluded; runners interleaved round by round; medians of ns per iteration",
      target: { what: "a delivered signal (kill case) within 5x of native", faultlineVsNativeAtMost: TARGET_RATIO,
        met: kill?.faultlineVsNative !== undefined ? kill.faultlineVsNative <= TARGET_RATIO : false },
      results,
    };
    fs.mkdirSync(path.join(root, "bench", "results"), { recursive: true });
    fs.writeFileSync(path.join(root, "bench", "results", "signals.json"), JSON.stringify(out, null, 2) + "\n");
    console.log(`signal cost, ns per iteration, median of ${SAMPLES}`);
    console.log(`${"case".padEnd(10)} ${"N".padStart(7)} ${"native".padStart(8)} ${"qemu".padStart(8)} ${"faultline".padStart(10)}  vs native  vs qemu`);
    for (const r of results) {
      console.log(`${r.mode.padEnd(10)} ${String(r.n).padStart(7)} ${fmt(r.native.nsPerIter).padStart(8)} ${fmt(r["qemu-x86_64"].nsPerIter).padStart(8)} ${fmt(r.faultline.nsPerIter).padStart(10)}  ${times(r.faultlineVsNative).padStart(9)} ${times(r.faultlineVsQemu).padStart(7)}`);
      for (const side of ["native", "qemu-x86_64", "faultline"] as const) if (r[side].error) console.log(`  ${side} failed: ${r[side].error}`);
    }
    console.log(`target (kill within ${TARGET_RATIO}x of native): ${out.target.met ? "met" : "NOT met"}`);
    console.log("wrote bench/results/signals.json");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

main();
