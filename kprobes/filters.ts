/**
 * Ready-made consumer filters and a per-process hit counter (cf.
 * uprobe_consumer->filter and perf's uprobe_perf_filter, which let an
 * event run only for its target task). A filter decides whether a
 * consumer's handlers run for the process that hit; it does not keep the
 * breakpoint out of that process's memory: under aops, notifier and
 * preload the breakpoint is in the shared page cache and every process
 * mapping the page traps on it (and is counted in Probe.hits), while the
 * handlers of a filtered-out consumer do not run.
 */
import { textPath, type Process } from "../emu/index.js";
import type { Consumer, ProbeContext } from "./probe.js";

/** A filter that passes the processes whose guest pid is one of `pids` (every thread of each: its tgid). */
export function byPid(...pids: number[]): (proc: Process) => boolean {
  const want = new Set(pids);
  return (proc) => want.has(proc.tgid);
}

/** A filter that passes the threads whose guest tid is one of `tids` (cf. perf's per-task uprobe filter). */
export function byTid(...tids: number[]): (proc: Process) => boolean {
  const want = new Set(tids);
  return (proc) => want.has(proc.pid);
}

/**
 * A filter that passes the processes running the program at guest path
 * `path`, as /proc/PID/exe names it (the path exec resolved, symbolic
 * links followed; compared byte for byte).
 */
export function byExe(path: string): (proc: Process) => boolean {
  const want = textPath(path);
  return (proc) => proc.exePath === want;
}

/** Both filters must pass; an undefined one passes everything. */
export function allOf(...filters: ((proc: Process) => boolean)[]): (proc: Process) => boolean {
  return (proc) => filters.every((f) => f(proc));
}

/** Hits per guest process and per thread, as a consumer counts them (after its filter). */
export class HitCounter {
  /** Guest pid (tgid) -> the number of hits (entries, or returns for a return consumer) in that process. */
  readonly byPid = new Map<number, number>();
  /** Guest tid -> the hits in that thread, with its process's pid. Invariant: the sums per pid are byPid's. */
  readonly byTid = new Map<number, { readonly pid: number; hits: number }>();

  /** Counts one hit of `ctx.proc`. */
  count(ctx: ProbeContext): void {
    const pid = ctx.proc.tgid, tid = ctx.proc.pid;
    this.byPid.set(pid, (this.byPid.get(pid) ?? 0) + 1);
    const t = this.byTid.get(tid);
    if (t && t.pid === pid) t.hits++;
    else this.byTid.set(tid, { pid, hits: 1 }); // a new thread, or a tid that execve moved into another's place
  }

  /** [tid, hits] of the threads of process `pid` that hit, in ascending tid order. */
  threads(pid: number): [number, number][] {
    return [...this.byTid.entries()].filter(([, t]) => t.pid === pid).map(([tid, t]): [number, number] => [tid, t.hits]).sort((a, b) => a[0] - b[0]);
  }

  /** The hits in every process. */
  get total(): number {
    let n = 0;
    for (const v of this.byPid.values()) n += v;
    return n;
  }

  /** [pid, hits] in ascending pid order. */
  entries(): [number, number][] {
    return [...this.byPid.entries()].sort((a, b) => a[0] - b[0]);
  }
}

/**
 * A consumer that counts its hits per process in `counter` and then calls
 * `then` (entries with `pre`, or returns with `ret`), only for the
 * processes `filter` passes (all when undefined).
 */
export function countingConsumer(o: {
  counter: HitCounter;
  ret: boolean;
  filter?: (proc: Process) => boolean;
  then?: (ctx: ProbeContext) => void;
}): Consumer {
  const handler = (ctx: ProbeContext) => {
    o.counter.count(ctx);
    o.then?.(ctx);
  };
  const base: Consumer = o.ret ? { ret: handler } : { pre: handler };
  return o.filter ? { ...base, filter: o.filter } : base;
}
