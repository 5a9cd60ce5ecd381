/**
 * A guest process: one engine (CPU), one address space, open files, and the
 * trap handling that joins them. Page faults go to mm/'s fault handler;
 * the syscall instruction goes to the system-call table; anything else the
 * CPU raises ends the guest with the signal Linux would send.
 *
 *   engine --#PF--> ExceptionState fix-up --> handlePageFault --> retry
 *          --syscall--> dispatch --> RAX
 *          --#UD/#GP/#DE/int3--> signal --> exit status 128+signo
 */
import { FaultlineError, GuestSignal, OutOfMemoryError, UnicornError } from "../lib/errors.js";
import { MemSystem, Mm, handlePageFault } from "../mm/index.js";
import { PF_INSTR, PF_WRITE, Reg, Vec } from "./constants.js";
import { Engine } from "./engine.js";
import { ExceptionState } from "./exception-state.js";
import { FdTable } from "./fdtable.js";
import { CpuSnapshot } from "./exec.js";
import { EngineMmu } from "./mmu.js";
import { SIG } from "./signals.js";
import { dispatch } from "./syscalls/index.js";
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
  /** The process has just replaced its address space for execve (`proc.mm` is the new, empty one): state tied to the old image goes. */
  onExec?(proc: Process): void;
}

/** Thrown by exit() to leave the syscall hook: the guest is finished. */
class GuestExit extends FaultlineError {
  constructor(readonly status: number) {
    super("EXIT", `guest exited with ${status}`);
  }
}

const SYSCALL_REGS = new Int32Array([Reg.RAX, Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9]);
const RCX_R11 = new Int32Array([Reg.RCX, Reg.R11]);

/** One guest process. */
export class Process {
  readonly engine: Engine;
  /** The address space; execve puts a new one in its place (Mm.renew). */
  mm: Mm;
  readonly fds = new FdTable();
  /** Root, working directory and umask. */
  readonly fs: Vfs;
  /** Process id shown to the guest (the host's: one guest per faultline process). */
  readonly pid = process.pid;
  /** Guest path of the running program (for /proc/self/exe and AT_EXECFN). */
  exePath = "" as GuestPath;
  /** The probes engine's trap handler, when probes are attached to this process. */
  traps: TrapHandler | undefined;
  /** Signal dispositions the guest set (recorded; signals are not delivered yet). */
  readonly sigactions = new Map<number, Uint8Array>();
  /** Blocked signals (cf. task->blocked): bit N-1 for signal N. */
  sigmask = 0n;
  /** What exec laid out on the initial stack, for /proc/self/{cmdline,environ,auxv,stat}; undefined before exec. */
  execImage: ExecImage | undefined;
  /** When the current run() began (process.hrtime.bigint()); a guest that waits is killed at this plus timeoutMs. */
  runStartNs = 0n;
  /** Set by a call that left every register as the guest must continue with them (execve): the syscall's return writes none. */
  syscallSetRegs = false;
  /** Set with the engine stopped from a hook (execve): run() drops all translated code and resumes at RIP. */
  codeFlushOwed = false;
  /** The CPU as the constructor left it, for execve (resetCpu). */
  private readonly freshCpu: CpuSnapshot;
  private readonly exc: ExceptionState;
  private readonly regs: number[] = new Array(7).fill(0);
  private readonly sysret: number[] = [0, 0];
  private readonly warned = new Set<string>();
  /** Reads RIP; handed to the fault path, which needs it only to report a signal. */
  private readonly ripOf = (): number => this.engine.rip();

  /**
   * A new process with an empty address space on a fresh engine.
   * @throws EngineError / UnicornError when the engine cannot be set up
   */
  constructor(readonly sys: MemSystem, readonly options: ProcessOptions = {}) {
    this.fs = new Vfs(options.root ?? "/", options.cwd ?? defaultCwd(options.root ?? "/"));
    const out = (fd: number, d: Uint8Array) => this.output(fd, d);
    this.fds.put(0, new StreamFile("/dev/stdin", 0, true, false, out), false);
    this.fds.put(1, new StreamFile("/dev/stdout", 1, false, true, out), false);
    this.fds.put(2, new StreamFile("/dev/stderr", 2, false, true, out), false);
    this.engine = new Engine();
    this.exc = new ExceptionState(this.engine);
    this.mm = new Mm(sys, new EngineMmu(this.engine));
    // The FPU as a new Linux process finds it (cf. fpstate_init: FNINIT, then the default MXCSR):
    // x87 at 64-bit precision with exceptions masked, SSE exceptions masked, empty x87 stack.
    this.engine.writeReg(Reg.FPCW, 0x37f);
    this.engine.writeReg(Reg.MXCSR, 0x1f80);
    this.engine.writeReg(Reg.FPTAG, 0xffff);
    this.freshCpu = new CpuSnapshot(this.engine);
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
    if (intno === Vec.PF) {
      let errorCode = this.exc.afterPageFault();
      const cr2 = this.engine.cpu ? this.engine.cpu.cr2 : this.engine.readReg(Reg.CR2);
      // Without NXE (Unicorn 2.0.1) the CPU leaves the instruction-fetch bit out
      // of the error code; a fault at RIP itself is a fetch.
      if (!this.mm.mmu.nx && (errorCode & PF_WRITE) === 0 && cr2 === this.ripOf()) errorCode |= PF_INSTR;
      handlePageFault(this.mm, cr2, errorCode, this.ripOf);
      return;
    }
    if (intno === Vec.BP && this.traps?.onBreakpoint(this)) return;
    if (intno === Vec.DB && this.traps?.onSingleStep(this)) return;
    const rip = this.engine.readReg(Reg.RIP);
    switch (intno) {
      case Vec.DE: throw new GuestSignal("SIGFPE", SIG.SIGFPE, rip, "divide", undefined, "FPE_INTDIV: divide error");
      case Vec.UD: throw new GuestSignal("SIGILL", SIG.SIGILL, rip, "exec", undefined, "ILL_ILLOPN: invalid opcode");
      case Vec.BP: throw new GuestSignal("SIGTRAP", SIG.SIGTRAP, rip - 1, "int3", undefined, "TRAP_BRKPT: breakpoint");
      case Vec.DB: throw new GuestSignal("SIGTRAP", SIG.SIGTRAP, rip, "step", undefined, "TRAP_TRACE: single step");
      case Vec.GP: throw new GuestSignal("SIGSEGV", SIG.SIGSEGV, rip, "access", undefined, "SI_KERNEL: general protection");
      default: throw new GuestSignal("SIGSEGV", SIG.SIGSEGV, rip, "trap", undefined, `unexpected CPU exception ${intno}`);
    }
  }

  private onSyscall(): void {
    const r = this.regs;
    this.engine.readRegs(SYSCALL_REGS, r, true);
    const ret = dispatch(this, r[0], [r[1], r[2], r[3], r[4], r[5], r[6]]);
    if (this.syscallSetRegs) {
      this.syscallSetRegs = false;
      return;
    }
    this.engine.writeReg(Reg.RAX, typeof ret === "bigint" || ret < 0 ? BigInt(ret) : ret);
    // As the CPU's syscall leaves them: RCX = the next instruction (in this hook RIP is still
    // at the 2-byte syscall itself), R11 = RFLAGS.
    this.sysret[0] = this.engine.rip() + 2;
    this.sysret[1] = this.engine.readReg(Reg.EFLAGS);
    this.engine.writeRegs(RCX_R11, this.sysret);
  }

  /**
   * Runs the guest from `entry` with stack pointer `rsp` until it exits or
   * is killed by a signal.
   * @returns how it ended
   * @throws FaultlineError for failures of faultline itself (never for guest faults)
   */
  run(entry: number, rsp: number): ExitStatus {
    this.engine.writeReg(Reg.RSP, rsp);
    this.exc.reset();
    const timeoutUs = (this.options.timeoutMs ?? 0) * 1000;
    this.runStartNs = process.hrtime.bigint();
    try {
      for (let at = entry, leftUs = timeoutUs; ; ) {
        this.engine.run(at, { timeoutUs: leftUs });
        if (!this.codeFlushOwed) break;
        // execve stopped the engine to drop every translation between runs (a flush from a hook crashes 2.0.1).
        this.codeFlushOwed = false;
        this.engine.flushCode();
        this.exc.reset();
        at = this.engine.rip();
        if (timeoutUs === 0) continue;
        leftUs = timeoutUs - Number((process.hrtime.bigint() - this.runStartNs) / 1000n);
        if (leftUs <= 0) break;
      }
    } catch (e) {
      if (e instanceof GuestExit) return { kind: "exited", code: e.status };
      if (e instanceof GuestSignal) {
        const rip = this.traps?.originalRip?.(this, e.rip) ?? e.rip;
        return { kind: "signaled", signo: e.signo, detail: e.why, rip, addr: e.addr, access: e.access };
      }
      if (e instanceof OutOfMemoryError) {
        return { kind: "signaled", signo: SIG.SIGKILL, detail: `killed: ${e.message}`, rip: this.engine.readReg(Reg.RIP) };
      }
      if (e instanceof UnicornError) return this.engineStop(e);
      throw e;
    }
    const rip = this.engine.readReg(Reg.RIP);
    if (timeoutUs > 0) return { kind: "signaled", signo: SIG.SIGKILL, detail: `killed: timeout after ${this.options.timeoutMs} ms`, rip };
    return { kind: "signaled", signo: SIG.SIGSEGV, detail: "engine stopped unexpectedly", rip };
  }

  /** Maps an engine error that ends a run to the signal Linux would have sent. */
  private engineStop(e: UnicornError): ExitStatus {
    const rip = this.engine.readReg(Reg.RIP);
    if (e.code === "UC_ERR_INSN_INVALID") return { kind: "signaled", signo: SIG.SIGILL, detail: "ILL_ILLOPN: invalid opcode", rip };
    return { kind: "signaled", signo: SIG.SIGSEGV, detail: `SEGV_MAPERR: ${e.message}`, rip };
  }

  /** Releases the engine and the address space (dirty file data stays in the page cache). */
  destroy(): void {
    this.fds.closeAll();
    this.fs.close();
    this.mm.destroy();
    this.exc.free();
    this.freshCpu.free();
    this.engine.close();
  }
}
