/* The `PROG CASE` dispatcher shared by sigdeliver.c, sigfaults.c, sigbad.c,
 * sigrestart.c, threads.c and futex.c: main runs the case argv[1] names, and exits 0 when the
 * case returns (a case that must die never returns). */
#include <stdio.h>
#include <string.h>

struct sigcase { const char *name; void (*fn)(void); };

static int run_case(const struct sigcase *cases, size_t n, int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s CASE\n", argv[0]); return 2; }
  for (size_t k = 0; k < n; k++) {
    if (strcmp(argv[1], cases[k].name) == 0) { cases[k].fn(); return 0; }
  }
  fprintf(stderr, "%s: no case %s\n", argv[0], argv[1]);
  return 2;
}
#define CASES_MAIN(cases) \
  int main(int argc, char **argv) { return run_case(cases, sizeof cases / sizeof cases[0], argc, argv); }
