/* bench/threads.ts's guest: times its own loops with clock_gettime and
 * prints one JSON line {"mode":M,"n":N,"ns":T,"count":C}.
 *
 *   threads create N     N x (pthread_create -> the thread returns -> pthread_join); count = threads joined
 *   threads pingpong N   two threads hand a token back and forth N times through one
 *                        futex word (FUTEX_WAIT / FUTEX_WAKE, private); count = round trips
 *   threads mutexsum N   4 threads add 1 to a shared sum N/4 times each under one
 *                        pthread_mutex; count = the sum */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void *nothing(void *arg) { return arg; }

static int token; /* 0: the main thread's turn, 1: the partner's */
static long rounds;

static void futex_wait(int *w, int val) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0); }
static void futex_wake(int *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

/* Waits until the token is `mine`, then passes it on. */
static void take_and_pass(int mine) {
  while (__atomic_load_n(&token, __ATOMIC_ACQUIRE) != mine) futex_wait(&token, !mine);
  __atomic_store_n(&token, !mine, __ATOMIC_RELEASE);
  futex_wake(&token);
}

static void *partner(void *arg) {
  (void)arg;
  for (long k = 0; k < rounds; k++) take_and_pass(1);
  return NULL;
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long sum, per_thread;

static void *adder(void *arg) {
  (void)arg;
  for (long k = 0; k < per_thread; k++) {
    pthread_mutex_lock(&m);
    sum++;
    pthread_mutex_unlock(&m);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: threads create|pingpong|mutexsum N\n"); return 2; }
  const char *mode = argv[1];
  long n = atol(argv[2]), count = 0;
  long long t0 = now_ns();
  if (strcmp(mode, "create") == 0) {
    for (long k = 0; k < n; k++) {
      pthread_t t;
      if (pthread_create(&t, NULL, nothing, NULL) != 0) return 4;
      count += pthread_join(t, NULL) == 0;
    }
  } else if (strcmp(mode, "pingpong") == 0) {
    rounds = n;
    pthread_t t;
    if (pthread_create(&t, NULL, partner, NULL) != 0) return 4;
    for (long k = 0; k < n; k++) take_and_pass(0);
    pthread_join(t, NULL);
    count = n;
  } else if (strcmp(mode, "mutexsum") == 0) {
    per_thread = n / 4;
    pthread_t t[4];
    for (int k = 0; k < 4; k++) if (pthread_create(&t[k], NULL, adder, NULL) != 0) return 4;
    for (int k = 0; k < 4; k++) pthread_join(t[k], NULL);
    count = sum;
  } else {
    return 2;
  }
  long long ns = now_ns() - t0;
  printf("{\"mode\":\"%s\",\"n\":%ld,\"ns\":%lld,\"count\":%ld}\n", mode, n, ns, count);
  return 0;
}
