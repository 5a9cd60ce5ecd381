/* A fork inside a probed function (test/process-probes.test.ts): spawn_in()
 * forks, so parent and child both return through it (a return probe on it
 * must see two returns, and neither process may come back to a corrupted
 * return address); each process says so after the return (the parent after
 * the child has ended). Then the child calls leaf() twice and the parent three times. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) long leaf(long x) { return x * 5 + 2; }

__attribute__((noinline)) long spawn_in(long x) {
  pid_t c = fork();
  volatile long local = x * 7; /* live across the fork, read after it */
  return c == 0 ? local + 1 : local;
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  long r = spawn_in(6);
  int child = r == 43;
  if (!child) wait(0); /* the child speaks first, so the output's order does not depend on the scheduler */
  printf("%s returned from spawn_in: %ld\n", child ? "child" : "parent", r);
  long s = 0;
  for (int i = 0; i < (child ? 2 : 3); i++) s += leaf(i);
  printf("%s leaf sum %ld\n", child ? "child" : "parent", s);
  if (child) _exit(0);
  return 0;
}
