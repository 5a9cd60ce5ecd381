/* bench/processes.ts's guest: times its own loops with clock_gettime and
 * prints one JSON line {"mode":M,"n":N,"ns":T,"count":C,"startNs":S}.
 *
 *   processes fork N        N x (fork -> the child _exits(0) -> waitpid)
 *   processes exec N PROG [ARG...]   N x (fork -> the child execs PROG -> waitpid)
 *   processes spawn N PROG [ARG...]  as exec, with a pipe to the parent at the
 *                           child's fd 3: PROG is this program with "stamp"
 *                           (perhaps behind qemu-x86_64), whose main() writes
 *                           the time there
 *   processes stamp         (internal) writes CLOCK_MONOTONIC ns to fd 3
 *
 * count is the number of children reaped with exit status 0 (N for a good
 * run: the bench refuses any other). startNs is the mean time from just
 * before fork() to the child's first timestamp: in fork mode the child's
 * first instruction after fork returns (written to a MAP_SHARED page), in
 * spawn mode the exec'd program's main() (libc start-up included); 0 in exec
 * mode. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Reaps `pid`; 1 when it exited with status 0. */
static int reaped_ok(pid_t pid) {
  int st;
  return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "stamp") == 0) {
    long long t = now_ns();
    return write(3, &t, sizeof t) == sizeof t ? 0 : 1;
  }
  if (argc < 3) { fprintf(stderr, "usage: processes fork N | exec N PROG [ARG...] | spawn N PROG [ARG...]\n"); return 2; }
  const char *mode = argv[1];
  long n = atol(argv[2]), count = 0;
  long long start_sum = 0;
  volatile long long *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return 3;
  shared[0] = 0; /* touched before the first fork: faultline 2026-12-02 does not share an untouched MAP_SHARED anonymous page with a child */
  long long t0 = now_ns();
  for (long k = 0; k < n; k++) {
    if (strcmp(mode, "fork") == 0) {
      long long before = now_ns();
      pid_t pid = fork();
      if (pid == 0) { shared[0] = now_ns(); _exit(0); }
      if (pid < 0) return 4;
      count += reaped_ok(pid);
      start_sum += shared[0] - before;
    } else if (strcmp(mode, "exec") == 0 && argc >= 4) {
      pid_t pid = fork();
      if (pid == 0) { execv(argv[3], argv + 3); _exit(127); }
      if (pid < 0) return 4;
      count += reaped_ok(pid);
    } else if (strcmp(mode, "spawn") == 0 && argc >= 4) {
      int fds[2];
      if (pipe(fds) != 0) return 5;
      long long before = now_ns();
      pid_t pid = fork();
      if (pid == 0) {
        if (dup2(fds[1], 3) != 3) _exit(126);
        execv(argv[3], argv + 3);
        _exit(127);
      }
      if (pid < 0) return 4;
      close(fds[1]);
      long long t = 0;
      if (read(fds[0], &t, sizeof t) != sizeof t) return 6;
      close(fds[0]);
      count += reaped_ok(pid);
      start_sum += t - before;
    } else {
      fprintf(stderr, "processes: unknown mode %s\n", mode);
      return 2;
    }
  }
  long long t1 = now_ns();
  printf("{\"mode\":\"%s\",\"n\":%ld,\"ns\":%lld,\"count\":%ld,\"startNs\":%lld}\n", mode, n, t1 - t0, count, n ? start_sum / n : 0);
  return 0;
}
