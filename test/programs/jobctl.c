/* Job control: a parent stops and continues its children and checks what
 * waitpid, waitid and SIGCHLD's siginfo report; SIGCONT and stop signals
 * discard each other's pending instances; SA_NOCLDSTOP; SIGKILL ends a
 * stopped child; SIGTSTP/SIGTTIN in an orphaned process group (after
 * setsid) are discarded while SIGSTOP stops. Run natively and under
 * faultline by test/signal-jobctl.test.ts; every line is deterministic. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void pr_status(const char *what, pid_t got, pid_t want, int st) {
  printf("%s: pid_ok=%d status=0x%x stopped=%d stopsig=%d continued=%d signaled=%d termsig=%d exited=%d\n", what,
         got == want, st, WIFSTOPPED(st), WIFSTOPPED(st) ? WSTOPSIG(st) : 0, WIFCONTINUED(st), WIFSIGNALED(st),
         WIFSIGNALED(st) ? WTERMSIG(st) : 0, WIFEXITED(st));
}

/* Runs a wait call, then prints the status it stored (the call first: argument order is unspecified). */
#define WAITPR(what, call, want) do { pid_t w_ = (call); pr_status(what, w_, want, st); } while (0)

static void pr_info(const char *what, const siginfo_t *si, pid_t want) {
  printf("%s: signo=%d code=%d status=%d pid_ok=%d\n", what, si->si_signo, si->si_code, si->si_status, si->si_pid == want);
}

/* Waits for the SIGCHLD the parent keeps blocked, and prints its siginfo. */
static void chld(const char *what, pid_t want) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGCHLD);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = sigwaitinfo(&s, &si);
  if (r < 0) printf("%s: sigwaitinfo errno %d\n", what, errno);
  else pr_info(what, &si, want);
}

/* A child in a process group of its own: its parent, in another group of
 * the session, keeps the group from being orphaned, so SIGTSTP stops it
 * whatever group the test itself was started in. */
static pid_t spin_child(void) {
  pid_t c = fork();
  if (c == 0) {
    setpgid(0, 0);
    for (;;) pause();
  }
  setpgid(c, c);
  return c;
}

/* Stop, continue, stop with SIGTSTP, WNOWAIT, SIGKILL while stopped. */
static void stop_continue(void) {
  pid_t c = spin_child();
  int st = 0;
  kill(c, SIGSTOP);
  WAITPR("waitpid WUNTRACED", waitpid(c, &st, WUNTRACED), c);
  chld("SIGCHLD stop", c);
  st = 0;
  printf("waitpid WUNTRACED|WNOHANG again: %d\n", waitpid(c, &st, WUNTRACED | WNOHANG));
  kill(c, SIGCONT);
  st = 0;
  WAITPR("waitpid WCONTINUED", waitpid(c, &st, WCONTINUED), c);
  chld("SIGCHLD continue", c);
  siginfo_t si;
  memset(&si, 0xff, sizeof si);
  int r = waitid(P_PID, c, &si, WSTOPPED | WCONTINUED | WNOHANG);
  printf("waitid nothing ready: r=%d pid=%d\n", r, si.si_pid);
  kill(c, SIGTSTP);
  memset(&si, 0, sizeof si);
  r = waitid(P_PID, c, &si, WSTOPPED | WNOWAIT);
  pr_info("waitid WSTOPPED|WNOWAIT", &si, c);
  memset(&si, 0, sizeof si);
  r = waitid(P_ALL, 0, &si, WSTOPPED);
  pr_info("waitid WSTOPPED", &si, c);
  chld("SIGCHLD tstp", c);
  kill(c, SIGCONT);
  memset(&si, 0, sizeof si);
  r = waitid(P_PID, c, &si, WCONTINUED);
  pr_info("waitid WCONTINUED", &si, c);
  chld("SIGCHLD continue 2", c);
  kill(c, SIGSTOP);
  st = 0;
  WAITPR("stopped again", waitpid(c, &st, WUNTRACED), c);
  chld("SIGCHLD stop 2", c);
  kill(c, SIGKILL);
  st = 0;
  WAITPR("killed while stopped", waitpid(c, &st, 0), c);
  chld("SIGCHLD killed", c);
}

/* The child reports its own pending set, with SIGCONT and SIGTSTP blocked. */
static void pending_discard(void) {
  int go[2], done[2];
  pipe(go);
  pipe(done);
  sigset_t b;
  sigemptyset(&b);
  sigaddset(&b, SIGCONT);
  sigaddset(&b, SIGTSTP);
  sigprocmask(SIG_BLOCK, &b, 0);
  pid_t c = fork();
  if (c == 0) {
    char x;
    for (int round = 0; round < 2; round++) {
      read(go[0], &x, 1);
      sigset_t p;
      sigpending(&p);
      printf("child round %d: CONT pending=%d TSTP pending=%d\n", round, sigismember(&p, SIGCONT), sigismember(&p, SIGTSTP));
      write(done[1], "k", 1);
    }
    _exit(0);
  }
  sigprocmask(SIG_UNBLOCK, &b, 0);
  sigaddset(&b, SIGCHLD); /* keep SIGCHLD blocked as main set it */
  char x;
  kill(c, SIGCONT);
  kill(c, SIGTSTP); /* discards the pending SIGCONT */
  write(go[1], "g", 1);
  read(done[0], &x, 1);
  kill(c, SIGCONT); /* discards the pending SIGTSTP */
  write(go[1], "g", 1);
  read(done[0], &x, 1);
  int st = 0;
  WAITPR("pending child", waitpid(c, &st, 0), c);
  chld("SIGCHLD pending child", c);
}

static volatile sig_atomic_t chld_count;
static void on_chld(int s) { (void)s; chld_count++; }

/* SA_NOCLDSTOP: no SIGCHLD for the stop and the continue, one at the exit. */
static void nocldstop(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_chld;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, 0);
  sigset_t b;
  sigemptyset(&b);
  sigaddset(&b, SIGCHLD);
  sigprocmask(SIG_UNBLOCK, &b, 0);
  chld_count = 0;
  pid_t c = spin_child();
  int st = 0;
  kill(c, SIGSTOP);
  WAITPR("nocldstop stop", waitpid(c, &st, WUNTRACED), c);
  kill(c, SIGCONT);
  WAITPR("nocldstop cont", waitpid(c, &st, WCONTINUED), c);
  printf("nocldstop: SIGCHLD handled %d times before the exit\n", (int)chld_count);
  kill(c, SIGTERM);
  WAITPR("nocldstop end", waitpid(c, &st, 0), c);
  printf("nocldstop: SIGCHLD handled %d times after the exit\n", (int)chld_count);
  sigprocmask(SIG_BLOCK, &b, 0);
  signal(SIGCHLD, SIG_DFL);
}

/* An orphaned process group (a new session): SIGTSTP and SIGTTIN are discarded, SIGSTOP stops. */
static void orphaned(void) {
  int ready[2];
  pipe(ready);
  pid_t c = fork();
  if (c == 0) {
    setsid();
    raise(SIGTSTP);
    raise(SIGTTIN);
    printf("orphaned child: SIGTSTP and SIGTTIN discarded\n");
    write(ready[1], "r", 1);
    raise(SIGSTOP);
    printf("orphaned child: continued after SIGSTOP\n");
    _exit(7);
  }
  char x;
  read(ready[0], &x, 1);
  int st = 0;
  WAITPR("orphaned stop", waitpid(c, &st, WUNTRACED), c);
  chld("SIGCHLD orphaned stop", c);
  kill(c, SIGCONT);
  WAITPR("orphaned end", waitpid(c, &st, 0), c);
  chld("SIGCHLD orphaned end", c); /* CLD_CONTINUED and CLD_EXITED coalesce or come in turn */
}

static int cont_pipe;
static void on_cont(int s) {
  (void)s;
  write(cont_pipe, "c", 1);
}

/* A SIGCONT handler runs once the stopped child is continued, and also when it was not stopped. */
static void cont_handler(void) {
  int p[2];
  pipe(p);
  pid_t c = fork();
  if (c == 0) {
    cont_pipe = p[1];
    signal(SIGCONT, on_cont);
    write(p[1], "r", 1);
    for (;;) pause();
  }
  char x[2] = {0};
  read(p[0], x, 1);
  kill(c, SIGCONT); /* not stopped: only the handler */
  read(p[0], x, 1);
  printf("SIGCONT to a running child: handler wrote '%c'\n", x[0]);
  int st = 0;
  kill(c, SIGSTOP);
  WAITPR("cont handler stop", waitpid(c, &st, WUNTRACED), c);
  chld("SIGCHLD cont handler stop", c);
  kill(c, SIGCONT);
  read(p[0], x, 1);
  printf("SIGCONT to the stopped child: handler wrote '%c'\n", x[0]);
  chld("SIGCHLD cont handler continue", c);
  kill(c, SIGKILL);
  WAITPR("cont handler end", waitpid(c, &st, 0), c);
  chld("SIGCHLD cont handler end", c);
}

static void on_cont_quiet(int s) { (void)s; }

/* A child stopped inside a blocking read, continued with a SIGCONT handler:
 * without SA_RESTART the read is EINTR, with it the read goes on (the
 * restart rules apply when it resumes, cf. get_signal after the stop). */
static void cont_restart(int flags) {
  int data[2], res[2];
  pipe(data);
  pipe(res);
  pid_t c = fork();
  if (c == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_cont_quiet;
    sa.sa_flags = flags;
    sigaction(SIGCONT, &sa, 0);
    write(res[1], "r", 1);
    char b[8];
    ssize_t n = read(data[0], b, sizeof b);
    int e = errno;
    dprintf(res[1], "read %zd errno %d", n, n < 0 ? e : 0);
    _exit(0);
  }
  char x[64] = {0};
  read(res[0], x, 1);
  usleep(300000); /* natively the child must be inside read(); nothing tells the parent when it is */
  int st = 0;
  kill(c, SIGSTOP);
  WAITPR("restart stop", waitpid(c, &st, WUNTRACED), c);
  chld("SIGCHLD restart stop", c);
  kill(c, SIGCONT); /* no waitpid(WCONTINUED) here: the child may already have exited, and an exit is reported first */
  chld("SIGCHLD restart continue", c);
  write(data[1], "data", 4); /* after the SIGCONT was handled (its CLD_CONTINUED came first) */
  ssize_t n = read(res[0], x, sizeof x - 1);
  x[n > 0 ? n : 0] = 0;
  printf("child stopped in read, SIGCONT handler %s: %s\n", flags & SA_RESTART ? "with SA_RESTART" : "without SA_RESTART", x);
  WAITPR("restart end", waitpid(c, &st, 0), c);
  /* The exit's SIGCHLD may have merged with the CLD_CONTINUED one, depending on who ran first: drop it unprinted. */
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGCHLD);
  struct timespec zero = {0, 0};
  sigtimedwait(&s, 0, &zero);
}

static volatile sig_atomic_t hup_seen;
static void on_hup(int s) { (void)s; hup_seen++; }

/* A stopped group left orphaned by the exit of the process that tied it to
 * its session gets SIGHUP and SIGCONT (cf. kill_orphaned_pgrp): A leads a
 * new session, its child G goes to its own group and stops; A exits. */
static void hup_orphaned(void) {
  int out[2];
  pipe(out);
  pid_t a = fork();
  if (a == 0) {
    setsid();
    pid_t g = fork();
    if (g == 0) {
      close(out[0]);
      setpgid(0, 0);
      signal(SIGHUP, on_hup);
      raise(SIGSTOP);
      dprintf(out[1], "G: continued, SIGHUP seen %d\n", (int)hup_seen);
      _exit(0);
    }
    int st;
    waitpid(g, &st, WUNTRACED);
    dprintf(out[1], "A: G stopped=%d; A exits\n", WIFSTOPPED(st));
    _exit(0);
  }
  close(out[1]);
  char buf[256];
  ssize_t n, total = 0;
  while ((n = read(out[0], buf + total, sizeof buf - 1 - total)) > 0) total += n;
  buf[total] = 0;
  printf("%s", buf);
  int st;
  waitpid(a, &st, 0);
  chld("SIGCHLD A", a);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  sigset_t b;
  sigemptyset(&b);
  sigaddset(&b, SIGCHLD);
  sigprocmask(SIG_BLOCK, &b, 0);
  stop_continue();
  pending_discard();
  nocldstop();
  orphaned();
  hup_orphaned();
  cont_handler();
  cont_restart(0);
  cont_restart(SA_RESTART);
  return 0;
}
