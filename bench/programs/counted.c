/* The probed program of the multi-process scenario (`faultline demo`,
 * bench/strategies.ts question 6): counts its own entries into work() and
 * prints them, the ground truth a probe on work must match.
 *
 *   counted K   calls work() K times, then prints
 *               "counted[PID]: work() entered K times, sum S"
 *
 * Built with gcc -O1 -static; work is noinline so that each call is an entry. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long entries;

__attribute__((noinline)) long work(long i) {
  entries++;
  return (i * 2654435761L) >> 7;
}

int main(int argc, char **argv) {
  long k = argc > 1 ? atol(argv[1]) : 1000, sum = 0;
  for (long i = 0; i < k; i++) sum += work(i);
  printf("counted[%d]: work() entered %ld times, sum %ld\n", (int)getpid(), entries, sum);
  return 0;
}
