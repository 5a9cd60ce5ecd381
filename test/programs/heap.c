/* Heavy malloc/free/realloc: thousands of blocks of many sizes, filled with
 * a pattern, checked, resized and freed in a pseudo-random order.
 * Prints a checksum of everything read back; exits 1 on a corrupt block. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

#define SLOTS 4096
static unsigned char *blk[SLOTS];
static size_t len[SLOTS];

static size_t pick_size(void) {
  uint64_t r = next();
  switch (r % 8) {
  case 0: return 1 + r % 16;              /* tiny */
  case 1: case 2: case 3: return 16 + (r >> 8) % 512;   /* small */
  case 4: case 5: return 512 + (r >> 8) % 8192;        /* medium */
  case 6: return 8192 + (r >> 8) % 65536;             /* large */
  default: return 128 * 1024 + (r >> 8) % (192 * 1024); /* mmap-sized */
  }
}

static void fill(int i) { for (size_t k = 0; k < len[i]; k++) blk[i][k] = (unsigned char)(i * 31 + k * 7); }

static uint64_t check(int i, size_t n) {
  uint64_t s = 0;
  for (size_t k = 0; k < n; k++) {
    unsigned char want = (unsigned char)(i * 31 + k * 7);
    if (blk[i][k] != want) { printf("corrupt block %d at %zu: got %u want %u\n", i, k, blk[i][k], want); exit(1); }
    s = s * 1099511628211ull + blk[i][k];
  }
  return s;
}

int main(void) {
  uint64_t sum = 0;
  unsigned long mallocs = 0, reallocs = 0, frees = 0;
  for (int round = 0; round < 20000; round++) {
    int i = (int)(next() % SLOTS);
    uint64_t op = next() % 10;
    if (!blk[i]) {
      len[i] = pick_size();
      blk[i] = op == 0 ? calloc(1, len[i]) : malloc(len[i]);
      if (!blk[i]) { puts("malloc failed"); return 2; }
      if (op == 0) for (size_t k = 0; k < len[i]; k++) if (blk[i][k]) { puts("calloc not zero"); return 1; }
      fill(i);
      mallocs++;
    } else if (op < 4) {
      size_t n = pick_size();
      size_t keep = n < len[i] ? n : len[i];
      sum += check(i, keep);
      blk[i] = realloc(blk[i], n);
      if (!blk[i]) { puts("realloc failed"); return 2; }
      len[i] = n;
      check(i, keep);
      fill(i);
      reallocs++;
    } else {
      sum += check(i, len[i]);
      free(blk[i]);
      blk[i] = NULL;
      frees++;
    }
  }
  for (int i = 0; i < SLOTS; i++) if (blk[i]) { sum += check(i, len[i]); free(blk[i]); frees++; }
  printf("mallocs %lu reallocs %lu frees %lu checksum %016llx\n", mallocs, reallocs, frees, (unsigned long long)sum);
  return 0;
}
