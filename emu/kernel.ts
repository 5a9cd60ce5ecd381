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
 *                         ended, they are killed (as a pid namespace's init's end kills its processes);
 *                         when some are stopped and nothing can continue them, the run ends (endStopped)
 *     until no process is left but zombies; the result is the first process's status
 *
 * Pids are those of a new pid namespace (cf. alloc_pid in a fresh
 * pid_namespace): the first process is 1 and its parent, outside the
 * namespace, is 0 to getppid; each new process gets the next number,
 * never reused within a run, so a run's pids do not depend on the host.
 * The first process is the namespace's reaper of orphans (cf.
 * child_reaper) but keeps an ordinary process's signal semantics (Linux
 * drops signals to a namespace's init that it has no handler for, cf.
 * SIGNAL_UNKILLABLE; faultline does not, so that a program's own
 * kill(getpid(), SIGTERM) or abort() ends it as it does natively).
 *
 * Only one engine runs at a time, so the guest's atomic instructions stay
 * atomic. Order is deterministic given the same blocking points: runnable
 * processes go round in a fixed order and a parked one is retried after
 * each round; only slice ends (host time) vary between runs.
 */
import * as os from "node:os";
import type { MemSystem } from "../mm/index.js";
import { Accounting } from "./accounting.js";
import { hostPoll } from "./hostfs.js";
import { signalName } from "./signal/constants.js";
import type { ExitStatus, Process } from "./process.js";
import { FutexTable } from "./futex.js";
import { UnixNames } from "./unix-names.js";
import type { UnixSocket } from "./unix-socket.js";

/** How many processes may end between two turns of Node's event loop in runAsync. */
const YIELD_RELEASES = 20;

/** Most CPUs a guest can be given (--cpus): the bits of one 1024-bit affinity mask, glibc's cpu_set_t. */
export const MAX_CPUS = 1024;

/** Default Kernel.maxTasks: a thread costs an engine (its translation buffer, see emu/README.md "Threads"), no address space. */
export const MAX_TASKS = 4096;

/** The pid of the first process of a guest world (cf. a new pid namespace's init). */
export const FIRST_PID = 1;

/** How long a process runs while another is runnable or waiting (cf. sched_latency). */
export const SLICE_NS = 10_000_000n;

export class Kernel {
  /** Live and zombie processes by guest pid. Invariant: a reaped process is not here. */
  readonly procs = new Map<number, Process>();
  /** Runnable processes, next first. Invariant: each appears once, and only while runnable. */
  private readonly runQueue: Process[] = [];
  /** The next pid to hand out (cf. alloc_pid; never reused within a run). */
  private nextPid = FIRST_PID;
  /** Memory-manager counters per process (--stats, /proc/PID/stat's fault counts). */
  readonly accounting: Accounting;
  /** Processes that ended so far (for runAsync's yields). */
  private ended = 0;
  /** Whether a second process was ever made (then --strace prefixes every line with its pid, as strace -f). */
  forked = false;
  /**
   * How many CPUs the guest is told it has (--cpus; default the host's): sched_getaffinity's mask,
   * /proc/cpuinfo, /sys/devices/system/cpu. Tasks still run one at a time (see emu/README.md "Threads").
   * Set before the run starts; 1 to MAX_CPUS.
   */
  cpus = Math.min(os.availableParallelism(), MAX_CPUS);
  /**
   * How long a task runs while another is runnable or waiting (--time-slice; default SLICE_NS).
   * Set before the run starts. A tiny slice preempts tasks almost anywhere (tests use it to end
   * slices between a probe's breakpoint and its out-of-line step).
   */
  sliceNs = SLICE_NS;
  /** Most live processes at once (cf. RLIMIT_NPROC), not counting threads: fork is EAGAIN beyond it (each reserves host address space). */
  maxProcs = 256;
  /** Most live tasks at once, threads included (cf. /proc/sys/kernel/threads-max): clone is EAGAIN beyond it. */
  maxTasks = MAX_TASKS;
  /** The next socket inode number (cf. get_next_ino, which sockfs's inodes take): shown in socket:[N] and fstat. */
  nextSocketIno = 10000;
  /** Names bound by AF_UNIX sockets in this world: abstract ones, and file-system ones by their node (cf. the per-net unix_table). */
  readonly unixNames = new UnixNames<UnixSocket>();
  /** The first process: the reaper of orphans (cf. child_reaper), and whose status the run reports. */
  init: Process | undefined;
  /** The futex wait queues of every task of this world (cf. futex_queues). */
  readonly futexes = new FutexTable();
  /** The process whose slice runs now (cf. current): whose pending signals a signalfd read takes; undefined between slices. */
  current: Process | undefined;

  constructor(readonly sys: MemSystem) {
    this.accounting = new Accounting(sys);
  }

  /**
   * Enters `p` into the process table with the next pid of the guest's pid
   * namespace (FIRST_PID for the first process; cf. alloc_pid).
   * @returns its pid
   */
  register(p: Process): number {
    const pid = this.nextPid++;
    if (this.init !== undefined) this.forked = true;
    this.init ??= p;
    this.procs.set(pid, p);
    return pid;
  }

  /**
   * Enters `p` under the tid of `old`, whose place it takes (execve by a
   * non-leader thread, cf. de_thread's exchange_tids); the first process's
   * place included, so the run reports `p`'s end.
   * Precondition: both were released from the table (release), `p.pid` is already `old.pid`.
   */
  adopt(p: Process, old: Process): void {
    this.procs.set(p.pid, p);
    if (this.init === old) this.init = p;
  }

  /** Opens `p`'s counters once its pid and parent are set (called by the Process constructor). */
  opened(p: Process): void {
    this.accounting.open(p);
  }

  /**
   * Puts `p` at the end of the run queue (cf. wake_up_process). No-op when it
   * is already there. A process running alone runs without a time slice, so
   * when another becomes runnable during its slice (a fork), that slice ends
   * after the running call (cf. check_preempt_curr's resched_curr): from then
   * on both get SLICE_NS turns.
   */
  wake(p: Process): void {
    if (!this.runQueue.includes(p)) this.runQueue.push(p);
    const cur = this.current;
    if (cur !== undefined && cur !== p && cur.state === "runnable") cur.preemptAfterCall();
  }

  /** The live (not zombie) processes. */
  live(): Process[] {
    return [...this.procs.values()].filter((p) => p.state !== "zombie");
  }

  /** The processes in the table (thread-group leaders, zombies included): what --max-procs limits. */
  processCount(): number {
    let n = 0;
    for (const q of this.procs.values()) if (q === q.group.leader) n++;
    return n;
  }

  /** Whether a task other than `p` waits in the run queue, or is parked with a retry due (sched_yield then ends `p`'s slice). */
  othersRunnable(p: Process): boolean {
    if (this.runQueue.some((q) => q !== p)) return true;
    for (const q of this.procs.values()) if (q !== p && q.state === "parked" && q.retryDue()) return true;
    return false;
  }

  /** Whether any process other than `p` is alive (a wait of `p` must then park, not sleep in place). */
  othersAlive(p: Process): boolean {
    for (const q of this.procs.values()) if (q !== p && q.state !== "zombie") return true;
    return false;
  }

  /** Takes `p` out of the run queue (a task that ends while it waits to run). */
  dequeue(p: Process): void {
    const k = this.runQueue.indexOf(p);
    if (k >= 0) this.runQueue.splice(k, 1);
  }

  /** Removes a reaped process from the table (cf. release_task). */
  release(p: Process): void {
    this.accounting.note(p);
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
    while (this.step(this.init ?? first)); // init, not first: an execve by a thread of the first process puts that thread in its place
    return this.finished(this.init ?? first);
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
    while (this.step(this.init ?? first)) {
      if (this.ended - ended < YIELD_RELEASES) continue;
      ended = this.ended;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.finished(this.init ?? first);
  }

  /** The end of a run: the last slice charged, every process still in the table noted; how the first process ended. */
  private finished(first: Process): ExitStatus {
    this.accounting.switchTo(undefined);
    for (const q of this.procs.values()) this.accounting.note(q);
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
      const stopped = this.live().filter((q) => q.state === "stopped");
      if (parked.length === 0 && stopped.length === 0) return false;
      const wakeable = parked.length > 0 && this.idle(parked);
      if (!wakeable && stopped.length > 0) {
        this.endStopped(first, stopped[0]);
        return false;
      }
      if (!wakeable && first.exitStatus !== undefined) {
        this.killLeftovers();
        return false;
      }
      const due = parked.filter((q) => q.retryDue());
      for (const q of due) this.retry(q);
      // Nothing to retry and nothing to poll: only a task's wake (none can come now), a signal or --timeout
      // could end the waits. Sleep a slice rather than spin (a deadlocked guest hangs, as natively).
      if (due.length === 0 && !wakeable) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(SLICE_NS / 1_000_000n));
      return true;
    }
    const busy = this.runQueue.length > 0 || this.live().length > 1;
    this.accounting.switchTo(p);
    this.current = p;
    try {
      p.runSlice(busy ? this.sliceNs : undefined);
    } finally {
      this.current = undefined;
    }
    if (p.state === "runnable") this.runQueue.push(p);
    if (p.state === "zombie") this.ended++;
    // A slice that did something may have woken the parked (a call that returned before this one
    // parked, e.g. a write before a read that waits); one that only parked again cannot have.
    if (p.state !== "parked" || p.callsInSlice > 0) for (const q of this.live()) if (q.state === "parked" && q !== p && q.retryDue()) this.retry(q);
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
   * Nothing runs, nothing parked can be woken, and `stuck` is stopped: no
   * SIGCONT can ever come (Linux would leave them stopped forever). The run
   * ends: a stopped first process ends with its stop signal as its status
   * (a shell reports a stopped job as 128 + the signal), every other living
   * process is killed.
   */
  private endStopped(first: Process, stuck: Process): void {
    const why = `pid ${stuck.pid} is stopped by ${signalName(stuck.signal.jobctl.stopSignal)}, and no process is left that could continue it`;
    for (const q of this.live()) {
      if (q.group === first.group) continue;
      q.exitWith({ kind: "signaled", signo: 9, detail: `killed: ${why}`, rip: 0 });
    }
    if (first.exitStatus !== undefined) return;
    const own = first.signal.jobctl.stopSignal;
    first.exitWith(own !== 0
      ? { kind: "signaled", signo: own, detail: "no process is left that could continue it (faultline ends the run)", rip: first.engine.rip() }
      : { kind: "signaled", signo: 9, detail: `killed: ${why}`, rip: 0 });
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
