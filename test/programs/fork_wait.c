/* fork, pipe, waitpid and exit statuses: a child writes through a pipe and
 * exits 3, its private memory changes stay its own, three more children end
 * by _exit(0), _exit(1) and abort(); then wait errors. Run natively and under
 * faultline by test/process-fork.test.ts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int g = 5;

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  char *heap = malloc(100);
  strcpy(heap, "parent");
  int fd[2];
  pipe(fd);
  pid_t c = fork();
  if (c == 0) {
    g = 6;
    strcpy(heap, "child");
    close(fd[0]);
    write(fd[1], "hello from child", 16);
    printf("child g=%d heap=%s ppid_ok=%d\n", g, heap, getppid() > 0);
    _exit(3);
  }
  close(fd[1]);
  char buf[64] = {0};
  int n = read(fd[0], buf, 63);
  int eof = read(fd[0], buf + 32, 1);
  int st;
  pid_t w = waitpid(c, &st, 0);
  printf("parent read %d '%s' eof %d g=%d heap=%s waited_ok=%d exited=%d code=%d\n", n, buf, eof, g, heap, w == c, WIFEXITED(st), WEXITSTATUS(st));
  for (int i = 0; i < 3; i++) {
    pid_t k = fork();
    if (!k) {
      if (i == 2) abort();
      _exit(i);
    }
    int s;
    waitpid(k, &s, 0);
    printf("child %d: exited %d code %d signaled %d sig %d core %d\n", i, WIFEXITED(s), WEXITSTATUS(s), WIFSIGNALED(s), WTERMSIG(s), WCOREDUMP(s));
  }
  pid_t k = fork();
  if (!k) { pause(); _exit(9); }
  kill(k, SIGTERM);
  waitpid(k, &st, 0);
  printf("killed child: signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
  printf("wait with no child: %d %s\n", wait(&st), errno == ECHILD ? "ECHILD" : "other");
  printf("kill of no process: %d %s\n", kill(999999, 0), errno == ESRCH ? "ESRCH" : "other");
  return 0;
}
