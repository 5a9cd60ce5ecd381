/*
 * thread_shootdown CASE: one thread changes the mapping of memory that
 * another thread is reading in a loop, then raises a flag; once the reader
 * sees the flag, its next access must see the new mapping (Linux's TLB
 * shootdown makes it so on every CPU). Prints what the reader saw.
 *   remap     mmap MAP_FIXED over the page, then other bytes written: reads after the flag see them
 *             (one call replaces the mapping, so the reader never sees a hole; a munmap first would
 *             leave one, and whether a reader faults in it depends on the schedule, natively too)
 *   mprotect  PROT_NONE: the reader's next read faults (SIGSEGV, SEGV_ACCERR)
 *   munmap    munmap: the reader's next read faults (SIGSEGV, SEGV_MAPERR)
 *   dontneed  MADV_DONTNEED of a private page: reads after the flag see zeros
 *   cow       fork (a copy-on-write break by the writer) while the reader reads: it sees its own writes
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile unsigned char *page;
static int flag, done;
static long stale, reads_after;
static sigjmp_buf jb;
static volatile int faulted, fault_code;

static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  faulted = 1;
  fault_code = si->si_code;
  siglongjmp(jb, 1);
}

/* Reads page[0] until the flag is up, then REPS more times; counts reads after the flag that saw `old`. */
static void *reader(void *arg) {
  int old = (int)(long)arg;
  if (sigsetjmp(jb, 1)) return NULL; /* faulted */
  for (;;) {
    int f = __atomic_load_n(&flag, __ATOMIC_ACQUIRE);
    int v = page[0];
    if (f) {
      reads_after++;
      if (v == old) stale++;
      if (reads_after == 1000) break;
    }
  }
  return NULL;
}

static volatile unsigned char *new_page(int byte) {
  unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  memset(p, byte, 4096);
  return p;
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "";
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  page = new_page(1);
  pthread_t t;
  pthread_create(&t, NULL, reader, (void *)1L);
  usleep(20000); /* the reader is in its loop, its TLB holds the page */
  if (!strcmp(c, "remap")) {
    void *q = mmap((void *)page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (q != (void *)page) { perror("mmap fixed"); return 1; }
    memset(q, 2, 4096);
  } else if (!strcmp(c, "mprotect")) {
    mprotect((void *)page, 4096, PROT_NONE);
  } else if (!strcmp(c, "munmap")) {
    munmap((void *)page, 4096);
  } else if (!strcmp(c, "dontneed")) {
    madvise((void *)page, 4096, MADV_DONTNEED);
  } else if (!strcmp(c, "cow")) {
    pid_t pid = fork();
    if (pid == 0) _exit(page[0] == 1 ? 0 : 1);
    int st;
    waitpid(pid, &st, 0);
    page[0] = 3; /* the copy-on-write break: the reader must see 3, from the parent's new page */
    printf("child saw the old byte: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
  } else {
    fprintf(stderr, "unknown case %s\n", c);
    return 2;
  }
  __atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  printf("%s: reads after the change %ld, stale %ld, faulted %d", c, reads_after, stale, faulted);
  if (faulted) printf(" (%s)", fault_code == SEGV_MAPERR ? "SEGV_MAPERR" : fault_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other");
  printf("\n");
  (void)done;
  return 0;
}
