/* File mappings: a MAP_SHARED write reaches the file after msync (checked
 * with read()), a MAP_PRIVATE write does not. Usage: filemap PATH.
 * Prints what it saw; exits 1 on the first mismatch. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIZE (3 * 4096 + 100)

static unsigned char buf[SIZE];

static int readback(int fd) {
  if (lseek(fd, 0, SEEK_SET) != 0) { perror("lseek"); return -1; }
  size_t got = 0;
  while (got < SIZE) {
    ssize_t n = read(fd, buf + got, SIZE - got);
    if (n <= 0) { perror("read"); return -1; }
    got += (size_t)n;
  }
  return 0;
}

static unsigned sum(const unsigned char *p, size_t n) { unsigned s = 0; for (size_t k = 0; k < n; k++) s = s * 31 + p[k]; return s; }

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: filemap PATH\n"); return 2; }
  int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { perror("open"); return 2; }
  for (int k = 0; k < SIZE; k++) buf[k] = (unsigned char)('a' + k % 26);
  if (write(fd, buf, SIZE) != SIZE) { perror("write"); return 2; }

  unsigned char *sh = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (sh == MAP_FAILED) { perror("mmap shared"); return 2; }
  if (memcmp(sh, buf, SIZE) != 0) { puts("shared mapping differs from file"); return 1; }
  for (int k = 0; k < SIZE; k += 512) sh[k] = (unsigned char)('A' + (k / 512) % 26);
  memcpy(sh + 4096 - 3, "PAGE-BOUNDARY", 13);
  if (msync(sh, SIZE, MS_SYNC) != 0) { perror("msync"); return 2; }
  if (readback(fd)) return 2;
  if (memcmp(buf, sh, SIZE) != 0) { puts("read() after msync differs from the shared mapping"); return 1; }
  printf("shared: %.20s... sum %08x\n", (char *)buf + 4090, sum(buf, SIZE));

  unsigned char *pr = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (pr == MAP_FAILED) { perror("mmap private"); return 2; }
  if (memcmp(pr, sh, SIZE) != 0) { puts("private mapping differs from shared"); return 1; }
  unsigned before = sum(buf, SIZE);
  memset(pr + 100, 'P', 5000);
  if (msync(pr, SIZE, MS_SYNC) != 0) { perror("msync private"); return 2; }
  if (readback(fd)) return 2;
  if (sum(buf, SIZE) != before) { puts("MAP_PRIVATE write reached the file"); return 1; }
  if (sh[100] == 'P' || sh[4096] == 'P') { puts("MAP_PRIVATE write reached the shared mapping"); return 1; }
  printf("private: %.8s file %.8s sum %08x\n", (char *)pr + 98, (char *)buf + 98, sum(pr, SIZE));

  /* a shared write after the private copy is seen by read(), not by the private copied page */
  sh[200] = '#';
  if (msync(sh, 4096, MS_SYNC) != 0) { perror("msync 2"); return 2; }
  if (readback(fd)) return 2;
  printf("after: file[200]=%c private[200]=%c\n", buf[200], pr[200]);
  munmap(pr, SIZE);
  munmap(sh, SIZE);
  close(fd);
  return 0;
}
