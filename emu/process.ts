/**
 * A guest process: one engine (CPU), one address space, open files, signal
 * state, and the trap handling that joins them. Page faults go to mm/'s
 * fault handler; the syscall instruction goes to the system-call table;
 * anything else the CPU raises becomes the signal Linux would send, which
 * the guest's handler receives or whose default action ends the guest.
 *
 *   engine --#PF--> ExceptionState fix-up --> handlePageFault --> retry
 *          |                                   └─ SIGSEGV/SIGBUS --> forceSignal
 *          --syscall--> dispatch --> RAX --> deliverSignals (restart rules)
 *          --#UD/#GP/#DE/int3--> forceSignal --> handler frame | exit 128+signo
 *   run slices (bounded by timers and --timeout) --> deliverSignals between them
 */
import { ErrnoError, FaultlineError, GuestSignal, OutOfMemoryError, UnicornError } from "../lib/errors.js";
import { Errno } from "../lib/errno.js";
import { MemSystem, Mm, TASK_SIZE, futexKey, handlePageFault } from "../mm/index.js";
import { PF_INSTR, PF_USER, PF_WRITE, Reg, Vec } from "./constants.js";
import { Engine } from "./engine.js";
import type { UnicornLib } from "./unicorn.js";
import { ExceptionState } from "./exception-state.js";
import { FdTable } from "./fdtable.js";
import { CpuSnapshot } from "./exec.js";
import { EngineMmu } from "./mmu.js";
import { FIRST_SOFT_VECTOR, intGateError, userFaultError } from "./segments.js";
import {
  FPE_INTDIV, ILL_ILLOPN, ProcessTimers, SIG, SI_KERNEL, SigHand, SignalStruct, TRAP_TRACE, TaskSignals, deliverSignals,
  expireTimers, forceSignal, sendSignal, signalPending, type SigInfo,
} from "./signal/index.js";
import { resumeFromStop } from "./signal/delivery.js";
import { exitNotify } from "./exit.js";
import { FUTEX_BITSET_MATCH_ANY, FutexWaiter, abandonFutexWait, exitRobustList, writeFutexWord } from "./futex.js";
import { ThreadGroup } from "./thread-group.js";
import { Kernel } from "./kernel.js";
import { ParkError } from "./park.js";
import { dispatch } from "./syscalls/index.js";
import { nowNs, timedOut, type HostWait } from "./syscalls/poll.js";
import { SIGPIPE_CALLS, raiseSigpipe } from "./syscalls/signal.js";
import * as fs from "node:fs";
import * as path from "node:path";
import { StreamFile } from "./files.js";
import { loadElf, type LoadedProgram } from "./loader.js";
import { guestPath, textPath, Vfs, type GuestPath } from "./vfs.js";
import { readExecImage, type ExecImage } from "./procfs/self.js";
import { Rlimits } from "./rlimits.js";

/** The host's cwd as a guest path when it lies under `root`, else "/". */
function defaultCwd(root: string): string {
  const rel = path.relative(path.resolve(root), process.cwd());
  return rel.startsWith("..") || path.isAbsolute(rel) ? "/" : "/" + rel;
}

/** How a guest ended. */
export type ExitStatus =
  | { readonly kind: "exited"; readonly code: number }
  | {
    readonly kind: "signaled";
    readonly signo: number;
    /** Why, as "SEGV_MAPERR: no mapping" or "killed: timeout after 200 ms". */
    readonly detail: string;
    readonly rip: number;
    /** The faulting address, for faults. */
    readonly addr?: number;
    /** The access that faulted ("read", "write", "exec"...), for faults. */
    readonly access?: string;
  };

/** The shell's view of an exit status: the code, or 128 + signal. */
export function shellStatus(s: ExitStatus): number {
  return s.kind === "exited" ? s.code : 128 + s.signo;
}

/** RFLAGS as a new Linux image starts (cf. start_thread_common: X86_EFLAGS_IF, and the reserved bit 1). */
export const USER_EFLAGS = 0x202;

/** Whether a syscall result is one of the kernel-internal restart codes (-512..-516). */
function isRestart(ret: number | bigint): boolean {
  return typeof ret === "number" && ret <= -512 && ret >= -516;
}

/**
 * The signal a CPU exception other than #PF raises, with Linux's si_code
 * and si_addr (cf. arch/x86/kernel/traps.c: do_error_trap, do_int3_user,
 * exc_debug_user, exc_general_protection), and the kill report used when
 * the guest dies of it.
 */
function cpuSignal(intno: number, rip: number, err: number): [SigInfo, GuestSignal] {
  const trap = { trapno: intno, err: intno === Vec.GP ? err : 0, cr2: 0 };
  const make = (name: keyof typeof SIG, code: number, addr: number | undefined, access: string, why: string, at = rip): [SigInfo, GuestSignal] =>
    [{ signo: SIG[name], code, addr, trap }, new GuestSignal(name, SIG[name], at, access, undefined, why, code)];
  switch (intno) {
    case Vec.DE: return make("SIGFPE", FPE_INTDIV, rip, "divide", "FPE_INTDIV: divide error");
    case Vec.UD: return make("SIGILL", ILL_ILLOPN, rip, "exec", "ILL_ILLOPN: invalid opcode");
    case Vec.BP: return make("SIGTRAP", SI_KERNEL, undefined, "int3", "SI_KERNEL: breakpoint (int3)", rip - 1);
    case Vec.DB: return make("SIGTRAP", TRAP_TRACE, rip, "step", "TRAP_TRACE: single step");
    case Vec.GP: return make("SIGSEGV", SI_KERNEL, undefined, "access", "SI_KERNEL: general protection");
    default: return make("SIGSEGV", SI_KERNEL, undefined, "trap", `SI_KERNEL: unexpected CPU exception ${intno}`);
  }
}

/** Options of a process. */
export interface ProcessOptions {
  /** Host directory the guest sees as "/" (default "/"). */
  root?: string;
  /** Guest working directory (default: the host's cwd when it lies under root, else "/"). */
  cwd?: string;
  /** Where --strace lines go; undefined = no tracing. */
  strace?: (line: string) => void;
  /** Where guest writes to fds 1 and 2 go; default: the host's own fds. */
  output?: (hostFd: number, data: Uint8Array) => void;
  /** Wall-clock limit of a run in milliseconds (0 = none). */
  timeoutMs?: number;
  /** Called with each warning line (default: stderr). */
  warn?: (line: string) => void;
  /** The guest world to join (default: a new one, this process its first). */
  kernel?: Kernel;
  /** Signals the guest starts with ignored, as an exec'd program inherits SIG_IGN (bit N-1 for signal N; default none). */
  ignoredSignals?: bigint;
}

/**
 * Who else handles breakpoints and single-step traps (the probes engine).
 * Each returns true when the trap was its own and is handled (RIP and
 * registers set for the guest to continue); false leaves it to the guest,
 * which then gets SIGTRAP as without probes.
 */
export interface TrapHandler {
  /** An int3 was executed; RIP is just past it. */
  onBreakpoint(proc: Process): boolean;
  /** A single-step (#DB) trap arrived; RIP is past the stepped instruction. */
  onSingleStep(proc: Process): boolean;
  /** The address to report for a fault at `rip` (a stepped copy maps back to its original). */
  originalRip?(proc: Process, rip: number): number;
  /** Whether a probed instruction's copy is being stepped now: signals wait until it is done (cf. uprobe_deny_signal). */
  stepping?(proc: Process): boolean;
  /**
   * The stepped copy faulted: puts RIP back at the original instruction and
   * ends the step, so the guest's handler sees the original address (cf.
   * arch_uprobe_abort_xol). No-op when not stepping.
   */
  abortStep?(proc: Process): void;
  /** The trap handler of a fork child of `proc`'s (cf. dup_utask), or undefined to leave it without probes. */
  fork?(child: Process): TrapHandler | undefined;
  /** The task is ending (exit, exit_group, a kill): what it held for a step in progress goes back (cf. uprobe_free_utask). */
  onExit?(proc: Process): void;
  /** The process has just replaced its address space for execve (`proc.mm` is the new, empty one): state tied to the old image goes. */
  onExec?(proc: Process): void;
  /**
   * A system call returned (in the syscall hook, before RAX/RCX/R11 are
   * written back and signals delivered): a probe stepping that `syscall`
   * instruction ends its step here, so delivery sees the call's exit as unprobed.
   */
  syscallDone?(proc: Process): void;
}

/** Thrown by exit() (exit_group) to leave the syscall hook: the process is finished. */
class GuestExit extends FaultlineError {
  constructor(readonly status: number) {
    super("EXIT", `guest exited with ${status}`);
  }
}

/** Thrown by exitThread() (exit(2)) to leave the syscall hook: this task is finished, its group may go on. */
class ThreadExit extends FaultlineError {
  constructor(readonly status: number) {
    super("EXIT", `thread exited with ${status}`);
  }
}

const SYSCALL_REGS = new Int32Array([Reg.RAX, Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9]);
const RCX_R11 = new Int32Array([Reg.RCX, Reg.R11]);
/**
 * How many scheduler budgets a slice may run without a system call before the engine's timeout stops it (see
 * Process.budgetEnd), on a stock engine, whose asynchronous stop may replay a read-modify-write instruction
 * (emu/README.md "Preemption at system calls"). On faultline's build with patch 0005 the timeout ends the slice at
 * the budget itself.
 */
const BUDGET_BACKSTOP = 20n;

/** The patch (third_party/unicorn/patches) that makes an asynchronous stop land at an instruction boundary. */
const EXACT_ASYNC_STOP_PATCH = "0005-async-stop-at-instruction-boundary";

/** The backstop multiplier for an engine of library `lib`: 1 when its asynchronous stops are exact, else BUDGET_BACKSTOP. */
function backstopOf(lib: UnicornLib): bigint {
  return lib.patches.includes(EXACT_ASYNC_STOP_PATCH) ? 1n : BUDGET_BACKSTOP;
}

/**
 * Where a process is in its life (cf. task state and exit_state):
 *   runnable ──runSlice──> runnable (preempted, or a call returned)
 *      │  └──a call must wait──> parked ──retried by the scheduler──> runnable (the call runs again)
 *      ├──vfork──> vfork-wait ──the child execs or exits──> runnable
 *      ├──a stop signal delivered──> stopped ──SIGCONT or SIGKILL──> runnable (signals delivered first)
 *      └──exit / fatal signal──> zombie ──reaped by the parent (wait4), or at once──> released
 */
export type ProcessState = "runnable" | "parked" | "vfork-wait" | "stopped" | "zombie";

/** What a parked call waits for: the host descriptors to poll while nothing runs, and its deadline. */
export interface ParkedOn {
  readonly host: HostWait;
  /** Monotonic ns when the call's own timeout passes (kept for its re-run: resumeUntilNs). */
  readonly untilNs?: bigint;
  /** Whether what the call waits for may have come (see ParkError.wake); undefined: retry it every turn. */
  readonly wake?: () => boolean;
}

/**
 * The parts of its parent a new process shares instead of copying (clone's
 * CLONE_VM, CLONE_FILES, CLONE_FS, CLONE_SIGHAND; cf. copy_mm, copy_files,
 * copy_fs, copy_sighand). Unset: a copy, as fork makes.
 */
export interface CloneShares {
  /** The address space (CLONE_VM): the child runs the parent's Mm on its own engine. */
  readonly vm?: boolean;
  /** The descriptor table (CLONE_FILES). */
  readonly files?: boolean;
  /** Root, cwd and umask (CLONE_FS). */
  readonly fs?: boolean;
  /** The signal dispositions (CLONE_SIGHAND; requires vm). */
  readonly sighand?: boolean;
  /** The thread group (CLONE_THREAD; requires sighand): the new task is a thread of the caller's process. */
  readonly thread?: boolean;
}

/**
 * A task's CPU: one engine, its Mmu, the stale-exception fix-up bound to
 * it, and the CPU state a fresh process starts from (for execve). A task
 * keeps one for its life, except across an execve while its old address
 * space is still shared: the new image gets a new CPU (see Process.execMm).
 */
interface TaskCpu {
  readonly engine: Engine;
  readonly mmu: EngineMmu;
  readonly exc: ExceptionState;
  /** Set once the CPU state is initialised (the FPU as Linux starts it), just before the hooks go in. */
  fresh: CpuSnapshot | undefined;
}

/**
 * A fresh engine in ring 3 with its Mmu (cf. dup_task_struct's arch part).
 * @throws EngineError / UnicornError / HostError when the host or the engine refuses
 */
function newTaskCpu(): TaskCpu {
  const engine = new Engine();
  let exc: ExceptionState | undefined;
  try {
    exc = new ExceptionState(engine);
    return { engine, exc, mmu: new EngineMmu(engine), fresh: undefined };
  } catch (e) {
    exc?.free();
    engine.close();
    throw e;
  }
}

/** Frees what newTaskCpu made. Idempotent (the engine's close is). */
function freeTaskCpu(cpu: TaskCpu): void {
  cpu.exc.free();
  cpu.fresh?.free();
  cpu.engine.close();
  cpu.mmu.free();
}

/** One guest process. */
export class Process {
  /** The CPU this task runs on (see TaskCpu). */
  private cpu: TaskCpu;
  /** A CPU left by execMm, still running the call that replaced it: closed when that run returns. */
  private retiredCpu: TaskCpu | undefined;
  /** The address space; execve puts a new one in its place (Mm.renew, or a new one: execMm). Shared with other tasks by CLONE_VM. */
  mm: Mm;
  /** The descriptor table (shared by CLONE_FILES: see FdTable.users). */
  fds: FdTable;
  /** Root, working directory and umask (shared by CLONE_FS: see Vfs.users). */
  readonly fs: Vfs;
  /** The guest world this process lives in: pids, family, scheduler. */
  readonly kernel: Kernel;
  /**
   * This task's id (its tid) in the guest's pid namespace (the first process is 1, see Kernel); a
   * single-threaded process's pid. The process's id is `tgid`. Changes only when execve by a
   * non-leader thread makes it the leader (cf. de_thread's exchange_tids).
   */
  pid: number;
  /** The process this task is a thread of (shared by CLONE_THREAD; see emu/thread-group.ts). */
  readonly group: ThreadGroup;
  /** The parent process's leader (cf. real_parent, which threads share); undefined for the first process, whose parent is outside the guest. */
  parent: Process | undefined;
  /** Children not yet reaped; kept on the group leader only (a thread's fork makes a child of its group's leader). */
  readonly children = new Set<Process>();
  /** Process group and session ids (cf. task_pgrp, task_session); 0 for the first process's, which are outside the guest's pid namespace. */
  pgid: number;
  sid: number;
  /** Where it is in its life (see ProcessState). */
  state: ProcessState = "runnable";
  /** How it ended, once a zombie (the shell's view: shellStatus). */
  exitStatus: ExitStatus | undefined;
  /** What the call that parked it waits for; set by the syscall hook, cleared when it runs again. */
  parkedOn: ParkedOn | undefined;
  /** A parked call's deadline, handed to its re-run so that a sleep does not start over (see deadlineNs in syscalls/poll.ts). */
  resumeUntilNs: bigint | undefined;
  /** The parent a vfork child must release when it execs or exits (cf. vfork_done). */
  vforkParent: Process | undefined;
  /** The signal the parent gets when this process ends (cf. exit_signal: SIGCHLD, or 0 for none). */
  exitSignal = 17;
  /** Resource limits (cf. signal->rlim): the group's; copied at fork, kept across execve. */
  readonly rlimits: Rlimits;
  /** The signal this process gets when its parent dies (cf. pdeath_signal, PR_SET_PDEATHSIG); 0 for none, and a fork child starts with 0. */
  pdeathSignal = 0;
  /** CLONE_CHILD_CLEARTID's / set_tid_address's address (cf. clear_child_tid), 0 when none: zeroed and woken when the task ends (mmRelease). */
  clearChildTid = 0;
  /** set_robust_list's head (cf. robust_list), 0 when none: walked when the task ends (emu/futex.ts exitRobustList). */
  robustList = 0;
  /** The CPUs this task may run on (cf. cpus_mask; sched_setaffinity), undefined for all of the guest's. Inherited by clone. */
  affinity: bigint | undefined;
  /** The futex wait this task is queued in, while its futex call is parked (see emu/futex.ts). */
  futexWaiter: FutexWaiter | undefined;
  /** Guest path of the running program (for /proc/self/exe and AT_EXECFN). */
  exePath = "" as GuestPath;
  /** The probes engine's trap handler, when probes are attached to this process. */
  traps: TrapHandler | undefined;
  /** Signal dispositions (cf. sighand_struct; shared by CLONE_SIGHAND; execve takes a copy of a shared one). */
  sighand: SigHand;
  /** The thread group's signal state: shared pending signals, timers (cf. signal_struct; shared by CLONE_THREAD). */
  readonly signal: SignalStruct;
  /** The task's own signal state: blocked mask, pending, altstack, saved mask (cf. task_struct). */
  readonly sigtask = new TaskSignals();
  /**
   * Set by a call that replaced the guest's registers (rt_sigreturn, execve):
   * the syscall hook then leaves RAX, RCX and R11 as the call set them.
   * Reset before every call.
   */
  registersReplaced = false;
  /**
   * Set by a call whose EPIPE raises no SIGPIPE here: a datagram or seqpacket
   * socket's (cf. unix_dgram_sendmsg, which sends none), or a stream socket's,
   * which raised it itself (cf. unix_stream_sendmsg). Reset before every call.
   */
  sigpipeQuiet = false;
  /**
   * System calls that returned in the run slice now running or last run (a
   * slice that ends parked after some did may have woken others: the
   * scheduler then retries the parked).
   */
  callsInSlice = 0;
  /** What exec laid out on the initial stack, for /proc/self/{cmdline,environ,auxv,stat}; undefined before exec. */
  execImage: ExecImage | undefined;
  /** The command name prctl(PR_SET_NAME) gave (at most 15 bytes), valid while `image` is still execImage (an exec resets the name, cf. __set_task_comm). */
  setName: { readonly image: ExecImage | undefined; readonly name: Buffer } | undefined;
  /** When the current run() began (process.hrtime.bigint()); a guest that waits is killed at this plus timeoutMs. */
  runStartNs = 0n;
  /** Set with the engine stopped from a hook (execve): run() drops all translated code and resumes at RIP. */
  codeFlushOwed = false;
  private readonly regs: number[] = new Array(7).fill(0);
  private readonly sysret: number[] = [0, 0];
  private readonly warned = new Set<string>();
  /** When the engine slice now running ends (monotonic ns; undefined: no limit), as runSlices computed it. */
  private sliceLimit: bigint | undefined;
  /** Set when a system call armed a timer due before sliceLimit, or found the scheduler's budget spent, and stopped the engine for it. */
  private sliceCut = false;
  /**
   * When the scheduler's budget for the running slice ends (monotonic ns; undefined: no budget).
   * It is enforced at system-call boundaries (preemptAtSyscall), not by the engine's timeout:
   * stock Unicorn (2.1.4, 2.0.1) takes the timeout's stop at the exit check after a store and puts
   * RIP back at the instruction, so a read-modify-write runs twice on resume (wrong hashes from
   * `cat | sha256sum`, crashed programs; engine patch 0005, emu/README.md "Preemption at system calls").
   */
  private budgetEnd: bigint | undefined;
  /** Reads RIP; handed to the fault path, which needs it only to report a signal. */
  private readonly ripOf = (): number => this.engine.rip();

  /**
   * A new process on a fresh engine: the first of a guest world (its own
   * Kernel unless `options.kernel` names one), with an empty address space;
   * or, with `forkOf`, clone's child of that process: its files, fs context
   * and dispositions copied, or shared as `share` says, its mask and
   * altstack copied, and its address space the parent's own (share.vm) or
   * empty (fork then copies it: emu/fork.ts, as it copies the registers).
   * @throws EngineError / UnicornError / HostError when the engine or the address space cannot be set up
   */
  constructor(readonly sys: MemSystem, readonly options: ProcessOptions = {}, forkOf?: Process, share: CloneShares = {}) {
    // Engine and address space first: a host that refuses them leaves nothing behind: no
    // half-made process in the table, no copied file table holding a pipe's ends open (cf. copy_process's order).
    this.cpu = newTaskCpu();
    try {
      if (forkOf && share.vm) {
        forkOf.mm.share(this.cpu.mmu);
        this.mm = forkOf.mm;
      } else {
        this.mm = new Mm(sys, this.cpu.mmu);
      }
    } catch (e) {
      freeTaskCpu(this.cpu);
      throw e;
    }
    this.kernel = forkOf?.kernel ?? options.kernel ?? new Kernel(sys);
    const thread = forkOf !== undefined && share.thread === true;
    this.group = thread ? forkOf.group : new ThreadGroup(this);
    this.group.threads.add(this);
    this.signal = thread ? forkOf.signal : new SignalStruct();
    this.rlimits = thread ? forkOf.rlimits : forkOf ? forkOf.rlimits.clone() : new Rlimits();
    if (forkOf) {
      this.fs = share.fs ? forkOf.fs.share() : forkOf.fs.clone();
      this.fds = share.files ? forkOf.fds.share() : forkOf.fds.clone();
      this.sighand = share.sighand ? forkOf.sighand.share() : forkOf.sighand.clone();
      this.sigtask.blocked = forkOf.sigtask.blocked;
      this.sigtask.altstack = { ...forkOf.sigtask.altstack };
      this.exePath = forkOf.exePath;
      this.execImage = forkOf.execImage;
      this.setName = forkOf.setName; // comm is inherited (cf. dup_task_struct)
      this.affinity = forkOf.affinity;
      this.runStartNs = forkOf.runStartNs;
    } else {
      this.fs = new Vfs(options.root ?? "/", options.cwd ?? defaultCwd(options.root ?? "/"));
      this.fds = new FdTable();
      this.sighand = new SigHand();
      const out = (fd: number, d: Uint8Array) => this.output(fd, d);
      this.fds.put(0, new StreamFile("/dev/stdin", 0, true, false, out), false);
      this.fds.put(1, new StreamFile("/dev/stdout", 1, false, true, out), false);
      this.fds.put(2, new StreamFile("/dev/stderr", 2, false, true, out), false);
    }
    this.pid = this.kernel.register(this);
    this.parent = thread ? forkOf.parent : forkOf?.group.leader; // cf. copy_process: a thread's real_parent is its creator's
    if (!thread) this.parent?.children.add(this);
    this.kernel.opened(this);
    // The first process's group and session lie outside the guest's pid namespace: 0, as getpgrp and getsid show them there.
    this.pgid = forkOf?.pgid ?? 0;
    this.sid = forkOf?.sid ?? 0;
    this.startCpu(this.cpu);
    if (!thread) {
      const group = this.group;
      this.signal.timers = new ProcessTimers((info) => sendSignal(group.leader, info));
    }
    if (!forkOf) this.sighand.ignoreInherited(options.ignoredSignals ?? 0n);
  }

  /** execve's own descriptor table (cf. unshare_files): a copy when another process shares it (CLONE_FILES), same open files. */
  unshareFiles(): void {
    if (!this.fds.shared) return;
    const own = this.fds.clone();
    this.fds.release();
    this.fds = own;
  }

  /** The engine this task runs on now (execve of a task sharing its address space moves it to another: execMm). */
  get engine(): Engine {
    return this.cpu.engine;
  }

  /**
   * Puts `cpu`'s FPU as a new Linux process finds it (cf. fpstate_init:
   * FNINIT, then the default MXCSR: x87 at 64-bit precision with exceptions
   * masked, SSE exceptions masked, empty x87 stack), saves that state for
   * execve, and installs this task's trap hooks.
   */
  private startCpu(cpu: TaskCpu): void {
    const e = cpu.engine;
    e.writeReg(Reg.FPCW, 0x37f);
    e.writeReg(Reg.MXCSR, 0x1f80);
    e.writeReg(Reg.FPTAG, 0xffff);
    cpu.fresh = new CpuSnapshot(e);
    e.onInterrupt((intno) => this.onInterrupt(intno));
    e.onSyscall(() => this.onSyscall());
  }

  /**
   * execve's new address space for a task whose old one other tasks still
   * use (cf. exec_mmap: the new mm, then mmput of the old): a new engine
   * over a new, empty Mm, because the engine's memory regions cannot be
   * remapped cheaply (unmapping them costs seconds). The old engine, running
   * this very call, is stopped and closed when its run returns (slice());
   * the new one starts as a fresh CPU: the caller sets RIP directly (no
   * syscall-hook adjustment applies to it).
   * Precondition: in the syscall hook of execve, past its point of no return.
   * @throws OutOfMemoryError / HostError / UnicornError when the host refuses the new engine or memory
   */
  execMm(): void {
    const old = this.cpu, oldMm = this.mm;
    const cpu = newTaskCpu();
    try {
      this.mm = new Mm(this.sys, cpu.mmu);
    } catch (e) {
      freeTaskCpu(cpu);
      throw e;
    }
    this.startCpu(cpu);
    this.cpu = cpu;
    this.retiredCpu = old;
    old.engine.stop();
    oldMm.put(old.mmu);
  }

  /** Writes guest output to a host stream. */
  output(hostFd: number, data: Uint8Array): void {
    if (this.options.output) this.options.output(hostFd, data);
    else fs.writeSync(hostFd, data);
  }

  /** Prints `line` once per `key`. */
  warnOnce(key: string, line: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    (this.options.warn ?? ((l: string) => process.stderr.write(l + "\n")))(line);
  }

  /**
   * Loads guest program `program` (a guest path, or a name looked up in PATH
   * inside the root; text, or the name's bytes) into this fresh process (cf. execve).
   * @returns where to start it (pass to run())
   * @throws ExecError when the file cannot be executed
   */
  exec(program: string | Uint8Array, argv: readonly (string | Uint8Array)[], envp: readonly (string | Uint8Array)[]): LoadedProgram {
    const loaded = loadElf(this.mm, this.fs, typeof program === "string" ? textPath(program) : guestPath(program), argv, envp);
    this.exePath = loaded.exePath;
    this.execImage = readExecImage(this.mm, loaded.rsp);
    return loaded;
  }

  /** Puts every register back as the constructor left them (execve); the caller sets RIP and RSP. */
  resetCpu(): void {
    this.cpu.fresh!.restore();
  }

  /** The process id (the thread group's, cf. task_tgid_nr): what getpid returns. */
  get tgid(): number {
    return this.group.leader.pid;
  }

  /** Ends the whole process with `code` (exit_group). */
  exit(code: number): never {
    throw new GuestExit(code);
  }

  /** Ends this task with `code` (exit(2)); the process ends with it when it is the last (cf. do_exit). */
  exitThread(code: number): never {
    throw new ThreadExit(code);
  }

  private onInterrupt(intno: number): void {
    if (intno === Vec.PF) return this.onPageFault();
    if (intno === Vec.BP && this.traps?.onBreakpoint(this)) return;
    if (intno === Vec.DB && this.traps?.onSingleStep(this)) {
      if (signalPending(this)) deliverSignals(this, { kind: "async" }); // held during the step (cf. uprobe_deny_signal)
      return;
    }
    let err = this.cpu.exc.afterPageFault(); // the stale exception state must go before the guest runs on
    if (intno >= FIRST_SOFT_VECTOR) {
      // `int N` (2 bytes, RIP past it here) through a DPL-0 gate: #GP at the instruction, err = N * 8 + 2 (IDT bit).
      this.engine.setRip(this.engine.rip() - 2);
      err = intGateError(intno);
      intno = Vec.GP;
    }
    const [info, kill] = cpuSignal(intno, this.trapRip(), err);
    forceSignal(this, info, kill);
  }

  /**
   * RIP as a trap reports it: inside a probe's stepped copy, the probed
   * instruction's address instead (cf. uprobe_get_trap_addr).
   */
  private trapRip(): number {
    const rip = this.engine.readReg(Reg.RIP);
    return this.traps?.originalRip?.(this, rip) ?? rip;
  }

  /** A #PF: mm's fault path, and a SIGSEGV/SIGBUS it raises goes to the guest (cf. do_user_addr_fault, force_sig_fault). */
  private onPageFault(): void {
    let errorCode = this.cpu.exc.afterPageFault();
    const cr2 = this.engine.cpu ? this.engine.cpu.cr2 : this.engine.readReg(Reg.CR2);
    // Without NXE (Unicorn 2.0.1) the CPU leaves the instruction-fetch bit out
    // of the error code; a fault at RIP itself is a fetch.
    if (!this.mm.nx && (errorCode & PF_WRITE) === 0 && cr2 === this.ripOf()) errorCode |= PF_INSTR;
    try {
      handlePageFault(this.mm, cr2, errorCode, this.ripOf);
    } catch (e) {
      if (!(e instanceof GuestSignal)) throw e;
      const info: SigInfo = { signo: e.signo, code: e.siCode, addr: cr2, trap: { trapno: Vec.PF, err: userFaultError(cr2, errorCode | PF_USER, TASK_SIZE), cr2 } };
      forceSignal(this, info, e);
    }
  }

  private onSyscall(): void {
    const r = this.regs;
    this.engine.readRegs(SYSCALL_REGS, r, true);
    this.registersReplaced = false;
    this.sigpipeQuiet = false;
    const nr = r[0];
    let ret: number | bigint;
    try {
      ret = dispatch(this, nr, [r[1], r[2], r[3], r[4], r[5], r[6]]);
    } catch (e) {
      if (e instanceof ParkError) return this.park(nr, e);
      this.resumeUntilNs = undefined;
      throw e;
    }
    this.resumeUntilNs = undefined; // the deadline was this call's only
    this.callsInSlice++;
    this.traps?.syscallDone?.(this);
    if (this.registersReplaced) {
      expireTimers(this);
      if (signalPending(this)) deliverSignals(this, { kind: "sigreturn" });
      return;
    }
    this.engine.writeReg(Reg.RAX, typeof ret === "bigint" || ret < 0 ? BigInt(ret) : ret);
    // As the CPU's syscall leaves them: RCX = the next instruction (in this hook RIP is still
    // at the 2-byte syscall itself), R11 = RFLAGS.
    this.sysret[0] = this.engine.rip() + 2;
    this.sysret[1] = this.engine.readReg(Reg.EFLAGS);
    this.engine.writeRegs(RCX_R11, this.sysret);
    if (ret === -Errno.EPIPE && SIGPIPE_CALLS.has(nr) && !this.sigpipeQuiet) raiseSigpipe(this);
    expireTimers(this);
    if (signalPending(this) || this.sigtask.savedMask !== undefined || isRestart(ret)) deliverSignals(this, { kind: "syscall", nr, ret });
    this.cutSliceForTimer();
    this.preemptAtSyscall();
  }

  /**
   * sched_yield(2) (cf. do_sched_yield): the slice ends at this call's return when another task
   * is runnable, so a task that spins on yield lets the others run.
   */
  yieldCpu(): void {
    if (this.kernel.othersRunnable(this)) this.cutSlice();
  }

  /** Ends the slice at this system call's return once the scheduler's budget is spent (an exact stopping point). */
  private preemptAtSyscall(): void {
    if (this.budgetEnd === undefined || process.hrtime.bigint() < this.budgetEnd) return;
    this.cutSlice();
  }

  /** Stops the engine once the running call returns, as an expected end of the slice (sliceCut; runSlice then goes on normally). */
  private cutSlice(): void {
    if (this.sliceCut) return;
    this.sliceCut = true;
    this.engine.stop();
  }

  /**
   * Ends the running engine slice early when a timer armed by the call just
   * made (alarm, setitimer, timer_settime) is due before the slice would end,
   * so a guest that then only computes still gets its signal on time.
   */
  private cutSliceForTimer(): void {
    const due = this.signal.timers.nextDeadlineNs();
    if (due === undefined || (this.sliceLimit !== undefined && due >= this.sliceLimit)) return;
    this.cutSlice();
  }

  /**
   * Ends an unbounded engine slice once the running call returns (called from
   * the syscall hook, by Kernel.wake): another process has become runnable
   * while this one ran alone, without a scheduler budget. A slice with a
   * budget (preemptAtSyscall ends it on time) is left alone.
   */
  preemptAfterCall(): void {
    if (this.budgetEnd === undefined) this.cutSlice();
  }

  /**
   * Whether the scheduler should run this parked task's call again (cf. a
   * wake-up of the wait queue it sleeps on): always for a wait that gave no
   * wake test; else once that test holds, or a signal is pending, its
   * deadline or a timer is due, or --timeout has passed.
   */
  retryDue(): boolean {
    const w = this.parkedOn;
    if (w?.wake === undefined || w.wake() || signalPending(this)) return true;
    const now = nowNs();
    if (w.untilNs !== undefined && now >= w.untilNs) return true;
    const timer = this.signal.timers.nextDeadlineNs();
    if (timer !== undefined && now >= timer) return true;
    return timedOut(this, now);
  }

  /**
   * Parks the calling process (from the syscall hook): the call will run
   * again from the start when the scheduler retries it (RIP back at the
   * syscall instruction, RAX its number, as a restarted call), with its
   * deadline kept (cf. -ERESTARTNOINTR and the restart_block of timed waits).
   */
  private park(nr: number, e: ParkError): void {
    this.engine.writeReg(Reg.RAX, nr);
    this.engine.setRip(this.engine.rip() - 2); // the engine adds 2 after the hook: back at the syscall
    this.parkedOn = { host: e.host, untilNs: e.untilNs, wake: e.wake };
    this.resumeUntilNs = e.untilNs;
    this.engine.stop();
  }

  /**
   * Readies the process to run from `entry` with stack pointer `rsp` (the
   * first instruction of a new image), as the scheduler will resume it.
   */
  start(entry: number, rsp: number): void {
    this.engine.writeReg(Reg.RSP, rsp);
    this.engine.writeReg(Reg.RIP, entry);
    this.engine.writeReg(Reg.EFLAGS, USER_EFLAGS);
    this.state = "runnable";
    if (this.exitStatus === undefined) return;
    // The first process run again after it ended (an embedder re-running the image it kept, as the tests do):
    // it is a live task of its group once more.
    this.exitStatus = undefined;
    this.taskEnded = false;
    this.group.threads.add(this);
  }

  /**
   * Runs the guest from `entry` with stack pointer `rsp` until it exits or
   * is killed by a signal, with every process it starts (the scheduler runs
   * them all until none is left). The engine runs in slices that end at the next
   * timer's deadline and at --timeout; between slices due timers fire and
   * pending signals are delivered, and the guest resumes exactly where the
   * slice stopped it.
   * @returns how it ended
   * @throws FaultlineError for failures of faultline itself (never for guest faults)
   */
  run(entry: number, rsp: number): ExitStatus {
    this.start(entry, rsp);
    this.runStartNs = process.hrtime.bigint();
    return this.kernel.run(this);
  }

  /** As run(), letting Node's event loop turn between processes (see Kernel.runAsync); what the CLI uses. */
  runAsync(entry: number, rsp: number): Promise<ExitStatus> {
    this.start(entry, rsp);
    this.runStartNs = process.hrtime.bigint();
    return this.kernel.runAsync(this);
  }

  /**
   * One engine run of this process, at most `budgetNs` long (undefined: until
   * the next timer or --timeout), then due timers and pending signals. An
   * exit or a fatal signal makes it a zombie (see exitWith).
   * Precondition: state "runnable".
   * @throws FaultlineError for failures of faultline itself (never for guest faults)
   */
  runSlice(budgetNs?: bigint): void {
    this.callsInSlice = 0;
    try {
      this.slice(budgetNs);
    } catch (e) {
      if (e instanceof ThreadExit) return this.threadExited(e.status);
      const status = this.endOf(e);
      if (status === undefined) throw e;
      this.exitWith(status);
    }
  }

  /** How the guest ended, for an exception that ends it (undefined: a failure of faultline's own). */
  private endOf(e: unknown): ExitStatus | undefined {
    if (e instanceof GuestExit) return { kind: "exited", code: e.status };
    if (e instanceof GuestSignal) {
      const rip = this.traps?.originalRip?.(this, e.rip) ?? e.rip;
      return { kind: "signaled", signo: e.signo, detail: e.why, rip, addr: e.addr, access: e.access };
    }
    if (e instanceof OutOfMemoryError) {
      return { kind: "signaled", signo: SIG.SIGKILL, detail: `killed: ${e.message}`, rip: this.engine.readReg(Reg.RIP) };
    }
    if (e instanceof UnicornError) return this.engineStop(e);
    return undefined;
  }

  /** runSlice's body; ends by exceptions for exits and kills. */
  private slice(budgetNs: bigint | undefined): void {
    const timeoutNs = BigInt(Math.round((this.options.timeoutMs ?? 0) * 1e6));
    const sliceStart = process.hrtime.bigint();
    const own = this.sliceEnd(timeoutNs);
    this.budgetEnd = budgetNs === undefined ? undefined : sliceStart + budgetNs;
    // The engine's own timeout only backs the budget up, for a guest that makes no system call.
    const budget = budgetNs === undefined ? undefined : sliceStart + budgetNs * backstopOf(this.engine.lib);
    const limit = (this.sliceLimit = own === undefined ? budget : budget === undefined || own < budget ? own : budget);
    this.cpu.exc.reset();
    if (this.mm.enter(this.cpu.mmu)) this.engine.flushCode(); // another engine on this address space may have written code
    this.parkedOn = undefined;
    if (!resumeFromStop(this)) return; // stopped again by what was pending
    try {
      this.engine.run(this.engine.rip(), { timeoutUs: limit === undefined ? 0 : Math.max(1, Number((limit - sliceStart) / 1000n)) });
    } catch (e) {
      if (!(e instanceof UnicornError && e.code === "UC_ERR_INSN_INVALID")) throw e;
      this.onInvalidInstruction();
      return;
    }
    if (this.parkedOn) {
      this.state = "parked";
      return;
    }
    if (this.retiredCpu) {
      // execve moved the task to a new engine (execMm): the old one's run has ended; the new one has no translations yet.
      freeTaskCpu(this.retiredCpu);
      this.retiredCpu = undefined;
      this.codeFlushOwed = false;
      return;
    }
    if (this.state === "vfork-wait" || this.state === "stopped") return;
    if (this.codeFlushOwed) {
      // execve stopped the engine to drop every translation between runs (a flush from a hook crashes 2.0.1).
      this.codeFlushOwed = false;
      this.engine.flushCode();
      return;
    }
    const now = process.hrtime.bigint();
    if (timeoutNs > 0n && now - this.runStartNs >= timeoutNs) {
      throw new GuestSignal("SIGKILL", SIG.SIGKILL, this.engine.readReg(Reg.RIP), "timeout", undefined, `killed: timeout after ${this.options.timeoutMs} ms`);
    }
    const cut = this.sliceCut;
    this.sliceCut = false;
    if (!cut && (limit === undefined || !this.engine.timedOut())) {
      throw new GuestSignal("SIGSEGV", SIG.SIGSEGV, this.engine.readReg(Reg.RIP), "trap", undefined, "engine stopped unexpectedly");
    }
    expireTimers(this);
    if (signalPending(this)) deliverSignals(this, { kind: "async" });
  }

  /**
   * The process has ended with `status` (cf. do_exit, exit_notify): its
   * files, address space and engine are released, its children go to the
   * first process, and its parent gets SIGCHLD and may reap it; a parent
   * that ignores SIGCHLD (or set SA_NOCLDWAIT) never sees a zombie.
   */
  exitWith(status: ExitStatus): void {
    const g = this.group, leader = g.leader;
    if (leader.exitStatus !== undefined) return; // the group has already ended (a second kill of a leftover)
    for (const t of [...g.threads]) if (t !== this) t.endTask(); // cf. zap_other_threads
    this.endTask();
    leader.exitStatus = status;
    leader.state = "zombie";
    exitNotify(leader);
  }

  /**
   * exit(2) of this task (cf. do_exit without group_dead): the task ends;
   * the last task of the group ends the process, with the leader's code
   * when the leader ended first (cf. wait_task_zombie's exit_code).
   */
  private threadExited(code: number): void {
    const g = this.group;
    if (g.threads.size <= 1) {
      this.exitWith({ kind: "exited", code: this === g.leader ? code : g.leaderCode });
      return;
    }
    if (this === g.leader) g.leaderCode = code;
    this.endTask();
  }

  /**
   * execve's end of every other thread of the process (cf. de_thread): they
   * end at once; a non-leader that execs then takes the leader's place: its
   * tid becomes the leader's (the process keeps its pid, cf.
   * exchange_tids), with the leader's parent, children, process group and
   * session; the old leader's task is released.
   * Precondition: in the syscall hook of execve, past its point of no return.
   */
  deThread(): void {
    const g = this.group, old = g.leader;
    for (const t of [...g.threads]) if (t !== this) t.endTask();
    if (old === this) return;
    const k = this.kernel, tid = old.pid;
    k.release(this);
    k.release(old);
    this.pid = tid;
    k.adopt(this, old);
    g.leader = this;
    this.parent = old.parent;
    old.parent?.children.delete(old);
    this.parent?.children.add(this);
    for (const c of old.children) {
      c.parent = this;
      this.children.add(c);
    }
    old.children.clear();
    this.pgid = old.pgid;
    this.sid = old.sid;
    this.exitSignal = old.exitSignal;
    old.release();
  }

  /** Whether endTask ran. */
  private taskEnded = false;

  /**
   * The end of this task (cf. do_exit's exit_mm, exit_files, exit_fs, and
   * release_task for a thread): its robust futexes and clear_child_tid
   * (mmRelease), its place in the group and the run queue, its files and
   * engine. A non-leader thread leaves the process table at once; a leader
   * stays in it, a zombie, until the group ends (its status set then).
   * The first process's leader keeps its memory until destroy(): its
   * caller may report from it (the faulting instruction). Idempotent.
   * Precondition: no engine of the group is running (called between slices, or from this task's own end).
   */
  private endTask(): void {
    if (this.taskEnded) return;
    this.taskEnded = true;
    this.mmRelease();
    abandonFutexWait(this);
    this.traps?.onExit?.(this);
    this.group.threads.delete(this);
    this.state = "zombie";
    this.parkedOn = undefined;
    this.vforkDone();
    this.kernel.dequeue(this);
    if (this === this.kernel.init) this.releaseFiles();
    else this.release();
    if (this !== this.group.leader) this.kernel.release(this);
  }

  /**
   * What a task's end does to memory other tasks still use (cf.
   * mm_release, futex_exit_release): its robust futexes are marked
   * FUTEX_OWNER_DIED and a waiter woken; its clear_child_tid word is zeroed
   * and one waiter woken, when another task shares the address space (that
   * is how pthread_join learns of the end).
   */
  private mmRelease(): void {
    exitRobustList(this);
    this.robustList = 0;
    const tid = this.clearChildTid;
    this.clearChildTid = 0;
    if (tid === 0 || !this.mm.shared) return;
    try {
      writeFutexWord(this, tid, 0);
      this.kernel.futexes.wake(futexKey(this.mm, tid, true), 1, FUTEX_BITSET_MATCH_ANY);
    } catch (e) {
      if (!(e instanceof ErrnoError)) throw e; // a bad address is ignored, as put_user's failure is
    }
  }

  /** Lets a vfork parent run again (cf. mm_release's complete_vfork_done): at exec and at exit. */
  vforkDone(): void {
    const parent = this.vforkParent;
    this.vforkParent = undefined;
    if (parent && parent.state === "vfork-wait") {
      parent.state = "runnable";
      this.kernel.wake(parent);
    }
  }

  /**
   * #UD: Unicorn never reports it to the interrupt hook; it ends the run with
   * UC_ERR_INSN_INVALID, RIP at the instruction (cf. x86_stop_interrupt). The
   * guest's SIGILL handler gets it, or the default action kills.
   */
  private onInvalidInstruction(): void {
    const rip = this.engine.readReg(Reg.RIP);
    const [info, kill] = cpuSignal(Vec.UD, rip, 0);
    forceSignal(this, info, kill);
  }

  /** When the next slice must end (monotonic ns): the nearest timer or the --timeout; undefined for no limit. */
  private sliceEnd(timeoutNs: bigint): bigint | undefined {
    const timer = this.signal.timers.nextDeadlineNs();
    const kill = timeoutNs > 0n ? this.runStartNs + timeoutNs : undefined;
    if (timer === undefined) return kill;
    return kill === undefined || timer < kill ? timer : kill;
  }

  /** Maps an engine error that ends a run to the signal Linux would have sent. */
  private engineStop(e: UnicornError): ExitStatus {
    const rip = this.trapRip();
    if (e.code === "UC_ERR_INSN_INVALID") return { kind: "signaled", signo: SIG.SIGILL, detail: "ILL_ILLOPN: invalid opcode", rip };
    return { kind: "signaled", signo: SIG.SIGSEGV, detail: `SEGV_MAPERR: ${e.message}`, rip };
  }

  /** Whether the files and the memory were released (releaseFiles, release). */
  private filesReleased = false;
  private released = false;

  /** Closes the descriptors and the cwd at exit (cf. exit_files, exit_fs): pipes see their ends go. Idempotent. */
  private releaseFiles(): void {
    if (this.filesReleased) return;
    this.filesReleased = true;
    this.fds.release();
    this.fs.put();
    this.sighand.put();
  }

  /**
   * Frees what a zombie no longer needs: files, address space, engine (dirty
   * file data stays in the page cache). Idempotent.
   */
  private release(): void {
    this.releaseFiles();
    if (this.released) return;
    this.released = true;
    this.mm.put(this.cpu.mmu);
    freeTaskCpu(this.cpu);
    if (this.retiredCpu) freeTaskCpu(this.retiredCpu);
    this.retiredCpu = undefined;
  }

  /** Undoes a child that fork could not finish (cf. copy_process's bad_fork_* path): released and forgotten. */
  abandon(): void {
    this.release();
    this.group.threads.delete(this);
    this.parent?.children.delete(this);
    this.kernel.release(this);
  }

  /** Releases the process and every other process of its guest world (the end of a run). Idempotent. */
  destroy(): void {
    for (const p of [...this.kernel.procs.values()]) p.release();
    this.release();
  }
}
