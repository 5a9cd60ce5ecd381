/* signalfd: non-blocking and blocking reads of struct signalfd_siginfo,
 * several records per read, the mask replaced by a second signalfd call,
 * poll and epoll readiness, SFD_CLOEXEC/SFD_NONBLOCK, the errors, a timer's
 * signal, across fork (each reader takes its own pending signals), and the
 * systemd pattern: SIGCHLD blocked, read from a signalfd, children reaped.
 * Run natively and under faultline by test/signal-fd.test.ts. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigset_t set_of(int a, int b, int c) {
  sigset_t s;
  sigemptyset(&s);
  if (a) sigaddset(&s, a);
  if (b) sigaddset(&s, b);
  if (c) sigaddset(&s, c);
  return s;
}

static void pr_ssi(const char *what, const struct signalfd_siginfo *i, pid_t from) {
  printf("%s: signo=%u code=%d pid_ok=%d uid_ok=%d status=%d int=%d ptr=%llu overrun=%u errno=%d\n", what, i->ssi_signo, i->ssi_code,
         i->ssi_pid == (unsigned)from, i->ssi_uid == getuid(), i->ssi_status, i->ssi_int, (unsigned long long)i->ssi_ptr, i->ssi_overrun,
         i->ssi_errno);
}

/* Prints a call's result and errno (the call first: argument order is unspecified). */
static void pr_ret(const char *what, long r) {
  int e = errno;
  printf("%s: %ld errno %d\n", what, r, r < 0 ? e : 0);
}

static int poll_in(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  int r = poll(&p, 1, 0);
  return r == 1 ? p.revents : r;
}

/* Reads once and prints what came: the count of records, each record, or the errno. */
static void read_pr(const char *what, int fd, size_t len, pid_t from) {
  struct signalfd_siginfo b[4];
  memset(b, 0, sizeof b);
  ssize_t n = read(fd, b, len);
  if (n < 0) {
    printf("%s: read -1 errno %d\n", what, errno);
    return;
  }
  printf("%s: read %zd bytes\n", what, n);
  for (ssize_t k = 0; k < n / (ssize_t)sizeof b[0]; k++) pr_ssi(what, &b[k], from);
}

static void basics(void) {
  sigset_t all = set_of(SIGUSR1, SIGUSR2, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &all, 0);
  sigset_t m = set_of(SIGUSR1, 0, 0);
  int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
  printf("signalfd: fd_ok=%d cloexec=%d nonblock=%d\n", fd >= 3, fcntl(fd, F_GETFD) & FD_CLOEXEC, (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
  read_pr("empty", fd, sizeof(struct signalfd_siginfo), 0);
  printf("poll empty: %d\n", poll_in(fd));
  raise(SIGUSR1);
  printf("poll after raise: 0x%x\n", poll_in(fd));
  read_pr("short buffer", fd, sizeof(struct signalfd_siginfo) - 1, 0);
  read_pr("raise", fd, sizeof(struct signalfd_siginfo), getpid());
  kill(getpid(), SIGUSR2);
  printf("poll USR2 outside the mask: %d\n", poll_in(fd));
  sigset_t m2 = set_of(SIGUSR1, SIGUSR2, SIGRTMIN);
  printf("signalfd on the same fd: same=%d\n", signalfd(fd, &m2, 0) == fd);
  printf("poll with the new mask: 0x%x\n", poll_in(fd));
  read_pr("kill", fd, sizeof(struct signalfd_siginfo), getpid());
  union sigval v;
  v.sival_int = 42;
  sigqueue(getpid(), SIGRTMIN, v);
  v.sival_int = 43;
  sigqueue(getpid(), SIGRTMIN, v);
  raise(SIGUSR1);
  read_pr("three at once", fd, 4 * sizeof(struct signalfd_siginfo), getpid());
  pr_ret("write", write(fd, "x", 1));

  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77};
  printf("epoll_ctl: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  struct epoll_event out[2];
  printf("epoll_wait empty: %d\n", epoll_wait(ep, out, 2, 0));
  raise(SIGUSR2);
  int n = epoll_wait(ep, out, 2, 1000);
  printf("epoll_wait: %d events=0x%x data=%llu\n", n, n > 0 ? out[0].events : 0, n > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
  read_pr("after epoll", fd, sizeof(struct signalfd_siginfo), getpid());
  close(ep);

  pr_ret("bad size", syscall(SYS_signalfd4, -1, &m, 4, 0));
  pr_ret("bad flags", syscall(SYS_signalfd4, -1, &m, 8, 1));
  pr_ret("not a signalfd", syscall(SYS_signalfd4, 1, &m, 8, 0));
  pr_ret("closed fd", syscall(SYS_signalfd4, 900, &m, 8, 0));
  pr_ret("fd -2", syscall(SYS_signalfd4, -2, &m, 8, 0));
  pr_ret("bad mask address", syscall(SYS_signalfd4, -1, (void *)8, 8, 0));
  close(fd);
}

static volatile sig_atomic_t alrm;
static void on_alrm(int s) { (void)s; alrm++; }

/* A blocking read waits for a signal another process sends. */
static void blocking(void) {
  sigset_t m = set_of(SIGUSR1, 0, 0);
  int fd = signalfd(-1, &m, 0);
  pid_t c = fork();
  if (c == 0) {
    usleep(50000);
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  read_pr("blocking", fd, sizeof(struct signalfd_siginfo), c);
  int st;
  waitpid(c, &st, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alrm; /* no SA_RESTART: the handled signal makes the read EINTR */
  sigaction(SIGALRM, &sa, 0);
  struct itimerval it = {{0, 0}, {0, 30000}};
  setitimer(ITIMER_REAL, &it, 0);
  read_pr("interrupted by a handled SIGALRM", fd, sizeof(struct signalfd_siginfo), 0);
  printf("SIGALRM handled %d\n", (int)alrm);
  close(fd);
}

/* The fd is shared across fork; each process reads its own pending signals. */
static void across_fork(void) {
  sigset_t m = set_of(SIGUSR1, 0, 0);
  int fd = signalfd(-1, &m, SFD_NONBLOCK);
  raise(SIGUSR1); /* the parent's: fork does not copy pending signals */
  pid_t c = fork();
  if (c == 0) {
    read_pr("child before its own", fd, sizeof(struct signalfd_siginfo), 0);
    kill(getpid(), SIGUSR1);
    read_pr("child", fd, sizeof(struct signalfd_siginfo), getpid());
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  read_pr("parent after the child", fd, sizeof(struct signalfd_siginfo), getpid());
  close(fd);
}

/* A POSIX timer's signal read from a signalfd (SI_TIMER, the sigval). */
static void timer(void) {
  sigset_t m = set_of(SIGRTMIN + 1, 0, 0);
  sigprocmask(SIG_BLOCK, &m, 0);
  int fd = signalfd(-1, &m, 0);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN + 1;
  sev.sigev_value.sival_int = 7;
  timer_t t;
  timer_create(CLOCK_MONOTONIC, &sev, &t);
  struct itimerspec its = {{0, 0}, {0, 20000000}};
  timer_settime(t, 0, &its, 0);
  read_pr("timer", fd, sizeof(struct signalfd_siginfo), 0);
  timer_delete(t);
  close(fd);
}

/* systemd's way: SIGCHLD blocked, read from a signalfd, every child reaped with WNOHANG. */
static void reaper(void) {
  sigset_t m = set_of(SIGCHLD, 0, 0);
  sigprocmask(SIG_BLOCK, &m, 0);
  int fd = signalfd(-1, &m, SFD_CLOEXEC);
  for (int k = 1; k <= 3; k++) {
    if (fork() == 0) _exit(k);
  }
  int reaped = 0, codes = 0, bad = 0;
  while (reaped < 3) {
    struct signalfd_siginfo i;
    if (read(fd, &i, sizeof i) != sizeof i) {
      printf("reaper: read errno %d\n", errno);
      return;
    }
    if (i.ssi_signo != SIGCHLD || i.ssi_code != CLD_EXITED) bad++;
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
      reaped++;
      codes |= 1 << WEXITSTATUS(st);
    }
  }
  printf("reaper: reaped %d, exit codes mask 0x%x, records not CLD_EXITED SIGCHLD %d\n", reaped, codes, bad);
  close(fd);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  basics();
  blocking();
  across_fork();
  timer();
  reaper();
  return 0;
}
