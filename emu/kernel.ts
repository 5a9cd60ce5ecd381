/**
 * The guest world of one faultline run (cf. the kernel's task list, pid
 * namespace and run queue): every guest process, their ids and family, and
 * the scheduler that runs them on faultline's one Node thread.
 *
 *   run(first):
 *     loop
 *       p = next runnable (round robin, in the order they became runnable)
 *       p.runSlice(slice)            one engine run, at most `slice` long when others wait
 *         -> ran      back in the queue
 *         -> parked   a call must wait: p waits, its call re-runs when retried
 *         -> exited   zombie until its parent reaps it (or reaped at once)
 *       a slice that did not end parked: retry the parked (their calls run again)
 *       nothing runnable: sleep in the host's poll of what the parked wait on
 *                         (at most a slice, or until the nearest deadline), then retry them;
 *                         when nothing could ever wake them and the first process has
 *                         ended, they are killed (as a pid namespace's init's end kills its processes)
 *     until no process is left but zombies; the result is the first process's status
 *
 * Only one engine runs at a time, so the guest's atomic instructions stay
 * atomic. Order is deterministic given the same blocking points: runnable
 * processes go round in a fixed order and a parked one is retried after
 * each round; only slice ends (host time) vary between runs.
 */
import type { MemSystem } from "../mm/index.js";
import { hostPoll } from "./hostfs.js";
import type { ExitStatus, Process } from "./process.js";

/** How many processes may end between two turns of Node's event loop in runAsync. */
const YIELD_RELEASES = 20;

/** How long a process runs while another is runnable or waiting (cf. sched_latency). */
export const SLICE_NS = 10_000_000n;

export class Kernel {
  /** Live and zombie processes by guest pid. Invariant: a reaped process is not here. */
  readonly procs = new Map<number, Process>();
  /** Runnable processes, next first. Invariant: each appears once, and only while runnable. */
  private readonly runQueue: Process[] = [];
  /** The next pid to hand out (cf. alloc_pid; never reused within a run). */
  private nextPid = 0;
  /** Processes that ended so far (for runAsync's yields). */
  private ended = 0;
  /** Whether a second process was ever made (then --strace prefixes every line with its pid, as strace -f). */
  forked = false;
  /** Most live processes at once (cf. RLIMIT_NPROC): fork is EAGAIN beyond it. */
  maxProcs = 256;
  /** The first process: the reaper of orphans (cf. child_reaper), and whose status the run reports. */
  init: Process | undefined;

  constructor(readonly sys: MemSystem) {}

  /**
   * Enters `p` into the process table with a new pid (the first process
   * keeps `firstPid`, the host's own, as one guest per faultline showed it).
   * @returns its pid
   */
  register(p: Process, firstPid: number): number {
    const pid = this.init === undefined ? firstPid : this.nextPid;
    if (this.init !== undefined) this.forked = true;
    this.init ??= p;
    this.nextPid = Math.max(this.nextPid, pid) + 1;
    this.procs.set(pid, p);
    return pid;
  }

  /** Puts `p` at the end of the run queue (cf. wake_up_process). No-op when it is already there. */
  wake(p: Process): void {
    if (!this.runQueue.includes(p)) this.runQueue.push(p);
  }

  /** The live (not zombie) processes. */
  live(): Process[] {
    return [...this.procs.values()].filter((p) => p.state !== "zombie");
  }

  /** Whether any process other than `p` is alive (a wait of `p` must then park, not sleep in place). */
  othersAlive(p: Process): boolean {
    for (const q of this.procs.values()) if (q !== p && q.state !== "zombie") return true;
    return false;
  }

  /** Removes a reaped process from the table (cf. release_task). */
  release(p: Process): void {
    this.procs.delete(p.pid);
    const k = this.runQueue.indexOf(p);
    if (k >= 0) this.runQueue.splice(k, 1);
  }

  /**
   * Runs every process until none is left alive.
   * Precondition: `first` is registered and ready to run (see Process.start).
   * @returns how the first process ended
   */
  run(first: Process): ExitStatus {
    this.wake(first);
    while (this.step(first));
    return first.exitStatus ?? { kind: "exited", code: 0 };
  }

  /**
   * As run(), giving Node's event loop a turn now and then (every
   * YIELD_RELEASES processes ended): a closed engine's native memory goes
   * back only then, so a shell that runs a thousand commands keeps its host
   * memory flat.
   */
  async runAsync(first: Process): Promise<ExitStatus> {
    this.wake(first);
    let ended = this.ended;
    while (this.step(first)) {
      if (this.ended - ended < YIELD_RELEASES) continue;
      ended = this.ended;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return first.exitStatus ?? { kind: "exited", code: 0 };
  }

  /**
   * One turn of the scheduler: a slice of the next runnable process, or,
   * with none, the idle wait and the retry of the parked.
   * @returns false once no process is left alive
   */
  private step(first: Process): boolean {
    const p = this.runQueue.shift();
    if (p === undefined) {
      const parked = this.live().filter((q) => q.state === "parked");
      if (parked.length === 0) return false;
      if (!this.idle(parked) && first.state === "zombie") {
        this.killLeftovers();
        return false;
      }
      for (const q of parked) this.retry(q);
      return true;
    }
    const busy = this.runQueue.length > 0 || this.live().length > 1;
    p.runSlice(busy ? SLICE_NS : undefined);
    if (p.state === "runnable") this.runQueue.push(p);
    if (p.state === "zombie") this.ended++;
    // A slice that did something may have woken the parked; one that only parked again cannot have.
    if (p.state !== "parked") for (const q of this.live()) if (q.state === "parked" && q !== p) this.retry(q);
    return true;
  }

  /** Makes a parked process runnable again: its waiting call runs anew (cf. the wait loop of wait_event). */
  private retry(p: Process): void {
    p.state = "runnable";
    this.wake(p);
  }

  /**
   * The first process has ended and what it left behind waits for nothing
   * that can come (no host descriptor, no deadline, no timer): they are
   * killed, as a pid namespace's processes are when its init exits (cf.
   * zap_pid_ns_processes). While anything could still wake them, they run on.
   */
  private killLeftovers(): void {
    for (const q of this.live()) q.exitWith({ kind: "signaled", signo: 9, detail: "killed: the first process ended and this one waits forever", rip: 0 });
  }

  /**
   * Nothing can run: sleeps in the host's poll of the descriptors the parked
   * processes wait on, at most one slice and not past the nearest deadline
   * (cf. the idle loop, with the parked calls' wait queues folded into one poll).
   * @returns whether anything could ever wake them (a descriptor, a deadline or a timer)
   */
  private idle(parked: readonly Process[]): boolean {
    const fds = new Set<number>();
    let events = 0;
    let until: bigint | undefined;
    for (const q of parked) {
      const w = q.parkedOn;
      if (!w) continue;
      for (const fd of w.host.fds) fds.add(fd);
      events |= w.host.events;
      const d = q.signal.timers.nextDeadlineNs();
      for (const t of [w.untilNs, d]) if (t !== undefined && (until === undefined || t < until)) until = t;
    }
    if (fds.size === 0 && until === undefined && !parked.some((q) => (q.options.timeoutMs ?? 0) > 0)) return false;
    const now = process.hrtime.bigint();
    const ms = Math.max(0, Math.min(Number(SLICE_NS / 1_000_000n), until === undefined ? Infinity : Number(until - now) / 1e6));
    if (fds.size > 0 && events !== 0) hostPoll([...fds], events, ms);
    else if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return fds.size > 0 || until !== undefined;
  }
}
