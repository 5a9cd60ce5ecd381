/* Deep recursion: 100000 non-tail frames, each with a small local array. */
#include <stdio.h>
#include <stdlib.h>

static unsigned long long depth_sum(int n, volatile unsigned *acc) {
  volatile unsigned local[4] = { (unsigned)n, (unsigned)n * 3u, 0, 0 };
  if (n == 0) return 0;
  *acc += local[0] ^ local[1];
  unsigned long long r = depth_sum(n - 1, acc);
  return r + local[0] + (local[1] & 7);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100000;
  volatile unsigned acc = 0;
  unsigned long long r = depth_sum(n, &acc);
  printf("depth %d result %llu acc %u\n", n, r, acc);
  return 0;
}
