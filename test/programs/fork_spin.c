/*
 * Preemption between processes: after fork, one side busy-waits (no system
 * call) on a flag in shared memory that only the other side sets. Natively
 * both run; under faultline the spinner must be preempted so the other runs.
 * Both directions: the parent spins right after fork, then the child spins.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void spin_until(volatile int *flag, int want) {
  while (*flag != want) {
  }
}

int main(void) {
  volatile int *flag = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (flag == MAP_FAILED) return 1;
  int st;
  pid_t pid = fork();
  if (pid == 0) { *flag = 1; _exit(0); }
  spin_until(flag, 1); /* the parent spins: the child must get the CPU */
  waitpid(pid, &st, 0);
  printf("parent spun until the child set the flag: status %d\n", WEXITSTATUS(st));
  pid = fork();
  if (pid == 0) { spin_until(flag, 2); _exit(3); } /* the child spins: the parent must get the CPU */
  *flag = 2;
  waitpid(pid, &st, 0);
  printf("child spun until the parent set the flag: status %d\n", WEXITSTATUS(st));
  return 0;
}
