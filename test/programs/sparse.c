/*
 * sparse GIB STEP_KIB: maps GIB GiB of anonymous memory (MAP_NORESERVE),
 * writes one byte every STEP_KIB KiB of it, reads them all back, and prints
 * how many it touched and their sum. With a 2 MiB step every byte needs a
 * page table of its own: page tables grow with what is touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  size_t len = (size_t)atol(argv[1]) << 30, step = (size_t)atol(argv[2]) << 10;
  unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  unsigned long n = 0, sum = 0;
  for (size_t off = 0; off < len; off += step) p[off] = (unsigned char)(n++ * 7 + 1);
  for (size_t off = 0; off < len; off += step) sum += p[off];
  printf("touched %lu, sum %lu\n", n, sum);
  return 0;
}
