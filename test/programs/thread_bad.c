/*
 * thread_bad CASE: threads asked for wrongly.
 *   flags      clone flag combinations Linux refuses: errno names
 *   bad_stack  a thread whose stack pointer is unmapped: its first push faults,
 *              SIGSEGV kills the whole process (status 139), the parent never prints "after"
 *              (nothing is printed before either: whether the parent's write or the
 *              child's fault comes first is a race natively)
 *   many [N]   pthread_create until it fails (at most N, default 100000; the
 *              threads wait on a condition variable): how it failed, how many
 *              were made, then all released and joined
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
    case 0: return "0";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    default: return "other";
  }
}

/* clone(2) with no stack change: only for calls that fail (a success would run the child on our stack). */
static void try_flags(const char *what, unsigned long flags) {
  long r = syscall(SYS_clone, flags, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  printf("%s: %s\n", what, r < 0 ? ename(errno) : "created");
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *wait_go(void *arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  while (!go) pthread_cond_wait(&cv, &m);
  pthread_mutex_unlock(&m);
  return NULL;
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "";
  if (!strcmp(c, "flags")) {
    try_flags("CLONE_THREAD without CLONE_SIGHAND", CLONE_VM | CLONE_THREAD);
    try_flags("CLONE_SIGHAND without CLONE_VM", CLONE_SIGHAND);
    try_flags("CLONE_FS with CLONE_NEWNS", CLONE_FS | CLONE_NEWNS);
    try_flags("CLONE_THREAD with CLONE_NEWPID", CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_NEWPID);
    return 0;
  }
  if (!strcmp(c, "bad_stack")) {
    unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    long r;
    register long r10 __asm__("r10") = 0;
    register long r8 __asm__("r8") = 0;
    /* The child resumes after the syscall with RSP = 0x10000 (unmapped): its push faults. */
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "push %%rax\n\t"
                     "hlt\n"
                     "1:"
                     : "=a"(r)
                     : "a"(SYS_clone), "D"(flags), "S"(0x10000L), "d"(0L), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    if (r < 0) { printf("clone failed: %s\n", ename((int)-r)); return 1; }
    for (int i = 0; i < 200; i++) usleep(10000); /* the child's fault kills us meanwhile */
    printf("after\n");
    return 0;
  }
  if (!strcmp(c, "many")) {
    long n = argc > 2 ? atol(argv[2]) : 100000, made = 0;
    pthread_t *t = calloc(n, sizeof *t);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    int err = 0;
    while (made < n && (err = pthread_create(&t[made], &a, wait_go, NULL)) == 0) made++;
    printf("stopped: %s\n", made == n ? "all made" : ename(err));
    printf("made %ld\n", made);
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);
    for (long i = 0; i < made; i++) pthread_join(t[i], NULL);
    printf("joined %ld\n", made);
    return 0;
  }
  return 2;
}
