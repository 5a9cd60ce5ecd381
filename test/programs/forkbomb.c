/* A bounded fork bomb (test/process-limits.test.ts): forks children that
 * block on a pipe until fork fails, then reports the errno, the count and
 * getrlimit(RLIMIT_NPROC), lets every child go and reaps them all. Run
 * natively as an unprivileged user under `ulimit -u N`, and under faultline
 * with --max-procs N: both must print the same (Linux's fork(2): EAGAIN once
 * the user has RLIMIT_NPROC processes). Stops by itself at 100000 children,
 * so a run without any limit still ends. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  int fd[2];
  if (pipe(fd) != 0) { perror("pipe"); return 1; }
  int made = 0, err = 0;
  while (made < 100000) {
    pid_t c = fork();
    if (c < 0) { err = errno; break; }
    if (c == 0) {
      char b;
      close(fd[1]);
      _exit(read(fd[0], &b, 1) == 0 ? 0 : 9); /* EOF once the parent closes its end */
    }
    made++;
  }
  struct rlimit rl;
  getrlimit(RLIMIT_NPROC, &rl);
  printf("fork failed: %s after %d children\n", err == EAGAIN ? "EAGAIN" : strerror(err), made);
  printf("RLIMIT_NPROC cur=%llu max=%llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  close(fd[1]);
  int reaped = 0, bad = 0, st;
  pid_t w;
  while ((w = wait(&st)) > 0) {
    reaped++;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) bad++;
  }
  printf("reaped %d (%d not exit 0), then %s\n", reaped, bad, errno == ECHILD ? "ECHILD" : strerror(errno));
  /* After the reaping there is room again: one more fork works. */
  pid_t c = fork();
  if (c == 0) _exit(4);
  waitpid(c, &st, 0);
  printf("fork after reaping: %s, status %d\n", c > 0 ? "ok" : strerror(errno), WEXITSTATUS(st));
  return err == EAGAIN && reaped == made && bad == 0 ? 0 : 1;
}
