/* Exec of a probed binary from a probed one (test/process-probes.test.ts):
 * calls hello() three times, then go() execs argv[1] with argv[2] as its
 * argument. go() never returns (a return probe on it must count 0 and the
 * new image must not inherit its pending return). */
#include <stdio.h>
#include <unistd.h>

__attribute__((noinline)) long hello(long x) { return x + 1; }

__attribute__((noinline)) void go(char *prog, char *arg) {
  execl(prog, prog, arg, (char *)0);
  perror("execl");
}

int main(int argc, char **argv) {
  volatile long s = 0;
  for (int i = 0; i < 3; i++) s += hello(i);
  printf("hello sum %ld\n", s);
  fflush(stdout);
  if (argc > 2) go(argv[1], argv[2]);
  return 1;
}
