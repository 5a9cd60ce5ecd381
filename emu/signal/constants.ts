/**
 * Signal numbers, names, sigaction flags, si_code values and default
 * actions of x86-64 Linux (cf. arch/x86/include/uapi/asm/signal.h,
 * include/uapi/asm-generic/siginfo.h, include/linux/signal.h's SIG_KERNEL_*_MASK).
 */

/** Signal numbers (x86-64). */
export const SIG = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
  SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
  SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
  SIGPWR: 30, SIGSYS: 31,
} as const;

/** _NSIG: signals are 1..64; 32..64 are real-time (queued, never merged). */
export const NSIG = 64;
/** The first real-time signal number (the kernel's SIGRTMIN; glibc reserves 32-34 for itself). */
export const SIGRTMIN = 32;

/** "SIGSEGV" for 11, "SIGRTMIN+3" for 35, "SIG<n>" outside 1..64. */
export function signalName(signo: number): string {
  for (const [name, n] of Object.entries(SIG)) if (n === signo) return name;
  if (signo >= SIGRTMIN && signo <= NSIG) return signo === SIGRTMIN ? "SIGRTMIN" : `SIGRTMIN+${signo - SIGRTMIN}`;
  return `SIG${signo}`;
}

/** The bit of `sig` in a 64-bit sigset (bit sig-1). Precondition: 1 <= sig <= 64. */
export function sigBit(sig: number): bigint {
  return 1n << BigInt(sig - 1);
}

/** Whether `sig` is in `set`. */
export function inSet(set: bigint, sig: number): boolean {
  return ((set >> BigInt(sig - 1)) & 1n) !== 0n;
}

/** A sigset of `sigs`. */
export function sigset(...sigs: number[]): bigint {
  return sigs.reduce((s, n) => s | sigBit(n), 0n);
}

/** Every signal: the mask of a 64-bit sigset. */
export const ALL_SIGNALS = (1n << 64n) - 1n;
/** SIGKILL and SIGSTOP: never blocked, caught or ignored (cf. sigdelsetmask(&mask, sigmask(SIGKILL)|sigmask(SIGSTOP))). */
export const UNBLOCKABLE = sigset(SIG.SIGKILL, SIG.SIGSTOP);
/** Signals the CPU raises for the faulting instruction, dequeued before others (cf. SYNCHRONOUS_MASK). */
export const SYNCHRONOUS = sigset(SIG.SIGSEGV, SIG.SIGBUS, SIG.SIGILL, SIG.SIGTRAP, SIG.SIGFPE, SIG.SIGSYS);

/** sigaction sa_flags (cf. arch/x86/include/uapi/asm/signal.h). */
export const SA_NOCLDSTOP = 0x1, SA_NOCLDWAIT = 0x2, SA_SIGINFO = 0x4, SA_RESTORER = 0x04000000;
export const SA_ONSTACK = 0x08000000, SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;

/** sa_handler values that are not addresses. */
export const SIG_DFL = 0n, SIG_IGN = 1n;

/** si_code values (cf. include/uapi/asm-generic/siginfo.h). */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_MESGQ = -3, SI_ASYNCIO = -4, SI_SIGIO = -5, SI_TKILL = -6;
export const SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRALN = 1, BUS_ADRERR = 2, BUS_OBJERR = 3;
export const ILL_ILLOPC = 1, ILL_ILLOPN = 2, FPE_INTDIV = 1, FPE_INTOVF = 2, TRAP_BRKPT = 1, TRAP_TRACE = 2;
export const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_TRAPPED = 4, CLD_STOPPED = 5, CLD_CONTINUED = 6;

/** What a signal does when its handler is SIG_DFL (cf. sig_kernel_{ignore,stop,coredump}). */
export type DefaultAction = "terminate" | "core" | "ignore" | "stop" | "continue";

const CORE = sigset(SIG.SIGQUIT, SIG.SIGILL, SIG.SIGTRAP, SIG.SIGABRT, SIG.SIGBUS, SIG.SIGFPE, SIG.SIGSEGV, SIG.SIGXCPU, SIG.SIGXFSZ, SIG.SIGSYS);
const IGNORE = sigset(SIG.SIGCHLD, SIG.SIGURG, SIG.SIGWINCH);
const STOP = sigset(SIG.SIGSTOP, SIG.SIGTSTP, SIG.SIGTTIN, SIG.SIGTTOU);

/** The default action of `sig` (cf. the SIG_KERNEL_*_MASK tables; real-time signals terminate). */
export function defaultAction(sig: number): DefaultAction {
  if (sig === SIG.SIGCONT) return "continue";
  if (inSet(CORE, sig)) return "core";
  if (inSet(IGNORE, sig)) return "ignore";
  if (inSet(STOP, sig)) return "stop";
  return "terminate";
}
