/* bench/signals.ts's guest: times its own loops with clock_gettime and
 * prints one JSON line {"mode":M,"n":N,"ns":T,"count":C}.
 *
 *   signals kill N   N x (kill(getpid(), SIGUSR1) -> handler -> rt_sigreturn)
 *   signals segv N   N x (write to a PROT_NONE page -> SIGSEGV handler
 *                    mprotects it RW -> the write is retried; then the page
 *                    is protected again with mprotect(PROT_NONE))
 *   signals syscall N  N x getppid(): the bare system-call round trip, for
 *                    reading the two above (count is N too)
 *
 * count is what the handler counted (N for both), so a run that did not
 * deliver every signal is refused by the bench. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile long count;
static char *page;

static void on_usr1(int sig) { (void)sig; count++; }

static void on_segv(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  if ((char *)si->si_addr < page || (char *)si->si_addr >= page + 4096) _exit(90);
  count++;
  if (mprotect(page, 4096, PROT_READ | PROT_WRITE) != 0) _exit(91);
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: signals kill|segv N\n"); return 2; }
  long n = atol(argv[2]);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  long long t0, t1;
  if (strcmp(argv[1], "kill") == 0) {
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t me = getpid();
    t0 = now_ns();
    for (long k = 0; k < n; k++) kill(me, SIGUSR1);
    t1 = now_ns();
  } else if (strcmp(argv[1], "segv") == 0) {
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 3;
    t0 = now_ns();
    for (long k = 0; k < n; k++) {
      *(volatile long *)(page + (k & 511) * 8) = k;
      mprotect(page, 4096, PROT_NONE);
    }
    t1 = now_ns();
  } else if (strcmp(argv[1], "syscall") == 0) {
    t0 = now_ns();
    for (long k = 0; k < n; k++) count += syscall(SYS_getppid) >= 0;
    t1 = now_ns();
  } else {
    fprintf(stderr, "signals: no mode %s\n", argv[1]);
    return 2;
  }
  printf("{\"mode\":\"%s\",\"n\":%ld,\"ns\":%lld,\"count\":%ld}\n", argv[1], n, t1 - t0, count);
  return 0;
}
