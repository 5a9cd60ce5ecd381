/* The floating-point environment as arithmetic leaves it: the exception flags
 * each SSE and x87 operation raises, results under each rounding mode and x87
 * precision control, MXCSR's FTZ/DAZ, and an unmasked exception's SIGFPE.
 *
 *   fenv CASE     (sse-flags, x87-flags, x87-insns, x87-trig, sse-round, x87-round,
 *                  x87-precision, sse-ftz-daz, flags-across, sse-trap,
 *                  x87-trap)
 *
 * Every line names one operation and prints what the CPU left: the result in
 * %a (exact), fetestexcept's flags as letters, and the raw flag bits of the
 * unit that ran it (MXCSR[5:0] for SSE, FSW[6:0] for x87: IE DE ZE OE UE PE SF).
 * Operands are volatile so the compiler cannot fold them; the operations that
 * must be one instruction are inline asm.
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static unsigned mxcsr(void) { unsigned v; __asm__ volatile("stmxcsr %0" : "=m"(v)); return v; }
static void set_mxcsr(unsigned v) { __asm__ volatile("ldmxcsr %0" : : "m"(v)); }
static unsigned short fsw(void) { unsigned short v; __asm__ volatile("fnstsw %0" : "=m"(v)); return v; }
static unsigned short fcw(void) { unsigned short v; __asm__ volatile("fnstcw %0" : "=m"(v)); return v; }
static void set_fcw(unsigned short v) { __asm__ volatile("fldcw %0" : : "m"(v)); }

/* Clears both units' flags (feclearexcept does both; FNCLEX also clears SF and ES). */
static void clear(void) { feclearexcept(FE_ALL_EXCEPT); set_mxcsr(mxcsr() & ~0x3fu); __asm__ volatile("fnclex"); }

/* The flags right after an operation, taken before anything formats its
 * result (printf's own arithmetic would add its flags). */
static int snap_e;
static unsigned snap_raw;
static void snap(const char *unit) {
  snap_e = fetestexcept(FE_ALL_EXCEPT);
  snap_raw = unit[0] == 's' ? (mxcsr() & 0x3f) : (fsw() & 0x7f);
}

/* "name result letters raw": the line every flag case prints, from the last snap(). */
static void report(const char *name, const char *result) {
  int e = snap_e;
  printf("%-22s %-28s %c%c%c%c%c raw %#04x\n", name, result,
         e & FE_INVALID ? 'I' : '-', e & FE_DIVBYZERO ? 'Z' : '-', e & FE_OVERFLOW ? 'O' : '-',
         e & FE_UNDERFLOW ? 'U' : '-', e & FE_INEXACT ? 'P' : '-', snap_raw);
}

static char buf[64];
static const char *fmt_d(double v) { snprintf(buf, sizeof buf, "%a", v); return buf; }
static const char *fmt_f(float v) { snprintf(buf, sizeof buf, "%a", (double)v); return buf; }
static const char *fmt_ld(long double v) { snprintf(buf, sizeof buf, "%La", v); return buf; }
static const char *fmt_i(long long v) { snprintf(buf, sizeof buf, "%#llx", (unsigned long long)v); return buf; }

static volatile double d0 = 0.0, d1 = 1.0, d2 = 2.0, d3 = 3.0, dm1 = -1.0, dmax = DBL_MAX, dmin = DBL_MIN, dhuge = 1e300, dhalf = 2.5;
static volatile double dinf = INFINITY, dden = 0x1p-1070;
static volatile float f1 = 1.0f, f3 = 3.0f;
static volatile long double l0 = 0.0L, l1 = 1.0L, l3 = 3.0L, lm1 = -1.0L, lmax = LDBL_MAX, lmin = LDBL_MIN, linf = INFINITY, lhalf = 2.5L;
static volatile long double lden = 0x1p-16440L, lbig = 1e30L;

/* A signalling NaN: quiet bit clear, payload non-zero. */
static double snan_d(void) { uint64_t b = 0x7ff4000000000000ull; double v; memcpy(&v, &b, 8); return v; }

/* comisd/ucomisd of a with b: raises IE for any NaN (comisd) or only an SNaN (ucomisd). */
static void comisd(double a, double b) { __asm__ volatile("comisd %1, %0" : : "x"(a), "x"(b) : "cc"); }
static void ucomisd(double a, double b) { __asm__ volatile("ucomisd %1, %0" : : "x"(a), "x"(b) : "cc"); }
static long long cvtsd2si(double a) { long long r; __asm__ volatile("cvtsd2si %1, %0" : "=r"(r) : "x"(a)); return r; }
static long long cvttsd2si(double a) { long long r; __asm__ volatile("cvttsd2si %1, %0" : "=r"(r) : "x"(a)); return r; }

static void sse_flags(void) {
  volatile double r; volatile float rf; long long ri;
#define D(name, expr) do { clear(); r = (expr); snap("sse"); report(name, fmt_d(r)); } while (0)
  D("1+1", d1 + d1);
  D("1/3", d1 / d3);
  D("1/0", d1 / d0);
  D("-1/0", dm1 / d0);
  D("0/0", d0 / d0);
  D("inf-inf", dinf - dinf);
  D("0*inf", d0 * dinf);
  D("sqrt(-1)", sqrt(dm1));
  D("sqrt(2)", sqrt(d2));
  D("max*2", dmax * d2);
  D("min*min", dmin * dmin);
  D("min/2 (exact)", dmin / d2);
  D("min/3", dmin / d3);
  D("denormal+1", dden + d1);
  D("denormal*1", dden * d1);
  D("snan+1", snan_d() + d1);
  D("1e300*1e300", dhuge * dhuge);
#undef D
  clear(); rf = (float)dhuge; snap("sse"); report("(float)1e300", fmt_f(rf));
  clear(); rf = (float)(d1 / d3); snap("sse"); report("(float)(1/3)", fmt_f(rf));
  clear(); rf = f1 / f3; snap("sse"); report("1f/3f", fmt_f(rf));
  clear(); rf = (float)dmin; snap("sse"); report("(float)DBL_MIN", fmt_f(rf));
  clear(); ri = cvttsd2si(d0 / d0); snap("sse"); report("cvttsd2si(nan)", fmt_i(ri));
  clear(); ri = cvttsd2si(dhuge); snap("sse"); report("cvttsd2si(1e300)", fmt_i(ri));
  clear(); ri = cvtsd2si(dhalf); snap("sse"); report("cvtsd2si(2.5)", fmt_i(ri));
  clear(); ri = cvttsd2si(dhalf); snap("sse"); report("cvttsd2si(2.5)", fmt_i(ri));
  double qnan = d0 / d0;
  clear(); comisd(qnan, d1); snap("sse"); report("comisd(qnan,1)", "-");
  clear(); ucomisd(qnan, d1); snap("sse"); report("ucomisd(qnan,1)", "-");
  clear(); ucomisd(snan_d(), d1); snap("sse"); report("ucomisd(snan,1)", "-");
  clear(); r = fmin(qnan, d1); snap("sse"); report("fmin(qnan,1)", fmt_d(r));
  clear(); r = rint(dhalf); snap("sse"); report("rint(2.5)", fmt_d(r));
  clear(); r = nearbyint(dhalf + 0.25); snap("sse"); report("nearbyint(2.75)", fmt_d(r));
  clear(); r = floor(dhalf); snap("sse"); report("floor(2.5)", fmt_d(r));
}

/* x87 ops: FSUBP etc. on long double; the asm ones are single instructions. */
static long double x87_1(const char *op, long double a) {
  long double r;
  if (!strcmp(op, "fsqrt")) __asm__ volatile("fsqrt" : "=t"(r) : "0"(a));
  else if (!strcmp(op, "frndint")) __asm__ volatile("frndint" : "=t"(r) : "0"(a));
  else if (!strcmp(op, "f2xm1")) __asm__ volatile("f2xm1" : "=t"(r) : "0"(a));
  else if (!strcmp(op, "fsin")) __asm__ volatile("fsin" : "=t"(r) : "0"(a));
  else if (!strcmp(op, "fcos")) __asm__ volatile("fcos" : "=t"(r) : "0"(a));
  else if (!strcmp(op, "fabs")) __asm__ volatile("fabs" : "=t"(r) : "0"(a));
  else abort();
  return r;
}

/* st0 OP st1 for the two-operand transcendental instructions: fyl2x = st1*log2(st0), fyl2xp1 = st1*log2(st0+1), fpatan = atan(st1/st0), fscale = st0*2^trunc(st1), fprem/fprem1 = st0 rem st1. */
static long double x87_2(const char *op, long double st0, long double st1) {
  long double r;
  if (!strcmp(op, "fyl2x")) __asm__ volatile("fyl2x" : "=t"(r) : "0"(st0), "u"(st1) : "st(1)");
  else if (!strcmp(op, "fyl2xp1")) __asm__ volatile("fyl2xp1" : "=t"(r) : "0"(st0), "u"(st1) : "st(1)");
  else if (!strcmp(op, "fpatan")) __asm__ volatile("fpatan" : "=t"(r) : "0"(st0), "u"(st1) : "st(1)");
  else if (!strcmp(op, "fscale")) __asm__ volatile("fscale" : "=t"(r) : "0"(st0), "u"(st1));
  else if (!strcmp(op, "fprem")) __asm__ volatile("1: fprem; fnstsw %%ax; sahf; jp 1b" : "=t"(r) : "0"(st0), "u"(st1) : "ax", "cc");
  else if (!strcmp(op, "fxtract-sig")) { long double e; __asm__ volatile("fxtract" : "=t"(r), "=u"(e) : "0"(st0)); (void)e; }
  else if (!strcmp(op, "fxtract-exp")) { long double sig; __asm__ volatile("fxtract" : "=t"(sig), "=u"(r) : "0"(st0)); (void)sig; }
  else if (!strcmp(op, "fprem1")) __asm__ volatile("1: fprem1; fnstsw %%ax; sahf; jp 1b" : "=t"(r) : "0"(st0), "u"(st1) : "ax", "cc");
  else abort();
  return r;
}

static void x87_flags(void) {
  volatile long double r; volatile double rd; volatile float rf; long long ri;
#define L(name, expr) do { clear(); r = (expr); snap("x87"); report(name, fmt_ld(r)); } while (0)
  L("1+1", l1 + l1);
  L("1/3", l1 / l3);
  L("1/0", l1 / l0);
  L("-1/0", lm1 / l0);
  L("0/0", l0 / l0);
  L("inf-inf", linf - linf);
  L("0*inf", l0 * linf);
  L("fsqrt(-1)", x87_1("fsqrt", lm1));
  L("fsqrt(2)", x87_1("fsqrt", l1 + l1));
  L("max*2", lmax * (l1 + l1));
  L("min*min", lmin * lmin);
  L("min/2", lmin / (l1 + l1));
  L("min/3", lmin / l3);
  L("denormal+1", lden + l1);
  L("frndint(2.5)", x87_1("frndint", lhalf));
#undef L
  clear(); rd = (double)(l1 / l3); snap("x87"); report("(double)(1/3)", fmt_d(rd));
  clear(); rd = (double)lmax; snap("x87"); report("(double)LDBL_MAX", fmt_d(rd));
  clear(); rf = (float)lbig; snap("x87"); report("(float)1e30", fmt_f(rf));
  clear(); __asm__ volatile("fistpll %0" : "=m"(ri) : "t"(lhalf) : "st"); snap("x87"); report("fistp(2.5)", fmt_i(ri));
  clear(); __asm__ volatile("fistpll %0" : "=m"(ri) : "t"(lbig) : "st"); snap("x87"); report("fistp(1e30)", fmt_i(ri));
  clear(); __asm__ volatile("fisttpll %0" : "=m"(ri) : "t"(lhalf) : "st"); snap("x87"); report("fisttp(2.5)", fmt_i(ri));
  long double nan = l0 / l0;
  clear(); __asm__ volatile("fucomip %%st(1), %%st; fstp %%st(0)" : : "t"(nan), "u"(l1) : "cc", "st", "st(1)"); snap("x87"); report("fucomip(qnan,1)", "-");
  clear(); __asm__ volatile("fcomip %%st(1), %%st; fstp %%st(0)" : : "t"(nan), "u"(l1) : "cc", "st", "st(1)"); snap("x87"); report("fcomip(qnan,1)", "-");
}

/* The x87 instructions libm's long double functions are built on (F2XM1, FYL2X, FYL2XP1, FPATAN, FSCALE, FPREM, FPREM1, FXTRACT). */
static void x87_insns(void) {
  volatile long double r;
#define L(name, expr) do { clear(); r = (expr); snap("x87"); report(name, fmt_ld(r)); } while (0)
  L("f2xm1(0.5)", x87_1("f2xm1", l1 / (l1 + l1)));
  L("f2xm1(-0.25)", x87_1("f2xm1", -l1 / (l3 + l1)));
  L("fyl2x(10,1)", x87_2("fyl2x", 10.0L * l1, l1));
  L("fyl2x(0,1)", x87_2("fyl2x", l0, l1));
  L("fyl2x(-1,1)", x87_2("fyl2x", lm1, l1));
  L("fyl2xp1(0.25,1)", x87_2("fyl2xp1", l1 / 4, l1));
  L("fpatan(3,1)", x87_2("fpatan", l3, l1));
  L("fpatan(-1,1e-20)", x87_2("fpatan", lm1, 1e-20L * l1));
  L("fscale(1.5,10)", x87_2("fscale", 1.5L * l1, 10.0L * l1));
  L("fscale(1,20000)", x87_2("fscale", l1, 20000.0L * l1));
  L("fprem(10,3)", x87_2("fprem", 10.0L * l1, l3));
  L("fprem1(10,3)", x87_2("fprem1", 10.0L * l1, l3));
  L("fprem(1e30,0.7)", x87_2("fprem", lbig, 0.7L * l1));
  L("fxtract(1000) sig", x87_2("fxtract-sig", 1000.0L * l1, l0));
  L("fxtract(1000) exp", x87_2("fxtract-exp", 1000.0L * l1, l0));
  L("fxtract(0) exp", x87_2("fxtract-exp", l0, l0));
#undef L
}

/* FSIN/FCOS: their own case, since the emulators compute them through the host's double sin/cos. */
static void x87_trig(void) {
  volatile long double r;
#define L(name, expr) do { clear(); r = (expr); snap("x87"); report(name, fmt_ld(r)); } while (0)
  L("fsin(1)", x87_1("fsin", l1));
  L("fcos(1)", x87_1("fcos", l1));
  L("fsin(1e30)", x87_1("fsin", lbig));
#undef L
}

static const struct { int mode; const char *name; } MODES[] = {
  { FE_TONEAREST, "nearest" }, { FE_DOWNWARD, "down" }, { FE_UPWARD, "up" }, { FE_TOWARDZERO, "zero" },
};

static void sse_round(void) {
  for (unsigned m = 0; m < sizeof MODES / sizeof *MODES; m++) {
    fesetround(MODES[m].mode);
    printf("%s: 1/3 %a -1/3 %a sqrt2 %a 2/3f %a max*2 %a min/3 %a\n", MODES[m].name,
           d1 / d3, dm1 / d3, sqrt(d2), (double)((f1 + f1) / f3), dmax * d2, dmin / d3);
    printf("%s: (float)(1/3) %a rint(2.5) %a rint(-2.5) %a lrint(3.5) %ld cvtsd2si(-2.5) %lld 1e16+1 %a\n", MODES[m].name,
           (double)(float)(d1 / d3), rint(dhalf), rint(-dhalf), lrint(dhalf + d1), cvtsd2si(-dhalf), 1e16 * d1 + d1);
    printf("%s: exp(1) %a log(3) %a sin(3) %a pow(3,0.5) %a strtod %a\n", MODES[m].name,
           exp(d1), log(d3), sin(d3), pow(d3, 0.5 * d1), strtod("0.1", NULL));
  }
  fesetround(FE_TONEAREST);
}

static void x87_round(void) {
  for (unsigned m = 0; m < sizeof MODES / sizeof *MODES; m++) {
    fesetround(MODES[m].mode);
    printf("%s: 1/3 %La -1/3 %La sqrt2 %La max*2 %La min/3 %La\n", MODES[m].name,
           l1 / l3, lm1 / l3, sqrtl(l1 + l1), lmax * (l1 + l1), lmin / l3);
    printf("%s: (double)(1/3) %a rintl(2.5) %La rintl(-2.5) %La lrintl(3.5) %ld 2^64+1 %La\n", MODES[m].name,
           (double)(l1 / l3), rintl(lhalf), rintl(-lhalf), lrintl(lhalf + l1), 0x1p64L * l1 + l1);
    printf("%s: expl(1) %La logl(3) %La sinl(3) %La powl(3,0.5) %La atanl(3) %La strtold %La\n", MODES[m].name,
           expl(l1), logl(l3), sinl(l3), powl(l3, 0.5L * l1), atanl(l3), strtold("0.1", NULL));
  }
  fesetround(FE_TONEAREST);
}

static void x87_precision(void) {
  static const struct { unsigned short pc; const char *name; } PC[] = { { 0x000, "24-bit" }, { 0x200, "53-bit" }, { 0x300, "64-bit" } };
  unsigned short cw = fcw();
  for (unsigned k = 0; k < 3; k++) {
    set_fcw((unsigned short)((cw & ~0x300) | PC[k].pc));
    volatile long double q = l1 / l3, s = l1 + 0x1p-40L, p = l3 * (l1 / l3), rt = x87_1("fsqrt", l3);
    unsigned short sw = fsw();
    set_fcw(cw);
    printf("%s: 1/3 %La 1+2^-40 %La 3*(1/3) %La fsqrt(3) %La fsw %#x\n", PC[k].name, q, s, p, rt, sw & 0x3f);
  }
}

static void sse_ftz_daz(void) {
  unsigned base = mxcsr();
  static const struct { unsigned bits; const char *name; } M[] = { { 0, "none" }, { 0x8000, "FTZ" }, { 0x0040, "DAZ" }, { 0x8040, "FTZ+DAZ" } };
  for (unsigned k = 0; k < 4; k++) {
    set_mxcsr((base & ~0x803fu) | M[k].bits);
    volatile double a = dmin / d3, b = dden * d2, c = dden + d0;
    unsigned flags = mxcsr() & 0x3f;
    set_mxcsr(base);
    printf("%s: min/3 %a den*2 %a den+0 %a flags %#x\n", M[k].name, a, b, c, flags);
  }
}

/* The SIGFPE an unmasked exception raises, with si_code. */
static void on_fpe(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  printf("signal %d si_code %d\n", sig, si->si_code);
  fflush(stdout);
  _exit(0);
}

static void trap(const char *unit) {
  struct sigaction sa = { .sa_sigaction = on_fpe, .sa_flags = SA_SIGINFO };
  sigaction(SIGFPE, &sa, NULL);
  clear();
  /* Unmask ZE in the one unit (feenableexcept is glibc's only). */
  if (unit[0] == 's') {
    set_mxcsr(mxcsr() & ~0x200u);
    printf("mxcsr %#x\n", mxcsr());
    volatile double r = d1 / d0;
    printf("no trap: %a\n", r);
  } else {
    set_fcw((unsigned short)(fcw() & ~0x4));
    printf("fcw %#x\n", fcw());
    volatile long double r = l1 / l0;
    printf("no trap: %La\n", r);
  }
}

/* The flags as a signal frame carries them (fpstate's mxcsr and swd), and as sigreturn and fork hand them on. */
static void on_usr1(int sig, siginfo_t *si, void *ucv) {
  (void)sig; (void)si;
  ucontext_t *uc = ucv;
  printf("frame: mxcsr flags %#x swd flags %#x\n", uc->uc_mcontext.fpregs->mxcsr & 0x3f, uc->uc_mcontext.fpregs->swd & 0x3f);
  printf("handler starts with: mxcsr flags %#x fsw flags %#x\n", mxcsr() & 0x3f, fsw() & 0x3f);
  volatile double r = d0 / d0; /* IE in the handler: gone after sigreturn */
  (void)r;
}

static void flags_across(void) {
  struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
  sigaction(SIGUSR1, &sa, NULL);
  clear();
  volatile double r = d1 / d3;           /* SSE: PE */
  volatile long double lr = l1 / l0;     /* x87: ZE */
  (void)r; (void)lr;
  raise(SIGUSR1);
  printf("after sigreturn: mxcsr flags %#x fsw flags %#x\n", mxcsr() & 0x3f, fsw() & 0x3f);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    printf("child: mxcsr flags %#x fsw flags %#x fetestexcept %#x\n", mxcsr() & 0x3f, fsw() & 0x3f, fetestexcept(FE_ALL_EXCEPT));
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  printf("parent: status %d\n", st);
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "";
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(c, "sse-flags")) sse_flags();
  else if (!strcmp(c, "x87-flags")) x87_flags();
  else if (!strcmp(c, "x87-insns")) x87_insns();
  else if (!strcmp(c, "x87-trig")) x87_trig();
  else if (!strcmp(c, "flags-across")) flags_across();
  else if (!strcmp(c, "sse-round")) sse_round();
  else if (!strcmp(c, "x87-round")) x87_round();
  else if (!strcmp(c, "x87-precision")) x87_precision();
  else if (!strcmp(c, "sse-ftz-daz")) sse_ftz_daz();
  else if (!strcmp(c, "sse-trap")) trap("sse");
  else if (!strcmp(c, "x87-trap")) trap("x87");
  else { fprintf(stderr, "usage: fenv CASE\n"); return 2; }
  return 0;
}
