/**
 * Signal delivery, native vs faultline (issue 9): handlers run by kill, raise,
 * tgkill and tkill to self; SIG_IGN; masks, sigpending, sigsuspend; the
 * SA_* flags; the rt_sigframe a handler sees (siginfo fields, uc_sigmask,
 * uc_mcontext gregs that are live after sigreturn, the fpstate that sigreturn
 * restores); rt_sigqueueinfo, rt_sigtimedwait; sigaltstack; default actions
 * (abort 134, default-ignored signals, SIGPIPE 141 / EPIPE). Then bad input
 * (test/programs/sigbad.c) and blocking calls interrupted by SIGALRM
 * (test/programs/sigrestart.c, which needs alarm(2) from the timers work).
 * Each case is one `PROG CASE` run of a C program built three ways; the
 * native run is the ground truth (test/support/cases.ts).
 */
import * as path from "node:path";
import { REPO } from "./support/native.js";
import { describeCases } from "./support/cases.js";

const programs = path.join(REPO, "test", "programs");

describeCases(path.join(programs, "sigdeliver.c"), [
  { name: "kill", why: "kill(getpid(), SIGUSR1) runs the handler before kill returns" },
  { name: "raise", why: "raise, tgkill and tkill to self run the handler" },
  { name: "ignore", why: "SIG_IGN drops the signal; blocked and ignored it stays pending" },
  { name: "mask", why: "blocked: pending once; unblocking runs the handler at once; SIGKILL/SIGSTOP never blocked" },
  { name: "sigsuspend", why: "sigsuspend lets the pending signal in, -1 EINTR, the old mask back" },
  { name: "resethand", why: "SA_RESETHAND: handled once, then SIG_DFL kills (138)", status: 138 },
  { name: "nodefer", why: "SA_NODEFER re-enters (depth 3); without it depth 1" },
  { name: "samask", why: "sa_mask and the signal itself blocked during the handler, not after" },
  { name: "ucmask", why: "uc_sigmask is the interrupted mask; editing it changes the mask after sigreturn (never SIGKILL/SIGSTOP)" },
  { name: "regs", why: "uc_mcontext gregs hold the interrupted registers; edits (r12, rbx, rax) live after sigreturn" },
  { name: "eflags", why: "a handler's edit of RFLAGS in uc_mcontext: CF/ZF restored by sigreturn, ID not" },
  { name: "rflags", why: "RFLAGS.IF is set in user mode: in pushfq and in the frame's REG_EFL" },
  { name: "entry", why: "handler entry: rdi/rsi/rdx/rax, the frame layout, alignment, red zone, restorer as return address, DF cleared" },
  { name: "siginfo", why: "SA_SIGINFO: kill is SI_USER with si_pid/si_uid; raise/tgkill/tkill SI_TKILL" },
  { name: "sigqueue", why: "sigqueue/rt_sigqueueinfo carry si_value and si_code; real-time signals queue, SIGUSR2 does not" },
  { name: "timedwait", why: "sigtimedwait/sigwaitinfo/sigwait take a blocked pending signal; zero timeout EAGAIN" },
  { name: "fpu", why: "xmm0-15, the x87 control word and MXCSR survive a handler that clobbers them; fpstate in the frame" },
  { name: "fpu-x87", why: "the x87 stack (TOP, tags, values), FSW flags, MXCSR flags: the handler starts with the initial FPU, the fpstate holds the interrupted one, its edits (ST0, XMM2, FCW) live after sigreturn" },
  { name: "float", why: "floating point and printf inside a handler" },
  { name: "altstack", why: "SA_ONSTACK runs on the sigaltstack (SS_ONSTACK inside); SS_DISABLE" },
  { name: "altstack-straddle", why: "a frame across a 2 MiB bound (where host views of guest memory are cut): uc_sigmask and MXCSR edits live after sigreturn" },
  { name: "altstack-nested", why: "a signal raised in an altstack handler nests on the altstack, below (with or without SA_ONSTACK)" },
  { name: "autodisarm", why: "SS_AUTODISARM: the altstack reads disabled inside the handler, armed again after" },
  { name: "abort", why: "abort() ends with SIGABRT (134)", status: 134 },
  { name: "dflignore", why: "SIGCHLD, SIGWINCH, SIGURG, SIGCONT are ignored by default" },
  { name: "dflterm", why: "SIGUSR2 with no handler terminates (140)", status: 140 },
  { name: "readback", why: "sigaction reads back handler, flags, mask; SIG_IGN; an untouched signal is SIG_DFL" },
  { name: "order", why: "signals unblocked together: one frame each, stacked (highest runs first); one raised in a handler runs after its sigreturn" },
  { name: "sigpipe", why: "a write to a pipe with no reader: SIGPIPE kills (141)", status: 141 },
  { name: "sigpipe-ign", why: "SIGPIPE ignored: the write fails EPIPE and the program exits 7", status: 7 },
  { name: "sigpipe-handler", why: "SIGPIPE handled: the handler runs (SI_USER) and the write fails EPIPE" },
], { cflags: ["-lm"], flags: ["--timeout", "30"] });

describeCases(path.join(programs, "sigbad.c"), [
  { name: "args", why: "bad signal numbers, SIGKILL/SIGSTOP actions, bad pointers (EFAULT), bad sizes" },
  { name: "altstack", why: "sigaltstack too small (ENOMEM), bad flags, EFAULT, EPERM while on it" },
  { name: "unmapped-handler", why: "a handler at an unmapped address: killed by SIGSEGV (139)", status: 139 },
  { name: "noexec-handler", why: "a handler in a non-executable page: killed by SIGSEGV (139)", status: 139 },
  { name: "frame-unwritable", why: "a PROT_NONE sigaltstack: the frame cannot be written, killed by SIGSEGV (139)", status: 139 },
  { name: "sigreturn-garbage", why: "rt_sigreturn over 0x41 bytes: killed by SIGSEGV (139)", status: 139 },
  { name: "sigreturn-zeros", why: "rt_sigreturn over zeros: killed by SIGSEGV (139)", status: 139 },
  { name: "sigreturn-unmapped", why: "rt_sigreturn with rsp unmapped: killed by SIGSEGV (139)", status: 139 },
  { name: "sigreturn-syscall", why: "syscall(SYS_rt_sigreturn) from main: killed by SIGSEGV (139)", status: 139 },
], { flags: ["--timeout", "30"] });

// A single-threaded program cannot interrupt its own blocking read without a
// timer: these cases are driven by alarm(1) and pass once alarm lands too.
describeCases(path.join(programs, "sigrestart.c"), [
  { name: "read-eintr", why: "a read of an empty pipe is interrupted: -1 EINTR", needs: "alarm", once: true },
  { name: "read-restart", why: "under SA_RESTART the read restarts and gets the handler's byte", needs: "alarm", once: true },
  { name: "pause", why: "pause() returns -1 EINTR after the handler", needs: "alarm", once: true },
  { name: "sigsuspend", why: "sigsuspend waits for SIGALRM (never restarted), mask restored", needs: "alarm", once: true },
  { name: "blocked-alarm", why: "a blocked SIGALRM does not interrupt nanosleep; runs on unblock", needs: "alarm", once: true },
  { name: "nanosleep-eintr", why: "nanosleep interrupted: -1 EINTR, the time left in rem", needs: "alarm", once: true },
  { name: "nanosleep-restart", why: "nanosleep under SA_RESTART is still EINTR (restart_block not restarted across a handler)", needs: "alarm", once: true },
], { flags: ["--timeout", "15"] }); // native needs ~1 s; a missing alarm hangs a case until this timeout
