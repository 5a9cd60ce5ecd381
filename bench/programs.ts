/**
 * Whole-program run time in one run, under four runners: natively,
 * qemu-x86_64, faultline on its default engine (its own patched Unicorn
 * build, vendor/unicorn-fl) and faultline on the official Unicorn 2.1.4
 * wheel (FAULTLINE_UNICORN=vendor/unicorn/unicorn/lib/libunicorn.so.2;
 * skipped with a note when that file is missing).
 *
 *   sha256sum  busybox sha256sum of a 32 MiB random file (reads through the page cache)
 *   compute    bench/programs/compute.c (gcc -O2 -static): a sieve, then an integer hash loop
 *   matmul     bench/programs/matmul.c (gcc -O1 -static): a store-heavy double matrix multiply
 *   matmul wx  the same, its arrays mprotect()ed PROT_READ|PROT_WRITE|PROT_EXEC by the program
 *   startup    busybox true (static), STARTUP_RUNS runs per sample: the start-up cost per run
 *
 * Each command is timed wall-clock as a child process (process start
 * included for every runner; faultline's includes starting Node). A warm-up
 * run per runner, then SAMPLES rounds in which every runner runs once in
 * turn (measureInterleaved, shared with the other benches), so a change of
 * machine load lands on all of them alike; medians. Every run's stdout must
 * be the native run's byte for byte and its exit status 0: a run that is
 * not is recorded as failed, reported in one line, and the bench exits 1
 * after writing the results. Results: bench/results/programs.json (every
 * sample in ms, medians, the ratios faultline / qemu-x86_64, faultline /
 * native and faultline / faultline-wheel, and which engine each faultline
 * runner loaded, with the build's patches).
 *
 *   npm run bench:programs
 *
 * Knobs (for trials): PROGRAMS_SAMPLES (7), PROGRAMS_STARTUP_RUNS (20),
 * PROGRAMS_MATMUL_N (384), PROGRAMS_MATMUL_REPS (1), PROGRAMS_KEEP=1 keeps
 * the temporary directory (the programs and the data file) to rerun a
 * failed command by hand.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot, wheelLibraryPath } from "../emu/unicorn.js";
import { RUNNERS, engineVersion, isMain, machine, measureInterleaved, median, ratio, times, type Runs } from "./signals.js";

/** Measured rounds per case (after one warm-up round). */
const SAMPLES = Number(process.env.PROGRAMS_SAMPLES ?? 7);
/** Runs of `busybox true` per sample of the start-up case. */
const STARTUP_RUNS = Number(process.env.PROGRAMS_STARTUP_RUNS ?? 20);
/** Matrix size of the matmul cases. */
const MATMUL_N = Number(process.env.PROGRAMS_MATMUL_N ?? 384);
/** Multiplications per matmul run. */
const MATMUL_REPS = Number(process.env.PROGRAMS_MATMUL_REPS ?? 1);
/** The target this bench was written for: faultline within this many times qemu-x86_64. */
const TARGET_VS_QEMU = 2;

const root = projectRoot();
const BUSYBOX = "/bin/busybox";

/** One whole program, run as it is under every runner. */
interface ProgramCase {
  /** Short name: the table's first column. */
  name: string;
  /** What the program does. */
  what: string;
  /** Its command line. */
  argv: string[];
  /** Runs per sample; a sample is their mean, ms per run. */
  runs: number;
}

/** The runners, in the order they run within a round and appear in tables. */
const RUNNER_NAMES = ["native", "qemu-x86_64", "faultline", "faultline-wheel"] as const;
/** A runner's name. */
type RunnerName = (typeof RUNNER_NAMES)[number];

/** One case under one runner. */
interface WallTiming {
  /** Median ms per run. */
  medianMs?: number;
  /** Every measured sample, ms per run. */
  samplesMs: number[];
  /** Why a run was refused (then the runner stopped for this case and samplesMs is empty). */
  error?: string;
  /** Why the runner did not run at all. */
  skipped?: string;
}

/** One case's figures under every runner, with the ratios between them. */
interface ProgramRow {
  name: string;
  what: string;
  /** The command line (its temporary paths as they were in this run). */
  argv: string[];
  runsPerSample: number;
  runners: Record<RunnerName, WallTiming>;
  faultlineVsQemu?: number;
  faultlineVsNative?: number;
  /** faultline on its own build / faultline on the wheel: below 1 when the build is faster. */
  faultlineVsWheel?: number;
  qemuVsNative?: number;
  wheelVsNative?: number;
}

/** What `faultline --version` reported for one faultline runner. */
export interface EngineId {
  /** The whole line. */
  line: string;
  /** Unicorn's version, "major.minor.patch". */
  version?: string;
  /** Where the library came from: build, wheel, env ($FAULTLINE_UNICORN) or system. */
  source?: string;
  /** The library file (or soname) loaded. */
  library?: string;
  /** The build's patches, as setup recorded them (empty for any other library). */
  patches: string[];
}

/**
 * Parses a `faultline --version` line,
 * "faultline 0.1.0, Unicorn 2.1.4 (build: PATH, patches: 0001-a 0002-b)".
 * @returns its parts; only `line` and an empty `patches` when the line has another form
 */
export function parseEngineLine(line: string): EngineId {
  const m = /Unicorn (\S+) \((\w+): (.*?)(?:, patches: (.*))?\)$/.exec(line);
  if (!m) return { line, patches: [] };
  const patches = m[4] === undefined || m[4] === "none" ? [] : m[4].split(" ").filter((p) => p !== "");
  return { line, version: m[1], source: m[2], library: m[3], patches };
}

/** `buf`'s first 200 bytes as a one-line JSON string. */
const clip = (buf: Buffer) => JSON.stringify(buf.toString("utf8", 0, 200));

/** A run's stderr in one line: its first error line (faultline's own, or a thrown JavaScript error's) when it has one, else its start. */
function stderrLine(buf: Buffer): string {
  const line = buf.toString("utf8").split("\n").find((l) => /^(faultline:|\w*Error\b)/.test(l));
  return line === undefined ? clip(buf) : JSON.stringify(line.slice(0, 300));
}

/**
 * Wall-clock ms of one run of `cmd` (a child process).
 * @param expect the stdout the run must print, byte for byte (the native run's)
 * @throws Error, one line naming the command, unless it exits 0 and prints exactly `expect`
 */
export function timeOnce(cmd: string[], expect: string | Buffer): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const want = typeof expect === "string" ? Buffer.from(expect) : expect;
  if (r.error) throw new Error(`${cmd.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd.join(" ")}: exit status ${r.status ?? `none (signal ${r.signal})`}, stdout ${clip(r.stdout)}, stderr ${stderrLine(r.stderr)}`);
  if (!r.stdout.equals(want)) throw new Error(`${cmd.join(" ")}: stdout differs from the native run's: got ${clip(r.stdout)}, want ${clip(want)}`);
  return ms;
}

/**
 * Wall-clock ms per run of each command of `cmds`: measureInterleaved over
 * `rounds` rounds (after a warm-up), a sample being the mean of
 * `runsPerSample` runs in a row.
 * @param expect the stdout every run must print (timeOnce)
 * @returns per key of `cmds`, the samples in ms per run, or the first refused run's one-line reason
 */
export function measureWall(cmds: Record<string, string[]>, expect: string | Buffer, rounds: number, runsPerSample = 1): Record<string, Runs<number>> {
  return measureInterleaved(cmds, (cmd) => {
    let total = 0;
    for (let k = 0; k < runsPerSample; k++) total += timeOnce(cmd, expect);
    return total / runsPerSample;
  }, rounds);
}

/**
 * The native run's stdout of `argv`, the output every runner must match.
 * @throws Error, one line, unless it exits 0
 */
function nativeOutput(argv: string[]): Buffer {
  const r = spawnSync(argv[0], argv.slice(1), { maxBuffer: 1 << 26 });
  if (r.error || r.status !== 0) throw new Error(`native run of ${argv.join(" ")} failed: ${r.error?.message ?? `exit status ${r.status ?? `none (signal ${r.signal})`}, stderr ${stderrLine(r.stderr)}`}`);
  return r.stdout;
}

/**
 * How each runner starts a command line. Both faultline runners go through
 * /usr/bin/env, so they pay the same extra exec: "faultline" with
 * FAULTLINE_UNICORN removed (its default engine), "faultline-wheel" with it
 * set to `wheel`; the latter is absent when `wheel` is.
 */
function runnerCommands(wheel: string | undefined): Partial<Record<RunnerName, (argv: string[]) => string[]>> {
  return {
    native: RUNNERS.native,
    "qemu-x86_64": RUNNERS["qemu-x86_64"],
    faultline: (argv) => ["/usr/bin/env", "-u", "FAULTLINE_UNICORN", ...RUNNERS.faultline(argv)],
    ...(wheel === undefined ? {} : { "faultline-wheel": (argv: string[]) => ["/usr/bin/env", `FAULTLINE_UNICORN=${wheel}`, ...RUNNERS.faultline(argv)] }),
  };
}

/** Measures `c` under every runner of `wrap` (interleaved) and derives the ratios; a runner not in `wrap` is marked skipped with `skipNote`. */
function measureCase(c: ProgramCase, wrap: Partial<Record<RunnerName, (argv: string[]) => string[]>>, skipNote: string): ProgramRow {
  const expect = nativeOutput(c.argv);
  const cmds: Record<string, string[]> = {};
  for (const name of RUNNER_NAMES) {
    const w = wrap[name];
    if (w) cmds[name] = w(c.argv);
  }
  const runs = measureWall(cmds, expect, SAMPLES, c.runs);
  const t = {} as Record<RunnerName, WallTiming>;
  for (const name of RUNNER_NAMES) {
    const r = runs[name];
    t[name] = r === undefined ? { samplesMs: [], skipped: skipNote }
      : r.error !== undefined ? { samplesMs: [], error: r.error }
      : { medianMs: median(r.samples), samplesMs: r.samples.map((x) => Math.round(x * 10) / 10) };
  }
  const m = (name: RunnerName) => t[name].medianMs;
  return {
    name: c.name, what: c.what, argv: c.argv, runsPerSample: c.runs, runners: t,
    faultlineVsQemu: ratio(m("faultline"), m("qemu-x86_64")),
    faultlineVsNative: ratio(m("faultline"), m("native")),
    faultlineVsWheel: ratio(m("faultline"), m("faultline-wheel")),
    qemuVsNative: ratio(m("qemu-x86_64"), m("native")),
    wheelVsNative: ratio(m("faultline-wheel"), m("native")),
  };
}

/**
 * A markdown table.
 * @param head the column titles; a title starting with ">" is right-aligned (the ">" is dropped)
 * @param rows the cells, one array per row, as many as `head`
 */
export function markdownTable(head: string[], rows: string[][]): string {
  const right = head.map((h) => h.startsWith(">"));
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(head.map((h) => h.replace(/^>/, ""))),
    line(right.map((r) => (r ? "---:" : "---"))),
    ...rows.map(line),
  ].join("\n");
}

/** A median in ms for the table: "skipped", "failed", or the figure (one decimal below 100 ms). */
function msCell(t: WallTiming): string {
  if (t.skipped !== undefined) return "skipped";
  if (t.medianMs === undefined) return "failed";
  return t.medianMs >= 100 ? t.medianMs.toFixed(0) : t.medianMs.toFixed(1);
}

function main(): void {
  const keep = process.env.PROGRAMS_KEEP === "1";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-programs-"));
  let failed = false;
  try {
    const data = path.join(dir, "data.bin");
    fs.writeFileSync(data, crypto.randomBytes(32 << 20));
    const compute = path.join(dir, "compute");
    execFileSync("gcc", ["-O2", "-static", "-o", compute, path.join(root, "bench", "programs", "compute.c")]);
    const matmul = path.join(dir, "matmul");
    execFileSync("gcc", ["-O1", "-static", "-o", matmul, path.join(root, "bench", "programs", "matmul.c")]);
    const mm = `${MATMUL_N}x${MATMUL_N} doubles x${MATMUL_REPS}`;
    const cases: ProgramCase[] = [
      { name: "busybox sha256sum 32 MiB", what: "busybox sha256sum of a 32 MiB random file (reads through the page cache)", argv: [BUSYBOX, "sha256sum", data], runs: 1 },
      { name: "compute.c", what: "bench/programs/compute.c, gcc -O2 -static: a sieve over 32 Mi bytes, then 100 M rounds of an integer hash", argv: [compute], runs: 1 },
      { name: `matmul ${MATMUL_N}`, what: `bench/programs/matmul.c, gcc -O1 -static: ${mm}, i-k-j order (a store per multiply-add)`, argv: [matmul, String(MATMUL_N), String(MATMUL_REPS)], runs: 1 },
      { name: `matmul ${MATMUL_N} wx`, what: `the same with its arrays mprotect()ed PROT_READ|PROT_WRITE|PROT_EXEC by the program: every store to a writable+executable page`, argv: [matmul, "wx", String(MATMUL_N), String(MATMUL_REPS)], runs: 1 },
      { name: "busybox true (per run)", what: `busybox true (static), ${STARTUP_RUNS} runs per sample: start-up and exit, ms per run`, argv: [BUSYBOX, "true"], runs: STARTUP_RUNS },
    ];

    const wheelFile = wheelLibraryPath();
    const wheel = fs.existsSync(wheelFile) ? wheelFile : undefined;
    const skipNote = `${path.relative(root, wheelFile)} not found (scripts/setup.sh installs the wheel)`;
    const defaultEnv = { ...process.env };
    delete defaultEnv.FAULTLINE_UNICORN;
    const engines: { faultline: EngineId; "faultline-wheel": EngineId | { skipped: string } } = {
      faultline: parseEngineLine(engineVersion(defaultEnv)),
      "faultline-wheel": wheel === undefined ? { skipped: skipNote } : parseEngineLine(engineVersion({ ...process.env, FAULTLINE_UNICORN: wheel })),
    };
    const notes: string[] = [];
    if (engines.faultline.source !== "build") {
      notes.push(`faultline's default engine is not its own build (${engines.faultline.line}): the faultline column is not the patched engine`);
    }
    const w = engines["faultline-wheel"];
    if ("line" in w && w.library !== wheel) throw new Error(`FAULTLINE_UNICORN=${wheel} did not load it: faultline --version says ${w.line}`);
    if (wheel === undefined) notes.push(`faultline-wheel skipped: ${skipNote}`);

    console.log(`faultline:       ${engines.faultline.line}`);
    console.log(`faultline-wheel: ${"line" in w ? w.line : `skipped: ${w.skipped}`}`);
    for (const n of notes) console.log(`note: ${n}`);
    const loadBefore = os.loadavg();
    const wrap = runnerCommands(wheel);
    const results = cases.map((c) => measureCase(c, wrap, skipNote));
    // The libraries are files a rebuild (scripts/setup.sh) may replace while the bench runs.
    const after = parseEngineLine(engineVersion(defaultEnv));
    if (after.line !== engines.faultline.line) {
      notes.push(`faultline's engine changed during the run: at the end faultline --version says ${after.line}`);
      console.log(`note: ${notes[notes.length - 1]}`);
    }
    const failures = results.flatMap((r) => RUNNER_NAMES.flatMap((name) => {
      const e = r.runners[name].error;
      return e === undefined ? [] : [`${r.name} under ${name}: ${e}`];
    }));
    failed = failures.length > 0;

    const out = {
      date: new Date().toISOString(),
      machine: machine(),
      loadBefore: loadBefore.map((x) => Number(x.toFixed(2))),
      loadAfter: os.loadavg().map((x) => Number(x.toFixed(2))),
      samples: SAMPLES,
      engines,
      runners: {
        native: "the program itself",
        "qemu-x86_64": "qemu-x86_64 PROGRAM",
        faultline: "env -u FAULTLINE_UNICORN node bin/faultline.mjs run --timeout 600 PROGRAM (the default engine)",
        "faultline-wheel": "env FAULTLINE_UNICORN=vendor/unicorn/unicorn/lib/libunicorn.so.2 node bin/faultline.mjs run --timeout 600 PROGRAM",
      },
      note: "wall-clock ms per run, process start included for every runner (faultline's includes starting Node); a warm-up run per runner, then the runners interleaved round by round; medians. Every run's stdout must be the native run's byte for byte.",
      notes,
      target: `faultline within ${TARGET_VS_QEMU}x of qemu-x86_64`,
      results,
      failures,
    };
    fs.mkdirSync(path.join(root, "bench", "results"), { recursive: true });
    fs.writeFileSync(path.join(root, "bench", "results", "programs.json"), JSON.stringify(out, null, 2) + "\n");

    console.log(`\nprogram run time, ms per run, median of ${SAMPLES} (${out.machine})\n`);
    console.log(markdownTable(
      ["case", ">native", ">qemu", ">faultline", ">faultline-wheel", ">faultline/qemu", ">faultline/wheel"],
      results.map((r) => [
        r.name, msCell(r.runners.native), msCell(r.runners["qemu-x86_64"]), msCell(r.runners.faultline),
        msCell(r.runners["faultline-wheel"]), times(r.faultlineVsQemu), times(r.faultlineVsWheel),
      ]),
    ));
    console.log("");
    for (const f of failures) console.log(`FAILED ${f}`);
    console.log("wrote bench/results/programs.json");
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

if (isMain(import.meta.url)) {
  try {
    main();
  } catch (e) {
    console.error(`bench:programs: ${(e as Error).message.split("\n")[0]}`);
    process.exitCode = 1;
  }
}
