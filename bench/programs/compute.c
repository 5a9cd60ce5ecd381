/*
 * compute.c - a compute-bound program for the run-time benchmark: a sieve of
 * Eratosthenes over 32 Mi numbers (memory-bound, byte stores and loads),
 * then 100 M rounds of an integer hash (register-bound). Prints a checksum
 * so the work cannot be optimised away. Built with gcc -O2 -static.
 */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    const unsigned long n = 32UL << 20;
    unsigned char *composite = calloc(n, 1);
    unsigned long primes = 0;
    for (unsigned long i = 2; i < n; i++) {
        if (composite[i]) continue;
        primes++;
        for (unsigned long j = i * i; j < n; j += i) composite[j] = 1;
    }
    unsigned long h = 0x9e3779b97f4a7c15UL;
    for (unsigned long i = 0; i < 100000000UL; i++) {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h += i;
    }
    printf("%lu %lx\n", primes, h);
    free(composite);
    return 0;
}
