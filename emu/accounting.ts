/**
 * Memory-manager counters per guest process (cf. the per-task min_flt /
 * maj_flt of task_struct, summed by /proc/PID/stat and getrusage). The
 * counters themselves are the MemSystem's, one set for the whole run
 * (mm/counters.ts); since only one process runs at a time, what they
 * moved by between two switches is the work of the process that ran,
 * and is charged to it. What happens before the first slice (loading the
 * first program, registering probes) is the first process's.
 *
 *   Kernel.step: charges.switchTo(p) ── delta since the last switch ──> the previous current's account
 *
 * Invariant: the per-process counters add up to the MemSystem's totals
 * counted since the first process was registered.
 */
import type { MemSystem } from "../mm/index.js";
import { comm } from "./procfs/self.js";
import type { ExitStatus, Process } from "./process.js";

/** The counters of one process: every numeric MmCounters field, plus the readpages batch-size histogram. */
export interface ProcessCounters {
  /** Field name (minorFaults, cowFaults, ...) -> count. */
  readonly values: Record<string, number>;
  /** Batch size -> readpages batches of that size, as MmCounters.readpagesHistogram. */
  readonly readpagesHistogram: Record<number, number>;
}

/** What the run knows of one process, kept after it is reaped (for --stats). */
export interface ProcessAccount {
  /** Its guest pid. */
  readonly pid: number;
  /** Its parent's guest pid when it was made (0 for the first process, whose parent is outside the guest). */
  readonly ppid: number;
  /** Its command name (the running program's base name), as of the last time it ran. */
  comm: string;
  /** How it ended; undefined while it lives. */
  exit: ExitStatus | undefined;
  /** Its counters so far (see ProcessCounters). */
  readonly counters: ProcessCounters;
}

/** A counters object with every field zero. */
function zeroCounters(): ProcessCounters {
  return { values: {}, readpagesHistogram: {} };
}

/** The per-process accounts of one guest world. */
export class Accounting {
  /** Every process ever registered, by pid, in pid order. */
  readonly accounts = new Map<number, ProcessAccount>();
  /** The process the counters' moves are charged to now. */
  private current: Process | undefined;
  /** The MemSystem counters at the last switch (numeric fields and histogram). */
  private last: { values: Record<string, number>; histogram: Record<number, number> } | undefined;

  constructor(private readonly sys: MemSystem) {}

  /**
   * Opens the account of a new process; the first becomes the current one (cf. the parent's work before its first child).
   * A new thread opens none: its work is charged to its process's account (by tgid), as perf stat counts a process.
   */
  open(p: Process): void {
    if (p !== p.group.leader) return;
    this.accounts.set(p.pid, { pid: p.pid, ppid: p.parent?.pid ?? 0, comm: "", exit: undefined, counters: zeroCounters() });
    if (this.current === undefined) {
      this.current = p;
      this.last = this.read();
    }
  }

  /** Charges what the counters moved by since the last switch to the current process, and makes `next` current. */
  switchTo(next: Process | undefined): void {
    const now = this.read();
    if (this.current && this.last) this.charge(this.current, this.last, now);
    this.last = now;
    if (next) this.current = next;
  }

  /** The counters of `p` up to this moment (what it ran since the last switch included). */
  countersOf(p: Process): ProcessCounters {
    this.switchTo(undefined);
    return this.accounts.get(p.tgid)?.counters ?? zeroCounters();
  }

  /** Every account in pid order, with what ran last charged. */
  all(): ProcessAccount[] {
    this.switchTo(undefined);
    return [...this.accounts.values()];
  }

  /** The MemSystem counters now, as plain numbers. */
  private read(): { values: Record<string, number>; histogram: Record<number, number> } {
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.sys.counters)) if (typeof v === "number") values[k] = v;
    return { values, histogram: { ...this.sys.counters.readpagesHistogram } };
  }

  /** Adds the difference `now` - `then` to `p`'s account, and records its name and end. */
  private charge(p: Process, then: ReturnType<Accounting["read"]>, now: ReturnType<Accounting["read"]>): void {
    const a = this.accounts.get(p.tgid);
    if (!a) return;
    for (const [k, v] of Object.entries(now.values)) {
      const d = v - (then.values[k] ?? 0);
      a.counters.values[k] = (a.counters.values[k] ?? 0) + d;
    }
    const h = a.counters.readpagesHistogram;
    for (const [k, v] of Object.entries(now.histogram)) {
      const d = v - (then.histogram[Number(k)] ?? 0);
      if (d !== 0) h[Number(k)] = (h[Number(k)] ?? 0) + d;
    }
    this.note(p);
  }

  /** Records `p`'s command name and how it ended (at each charge, and when it is released or the run ends). */
  note(p: Process): void {
    const a = this.accounts.get(p.tgid);
    if (!a) return;
    if (p.exePath) a.comm = comm(p);
    a.exit = p.group.leader.exitStatus;
  }
}
