/*
 * A small program for probes on whole binaries (test/kprobes-binaries.test.ts,
 * test/kprobes-cli.test.ts): main calls twice(i) for i in [0, n) (n = argv[1],
 * default 10) and twice calls work() two times, so work runs 2n times and
 * twice n times. Built static, PIE and dynamic at test time.
 */
#include <stdio.h>
#include <stdlib.h>

long bias = 7;

__attribute__((noinline)) long work(long x) { return x * 3 + bias; }
__attribute__((noinline)) long twice(long x) { return work(x) + work(x + 1); }
__attribute__((noinline)) long unused(long x) { return x - 1; }

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 10;
  long s = 0;
  for (long i = 0; i < n; i++) s += twice(i);
  if (argc > 100) s += unused(s);
  printf("n %ld sum %ld\n", n, s);
  return (int)(s & 0x7f);
}
