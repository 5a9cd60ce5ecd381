/*
 * Probes and signals, for test/kprobes-signals.test.ts (built gcc -O1 -static
 * -fno-optimize-sibling-calls). Every probed instruction inside hand-written
 * assembly starts a global label (kp_*) a probe spec can name. The program
 * counts what it does itself (volatile globals) and prints it; handlers
 * print addresses relative to the probed instruction, so the output is the
 * same on every run and natively.
 *
 *   handler R K   raise(SIGUSR1) R times; the handler calls counted() K times;
 *                 main calls counted() once per round too
 *   kill N        kill(getpid(), SIGUSR1) N times through kill_self, whose
 *                 syscall instruction is kp_kill_syscall; the handler reports
 *                 where it interrupted (RIP, RCX, R11.TF, RAX)
 *   unblock N     SIGUSR1 blocked, kill(), then unblocked N times through
 *                 mask_self, whose syscall is kp_mask_syscall
 *   suspend N     SIGUSR1 blocked and pending, then rt_sigsuspend with an
 *                 empty mask through suspend_self (kp_suspend_syscall): the
 *                 handler runs, the call returns -EINTR, the mask comes back
 *   segv N        N loads (kp_segv_load) from a PROT_NONE page; the SIGSEGV
 *                 handler makes it readable and returns (the load is retried)
 *   segvrip N     the same with a RIP-relative load (kp_segv_riprel) of a
 *                 PROT_NONE page of .bss, RSI holding a marker the handler checks
 *   sendsig N     N calls of sent_load, a stepped RIP-relative load at kp_sent
 *                 (the test's probe handler sends SIGUSR1 as it runs: natively
 *                 nothing does); the handler reports RIP relative to kp_sent_after
 *   badpush       3 times: a push (kp_bad_push) with RSP at unmapped 0x10008;
 *                 the SIGSEGV handler, on an alternate stack, siglongjmps out
 *   badcall       the same with a call (kp_bad_call)
 *   ud2           executes ud2 (kp_ud2) with no handler: killed by SIGILL
 *   fpe           a divide by zero at kp_div; the SIGFPE handler skips it by
 *                 editing RIP, then a divide that succeeds
 *   longjmp N M   leaper() raises SIGUSR1 N times, the handler siglongjmps past
 *                 it; then M calls of leaper() return normally
 *   pending N     interrupted() raises SIGUSR1 and the handler (which calls
 *                 counted()) returns; each return value is printed
 *   pendingalt N  the same with the handler on an alternate stack
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define S(x) #x
#define L(name) ".globl " S(name) "\n" S(name) ":\n\t"
#define FN(name) ".text\n.globl " S(name) "\n.type " S(name) ",@function\n.p2align 4\n" S(name) ":\n\t"
#define END(name) ".size " S(name) ", .-" S(name) "\n"

/* long kill_self(long pid, long sig): kill(2) with the syscall instruction labelled */
asm(FN(kill_self)
    "mov $62, %eax\n\t"
    L(kp_kill_syscall) "syscall\n\t"
    "ret\n"
    END(kill_self));
/* long mask_self(long how, const sigset_t *set, sigset_t *old, long size): rt_sigprocmask(2) */
asm(FN(mask_self)
    "mov %rcx, %r10\n\t"
    "mov $14, %eax\n\t"
    L(kp_mask_syscall) "syscall\n\t"
    "ret\n"
    END(mask_self));
/* long suspend_self(const sigset_t *mask, long size): rt_sigsuspend(2) */
asm(FN(suspend_self)
    "mov $130, %eax\n\t"
    L(kp_suspend_syscall) "syscall\n\t"
    "ret\n"
    END(suspend_self));
/* long load_from(const long *p): one load, the probed instruction */
asm(FN(load_from)
    L(kp_segv_load) "mov (%rdi), %rax\n\t"
    "ret\n"
    END(load_from));
/* long load_riprel(long marker): RSI = marker, a RIP-relative load of g_prot[1], returns it + RSI - marker */
asm(FN(load_riprel)
    "mov %rdi, %rsi\n\t"
    L(kp_segv_riprel) "mov g_prot+8(%rip), %rax\n\t"
    "add %rsi, %rax\n\t"
    "sub %rdi, %rax\n\t"
    "ret\n"
    END(load_riprel));
/* long sent_load(void): a RIP-relative load (stepped) at kp_sent; kp_sent_after is the next instruction */
asm(FN(sent_load)
    L(kp_sent) "mov g_prot+16(%rip), %rax\n\t"
    L(kp_sent_after) "ret\n"
    END(sent_load));
/* void push_at(long rsp) / call_at(long rsp): RSP = rsp, then a push / a call (emulated under a probe) that faults */
asm(FN(push_at)
    "mov %rdi, %rsp\n\t"
    L(kp_bad_push) "push %rax\n\t"
    "ud2\n"
    END(push_at));
asm(FN(call_at)
    "mov %rdi, %rsp\n\t"
    L(kp_bad_call) "call push_at\n\t"
    "ud2\n"
    END(call_at));
/* void bad_insn(void): an invalid instruction (ud2) at kp_ud2 */
asm(FN(bad_insn)
    L(kp_ud2) "ud2\n\t"
    "ret\n"
    END(bad_insn));
/* long divide(long a, long b): a / b with idiv (3 bytes) at kp_div */
asm(FN(divide)
    "mov %rdi, %rax\n\t"
    "cqo\n\t"
    L(kp_div) "idiv %rsi\n\t"
    "ret\n"
    END(divide));

extern char kp_sent[], kp_sent_after[], kp_bad_push[], kp_bad_call[], kp_kill_syscall[], kp_mask_syscall[], kp_suspend_syscall[], kp_segv_load[], kp_segv_riprel[], kp_div[];
void push_at(long), call_at(long), bad_insn(void);
long sent_load(void), kill_self(long, long), suspend_self(const sigset_t *, long), mask_self(long, const sigset_t *, sigset_t *, long), load_from(const long *), load_riprel(long), divide(long, long);

long g_prot[512] __attribute__((aligned(4096)));   /* one page of .bss of its own */

static void on(int sig, void (*fn)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL)) { perror("sigaction"); exit(1); }
}

static long greg(void *uc, int r) { return ((ucontext_t *)uc)->uc_mcontext.gregs[r]; }

/* ---- handler: a probed function called from a signal handler ---- */
volatile long f_entries, h_sum, h_runs;
static int h_k;
__attribute__((noinline)) long counted(long x) { f_entries++; return x * 3 + 1; }
static void on_usr1_calls(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)si; (void)uc;
  h_runs++;
  for (int i = 0; i < h_k; i++) h_sum += counted(i);
}
static int run_handler(int rounds, int k) {
  h_k = k;
  on(SIGUSR1, on_usr1_calls, 0);
  long main_sum = 0;
  for (int r = 0; r < rounds; r++) {
    raise(SIGUSR1);
    main_sum += counted(100 + r);
  }
  printf("handler: handler runs %ld, counted entries %ld, handler sum %ld, main sum %ld\n", h_runs, f_entries, h_sum, main_sum);
  return 0;
}

/* ---- kill / unblock: a signal that becomes pending inside a stepped syscall ---- */
static volatile long k_runs, k_rip, k_rcx, k_tf, k_rax, k_code, k_pid_ok;
static char *k_base;
static void on_usr1_where(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  k_runs++;
  k_rip = greg(uc, REG_RIP) - (long)k_base;
  k_rcx = greg(uc, REG_RCX) - (long)k_base;
  k_tf = (greg(uc, REG_EFL) >> 8) & 1;
  k_rax = greg(uc, REG_RAX);
  k_code = si->si_code;
  k_pid_ok = si->si_pid == getpid();
}
static void report_where(const char *what, int n, int bad) {
  printf("%s: %d calls, handler ran %ld times, %d calls without exactly one run\n", what, n, k_runs, bad);
  printf("%s: last interrupted at RIP=syscall%+ld RCX=syscall%+ld EFLAGS.TF=%ld RAX=%ld si_code=%ld from self %ld\n",
         what, k_rip, k_rcx, k_tf, k_rax, k_code, k_pid_ok);
}
/* The handler reports where it interrupted relative to `base`. */
static void watch(char *base) {
  k_base = base;
  on(SIGUSR1, on_usr1_where, 0);
}
static sigset_t only_usr1(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  return set;
}
static int run_kill(int n) {
  watch(kp_kill_syscall);
  int bad = 0;
  for (int i = 0; i < n; i++) {
    long before = k_runs;
    long r = kill_self(getpid(), SIGUSR1);
    if (r != 0 || k_runs != before + 1) bad++;
  }
  report_where("kill", n, bad);
  return 0;
}
static int run_unblock(int n) {
  watch(kp_mask_syscall);
  sigset_t usr1 = only_usr1();
  int bad = 0;
  for (int i = 0; i < n; i++) {
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    long before = k_runs;
    kill(getpid(), SIGUSR1);
    if (k_runs != before) bad++;                       /* blocked: not yet */
    long r = mask_self(SIG_UNBLOCK, &usr1, NULL, 8);   /* delivered as this syscall returns */
    if (r != 0 || k_runs != before + 1) bad++;
  }
  report_where("unblock", n, bad);
  return 0;
}
static int run_suspend(int n) {
  watch(kp_suspend_syscall);
  sigset_t usr1 = only_usr1(), none, now;
  sigemptyset(&none);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  int bad = 0;
  long r = 0;
  for (int i = 0; i < n; i++) {
    long before = k_runs;
    kill(getpid(), SIGUSR1);                       /* pending, blocked */
    r = suspend_self(&none, 8);                    /* unblocks it: the handler runs, then -EINTR */
    sigprocmask(SIG_BLOCK, NULL, &now);
    if (r != -4 || k_runs != before + 1 || !sigismember(&now, SIGUSR1)) bad++;
  }
  report_where("suspend", n, bad);
  printf("suspend: last returned %ld\n", r);
  return 0;
}

/* ---- segv / segvrip: a fault in the stepped copy, handled, retried ---- */
static volatile long s_faults, s_addr, s_rip, s_code, s_rsi_ok;
static char *s_page, *s_insn;
static long s_marker;
static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  s_faults++;
  s_addr = (char *)si->si_addr - s_page;
  s_rip = greg(uc, REG_RIP) - (long)s_insn;
  s_code = si->si_code;
  s_rsi_ok = greg(uc, REG_RSI) == s_marker;
  if (mprotect(s_page, 4096, PROT_READ | PROT_WRITE)) _exit(3);
}
static void report_segv(const char *what, int n, long sum) {
  printf("%s: %d loads, %ld faults, sum %ld; last fault si_addr=page%+ld RIP=insn%+ld si_code=%ld\n",
         what, n, s_faults, sum, s_addr, s_rip, s_code);
}
static int run_segv(int n) {
  s_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (s_page == MAP_FAILED) return 2;
  s_insn = kp_segv_load;
  on(SIGSEGV, on_segv, 0);
  long sum = 0;
  for (int i = 0; i < n; i++) {
    ((long *)s_page)[3] = 1000 + i;
    if (mprotect(s_page, 4096, PROT_NONE)) return 2;
    sum += load_from((long *)s_page + 3);
  }
  report_segv("segv", n, sum);
  return 0;
}
static int run_segvrip(int n) {
  s_page = (char *)g_prot;
  s_insn = kp_segv_riprel;
  on(SIGSEGV, on_segv, 0);
  long sum = 0;
  for (int i = 0; i < n; i++) {
    g_prot[1] = 2000 + i;
    s_marker = 0x5151 + i;
    if (mprotect(s_page, 4096, PROT_NONE)) return 2;
    sum += load_riprel(s_marker);
  }
  report_segv("segvrip", n, sum);
  printf("segvrip: RSI in the handler's context was the marker: %ld\n", s_rsi_ok);
  return 0;
}

/* ---- sendsig: a probe handler sends SIGUSR1 (as bpf_send_signal) while its instruction is stepped ---- */
static int run_sendsig(int n) {
  watch(kp_sent_after);
  long sum = 0;
  for (int i = 0; i < n; i++) {
    g_prot[2] = i;
    sum += sent_load();
  }
  printf("sendsig: %d loads, sum %ld, handler ran %ld times, last at RIP=next%+ld EFLAGS.TF=%ld\n", n, sum, k_runs, k_rip, k_tf);
  return 0;
}

/* ---- badpush / badcall: a push or call (emulated by a probe) that faults, caught on an alternate stack ---- */
static sigjmp_buf bad_jb;
static volatile long b_addr, b_rip, b_code, b_rsp, b_err, b_trapno, b_cr2;
static char *b_insn;
static void on_segv_jump(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  b_addr = (long)si->si_addr;
  b_rip = greg(uc, REG_RIP) - (long)b_insn;
  b_rsp = greg(uc, REG_RSP);
  b_code = si->si_code;
  b_err = greg(uc, REG_ERR);
  b_trapno = greg(uc, REG_TRAPNO);
  b_cr2 = greg(uc, REG_CR2);
  siglongjmp(bad_jb, 1);
}
static int run_bad(int call) {
  static char altstack[64 * 1024];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  if (sigaltstack(&ss, NULL)) { perror("sigaltstack"); return 1; }
  on(SIGSEGV, on_segv_jump, SA_ONSTACK);
  b_insn = call ? kp_bad_call : kp_bad_push;
  int caught = 0;
  for (int i = 0; i < 3; i++) {
    if (sigsetjmp(bad_jb, 1) == 0) {
      if (call) call_at(0x10008); else push_at(0x10008);
      puts("not reached");
    } else {
      caught++;
    }
  }
  printf("%s: caught %d faults; last si_addr=%#lx RIP=insn%+ld RSP=%#lx si_code=%ld err=%ld trapno=%ld cr2=%#lx\n",
         call ? "badcall" : "badpush", caught, b_addr, b_rip, b_rsp, b_code, b_err, b_trapno, b_cr2);
  return 0;
}

/* ---- fpe: a divide error in the stepped copy, skipped by the handler ---- */
static volatile long d_runs, d_addr, d_rip, d_code;
static void on_fpe(int sig, siginfo_t *si, void *uc_) {
  (void)sig;
  ucontext_t *uc = uc_;
  d_runs++;
  d_addr = (char *)si->si_addr - kp_div;
  d_rip = uc->uc_mcontext.gregs[REG_RIP] - (long)kp_div;
  d_code = si->si_code;
  uc->uc_mcontext.gregs[REG_RIP] += 3;  /* past idiv %rsi */
  uc->uc_mcontext.gregs[REG_RAX] = -7;
}
static int run_fpe(void) {
  on(SIGFPE, on_fpe, 0);
  long a = divide(100, 0), b = divide(100, 7);
  printf("fpe: 100/0 -> %ld, 100/7 -> %ld; handler ran %ld times, si_addr=idiv%+ld RIP=idiv%+ld si_code=%ld\n", a, b, d_runs, d_addr, d_rip, d_code);
  return 0;
}

/* ---- longjmp: a return-probed function left by siglongjmp from a handler ---- */
static sigjmp_buf jb;
static volatile int lj_jump;
volatile long lj_entries, lj_returned, lj_sum, lj_jumped;
__attribute__((noinline)) long leaper(long x) {
  lj_entries++;
  if (lj_jump) raise(SIGUSR1);
  return x + 1000;
}
static void on_usr1_jump(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)si; (void)uc;
  siglongjmp(jb, 1);
}
static int run_longjmp(int n, int m) {
  on(SIGUSR1, on_usr1_jump, 0);
  for (int i = 0; i < n; i++) {
    lj_jump = 1;
    if (sigsetjmp(jb, 1) == 0) {
      leaper(i);
      puts("not reached");
    } else {
      lj_jumped++;
    }
  }
  lj_jump = 0;
  for (int i = 0; i < m; i++) {
    lj_sum += leaper(i);
    lj_returned++;
  }
  printf("longjmp: leaper entered %ld times, left by siglongjmp %ld, returned %ld, sum of returns %ld\n", lj_entries, lj_jumped, lj_returned, lj_sum);
  return 0;
}

/* ---- pending: a handler runs while a return probe is pending on the interrupted function ---- */
volatile long p_handled;
__attribute__((noinline)) long interrupted(long x) {
  long v = x * 7 + 3;
  raise(SIGUSR1);
  return v + p_handled * 1000;
}
static void on_usr1_pending(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)si; (void)uc;
  p_handled++;
  h_sum += counted(p_handled);
}
static int run_pending(int n, int alt) {
  if (alt) {
    static char altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL)) { perror("sigaltstack"); return 1; }
  }
  on(SIGUSR1, on_usr1_pending, alt ? SA_ONSTACK : 0);
  printf("pending:");
  for (int i = 0; i < n; i++) printf(" %ld", interrupted(i));
  printf("\npending: handler ran %ld times, counted entries %ld, sum %ld\n", p_handled, f_entries, h_sum);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  int a = argc > 2 ? atoi(argv[2]) : 1, b = argc > 3 ? atoi(argv[3]) : 1;
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  if (!strcmp(mode, "handler")) return run_handler(a, b);
  if (!strcmp(mode, "kill")) return run_kill(a);
  if (!strcmp(mode, "unblock")) return run_unblock(a);
  if (!strcmp(mode, "suspend")) return run_suspend(a);
  if (!strcmp(mode, "segv")) return run_segv(a);
  if (!strcmp(mode, "segvrip")) return run_segvrip(a);
  if (!strcmp(mode, "fpe")) return run_fpe();
  if (!strcmp(mode, "sendsig")) return run_sendsig(a);
  if (!strcmp(mode, "badpush")) return run_bad(0);
  if (!strcmp(mode, "badcall")) return run_bad(1);
  if (!strcmp(mode, "ud2")) { fflush(stdout); bad_insn(); return 0; }
  if (!strcmp(mode, "longjmp")) return run_longjmp(a, b);
  if (!strcmp(mode, "pending")) return run_pending(a, 0);
  if (!strcmp(mode, "pendingalt")) return run_pending(a, 1);
  fprintf(stderr, "usage: probe_signals handler|kill|unblock|suspend|segv|segvrip|sendsig|badpush|badcall|ud2|fpe|longjmp|pending|pendingalt [N [M]]\n");
  return 2;
}
