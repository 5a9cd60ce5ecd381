/* The signal calls' argument checks, through raw system calls (no libc
 * checks in between): each line is a call and the errno Linux answers.
 * test/signal-args.test.ts runs it natively and under faultline. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* struct sigaction as the kernel takes it. */
struct ksigaction { unsigned long handler, flags, restorer, mask; };

/* The errno names these calls can answer (musl has no strerrorname_np). */
static const char *errname(int e) {
  switch (e) {
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case EPERM: return "EPERM";
    case EFAULT: return "EFAULT";
    default: return "other";
  }
}

static void show(const char *what, long r) {
  printf("%-40s %s\n", what, r < 0 ? errname(errno) : "ok");
}

static void on_usr1(int sig) { (void)sig; }

int main(int argc, char **argv) {
  pid_t me = getpid(), tid = gettid();
  if (argc == 3) { /* sigargs kill N: what the signal's default action does to the sender itself */
    signal(SIGUSR2, SIG_IGN);
    syscall(SYS_kill, me, atoi(argv[2]));
    return 0;
  }
  show("kill(self, 65)", syscall(SYS_kill, me, 65));
  show("kill(self, -1)", syscall(SYS_kill, me, -1));
  show("kill(self, 0)", syscall(SYS_kill, me, 0));
  show("kill(0, 65)", syscall(SYS_kill, 0, 65));
  show("kill(-1, 65)", syscall(SYS_kill, -1, 65));
  show("kill(INT_MIN, 0)", syscall(SYS_kill, INT_MIN, 0));
  show("kill(INT_MAX, 0)", syscall(SYS_kill, INT_MAX, 0));
  show("tkill(self, 65)", syscall(SYS_tkill, tid, 65));
  show("tkill(0, 0)", syscall(SYS_tkill, 0, 0));
  show("tkill(-5, 0)", syscall(SYS_tkill, -5, 0));
  show("tkill(self, 0)", syscall(SYS_tkill, tid, 0));
  show("tgkill(self, self, 65)", syscall(SYS_tgkill, me, tid, 65));
  show("tgkill(self, self, 0)", syscall(SYS_tgkill, me, tid, 0));
  show("tgkill(0, self, 0)", syscall(SYS_tgkill, 0, tid, 0));
  show("tgkill(self, 0, 0)", syscall(SYS_tgkill, me, 0, 0));
  show("tgkill(-1, self, 0)", syscall(SYS_tgkill, -1, tid, 0));
  show("tgkill(INT_MAX, INT_MAX, 65)", syscall(SYS_tgkill, INT_MAX, INT_MAX, 65));

  struct ksigaction act = { (unsigned long)on_usr1, 0x04000000 /* SA_RESTORER */, 0, ~0UL }, old;
  show("rt_sigaction(0, act)", syscall(SYS_rt_sigaction, 0, &act, NULL, 8));
  show("rt_sigaction(65, act)", syscall(SYS_rt_sigaction, 65, &act, NULL, 8));
  show("rt_sigaction(-1, NULL, old)", syscall(SYS_rt_sigaction, -1, NULL, &old, 8));
  show("rt_sigaction(64, NULL, old)", syscall(SYS_rt_sigaction, 64, NULL, &old, 8));
  show("rt_sigaction(SIGKILL, act)", syscall(SYS_rt_sigaction, SIGKILL, &act, NULL, 8));
  show("rt_sigaction(SIGSTOP, act)", syscall(SYS_rt_sigaction, SIGSTOP, &act, NULL, 8));
  show("rt_sigaction(SIGKILL, NULL, old)", syscall(SYS_rt_sigaction, SIGKILL, NULL, &old, 8));
  show("rt_sigaction(SIGUSR1, act, size 4)", syscall(SYS_rt_sigaction, SIGUSR1, &act, NULL, 4));
  show("rt_sigaction(SIGUSR1, act)", syscall(SYS_rt_sigaction, SIGUSR1, &act, NULL, 8));
  syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8);
  printf("%-40s %#lx\n", "SIGUSR1's mask read back (all asked)", old.mask);

  unsigned long set = ~0UL, got = 0x1234;
  show("rt_sigprocmask(how 7, set, old)", syscall(SYS_rt_sigprocmask, 7, &set, &got, 8));
  printf("%-40s %#lx\n", "old set after the bad how", got);
  show("rt_sigprocmask(how 7, NULL, old)", syscall(SYS_rt_sigprocmask, 7, NULL, &got, 8));
  show("rt_sigprocmask(BLOCK, set, NULL, 16)", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16));
  show("rt_sigprocmask(SETMASK, all)", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8));
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8);
  printf("%-40s %#lx\n", "mask after blocking all", got);
  unsigned long usr1 = 1UL << (SIGUSR1 - 1);
  syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &usr1, &got, 8);
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8);
  printf("%-40s %#lx\n", "mask after unblocking SIGUSR1", got);
  show("kill(self, SIGTERM) while blocked", syscall(SYS_kill, me, SIGTERM));
  fflush(stdout);
  _exit(3); /* still blocked: it never arrives */
}
