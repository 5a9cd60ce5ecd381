/* The floating-point environment a new process starts with: Linux gives
 * x87 control word 0x37f (64-bit precision, round to nearest, all exceptions
 * masked) and MXCSR 0x1f80 (all SSE exceptions masked). */
#include <stdio.h>

int main(void) {
  unsigned short cw;
  unsigned int mxcsr;
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
  volatile long double a = 1.0L, b = 3.0L;
  long double q = a / b;
  printf("fcw %#x mxcsr %#x x87 1/3 %.21Lg\n", cw, mxcsr, q);
  return 0;
}
