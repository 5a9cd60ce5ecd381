/* A 64 MiB bss array touched sparsely (one word every 4099 bytes, stepping
 * over pages unevenly) and summed; untouched bytes must read zero. */
#include <stdint.h>
#include <stdio.h>

#define SIZE (64u << 20)
static unsigned char big[SIZE];

int main(void) {
  uint64_t sum = 0, zeros = 0;
  for (uint32_t off = 0; off + 8 <= SIZE; off += 4099 * 7) *(uint64_t *)(big + (off & ~7u)) = off * 2654435761u;
  for (uint32_t off = 0; off + 8 <= SIZE; off += 4099 * 7) sum += *(uint64_t *)(big + (off & ~7u));
  for (uint32_t off = 4; off < SIZE; off += 1 << 20) zeros += big[off + 1000] == 0;
  big[SIZE - 1] = 7;
  printf("sum %llu zeros %llu last %d\n", (unsigned long long)sum, (unsigned long long)zeros, big[SIZE - 1]);
  return 0;
}
