/* The timers of a process (alarm, setitimer/getitimer, the POSIX timer_*
 * calls), one part per argument: `sigtimers alarm|itimer|cpu|posix|overrun|
 * stale|errors`. Every line is a fact the kernel decides (a count reached, a
 * si_code, an errno, a value rounded as Linux rounds it), never a duration,
 * so a native run and a faultline run print the same.
 * test/signal-timers.test.ts runs each part natively and under faultline. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The errno names these calls can answer (musl has no strerrorname_np). */
static const char *errname(int e) {
  switch (e) {
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EINTR: return "EINTR";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    default: return "other";
  }
}

static void show(const char *what, long r) {
  if (r < 0) printf("%-52s %s\n", what, errname(errno));
  else printf("%-52s %ld\n", what, r);
}

/* The kernel's struct sigevent for raw timer_create (64 bytes). */
struct ksigevent { long value; int signo; int notify; int tid; int pad[11]; };
/* An address no program maps. */
#define BAD ((void *)8)

/* What the handlers saw. */
static volatile sig_atomic_t hits, last_code, last_value, last_timerid, last_overrun, limit;
static volatile sig_atomic_t hit_by[64];
static timer_t limited;
/* Whether the handler disarms `limited` at the limit (a timer_t of id 0 is a null pointer). */
static volatile sig_atomic_t disarm_at_limit;
/* The overrun counts of the first delivery after the timer's signal was unblocked, while record_first is set. */
static volatile sig_atomic_t record_first, first_overrun, first_getoverrun;
static timer_t overrun_timer;

static void on_info(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (limit && hits >= limit) return; /* a late expiry after the count was reached */
  hits++;
  hit_by[sig]++;
  last_code = si->si_code;
  last_value = si->si_value.sival_int;
  last_timerid = si->si_timerid;
  last_overrun = si->si_overrun;
  if (record_first && hits == 1) {
    first_overrun = si->si_overrun;
    first_getoverrun = timer_getoverrun(overrun_timer); /* async-signal-safe */
  }
  if (limit && hits == limit && disarm_at_limit) {
    struct itimerspec off = {{0, 0}, {0, 0}};
    timer_settime(limited, 0, &off, NULL); /* async-signal-safe */
  }
}

static void on_alarm_limit(int sig) {
  (void)sig;
  if (hits >= limit) return;
  if (++hits == limit) {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
  }
}

static int pipefd[2];
static void on_alarm_write(int sig) {
  (void)sig;
  hits++;
  if (write(pipefd[1], "x", 1) != 1) _exit(9);
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), void (*plain)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  if (fn) { sa.sa_sigaction = fn; sa.sa_flags = SA_SIGINFO | flags; }
  else { sa.sa_handler = plain; sa.sa_flags = flags; }
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) { perror("sigaction"); exit(2); }
}

/* Waits (sigsuspend with `sig` unblocked) until the handlers counted `n` hits. */
static void wait_hits(int sig, int n) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old);
  sigdelset(&old, sig);
  while (hits < n) sigsuspend(&old);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
}

static void ms_sleep(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* alarm(2): its rounded return values, a SIGALRM handler interrupting a read of an empty pipe and pause(). */
static void part_alarm(void) {
  show("alarm(0) with none pending", alarm(0));
  show("alarm(10)", alarm(10));
  show("alarm(5) after alarm(10): rounded remaining", alarm(5));
  show("alarm(0) after alarm(5)", alarm(0));
  show("alarm(0) again", alarm(0));

  handle(SIGALRM, on_info, NULL, 0);
  if (pipe(pipefd) != 0) { perror("pipe"); exit(2); }
  char c;
  alarm(1);
  errno = 0;
  long r = read(pipefd[0], &c, 1);
  printf("read of an empty pipe, alarm(1), no SA_RESTART: %ld %s\n", r, errname(errno));
  printf("handler ran %d, si_code %s, si_pid %s\n", hits,
         last_code == SI_KERNEL ? "SI_KERNEL" : "other", "0");

  /* pause() ended by an ITIMER_REAL one-shot (alarm's own timer, in microseconds). */
  struct itimerval once = {{0, 0}, {0, 50000}};
  setitimer(ITIMER_REAL, &once, NULL);
  errno = 0;
  r = pause();
  printf("pause() ended by ITIMER_REAL: %ld %s, handler ran %d\n", r, errname(errno), hits);

  /* With SA_RESTART the read is restarted, and gets the byte the handler wrote. */
  hits = 0;
  handle(SIGALRM, NULL, on_alarm_write, SA_RESTART);
  setitimer(ITIMER_REAL, &once, NULL);
  r = read(pipefd[0], &c, 1);
  printf("read with SA_RESTART: %ld '%c', handler ran %d\n", r, r == 1 ? c : '?', hits);

  /* alarm then alarm(0): the signal never comes. */
  hits = 0;
  handle(SIGALRM, on_info, NULL, 0);
  alarm(1);
  show("alarm(0) cancelling alarm(1)", alarm(0));
  ms_sleep(30);
  printf("handler after cancel: %d\n", hits);
}

/* setitimer(ITIMER_REAL) firing N times; getitimer; the old values setitimer reports. */
static void part_itimer(void) {
  struct itimerval v, old;
  getitimer(ITIMER_REAL, &v);
  printf("getitimer unarmed: %ld.%06ld %ld.%06ld\n", (long)v.it_value.tv_sec, (long)v.it_value.tv_usec,
         (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec);

  handle(SIGALRM, NULL, on_alarm_limit, 0);
  hits = 0;
  limit = 5;
  struct itimerval every = {{0, 20000}, {0, 20000}};
  setitimer(ITIMER_REAL, &every, NULL);
  wait_hits(SIGALRM, 5);
  getitimer(ITIMER_REAL, &v);
  printf("ITIMER_REAL every 20 ms: %d runs, then disarmed: %ld.%06ld\n", hits, (long)v.it_value.tv_sec,
         (long)v.it_value.tv_usec);

  struct itimerval far = {{2, 500000}, {10, 0}};
  setitimer(ITIMER_REAL, &far, &old);
  printf("old value of a disarmed timer: %ld.%06ld %ld.%06ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec,
         (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);
  getitimer(ITIMER_REAL, &v);
  long left = v.it_value.tv_sec * 1000000L + v.it_value.tv_usec;
  printf("getitimer after setitimer(10 s, 2.5 s): value in (9 s, 10 s]: %s, interval %ld.%06ld\n",
         left > 9000000 && left <= 10000000 ? "yes" : "no", (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec);
  struct itimerval zero_value = {{1, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &zero_value, &old);
  left = old.it_value.tv_sec * 1000000L + old.it_value.tv_usec;
  printf("old value: in (9 s, 10 s]: %s, interval %ld.%06ld\n", left > 9000000 && left <= 10000000 ? "yes" : "no",
         (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);
  getitimer(ITIMER_REAL, &v);
  printf("after setitimer(value 0, interval 1 s): %ld.%06ld %ld.%06ld\n", (long)v.it_value.tv_sec,
         (long)v.it_value.tv_usec, (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec);

  /* setitimer with a NULL new value disarms (Linux's "misfeature"), through the raw call. */
  setitimer(ITIMER_REAL, &far, NULL);
  show("setitimer(ITIMER_REAL, NULL, &old)", syscall(SYS_setitimer, ITIMER_REAL, NULL, &old));
  printf("  old value set: %s\n", old.it_value.tv_sec > 0 ? "yes" : "no");
  getitimer(ITIMER_REAL, &v);
  printf("  then getitimer: %ld.%06ld\n", (long)v.it_value.tv_sec, (long)v.it_value.tv_usec);

  /* alarm and ITIMER_REAL are the same timer. */
  alarm(7);
  getitimer(ITIMER_REAL, &v);
  printf("alarm(7) seen by getitimer: %s\n", v.it_value.tv_sec == 6 || v.it_value.tv_sec == 7 ? "6-7 s" : "other");
  struct itimerval half = {{0, 0}, {3, 400000}};
  setitimer(ITIMER_REAL, &half, NULL);
  show("alarm(0) after setitimer(3.4 s)", alarm(0));
  setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 300000}}, NULL);
  show("alarm(0) after setitimer(0.3 s): never 0", alarm(0));
}

static volatile sig_atomic_t vt_fired, prof_fired;
static void on_vt(int sig) { (void)sig; vt_fired++; }
static void on_prof(int sig) { (void)sig; prof_fired++; }

/* ITIMER_VIRTUAL and ITIMER_PROF: CPU time, spent here in a loop. */
static void part_cpu(void) {
  handle(SIGVTALRM, NULL, on_vt, 0);
  handle(SIGPROF, NULL, on_prof, 0);
  struct itimerval t = {{0, 0}, {0, 20000}}, v;
  setitimer(ITIMER_VIRTUAL, &t, NULL);
  getitimer(ITIMER_VIRTUAL, &v);
  long left = v.it_value.tv_sec * 1000000L + v.it_value.tv_usec;
  printf("ITIMER_VIRTUAL armed: value in (0, 20 ms + a tick]: %s\n", left > 0 && left <= 30000 ? "yes" : "no");
  volatile unsigned long spin = 0;
  while (!vt_fired && spin < 4000000000UL) spin++;
  printf("ITIMER_VIRTUAL while spinning: %s\n", vt_fired ? "fired" : "never fired");
  getitimer(ITIMER_VIRTUAL, &v);
  printf("ITIMER_VIRTUAL after firing once: %ld.%06ld\n", (long)v.it_value.tv_sec, (long)v.it_value.tv_usec);

  struct itimerval every = {{0, 10000}, {0, 10000}};
  setitimer(ITIMER_PROF, &every, NULL);
  spin = 0;
  while (prof_fired < 3 && spin < 4000000000UL) spin++;
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_PROF, &off, &v);
  printf("ITIMER_PROF every 10 ms: %s, interval read back %ld.%06ld\n", prof_fired >= 3 ? "fired 3 times" : "fewer",
         (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec);

  /* Wall-clock timers armed just before a loop that makes no system call. */
  handle(SIGALRM, NULL, on_vt, 0);
  vt_fired = 0;
  struct itimerval soon = {{0, 0}, {0, 20000}};
  setitimer(ITIMER_REAL, &soon, NULL);
  spin = 0;
  while (!vt_fired && spin < 4000000000UL) spin++;
  printf("ITIMER_REAL while spinning: %s\n", vt_fired ? "fired" : "never fired");

  /* CLOCK_PROCESS_CPUTIME_ID timer. */
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGRTMIN + 1;
  ev.sigev_value.sival_int = 77;
  handle(SIGRTMIN + 1, on_info, NULL, 0);
  timer_t cpu;
  show("timer_create(CLOCK_PROCESS_CPUTIME_ID)", timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &cpu));
  struct itimerspec in = {{0, 0}, {0, 20000000}};
  timer_settime(cpu, 0, &in, NULL);
  hits = 0;
  spin = 0;
  while (!hits && spin < 4000000000UL) spin++;
  printf("CPU-time timer while spinning: %s, si_code %s, value %d\n", hits ? "fired" : "never fired",
         last_code == SI_TIMER ? "SI_TIMER" : "other", last_value);
  timer_delete(cpu);

  timer_t mono;
  ev.sigev_value.sival_int = 78;
  timer_create(CLOCK_MONOTONIC, &ev, &mono);
  struct itimerspec wall = {{0, 0}, {0, 20000000}};
  hits = 0;
  timer_settime(mono, 0, &wall, NULL);
  spin = 0;
  while (!hits && spin < 4000000000UL) spin++;
  printf("MONOTONIC timer while spinning: %s, value %d\n", hits ? "fired" : "never fired", last_value);
}

/* Makes a SIGEV_SIGNAL timer on `clock` sending `sig` with `value`. */
static timer_t make_timer(clockid_t clock, int sig, int value) {
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = sig;
  ev.sigev_value.sival_int = value;
  timer_t t;
  if (timer_create(clock, &ev, &t) != 0) { perror("timer_create"); exit(2); }
  return t;
}

static long ts_ns(struct timespec t) { return t.tv_sec * 1000000000L + t.tv_nsec; }

/* POSIX timers: ids, signals with their siginfo, TIMER_ABSTIME, SIGEV_NONE, SIGEV_THREAD_ID, delete. */
static void part_posix(void) {
  int sig = SIGRTMIN;
  handle(sig, on_info, NULL, 0);
  handle(SIGALRM, on_info, NULL, 0);

  timer_t mono = make_timer(CLOCK_MONOTONIC, sig, 1234);
  printf("first timer id %ld\n", (long)(intptr_t)mono);
  hits = 0; limit = 4; limited = mono; disarm_at_limit = 1;
  struct itimerspec rel = {{0, 10000000}, {0, 10000000}};
  show("timer_settime(MONOTONIC, relative, every 10 ms)", timer_settime(mono, 0, &rel, NULL));
  wait_hits(sig, 4);
  printf("MONOTONIC relative: %d signals, si_code %s, si_value %d, si_timerid is the id: %s\n", hits,
         last_code == SI_TIMER ? "SI_TIMER" : "other", last_value, last_timerid == (int)(intptr_t)mono ? "yes" : "no");
  struct itimerspec cur;
  timer_gettime(mono, &cur);
  printf("  disarmed by the handler: %ld.%09ld %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec,
         (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);

  timer_t real = make_timer(CLOCK_REALTIME, sig, 5678);
  printf("second timer id %ld\n", (long)(intptr_t)real);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec abs = {{0, 10000000}, now};
  abs.it_value.tv_nsec += 20000000;
  if (abs.it_value.tv_nsec >= 1000000000) { abs.it_value.tv_sec++; abs.it_value.tv_nsec -= 1000000000; }
  hits = 0; limit = 3; limited = real; disarm_at_limit = 1;
  show("timer_settime(REALTIME, TIMER_ABSTIME, every 10 ms)", timer_settime(real, TIMER_ABSTIME, &abs, NULL));
  wait_hits(sig, 3);
  printf("REALTIME absolute: %d signals, si_code %s, si_value %d, si_timerid is the id: %s\n", hits,
         last_code == SI_TIMER ? "SI_TIMER" : "other", last_value, last_timerid == (int)(intptr_t)real ? "yes" : "no");

  /* MONOTONIC with TIMER_ABSTIME, one shot, and one whose time has passed (fires at once). */
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct itimerspec once = {{0, 0}, now};
  once.it_value.tv_nsec += 20000000;
  if (once.it_value.tv_nsec >= 1000000000) { once.it_value.tv_sec++; once.it_value.tv_nsec -= 1000000000; }
  hits = 0; limit = 0; disarm_at_limit = 0;
  timer_settime(mono, TIMER_ABSTIME, &once, NULL);
  wait_hits(sig, 1);
  printf("MONOTONIC absolute one shot: %d, si_value %d\n", hits, last_value);
  struct itimerspec past = {{0, 0}, {1, 0}};
  timer_settime(mono, TIMER_ABSTIME, &past, NULL);
  wait_hits(sig, 2);
  printf("MONOTONIC absolute in the past: fired, %d\n", hits);
  timer_gettime(mono, &cur);
  printf("  one shot after firing: %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);

  /* timer_gettime of an armed interval timer; timer_settime's old value. */
  struct itimerspec slow = {{3, 0}, {5, 0}}, old;
  timer_settime(mono, 0, &slow, NULL);
  timer_gettime(mono, &cur);
  printf("timer_gettime(5 s, every 3 s): value in (4.9 s, 5 s]: %s, interval %ld.%09ld\n",
         ts_ns(cur.it_value) > 4900000000L && ts_ns(cur.it_value) <= 5000000000L ? "yes" : "no",
         (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
  struct itimerspec off = {{0, 0}, {0, 0}};
  timer_settime(mono, 0, &off, &old);
  printf("old value: in (4.9 s, 5 s]: %s, interval %ld.%09ld\n",
         ts_ns(old.it_value) > 4900000000L && ts_ns(old.it_value) <= 5000000000L ? "yes" : "no",
         (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);

  /* SIGEV_NONE: counts down, never signals, reads 0 once expired. */
  struct sigevent none;
  memset(&none, 0, sizeof none);
  none.sigev_notify = SIGEV_NONE;
  timer_t quiet;
  show("timer_create(MONOTONIC, SIGEV_NONE)", timer_create(CLOCK_MONOTONIC, &none, &quiet));
  printf("  its id %ld\n", (long)(intptr_t)quiet);
  struct itimerspec short_once = {{0, 0}, {0, 20000000}};
  timer_settime(quiet, 0, &short_once, NULL);
  timer_gettime(quiet, &cur);
  printf("  armed: value in (0, 20 ms]: %s\n", ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 20000000 ? "yes" : "no");
  hits = 0;
  ms_sleep(40);
  timer_gettime(quiet, &cur);
  printf("  after 40 ms: %ld.%09ld, signals %d\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec, hits);
  struct itimerspec none_every = {{0, 10000000}, {0, 10000000}};
  timer_settime(quiet, 0, &none_every, NULL);
  ms_sleep(35);
  timer_gettime(quiet, &cur);
  printf("  interval SIGEV_NONE: value in (0, 10 ms]: %s, signals %d\n",
         ts_ns(cur.it_value) > 0 && ts_ns(cur.it_value) <= 10000000 ? "yes" : "no", hits);
  timer_delete(quiet);

  /* SIGEV_THREAD_ID to the caller's own thread (through the raw call: glibc keeps the field private). */
  struct ksigevent kev = {4321, sig, SIGEV_THREAD_ID, (int)gettid()};
  int kid;
  show("timer_create(MONOTONIC, SIGEV_THREAD_ID, own tid)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &kev, &kid));
  printf("  its id %d\n", kid);
  hits = 0;
  struct itimerspec soon = {{0, 0}, {0, 10000000}};
  syscall(SYS_timer_settime, kid, 0, &soon, NULL);
  wait_hits(sig, 1);
  printf("  signal %d, si_code %s, si_value %d, si_timerid is the id: %s\n", hits,
         last_code == SI_TIMER ? "SI_TIMER" : "other", last_value, last_timerid == kid ? "yes" : "no");

  /* A NULL sigevent: SIGALRM carrying the timer's id. */
  int nid;
  show("timer_create(MONOTONIC, NULL)", syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, &nid));
  hits = 0;
  syscall(SYS_timer_settime, nid, 0, &soon, NULL);
  wait_hits(SIGALRM, 1);
  printf("  id %d: SIGALRM %d, si_code %s, si_value is the id: %s\n", nid, hit_by[SIGALRM],
         last_code == SI_TIMER ? "SI_TIMER" : "other", last_value == nid ? "yes" : "no");

  /* BOOTTIME as MONOTONIC. */
  timer_t boot = make_timer(CLOCK_BOOTTIME, sig, 99);
  printf("BOOTTIME timer id %ld\n", (long)(intptr_t)boot);
  hits = 0;
  timer_settime(boot, 0, &soon, NULL);
  wait_hits(sig, 1);
  printf("  fired %d, si_value %d\n", hits, last_value);

  /* timer_delete of a running timer (deleted long before its first expiry): no signal ever comes, and the id is gone. */
  struct itimerspec slow_every = {{0, 100000000}, {0, 100000000}};
  hits = 0; limit = 0;
  timer_settime(real, 0, &slow_every, NULL);
  show("timer_delete(REALTIME timer, armed)", timer_delete(real));
  ms_sleep(150);
  printf("signals after timer_delete: %d\n", hits);
  show("timer_delete again", syscall(SYS_timer_delete, (int)(intptr_t)real));
  show("timer_settime of the deleted id", syscall(SYS_timer_settime, (int)(intptr_t)real, 0, &slow_every, NULL));
  show("timer_gettime of the deleted id", syscall(SYS_timer_gettime, (int)(intptr_t)real, &cur));
  show("timer_getoverrun of the deleted id", syscall(SYS_timer_getoverrun, (int)(intptr_t)real));
  timer_t again = make_timer(CLOCK_MONOTONIC, sig, 1);
  printf("a timer made after the deletes: id %ld\n", (long)(intptr_t)again);
}

/* Overruns: the signal blocked across several periods. */
static void part_overrun(void) {
  int sig = SIGRTMIN + 2;
  handle(sig, on_info, NULL, 0);
  timer_t t = make_timer(CLOCK_MONOTONIC, sig, 42);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, NULL);
  struct itimerspec every = {{0, 30000000}, {0, 30000000}}; /* periods long enough for one delivery under emulation */
  timer_settime(t, 0, &every, NULL);
  ms_sleep(200);
  show("timer_getoverrun before delivery", timer_getoverrun(t));
  hits = 0;
  first_overrun = first_getoverrun = -1;
  overrun_timer = t; record_first = 1;
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  record_first = 0;
  /* A second delivery may follow at once when the next period comes during the first (slow under emulation). */
  printf("delivered at unblock: %s, its si_overrun > 0: %s\n", hits >= 1 ? "yes" : "no", first_overrun > 0 ? "yes" : "no");
  printf("timer_getoverrun in its handler equals si_overrun: %s\n", first_getoverrun == first_overrun ? "yes" : "no");
  /* Afterwards the timer runs again, one signal a period. */
  limit = hits + 2; limited = t; disarm_at_limit = 1;
  wait_hits(sig, limit);
  printf("keeps firing after the overrun: %s\n", hits == limit ? "yes" : "no");

  /* One-shot timer: si_overrun 0. */
  limit = 0; disarm_at_limit = 0;
  struct itimerspec once = {{0, 0}, {0, 5000000}};
  hits = 0;
  timer_settime(t, 0, &once, NULL);
  wait_hits(sig, 1);
  printf("one shot: si_overrun %d, timer_getoverrun %d\n", last_overrun, timer_getoverrun(t));

  /* SIG_IGN'd timer signal: nothing queued; an alarm with SIG_IGN does nothing. */
  signal(SIGALRM, SIG_IGN);
  struct itimerval a = {{0, 0}, {0, 10000}};
  setitimer(ITIMER_REAL, &a, NULL);
  ms_sleep(30);
  sigset_t pending;
  sigpending(&pending);
  printf("ignored SIGALRM pending: %s\n", sigismember(&pending, SIGALRM) ? "yes" : "no");
  /* With the default action, SIGALRM kills: the exit status says so. */
  signal(SIGALRM, SIG_DFL);
  fflush(stdout);
  alarm(1);
  for (;;) pause();
}

/* A timer's signal queued (blocked) when the timer is set again or deleted: Linux 6.13 and later drop it at delivery. */
static void part_stale(void) {
  int sig = SIGRTMIN + 3;
  handle(sig, on_info, NULL, 0);
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, sig);
  const char *what[] = {"nothing", "timer_settime(disarm)", "timer_delete", "timer_settime(100 s)"};
  for (int mode = 0; mode < 4; mode++) {
    timer_t t = make_timer(CLOCK_MONOTONIC, sig, mode);
    hits = 0;
    sigprocmask(SIG_BLOCK, &block, NULL);
    struct itimerspec once = {{0, 0}, {0, 10000000}}, off = {{0, 0}, {0, 0}}, far = {{0, 0}, {100, 0}};
    timer_settime(t, 0, &once, NULL);
    sigset_t pending;
    do { ms_sleep(5); sigpending(&pending); } while (!sigismember(&pending, sig));
    if (mode == 1) timer_settime(t, 0, &off, NULL);
    if (mode == 2) timer_delete(t);
    if (mode == 3) timer_settime(t, 0, &far, NULL);
    sigpending(&pending);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    printf("queued, then %s: still pending %s, delivered %d\n", what[mode], sigismember(&pending, sig) ? "yes" : "no", hits);
    if (mode != 2) timer_delete(t);
  }
  /* sigtimedwait skips a stale one too. */
  timer_t w = make_timer(CLOCK_MONOTONIC, sig, 5);
  sigprocmask(SIG_BLOCK, &block, NULL);
  struct itimerspec soon = {{0, 0}, {0, 10000000}}, stop = {{0, 0}, {0, 0}};
  timer_settime(w, 0, &soon, NULL);
  sigset_t waiting;
  do { ms_sleep(5); sigpending(&waiting); } while (!sigismember(&waiting, sig));
  timer_settime(w, 0, &stop, NULL);
  struct timespec brief = {0, 50000000};
  siginfo_t si;
  show("sigtimedwait for a stale timer signal", sigtimedwait(&block, &si, &brief));
  timer_settime(w, 0, &soon, NULL);
  show("sigtimedwait for the timer set again", sigtimedwait(&block, &si, NULL) == sig ? 1 : -1);
  printf("  si_code %s, si_value %d\n", si.si_code == SI_TIMER ? "SI_TIMER" : "other", si.si_value.sival_int);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  timer_delete(w);

  /* An interval timer whose signal is ignored signals as soon as a handler replaces SIG_IGN (cf. posixtimer_sig_unignore). */
  signal(sig, SIG_IGN);
  timer_t ig = make_timer(CLOCK_MONOTONIC, sig, 6);
  struct itimerspec every = {{0, 30000000}, {0, 30000000}}, cur;
  timer_settime(ig, 0, &every, NULL);
  ms_sleep(170);
  timer_gettime(ig, &cur);
  printf("ignored interval timer still runs: %s\n", ts_ns(cur.it_value) > 0 ? "yes" : "no");
  hits = 0;
  first_overrun = -1; overrun_timer = ig; record_first = 1;
  handle(sig, on_info, NULL, 0);
  record_first = 0;
  printf("handler installed: delivered at once %s, its si_overrun > 0: %s\n", hits >= 1 ? "yes" : "no", first_overrun > 0 ? "yes" : "no");
  timer_delete(ig);

  /* A queued timer signal flushed by SIG_IGN; the timer set again signals again. */
  timer_t t = make_timer(CLOCK_MONOTONIC, sig, 9);
  hits = 0;
  sigprocmask(SIG_BLOCK, &block, NULL);
  struct itimerspec once = {{0, 0}, {0, 10000000}};
  timer_settime(t, 0, &once, NULL);
  sigset_t pending;
  do { ms_sleep(5); sigpending(&pending); } while (!sigismember(&pending, sig));
  signal(sig, SIG_IGN);
  handle(sig, on_info, NULL, 0);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  printf("flushed by SIG_IGN, handler back: delivered %d\n", hits);
  timer_settime(t, 0, &once, NULL);
  wait_hits(sig, 1);
  printf("set again: delivered %d, si_value %d\n", hits, last_value);
}

/* Every bad input's errno, through the raw calls. */
static void part_errors(void) {
  struct ksigevent ev = {0, SIGRTMIN, SIGEV_SIGNAL, 0};
  int id;
  show("timer_create(clock 99)", syscall(SYS_timer_create, 99, &ev, &id));
  show("timer_create(clock 10)", syscall(SYS_timer_create, 10, &ev, &id));
  show("timer_create(clock 16)", syscall(SYS_timer_create, 16, &ev, &id));
  show("timer_create(MONOTONIC_RAW)", syscall(SYS_timer_create, CLOCK_MONOTONIC_RAW, &ev, &id));
  show("timer_create(REALTIME_COARSE)", syscall(SYS_timer_create, CLOCK_REALTIME_COARSE, &ev, &id));
  show("timer_create(MONOTONIC_COARSE)", syscall(SYS_timer_create, CLOCK_MONOTONIC_COARSE, &ev, &id));
  show("timer_create(sigevent at a bad address)", syscall(SYS_timer_create, CLOCK_MONOTONIC, BAD, &id));
  show("timer_create(first good one)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
  printf("  id %d\n", id);
  struct ksigevent bad = ev;
  bad.notify = 99;
  show("timer_create(sigev_notify 99)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = ev; bad.notify = 4 | 1;
  show("timer_create(SIGEV_THREAD_ID|SIGEV_NONE)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = ev; bad.signo = 0;
  show("timer_create(signal 0)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = ev; bad.signo = 65;
  show("timer_create(signal 65)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = ev; bad.signo = -1;
  show("timer_create(signal -1)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = ev; bad.notify = SIGEV_THREAD_ID; bad.tid = 0;
  show("timer_create(SIGEV_THREAD_ID, tid 0)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = ev; bad.notify = SIGEV_THREAD_ID; bad.tid = (int)gettid(); bad.signo = 0;
  show("timer_create(SIGEV_THREAD_ID, own tid, signal 0)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  bad = ev; bad.notify = SIGEV_NONE; bad.signo = 0;
  show("timer_create(SIGEV_NONE, signal 0)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  printf("  id %d\n", id);
  bad = ev; bad.notify = SIGEV_THREAD; bad.signo = SIGRTMIN;
  show("timer_create(SIGEV_THREAD as the kernel sees it)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &bad, &id));
  printf("  id %d\n", id);
  show("timer_create(timer id at a bad address)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, BAD));
  show("timer_create(next good one)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
  printf("  id %d\n", id);
  /* CPU clocks by id: ~pid << 3 | thread bit 4 | which (0 PROF, 1 VIRT, 2 SCHED, 3 a clock descriptor's). */
  int cpu_id;
  show("timer_create(own process's CPU clock, -6)", syscall(SYS_timer_create, -6, &ev, &cpu_id));
  printf("  id %d\n", cpu_id);
  syscall(SYS_timer_delete, cpu_id);
  show("timer_create(own thread's CPU clock, -2)", syscall(SYS_timer_create, -2, &ev, &cpu_id));
  syscall(SYS_timer_delete, cpu_id);
  show("timer_create(clock descriptor -5)", syscall(SYS_timer_create, -5, &ev, &cpu_id));
  show("timer_create(CPU clock which 3, -1)", syscall(SYS_timer_create, -1, &ev, &cpu_id));
  show("timer_create(CPU clock of no process)", syscall(SYS_timer_create, INT_MIN + 2, &ev, &cpu_id));
  show("timer_create(MONOTONIC) after those", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &cpu_id));
  printf("  id %d\n", cpu_id);

  struct itimerspec good = {{0, 0}, {100, 0}}, cur;
  struct itimerspec nsec_big = {{0, 0}, {1, 1000000000}}, nsec_neg = {{0, 0}, {1, -1}}, sec_neg = {{0, 0}, {-1, 0}};
  struct itimerspec iv_bad = {{0, 1000000000}, {1, 0}};
  show("timer_settime(new NULL)", syscall(SYS_timer_settime, id, 0, NULL, NULL));
  show("timer_settime(new at a bad address)", syscall(SYS_timer_settime, id, 0, BAD, NULL));
  show("timer_settime(tv_nsec 1000000000)", syscall(SYS_timer_settime, id, 0, &nsec_big, NULL));
  show("timer_settime(tv_nsec -1)", syscall(SYS_timer_settime, id, 0, &nsec_neg, NULL));
  show("timer_settime(tv_sec -1)", syscall(SYS_timer_settime, id, 0, &sec_neg, NULL));
  show("timer_settime(interval tv_nsec 1000000000)", syscall(SYS_timer_settime, id, 0, &iv_bad, NULL));
  show("timer_settime(bad timer id 12345)", syscall(SYS_timer_settime, 12345, 0, &good, NULL));
  show("timer_settime(timer id -1)", syscall(SYS_timer_settime, -1, 0, &good, NULL));
  show("timer_settime(flags 0xfe, ignored)", syscall(SYS_timer_settime, id, 0xfe, &good, NULL));
  show("timer_settime(old at a bad address)", syscall(SYS_timer_settime, id, 0, &good, BAD));
  show("timer_gettime: armed anyway", syscall(SYS_timer_gettime, id, &cur));
  printf("  value over 99 s: %s\n", cur.it_value.tv_sec >= 99 ? "yes" : "no");
  show("timer_gettime(at a bad address)", syscall(SYS_timer_gettime, id, BAD));
  show("timer_gettime(bad timer id)", syscall(SYS_timer_gettime, 12345, &cur));
  show("timer_getoverrun(bad timer id)", syscall(SYS_timer_getoverrun, 12345));
  show("timer_getoverrun(armed, never fired)", syscall(SYS_timer_getoverrun, id));
  show("timer_delete(bad timer id)", syscall(SYS_timer_delete, 12345));
  show("timer_delete(good)", syscall(SYS_timer_delete, id));

  struct itimerval iv = {{0, 0}, {1, 0}}, v;
  struct itimerval usec_big = {{0, 0}, {1, 1000000}}, usec_neg = {{0, 0}, {1, -1}}, isec_neg = {{0, 0}, {-1, 0}};
  struct itimerval iusec_big = {{0, 1000000}, {1, 0}};
  show("setitimer(which 3)", syscall(SYS_setitimer, 3, &iv, NULL));
  show("setitimer(which -1)", syscall(SYS_setitimer, -1, &iv, NULL));
  show("setitimer(which 3, new at a bad address)", syscall(SYS_setitimer, 3, BAD, NULL));
  show("setitimer(new at a bad address)", syscall(SYS_setitimer, ITIMER_REAL, BAD, NULL));
  show("setitimer(tv_usec 1000000)", syscall(SYS_setitimer, ITIMER_REAL, &usec_big, NULL));
  show("setitimer(tv_usec -1)", syscall(SYS_setitimer, ITIMER_REAL, &usec_neg, NULL));
  show("setitimer(tv_sec -1)", syscall(SYS_setitimer, ITIMER_REAL, &isec_neg, NULL));
  show("setitimer(interval tv_usec 1000000)", syscall(SYS_setitimer, ITIMER_REAL, &iusec_big, NULL));
  show("setitimer(ITIMER_VIRTUAL tv_usec 1000000)", syscall(SYS_setitimer, ITIMER_VIRTUAL, &usec_big, NULL));
  show("setitimer(old at a bad address)", syscall(SYS_setitimer, ITIMER_REAL, &iv, BAD));
  show("getitimer: set anyway", syscall(SYS_getitimer, ITIMER_REAL, &v));
  printf("  value set: %s\n", v.it_value.tv_sec == 0 && v.it_value.tv_usec > 0 ? "yes" : "no");
  show("getitimer(which 3)", syscall(SYS_getitimer, 3, &v));
  show("getitimer(which 3, bad address)", syscall(SYS_getitimer, 3, BAD));
  show("getitimer(at a bad address)", syscall(SYS_getitimer, ITIMER_REAL, BAD));
  show("alarm(0): the setitimer's 1 s rounds to", syscall(SYS_alarm, 0));
  show("alarm(0x100000000 + 0): the low 32 bits", syscall(SYS_alarm, 0x100000000UL));

  /* Times past KTIME_MAX (2^63 - 1 ns) saturate there, as the kernel's ktime does. */
  struct itimerval huge = {{0, 0}, {0x4000000000000000L, 0}}, huge_iv = {{0x7fffffffffffffffL, 0}, {1, 0}};
  setitimer(ITIMER_REAL, &huge, NULL);
  getitimer(ITIMER_REAL, &v);
  printf("setitimer(2^62 s): value over 9e9 s: %s\n", v.it_value.tv_sec > 9000000000L ? "yes" : "no");
  setitimer(ITIMER_REAL, &huge_iv, NULL);
  getitimer(ITIMER_REAL, &v);
  printf("setitimer(interval 2^63-1 s): interval %ld.%06ld\n", (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec);
  struct itimerval vt = {{0, 0}, {0x7fffffffffffffffL, 0}}, vt_off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_VIRTUAL, &vt, NULL);
  getitimer(ITIMER_VIRTUAL, &v);
  /* The time left is KTIME_MAX plus one tick less the CPU time used since the set, a u64 read as an s64: whether it
   * is just under KTIME_MAX or just past it (negative) depends on how much CPU time the sampling saw pass, natively too. */
  long left = (long)v.it_value.tv_sec;
  printf("setitimer(ITIMER_VIRTUAL, 2^63-1 s) reads back KTIME_MAX (a u64 read as s64, either sign): %s\n",
         left == 9223372036L || left == -9223372037L ? "yes" : "no");
  setitimer(ITIMER_VIRTUAL, &vt_off, NULL);
  struct itimerspec far = {{0x7fffffffffffffffL, 0}, {0x7fffffffffffffffL, 999999999}};
  show("timer_create(for huge times)", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id));
  syscall(SYS_timer_settime, id, 0, &far, NULL);
  syscall(SYS_timer_gettime, id, &cur);
  printf("  relative: value over 9e9 s: %s, interval %ld.%09ld\n", cur.it_value.tv_sec > 9000000000L ? "yes" : "no",
         (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
  syscall(SYS_timer_settime, id, TIMER_ABSTIME, &far, NULL);
  syscall(SYS_timer_gettime, id, &cur);
  printf("  absolute: value over 9e9 s: %s\n", cur.it_value.tv_sec > 9000000000L ? "yes" : "no");
}

/* The clocks themselves: each static id's resolution (the coarse ones tick
 * as the kernel does) or errno, REALTIME and MONOTONIC never going back, and
 * time() agreeing with the times the file system stamps (both the tick's). */
static void part_clocks(void) {
  for (int c = 0; c <= 12; c++) {
    struct timespec res, now;
    char what[64];
    snprintf(what, sizeof what, "clock_getres(%d)", c);
    long r = syscall(SYS_clock_getres, c, &res);
    if (r < 0) show(what, r);
    else printf("%-52s %ld.%09ld\n", what, (long)res.tv_sec, res.tv_nsec);
    snprintf(what, sizeof what, "clock_gettime(%d)", c);
    show(what, syscall(SYS_clock_gettime, c, &now));
  }
  show("clock_gettime(-1)", syscall(SYS_clock_gettime, -1, &(struct timespec){0}));
  show("clock_gettime(REALTIME, bad address)", syscall(SYS_clock_gettime, CLOCK_REALTIME, BAD));
  int clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE};
  for (int k = 0; k < 4; k++) {
    struct timespec a, b;
    int back = 0;
    syscall(SYS_clock_gettime, clocks[k], &a);
    for (int i = 0; i < 20000; i++) {
      syscall(SYS_clock_gettime, clocks[k], &b);
      if (b.tv_sec < a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec < a.tv_nsec)) back++;
      a = b;
    }
    printf("clock %d read 20000 times went back %d times\n", clocks[k], back);
  }
  int late = 0;
  for (int i = 0; i < 300; i++) {
    char name[] = "/tmp/sigtimers-clockXXXXXX";
    time_t t0 = syscall(SYS_time, NULL);
    int fd = mkstemp(name);
    struct stat st;
    fstat(fd, &st);
    if (st.st_mtim.tv_sec < t0) late++;
    close(fd);
    unlink(name);
  }
  printf("files made after time() stamped before it: %d of 300\n", late);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *part = argc > 1 ? argv[1] : "";
  if (!strcmp(part, "alarm")) part_alarm();
  else if (!strcmp(part, "itimer")) part_itimer();
  else if (!strcmp(part, "cpu")) part_cpu();
  else if (!strcmp(part, "posix")) part_posix();
  else if (!strcmp(part, "overrun")) part_overrun();
  else if (!strcmp(part, "stale")) part_stale();
  else if (!strcmp(part, "errors")) part_errors();
  else if (!strcmp(part, "clocks")) part_clocks();
  else { fprintf(stderr, "usage: sigtimers alarm|itimer|cpu|posix|overrun|stale|errors|clocks\n"); return 2; }
  return 0;
}
