/*
 * maxmap.c - mappings at scale and vm.max_map_count, run natively (the
 * ground truth) and under faultline. Freestanding (nolibc.h).
 *
 * Usage: maxmap limit   fill the address space with one-page anonymous
 *                       mappings until mmap fails, then probe what each
 *                       memory call answers at the limit; one line per case:
 *                         <case> <result>[ maps=<VMAs after it>]
 *                       result is "ok" or the negative errno; maps (at the
 *                       end of each round of probes) counts
 *                       the lines of /proc/self/maps except [vsyscall]
 *                       (which is not a VMA of the process).
 *        maxmap time N  make N distinct one-page mappings and print
 *                       {"mappings":N,"ns":T}: T the nanoseconds they took.
 *
 * Neighbouring fillers alternate PROT_READ and PROT_READ|PROT_WRITE, so no
 * two merge: each mmap adds one VMA.
 */
#include "nolibc.h"

#define CLOCK_MONOTONIC 1
#define MREMAP_MAYMOVE 1

static char line[160];
static char mapsbuf[1 << 16];

/* VMAs of this process: lines of /proc/self/maps, less the [vsyscall] line
 * (not a VMA of the process; the only line whose address starts with 'f',
 * user addresses being below 0x800000000000). */
static s64 vmas(void)
{
    s64 fd = syscall3(SYS_open, "/proc/self/maps", O_RDONLY, 0);
    if (fd < 0) return fd;
    s64 lines = 0, kernel = 0, n;
    int at_start = 1;
    while ((n = syscall3(SYS_read, fd, mapsbuf, sizeof mapsbuf)) > 0) {
        for (s64 i = 0; i < n; i++) {
            char c = mapsbuf[i];
            if (at_start && c == 'f') kernel++;
            at_start = c == '\n';
            lines += at_start;
        }
    }
    syscall3(SYS_close, fd, 0, 0);
    return n < 0 ? n : lines - kernel;
}

/* "<name> <ok|-errno>", and " maps=<VMAs>" when `count` (reading the maps
 * of 65,530 areas is slow under emulation: once per round). */
static void report_(const char *name, s64 r, int count)
{
    u64 p = 0;
    append_str(line, &p, name);
    append_str(line, &p, " ");
    if (r >= 0) append_str(line, &p, "ok");
    else append_num(line, &p, r);
    if (count) {
        append_str(line, &p, " maps=");
        append_num(line, &p, vmas());
    }
    line[p++] = '\n';
    syscall3(SYS_write, 1, line, p);
}

static void report(const char *name, s64 r) { report_(name, r, 0); }
static void report_counted(const char *name, s64 r) { report_(name, r, 1); }

static s64 map(u64 pages, int prot)
{
    return syscall6(SYS_mmap, 0, pages * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static s64 mprotect(s64 at, u64 pages, int prot) { return syscall3(SYS_mprotect, at, pages * PAGE, prot); }
static s64 munmap(s64 at, u64 pages) { return syscall3(SYS_munmap, at, pages * PAGE, 0); }

/* One-page fillers until mmap fails; returns its error, *last the last filler made. */
static s64 fill(s64 *last, s64 *made)
{
    for (;;) {
        s64 p = map(1, (*made & 1) ? PROT_READ : PROT_READ | PROT_WRITE);
        if (p < 0 && p > -4096) return p;
        *last = p;
        (*made)++;
    }
}

/* A 5-page PROT_NONE mapping with a free page on each side (fillers, R or
 * RW, take those later and never merge with it): one VMA of its own. */
static s64 island(void)
{
    s64 p = map(7, PROT_NONE);
    if (p < 0 && p > -4096) return p;
    munmap(p, 1);
    munmap(p + 6 * PAGE, 1);
    return p + PAGE;
}

#define RX (PROT_READ | PROT_EXEC)
#define ROUNDS 4

/* The probes of one round, each on its own islands a..d. */
static void probes(const char *round, s64 *isl)
{
    static char name[64];
    const char *what[] = {
        "mmap", "munmap-middle", "munmap-first-page", "munmap-whole", "mprotect-middle", "mprotect-first-page",
        "mprotect-whole", "mremap-move-part", "mremap-move-whole",
    };
    s64 a = isl[0], b = isl[1], c = isl[2], d = isl[3], e = isl[4];
    for (int k = 0; k < 9; k++) {
        s64 r;
        switch (k) {
        case 0: r = map(1, PROT_READ); break;
        case 1: r = munmap(a + 2 * PAGE, 1); break;          /* one VMA becomes two */
        case 2: r = munmap(b, 1); break;                     /* trims: the count stays */
        case 3: r = munmap(e, 5); break;                     /* one VMA fewer */
        case 4: r = mprotect(c + 2 * PAGE, 1, RX); break;    /* two new VMAs */
        case 5: r = mprotect(c, 1, RX); break;               /* one new VMA (merges with nothing) */
        case 6: r = mprotect(d, 5, RX); break;               /* none new */
        case 7: r = syscall6(SYS_mremap, d, PAGE, 64 * PAGE, MREMAP_MAYMOVE, 0, 0); break; /* split + move */
        default: r = syscall6(SYS_mremap, b + PAGE, 4 * PAGE, 64 * PAGE, MREMAP_MAYMOVE, 0, 0); break; /* move */
        }
        u64 p = 0;
        append_str(name, &p, what[k]);
        append_str(name, &p, "-");
        append_str(name, &p, round);
        name[p] = 0;
        report_(name, r, k == 8);
    }
}

static int limit(void)
{
    static s64 isl[ROUNDS][5];
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < 5; k++)
            if ((isl[r][k] = island()) < 0) return 1;
    s64 last = 0, made = 0;
    report_counted("mmap-until-error", fill(&last, &made));
    probes("at-limit", isl[0]);
    /* Free 1, then 2 more, then 4 more fillers: the probes again, nearer and nearer below. */
    const char *names[] = { "", "limit-minus-1", "limit-minus-3", "limit-minus-7" };
    const int frees[] = { 0, 1, 2, 4 };
    for (int r = 1; r < ROUNDS; r++) {
        for (int k = 0; k < frees[r]; k++) {
            report("munmap-filler", munmap(last, 1));
            last += PAGE; /* fillers go top-down: the one made before sits just above */
        }
        probes(names[r], isl[r]);
    }
    report_counted("mmap-until-error-again", fill(&last, &made));
    return 0;
}

static s64 now(void)
{
    struct { s64 sec, nsec; } ts;
    syscall3(SYS_clock_gettime, CLOCK_MONOTONIC, &ts, 0);
    return ts.sec * 1000000000L + ts.nsec;
}

static int timed(s64 n)
{
    s64 t0 = now();
    for (s64 i = 0; i < n; i++) {
        s64 p = map(1, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE);
        if (p < 0 && p > -4096) {
            put(2, "maxmap: mmap failed before N mappings\n");
            return 1;
        }
    }
    s64 t = now() - t0;
    u64 p = 0;
    append_str(line, &p, "{\"mappings\":");
    append_num(line, &p, n);
    append_str(line, &p, ",\"ns\":");
    append_num(line, &p, t);
    append_str(line, &p, "}\n");
    syscall3(SYS_write, 1, line, p);
    return 0;
}

static s64 parse(const char *s)
{
    s64 v = 0;
    while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
    return v;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && streq(argv[1], "limit")) return limit();
    if (argc >= 3 && streq(argv[1], "time")) return timed(parse(argv[2]));
    put(2, "usage: maxmap limit | maxmap time N\n");
    return 2;
}

NOLIBC_START;
