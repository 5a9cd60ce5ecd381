/**
 * `npm run bench:strategies`: the ways of getting breakpoints into memory
 * (kprobes/strategy-*.ts: aops, notifier, preload, preload --pin, cow)
 * compared in one run, every figure against the same measurement with
 * no probes registered (the baseline, interleaved with the probed runs).
 *
 *   Q1 fault cost per page, ratio to no probes: guest/touch.c's scan 1 (major
 *      faults, cold cache) and scan 3 (minor faults) over a copy of libc.so.6
 *      (the PROBED file: 0, 1, 100, 10,000 probes on evenly spread
 *      instruction starts) and over a random file of the same size (the
 *      UNRELATED file: never probed).
 *   Q2 registration and unregistration wall time per probe (N = 1, 100, 10,000),
 *      and the part of it spent in the strategy's arm()/disarm().
 *   Q3 memory held: probed-file pages read/pinned at registration, and extra
 *      anonymous pages while one process maps the probed file and has touched
 *      every page (a small guest reports while the mapping is live).
 *   Q4 cost per hit, per strategy: a C function called CALLS times, one probe on
 *      a nop (emulated) or an add (single-stepped); (probed - unprobed) / hits.
 *   Q5 preload without pin under a RAM limit that evicts the probed page during
 *      the run: expected vs counted hits, for every strategy.
 *   Q6 several processes: a probe on bench/programs/counted.c's work(), registered
 *      before a shell starts; the shell runs the probed program MP.probedRuns
 *      times, then an unrelated program (a copy of the same binary: another
 *      file, the same work) MP.unrelatedRuns times. Per process: host time of
 *      its engine slices, faults, breakpoint copies, anonymous pages while it
 *      writes its result, and hits against its own count of work() entries
 *      (and gdb's breakpoint hit count of the same run natively).
 *
 * Method (Q1): one long-lived MemSystem per case (each strategy x each
 * count, and no probes twice: the second is an A/A control, the noise floor),
 * probes registered once. Before every sample both files are evicted from
 * that system's page cache (cf. echo 1 > drop_caches): unevictable (pinned)
 * pages stay, and for preload without pin the pages it read at registration
 * stay too (no memory pressure; pressure is Q5). A fresh MemSystem per sample
 * (new memfds and views each time) measured about twice the spread for the
 * same runs. Rounds visit the systems in a shuffled order, after one warm-up
 * round. Q2 and Q3 use a fresh MemSystem per sample. Q4 runs first, with
 * V8's defaults; the rest in a child process (see NODE_FLAGS), Q5 first
 * (see CPU_VIEW_NOTE).
 *
 * Output: a table on stdout, bench/results/strategies.json (medians, samples,
 * ratios, settings) and bench/results/strategies.html (one self-contained page,
 * inline SVG charts).
 *
 * Knobs for quick trials (not for reported numbers): STRATEGIES_SAMPLES (11),
 * STRATEGIES_COUNTS ("0,1,100,10000"), STRATEGIES_REG_SAMPLES (5),
 * STRATEGIES_CALLS (300000), STRATEGIES_HIT_SAMPLES (5), STRATEGIES_MP_SAMPLES (5);
 * STRATEGIES_HTML_ONLY=1 re-renders the page from the last JSON without
 * measuring; STRATEGIES_ONLY_Q6=1 measures Q6 alone and puts it into the last
 * JSON (the other questions' figures stay those of their own run).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { buildCounted, buildGuest, runScenario, type ProcessFigures } from "../cli/demo.js";
import { Process, projectRoot } from "../emu/index.js";
import {
  ProbeError, Uprobes, probeableSymbols, readSymbols, resolveSpec, strategyNamed, vaddrToOffset,
  type Consumer, type InsertionStrategy, type Probe,
} from "../kprobes/index.js";
import { analyzeInsn } from "../kprobes/arch-x86.js";
import { classifyInsn, decodeInsn, type Insn } from "../kprobes/insn.js";
import { DEFAULT_CONFIG, MMAP_BASE, MemSystem, PAGE_SIZE, PG_unevictable, evictPage, type AddressSpace } from "../mm/index.js";

// ---------------------------------------------------------------- settings

const num = (k: string, d: number): number => Number(process.env[k] ?? d);
/** Q1: measured rounds per system (after one warm-up round). */
const SAMPLES = num("STRATEGIES_SAMPLES", 11);
/** Q1-Q3: probe counts on the probed file. */
const COUNTS = (process.env.STRATEGIES_COUNTS ?? "0,1,100,10000").split(",").map(Number);
/** Q4: calls of the probed function per run, and measured rounds. */
const CALLS = num("STRATEGIES_CALLS", 300_000);
const HIT_SAMPLES = num("STRATEGIES_HIT_SAMPLES", 5);
/** Q2: register/unregister samples per (strategy, count), each on a fresh system. */
const REG_SAMPLES = num("STRATEGIES_REG_SAMPLES", 5);
/** Q5: RAM limit, pressure file, rounds of (calls, scan of the pressure file), runs per strategy. */
const EVICT = { ramLimitPages: 256, filePages: 1024, rounds: 8, calls: 2000, runs: 3 };
/** Q6: runs of the probed and of the unrelated program per shell, work() calls per run, measured rounds. */
const MP = { probedRuns: 4, unrelatedRuns: 4, calls: 2000, samples: num("STRATEGIES_MP_SAMPLES", 5) };

const LIBC = "/lib/x86_64-linux-gnu/libc.so.6";

/**
 * Why Q1-Q3 run with FAULTLINE_NO_CPU_VIEW=1 (the engine reads CR2, RIP, TF
 * through the Unicorn API instead of its CPU state in memory): finding that
 * state costs ~28 ms per Process constructor (emu/cpu-view.ts), i.e. ~30 s
 * over the ~1,100 processes of these phases, against ~1 ms without it. (It
 * used to scan the whole native [heap], which grows ~0.5 MiB per Process:
 * ExceptionState's uc_context_alloc/uc_context_free leaks; Engine alone does
 * not.) Q4 and Q5 (per-hit costs, where the CPU view matters) run first, with it.
 */
const CPU_VIEW_NOTE = "Q1-Q3 run with FAULTLINE_NO_CPU_VIEW=1 (the engine's CR2/RIP/TF read through the Unicorn API, ~0.1-0.2 us more per fault, the same for every case): finding the CPU state costs ~28 ms per Process constructor, ~30 s over these phases' ~1,100 processes (and each Process leaks ~0.5 MiB of native heap in ExceptionState's uc_context_alloc/free). Q4 and Q5 run first, with the CPU view.";

interface StrategyDef {
  /** Short id used in the JSON. */
  id: string;
  /** strategyNamed() arguments. */
  name: string;
  pin: boolean;
  /** How the page names it. */
  label: string;
  color: string;
}

const STRATEGIES: StrategyDef[] = [
  { id: "aops", name: "aops", pin: false, label: "aops", color: "#1f77b4" },
  { id: "notifier", name: "notifier", pin: false, label: "notifier", color: "#ff7f0e" },
  { id: "preload", name: "preload", pin: false, label: "preload", color: "#2ca02c" },
  { id: "preload-pin", name: "preload", pin: true, label: "preload --pin", color: "#9467bd" },
  { id: "cow", name: "cow", pin: false, label: "cow", color: "#d62728" },
];

// ---------------------------------------------------------------- helpers

// GC hygiene. (1) The fault-path phases (Q1-Q3, and Q5) run in a child
// process with --single-threaded-gc: V8's background GC threads (concurrent
// sweeping and unmapping after a collection) otherwise overlapped the next
// timed scan on this 2-core machine and put ~17% of the major-fault samples
// into a 2-10x tail (~3% with the flag). Q4 (per hit) runs first in the
// process started by the user, with V8's defaults, as faultline normally
// runs: with GC work on the main thread, per-hit figures moved by up to 30%
// from strategy to strategy. (2) A full GC right before every timed run
// (see prepareRun). (3) In the child, a 64 MiB young generation, so that a
// scavenge rarely lands inside a timed scan: a minor-fault scan of the whole
// file takes ~0.5 ms, about what one scavenge costs.
const NODE_FLAGS = ["--single-threaded-gc", "--expose-gc", "--min-semi-space-size=64", "--max-semi-space-size=64"];
/** "main": the process the user started (Q4, then the child); "faults": the child. */
const ROLE = process.env.STRATEGIES_ROLE === "faults" ? "faults" : "main";
if (!(globalThis as { gc?: () => void }).gc) v8.setFlagsFromString("--expose-gc");
const gcFn = (globalThis as { gc?: () => void }).gc ?? (vm.runInNewContext("gc") as () => void);
/** A full collection. */
const gc = (): void => gcFn();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Linear-interpolated quantile q of xs. */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q, lo = Math.floor(at), hi = Math.ceil(at);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** A deterministic shuffle (mulberry32 seeded by `seed`). */
function shuffled<T>(xs: T[], seed: number): T[] {
  let a = (seed * 0x9e3779b9) >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Wraps a strategy's arm/disarm to add up the time spent in them. */
function instrument(strategy: InsertionStrategy): { armMs: number; disarmMs: number } {
  const acc = { armMs: 0, disarmMs: 0 };
  const arm = strategy.arm.bind(strategy), disarm = strategy.disarm.bind(strategy);
  strategy.arm = (sys, p) => {
    const t = performance.now();
    try { arm(sys, p); } finally { acc.armMs += performance.now() - t; }
  };
  strategy.disarm = (sys, p) => {
    const t = performance.now();
    try { disarm(sys, p); } finally { acc.disarmMs += performance.now() - t; }
  };
  return acc;
}

// ---------------------------------------------------------------- files and guests

const root = projectRoot();
const resultsDir = path.join(root, "bench", "results");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-strategies-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

const probedPath = path.join(tmp, "libc-copy.so.6");
fs.copyFileSync(LIBC, probedPath);
const FILE_BYTES = fs.statSync(probedPath).size;
/** Pages touch scans: the whole pages of the file (a mapping past EOF would SIGBUS). */
const PAGES = Math.floor(FILE_BYTES / PAGE_SIZE);
const unrelatedPath = path.join(tmp, "unrelated.bin");
fs.writeFileSync(unrelatedPath, crypto.randomBytes(FILE_BYTES));
const pressurePath = path.join(tmp, "pressure.bin");
fs.writeFileSync(pressurePath, crypto.randomBytes(EVICT.filePages * PAGE_SIZE));

const touch = buildGuest("touch");

/** Q4/Q5 guest: target() on a page of its own; CALLS calls per round, then a scan of FILE (Q5). */
const HOT_SOURCE = String.raw`
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
long target(long);
asm(".text\n.p2align 12\n.globl target\n.type target,@function\ntarget:\n\t"
    "push %rbp\n\t"
    "mov %rsp, %rbp\n"
    ".globl target_nop\ntarget_nop:\n\t"
    "nop\n\t"
    "mov %rdi, %rax\n"
    ".globl target_add\ntarget_add:\n\t"
    "add $3, %rax\n\t"
    "pop %rbp\n\t"
    "ret\n"
    ".size target, .-target\n.p2align 12\n");
/* hot CALLS [ROUNDS FILE PAGES]: ROUNDS times, call target() CALLS times, then read a byte of each page of FILE. */
int main(int argc, char **argv) {
  long calls = atol(argv[1]), rounds = argc > 2 ? atol(argv[2]) : 1, pages = 0;
  const volatile unsigned char *p = 0;
  if (argc > 4) {
    int fd = open(argv[3], O_RDONLY);
    pages = atol(argv[4]);
    p = mmap(0, pages * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    if (fd < 0 || p == MAP_FAILED) { perror("hot"); return 1; }
  }
  long s = 0, t = 0;
  for (long r = 0; r < rounds; r++) {
    for (long i = 0; i < calls; i++) s += target(i);
    for (long k = 0; k < pages; k++) t += p[k * 4096];
  }
  printf("%ld %ld %ld\n", calls * rounds, s, t);
  return 0;
}
`;

/** Q3 guest: maps FILE like a loader maps text, reads a byte of each page, reports while still mapped, exits without unmapping. */
const HOLD_SOURCE = String.raw`
#include "nolibc.h"
int main(int argc, char **argv) {
  if (argc != 3) exit_group(2);
  u64 pages = 0;
  for (const char *s = argv[1]; *s; s++) pages = pages * 10 + (u64)(*s - '0');
  s64 fd = syscall3(SYS_open, argv[2], O_RDONLY, 0);
  if (fd < 0) exit_group(3);
  s64 m = syscall6(SYS_mmap, 0, (s64)(pages * PAGE), PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  if (m < 0) exit_group(4);
  const volatile unsigned char *p = (const volatile unsigned char *)m;
  u64 sum = 0;
  for (u64 i = 0; i < pages; i++) sum += p[i * PAGE];
  char out[32];
  u64 o = 0;
  append_num(out, &o, (s64)sum);
  out[o++] = '\n';
  syscall3(SYS_write, 1, out, o);
  return 0;
}
NOLIBC_START;
`;

const hotBin = path.join(tmp, "hot"), holdBin = path.join(tmp, "hold");
fs.writeFileSync(hotBin + ".c", HOT_SOURCE);
fs.writeFileSync(holdBin + ".c", HOLD_SOURCE);
execFileSync("gcc", ["-O1", "-static", "-o", hotBin, hotBin + ".c"]);
execFileSync("gcc", ["-O2", "-static", "-nostdlib", "-fno-builtin", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
  "-I", path.join(root, "guest"), "-o", holdBin, holdBin + ".c"]);

// ---------------------------------------------------------------- probe sites

/**
 * Every instruction start of the probed file's functions that the decoder
 * accepts and analyzeInsn does not refuse, ascending (file offsets).
 */
function instructionStarts(file: string): { offsets: number[]; functions: number; refused: number; undecodable: number } {
  const elf = readSymbols(file);
  const bytes = fs.readFileSync(file);
  const fns = probeableSymbols(elf);
  const seen = new Set<number>();
  let refused = 0, undecodable = 0;
  for (const s of fns) {
    const base = vaddrToOffset(elf, s.value);
    for (let o = 0; o < s.size;) {
      let insn: Insn;
      try {
        insn = decodeInsn(bytes.subarray(base + o, base + o + 15), s.value + o);
      } catch {
        undecodable++;
        break; // data in the function, or an encoding the decoder lacks: the rest of it is unknown
      }
      try {
        analyzeInsn(insn, classifyInsn(insn), "?");
        seen.add(base + o);
      } catch {
        refused++;
      }
      o += insn.length;
    }
  }
  return { offsets: [...seen].sort((a, b) => a - b), functions: fns.length, refused, undecodable };
}

const sites = instructionStarts(probedPath);

/**
 * Registers `n` probes on the probed file at evenly spread instruction starts
 * (the middle of n equal slices of the list); a site registration refuses
 * (ENOTPROBEABLE, ENOTBOUNDARY) is skipped for the next one.
 * @returns the probes, the sites skipped, the wall time
 */
async function registerSpread(up: Uprobes, n: number, consumer: Consumer): Promise<{ probes: Probe[]; skipped: number; ms: number }> {
  const probes: Probe[] = [];
  let skipped = 0, next = 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    let k = Math.max(Math.floor(((i + 0.5) * sites.offsets.length) / n), next);
    for (;; k++) {
      if (k >= sites.offsets.length) throw new Error(`ran out of probe sites at probe ${i} of ${n}`);
      try {
        probes.push(await up.register(probedPath, { offset: sites.offsets[k] }, consumer));
        break;
      } catch (e) {
        if (e instanceof ProbeError && (e.code === "ENOTPROBEABLE" || e.code === "ENOTBOUNDARY")) { skipped++; continue; }
        throw e;
      }
    }
    next = k + 1;
  }
  return { probes, skipped, ms: performance.now() - t };
}

// ---------------------------------------------------------------- guest runs

/**
 * Runs `argv` in a new process of `sys` (attached to `up` before it runs),
 * returns its stdout; `onWrite` is called during each write to stdout, while
 * the guest is still running.
 */
function runGuest(sys: MemSystem, up: Uprobes | null, argv: string[], onWrite?: () => void, beforeRun?: (proc: Process) => void): string {
  const chunks: Buffer[] = [];
  const proc = new Process(sys, {
    output: (fd, d) => {
      if (fd === 1) {
        chunks.push(Buffer.from(d));
        onWrite?.();
      } else process.stderr.write(d);
    },
  });
  try {
    const loaded = proc.exec(argv[0], argv, []);
    up?.attach(proc);
    beforeRun?.(proc);
    const status = proc.run(loaded.entry, loaded.rsp);
    if (status.kind !== "exited" || status.code !== 0) throw new Error(`${argv.join(" ")}: ${JSON.stringify(status)}`);
  } finally {
    proc.destroy();
    // cow keeps every attached address space until its next arm/disarm/copiesHeld (kprobes/strategy-cow.ts
    // live()); each one holds views of its memory (1 GiB external ArrayBuffers), and with hundreds kept V8
    // collects garbage on nearly every allocation. copiesHeld() drops the exited ones, as an exit hook would.
    (up?.strategy as { copiesHeld?: () => number } | undefined)?.copiesHeld?.();
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Right before a timed run: creates the JS view of the 1 GiB chunk of the
 * process's memory where touch's file mapping will go (just below
 * MMAP_BASE), then a full GC. JavaScript touching a chunk of process memory
 * for the first time creates a view of it (a 1 GiB external ArrayBuffer,
 * lib/hostmem.ts), which starts V8's incremental marking for "external
 * memory pressure"; the full collection that ends it (30-50 ms with this
 * benchmark's heap) would otherwise land inside a timed scan, in every
 * process where cow writes its first breakpoint, and at random after exec's
 * own views. Done for every case alike.
 */
function prepareRun(proc: Process): void {
  proc.mm.bytes(MMAP_BASE - PAGE_SIZE, 1);
  gc();
}

interface TouchOut { mode: string; pages: number; ns: number[]; sum: number }

function runTouch(sys: MemSystem, up: Uprobes | null, file: string): TouchOut {
  const out = JSON.parse(runGuest(sys, up, [touch, "file", String(PAGES), file], undefined, prepareRun)) as TouchOut;
  if (out.pages !== PAGES || out.ns.length !== 3) throw new Error(`touch: unexpected output ${JSON.stringify(out)}`);
  return out;
}

// ---------------------------------------------------------------- Q1-Q3: a fresh system per sample

interface FaultSamples { majorProbed: number[]; minorProbed: number[]; majorUnrelated: number[]; minorUnrelated: number[] }
type FaultKey = keyof FaultSamples;
const FAULT_KEYS: FaultKey[] = ["majorProbed", "minorProbed", "majorUnrelated", "minorUnrelated"];

interface MemSnapshot {
  anonPages: number;
  filePages: number;
  probedFileCached: number;
  pinnedPages: number;
  privateCopiesMade: number;
  cowCopiesHeld: number | null;
}

interface RegSample { regMs: number; armMs: number; unregMs: number; disarmMs: number }

/** One Q1 case: a strategy and a probe count, or no probes at all (strat null). */
interface Case {
  id: string;
  strat: StrategyDef | null;
  n: number;
  faults: FaultSamples;
  reg: RegSample[];
  skipped: number;
  probedPages: number;
  /** ms to create the JS views of both files' page-cache memory, when this case's registration had not already (see setUp). */
  viewMs: number[];
}

interface HoldResult {
  afterRegistration: { probedFileCached: number; pinnedPages: number; filePages: number };
  whileMapped: MemSnapshot;
  anonAfterExit: number;
}

function probedMapping(sys: MemSystem): AddressSpace {
  return sys.openFile(probedPath, false);
}

/** A fresh system with `c`'s probes registered (Uprobes created even for 0 probes; none for the no-probes case). */
async function setUp(c: Case, views = true): Promise<{ sys: MemSystem; up: Uprobes | null; probes: Probe[]; consumer: Consumer; timing: { armMs: number; disarmMs: number } | null; regMs: number }> {
  const sys = new MemSystem();
  const consumer: Consumer = { pre: () => {} };
  let up: Uprobes | null = null, probes: Probe[] = [], timing = null, regMs = 0;
  if (c.strat) {
    const strategy = strategyNamed(c.strat.name, c.strat.pin);
    timing = instrument(strategy);
    up = new Uprobes(sys, strategy);
    gc();
    const r = await registerSpread(up, c.n, consumer);
    c.skipped = r.skipped;
    c.probedPages = new Set(r.probes.map((p) => Math.floor(p.offset / PAGE_SIZE))).size;
    probes = r.probes;
    regMs = r.ms;
  }
  // The first access from JavaScript to a file's page-cache memory creates a
  // view of it (a 1 GiB+ external ArrayBuffer, lib/hostmem.ts), which costs
  // milliseconds once per file and system: strategies that write breakpoints
  // into the cache would pay it inside their first timed scan, with no
  // per-page meaning. Every case creates both views here, outside the timing.
  const t = performance.now();
  if (views) for (const file of [probedPath, unrelatedPath]) sys.openFile(file, false).pageBytes(0);
  if (views && !c.strat) c.viewMs.push(performance.now() - t);
  return { sys, up, probes, consumer, timing, regMs };
}

/** Unregisters every probe; returns the wall time. */
function tearDown(up: Uprobes | null, probes: Probe[], consumer: Consumer): number {
  if (!up) return 0;
  const t = performance.now();
  for (const p of probes) up.unregister(p, consumer);
  const ms = performance.now() - t;
  if (up.all().length !== 0) throw new Error(`${up.all().length} probes left after unregistering`);
  return ms;
}

/** A Q1 case's long-lived system. */
interface Session {
  c: Case;
  sys: MemSystem;
  up: Uprobes | null;
  probes: Probe[];
  consumer: Consumer;
  /** Probed-file pages the cold-cache step keeps (preload without pin: the pages it read at registration). */
  keep: Set<number>;
}

async function openSession(c: Case): Promise<Session> {
  const { sys, up, probes, consumer } = await setUp(c);
  const keep = new Set<number>(c.strat?.name === "preload" && !c.strat.pin ? [...probedMapping(sys).pages.keys()] : []);
  return { c, sys, up, probes, consumer, keep };
}

/** Cold cache for the next sample: evicts both files' pages (cf. drop_caches; see the header). */
function dropCaches(s: Session): void {
  for (const file of [probedPath, unrelatedPath]) {
    const as = s.sys.openFile(file, false);
    for (const page of [...as.pages.values()]) {
      if (page.flags & PG_unevictable) continue;
      if (file === probedPath && s.keep.has(page.index)) continue;
      if (!evictPage(s.sys, page)) throw new Error(`${s.c.id}: could not evict page ${page.index} of ${file}`);
    }
  }
}

/**
 * One Q1 sample of a case: its system's page cache emptied of both files,
 * then per file (order alternating by round) a cold run of touch, whose scan
 * 1 is the major-fault figure, and a second run on the now cached file, whose
 * scan 3 is the minor-fault figure. (Scan 3 of the cold run is not used: it
 * runs faster the longer scan 1 took, even with no probes at all, e.g. with a
 * busy-wait in a read hook; the next run is not affected.)
 */
function faultSample(s: Session, round: number, record: boolean): void {
  dropCaches(s);
  const files = round % 2 === 0 ? [probedPath, unrelatedPath] : [unrelatedPath, probedPath];
  for (const file of files) {
    const cold = runTouch(s.sys, s.up, file);
    const warm = runTouch(s.sys, s.up, file);
    if (!record) continue;
    const which = file === probedPath ? "Probed" : "Unrelated";
    s.c.faults[`major${which}`].push(cold.ns[0] / PAGES);
    s.c.faults[`minor${which}`].push(warm.ns[2] / PAGES);
  }
}

/** Q2: registers the case's probes on a fresh system, then unregisters them, both timed. */
async function registrationSample(c: Case): Promise<void> {
  const { sys, up, probes, consumer, timing, regMs } = await setUp(c, false);
  try {
    const armMs = timing!.armMs;
    const unregMs = tearDown(up, probes, consumer);
    c.reg.push({ regMs, armMs, unregMs, disarmMs: timing!.disarmMs });
  } finally {
    sys.close();
  }
}

/**
 * Q3 for `c`: a fresh system, its probes registered, then a guest that maps
 * the probed file and has touched every page of it; the figures are taken
 * while it writes to stdout (the mapping live).
 */
async function holdSample(c: Case): Promise<HoldResult> {
  const { sys, up, probes, consumer } = await setUp(c);
  try {
    const strategy = up?.strategy as (InsertionStrategy & { copiesHeld?: () => number }) | undefined;
    const afterRegistration = { probedFileCached: probedMapping(sys).pages.size, pinnedPages: strategy?.pinnedPages?.() ?? 0, filePages: sys.filePages };
    const copies0 = sys.counters.privateCopies;
    let snap: MemSnapshot | null = null;
    runGuest(sys, up, [holdBin, String(PAGES), probedPath], () => {
      snap = {
        anonPages: sys.anonPages,
        filePages: sys.filePages,
        probedFileCached: probedMapping(sys).pages.size,
        pinnedPages: strategy?.pinnedPages?.() ?? 0,
        privateCopiesMade: sys.counters.privateCopies - copies0,
        cowCopiesHeld: strategy?.copiesHeld ? strategy.copiesHeld() : null,
      };
    });
    if (!snap) throw new Error(`${c.id}: hold wrote nothing`);
    const anonAfterExit = sys.anonPages;
    tearDown(up, probes, consumer); // also unregisters with the exited process's mapping still listed
    return { afterRegistration, whileMapped: snap, anonAfterExit };
  } finally {
    sys.close();
  }
}

// ---------------------------------------------------------------- Q4: cost per hit

interface HitCase { id: string; strat: StrategyDef | null; spot: "nop" | "add" | null; where: string | null; samples: number[] }


async function hitRun(c: HitCase, expect: string): Promise<number> {
  const sys = new MemSystem();
  const chunks: Buffer[] = [];
  const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) chunks.push(Buffer.from(d)); } });
  try {
    const loaded = proc.exec(hotBin, [hotBin, String(CALLS)], []);
    let probe: Probe | undefined;
    if (c.strat && c.where) {
      const up = new Uprobes(sys, strategyNamed(c.strat.name, c.strat.pin));
      probe = await up.register(hotBin, c.where, { pre: () => {} });
      up.attach(proc);
    }
    proc.mm.bytes(loaded.entry, 1); // the view of the text's chunk (see prepareRun), which cow's copy would create
    gc();
    const t = process.hrtime.bigint();
    const status = proc.run(loaded.entry, loaded.rsp);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const out = Buffer.concat(chunks).toString();
    if (status.kind !== "exited" || status.code !== 0 || out !== expect) {
      throw new Error(`Q4 ${c.id}: status ${JSON.stringify(status)}, stdout ${JSON.stringify(out)}, want ${JSON.stringify(expect)}`);
    }
    if (probe && probe.hits !== CALLS) throw new Error(`Q4 ${c.id}: ${probe.hits} hits, want ${CALLS}`);
    return ms;
  } finally {
    proc.destroy();
    sys.close();
  }
}

// ---------------------------------------------------------------- Q5: preload without pin under memory pressure

interface EvictRun { expected: number; counted: number; probedPageReads: number; evictions: number; majorFaults: number; outputOk: boolean }

async function evictRun(strat: StrategyDef | null, probedIndex: number, expect: string): Promise<EvictRun> {
  const sys = new MemSystem({ ramLimitPages: EVICT.ramLimitPages });
  // Observer (not a probe): counts reads of the probed page of the hot binary from the file.
  let probedPageReads = 0;
  sys.readHooks.push((mapping, pages) => {
    if (mapping.path === hotBin && pages.some((p) => p.index === probedIndex)) probedPageReads++;
  });
  const chunks: Buffer[] = [];
  const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) chunks.push(Buffer.from(d)); } });
  try {
    const loaded = proc.exec(hotBin, [hotBin, String(EVICT.calls), String(EVICT.rounds), pressurePath, String(EVICT.filePages)], []);
    let probe: Probe | undefined;
    if (strat) {
      const up = new Uprobes(sys, strategyNamed(strat.name, strat.pin));
      probe = await up.register(hotBin, "target_nop", { pre: () => {} });
      up.attach(proc);
    }
    const status = proc.run(loaded.entry, loaded.rsp);
    if (status.kind !== "exited" || status.code !== 0) throw new Error(`Q5 ${strat?.id ?? "unprobed"}: ${JSON.stringify(status)}`);
    const out = Buffer.concat(chunks).toString();
    return {
      expected: strat ? EVICT.calls * EVICT.rounds : 0, counted: probe?.hits ?? 0, probedPageReads,
      evictions: sys.counters.evictions, majorFaults: sys.counters.majorFaults, outputOk: out === expect,
    };
  } finally {
    proc.destroy();
    sys.close();
  }
}


// ---------------------------------------------------------------- Q6: several processes

const countedBin = buildCounted(tmp);
/** The unrelated program: the same bytes in another file (another page cache, never probed). */
const otherBin = path.join(tmp, "other");
fs.copyFileSync(countedBin, otherBin);
fs.chmodSync(otherBin, 0o755);
const MP_SCRIPT = `for i in ${Array.from({ length: MP.probedRuns }, (_, k) => k + 1).join(" ")}; do ${countedBin} ${MP.calls}; done; ` +
  `for i in ${Array.from({ length: MP.unrelatedRuns }, (_, k) => k + 1).join(" ")}; do ${otherBin} ${MP.calls}; done`;

/** What one Q6 case (a strategy, or none) gathered over its runs. */
interface MpCase {
  id: string;
  strat: StrategyDef | null;
  /** Per run, the processes' figures by role. */
  runs: { shell: ProcessFigures; probed: ProcessFigures[]; unrelated: ProcessFigures[]; wallMs: number; cachedBreakpointPages: number; pinnedPages: number; probeHits: number }[];
}

/** One shell run of the Q6 script in a fresh MemSystem under `c`'s strategy. */
async function mpRun(c: MpCase): Promise<MpCase["runs"][number]> {
  const r = await runScenario({ argv: ["/bin/sh", "-c", MP_SCRIPT], program: countedBin, symbol: "work", strategy: c.strat?.name ?? null, pin: c.strat?.pin });
  if (r.status.kind !== "exited" || r.status.code !== 0) throw new Error(`Q6 ${c.id}: shell ${JSON.stringify(r.status)}`);
  const probed = r.procs.filter((f) => f.exe === countedBin), unrelated = r.procs.filter((f) => f.exe === otherBin);
  if (probed.length !== MP.probedRuns || unrelated.length !== MP.unrelatedRuns || r.procs.length !== 1 + MP.probedRuns + MP.unrelatedRuns) {
    throw new Error(`Q6 ${c.id}: processes ${r.procs.map((f) => f.exe).join(" ")}`);
  }
  for (const f of [...probed, ...unrelated]) ownEntries(f); // each printed its count, or the run is refused
  return { shell: r.procs[0], probed, unrelated, wallMs: r.wallMs, cachedBreakpointPages: r.cachedBreakpointPages, pinnedPages: r.pinnedPages, probeHits: r.probe?.hits ?? 0 };
}

/** work() entries the program reported for itself ("work() entered N times"). */
function ownEntries(f: ProcessFigures): number {
  const m = /work\(\) entered (\d+) times/.exec(f.output);
  if (!m) throw new Error(`Q6: pid ${f.pid} printed ${JSON.stringify(f.output)}`);
  return Number(m[1]);
}

/** gdb's hit count of a breakpoint on work over one native run of `counted CALLS` (ground truth nobody here wrote). */
function gdbHits(): number | null {
  try {
    const out = execFileSync("gdb", ["-nx", "-batch", "-ex", "break work", "-ex", "ignore 1 100000000", "-ex", "run", "-ex", "info breakpoints", "--args", countedBin, String(MP.calls)],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
    const m = /already hit (\d+) time/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Q6: every case, rounds in a shuffled order after a warm-up round. */
async function measureProcesses(): Promise<Q6Report> {
  const cases: MpCase[] = [{ id: "no probes", strat: null, runs: [] }, ...STRATEGIES.map((s) => ({ id: s.id, strat: s, runs: [] }))];
  const refused: { case: string; round: number; error: string }[] = [];
  for (let round = -1; round < MP.samples; round++) {
    for (const c of shuffled(cases, 3000 + round)) {
      for (let attempt = 0; ; attempt++) { // a refused run is recorded and run again (at most twice more)
        try {
          const run = await mpRun(c);
          if (round >= 0) c.runs.push(run);
          break;
        } catch (e) {
          refused.push({ case: c.id, round, error: (e as Error).message.slice(0, 300) });
          if (attempt >= 2) throw e;
        }
      }
    }
  }
  const ms = (fs_: ProcessFigures[]) => median(fs_.map((f) => f.sliceCpuUs / 1e3));
  const figures = (c: MpCase) => ({
    probedColdMs: ms(c.runs.map((r) => r.probed[0])),
    probedWarmMs: ms(c.runs.flatMap((r) => r.probed.slice(1))),
    unrelatedColdMs: ms(c.runs.map((r) => r.unrelated[0])),
    unrelatedWarmMs: ms(c.runs.flatMap((r) => r.unrelated.slice(1))),
    shellMs: ms(c.runs.map((r) => r.shell)),
    wallMs: median(c.runs.map((r) => r.wallMs)),
  });
  const base = figures(cases[0]);
  const baseAnon = median(cases[0].runs.flatMap((r) => r.probed.map((f) => f.anonPagesAtLastWrite)));
  const results = cases.map((c) => {
    const f = figures(c);
    const probed = c.runs.flatMap((r) => r.probed), unrelated = c.runs.flatMap((r) => r.unrelated);
    const perProcess = (k: "minorFaults" | "majorFaults") => ({
      probedCold: median(c.runs.map((r) => r.probed[0].counters[k])), probedWarm: median(c.runs.flatMap((r) => r.probed.slice(1).map((x) => x.counters[k]))),
      unrelatedWarm: median(c.runs.flatMap((r) => r.unrelated.slice(1).map((x) => x.counters[k]))),
    });
    return {
      strategy: c.id,
      ...(Object.fromEntries(Object.entries(f).map(([k, v]) => [k, { median: r3(v), ratio: r3(v / base[k as keyof typeof base]) }])) as Record<keyof typeof base, { median: number; ratio: number }>),
      perProcessWallMs: r3(f.wallMs / (1 + MP.probedRuns + MP.unrelatedRuns)),
      hitsExact: probed.every((x) => x.hits === (c.strat ? ownEntries(x) : 0)) && unrelated.every((x) => x.hits === 0) && c.runs.every((r) => r.shell.hits === 0),
      hitsPerProbedProcess: [...new Set(probed.map((x) => x.hits))],
      ownEntriesPerProcess: [...new Set(probed.map(ownEntries))],
      hitsInUnrelated: unrelated.reduce((a, x) => a + x.hits, 0),
      probeTotalPerRun: [...new Set(c.runs.map((r) => r.probeHits))],
      breakpointCopiesPerProbedProcess: [...new Set(probed.map((x) => x.breakpointCopies))],
      breakpointCopiesPerUnrelatedProcess: [...new Set(unrelated.map((x) => x.breakpointCopies))],
      extraAnonPagesWhileProbedRuns: median(probed.map((x) => x.anonPagesAtLastWrite)) - baseAnon,
      extraAnonPagesWhileUnrelatedRuns: median(unrelated.map((x) => x.anonPagesAtLastWrite)) - median(cases[0].runs.flatMap((r) => r.unrelated.map((x) => x.anonPagesAtLastWrite))),
      cachedBreakpointPages: [...new Set(c.runs.map((r) => r.cachedBreakpointPages))],
      pinnedPages: [...new Set(c.runs.map((r) => r.pinnedPages))],
      minorFaults: perProcess("minorFaults"),
      majorFaults: perProcess("majorFaults"),
      samplesMs: {
        probedWarm: c.runs.flatMap((r) => r.probed.slice(1)).map((x) => r1(x.sliceCpuUs / 1e3)),
        unrelatedWarm: c.runs.flatMap((r) => r.unrelated.slice(1)).map((x) => r1(x.sliceCpuUs / 1e3)),
        probedWarmWallMs: c.runs.flatMap((r) => r.probed.slice(1)).map((x) => r1(x.sliceNs / 1e6)),
        wall: c.runs.map((r) => r1(r.wallMs)),
      },
    };
  });
  return {
    script: MP_SCRIPT.replaceAll(countedBin, "counted").replaceAll(otherBin, "other"),
    settings: MP,
    gdbHitsPerRun: gdbHits(),
    refusedRuns: refused,
    unit: "ms of faultline's CPU time (user + system) over a process's engine slices (its instructions, faults, system calls and exec; a fork, with the new engine, is charged to the parent), medians; ratio = median / the no-probes median; wallMs: the whole shell run, wall clock",
    results,
  };
}

/** Q6 in the report. */
interface Q6Report {
  script: string;
  settings: typeof MP;
  gdbHitsPerRun: number | null;
  /** Shell runs refused (a program that did not print its count, a shell that failed) and run again. */
  refusedRuns: { case: string; round: number; error: string }[];
  unit: string;
  results: ({ strategy: string; perProcessWallMs: number; hitsExact: boolean; hitsPerProbedProcess: number[]; ownEntriesPerProcess: number[]; hitsInUnrelated: number;
    breakpointCopiesPerProbedProcess: number[]; extraAnonPagesWhileProbedRuns: number; extraAnonPagesWhileUnrelatedRuns: number; cachedBreakpointPages: number[]; pinnedPages: number[];
    minorFaults: { probedCold: number; probedWarm: number; unrelatedWarm: number }; majorFaults: { probedCold: number; probedWarm: number; unrelatedWarm: number } } &
    Record<"probedColdMs" | "probedWarmMs" | "unrelatedColdMs" | "unrelatedWarmMs" | "shellMs" | "wallMs", { median: number; ratio: number }>)[];
}

/** Q6 as stdout lines. */
function q6Lines(q: Q6Report): string[] {
  const rows = [["strategy", "probed cold", "probed warm", "unrelated cold", "unrelated warm", "shell", "hits exact", "bp copies/proc", "extra anon", "bp in cache"],
    ...q.results.map((e) => [e.strategy, ...(["probedColdMs", "probedWarmMs", "unrelatedColdMs", "unrelatedWarmMs", "shellMs"] as const).map((k) => `${e[k].median.toFixed(1)} (${fmtRatio(e[k].ratio)})`),
      e.hitsExact ? "yes" : "NO", e.breakpointCopiesPerProbedProcess.join(","), String(e.extraAnonPagesWhileProbedRuns), e.cachedBreakpointPages.join(",")])];
  const w = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  return [`Q6 several processes: ${q.script}; ms per process (ratio to no probes); gdb native hits per run: ${q.gdbHitsPerRun}`,
    ...rows.map((r) => r.map((x, k) => (k === 0 ? x.padEnd(w[k]) : x.padStart(w[k]))).join("  "))];
}

// ---------------------------------------------------------------- HTML

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Bar { value: number | null; lo?: number; hi?: number; note?: string }
interface Series { name: string; color: string; bars: Bar[] }
interface ChartOpts {
  title: string;
  groups: string[];
  xTitle: string;
  yTitle: string;
  series: Series[];
  log?: boolean;
  /** Bars start here (default 0, or the bottom of a log axis). */
  base?: number;
  /** A dashed reference line. */
  ref?: number;
  refLabel?: string;
  fmt: (v: number) => string;
  domain?: [number, number];
  /** Value labels horizontal above the bars (for few, wide bars). */
  flatLabels?: boolean;
  width?: number;
  height?: number;
}

/** Tick values for an axis. */
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    const decades = Math.log10(hi / lo);
    const mults = decades > 4 ? [1] : decades > 2 ? [1, 3] : [1, 2, 5];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of mults) {
        const v = m * 10 ** e;
        if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
      }
    }
    return out;
  }
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function tickLabel(v: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) >= 1000) return v.toLocaleString("en-US");
  return String(Number(v.toPrecision(3)));
}

/** A domain that holds every value (and the reference), with room for the labels. */
function domainOf(values: number[], log: boolean, ref?: number): [number, number] {
  const vs = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (ref !== undefined) vs.push(ref);
  if (log) {
    const lo = Math.min(...vs) / 1.15, hi = Math.max(...vs);
    // The largest of 1, 2, 5 x 10^k at or below lo; room above hi for the rotated labels.
    const e = Math.floor(Math.log10(lo));
    const bottom = [5, 2, 1].map((m) => m * 10 ** e).find((v) => v <= lo) ?? 10 ** e;
    return [bottom, 10 ** (Math.log10(hi) + Math.max(0.45, Math.log10(hi / bottom) * 0.3))];
  }
  return [0, Math.max(...vs) * 1.3 || 1];
}

/** A grouped bar chart as inline SVG: groups along x, one bar per series in each. */
function barChart(o: ChartOpts): string {
  const W = o.width ?? 540, H = o.height ?? 300;
  const m = { l: 62, r: 10, t: 30, b: 46 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const log = o.log ?? false;
  const all = o.series.flatMap((s) => s.bars.flatMap((b) => [b.value, b.lo, b.hi])).filter((v): v is number => typeof v === "number");
  const [lo, hi] = o.domain ?? domainOf(all, log, o.ref);
  const clamp = (v: number) => Math.min(hi, Math.max(lo, v));
  const y = (v: number) => log
    ? m.t + ph * (1 - (Math.log(clamp(v)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)))
    : m.t + ph * (1 - (clamp(v) - lo) / (hi - lo));
  const base = o.base ?? (log ? lo : 0);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}">`);
  out.push(`<text x="${m.l}" y="16" class="ct">${esc(o.title)}</text>`);
  for (const t of ticks(lo, hi, log)) {
    const yy = y(t).toFixed(1);
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${yy}" y2="${yy}" class="grid"/>`);
    out.push(`<text x="${m.l - 5}" y="${yy}" class="tick" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`);
  }
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" class="axis"/>`);
  out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" class="axis"/>`);
  out.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" class="at" text-anchor="middle">${esc(o.yTitle)}</text>`);
  out.push(`<text x="${m.l + pw / 2}" y="${H - 6}" class="at" text-anchor="middle">${esc(o.xTitle)}</text>`);
  const gw = pw / o.groups.length;
  const bw = Math.min(28, (gw * 0.84) / o.series.length);
  o.groups.forEach((g, gi) => {
    const gx = m.l + gi * gw + (gw - bw * o.series.length) / 2;
    out.push(`<text x="${(m.l + gi * gw + gw / 2).toFixed(1)}" y="${m.t + ph + 16}" class="gl" text-anchor="middle">${esc(g)}</text>`);
    o.series.forEach((s, si) => {
      const b = s.bars[gi];
      const x = gx + si * bw, cx = x + bw / 2;
      if (!b || b.value === null || !Number.isFinite(b.value)) {
        out.push(`<text x="${cx.toFixed(1)}" y="${(y(base) - 4).toFixed(1)}" class="vl" text-anchor="middle">${esc(b?.note ?? "-")}</text>`);
        return;
      }
      const y0 = y(base), y1 = y(b.value);
      const top = Math.min(y0, y1), h = Math.max(Math.abs(y1 - y0), 1);
      out.push(`<rect x="${(x + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}"><title>${esc(`${s.name}, ${g}: ${o.fmt(b.value)}${b.note ? ` (${b.note})` : ""}`)}</title></rect>`);
      if (b.lo !== undefined && b.hi !== undefined) {
        out.push(`<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${y(b.lo).toFixed(1)}" y2="${y(b.hi).toFixed(1)}" class="wh"/>`);
      }
      const up = b.value >= base;
      const ly = up ? Math.min(y1, b.hi !== undefined ? y(b.hi) : y1) - 3 : Math.max(y1, b.lo !== undefined ? y(b.lo) : y1) + 3;
      const text = o.fmt(b.value) + (b.note ? ` ${b.note}` : "");
      if (o.flatLabels) out.push(`<text x="${cx.toFixed(1)}" y="${(up ? ly - 2 : ly + 10).toFixed(1)}" class="vl" text-anchor="middle">${esc(text)}</text>`);
      else out.push(`<text transform="translate(${(cx + 3).toFixed(1)} ${ly.toFixed(1)}) rotate(-90)" class="vl" text-anchor="${up ? "start" : "end"}">${esc(text)}</text>`);
    });
  });
  if (o.ref !== undefined) {
    const yy = y(o.ref).toFixed(1);
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${yy}" y2="${yy}" class="ref"/>`);
    if (o.refLabel) out.push(`<text x="${m.l + pw - 2}" y="${(y(o.ref) - 4).toFixed(1)}" class="rl" text-anchor="end">${esc(o.refLabel)}</text>`);
  }
  out.push("</svg>");
  return out.join("");
}

function legend(items: { name: string; color: string }[]): string {
  return `<div class="legend">${items.map((i) => `<span><i style="background:${i.color}"></i>${esc(i.name)}</span>`).join("")}</div>`;
}

function table(head: string[], rows: (string | number)[][], cls = ""): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const tr = rows.map((r) => `<tr>${r.map((c, k) => `<td${k > 0 ? ' class="n"' : ""}>${esc(String(c))}</td>`).join("")}</tr>`).join("\n");
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

const fmtRatio = (v: number) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)) + "×";
const fmtNum = (v: number) => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The report as the JSON file holds it (arrays of numbers on one line). */
function reportJson(report: object): string {
  return JSON.stringify(report, null, 2).replace(/\[\s*(-?[\d.]+(?:,\s*-?[\d.]+)*)\s*\]/g, (_m, inner: string) => `[${inner.split(/,\s*/).join(", ")}]`) + "\n";
}

const Q6_METHOD = [
  `Q6: a probe (empty pre handler, counting hits per ctx.proc.pid) on work() of bench/programs/counted.c (gcc -O1 -static), registered and attached to the first process before it runs; that process is /bin/sh -c '${MP_SCRIPT.replaceAll(countedBin, "counted").replaceAll(otherBin, "other")}' (dash), which runs counted ${MP.calls} ${MP.probedRuns} times, then 'other' (a copy of the same binary: another file, never probed, the same work) ${MP.unrelatedRuns} times. Every run is a fresh MemSystem (cold page cache: the first run of each program is 'cold', the later ones 'warm'). Per process figures come from cli/demo.ts ProcessLedger: each engine slice's change of the counters, its page-cache reads and its writes are charged to the process that ran it (one engine runs at a time; a fork's copy and the new engine are the parent's). Cases (no probes, then each strategy) in a shuffled order per round after one warm-up round; V8's defaults and the CPU view, as faultline runs. Hits exact: each probed process's hits equal its own count of work() entries, and unrelated processes and the shell have none; gdbHitsPerRun is gdb's breakpoint hit count for one native run of counted.`,
];

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (process.env.STRATEGIES_HTML_ONLY) { // re-renders the page from the JSON of the last run
    const report = JSON.parse(fs.readFileSync(path.join(resultsDir, "strategies.json"), "utf8")) as Report;
    fs.writeFileSync(path.join(resultsDir, "strategies.html"), renderHtml(report));
    console.log("wrote bench/results/strategies.html from bench/results/strategies.json");
    return;
  }
  const started = Number(process.env.STRATEGIES_STARTED ?? Date.now());
  const log = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${s}`);
  fs.mkdirSync(resultsDir, { recursive: true });
  const probedPagesWithSites = new Set(sites.offsets.map((o) => Math.floor(o / PAGE_SIZE))).size;

  // Warm-up (JIT, capstone): not recorded.
  for (const strat of STRATEGIES) {
    const sys = new MemSystem();
    const up = new Uprobes(sys, strategyNamed(strat.name, strat.pin));
    const consumer: Consumer = { pre: () => {} };
    tearDown(up, (await registerSpread(up, 50, consumer)).probes, consumer);
    sys.close();
  }

  // Q4, with V8's defaults; then the child does the rest (see NODE_FLAGS).
  const hitCases: HitCase[] = [{ id: "unprobed", strat: null, spot: null, where: null, samples: [] }];
  for (const strat of STRATEGIES) {
    hitCases.push({ id: `${strat.id}/nop`, strat, spot: "nop", where: "target_nop", samples: [] });
    hitCases.push({ id: `${strat.id}/add`, strat, spot: "add", where: "target_add", samples: [] });
  }
  if (ROLE === "main" && process.env.STRATEGIES_ONLY_Q6) {
    const q6 = await measureProcesses();
    const report = JSON.parse(fs.readFileSync(path.join(resultsDir, "strategies.json"), "utf8")) as Report & { method: string[] };
    report.q6Processes = { ...q6, date: new Date().toISOString(), load: os.loadavg().map(r3) };
    report.method = report.method.filter((m) => !m.startsWith("Q6:")).concat(Q6_METHOD);
    fs.writeFileSync(path.join(resultsDir, "strategies.json"), reportJson(report));
    fs.writeFileSync(path.join(resultsDir, "strategies.html"), renderHtml(report));
    for (const line of q6Lines(q6)) console.log(line);
    log("wrote Q6 into bench/results/strategies.json and .html (the other questions as they were)");
    return;
  }
  if (ROLE === "main") {
    log(`probed file: copy of ${LIBC}, ${FILE_BYTES} bytes, ${PAGES} whole pages; ${sites.functions} functions, ` +
      `${sites.offsets.length} probeable instruction starts on ${probedPagesWithSites} pages`);
    const hotExpectQ4 = execFileSync(hotBin, [String(CALLS)], { encoding: "utf8" });
    for (let round = -1; round < HIT_SAMPLES; round++) {
      for (const c of shuffled(hitCases, 500 + round)) {
        const ms = await hitRun(c, hotExpectQ4);
        if (round >= 0) c.samples.push(ms);
      }
    }
    log("Q4 done");
    const q6File = path.join(tmp, "q6.json");
    fs.writeFileSync(q6File, JSON.stringify({ ...await measureProcesses(), date: new Date().toISOString(), load: os.loadavg().map(r3) }));
    log("Q6 done; the fault-path phases run in a child process with --single-threaded-gc");
    const q4File = path.join(tmp, "q4.json");
    fs.writeFileSync(q4File, JSON.stringify(hitCases.map((c) => ({ id: c.id, samples: c.samples }))));
    const child = spawnSync(process.execPath, [...NODE_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: "inherit", env: { ...process.env, STRATEGIES_ROLE: "faults", STRATEGIES_Q4: q4File, STRATEGIES_Q6: q6File, STRATEGIES_STARTED: String(started) },
    });
    process.exitCode = child.status ?? 1;
    return;
  }
  const q4Samples = new Map((JSON.parse(fs.readFileSync(process.env.STRATEGIES_Q4!, "utf8")) as { id: string; samples: number[] }[]).map((x) => [x.id, x.samples]));
  for (const c of hitCases) c.samples = q4Samples.get(c.id) ?? [];

  // Q5.
  const hotElf = readSymbols(hotBin);
  const probedIndex = Math.floor(resolveSpec(hotElf, "target_nop").offset / PAGE_SIZE);
  const evictExpect = execFileSync(hotBin, [String(EVICT.calls), String(EVICT.rounds), pressurePath, String(EVICT.filePages)], { encoding: "utf8" });
  const evictRuns = new Map<string, EvictRun[]>();
  for (let r = 0; r < EVICT.runs; r++) {
    for (const strat of [null, ...STRATEGIES]) {
      const id = strat?.id ?? "unprobed";
      if (!evictRuns.has(id)) evictRuns.set(id, []);
      evictRuns.get(id)!.push(await evictRun(strat, probedIndex, evictExpect));
    }
  }
  log("Q5 done");

  // Q1-Q3. These phases create ~1,000 processes: see CPU_VIEW_NOTE.
  const cpuViewWas = process.env.FAULTLINE_NO_CPU_VIEW;
  process.env.FAULTLINE_NO_CPU_VIEW = "1";
  const newCase = (strat: StrategyDef | null, n: number, id: string): Case => ({
    id, strat, n, faults: { majorProbed: [], minorProbed: [], majorUnrelated: [], minorUnrelated: [] }, reg: [], skipped: 0, probedPages: 0, viewMs: [],
  });
  // A second no-probes case (A/A control): its ratio to the first is the noise floor.
  const baseline = newCase(null, 0, "no probes"), control = newCase(null, 0, "no probes (control)");
  const cases: Case[] = [baseline, control, ...COUNTS.flatMap((n) => STRATEGIES.map((s) => newCase(s, n, `${s.id}/${n}`)))];

  // Q1: one long-lived system per case; rounds over all of them in a shuffled order, round -1 = warm-up.
  const sessions: Session[] = [];
  for (const c of cases) sessions.push(await openSession(c));
  for (let round = -1; round < SAMPLES; round++) {
    const t = Date.now();
    for (const s of shuffled(sessions, 1000 + round)) faultSample(s, round, round >= 0);
    log(`Q1 round ${round < 0 ? "warm-up" : `${round + 1}/${SAMPLES}`} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
  for (const s of sessions) {
    tearDown(s.up, s.probes, s.consumer);
    s.sys.close();
  }

  // Q2: fresh systems, cases interleaved.
  for (let round = -1; round < REG_SAMPLES; round++) {
    for (const c of shuffled(cases.filter((x) => x.strat && x.n > 0), 2000 + round)) {
      if (round < 0) { // warm-up: not recorded
        const keep = c.reg.length;
        await registrationSample(c);
        c.reg.length = keep;
      } else await registrationSample(c);
    }
  }
  log("Q2 done");

  // Q3.
  const holds = new Map<Case, HoldResult>();
  for (const c of cases) if (c !== control) holds.set(c, await holdSample(c));
  log("Q3 done");
  if (cpuViewWas === undefined) delete process.env.FAULTLINE_NO_CPU_VIEW;
  else process.env.FAULTLINE_NO_CPU_VIEW = cpuViewWas;

  // ------------------------------------------------------------ results
  const base = Object.fromEntries(FAULT_KEYS.map((k) => [k, median(baseline.faults[k])])) as Record<FaultKey, number>;
  const q1 = cases.filter((s) => s.strat).map((s) => ({
    strategy: s.strat!.id,
    probes: s.n,
    probedPages: s.probedPages,
    sitesSkipped: s.skipped,
    ...Object.fromEntries(FAULT_KEYS.map((k) => [k, {
      medianNsPerPage: r1(median(s.faults[k])),
      ratio: r3(median(s.faults[k]) / base[k]),
      iqrRatio: [r3(quantile(s.faults[k], 0.25) / base[k]), r3(quantile(s.faults[k], 0.75) / base[k])],
      samples: s.faults[k].map(r1),
    }])),
  })) as ({ strategy: string; probes: number; probedPages: number; sitesSkipped: number } &
    Record<FaultKey, { medianNsPerPage: number; ratio: number; iqrRatio: number[]; samples: number[] }>)[];
  const controlRatio = Object.fromEntries(FAULT_KEYS.map((k) => [k, {
    medianNsPerPage: r1(median(control.faults[k])), ratio: r3(median(control.faults[k]) / base[k]), samples: control.faults[k].map(r1),
  }])) as Record<FaultKey, { medianNsPerPage: number; ratio: number; samples: number[] }>;

  const q2 = cases.filter((c) => c.strat && c.n > 0).map((c) => {
    const per = (f: (x: RegSample) => number) => r3((median(c.reg.map(f)) / c.n) * 1000);
    return {
      strategy: c.strat!.id, probes: c.n, samples: c.reg.length,
      registerUsPerProbe: per((x) => x.regMs), armUsPerProbe: per((x) => x.armMs),
      unregisterUsPerProbe: per((x) => x.unregMs), disarmUsPerProbe: per((x) => x.disarmMs),
      samplesMs: {
        register: c.reg.map((x) => r3(x.regMs)), arm: c.reg.map((x) => r3(x.armMs)),
        unregister: c.reg.map((x) => r3(x.unregMs)), disarm: c.reg.map((x) => r3(x.disarmMs)),
      },
    };
  });

  const bh = holds.get(baseline)!.whileMapped;
  const q3 = cases.filter((s) => s.strat).map((s) => {
    const hr = holds.get(s)!, h = hr.whileMapped;
    return {
      strategy: s.strat!.id, probes: s.n, probedPages: s.probedPages,
      afterRegistration: hr.afterRegistration,
      whileMapped: h,
      extraAnonPages: h.anonPages - bh.anonPages,
      extraResidentPages: h.anonPages + h.filePages - (bh.anonPages + bh.filePages),
      residentRatio: r3((h.anonPages + h.filePages) / (bh.anonPages + bh.filePages)),
      anonRatio: r3(h.anonPages / bh.anonPages),
      anonPagesAfterExit: hr.anonAfterExit,
    };
  });

  const unprobedMs = median(hitCases[0].samples);
  const q4 = hitCases.map((c) => {
    const ms = median(c.samples);
    return {
      case: c.id, strategy: c.strat?.id ?? null, spot: c.spot,
      kind: c.spot === "nop" ? "emulated" : c.spot === "add" ? "single-stepped" : "baseline",
      medianRunMs: r3(ms), samplesMs: c.samples.map(r3), hits: c.strat ? CALLS : 0,
      runRatio: r3(ms / unprobedMs),
      nsPerHit: c.strat ? r1(((ms - unprobedMs) * 1e6) / CALLS) : null,
    };
  });

  const q5 = [...evictRuns].map(([id, runs]) => ({
    strategy: id,
    expectedHits: runs[0].expected,
    countedHits: runs.map((x) => x.counted),
    keptFraction: runs[0].expected ? r3(median(runs.map((x) => x.counted)) / runs[0].expected) : null,
    probedPageReads: runs.map((x) => x.probedPageReads),
    evictions: runs.map((x) => x.evictions),
    majorFaults: runs.map((x) => x.majorFaults),
    outputMatchesNative: runs.every((x) => x.outputOk),
  }));

  const seconds = r1((Date.now() - started) / 1000);
  const settings = {
    probedFile: { source: LIBC, bytes: FILE_BYTES, pagesScanned: PAGES, functions: sites.functions, probeableInstructionStarts: sites.offsets.length,
      pagesWithProbeableStarts: probedPagesWithSites, refusedByAnalyzeInsn: sites.refused, functionsCutShortByDecoder: sites.undecodable },
    unrelatedFile: { bytes: FILE_BYTES, content: "random" },
    probeCounts: COUNTS,
    faultSamples: SAMPLES,
    registrationSamples: REG_SAMPLES,
    hitCalls: CALLS,
    hitSamples: HIT_SAMPLES,
    eviction: EVICT,
    memSystemConfig: DEFAULT_CONFIG,
  };
  const method = [
    "cow keeps every attached address space until its next arm/disarm/copiesHeld() (kprobes/strategy-cow.ts live()); each holds 1 GiB+ views of its memory, and with hundreds kept V8 collected garbage on nearly every allocation (rounds of every case went from ~11 to ~19 s). The bench calls copiesHeld() after each process exits, which drops it, as an exit hook would.",
    "Every ratio is (median with probes) / (median with no probes), both measured in this run, interleaved. Q1: one long-lived MemSystem per case (strategy x probe count, and no probes twice: the second one is an A/A control whose ratio is the noise floor), probes registered once; rounds visit them in a shuffled order after one warm-up round. Cold cache: before each sample both files are evicted from that system's page cache (evictPage, like drop_caches); unevictable (pinned) pages stay, and for preload without pin so do the pages it read at registration (no memory pressure: that is Q5). (A fresh MemSystem per sample, new memfds and views each time, gave about twice the spread: interquartile range ~700 vs ~270 ns/page over 60 no-probe runs.) Right before each timed guest run (after exec and attach) the JS view of the 1 GiB chunk of process memory that will hold the file mapping is created and a full GC runs: JavaScript's first touch of a chunk of process memory creates a 1 GiB external ArrayBuffer (lib/hostmem.ts), which starts V8 incremental marking for 'external memory pressure', and the full collection ending it (30-50 ms with this benchmark's heap) otherwise lands inside timed scans: at random after exec's own views, and in every process where cow writes its first breakpoint (cow/1 then measured 9.5x on major faults). A 64 MiB V8 young generation keeps scavenges out of the sub-millisecond timed scans, and Q1-Q3 and Q5 run in a child process with V8's --single-threaded-gc: its background GC threads (sweeping, unmapping) otherwise overlapped the next timed scan on this 2-core machine and put ~17% of the major-fault samples into a 2-10x tail (~3% with the flag).",
    "Q1: guest/touch.c 'file PAGES FILE', twice per file per sample (files in alternating order): major = scan 1 of the first run, the file not yet in faultline's page cache (readahead 32 + fault-around 16, the defaults); minor = scan 3 (after munmap+mmap, pages cached) of the second run. Scan 3 of the first run is not used: it runs faster the longer its scan 1 took, even with no probes (reproduced with a busy-wait in a read hook), which would credit slow major faults with fast minor ones. Figure: guest-reported ns / page.",
    "When a case's system is set up, both files' page-cache memory is touched from JavaScript once (no probes included) (AddressSpace.pageBytes), creating its view (a 1 GiB+ external ArrayBuffer): a one-time cost per file and system (oneTimeViewMs) that a strategy writing breakpoints into the cache would otherwise pay inside its first timed scan, with no per-page meaning. cow's equivalent, per process, is taken out by the pre-run view (previous note).",
    "Probes on the probed file sit on evenly spread instruction starts of its functions (decoded with kprobes/insn.ts and accepted by analyzeInsn; a site the registry refuses would be skipped for the next one: sitesSkipped). Probe count 0 = the strategy's Uprobes created and attached to every process, nothing registered; 'no probes' = no Uprobes at all.",
    "Q2: on a fresh MemSystem per sample (cases interleaved, one warm-up round), wall time of uprobes.register() for the N probes / N (a fresh Uprobes each time, so it includes reading the file's symbols once), of unregister() for all of them / N, and the parts spent in the strategy's arm()/disarm() (timed by wrapping them).",
    "Q3: on a fresh system with the case's probes, a guest maps the probed file MAP_PRIVATE PROT_READ|PROT_EXEC, reads a byte of each page and writes to stdout; the numbers are taken during that write (mapping live). Extra pages = minus the same with no probes. One sample (the counts are deterministic).",
    "Q4: runs first, in the process started by the user, with V8's default flags (as faultline runs; under --single-threaded-gc per-hit figures moved by up to 30% from strategy to strategy with GC work on the main thread). A static C program calls target() CALLS times; one probe with an empty pre handler on a nop (emulated) or on add $3,%rax (single-stepped); fresh MemSystem per run, only proc.run timed; per hit = (median probed - median unprobed) / CALLS.",
    `Q5: RAM limit ${EVICT.ramLimitPages} pages; the program does ${EVICT.rounds} rounds of ${EVICT.calls} calls of target() (on a page of its own, probed at its nop) then a scan of a ${EVICT.filePages}-page file, so reclaim evicts target's page between rounds. probedPageReads counts reads of that page from the file (an observer read hook, not a probe).`,
    CPU_VIEW_NOTE,
    ...Q6_METHOD,
  ];
  const report = {
    benchmark: "strategies",
    date: new Date().toISOString(),
    host: { node: process.version, platform: `${os.type()} ${os.release()} ${os.arch()}`, cpu: os.cpus()[0]?.model, cpus: os.cpus().length },
    seconds,
    settings,
    method,
    q1FaultCost: {
      unit: "guest-reported ns per page, median; ratio = median / no-probes median; iqrRatio = quartiles of the samples / no-probes median",
      noProbes: Object.fromEntries(FAULT_KEYS.map((k) => [k, { medianNsPerPage: r1(base[k]), samples: baseline.faults[k].map(r1) }])),
      oneTimeViewMs: { note: "creating the JS views of both files' page-cache memory on a fresh system (done before timing in every case), median over the no-probes samples", median: r3(median(baseline.viewMs.concat(control.viewMs))), samples: baseline.viewMs.concat(control.viewMs).map(r3) },
      noProbesControl: { note: "a second system with no probes, measured like the others: its ratio to the first is the noise floor (A/A)", ...controlRatio },
      results: q1,
    },
    q2Registration: { unit: "microseconds per probe (median over samples)", results: q2 },
    q3Memory: { unit: "pages of 4 KiB", noProbes: { whileMapped: bh, afterRegistration: holds.get(baseline)!.afterRegistration }, results: q3 },
    q4PerHit: { unit: "ms per run (proc.run only), ns per hit", calls: CALLS, results: q4 },
    q5PreloadEviction: { results: q5 },
    q6Processes: JSON.parse(fs.readFileSync(process.env.STRATEGIES_Q6!, "utf8")) as Q6Report & { date: string; load: number[] },
  };
  const json = reportJson(report);
  fs.writeFileSync(path.join(resultsDir, "strategies.json"), json);

  // ------------------------------------------------------------ stdout
  const pad = (rows: string[][]) => {
    const w = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
    return rows.map((r) => r.map((x, k) => (k === 0 ? x.padEnd(w[k]) : x.padStart(w[k]))).join("  ")).join("\n");
  };
  console.log(`\nQ1 fault cost per page, ratio to no probes (no probes: major ${base.majorProbed.toFixed(0)} / ${base.majorUnrelated.toFixed(0)} ns, ` +
    `minor ${base.minorProbed.toFixed(0)} / ${base.minorUnrelated.toFixed(0)} ns per page, probed / unrelated)`);
  console.log(pad([["strategy", "probes", "major probed", "minor probed", "major unrelated", "minor unrelated"],
    ["control", "0", ...FAULT_KEYS.map((k) => fmtRatio(controlRatio[k].ratio))],
    ...q1.map((e) => [e.strategy, String(e.probes), ...FAULT_KEYS.map((k) => fmtRatio(e[k].ratio))])]));
  console.log("\nQ2 registration / unregistration, us per probe (arm / disarm part)");
  console.log(pad([["strategy", "probes", "register", "arm", "unregister", "disarm"],
    ...q2.map((e) => [e.strategy, String(e.probes), fmtNum(e.registerUsPerProbe), fmtNum(e.armUsPerProbe), fmtNum(e.unregisterUsPerProbe), fmtNum(e.disarmUsPerProbe)])]));
  console.log("\nQ3 memory (pages)");
  console.log(pad([["strategy", "probes", "cached at reg.", "pinned", "extra anon (mapped)", "resident ratio"],
    ...q3.filter((e) => e.probes > 0).map((e) => [e.strategy, String(e.probes), String(e.afterRegistration.probedFileCached), String(e.whileMapped.pinnedPages),
      String(e.extraAnonPages), fmtRatio(e.residentRatio)])]));
  console.log(`\nQ4 cost per hit (${CALLS} calls; unprobed run ${unprobedMs.toFixed(1)} ms)`);
  console.log(pad([["case", "run ms", "ratio", "ns/hit"], ...q4.map((e) => [e.case, e.medianRunMs.toFixed(1), fmtRatio(e.runRatio), e.nsPerHit === null ? "-" : e.nsPerHit.toFixed(0)])]));
  console.log(`\nQ5 RAM limit ${EVICT.ramLimitPages} pages: hits counted / expected`);
  console.log(pad([["strategy", "expected", "counted", "probed page reads", "evictions"],
    ...q5.map((e) => [e.strategy, String(e.expectedHits), e.countedHits.join(" "), e.probedPageReads.join(" "), e.evictions.join(" ")])]));

  console.log("");
  for (const line of q6Lines(report.q6Processes)) console.log(line);

  // ------------------------------------------------------------ HTML
  const html = renderHtml(JSON.parse(json) as Report);
  fs.writeFileSync(path.join(resultsDir, "strategies.html"), html);
  console.log(`\nwrote bench/results/strategies.json and bench/results/strategies.html (${seconds} s)`);
}

// ---------------------------------------------------------------- the page

interface FaultCell { medianNsPerPage: number; ratio: number; iqrRatio: number[] }

/** What the page reads from the report (bench/results/strategies.json). */
interface Report {
  date: string;
  seconds: number;
  host: { node: string; platform: string; cpu?: string; cpus: number };
  settings: {
    probedFile: { source: string; bytes: number; pagesScanned: number; pagesWithProbeableStarts: number };
    probeCounts: number[]; faultSamples: number; registrationSamples: number; hitCalls: number; hitSamples: number;
    eviction: typeof EVICT;
  };
  q1FaultCost: {
    noProbes: Record<FaultKey, { medianNsPerPage: number }>;
    noProbesControl: Record<FaultKey, { medianNsPerPage: number; ratio: number }>;
    results: ({ strategy: string; probes: number } & Record<FaultKey, FaultCell>)[];
  };
  q2Registration: {
    results: { strategy: string; probes: number; samples: number; registerUsPerProbe: number; armUsPerProbe: number; unregisterUsPerProbe: number; disarmUsPerProbe: number }[];
  };
  q3Memory: {
    noProbes: { whileMapped: MemSnapshot };
    results: {
      strategy: string; probes: number; probedPages: number; afterRegistration: { probedFileCached: number; pinnedPages: number };
      whileMapped: MemSnapshot; extraAnonPages: number; residentRatio: number;
    }[];
  };
  q4PerHit: { calls: number; results: { strategy: string | null; spot: string | null; medianRunMs: number; runRatio: number; nsPerHit: number | null }[] };
  q5PreloadEviction: {
    results: { strategy: string; expectedHits: number; countedHits: number[]; keptFraction: number | null; probedPageReads: number[]; evictions: number[]; outputMatchesNative: boolean }[];
  };
  /** Absent from reports written before Q6 existed. */
  q6Processes?: Q6Report & { date: string; load: number[] };
}

/** Question 6's part of the page: a chart of cost ratios per kind of process, and the raw figures. */
function q6Section(q: Q6Report & { date: string; load: number[] }): string {
  const kinds = [["probedColdMs", "probed program, first run"], ["probedWarmMs", "probed program, later runs"], ["unrelatedWarmMs", "unrelated program, later runs"], ["shellMs", "the shell"]] as const;
  const strategies = STRATEGIES.filter((s) => q.results.some((e) => e.strategy === s.id));
  const of = (id: string) => q.results.find((e) => e.strategy === id)!;
  const chart = barChart({
    title: "CPU time per process, × the same with no probes",
    groups: kinds.map((k) => k[1]), xTitle: "process", yTitle: "× cost with no probes",
    series: strategies.map((s) => ({ name: s.label, color: s.color, bars: kinds.map(([k]) => ({ value: of(s.id)[k].ratio })) })),
    base: 0, ref: 1, fmt: fmtRatio, width: 760, height: 300,
  });
  const rows = q.results.map((e) => [e.strategy,
    ...(["probedColdMs", "probedWarmMs", "unrelatedColdMs", "unrelatedWarmMs", "shellMs"] as const).map((k) => `${e[k].median.toFixed(1)} (${fmtRatio(e[k].ratio)})`),
    e.hitsExact ? `yes (${e.hitsPerProbedProcess.join(",")} per process)` : "NO", e.breakpointCopiesPerProbedProcess.join(","), e.extraAnonPagesWhileProbedRuns, e.cachedBreakpointPages.join(","), e.pinnedPages.join(",")]);
  const s = q.settings;
  return `
<h2>6. Several processes: a probed program started by a shell, beside an unrelated one</h2>
<p class="cap">A probe on <code>work()</code> of a small C program, registered before a shell starts; the shell runs <code>${esc(q.script)}</code>: the probed program ${s.probedRuns} times (${s.calls.toLocaleString("en-US")} calls of work each), then an unrelated program
(the same binary copied to another file: the same work, never probed) ${s.unrelatedRuns} times. Each bar is a process's CPU time (faultline's, over its engine slices: instructions, faults, system calls, exec) divided by the same with no probes; the dashed line at 1.0 is "no extra cost".
Medians of ${s.samples} shell runs per case (fresh memory system each: the first run of a program faults its file in), measured ${esc(q.date)}, load ${q.load.join(" ")}. gdb's hit count for one native run: ${q.gdbHitsPerRun ?? "unavailable"}.</p>
${legend(strategies.map((x) => ({ name: x.label, color: x.color })))}
${chart}
<details open><summary>Raw figures: ms per process (ratio to no probes); pages of 4 KiB</summary>
${table(["strategy", "probed, first", "probed, later", "unrelated, first", "unrelated, later", "shell", "hits exact", "breakpoint copies per probed process", "extra anon pages while a probed process runs", "page-cache pages with the breakpoint", "pinned"], rows)}
</details>`;
}

/** The page: everything from the report, so that it can be re-rendered from the JSON alone. */
function renderHtml(r: Report): string {
  const set = r.settings;
  const counts = set.probeCounts;
  const regCounts = counts.filter((n) => n > 0);
  const big = Math.max(...counts);
  const num = (n: number) => n.toLocaleString("en-US");
  const countLabel = (n: number) => `${num(n)} probe${n === 1 ? "" : "s"}`;
  const label = (id: string) => STRATEGIES.find((s) => s.id === id)?.label ?? id;
  const q1Of = (id: string, n: number) => r.q1FaultCost.results.find((e) => e.strategy === id && e.probes === n)!;
  const q2Of = (id: string, n: number) => r.q2Registration.results.find((e) => e.strategy === id && e.probes === n)!;
  const q3Of = (id: string, n: number) => r.q3Memory.results.find((e) => e.strategy === id && e.probes === n)!;
  const q4Of = (id: string | null, spot: string | null) => r.q4PerHit.results.find((e) => e.strategy === id && e.spot === spot)!;
  const q5Of = (id: string) => r.q5PreloadEviction.results.find((e) => e.strategy === id)!;
  const base = (k: FaultKey) => r.q1FaultCost.noProbes[k].medianNsPerPage;
  const ctrl = (k: FaultKey) => r.q1FaultCost.noProbesControl[k].ratio;
  const ids = STRATEGIES.map((s) => s.id);
  const range = (xs: number[], f: (v: number) => string) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
  const lg = legend(STRATEGIES.map((s) => ({ name: s.label, color: s.color })));
  const ev = set.eviction;

  // Summary, from the numbers.
  const unrel = ids.flatMap((id) => counts.filter((n) => n > 0).flatMap((n) => [q1Of(id, n).majorUnrelated.ratio, q1Of(id, n).minorUnrelated.ratio]));
  const zero = ids.flatMap((id) => FAULT_KEYS.map((k) => q1Of(id, 0)[k].ratio)).concat(FAULT_KEYS.map(ctrl));
  const hitsNop = ids.map((id) => q4Of(id, "nop").nsPerHit ?? NaN), hitsAdd = ids.map((id) => q4Of(id, "add").nsPerHit ?? NaN);
  const summary = [
    `<b>Unrelated file</b>: with 1 to ${num(big)} probes on the other file, every strategy's major- and minor-fault cost on it is ${range(unrel, fmtRatio)} of the no-probes cost; ` +
      `cases that cannot differ from no probes (0 probes, and a second no-probes system) spread over ${range(zero, fmtRatio)}: that is the noise.`,
    `<b>Probed file, ${num(big)} probes</b>: major faults ${ids.map((id) => `${label(id)} ${fmtRatio(q1Of(id, big).majorProbed.ratio)}`).join(", ")}; ` +
      `minor faults ${ids.map((id) => `${label(id)} ${fmtRatio(q1Of(id, big).minorProbed.ratio)}`).join(", ")}.`,
    `<b>Registration</b>: ${range(ids.map((id) => q2Of(id, big).registerUsPerProbe), fmtNum)} µs per probe when registering ${num(big)}, ` +
      `${range(ids.map((id) => q2Of(id, regCounts[0]).registerUsPerProbe / 1000), (v) => v.toFixed(1))} ms for a single probe (the file's symbols are read once per registry); unregistering costs ${range(ids.map((id) => q2Of(id, big).unregisterUsPerProbe), fmtNum)} µs per probe.`,
    `<b>Memory</b> (${num(big)} probes on ${q3Of("preload", big).probedPages} pages): preload reads those pages at registration, preload --pin also pins them (${q3Of("preload-pin", big).afterRegistration.pinnedPages} pages that reclaim can never take); ` +
      `cow adds ${q3Of("cow", big).extraAnonPages} anonymous pages (private copies) to every process that maps them; aops and notifier hold nothing extra.`,
    `<b>Per hit</b>: ${range(hitsNop, (v) => v.toFixed(0))} ns for an emulated nop and ${range(hitsAdd, (v) => v.toFixed(0))} ns for a single-stepped add, whatever the strategy.`,
    `<b>Under memory pressure</b>, preload without pin counted ${num(median(q5Of("preload").countedHits))} of ${num(q5Of("preload").expectedHits)} hits; ` +
      `${ids.filter((id) => id !== "preload" && q5Of(id).keptFraction === 1).map(label).join(", ")} counted all of them.`,
  ];

  // Q1: one shared log domain over the four panels.
  const q1Vals = ids.flatMap((id) => counts.flatMap((n) => FAULT_KEYS.flatMap((k) => [q1Of(id, n)[k].ratio, ...q1Of(id, n)[k].iqrRatio])));
  const q1Domain = domainOf(q1Vals, true, 1);
  const q1Panel = (k: FaultKey, title: string) => barChart({
    title: `${title} (no probes: ${base(k).toFixed(0)} ns/page)`,
    groups: counts.map(countLabel), xTitle: "probes registered on the probed file", yTitle: "× cost with no probes (log scale)",
    series: STRATEGIES.map((s) => ({ name: s.label, color: s.color, bars: counts.map((n) => {
      const e = q1Of(s.id, n)[k];
      return { value: e.ratio, lo: e.iqrRatio[0], hi: e.iqrRatio[1] };
    }) })),
    log: true, base: 1, ref: 1, fmt: fmtRatio, domain: q1Domain,
  });
  const q1Rows = [
    ["no probes", "-", ...FAULT_KEYS.map((k) => base(k).toFixed(0))],
    ["no probes, second system (noise floor)", "-", ...FAULT_KEYS.map((k) => `${r.q1FaultCost.noProbesControl[k].medianNsPerPage.toFixed(0)} (${fmtRatio(ctrl(k))})`)],
    ...STRATEGIES.flatMap((s) => counts.map((n) => {
      const e = q1Of(s.id, n);
      return [s.label, num(n), ...FAULT_KEYS.map((k) => `${e[k].medianNsPerPage.toFixed(0)} (${fmtRatio(e[k].ratio)})`)];
    })),
  ];

  // Q2.
  const q2Panel = (field: "registerUsPerProbe" | "unregisterUsPerProbe", title: string) => barChart({
    title, groups: regCounts.map(countLabel), xTitle: "probes registered (N)", yTitle: "µs per probe (log scale)",
    series: STRATEGIES.map((s) => ({ name: s.label, color: s.color, bars: regCounts.map((n) => ({ value: q2Of(s.id, n)[field] })) })),
    log: true, fmt: fmtNum,
  });
  const q2Rows = STRATEGIES.flatMap((s) => regCounts.map((n) => {
    const e = q2Of(s.id, n);
    return [s.label, num(n), fmtNum(e.registerUsPerProbe), fmtNum(e.armUsPerProbe), fmtNum(e.unregisterUsPerProbe), fmtNum(e.disarmUsPerProbe), e.samples];
  }));

  // Q3.
  const q3Panel = (f: (id: string, n: number) => number, title: string) => barChart({
    title, groups: regCounts.map(countLabel), xTitle: "probes registered on the probed file", yTitle: "pages (4 KiB)",
    series: STRATEGIES.map((s) => ({ name: s.label, color: s.color, bars: regCounts.map((n) => ({ value: f(s.id, n) })) })),
    fmt: (v) => String(Math.round(v)),
  });
  const q3Rows = STRATEGIES.flatMap((s) => regCounts.map((n) => {
    const e = q3Of(s.id, n);
    return [s.label, num(n), e.probedPages, e.afterRegistration.probedFileCached, e.afterRegistration.pinnedPages,
      e.extraAnonPages, e.whileMapped.privateCopiesMade, e.whileMapped.anonPages + e.whileMapped.filePages, fmtRatio(e.residentRatio)];
  }));
  const bw = r.q3Memory.noProbes.whileMapped;

  // Q4.
  const unprobed = q4Of(null, null);
  const q4Panel = barChart({
    title: `cost per hit (no probe: ${unprobed.medianRunMs.toFixed(0)} ms for ${num(r.q4PerHit.calls)} calls)`,
    groups: ["nop (emulated)", "add $3,%rax (single-stepped)"], xTitle: "probed instruction", yTitle: "ns per hit",
    series: STRATEGIES.map((s) => ({ name: s.label, color: s.color, bars: ["nop", "add"].map((spot) => ({ value: q4Of(s.id, spot).nsPerHit })) })),
    fmt: (v) => v.toFixed(0),
  });
  const q4Rows = [["no probe", "-", unprobed.medianRunMs.toFixed(1), "1.00×", "-"],
    ...STRATEGIES.flatMap((s) => ["nop", "add"].map((spot) => {
      const e = q4Of(s.id, spot);
      return [s.label, spot === "nop" ? "nop (emulated)" : "add (stepped)", e.medianRunMs.toFixed(1), fmtRatio(e.runRatio), e.nsPerHit === null ? "-" : e.nsPerHit.toFixed(0)];
    }))];

  // Q5.
  const q5Panel = barChart({
    title: `hits counted, % of the ${num(ev.rounds * ev.calls)} expected`,
    groups: STRATEGIES.map((s) => s.label), xTitle: "strategy", yTitle: "% of expected hits counted",
    series: [{ name: "counted", color: "#555", bars: STRATEGIES.map((s) => {
      const e = q5Of(s.id);
      return { value: (e.keptFraction ?? 0) * 100, note: `(${num(Math.round(median(e.countedHits)))})` };
    }) }],
    fmt: (v) => `${v.toFixed(0)}%`, domain: [0, 125], ref: 100, flatLabels: true,
  });
  const q5Rows = STRATEGIES.map((s) => {
    const e = q5Of(s.id);
    return [s.label, num(e.expectedHits), e.countedHits.map(num).join(", "), e.probedPageReads.join(", "), e.evictions.map(num).join(", "), e.outputMatchesNative ? "yes" : "NO"];
  });

  const host = r.host, pf = set.probedFile;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>faultline: breakpoint insertion strategies compared</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;max-width:1120px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 4px;border-bottom:1px solid #ddd;padding-bottom:3px}
p.cap{margin:4px 0 8px;color:#333}p.meta{color:#555;font-size:13px}
ul.sum{margin:6px 0 10px 20px;padding:0}ul.sum li{margin:2px 0}
.grid2{display:grid;grid-template-columns:repeat(2,540px);gap:6px 16px}
.legend{margin:6px 0;font-size:13px}.legend span{margin-right:16px;white-space:nowrap}.legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px}
svg{background:#fff}svg .ct{font-size:13px;font-weight:600}svg .tick,svg .gl{font-size:11px;fill:#444}svg .at{font-size:11px;fill:#555}
svg .vl{font-size:9.5px;fill:#222}svg .grid{stroke:#eee}svg .axis{stroke:#888}svg .ref{stroke:#000;stroke-dasharray:5 3}svg .rl{font-size:10px;fill:#000}
svg .wh{stroke:#000;stroke-width:1}
table{border-collapse:collapse;font-size:12.5px;margin:8px 0 4px}th,td{border:1px solid #ddd;padding:2px 7px}th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
details{margin:4px 0}summary{cursor:pointer;color:#333}
</style></head><body>
<h1>Breakpoint insertion strategies: what each one costs, and who pays</h1>
<p>faultline places user-space probes (int3 breakpoints on instructions of a file) in one of five ways:
<b>aops</b> wraps the probed file's page-cache read operations and patches pages as they are read (the 2006 proposal);
<b>notifier</b> runs one global hook after every page-cache read of <i>every</i> file;
<b>preload</b> reads and patches the probed page once at registration (with <b>--pin</b> it keeps that page resident);
<b>cow</b> never writes the page cache: each process gets a private copy of a probed page with the breakpoint (what Linux merged).
Every figure is compared with the same measurement with <b>no probes</b>, taken in the same run, interleaved.</p>
<ul class="sum">${summary.map((x) => `<li>${x}</li>`).join("\n")}</ul>
<p class="meta">Run ${esc(r.date)} on ${esc(host.cpu ?? "?")} ×${host.cpus}, ${esc(host.platform)}, Node ${esc(host.node)}; ${r.seconds} s in all.
Probed file: a copy of ${esc(pf.source)} (${num(pf.bytes)} bytes; the guest scans its ${pf.pagesScanned} whole pages; probes sit on evenly spread instruction starts of its functions, which lie on ${pf.pagesWithProbeableStarts} of its pages).
Unrelated file: random bytes, same size, never probed. Samples: ${set.faultSamples} per case for faults (medians; faultline's page cache emptied of both files before each, one warm-up round),
${set.registrationSamples} per case for registration (fresh memory systems); per-hit runs: ${num(set.hitCalls)} calls, ${set.hitSamples} samples.
Default memory configuration (readahead 32 pages, fault-around 16 pages, no RAM limit) except in question 5.
Questions 1–3 ran with FAULTLINE_NO_CPU_VIEW=1 (the engine's registers read through its API, the same for every case), to spare ~28 ms of CPU-state search in each of ~1,100 emulated processes; questions 1–3 and 5 ran in a child process with V8's --single-threaded-gc and a full collection before every timed run, so that garbage collection stays out of the timed scans; question 4 ran with V8's defaults, as faultline normally runs (method notes in the JSON).</p>
${lg}

<h2>1. Page-fault cost on the probed file and on an unrelated file</h2>
<p class="cap">Each bar is the cost per page of a scan with N probes registered on the probed file, divided by the same scan with no probes: the dashed line at 1.0 means "no extra cost", above it is slower (log scale).
Groups are probe counts, colours are strategies, the thin black line on a bar spans the middle half of its samples.
<b>Top</b>: major faults (first touch of each page of a fresh mapping, file not in faultline's page cache); <b>bottom</b>: minor faults (pages cached, mapping re-created).
<b>Left</b>: the probed file; <b>right</b>: a file with no probes, while probes exist on the other one.
Noise floor: a second system with no probes came out at ${(["majorProbed", "majorUnrelated", "minorProbed", "minorUnrelated"] as FaultKey[]).map((k) => fmtRatio(ctrl(k))).join(", ")} (same panel order), so differences of that size mean nothing.</p>
<div class="grid2">
${q1Panel("majorProbed", "major faults, probed file")}
${q1Panel("majorUnrelated", "major faults, unrelated file")}
${q1Panel("minorProbed", "minor faults, probed file")}
${q1Panel("minorUnrelated", "minor faults, unrelated file")}
</div>
<details open><summary>Raw medians: guest-reported ns per page (ratio to no probes)</summary>
${table(["strategy", "probes", "major, probed", "minor, probed", "major, unrelated", "minor, unrelated"], q1Rows)}
</details>

<h2>2. Registration and unregistration cost</h2>
<p class="cap">Wall time of registering (left) and unregistering (right) N probes on the probed file, divided by N, per strategy (log scale; lower is better).
Registration includes what every strategy shares (reading the ELF symbols, once per registry; a capstone boundary check, once per function; decoding), so a single probe pays all of it;
the table separates the strategy's own part (arm/disarm): preload reads the probed page there.</p>
<div class="grid2">
${q2Panel("registerUsPerProbe", "register: µs per probe")}
${q2Panel("unregisterUsPerProbe", "unregister: µs per probe")}
</div>
<details open><summary>Raw medians: µs per probe</summary>
${table(["strategy", "N", "register", "of which arm()", "unregister", "of which disarm()", "samples"], q2Rows)}
</details>

<h2>3. Memory held</h2>
<p class="cap">Left: pages of the probed file a strategy brings into the page cache by registering alone, before any process uses the file (for preload --pin they are pinned: reclaim can never take them).
Right: extra anonymous pages (private copies) while one process has the probed file mapped and has touched every page of it, compared with no probes (cow makes one copy per probed page <i>per process</i>).
Groups are probe counts, colours strategies; higher means more memory.</p>
<div class="grid2">
${q3Panel((id, n) => q3Of(id, n).afterRegistration.probedFileCached, "probed-file pages cached by registration")}
${q3Panel((id, n) => q3Of(id, n).extraAnonPages, "extra anonymous pages while mapped (1 process)")}
</div>
<details open><summary>Raw figures (pages of 4 KiB). With no probes, the process holds ${bw.anonPages + bw.filePages} resident pages (anonymous + page cache) at that moment.</summary>
${table(["strategy", "N", "probed pages", "cached after registration", "pinned", "extra anon while mapped", "private copies made", "resident while mapped", "resident ratio"], q3Rows)}
</details>

<h2>4. Cost per probe hit</h2>
<p class="cap">A C function is called ${num(r.q4PerHit.calls)} times with one probe on it; each bar is (probed run time − unprobed run time) / hits, per strategy, for a probe on a nop (emulated by the trap path)
and on an add (copied out of line and single-stepped). The trap path is the same for all strategies, so the bars should match within noise; lower is better.</p>
${q4Panel}
<details open><summary>Raw medians</summary>
${table(["strategy", "probed instruction", "run ms", "ratio to unprobed run", "ns per hit"], q4Rows)}
</details>

<h2>5. Preload without pin under memory pressure</h2>
<p class="cap">RAM limited to ${ev.ramLimitPages} pages; the program runs ${ev.rounds} rounds of ${num(ev.calls)} calls of the probed function, each followed by a scan of a ${num(ev.filePages)}-page file that makes reclaim evict the probed page.
Each bar is the share of the ${num(ev.rounds * ev.calls)} expected hits the probe counted (median of ${ev.runs} runs, count in brackets); the dashed line, 100%, means no hit was lost.</p>
${q5Panel}
<details open><summary>Raw figures per run</summary>
${table(["strategy", "expected hits", "counted hits", "reads of the probed page from the file", "evictions", "output = native"], q5Rows)}
</details>
${r.q6Processes ? q6Section(r.q6Processes) : ""}
<p class="meta">Generated by bench/strategies.ts (npm run bench:strategies); every sample and the method notes are in bench/results/strategies.json.</p>
</body></html>
`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
