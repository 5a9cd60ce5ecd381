/* Blocking calls interrupted by a signal: EINTR without SA_RESTART, the
 * call restarted with it. A single-threaded program cannot interrupt its own
 * blocking read without a timer, so every case here is driven by alarm(1)
 * (NEEDS ALARM: these pass once the timers land with the signal core).
 * `sigrestart CASE`; test/signal-delivery.test.ts compares with native. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sigcase.h"

static volatile sig_atomic_t hits;
static int wfd = -1;

static void on_alarm(int sig) {
  (void)sig;
  hits++;
  if (wfd >= 0) write(wfd, "R", 1); /* for the restarted read to find */
}

static void install(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
}

/* read of an empty pipe whose writer is held open: EINTR without SA_RESTART. */
static void c_read_eintr(void) {
  int p[2];
  if (pipe(p) != 0) exit(98);
  install(0);
  alarm(1);
  char c;
  errno = 0;
  long r = read(p[0], &c, 1);
  printf("read=%ld EINTR=%d hits=%d\n", r, errno == EINTR, hits);
}

/* The same read under SA_RESTART is restarted and gets the byte the handler wrote. */
static void c_read_restart(void) {
  int p[2];
  if (pipe(p) != 0) exit(98);
  wfd = p[1];
  install(SA_RESTART);
  alarm(1);
  char c = 0;
  errno = 0;
  long r = read(p[0], &c, 1);
  printf("read=%ld byte=%c errno=%d hits=%d\n", r, c, errno, hits);
}

/* pause() returns -1 EINTR after the handler ran. */
static void c_pause(void) {
  install(0);
  alarm(1);
  errno = 0;
  int r = pause();
  printf("pause=%d EINTR=%d hits=%d\n", r, errno == EINTR, hits);
}

/* sigsuspend waits for SIGALRM with everything else blocked; the mask is back after. */
static void c_sigsuspend(void) {
  install(SA_RESTART); /* sigsuspend is never restarted */
  sigset_t all, wait;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  sigfillset(&wait);
  sigdelset(&wait, SIGALRM);
  alarm(1);
  errno = 0;
  int r = sigsuspend(&wait);
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  printf("sigsuspend=%d EINTR=%d hits=%d SIGALRM blocked after=%d\n", r, errno == EINTR, hits, sigismember(&now, SIGALRM));
}

/* A blocked SIGALRM does not interrupt nanosleep: it stays pending, and its
 * handler runs as sigprocmask unblocks it. */
static void c_blocked_alarm(void) {
  install(0);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGALRM);
  sigprocmask(SIG_BLOCK, &s, NULL);
  alarm(1);
  struct timespec ts = { 1, 500000000 };
  int r = nanosleep(&ts, NULL);
  sigset_t p;
  sigpending(&p);
  printf("nanosleep=%d hits=%d SIGALRM pending=%d\n", r, hits, sigismember(&p, SIGALRM));
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  printf("unblocked: hits=%d\n", hits);
}

/* nanosleep interrupted by a handled signal is EINTR with the time left in
 * rem, even under SA_RESTART (-ERESTART_RESTARTBLOCK is never restarted
 * across a handler). */
static void nanosleep_case(int flags) {
  install(flags);
  alarm(1);
  struct timespec ts = { 3, 0 }, rem = { -1, -1 };
  errno = 0;
  int r = nanosleep(&ts, &rem);
  long left = rem.tv_sec * 1000000000L + rem.tv_nsec;
  printf("nanosleep=%d EINTR=%d hits=%d 0 < rem < 3 s=%d\n", r, errno == EINTR, hits, left > 0 && left < 3000000000L);
}
static void c_nanosleep_eintr(void) { nanosleep_case(0); }
static void c_nanosleep_restart(void) { nanosleep_case(SA_RESTART); }

static const struct sigcase cases[] = {
  { "read-eintr", c_read_eintr }, { "read-restart", c_read_restart }, { "pause", c_pause },
  { "sigsuspend", c_sigsuspend }, { "blocked-alarm", c_blocked_alarm },
  { "nanosleep-eintr", c_nanosleep_eintr }, { "nanosleep-restart", c_nanosleep_restart },
};

CASES_MAIN(cases)
