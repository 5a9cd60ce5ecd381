/* Synchronous signals from CPU exceptions, handled by the program itself:
 * SIGSEGV (mprotect-and-retry, userfault-style mmap on demand, stack overflow
 * on a sigaltstack, siglongjmp out), SIGFPE / SIGILL skipped by editing RIP,
 * SIGTRAP from the program's own int3, SIGBUS past the end of a file mapping,
 * and the faults that cannot be delivered (blocked, ignored, inside the
 * handler), which kill. `sigfaults CASE` runs one case and prints counts,
 * si_code values and addresses relative to what the program mapped.
 * test/signal-faults.test.ts compares each case with the native run. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "sigcase.h"

#define PAGE 4096UL

static volatile long faults, maperr, accerr, other_code;
static volatile uintptr_t last_addr, region, region_end;
static volatile long last_err, last_trapno, cr2_ok;
static sigjmp_buf jb;

static void install_info(int sig, void (*fn)(int, siginfo_t *, void *), int flags, const sigset_t *mask) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = flags | SA_SIGINFO;
  if (mask) sa.sa_mask = *mask; else sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) { perror("sigaction"); exit(99); }
}

static void note_code(const siginfo_t *si) {
  if (si->si_code == SEGV_MAPERR) maperr++;
  else if (si->si_code == SEGV_ACCERR) accerr++;
  else other_code = si->si_code;
}

static void *map(size_t len, int prot) {
  void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(98); }
  return p;
}

/* --- mprotect and retry: a GC write barrier / guard page pattern --- */
static void on_protect(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  ucontext_t *uc = ctx;
  uintptr_t a = (uintptr_t)si->si_addr;
  if (a < region || a >= region_end) _exit(90); /* not ours: the native run never gets here */
  faults++;
  note_code(si);
  last_addr = a;
  last_err = uc->uc_mcontext.gregs[REG_ERR];
  last_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
  cr2_ok += (uintptr_t)uc->uc_mcontext.gregs[REG_CR2] == a;
  uintptr_t page = a & ~(PAGE - 1);
  /* PROT_NONE -> read-only on the first fault, read-write on the second */
  int prot = (last_err & 2) ? PROT_READ | PROT_WRITE : PROT_READ;
  if (mprotect((void *)page, PAGE, prot) != 0) _exit(91);
}

static void c_mprotect(void) {
  enum { N = 64 };
  install_info(SIGSEGV, on_protect, 0, NULL);
  char *p = map(N * PAGE, PROT_READ);
  region = (uintptr_t)p, region_end = region + N * PAGE;
  long sum = 0;
  for (int k = 0; k < N; k++) sum += p[k * PAGE + 8]; /* readable: no fault */
  printf("reads of PROT_READ pages: faults=%ld sum=%ld\n", faults, sum);
  for (int k = 0; k < N; k++) p[k * PAGE + 100 + k] = (char)k; /* each write faults once */
  printf("writes: faults=%ld accerr=%ld maperr=%ld other=%ld last addr offset=%#lx err=%#lx trapno=%ld cr2 ok=%ld\n",
         faults, accerr, maperr, other_code, (unsigned long)(last_addr - region), last_err, last_trapno, cr2_ok);
  for (int k = 0; k < N; k++) p[k * PAGE + 200] = 1; /* now writable: no fault */
  printf("second writes: faults=%ld\n", faults);
  /* PROT_NONE: a read faults (-> PROT_READ), then a write faults (-> RW) */
  faults = accerr = cr2_ok = 0;
  if (mprotect(p, N * PAGE, PROT_NONE) != 0) exit(97);
  long s2 = 0;
  for (int k = 0; k < N; k++) {
    s2 += p[k * PAGE + 100 + k];
    long e1 = last_err;
    p[k * PAGE + 300] = 2;
    if (k == N - 1) printf("read err=%#lx write err=%#lx\n", e1, last_err);
  }
  printf("PROT_NONE: faults=%ld accerr=%ld cr2 ok=%ld sum=%ld\n", faults, accerr, cr2_ok, s2);
}

/* --- userfault: a 64 MiB region whose pages the handler maps on demand --- */
#define UF_LEN (64UL << 20)
static volatile int uf_fill;

static void on_userfault(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  uintptr_t a = (uintptr_t)si->si_addr;
  if (a < region || a >= region_end) _exit(90);
  faults++;
  note_code(si);
  uintptr_t page = a & ~(PAGE - 1);
  void *got = mmap((void *)page, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (got != (void *)page) _exit(91);
  /* fill it as a userfaultfd UFFDIO_COPY would: the page's contents depend on its index */
  uint64_t idx = (page - region) / PAGE, *w = got;
  for (unsigned j = 0; j < PAGE / 8; j += uf_fill) w[j] = idx * 2654435761u + j;
}

static void userfault(int unmapped) {
  install_info(SIGSEGV, on_userfault, 0, NULL);
  char *p = mmap(NULL, UF_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) exit(98);
  if (unmapped && munmap(p, UF_LEN) != 0) exit(97);
  region = (uintptr_t)p, region_end = region + UF_LEN;
  uf_fill = 8; /* every 8th word */
  uint64_t sum = 0;
  for (uintptr_t off = 0; off < UF_LEN; off += PAGE) {
    const uint64_t *w = (const uint64_t *)(p + off);
    sum += w[0] ^ w[8] ^ w[(off / PAGE) % 64 * 8];
  }
  printf("%s 64 MiB: faults=%ld maperr=%ld accerr=%ld other=%ld checksum=%#llx\n",
         unmapped ? "unmapped" : "PROT_NONE", faults, maperr, accerr, other_code, (unsigned long long)sum);
  long before = faults;
  for (uintptr_t off = 0; off < UF_LEN; off += 16 * PAGE) p[off + 1] = 1; /* all mapped now */
  printf("second pass: new faults=%ld\n", faults - before);
}
static void c_userfault_none(void) { userfault(0); }
static void c_userfault_unmapped(void) { userfault(1); }

/* --- SIGFPE: skip the idiv by editing RIP (idivl %ecx is f7 f9, 2 bytes) --- */
extern char fpe_insn[], ill_insn[], trap_after[];
static volatile int fpe_code, fpe_addr_ok, fpe_sig;

static void on_skip(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  fpe_sig = sig;
  fpe_code = si->si_code;
  char *want = sig == SIGFPE ? fpe_insn : ill_insn;
  fpe_addr_ok = si->si_addr == want && (char *)uc->uc_mcontext.gregs[REG_RIP] == want;
  last_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
  uc->uc_mcontext.gregs[REG_RIP] += 2;
  uc->uc_mcontext.gregs[REG_RAX] = 4242; /* the "quotient" */
  faults++;
}

__attribute__((noinline)) static int divide(int a, int b) {
  int q;
  asm volatile(".globl fpe_insn\n fpe_insn: idivl %2" : "=a"(q) : "a"(a), "c"(b), "d"(a < 0 ? -1 : 0) : "cc");
  return q;
}

static void c_fpe(void) {
  install_info(SIGFPE, on_skip, 0, NULL);
  printf("7/2=%d\n", divide(7, 2));
  int q = divide(7, 0);
  printf("7/0: handler ran=%ld sig=%d si_code=%d (FPE_INTDIV=%d) si_addr and RIP = the idiv: %d trapno=%ld result=%d\n",
         faults, fpe_sig, fpe_code, FPE_INTDIV, fpe_addr_ok, last_trapno, q);
  q = divide(-2147483647 - 1, -1); /* INT_MIN / -1 overflows: #DE too, Linux says FPE_INTDIV */
  printf("INT_MIN/-1: handler ran=%ld si_code=%d result=%d\n", faults, fpe_code, q);
}

/* --- SIGILL from ud2 (0f 0b): ILL_ILLOPN at the ud2, skipped --- */
static void c_ill(void) {
  install_info(SIGILL, on_skip, 0, NULL);
  long r;
  asm volatile("mov $7, %%eax\n .globl ill_insn\n ill_insn: ud2\n" : "=a"(r) :: "memory");
  printf("ud2: handler ran=%ld sig=%d si_code=%d (ILL_ILLOPN=%d) si_addr and RIP = the ud2: %d trapno=%ld rax=%ld\n",
         faults, fpe_sig, fpe_code, ILL_ILLOPN, fpe_addr_ok, last_trapno, r);
}

/* --- SIGTRAP from the program's own int3: RIP is after it --- */
static volatile int trap_code, trap_rip_ok, trap_addr_zero;
static void on_trap(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  ucontext_t *uc = ctx;
  faults++;
  trap_code = si->si_code;
  trap_addr_zero = si->si_addr == NULL;
  trap_rip_ok = (char *)uc->uc_mcontext.gregs[REG_RIP] == trap_after;
  last_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
}

static void c_trap(void) {
  install_info(SIGTRAP, on_trap, 0, NULL);
  asm volatile("int3\n .globl trap_after\n trap_after: nop" ::: "memory");
  printf("int3: handler ran=%ld si_code=%d si_addr NULL=%d RIP after the int3=%d trapno=%ld\n",
         faults, trap_code, trap_addr_zero, trap_rip_ok, last_trapno);
  signal(SIGTRAP, SIG_DFL);
  printf("int3 with SIGTRAP default: dies\n");
  fflush(stdout);
  asm volatile("int3");
  printf("not reached\n");
}

/* --- SIGBUS touching a file mapping past EOF: BUS_ADRERR, si_addr exact --- */
static volatile int bus_code;
static void on_bus(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  faults++;
  bus_code = si->si_code;
  last_addr = (uintptr_t)si->si_addr;
  siglongjmp(jb, 1);
}

static void c_bus(void) {
  char path[] = "/tmp/sigfaults-busXXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) exit(98);
  unlink(path);
  if (write(fd, "0123456789", 10) != 10) exit(97);
  char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) exit(96);
  install_info(SIGBUS, on_bus, 0, NULL);
  printf("inside the file: %c%c, tail of page 0 zero=%d\n", p[0], p[9], p[PAGE - 1] == 0);
  if (sigsetjmp(jb, 1) == 0) {
    volatile char c = p[PAGE + 123];
    (void)c;
    printf("not reached\n");
  }
  printf("read past EOF: faults=%ld si_code=%d (BUS_ADRERR=%d) si_addr offset=%#lx\n",
         faults, bus_code, BUS_ADRERR, (unsigned long)(last_addr - (uintptr_t)p));
  if (sigsetjmp(jb, 1) == 0) {
    p[2 * PAGE + 5] = 1;
    printf("not reached\n");
  }
  printf("write past EOF: faults=%ld si_code=%d si_addr offset=%#lx\n", faults, bus_code, (unsigned long)(last_addr - (uintptr_t)p));
  if (ftruncate(fd, 2 * PAGE) != 0) exit(95);
  p[PAGE + 123] = 'z';
  printf("after ftruncate: %c faults=%ld\n", p[PAGE + 123], faults);
}

/* --- siglongjmp out of a SIGSEGV handler: the mask is sigsetjmp's --- */
static void on_jump(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  faults++;
  note_code(si);
  last_addr = (uintptr_t)si->si_addr;
  siglongjmp(jb, (int)faults);
}

static int blocked(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, sig);
}

static void c_longjmp(void) {
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  install_info(SIGSEGV, on_jump, 0, &m);
  sigset_t saved;
  sigemptyset(&saved);
  sigaddset(&saved, SIGUSR2);
  sigprocmask(SIG_SETMASK, &saved, NULL);
  char *p = map(PAGE, PROT_NONE);
  int r = sigsetjmp(jb, 1);
  if (r < 3) {
    if (r == 1) p[0] = 1; else *(volatile char *)(p + r) = 0;
    printf("not reached\n");
  }
  printf("after %d siglongjmps: faults=%ld accerr=%ld addr offset=%#lx mask: SEGV=%d USR1=%d USR2=%d\n",
         r, faults, accerr, (unsigned long)(last_addr - (uintptr_t)p), blocked(SIGSEGV), blocked(SIGUSR1), blocked(SIGUSR2));
  /* sigsetjmp(jb, 0) does not restore the mask: SIGSEGV stays blocked after the jump */
  faults = 0;
  if (sigsetjmp(jb, 0) == 0) *(volatile char *)NULL = 1;
  printf("after longjmp without the mask: faults=%ld maperr=%ld addr=%#lx SEGV blocked=%d USR1 blocked=%d\n",
         faults, maperr, (unsigned long)last_addr, blocked(SIGSEGV), blocked(SIGUSR1));
}

/* --- a stack overflow caught on the sigaltstack --- */
static char *alt;
static volatile int on_alt, alt_code;
static void on_overflow(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  char here;
  on_alt = &here >= alt && &here < alt + SIGSTKSZ * 4;
  alt_code = si->si_code;
  faults++;
  siglongjmp(jb, 1);
}

__attribute__((noinline)) static long recurse(long n) {
  volatile char pad[512];
  pad[0] = (char)n;
  return recurse(n + 1) + pad[0];
}

static void c_overflow(void) {
  struct rlimit rl = { 8 << 20, 8 << 20 };
  setrlimit(RLIMIT_STACK, &rl);
  alt = map(SIGSTKSZ * 4, PROT_READ | PROT_WRITE);
  stack_t ss = { .ss_sp = alt, .ss_size = SIGSTKSZ * 4, .ss_flags = 0 };
  if (sigaltstack(&ss, NULL) != 0) exit(97);
  install_info(SIGSEGV, on_overflow, SA_ONSTACK, NULL);
  if (sigsetjmp(jb, 1) == 0) {
    recurse(0);
    printf("not reached\n");
  }
  stack_t cur;
  sigaltstack(NULL, &cur);
  printf("stack overflow: faults=%ld handler on altstack=%d si_code=%d (SEGV_MAPERR=%d SEGV_ACCERR=%d) ss_flags after=%d SEGV blocked=%d\n",
         faults, on_alt, alt_code, SEGV_MAPERR, SEGV_ACCERR, cur.ss_flags, blocked(SIGSEGV));
}

/* The same overflow with no sigaltstack: the handler cannot be delivered, SIGSEGV kills. */
static void c_overflow_noalt(void) {
  install_info(SIGSEGV, on_overflow, 0, NULL);
  printf("overflowing without an altstack\n");
  fflush(stdout);
  recurse(0);
  printf("not reached\n");
}

/* --- a JIT's pattern: code written to a RW page, run; the exec fault makes it RX --- */
static void on_exec_fault(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  ucontext_t *uc = ctx;
  uintptr_t a = (uintptr_t)si->si_addr;
  if (a < region || a >= region_end) _exit(90);
  faults++;
  note_code(si);
  last_addr = a;
  last_err = uc->uc_mcontext.gregs[REG_ERR];
  cr2_ok += (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] == a;
  if (mprotect((void *)(a & ~(PAGE - 1)), PAGE, PROT_READ | PROT_EXEC) != 0) _exit(91);
}

static void c_exec_fault(void) {
  unsigned char *p = map(PAGE, PROT_READ | PROT_WRITE);
  region = (uintptr_t)p, region_end = region + PAGE;
  static const unsigned char code[] = { 0xb8, 0x2a, 0, 0, 0, 0xc3 }; /* mov eax, 42; ret */
  memcpy(p + 64, code, sizeof code);
  install_info(SIGSEGV, on_exec_fault, 0, NULL);
  int (*fn)(void) = (int (*)(void))(p + 64);
  int r = fn();
  printf("exec of a RW page: returned %d faults=%ld accerr=%ld maperr=%ld si_addr offset=%#lx err=%#lx RIP = si_addr: %ld\n",
         r, faults, accerr, maperr, (unsigned long)(last_addr - region), last_err, cr2_ok);
  r = fn();
  printf("second call: returned %d faults=%ld\n", r, faults);
}

/* --- patching the program's own text: the write faults (text is r-x), the
 * handler makes the page writable, the write is retried, and the patched
 * instruction is what runs next (a translated copy of the old one must not) --- */
extern char patch_fn[], patch_imm[];
asm(".text\n .p2align 12\n .globl patch_fn\n patch_fn: mov $1, %eax\n .globl patch_imm\n patch_imm = patch_fn + 1\n ret\n .p2align 12\n");

static void on_patch(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  uintptr_t a = (uintptr_t)si->si_addr;
  if (a != (uintptr_t)patch_imm) _exit(90);
  faults++;
  note_code(si);
  if (mprotect((void *)(a & ~(PAGE - 1)), PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) _exit(91);
}

static void c_patch_text(void) {
  int (*fn)(void) = (int (*)(void))patch_fn;
  int before = fn();
  install_info(SIGSEGV, on_patch, 0, NULL);
  *(volatile int *)patch_imm = 2;
  int after = fn();
  *(volatile int *)patch_imm = 3; /* writable now: no fault */
  int again = fn();
  printf("text patch: before=%d after=%d again=%d faults=%ld accerr=%ld\n", before, after, again, faults, accerr);
}

/* --- #GP in user mode: SIGSEGV SI_KERNEL, si_addr 0, trapno 13; skipped by RIP --- */
static volatile long gp_len;
static void on_gp(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  ucontext_t *uc = ctx;
  faults++;
  other_code = si->si_code;
  last_addr = (uintptr_t)si->si_addr;
  last_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
  last_err = uc->uc_mcontext.gregs[REG_ERR];
  uc->uc_mcontext.gregs[REG_RIP] += gp_len;
}

static void c_gp(void) {
  install_info(SIGSEGV, on_gp, 0, NULL);
  gp_len = 3; /* mov (%rax), %rax = 48 8b 00 */
  asm volatile("mov $0x8000000000000000, %%rax\n mov (%%rax), %%rax" ::: "rax", "memory");
  printf("non-canonical load: faults=%ld si_code=%ld si_addr=%#lx trapno=%ld err=%#lx\n", faults, other_code,
         (unsigned long)last_addr, last_trapno, last_err);
}

/* --- ring 3: segments, privileged instructions, kernel addresses --- */
/* Each instruction runs with sf_resume at the label after it; a handler that
 * catches its fault continues there, whatever the instruction's length. */
uintptr_t sf_resume;
static void on_resume(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  faults++;
  printf("  signal %d si_code=%#x si_addr=%#lx trapno=%lld err=%#llx\n", sig, si->si_code, (unsigned long)si->si_addr,
         (long long)uc->uc_mcontext.gregs[REG_TRAPNO], (long long)uc->uc_mcontext.gregs[REG_ERR]);
  uc->uc_mcontext.gregs[REG_RIP] = sf_resume;
}
#define AT_RESUME "lea 1f(%%rip), %%r11\n\tmov %%r11, sf_resume(%%rip)\n\t"
#define TRY(name, insn) do { \
    long before = faults; \
    asm volatile(AT_RESUME insn "\n1:" ::: "rax", "rcx", "rdx", "r10", "r11", "memory"); \
    printf("%s: faults=%ld\n", name, faults - before); \
    fflush(stdout); \
  } while (0)

static void print_selectors(const char *who) {
  unsigned short cs, ss, ds, es, fs, gs;
  asm volatile("mov %%cs, %0\n mov %%ss, %1\n mov %%ds, %2\n mov %%es, %3\n mov %%fs, %4\n mov %%gs, %5"
               : "=r"(cs), "=r"(ss), "=r"(ds), "=r"(es), "=r"(fs), "=r"(gs));
  printf("%s: cs=%#x ss=%#x ds=%#x es=%#x fs=%#x gs=%#x\n", who, cs, ss, ds, es, fs, gs);
  fflush(stdout);
}

/* The selectors a 64-bit process starts with and what lar/lsl/verr/verw see of the GDT. */
static void c_segments(void) {
  print_selectors("start");
  static const unsigned long sels[] = { 0x10, 0x18, 0x2b, 0x33, 0x40, 0x7b };
  for (size_t k = 0; k < sizeof sels / sizeof sels[0]; k++) {
    unsigned long ar = 0, lim = 0;
    unsigned char lar_ok, lsl_ok, r_ok, w_ok;
    asm volatile("lar %2, %0\n setz %1" : "=r"(ar), "=q"(lar_ok) : "r"(sels[k]));
    asm volatile("lsl %2, %0\n setz %1" : "=r"(lim), "=q"(lsl_ok) : "r"(sels[k]));
    asm volatile("verr %1\n setz %0" : "=q"(r_ok) : "r"((unsigned short)sels[k]));
    asm volatile("verw %1\n setz %0" : "=q"(w_ok) : "r"((unsigned short)sels[k]));
    /* lar's bits 19:16 are undefined (SDM); the 0x7b limit is the CPU number, which varies natively */
    printf("%#lx: lar %d %#lx lsl %d %#lx verr %d verw %d\n", sels[k], lar_ok, lar_ok ? ar & 0x00f0ff00 : 0, lsl_ok,
           lsl_ok && sels[k] != 0x7b ? lim : 0, r_ok, w_ok);
  }
  unsigned short ds;
  asm volatile("mov %1, %%ds\n mov %%ds, %0" : "=r"(ds) : "r"((unsigned short)0x2b));
  printf("ds after loading 0x2b: %#x\n", ds);
  asm volatile("mov %0, %%ds" :: "r"((unsigned short)0));
  install_info(SIGSEGV, on_resume, 0, NULL);
  TRY("mov 0x18 (kernel data) to ds", "mov $0x18, %%eax\n\tmov %%eax, %%ds");
  TRY("mov 0x33 (code) to ss", "mov $0x33, %%eax\n\tmov %%eax, %%ss");
  TRY("mov 0x7b (read-only) to ss", "mov $0x7b, %%eax\n\tmov %%eax, %%ss");
  /* a far return to a data segment: #GP(0x28); r10 keeps RSP for the resume */
  TRY("far return to 0x2b (data)", "mov %%rsp, %%r10\n\tpushq $0x2b\n\tlea 2f(%%rip), %%rax\n\tpush %%rax\n\tlretq\n2:\n1:\n\tmov %%r10, %%rsp");
}

/* Privileged instructions and DPL-0 interrupt gates at CPL 3: #GP, SIGSEGV SI_KERNEL, si_addr 0, trapno 13.
 * Not here: in/out (Unicorn performs port I/O at any CPL: emu/README.md "Known differences") and
 * rdpmc (Unicorn's CPU model has no performance counters: #UD, where Linux without CR4.PCE gives #GP). */
static void c_privileged(void) {
  unsigned short cs;
  asm volatile("mov %%cs, %0" : "=r"(cs));
  printf("CPL=%d\n", cs & 3);
  install_info(SIGSEGV, on_resume, 0, NULL);
  TRY("cli", "cli");
  TRY("sti", "sti");
  TRY("hlt", "hlt");
  TRY("mov cr0 to rax", "mov %%cr0, %%rax");
  TRY("mov rax to cr3", "xor %%eax, %%eax\n\tmov %%rax, %%cr3");
  TRY("mov dr7 to rax", "mov %%dr7, %%rax");
  TRY("rdmsr", "mov $0xc0000080, %%ecx\n\trdmsr");
  TRY("wrmsr", "mov $0xc0000080, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, %%edx\n\twrmsr");
  TRY("lgdt", "lgdt (%%rsp)");
  TRY("lidt", "lidt (%%rsp)");
  TRY("ltr", "mov $0x40, %%eax\n\tltr %%ax");
  TRY("lldt", "xor %%eax, %%eax\n\tlldt %%ax");
  TRY("clts", "clts");
  TRY("invlpg", "invlpg (%%rsp)");
  TRY("wbinvd", "wbinvd");
  TRY("swapgs", "swapgs");
  TRY("sysretq", "sysretq");
  TRY("int $0x41 (DPL-0 gate)", "int $0x41");
  TRY("int $0xff", "int $0xff");
}

/* What a kernel without IA32 emulation (CONFIG_IA32_EMULATION off, or booted with ia32_emulation=off)
 * shows a 64-bit process: no 32-bit user code segment (0x23), and int $0x80 through a DPL-0 gate (#GP). */
static void c_ia32(void) {
  unsigned long ar = 0;
  unsigned char lar_ok;
  asm volatile("lar %2, %0\n setz %1" : "=r"(ar), "=q"(lar_ok) : "r"(0x23UL));
  printf("0x23 (32-bit user code): lar %d %#lx\n", lar_ok, lar_ok ? ar & 0x00f0ff00 : 0);
  install_info(SIGSEGV, on_resume, 0, NULL);
  TRY("int $0x80 (no IA32 emulation)", "mov $20, %%eax\n\tint $0x80");
}

/* User accesses to kernel addresses: SIGSEGV SEGV_MAPERR, err with the user and (sanitized) protection bits. */
static void c_kernel_addr(void) {
  install_info(SIGSEGV, on_resume, 0, NULL);
  TRY("read kernel text", "movabs $0xffffffff81000000, %%rax\n\tmov (%%rax), %%rax");
  TRY("write direct map", "movabs $0xffff888000000000, %%rax\n\tmovq $1, (%%rax)");
  TRY("read vsyscall page + 0x800", "movabs $0xffffffffff600800, %%rax\n\tmov (%%rax), %%rax");
  TRY("read TASK_SIZE_MAX", "movabs $0x7ffffffff000, %%rax\n\tmov (%%rax), %%rax");
  /* where faultline keeps its GDT (emu/segments.ts), unmapped natively: must look the same */
  TRY("read 0xfefff03000", "movabs $0xfefff03000, %%rax\n\tmov (%%rax), %%rax");
  TRY("write 0xfefff03000", "movabs $0xfefff03000, %%rax\n\tmovq $1, (%%rax)");
}

/* Ring 3 after fork and after exec (the child runs the "segments-exec" case). */
static void c_segments_exec(void) {
  print_selectors("exec");
  unsigned short ds; /* the new image's page tables still reach the GDT */
  asm volatile("mov %1, %%ds\n mov %%ds, %0" : "=r"(ds) : "r"((unsigned short)0x2b));
  printf("exec: ds after loading 0x2b: %#x\n", ds);
}
static void c_segments_fork(void) {
  print_selectors("parent");
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); exit(97); }
  if (pid == 0) {
    print_selectors("child");
    execl("/proc/self/exe", "sigfaults", "segments-exec", (char *)NULL);
    perror("execl");
    _exit(96);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("child status %#x\n", st);
}

/* The frame's cs/ss as the handler sees them, and sigreturn with the RPL bits cleared (put back to 3). */
static volatile unsigned short frame_cs, frame_ss;
static void on_usr1(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si;
  ucontext_t *uc = ctx;
  unsigned long csgsfs = uc->uc_mcontext.gregs[REG_CSGSFS];
  frame_cs = csgsfs & 0xffff, frame_ss = csgsfs >> 48;
  uc->uc_mcontext.gregs[REG_CSGSFS] = csgsfs & ~0x0003000000000003UL;
}
static void c_sigreturn_segments(void) {
  install_info(SIGUSR1, on_usr1, 0, NULL);
  raise(SIGUSR1);
  printf("frame cs=%#x ss=%#x\n", frame_cs, frame_ss);
  print_selectors("after sigreturn with RPL 0");
}

/* A handler that sends sigreturn to a data segment as CS: the return faults, SIGSEGV kills (SA_RESETHAND). */
static void on_usr1_badcs(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si;
  ucontext_t *uc = ctx;
  uc->uc_mcontext.gregs[REG_CSGSFS] = (uc->uc_mcontext.gregs[REG_CSGSFS] & ~0xffffUL) | 0x2b;
}
static void c_sigreturn_bad_cs(void) {
  install_info(SIGUSR1, on_usr1_badcs, 0, NULL);
  printf("returning to CS 0x2b\n");
  fflush(stdout);
  raise(SIGUSR1);
  printf("survived\n");
}

/* --- faults that kill although a handler is installed --- */
static void on_never(int sig, siginfo_t *si, void *ctx) { (void)sig, (void)si, (void)ctx; _exit(80); }

static void c_blocked_segv(void) {
  install_info(SIGSEGV, on_never, 0, NULL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGSEGV);
  sigprocmask(SIG_BLOCK, &s, NULL);
  printf("SIGSEGV blocked, faulting\n");
  fflush(stdout);
  *(volatile int *)16 = 1;
}

static void c_ignored_fpe(void) {
  signal(SIGFPE, SIG_IGN);
  printf("SIGFPE ignored, dividing by zero\n");
  fflush(stdout);
  printf("%d\n", divide(1, 0));
}

static void on_fault_again(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)si, (void)ctx;
  faults++;
  *(volatile int *)32 = 2; /* SIGSEGV is blocked in its own handler: this kills */
}

static void c_segv_in_handler(void) {
  install_info(SIGSEGV, on_fault_again, 0, NULL);
  printf("faulting; the handler faults again\n");
  fflush(stdout);
  *(volatile int *)16 = 1;
}

static void c_segv_default(void) {
  printf("no handler: NULL write\n");
  fflush(stdout);
  *(volatile int *)16 = 1;
}

static const struct sigcase cases[] = {
  { "mprotect", c_mprotect }, { "userfault-none", c_userfault_none }, { "userfault-unmapped", c_userfault_unmapped },
  { "exec-fault", c_exec_fault }, { "gp", c_gp }, { "patch-text", c_patch_text }, { "privileged", c_privileged }, { "ia32", c_ia32 },
  { "segments", c_segments }, { "segments-fork", c_segments_fork }, { "segments-exec", c_segments_exec },
  { "kernel-addr", c_kernel_addr }, { "sigreturn-segments", c_sigreturn_segments }, { "sigreturn-bad-cs", c_sigreturn_bad_cs }, { "fpe", c_fpe }, { "ill", c_ill }, { "trap", c_trap }, { "bus", c_bus }, { "longjmp", c_longjmp },
  { "overflow", c_overflow }, { "overflow-noalt", c_overflow_noalt }, { "blocked-segv", c_blocked_segv },
  { "ignored-fpe", c_ignored_fpe }, { "segv-in-handler", c_segv_in_handler }, { "segv-default", c_segv_default },
};

CASES_MAIN(cases)
