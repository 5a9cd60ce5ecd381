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
import { FaultlineError, GuestSignal, OutOfMemoryError, UnicornError } from "../lib/errors.js";
import { Errno } from "../lib/errno.js";
import { MemSystem, Mm, handlePageFault } from "../mm/index.js";
import { PF_INSTR, PF_USER, PF_WRITE, Reg, Vec } from "./constants.js";
import { Engine } from "./engine.js";
import { ExceptionState } from "./exception-state.js";
import { FdTable } from "./fdtable.js";
import { CpuSnapshot } from "./exec.js";
import { EngineMmu } from "./mmu.js";
import {
  FPE_INTDIV, ILL_ILLOPN, ProcessTimers, SIG, SI_KERNEL, SigHand, SignalStruct, TRAP_TRACE, TaskSignals, deliverSignals,
  expireTimers, forceSignal, sendSignal, signalPending, type SigInfo,
} from "./signal/index.js";
import { exitNotify } from "./exit.js";
import { Kernel } from "./kernel.js";
import { ParkError } from "./park.js";
import { dispatch } from "./syscalls/index.js";
import type { HostWait } from "./syscalls/poll.js";
import { SIGPIPE_CALLS, raiseSigpipe } from "./syscalls/signal.js";
import * as fs from "node:fs";
import * as path from "node:path";
import { StreamFile } from "./files.js";
import { loadElf, type LoadedProgram } from "./loader.js";
import { guestPath, textPath, Vfs, type GuestPath } from "./vfs.js";
import { readExecImage, type ExecImage } from "./procfs/self.js";

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
  /** The process has just replaced its address space for execve (`proc.mm` is the new, empty one): state tied to the old image goes. */
  onExec?(proc: Process): void;
  /**
   * A system call returned (in the syscall hook, before RAX/RCX/R11 are
   * written back and signals delivered): a probe stepping that `syscall`
   * instruction ends its step here, so delivery sees the call's exit as unprobed.
   */
  syscallDone?(proc: Process): void;
}

/** Thrown by exit() to leave the syscall hook: the guest is finished. */
class GuestExit extends FaultlineError {
  constructor(readonly status: number) {
    super("EXIT", `guest exited with ${status}`);
  }
}

const SYSCALL_REGS = new Int32Array([Reg.RAX, Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9]);
const RCX_R11 = new Int32Array([Reg.RCX, Reg.R11]);

/**
 * Where a process is in its life (cf. task state and exit_state):
 *   runnable ──runSlice──> runnable (preempted, or a call returned)
 *      │  └──a call must wait──> parked ──retried by the scheduler──> runnable (the call runs again)
 *      ├──vfork──> vfork-wait ──the child execs or exits──> runnable
 *      └──exit / fatal signal──> zombie ──reaped by the parent (wait4), or at once──> released
 */
export type ProcessState = "runnable" | "parked" | "vfork-wait" | "zombie";

/** What a parked call waits for: the host descriptors to poll while nothing runs, and its deadline. */
export interface ParkedOn {
  readonly host: HostWait;
  /** Monotonic ns when the call's own timeout passes (kept for its re-run: resumeUntilNs). */
  readonly untilNs?: bigint;
}

/** One guest process. */
export class Process {
  readonly engine: Engine;
  /** The address space; execve puts a new one in its place (Mm.renew). */
  mm: Mm;
  readonly fds: FdTable;
  /** Root, working directory and umask. */
  readonly fs: Vfs;
  /** The guest world this process lives in: pids, family, scheduler. */
  readonly kernel: Kernel;
  /** Process id in the guest's pid namespace (the first process keeps the host's pid). */
  readonly pid: number;
  /** The parent (cf. real_parent); undefined for the first process, whose parent is outside the guest. */
  parent: Process | undefined;
  /** Children not yet reaped. */
  readonly children = new Set<Process>();
  /** Process group and session ids (cf. task_pgrp, task_session). */
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
  /** CLONE_CHILD_CLEARTID's address (cf. clear_child_tid), 0 when none: cleared and woken at exit once threads exist. */
  clearChildTid = 0;
  /** Guest path of the running program (for /proc/self/exe and AT_EXECFN). */
  exePath = "" as GuestPath;
  /** The probes engine's trap handler, when probes are attached to this process. */
  traps: TrapHandler | undefined;
  /** Signal dispositions (cf. sighand_struct; shared by CLONE_SIGHAND once there are threads). */
  readonly sighand: SigHand;
  /** The thread group's signal state: shared pending signals, timers (cf. signal_struct). */
  readonly signal = new SignalStruct();
  /** The task's own signal state: blocked mask, pending, altstack, saved mask (cf. task_struct). */
  readonly sigtask = new TaskSignals();
  /**
   * Set by a call that replaced the guest's registers (rt_sigreturn, execve):
   * the syscall hook then leaves RAX, RCX and R11 as the call set them.
   * Reset before every call.
   */
  registersReplaced = false;
  /** What exec laid out on the initial stack, for /proc/self/{cmdline,environ,auxv,stat}; undefined before exec. */
  execImage: ExecImage | undefined;
  /** When the current run() began (process.hrtime.bigint()); a guest that waits is killed at this plus timeoutMs. */
  runStartNs = 0n;
  /** Set with the engine stopped from a hook (execve): run() drops all translated code and resumes at RIP. */
  codeFlushOwed = false;
  /** The CPU as the constructor left it, for execve (resetCpu). */
  private readonly freshCpu: CpuSnapshot;
  private readonly exc: ExceptionState;
  private readonly regs: number[] = new Array(7).fill(0);
  private readonly sysret: number[] = [0, 0];
  private readonly warned = new Set<string>();
  /** When the engine slice now running ends (monotonic ns; undefined: no limit), as runSlices computed it. */
  private sliceLimit: bigint | undefined;
  /** Set when a system call armed a timer due before sliceLimit and stopped the engine early for it. */
  private sliceCut = false;
  /** Reads RIP; handed to the fault path, which needs it only to report a signal. */
  private readonly ripOf = (): number => this.engine.rip();

  /**
   * A new process with an empty address space on a fresh engine: the first
   * of a guest world (its own Kernel unless `options.kernel` names one), or,
   * with `forkOf`, fork's copy of that process's files, fs context,
   * dispositions, mask and altstack (cf. copy_process; the address space and
   * the registers are copied by emu/fork.ts).
   * @throws EngineError / UnicornError when the engine cannot be set up
   */
  constructor(readonly sys: MemSystem, readonly options: ProcessOptions = {}, forkOf?: Process) {
    this.kernel = forkOf?.kernel ?? options.kernel ?? new Kernel(sys);
    if (forkOf) {
      this.fs = forkOf.fs.clone();
      this.fds = forkOf.fds.clone();
      this.sighand = forkOf.sighand.clone();
      this.sigtask.blocked = forkOf.sigtask.blocked;
      this.sigtask.altstack = { ...forkOf.sigtask.altstack };
      this.exePath = forkOf.exePath;
      this.execImage = forkOf.execImage;
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
    this.pid = this.kernel.register(this, process.pid);
    this.parent = forkOf;
    forkOf?.children.add(this);
    this.pgid = forkOf?.pgid ?? this.pid;
    this.sid = forkOf?.sid ?? this.pid;
    this.engine = new Engine();
    this.exc = new ExceptionState(this.engine);
    this.mm = new Mm(sys, new EngineMmu(this.engine));
    // The FPU as a new Linux process finds it (cf. fpstate_init: FNINIT, then the default MXCSR):
    // x87 at 64-bit precision with exceptions masked, SSE exceptions masked, empty x87 stack.
    this.engine.writeReg(Reg.FPCW, 0x37f);
    this.engine.writeReg(Reg.MXCSR, 0x1f80);
    this.engine.writeReg(Reg.FPTAG, 0xffff);
    this.freshCpu = new CpuSnapshot(this.engine);
    this.signal.timers = new ProcessTimers((info) => sendSignal(this, info));
    if (!forkOf) this.sighand.ignoreInherited(options.ignoredSignals ?? 0n);
    this.engine.onInterrupt((intno) => this.onInterrupt(intno));
    this.engine.onSyscall(() => this.onSyscall());
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
    this.freshCpu.restore();
  }

  /** Ends the guest with `code` (called by exit/exit_group). */
  exit(code: number): never {
    throw new GuestExit(code);
  }

  private onInterrupt(intno: number): void {
    if (intno === Vec.PF) return this.onPageFault();
    if (intno === Vec.BP && this.traps?.onBreakpoint(this)) return;
    if (intno === Vec.DB && this.traps?.onSingleStep(this)) {
      if (signalPending(this)) deliverSignals(this, { kind: "async" }); // held during the step (cf. uprobe_deny_signal)
      return;
    }
    const err = this.exc.afterPageFault(); // the stale exception state must go before the guest runs on
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
    let errorCode = this.exc.afterPageFault();
    const cr2 = this.engine.cpu ? this.engine.cpu.cr2 : this.engine.readReg(Reg.CR2);
    // Without NXE (Unicorn 2.0.1) the CPU leaves the instruction-fetch bit out
    // of the error code; a fault at RIP itself is a fetch.
    if (!this.mm.mmu.nx && (errorCode & PF_WRITE) === 0 && cr2 === this.ripOf()) errorCode |= PF_INSTR;
    try {
      handlePageFault(this.mm, cr2, errorCode, this.ripOf);
    } catch (e) {
      if (!(e instanceof GuestSignal)) throw e;
      const info: SigInfo = { signo: e.signo, code: e.siCode, addr: cr2, trap: { trapno: Vec.PF, err: errorCode | PF_USER, cr2 } };
      forceSignal(this, info, e);
    }
  }

  private onSyscall(): void {
    const r = this.regs;
    this.engine.readRegs(SYSCALL_REGS, r, true);
    this.registersReplaced = false;
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
    if (ret === -Errno.EPIPE && SIGPIPE_CALLS.has(nr)) raiseSigpipe(this);
    expireTimers(this);
    if (signalPending(this) || this.sigtask.savedMask !== undefined || isRestart(ret)) deliverSignals(this, { kind: "syscall", nr, ret });
    this.cutSliceForTimer();
  }

  /**
   * Ends the running engine slice early when a timer armed by the call just
   * made (alarm, setitimer, timer_settime) is due before the slice would end,
   * so a guest that then only computes still gets its signal on time.
   */
  private cutSliceForTimer(): void {
    const due = this.signal.timers.nextDeadlineNs();
    if (due === undefined || (this.sliceLimit !== undefined && due >= this.sliceLimit)) return;
    this.sliceCut = true;
    this.engine.stop();
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
    this.parkedOn = { host: e.host, untilNs: e.untilNs };
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
    try {
      this.slice(budgetNs);
    } catch (e) {
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
    const budget = budgetNs === undefined ? undefined : sliceStart + budgetNs;
    const limit = (this.sliceLimit = own === undefined ? budget : budget === undefined || own < budget ? own : budget);
    this.exc.reset();
    this.parkedOn = undefined;
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
    if (this.state === "vfork-wait") return;
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
    this.exitStatus = status;
    this.state = "zombie";
    this.vforkDone();
    // The first process keeps its memory until destroy(): its caller may report from it (the faulting instruction).
    if (this === this.kernel.init) this.releaseFiles();
    else this.release();
    exitNotify(this);
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
    this.fds.closeAll();
    this.fs.close();
  }

  /**
   * Frees what a zombie no longer needs: files, address space, engine (dirty
   * file data stays in the page cache). Idempotent.
   */
  private release(): void {
    this.releaseFiles();
    if (this.released) return;
    this.released = true;
    this.mm.destroy();
    this.exc.free();
    this.freshCpu.free();
    this.engine.close();
  }

  /** Undoes a child that fork could not finish (cf. copy_process's bad_fork_* path): released and forgotten. */
  abandon(): void {
    this.release();
    this.parent?.children.delete(this);
    this.kernel.release(this);
  }

  /** Releases the process and every other process of its guest world (the end of a run). Idempotent. */
  destroy(): void {
    for (const p of [...this.kernel.procs.values()]) p.release();
    this.release();
  }
}
