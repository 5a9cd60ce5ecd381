/**
 * `faultline demo` (the README's main job), the multi-process probe
 * scenario it shows (shared with bench/strategies.ts question 6), and
 * building the freestanding guest programs of guest/ for tests and benchmarks.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Kernel, Process, projectRoot, shellStatus, type ExitStatus } from "../emu/index.js";
import { Uprobes, readSymbols, resolveSpec, strategyNamed, type Consumer, type Probe } from "../kprobes/index.js";
import { MemSystem, PAGE_SIZE, type MmCounters } from "../mm/index.js";

/**
 * Compiles guest/NAME.c (which includes guest/nolibc.h) into dist/guest/NAME
 * when missing or older than either; returns the binary's path.
 */
export function buildGuest(name: string): string {
  const root = projectRoot();
  const src = path.join(root, "guest", `${name}.c`);
  const out = path.join(root, "dist", "guest", name);
  const newest = Math.max(...[src, path.join(root, "guest", "nolibc.h")].map((f) => fs.statSync(f).mtimeMs));
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < newest) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    execFileSync("gcc", ["-O2", "-static", "-nostdlib", "-fno-builtin", "-fno-stack-protector",
      "-fno-asynchronous-unwind-tables", "-o", out, src]);
  }
  return out;
}

/**
 * Compiles bench/programs/counted.c (gcc -O1 -static) into `dir`; returns
 * the binary's path. `counted K` calls work() K times and prints its own
 * count of entries: the ground truth for a probe on work.
 */
export function buildCounted(dir: string): string {
  const out = path.join(dir, "counted");
  execFileSync("gcc", ["-O1", "-static", "-o", out, path.join(projectRoot(), "bench", "programs", "counted.c")]);
  return out;
}

// ---------------------------------------------------------------- per-process figures

/** The counters attributed per process (a subset of MmCounters). */
const COUNTED = ["minorFaults", "majorFaults", "cowFaults", "privateCopies", "readpageCalls", "readpagesBatches", "pagesRead", "anonPages"] as const;
type Counted = (typeof COUNTED)[number];

/** What one guest process did, gathered by ProcessLedger. */
export interface ProcessFigures {
  /** Guest pid. */
  pid: number;
  /** The program it ran last (its exe after its last exec). */
  exe: string;
  /** Memory-manager counters while it ran (fault counters, reads, private copies, zero-filled anonymous pages). */
  counters: Record<Counted, number>;
  /** Host ns spent in its engine slices (its instructions, faults and system calls; a fork is its parent's). */
  sliceNs: number;
  /** Host CPU time (user + system, us) of faultline's whole process over those slices: less moved by other load on the machine than sliceNs. */
  sliceCpuUs: number;
  /** The reads of the watched file it caused: pages per batch, and whether the batch held a watched page. */
  watchedReads: { pages: number; watchedPage: boolean }[];
  /** What it wrote to fds 1 and 2. */
  output: string;
  /** Anonymous pages of the whole system at its last write (its mappings still live). */
  anonPagesAtLastWrite: number;
  /** Probe hits in this process (ctx.proc.pid). */
  hits: number;
  /** Private copies the probes' strategy made for breakpoints while it ran (cow; 0 for the others). */
  breakpointCopies: number;
}

/** What a ProcessLedger watches besides the counters. */
export interface LedgerWatch {
  /** Host path of the file whose page-cache reads are listed per process. */
  path: string;
  /** Its page indices of interest (the probed pages). */
  pages: Set<number>;
  /** The strategy's count of breakpoint copies made so far (CowStrategy.copiesMade), if it keeps one. */
  copiesMade?: () => number;
}

/**
 * A guest world that keeps figures per process: every engine slice's
 * change of the memory-manager counters, every page-cache read and every
 * write to the output go to the process that ran that slice (the scheduler
 * runs one engine at a time, and faults, reads and writes happen only
 * inside slices, a fork's copy in its parent's).
 */
export class ProcessLedger extends Kernel {
  /** Figures by pid, in the order processes were made. */
  readonly figures = new Map<number, ProcessFigures>();
  /** The process whose slice runs now. */
  private running: ProcessFigures | undefined;

  /**
   * @param sys the memory system of the run
   * @param watch the host path of the file whose reads are listed, and its page indices of interest
   */
  constructor(sys: MemSystem, private readonly watch: LedgerWatch = { path: "", pages: new Set() }) {
    super(sys);
    sys.readHooks.push((mapping, pages) => {
      if (this.running && mapping.path === this.watch.path) {
        this.running.watchedReads.push({ pages: pages.length, watchedPage: pages.some((p) => this.watch.pages.has(p.index)) });
      }
    });
  }

  /** Kernel.register, and the new process's slices charged to its figures. */
  override register(p: Process): number {
    const pid = super.register(p);
    const f: ProcessFigures = {
      pid, exe: "", counters: Object.fromEntries(COUNTED.map((k) => [k, 0])) as Record<Counted, number>,
      sliceNs: 0, sliceCpuUs: 0, watchedReads: [], output: "", anonPagesAtLastWrite: 0, hits: 0, breakpointCopies: 0,
    };
    this.figures.set(pid, f);
    const slice = p.runSlice.bind(p);
    p.runSlice = (budgetNs?: bigint) => this.charge(p, () => slice(budgetNs));
    return pid;
  }

  /** Runs `fn` with its counter changes, reads and writes charged to `p`. */
  charge<T>(p: Process, fn: () => T): T {
    const f = this.figures.get(p.pid)!;
    const copies0 = this.watch.copiesMade?.() ?? 0;
    const t = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const outer = this.running;
    this.running = f;
    try {
      return fn();
    } finally {
      this.running = outer;
      f.sliceNs += Number(process.hrtime.bigint() - t);
      const used = process.cpuUsage(cpu);
      f.sliceCpuUs += used.user + used.system;
      // The counters per process are the kernel's own accounts (emu/accounting.ts), charged at each switch.
      const own = this.accounting.countersOf(p).values;
      for (const k of COUNTED) f.counters[k] = own[k] ?? 0;
      f.breakpointCopies += (this.watch.copiesMade?.() ?? 0) - copies0;
      f.exe = String(p.exePath);
    }
  }

  /** Guest output: kept with the process that wrote it. */
  wrote(data: Uint8Array): void {
    if (!this.running) return;
    this.running.output += Buffer.from(data).toString("utf8");
    this.running.anonPagesAtLastWrite = this.sys.anonPages;
  }

  /** A probe hit in process `pid`. */
  hit(pid: number): void {
    const f = this.figures.get(pid);
    if (f) f.hits++;
  }
}

// ---------------------------------------------------------------- the scenario

/** One run of the multi-process scenario. */
export interface ScenarioOptions {
  /** The first process's command line (e.g. /bin/sh -c SCRIPT). */
  argv: string[];
  /** The probed program (host path) and the function probed at its entry. */
  program: string;
  symbol: string;
  /** The insertion strategy (strategyNamed), or null for a run with no probes. */
  strategy: string | null;
  /** With preload: keep the probed pages resident (--pin). */
  pin?: boolean;
  /** The memory system to run in (default: a fresh one, cold page cache). */
  sys?: MemSystem;
}

/** What one run of the scenario gave. */
export interface ScenarioResult {
  status: ExitStatus;
  /** Every process, in pid order. */
  procs: ProcessFigures[];
  /** The probe (undefined with no probes). */
  probe: Probe | undefined;
  /** Page-cache pages of the probed program holding the probe's breakpoint at the end (aops, notifier, preload). */
  cachedBreakpointPages: number;
  /** Private copies made by the cow strategy over the run (undefined for the others). */
  cowCopiesMade: number | undefined;
  /** Pages the strategy keeps pinned at the end (preload --pin), else 0. */
  pinnedPages: number;
  /** Whole-system counters at the end. */
  counters: MmCounters;
  /** Host ms of the whole run (registration excluded). */
  wallMs: number;
}

/**
 * Runs `o.argv` as the first guest process of a fresh guest world, with a
 * probe on `o.program`'s `o.symbol` registered (and attached to the first
 * process) before it starts: every process it forks inherits the probes,
 * every exec of the program gets them (kprobes/README.md). Figures are
 * kept per process (ProcessLedger).
 * @throws ProbeError when the probe cannot be placed; FaultlineError for faultline's own failures
 */
export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const sys = o.sys ?? new MemSystem();
  try {
    const probedPage = Math.floor(resolveSpec(readSymbols(o.program), o.symbol).offset / PAGE_SIZE);
    const strategy = o.strategy === null ? undefined : strategyNamed(o.strategy, o.pin ?? false);
    const cow = strategy as { copiesMade?: number } | undefined;
    const copiesMade = cow?.copiesMade === undefined ? undefined : () => cow.copiesMade!;
    const ledger = new ProcessLedger(sys, { path: o.program, pages: new Set([probedPage]), copiesMade });
    const up = strategy && new Uprobes(sys, strategy);
    const probe = await up?.register(o.program, o.symbol, { pre: (ctx) => ledger.hit(ctx.proc.pid) } satisfies Consumer);
    const proc = new Process(sys, { kernel: ledger, output: (_fd, d) => ledger.wrote(d) });
    let status: ExitStatus;
    const t = performance.now();
    try {
      const loaded = ledger.charge(proc, () => proc.exec(o.argv[0], o.argv, ["PATH=/usr/bin:/bin"]));
      up?.attach(proc);
      status = await proc.runAsync(loaded.entry, loaded.rsp);
    } finally {
      proc.destroy();
    }
    const wallMs = performance.now() - t;
    const cached = sys.openFile(o.program, false).pages.get(probedPage);
    const cachedBreakpointPages = probe && cached && sys.openFile(o.program, false).pageBytes(probedPage)[probe.offset % PAGE_SIZE] === 0xcc ? 1 : 0;
    return {
      status, procs: [...ledger.figures.values()].sort((a, b) => a.pid - b.pid), probe, cachedBreakpointPages,
      cowCopiesMade: cow?.copiesMade, pinnedPages: strategy?.pinnedPages?.() ?? 0, counters: sys.counters, wallMs,
    };
  } finally {
    if (o.sys === undefined) sys.close();
  }
}

// ---------------------------------------------------------------- the demo

/** How many times each run of the probed program calls work(): run i (1-based) calls it i * this. */
const DEMO_CALLS = 1000;
/** Runs of the probed program in the script. */
const DEMO_RUNS = 3;

/** What each strategy of the demo does, in one line. */
const DEMO_STRATEGIES: { name: string; how: string }[] = [
  { name: "aops", how: "the 2006 design: the program file's readpage/readpages write the breakpoint into each page-cache page they bring in" },
  { name: "cow", how: "Linux's uprobes: the page cache is never written; each process that maps the page gets a private copy with the breakpoint" },
];

/** "N times" of a counted line ("counted[PID]: work() entered N times, ..."), or undefined. */
function ownCount(output: string): number | undefined {
  const m = /work\(\) entered (\d+) times/.exec(output);
  return m ? Number(m[1]) : undefined;
}

/** How the batch that read the probed page read it: "readpage" (alone) or "readpages of N", or "cached" when it read none. */
function probedPageRead(f: ProcessFigures): string {
  const b = f.watchedReads.find((x) => x.watchedPage);
  return b === undefined ? "-" : b.pages === 1 ? "readpage" : `readpages of ${b.pages}`;
}

/** The demo's table: one line per process. */
function processTable(r: ScenarioResult, program: string): string[] {
  const name = (exe: string) => path.basename(exe);
  const cols: [string, number, (f: ProcessFigures) => string][] = [
    ["pid", 6, (f) => String(f.pid)],
    ["program", -8, (f) => name(f.exe)],
    ["hits", 5, (f) => String(f.hits)],
    ["own count", 9, (f) => String(ownCount(f.output) ?? "-")],
    ["minor", 5, (f) => String(f.counters.minorFaults)],
    ["major", 5, (f) => String(f.counters.majorFaults)],
    ["cow", 3, (f) => String(f.counters.cowFaults)],
    ["bp copies", 9, (f) => String(f.breakpointCopies)],
    [`${name(program)} pages read/batches`, 24, (f) => f.watchedReads.length ? `${f.watchedReads.reduce((a, b) => a + b.pages, 0)}/${f.watchedReads.length}` : "-"],
    ["probed page came by", -20, probedPageRead],
  ];
  const cell = (text: string, w: number) => (w < 0 ? text.padEnd(-w) : text.padStart(w));
  const line = (texts: string[]) => "  " + texts.map((t, i) => cell(t, cols[i][1])).join("  ").trimEnd();
  return [line(cols.map((c) => c[0])), ...r.procs.map((f) => line(cols.map((c) => c[2](f))))];
}

/**
 * The demo: a probe registered on a program before a shell script starts;
 * the script runs the program DEMO_RUNS times and an unrelated program once.
 * Per process: the probe's hits against the program's own count of its
 * function's entries, its fault counters, and the page-cache reads of the
 * program file (the batch that brought the probed page in, with its
 * breakpoint). Once under the aops strategy, once under cow, for the
 * difference in who holds the breakpoint.
 * @returns 0 when every hit count equals the program's own count, else 1
 */
export async function runDemo(): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-demo-"));
  const say = (line = "") => fs.writeSync(1, line + "\n");
  try {
    const program = buildCounted(dir);
    const script = `for i in ${Array.from({ length: DEMO_RUNS }, (_, k) => k + 1).join(" ")}; do ${program} $((i * ${DEMO_CALLS})); done; /bin/ls -d /usr`;
    const argv = ["/bin/sh", "-c", script];
    say("faultline demo: a probe registered on a program before a shell starts it, followed across fork and exec");
    say(`  program: ${program} (bench/programs/counted.c: counts its own entries into work())`);
    say(`  probe:   ${path.basename(program)}:work, registered and attached to the shell before it runs`);
    say(`  $ sh -c '${script.replaceAll(program, path.basename(program))}'`);
    let exact = true;
    const held: string[] = [];
    for (const s of DEMO_STRATEGIES) {
      const r = await runScenario({ argv, program, symbol: "work", strategy: s.name });
      say();
      say(`== --probe-strategy ${s.name}: ${s.how}`);
      for (const f of r.procs) for (const line of f.output.trimEnd().split("\n")) if (line) say(`  | ${line}`);
      for (const line of processTable(r, program)) say(line);
      const runs = r.procs.filter((f) => ownCount(f.output) !== undefined);
      const own = runs.reduce((a, f) => a + ownCount(f.output)!, 0);
      const hits = r.procs.reduce((a, f) => a + f.hits, 0);
      const ok = runs.length === DEMO_RUNS && runs.every((f) => f.hits === ownCount(f.output)) && hits === own && shellStatus(r.status) === 0;
      exact &&= ok;
      say(`  hits ${hits} (probe total ${r.probe?.hits}), the programs' own counts ${own}: ${ok ? "exact, process by process" : "NOT EQUAL"}; exit status ${shellStatus(r.status)}; ${(r.wallMs / 1000).toFixed(1)} s`);
      const copies = runs.map((f) => f.breakpointCopies);
      held.push(r.cachedBreakpointPages > 0
        ? `${s.name}: ${r.cachedBreakpointPages} page-cache page of ${path.basename(program)} holds the breakpoint, one for every process that maps it; breakpoint copies per run: ${copies.join(", ")}`
        : `${s.name}: no page-cache page holds a breakpoint; breakpoint copies per run: ${copies.join(", ")} (a private anonymous page each, held while that process lived; the shell and ls never map ${path.basename(program)})`);
    }
    say();
    say("memory held for the breakpoint:");
    for (const line of held) say(`  ${line}`);
    say("(minor/major: page faults; cow: copy-on-write faults after fork; bp copies: private copies made for the breakpoint;");
    say(" pages read/batches: page-cache reads of the program file; each figure is charged to the process whose engine slice caused it)");
    return exact ? 0 : 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
