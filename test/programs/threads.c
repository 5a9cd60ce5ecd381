/* POSIX threads as programs use them: `threads CASE` runs one case and prints
 * what it found from the main thread after the joins, so the output never
 * depends on how the threads interleaved (counts, sums, and relations such as
 * "gettid differs from getpid", never ids or times). A failed pthread call
 * prints FAIL and exits 1. Cases that end the process another way say so
 * (exit_while_running: 3, main_exit_running: 5, thread_segv: 139).
 * test/threads-pthread.test.ts runs each case natively (the ground truth) and
 * under faultline. Built with -pthread, by gcc (static, dynamic) and musl. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errname.h"
#include "sigcase.h"

/* A pthread call's error number must be 0. */
#define CK(call) do { int e_ = (call); if (e_) { printf("FAIL %s:%d: %s: %s\n", __func__, __LINE__, #call, errname(e_)); exit(1); } } while (0)
/* A call that returns -1 and sets errno must not fail. */
#define CKE(call) do { if ((call) == -1) { printf("FAIL %s:%d: %s: %s\n", __func__, __LINE__, #call, errname(errno)); exit(1); } } while (0)

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }
static const char *yesno(int b) { return b ? "yes" : "no"; }

/* sem_wait, again after a signal handler interrupts it. */
static void sem_wait_all(sem_t *s) {
  while (sem_wait(s) != 0) {
    if (errno != EINTR) { printf("FAIL sem_wait: %s\n", errname(errno)); exit(1); }
  }
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Starts n threads of fn with arguments 0..n-1 (as void *). */
static void start(pthread_t *t, int n, void *(*fn)(void *)) {
  for (intptr_t k = 0; k < n; k++) CK(pthread_create(&t[k], NULL, fn, (void *)k));
}

static void join(pthread_t *t, int n) {
  for (int k = 0; k < n; k++) CK(pthread_join(t[k], NULL));
}

/* ---- mutex: 4 threads x 100000 increments of one counter under a mutex ---- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *mutex_worker(void *a) {
  (void)a;
  for (int i = 0; i < 100000; i++) {
    CK(pthread_mutex_lock(&mu));
    long v = counter;
    __asm__ volatile("" ::: "memory");
    counter = v + 1;
    CK(pthread_mutex_unlock(&mu));
  }
  return NULL;
}

static void c_mutex(void) {
  pthread_t t[4];
  start(t, 4, mutex_worker);
  join(t, 4);
  printf("mutex: counter %ld (want 400000)\n", counter);
}

/* ---- mutex_types: trylock, errorcheck, recursive ---- */
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

static void *trylock_other(void *a) {
  (void)a;
  return (void *)(intptr_t)pthread_mutex_trylock(&held);
}

static void c_mutex_types(void) {
  CK(pthread_mutex_lock(&held));
  pthread_t t;
  void *r;
  CK(pthread_create(&t, NULL, trylock_other, NULL));
  CK(pthread_join(t, &r));
  printf("trylock of a mutex another thread holds: %s\n", errname((int)(intptr_t)r));
  CK(pthread_mutex_unlock(&held));
  CK(pthread_create(&t, NULL, trylock_other, NULL));
  CK(pthread_join(t, &r));
  printf("trylock of a free mutex: %s\n", errname((int)(intptr_t)r));
  /* the other thread still holds it: it exited holding a normal mutex */
  printf("trylock after that thread exited holding it: %s\n", errname(pthread_mutex_trylock(&held)));

  pthread_mutexattr_t at;
  pthread_mutex_t ec, rec;
  CK(pthread_mutexattr_init(&at));
  CK(pthread_mutexattr_settype(&at, PTHREAD_MUTEX_ERRORCHECK));
  CK(pthread_mutex_init(&ec, &at));
  CK(pthread_mutex_lock(&ec));
  printf("errorcheck: relock %s\n", errname(pthread_mutex_lock(&ec)));
  CK(pthread_mutex_unlock(&ec));
  printf("errorcheck: unlock when not held %s\n", errname(pthread_mutex_unlock(&ec)));
  CK(pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE));
  CK(pthread_mutex_init(&rec, &at));
  int locks = 0;
  for (int k = 0; k < 5; k++) locks += pthread_mutex_lock(&rec) == 0;
  int unlocks = 0;
  for (int k = 0; k < 5; k++) unlocks += pthread_mutex_unlock(&rec) == 0;
  printf("recursive: locked %d times, unlocked %d times, then unlock %s\n", locks, unlocks, errname(pthread_mutex_unlock(&rec)));
}

/* ---- condvar: a bounded queue, 2 producers and 2 consumers ---- */
enum { QCAP = 8, ITEMS = 20000 };
static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notfull = PTHREAD_COND_INITIALIZER, notempty = PTHREAD_COND_INITIALIZER;
static long queue[QCAP];
static int qhead, qlen, producers_left = 2;
static long consumed_sum, consumed_n;

static void *producer(void *a) {
  long base = (intptr_t)a * ITEMS;
  for (long i = 1; i <= ITEMS; i++) {
    CK(pthread_mutex_lock(&qmu));
    while (qlen == QCAP) CK(pthread_cond_wait(&notfull, &qmu));
    queue[(qhead + qlen++) % QCAP] = base + i;
    CK(pthread_cond_signal(&notempty));
    CK(pthread_mutex_unlock(&qmu));
  }
  CK(pthread_mutex_lock(&qmu));
  producers_left--;
  CK(pthread_cond_broadcast(&notempty));
  CK(pthread_mutex_unlock(&qmu));
  return NULL;
}

static void *consumer(void *a) {
  (void)a;
  for (;;) {
    CK(pthread_mutex_lock(&qmu));
    while (qlen == 0 && producers_left) CK(pthread_cond_wait(&notempty, &qmu));
    if (qlen == 0) { CK(pthread_mutex_unlock(&qmu)); return NULL; }
    long v = queue[qhead];
    qhead = (qhead + 1) % QCAP;
    qlen--;
    consumed_sum += v;
    consumed_n++;
    CK(pthread_cond_signal(&notfull));
    CK(pthread_mutex_unlock(&qmu));
  }
}

static void c_condvar(void) {
  pthread_t p[2], c[2];
  start(c, 2, consumer);
  start(p, 2, producer);
  join(p, 2);
  join(c, 2);
  long n = 2L * ITEMS, want = n * (n + 1) / 2;
  printf("condvar: consumed %ld items, sum %ld (want %ld items, sum %ld)\n", consumed_n, consumed_sum, n, want);
}

/* ---- broadcast: 4 waiters released by one broadcast ---- */
static int go, waiting, released;

static void *bc_waiter(void *a) {
  (void)a;
  CK(pthread_mutex_lock(&qmu));
  waiting++;
  CK(pthread_cond_signal(&notfull)); /* tells main one more waits */
  while (!go) CK(pthread_cond_wait(&notempty, &qmu));
  released++;
  CK(pthread_mutex_unlock(&qmu));
  return NULL;
}

static void c_broadcast(void) {
  pthread_t t[4];
  start(t, 4, bc_waiter);
  CK(pthread_mutex_lock(&qmu));
  while (waiting < 4) CK(pthread_cond_wait(&notfull, &qmu));
  go = 1;
  CK(pthread_cond_broadcast(&notempty));
  CK(pthread_mutex_unlock(&qmu));
  join(t, 4);
  printf("broadcast: %d waiters, %d released\n", waiting, released);
}

/* ---- cond_timedwait: ETIMEDOUT with nobody signalling, both clocks ---- */
static void c_cond_timedwait(void) {
  pthread_condattr_t ca;
  pthread_cond_t cm, cr = PTHREAD_COND_INITIALIZER;
  CK(pthread_condattr_init(&ca));
  CK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
  CK(pthread_cond_init(&cm, &ca));
  struct timespec t0, t1, dl;
  CK(pthread_mutex_lock(&qmu));
  clock_gettime(CLOCK_MONOTONIC, &t0);
  dl = t0;
  dl.tv_nsec += 20000000;
  if (dl.tv_nsec >= 1000000000) dl.tv_sec++, dl.tv_nsec -= 1000000000;
  int r = pthread_cond_timedwait(&cm, &qmu, &dl);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  printf("CLOCK_MONOTONIC condvar, 20 ms deadline: %s, at least 20 ms: %s\n", errname(r), yesno(ms >= 20));
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_nsec += 20000000;
  if (dl.tv_nsec >= 1000000000) dl.tv_sec++, dl.tv_nsec -= 1000000000;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  r = pthread_cond_timedwait(&cr, &qmu, &dl);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  printf("CLOCK_REALTIME condvar, 20 ms deadline: %s, at least 19 ms: %s\n", errname(r), yesno(ms >= 19));
  dl.tv_sec -= 10;
  printf("a deadline in the past: %s\n", errname(pthread_cond_timedwait(&cr, &qmu, &dl)));
  printf("the mutex is held again after the timeout: %s\n", yesno(pthread_mutex_trylock(&qmu) == EBUSY));
  CK(pthread_mutex_unlock(&qmu));
}

/* ---- barrier: 4 threads, 200 rounds; each round every thread reads all the others' writes ---- */
enum { BT = 4, ROUNDS = 200 };
static pthread_barrier_t bar;
static long slots[2][BT];
static int serial_count, bad_reads;
static pthread_mutex_t bmu = PTHREAD_MUTEX_INITIALIZER;

static void *barrier_worker(void *a) {
  int id = (int)(intptr_t)a, bad = 0, serial = 0;
  for (int r = 0; r < ROUNDS; r++) {
    slots[r & 1][id] = (long)r * 100 + id;
    int w = pthread_barrier_wait(&bar);
    if (w == PTHREAD_BARRIER_SERIAL_THREAD) serial++;
    else if (w != 0) { printf("FAIL barrier_wait: %s\n", errname(w)); exit(1); }
    for (int k = 0; k < BT; k++) bad += slots[r & 1][k] != (long)r * 100 + k;
  }
  CK(pthread_mutex_lock(&bmu));
  serial_count += serial;
  bad_reads += bad;
  CK(pthread_mutex_unlock(&bmu));
  return NULL;
}

static void c_barrier(void) {
  CK(pthread_barrier_init(&bar, NULL, BT));
  pthread_t t[BT];
  start(t, BT, barrier_worker);
  join(t, BT);
  printf("barrier: %d rounds, serial thread %d times (want %d), stale reads %d\n", ROUNDS, serial_count, ROUNDS, bad_reads);
  CK(pthread_barrier_destroy(&bar));
}

/* ---- rwlock: readers see a consistent pair; readers share, a writer excludes ---- */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static volatile long pa, pb;
static long torn;

static void *rw_writer(void *a) {
  (void)a;
  for (int i = 0; i < 20000; i++) {
    CK(pthread_rwlock_wrlock(&rw));
    pa++;
    for (volatile int k = 0; k < 10; k++) {
    }
    pb++;
    CK(pthread_rwlock_unlock(&rw));
  }
  return NULL;
}

static void *rw_reader(void *a) {
  (void)a;
  long bad = 0;
  for (int i = 0; i < 20000; i++) {
    CK(pthread_rwlock_rdlock(&rw));
    bad += pa != pb;
    CK(pthread_rwlock_unlock(&rw));
  }
  return (void *)bad;
}

static void *rw_try(void *a) {
  (void)a;
  int rd = pthread_rwlock_tryrdlock(&rw);
  if (rd == 0) CK(pthread_rwlock_unlock(&rw));
  int wr = pthread_rwlock_trywrlock(&rw);
  if (wr == 0) CK(pthread_rwlock_unlock(&rw));
  return (void *)(intptr_t)(rd << 16 | wr);
}

static void c_rwlock(void) {
  pthread_t w[2], r[4];
  start(w, 2, rw_writer);
  start(r, 4, rw_reader);
  join(w, 2);
  for (int k = 0; k < 4; k++) {
    void *bad;
    CK(pthread_join(r[k], &bad));
    torn += (long)bad;
  }
  printf("rwlock: a %ld b %ld (want 40000 each), torn reads %ld\n", pa, pb, torn);
  pthread_t t;
  void *res;
  CK(pthread_rwlock_rdlock(&rw));
  CK(pthread_create(&t, NULL, rw_try, NULL));
  CK(pthread_join(t, &res));
  printf("main holds a read lock: another thread's tryrdlock %s, trywrlock %s\n", errname((int)(intptr_t)res >> 16), errname((int)(intptr_t)res & 0xffff));
  CK(pthread_rwlock_unlock(&rw));
  CK(pthread_rwlock_wrlock(&rw));
  CK(pthread_create(&t, NULL, rw_try, NULL));
  CK(pthread_join(t, &res));
  printf("main holds the write lock: another thread's tryrdlock %s, trywrlock %s\n", errname((int)(intptr_t)res >> 16), errname((int)(intptr_t)res & 0xffff));
  CK(pthread_rwlock_unlock(&rw));
}

/* ---- tls: __thread variables, initialised and zeroed, one copy per thread ---- */
static __thread int tv = 42;
static __thread long tzero;
static __thread char tbuf[100] = "initial";
static __thread long taligned[4] __attribute__((aligned(64))) = {7, 8, 9, 10};
enum { TT = 4 };
static uintptr_t taddr[TT + 1];
static int tls_init_ok[TT + 1], tls_kept[TT + 1], tls_aligned[TT + 1];
static pthread_barrier_t tbar;

static int tls_check_init(void) {
  return tv == 42 && tzero == 0 && strcmp(tbuf, "initial") == 0 && taligned[0] == 7 && taligned[3] == 10;
}

static void *tls_worker(void *a) {
  int id = (int)(intptr_t)a + 1;
  tls_init_ok[id] = tls_check_init();
  tls_aligned[id] = ((uintptr_t)taligned & 63) == 0;
  taddr[id] = (uintptr_t)&tv;
  tv = id * 1000;
  tzero = -id;
  snprintf(tbuf, sizeof tbuf, "thread %d", id);
  taligned[0] = id;
  pthread_barrier_wait(&tbar); /* every thread has written its copy */
  sched_yield();
  char want[100];
  snprintf(want, sizeof want, "thread %d", id);
  tls_kept[id] = tv == id * 1000 && tzero == -id && strcmp(tbuf, want) == 0 && taligned[0] == id;
  return NULL;
}

static void c_tls(void) {
  tls_init_ok[0] = tls_check_init();
  tls_aligned[0] = ((uintptr_t)taligned & 63) == 0;
  taddr[0] = (uintptr_t)&tv;
  tv = -1;
  strcpy(tbuf, "main");
  CK(pthread_barrier_init(&tbar, NULL, TT));
  pthread_t t[TT];
  start(t, TT, tls_worker);
  join(t, TT);
  int init = 0, kept = 0, aligned = 0, distinct = 1;
  for (int k = 0; k <= TT; k++) {
    init += tls_init_ok[k];
    kept += tls_kept[k];
    aligned += tls_aligned[k];
    for (int j = 0; j < k; j++) distinct &= taddr[j] != taddr[k];
  }
  printf("tls: initial values seen by %d of %d threads (main included)\n", init, TT + 1);
  printf("tls: 64-byte aligned __thread array aligned in %d of %d\n", aligned, TT + 1);
  printf("tls: addresses of the __thread int all distinct: %s\n", yesno(distinct));
  printf("tls: each thread kept its own values: %d of %d\n", kept, TT);
  printf("tls: main's values untouched: %s\n", yesno(tv == -1 && strcmp(tbuf, "main") == 0 && tzero == 0));
}

/* ---- cancel: cancellation points, cleanup handlers, disabled cancellation ---- */
static sem_t ready;
static int pipefd[2];
static int cleanups;

static void cleanup(void *a) {
  cleanups++;
  if (a) pthread_mutex_unlock(a);
}

static void *cancel_read(void *a) {
  (void)a;
  char c;
  pthread_cleanup_push(cleanup, NULL);
  sem_post(&ready);
  for (;;) read(pipefd[0], &c, 1); /* a cancellation point; nothing is ever written */
  pthread_cleanup_pop(0);
  return NULL;
}

static void *cancel_cond(void *a) {
  (void)a;
  CK(pthread_mutex_lock(&qmu));
  pthread_cleanup_push(cleanup, &qmu);
  sem_post(&ready);
  for (;;) pthread_cond_wait(&notempty, &qmu);
  pthread_cleanup_pop(1);
  return NULL;
}

static void *cancel_sleep(void *a) {
  (void)a;
  sem_post(&ready);
  for (;;) sleep(100);
  return NULL;
}

static volatile int cancel_go;

static void *cancel_disabled(void *a) {
  (void)a;
  CK(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL));
  sem_post(&ready);
  while (!cancel_go) sleep_ms(1); /* nanosleep: a cancellation point, but cancellation is disabled */
  CK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL));
  pthread_testcancel();
  return (void *)1;
}

static void c_cancel(void) {
  CK(sem_init(&ready, 0, 0));
  CKE(pipe(pipefd));
  void *(*fns[])(void *) = {cancel_read, cancel_cond, cancel_sleep};
  const char *names[] = {"read on an empty pipe", "pthread_cond_wait", "sleep"};
  for (int k = 0; k < 3; k++) {
    pthread_t t;
    void *res;
    CK(pthread_create(&t, NULL, fns[k], NULL));
    sem_wait_all(&ready);
    CK(pthread_cancel(t));
    CK(pthread_join(t, &res));
    printf("cancel in %s: joined with PTHREAD_CANCELED %s\n", names[k], yesno(res == PTHREAD_CANCELED));
  }
  printf("cleanup handlers ran: %d (want 2)\n", cleanups);
  printf("the condvar's mutex was released by its cleanup handler: %s\n", yesno(pthread_mutex_trylock(&qmu) == 0));
  pthread_mutex_unlock(&qmu);
  pthread_t t;
  void *res;
  CK(pthread_create(&t, NULL, cancel_disabled, NULL));
  sem_wait_all(&ready);
  CK(pthread_cancel(t));
  sleep_ms(20);
  cancel_go = 1;
  CK(pthread_join(t, &res));
  printf("cancel while disabled, acted on at pthread_testcancel: PTHREAD_CANCELED %s\n", yesno(res == PTHREAD_CANCELED));
}

/* ---- detached: detached threads signal completion through a semaphore ---- */
static sem_t done;
static int detached_ran;

static void *detached_worker(void *a) {
  __atomic_fetch_add(&detached_ran, (int)(intptr_t)a, __ATOMIC_SEQ_CST);
  sem_post(&done);
  return NULL;
}

static void c_detached(void) {
  CK(sem_init(&done, 0, 0));
  pthread_attr_t at;
  CK(pthread_attr_init(&at));
  CK(pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED));
  int state;
  CK(pthread_attr_getdetachstate(&at, &state));
  for (intptr_t k = 0; k < 16; k++) {
    pthread_t t;
    CK(pthread_create(&t, &at, detached_worker, (void *)1));
  }
  for (intptr_t k = 0; k < 16; k++) {
    pthread_t t;
    CK(pthread_create(&t, NULL, detached_worker, (void *)100));
    CK(pthread_detach(t));
  }
  for (int k = 0; k < 32; k++) sem_wait_all(&done);
  printf("detached: attr state detached %s; 16 created detached + 16 detached after: ran %d (want 1616)\n", yesno(state == PTHREAD_CREATE_DETACHED), detached_ran);
  sleep_ms(20); /* let the last ones finish exiting */
}

/* ---- exit_while_running: a thread calls exit(3) while the others spin, sleep and wait ---- */
static volatile int spin_forever = 1;
static pid_t exit_tid;

static void *spinner(void *a) {
  (void)a;
  sem_post(&ready);
  while (spin_forever) {
  }
  return NULL;
}

static void *sleeper(void *a) {
  (void)a;
  sem_post(&ready);
  for (;;) sleep(100);
  return NULL;
}

static void *waiter(void *a) {
  (void)a;
  CK(pthread_mutex_lock(&qmu));
  sem_post(&ready);
  for (;;) pthread_cond_wait(&notempty, &qmu);
}

static void *reader(void *a) {
  (void)a;
  char c;
  sem_post(&ready);
  for (;;) read(pipefd[0], &c, 1);
  return NULL;
}

static void at_exit_report(void) {
  printf("atexit handler: in the thread that called exit %s\n", yesno(tid() == exit_tid));
}

static void *exiter(void *a) {
  (void)a;
  exit_tid = tid();
  printf("a thread calls exit(3)\n");
  exit(3);
}

static void start_busy_threads(void) {
  CK(sem_init(&ready, 0, 0));
  CKE(pipe(pipefd));
  void *(*fns[])(void *) = {spinner, spinner, sleeper, waiter, reader};
  for (int k = 0; k < 5; k++) {
    pthread_t t;
    CK(pthread_create(&t, NULL, fns[k], NULL));
  }
  for (int k = 0; k < 5; k++) sem_wait_all(&ready);
}

static void c_exit_while_running(void) {
  start_busy_threads();
  atexit(at_exit_report);
  printf("5 threads running: 2 spin, 1 sleeps, 1 waits on a condvar, 1 reads a pipe\n");
  pthread_t t;
  CK(pthread_create(&t, NULL, exiter, NULL));
  pthread_join(t, NULL);
  printf("FAIL: main returned from joining a thread that called exit\n");
  exit(1);
}

/* ---- main_exit_running: main calls exit(5) while the others run ---- */
static void c_main_exit_running(void) {
  start_busy_threads();
  printf("5 threads running; main calls exit(5)\n");
  exit(5);
}

/* ---- main_returns: main returns (exit 0) while the others run ---- */
static void c_main_returns(void) {
  start_busy_threads();
  printf("5 threads running; main returns 0\n");
}

/* ---- main_pthread_exit: main calls pthread_exit; the last thread ends the process with status 0 ---- */
static void at_exit_last(void) {
  printf("atexit handler ran after the last thread ended\n");
}

static void *outlive_main(void *a) {
  (void)a;
  sem_wait_all(&ready); /* main is about to call pthread_exit */
  sleep_ms(30);
  printf("worker: main has called pthread_exit; the worker runs on and finishes\n");
  return (void *)7; /* not an exit status */
}

static void c_main_pthread_exit(void) {
  CK(sem_init(&ready, 0, 0));
  atexit(at_exit_last);
  pthread_t t;
  CK(pthread_create(&t, NULL, outlive_main, NULL));
  printf("main: calling pthread_exit\n");
  sem_post(&ready);
  pthread_exit(NULL);
}

/* ---- thread_segv: a NULL write in a thread kills the whole process with SIGSEGV ---- */
static void *segv_worker(void *a) {
  (void)a;
  *(volatile int *)0 = 1;
  return NULL;
}

static void c_thread_segv(void) {
  start_busy_threads();
  printf("5 threads running; another writes to NULL\n");
  fflush(stdout);
  pthread_t t;
  CK(pthread_create(&t, NULL, segv_worker, NULL));
  pthread_join(t, NULL);
  printf("FAIL: the process survived\n");
}

/* ---- atomics: lock-free counters, a CAS loop, cmpxchg16b, and a spinlock that needs preemption ---- */
enum { AT = 4 };
static long acount, cascount, spincount, pspincount;
static unsigned __int128 wide __attribute__((aligned(16)));
static int spin;
static pthread_spinlock_t pspin;

static int cas16(unsigned __int128 *p, unsigned __int128 *expected, unsigned __int128 desired) {
  uint64_t elo = (uint64_t)*expected, ehi = (uint64_t)(*expected >> 64);
  uint64_t dlo = (uint64_t)desired, dhi = (uint64_t)(desired >> 64);
  unsigned char ok;
  __asm__ volatile("lock cmpxchg16b %1; sete %0"
                   : "=q"(ok), "+m"(*p), "+a"(elo), "+d"(ehi)
                   : "b"(dlo), "c"(dhi)
                   : "memory", "cc");
  *expected = (unsigned __int128)ehi << 64 | elo;
  return ok;
}

static void *atomic_worker(void *a) {
  (void)a;
  for (int i = 0; i < 1000000; i++) __atomic_fetch_add(&acount, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < 100000; i++) {
    long old = __atomic_load_n(&cascount, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&cascount, &old, old + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
    }
  }
  for (int i = 0; i < 50000; i++) {
    /* both halves move together: +1 in the low word, +3 in the high */
    unsigned __int128 old = wide;
    while (!cas16(&wide, &old, old + ((unsigned __int128)3 << 64) + 1)) {
    }
  }
  for (int i = 0; i < 20000; i++) {
    while (__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE)) {
      /* no yield: the holder makes progress only if it is preempted back in */
    }
    long v = spincount;
    __asm__ volatile("" ::: "memory");
    spincount = v + 1;
    __atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
  }
  for (int i = 0; i < 20000; i++) {
    CK(pthread_spin_lock(&pspin));
    pspincount++;
    CK(pthread_spin_unlock(&pspin));
  }
  return NULL;
}

static void c_atomics(void) {
  CK(pthread_spin_init(&pspin, PTHREAD_PROCESS_PRIVATE));
  pthread_t t[AT];
  start(t, AT, atomic_worker);
  join(t, AT);
  printf("atomics: fetch_add %ld (want 4000000)\n", acount);
  printf("atomics: compare_exchange loop %ld (want 400000)\n", cascount);
  printf("atomics: cmpxchg16b low %lu high %lu (want 200000 600000)\n", (unsigned long)wide, (unsigned long)(wide >> 64));
  printf("atomics: xchg spinlock %ld (want 80000)\n", spincount);
  printf("atomics: pthread_spin_lock %ld (want 80000)\n", pspincount);
}

/* ---- ids: getpid shared, gettid distinct, the main thread's tid is the pid ---- */
enum { IT = 4 };
static pid_t id_pid[IT], id_tid[IT], id_ppid[IT];
static pthread_t id_self[IT];

static void *id_worker(void *a) {
  int k = (int)(intptr_t)a;
  id_pid[k] = getpid();
  id_ppid[k] = getppid();
  id_tid[k] = tid();
  id_self[k] = pthread_self();
  return NULL;
}

static void c_ids(void) {
  pid_t pid = getpid(), mtid = tid();
  pthread_t t[IT];
  start(t, IT, id_worker);
  join(t, IT);
  int same_pid = 1, same_ppid = 1, distinct = 1, not_pid = 1, self_match = 1;
  for (int k = 0; k < IT; k++) {
    same_pid &= id_pid[k] == pid;
    same_ppid &= id_ppid[k] == getppid();
    not_pid &= id_tid[k] != pid && id_tid[k] > 0;
    self_match &= pthread_equal(id_self[k], t[k]) && !pthread_equal(id_self[k], pthread_self());
    for (int j = 0; j < k; j++) distinct &= id_tid[j] != id_tid[k];
  }
  printf("ids: main's gettid equals getpid: %s\n", yesno(mtid == pid));
  printf("ids: getpid the same in all threads: %s\n", yesno(same_pid));
  printf("ids: getppid the same in all threads: %s\n", yesno(same_ppid));
  printf("ids: the threads' gettid all distinct: %s, none is the pid: %s\n", yesno(distinct), yesno(not_pid));
  printf("ids: pthread_self in each equals what pthread_create returned: %s\n", yesno(self_match));
#ifdef __GLIBC__
  printf("ids: glibc's gettid() equals syscall(SYS_gettid): %s\n", yesno(gettid() == mtid));
#endif
}

/* ---- tgkill: pthread_kill runs the handler in the thread it names ---- */
static volatile pid_t handled_in;
static volatile int handled_count;
static sem_t handled;
static pid_t target_tid[2];

static void on_sig(int s) {
  (void)s;
  handled_in = tid();
  handled_count++;
  sem_post(&handled);
}

static void *tg_target(void *a) {
  int k = (int)(intptr_t)a;
  target_tid[k] = tid();
  sem_post(&ready);
  sem_wait_all(&done); /* until main says stop */
  return NULL;
}

static void install(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  CKE(sigaction(sig, &sa, NULL));
}

static void c_tgkill(void) {
  CK(sem_init(&ready, 0, 0));
  CK(sem_init(&done, 0, 0));
  CK(sem_init(&handled, 0, 0));
  install(SIGUSR1, on_sig, SA_RESTART);
  pthread_t t[2];
  start(t, 2, tg_target);
  sem_wait_all(&ready);
  sem_wait_all(&ready);
  for (int round = 0; round < 3; round++) {
    for (int k = 1; k >= 0; k--) {
      CK(pthread_kill(t[k], SIGUSR1));
      sem_wait_all(&handled);
      printf("pthread_kill SIGUSR1 to thread %d: handler ran in that thread %s\n", k, yesno(handled_in == target_tid[k]));
    }
  }
  printf("pthread_kill with signal 0 to a live thread: %s\n", errname(pthread_kill(t[0], 0)));
  errno = 0;
  long r = syscall(SYS_tgkill, getpid(), target_tid[1], SIGUSR1);
  sem_wait_all(&handled);
  printf("raw tgkill(pid, tid, SIGUSR1): %ld, handler in that thread %s\n", r, yesno(handled_in == target_tid[1]));
  r = syscall(SYS_tgkill, getpid() + 100000, target_tid[1], SIGUSR1);
  printf("tgkill with the wrong tgid: %ld %s\n", r, errname(errno));
  r = syscall(SYS_tgkill, getpid(), target_tid[1], 1000);
  printf("tgkill with signal 1000: %ld %s\n", r, errname(errno));
  r = syscall(SYS_tkill, target_tid[0], SIGUSR1);
  sem_wait_all(&handled);
  printf("tkill(tid, SIGUSR1): %ld, handler in that thread %s\n", r, yesno(handled_in == target_tid[0]));
  sem_post(&done);
  sem_post(&done);
  join(t, 2);
  /* (no tgkill to a joined thread: its tid word is cleared before the kernel reaps it, so ESRCH is not certain) */
  printf("handler runs: %d (want 8)\n", handled_count);
}

/* ---- sigmask: a thread's mask is its own; a signal it blocks stays pending in it ---- */
static volatile int pend_in_thread, pend_after_unblock;

static void *mask_worker(void *a) {
  (void)a;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  CK(pthread_sigmask(SIG_BLOCK, &s, NULL));
  target_tid[0] = tid();
  sem_post(&ready);
  sem_wait_all(&done); /* main has sent SIGUSR1 to this thread */
  sigset_t p;
  sigpending(&p);
  pend_in_thread = sigismember(&p, SIGUSR1);
  CK(pthread_sigmask(SIG_UNBLOCK, &s, NULL)); /* delivered here, now */
  sigpending(&p);
  pend_after_unblock = sigismember(&p, SIGUSR1);
  return NULL;
}

static void c_sigmask(void) {
  CK(sem_init(&ready, 0, 0));
  CK(sem_init(&done, 0, 0));
  CK(sem_init(&handled, 0, 0));
  install(SIGUSR1, on_sig, SA_RESTART);
  pthread_t t;
  CK(pthread_create(&t, NULL, mask_worker, NULL));
  sem_wait_all(&ready);
  CK(pthread_kill(t, SIGUSR1));
  sigset_t p;
  sigpending(&p);
  printf("sigmask: pending in main after pthread_kill to a thread that blocks it: %s\n", yesno(sigismember(&p, SIGUSR1)));
  printf("sigmask: handler ran before the unblock: %s\n", yesno(handled_count != 0));
  sem_post(&done);
  CK(pthread_join(t, NULL));
  printf("sigmask: pending in that thread: %s; handler ran in it at the unblock: %s; pending after: %s\n", yesno(pend_in_thread), yesno(handled_count == 1 && handled_in == target_tid[0]), yesno(pend_after_unblock));
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, NULL, &cur);
  printf("sigmask: main's own mask unchanged (SIGUSR1 not blocked): %s\n", yesno(!sigismember(&cur, SIGUSR1)));
}

/* ---- sigroute: a process-directed signal goes to the one thread that does not block it ---- */
static pid_t open_tid;

static void *route_worker(void *a) {
  int open = (int)(intptr_t)a == 2;
  if (open) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    CK(pthread_sigmask(SIG_UNBLOCK, &s, NULL));
    open_tid = tid();
  }
  sem_post(&ready);
  sem_wait_all(&done);
  return NULL;
}

static pid_t late_tid;

static void *late_unblocker(void *a) {
  (void)a;
  late_tid = tid();
  sem_wait_all(&ready); /* main: the signal is pending */
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  CK(pthread_sigmask(SIG_UNBLOCK, &s, NULL));
  return NULL;
}

static void c_sigroute(void) {
  CK(sem_init(&ready, 0, 0));
  CK(sem_init(&done, 0, 0));
  CK(sem_init(&handled, 0, 0));
  install(SIGUSR2, on_sig, SA_RESTART);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  CK(pthread_sigmask(SIG_BLOCK, &s, NULL)); /* threads created now inherit it */
  pthread_t t[4];
  start(t, 4, route_worker); /* thread 2 unblocks SIGUSR2 */
  for (int k = 0; k < 4; k++) sem_wait_all(&ready);
  for (int round = 0; round < 5; round++) {
    CKE(kill(getpid(), SIGUSR2));
    sem_wait_all(&handled);
    printf("kill(getpid(), SIGUSR2), round %d: handled by the one thread that does not block it: %s\n", round, yesno(handled_in == open_tid));
  }
  for (int k = 0; k < 4; k++) sem_post(&done);
  join(t, 4);
  /* now every thread blocks it: it stays pending for the process until one unblocks */
  pthread_t u;
  CK(pthread_create(&u, NULL, late_unblocker, NULL));
  CKE(kill(getpid(), SIGUSR2));
  sigset_t p;
  sigpending(&p);
  printf("all threads block it: pending (seen from main): %s, handled yet: %s\n", yesno(sigismember(&p, SIGUSR2)), yesno(handled_count != 5));
  sem_post(&ready);
  sem_wait_all(&handled);
  CK(pthread_join(u, NULL));
  printf("a thread unblocks it: handled in that thread %s; pending after: ", yesno(handled_in == late_tid));
  sigpending(&p);
  printf("%s\n", yesno(sigismember(&p, SIGUSR2)));
}

/* ---- join_many: 200 threads one after another, then 32 alive at once ---- */
static pthread_barrier_t jbar;

static void *ret_twice(void *a) { return (void *)((intptr_t)a * 2); }

static void *ret_after_barrier(void *a) {
  pthread_barrier_wait(&jbar);
  return (void *)((intptr_t)a * 3);
}

static void c_join_many(void) {
  long sum = 0;
  for (intptr_t k = 0; k < 200; k++) {
    pthread_t t;
    void *r;
    CK(pthread_create(&t, NULL, ret_twice, (void *)k));
    CK(pthread_join(t, &r));
    sum += (intptr_t)r;
  }
  printf("join_many: 200 sequential, sum of results %ld (want %d)\n", sum, 199 * 200);
  CK(pthread_barrier_init(&jbar, NULL, 33));
  pthread_t t[32];
  for (intptr_t k = 0; k < 32; k++) CK(pthread_create(&t[k], NULL, ret_after_barrier, (void *)k));
  pthread_barrier_wait(&jbar); /* all 32 are alive here */
  sum = 0;
  for (int k = 31; k >= 0; k--) {
    void *r;
    CK(pthread_join(t[k], &r));
    sum += (intptr_t)r;
  }
  printf("join_many: 32 alive at once, joined in reverse, sum %ld (want %d)\n", sum, 3 * 31 * 32 / 2);
#ifdef __GLIBC__ /* musl does not check: the join waits forever */
  pthread_t self = pthread_self();
  printf("join_many: joining oneself: %s\n", errname(pthread_join(self, NULL)));
#endif
}

/* ---- sem: ping-pong between two threads 10000 times ---- */
static sem_t ping, pong;
static long pings, pongs;

static void *ponger(void *a) {
  (void)a;
  for (int i = 0; i < 10000; i++) {
    sem_wait_all(&ping);
    pongs++;
    sem_post(&pong);
  }
  return NULL;
}

static void c_sem(void) {
  CK(sem_init(&ping, 0, 0));
  CK(sem_init(&pong, 0, 0));
  pthread_t t;
  CK(pthread_create(&t, NULL, ponger, NULL));
  long order_bad = 0;
  for (int i = 0; i < 10000; i++) {
    pings++;
    sem_post(&ping);
    sem_wait_all(&pong);
    order_bad += pongs != pings;
  }
  CK(pthread_join(t, NULL));
  int v;
  sem_getvalue(&ping, &v);
  printf("sem: %ld pings, %ld pongs, out of step %ld, final value %d\n", pings, pongs, order_bad, v);
  errno = 0;
  int tr = sem_trywait(&ping);
  printf("sem: trywait on 0: %d %s\n", tr, errname(errno));
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_nsec += 10000000;
  if (dl.tv_nsec >= 1000000000) dl.tv_sec++, dl.tv_nsec -= 1000000000;
  errno = 0;
  tr = sem_timedwait(&ping, &dl);
  printf("sem: timedwait 10 ms on 0: %d %s\n", tr, errname(errno));
}

/* ---- once: pthread_once from 8 threads runs the routine once ---- */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs, once_seen;

static void once_routine(void) {
  sleep_ms(10); /* the others must wait for it, not skip it */
  once_runs++;
}

static void *once_worker(void *a) {
  (void)a;
  CK(pthread_once(&once, once_routine));
  __atomic_fetch_add(&once_seen, once_runs, __ATOMIC_SEQ_CST);
  return NULL;
}

static void c_once(void) {
  pthread_t t[8];
  start(t, 8, once_worker);
  join(t, 8);
  printf("once: routine ran %d times; every caller returned after it ran: %s\n", once_runs, yesno(once_seen == 8));
}

/* ---- key: thread-specific data and its destructors ---- */
static pthread_key_t key;
static int dtor_runs;
static long dtor_sum;

static void dtor(void *v) {
  __atomic_fetch_add(&dtor_runs, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&dtor_sum, (long)(intptr_t)v, __ATOMIC_SEQ_CST);
}

static void *key_worker(void *a) {
  intptr_t k = (intptr_t)a;
  int was_null = pthread_getspecific(key) == NULL;
  if (k != 3) CK(pthread_setspecific(key, (void *)(k + 10))); /* thread 3 leaves it NULL: no destructor */
  sched_yield();
  return (void *)(intptr_t)(was_null && (k == 3 || pthread_getspecific(key) == (void *)(k + 10)));
}

static void c_key(void) {
  CK(pthread_key_create(&key, dtor));
  CK(pthread_setspecific(key, (void *)1000));
  pthread_t t[4];
  start(t, 4, key_worker);
  int ok = 0;
  for (int k = 0; k < 4; k++) {
    void *r;
    CK(pthread_join(t[k], &r));
    ok += (int)(intptr_t)r;
  }
  printf("key: each thread started NULL and saw its own value: %d of 4\n", ok);
  printf("key: destructors ran %d times (want 3), sum of values %ld (want 33)\n", dtor_runs, dtor_sum);
  printf("key: main's value kept: %s\n", yesno(pthread_getspecific(key) == (void *)1000));
  CK(pthread_key_delete(key));
}

/* ---- stack: pthread_getattr_np, a requested stack size, a stack of our own ---- */
static int in_stack(pthread_t t, void *p, size_t *size) {
  pthread_attr_t at;
  void *addr;
  if (pthread_getattr_np(t, &at) != 0) return -1;
  CK(pthread_attr_getstack(&at, &addr, size));
  pthread_attr_destroy(&at);
  return (char *)p >= (char *)addr && (char *)p < (char *)addr + *size;
}

static void *stack_worker(void *a) {
  volatile char local = 1;
  size_t size;
  int in = in_stack(pthread_self(), (void *)&local, &size);
  size_t want = (size_t)(intptr_t)a;
  return (void *)(intptr_t)((in == 1) | (size >= want) << 1);
}

static void c_stack(void) {
  volatile char local = 1;
  size_t size;
  printf("stack: main's local inside pthread_getattr_np's stack: %s\n", yesno(in_stack(pthread_self(), (void *)&local, &size) == 1));
  pthread_attr_t at;
  pthread_t t;
  void *r;
  CK(pthread_attr_init(&at));
  CK(pthread_attr_setstacksize(&at, 1 << 20));
  CK(pthread_create(&t, &at, stack_worker, (void *)(intptr_t)(1 << 20)));
  CK(pthread_join(t, &r));
  printf("stack: 1 MiB requested: local inside %s, size at least 1 MiB %s\n", yesno((intptr_t)r & 1), yesno((intptr_t)r & 2));
  size_t sz = 256 << 10;
  char *mine = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mine == MAP_FAILED) { printf("FAIL mmap\n"); exit(1); }
  CK(pthread_attr_init(&at));
  CK(pthread_attr_setstack(&at, mine, sz));
  CK(pthread_create(&t, &at, stack_worker, (void *)(intptr_t)sz));
  CK(pthread_join(t, &r));
  /* (not its size: musl keeps the thread's TLS at the top of a small enough stack of our own) */
  printf("stack: a stack of our own (pthread_attr_setstack): local inside it: %s\n", yesno((intptr_t)r & 1));
  int touched = 0;
  for (size_t k = 0; k < sz; k++) touched += mine[k] != 0;
  printf("stack: the thread ran on it (some of its pages written): %s\n", yesno(touched > 0));
}

/* ---- yield: sched_yield in 4 threads, and the CPU count as threads see it ---- */
static int yield_fail;

static void *yielder(void *a) {
  (void)a;
  for (int i = 0; i < 2000; i++)
    if (sched_yield() != 0) __atomic_fetch_add(&yield_fail, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void c_yield(void) {
  pthread_t t[4];
  start(t, 4, yielder);
  join(t, 4);
  printf("yield: 8000 sched_yield calls, failures %d\n", yield_fail);
  cpu_set_t set;
  CKE(sched_getaffinity(0, sizeof set, &set));
  long onln = sysconf(_SC_NPROCESSORS_ONLN), conf = sysconf(_SC_NPROCESSORS_CONF);
  printf("yield: affinity count equals sysconf(_SC_NPROCESSORS_ONLN): %s; get_nprocs too: %s; CONF at least ONLN: %s; at least 1: %s\n",
         yesno(CPU_COUNT(&set) == onln), yesno(get_nprocs() == onln), yesno(conf >= onln), yesno(onln >= 1));
  int cpu = sched_getcpu();
  printf("yield: sched_getcpu in the affinity mask: %s\n", yesno(cpu >= 0 && CPU_ISSET(cpu, &set)));
}

/* ---- fork_in_thread: a thread forks; the child has one thread, whose tid is its pid ---- */
static void *forker(void *a) {
  (void)a;
  pid_t c = fork();
  if (c == 0) _exit(tid() == getpid() ? 5 : 6);
  int st = 0;
  if (c < 0 || waitpid(c, &st, 0) != c) return (void *)-1;
  return (void *)(intptr_t)WEXITSTATUS(st);
}

static void c_fork_in_thread(void) {
  start_busy_threads();
  pthread_t t;
  void *r;
  CK(pthread_create(&t, NULL, forker, NULL));
  CK(pthread_join(t, &r));
  printf("fork_in_thread: child's gettid equals its getpid (status 5): status %d\n", (int)(intptr_t)r);
  pid_t c = fork();
  if (c == 0) {
    /* only the forking thread exists in the child: exit at once although the parent's threads spin */
    _exit(7);
  }
  int st;
  waitpid(c, &st, 0);
  printf("fork_in_thread: main forks while 5 threads run: child status %d\n", WEXITSTATUS(st));
  spin_forever = 0;
}

/* ---- exec_in_thread: a non-main thread execs; the others vanish and the pid stays ---- */
static char pidarg[32];

static void *execer(void *a) {
  (void)a;
  execl("/bin/sh", "sh", "-c", "if [ $$ -eq \"$1\" ]; then echo exec from a thread: same pid; else echo exec from a thread: pid changed; fi", "sh", pidarg, (char *)0);
  printf("FAIL execl: %s\n", errname(errno));
  exit(1);
}

static void c_exec_in_thread(void) {
  start_busy_threads();
  snprintf(pidarg, sizeof pidarg, "%d", (int)getpid());
  printf("5 threads running; another execs /bin/sh\n");
  fflush(stdout);
  pthread_t t;
  CK(pthread_create(&t, NULL, execer, NULL));
  pthread_join(t, NULL);
  printf("FAIL: main returned from joining a thread that exec'd\n");
  exit(1);
}

/* ---- clone_einval: flag combinations Linux refuses (none has CLONE_VM, so a wrong success is a plain fork) ---- */
static void c_clone_einval(void) {
  static const struct { unsigned long flags; const char *name; } C[] = {
    {CLONE_THREAD, "CLONE_THREAD"},
    {CLONE_SIGHAND, "CLONE_SIGHAND"},
    {CLONE_THREAD | CLONE_SIGHAND, "CLONE_THREAD|CLONE_SIGHAND (no CLONE_VM)"},
    {CLONE_NEWNS | CLONE_FS, "CLONE_NEWNS|CLONE_FS"},
    {CLONE_NEWUSER | CLONE_FS, "CLONE_NEWUSER|CLONE_FS"},
  };
  for (size_t k = 0; k < sizeof C / sizeof C[0]; k++) {
    errno = 0;
    long r = syscall(SYS_clone, C[k].flags | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) _exit(0);
    if (r > 0) waitpid((pid_t)r, NULL, 0);
    printf("clone(%s): %s\n", C[k].name, r > 0 ? "created a child" : errname(errno));
  }
  errno = 0;
  long r = syscall(435 /* clone3 */, NULL, 0);
  printf("clone3(NULL, 0): %s\n", r >= 0 ? "created a child" : errname(errno));
  if (r == 0) _exit(0);
  struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; } args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_THREAD;
  args.exit_signal = SIGCHLD;
  errno = 0;
  r = syscall(435, &args, sizeof args);
  if (r == 0) _exit(0);
  if (r > 0) waitpid((pid_t)r, NULL, 0);
  printf("clone3(CLONE_THREAD alone): %s\n", r > 0 ? "created a child" : errname(errno));
  errno = 0;
  r = syscall(435, &args, 32); /* smaller than CLONE_ARGS_SIZE_VER0 */
  printf("clone3 with size 32: %s\n", r >= 0 ? "created a child" : errname(errno));
  if (r == 0) _exit(0);
}

static const struct sigcase CASES[] = {
  {"mutex", c_mutex}, {"mutex_types", c_mutex_types}, {"condvar", c_condvar}, {"broadcast", c_broadcast},
  {"cond_timedwait", c_cond_timedwait}, {"barrier", c_barrier}, {"rwlock", c_rwlock}, {"tls", c_tls},
  {"cancel", c_cancel}, {"detached", c_detached}, {"exit_while_running", c_exit_while_running},
  {"main_exit_running", c_main_exit_running}, {"main_returns", c_main_returns},
  {"main_pthread_exit", c_main_pthread_exit}, {"thread_segv", c_thread_segv}, {"atomics", c_atomics},
  {"ids", c_ids}, {"tgkill", c_tgkill}, {"sigmask", c_sigmask}, {"sigroute", c_sigroute},
  {"join_many", c_join_many}, {"sem", c_sem}, {"once", c_once}, {"key", c_key}, {"stack", c_stack},
  {"yield", c_yield}, {"fork_in_thread", c_fork_in_thread}, {"exec_in_thread", c_exec_in_thread},
  {"clone_einval", c_clone_einval},
};

CASES_MAIN(CASES)
