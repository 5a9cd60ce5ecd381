/*
 * Return probes (test/kprobes-return.test.ts). argv[1] picks a mode, argv[2]
 * (and argv[3]) its sizes:
 *   fib K            prints fib(K); fib(n) makes 2 fib(n+1) - 1 calls in all
 *   nest K           for i < K prints outer(i); outer calls middle once, middle inner twice
 *   longjmp D R K    R times: dive(D, 1) longjmps back to main from the bottom,
 *                    skipping the D+1 dive frames; then prints dive(K, 0) (K+1 calls and
 *                    returns; K defaults to 3)
 *   deep D           prints deep(D): D+1 nested calls
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

__attribute__((noinline)) long inner(long x) { return 2 * x + 1; }
__attribute__((noinline)) long middle(long x) { return inner(x) + inner(x + 10); }
__attribute__((noinline)) long outer(long x) { return 3 * middle(x); }

static jmp_buf env;
static volatile long landed;

__attribute__((noinline)) long dive(long d, long jump) {
  if (d == 0) {
    if (jump) longjmp(env, 1);
    return 100;
  }
  return dive(d - 1, jump) + 1;
}

__attribute__((noinline)) long deep(long d) { return d == 0 ? 0 : deep(d - 1) + 2; }

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "fib";
  long a = argc > 2 ? atol(argv[2]) : 10, b = argc > 3 ? atol(argv[3]) : 1, k = argc > 4 ? atol(argv[4]) : 3;
  if (!strcmp(mode, "fib")) printf("fib(%ld) = %ld\n", a, fib(a));
  else if (!strcmp(mode, "nest")) for (long i = 0; i < a; i++) printf("outer(%ld) = %ld\n", i, outer(i));
  else if (!strcmp(mode, "longjmp")) {
    for (long r = 0; r < b; r++) {
      if (setjmp(env) == 0) printf("dive(%ld, 1) = %ld (not reached)\n", a, dive(a, 1));
      else landed++;
    }
    printf("landed %ld, dive(%ld, 0) = %ld\n", (long)landed, k, dive(k, 0));
  } else if (!strcmp(mode, "deep")) printf("deep(%ld) = %ld\n", a, deep(a));
  else return 2;
  return 0;
}
