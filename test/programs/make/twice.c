/* make test: the second translation unit. */
int twice(int x) { return 2 * x; }
