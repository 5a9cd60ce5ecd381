/* A deliberate write through NULL: the process must die of SIGSEGV. */
#include <stdio.h>

int main(void) {
  puts("before");
  fflush(stdout);
  *(volatile int *)0 = 42;
  puts("after");
  return 0;
}
