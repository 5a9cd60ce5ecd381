/* OpenMP (gcc -fopenmp, libgomp) as programs use it: `openmp CASE` prints
 * results that do not depend on scheduling (sums, counts, and the thread
 * count as a relation to the CPU count, since faultline reports --cpus).
 * test/threads-openmp.test.ts runs each case natively and under faultline,
 * with OMP_NUM_THREADS unset and set. glibc only: Debian's libgomp.a needs
 * glibc symbols (__sysconf, pthread_attr_setaffinity_np) that musl lacks. */
#ifndef _OPENMP
/* test/corpus.test.ts builds every program here without -fopenmp: then this is all there is. */
#include <stdio.h>
int main(void) {
  fputs("openmp: built without -fopenmp\n", stderr);
  return 2;
}
#else
#define _GNU_SOURCE
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sigcase.h"

static const char *yesno(int b) { return b ? "yes" : "no"; }

/* What OMP_NUM_THREADS asks for, or 0 when unset. */
static int asked(void) {
  const char *s = getenv("OMP_NUM_THREADS");
  return s ? atoi(s) : 0;
}

/* ---- reduction: a parallel for with + and max reductions ---- */
static void c_reduction(void) {
  long sum = 0, max = 0;
  double fsum = 0;
#pragma omp parallel for reduction(+ : sum, fsum) reduction(max : max) schedule(static)
  for (long i = 1; i <= 3000000; i++) {
    sum += i;
    fsum += 1.0 / (double)(i % 1000 + 1); /* rounding differs by ~1e-10 with the team size: printed to 3 places */
    long v = (i * 7919) % 1000003;
    if (v > max) max = v;
  }
  printf("reduction: sum %ld (want %ld), max %ld, float sum %.3f\n", sum, 3000000L * 3000001L / 2, max, fsum);
  long dyn = 0;
#pragma omp parallel for reduction(+ : dyn) schedule(dynamic, 1000)
  for (long i = 0; i < 1000000; i++) dyn += i & 7;
  printf("reduction: schedule(dynamic) sum %ld (want %ld)\n", dyn, 1000000L / 8 * 28);
}

/* ---- threads: the team size, as a relation to the CPU count ---- */
static void c_threads(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int max = omp_get_max_threads(), team = 0, ids = 0;
#pragma omp parallel
  {
#pragma omp single
    team = omp_get_num_threads();
#pragma omp atomic
    ids += 1 << omp_get_thread_num();
  }
  int want = asked() ? asked() : (int)cpus;
  printf("threads: omp_get_max_threads() equals %s: %s\n", asked() ? "OMP_NUM_THREADS" : "the CPU count", yesno(max == want));
  printf("threads: the team has that many: %s; thread numbers 0..n-1 each once: %s\n", yesno(team == max), yesno(ids == (1 << team) - 1));
  printf("threads: omp_get_num_procs() equals the CPU count: %s\n", yesno(omp_get_num_procs() == cpus));
  /* the host's answer: with OMP_NUM_THREADS unset, one CPU reported would make every other case single-threaded */
  printf("threads: more than one thread in the team: %s\n", yesno(team > 1));
  printf("threads: outside a parallel region: %d thread, number %d, in parallel %d\n", omp_get_num_threads(), omp_get_thread_num(), omp_in_parallel());
}

/* ---- critical: critical sections, atomics, a barrier and single/master ---- */
static void c_critical(void) {
  long crit = 0, atom = 0;
  int singles = 0, masters = 0, after_barrier_ok = 1, n = 0;
  int arrived = 0;
#pragma omp parallel
  {
    for (int i = 0; i < 20000; i++) {
#pragma omp critical
      crit++;
#pragma omp atomic
      atom++;
    }
#pragma omp single
    {
      singles++;
      n = omp_get_num_threads();
    }
#pragma omp master
    masters++;
#pragma omp atomic
    arrived++;
#pragma omp barrier
    if (arrived != n) {
#pragma omp atomic write
      after_barrier_ok = 0;
    }
  }
  printf("critical: %s (want 20000 per thread); atomic: %s\n", yesno(crit == 20000L * n), yesno(atom == 20000L * n));
  printf("critical: single ran %d time, master %d; every thread arrived before the barrier let one past: %s\n", singles, masters, yesno(after_barrier_ok));
}

/* ---- tasks: a recursive Fibonacci with tasks and taskwait ---- */
static long fib(int k) {
  if (k < 2) return k;
  long a, b;
  if (k < 15) return fib(k - 1) + fib(k - 2);
#pragma omp task shared(a)
  a = fib(k - 1);
#pragma omp task shared(b)
  b = fib(k - 2);
#pragma omp taskwait
  return a + b;
}

static void c_tasks(void) {
  long r = 0;
#pragma omp parallel
#pragma omp single
  r = fib(27);
  printf("tasks: fib(27) = %ld (want 196418)\n", r);
  int done[64];
  memset(done, 0, sizeof done);
#pragma omp parallel
#pragma omp single
  for (int k = 0; k < 64; k++) {
#pragma omp task firstprivate(k)
    done[k] = k * k;
  }
  long s = 0;
  for (int k = 0; k < 64; k++) s += done[k];
  printf("tasks: 64 tasks, sum of squares %ld (want %d)\n", s, 63 * 64 * 127 / 6);
}

/* ---- sections and nested regions ---- */
static void c_sections(void) {
  int a = 0, b = 0, c = 0;
#pragma omp parallel sections
  {
#pragma omp section
    a = 1;
#pragma omp section
    b = 2;
#pragma omp section
    c = 3;
  }
  printf("sections: %d %d %d\n", a, b, c);
  int inner = 0;
  omp_set_max_active_levels(2);
#pragma omp parallel num_threads(2)
  {
#pragma omp parallel num_threads(2)
    {
#pragma omp atomic
      inner++;
    }
  }
  printf("sections: nested parallel 2 x 2: %d inner threads\n", inner);
}

static const struct sigcase CASES[] = {
  {"reduction", c_reduction}, {"threads", c_threads}, {"critical", c_critical}, {"tasks", c_tasks},
  {"sections", c_sections},
};

CASES_MAIN(CASES)
#endif
