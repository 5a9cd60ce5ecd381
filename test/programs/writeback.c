/*
 * writeback PATH MIB [BS]: writes MIB MiB of a fixed pseudo-random stream to
 * PATH with write(2) in BS-byte blocks (default 64 KiB), reads the file back
 * from the start with read(2), and prints a hash of what it read. Under a
 * RAM limit smaller than the file, the write-back and reclaim of dirty pages
 * and the re-reading of the program's own evicted text are both exercised.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  long total = atol(argv[2]) << 20;
  size_t bs = argc > 3 ? (size_t)atol(argv[3]) : 65536;
  int fd = open(argv[1], O_CREAT | O_TRUNC | O_RDWR, 0644);
  if (fd < 0) { perror("open"); return 1; }
  unsigned char *buf = malloc(bs);
  unsigned x = 12345;
  for (long off = 0; off < total; off += bs) {
    for (size_t i = 0; i < bs; i++) { x = x * 1103515245u + 12345u; buf[i] = x >> 16; }
    if (write(fd, buf, bs) != (ssize_t)bs) { perror("write"); return 1; }
  }
  if (lseek(fd, 0, SEEK_SET) != 0) { perror("lseek"); return 1; }
  unsigned long sum = 0, bytes = 0;
  ssize_t n;
  while ((n = read(fd, buf, bs)) > 0) {
    for (ssize_t i = 0; i < n; i++) sum = sum * 31 + buf[i];
    bytes += n;
  }
  if (n < 0) { perror("read"); return 1; }
  printf("%lu bytes, hash %lu\n", bytes, sum);
  return close(fd) == 0 ? 0 : 1;
}
