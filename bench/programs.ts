/**
 * Whole-program run time, native vs qemu-x86_64 vs faultline, in one run:
 * busybox sha256sum of a 32 MiB file (reads through the page cache) and a
 * compute-bound C program (bench/programs/compute.c: a sieve, then an
 * integer hash loop). Each command is timed wall-clock as a child process
 * (process start included for all three), several times; medians are
 * compared. Results: bench/results/programs.json.
 *
 *   npm run bench:programs
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../emu/index.js";
import { isMain } from "./signals.js";

const SAMPLES = Number(process.env.PROGRAMS_SAMPLES ?? 7);
const root = projectRoot();
const cli = path.join(root, "bin", "faultline.mjs");

interface Case {
  name: string;
  argv: string[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Wall-clock ms of one run of `cmd` (a child process).
 * @throws Error with its status and output unless it exits 0 and prints exactly `expect`
 */
export function timeOnce(cmd: string[], expect: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0 || r.stdout !== expect) throw new Error(`${cmd.join(" ")}: status ${r.status}, stdout ${JSON.stringify(r.stdout.slice(0, 200))}, stderr ${r.stderr.slice(0, 300)}`);
  return ms;
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-"));
  try {
    const data = path.join(dir, "data.bin");
    fs.writeFileSync(data, crypto.randomBytes(32 << 20));
    const compute = path.join(dir, "compute");
    execFileSync("gcc", ["-O2", "-static", "-o", compute, path.join(root, "bench", "programs", "compute.c")]);
    const cases: Case[] = [
      { name: "busybox sha256sum 32 MiB", argv: ["/bin/busybox", "sha256sum", data] },
      { name: "compute.c (sieve + integer hash)", argv: [compute] },
    ];
    const runners: Record<string, (argv: string[]) => string[]> = {
      native: (argv) => argv,
      "qemu-x86_64": (argv) => ["qemu-x86_64", ...argv],
      faultline: (argv) => [process.execPath, cli, "run", ...argv],
    };
    type Timing = { medianMs: number; samplesMs: number[] };
    const results: ({ name: string; native: Timing; "qemu-x86_64": Timing; faultline: Timing } & Record<string, unknown>)[] = [];
    for (const c of cases) {
      const expect = execFileSync(c.argv[0], c.argv.slice(1), { encoding: "utf8" });
      const row: Record<string, Timing> = {};
      for (const [name, wrap] of Object.entries(runners)) {
        timeOnce(wrap(c.argv), expect); // warm-up (host page cache, binaries)
        const samples = Array.from({ length: SAMPLES }, () => timeOnce(wrap(c.argv), expect));
        row[name] = { medianMs: median(samples), samplesMs: samples.map((x) => Math.round(x * 10) / 10) };
      }
      results.push({
        name: c.name,
        native: row.native, "qemu-x86_64": row["qemu-x86_64"], faultline: row.faultline,
        faultlineVsQemu: row.faultline.medianMs / row["qemu-x86_64"].medianMs,
        faultlineVsNative: row.faultline.medianMs / row.native.medianMs,
        qemuVsNative: row["qemu-x86_64"].medianMs / row.native.medianMs,
      });
    }
    const out = {
      date: new Date().toISOString(),
      machine: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, ${os.platform()} ${os.release()}`,
      engine: execFileSync(process.execPath, [cli, "--version"], { encoding: "utf8" }).trim(),
      samples: SAMPLES,
      note: "wall-clock per run, process start included for all three (faultline's includes starting Node, ~0.15 s)",
      target: "faultline within 2x of qemu-x86_64",
      results,
    };
    fs.mkdirSync(path.join(root, "bench", "results"), { recursive: true });
    fs.writeFileSync(path.join(root, "bench", "results", "programs.json"), JSON.stringify(out, null, 2) + "\n");
    console.log(`program run time, median of ${SAMPLES} (ms)`);
    console.log(`${"case".padEnd(36)} ${"native".padStart(8)} ${"qemu".padStart(8)} ${"faultline".padStart(10)}  vs qemu  vs native`);
    for (const r of results) {
      console.log(`${r.name.padEnd(36)} ${r.native.medianMs.toFixed(0).padStart(8)} ${r["qemu-x86_64"].medianMs.toFixed(0).padStart(8)} ${r.faultline.medianMs.toFixed(0).padStart(10)}  ${(r.faultlineVsQemu as number).toFixed(2).padStart(6)}x ${(r.faultlineVsNative as number).toFixed(2).padStart(8)}x`);
    }
    console.log("wrote bench/results/programs.json");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) main();
