/**
 * Mappings at scale, native vs faultline, in one run: guest/maxmap.c's
 * `time N` mode makes N = 65,530 distinct one-page anonymous mappings
 * (neighbours alternate PROT_READ and PROT_READ|PROT_WRITE, so none merge)
 * and reports the nanoseconds the N mmap calls took (clock_gettime around
 * the loop: process start excluded). The guest is run as a child process
 * natively and under `faultline run`, SAMPLES times each after a warm-up;
 * medians are compared. Target: faultline within 10x of native.
 * Results: bench/results/mappings.json.
 *
 *   npm run bench:mappings
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../emu/index.js";

/** Samples per side. */
const SAMPLES = Number(process.env.MAPPINGS_SAMPLES ?? 5);
/** Mappings made per run: Linux's default vm.max_map_count less the guest's own few. */
const N = Number(process.env.MAPPINGS_N ?? 65_500);
/** The target: faultline's median at most this many times native's. */
const TARGET_RATIO = 10;

const root = projectRoot();
const cli = path.join(root, "bin", "faultline.mjs");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The guest-reported ns of one run of `cmd` (which must print {"mappings":N,"ns":T}). */
function runOnce(cmd: string[]): number {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 600_000 });
  let got: { mappings?: number; ns?: number } = {};
  try {
    got = JSON.parse(r.stdout);
  } catch {
    // reported below
  }
  if (r.status !== 0 || got.mappings !== N || typeof got.ns !== "number") {
    throw new Error(`${cmd.join(" ")}: status ${r.status}, stdout ${JSON.stringify(r.stdout.slice(0, 200))}, stderr ${r.stderr.slice(0, 300)}`);
  }
  return got.ns;
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-mappings-"));
  try {
    const bin = path.join(dir, "maxmap");
    execFileSync("gcc", ["-O2", "-static", "-nostdlib", "-fno-builtin", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
      "-o", bin, path.join(root, "guest", "maxmap.c")]);
    const sides: Record<string, string[]> = {
      native: [bin, "time", String(N)],
      faultline: [process.execPath, cli, "run", bin, "time", String(N)],
    };
    const row: Record<string, { medianMs: number; samplesMs: number[] }> = {};
    for (const [name, cmd] of Object.entries(sides)) {
      runOnce(cmd); // warm-up
      const samples = Array.from({ length: SAMPLES }, () => runOnce(cmd) / 1e6);
      row[name] = { medianMs: median(samples), samplesMs: samples.map((x) => Math.round(x * 10) / 10) };
    }
    const ratio = row.faultline.medianMs / row.native.medianMs;
    const out = {
      date: new Date().toISOString(),
      machine: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, ${os.platform()} ${os.release()}, load ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
      engine: execFileSync(process.execPath, [cli, "--version"], { encoding: "utf8" }).trim(),
      mappings: N,
      samples: SAMPLES,
      note: "guest-timed: the N mmap calls only (clock_gettime around the loop), process start excluded",
      native: row.native,
      faultline: row.faultline,
      faultlineVsNative: ratio,
      target: { faultlineVsNativeAtMost: TARGET_RATIO, met: ratio <= TARGET_RATIO },
    };
    fs.mkdirSync(path.join(root, "bench", "results"), { recursive: true });
    fs.writeFileSync(path.join(root, "bench", "results", "mappings.json"), JSON.stringify(out, null, 2) + "\n");
    const us = (ms: number) => ((ms * 1000) / N).toFixed(2);
    console.log(`${N} distinct mappings, median of ${SAMPLES}:`);
    console.log(`  native     ${row.native.medianMs.toFixed(1)} ms  (${us(row.native.medianMs)} us per mmap)`);
    console.log(`  faultline  ${row.faultline.medianMs.toFixed(1)} ms  (${us(row.faultline.medianMs)} us per mmap)`);
    console.log(`  faultline / native = ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}: ${out.target.met ? "met" : "NOT met"})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
