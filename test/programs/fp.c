/* Floating point printed exactly: libm functions, accumulations, %.17g/%a/%e. */
#include <math.h>
#include <stdio.h>

int main(void) {
  volatile double x = 2.0;
  printf("sqrt2 %.17g\n", sqrt(x));
  double s = 0, h = 0, t = 0;
  for (int k = 1; k <= 100000; k++) { s += 1.0 / k; h += sin(k * 0.001); t += sqrt((double)k) * 1e-3; }
  printf("harmonic %.17g\nsinsum %.17g\nsqrtsum %.17g\n", s, h, t);
  printf("sin %.17g cos %.17g tan %.17g\n", sin(1.0), cos(1.0), tan(0.5));
  printf("exp %.17g log %.17g pow %.17g\n", exp(1.0), log(10.0), pow(2.0, 0.5));
  printf("atan2 %.17g fmod %.17g\n", atan2(1.0, 3.0), fmod(10.5, 3.2));
  volatile float f = 1.0f / 3.0f;
  printf("float %.9g %a\n", (double)f, (double)f);
  printf("e %e %g %f %.3f\n", 6.02214076e23, 1e-300 * 1e-10, -0.0, 2.0005);
  printf("inf %f nan %f\n", x / 0.0, 0.0 / (x - 2.0));
  long double ld = 1.0L / 3.0L;
  printf("ld %.21Lg\n", ld);
  printf("round %.0f %.0f %ld\n", 2.5, 3.5, lround(-2.5));
  return 0;
}
