/** Command-line parsing for `faultline` (no dependency: the grammar is small). */
import * as fs from "node:fs";
import { FaultlineError } from "../lib/errors.js";
import { MAX_CPUS, MAX_TASKS } from "../emu/index.js";
import { MIN_RAM_PAGES, PAGE_SIZE } from "../mm/index.js";

/** A usage error: exit status 2 with a one-line message. */
export class UsageError extends FaultlineError {
  constructor(message: string) {
    super("EUSAGE", message);
  }
}

/** Options of `faultline run`. */
export interface RunOptions {
  /** Host directory the guest sees as "/". */
  root: string;
  /** Print every system call on stderr. */
  strace: boolean;
  /** Probe specs, `[ret:]PATH:SYMBOL[+OFF]` or `[ret:]PATH:0xFILEOFFSET`. */
  probes: string[];
  /** Print each probe hit on stderr. */
  probeTrace: boolean;
  /** Guest pids the probes' handlers, traces and counts are limited to (--probe-pid, repeatable); empty = every process. */
  probePids: number[];
  /** How breakpoints are inserted: aops, notifier, preload, cow. */
  probeStrategy: string;
  /** With preload: keep probed pages resident. */
  pin: boolean;
  /** RAM limit in bytes (Infinity = none). */
  mem: number;
  /** Readahead maximum in bytes (0 = off). */
  readahead: number;
  /** Fault-around window in bytes (0 = off). */
  faultAround: number;
  /** Back guest anonymous memory with host huge pages (MmConfig.hostHugePages); --no-host-huge-pages turns it off. */
  hostHugePages: boolean;
  /** Print the memory-manager counters on stderr at exit. */
  stats: boolean;
  /** File to write the counters to as JSON, or undefined. */
  statsJson: string | undefined;
  /** Wall-clock limit in seconds (0 = none). */
  timeoutSeconds: number;
  /** Most guest processes alive at once (fork is EAGAIN past it, cf. RLIMIT_NPROC). */
  maxProcs: number;
  /** The CPUs the guest is told it has (--cpus), or undefined for the host's count. */
  cpus: number | undefined;
  /** Most guest tasks (threads included) alive at once (--max-threads; clone is EAGAIN past it, cf. threads-max). */
  maxThreads: number;
  /** The scheduler's time slice in microseconds (--time-slice), or undefined for the default (10 ms). */
  timeSliceUs: number | undefined;
}

/**
 * Smallest --mem: mm's MIN_RAM_PAGES (64 KiB), the least any program runs in
 * (text, stack, page tables' worth of cache). Above it, a program that needs
 * more is OOM-killed (137).
 */
export const MIN_MEM_BYTES = MIN_RAM_PAGES * PAGE_SIZE;
/** Shortest --timeout: one millisecond (the engine counts microseconds; less would mean none). */
export const MIN_TIMEOUT_SECONDS = 0.001;
/** Longest --timeout: 30 days, far past any useful run, well inside the engine's range. */
export const MAX_TIMEOUT_SECONDS = 30 * 24 * 3600;

/**
 * Default --max-procs: each guest process has its own engine (a few MB of
 * host memory) and reserves 512 GiB of host address space (mm's TASK_SIZE),
 * of which a 47-bit host has room for about 230: 128 stays well inside, so
 * a fork bomb gets EAGAIN (RLIMIT_NPROC's errno), not the ENOMEM of a host
 * that ran out of room.
 */
export const DEFAULT_MAX_PROCS = 128;

export const DEFAULT_RUN: RunOptions = {
  root: "/", strace: false, probes: [], probeTrace: false, probePids: [], probeStrategy: "aops", pin: false, mem: Infinity, readahead: 128 * 1024, faultAround: 64 * 1024, hostHugePages: true, stats: false, statsJson: undefined, timeoutSeconds: 0, maxProcs: DEFAULT_MAX_PROCS, cpus: undefined, maxThreads: MAX_TASKS, timeSliceUs: undefined,
};

/**
 * Parses a size such as 4096, 64K, 64M or 1G (binary units).
 * @throws UsageError for anything else
 */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)([kKmMgG]?)(i?[bB])?$/.exec(text);
  if (!m) throw new UsageError(`${what}: not a size: '${text}' (use e.g. 4096, 64K, 64M, 1G)`);
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * unit;
}

/**
 * Parses --timeout: decimal seconds from MIN_TIMEOUT_SECONDS to
 * MAX_TIMEOUT_SECONDS ("Infinity", "NaN", exponents, signs and 0 are refused:
 * no timeout is the option left out).
 * @throws UsageError
 */
export function parseTimeout(text: string): number {
  const s = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(s >= MIN_TIMEOUT_SECONDS && s <= MAX_TIMEOUT_SECONDS)) {
    throw new UsageError(`--timeout: want seconds from ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS} (e.g. 20 or 0.5), got '${text}'`);
  }
  return s;
}

/**
 * Parses --mem: a size of at least MIN_MEM_BYTES.
 * @throws UsageError
 */
export function parseMem(text: string): number {
  const bytes = parseSize(text, "--mem");
  if (bytes < MIN_MEM_BYTES) throw new UsageError(`--mem: ${text} is too small to run anything: at least ${MIN_MEM_BYTES >> 10}K (${MIN_MEM_BYTES / 4096} pages)`);
  return bytes;
}

/**
 * Checks --root: an existing directory (a symbolic link to one is fine).
 * @throws UsageError for "", a missing path, or anything but a directory
 */
export function parseRoot(dir: string): string {
  if (dir === "") throw new UsageError("--root: empty path (use --root . for the current directory)");
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw new UsageError(`--root: ${dir}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (e as Error).message}`);
  }
  if (!st.isDirectory()) throw new UsageError(`--root: ${dir}: not a directory`);
  return dir;
}

/**
 * Opens --stats-json FILE for writing now, before the guest runs, so an
 * unwritable path is a usage error rather than a failure after the run
 * (the file is created or truncated, as a shell redirection would).
 * @returns the open descriptor (the caller writes the counters and closes it)
 * @throws UsageError
 */
export function openStatsJson(file: string): number {
  try {
    return fs.openSync(file, "w");
  } catch (e) {
    throw new UsageError(`--stats-json: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * A whole number from 1 to 65536 (--max-procs).
 * @throws UsageError for anything else
 */
function parseCount(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > 65536) throw new UsageError(`${what}: ${JSON.stringify(text)} is not a whole number from 1 to 65536`);
  return Number(text);
}

/**
 * A CPU count from 1 to MAX_CPUS (--cpus).
 * @throws UsageError for anything else
 */
function parseCpus(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > MAX_CPUS) throw new UsageError(`${what}: ${JSON.stringify(text)} is not a whole number from 1 to ${MAX_CPUS}`);
  return Number(text);
}

/** The shortest and longest --time-slice, in microseconds. */
export const MIN_SLICE_US = 10, MAX_SLICE_US = 1_000_000;

/**
 * A time slice in whole microseconds, MIN_SLICE_US to MAX_SLICE_US (--time-slice).
 * @throws UsageError for anything else
 */
function parseSlice(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < MIN_SLICE_US || Number(text) > MAX_SLICE_US) {
    throw new UsageError(`${what}: ${JSON.stringify(text)} is not a whole number of microseconds from ${MIN_SLICE_US} to ${MAX_SLICE_US}`);
  }
  return Number(text);
}

/** Largest pid a guest can have (cf. PID_MAX_LIMIT, 4194304). */
export const MAX_PID = 4 * 1024 * 1024;

/**
 * A guest pid, 1 to MAX_PID (--probe-pid).
 * @throws UsageError for anything else
 */
function parsePid(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || Number(text) > MAX_PID) throw new UsageError(`${what}: ${JSON.stringify(text)} is not a pid from 1 to ${MAX_PID}`);
  return Number(text);
}

/**
 * Splits `run` arguments into options and the program with its arguments.
 * Options must come before PROGRAM.
 * @throws UsageError for unknown options or missing values
 */
export function parseRun(args: string[]): { options: RunOptions; program: string; argv: string[] } {
  const o: RunOptions = { ...DEFAULT_RUN, probes: [], probePids: [] };
  let k = 0;
  const value = (name: string): string => {
    const v = args[++k];
    if (v === undefined) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (; k < args.length && args[k].startsWith("--"); k++) {
    const a = args[k];
    switch (a) {
      case "--mem": o.mem = parseMem(value(a)); break;
      case "--readahead": o.readahead = parseSize(value(a), a); break;
      case "--fault-around": o.faultAround = parseSize(value(a), a); break;
      case "--no-host-huge-pages": o.hostHugePages = false; break;
      case "--stats": o.stats = true; break;
      case "--strace": o.strace = true; break;
      case "--probe": o.probes.push(value(a)); break;
      case "--probe-trace": o.probeTrace = true; break;
      case "--probe-pid": o.probePids.push(parsePid(value(a), a)); break;
      case "--probe-strategy": o.probeStrategy = value(a); break;
      case "--pin": o.pin = true; break;
      case "--root": o.root = parseRoot(value(a)); break;
      case "--stats-json": o.statsJson = value(a); break;
      case "--timeout": o.timeoutSeconds = parseTimeout(value(a)); break;
      case "--max-procs": o.maxProcs = parseCount(value(a), a); break;
      case "--cpus": o.cpus = parseCpus(value(a), a); break;
      case "--max-threads": o.maxThreads = parseCount(value(a), a); break;
      case "--time-slice": o.timeSliceUs = parseSlice(value(a), a); break;
      case "--": k++; break;
      default: throw new UsageError(`unknown option ${a} (see faultline --help)`);
    }
    if (a === "--") break;
  }
  if (k >= args.length) throw new UsageError("run: missing PROGRAM (see faultline --help)");
  if (o.probePids.length > 0 && o.probes.length === 0) throw new UsageError("--probe-pid: no --probe to limit");
  return { options: o, program: args[k], argv: args.slice(k) };
}
