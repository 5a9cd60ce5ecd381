/* futex(2) called directly, one operation and its errors per case:
 * `futex CASE` prints each call's return value (or -1 and the errno name),
 * the woken and requeued counts, and the futex words' values afterwards.
 * Nothing printed depends on timing: a timeout prints only that it timed out
 * and that at least the asked time passed.
 *
 * Counts are exact because before each wake the program knows how many
 * threads are queued: await_waiters() asks the kernel, with
 * FUTEX_CMP_REQUEUE of the word onto itself (wake 0, requeue INT_MAX),
 * which moves nobody and returns how many wait there (Linux allows a
 * non-PI requeue onto the same word). The `count` case checks that first.
 * PI futexes (LOCK_PI, ...) are not used: glibc uses them only for
 * PTHREAD_PRIO_INHERIT mutexes. test/futex.test.ts runs each case natively
 * (the ground truth) and under faultline. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errname.h"
#include "sigcase.h"

/* <linux/futex.h>'s values: musl-gcc has no kernel headers. */
enum {
  FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
  FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256,
};
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_REQUEUE_PRIVATE (FUTEX_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_OP_PRIVATE (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_BITSET_PRIVATE (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY (-1)
enum { FUTEX_OP_SET = 0, FUTEX_OP_ADD = 1, FUTEX_OP_OR = 2, FUTEX_OP_ANDN = 3, FUTEX_OP_XOR = 4, FUTEX_OP_OPARG_SHIFT = 8 };
enum { FUTEX_OP_CMP_EQ = 0, FUTEX_OP_CMP_NE = 1, FUTEX_OP_CMP_LT = 2, FUTEX_OP_CMP_LE = 3, FUTEX_OP_CMP_GT = 4, FUTEX_OP_CMP_GE = 5 };
#define FUTEX_OP(op, oparg, cmp, cmparg) ((int)((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff)))
#define FUTEX_OWNER_DIED 0x40000000
#define FUTEX_TID_MASK 0x3fffffff
struct robust_list_head { void *list; long futex_offset; void *list_op_pending; };

#define CK(call) do { int e_ = (call); if (e_) { printf("FAIL %s:%d: %s: %s\n", __func__, __LINE__, #call, errname(e_)); exit(1); } } while (0)

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }
static const char *yesno(int b) { return b ? "yes" : "no"; }

static long fx(void *uaddr, int op, int val, const void *ts_or_val2, void *uaddr2, int val3) {
  return syscall(SYS_futex, uaddr, op, val, ts_or_val2, uaddr2, val3);
}
/* FUTEX_REQUEUE, CMP_REQUEUE and WAKE_OP take a count where the timeout goes. */
#define V2(n) ((const void *)(long)(n))

static void res(const char *what, long r, int e) {
  if (r == -1) printf("%s: -1 %s\n", what, errname(e));
  else if (r < -1) printf("%s: %ld (a raw error number?)\n", what, r);
  else printf("%s: %ld\n", what, r);
}
#define SHOW(what, call) do { errno = 0; long r_ = (call); res(what, r_, errno); } while (0)

static long ms_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static struct timespec in_ms(clockid_t clk, long ms) {
  struct timespec t;
  clock_gettime(clk, &t);
  t.tv_nsec += (ms % 1000) * 1000000L;
  t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000;
  t.tv_nsec %= 1000000000;
  return t;
}

/* How many wait on uaddr (flags: 0 or FUTEX_PRIVATE_FLAG): a requeue onto itself moves nobody. */
static long count_waiters(int *uaddr, int flags) {
  return fx(uaddr, FUTEX_CMP_REQUEUE | flags, 0, V2(INT_MAX), uaddr, *(volatile int *)uaddr);
}

/* Waits (10 s at most) until exactly n wait on uaddr; exits 1 if they never do. */
static void await_waiters(int *uaddr, int flags, long n) {
  long c = -2;
  for (int k = 0; k < 10000; k++) {
    c = count_waiters(uaddr, flags);
    if (c == n) return;
    if (c > n || c < 0) break;
    sleep_ms(1);
  }
  printf("FAIL: want %ld waiters queued, the kernel counts %ld%s%s\n", n, c, c < 0 ? " " : "", c < 0 ? errname(errno) : "");
  exit(1);
}

/* One thread's futex call, made once. */
struct waiter {
  int *addr;
  int op, val, val3;
  int has_ts;
  struct timespec ts;
  long ret;
  int err;
  pid_t tid;
  pthread_t th;
};

static void *waiter_fn(void *p) {
  struct waiter *w = p;
  w->tid = tid();
  errno = 0;
  w->ret = fx(w->addr, w->op, w->val, w->has_ts ? &w->ts : NULL, NULL, w->val3);
  w->err = errno;
  return NULL;
}

static void spawn(struct waiter *w, int *addr, int op, int val, int val3) {
  memset(w, 0, sizeof *w);
  w->addr = addr, w->op = op, w->val = val, w->val3 = val3;
  CK(pthread_create(&w->th, NULL, waiter_fn, w));
}

static void reap(struct waiter *w, const char *what) {
  CK(pthread_join(w->th, NULL));
  res(what, w->ret, w->err);
}

/* ---- count: the waiter count await_waiters relies on ---- */
static int word_a, word_b;

static void c_count(void) {
  SHOW("count with nobody waiting", count_waiters(&word_a, FUTEX_PRIVATE_FLAG));
  struct waiter w[3];
  for (int k = 0; k < 3; k++) spawn(&w[k], &word_a, FUTEX_WAIT_PRIVATE, 0, 0);
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 3);
  SHOW("count with 3 waiting (asked twice)", count_waiters(&word_a, FUTEX_PRIVATE_FLAG));
  SHOW("count again: requeueing onto itself moved nobody", count_waiters(&word_a, FUTEX_PRIVATE_FLAG));
  SHOW("count of shared waiters (the 3 wait private)", count_waiters(&word_a, 0));
  SHOW("FUTEX_WAKE_PRIVATE INT_MAX", fx(&word_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  for (int k = 0; k < 3; k++) reap(&w[k], "waiter returned");
  SHOW("count after the wake", count_waiters(&word_a, FUTEX_PRIVATE_FLAG));
}

/* ---- wait_eagain: the word differs from the expected value ---- */
static void c_wait_eagain(void) {
  int w = 1;
  struct timespec ts = {5, 0};
  SHOW("FUTEX_WAIT, word 1, expected 2", fx(&w, FUTEX_WAIT, 2, NULL, NULL, 0));
  SHOW("FUTEX_WAIT_PRIVATE, word 1, expected 0", fx(&w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT with a 5 s timeout, word 1, expected 2", fx(&w, FUTEX_WAIT, 2, &ts, NULL, 0));
  SHOW("FUTEX_WAIT_BITSET, word 1, expected 3", fx(&w, FUTEX_WAIT_BITSET, 3, NULL, NULL, FUTEX_BITSET_MATCH_ANY));
  w = -1;
  SHOW("FUTEX_WAIT, word -1, expected 0xffffffff as unsigned", fx(&w, FUTEX_WAIT, (int)0xfffffffe, NULL, NULL, 0));
}

/* ---- wait_timeout_rel: a relative timeout ---- */
static void c_wait_timeout_rel(void) {
  int w = 0;
  struct timespec t0, ts = {0, 20000000};
  for (int priv = 0; priv < 2; priv++) {
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errno = 0;
    long r = fx(&w, priv ? FUTEX_WAIT_PRIVATE : FUTEX_WAIT, 0, &ts, NULL, 0);
    int e = errno;
    long ms = ms_since(&t0);
    printf("%s 20 ms: %ld %s, at least 20 ms passed: %s\n", priv ? "FUTEX_WAIT_PRIVATE" : "FUTEX_WAIT", r, errname(e), yesno(ms >= 20));
  }
  struct timespec zero = {0, 0};
  SHOW("FUTEX_WAIT with a zero timeout", fx(&w, FUTEX_WAIT, 0, &zero, NULL, 0));
  struct timespec bad = {0, 1000000000};
  SHOW("FUTEX_WAIT, tv_nsec 1000000000", fx(&w, FUTEX_WAIT, 0, &bad, NULL, 0));
  struct timespec neg = {-1, 0};
  SHOW("FUTEX_WAIT, tv_sec -1", fx(&w, FUTEX_WAIT, 0, &neg, NULL, 0));
  struct timespec negns = {0, -1};
  SHOW("FUTEX_WAIT, tv_nsec -1", fx(&w, FUTEX_WAIT, 0, &negns, NULL, 0));
}

/* ---- wait_bitset_abs: FUTEX_WAIT_BITSET takes an absolute deadline, on either clock ---- */
static void c_wait_bitset_abs(void) {
  int w = 0;
  struct timespec t0, dl;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  dl = in_ms(CLOCK_MONOTONIC, 20);
  errno = 0;
  long r = fx(&w, FUTEX_WAIT_BITSET, 0, &dl, NULL, FUTEX_BITSET_MATCH_ANY);
  int e = errno;
  printf("WAIT_BITSET, CLOCK_MONOTONIC deadline 20 ms ahead: %ld %s, at least 20 ms passed: %s\n", r, errname(e), yesno(ms_since(&t0) >= 20));
  clock_gettime(CLOCK_MONOTONIC, &t0);
  dl = in_ms(CLOCK_REALTIME, 20);
  errno = 0;
  r = fx(&w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME | FUTEX_PRIVATE_FLAG, 0, &dl, NULL, FUTEX_BITSET_MATCH_ANY);
  e = errno;
  printf("WAIT_BITSET|CLOCK_REALTIME|PRIVATE, CLOCK_REALTIME deadline 20 ms ahead: %ld %s, at least 19 ms passed: %s\n", r, errname(e), yesno(ms_since(&t0) >= 19));
  struct timespec past = {0, 0};
  SHOW("WAIT_BITSET, CLOCK_MONOTONIC deadline 0 (long past)", fx(&w, FUTEX_WAIT_BITSET, 0, &past, NULL, FUTEX_BITSET_MATCH_ANY));
  dl = in_ms(CLOCK_REALTIME, 0);
  dl.tv_sec -= 5;
  SHOW("WAIT_BITSET|CLOCK_REALTIME, deadline 5 s ago", fx(&w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &dl, NULL, FUTEX_BITSET_MATCH_ANY));
  /* a CLOCK_MONOTONIC-sized deadline read as CLOCK_REALTIME is decades ago */
  dl = in_ms(CLOCK_MONOTONIC, 5000);
  SHOW("WAIT_BITSET|CLOCK_REALTIME with a CLOCK_MONOTONIC time 5 s ahead", fx(&w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &dl, NULL, FUTEX_BITSET_MATCH_ANY));
  w = 5;
  dl = in_ms(CLOCK_MONOTONIC, 5000);
  SHOW("WAIT_BITSET, value differs, deadline ahead", fx(&w, FUTEX_WAIT_BITSET, 0, &dl, NULL, FUTEX_BITSET_MATCH_ANY));
}

/* ---- wake_none: a wake with nobody waiting ---- */
static void c_wake_none(void) {
  int w = 0;
  SHOW("FUTEX_WAKE 1", fx(&w, FUTEX_WAKE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE INT_MAX", fx(&w, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  SHOW("FUTEX_WAKE_PRIVATE 1", fx(&w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE 0", fx(&w, FUTEX_WAKE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAKE -1", fx(&w, FUTEX_WAKE, -1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE_BITSET any", fx(&w, FUTEX_WAKE_BITSET, 1, NULL, NULL, FUTEX_BITSET_MATCH_ANY));
  printf("the word is untouched: %d\n", w);
}

/* ---- wait_wake: a thread waits, main wakes it ---- */
static void c_wait_wake(void) {
  struct waiter w;
  spawn(&w, &word_a, FUTEX_WAIT, 0, 0);
  await_waiters(&word_a, 0, 1);
  SHOW("FUTEX_WAKE 1 with one waiter", fx(&word_a, FUTEX_WAKE, 1, NULL, NULL, 0));
  reap(&w, "its FUTEX_WAIT returned");
  spawn(&w, &word_a, FUTEX_WAIT_PRIVATE, 0, 0);
  w.has_ts = 0;
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 1);
  SHOW("FUTEX_WAKE_PRIVATE 0 with one waiter (Linux wakes one anyway)", fx(&word_a, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0));
  reap(&w, "its FUTEX_WAIT_PRIVATE returned");
  /* a waiter with a timeout, woken long before it */
  memset(&w, 0, sizeof w);
  w.addr = &word_a, w.op = FUTEX_WAIT, w.val = 0, w.has_ts = 1, w.ts.tv_sec = 30;
  CK(pthread_create(&w.th, NULL, waiter_fn, &w));
  await_waiters(&word_a, 0, 1);
  SHOW("FUTEX_WAKE of a waiter with a 30 s timeout", fx(&word_a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  reap(&w, "its FUTEX_WAIT returned");
  printf("the word is still %d (a wake does not change it)\n", word_a);
}

/* ---- wake_n: 5 waiters, WAKE 2 then WAKE INT_MAX ---- */
static void c_wake_n(void) {
  struct waiter w[5];
  for (int k = 0; k < 5; k++) spawn(&w[k], &word_a, FUTEX_WAIT_PRIVATE, 0, 0);
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 5);
  SHOW("FUTEX_WAKE 2 of 5", fx(&word_a, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0));
  SHOW("still waiting", count_waiters(&word_a, FUTEX_PRIVATE_FLAG));
  SHOW("FUTEX_WAKE INT_MAX", fx(&word_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  SHOW("still waiting", count_waiters(&word_a, FUTEX_PRIVATE_FLAG));
  int zero = 0;
  for (int k = 0; k < 5; k++) {
    CK(pthread_join(w[k].th, NULL));
    zero += w[k].ret == 0;
  }
  printf("waiters whose FUTEX_WAIT returned 0: %d of 5\n", zero);
}

/* ---- bitset: WAKE_BITSET wakes the waiters whose bitset intersects its own ---- */
static void c_bitset(void) {
  struct waiter a, b;
  spawn(&a, &word_a, FUTEX_WAIT_BITSET_PRIVATE, 0, 0x1);
  spawn(&b, &word_a, FUTEX_WAIT_BITSET_PRIVATE, 0, 0x6);
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 2);
  SHOW("WAKE_BITSET 0x8 (waiters hold 0x1 and 0x6)", fx(&word_a, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x8));
  SHOW("WAKE_BITSET 0x2", fx(&word_a, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x2));
  reap(&b, "the 0x6 waiter returned");
  SHOW("still waiting", count_waiters(&word_a, FUTEX_PRIVATE_FLAG));
  SHOW("WAKE_BITSET 0", fx(&word_a, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0));
  SHOW("plain FUTEX_WAKE (bitset all ones)", fx(&word_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  reap(&a, "the 0x1 waiter returned");
  /* a plain FUTEX_WAIT waits with all bits set */
  spawn(&a, &word_a, FUTEX_WAIT_PRIVATE, 0, 0);
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 1);
  SHOW("WAKE_BITSET 0x80000000 to a plain FUTEX_WAIT", fx(&word_a, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, (int)0x80000000));
  reap(&a, "the plain waiter returned");
}

/* ---- requeue: 3 waiters on A; wake 1, move 2 to B; WAKE B wakes 2 ---- */
static void c_requeue(void) {
  struct waiter w[3];
  for (int k = 0; k < 3; k++) spawn(&w[k], &word_a, FUTEX_WAIT_PRIVATE, 0, 0);
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 3);
  SHOW("FUTEX_REQUEUE A->B, wake 1, requeue 2 (woken + requeued)", fx(&word_a, FUTEX_REQUEUE_PRIVATE, 1, V2(2), &word_b, 0));
  SHOW("waiting on A", count_waiters(&word_a, FUTEX_PRIVATE_FLAG));
  SHOW("waiting on B", count_waiters(&word_b, FUTEX_PRIVATE_FLAG));
  SHOW("FUTEX_WAKE A", fx(&word_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  SHOW("FUTEX_WAKE B", fx(&word_b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  int zero = 0;
  for (int k = 0; k < 3; k++) {
    CK(pthread_join(w[k].th, NULL));
    zero += w[k].ret == 0;
  }
  printf("waiters whose FUTEX_WAIT returned 0: %d of 3\n", zero);
  /* requeue with more asked than there are */
  for (int k = 0; k < 2; k++) spawn(&w[k], &word_a, FUTEX_WAIT_PRIVATE, 0, 0);
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 2);
  SHOW("FUTEX_REQUEUE wake 0, requeue 10 of 2", fx(&word_a, FUTEX_REQUEUE_PRIVATE, 0, V2(10), &word_b, 0));
  SHOW("FUTEX_WAKE B", fx(&word_b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  for (int k = 0; k < 2; k++) CK(pthread_join(w[k].th, NULL));
}

/* ---- cmp_requeue: EAGAIN when the word is not val3; the counts when it is ---- */
static void c_cmp_requeue(void) {
  struct waiter w[3];
  for (int k = 0; k < 3; k++) spawn(&w[k], &word_a, FUTEX_WAIT, 0, 0);
  await_waiters(&word_a, 0, 3);
  SHOW("FUTEX_CMP_REQUEUE, val3 1 but A is 0", fx(&word_a, FUTEX_CMP_REQUEUE, 1, V2(1), &word_b, 1));
  SHOW("waiting on A", count_waiters(&word_a, 0));
  SHOW("FUTEX_CMP_REQUEUE, nr_wake -1", fx(&word_a, FUTEX_CMP_REQUEUE, -1, V2(1), &word_b, 0));
  SHOW("FUTEX_CMP_REQUEUE, nr_requeue -1", fx(&word_a, FUTEX_CMP_REQUEUE, 1, V2(-1), &word_b, 0));
  SHOW("FUTEX_CMP_REQUEUE A->B, val3 0, wake 1, requeue 1", fx(&word_a, FUTEX_CMP_REQUEUE, 1, V2(1), &word_b, 0));
  SHOW("waiting on A", count_waiters(&word_a, 0));
  SHOW("waiting on B", count_waiters(&word_b, 0));
  SHOW("private count on B (they wait shared)", count_waiters(&word_b, FUTEX_PRIVATE_FLAG));
  SHOW("FUTEX_WAKE A", fx(&word_a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  SHOW("FUTEX_WAKE B", fx(&word_b, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  int zero = 0;
  for (int k = 0; k < 3; k++) {
    CK(pthread_join(w[k].th, NULL));
    zero += w[k].ret == 0;
  }
  printf("waiters whose FUTEX_WAIT returned 0: %d of 3\n", zero);
}

/* ---- wake_op: an atomic op on the second word, then a wake conditional on its old value ---- */
static void c_wake_op(void) {
  struct waiter a, b;
  word_a = 0, word_b = 3;
  spawn(&a, &word_a, FUTEX_WAIT_PRIVATE, 0, 0);
  spawn(&b, &word_b, FUTEX_WAIT_PRIVATE, 3, 0);
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 1);
  await_waiters(&word_b, FUTEX_PRIVATE_FLAG, 1);
  SHOW("WAKE_OP A 1, B += 5 then wake 1 on B if old > 2", fx(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, V2(1), &word_b, FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_GT, 2)));
  printf("B is now %d\n", word_b);
  reap(&a, "A's waiter returned");
  reap(&b, "B's waiter returned");
  spawn(&a, &word_a, FUTEX_WAIT_PRIVATE, 0, 0);
  spawn(&b, &word_b, FUTEX_WAIT_PRIVATE, 8, 0);
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 1);
  await_waiters(&word_b, FUTEX_PRIVATE_FLAG, 1);
  SHOW("WAKE_OP A 1, B = 1 then wake on B if old == 0", fx(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, V2(1), &word_b, FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0)));
  printf("B is now %d\n", word_b);
  reap(&a, "A's waiter returned");
  SHOW("B's waiter still queued (the word changed under it)", count_waiters(&word_b, FUTEX_PRIVATE_FLAG));
  SHOW("FUTEX_WAKE B", fx(&word_b, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  reap(&b, "B's waiter returned");

  /* each comparison of old value 5 with 5, with one waiter on B (B = 5 stays 5) */
  static const struct { int cmp; const char *name; } CMP[] = {
    {FUTEX_OP_CMP_EQ, "EQ"}, {FUTEX_OP_CMP_NE, "NE"}, {FUTEX_OP_CMP_LT, "LT"},
    {FUTEX_OP_CMP_LE, "LE"}, {FUTEX_OP_CMP_GT, "GT"}, {FUTEX_OP_CMP_GE, "GE"},
  };
  word_b = 5;
  for (int k = 0; k < 6; k++) {
    spawn(&b, &word_b, FUTEX_WAIT_PRIVATE, 5, 0);
    await_waiters(&word_b, FUTEX_PRIVATE_FLAG, 1);
    errno = 0;
    long r = fx(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, V2(1), &word_b, FUTEX_OP(FUTEX_OP_SET, 5, CMP[k].cmp, 5));
    printf("WAKE_OP SET 5, old 5 %s 5: woke %ld\n", CMP[k].name, r);
    if (r == 0) fx(&word_b, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    CK(pthread_join(b.th, NULL));
  }
  /* the operations on B with nobody waiting: the new value */
  static const struct { int op, arg; const char *name; } OPS[] = {
    {FUTEX_OP_SET, 0x70, "SET 0x70"}, {FUTEX_OP_ADD, 0x10, "ADD 0x10"}, {FUTEX_OP_OR, 0x3, "OR 0x3"},
    {FUTEX_OP_ANDN, 0x1, "ANDN 0x1"}, {FUTEX_OP_XOR, 0xff, "XOR 0xff"},
    {FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT, 12, "OR 1<<12"}, {FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 0, "SET 1<<0"},
    {FUTEX_OP_ADD, -1, "ADD -1 (12-bit sign-extended)"},
  };
  word_b = 0;
  for (size_t k = 0; k < sizeof OPS / sizeof OPS[0]; k++) {
    errno = 0;
    long r = fx(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, V2(1), &word_b, FUTEX_OP(OPS[k].op, OPS[k].arg & 0xfff, FUTEX_OP_CMP_EQ, 0));
    printf("WAKE_OP %s: %ld, B is now %#x\n", OPS[k].name, r, (unsigned)word_b);
  }
  word_b = 9;
  SHOW("WAKE_OP with op 7", fx(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, V2(1), &word_b, (int)(7u << 28 | 1u << 12)));
  printf("B is now %d\n", word_b);
  SHOW("WAKE_OP SET 4 with comparison 6", fx(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, V2(1), &word_b, (int)(0u << 28 | 6u << 24 | 4u << 12)));
  printf("B is now %d\n", word_b);
}

/* ---- einval: bad operations and addresses ---- */
static void c_einval(void) {
  int w[2] = {0, 0};
  SHOW("op 99", fx(w, 99, 0, NULL, NULL, 0));
  SHOW("op 99 | FUTEX_PRIVATE_FLAG", fx(w, 99 | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAKE | FUTEX_CLOCK_REALTIME", fx(w, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAIT_BITSET, bitset 0", fx(w, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAKE_BITSET, bitset 0", fx(w, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0));
  char *mis = (char *)w + 1;
  SHOW("FUTEX_WAIT, uaddr misaligned", fx(mis, FUTEX_WAIT, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAKE, uaddr misaligned", fx(mis, FUTEX_WAKE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE_PRIVATE, uaddr misaligned", fx(mis, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_CMP_REQUEUE, uaddr2 misaligned", fx(w, FUTEX_CMP_REQUEUE, 1, V2(1), mis, 0));
  SHOW("FUTEX_WAIT, uaddr NULL", fx(NULL, FUTEX_WAIT, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT_PRIVATE, uaddr NULL", fx(NULL, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAKE, uaddr NULL", fx(NULL, FUTEX_WAKE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE_PRIVATE, uaddr NULL", fx(NULL, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
  char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(page + 4096, 4096);
  SHOW("FUTEX_WAIT, uaddr unmapped", fx(page + 4096, FUTEX_WAIT, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT_PRIVATE, uaddr unmapped", fx(page + 4096, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAKE, uaddr unmapped", fx(page + 4096, FUTEX_WAKE, 1, NULL, NULL, 0));
  mprotect(page, 4096, PROT_NONE);
  SHOW("FUTEX_WAIT, uaddr PROT_NONE", fx(page, FUTEX_WAIT, 0, NULL, NULL, 0));
  mprotect(page, 4096, PROT_READ);
  SHOW("FUTEX_WAIT_PRIVATE, uaddr PROT_READ, value differs (readable is enough)", fx(page, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAIT (shared), uaddr a read-only anonymous page (never a shared futex)", fx(page, FUTEX_WAIT, 1, NULL, NULL, 0));
  SHOW("FUTEX_WAKE_OP, uaddr2 PROT_READ", fx(w, FUTEX_WAKE_OP_PRIVATE, 1, V2(1), page, FUTEX_OP(FUTEX_OP_SET, 1, FUTEX_OP_CMP_EQ, 0)));
  SHOW("FUTEX_WAIT, uaddr a kernel address", fx((void *)0xffff880000000000UL, FUTEX_WAIT, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT, uaddr non-canonical", fx((void *)0x0000900000000000UL, FUTEX_WAIT, 0, NULL, NULL, 0));
  SHOW("FUTEX_WAIT, timeout pointer unmapped", fx(w, FUTEX_WAIT, 0, page + 4096, NULL, 0));
  munmap(page, 4096);
}

/* ---- private_vs_shared: a private wake reaches only private waiters, a shared wake only shared ones ---- */
static void c_private_vs_shared(void) {
  struct waiter w;
  spawn(&w, &word_a, FUTEX_WAIT_PRIVATE, 0, 0);
  await_waiters(&word_a, FUTEX_PRIVATE_FLAG, 1);
  SHOW("private waiter: shared FUTEX_WAKE", fx(&word_a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  SHOW("private waiter: FUTEX_WAKE_PRIVATE", fx(&word_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  reap(&w, "its FUTEX_WAIT_PRIVATE returned");
  spawn(&w, &word_a, FUTEX_WAIT, 0, 0);
  await_waiters(&word_a, 0, 1);
  SHOW("shared waiter: FUTEX_WAKE_PRIVATE", fx(&word_a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  SHOW("shared waiter: shared FUTEX_WAKE", fx(&word_a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  reap(&w, "its FUTEX_WAIT returned");
}

/* ---- shared_fork: shared futexes on MAP_SHARED memory, across processes and mappings ---- */
static int child_wait(int *word, int op) {
  pid_t c = fork();
  if (c == 0) {
    long r = fx(word, op, 0, NULL, NULL, 0);
    _exit(r == 0 ? 10 : r == -1 && errno == EAGAIN ? 11 : 12);
  }
  return c;
}

static void reap_child(pid_t c, const char *what) {
  int st = 0;
  waitpid(c, &st, 0);
  printf("%s: child status %d (10: woken)\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void c_shared_fork(void) {
  int *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) { printf("FAIL mmap\n"); exit(1); }
  pid_t c = child_wait(sh, FUTEX_WAIT);
  await_waiters(sh, 0, 1);
  SHOW("MAP_SHARED anon, child waits: parent's FUTEX_WAKE_PRIVATE", fx(sh, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  SHOW("MAP_SHARED anon, child waits: parent's shared count", count_waiters(sh, 0));
  SHOW("MAP_SHARED anon, child waits: parent's shared FUTEX_WAKE", fx(sh, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  reap_child(c, "MAP_SHARED anon");

  char path[] = "/tmp/futex-shared-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0 || ftruncate(fd, 8192) != 0) { printf("FAIL mkstemp/ftruncate: %s\n", errname(errno)); exit(1); }
  unlink(path);
  int *m1 = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
  int *m3 = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m1 == MAP_FAILED || m2 == MAP_FAILED || m3 == MAP_FAILED) { printf("FAIL mmap file\n"); exit(1); }
  int *w1 = m1 + 1024 + 3; /* page 1, word 3 */
  int *w2 = m2 + 3;        /* the same word through another mapping */
  struct waiter w;
  spawn(&w, w1, FUTEX_WAIT, 0, 0);
  await_waiters(w2, 0, 1);
  SHOW("file mapped twice, a thread waits through one: shared count through the other", count_waiters(w2, 0));
  SHOW("  private count through the other", count_waiters(w2, FUTEX_PRIVATE_FLAG));
  SHOW("  shared FUTEX_WAKE through the other", fx(w2, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  reap(&w, "  the waiter's FUTEX_WAIT returned");

  c = fork();
  if (c == 0) {
    /* the child maps the file anew, at an address of its own */
    munmap(m1, 8192);
    int *mine = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
    long r = fx(mine + 3, FUTEX_WAIT, 0, NULL, NULL, 0);
    _exit(r == 0 ? 10 : 12);
  }
  await_waiters(m3 + 1024 + 3, 0, 1);
  SHOW("child maps the file itself and waits: parent's shared FUTEX_WAKE", fx(m3 + 1024 + 3, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  reap_child(c, "file mapping");

  /* a private anonymous word after fork is the child's own: the parent's wake finds nobody */
  word_a = 0;
  c = child_wait(&word_a, FUTEX_WAIT);
  sleep_ms(20);
  SHOW("MAP_PRIVATE word, child waits: parent's shared count", count_waiters(&word_a, 0));
  SHOW("MAP_PRIVATE word, child waits: parent's shared FUTEX_WAKE", fx(&word_a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  kill(c, SIGKILL);
  reap_child(c, "MAP_PRIVATE word, killed");
}

/* ---- eintr: a signal while waiting: EINTR, or restarted, as Linux decides ---- */
static volatile pid_t handled_in;
static volatile int handled;

static void on_usr1(int s) {
  (void)s;
  handled_in = tid();
  handled++;
}

static void install(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
}

static void signal_waiter(const char *what, int flags, int op, int has_ts, int wake_after) {
  install(flags);
  struct waiter w;
  memset(&w, 0, sizeof w);
  w.addr = &word_a, w.op = op, w.val = 0, w.val3 = FUTEX_BITSET_MATCH_ANY, w.has_ts = has_ts;
  if (has_ts) w.ts = op == FUTEX_WAIT_BITSET ? in_ms(CLOCK_MONOTONIC, 30000) : (struct timespec){30, 0};
  int before = handled;
  CK(pthread_create(&w.th, NULL, waiter_fn, &w));
  await_waiters(&word_a, 0, 1);
  CK(pthread_kill(w.th, SIGUSR1));
  if (wake_after) {
    for (int k = 0; k < 10000 && handled == before; k++) sleep_ms(1);
    await_waiters(&word_a, 0, 1); /* restarted: queued again */
    SHOW("  after the handler, FUTEX_WAKE", fx(&word_a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  }
  CK(pthread_join(w.th, NULL));
  printf("%s: %ld %s; handler ran once, in the waiter: %s\n", what, w.ret, w.ret ? errname(w.err) : "", yesno(handled == before + 1 && handled_in == w.tid));
}

static void c_eintr(void) {
  signal_waiter("FUTEX_WAIT, handler without SA_RESTART", 0, FUTEX_WAIT, 0, 0);
  signal_waiter("FUTEX_WAIT with a 30 s timeout, handler without SA_RESTART", 0, FUTEX_WAIT, 1, 0);
  signal_waiter("FUTEX_WAIT, SA_RESTART handler (restarted, then woken)", SA_RESTART, FUTEX_WAIT, 0, 1);
  signal_waiter("FUTEX_WAIT with a 30 s timeout, SA_RESTART handler", SA_RESTART, FUTEX_WAIT, 1, 0);
  signal_waiter("FUTEX_WAIT_BITSET with a deadline, SA_RESTART handler", SA_RESTART, FUTEX_WAIT_BITSET, 1, 0);
  /* a signal whose default is to be ignored does not end the wait */
  struct waiter w;
  spawn(&w, &word_a, FUTEX_WAIT, 0, 0);
  await_waiters(&word_a, 0, 1);
  CK(pthread_kill(w.th, SIGWINCH));
  sleep_ms(20);
  SHOW("SIGWINCH (default: ignore) to the waiter; still waiting", count_waiters(&word_a, 0));
  SHOW("FUTEX_WAKE", fx(&word_a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0));
  reap(&w, "its FUTEX_WAIT returned");
}

/* ---- robust: a robust mutex's owner dies holding it ---- */
static pthread_mutex_t rm;

/* The mutex's futex word (the kernel's robust-list walk sets FUTEX_OWNER_DIED in it). */
static int *mutex_word(pthread_mutex_t *m) {
#ifdef __GLIBC__
  return (int *)m; /* __data.__lock */
#else
  return (int *)m + 1; /* musl: _m_lock, after _m_type */
#endif
}

static void *lock_and_leave(void *a) {
  pthread_mutex_t *m = a;
  int r = pthread_mutex_lock(m);
  struct robust_list_head *head = NULL;
  size_t len = 0;
  long g = syscall(SYS_get_robust_list, 0, &head, &len);
  return (void *)(intptr_t)((r == 0) | (g == 0 && head != NULL && len == sizeof(struct robust_list_head)) << 1);
}

static void make_robust(pthread_mutex_t *m, int pshared) {
  pthread_mutexattr_t at;
  CK(pthread_mutexattr_init(&at));
  CK(pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST));
  if (pshared) CK(pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED));
  CK(pthread_mutex_init(m, &at));
}

static void owner_dies(pthread_mutex_t *m) {
  pthread_t t;
  void *ok;
  CK(pthread_create(&t, NULL, lock_and_leave, m));
  CK(pthread_join(t, &ok));
  /* glibc registers every thread's list; musl only for process-shared robust mutexes (it walks its own list at pthread_exit) */
  printf("a thread locked it: %s; get_robust_list in it: a list of %zu bytes registered %s\n", yesno((intptr_t)ok & 1), sizeof(struct robust_list_head), yesno((intptr_t)ok & 2));
  printf("  the word after its death: FUTEX_OWNER_DIED %s, a tid left in it %s\n", yesno((*mutex_word(m) & FUTEX_OWNER_DIED) != 0), yesno((*mutex_word(m) & FUTEX_TID_MASK) != 0));
}

static void c_robust(void) {
  make_robust(&rm, 0);
  owner_dies(&rm);
  printf("pthread_mutex_lock: %s\n", errname(pthread_mutex_lock(&rm)));
  printf("pthread_mutex_consistent: %s\n", errname(pthread_mutex_consistent(&rm)));
  printf("unlock: %s\n", errname(pthread_mutex_unlock(&rm)));
  printf("lock: %s\n", errname(pthread_mutex_lock(&rm)));
  printf("unlock: %s\n", errname(pthread_mutex_unlock(&rm)));

  owner_dies(&rm);
  printf("trylock: %s\n", errname(pthread_mutex_trylock(&rm)));
  printf("unlock without making it consistent: %s\n", errname(pthread_mutex_unlock(&rm)));
  printf("lock: %s\n", errname(pthread_mutex_lock(&rm)));

  /* process-shared, in MAP_SHARED memory: a child process dies holding it */
  pthread_mutex_t *pm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  for (int kill9 = 0; kill9 < 2; kill9++) {
    make_robust(pm, 1);
    int pfd[2];
    if (pipe(pfd) != 0) exit(1);
    pid_t c = fork();
    if (c == 0) {
      pthread_mutex_lock(pm);
      if (write(pfd[1], "x", 1) != 1) _exit(2);
      if (kill9) for (;;) pause();
      _exit(0);
    }
    char x;
    if (read(pfd[0], &x, 1) != 1) exit(1);
    if (kill9) kill(c, SIGKILL);
    int st;
    waitpid(c, &st, 0);
    int l = pthread_mutex_lock(pm);
    int co = pthread_mutex_consistent(pm);
    int u = pthread_mutex_unlock(pm);
    printf("process-shared, the child %s holding it: lock %s, consistent %s, unlock %s\n", kill9 ? "killed by SIGKILL" : "exits", errname(l), errname(co), errname(u));
    close(pfd[0]);
    close(pfd[1]);
  }
}

/* ---- clear_child_tid: raw clone threads, the tid words the kernel sets and clears ---- */
static volatile int go;
static pid_t ctid, ptid, ctid_a, ctid_b, child_tid;
static volatile int child_saw_settid, child_set_tid_ret;

/* A system call without libc: these children share the main thread's TLS (no CLONE_SETTLS), so not its errno. */
static long raw4(long n, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}

static int raw_child(void *arg) {
  (void)arg;
  child_tid = (pid_t)raw4(SYS_gettid, 0, 0, 0, 0);
  child_saw_settid = ctid == child_tid; /* CLONE_CHILD_SETTID wrote it before the child ran */
  while (!go) raw4(SYS_futex, (long)&go, FUTEX_WAIT_PRIVATE, 0, 0);
  return 0; /* the clone wrapper calls exit (not exit_group) */
}

static int moving_child(void *arg) {
  (void)arg;
  child_set_tid_ret = raw4(SYS_set_tid_address, (long)&ctid_b, 0, 0, 0) == raw4(SYS_gettid, 0, 0, 0, 0);
  return 0;
}

static void c_clear_child_tid(void) {
  const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
  size_t sz = 64 << 10;
  char *stack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  ctid = ptid = -1;
  pid_t t = clone(raw_child, stack + sz, flags | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID, NULL, &ptid, NULL, &ctid);
  if (t < 0) { printf("FAIL clone: %s\n", errname(errno)); exit(1); }
  printf("CLONE_PARENT_SETTID: the parent's word holds the new tid when clone returns: %s\n", yesno(ptid == t));
  /* Linux writes CLONE_CHILD_SETTID's word when the child first runs (schedule_tail), which under load may be
   * after the waiters below would check it: wait for it, so that they wait on the value t (not EAGAIN). */
  for (int k = 0; k < 10000 && __atomic_load_n(&ctid, __ATOMIC_ACQUIRE) != t; k++) sleep_ms(1);
  /* one waiter on the tid word waits shared (as pthread_join does), one private */
  struct waiter sw, pw;
  spawn(&sw, &ctid, FUTEX_WAIT, t, 0);
  memset(&pw, 0, sizeof pw);
  pw.addr = &ctid, pw.op = FUTEX_WAIT_PRIVATE, pw.val = t;
  CK(pthread_create(&pw.th, NULL, waiter_fn, &pw));
  await_waiters(&ctid, 0, 1);
  await_waiters(&ctid, FUTEX_PRIVATE_FLAG, 1);
  go = 1;
  syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  reap(&sw, "shared FUTEX_WAIT on the tid word, woken by the thread's exit");
  SHOW("private FUTEX_WAIT on the tid word still queued (the kernel's wake is shared)", count_waiters(&ctid, FUTEX_PRIVATE_FLAG));
  SHOW("  FUTEX_WAKE_PRIVATE", fx(&ctid, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
  reap(&pw, "  its FUTEX_WAIT_PRIVATE returned");
  printf("the child's tid: its gettid %s; CLONE_CHILD_SETTID seen by the child: %s\n", yesno(child_tid == t), yesno(child_saw_settid));
  printf("CLONE_CHILD_CLEARTID: the word is 0 after the thread's exit: %s\n", yesno(ctid == 0));
  printf("the thread's exit ended only the thread: the process runs on\n");

  /* set_tid_address in the thread moves the clear-and-wake to another word */
  ctid_a = 777, ctid_b = 888;
  t = clone(moving_child, stack + sz, flags | CLONE_CHILD_CLEARTID, NULL, NULL, NULL, &ctid_a);
  if (t < 0) { printf("FAIL clone: %s\n", errname(errno)); exit(1); }
  for (int v; (v = __atomic_load_n(&ctid_b, __ATOMIC_SEQ_CST)) != 0;) syscall(SYS_futex, &ctid_b, FUTEX_WAIT, v, NULL, NULL, 0);
  printf("set_tid_address returned the caller's tid: %s; at exit the new word cleared: %s, the old left alone: %s\n", yesno(child_set_tid_ret), yesno(ctid_b == 0), yesno(ctid_a == 777));
  /* pthread_join relies on the same clearing */
  pthread_t pt;
  struct waiter dummy;
  memset(&dummy, 0, sizeof dummy);
  dummy.addr = &word_a, dummy.op = FUTEX_WAKE, dummy.val = 1;
  CK(pthread_create(&pt, NULL, waiter_fn, &dummy));
  CK(pthread_join(pt, NULL));
  printf("pthread_create + pthread_join: %s\n", yesno(dummy.tid > 0 && dummy.ret == 0));
  munmap(stack, sz);
}

static const struct sigcase CASES[] = {
  {"count", c_count}, {"wait_eagain", c_wait_eagain}, {"wait_timeout_rel", c_wait_timeout_rel},
  {"wait_bitset_abs", c_wait_bitset_abs}, {"wake_none", c_wake_none}, {"wait_wake", c_wait_wake},
  {"wake_n", c_wake_n}, {"bitset", c_bitset}, {"requeue", c_requeue}, {"cmp_requeue", c_cmp_requeue},
  {"wake_op", c_wake_op}, {"einval", c_einval}, {"private_vs_shared", c_private_vs_shared},
  {"shared_fork", c_shared_fork}, {"eintr", c_eintr}, {"robust", c_robust},
  {"clear_child_tid", c_clear_child_tid},
};

CASES_MAIN(CASES)
