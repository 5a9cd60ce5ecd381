/* Probe hits per process: the parent forks N children (argv[1], default 2);
 * child k calls work() k + 2 times, the parent once; each process prints
 * "pid P calls K", its own count of its real calls of work(), which
 * test/process-pids.test.ts compares with faultline's per-pid hit counts. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int work(int x) { return x * 3 + 1; }

static void run(int calls) {
  volatile int s = 0;
  for (int i = 0; i < calls; i++) s += work(i);
  printf("pid %d calls %d\n", getpid(), calls);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2;
  for (int k = 0; k < n; k++) {
    pid_t c = fork();
    if (c == 0) {
      run(k + 2);
      _exit(0);
    }
    waitpid(c, 0, 0);
  }
  run(1);
  return 0;
}
