/** Command-line parsing for `faultline` (no dependency: the grammar is small). */
import { FaultlineError } from "../lib/errors.js";

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
  stats: boolean;
  statsJson: string | undefined;
  timeoutSeconds: number;
}

export const DEFAULT_RUN: RunOptions = {
  root: "/", strace: false, probes: [], probeTrace: false, probeStrategy: "aops", pin: false, mem: Infinity, readahead: 128 * 1024, faultAround: 64 * 1024, stats: false, statsJson: undefined, timeoutSeconds: 0,
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
 * Splits `run` arguments into options and the program with its arguments.
 * Options must come before PROGRAM.
 * @throws UsageError for unknown options or missing values
 */
export function parseRun(args: string[]): { options: RunOptions; program: string; argv: string[] } {
  const o: RunOptions = { ...DEFAULT_RUN, probes: [] };
  let k = 0;
  const value = (name: string): string => {
    const v = args[++k];
    if (v === undefined) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (; k < args.length && args[k].startsWith("--"); k++) {
    const a = args[k];
    switch (a) {
      case "--mem": o.mem = parseSize(value(a), a); break;
      case "--readahead": o.readahead = parseSize(value(a), a); break;
      case "--fault-around": o.faultAround = parseSize(value(a), a); break;
      case "--stats": o.stats = true; break;
      case "--strace": o.strace = true; break;
      case "--probe": o.probes.push(value(a)); break;
      case "--probe-trace": o.probeTrace = true; break;
      case "--probe-strategy": o.probeStrategy = value(a); break;
      case "--pin": o.pin = true; break;
      case "--root": o.root = value(a); break;
      case "--stats-json": o.statsJson = value(a); break;
      case "--timeout": {
        const v = value(a);
        o.timeoutSeconds = Number(v);
        if (!(o.timeoutSeconds > 0)) throw new UsageError(`--timeout: not a positive number of seconds: '${v}'`);
        break;
      }
      case "--": k++; break;
      default: throw new UsageError(`unknown option ${a} (see faultline --help)`);
    }
    if (a === "--") break;
  }
  if (k >= args.length) throw new UsageError("run: missing PROGRAM (see faultline --help)");
  return { options: o, program: args[k], argv: args.slice(k) };
}
