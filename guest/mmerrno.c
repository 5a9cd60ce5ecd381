/*
 * mmerrno.c - the memory system calls with bad (and a few good) arguments,
 * run both natively and inside faultline; test/mm-errno.test.ts compares the
 * two outputs line by line. Freestanding: no libc; _start, raw syscalls and
 * output helpers come from nolibc.h.
 *
 * Build:
 *   gcc -O2 -static -nostdlib -fno-builtin -fno-stack-protector \
 *       -fno-asynchronous-unwind-tables -o mmerrno mmerrno.c
 *
 * Usage: mmerrno DATAFILE [CASE...]
 *   DATAFILE  a file of at least 3 pages; page i holds the byte 'a'+i
 *             throughout (the test creates it).
 *   CASE...   run only these cases (default: all, in table order).
 *
 * Prints one line per case, `<case-name> <result>[ <detail>]`, where result
 * is `ok` (success) or `-<errno>` (the raw negative return). Addresses are
 * never printed: layouts differ between Linux and the emulator. Each case
 * sets up its own mappings, cleans them up, and prints its line last, so a
 * run that dies mid-case shows exactly which case it was.
 *
 * Layout-independent by construction: a "hole" is a range that was just
 * mapped and unmapped (so it is free, wherever it is), and adjacent VMAs are
 * made by splitting one mapping. Nothing depends on the size of the address
 * space except the cases in the KNOWN section at the end of the table.
 */

#include "nolibc.h"

#define P PAGE

/* PROT_NONE/READ/WRITE/EXEC, MAP_SHARED/PRIVATE/FIXED/ANONYMOUS and
 * O_RDONLY/O_WRONLY come from nolibc.h; the rest are used here only. */
#define PROT_SEM        0x8
#define PROT_GROWSDOWN  0x01000000
#define PROT_GROWSUP    0x02000000
#define RW              (PROT_READ | PROT_WRITE)

#define MAP_SHARED_VALIDATE 0x03
#define MAP_DROPPABLE       0x08
#define MAP_GROWSDOWN       0x100
#define MAP_NORESERVE       0x4000
#define MAP_POPULATE        0x8000
#define MAP_SYNC            0x80000
#define MAP_FIXED_NOREPLACE 0x100000
#define MAP_UNKNOWN_BIT     0x800000   /* no MAP_* flag uses bit 23 on x86-64 */
#define PRIV_ANON           (MAP_PRIVATE | MAP_ANONYMOUS)

#define MREMAP_MAYMOVE   1
#define MREMAP_FIXED     2
#define MREMAP_DONTUNMAP 4

#define MS_ASYNC      1
#define MS_INVALIDATE 2
#define MS_SYNC       4

#define MADV_NORMAL       0
#define MADV_WILLNEED     3
#define MADV_DONTNEED     4
#define MADV_REMOVE       9
#define MADV_GUARD_REMOVE 103

/* An address no x86-64 user space reaches (kernel half, canonical). */
#define KERNEL_ADDR 0xffff800000000000UL

/* ---- typed syscall wrappers ---- */

static s64 sys_mmap(u64 addr, u64 len, s64 prot, s64 flags, s64 fd, u64 off)
{ return syscall6(SYS_mmap, (s64)addr, (s64)len, prot, flags, fd, (s64)off); }
static s64 sys_munmap(u64 addr, u64 len)
{ return syscall6(SYS_munmap, (s64)addr, (s64)len, 0, 0, 0, 0); }
static s64 sys_mprotect(u64 addr, u64 len, s64 prot)
{ return syscall6(SYS_mprotect, (s64)addr, (s64)len, prot, 0, 0, 0); }
static s64 sys_mremap(u64 old, u64 old_len, u64 new_len, s64 flags, u64 new_addr)
{ return syscall6(SYS_mremap, (s64)old, (s64)old_len, (s64)new_len, flags, (s64)new_addr, 0); }
static s64 sys_madvise(u64 addr, u64 len, s64 advice)
{ return syscall6(SYS_madvise, (s64)addr, (s64)len, advice, 0, 0, 0); }
static s64 sys_msync(u64 addr, u64 len, s64 flags)
{ return syscall6(SYS_msync, (s64)addr, (s64)len, flags, 0, 0, 0); }
static s64 sys_brk(u64 addr)
{ return syscall6(SYS_brk, (s64)addr, 0, 0, 0, 0, 0); }
static s64 sys_open(const char *path, s64 flags)
{ return syscall6(SYS_open, (s64)path, flags, 0, 0, 0, 0); }

/* A raw return value that is an error (-4095..-1), not an address. */
static int iserr(s64 r) { return r < 0 && r >= -4095; }

/* ---- output ---- */

static const char *cur_case = "?";

/* "<case> ok|-errno[ detail]\n" on stdout. */
static void report(s64 r, const char *detail)
{
    char buf[256];
    u64 p = 0;
    append_str(buf, &p, cur_case);
    buf[p++] = ' ';
    if (iserr(r)) append_num(buf, &p, r);
    else append_str(buf, &p, "ok");
    if (detail) {
        buf[p++] = ' ';
        append_str(buf, &p, detail);
    }
    buf[p++] = '\n';
    syscall6(SYS_write, 1, (s64)buf, (s64)p, 0, 0, 0);
}

/* A set-up step that must work failed: say so on stderr and exit 2. */
static __attribute__((noreturn)) void die(const char *what, s64 err)
{
    char buf[160];
    u64 p = 0;
    append_str(buf, &p, "mmerrno: case ");
    append_str(buf, &p, cur_case);
    append_str(buf, &p, ": set-up step ");
    append_str(buf, &p, what);
    append_str(buf, &p, " failed: ");
    append_num(buf, &p, err);
    buf[p++] = '\n';
    syscall6(SYS_write, 2, (s64)buf, p, 0, 0, 0);
    exit_group(2);
}

static s64 must(const char *what, s64 r)
{
    if (iserr(r)) die(what, r);
    return r;
}

/* ---- set-up helpers ---- */

static int fd_ro, fd_wo;    /* DATAFILE opened O_RDONLY and O_WRONLY */

/* n fresh private anonymous pages with `prot`. */
static u64 anon(u64 n, s64 prot)
{
    return (u64)must("mmap anon", sys_mmap(0, n * P, prot, PRIV_ANON, -1, 0));
}

static void unmap(u64 addr, u64 n) { must("munmap", sys_munmap(addr, n * P)); }

/* Undo a mapping the call under test may have made (r = its result). */
static void undo(s64 r, u64 n) { if (!iserr(r)) unmap((u64)r, n); }

/* A free range of n pages: mapped, then unmapped again. */
static u64 hole(u64 n)
{
    u64 a = (u64)must("mmap hole", sys_mmap(0, n * P, PROT_NONE, PRIV_ANON | MAP_NORESERVE, -1, 0));
    unmap(a, n);
    return a;
}

/* [RW page][hole][RW page], each page's first byte written with 1; returns the start. */
static u64 holey3(void)
{
    u64 a = anon(3, RW);
    *(volatile unsigned char *)a = 1;
    *(volatile unsigned char *)(a + 2 * P) = 1;
    unmap(a + P, 1);
    return a;
}

/* Whether the page at addr is mapped (madvise MADV_NORMAL succeeds on mapped ranges only). */
static int mapped(u64 addr) { return sys_madvise(addr, P, MADV_NORMAL) == 0; }

static unsigned char peek(u64 addr) { return *(volatile unsigned char *)addr; }
static void poke(u64 addr, unsigned char v) { *(volatile unsigned char *)addr = v; }

/* ---- mmap ---- */

static void mmap_len0(void) { s64 r = sys_mmap(0, 0, RW, PRIV_ANON, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_offset_unaligned(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_PRIVATE, fd_ro, 1); report(r, 0); undo(r, 1); }
static void mmap_anon_offset_unaligned(void) { s64 r = sys_mmap(0, P, RW, PRIV_ANON, -1, 1); report(r, 0); undo(r, 1); }
/* sys_mmap checks the offset before it looks at the fd. */
static void mmap_offset_unaligned_badfd(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_PRIVATE, 999, 1); report(r, 0); undo(r, 1); }
static void mmap_notype_anon(void) { s64 r = sys_mmap(0, P, RW, MAP_ANONYMOUS, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_notype_file(void) { s64 r = sys_mmap(0, P, PROT_READ, 0, fd_ro, 0); report(r, 0); undo(r, 1); }
/* Length is checked (ENOMEM) before the mapping type (EINVAL). */
static void mmap_notype_hugelen(void) { s64 r = sys_mmap(0, 1UL << 50, RW, MAP_ANONYMOUS, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_fixed_unaligned(void)
{
    u64 h = hole(2);
    s64 r = sys_mmap(h + 0x800, P, RW, PRIV_ANON | MAP_FIXED, -1, 0);
    report(r, 0);
    if (!iserr(r)) sys_munmap(h, 2 * P);
}
static void mmap_len_max(void) { s64 r = sys_mmap(0, (u64)-1, RW, PRIV_ANON, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_len_align_wraps(void) { s64 r = sys_mmap(0, 0xfffffffffffff001UL, RW, PRIV_ANON, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_len_2p50(void) { s64 r = sys_mmap(0, 1UL << 50, RW, PRIV_ANON, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_badfd(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_PRIVATE, 999, 0); report(r, 0); undo(r, 1); }
static void mmap_badfd_minus1(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_PRIVATE, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_badfd_len0(void) { s64 r = sys_mmap(0, 0, PROT_READ, MAP_PRIVATE, 999, 0); report(r, 0); undo(r, 1); }
static void mmap_anon_ignores_fd(void) { s64 r = sys_mmap(0, P, RW, PRIV_ANON, 999, 0); report(r, 0); undo(r, 1); }
static void mmap_shared_write_rdonly(void) { s64 r = sys_mmap(0, P, RW, MAP_SHARED, fd_ro, 0); report(r, 0); undo(r, 1); }
static void mmap_shared_read_rdonly(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_SHARED, fd_ro, 0); report(r, 0); undo(r, 1); }
static void mmap_private_write_rdonly(void) { s64 r = sys_mmap(0, P, RW, MAP_PRIVATE, fd_ro, 0); report(r, 0); undo(r, 1); }
static void mmap_validate_write_rdonly(void) { s64 r = sys_mmap(0, P, RW, MAP_SHARED_VALIDATE, fd_ro, 0); report(r, 0); undo(r, 1); }
static void mmap_private_wronly(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_PRIVATE, fd_wo, 0); report(r, 0); undo(r, 1); }
static void mmap_shared_wronly(void) { s64 r = sys_mmap(0, P, RW, MAP_SHARED, fd_wo, 0); report(r, 0); undo(r, 1); }
static void mmap_validate_unknown_flag(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_SHARED_VALIDATE | MAP_UNKNOWN_BIT, fd_ro, 0); report(r, 0); undo(r, 1); }
static void mmap_validate_sync(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd_ro, 0); report(r, 0); undo(r, 1); }
static void mmap_shared_unknown_flag(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_SHARED | MAP_UNKNOWN_BIT, fd_ro, 0); report(r, 0); undo(r, 1); }
static void mmap_private_unknown_flag(void) { s64 r = sys_mmap(0, P, RW, PRIV_ANON | MAP_UNKNOWN_BIT, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_validate_anon(void) { s64 r = sys_mmap(0, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_validate_anon_unknown(void) { s64 r = sys_mmap(0, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_UNKNOWN_BIT, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_noreplace_exists(void)
{
    u64 a = anon(1, RW);
    s64 r = sys_mmap(a, P, RW, PRIV_ANON | MAP_FIXED_NOREPLACE, -1, 0);
    report(r, 0);
    unmap(a, 1);
}
static void mmap_noreplace_fixed_exists(void)
{
    u64 a = anon(1, RW);
    s64 r = sys_mmap(a, P, RW, PRIV_ANON | MAP_FIXED | MAP_FIXED_NOREPLACE, -1, 0);
    report(r, 0);
    unmap(a, 1);
}
/* Only the second of the two pages asked for is in use. */
static void mmap_noreplace_partial(void)
{
    u64 h = hole(2);
    must("mmap fixed", sys_mmap(h + P, P, RW, PRIV_ANON | MAP_FIXED, -1, 0));
    s64 r = sys_mmap(h, 2 * P, RW, PRIV_ANON | MAP_FIXED_NOREPLACE, -1, 0);
    report(r, 0);
    sys_munmap(h, 2 * P);
}
/* MAP_FIXED_NOREPLACE implies MAP_FIXED: the address is not rounded like a hint. */
static void mmap_noreplace_unaligned(void)
{
    u64 h = hole(2);
    s64 r = sys_mmap(h + 0x800, P, RW, PRIV_ANON | MAP_FIXED_NOREPLACE, -1, 0);
    report(r, 0);
    sys_munmap(h, 2 * P);
}
static void mmap_noreplace_free(void)
{
    u64 h = hole(1);
    s64 r = sys_mmap(h, P, RW, PRIV_ANON | MAP_FIXED_NOREPLACE, -1, 0);
    report(r, !iserr(r) && (u64)r == h ? "at-addr" : "elsewhere");
    undo(r, 1);
}
/* The address checks (EINVAL) come before the file-mode checks (EACCES). */
static void mmap_fixed_unaligned_shared_ro_write(void)
{
    u64 h = hole(2);
    s64 r = sys_mmap(h + 0x800, P, RW, MAP_SHARED | MAP_FIXED, fd_ro, 0);
    report(r, 0);
    sys_munmap(h, 2 * P);
}
/* EEXIST comes before the file-mode checks (EACCES). */
static void mmap_noreplace_exists_shared_ro_write(void)
{
    u64 a = anon(1, RW);
    s64 r = sys_mmap(a, P, RW, MAP_SHARED | MAP_FIXED_NOREPLACE, fd_ro, 0);
    report(r, 0);
    sys_munmap(a, P);
}
static void mmap_fixed_kernel_addr(void) { s64 r = sys_mmap(KERNEL_ADDR, P, RW, PRIV_ANON | MAP_FIXED, -1, 0); report(r, 0); }
static void mmap_fixed_wraps(void) { s64 r = sys_mmap(0xfffffffffffff000UL, 2 * P, RW, PRIV_ANON | MAP_FIXED, -1, 0); report(r, 0); }
static void mmap_anon_shared_growsdown(void) { s64 r = sys_mmap(0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0); report(r, 0); undo(r, 2); }
static void mmap_private_growsdown(void) { s64 r = sys_mmap(0, 2 * P, RW, PRIV_ANON | MAP_GROWSDOWN, -1, 0); report(r, 0); undo(r, 2); }
static void mmap_unknown_prot(void) { s64 r = sys_mmap(0, P, PROT_READ | 0x10, PRIV_ANON, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_unknown_prot_high(void) { s64 r = sys_mmap(0, P, PROT_READ | 0x40000000, PRIV_ANON, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_unknown_prot_sign(void) { s64 r = sys_mmap(0, P, (s64)(int)0x80000001, PRIV_ANON, -1, 0); report(r, 0); undo(r, 1); }
static void mmap_prot_growsdown(void) { s64 r = sys_mmap(0, P, PROT_READ | PROT_GROWSDOWN, PRIV_ANON, -1, 0); report(r, 0); undo(r, 1); }
/* MAP_POPULATE faults nothing in a PROT_NONE mapping, and its errors are ignored (cf. __mm_populate's ignore_errors). */
static void mmap_prot_none_populate(void) { s64 r = sys_mmap(0, 2 * P, PROT_NONE, PRIV_ANON | MAP_POPULATE, -1, 0); report(r, 0); undo(r, 2); }
static void mmap_prot_none_populate_file(void) { s64 r = sys_mmap(0, 2 * P, PROT_NONE, MAP_PRIVATE | MAP_POPULATE, fd_ro, 0); report(r, 0); undo(r, 2); }
static void mmap_populate_rw(void)
{
    s64 r = sys_mmap(0, 2 * P, RW, PRIV_ANON | MAP_POPULATE, -1, 0);
    report(r, iserr(r) ? 0 : peek((u64)r + P) == 0 ? "zero" : "not-zero");
    undo(r, 2);
}
/* 8 pages of a 3-page file: populating past end of file is not an error. */
static void mmap_populate_past_eof(void)
{
    s64 r = sys_mmap(0, 8 * P, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_ro, 0);
    report(r, iserr(r) ? 0 : peek((u64)r + 2 * P) == 'c' ? "contents-match" : "contents-differ");
    undo(r, 8);
}
/* pgoff + pages past MAX_LFS_FILESIZE: file_mmap_ok() says EOVERFLOW. */
static void mmap_file_offset_overflow(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_PRIVATE, fd_ro, 0x7ffffffffffff000UL); report(r, 0); undo(r, 1); }
/* Offsets past end of file are fine to map (touching them would SIGBUS). */
static void mmap_file_offset_1gib(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_PRIVATE, fd_ro, 1UL << 30); report(r, 0); undo(r, 1); }
static void mmap_file_offset_1tib(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_PRIVATE, fd_ro, 1UL << 40); report(r, 0); undo(r, 1); }
static void mmap_file_offset_4pib(void) { s64 r = sys_mmap(0, P, PROT_READ, MAP_PRIVATE, fd_ro, 1UL << 52); report(r, 0); undo(r, 1); }
static void mmap_hint_unaligned(void)
{
    u64 h = hole(2);
    s64 r = sys_mmap(h + 0x123, P, RW, PRIV_ANON, -1, 0);
    report(r, 0);
    undo(r, 1);
}
static void mmap_good(void)
{
    s64 r = sys_mmap(0, 2 * P, RW, PRIV_ANON, -1, 0);
    const char *d = "unchecked";
    if (!iserr(r)) {
        u64 a = (u64)r;
        int zero = peek(a) == 0 && peek(a + P + 7) == 0;
        poke(a + P + 7, 42);
        d = zero && peek(a + P + 7) == 42 ? "zero-filled writable" : "bad-contents";
    }
    report(r, d);
    undo(r, 2);
}
static void mmap_file_good(void)
{
    s64 r = sys_mmap(0, 3 * P, PROT_READ, MAP_PRIVATE, fd_ro, P);
    const char *d = "unchecked";
    if (!iserr(r)) d = peek((u64)r) == 'b' && peek((u64)r + P + 5) == 'c' ? "contents-match" : "contents-differ";
    report(r, d);
    undo(r, 3);
}
static void mmap_fixed_replace(void)
{
    u64 a = anon(2, RW);
    poke(a + P, 9);
    s64 r = sys_mmap(a + P, P, RW, PRIV_ANON | MAP_FIXED, -1, 0);
    report(r, !iserr(r) && (u64)r == a + P && peek(a + P) == 0 ? "replaced" : "not-replaced");
    unmap(a, 2);
}

/* ---- munmap ---- */

static void munmap_unaligned(void) { u64 a = anon(1, RW); report(sys_munmap(a + 1, P), 0); unmap(a, 1); }
static void munmap_len0(void) { u64 a = anon(1, RW); report(sys_munmap(a, 0), 0); unmap(a, 1); }
static void munmap_wraps(void) { u64 a = anon(1, RW); report(sys_munmap(a, (u64)-P), 0); sys_munmap(a, P); }
static void munmap_len_max(void) { u64 a = anon(1, RW); report(sys_munmap(a, (u64)-1), 0); sys_munmap(a, P); }
static void munmap_kernel_addr(void) { report(sys_munmap(KERNEL_ADDR, P), 0); }
static void munmap_unmapped(void) { report(sys_munmap(hole(2), 2 * P), 0); }
static void munmap_len_unaligned(void)
{
    u64 a = anon(2, RW);
    s64 r = sys_munmap(a, 1);
    report(r, !mapped(a) && mapped(a + P) ? "one-page-gone" : "wrong-range");
    sys_munmap(a, 2 * P);
}
static void munmap_middle(void)
{
    u64 a = anon(3, RW);
    s64 r = sys_munmap(a + P, P);
    report(r, mapped(a) && !mapped(a + P) && mapped(a + 2 * P) ? "middle-gone" : "wrong-range");
    sys_munmap(a, 3 * P);
}

/* ---- mprotect ---- */

static void mprotect_unaligned(void) { u64 a = anon(1, RW); report(sys_mprotect(a + 1, P, PROT_READ), 0); unmap(a, 1); }
static void mprotect_unknown_prot(void) { u64 a = anon(1, RW); report(sys_mprotect(a, P, 0x10), 0); unmap(a, 1); }
static void mprotect_unknown_prot_high(void) { u64 a = anon(1, RW); report(sys_mprotect(a, P, PROT_READ | 0x40000000), 0); unmap(a, 1); }
static void mprotect_unknown_prot_sign(void) { u64 a = anon(1, RW); report(sys_mprotect(a, P, (s64)(int)0x80000001), 0); unmap(a, 1); }
/* len 0 returns success before prot is validated. */
static void mprotect_unknown_prot_len0(void) { u64 a = anon(1, RW); report(sys_mprotect(a, 0, 0x10), 0); unmap(a, 1); }
/* prot is validated before the range is looked up. */
static void mprotect_unknown_prot_unmapped(void) { report(sys_mprotect(hole(1), P, 0x10), 0); }
static void mprotect_hole(void) { u64 a = holey3(); report(sys_mprotect(a, 3 * P, PROT_READ), 0); sys_munmap(a, 3 * P); }
static void mprotect_len0(void) { u64 a = anon(1, RW); report(sys_mprotect(a, 0, PROT_READ), 0); unmap(a, 1); }
static void mprotect_len0_unaligned(void) { u64 a = anon(1, RW); report(sys_mprotect(a + 1, 0, PROT_READ), 0); unmap(a, 1); }
static void mprotect_unmapped(void) { report(sys_mprotect(hole(1), P, PROT_READ), 0); }
static void mprotect_starts_in_hole(void)
{
    u64 h = hole(2);
    must("mmap fixed", sys_mmap(h + P, P, RW, PRIV_ANON | MAP_FIXED, -1, 0));
    report(sys_mprotect(h, 2 * P, PROT_READ), 0);
    sys_munmap(h, 2 * P);
}
static void mprotect_wraps(void) { u64 a = anon(1, RW); report(sys_mprotect(a, (u64)-2 * P, PROT_READ), 0); unmap(a, 1); }
static void mprotect_len_max(void) { u64 a = anon(1, RW); report(sys_mprotect(a, (u64)-1, PROT_READ), 0); unmap(a, 1); }
static void mprotect_shared_ro_write(void)
{
    u64 a = (u64)must("mmap shared ro", sys_mmap(0, P, PROT_READ, MAP_SHARED, fd_ro, 0));
    report(sys_mprotect(a, P, RW), 0);
    unmap(a, 1);
}
static void mprotect_shared_ro_read(void)
{
    u64 a = (u64)must("mmap shared ro", sys_mmap(0, P, PROT_READ, MAP_SHARED, fd_ro, 0));
    report(sys_mprotect(a, P, PROT_NONE), 0);
    unmap(a, 1);
}
static void mprotect_private_ro_write(void)
{
    u64 a = (u64)must("mmap private ro", sys_mmap(0, P, PROT_READ, MAP_PRIVATE, fd_ro, 0));
    s64 r = sys_mprotect(a, P, RW);
    const char *d = 0;
    if (!iserr(r)) {
        poke(a + 3, 'z');
        d = peek(a + 3) == 'z' && peek(a + 4) == 'a' ? "private-copy" : "bad-contents";
    }
    report(r, d);
    unmap(a, 1);
}
/*
 * [anon RW][hole][shared read-only file]: Linux walks the VMAs in order and
 * stops at the hole (ENOMEM) before it reaches the VMA that would be EACCES.
 */
static void mprotect_hole_before_shared_ro(void)
{
    u64 a = anon(3, RW);
    must("munmap", sys_munmap(a + P, P));
    must("mmap fixed shared ro", sys_mmap(a + 2 * P, P, PROT_READ, MAP_SHARED | MAP_FIXED, fd_ro, 0));
    report(sys_mprotect(a, 3 * P, RW), 0);
    sys_munmap(a, 3 * P);
}
static void mprotect_grows_both(void) { u64 a = anon(1, RW); report(sys_mprotect(a, P, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), 0); unmap(a, 1); }
/* Both grows bits are refused before the len 0 shortcut. */
static void mprotect_grows_both_len0(void) { u64 a = anon(1, RW); report(sys_mprotect(a, 0, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), 0); unmap(a, 1); }
static void mprotect_growsdown_plain(void) { u64 a = anon(1, RW); report(sys_mprotect(a, P, PROT_READ | PROT_GROWSDOWN), 0); unmap(a, 1); }
static void mprotect_growsup(void) { u64 a = anon(1, RW); report(sys_mprotect(a, P, PROT_READ | PROT_GROWSUP), 0); unmap(a, 1); }
static void mprotect_growsdown_ok(void)
{
    u64 a = (u64)must("mmap growsdown", sys_mmap(0, 2 * P, RW, PRIV_ANON | MAP_GROWSDOWN, -1, 0));
    report(sys_mprotect(a + P, P, PROT_READ | PROT_GROWSDOWN), 0);
    sys_munmap(a, 2 * P);
}
static void mprotect_sem(void) { u64 a = anon(1, RW); report(sys_mprotect(a, P, PROT_READ | PROT_SEM), 0); unmap(a, 1); }

/* ---- mremap ---- */

static void mremap_unknown_flag(void) { u64 a = anon(1, RW); s64 r = sys_mremap(a, P, P, 8, 0); report(r, 0); unmap(a, 1); }
static void mremap_fixed_no_maymove(void)
{
    u64 a = anon(1, RW), h = hole(1);
    report(sys_mremap(a, P, P, MREMAP_FIXED, h), 0);
    sys_munmap(a, P);
    sys_munmap(h, P);
}
static void mremap_unaligned(void) { u64 a = anon(1, RW); report(sys_mremap(a + 1, P, 2 * P, MREMAP_MAYMOVE, 0), 0); sys_munmap(a, P); }
static void mremap_newlen0(void) { u64 a = anon(1, RW); report(sys_mremap(a, P, 0, MREMAP_MAYMOVE, 0), 0); sys_munmap(a, P); }
/* PAGE_ALIGN((size_t)-1) is 0: a zero new length. */
static void mremap_newlen_max(void) { u64 a = anon(1, RW); report(sys_mremap(a, P, (u64)-1, 0, 0), 0); sys_munmap(a, P); }
static void mremap_unmapped_grow(void) { report(sys_mremap(hole(1), P, 2 * P, MREMAP_MAYMOVE, 0), 0); }
/* The old address is looked up before the shrink and no-resize paths. */
static void mremap_unmapped_shrink(void) { report(sys_mremap(hole(2), 2 * P, P, 0, 0), 0); }
static void mremap_unmapped_same(void) { report(sys_mremap(hole(1), P, P, 0, 0), 0); }
/* Two adjacent VMAs: [RW][R]. */
static u64 two_vmas(void)
{
    u64 a = anon(2, RW);
    must("mprotect split", sys_mprotect(a + P, P, PROT_READ));
    return a;
}
static void mremap_span_grow(void)
{
    u64 a = two_vmas();
    s64 r = sys_mremap(a, 2 * P, 3 * P, MREMAP_MAYMOVE, 0);
    report(r, 0);
    if (!iserr(r) && (u64)r != a) sys_munmap((u64)r, 3 * P);
    sys_munmap(a, 2 * P);
}
static void mremap_span_shrink(void)
{
    u64 a = two_vmas();
    s64 r = sys_mremap(a, 2 * P, P, 0, 0);
    report(r, !iserr(r) && (u64)r == a && mapped(a) && !mapped(a + P) ? "tail-unmapped" : "wrong-range");
    sys_munmap(a, 2 * P);
}
static void mremap_grow_blocked(void)
{
    u64 a = two_vmas();
    report(sys_mremap(a, P, 2 * P, 0, 0), 0);
    sys_munmap(a, 2 * P);
}
static void mremap_grow_blocked_maymove(void)
{
    u64 a = two_vmas();
    poke(a + 5, 77);
    s64 r = sys_mremap(a, P, 2 * P, MREMAP_MAYMOVE, 0);
    const char *d = 0;
    if (!iserr(r)) d = (u64)r != a && peek((u64)r + 5) == 77 && mapped((u64)r + P) && !mapped(a) ? "moved" : "not-moved";
    report(r, d);
    if (!iserr(r) && (u64)r != a) sys_munmap((u64)r, 2 * P);
    sys_munmap(a, 2 * P);
}
static void mremap_grow_in_place(void)
{
    u64 h = hole(4);
    must("mmap fixed", sys_mmap(h, P, RW, PRIV_ANON | MAP_FIXED, -1, 0));
    s64 r = sys_mremap(h, P, 3 * P, 0, 0);
    report(r, !iserr(r) && (u64)r == h && mapped(h + 2 * P) && !mapped(h + 3 * P) ? "in-place" : "wrong");
    sys_munmap(h, 4 * P);
}
static void mremap_shrink(void)
{
    u64 a = anon(3, RW);
    s64 r = sys_mremap(a, 3 * P, P, 0, 0);
    report(r, !iserr(r) && (u64)r == a && mapped(a) && !mapped(a + P) && !mapped(a + 2 * P) ? "in-place" : "wrong");
    sys_munmap(a, 3 * P);
}
/* Old [a, a+2P) and new [a+P, a+3P) overlap. */
static void mremap_fixed_overlap(void)
{
    u64 a = anon(3, RW);
    s64 r = sys_mremap(a, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, a + P);
    report(r, 0);
    sys_munmap(a, 3 * P);
}
/* Old [a, a+P) and new [a+P, a+2P) only touch: allowed. */
static void mremap_fixed_adjacent(void)
{
    u64 a = anon(2, RW);
    poke(a + 1, 6);
    s64 r = sys_mremap(a, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, a + P);
    report(r, !iserr(r) && (u64)r == a + P && peek(a + P + 1) == 6 && !mapped(a) ? "moved" : "wrong");
    sys_munmap(a, 2 * P);
}
static void mremap_fixed_unaligned_new(void)
{
    u64 a = anon(1, RW), h = hole(2);
    s64 r = sys_mremap(a, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, h + 0x800);
    report(r, 0);
    sys_munmap(a, P);
    sys_munmap(h, 2 * P);
}
static void mremap_fixed_kernel_addr(void)
{
    u64 a = anon(1, RW);
    report(sys_mremap(a, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, KERNEL_ADDR), 0);
    sys_munmap(a, P);
}
static void mremap_fixed_ok(void)
{
    u64 a = anon(1, RW), h = hole(2);
    poke(a + 9, 5);
    s64 r = sys_mremap(a, P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, h);
    report(r, !iserr(r) && (u64)r == h && peek(h + 9) == 5 && !mapped(a) ? "moved" : "wrong");
    sys_munmap(a, P);
    sys_munmap(h, 2 * P);
}
/* Old range unmapped: EFAULT, and the target must not have been unmapped first. */
static void mremap_fixed_unmapped_old(void)
{
    u64 b = anon(1, RW);
    s64 r = sys_mremap(hole(1), P, P, MREMAP_MAYMOVE | MREMAP_FIXED, b);
    report(r, mapped(b) ? "target-kept" : "target-unmapped");
    sys_munmap(b, P);
}
/* old_len 0 on a private mapping is refused (only shared ones can be duplicated). */
static void mremap_oldlen0_private(void)
{
    u64 a = anon(1, RW);
    s64 r = sys_mremap(a, 0, P, MREMAP_MAYMOVE, 0);
    report(r, 0);
    if (!iserr(r) && (u64)r != a) sys_munmap((u64)r, P);
    sys_munmap(a, P);
}
static void mremap_dontunmap_no_maymove(void)
{
    u64 a = anon(1, RW);
    s64 r = sys_mremap(a, P, P, MREMAP_DONTUNMAP, 0);
    report(r, 0);
    if (!iserr(r) && (u64)r != a) sys_munmap((u64)r, P);
    sys_munmap(a, P);
}
static void mremap_dontunmap_resize(void)
{
    u64 a = anon(1, RW);
    s64 r = sys_mremap(a, P, 2 * P, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, 0);
    report(r, 0);
    if (!iserr(r) && (u64)r != a) sys_munmap((u64)r, 2 * P);
    sys_munmap(a, P);
}

/* ---- madvise ---- */

static void madvise_unaligned(void) { u64 a = anon(1, RW); report(sys_madvise(a + 1, P, MADV_NORMAL), 0); unmap(a, 1); }
static void madvise_unknown(void) { u64 a = anon(1, RW); report(sys_madvise(a, P, 12345), 0); unmap(a, 1); }
static void madvise_unknown_5(void) { u64 a = anon(1, RW); report(sys_madvise(a, P, 5), 0); unmap(a, 1); }
static void madvise_unmapped(void) { report(sys_madvise(hole(1), P, MADV_NORMAL), 0); }
static void madvise_unmapped_dontneed(void) { report(sys_madvise(hole(1), P, MADV_DONTNEED), 0); }
static void madvise_len0(void) { u64 a = anon(1, RW); report(sys_madvise(a, 0, MADV_DONTNEED), 0); unmap(a, 1); }
static void madvise_len0_unaligned(void) { u64 a = anon(1, RW); report(sys_madvise(a + 1, 0, MADV_NORMAL), 0); unmap(a, 1); }
static void madvise_len0_unknown(void) { u64 a = anon(1, RW); report(sys_madvise(a, 0, 12345), 0); unmap(a, 1); }
/* start + len wraps: EINVAL, not ENOMEM. */
static void madvise_wraps(void) { u64 a = anon(1, RW); report(sys_madvise(a, (u64)-2 * P, MADV_NORMAL), 0); unmap(a, 1); }
/* A small negative length rounds up to 0: EINVAL. */
static void madvise_len_max(void) { u64 a = anon(1, RW); report(sys_madvise(a, (u64)-1, MADV_NORMAL), 0); unmap(a, 1); }
static void madvise_willneed(void) { u64 a = anon(2, RW); report(sys_madvise(a, 2 * P, MADV_WILLNEED), 0); unmap(a, 2); }
static void madvise_dontneed_anon(void)
{
    u64 a = anon(2, RW);
    poke(a + 100, 0x5a);
    poke(a + P + 100, 0x5a);
    s64 r = sys_madvise(a, 2 * P, MADV_DONTNEED);
    report(r, peek(a + 100) == 0 && peek(a + P + 100) == 0 ? "zero" : "nonzero");
    unmap(a, 2);
}
/* Linux applies the advice to every VMA in the range and reports the hole at the end. */
static void madvise_dontneed_hole(void)
{
    u64 a = holey3();
    s64 r = sys_madvise(a, 3 * P, MADV_DONTNEED);
    report(r, peek(a) == 0 ? (peek(a + 2 * P) == 0 ? "first-zero last-zero" : "first-zero last-nonzero")
                           : (peek(a + 2 * P) == 0 ? "first-nonzero last-zero" : "first-nonzero last-nonzero"));
    sys_munmap(a, 3 * P);
}
/* A written private file page reads as the file again after MADV_DONTNEED. */
static void madvise_dontneed_private_file(void)
{
    u64 a = (u64)must("mmap private file", sys_mmap(0, 2 * P, RW, MAP_PRIVATE, fd_ro, 0));
    poke(a + 10, 'Z');
    poke(a + P + 10, 'Z');
    int written = peek(a + 10) == 'Z';
    s64 r = sys_madvise(a, 2 * P, MADV_DONTNEED);
    report(r, !written ? "write-lost" : peek(a + 10) == 'a' && peek(a + P + 10) == 'b' ? "same" : "differ");
    unmap(a, 2);
}
static void madvise_remove_private(void) { u64 a = anon(1, RW); report(sys_madvise(a, P, MADV_REMOVE), 0); unmap(a, 1); }
static void madvise_guard_remove(void) { u64 a = anon(1, RW); report(sys_madvise(a, P, MADV_GUARD_REMOVE), 0); unmap(a, 1); }

/* ---- msync ---- */

static void msync_unknown_flag(void) { u64 a = anon(1, RW); report(sys_msync(a, P, 8), 0); unmap(a, 1); }
static void msync_sync_and_async(void) { u64 a = anon(1, RW); report(sys_msync(a, P, MS_SYNC | MS_ASYNC), 0); unmap(a, 1); }
static void msync_unaligned(void) { u64 a = anon(1, RW); report(sys_msync(a + 1, P, MS_SYNC), 0); unmap(a, 1); }
static void msync_unmapped(void) { report(sys_msync(hole(1), P, MS_SYNC), 0); }
static void msync_unmapped_async(void) { report(sys_msync(hole(1), P, MS_ASYNC), 0); }
static void msync_len0(void) { u64 a = anon(1, RW); report(sys_msync(a, 0, MS_SYNC), 0); unmap(a, 1); }
static void msync_wraps(void) { u64 a = anon(1, RW); report(sys_msync(a, (u64)-2 * P, MS_SYNC), 0); unmap(a, 1); }
/* (len + 4095) & ~4095 wraps to 0 for len = (size_t)-1: end == start, success. */
static void msync_len_max(void) { u64 a = anon(1, RW); report(sys_msync(a, (u64)-1, MS_SYNC), 0); unmap(a, 1); }
static void msync_hole(void) { u64 a = holey3(); report(sys_msync(a, 3 * P, MS_SYNC), 0); sys_munmap(a, 3 * P); }
static void msync_anon(void) { u64 a = anon(2, RW); poke(a, 1); report(sys_msync(a, 2 * P, MS_SYNC | MS_INVALIDATE), 0); unmap(a, 2); }
static void msync_shared_file(void)
{
    u64 a = (u64)must("mmap shared ro", sys_mmap(0, 2 * P, PROT_READ, MAP_SHARED, fd_ro, 0));
    (void)peek(a);
    report(sys_msync(a, 2 * P, MS_SYNC), 0);
    unmap(a, 2);
}

/* ---- brk ---- */

static void brk_query(void) { report(sys_brk(0), 0); }
static void brk_below_start(void)
{
    s64 cur = sys_brk(0);
    s64 r = sys_brk(1);
    report(r, r == cur ? "unchanged" : "changed");
}
static void brk_grow_shrink(void)
{
    u64 cur = (u64)sys_brk(0);
    u64 want = cur + 2 * P + 100;
    s64 r = sys_brk(want);
    int grew = (u64)r == want;
    if (grew) { poke(want - 1, 1); poke(cur, 1); }
    s64 back = sys_brk(cur);
    report(r, grew ? ((u64)back == cur ? "grew shrank" : "grew stuck") : "did-not-grow");
}

/* ---- known differences (run, not compared; see KNOWN in the test) ---- */

/* Root may map below vm.mmap_min_addr natively (CAP_SYS_RAWIO); the emulator never does. */
static void known_mmap_fixed_below_min(void)
{
    s64 r = sys_mmap(0x1000, P, RW, PRIV_ANON | MAP_FIXED_NOREPLACE, -1, 0);
    report(r, iserr(r) ? 0 : (u64)r == 0x1000 ? "at-addr" : "elsewhere");
    undo(r, 1);
}
/* 1 TiB fits in Linux's 128 TiB user space, not in the emulator's 512 GiB. */
static void known_mmap_len_1tib(void)
{
    s64 r = sys_mmap(0, 1UL << 40, PROT_NONE, PRIV_ANON | MAP_NORESERVE, -1, 0);
    report(r, 0);
    if (!iserr(r)) sys_munmap((u64)r, 1UL << 40);
}
/* 1 TiB is a valid (unmapped) user address natively, past TASK_SIZE in the emulator. */
static void known_munmap_above_512gib(void) { report(sys_munmap(1UL << 40, P), 0); }
/* MREMAP_DONTUNMAP is not implemented by the emulator (mm/mmap.ts doMremap). */
static void known_mremap_dontunmap(void)
{
    u64 a = anon(1, RW);
    s64 r = sys_mremap(a, P, P, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, 0);
    report(r, 0);
    if (!iserr(r) && (u64)r != a) sys_munmap((u64)r, P);
    sys_munmap(a, P);
}
/* old_len 0 duplicates a shared mapping: not implemented by the emulator, which must refuse it cleanly. */
static void known_mremap_oldlen0_shared(void)
{
    u64 a = (u64)must("mmap shared anon", sys_mmap(0, P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    poke(a, 3);
    s64 r = sys_mremap(a, 0, P, MREMAP_MAYMOVE, 0);
    const char *d = 0;
    if (!iserr(r)) {
        u64 b = (u64)r;
        poke(b + 1, 4);
        d = b != a && mapped(a) && peek(b) == 3 && peek(a + 1) == 4 ? "duplicate-shares" : "not-shared";
    }
    report(r, d);
    if (!iserr(r) && (u64)r != a) sys_munmap((u64)r, P);
    sys_munmap(a, P);
}
/* MAP_DROPPABLE (Linux 6.11) is not implemented by the emulator. */
static void known_mmap_droppable(void)
{
    s64 r = sys_mmap(0, P, RW, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
    report(r, 0);
    undo(r, 1);
}

/* ---- the table ---- */

struct kase { const char *name; void (*fn)(void); };

static const struct kase cases[] = {
    { "mmap-len0", mmap_len0 },
    { "mmap-offset-unaligned", mmap_offset_unaligned },
    { "mmap-anon-offset-unaligned", mmap_anon_offset_unaligned },
    { "mmap-offset-unaligned-badfd", mmap_offset_unaligned_badfd },
    { "mmap-notype-anon", mmap_notype_anon },
    { "mmap-notype-file", mmap_notype_file },
    { "mmap-notype-hugelen", mmap_notype_hugelen },
    { "mmap-fixed-unaligned", mmap_fixed_unaligned },
    { "mmap-len-max", mmap_len_max },
    { "mmap-len-align-wraps", mmap_len_align_wraps },
    { "mmap-len-2p50", mmap_len_2p50 },
    { "mmap-badfd", mmap_badfd },
    { "mmap-badfd-minus1", mmap_badfd_minus1 },
    { "mmap-badfd-len0", mmap_badfd_len0 },
    { "mmap-anon-ignores-fd", mmap_anon_ignores_fd },
    { "mmap-shared-write-rdonly", mmap_shared_write_rdonly },
    { "mmap-shared-read-rdonly", mmap_shared_read_rdonly },
    { "mmap-private-write-rdonly", mmap_private_write_rdonly },
    { "mmap-validate-write-rdonly", mmap_validate_write_rdonly },
    { "mmap-private-wronly", mmap_private_wronly },
    { "mmap-shared-wronly", mmap_shared_wronly },
    { "mmap-validate-unknown-flag", mmap_validate_unknown_flag },
    { "mmap-validate-sync", mmap_validate_sync },
    { "mmap-shared-unknown-flag", mmap_shared_unknown_flag },
    { "mmap-private-unknown-flag", mmap_private_unknown_flag },
    { "mmap-validate-anon", mmap_validate_anon },
    { "mmap-validate-anon-unknown", mmap_validate_anon_unknown },
    { "mmap-noreplace-exists", mmap_noreplace_exists },
    { "mmap-noreplace-fixed-exists", mmap_noreplace_fixed_exists },
    { "mmap-noreplace-partial", mmap_noreplace_partial },
    { "mmap-noreplace-unaligned", mmap_noreplace_unaligned },
    { "mmap-noreplace-free", mmap_noreplace_free },
    { "mmap-fixed-unaligned-shared-ro-write", mmap_fixed_unaligned_shared_ro_write },
    { "mmap-noreplace-exists-shared-ro-write", mmap_noreplace_exists_shared_ro_write },
    { "mmap-fixed-kernel-addr", mmap_fixed_kernel_addr },
    { "mmap-fixed-wraps", mmap_fixed_wraps },
    { "mmap-anon-shared-growsdown", mmap_anon_shared_growsdown },
    { "mmap-private-growsdown", mmap_private_growsdown },
    { "mmap-unknown-prot", mmap_unknown_prot },
    { "mmap-unknown-prot-high", mmap_unknown_prot_high },
    { "mmap-unknown-prot-sign", mmap_unknown_prot_sign },
    { "mmap-prot-growsdown", mmap_prot_growsdown },
    { "mmap-prot-none-populate", mmap_prot_none_populate },
    { "mmap-prot-none-populate-file", mmap_prot_none_populate_file },
    { "mmap-populate-rw", mmap_populate_rw },
    { "mmap-populate-past-eof", mmap_populate_past_eof },
    { "mmap-file-offset-overflow", mmap_file_offset_overflow },
    { "mmap-file-offset-1gib", mmap_file_offset_1gib },
    { "mmap-file-offset-1tib", mmap_file_offset_1tib },
    { "mmap-file-offset-4pib", mmap_file_offset_4pib },
    { "mmap-hint-unaligned", mmap_hint_unaligned },
    { "mmap-good", mmap_good },
    { "mmap-file-good", mmap_file_good },
    { "mmap-fixed-replace", mmap_fixed_replace },

    { "munmap-unaligned", munmap_unaligned },
    { "munmap-len0", munmap_len0 },
    { "munmap-wraps", munmap_wraps },
    { "munmap-len-max", munmap_len_max },
    { "munmap-kernel-addr", munmap_kernel_addr },
    { "munmap-unmapped", munmap_unmapped },
    { "munmap-len-unaligned", munmap_len_unaligned },
    { "munmap-middle", munmap_middle },

    { "mprotect-unaligned", mprotect_unaligned },
    { "mprotect-unknown-prot", mprotect_unknown_prot },
    { "mprotect-unknown-prot-high", mprotect_unknown_prot_high },
    { "mprotect-unknown-prot-sign", mprotect_unknown_prot_sign },
    { "mprotect-unknown-prot-len0", mprotect_unknown_prot_len0 },
    { "mprotect-unknown-prot-unmapped", mprotect_unknown_prot_unmapped },
    { "mprotect-hole", mprotect_hole },
    { "mprotect-len0", mprotect_len0 },
    { "mprotect-len0-unaligned", mprotect_len0_unaligned },
    { "mprotect-unmapped", mprotect_unmapped },
    { "mprotect-starts-in-hole", mprotect_starts_in_hole },
    { "mprotect-wraps", mprotect_wraps },
    { "mprotect-len-max", mprotect_len_max },
    { "mprotect-shared-ro-write", mprotect_shared_ro_write },
    { "mprotect-shared-ro-read", mprotect_shared_ro_read },
    { "mprotect-private-ro-write", mprotect_private_ro_write },
    { "mprotect-hole-before-shared-ro", mprotect_hole_before_shared_ro },
    { "mprotect-grows-both", mprotect_grows_both },
    { "mprotect-grows-both-len0", mprotect_grows_both_len0 },
    { "mprotect-growsdown-plain", mprotect_growsdown_plain },
    { "mprotect-growsup", mprotect_growsup },
    { "mprotect-growsdown-ok", mprotect_growsdown_ok },
    { "mprotect-sem", mprotect_sem },

    { "mremap-unknown-flag", mremap_unknown_flag },
    { "mremap-fixed-no-maymove", mremap_fixed_no_maymove },
    { "mremap-unaligned", mremap_unaligned },
    { "mremap-newlen0", mremap_newlen0 },
    { "mremap-newlen-max", mremap_newlen_max },
    { "mremap-unmapped-grow", mremap_unmapped_grow },
    { "mremap-unmapped-shrink", mremap_unmapped_shrink },
    { "mremap-unmapped-same", mremap_unmapped_same },
    { "mremap-span-grow", mremap_span_grow },
    { "mremap-span-shrink", mremap_span_shrink },
    { "mremap-grow-blocked", mremap_grow_blocked },
    { "mremap-grow-blocked-maymove", mremap_grow_blocked_maymove },
    { "mremap-grow-in-place", mremap_grow_in_place },
    { "mremap-shrink", mremap_shrink },
    { "mremap-fixed-overlap", mremap_fixed_overlap },
    { "mremap-fixed-adjacent", mremap_fixed_adjacent },
    { "mremap-fixed-unaligned-new", mremap_fixed_unaligned_new },
    { "mremap-fixed-kernel-addr", mremap_fixed_kernel_addr },
    { "mremap-fixed-ok", mremap_fixed_ok },
    { "mremap-fixed-unmapped-old", mremap_fixed_unmapped_old },
    { "mremap-oldlen0-private", mremap_oldlen0_private },
    { "mremap-dontunmap-no-maymove", mremap_dontunmap_no_maymove },
    { "mremap-dontunmap-resize", mremap_dontunmap_resize },

    { "madvise-unaligned", madvise_unaligned },
    { "madvise-unknown", madvise_unknown },
    { "madvise-unknown-5", madvise_unknown_5 },
    { "madvise-unmapped", madvise_unmapped },
    { "madvise-unmapped-dontneed", madvise_unmapped_dontneed },
    { "madvise-len0", madvise_len0 },
    { "madvise-len0-unaligned", madvise_len0_unaligned },
    { "madvise-len0-unknown", madvise_len0_unknown },
    { "madvise-wraps", madvise_wraps },
    { "madvise-len-max", madvise_len_max },
    { "madvise-willneed", madvise_willneed },
    { "madvise-dontneed-anon", madvise_dontneed_anon },
    { "madvise-dontneed-hole", madvise_dontneed_hole },
    { "madvise-dontneed-private-file", madvise_dontneed_private_file },
    { "madvise-remove-private", madvise_remove_private },
    { "madvise-guard-remove", madvise_guard_remove },

    { "msync-unknown-flag", msync_unknown_flag },
    { "msync-sync-and-async", msync_sync_and_async },
    { "msync-unaligned", msync_unaligned },
    { "msync-unmapped", msync_unmapped },
    { "msync-unmapped-async", msync_unmapped_async },
    { "msync-len0", msync_len0 },
    { "msync-wraps", msync_wraps },
    { "msync-len-max", msync_len_max },
    { "msync-hole", msync_hole },
    { "msync-anon", msync_anon },
    { "msync-shared-file", msync_shared_file },

    { "brk-query", brk_query },
    { "brk-below-start", brk_below_start },
    { "brk-grow-shrink", brk_grow_shrink },

    /* KNOWN: answers depend on the address-space size, privileges or unimplemented features. */
    { "known-mmap-fixed-below-min", known_mmap_fixed_below_min },
    { "known-mmap-len-1tib", known_mmap_len_1tib },
    { "known-munmap-above-512gib", known_munmap_above_512gib },
    { "known-mremap-dontunmap", known_mremap_dontunmap },
    { "known-mmap-droppable", known_mmap_droppable },
    { "known-mremap-oldlen0-shared", known_mremap_oldlen0_shared },
};

#define NCASES (sizeof cases / sizeof cases[0])

int main(int argc, char **argv)
{
    if (argc < 2) {
        put(2, "usage: mmerrno DATAFILE [CASE...]\n");
        return 2;
    }
    cur_case = "(open)";
    fd_ro = (int)must("open O_RDONLY", sys_open(argv[1], O_RDONLY));
    fd_wo = (int)must("open O_WRONLY", sys_open(argv[1], O_WRONLY));

    for (int i = 2; i < argc; i++) {        /* every named case must exist */
        u64 k = 0;
        while (k < NCASES && !streq(cases[k].name, argv[i])) k++;
        if (k == NCASES) {
            put(2, "mmerrno: unknown case ");
            put(2, argv[i]);
            put(2, "\n");
            return 2;
        }
    }
    for (u64 k = 0; k < NCASES; k++) {
        int run = argc == 2;
        for (int i = 2; i < argc && !run; i++) run = streq(cases[k].name, argv[i]);
        if (!run) continue;
        cur_case = cases[k].name;
        cases[k].fn();
    }
    return 0;
}

NOLIBC_START;
