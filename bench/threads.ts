/**
 * Thread costs, native vs qemu-x86_64 vs faultline, in one run:
 * bench/programs/threads.c (gcc -O2 -static -pthread) times its own loops
 * (clock_gettime around the loop: process start excluded) and prints JSON.
 *
 *   create    N = 500 x pthread_create -> the thread returns -> pthread_join
 *   pingpong  N = 5,000 round trips of a token between two threads through one
 *             futex word (FUTEX_WAIT / FUTEX_WAKE): under faultline two scheduler
 *             switches per round trip
 *   mutexsum  N = 400,000 increments of one sum by 4 threads under one pthread_mutex
 *
 * Runners interleaved round by round (measureInterleaved); medians of the
 * guest-reported ns per iteration, and the ratios faultline / native and
 * faultline / qemu-x86_64. A run that fails or miscounts is recorded as
 * failed (the bench then exits 1 after writing the results). The guest runs
 * with the host's CPU count (faultline's default --cpus). Results:
 * bench/results/threads.json.
 *
 *   npm run bench:threads
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../emu/index.js";
import { anyFailed, engineVersion, isMain, loopRow, machine, printLoopTable, type Case } from "./signals.js";

/** Samples per case and runner (after one warm-up run). */
const SAMPLES = Number(process.env.THREADS_SAMPLES ?? 5);

const CASES: Case[] = [
  { mode: "create", what: "pthread_create + the thread returns + pthread_join", n: Number(process.env.THREADS_N_CREATE ?? 500) },
  { mode: "pingpong", what: "a token passed to another thread and back through one futex word", n: Number(process.env.THREADS_N_PINGPONG ?? 5000) },
  { mode: "mutexsum", what: "one increment of a shared sum under a pthread_mutex, 4 threads", n: Number(process.env.THREADS_N_MUTEXSUM ?? 400_000) },
];

const root = projectRoot();

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-threads-"));
  let failed = false;
  try {
    const bin = path.join(dir, "threads");
    execFileSync("gcc", ["-O2", "-static", "-pthread", "-o", bin, path.join(root, "bench", "programs", "threads.c")]);
    const results = CASES.map((c) => loopRow(bin, c, SAMPLES));
    failed = anyFailed(results);
    const out = {
      date: new Date().toISOString(),
      machine: machine(),
      engine: engineVersion(),
      samples: SAMPLES,
      note: "guest-timed loops (clock_gettime around the loop), process start excluded; runners interleaved round by round; medians of ns per iteration",
      results,
    };
    fs.mkdirSync(path.join(root, "bench", "results"), { recursive: true });
    fs.writeFileSync(path.join(root, "bench", "results", "threads.json"), JSON.stringify(out, null, 2) + "\n");
    printLoopTable(`thread cost, ns per iteration, median of ${SAMPLES} (${out.machine})`, results);
    console.log("wrote bench/results/threads.json");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

if (isMain(import.meta.url)) main();
