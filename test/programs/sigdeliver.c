/* Signal delivery as a program sees it: handlers, masks, the rt_sigframe
 * (siginfo, ucontext, fpstate), sigreturn, queued and waited-for signals,
 * default actions. `sigdeliver CASE` runs one case and prints only what is
 * the same on every run (booleans, counts, si_code values, values the
 * program itself set). test/signal-delivery.test.ts runs each case natively
 * and under faultline and compares stdout and exit status. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <ucontext.h>
#include <unistd.h>

#include "sigcase.h"

static volatile sig_atomic_t hits, depth, maxdepth;
static volatile int last_code, last_pid_ok, last_uid_ok, last_value;

static void install(int sig, void (*fn)(int), int flags, const sigset_t *mask) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  if (mask) sa.sa_mask = *mask; else sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) { perror("sigaction"); exit(99); }
}

static void install_info(int sig, void (*fn)(int, siginfo_t *, void *), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = flags | SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) { perror("sigaction"); exit(99); }
}

static int blocked(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, sig);
}

static int pending(int sig) {
  sigset_t p;
  sigpending(&p);
  return sigismember(&p, sig);
}

static void block(int sig, int how) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  sigprocmask(how, &s, NULL);
}

static void on_count(int sig) { (void)sig; hits++; }

/* kill(getpid(), SIGUSR1) runs the handler before kill returns. */
static void c_kill(void) {
  install(SIGUSR1, on_count, 0, NULL);
  int r = kill(getpid(), SIGUSR1);
  printf("kill=%d hits after kill=%d\n", r, hits);
  kill(getpid(), SIGUSR1);
  printf("hits after second kill=%d\n", hits);
}

/* raise() (tgkill in glibc, tkill in musl) runs the handler before it returns. */
static void c_raise(void) {
  install(SIGUSR1, on_count, 0, NULL);
  int r = raise(SIGUSR1);
  printf("raise=%d hits=%d\n", r, hits);
  r = syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
  printf("tgkill=%d hits=%d\n", r, hits);
  r = syscall(SYS_tkill, gettid(), SIGUSR1);
  printf("tkill=%d hits=%d\n", r, hits);
}

/* SIG_IGN: the signal is dropped; blocked and ignored, it stays pending
 * (sig_ignored() never ignores a blocked signal), and unblocking drops it. */
static void c_ignore(void) {
  signal(SIGUSR1, SIG_IGN);
  raise(SIGUSR1);
  printf("ignored: alive, pending=%d\n", pending(SIGUSR1));
  block(SIGUSR1, SIG_BLOCK);
  raise(SIGUSR1);
  printf("blocked+ignored: pending=%d\n", pending(SIGUSR1));
  block(SIGUSR1, SIG_UNBLOCK);
  printf("unblocked: pending=%d alive\n", pending(SIGUSR1));
  signal(SIGTERM, SIG_IGN);
  kill(getpid(), SIGTERM);
  printf("SIGTERM ignored: alive\n");
}

/* Block, raise, see it pending, unblock: the handler runs inside sigprocmask. */
static void c_mask(void) {
  install(SIGUSR1, on_count, 0, NULL);
  block(SIGUSR1, SIG_BLOCK);
  raise(SIGUSR1);
  raise(SIGUSR1); /* a standard signal is pending once */
  printf("blocked: hits=%d pending=%d pending(SIGUSR2)=%d\n", hits, pending(SIGUSR1), pending(SIGUSR2));
  block(SIGUSR1, SIG_UNBLOCK);
  printf("unblocked: hits=%d pending=%d blocked=%d\n", hits, pending(SIGUSR1), blocked(SIGUSR1));
  /* SIG_SETMASK and the old set */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  printf("old had SIGUSR1=%d; all: SIGKILL=%d SIGSTOP=%d SIGUSR2=%d SIGRTMAX=%d\n",
         sigismember(&old, SIGUSR1), blocked(SIGKILL), blocked(SIGSTOP), blocked(SIGUSR2), blocked(SIGRTMAX));
  sigprocmask(SIG_SETMASK, &old, NULL);
}

static volatile int in_handler_blocked;
static void on_mark(int sig) { hits++; in_handler_blocked = blocked(sig); }

/* sigsuspend: the temporary mask lets the pending signal in; -1 EINTR; the old mask is back. */
static void c_sigsuspend(void) {
  install(SIGUSR1, on_mark, 0, NULL);
  block(SIGUSR1, SIG_BLOCK);
  raise(SIGUSR1);
  sigset_t none;
  sigemptyset(&none);
  errno = 0;
  int r = sigsuspend(&none);
  printf("sigsuspend=%d errno EINTR=%d hits=%d handler saw SIGUSR1 blocked=%d after: blocked=%d\n",
         r, errno == EINTR, hits, in_handler_blocked, blocked(SIGUSR1));
}

/* SA_RESETHAND: the first signal is handled and the action reset; the second kills (138). */
static void c_resethand(void) {
  install(SIGUSR1, on_mark, SA_RESETHAND, NULL);
  raise(SIGUSR1);
  struct sigaction now;
  sigaction(SIGUSR1, NULL, &now);
  printf("hits=%d handler blocked itself=%d reset to SIG_DFL=%d\n", hits, in_handler_blocked, now.sa_handler == SIG_DFL);
  fflush(stdout);
  raise(SIGUSR1);
  printf("not reached\n");
}

static volatile int nodefer_mode;
static void on_nest(int sig) {
  hits++;
  depth++;
  if (depth > maxdepth) maxdepth = depth;
  if (hits < 3) raise(sig);
  depth--;
}

/* SA_NODEFER: the handler re-enters itself; without it the raise waits for the return. */
static void c_nodefer(void) {
  install(SIGUSR1, on_nest, SA_NODEFER, NULL);
  raise(SIGUSR1);
  printf("SA_NODEFER: hits=%d max depth=%d\n", hits, maxdepth);
  hits = 0, maxdepth = 0;
  install(SIGUSR1, on_nest, 0, NULL);
  raise(SIGUSR1);
  printf("default: hits=%d max depth=%d\n", hits, maxdepth);
}

static volatile int saw_usr1, saw_usr2, saw_term, saw_int;
static void on_samask(int sig) {
  (void)sig;
  saw_usr1 = blocked(SIGUSR1), saw_usr2 = blocked(SIGUSR2), saw_term = blocked(SIGTERM), saw_int = blocked(SIGINT);
}

/* sa_mask is added to the mask during the handler and removed after. */
static void c_samask(void) {
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR2);
  sigaddset(&m, SIGTERM);
  install(SIGUSR1, on_samask, 0, &m);
  raise(SIGUSR1);
  printf("in handler: USR1=%d USR2=%d TERM=%d INT=%d\n", saw_usr1, saw_usr2, saw_term, saw_int);
  printf("after: USR1=%d USR2=%d TERM=%d\n", blocked(SIGUSR1), blocked(SIGUSR2), blocked(SIGTERM));
}

static void on_ucmask(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si;
  ucontext_t *uc = ctx;
  saw_usr1 = sigismember(&uc->uc_sigmask, SIGUSR1);
  saw_term = sigismember(&uc->uc_sigmask, SIGTERM);
  saw_int = sigismember(&uc->uc_sigmask, SIGINT);
  sigaddset(&uc->uc_sigmask, SIGINT); /* sigreturn installs this mask */
  sigdelset(&uc->uc_sigmask, SIGTERM);
  sigaddset(&uc->uc_sigmask, SIGKILL); /* ... but never blocks SIGKILL or SIGSTOP */
  sigaddset(&uc->uc_sigmask, SIGSTOP);
}

/* uc_sigmask is the mask at delivery; a handler that edits it changes the mask after sigreturn. */
static void c_ucmask(void) {
  block(SIGTERM, SIG_BLOCK);
  install_info(SIGUSR1, on_ucmask, 0);
  raise(SIGUSR1);
  printf("uc_sigmask: USR1=%d TERM=%d INT=%d\n", saw_usr1, saw_term, saw_int);
  printf("after sigreturn: INT=%d TERM=%d USR1=%d KILL=%d STOP=%d\n", blocked(SIGINT), blocked(SIGTERM), blocked(SIGUSR1),
         blocked(SIGKILL), blocked(SIGSTOP));
}

static volatile long seen_r12, seen_rbx;
static void on_regs(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si;
  ucontext_t *uc = ctx;
  seen_r12 = uc->uc_mcontext.gregs[REG_R12];
  seen_rbx = uc->uc_mcontext.gregs[REG_RBX];
  uc->uc_mcontext.gregs[REG_R12] = 0x2222;
  uc->uc_mcontext.gregs[REG_RBX] = 0x3333;
  uc->uc_mcontext.gregs[REG_RAX] = 77; /* the interrupted kill's return value */
}

/* The gregs of uc_mcontext are the interrupted registers; edits are live after sigreturn. */
static void c_regs(void) {
  install_info(SIGUSR1, on_regs, 0);
  register long r12 asm("r12") = 0x1111;
  register long rbx asm("rbx") = 0x4444;
  long ret;
  asm volatile("syscall" : "=a"(ret), "+r"(r12), "+r"(rbx)
               : "a"((long)SYS_kill), "D"((long)getpid()), "S"((long)SIGUSR1) : "rcx", "r11", "memory");
  printf("handler saw r12=%#lx rbx=%#lx; after: r12=%#lx rbx=%#lx kill returned %ld\n",
         seen_r12, seen_rbx, r12, rbx, ret);
}

static volatile long seen_efl;
static void on_flags(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si;
  ucontext_t *uc = ctx;
  seen_efl = uc->uc_mcontext.gregs[REG_EFL];
  uc->uc_mcontext.gregs[REG_EFL] |= 0x1 | 0x40;     /* CF, ZF: restored by sigreturn */
  uc->uc_mcontext.gregs[REG_EFL] |= 0x200000;       /* ID: not in FIX_EFLAGS, ignored */
}

/* A handler's edit of the interrupted RFLAGS: the arithmetic flags come back, others do not. */
static void c_eflags(void) {
  install_info(SIGUSR1, on_flags, 0);
  unsigned char cf, zf;
  long ret, id_after;
  asm volatile("xor %%ecx, %%ecx\n add $1, %%ecx\n" /* CF=0 ZF=0 */
               "mov %[pid], %%rdi\n mov $10, %%esi\n mov $62, %%eax\n syscall\n"
               "setc %[cf]\n setz %[zf]\n pushfq\n pop %[idf]\n"
               : "=&a"(ret), [cf] "=&r"(cf), [zf] "=&r"(zf), [idf] "=&r"(id_after)
               : [pid] "r"((long)getpid()) : "rcx", "rdi", "rsi", "r11", "memory", "cc");
  printf("handler saw CF=%d ZF=%d; after sigreturn: CF=%d ZF=%d ID=%d\n", (int)(seen_efl & 1), (seen_efl & 0x40) != 0,
         cf, zf, (id_after & 0x200000) != 0);
}

/* RFLAGS.IF is set in user mode (Linux starts a process with X86_EFLAGS_IF): pushfq shows it, and so does the frame's REG_EFL. */
static void c_rflags(void) {
  long f;
  asm volatile("pushfq\n pop %0" : "=r"(f));
  printf("pushfq: IF=%d bit 1=%d\n", (int)((f >> 9) & 1), (int)((f >> 1) & 1));
  install_info(SIGUSR1, on_flags, 0);
  raise(SIGUSR1);
  printf("frame REG_EFL: IF=%d bit 1=%d\n", (seen_efl & 0x200) != 0, (seen_efl & 2) != 0);
  asm volatile("pushfq\n pop %0" : "=r"(f));
  printf("after sigreturn: IF=%d\n", (int)((f >> 9) & 1));
}

static void on_info(int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  hits++;
  last_code = si->si_code;
  last_pid_ok = si->si_pid == getpid();
  last_uid_ok = si->si_uid == getuid();
  last_value = si->si_value.sival_int;
  if (si->si_signo != sig) last_code = 999;
}

/* SA_SIGINFO fields: kill is SI_USER with the sender's pid and uid; tgkill/tkill/raise are SI_TKILL. */
static void c_siginfo(void) {
  install_info(SIGUSR1, on_info, 0);
  kill(getpid(), SIGUSR1);
  printf("kill: si_code=%d pid ok=%d uid ok=%d\n", last_code, last_pid_ok, last_uid_ok);
  raise(SIGUSR1);
  printf("raise: si_code=%d pid ok=%d uid ok=%d\n", last_code, last_pid_ok, last_uid_ok);
  syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
  printf("tgkill: si_code=%d pid ok=%d uid ok=%d\n", last_code, last_pid_ok, last_uid_ok);
  syscall(SYS_tkill, gettid(), SIGUSR1);
  printf("tkill: si_code=%d pid ok=%d uid ok=%d\n", last_code, last_pid_ok, last_uid_ok);
}

/* rt_sigqueueinfo to self carries si_value; real-time signals queue, standard ones do not. */
static void c_sigqueue(void) {
  install_info(SIGUSR1, on_info, 0);
  union sigval v = { .sival_int = 1234 };
  int r = sigqueue(getpid(), SIGUSR1, v);
  printf("sigqueue=%d hits=%d si_code=%d value=%d pid ok=%d uid ok=%d\n", r, hits, last_code, last_value, last_pid_ok, last_uid_ok);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGUSR1;
  si.si_code = -42;
  si.si_value.sival_int = 99;
  si.si_pid = getpid();
  si.si_uid = getuid();
  r = syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si);
  printf("rt_sigqueueinfo=%d si_code=%d value=%d\n", r, last_code, last_value);
  int rt = SIGRTMIN + 2;
  install_info(rt, on_info, 0);
  install_info(SIGUSR2, on_info, 0);
  block(rt, SIG_BLOCK);
  block(SIGUSR2, SIG_BLOCK);
  hits = 0;
  for (int k = 0; k < 3; k++) {
    v.sival_int = k;
    sigqueue(getpid(), rt, v);
    sigqueue(getpid(), SIGUSR2, v);
  }
  block(SIGUSR2, SIG_UNBLOCK);
  printf("SIGUSR2 queued 3 times: hits=%d value=%d\n", hits, last_value);
  hits = 0;
  block(rt, SIG_UNBLOCK);
  printf("SIGRTMIN+2 queued 3 times: hits=%d last value=%d\n", hits, last_value);
}

/* rt_sigtimedwait takes a blocked pending signal without running its handler;
 * a zero timeout with nothing pending is EAGAIN. */
static void c_timedwait(void) {
  install(SIGUSR2, on_count, 0, NULL);
  sigset_t w;
  sigemptyset(&w);
  sigaddset(&w, SIGUSR2);
  sigprocmask(SIG_BLOCK, &w, NULL);
  raise(SIGUSR2);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  struct timespec ts = { 1, 0 };
  int r = sigtimedwait(&w, &si, &ts);
  printf("sigtimedwait=%d (SIGUSR2=%d) si_signo=%d si_code=%d pid ok=%d hits=%d pending=%d\n",
         r, SIGUSR2, si.si_signo, si.si_code, si.si_pid == getpid(), hits, pending(SIGUSR2));
  struct timespec zero = { 0, 0 };
  errno = 0;
  r = sigtimedwait(&w, &si, &zero);
  printf("zero timeout, nothing pending: %d EAGAIN=%d\n", r, errno == EAGAIN);
  kill(getpid(), SIGUSR2);
  r = sigwaitinfo(&w, &si);
  printf("sigwaitinfo=%d si_code=%d\n", r, si.si_code);
  union sigval v = { .sival_int = 5 };
  sigqueue(getpid(), SIGUSR2, v);
  int got = 0;
  r = sigwait(&w, &got);
  printf("sigwait=%d sig=%d hits=%d\n", r, got, hits);
}

static volatile unsigned short cw_in_frame;
static volatile unsigned int mxcsr_in_frame;
static volatile int fpregs_present;
static void on_clobber(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si;
  ucontext_t *uc = ctx;
  fpregs_present = uc->uc_mcontext.fpregs != NULL;
  if (fpregs_present) {
    cw_in_frame = uc->uc_mcontext.fpregs->cwd;
    mxcsr_in_frame = uc->uc_mcontext.fpregs->mxcsr;
  }
  unsigned short cw = 0x037f;
  unsigned int mx = 0x1f80;
  asm volatile("pxor %%xmm0,%%xmm0\n pxor %%xmm1,%%xmm1\n pxor %%xmm2,%%xmm2\n pxor %%xmm3,%%xmm3\n"
               "pxor %%xmm4,%%xmm4\n pxor %%xmm5,%%xmm5\n pxor %%xmm6,%%xmm6\n pxor %%xmm7,%%xmm7\n"
               "pxor %%xmm8,%%xmm8\n pxor %%xmm9,%%xmm9\n pxor %%xmm10,%%xmm10\n pxor %%xmm11,%%xmm11\n"
               "pxor %%xmm12,%%xmm12\n pxor %%xmm13,%%xmm13\n pxor %%xmm14,%%xmm14\n pxor %%xmm15,%%xmm15\n"
               "fldcw %0\n ldmxcsr %1\n fninit\n"
               :: "m"(cw), "m"(mx) : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                 "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
}

/* The FPU/SSE state (xmm0-15, the x87 control word, MXCSR) is saved in the
 * frame's fpstate and restored by sigreturn, whatever the handler does. */
static void c_fpu(void) {
  install_info(SIGUSR1, on_clobber, 0);
  uint64_t in[32], out[32];
  for (int k = 0; k < 32; k++) in[k] = 0x0101010101010101ULL * (k + 1), out[k] = 0;
  unsigned short cw = 0x0e7f, cw_after = 0; /* round toward zero, 64-bit precision, all masked */
  unsigned int mx = 0x7f80, mx_after = 0;    /* round toward zero, all masked */
  long pid = getpid();
  asm volatile(
      "fldcw %[cw]\n ldmxcsr %[mx]\n"
      "movdqu 0(%[in]),%%xmm0\n movdqu 16(%[in]),%%xmm1\n movdqu 32(%[in]),%%xmm2\n movdqu 48(%[in]),%%xmm3\n"
      "movdqu 64(%[in]),%%xmm4\n movdqu 80(%[in]),%%xmm5\n movdqu 96(%[in]),%%xmm6\n movdqu 112(%[in]),%%xmm7\n"
      "movdqu 128(%[in]),%%xmm8\n movdqu 144(%[in]),%%xmm9\n movdqu 160(%[in]),%%xmm10\n movdqu 176(%[in]),%%xmm11\n"
      "movdqu 192(%[in]),%%xmm12\n movdqu 208(%[in]),%%xmm13\n movdqu 224(%[in]),%%xmm14\n movdqu 240(%[in]),%%xmm15\n"
      "mov $62,%%eax\n mov %[pid],%%rdi\n mov $10,%%esi\n syscall\n"
      "movdqu %%xmm0,0(%[out])\n movdqu %%xmm1,16(%[out])\n movdqu %%xmm2,32(%[out])\n movdqu %%xmm3,48(%[out])\n"
      "movdqu %%xmm4,64(%[out])\n movdqu %%xmm5,80(%[out])\n movdqu %%xmm6,96(%[out])\n movdqu %%xmm7,112(%[out])\n"
      "movdqu %%xmm8,128(%[out])\n movdqu %%xmm9,144(%[out])\n movdqu %%xmm10,160(%[out])\n movdqu %%xmm11,176(%[out])\n"
      "movdqu %%xmm12,192(%[out])\n movdqu %%xmm13,208(%[out])\n movdqu %%xmm14,224(%[out])\n movdqu %%xmm15,240(%[out])\n"
      "fnstcw %[cwa]\n stmxcsr %[mxa]\n"
      : [cwa] "=m"(cw_after), [mxa] "=m"(mx_after)
      : [in] "r"(in), [out] "r"(out), [cw] "m"(cw), [mx] "m"(mx), [pid] "r"(pid)
      : "rax", "rdi", "rsi", "rcx", "r11", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
  int same = 0;
  for (int k = 0; k < 32; k++) same += in[k] == out[k];
  unsigned short dflt = 0x037f;
  unsigned int dmx = 0x1f80;
  asm volatile("fldcw %0\n ldmxcsr %1" :: "m"(dflt), "m"(dmx));
  printf("fpregs in frame=%d frame cwd=%#x frame mxcsr=%#x\n", fpregs_present, cw_in_frame, mxcsr_in_frame);
  printf("xmm words preserved=%d/32 cw after=%#x mxcsr after=%#x\n", same, cw_after, mx_after);
}

/* The whole FXSAVE state across a signal: the x87 stack (three values, so
 * TOP 5 and three tags valid), FSW flags, FCW, MXCSR with flags, XMM0-15.
 * The handler starts with the initial FPU (recorded by an assembly entry
 * before any C code runs); the frame's fpstate holds the interrupted state;
 * the handler edits the fpstate (ST0, XMM2, the control word) and clobbers
 * the live FPU; after sigreturn the edits show and everything else is back. */
__attribute__((visibility("hidden"))) unsigned char fpx_entry_env[28];
__attribute__((visibility("hidden"))) unsigned int fpx_entry_mxcsr;
__attribute__((visibility("hidden"))) uint64_t fpx_entry_xmm[32];
__attribute__((visibility("hidden"), used)) void on_fpx(int sig, siginfo_t *si, void *ctx);
void fpx_entry(int sig, siginfo_t *si, void *ctx);
asm(".text\n.globl fpx_entry\n.hidden fpx_entry\n.type fpx_entry,@function\nfpx_entry:\n"
    " fnstenv fpx_entry_env(%rip)\n stmxcsr fpx_entry_mxcsr(%rip)\n"
    " movdqu %xmm0,fpx_entry_xmm+0(%rip)\n movdqu %xmm1,fpx_entry_xmm+16(%rip)\n"
    " movdqu %xmm2,fpx_entry_xmm+32(%rip)\n movdqu %xmm3,fpx_entry_xmm+48(%rip)\n"
    " movdqu %xmm4,fpx_entry_xmm+64(%rip)\n movdqu %xmm5,fpx_entry_xmm+80(%rip)\n"
    " movdqu %xmm6,fpx_entry_xmm+96(%rip)\n movdqu %xmm7,fpx_entry_xmm+112(%rip)\n"
    " movdqu %xmm8,fpx_entry_xmm+128(%rip)\n movdqu %xmm9,fpx_entry_xmm+144(%rip)\n"
    " movdqu %xmm10,fpx_entry_xmm+160(%rip)\n movdqu %xmm11,fpx_entry_xmm+176(%rip)\n"
    " movdqu %xmm12,fpx_entry_xmm+192(%rip)\n movdqu %xmm13,fpx_entry_xmm+208(%rip)\n"
    " movdqu %xmm14,fpx_entry_xmm+224(%rip)\n movdqu %xmm15,fpx_entry_xmm+240(%rip)\n"
    " jmp on_fpx\n.size fpx_entry,.-fpx_entry\n");

static uint64_t fpx_in[32];
static struct { int have; unsigned cwd, swd, ftw, mxcsr, xmm_same; unsigned short st[3][5]; } fpx_frame;

void on_fpx(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si;
  ucontext_t *uc = ctx;
  fpregset_t fp = uc->uc_mcontext.fpregs;
  fpx_frame.have = fp != NULL;
  if (!fp) return;
  fpx_frame.cwd = fp->cwd, fpx_frame.swd = fp->swd, fpx_frame.ftw = fp->ftw & 0xff, fpx_frame.mxcsr = fp->mxcsr;
  for (int i = 0; i < 3; i++) {
    memcpy(fpx_frame.st[i], fp->_st[i].significand, 8);
    fpx_frame.st[i][4] = fp->_st[i].exponent;
  }
  fpx_frame.xmm_same = 0;
  for (int k = 0; k < 16; k++) {
    uint64_t q[2];
    memcpy(q, fp->_xmm[k].element, 16);
    fpx_frame.xmm_same += (q[0] == fpx_in[2 * k]) + (q[1] == fpx_in[2 * k + 1]);
  }
  /* Edits sigreturn must honour: ST0 = 42.0 (1.3125 * 2^5), XMM2, FCW (53-bit precision). */
  static const unsigned short forty_two[4] = { 0, 0, 0, 0xa800 };
  memcpy(fp->_st[0].significand, forty_two, 8);
  fp->_st[0].exponent = 0x4004;
  static const unsigned x2[4] = { 0xdeadbeef, 1, 2, 3 };
  memcpy(fp->_xmm[2].element, x2, 16);
  fp->cwd = 0x027f;
  unsigned mx = 0x7f80;
  asm volatile("fninit\n fld1\n fldz\n ldmxcsr %0\n"
               "pcmpeqb %%xmm0,%%xmm0\n pcmpeqb %%xmm1,%%xmm1\n pcmpeqb %%xmm2,%%xmm2\n pcmpeqb %%xmm3,%%xmm3\n"
               "pcmpeqb %%xmm4,%%xmm4\n pcmpeqb %%xmm5,%%xmm5\n pcmpeqb %%xmm6,%%xmm6\n pcmpeqb %%xmm7,%%xmm7\n"
               "pcmpeqb %%xmm8,%%xmm8\n pcmpeqb %%xmm9,%%xmm9\n pcmpeqb %%xmm10,%%xmm10\n pcmpeqb %%xmm11,%%xmm11\n"
               "pcmpeqb %%xmm12,%%xmm12\n pcmpeqb %%xmm13,%%xmm13\n pcmpeqb %%xmm14,%%xmm14\n pcmpeqb %%xmm15,%%xmm15\n"
               :: "m"(mx) : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                 "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)", "memory");
}

static void c_fpu_x87(void) {
  install_info(SIGUSR1, fpx_entry, 0);
  uint64_t out[32];
  for (int k = 0; k < 32; k++) fpx_in[k] = 0x1111111111111111ULL * (uint64_t)(k % 15 + 1) ^ (uint64_t)k << 56, out[k] = 0;
  long double v1 = 1.5L, v2 = -2.25e-300L, v3 = 3.0e100L;
  unsigned short cw = 0x067f, cw_after = 0; /* round down, 53-bit precision, all masked */
  unsigned mx = 0x3fa1, mx_after = 0;       /* round down, all masked, PE and IE flags set */
  unsigned char env[28], env_after[28];
  unsigned char st_after[3][10];
  long pid = getpid();
  asm volatile(
      "fninit\n fldcw %[cw]\n fldt %[v1]\n fldt %[v2]\n fldt %[v3]\n"
      "fnstenv %[env]\n orw $0x24,4+%[env]\n fldenv %[env]\n ldmxcsr %[mx]\n"
      "movdqu 0(%[in]),%%xmm0\n movdqu 16(%[in]),%%xmm1\n movdqu 32(%[in]),%%xmm2\n movdqu 48(%[in]),%%xmm3\n"
      "movdqu 64(%[in]),%%xmm4\n movdqu 80(%[in]),%%xmm5\n movdqu 96(%[in]),%%xmm6\n movdqu 112(%[in]),%%xmm7\n"
      "movdqu 128(%[in]),%%xmm8\n movdqu 144(%[in]),%%xmm9\n movdqu 160(%[in]),%%xmm10\n movdqu 176(%[in]),%%xmm11\n"
      "movdqu 192(%[in]),%%xmm12\n movdqu 208(%[in]),%%xmm13\n movdqu 224(%[in]),%%xmm14\n movdqu 240(%[in]),%%xmm15\n"
      "mov $62,%%eax\n mov %[pid],%%rdi\n mov $10,%%esi\n syscall\n"
      "fnstcw %[cwa]\n stmxcsr %[mxa]\n fnstenv %[enva]\n"
      "fstpt 0(%[st])\n fstpt 10(%[st])\n fstpt 20(%[st])\n"
      "movdqu %%xmm0,0(%[out])\n movdqu %%xmm1,16(%[out])\n movdqu %%xmm2,32(%[out])\n movdqu %%xmm3,48(%[out])\n"
      "movdqu %%xmm4,64(%[out])\n movdqu %%xmm5,80(%[out])\n movdqu %%xmm6,96(%[out])\n movdqu %%xmm7,112(%[out])\n"
      "movdqu %%xmm8,128(%[out])\n movdqu %%xmm9,144(%[out])\n movdqu %%xmm10,160(%[out])\n movdqu %%xmm11,176(%[out])\n"
      "movdqu %%xmm12,192(%[out])\n movdqu %%xmm13,208(%[out])\n movdqu %%xmm14,224(%[out])\n movdqu %%xmm15,240(%[out])\n"
      "fninit\n"
      : [cwa] "=m"(cw_after), [mxa] "=m"(mx_after), [env] "=m"(env), [enva] "=m"(env_after)
      : [in] "r"(fpx_in), [out] "r"(out), [st] "r"(st_after), [cw] "m"(cw), [mx] "m"(mx), [pid] "r"(pid),
        [v1] "m"(v1), [v2] "m"(v2), [v3] "m"(v3)
      : "rax", "rdi", "rsi", "rcx", "r11", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "memory");
  unsigned dmx = 0x1f80;
  asm volatile("ldmxcsr %0" :: "m"(dmx));
  unsigned short e16[3], a16[3];
  for (int i = 0; i < 3; i++) memcpy(&e16[i], fpx_entry_env + 4 * i, 2), memcpy(&a16[i], env_after + 4 * i, 2);
  int entry_xmm_zero = 0;
  for (int k = 0; k < 32; k++) entry_xmm_zero += fpx_entry_xmm[k] == 0;
  printf("entry: fcw=%#x fsw=%#x ftw=%#x mxcsr=%#x xmm zero words=%d/32\n", e16[0], e16[1], e16[2], fpx_entry_mxcsr, entry_xmm_zero);
  printf("frame: fpstate=%d cwd=%#x swd=%#x ftw=%#x mxcsr=%#x xmm words as set=%d/32\n", fpx_frame.have, fpx_frame.cwd,
         fpx_frame.swd, fpx_frame.ftw, fpx_frame.mxcsr, fpx_frame.xmm_same);
  for (int i = 0; i < 3; i++)
    printf("frame st%d: %04x%04x%04x%04x exp %04x\n", i, fpx_frame.st[i][3], fpx_frame.st[i][2], fpx_frame.st[i][1],
           fpx_frame.st[i][0], fpx_frame.st[i][4]);
  int same = 0;
  for (int k = 0; k < 32; k++) same += k / 2 != 2 && out[k] == fpx_in[k];
  printf("after: fcw=%#x fsw=%#x ftw=%#x mxcsr=%#x xmm words kept=%d/30 xmm2=%016llx%016llx\n", cw_after, a16[1], a16[2],
         mx_after, same, (unsigned long long)out[5], (unsigned long long)out[4]);
  for (int i = 0; i < 3; i++) {
    unsigned short w[5];
    memcpy(w, st_after[i], 10);
    printf("after st%d: %04x%04x%04x%04x exp %04x\n", i, w[3], w[2], w[1], w[0], w[4]);
  }
}

static volatile double fp_result;
static void on_float(int sig) {
  (void)sig;
  volatile double x = 2.0;
  fp_result = sqrt(x) * 1e6 + 1.0 / 3.0;
  printf("in handler: %.6f\n", fp_result);
}

/* Floating point (and printf) inside a handler; the interrupted computation is intact. */
static void c_float(void) {
  install(SIGUSR1, on_float, 0, NULL);
  volatile double a = 1.25, b = 3.5;
  double before = a * b;
  raise(SIGUSR1);
  double after = a * b + fp_result;
  printf("before=%.4f after=%.6f\n", before, after);
}

static char altstack[65536];
static volatile int on_alt, alt_flags;
static void on_where(int sig) {
  (void)sig;
  char here;
  on_alt = &here >= altstack && &here < altstack + sizeof altstack;
  stack_t cur;
  sigaltstack(NULL, &cur);
  alt_flags = cur.ss_flags;
}

/* SA_ONSTACK runs the handler on the sigaltstack (ss_flags SS_ONSTACK inside). */
static void c_altstack(void) {
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  printf("sigaltstack=%d\n", sigaltstack(&ss, NULL));
  install(SIGUSR1, on_where, SA_ONSTACK, NULL);
  raise(SIGUSR1);
  printf("SA_ONSTACK: on altstack=%d ss_flags inside=%d\n", on_alt, alt_flags);
  stack_t cur;
  sigaltstack(NULL, &cur);
  printf("after: ss_flags=%d size=%zu sp ok=%d\n", cur.ss_flags, cur.ss_size, cur.ss_sp == altstack);
  install(SIGUSR1, on_where, 0, NULL);
  raise(SIGUSR1);
  printf("without SA_ONSTACK: on altstack=%d\n", on_alt);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  sigaltstack(NULL, &cur);
  printf("disabled: ss_flags=%d\n", cur.ss_flags);
}

static volatile int nested_on_alt, nested_below;
static char *outer_local;
static void on_inner(int sig) {
  (void)sig;
  char here;
  nested_on_alt = &here >= altstack && &here < altstack + sizeof altstack;
  nested_below = &here < outer_local;
}
static void on_outer(int sig) {
  (void)sig;
  char here;
  outer_local = &here;
  on_alt = &here >= altstack && &here < altstack + sizeof altstack;
  raise(SIGUSR2);
}

/* A signal raised inside an altstack handler nests on the altstack, below the first frame. */
static void c_altstack_nested(void) {
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  sigaltstack(&ss, NULL);
  install(SIGUSR1, on_outer, SA_ONSTACK, NULL);
  install(SIGUSR2, on_inner, SA_ONSTACK, NULL);
  raise(SIGUSR1);
  printf("outer on altstack=%d inner on altstack=%d inner below outer=%d\n", on_alt, nested_on_alt, nested_below);
  install(SIGUSR2, on_inner, 0, NULL); /* without SA_ONSTACK, still on the altstack: it is in use */
  raise(SIGUSR1);
  printf("inner without SA_ONSTACK: on altstack=%d below outer=%d\n", nested_on_alt, nested_below);
}

/* A sigaltstack whose top is 64 bytes past a 2 MiB bound of the address
 * space (where faultline's host views of guest memory are cut): the frame
 * crosses it. The handler edits uc_sigmask and the MXCSR in the fpstate;
 * sigreturn must bring both back from both sides of the bound. */
static volatile int straddle_signo, straddle_below;
static char *straddle_bound;
static void on_straddle(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  straddle_signo = si->si_signo == sig;
  straddle_below = (uintptr_t)uc < (uintptr_t)straddle_bound;
  sigaddset(&uc->uc_sigmask, SIGUSR2);
  uc->uc_mcontext.fpregs->mxcsr = (uc->uc_mcontext.fpregs->mxcsr & ~0x6000u) | 0x4000u; /* round up */
}
static void c_altstack_straddle(void) {
  size_t map = 8UL << 20;
  char *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) { perror("mmap"); exit(99); }
  char *bound = (char *)(((uintptr_t)m + (4UL << 20)) & ~((2UL << 20) - 1));
  straddle_bound = bound;
  stack_t ss = { .ss_sp = bound - 65536, .ss_size = 65536 + 64, .ss_flags = 0 };
  printf("sigaltstack=%d\n", sigaltstack(&ss, NULL));
  install_info(SIGUSR1, on_straddle, SA_ONSTACK);
  raise(SIGUSR1);
  sigset_t now;
  sigprocmask(SIG_SETMASK, NULL, &now);
  unsigned mxcsr;
  __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
  printf("signo ok=%d frame below the bound=%d SIGUSR2 blocked after=%d MXCSR round-up after=%d\n",
         straddle_signo, straddle_below, sigismember(&now, SIGUSR2), (mxcsr & 0x6000u) == 0x4000u);
}

/* The handler's entry state, recorded by a handler written in assembly
 * (cf. setup_rt_frame: rdi = signo, rsi = &frame->info, rdx = &frame->uc,
 * rax = 0, [rsp] = the restorer, rsp + 8 16-byte aligned, below the red
 * zone; DF cleared for the handler and restored after). */
long entry_regs[8];
long before_rsp;
void entry_handler(int);
asm(".text\n .globl entry_handler\n entry_handler:\n"
    " mov %rdi, entry_regs+0(%rip)\n mov %rsi, entry_regs+8(%rip)\n mov %rdx, entry_regs+16(%rip)\n"
    " mov %rax, entry_regs+24(%rip)\n mov %rsp, entry_regs+32(%rip)\n mov (%rsp), %rax\n mov %rax, entry_regs+40(%rip)\n"
    " pushfq\n pop %rax\n mov %rax, entry_regs+48(%rip)\n ret\n");

static void c_entry(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = entry_handler;
  sigaction(SIGUSR1, &sa, NULL);
  struct { unsigned long handler, flags, restorer, mask; } back = { 0, 0, 0, 0 }; /* as the kernel has it */
  syscall(SYS_rt_sigaction, SIGUSR1, NULL, &back, 8);
  long flags_after;
  asm volatile("mov %%rsp, before_rsp(%%rip)\n std\n mov %[pid], %%rdi\n mov $10, %%esi\n mov $62, %%eax\n syscall\n"
               "pushfq\n pop %[f]\n cld\n"
               : [f] "=&r"(flags_after) : [pid] "r"((long)getpid()) : "rax", "rcx", "rdi", "rsi", "rdx", "r11", "memory", "cc");
  long rsp = entry_regs[4];
  printf("rdi=%ld rax=%ld rsi-rdx=%ld rdx-rsp=%ld (rsp+8)%%16=%ld below red zone=%d\n", entry_regs[0], entry_regs[3],
         entry_regs[1] - entry_regs[2], entry_regs[2] - rsp, (rsp + 8) % 16, rsp <= before_rsp - 128);
  printf("return address = sa_restorer: %d; DF in handler=%d; DF after sigreturn=%d\n",
         back.restorer != 0 && entry_regs[5] == (long)back.restorer,
         (entry_regs[6] & 0x400) != 0, (flags_after & 0x400) != 0);
}

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* Linux 4.7; glibc 2.36's headers lack it */
#endif

/* SS_AUTODISARM: the altstack is disarmed while the handler runs on it, back after sigreturn. */
static volatile int inner_flags, inner_size_zero;
static void on_disarmed(int sig) {
  (void)sig;
  stack_t cur;
  sigaltstack(NULL, &cur);
  inner_flags = cur.ss_flags;
  inner_size_zero = cur.ss_size == 0;
  char here;
  on_alt = &here >= altstack && &here < altstack + sizeof altstack;
}

static void c_autodisarm(void) {
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = SS_AUTODISARM };
  printf("sigaltstack(SS_AUTODISARM)=%d\n", sigaltstack(&ss, NULL));
  install(SIGUSR1, on_disarmed, SA_ONSTACK, NULL);
  raise(SIGUSR1);
  stack_t cur;
  sigaltstack(NULL, &cur);
  printf("in handler: on altstack=%d ss_flags=%d size 0=%d; after: ss_flags=%#x size=%zu\n", on_alt, inner_flags,
         inner_size_zero, cur.ss_flags, cur.ss_size);
}

/* abort(): SIGABRT's default action, 134. */
static void c_abort(void) {
  printf("aborting\n");
  fflush(stdout);
  abort();
}

/* SIGCHLD, SIGWINCH, SIGURG, SIGCONT are ignored by default. */
static void c_dflignore(void) {
  kill(getpid(), SIGCHLD);
  kill(getpid(), SIGWINCH);
  kill(getpid(), SIGURG);
  raise(SIGCONT);
  printf("alive after SIGCHLD, SIGWINCH, SIGURG, SIGCONT\n");
}

/* A default-terminating signal with no handler: SIGUSR2 kills (140). */
static void c_dflterm(void) {
  printf("sending SIGUSR2\n");
  fflush(stdout);
  raise(SIGUSR2);
  printf("not reached\n");
}

/* SIGPIPE: a write to a pipe with no reader kills (141). */
static void c_sigpipe(void) {
  int p[2];
  if (pipe(p) != 0) exit(98);
  close(p[0]);
  printf("writing\n");
  fflush(stdout);
  write(p[1], "x", 1);
  printf("not reached\n");
}

/* With SIGPIPE ignored the write fails EPIPE; the program then exits 7. */
static void c_sigpipe_ign(void) {
  signal(SIGPIPE, SIG_IGN);
  int p[2];
  if (pipe(p) != 0) exit(98);
  close(p[0]);
  errno = 0;
  long r = write(p[1], "x", 1);
  printf("write=%ld EPIPE=%d\n", r, errno == EPIPE);
  fflush(stdout);
  exit(errno == EPIPE ? 7 : 1);
}

/* With a handler, SIGPIPE is delivered to it and the write still fails EPIPE. */
static void c_sigpipe_handler(void) {
  install_info(SIGPIPE, on_info, 0);
  int p[2];
  if (pipe(p) != 0) exit(98);
  close(p[0]);
  errno = 0;
  long r = write(p[1], "x", 1);
  printf("write=%ld EPIPE=%d hits=%d si_code=%d\n", r, errno == EPIPE, hits, last_code);
}

/* sigaction reads back what was set: handler, flags (SA_RESTORER as the libc
 * passed it, shown as present or not), mask; SIG_DFL and SIG_IGN too. */
static void c_readback(void) {
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR2);
  sigaddset(&m, SIGRTMIN + 1);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))on_info;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK | SA_NODEFER | SA_RESETHAND;
  sa.sa_mask = m;
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR1, NULL, &old);
  printf("handler same=%d flags without SA_RESTORER=%#x SA_RESTORER=%d restorer set=%d\n",
         old.sa_sigaction == sa.sa_sigaction, old.sa_flags & ~0x04000000, (old.sa_flags & 0x04000000) != 0,
         old.sa_restorer != NULL);
  printf("mask: USR2=%d RTMIN+1=%d USR1=%d TERM=%d\n", sigismember(&old.sa_mask, SIGUSR2),
         sigismember(&old.sa_mask, SIGRTMIN + 1), sigismember(&old.sa_mask, SIGUSR1), sigismember(&old.sa_mask, SIGTERM));
  signal(SIGUSR1, SIG_IGN);
  sigaction(SIGUSR1, NULL, &old);
  printf("SIG_IGN=%d\n", old.sa_handler == SIG_IGN);
  sigaction(SIGTERM, NULL, &old);
  printf("SIGTERM untouched: SIG_DFL=%d flags without SA_RESTORER=%#x\n", old.sa_handler == SIG_DFL, old.sa_flags & ~0x04000000);
}

static char order[64];
static volatile int norder;
static void on_order(int sig) {
  norder += snprintf(order + norder, sizeof order - norder, "%d ", sig);
}
static void on_chain(int sig) {
  norder += snprintf(order + norder, sizeof order - norder, "%d< ", sig);
  raise(SIGUSR2); /* in sa_mask: runs after this handler's sigreturn */
  norder += snprintf(order + norder, sizeof order - norder, ">%d ", sig);
}

/* Several signals made deliverable at once: Linux sets up one frame per
 * pending signal, each on top of the last, before returning to user mode,
 * so the handlers run highest frame first; one unblocked by a handler's
 * sigreturn runs before the interrupted code goes on. */
static void c_order(void) {
  int sigs[] = { SIGUSR2, SIGUSR1, SIGTERM, SIGRTMIN + 1, SIGRTMIN, SIGHUP };
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  for (unsigned k = 0; k < sizeof sigs / sizeof sigs[0]; k++) install(sigs[k], on_order, 0, NULL);
  sigprocmask(SIG_SETMASK, &all, NULL);
  for (unsigned k = 0; k < sizeof sigs / sizeof sigs[0]; k++) raise(sigs[k]);
  sigprocmask(SIG_SETMASK, &none, NULL);
  printf("unblocked together: %s\n", order);
  norder = 0;
  for (unsigned k = 0; k < sizeof sigs / sizeof sigs[0]; k++) install(sigs[k], on_order, 0, &all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  for (unsigned k = 0; k < sizeof sigs / sizeof sigs[0]; k++) raise(sigs[k]);
  sigprocmask(SIG_SETMASK, &none, NULL);
  printf("each handler blocking all: %s\n", order);
  norder = 0;
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR2);
  install(SIGUSR1, on_chain, 0, &m);
  install(SIGUSR2, on_order, 0, NULL);
  raise(SIGUSR1);
  printf("raised inside a handler, blocked by its sa_mask: %s\n", order);
}

static const struct sigcase cases[] = {
  { "kill", c_kill }, { "raise", c_raise }, { "ignore", c_ignore }, { "mask", c_mask },
  { "sigsuspend", c_sigsuspend }, { "resethand", c_resethand }, { "nodefer", c_nodefer },
  { "samask", c_samask }, { "ucmask", c_ucmask }, { "regs", c_regs }, { "siginfo", c_siginfo },
  { "sigqueue", c_sigqueue }, { "timedwait", c_timedwait }, { "fpu", c_fpu }, { "fpu-x87", c_fpu_x87 }, { "float", c_float },
  { "altstack", c_altstack }, { "altstack-straddle", c_altstack_straddle }, { "abort", c_abort }, { "dflignore", c_dflignore }, { "dflterm", c_dflterm },
  { "readback", c_readback }, { "eflags", c_eflags }, { "rflags", c_rflags }, { "entry", c_entry }, { "altstack-nested", c_altstack_nested }, { "autodisarm", c_autodisarm }, { "order", c_order }, { "sigpipe", c_sigpipe }, { "sigpipe-ign", c_sigpipe_ign }, { "sigpipe-handler", c_sigpipe_handler },
};

CASES_MAIN(cases)
