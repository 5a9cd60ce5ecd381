/* Bad input to process calls (test/process-errors.test.ts), one case per
 * argv[1]; each prints the errno names (or statuses) the calls got, never a
 * pid (pids differ between native and faultline):
 *   exec-child  a forked child execs bad files (missing, a directory, no x
 *               bit, a truncated ELF, an ELF for another machine): the errno
 *               in the exec'ing child, the status its parent sees
 *   wait        waits that have no child to wait for
 *   kill        kills of processes and groups that do not exist, and of a zombie */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *name(int e) {
  switch (e) {
    case 0: return "ok";
    case ENOENT: return "ENOENT";
    case ENOEXEC: return "ENOEXEC";
    case EACCES: return "EACCES";
    case ECHILD: return "ECHILD";
    case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL";
    case EIO: return "EIO";
    default: return strerror(e);
  }
}

/* Runs `expr` and prints its result with the errno it left (read after the call). */
#define TRY(label, expr) do { errno = 0; long r_ = (expr); int e_ = errno; printf("%s: %ld %s\n", label, r_, name(e_)); } while (0)

static void status(const char *what, int st) {
  if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) printf("%s: killed by signal %d\n", what, WTERMSIG(st));
  else printf("%s: status 0x%x\n", what, st);
}

/* A file in `dir` named `n` holding `len` bytes of `src` (with e_machine set to `machine` unless 0), mode `mode`. */
static void make(const char *dir, const char *n, const char *src, long len, int machine, int mode, char *out) {
  static char buf[1 << 20];
  int in = open(src, O_RDONLY);
  long got = read(in, buf, sizeof buf);
  close(in);
  if (len < 0 || len > got) len = got;
  if (machine) { buf[18] = machine & 0xff; buf[19] = machine >> 8; }
  sprintf(out, "%s/%s", dir, n);
  int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, mode);
  write(fd, buf, len);
  close(fd);
  chmod(out, mode);
}

static void exec_child(const char *label, const char *path) {
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    char *argv[] = {(char *)path, 0};
    execve(path, argv, 0);
    int e = errno;
    printf("%s: execve in the child: %s\n", label, name(e));
    fflush(stdout);
    _exit(e == ENOENT ? 127 : 126);
  }
  int st;
  waitpid(c, &st, 0);
  status(label, st);
}

static int exec_cases(const char *self) {
  char dir[] = "/tmp/procerr-XXXXXX", p[4096];
  if (!mkdtemp(dir)) return 1;
  sprintf(p, "%s/missing", dir);
  exec_child("missing file", p);
  exec_child("a directory", dir);
  make(dir, "nox", self, -1, 0, 0644, p);
  exec_child("no execute bit", p);
  make(dir, "cut", self, 40, 0, 0755, p);
  exec_child("an ELF cut inside its header (40 bytes)", p);
  make(dir, "cutph", self, 100, 0, 0755, p);
  exec_child("an ELF cut inside its program headers (100 bytes)", p);
  make(dir, "arm", self, -1, 40, 0755, p); /* EM_ARM */
  exec_child("an ELF for 32-bit ARM", p);
  make(dir, "i386", self, -1, 3, 0755, p); /* EM_386 */
  exec_child("an ELF for i386", p);
  char cmd[4200];
  sprintf(cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : 1;
}

static void wait_cases(void) {
  int st;
  TRY("wait, no children", wait(&st));
  TRY("waitpid(-1, WNOHANG), no children", waitpid(-1, &st, WNOHANG));
  TRY("waitpid(parent)", waitpid(getppid(), &st, 0));
  TRY("waitpid(self)", waitpid(getpid(), &st, 0));
  TRY("waitpid(1)", waitpid(1, &st, WNOHANG));
  TRY("waitpid(-999999) (no such group)", waitpid(-999999, &st, 0));
  siginfo_t si;
  TRY("waitid(P_PID, self)", waitid(P_PID, getpid(), &si, WEXITED));
  TRY("waitid(P_ALL), no children", waitid(P_ALL, 0, &si, WEXITED));
  /* A grandchild is not a child: the child forks one and waits for it; we may not. */
  /* fd carries the grandchild's pid to us; hold keeps the grandchild alive until we close its write end
     (two pipes: a grandchild reading the pid pipe could take bytes of the pid). */
  int fd[2], hold[2];
  pipe(fd);
  pipe(hold);
  pid_t c = fork();
  if (c == 0) {
    pid_t g = fork();
    if (g == 0) { char b; close(hold[1]); read(hold[0], &b, 1); _exit(0); }
    close(hold[1]); /* the grandchild sees EOF once the parent closes its end too */
    write(fd[1], &g, sizeof g);
    int s;
    waitpid(g, &s, 0);
    _exit(0);
  }
  pid_t g;
  read(fd[0], &g, sizeof g);
  TRY("waitpid(grandchild)", waitpid(g, &st, WNOHANG));
  close(hold[1]);
  close(hold[0]);
  close(fd[1]);
  close(fd[0]);
  waitpid(c, &st, 0);
  status("child", st);
  TRY("waitpid(the reaped child)", waitpid(c, &st, 0));
}

static void kill_cases(void) {
  TRY("kill(999999, 0)", kill(999999, 0));
  TRY("kill(999999, SIGTERM)", kill(999999, SIGTERM));
  TRY("kill(-999999, 0) (no such group)", kill(-999999, 0));
  TRY("kill(INT_MIN, 0)", kill(INT_MIN, 0));
  TRY("kill(self, 99) (no such signal)", kill(getpid(), 99));
  pid_t c = fork();
  if (c == 0) _exit(5);
  siginfo_t si;
  waitid(P_PID, c, &si, WEXITED | WNOWAIT); /* a zombie now, not reaped */
  TRY("kill(zombie child, 0)", kill(c, 0));
  TRY("kill(zombie child, SIGKILL)", kill(c, SIGKILL));
  int st;
  waitpid(c, &st, 0);
  status("zombie", st);
  TRY("kill(reaped child, 0)", kill(c, 0));
}

int main(int argc, char **argv) {
  setvbuf(stdout, 0, _IOLBF, 0);
  if (argc < 2) return 2;
  if (strcmp(argv[1], "exec-child") == 0) return exec_cases("/proc/self/exe");
  if (strcmp(argv[1], "wait") == 0) wait_cases();
  else if (strcmp(argv[1], "kill") == 0) kill_cases();
  else return 2;
  return 0;
}
