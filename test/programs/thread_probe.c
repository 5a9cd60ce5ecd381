/*
 * thread_probe [THREADS [CALLS]]: THREADS threads (default 4) each call
 * step_me() and step_other() CALLS times each (default 5000), in turn,
 * spinning between calls, so the scheduler preempts them anywhere, also
 * between a probe's breakpoint and its out-of-line step. The first
 * instruction of each reads a different global RIP-relatively (stepped out
 * of line, not emulated, its operand rewritten): a thread that resumed its
 * step in a slot another thread had meanwhile loaded with the other
 * function's instruction would read the wrong global. Prints the sums of
 * what the calls returned, which a wrong slot or a lost step would change.
 * thread_probe live: 4 threads call step_me until main has created and
 * joined 60 short threads (a probe can be registered meanwhile) and seen
 * each of them call it at least once (on a loaded host a worker may not
 * have run yet when the short threads are done), then stop.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

long base = 7, other_base = 1000000;
__attribute__((noinline)) long step_me(long x);
__attribute__((noinline)) long step_other(long x);
__asm__(".text\n.globl step_me\n.type step_me,@function\nstep_me:\n"
        "  movq base(%rip), %rax\n" /* stepped: RIP-relative load */
        "  addq %rdi, %rax\n"
        "  ret\n.size step_me, .-step_me\n"
        ".globl step_other\n.type step_other,@function\nstep_other:\n"
        "  movq other_base(%rip), %rdx\n" /* stepped: another global, into another register (other bytes in the slot) */
        "  movq %rdx, %rax\n"
        "  subq %rdi, %rax\n"
        "  ret\n.size step_other, .-step_other\n");

static long calls = 5000;

static void *worker(void *arg) {
  long id = (long)arg, sum = 0;
  for (long i = 0; i < calls; i++) {
    sum += step_me(id * 1000 + (i & 7));
    for (volatile int spin = 0; spin < 100; spin++) {}
    sum += step_other(id + (i & 3)) * 3;
    for (volatile int spin = 0; spin < 100; spin++) {}
  }
  return (void *)sum;
}

/* live mode: workers call step_me until main, after 60 short threads created and joined, says stop. */
static volatile int stop;
static long live_calls[4];

static void *live_worker(void *arg) {
  long id = (long)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    step_me(id);
    __atomic_store_n(&live_calls[id], live_calls[id] + 1, __ATOMIC_RELEASE); /* one writer per slot */
  }
  return NULL;
}

static void *nothing(void *arg) { return arg; }

static int live(void) {
  pthread_t w[4];
  for (long i = 0; i < 4; i++) pthread_create(&w[i], NULL, live_worker, (void *)i);
  for (int k = 0; k < 60; k++) {
    pthread_t t;
    pthread_create(&t, NULL, nothing, NULL);
    pthread_join(t, NULL);
  }
  for (int i = 0; i < 4; i++)
    while (__atomic_load_n(&live_calls[i], __ATOMIC_ACQUIRE) == 0) sched_yield();
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < 4; i++) pthread_join(w[i], NULL);
  /* Reached only once every worker has called step_me (the wait above). */
  printf("live: 4 workers, each called step_me: yes\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && argv[1][0] == 'l') return live();
  int n = argc > 1 ? atoi(argv[1]) : 4;
  if (argc > 2) calls = atol(argv[2]);
  pthread_t t[64];
  if (n < 1 || n > 64) return 2;
  for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  long total = 0;
  for (int i = 0; i < n; i++) {
    void *r;
    pthread_join(t[i], &r);
    total += (long)r;
  }
  printf("threads %d calls %ld total %ld\n", n, calls, total);
  return 0;
}
