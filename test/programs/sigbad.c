/* Bad input to the signal calls, through libc and raw system calls, and
 * programs whose signal use must end in a kill: a handler at an unmapped
 * address, rt_sigreturn over a stack of garbage or zeros. `sigbad CASE`;
 * test/signal-delivery.test.ts compares each with the native run (the
 * errno Linux answers, the signal that kills). The argument checks of
 * kill/tkill/tgkill/rt_sigaction/rt_sigprocmask are in sigargs.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sigcase.h"

static const char *errname(int e) {
  switch (e) {
    case 0: return "ok";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EAGAIN: return "EAGAIN";
    default: return "other";
  }
}

static void show(const char *what, long r) {
  printf("%-48s %ld %s\n", what, r, r < 0 ? errname(errno) : "ok");
  errno = 0;
}

/* struct sigaction as the kernel takes it. */
struct ksigaction { unsigned long handler, flags, restorer, mask; };

static void on_usr1(int sig) { (void)sig; }

/* libc's sigaction/kill/sigprocmask/sigaltstack/sigpending with bad arguments. */
static void c_args(void) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  show("sigaction(0)", sigaction(0, &sa, NULL));
  show("sigaction(65)", sigaction(65, &sa, NULL));
  show("sigaction(-1)", sigaction(-1, &sa, NULL));
  show("sigaction(SIGKILL, handler)", sigaction(SIGKILL, &sa, NULL));
  show("sigaction(SIGSTOP, handler)", sigaction(SIGSTOP, &sa, NULL));
  sa.sa_handler = SIG_IGN;
  show("sigaction(SIGKILL, SIG_IGN)", sigaction(SIGKILL, &sa, NULL));
  show("sigaction(SIGKILL, NULL, old)", sigaction(SIGKILL, NULL, &old));
  show("kill(self, 65)", kill(getpid(), 65));
  show("kill(self, -1)", kill(getpid(), -1));
  show("kill(self, 0)", kill(getpid(), 0));
  show("kill(0x7ffffff0, 0)", kill(0x7ffffff0, 0));
  struct ksigaction k = { (unsigned long)on_usr1, 0x04000000, 0, 0 };
  show("rt_sigaction(SIGUSR1, act=(void*)8)", syscall(SYS_rt_sigaction, SIGUSR1, (void *)8, NULL, 8));
  show("rt_sigaction(SIGUSR1, act, old=(void*)8)", syscall(SYS_rt_sigaction, SIGUSR1, &k, (void *)8, 8));
  show("rt_sigaction(SIGUSR1, act=text)", syscall(SYS_rt_sigaction, SIGUSR1, (void *)c_args, NULL, 8));
  show("rt_sigaction(SIGUSR1, act, old=text)", syscall(SYS_rt_sigaction, SIGUSR1, &k, (void *)c_args, 8));
  show("rt_sigaction(65, act=(void*)8)", syscall(SYS_rt_sigaction, 65, (void *)8, NULL, 8));
  show("rt_sigprocmask(BLOCK, set=(void*)8)", syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)8, NULL, 8));
  unsigned long m = 0;
  show("rt_sigprocmask(BLOCK, set, old=(void*)8)", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &m, (void *)8, 8));
  show("rt_sigpending((void*)8)", syscall(SYS_rt_sigpending, (void *)8, 8));
  show("rt_sigpending(set, 16)", syscall(SYS_rt_sigpending, &m, 16));
  show("rt_sigsuspend((void*)8)", syscall(SYS_rt_sigsuspend, (void *)8, 8));
  show("rt_sigsuspend(set, 4)", syscall(SYS_rt_sigsuspend, &m, 4));
  struct timespec zero = { 0, 0 }, badns = { 0, 1000000000 };
  show("rt_sigtimedwait(set, NULL, ts{0,1e9})", syscall(SYS_rt_sigtimedwait, &m, NULL, &badns, 8));
  show("rt_sigtimedwait((void*)8)", syscall(SYS_rt_sigtimedwait, (void *)8, NULL, &zero, 8));
  show("rt_sigtimedwait(set, NULL, (void*)8)", syscall(SYS_rt_sigtimedwait, &m, NULL, (void *)8, 8));
  show("rt_sigtimedwait(set, 4)", syscall(SYS_rt_sigtimedwait, &m, NULL, &zero, 4));
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_code = -1;
  show("rt_sigqueueinfo(self, 65, info)", syscall(SYS_rt_sigqueueinfo, getpid(), 65, &si));
  show("rt_sigqueueinfo(self, SIGUSR1, (void*)8)", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, (void *)8));
  show("rt_sigqueueinfo(self, 0, info)", syscall(SYS_rt_sigqueueinfo, getpid(), 0, &si));
  show("rt_tgsigqueueinfo(self, self, 65, info)", syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), 65, &si));
}

static char alt[1 << 16];
static volatile long inside_r, inside_errno, inside_disable_r, inside_disable_errno;
static void on_alt(int sig) {
  (void)sig;
  stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
  errno = 0;
  inside_r = sigaltstack(&ss, NULL);
  inside_errno = errno;
  ss.ss_flags = SS_DISABLE;
  errno = 0;
  inside_disable_r = sigaltstack(&ss, NULL);
  inside_disable_errno = errno;
}

/* sigaltstack: too small (ENOMEM), bad flags (EINVAL), bad pointers (EFAULT), changed while on it (EPERM). */
static void c_altstack(void) {
  stack_t ss = { .ss_sp = alt, .ss_size = 1024, .ss_flags = 0 }, old;
  show("sigaltstack(size 1024)", sigaltstack(&ss, NULL));
  ss.ss_size = 2047; /* the kernel's MINSIGSTKSZ is 2048 (libcs' constants differ) */
  show("sigaltstack(size 2047)", syscall(SYS_sigaltstack, &ss, NULL));
  ss.ss_size = 2048;
  show("sigaltstack(size 2048)", syscall(SYS_sigaltstack, &ss, NULL));
  ss.ss_size = sizeof alt;
  ss.ss_flags = 0x1234;
  show("sigaltstack(flags 0x1234)", syscall(SYS_sigaltstack, &ss, NULL));
  ss.ss_flags = SS_ONSTACK;
  show("sigaltstack(flags SS_ONSTACK)", syscall(SYS_sigaltstack, &ss, NULL));
  show("sigaltstack((void*)8, NULL)", syscall(SYS_sigaltstack, (void *)8, NULL));
  show("sigaltstack(NULL, (void*)8)", syscall(SYS_sigaltstack, NULL, (void *)8));
  ss.ss_flags = SS_DISABLE;
  ss.ss_size = 0;
  show("sigaltstack(SS_DISABLE, size 0)", syscall(SYS_sigaltstack, &ss, NULL));
  syscall(SYS_sigaltstack, NULL, &old);
  printf("after SS_DISABLE: flags=%d\n", old.ss_flags);
  ss.ss_flags = 0;
  ss.ss_size = sizeof alt;
  show("sigaltstack(64 KiB)", sigaltstack(&ss, NULL));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alt;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  raise(SIGUSR1);
  printf("%-48s %ld %s\n", "sigaltstack(new) while on it", inside_r, inside_r < 0 ? errname((int)inside_errno) : "ok");
  printf("%-48s %ld %s\n", "sigaltstack(SS_DISABLE) while on it", inside_disable_r, inside_disable_r < 0 ? errname((int)inside_disable_errno) : "ok");
  syscall(SYS_sigaltstack, NULL, &old);
  printf("after the handler: flags=%d size=%zu\n", old.ss_flags, old.ss_size);
}

/* A handler at an address with nothing mapped: the delivery jumps there and faults (139). */
static void c_unmapped_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = (void (*)(int))0x10000; /* below mmap_min_addr's usual 64 KiB + nothing there */
  if (sigaction(SIGUSR1, &sa, NULL) != 0) { perror("sigaction"); exit(99); }
  printf("raising with the handler at 0x10000\n");
  fflush(stdout);
  raise(SIGUSR1);
  printf("not reached\n");
}

/* A handler in a page with no execute permission: the jump faults (139). */
static void c_noexec_handler(void) {
  void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) exit(98);
  memset(p, 0xc3, 4096); /* ret, were it executable */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = (void (*)(int))p;
  sigaction(SIGUSR1, &sa, NULL);
  printf("raising with the handler in a non-executable page\n");
  fflush(stdout);
  raise(SIGUSR1);
  printf("not reached\n");
}

/* A sigaltstack whose memory is PROT_NONE: the frame cannot be written, SIGSEGV kills (139). */
static void c_frame_unwritable(void) {
  void *p = mmap(NULL, 65536, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) exit(98);
  stack_t ss = { .ss_sp = p, .ss_size = 65536, .ss_flags = 0 };
  if (sigaltstack(&ss, NULL) != 0) exit(97);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  printf("raising with the sigaltstack PROT_NONE\n");
  fflush(stdout);
  raise(SIGUSR1);
  printf("not reached\n");
}

/* rt_sigreturn over a stack of `fill` bytes: the restored state is garbage, SIGSEGV kills. */
static void sigreturn_over(int fill) {
  static char frame[8192] __attribute__((aligned(16)));
  memset(frame, fill, sizeof frame);
  printf("rt_sigreturn over %#x bytes\n", fill);
  fflush(stdout);
  char *sp = frame + 1024;
  asm volatile("mov %0, %%rsp\n mov $15, %%eax\n syscall\n ud2" :: "r"(sp) : "memory");
}
static void c_sigreturn_garbage(void) { sigreturn_over(0x41); }
static void c_sigreturn_zeros(void) { sigreturn_over(0); }

/* rt_sigreturn with the stack pointer at an unmapped address: the frame cannot be read (139). */
static void c_sigreturn_unmapped(void) {
  printf("rt_sigreturn with rsp unmapped\n");
  fflush(stdout);
  asm volatile("mov $0x10000, %%rsp\n mov $15, %%eax\n syscall\n ud2" ::: "memory");
}

/* rt_sigreturn outside a handler from main's own stack via syscall(2). */
static void c_sigreturn_syscall(void) {
  printf("syscall(SYS_rt_sigreturn) from main\n");
  fflush(stdout);
  syscall(SYS_rt_sigreturn);
  printf("not reached\n");
}

static const struct sigcase cases[] = {
  { "args", c_args }, { "altstack", c_altstack }, { "unmapped-handler", c_unmapped_handler },
  { "noexec-handler", c_noexec_handler }, { "frame-unwritable", c_frame_unwritable }, { "sigreturn-garbage", c_sigreturn_garbage },
  { "sigreturn-zeros", c_sigreturn_zeros }, { "sigreturn-unmapped", c_sigreturn_unmapped },
  { "sigreturn-syscall", c_sigreturn_syscall },
};

CASES_MAIN(cases)
