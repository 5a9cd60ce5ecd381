/*
 * nolibc.h - the minimal freestanding runtime our guest programs (the .c
 * files in guest/) share, for the x86-64 Linux system-call ABI: no libc, no
 * system headers, raw `syscall` instructions. Static inline functions and
 * macros only, so a program pays for nothing it does not use.
 *
 * Every guest is built the same way, natively and for faultline:
 *   gcc -O2 -static -nostdlib -fno-builtin -fno-stack-protector \
 *       -fno-asynchronous-unwind-tables -o NAME NAME.c
 * (`#include "nolibc.h"` is found next to the .c file; no -I needed.)
 *
 * A program includes this header, defines `int main(int argc, char **argv)`
 * and writes `NOLIBC_START;` once at file scope to get its `_start`.
 *
 * Provides:
 *   u64 s64                        fixed-width integer types
 *   PAGE                           the page size, 4096
 *   SYS_*                          numbers of the syscalls our guests make
 *   PROT_* MAP_* O_*               the basic mmap/open flag values
 *   syscall6() syscall3()          raw syscalls; -errno on failure
 *   exit_group()                   never returns
 *   slen() put() streq()           C-string length, write to an fd, equality
 *   append_str() append_num()      build a line in a caller's buffer
 *   NOLIBC_START                   the _start entry point
 */
#ifndef NOLIBC_H
#define NOLIBC_H

typedef unsigned long u64;
typedef long s64;

#define PAGE 4096UL

enum {
    SYS_read = 0, SYS_write = 1, SYS_open = 2, SYS_close = 3, SYS_mmap = 9, SYS_mprotect = 10,
    SYS_munmap = 11, SYS_brk = 12, SYS_mremap = 25, SYS_msync = 26, SYS_madvise = 28,
    SYS_clock_gettime = 228, SYS_exit_group = 231,
};

#define PROT_NONE     0
#define PROT_READ     1
#define PROT_WRITE    2
#define PROT_EXEC     4

#define MAP_SHARED    0x01
#define MAP_PRIVATE   0x02
#define MAP_FIXED     0x10
#define MAP_ANONYMOUS 0x20

#define MADV_HUGEPAGE 14
#define MADV_NOHUGEPAGE 15

#define O_RDONLY      0
#define O_WRONLY      1

/* ---- raw syscalls: number in rax, args in rdi rsi rdx r10 r8 r9 ---- */

static inline s64 syscall6(s64 n, s64 a1, s64 a2, s64 a3, s64 a4, s64 a5, s64 a6)
{
    register s64 r10 __asm__("r10") = a4;
    register s64 r8  __asm__("r8")  = a5;
    register s64 r9  __asm__("r9")  = a6;
    s64 ret;
    __asm__ volatile ("syscall"
                      : "=a"(ret)
                      : "a"(n), "D"(a1), "S"(a2), "d"(a3),
                        "r"(r10), "r"(r8), "r"(r9)
                      : "rcx", "r11", "memory");   /* syscall clobbers rcx/r11 */
    return ret;                                    /* -errno on failure */
}
#define syscall3(n, a, b, c) syscall6(n, (s64)(a), (s64)(b), (s64)(c), 0, 0, 0)

static inline __attribute__((noreturn)) void exit_group(int code)
{
    for (;;) syscall3(SYS_exit_group, code, 0, 0);
}

/* ---- strings and output ---- */

static inline u64 slen(const char *s) { u64 n = 0; while (s[n]) n++; return n; }

static inline void put(int fd, const char *s) { syscall3(SYS_write, fd, s, slen(s)); }

static inline int streq(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static inline void append_str(char *buf, u64 *pos, const char *s)
{
    while (*s) buf[(*pos)++] = *s++;
}

/* Append the decimal form of v (negative allowed) to buf at *pos. */
static inline void append_num(char *buf, u64 *pos, s64 v)
{
    char tmp[24];
    int n = 0;
    u64 u = v < 0 ? -(u64)v : (u64)v;
    do { tmp[n++] = '0' + u % 10; u /= 10; } while (u);
    if (v < 0) buf[(*pos)++] = '-';
    while (n) buf[(*pos)++] = tmp[--n];
}

/*
 * Entry point: `NOLIBC_START;` once at file scope in each program.  The kernel
 * starts us with rsp -> argc, argv[0..argc-1], NULL, envp...  Pass argc/argv
 * to main with a 16-byte aligned stack (as the ABI expects at a call), then
 * exit_group(main's return value).
 */
#define NOLIBC_START                                                       \
    __asm__(                                                               \
        ".text\n"                                                          \
        ".global _start\n"                                                 \
        "_start:\n"                                                        \
        "    xor  %rbp, %rbp\n"          /* mark the outermost frame */    \
        "    mov  (%rsp), %rdi\n"        /* argc */                        \
        "    lea  8(%rsp), %rsi\n"       /* argv */                        \
        "    and  $-16, %rsp\n"                                            \
        "    call main\n"                                                  \
        "    mov  %eax, %edi\n"                                            \
        "    mov  $231, %eax\n"          /* exit_group */                  \
        "    syscall\n"                                                    \
        "    hlt\n"                                                        \
    )

#endif /* NOLIBC_H */
