/*
 * touch.c - page-fault micro-benchmark, run both natively and inside the
 * faultline emulator.  Freestanding: no libc; _start, raw syscalls and output
 * helpers come from nolibc.h.
 *
 * Build:
 *   gcc -O2 -static -nostdlib -fno-builtin -fno-stack-protector \
 *       -fno-asynchronous-unwind-tables -o touch touch.c
 *
 * Usage: touch MODE PAGES [FILE]
 *   anon PAGES       mmap PAGES anonymous private RW pages; time writing one
 *                    8-byte word into each page, in order (first touch).
 *   anon-huge PAGES  the same after madvise(MADV_HUGEPAGE) over the mapping
 *                    (natively: the host's transparent huge pages, when
 *                    its THP mode is madvise or always).
 *   file PAGES FILE  mmap PAGES pages of FILE MAP_PRIVATE/PROT_READ; time three
 *                    scans reading one byte per page:
 *                      1. first scan           (pages faulted in)
 *                      2. same mapping again   (already mapped: no faults)
 *                      3. after munmap + mmap  (page-cache hits: minor faults)
 *   file-nohuge PAGES FILE
 *                    the same with madvise(MADV_NOHUGEPAGE) over each mapping:
 *                    natively the host then maps 4 KiB PTEs (fault-around),
 *                    never a 2 MiB PMD of a large page-cache folio (Linux
 *                    6.x with large folios on ext4, xfs, ... maps those whole
 *                    when the mapping is 2 MiB aligned, as it places it).
 *
 * Prints one JSON line on stdout, e.g.
 *   {"mode":"file","pages":1000,"ns":[123456,2345,34567],"sum":4242,"pmdKiB":0}
 * ns = elapsed nanoseconds of each timed loop; sum = checksum of the data
 * (anon: sum of the words written, read back; file: byte sum of one scan,
 * which must be identical for all three scans); pmdKiB (file modes) = the
 * FilePmdMapped of /proc/self/smaps_rollup after scan 3, i.e. how much of the
 * mapping the kernel mapped with 2 MiB entries, -1 where the file does not
 * exist (faultline has no smaps_rollup).
 *
 * Only these syscalls are used (the emulator implements no others):
 *   read(0) write(1) open(2) close(3) mmap(9) munmap(11) madvise(28)
 *   clock_gettime(228, CLOCK_MONOTONIC) exit_group(231)
 * (read only for smaps_rollup; madvise only in anon-huge and file-nohuge.)
 */

#include "nolibc.h"

#define CLOCK_MONOTONIC 1

/* ---- errors ---- */

/* "touch: <call> failed: <-errno>" on stderr, then exit 1. */
static __attribute__((noreturn)) void die(const char *call, s64 err)
{
    char buf[96];
    u64 p = 0;
    append_str(buf, &p, "touch: ");
    append_str(buf, &p, call);
    append_str(buf, &p, " failed: ");
    append_num(buf, &p, err);
    buf[p++] = '\n';
    syscall3(SYS_write, 2, buf, p);
    exit_group(1);
}

/* Run a syscall and die on a negative (-errno) result. */
static s64 check(const char *call, s64 ret)
{
    if (ret < 0) die(call, ret);
    return ret;
}

/* ---- timing ---- */

struct timespec { s64 tv_sec, tv_nsec; };

static s64 now_ns(void)
{
    struct timespec ts;
    check("clock_gettime", syscall3(SYS_clock_gettime, CLOCK_MONOTONIC, &ts, 0));
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void *map(u64 len, int prot, int flags, int fd)
{
    return (void *)check("mmap", syscall6(SYS_mmap, 0, len, prot, flags, fd, 0));
}

/* Read one byte of each page (volatile: every load really happens). */
static u64 scan(const volatile unsigned char *p, u64 pages)
{
    u64 sum = 0;
    for (u64 i = 0; i < pages; i++)
        sum += p[i * PAGE];
    return sum;
}

static __attribute__((noreturn)) void usage(void)
{
    put(2, "usage: touch anon PAGES | touch anon-huge PAGES | touch file|file-nohuge PAGES FILE\n");
    exit_group(1);
}

/* FilePmdMapped of /proc/self/smaps_rollup in KiB, -1 when it cannot be read. */
static s64 file_pmd_kib(void)
{
    static char buf[4096];
    s64 fd = syscall3(SYS_open, "/proc/self/smaps_rollup", O_RDONLY, 0);
    if (fd < 0) return -1;
    s64 n = 0, r;
    while (n < (s64)sizeof buf - 1 && (r = syscall3(SYS_read, fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += r;
    syscall3(SYS_close, fd, 0, 0);
    buf[n] = 0;
    static const char key[] = "FilePmdMapped:";
    for (s64 i = 0; i < n; i++) {
        if (i > 0 && buf[i - 1] != '\n') continue;
        u64 k = 0;
        while (key[k] && buf[i + k] == key[k]) k++;
        if (key[k]) continue;
        s64 v = 0;
        for (i += k; buf[i] == ' '; i++) {}
        for (; buf[i] >= '0' && buf[i] <= '9'; i++) v = v * 10 + (buf[i] - '0');
        return v;
    }
    return -1;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    if (argc < 3) usage();
    const char *mode = argv[1];

    /* PAGES: positive decimal integer */
    u64 pages = 0;
    for (const char *s = argv[2]; *s; s++) {
        if (*s < '0' || *s > '9') usage();
        pages = pages * 10 + (*s - '0');
        if (pages > (1UL << 36)) usage();       /* keeps pages*PAGE from overflowing */
    }
    if (pages == 0) usage();
    u64 len = pages * PAGE;

    s64 ns[3];
    int nt;                    /* number of timed loops */
    u64 sum = 0;

    s64 pmd_kib = -2;          /* -2: not a file mode (no field printed) */
    int huge = streq(mode, "anon-huge");
    int nohuge = streq(mode, "file-nohuge");
    if ((streq(mode, "anon") || huge) && argc == 3) {
        volatile u64 *p = map(len, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1);
        if (huge)                                /* ask for transparent huge pages */
            check("madvise", syscall3(SYS_madvise, (u64)p, len, MADV_HUGEPAGE));
        u64 words = PAGE / sizeof(u64);

        s64 t0 = now_ns();
        for (u64 i = 0; i < pages; i++)          /* first touch: one fault/page */
            p[i * words] = i + 1;
        ns[0] = now_ns() - t0;
        nt = 1;

        for (u64 i = 0; i < pages; i++)          /* read back: pages*(pages+1)/2 */
            sum += p[i * words];
        check("munmap", syscall3(SYS_munmap, p, len, 0));
    } else if ((streq(mode, "file") || nohuge) && argc == 4) {
        int fd = check("open", syscall3(SYS_open, argv[3], O_RDONLY, 0));
        const unsigned char *p = map(len, PROT_READ, MAP_PRIVATE, fd);
        if (nohuge)
            check("madvise", syscall3(SYS_madvise, (u64)p, len, MADV_NOHUGEPAGE));
        u64 s[3];
        s64 t0;

        t0 = now_ns(); s[0] = scan(p, pages); ns[0] = now_ns() - t0;  /* cold   */
        t0 = now_ns(); s[1] = scan(p, pages); ns[1] = now_ns() - t0;  /* mapped */

        check("munmap", syscall3(SYS_munmap, p, len, 0));
        p = map(len, PROT_READ, MAP_PRIVATE, fd);
        if (nohuge)
            check("madvise", syscall3(SYS_madvise, (u64)p, len, MADV_NOHUGEPAGE));
        t0 = now_ns(); s[2] = scan(p, pages); ns[2] = now_ns() - t0;  /* cached */
        pmd_kib = file_pmd_kib();

        check("munmap", syscall3(SYS_munmap, p, len, 0));
        check("close", syscall3(SYS_close, fd, 0, 0));
        if (s[1] != s[0] || s[2] != s[0]) {
            put(2, "touch: checksum differs between scans\n");
            exit_group(1);
        }
        sum = s[0];
        nt = 3;
    } else {
        usage();
    }

    /* {"mode":"...","pages":N,"ns":[a,b,c],"sum":S}\n */
    char out[256];
    u64 o = 0;
    append_str(out, &o, "{\"mode\":\"");
    append_str(out, &o, mode);
    append_str(out, &o, "\",\"pages\":");
    append_num(out, &o, (s64)pages);
    append_str(out, &o, ",\"ns\":[");
    for (int i = 0; i < nt; i++) {
        if (i) out[o++] = ',';
        append_num(out, &o, ns[i]);
    }
    append_str(out, &o, "],\"sum\":");
    append_num(out, &o, (s64)sum);
    if (pmd_kib != -2) {
        append_str(out, &o, ",\"pmdKiB\":");
        append_num(out, &o, pmd_kib);
    }
    append_str(out, &o, "}\n");
    check("write", syscall3(SYS_write, 1, out, o));
    return 0;
}

NOLIBC_START;
