/* A probed function called in a parent (3 times) and in its fork child
 * (2 times): test/process-fork.test.ts counts the probe's hits. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int work(int x) { return x * 3 + 1; }

int main(void) {
  volatile int s = 0;
  pid_t c = fork();
  int n = c == 0 ? 2 : 3;
  for (int i = 0; i < n; i++) s += work(i);
  if (c == 0) _exit(0);
  wait(0);
  printf("%d\n", s);
  return 0;
}
