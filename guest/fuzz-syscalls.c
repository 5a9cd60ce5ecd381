/*
 * fuzz-syscalls.c - random system calls with random arguments, from a seed.
 * test/fuzz-syscalls.test.ts runs it under faultline (and a safe subset
 * natively); the contract under faultline is: never an internal error, never
 * a host crash or hang, and the guest ends with its own exit status (0).
 *
 * Build (as every guest): gcc -O2 -static -nostdlib -fno-builtin
 *   -fno-stack-protector -fno-asynchronous-unwind-tables -o fuzz fuzz-syscalls.c
 *
 * Usage: fuzz-syscalls SEED COUNT [MODE [SKIP]]
 *   SEED   decimal seed of the xorshift64 generator
 *   COUNT  how many calls to make
 *   MODE   letters: `v` prints each call's arguments before making it (to
 *          find the call that killed a run); `s` keeps to the safe subset
 *          (calls on the working directory's files and on the private arena,
 *          which may run natively, even as root); `r` makes only the fixed
 *          calls of REGRESSION (what the fuzz found wrong in the identity and
 *          limit calls, compared with Linux), printing `@NR RESULT` with any
 *          result >= 0 as `ok` unless the case says the value is exact.
 *   SKIP   comma-separated call numbers never to make (to get past a known
 *          finding in a wide run); the generator still draws them, so the
 *          other calls of a seed stay the same.
 *
 * The working directory must hold the tree the test makes: a file `f`, a
 * directory `d` with a file `d/g`, an empty directory `e`, a symbolic link
 * `l` -> `f`. All path arguments are relative names inside it (or garbage
 * from the scratch buffer: run it under `faultline run --root` only).
 *
 * Output on fd 1: one line per call, `@NR RESULT` (RESULT the raw return
 * value: -errno on failure), and `@end COUNT` last. Fuzzed calls may write
 * garbage to fd 1 too; a reader takes `@NR RESULT` from the end of a line.
 *
 * What is never fuzzed, because it would legitimately end or stall the run
 * (natively too), or reach past the guest: see `allowed()` and `fixup()`.
 * Memory calls that can destroy mappings (munmap, mremap, mprotect, madvise,
 * MAP_FIXED, ...) only ever name the sacrificial arena mapped at start-up,
 * never the text, stack or scratch buffer.
 */
#include "nolibc.h"

#define SCRATCH    (64 * 1024UL)        /* scratch buffer: RW, then a guard page */
#define ARENA      (16 * 1024 * 1024UL) /* sacrificial arena, PROT_NONE at start */
#define LOG_FD     1
#define AT_FDCWD   (-100)
#define O_RDWR     2
#define O_CREAT    0100
#define O_NONBLOCK 04000
#define O_CLOEXEC  02000000
#define O_DIRECTORY 0200000
#define SIGPIPE    13
#define KERNEL_ADDR 0xffffffff81000000UL

/* ---- the generator (xorshift64) ---- */

static u64 rng;

static u64 next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static u64 below(u64 n) { return next() % n; }

/* ---- what the guest owns ---- */

static char *scratch;      /* SCRATCH bytes, followed by a PROT_NONE guard page */
static u64 arena;          /* ARENA bytes, the only target of destructive memory calls */
static s64 myfds[8];       /* descriptors opened at start-up (may be closed later) */
static int nmyfds;
static s64 mypid;

/* Paths inside the working directory, read-only (in .rodata). */
static const char *const PATHS[] = {
    "f", "d", "d/g", "e", "l", "nx", "n1", "n2", "d/n3", "", ".", "f/x", "e/..", "l/",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "\xff\xfe", "caf\xe9",
};
#define NPATHS (sizeof PATHS / sizeof PATHS[0])

/* Time values for sleeps and timeouts: tiny, or invalid (EINVAL at once), never long. */
static const s64 TIMES[][2] = { {0, 0}, {0, 1000}, {0, 1000000000}, {-1, 0}, {0, -1}, {1L << 40, 1000000000} };
#define NTIMES (sizeof TIMES / sizeof TIMES[0])

/* Interesting integers. */
static const u64 INTS[] = {
    0, 1, 2, 3, 4, 7, 8, 16, 64, 255, 4095, 4096, 4097, 65536,
    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 1UL << 30, 1UL << 46, 1UL << 62,
    0x7fffffffffffffff, 0x8000000000000000, -1UL, -2UL, -4095UL, -4096UL,
};
#define NINTS (sizeof INTS / sizeof INTS[0])

/* ---- argument kinds ---- */

static u64 any_fd(void)
{
    switch (below(4)) {
    case 0: return below(3);
    case 1: return nmyfds ? (u64)myfds[below(nmyfds)] : 0;
    case 2: return nmyfds ? (u64)myfds[below(nmyfds)] : 0;
    default: {
        static const s64 odd[] = { AT_FDCWD, -1, 1000, 1024, 0x7fffffff, 20 };
        return (u64)odd[below(sizeof odd / sizeof odd[0])];
    }
    }
}

static u64 any_ptr(void)
{
    switch (below(10)) {
    case 0: return 0;
    case 1: return 0x1000;                 /* unmapped, low */
    case 2: return 1UL << 46;              /* unmapped, canonical */
    case 3: return KERNEL_ADDR;            /* kernel half */
    case 4: return 0x800000000000UL;       /* non-canonical */
    case 5: return (u64)&next;             /* own text: readable, not writable */
    case 6: return (u64)scratch + SCRATCH - below(16); /* runs into the guard page */
    case 7: return arena + below(ARENA / PAGE) * PAGE;
    default: return (u64)scratch + (below(4) ? 0 : below(SCRATCH));
    }
}

static u64 any_path(void) { return (u64)PATHS[below(NPATHS)]; }

static u64 any_int(void)
{
    switch (below(6)) {
    case 0: case 1: return INTS[below(NINTS)];
    case 2: return below(33);
    case 3: return next();
    case 4: return 1UL << below(64);
    default: return next() & 0xffffffff;
    }
}

/* Any argument: an integer, a descriptor, a pointer or a path. */
static u64 any_arg(void)
{
    switch (below(10)) {
    case 0: case 1: case 2: return any_int();
    case 3: case 4: return any_fd();
    case 5: case 6: case 7: return any_ptr();
    default: return any_path();
    }
}

/* An address in the arena and a length that stays inside it. */
static void arena_range(u64 *addr, u64 *len)
{
    u64 off = below(ARENA / PAGE) * PAGE;
    if (below(8) == 0) off += below(PAGE);            /* unaligned now and then */
    u64 room = ARENA - off;
    u64 want = *len;
    if (want > room || below(2)) want = below(4) ? below(room / PAGE + 1) * PAGE : below(room + 1);
    *addr = arena + off;
    *len = want;
}

/* A struct timespec: one of TIMES, or a pointer that faults (never garbage: it might be a long sleep). */
static u64 any_time(void)
{
    static const u64 bad[] = { 0, 0x1000, KERNEL_ADDR };
    return below(5) ? (u64)TIMES[below(NTIMES)] : bad[below(3)];
}

/* ---- which calls, and with what ---- */

/*
 * Calls never made: they would end the run (exit, exit_group, execve,
 * rt_sigreturn), start another process (fork, vfork, clone, clone3), stall
 * it (pause, rt_sigsuspend), arm a signal that kills (alarm, setitimer,
 * timer_*), reach past the guest into the host (reboot, kexec, modules,
 * mount, swap, clocks, hostname, iopl/ioperm, syslog, quotactl, bpf,
 * perf_event_open, fanotify, userfaultfd, ptrace, process_vm_*, seccomp,
 * mlockall, chroot, pivot_root, acct, vhangup, sched_setscheduler/setattr,
 * io_uring, pidfd_getfd, the new mount API), or wait without a timeout
 * (semop).
 */
static int allowed(s64 nr)
{
    switch (nr) {
    case 15: case 56: case 57: case 58: case 59: case 60: case 231: case 322: case 435: /* exit, exec, rt_sigreturn, fork... */
    case 34: case 130: /* pause, rt_sigsuspend */
    case 37: case 38: case 222: case 223: case 224: case 225: case 226: /* alarm, itimers, timer_* */
    case 169: case 246: case 320: case 175: case 176: case 313: /* reboot, kexec, modules */
    case 165: case 166: case 155: case 161: case 163: case 167: case 168: /* mount, umount, pivot_root, chroot, acct, swap */
    case 159: case 164: case 170: case 171: case 227: case 305: /* clocks, hostname */
    case 172: case 173: case 153: case 103: case 179: case 321: case 298: /* iopl, ioperm, vhangup, syslog, quotactl, bpf, perf */
    case 300: case 301: case 323: case 101: case 310: case 311: case 317: case 151: /* fanotify, userfaultfd, ptrace, process_vm, seccomp, mlockall */
    case 144: case 203: case 314: /* sched_setscheduler, sched_setaffinity, sched_setattr */
    case 425: case 426: case 427: case 438: /* io_uring, pidfd_getfd */
    case 428: case 429: case 430: case 431: case 432: case 433: case 442: /* new mount API */
    case 65: /* semop: may wait forever (semtimedop is fuzzed, with a timeout) */
        return 0;
    default:
        return 1;
    }
}

/* The safe subset (mode `s`): the working directory's files and the arena. */
static int safe(s64 nr)
{
    static const short SAFE[] = {
        0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 17, 18, 19, 20, 21, 25, 26, 27, 28, 32, 33,
        72, 73, 74, 75, 76, 77, 78, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 95, 137, 138, 149,
        150, 217, 257, 258, 262, 263, 264, 265, 266, 267, 268, 269, 292, 316, 332, 439,
        /* identity, limits, time (values differ; errnos must not) */
        24, 39, 63, 96, 97, 99, 102, 104, 107, 108, 110, 111, 115, 118, 120, 121, 124, 186,
        201, 204, 228, 229, 302, 318,
    };
    for (u64 k = 0; k < sizeof SAFE / sizeof SAFE[0]; k++) if (SAFE[k] == nr) return 1;
    return 0;
}

/* Which arguments of a safe call are paths (bit k = argument k). */
static int path_args(s64 nr)
{
    switch (nr) {
    case 2: case 4: case 6: case 21: case 76: case 83: case 84: case 85: case 87: case 89: case 90: return 1;
    case 82: case 86: case 88: return 3;
    case 257: case 258: case 262: case 263: case 267: case 268: case 269: case 439: case 332: return 2;
    case 264: case 265: case 316: return 2 | 8;
    case 266: return 1 | 4;
    default: return 0;
    }
}

static s64 skip[64];
static int nskip;

static int skipped(s64 nr)
{
    for (int k = 0; k < nskip; k++) if (skip[k] == nr) return 1;
    return 0;
}

static s64 pick_nr(int safe_only)
{
    for (;;) {
        s64 nr;
        if (!safe_only && below(40) == 0) {
            static const s64 odd[] = { -1, 463, 512, 1000, 0x40000027, 0x7fffffff };
            nr = odd[below(sizeof odd / sizeof odd[0])];
        } else {
            nr = below(463);
        }
        if (!allowed(nr)) continue;
        if (safe_only && !safe(nr)) continue;
        return nr;
    }
}

static int protected_fd(u64 fd) { return (int)fd == LOG_FD; }

/*
 * Constrains the arguments of calls that could otherwise end or stall the
 * run, or touch what the guest needs: its log descriptor, text, stack and
 * scratch buffer.
 */
static s64 fixup(s64 nr, u64 *a)
{
    switch (nr) {
    case 22: /* pipe -> pipe2(O_NONBLOCK): nothing the guest makes may block */
        a[1] = O_NONBLOCK | (a[1] & O_CLOEXEC);
        return 293;
    case 284: /* eventfd -> eventfd2(EFD_NONBLOCK) */
        a[1] = O_NONBLOCK;
        return 290;
    case 282: /* signalfd -> signalfd4(SFD_NONBLOCK) */
        a[3] = O_NONBLOCK;
        return 289;
    case 253: /* inotify_init -> inotify_init1(IN_NONBLOCK) */
        a[0] = O_NONBLOCK;
        return 294;
    case 293: case 290: case 283: /* pipe2, eventfd2, timerfd_create: flags in argument 1 */
        a[1] |= O_NONBLOCK;
        break;
    case 289: /* signalfd4 */
        a[3] |= O_NONBLOCK;
        break;
    case 294: /* inotify_init1 */
        a[0] |= O_NONBLOCK;
        break;
    case 41: case 53: /* socket, socketpair: SOCK_NONBLOCK */
        a[1] |= O_NONBLOCK;
        break;
    case 288: /* accept4 */
        a[3] |= O_NONBLOCK;
        break;
    case 240: /* mq_open */
        a[1] |= O_NONBLOCK;
        break;
    case 69: /* msgsnd: IPC_NOWAIT */
        a[3] |= 04000;
        break;
    case 70: /* msgrcv: IPC_NOWAIT */
        a[4] |= 04000;
        break;
    case 220: /* semtimedop */
        a[3] = (u64)TIMES[1];
        break;
    case 242: case 243: /* mq_timedsend, mq_timedreceive */
        a[4] = (u64)TIMES[1];
        break;
    case 128: /* rt_sigtimedwait */
        a[2] = (u64)TIMES[below(NTIMES)];
        break;
    case 449: /* futex_waitv */
        a[3] = (u64)TIMES[1];
        break;
    case 455: /* futex_wait */
        a[4] = (u64)TIMES[1];
        break;
    case 275: /* splice: SPLICE_F_NONBLOCK */
        a[5] |= 2;
        break;
    case 276: case 278: /* tee, vmsplice */
        a[3] |= 2;
        break;
    case 3: /* close */
        if (protected_fd(a[0])) a[0] = 1000;
        break;
    case 33: case 292: /* dup2, dup3: never onto the log */
        if (protected_fd(a[1])) a[1] = 1000;
        break;
    case 436: /* close_range: from 3 up */
        if ((unsigned)a[0] < 3) a[0] = 3;
        break;
    case 9: /* mmap: fixed mappings only in the arena; no huge populate or lock */
        if (a[3] & (0x10 | 0x100000)) arena_range(&a[0], &a[1]);
        if ((a[3] & (0x8000 | 0x2000)) && a[1] > (1UL << 20)) a[1] &= (1UL << 20) - 1;
        break;
    case 10: case 11: case 26: case 28: case 149: case 150: case 325: case 216: case 237: case 329: case 27:
    case 462:
        /* mprotect, munmap, msync, madvise, mlock, munlock, mlock2, remap_file_pages, mbind, pkey_mprotect, mincore, mseal */
        arena_range(&a[0], &a[1]);
        break;
    case 25: /* mremap: old range in the arena; a fixed new range too */
        arena_range(&a[0], &a[1]);
        if (a[3] & 2) { u64 l = a[2]; arena_range(&a[4], &l); a[2] = l; }
        break;
    case 30: /* shmat: into the arena */
        { u64 l = 0; arena_range(&a[1], &l); }
        break;
    case 35: /* nanosleep */
        a[0] = any_time();
        break;
    case 230: /* clock_nanosleep */
        a[2] = any_time();
        break;
    case 7: /* poll: bounded timeout */
        a[2] = below(3);
        break;
    case 232: case 281: /* epoll_wait, epoll_pwait */
        a[3] = below(3);
        break;
    case 441: /* epoll_pwait2 */
        a[3] = any_time();
        if (!a[3]) a[3] = (u64)TIMES[0];
        break;
    case 23: /* select: a timeval, never NULL (wait forever) */
    case 270: /* pselect6 */
        a[4] = any_time();
        if (!a[4]) a[4] = (u64)TIMES[0];
        break;
    case 271: /* ppoll */
        a[2] = any_time();
        if (!a[2]) a[2] = (u64)TIMES[0];
        break;
    case 208: case 333: /* io_getevents, io_pgetevents */
        a[4] = (u64)TIMES[0];
        break;
    case 202: /* futex: a timeout for waits */
        a[3] = (u64)TIMES[1];
        break;
    case 62: case 200: case 129: case 297: case 424: /* kill, tkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal */
    {
        static const s64 sigs[] = { 0, 65, 1000, -1 };
        if (nr == 62) a[0] = below(2) ? (u64)mypid : below(2) ? 0 : -1UL;
        if (nr == 200 || nr == 129) a[0] = (u64)mypid;
        a[1] = (u64)sigs[below(4)];
        break;
    }
    case 234: /* tgkill */
    {
        static const s64 sigs[] = { 0, 65, 1000, -1 };
        a[0] = a[1] = (u64)mypid;
        a[2] = (u64)sigs[below(4)];
        break;
    }
    case 13: /* rt_sigaction: SIGPIPE stays ignored */
        if ((int)a[0] == SIGPIPE) a[1] = 0;
        break;
    case 72: /* fcntl: no signal-driven I/O, no leases, no blocking locks, pipes stay non-blocking */
        switch ((int)a[1]) {
        case 4: a[2] |= O_NONBLOCK; break;          /* F_SETFL */
        case 8: case 10: case 15: case 1024: case 1026: a[1] = 1; break; /* F_SETOWN(_EX), F_SETSIG, F_SETLEASE, F_NOTIFY */
        case 38: a[1] = 37; break;                  /* F_OFD_SETLKW -> F_OFD_SETLK */
        case 7: a[1] = 6; break;                    /* F_SETLKW -> F_SETLK (an OFD lock may conflict) */
        }
        break;
    case 16: /* ioctl: FIONBIO would make the pipe blocking */
        if ((unsigned)a[1] == 0x5421 || (unsigned)a[1] == 0x5452) a[1] = 0x5401; /* FIONBIO, FIOASYNC */
        break;
    case 73: /* flock: never block */
        a[1] |= 4;
        break;
    case 133: case 259: /* mknod, mknodat: regular files only (no FIFOs to block on, no devices) */
        a[nr == 133 ? 1 : 2] &= 07777;
        break;
    case 160: /* setrlimit: never a new limit */
        a[1] = below(2) ? 0 : KERNEL_ADDR;
        break;
    case 302: /* prlimit64: never a new limit */
        a[2] = below(2) ? 0 : KERNEL_ADDR;
        break;
    case 157: /* prctl: no seccomp */
        if ((int)a[0] == 22) a[0] = 15;
        break;
    case 285: /* fallocate: bounded */
        a[3] &= (1UL << 20) - 1;
        break;
    case 61: case 247: /* wait4, waitid: WNOHANG */
        a[nr == 61 ? 2 : 3] |= 1;
        break;
    }
    return nr;
}

/* Safe mode: path arguments only from PATHS. */
static void fixup_safe(s64 nr, u64 *a)
{
    int mask = path_args(nr);
    for (int k = 0; k < 6; k++) if (mask & (1 << k)) a[k] = any_path();
}

/* ---- output ---- */

static void log_line(const char *buf, u64 n)
{
    for (int tries = 0; tries < 1000; tries++) {
        s64 r = syscall3(SYS_write, LOG_FD, buf, n);
        if (r == (s64)n) return;
        if (r > 0) { buf += r; n -= r; continue; }
        if (r != -11) return; /* EAGAIN: someone made the pipe non-blocking */
        syscall3(24, 0, 0, 0); /* sched_yield */
    }
}

static void append_hex(char *buf, u64 *pos, u64 v)
{
    char tmp[16];
    int n = 0;
    do { tmp[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    buf[(*pos)++] = '0'; buf[(*pos)++] = 'x';
    while (n) buf[(*pos)++] = tmp[--n];
}

static s64 parse(const char *s)
{
    s64 v = 0;
    while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
    return v;
}

static int has(const char *s, char c)
{
    for (; s && *s; s++) if (*s == c) return 1;
    return 0;
}

/* ---- start-up: what the fuzzed calls may name ---- */

static void setup(void)
{
    scratch = (char *)syscall6(SYS_mmap, 0, SCRATCH + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    syscall3(SYS_mprotect, scratch + SCRATCH, PAGE, PROT_NONE);
    arena = (u64)syscall6(SYS_mmap, 0, ARENA, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static const u64 ign[4] = { 1 /* SIG_IGN */, 0, 0, 0 };
    syscall6(13, SIGPIPE, (s64)ign, 0, 8, 0, 0);                 /* rt_sigaction(SIGPIPE, SIG_IGN) */
    mypid = syscall3(39, 0, 0, 0);
    myfds[nmyfds++] = syscall6(257, AT_FDCWD, (s64)"f", O_RDWR, 0, 0, 0);
    myfds[nmyfds++] = syscall6(257, AT_FDCWD, (s64)"d", O_DIRECTORY, 0, 0, 0);
    myfds[nmyfds++] = syscall6(257, AT_FDCWD, (s64)"o", O_RDWR | O_CREAT, 0644, 0, 0);
    syscall3(33, myfds[nmyfds - 1], 2, 0);   /* dup2(o, 2): what fuzzed calls write to fd 2 stays out of stderr */
    int p[2];
    if (syscall3(293, p, O_NONBLOCK, 0) == 0) { myfds[nmyfds++] = p[0]; myfds[nmyfds++] = p[1]; }
    myfds[nmyfds++] = syscall6(257, AT_FDCWD, (s64)"d/g", 0, 0, 0, 0);
}

/* ---- regression calls (mode r): deterministic, run natively and under faultline ---- */

#define BOGUS_PID 0x7ffffff0   /* above any pid_max: no such process */

/* One call; exact = print a result >= 0 as it is (else as `ok`). */
struct regression { s64 nr; u64 a[4]; int exact; };

static void regressions(void)
{
    static const u64 bad_limit[2] = { 10, 5 };   /* rlim_cur > rlim_max */
    u64 s = (u64)scratch, end = (u64)scratch + SCRATCH;
    const struct regression R[] = {
        { 121, { BOGUS_PID }, 0 },                    /* getpgid: ESRCH */
        { 124, { BOGUS_PID }, 0 },                    /* getsid: ESRCH */
        { 121, { 0 }, 0 },
        { 204, { BOGUS_PID, 8, s }, 0 },              /* sched_getaffinity: ESRCH */
        { 204, { 0, 0, s }, 0 },                      /* EINVAL: too short */
        { 204, { 0, 12, s }, 0 },                     /* EINVAL: not a multiple of 8 */
        { 204, { 0, 8, 0x1000 }, 0 },                 /* EFAULT */
        { 204, { 0, 8, s }, 0 },
        { 302, { BOGUS_PID, 0, 0, s }, 0 },           /* prlimit64: ESRCH */
        { 302, { 0, 99, 0, s }, 0 },                  /* EINVAL: resource */
        { 302, { 0, 0, KERNEL_ADDR, 0 }, 0 },         /* EFAULT: the new limit */
        { 302, { 0, 99, KERNEL_ADDR, 0 }, 0 },        /* EFAULT before EINVAL */
        { 302, { 0, 7, (u64)bad_limit, 0 }, 0 },      /* EINVAL: cur > max */
        { 302, { 0, 7, 0, s }, 0 },
        { 97, { 99, s }, 0 },                         /* getrlimit: EINVAL */
        { 318, { s, 8, 8 }, 0 },                      /* getrandom: EINVAL, unknown flag */
        { 318, { s, 8, 6 }, 0 },                      /* EINVAL: GRND_INSECURE | GRND_RANDOM */
        { 318, { end - 5, 16, 0 }, 1 },               /* 5: what fits before the guard page */
        { 318, { 0x1000, 16, 0 }, 0 },                /* EFAULT */
        { 318, { s, 16, 1 }, 1 },                     /* 16 */
        { 229, { 100, s }, 0 },                       /* clock_getres: EINVAL */
        { 229, { 0, s }, 0 },
        { 115, { -1UL, s }, 0 },                      /* getgroups: EINVAL */
        { 115, { 0, 0 }, 1 },                         /* the count */
    };
    char line[64];
    for (u64 k = 0; k < sizeof R / sizeof R[0]; k++) {
        s64 r = syscall6(R[k].nr, (s64)R[k].a[0], (s64)R[k].a[1], (s64)R[k].a[2], (s64)R[k].a[3], 0, 0);
        u64 pos = 0;
        line[pos++] = '@';
        append_num(line, &pos, R[k].nr);
        line[pos++] = ' ';
        if (r >= 0 && !R[k].exact) append_str(line, &pos, "ok");
        else append_num(line, &pos, r);
        line[pos++] = '\n';
        log_line(line, pos);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) { put(2, "usage: fuzz-syscalls SEED COUNT [MODE [SKIP]]\n"); return 2; }
    for (const char *s = argc > 4 ? argv[4] : ""; *s && nskip < 64; ) {
        skip[nskip++] = parse(s);
        while (*s && *s != ',') s++;
        if (*s == ',') s++;
    }
    s64 seed = parse(argv[1]), count = parse(argv[2]);
    const char *mode = argc > 3 ? argv[3] : "";
    int verbose = has(mode, 'v'), safe_only = has(mode, 's');
    rng = (u64)seed * 0x9E3779B97F4A7C15UL ^ 0x5DEECE66DUL;
    if (!rng) rng = 1;
    setup();
    if (has(mode, 'r')) { regressions(); return 0; }
    char line[256];
    for (s64 k = 0; k < count; k++) {
        s64 nr = pick_nr(safe_only);
        u64 a[6];
        for (int j = 0; j < 6; j++) a[j] = any_arg();
        nr = fixup(nr, a);
        if (safe_only) fixup_safe(nr, a);
        if (skipped(nr)) continue;
        u64 pos = 0;
        if (verbose) {
            line[pos++] = '>';
            append_num(line, &pos, nr);
            for (int j = 0; j < 6; j++) { line[pos++] = ' '; append_hex(line, &pos, a[j]); }
            line[pos++] = '\n';
            log_line(line, pos);
            pos = 0;
        }
        s64 r = syscall6(nr, (s64)a[0], (s64)a[1], (s64)a[2], (s64)a[3], (s64)a[4], (s64)a[5]);
        line[pos++] = '@';
        append_num(line, &pos, nr);
        line[pos++] = ' ';
        append_num(line, &pos, r);
        line[pos++] = '\n';
        log_line(line, pos);
    }
    u64 pos = 0;
    append_str(line, &pos, "@end ");
    append_num(line, &pos, count);
    line[pos++] = '\n';
    log_line(line, pos);
    return 0;
}

NOLIBC_START;
