/* make test: the program make builds from two files; prints what twice() in twice.c computes. */
#include <stdio.h>
int twice(int x);
int main(void) {
  for (int k = 1; k <= 3; k++) printf("twice(%d) = %d\n", k, twice(k));
  return 0;
}
