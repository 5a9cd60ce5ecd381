/* Many children created and reaped (test/process-memory.test.ts):
 *   fork_many seq N [PROG]     N children one after another, each _exit(0) (or exec PROG), each reaped
 *   fork_many batch N B [PROG] N children in batches of B alive at once, reaped after each batch
 * After the first 100 children and after the last, prints "mark K" and
 * waits for one byte on stdin, so that whoever runs it can measure the
 * process that runs it (the test reads faultline's RSS at each mark).
 * Exits 0 when every child was reaped with status 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *prog;

static void mark(int k) {
  char b;
  printf("mark %d\n", k);
  fflush(stdout);
  if (read(0, &b, 1) != 1) exit(3);
}

static pid_t child(const int *hold) {
  pid_t c = fork();
  if (c == 0) {
    if (hold) { char b; close(hold[1]); read(hold[0], &b, 1); } /* blocks until the batch is released (EOF) */
    if (prog) { execl(prog, prog, (char *)0); _exit(127); }
    _exit(0);
  }
  return c;
}

static int reap(pid_t c) {
  int st;
  return waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int n = atoi(argv[2]), ok = 0, done = 0;
  if (strcmp(argv[1], "seq") == 0) {
    prog = argc > 3 ? argv[3] : 0;
    for (int i = 1; i <= n; i++) {
      pid_t c = child(0);
      ok += c > 0 && reap(c);
      if (i == 100 || i == n) mark(i);
    }
  } else {
    int b = argc > 3 ? atoi(argv[3]) : 50;
    prog = argc > 4 ? argv[4] : 0;
    pid_t kids[1024];
    while (done < n) {
      int fd[2];
      if (pipe(fd) != 0) return 4;
      int k = 0;
      for (; k < b && done + k < n; k++) if ((kids[k] = child(fd)) < 0) return 5;
      close(fd[0]);
      close(fd[1]); /* every child of the batch is alive now: release them */
      for (int j = 0; j < k; j++) ok += reap(kids[j]);
      done += k;
      if (done == 100 || done == n) mark(done);
    }
  }
  printf("%d of %d reaped with status 0\n", ok, n);
  return ok == n ? 0 : 1;
}
