/**
 * The `faultline` command: run a guest program over the memory manager,
 * show the engine version, or run the demo.
 */
import * as fs from "node:fs";
import {
  ExecError, ExecKilledError, Process, SIG, defaultAction, instructionAt, loadUnicorn, shellStatus, signalName, textPath, type ExitStatus, type ProcessAccount,
} from "../emu/index.js";
import { FaultlineError } from "../lib/errors.js";
import { MemSystem, PAGE_SIZE, type MmCounters } from "../mm/index.js";
import { runDemo } from "./demo.js";
import { openStatsJson, parseRun, UsageError, type RunOptions } from "./options.js";
import {
  HitCounter, ProbeError, Uprobes, byPid, countingConsumer, strategyNamed, parseProbeSpec, probeableSymbols, readSymbols, vaddrToOffset, type ProbeContext,
} from "../kprobes/index.js";

const HELP = `faultline: x86-64 Linux programs over a demand-paged memory manager

usage:
  faultline run [options] PROGRAM [ARGS...]   run an x86-64 Linux program (static or dynamic ELF)
  faultline symbols PATH                      list the probe-able functions of an ELF file
  faultline demo                              run the demo guest and print its fault counters
  faultline --version                         print the engine library and version
  faultline --help                            this text

run options (before PROGRAM):
  --root DIR           directory the guest sees as / (default /); PROGRAM and its
                       dynamic loader are found there (a bare name through PATH)
  --mem SIZE           RAM limit for page cache + anonymous memory (e.g. 64M); default none
  --readahead SIZE     largest readahead window (default 128K; 0 = off: readpage only)
  --fault-around SIZE  fault-around window (default 64K; 0 = off)
  --no-host-huge-pages 4 KiB host pages only behind guest anonymous memory (default: host
                       transparent huge pages behind ranges the guest fills)
  --stats              print memory-manager counters on stderr at exit
  --stats-json FILE    write the counters to FILE as JSON
  --strace             print every system call on stderr, strace-style
  --probe SPEC         probe an instruction (repeatable); SPEC is [ret:]PATH:SYMBOL[+OFF]
                       or [ret:]PATH:0xFILEOFFSET (PATH inside --root); at exit one line
                       per probe on stderr: "probe SPEC hits N"
  --probe-trace        print every probe hit: time, pid (and tid in a thread), probe,
                       RIP and argument registers (return probes: the return value)
  --probe-pid PID      only hits in guest process PID (all its threads) count, trace and
                       run handlers (repeatable); pids start at 1, the first process's
  --probe-strategy S   how breakpoints get into memory: aops (default: the file's
                       readpage/readpages wrapped), notifier (a hook after every read of
                       every file), preload (patched once at registration), cow (a
                       private copy per process, as Linux's uprobes)
  --pin                with preload: keep the probed pages resident
  --timeout SECONDS    kill the guest after SECONDS (0.001 to 2592000)
  --max-procs N        most guest processes, zombies included (default 128); fork is EAGAIN past it
  --max-threads N      most guest tasks, threads included (default 4096); clone is EAGAIN past it
  --time-slice USEC    how long a guest task runs while others wait (10 to 1000000; default 10000)
  --cpus N             CPUs the guest is told it has (nproc, sched_getaffinity, /proc/cpuinfo,
                       /sys/devices/system/cpu; 1 to 1024; default: the host's); its threads
                       still run one at a time

PROGRAM may be an x86-64 ELF file or a #! script; --mem is at least 64K.

exit status: the guest's own; 128+N when killed by signal N (139 also for an ELF
file that cannot be mapped); 126 cannot execute (execve's errno at the end of the
line); 127 program not found; 2 usage error (a malformed --probe SPEC too); 1 a probe
that cannot be placed (unknown symbol, not an instruction boundary, unprobeable); 70
an internal error of faultline.`;

/** Runs the command line `args` (without node and script) and returns the exit status. */
export async function main(args: string[]): Promise<number> {
  try {
    if (args.length === 0 || args[0] === "--help" || args[0] === "-h") {
      fs.writeSync(1, HELP + "\n");
      return args.length === 0 ? 2 : 0;
    }
    if (args[0] === "--version") {
      const lib = loadUnicorn();
      const patches = lib.source === "build" ? `, patches: ${lib.patches.join(" ") || "none"}` : "";
      fs.writeSync(1, `faultline 0.1.0, Unicorn ${lib.version} (${lib.source}: ${lib.path}${patches})\n`);
      return 0;
    }
    if (args[0] === "demo") return await runDemo();
    if (args[0] === "symbols") return listSymbols(args.slice(1));
    if (args[0] === "run") {
      const { options, program, argv } = parseRun(args.slice(1));
      return await runProgram(program, argv, options);
    }
    throw new UsageError(`unknown command '${args[0]}' (see faultline --help)`);
  } catch (e) {
    if (e instanceof UsageError) {
      fs.writeSync(2, `faultline: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ProbeError) {
      fs.writeSync(2, `faultline: ${e.message} [${e.code}]\n`);
      return e.code === "EBADSPEC" ? 2 : 1;
    }
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return 0; // the reader went away (e.g. | head)
    if (e instanceof ExecKilledError) {
      fs.writeSync(2, `faultline: ${e.message}\n`);
      return e.exitStatus;
    }
    if (e instanceof ExecError) {
      fs.writeSync(2, `faultline: ${e.message} [${e.code}]\n`);
      return e.exitStatus;
    }
    if (e instanceof FaultlineError) {
      fs.writeSync(2, `faultline: ${e.message} [${e.code}]\n`);
      return 70;
    }
    // A bug of faultline's own: one line (the stack with FAULTLINE_DEBUG=1), never a crash.
    fs.writeSync(2, `faultline: internal error: ${(e as Error).message ?? e}\n`);
    if (process.env.FAULTLINE_DEBUG) fs.writeSync(2, `${(e as Error).stack}\n`);
    return 70;
  }
}

/** A MemSystem configured from run options. */
export function systemFor(o: RunOptions): MemSystem {
  return new MemSystem({
    ramLimitPages: o.mem === Infinity ? Infinity : Math.floor(o.mem / PAGE_SIZE),
    readaheadMaxPages: Math.floor(o.readahead / PAGE_SIZE),
    faultAroundPages: Math.floor(o.faultAround / PAGE_SIZE),
    hostHugePages: o.hostHugePages,
  });
}

/** The NUL-separated entries of a /proc/self file of this (host) process, or null when it cannot be read. */
function procSelfEntries(name: "cmdline" | "environ"): Buffer[] | null {
  let all: Buffer;
  try {
    all = fs.readFileSync(`/proc/self/${name}`);
  } catch {
    return null;
  }
  return nulEntries(all);
}

/** The NUL-terminated entries of `all` (the last may lack its NUL). */
function nulEntries(all: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < all.length; ) {
    const nul = all.indexOf(0, at);
    const end = nul < 0 ? all.length : nul;
    out.push(all.subarray(at, end));
    at = end + 1;
  }
  return out;
}

/** `text` where its bytes are what `raw` holds (valid UTF-8), else the raw bytes. */
function asSpelled(text: string, raw: Buffer): string | Buffer {
  return Buffer.from(text, "utf8").equals(raw) ? text : raw;
}

/**
 * The guest's arguments with their bytes: Node decodes its own arguments as
 * UTF-8, losing bytes that are not (a file name `caf\xe9`), so each argument
 * that does not survive the decoding is taken from /proc/self/cmdline, whose
 * last entries are these arguments. Falls back to `argv` if they do not line up.
 */
function argBytes(argv: string[]): (string | Buffer)[] {
  const raw = procSelfEntries("cmdline");
  if (raw === null) return argv;
  const tail = raw.slice(raw.length - argv.length);
  if (tail.length !== argv.length || tail.some((b, k) => b.toString("utf8") !== argv[k])) return argv;
  return tail.map((b, k) => asSpelled(argv[k], b));
}

/**
 * The guest's environment with its bytes, as argBytes does for arguments:
 * from /proc/self/environ (Node drops or decodes lossily the entries that
 * are not UTF-8), when every entry of process.env is among its entries
 * (nothing was set since start-up), else process.env as text.
 */
function envBytes(): (string | Buffer)[] {
  const launched = process.env[ENVIRON_ENV];
  if (launched !== undefined) return nulEntries(Buffer.from(launched, "base64")).filter((b) => !b.toString("latin1").startsWith("FAULTLINE_NODE=")).map((b) => asSpelled(b.toString("utf8"), b));
  const text = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  const raw = procSelfEntries("environ");
  if (raw === null) return text;
  const decoded = new Set(raw.map((b) => b.toString("utf8")));
  if (text.some((t) => !decoded.has(t))) return text;
  return raw.map((b) => asSpelled(b.toString("utf8"), b));
}

/** The environment faultline was given, as bin/faultline found it before sh changed PWD (base64 of its NUL-terminated bytes). */
const ENVIRON_ENV = "FAULTLINE_ENVIRON";

/** The launcher's record of the signals faultline's parent left ignored (see bin/faultline), not part of the guest's environment. */
const SIGIGN_ENV = "FAULTLINE_SIGIGN";

/**
 * The ignored-signal set bin/faultline found before Node reset it (16 hex
 * digits, as /proc/PID/status prints SigIgn); 0 when faultline was started
 * without the launcher or the value is not a sigset.
 */
function inheritedIgnored(): bigint {
  const v = process.env[SIGIGN_ENV];
  return v !== undefined && /^[0-9a-f]{16}$/.test(v) ? BigInt(`0x${v}`) : 0n;
}

const SIGPIPE = SIG.SIGPIPE;

/**
 * Runs one program to completion and reports as the options ask.
 * @returns the shell exit status
 */
export async function runProgram(program: string, argv: string[], o: RunOptions): Promise<number> {
  const statsFd = o.statsJson === undefined ? undefined : openStatsJson(o.statsJson);
  try {
    return await runWithStats(program, argv, o, statsFd);
  } finally {
    if (statsFd !== undefined) fs.closeSync(statsFd);
  }
}

/** runProgram's body: `statsFd` is --stats-json's file, opened before the guest runs. */
async function runWithStats(program: string, argv: string[], o: RunOptions, statsFd: number | undefined): Promise<number> {
  const sys = systemFor(o);
  const strace = o.strace ? (line: string) => fs.writeSync(2, line + "\n") : undefined;
  const proc = new Process(sys, { timeoutMs: o.timeoutSeconds * 1000, root: o.root, strace, ignoredSignals: inheritedIgnored() });
  proc.kernel.maxProcs = o.maxProcs;
  if (o.cpus !== undefined) proc.kernel.cpus = o.cpus;
  proc.kernel.maxTasks = o.maxThreads;
  if (o.timeSliceUs !== undefined) proc.kernel.sliceNs = BigInt(o.timeSliceUs) * 1000n;
  let status: ExitStatus;
  let insn = "";
  let accounts: ProcessAccount[] = [];
  try {
    const args = argBytes(argv);
    const loaded = proc.exec(args[0] ?? program, args, envBytes());
    const probes = await addProbes(proc, o);
    status = await proc.runAsync(loaded.entry, loaded.rsp);
    accounts = proc.kernel.accounting.all();
    reportProbes(probes);
    if (status.kind === "signaled" && status.signo !== 9 && status.signo !== SIGPIPE) insn = await instructionAt(proc.mm, status.rip);
  } finally {
    proc.destroy();
    sys.sync();
    sys.close();
  }
  // Like a shell, say nothing of a SIGPIPE death: it is how a pipeline's writer ends when its reader goes.
  if (status.kind === "signaled" && status.signo !== SIGPIPE) {
    const at = status.addr === undefined ? "" : ` at 0x${status.addr.toString(16)}${status.access ? ` (${status.access})` : ""}`;
    const where = insn ? ` (${insn})` : "";
    const how = defaultAction(status.signo) === "stop" ? "stopped" : "killed"; // a stop nothing can continue ends the run (Kernel.endStopped)
    fs.writeSync(2, `faultline: ${program}: ${how} by ${signalName(status.signo)}${at}, rip 0x${status.rip.toString(16)}${where}: ${status.detail}\n`);
  }
  if (o.stats) fs.writeSync(2, formatStats(sys.counters) + formatProcessStats(accounts));
  if (statsFd !== undefined) fs.writeSync(statsFd, JSON.stringify(statsJson(sys.counters, accounts), null, 2) + "\n");
  return shellStatus(status);
}

/** A --probe of the command line: its spec, and its hits per process (entries, or returns for ret:). */
interface CliProbe {
  readonly spec: string;
  readonly hits: HitCounter;
}

/** Registers the --probe specs (limited to the --probe-pid processes) and attaches them to `proc`. */
async function addProbes(proc: Process, o: RunOptions): Promise<CliProbe[]> {
  if (o.probes.length === 0) return [];
  const uprobes = new Uprobes(proc.mm.sys, o.probeStrategy === "aops" && !o.pin ? undefined : strategyNamed(o.probeStrategy, o.pin));
  const filter = o.probePids.length > 0 ? byPid(...o.probePids) : undefined;
  const out: CliProbe[] = [];
  for (const spec of o.probes) {
    const { ret, path, where } = parseProbeSpec(spec);
    let host: string;
    try {
      host = proc.fs.resolve(textPath(path)).host.toString("utf8"); // probes name files by text (uprobes' API)
    } catch (e) {
      throw new ProbeError((e as FaultlineError).code ?? "ENOENT", `--probe ${spec}: ${path}: ${(e as Error).message.replace(/^.*: /, "")}`);
    }
    const hits = new HitCounter();
    await uprobes.register(host, where, countingConsumer({ counter: hits, ret, filter, then: o.probeTrace ? traceLine(spec) : undefined }), spec);
    out.push({ spec, hits });
  }
  uprobes.attach(proc);
  return out;
}

/** A --probe-trace handler printing one line per hit, with the guest pid of the process that hit (as strace -f's `[pid N]`), and the tid when a thread other than the leader hit. */
function traceLine(spec: string): (ctx: ProbeContext) => void {
  const hex = (n: number) => `0x${n.toString(16)}`;
  return (ctx) => {
    const t = (Number(ctx.time) / 1e9).toFixed(6);
    const what = ctx.retval !== undefined ? `returned ${hex(ctx.retval)}` : `rip ${hex(ctx.addr)} args ${ctx.args().map(hex).join(" ")}`;
    const who = ctx.proc.pid === ctx.proc.tgid ? `pid ${ctx.proc.pid}` : `pid ${ctx.proc.tgid} tid ${ctx.proc.pid}`;
    fs.writeSync(2, `[${t}] [${who}] probe ${spec} ${what}\n`);
  };
}

/**
 * One line per probe: "probe SPEC hits N" (for return probes, N counts
 * returns), the total over every process (the --probe-pid ones only, with
 * that option); when more than one process hit it, one line per process
 * after it: "probe SPEC pid P hits N", in pid order; and for a process of
 * which more than one thread hit it, one line per thread after that:
 * "probe SPEC pid P tid T hits N", in tid order.
 */
function reportProbes(probes: CliProbe[]): void {
  for (const { spec, hits } of probes) {
    fs.writeSync(2, `probe ${spec} hits ${hits.total}\n`);
    const per = hits.entries();
    for (const [pid, n] of per) {
      if (per.length > 1) fs.writeSync(2, `probe ${spec} pid ${pid} hits ${n}\n`);
      const threads = hits.threads(pid);
      if (threads.length > 1) for (const [tid, k] of threads) fs.writeSync(2, `probe ${spec} pid ${pid} tid ${tid} hits ${k}\n`);
    }
  }
}

/** `faultline symbols PATH`: the probe-able functions, one per line: file offset, size, name. */
function listSymbols(args: string[]): number {
  if (args.length !== 1) throw new UsageError("symbols: want exactly one PATH");
  const elf = readSymbols(args[0]);
  for (const s of probeableSymbols(elf)) {
    fs.writeSync(1, `0x${vaddrToOffset(elf, s.value).toString(16).padStart(8, "0")} ${String(s.size).padStart(6)} ${s.name}\n`);
  }
  return 0;
}

/** The counters per-process --stats shows, in this order (--stats-json has them all). */
const PROCESS_COLUMNS = [
  "minorFaults", "majorFaults", "cowFaults", "privateCopies", "anonPages", "pagesRead", "readpageCalls", "readpagesBatches", "faultAroundMapped", "evictions", "signals",
] as const;

/** How a process ended, in a few characters: its exit code, "SIGNAME" when a signal killed it, "-" while alive. */
function endOf(a: ProcessAccount): string {
  if (!a.exit) return "-";
  return a.exit.kind === "exited" ? String(a.exit.code) : signalName(a.exit.signo);
}

/**
 * The per-process section of --stats, when more than one process ran:
 * one row per process in pid order (pid, ppid, command name, how it ended,
 * the PROCESS_COLUMNS counters), then a total row, which equals the
 * table above (every counter's move is charged to the process that ran).
 * @returns "" for a run of one process
 */
export function formatProcessStats(accounts: readonly ProcessAccount[]): string {
  if (accounts.length < 2) return "";
  const head = ["pid", "ppid", "comm", "end", ...PROCESS_COLUMNS];
  const row = (a: ProcessAccount) => [String(a.pid), String(a.ppid), a.comm || "-", endOf(a), ...PROCESS_COLUMNS.map((k) => String(a.counters.values[k] ?? 0))];
  const sum = (k: string) => accounts.reduce((n, a) => n + (a.counters.values[k] ?? 0), 0);
  const rows = [head, ...accounts.map(row), ["total", "", `${accounts.length} processes`, "", ...PROCESS_COLUMNS.map((k) => String(sum(k)))]];
  const widths = head.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c === 2 || c === 3 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ").trimEnd();
  return `\nper process:\n${rows.map(line).join("\n")}\n`;
}

/**
 * What --stats-json writes: the run's totals as MmCounters.snapshot() has
 * them (top-level fields), and `processes`, one object per process in
 * pid order: pid, ppid, comm, exit ({ code } or { signal }, null while
 * alive), counters (every counter, and its readpagesHistogram).
 */
export function statsJson(c: MmCounters, accounts: readonly ProcessAccount[]): Record<string, unknown> {
  const exit = (a: ProcessAccount) => (!a.exit ? null : a.exit.kind === "exited" ? { code: a.exit.code } : { signal: signalName(a.exit.signo) });
  return {
    ...c.snapshot(),
    processes: accounts.map((a) => ({
      pid: a.pid, ppid: a.ppid, comm: a.comm, exit: exit(a), counters: { ...a.counters.values, readpagesHistogram: { ...a.counters.readpagesHistogram } },
    })),
  };
}

/** The counters as an aligned two-column table. */
export function formatStats(c: MmCounters): string {
  const rows = Object.entries(c.snapshot()).map(([k, v]) =>
    [k, typeof v === "number" ? String(v) : Object.entries(v).map(([s, n]) => `${s}:${n}`).join(" ") || "-"]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
}
