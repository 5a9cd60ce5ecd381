/* long double (x87 80-bit) results printed exactly: libm's long double
 * functions over fixed inputs, fmal, strtold and printf of long doubles.
 *
 *   ldbl CASE     (exp-log, trig, hyper, special, fma, strtold, printf)
 *
 * Each line is "f(x) = %La": the value's every bit, so a last-bit
 * difference in the emulated x87 (its transcendental instructions, its
 * rounding, its flags, which fmal and strtold read) shows.
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const long double IN[] = { 0.5L, -0.75L, 1.5L, 3.0L, 10.0L, 1e-5L, 0x1.8p-40L, 100.25L, 1234.5678L, -7.125L };
#define NIN (sizeof IN / sizeof *IN)

typedef long double (*fn1)(long double);
struct f1 { const char *name; fn1 f; };

static void table(const struct f1 *fs, size_t n) {
  for (size_t k = 0; k < n; k++)
    for (size_t i = 0; i < NIN; i++) {
      volatile long double x = IN[i];
      long double y = fs[k].f(x);
      printf("%s(%La) = %La\n", fs[k].name, (long double)x, y);
    }
}

#define F(f) { #f, f }
static long double exp10l_(long double x) { return powl(10.0L, x); }

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "";
  if (!strcmp(c, "exp-log")) {
    static const struct f1 fs[] = { F(expl), F(exp2l), F(expm1l), F(logl), F(log2l), F(log10l), F(log1pl), F(sqrtl), F(cbrtl), { "pow10", exp10l_ } };
    table(fs, sizeof fs / sizeof *fs);
    for (size_t i = 0; i < NIN; i++) for (size_t j = 0; j < 4; j++) {
      volatile long double x = IN[i], y = IN[j];
      printf("powl(%La, %La) = %La\n", (long double)x, (long double)y, powl(fabsl(x), y));
    }
  } else if (!strcmp(c, "trig")) {
    static const struct f1 fs[] = { F(sinl), F(cosl), F(tanl), F(atanl) };
    table(fs, sizeof fs / sizeof *fs);
    for (size_t i = 0; i < NIN; i++) {
      volatile long double x = IN[i] / 20;
      printf("asinl(%La) = %La acosl = %La atan2l(x, 3) = %La\n", (long double)x, asinl(x), acosl(x), atan2l(x, 3.0L));
    }
  } else if (!strcmp(c, "hyper")) {
    static const struct f1 fs[] = { F(sinhl), F(coshl), F(tanhl), F(asinhl) };
    table(fs, sizeof fs / sizeof *fs);
    for (size_t i = 0; i < NIN; i++) {
      volatile long double x = fabsl(IN[i]);
      printf("acoshl(%La) = %La atanhl(1/(x+2)) = %La\n", 1 + x, acoshl(1 + x), atanhl(1 / (x + 2)));
    }
  } else if (!strcmp(c, "special")) {
    static const struct f1 fs[] = { F(lgammal), F(tgammal), F(erfl), F(erfcl) };
    table(fs, sizeof fs / sizeof *fs);
    for (size_t i = 0; i < NIN; i++) {
      volatile long double x = IN[i];
      printf("hypotl(%La, 3) = %La fmodl(x, 0.7) = %La remainderl(x, 0.7) = %La\n", (long double)x, hypotl(x, 3.0L), fmodl(x, 0.7L), remainderl(x, 0.7L));
    }
  } else if (!strcmp(c, "fma")) {
    static const int MODES[] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };
    for (unsigned m = 0; m < 4; m++) {
      fesetround(MODES[m]);
      for (size_t i = 0; i < NIN; i++) {
        volatile long double x = IN[i], y = IN[(i + 3) % NIN], z = IN[(i + 7) % NIN] * 1e-3L;
        feclearexcept(FE_ALL_EXCEPT);
        long double r = fmal(x, y, z);
        int e = fetestexcept(FE_INEXACT);
        printf("mode %u fmal(%La, %La, %La) = %La%s\n", m, (long double)x, (long double)y, (long double)z, r, e ? " inexact" : "");
      }
      volatile long double big = 0x1p16383L, tiny = 0x1p-16445L;
      printf("mode %u fmal(max, 2, -max) = %La fmal(tiny, 0.5, 0) = %La\n", m, fmal(big, 2.0L, -big), fmal(tiny, 0.5L, 0.0L));
    }
    fesetround(FE_TONEAREST);
  } else if (!strcmp(c, "strtold")) {
    static const char *S[] = { "0.1", "1e-4950", "3.64519953188247460253e-4951", "1.18973149535723176502e+4932", "1.18973149535723176508e+4932",
      "2.718281828459045235360287471352662497757", "0.333333333333333333333333333", "123456789012345678901234567890", "1e4933", "-0x1.fffffffffffffffep+16383",
      "4.9406564584124654e-324", "1.00000000000000000000000000000000000000000000001", "nan", "-inf", "0x1p-16446" };
    static const int MODES[] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };
    for (unsigned m = 0; m < 4; m++) {
      fesetround(MODES[m]);
      for (size_t i = 0; i < sizeof S / sizeof *S; i++) printf("mode %u strtold(%s) = %La\n", m, S[i], strtold(S[i], NULL));
    }
    fesetround(FE_TONEAREST);
  } else if (!strcmp(c, "printf")) {
    for (size_t i = 0; i < NIN; i++) {
      volatile long double x = IN[i] / 3;
      printf("%.30Lg %.25Le %.10Lf %La\n", x, x, x, x);
    }
  } else {
    fprintf(stderr, "usage: ldbl CASE\n");
    return 2;
  }
  return 0;
}
