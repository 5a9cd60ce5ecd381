/*
 * matmul.c - a store-heavy double matrix multiply for the run-time benchmark
 * (bench/programs.ts). Built with gcc -O1 -static.
 *
 *   matmul [wx] [N] [REPS]
 *
 * C = A x B for N x N doubles (default 384), REPS times (default 2), in
 * i-k-j order: the inner loop loads A[i][k], B[k][j] and C[i][j] and stores
 * C[i][j] back, so every multiply-add is also a store. Prints a checksum
 * (the sum of C as a decimal and as the bits of the double) so the work
 * cannot be optimised away and any engine's arithmetic can be compared
 * byte for byte with a native run.
 *
 * With "wx" the three arrays (page-aligned, from mmap) are made
 * PROT_READ|PROT_WRITE|PROT_EXEC by the program itself before it starts:
 * every store then goes to a writable and executable page, which an
 * emulator that tracks self-modifying code may handle on a slow path
 * (Unicorn's notdirty write path; faultline's engine patch 0002).
 * Linking with -Wl,-N to get such pages does not work (a musl binary
 * built that way segfaults at start-up natively; glibc's static libc does
 * not link), hence the mprotect.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static double *array(size_t bytes, int wx)
{
    double *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("matmul: mmap");
        exit(1);
    }
    if (wx && mprotect(p, bytes, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
        perror("matmul: mprotect PROT_READ|PROT_WRITE|PROT_EXEC");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    int a = 1, wx = 0;
    if (a < argc && strcmp(argv[a], "wx") == 0) {
        wx = 1;
        a++;
    }
    long n = a < argc ? atol(argv[a++]) : 384;
    long reps = a < argc ? atol(argv[a++]) : 2;
    if (n < 1 || reps < 1 || a < argc) {
        fprintf(stderr, "usage: matmul [wx] [N] [REPS]\n");
        return 2;
    }
    size_t bytes = (size_t)n * n * sizeof(double);
    double *A = array(bytes, wx), *B = array(bytes, wx), *C = array(bytes, wx);
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++) {
            A[i * n + j] = (double)((i * 7 + j * 3) % 17) / 16.0 - 0.5;
            B[i * n + j] = (double)((i * 5 + j * 11) % 23) / 8.0 - 1.25;
        }
    double sum = 0;
    for (long r = 0; r < reps; r++) {
        memset(C, 0, bytes);
        for (long i = 0; i < n; i++)
            for (long k = 0; k < n; k++) {
                double aik = A[i * n + k];
                for (long j = 0; j < n; j++) C[i * n + j] += aik * B[k * n + j];
            }
        for (long i = 0; i < n * n; i++) sum += C[i] * (double)(i % 7 + 1);
        A[(r % n) * n + r % n] += 1.0; /* each repetition computes something new */
    }
    uint64_t bits;
    memcpy(&bits, &sum, sizeof bits);
    printf("matmul%s %ldx%ld x%ld: sum %.17g bits %016llx\n", wx ? " wx" : "", n, n, reps, sum, (unsigned long long)bits);
    return 0;
}
