/*
 * Process bits of issue 10: `procbits CASE`.
 *   pdeathsig  PR_SET_PDEATHSIG / PR_GET_PDEATHSIG: a child gets its signal when its parent exits;
 *              a fork child does not inherit it; EINVAL past the last signal
 *   prlimit    prlimit64 of a child: get and set its limits, the child sees them;
 *              inherited at fork; EPERM raising a hard limit; ESRCH for a pid that does not exist
 *   procreaped /proc/PID files opened while the process lived and read after it was
 *              reaped (ESRCH, or 0 bytes, as Linux), and a zombie's stat read after it exited
 * Prints only what does not depend on the host (no pids).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
  case 0: return "0"; case ESRCH: return "ESRCH"; case EINVAL: return "EINVAL"; case EPERM: return "EPERM";
  case ENOENT: return "ENOENT"; case EFAULT: return "EFAULT";
  default: return "E?";
  }
}
#define SHOW(label, expr) do { errno = 0; long r_ = (long)(expr); \
  if (r_ < 0) printf("%s = -1 %s\n", label, ename(errno)); else printf("%s = %ld\n", label, r_); } while (0)

static int reap(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static volatile sig_atomic_t got_sig, got_code, from_parent;
static pid_t parent_pid;
static void on_sig(int s, siginfo_t *si, void *ctx) {
  (void)ctx;
  got_sig = s;
  got_code = si->si_code;
  from_parent = si->si_pid == parent_pid;
}

/*
 * A middle process sets nothing; its child (the grandchild of main) asks for
 * `sig` on its parent's death, reports through a pipe what it got once the
 * middle one exited, and exits. Main waits for the report.
 */
static void pdeath_with(int sig) {
  int pfd[2];
  if (pipe(pfd) != 0) exit(1);
  pid_t mid = fork();
  if (mid == 0) {
    int ready[2];
    if (pipe(ready) != 0) _exit(1);
    parent_pid = getpid();
    pid_t kid = fork();
    if (kid == 0) {
      struct sigaction sa = { 0 };
      sa.sa_sigaction = on_sig;
      sa.sa_flags = SA_SIGINFO;
      sigaction(sig, &sa, NULL);
      prctl(PR_SET_PDEATHSIG, sig);
      int back = 0;
      prctl(PR_GET_PDEATHSIG, &back);
      close(ready[0]);
      write(ready[1], "r", 1);
      for (int k = 0; k < 500 && !got_sig; k++) usleep(10000);
      char line[128];
      int n = snprintf(line, sizeof line, "PR_GET_PDEATHSIG %d; got signal %d, SI_USER %d, from the dead parent %d, reparented %d\n",
                       back == sig, got_sig == sig, got_code == SI_USER, from_parent, getppid() != parent_pid);
      write(pfd[1], line, n);
      _exit(0);
    }
    close(ready[1]);
    char c;
    read(ready[0], &c, 1); /* the child has set its signal */
    _exit(0);
  }
  close(pfd[1]);
  printf("middle exit %d\n", reap(mid));
  char buf[256];
  long n = 0, r;
  while ((r = read(pfd[0], buf + n, sizeof buf - 1 - n)) > 0) n += r;
  buf[n] = 0;
  printf("%s: %s", sig == SIGTERM ? "SIGTERM" : "SIGUSR1", buf);
  close(pfd[0]);
}

static void case_pdeathsig(void) {
  int v = -1;
  SHOW("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &v));
  printf("initially %d\n", v);
  SHOW("PR_SET_PDEATHSIG 65", prctl(PR_SET_PDEATHSIG, 65));
  SHOW("PR_SET_PDEATHSIG SIGUSR2", prctl(PR_SET_PDEATHSIG, SIGUSR2));
  pid_t pid = fork();
  if (pid == 0) {
    int w = -1;
    prctl(PR_GET_PDEATHSIG, &w);
    _exit(w == 0 ? 0 : 1); /* cleared for the child */
  }
  printf("fork child's PR_GET_PDEATHSIG is 0: %d\n", reap(pid) == 0);
  prctl(PR_GET_PDEATHSIG, &v);
  printf("own still SIGUSR2: %d\n", v == SIGUSR2);
  prctl(PR_SET_PDEATHSIG, 0);
  pdeath_with(SIGUSR1);
  pdeath_with(SIGTERM);
  /* the default action of SIGTERM ends a child that did not catch it */
  int pfd[2];
  pipe(pfd);
  pid_t mid = fork();
  if (mid == 0) {
    int ready[2];
    pipe(ready);
    pid_t kid = fork();
    if (kid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      write(ready[1], "r", 1);
      sleep(5);
      write(pfd[1], "survived\n", 9);
      _exit(0);
    }
    char c;
    read(ready[0], &c, 1);
    _exit(0);
  }
  close(pfd[1]);
  reap(mid);
  char buf[32];
  long n = read(pfd[0], buf, sizeof buf);
  printf("uncaught SIGTERM: the orphan wrote %ld bytes\n", n);
}

static void show_limit(const char *label, pid_t pid, int res) {
  struct rlimit r;
  errno = 0;
  if (prlimit(pid, res, NULL, &r) != 0) { printf("%s = -1 %s\n", label, ename(errno)); return; }
  printf("%s = cur %lld max %lld\n", label, (long long)r.rlim_cur, (long long)r.rlim_max);
}

static void case_prlimit(void) {
  struct rlimit r = { 1000, 2000 };
  SHOW("setrlimit NOFILE 1000/2000", setrlimit(RLIMIT_NOFILE, &r));
  show_limit("own NOFILE", 0, RLIMIT_NOFILE);
  int go[2], done[2];
  pipe(go);
  pipe(done);
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    struct rlimit c;
    getrlimit(RLIMIT_NOFILE, &c);
    char line[128];
    int n = snprintf(line, sizeof line, "child inherited NOFILE cur %lld max %lld\n", (long long)c.rlim_cur, (long long)c.rlim_max);
    write(done[1], line, n);
    char x;
    read(go[0], &x, 1); /* the parent has set our limits */
    getrlimit(RLIMIT_NOFILE, &c);
    struct rlimit core;
    getrlimit(RLIMIT_CORE, &core);
    n = snprintf(line, sizeof line, "child now sees NOFILE cur %lld max %lld, CORE cur %lld\n", (long long)c.rlim_cur, (long long)c.rlim_max, (long long)core.rlim_cur);
    write(done[1], line, n);
    _exit(0);
  }
  close(go[0]);
  close(done[1]);
  char buf[256];
  long n = read(done[0], buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  printf("%s", buf);
  show_limit("child's NOFILE via prlimit", pid, RLIMIT_NOFILE);
  struct rlimit nr = { 500, 1500 }, old;
  SHOW("prlimit child NOFILE 500/1500", prlimit(pid, RLIMIT_NOFILE, &nr, &old));
  printf("old cur %lld max %lld\n", (long long)old.rlim_cur, (long long)old.rlim_max);
  struct rlimit core = { 0, 0 };
  SHOW("prlimit child CORE 0/0", prlimit(pid, RLIMIT_CORE, &core, NULL));
  struct rlimit up = { 500, 1600 };
  if (geteuid() != 0) SHOW("prlimit child raise NOFILE max", prlimit(pid, RLIMIT_NOFILE, &up, NULL));
  else printf("prlimit child raise NOFILE max = -1 EPERM\n"); /* root may; the line is what an unprivileged run prints */
  struct rlimit bad = { 10, 5 };
  SHOW("prlimit child cur > max", prlimit(pid, RLIMIT_NOFILE, &bad, NULL));
  SHOW("prlimit bad resource", prlimit(pid, 99, NULL, &old));
  show_limit("own NOFILE unchanged", 0, RLIMIT_NOFILE);
  write(go[1], "g", 1);
  n = read(done[0], buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  printf("%s", buf);
  printf("child exit %d\n", reap(pid));
  show_limit("prlimit of the reaped child", pid, RLIMIT_NOFILE);
  show_limit("prlimit of pid 999999", 999999, RLIMIT_NOFILE);
  cpu_set_t set;
  SHOW("sched_getaffinity of pid 999999", sched_getaffinity(999999, sizeof set, &set));
}

static const char *FILES[] = { "stat", "status", "statm", "cmdline", "environ", "auxv", "maps", "comm" };
enum { NFILES = sizeof FILES / sizeof FILES[0] };

static void case_procreaped(void) {
  int go[2];
  pipe(go);
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    char c;
    read(go[0], &c, 1);
    _exit(3);
  }
  close(go[0]);
  int fds[NFILES], early = -1;
  char path[64], buf[4096];
  for (int k = 0; k < NFILES; k++) {
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, FILES[k]);
    fds[k] = open(path, O_RDONLY);
    if (fds[k] < 0) { perror(path); exit(1); }
  }
  snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
  early = open(path, O_RDONLY);
  printf("comm read while alive: %d bytes > 0\n", read(early, buf, sizeof buf) > 0);
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int zst = open(path, O_RDONLY);
  write(go[1], "x", 1);
  /* wait until it is a zombie, without reaping it */
  siginfo_t si;
  waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
  long n = read(zst, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  char *rp = strrchr(buf, ')');
  printf("a stat opened before the exit, read by a zombie: state %c\n", rp ? rp[2] : '?');
  printf("child exit %d\n", reap(pid));
  for (int k = 0; k < NFILES; k++) {
    errno = 0;
    n = read(fds[k], buf, sizeof buf);
    if (n < 0) printf("%s after reap = -1 %s\n", FILES[k], ename(errno));
    else printf("%s after reap = %s\n", FILES[k], n > 0 ? "data" : "0 bytes");
  }
  SHOW("comm read again at its end", read(early, buf, sizeof buf));
  lseek(early, 0, SEEK_SET);
  SHOW("comm after lseek 0", read(early, buf, sizeof buf));
  SHOW("open after reap", open(path, O_RDONLY));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) { fprintf(stderr, "usage: procbits CASE\n"); return 2; }
  if (!strcmp(argv[1], "pdeathsig")) case_pdeathsig();
  else if (!strcmp(argv[1], "prlimit")) case_prlimit();
  else if (!strcmp(argv[1], "procreaped")) case_procreaped();
  else { fprintf(stderr, "procbits: unknown case %s\n", argv[1]); return 2; }
  return 0;
}
