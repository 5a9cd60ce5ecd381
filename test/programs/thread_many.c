/* Many threads created and joined (test/process-memory.test.ts):
 *   thread_many seq N     N threads one after another, each created and joined
 *   thread_many alive B   B threads alive at once, waiting on a condition variable
 * Prints "mark K" and waits for one byte on stdin: in seq after the first
 * 100 threads and after the last; in alive before any thread starts (mark
 * 0), with all B alive (mark B), and after all are joined (mark B+1), so
 * that whoever runs it can measure the process that runs it. Exits 0 when
 * every thread ran and was joined. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go, ran, waiting;

static void mark(int k) {
  char b;
  printf("mark %d\n", k);
  fflush(stdout);
  if (read(0, &b, 1) != 1) exit(3);
}

static void *quick(void *arg) {
  (void)arg;
  __atomic_add_fetch(&ran, 1, __ATOMIC_RELAXED);
  return NULL;
}

static void *wait_go(void *arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  waiting++;
  pthread_cond_broadcast(&cv);
  while (!go) pthread_cond_wait(&cv, &m);
  ran++;
  pthread_mutex_unlock(&m);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int n = atoi(argv[2]);
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 * 1024);
  if (strcmp(argv[1], "seq") == 0) {
    for (int i = 1; i <= n; i++) {
      pthread_t t;
      if (pthread_create(&t, &a, quick, NULL) != 0 || pthread_join(t, NULL) != 0) { printf("thread %d failed\n", i); return 1; }
      if (i == 100 || i == n) mark(i);
    }
  } else {
    pthread_t *t = calloc(n, sizeof *t);
    mark(0);
    for (int i = 0; i < n; i++) if (pthread_create(&t[i], &a, wait_go, NULL) != 0) { printf("thread %d failed\n", i); return 1; }
    pthread_mutex_lock(&m);
    while (waiting < n) pthread_cond_wait(&cv, &m);
    pthread_mutex_unlock(&m);
    mark(n);
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    mark(n + 1);
  }
  printf("%d of %d threads ran and were joined\n", ran, n);
  return ran == n ? 0 : 1;
}
