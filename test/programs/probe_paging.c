/*
 * Probes under paging (test/kprobes-paging.test.ts): probed() sits alone on
 * its text page (aligned to a page, and the next function too), and main
 * calls it once per round (argv[1] rounds), then, when a file is named
 * (argv[2]), scans that file through a private mapping, one byte per page,
 * so that under a small RAM limit the probed page is evicted between rounds
 * and read again at the next call. With argv[3] = "cow", after round 0 it
 * makes probed()'s page writable and rewrites one byte of its padding (same
 * value): the process now runs a private copy of that page. marker(r) runs
 * at the end of every round (a place for a probe whose handler acts mid-run).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((noinline, aligned(4096))) long probed(long x) { return x * 5 + 1; }
__attribute__((noinline, aligned(4096))) long next_page(long x) { return x - 2; }
__attribute__((noinline)) long marker(long r) { return r & 1; }

/* Rewrites a padding byte of probed()'s page (4000 bytes in: past its code) with its own value. */
static void copy_text_page(void) {
  char *page = (char *)((unsigned long)probed & ~4095UL);
  if (mprotect(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) { perror("mprotect"); exit(4); }
  volatile char *b = page + 4000;
  *b = *b;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 4;
  const unsigned char *p = NULL;
  size_t len = 0;
  if (argc > 2 && argv[2][0]) {
    int fd = open(argv[2], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) { perror(argv[2]); return 2; }
    len = (size_t)st.st_size;
    p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 3; }
    close(fd);
  }
  int cow = argc > 3 && !strcmp(argv[3], "cow");
  unsigned long sum = 0;
  for (long r = 0; r < rounds; r++) {
    sum += (unsigned long)probed(r);
    for (size_t off = 0; off < len; off += 4096) sum = sum * 31 + p[off];
    if (cow && r == 0) copy_text_page();
    sum += (unsigned long)marker(r);
  }
  if (argc > 100) sum += (unsigned long)next_page((long)sum);
  printf("rounds %ld sum %lu\n", rounds, sum);
  return 0;
}
