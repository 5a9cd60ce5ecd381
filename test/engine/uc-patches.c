/*
 * The behaviours faultline's Unicorn patches (third_party/unicorn/patches)
 * must keep or fix, checked directly against libunicorn's C API, one case a
 * line: "NAME ok", "NAME FAIL: got ..., want ...", or "NAME skip: why".
 * test/engine-patches.test.ts compiles this against each engine's own headers
 * (faultline's build, the official wheel, Debian's 2.0.1) and runs it there.
 *
 * The expectations are the API's documented contract and the x86 architecture:
 * uc_emu_stop "stops at the current instruction", a count runs exactly that
 * many instructions, a failed access stops with its error at the faulting
 * instruction, a stop from another thread (the timeout) never makes an
 * instruction run twice, code modified through any mapping of its page runs modified,
 * a restored snapshot has the memory it had when taken, and an exception a
 * hook handled is not "in flight" when the next one arrives (no #DF).
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unicorn/unicorn.h>

#define CODE 0x1000ULL   /* flat cases: code page */
#define DATA 0x8000ULL   /* flat cases: data page */
#define MMIO 0x9000ULL
#define RO 0xA000ULL

static int failures;

static void fail(const char *name, const char *fmt, unsigned long long got, unsigned long long want)
{
    printf("%s FAIL: ", name);
    printf(fmt, got, want);
    printf("\n");
    failures++;
}

static uint64_t reg(uc_engine *uc, int id)
{
    uint64_t v = 0;
    uc_reg_read(uc, id, &v);
    return v;
}

static void set(uc_engine *uc, int id, uint64_t v) { uc_reg_write(uc, id, &v); }

/* A flat (no paging) engine: code page, data page, both RAM. */
static uc_engine *flat(const uint8_t *code, size_t len)
{
    uc_engine *uc;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK) { printf("open FAIL\n"); exit(1); }
    uc_mem_map(uc, CODE, 0x1000, UC_PROT_ALL);
    uc_mem_map(uc, DATA, 0x1000, UC_PROT_READ | UC_PROT_WRITE);
    uc_mem_write(uc, CODE, code, len);
    return uc;
}

/* mov [abs32], rax */
#define ST(a) 0x48, 0x89, 0x04, 0x25, (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff
#define INC_RCX 0x48, 0xff, 0xc1

static bool stop_cb(uc_engine *uc, uc_mem_type t, uint64_t a, int s, int64_t v, void *u)
{
    (void)t; (void)a; (void)s; (void)v; (void)u;
    uc_emu_stop(uc);
    return true;
}

/* Three stores with an increment after each; a write hook on the second stops. */
static const uint8_t three_stores[] = {ST(0x8000), INC_RCX, ST(0x8008), INC_RCX, ST(0x8010), INC_RCX};

static void check_stop(const char *name, uc_engine *uc, uc_err err)
{
    uint64_t rcx = reg(uc, UC_X86_REG_RCX), rip = reg(uc, UC_X86_REG_RIP);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (rcx != 1) fail(name, "rcx %llu, want %llu (stopped at the second store)", rcx, 1);
    else if (rip != CODE + 11) fail(name, "rip 0x%llx, want 0x%llx", rip, CODE + 11);
    else printf("%s ok\n", name);
}

static void case_mem_hook_stop(void)
{
    uc_engine *uc = flat(three_stores, sizeof three_stores);
    uc_hook h;
    uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, (void *)stop_cb, NULL, DATA + 8, DATA + 8);
    check_stop("stop-from-mem-hook", uc, uc_emu_start(uc, CODE, CODE + sizeof three_stores, 0, 0));
    uc_close(uc);
}

/* The same, with the code translated before the hook exists. */
static void case_mem_hook_stop_late(void)
{
    uc_engine *uc = flat(three_stores, sizeof three_stores);
    uc_hook h;
    uc_emu_start(uc, CODE, CODE + sizeof three_stores, 0, 0);
    set(uc, UC_X86_REG_RCX, 0);
    uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, (void *)stop_cb, NULL, DATA + 8, DATA + 8);
    check_stop("stop-from-mem-hook-added-late", uc, uc_emu_start(uc, CODE, CODE + sizeof three_stores, 0, 0));
    uc_close(uc);
}

static void mmio_write_stop(uc_engine *uc, uint64_t off, unsigned size, uint64_t v, void *u)
{
    (void)off; (void)size; (void)v; (void)u;
    uc_emu_stop(uc);
}

static void case_mmio_stop(void)
{
    static const uint8_t code[] = {ST(0x9000), INC_RCX, ST(0x9008), INC_RCX};
    uc_engine *uc = flat(code, sizeof code);
    uc_mmio_map(uc, MMIO, 0x1000, NULL, NULL, mmio_write_stop, NULL);
    uc_err err = uc_emu_start(uc, CODE, CODE + sizeof code, 0, 0);
    uint64_t rcx = reg(uc, UC_X86_REG_RCX);
    if (err != UC_ERR_OK) fail("stop-from-mmio-callback", "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (rcx != 0) fail("stop-from-mmio-callback", "rcx %llu, want %llu", rcx, 0);
    else printf("stop-from-mmio-callback ok\n");
    uc_close(uc);
}

/* A store that fails leaves the block at once: the increment after it never runs. */
static void case_failed_store(const char *name, uint64_t target, uc_err want)
{
    const uint8_t code[] = {ST(target), INC_RCX, INC_RCX};
    uc_engine *uc = flat(code, sizeof code);
    uc_mem_map(uc, RO, 0x1000, UC_PROT_READ);
    uc_err err = uc_emu_start(uc, CODE, CODE + sizeof code, 0, 0);
    uint64_t rcx = reg(uc, UC_X86_REG_RCX), rip = reg(uc, UC_X86_REG_RIP);
    if (err != want) fail(name, "uc_emu_start %llu, want %llu", err, want);
    else if (rcx != 0) fail(name, "rcx %llu, want %llu (nothing after the store runs)", rcx, 0);
    else if (rip != CODE) fail(name, "rip 0x%llx, want 0x%llx (the store)", rip, CODE);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/* uc_emu_start with a count runs exactly that many instructions. */
static void case_count(const char *name, const uint8_t *unit, size_t unit_len, size_t units, size_t count,
                       uint64_t want_rcx, uint64_t want_rip)
{
    uint8_t code[4096];
    for (size_t i = 0; i < units; i++) memcpy(code + i * unit_len, unit, unit_len);
    uc_engine *uc = flat(code, units * unit_len);
    uc_err err = uc_emu_start(uc, CODE, CODE + units * unit_len, 0, count);
    uint64_t rcx = reg(uc, UC_X86_REG_RCX), rip = reg(uc, UC_X86_REG_RIP);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (rcx != want_rcx) fail(name, "rcx %llu, want %llu", rcx, want_rcx);
    else if (rip != want_rip) fail(name, "rip 0x%llx, want 0x%llx", rip, want_rip);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/* An endless loop ends at the timeout. */
static void case_timeout(const char *name, const uint8_t *code, size_t len)
{
    uc_engine *uc = flat(code, len);
    uc_err err = uc_emu_start(uc, CODE, 0xdead0000, 100 * 1000, 0);
    size_t timed_out = 0;
    uc_query(uc, UC_QUERY_TIMEOUT, &timed_out);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (timed_out != 1) fail(name, "UC_QUERY_TIMEOUT %llu, want %llu", timed_out, 1);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/*
 * The timeout thread sleeps until its deadline (patch 0006): an endless loop
 * run with a 200 ms timeout costs the process a handful of voluntary context
 * switches, not one per 2 us poll of stock's timeout thread (thousands: each
 * usleep(2) sleeps and wakes once, ~60 us with Linux's timer slack).
 */
static void case_timeout_sleeps(const char *name, const uint8_t *code, size_t len)
{
    uc_engine *uc = flat(code, len);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    uc_err err = uc_emu_start(uc, CODE, 0xdead0000, 200 * 1000, 0);
    getrusage(RUSAGE_SELF, &after);
    size_t timed_out = 0;
    uc_query(uc, UC_QUERY_TIMEOUT, &timed_out);
    unsigned long long switches = (unsigned long long)(after.ru_nvcsw - before.ru_nvcsw);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (timed_out != 1) fail(name, "UC_QUERY_TIMEOUT %llu, want %llu", timed_out, 1);
    else if (switches > 20) fail(name, "%llu voluntary context switches during a 200 ms timeout, want at most %llu", switches, 20);
    else printf("%s ok\n", name);
    uc_close(uc);
}

static volatile int stop_done;

/*
 * Stops the engine after 50 ms, and again every millisecond until the run
 * has ended: uc_emu_start clears a pending stop when it starts, so a single
 * stop that lands before the run is under way (a loaded machine can delay
 * the caller's thread that long) would leave the loop running forever.
 */
static void *stopper(void *uc)
{
    usleep(50 * 1000);
    while (!stop_done) {
        uc_emu_stop(uc);
        usleep(1000);
    }
    return NULL;
}

/* uc_emu_stop from another thread ends an endless loop. */
static void case_thread_stop(const char *name, const uint8_t *code, size_t len)
{
    uc_engine *uc = flat(code, len);
    pthread_t t;
    stop_done = 0;
    pthread_create(&t, NULL, stopper, uc);
    uc_err err = uc_emu_start(uc, CODE, 0xdead0000, 0, 0);
    stop_done = 1;
    pthread_join(t, NULL);
    uint64_t rip = reg(uc, UC_X86_REG_RIP);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (rip < CODE || rip >= CODE + len) fail(name, "rip 0x%llx, want within the loop at 0x%llx", rip, CODE);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/*
 * A timeout that fires before the run has reached its first block (patch
 * 0009): uc_emu_start with a 1 us timeout on an endless loop, 2,000 times;
 * the timeout thread often stops the engine while uc_emu_start is still
 * setting up. Each run must end at its timeout; a watchdog thread stops a
 * run that is still going after 2 s (the stop was lost) and the case fails.
 */
static volatile int early_iter, early_done, early_lost;

static void *early_watchdog(void *uc)
{
    int seen = -1, ticks = 0;
    while (!early_done) {
        usleep(10 * 1000);
        if (early_iter != seen) { seen = early_iter; ticks = 0; continue; }
        if (++ticks == 200) { early_lost = 1; uc_emu_stop(uc); ticks = 0; }
    }
    return NULL;
}

static void case_timeout_early(const char *name, const uint8_t *code, size_t len)
{
    uc_engine *uc = flat(code, len);
    pthread_t t;
    early_iter = 0; early_done = 0; early_lost = 0;
    pthread_create(&t, NULL, early_watchdog, uc);
    uc_err err = UC_ERR_OK;
    int i;
    for (i = 0; i < 2000 && err == UC_ERR_OK && !early_lost; i++) {
        early_iter = i;
        err = uc_emu_start(uc, CODE, 0xdead0000, 1, 0);
    }
    early_done = 1;
    pthread_join(t, NULL);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (early_lost) fail(name, "run %llu of %llu did not end at its 1 us timeout (the stop was lost)", (unsigned long long)i - 1, 2000);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/*
 * Asynchronous stops and read-modify-write instructions: a loop of
 * `add qword [DATA], 1; mov eax, 1; lock xadd [DATA+8], rax; inc r8; dec rcx; jnz`
 * stopped hundreds of times from another thread (the engine's timeout thread,
 * or uc_emu_stop from a thread of ours) and resumed at RIP each time. Every
 * iteration adds 1 to both words and to R8, so both words must equal R8 at the
 * end; a stop taken after an instruction's store that puts RIP back at that
 * instruction makes it run twice (one word ahead of R8). With `access_hook`
 * an unmapped-read hook that never fires is present, so an engine emits its
 * exit check after each access (stock always does; patch 0001 only then).
 */
#define RMW_STOPS 300
static const uint8_t rmw_loop[] = {
    0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0x7f,             /* mov rcx, 0x7fffffff */
    0x48, 0x83, 0x04, 0x25, 0x00, 0x80, 0x00, 0x00, 0x01, /* loop: add qword [0x8000], 1 */
    0xb8, 0x01, 0x00, 0x00, 0x00,                         /* mov eax, 1 */
    0xf0, 0x48, 0x0f, 0xc1, 0x04, 0x25, 0x08, 0x80, 0x00, 0x00, /* lock xadd [0x8008], rax */
    0x49, 0xff, 0xc0,                                     /* inc r8 */
    0x48, 0xff, 0xc9,                                     /* dec rcx */
    0x75, 0xe0,                                           /* jnz loop */
};

static bool never_cb(uc_engine *uc, uc_mem_type t, uint64_t a, int s, int64_t v, void *u)
{
    (void)uc; (void)t; (void)a; (void)s; (void)v; (void)u;
    return false;
}

static volatile int rmw_done;

static void *rmw_stopper(void *uc)
{
    while (!rmw_done) {
        usleep(100);
        uc_emu_stop(uc);
    }
    return NULL;
}

static void case_async_rmw(const char *name, bool from_thread, bool access_hook)
{
    uc_engine *uc = flat(rmw_loop, sizeof rmw_loop);
    uint64_t end = CODE + sizeof rmw_loop;
    if (access_hook) {
        uc_hook h;
        uc_hook_add(uc, &h, UC_HOOK_MEM_READ_UNMAPPED, (void *)never_cb, NULL, 1, 0);
    }
    pthread_t t;
    rmw_done = 0;
    if (from_thread) pthread_create(&t, NULL, rmw_stopper, uc);
    uc_err err = UC_ERR_OK;
    uint64_t pc = CODE;
    int stops = 0;
    for (; stops < RMW_STOPS && err == UC_ERR_OK; stops++) {
        err = uc_emu_start(uc, pc, end, from_thread ? 0 : 100, 0);
        pc = reg(uc, UC_X86_REG_RIP);
        if (pc == end) break;
    }
    rmw_done = 1;
    if (from_thread) pthread_join(t, NULL);
    set(uc, UC_X86_REG_RCX, 1); /* the loop ends within one iteration */
    if (err == UC_ERR_OK && pc != end) err = uc_emu_start(uc, pc, end, 0, 0);
    uint64_t words[2] = {0, 0}, r8 = reg(uc, UC_X86_REG_R8);
    uc_mem_read(uc, DATA, words, sizeof words);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (stops < RMW_STOPS) fail(name, "the loop ended after %llu stops, want %llu stops first", stops, RMW_STOPS);
    else if (words[0] != r8) fail(name, "add counter %llu, want %llu (iterations)", words[0], r8);
    else if (words[1] != r8) fail(name, "xadd counter %llu, want %llu (iterations)", words[1], r8);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/* --- paging cases ---------------------------------------------------------- */
#define PML4 0x1000ULL
#define PTE_P 1ULL
#define PTE_W 2ULL
#define PTE_NX (1ULL << 63)
#define TEXT 0x400000ULL  /* code page, read-only + executable */
#define STACK 0x401000ULL /* data/stack page, RW + NX */
#define ALIAS 0x600000ULL /* second mapping of TEXT's physical page, RW + NX */

static void put64(uc_engine *uc, uint64_t a, uint64_t v) { uc_mem_write(uc, a, &v, 8); }

/* Long mode with 4-level paging over 16 MiB of flat physical memory. */
static uc_engine *paged(void)
{
    uc_engine *uc;
    uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
    uc_mem_map(uc, 0, 0x1000000, UC_PROT_ALL);
    put64(uc, PML4, 0x2000 | 7);
    put64(uc, 0x2000, 0x3000 | 7);
    put64(uc, 0x3000 + 2 * 8, 0x4000 | 7); /* VA 0x400000.. -> PT 0x4000 */
    put64(uc, 0x3000 + 3 * 8, 0x5000 | 7); /* VA 0x600000.. -> PT 0x5000 */
    put64(uc, 0x4000, TEXT | PTE_P);
    put64(uc, 0x4008, STACK | PTE_P | PTE_W | PTE_NX);
    put64(uc, 0x5000, TEXT | PTE_P | PTE_W | PTE_NX);
    uc_x86_msr efer = {0xC0000080, 0};
    uc_reg_read(uc, UC_X86_REG_MSR, &efer);
    efer.value |= 1ULL << 11; /* NXE */
    uc_reg_write(uc, UC_X86_REG_MSR, &efer);
    set(uc, UC_X86_REG_CR3, PML4);
    set(uc, UC_X86_REG_CR4, reg(uc, UC_X86_REG_CR4) | (1 << 5));                 /* PAE */
    set(uc, UC_X86_REG_CR0, reg(uc, UC_X86_REG_CR0) | 1 | (1u << 31) | (1 << 16)); /* PE PG WP */
    set(uc, UC_X86_REG_RSP, STACK + 0x1000);
    return uc;
}

/*
 * Self-modifying code through an alias: f (mov eax, imm; ret) is rewritten
 * through a second, non-executable mapping of its page, once before it was
 * ever translated (the alias' TLB entry then predates the code) and once
 * after. Each call must return the immediate last written.
 */
static void case_smc_alias(void)
{
    uint8_t code[0x200] = {0};
    const uint8_t main_[] = {
        0xc6, 0x04, 0x25, 0x01, 0x01, 0x60, 0x00, 0x07, /* mov byte [ALIAS+0x101], 7 */
        0xe8, 0xf3, 0x00, 0x00, 0x00,                   /* call f (0x400100) */
        0x49, 0x89, 0xc0,                               /* mov r8, rax */
        0xc6, 0x04, 0x25, 0x01, 0x01, 0x60, 0x00, 0x09, /* mov byte [ALIAS+0x101], 9 */
        0xe8, 0xe3, 0x00, 0x00, 0x00,                   /* call f */
        0x49, 0x89, 0xc1,                               /* mov r9, rax */
    };
    const uint8_t f[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3}; /* mov eax, 1; ret */
    memcpy(code, main_, sizeof main_);
    memcpy(code + 0x100, f, sizeof f);
    uc_engine *uc = paged();
    uc_mem_write(uc, TEXT, code, sizeof code);
    uc_err err = uc_emu_start(uc, TEXT, TEXT + sizeof main_, 0, 0);
    uint64_t r8 = reg(uc, UC_X86_REG_R8), r9 = reg(uc, UC_X86_REG_R9);
    if (err != UC_ERR_OK) fail("smc-through-alias", "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (r8 != 7) fail("smc-through-alias", "first call returned %llu, want %llu", r8, 7);
    else if (r9 != 9) fail("smc-through-alias", "second call returned %llu, want %llu", r9, 9);
    else {
        /* A second pass: f is translated (imm 9), and is rewritten to 7 and 9 again. */
        set(uc, UC_X86_REG_RSP, STACK + 0x1000);
        err = uc_emu_start(uc, TEXT, TEXT + sizeof main_, 0, 0);
        r8 = reg(uc, UC_X86_REG_R8), r9 = reg(uc, UC_X86_REG_R9);
        if (err != UC_ERR_OK || r8 != 7 || r9 != 9) fail("smc-through-alias", "second pass returned %llu, want %llu", r8 * 100 + r9, 709);
        else printf("smc-through-alias ok\n");
    }
    uc_close(uc);
}

/* Exception state: three page faults in a row, each handled by the hook. */
static uint32_t pf_seen[8];
static int pf_count;

static void pf_hook(uc_engine *uc, uint32_t intno, void *u)
{
    (void)u;
    if (pf_count < 8) pf_seen[pf_count] = intno;
    pf_count++;
    if (intno != 14 || pf_count > 3) { uc_emu_stop(uc); return; }
    uint64_t cr2 = reg(uc, UC_X86_REG_CR2);
    put64(uc, 0x4000 + ((cr2 - TEXT) >> 12) * 8, (cr2 & ~0xfffULL) | PTE_P | PTE_W | PTE_NX);
}

static void case_fault_sequence(void)
{
    const uint8_t code[] = {ST(0x402000), ST(0x403000), ST(0x404000)};
    uc_engine *uc = paged();
    uc_mem_write(uc, TEXT, code, sizeof code);
    uc_hook h;
    pf_count = 0;
    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)pf_hook, NULL, 1, 0);
    uc_err err = uc_emu_start(uc, TEXT, TEXT + sizeof code, 0, 0);
    unsigned long long seen = 0;
    for (int i = 0; i < pf_count && i < 4; i++) seen = seen * 100 + pf_seen[i];
    if (err != UC_ERR_OK) fail("fault-after-handled-fault", "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (pf_count != 3 || seen != 141414) fail("fault-after-handled-fault", "vectors %llu, want %llu (three #PF, no #DF)", seen, 141414);
    else printf("fault-after-handled-fault ok\n");
    uc_close(uc);
}

/* Snapshot copy-on-write, with the data page's TLB entry made before the snapshot. */
static void case_snapshot(void)
{
#ifdef uc_ctl_context_mode
    const uint8_t a[] = {0x48, 0xc7, 0xc0, 0x11, 0, 0, 0, ST(0x8000)}; /* mov rax, 0x11; store */
    const uint8_t b[] = {0x48, 0xc7, 0xc0, 0x22, 0, 0, 0, ST(0x8000)}; /* mov rax, 0x22; store */
    uc_engine *uc = flat(a, sizeof a);
    uc_mem_write(uc, CODE + 0x100, b, sizeof b);
    uc_ctl_context_mode(uc, UC_CTL_CONTEXT_CPU | UC_CTL_CONTEXT_MEMORY);
    uc_emu_start(uc, CODE, CODE + sizeof a, 0, 0);
    uc_context *ctx;
    uc_context_alloc(uc, &ctx);
    uc_context_save(uc, ctx);
    uc_emu_start(uc, CODE + 0x100, CODE + 0x100 + sizeof b, 0, 0);
    uint64_t after = 0, restored = 0;
    uc_mem_read(uc, DATA, &after, 8);
    uc_context_restore(uc, ctx);
    uc_mem_read(uc, DATA, &restored, 8);
    if (after != 0x22) fail("snapshot-copy-on-write", "memory after the write 0x%llx, want 0x%llx", after, 0x22);
    else if (restored != 0x11) fail("snapshot-copy-on-write", "memory after restore 0x%llx, want 0x%llx", restored, 0x11);
    else printf("snapshot-copy-on-write ok\n");
    uc_context_free(ctx);
    uc_close(uc);
#else
    printf("snapshot-copy-on-write skip: no memory snapshots in this version\n");
#endif
}

/*
 * The CPU state through the API (patch 0004): uc_ctl's UC_CTL_CPU_STATE
 * answers a pointer and byte offsets; each offset is checked against values
 * the engine puts there itself (uc_reg_write, and a real #PF: CR2, its
 * error code and the exception in flight), never against offsetof.
 * Stock headers lack the control: its number and layout are spelled here.
 */
#ifndef UC_CPU_STATE_LAYOUT_VERSION
#define UC_CTL_CPU_STATE 15
typedef struct uc_cpu_state_layout {
    uint32_t version, size, gpr, pc, flags, fault_addr, error_code, old_exception;
} uc_cpu_state_layout;
#endif
static uint8_t *cs_state;
static uc_cpu_state_layout cs_layout;
static uint64_t cs_cr2, cs_err, cs_old;

static void cs_pf_hook(uc_engine *uc, uint32_t intno, void *u)
{
    (void)u;
    if (intno != 14) { uc_emu_stop(uc); return; }
    memcpy(&cs_cr2, cs_state + cs_layout.fault_addr, 8);
    uint32_t e; int32_t o;
    memcpy(&e, cs_state + cs_layout.error_code, 4);
    memcpy(&o, cs_state + cs_layout.old_exception, 4);
    cs_err = e, cs_old = (uint64_t)(int64_t)o;
    put64(uc, 0x4000 + ((reg(uc, UC_X86_REG_CR2) - TEXT) >> 12) * 8, (reg(uc, UC_X86_REG_CR2) & ~0xfffULL) | PTE_P | PTE_W | PTE_NX);
}

static void case_cpu_state(void)
{
    static const int gpr[16] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
                                UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
                                UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
    const char *name = "cpu-state-control";
    const uint8_t code[] = {ST(0x402000)};
    uc_engine *uc = paged();
    uc_mem_write(uc, TEXT, code, sizeof code);
    void *state = NULL;
    uc_err err = uc_ctl(uc, UC_CTL_READ(UC_CTL_CPU_STATE, 2), &state, &cs_layout);
    if (err != UC_ERR_OK || state == NULL) { fail(name, "uc_ctl(UC_CTL_CPU_STATE) %llu, want %llu", err, UC_ERR_OK); uc_close(uc); return; }
    cs_state = state;
    if (cs_layout.version != 1) { fail(name, "layout version %llu, want %llu", cs_layout.version, 1); uc_close(uc); return; }
    for (int i = 0; i < 16; i++) {
        uint64_t want = 0x5a00000000000000ULL | (uint64_t)(i + 1) << 8 | 0x11, got;
        set(uc, gpr[i], want);
        memcpy(&got, cs_state + cs_layout.gpr + 8 * i, 8);
        if (got != want) { fail(name, "general register %llu in the state: got a different value, 0x%llx", i, got); uc_close(uc); return; }
    }
    uint64_t got;
    set(uc, UC_X86_REG_RIP, 0x7777000);
    memcpy(&got, cs_state + cs_layout.pc, 8);
    if (got != 0x7777000) { fail(name, "RIP in the state 0x%llx, want 0x%llx", got, 0x7777000); uc_close(uc); return; }
    set(uc, UC_X86_REG_EFLAGS, 0x202);
    memcpy(&got, cs_state + cs_layout.flags, 8);
    if (got != 0x202) { fail(name, "EFLAGS in the state 0x%llx, want 0x%llx", got, 0x202); uc_close(uc); return; }
    set(uc, UC_X86_REG_RSP, STACK + 0x1000);
    uc_hook h;
    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)cs_pf_hook, NULL, 1, 0);
    cs_cr2 = cs_err = 0, cs_old = 99;
    err = uc_emu_start(uc, TEXT, TEXT + sizeof code, 0, 0);
    /* A supervisor write to a not-present page: error code W (2); the #PF is in flight during its hook. */
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (cs_cr2 != 0x402000) fail(name, "CR2 in the state during the #PF 0x%llx, want 0x%llx", cs_cr2, 0x402000);
    else if (cs_err != 2) fail(name, "error code in the state %llu, want %llu", cs_err, 2);
    else if (cs_old != 14) fail(name, "previous exception in the state %llu, want %llu", cs_old, 14);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/*
 * Return probes' entries taken inside the engine (patch 0011). Functions
 * at TEXT+0x40 and +0x60 begin with an int3 over `push rbp` and over
 * `endbr64`; the table names them, and TEXT+0x80 is the trampoline. Whether
 * the engine took an entry is seen from the guest side (the return address
 * on the stack, RSP, RIP), from the table (instances, hit counts) and from
 * which int3s reach the hook; the architecture says what push and ret do.
 * Stock headers lack the control: its number and layout are spelled here.
 */
#ifndef UC_X86_URET_VERSION
#define UC_CTL_X86_URETPROBE 16
#define UC_X86_URET_VERSION 1
#define UC_X86_URET_ENTRIES 16
#define UC_X86_URET_DEPTH 64
#define UC_X86_URET_SKIP 1
#define UC_X86_URET_PUSH 2
typedef struct uc_x86_uret_entry {
    uint64_t addr, hits;
    uint32_t epoch[2], probe;
    uint8_t kind, len, reg, pad;
} uc_x86_uret_entry;
typedef struct uc_x86_uretprobe_table {
    uint32_t version, nentries;
    const volatile uint32_t *epoch[2];
    uint64_t trampoline;
    uint32_t depth, skipped;
    uc_x86_uret_entry entries[UC_X86_URET_ENTRIES];
    uint64_t ret[UC_X86_URET_DEPTH], sp[UC_X86_URET_DEPTH];
    uint32_t probe[UC_X86_URET_DEPTH];
} uc_x86_uretprobe_table;
#endif
#define URET_F (TEXT + 0x40)
#define URET_G (TEXT + 0x60)
#define URET_TRAMPOLINE (TEXT + 0x80)
static uint32_t uret_epoch[2];
static uc_x86_uretprobe_table uret;
/* What the hook saw: int3s at the trampoline (popped), others (stopped), and the last other one's state. */
static int uret_popped, uret_other;
static uint64_t uret_rets[8], uret_probes[8], uret_sps_ok, other_rip, other_rsp, other_top;

static void uret_hook(uc_engine *uc, uint32_t intno, void *u)
{
    (void)u;
    uint64_t rip = reg(uc, UC_X86_REG_RIP), rsp = reg(uc, UC_X86_REG_RSP);
    if (intno == 3 && rip - 1 == URET_TRAMPOLINE && uret.depth > 0) {
        uint32_t i = --uret.depth; /* as faultline's trampoline handler: pop, resume at the real return address */
        if (uret.sp[i] == rsp - 8) uret_sps_ok++;
        if (uret_popped < 8) uret_rets[uret_popped] = uret.ret[i], uret_probes[uret_popped] = uret.probe[i];
        uret_popped++;
        set(uc, UC_X86_REG_RIP, uret.ret[i]);
        return;
    }
    uret_other++;
    other_rip = rip, other_rsp = rsp;
    uc_mem_read(uc, rsp, &other_top, 8);
    uc_emu_stop(uc);
}

/* A paged engine running `code` at TEXT with f and g placed and the table set; NULL (and a FAIL line) when the control is refused. */
static uc_engine *uret_engine(const char *name, const uint8_t *code, size_t len, const uint8_t *f, size_t flen)
{
    static const uint8_t g[] = {0xcc, 0x0f, 0x1e, 0xfa, 0xc3}; /* int3 over endbr64; ret */
    uint8_t text[0x100];
    memset(text, 0x90, sizeof text);
    memcpy(text, code, len);
    memcpy(text + 0x40, f, flen);
    memcpy(text + 0x60, g, sizeof g);
    text[0x80] = 0xcc;
    uc_engine *uc = paged();
    uc_mem_write(uc, TEXT, text, sizeof text);
    memset(&uret, 0, sizeof uret);
    uret_epoch[0] = uret_epoch[1] = 0;
    uret_popped = uret_other = 0, uret_sps_ok = 0;
    uret.version = UC_X86_URET_VERSION;
    uret.epoch[0] = &uret_epoch[0], uret.epoch[1] = &uret_epoch[1];
    uret.trampoline = URET_TRAMPOLINE;
    uret.nentries = 2;
    uret.entries[0] = (uc_x86_uret_entry){.addr = URET_F, .probe = 7, .kind = UC_X86_URET_PUSH, .len = 1, .reg = 5 /* rbp */};
    uret.entries[1] = (uc_x86_uret_entry){.addr = URET_G, .probe = 9, .kind = UC_X86_URET_SKIP, .len = 4};
    uc_err err = uc_ctl(uc, UC_CTL_WRITE(UC_CTL_X86_URETPROBE, 1), &uret);
    if (err != UC_ERR_OK) {
        fail(name, "uc_ctl(UC_CTL_X86_URETPROBE) %llu, want %llu", err, UC_ERR_OK);
        uc_close(uc);
        return NULL;
    }
    uc_hook h;
    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)uret_hook, NULL, 1, 0);
    return uc;
}

/* f: int3 over push rbp; mov rbp, 0x44; pop rbp; ret (its caller's rbp must come back). */
static const uint8_t uret_f[] = {0xcc, 0x48, 0xc7, 0xc5, 0x44, 0x00, 0x00, 0x00, 0x5d, 0xc3};

static void case_uret_entry(void)
{
    const char *name = "uretprobe-entry";
    /* mov rbp, 0x33; call f; call g; (end) */
    static const uint8_t code[] = {0x48, 0xc7, 0xc5, 0x33, 0, 0, 0, 0xe8, 0x34, 0, 0, 0, 0xe8, 0x4f, 0, 0, 0};
    uc_engine *uc = uret_engine(name, code, sizeof code, uret_f, sizeof uret_f);
    if (!uc) return;
    uc_err err = uc_emu_start(uc, TEXT, TEXT + sizeof code, 0, 0);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (uret_other) fail(name, "int3s at an entry or elsewhere that reached the hook: %llu (the last at 0x%llx), want 0", uret_other, other_rip - 1);
    else if (uret_popped != 2) fail(name, "returns through the trampoline %llu, want %llu", uret_popped, 2);
    else if (uret_rets[0] != TEXT + 12 || uret_rets[1] != TEXT + 17) fail(name, "first instance's return address 0x%llx, want 0x%llx (or the second's wrong)", uret_rets[0], TEXT + 12);
    else if (uret_sps_ok != 2) fail(name, "instances whose sp was where the return address lay %llu, want %llu", uret_sps_ok, 2);
    else if (uret.entries[0].hits != 1 || uret.entries[1].hits != 1) fail(name, "hits of f %llu, want %llu (or g's wrong)", uret.entries[0].hits, 1);
    else if (reg(uc, UC_X86_REG_RBP) != 0x33) fail(name, "rbp after f 0x%llx, want 0x%llx (the emulated push lost it)", reg(uc, UC_X86_REG_RBP), 0x33);
    else if (reg(uc, UC_X86_REG_RSP) != STACK + 0x1000) fail(name, "rsp at the end 0x%llx, want 0x%llx", reg(uc, UC_X86_REG_RSP), STACK + 0x1000);
    else if (uret_probes[0] != 7 || uret_probes[1] != 9) fail(name, "f's instance's probe number %llu, want %llu (or g's wrong)", uret_probes[0], 7);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/* Each way the entry must not be taken: the hook sees the int3 at f with the guest as the call left it. */
static void uret_fallback(const char *name, const char *why, const uint8_t *code, size_t len, uint64_t ret, int unlisted, int stale)
{
    uc_engine *uc = uret_engine(name, code, len, uret_f, sizeof uret_f);
    if (!uc) return;
    if (unlisted) uret.entries[0].addr = TEXT + 0x50;
    if (stale) uret_epoch[1] = 1;
    uc_err err = uc_emu_start(uc, TEXT, TEXT + len, 0, 0);
    char fmt[256];
#define FAILW(f, got, want) (snprintf(fmt, sizeof fmt, "%s: %s", why, f), fail(name, fmt, got, want))
    if (err != UC_ERR_OK) FAILW("uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (uret_other != 1) FAILW("int3s that reached the hook %llu, want %llu", uret_other, 1);
    else if (other_rip != URET_F + 1) FAILW("RIP at the hook 0x%llx, want 0x%llx (just past f's int3)", other_rip, URET_F + 1);
    else if (other_top != ret) FAILW("[rsp] at the hook 0x%llx, want 0x%llx (the return address, untouched)", other_top, ret);
    else if (uret.depth != 0 || uret.skipped != 0) FAILW("instances %llu, want %llu (nothing recorded)", uret.depth, 0);
    else if (uret.entries[0].hits != 0) FAILW("hits %llu, want %llu", uret.entries[0].hits, 0);
#undef FAILW
    uc_close(uc);
}

static void case_uret_falls_back(void)
{
    const char *name = "uretprobe-falls-back";
    int before = failures;
    static const uint8_t call_f[] = {0xe8, 0x3b, 0, 0, 0}; /* call f (next TEXT+5) */
    uret_fallback(name, "the epoch changed", call_f, sizeof call_f, TEXT + 5, 0, 1);
    if (failures == before) uret_fallback(name, "f is not in the table", call_f, sizeof call_f, TEXT + 5, 1, 0);
    /* lea rbx, [rip+0x0e] (the end); push rbx; mov rax, cr3; mov cr3, rax (a TLB flush); jmp f */
    static const uint8_t flushed[] = {0x48, 0x8d, 0x1d, 0x0e, 0, 0, 0, 0x53, 0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8, 0xe9, 0x2d, 0, 0, 0};
    if (failures == before) uret_fallback(name, "the stack slot is not in the TLB", flushed, sizeof flushed, TEXT + 0x15, 0, 0);
    /* sub rsp, 4; call f: the return address lies at an unaligned slot */
    static const uint8_t unaligned[] = {0x48, 0x83, 0xec, 0x04, 0xe8, 0x37, 0, 0, 0};
    if (failures == before) uret_fallback(name, "the slot is unaligned", unaligned, sizeof unaligned, TEXT + 9, 0, 0);
    if (failures == before) printf("%s ok\n", name);
}

/* 70 nested calls: the outer 64 return through the trampoline, the inner 6 unprobed (counted in skipped). */
static void case_uret_depth(void)
{
    const char *name = "uretprobe-depth";
    static const uint8_t code[] = {0xbf, 70, 0, 0, 0, 0xe8, 0x36, 0, 0, 0}; /* mov edi, 70; call r */
    /* r: int3 over push rbp; dec edi; jz 1f; call r; 1: pop rbp; ret */
    static const uint8_t r[] = {0xcc, 0xff, 0xcf, 0x74, 0x05, 0xe8, 0xf6, 0xff, 0xff, 0xff, 0x5d, 0xc3};
    uc_engine *uc = uret_engine(name, code, sizeof code, r, sizeof r);
    if (!uc) return;
    set(uc, UC_X86_REG_RBP, 0x55);
    uc_err err = uc_emu_start(uc, TEXT, TEXT + sizeof code, 0, 0);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (uret_other) fail(name, "int3s outside the trampoline that reached the hook %llu, want %llu", uret_other, 0);
    else if (uret.entries[0].hits != 70) fail(name, "hits %llu, want %llu", uret.entries[0].hits, 70);
    else if (uret.skipped != 6) fail(name, "calls that returned unprobed %llu, want %llu", uret.skipped, 6);
    else if (uret_popped != 64 || uret_sps_ok != 64) fail(name, "returns through the trampoline %llu, want %llu (each at its frame)", uret_popped, 64);
    else if (uret_rets[0] != TEXT + 0x4a) fail(name, "innermost probed return to 0x%llx, want 0x%llx", uret_rets[0], TEXT + 0x4a);
    else if (reg(uc, UC_X86_REG_RSP) != STACK + 0x1000 || reg(uc, UC_X86_REG_RBP) != 0x55) fail(name, "rsp at the end 0x%llx, want 0x%llx (and rbp kept)", reg(uc, UC_X86_REG_RSP), STACK + 0x1000);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/* A function left by a jump to its caller's frame (a longjmp), called 3 times from one site: one instance stays, not 3. */
static void case_uret_longjmp(void)
{
    const char *name = "uretprobe-longjmp";
    /* mov ecx, 3; 1: call f; dec ecx; jnz 1b */
    static const uint8_t code[] = {0xb9, 3, 0, 0, 0, 0xe8, 0x36, 0, 0, 0, 0xff, 0xc9, 0x75, 0xf7};
    /* f: int3 over push rbp; pop rbp; add rsp, 8; jmp TEXT+0x0a */
    static const uint8_t f[] = {0xcc, 0x5d, 0x48, 0x83, 0xc4, 0x08, 0xe9, 0xbf, 0xff, 0xff, 0xff};
    uc_engine *uc = uret_engine(name, code, sizeof code, f, sizeof f);
    if (!uc) return;
    uc_err err = uc_emu_start(uc, TEXT, TEXT + sizeof code, 0, 0);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (uret_other || uret_popped) fail(name, "int3s that reached the hook %llu, want %llu", uret_other + uret_popped, 0);
    else if (uret.entries[0].hits != 3) fail(name, "hits %llu, want %llu", uret.entries[0].hits, 3);
    else if (uret.depth != 1) fail(name, "instances outstanding %llu, want %llu (the stale ones dropped at each entry)", uret.depth, 1);
    else if (uret.sp[0] != STACK + 0x1000 - 8 || uret.ret[0] != TEXT + 0x0a) fail(name, "the instance's sp 0x%llx, want 0x%llx (or its return address wrong)", uret.sp[0], STACK + 0x1000 - 8);
    else printf("%s ok\n", name);
    uc_close(uc);
}

/*
 * The soft TLB keeps a working set larger than its initial size (patch 0010).
 * 1,024 data pages (VA 0x800000.., physical A: the word 1) are swept four
 * times; the guest then points their PTEs at other pages (physical B: the
 * word 2) without invalidating anything and sums one word per page. x86 TLBs
 * are not coherent with the page tables, so each page that still reads 1 was
 * served from a translation kept in the TLB: a TLB that stayed at its initial
 * 256 entries keeps at most 264 (with the 8 victim entries), one grown to
 * hold the working set nearly all. After a CR3 write (a full flush) every page
 * must read 2 on any engine: a grown TLB flushes as a small one does.
 */
#define TLB_PAGES 1024
#define TLB_A 0x800000ULL
#define TLB_B 0xC00000ULL
/* Adds the first word of each of the 1,024 pages at 0x800000 to r8 (modrm 0x06) or r10 (0x16). */
#define TLB_SUM(modrm)                                                       \
    0xbe, 0x00, 0x00, 0x80, 0x00,             /* mov esi, 0x800000 */       \
    0xb9, 0x00, 0x04, 0x00, 0x00,             /* mov ecx, 1024 */           \
    0x4c, 0x03, (modrm),                      /* 1: add r8/r10, [rsi] */    \
    0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, /* add rsi, 0x1000 */         \
    0xff, 0xc9, 0x75, 0xf2                    /* dec ecx; jnz 1b */
static void case_tlb_working_set(void)
{
    const char *name = "tlb-keeps-working-set";
    static const uint8_t code[] = {
        0x41, 0xb9, 0x04, 0x00, 0x00, 0x00,             /* mov r9d, 4 */
        0xbe, 0x00, 0x00, 0x80, 0x00,                   /* warm: mov esi, 0x800000 */
        0xb9, 0x00, 0x04, 0x00, 0x00,                   /* mov ecx, 1024 */
        0x48, 0x8b, 0x06,                               /* 1: mov rax, [rsi] */
        0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00,       /* add rsi, 0x1000 */
        0xff, 0xc9, 0x75, 0xf2,                         /* dec ecx; jnz 1b */
        0x41, 0xff, 0xc9, 0x75, 0xe3,                   /* dec r9d; jnz warm */
        0xbf, 0x00, 0x60, 0x00, 0x00,                   /* mov edi, 0x6000 (the data PTEs) */
        0xb8, 0x03, 0x00, 0xc0, 0x00,                   /* mov eax, TLB_B | P | W */
        0xb9, 0x00, 0x04, 0x00, 0x00,                   /* mov ecx, 1024 */
        0x48, 0x89, 0x07,                               /* 2: mov [rdi], rax */
        0x48, 0x83, 0xc7, 0x08,                         /* add rdi, 8 */
        0x48, 0x05, 0x00, 0x10, 0x00, 0x00,             /* add rax, 0x1000 */
        0xff, 0xc9, 0x75, 0xef,                         /* dec ecx; jnz 2b */
        0x45, 0x31, 0xc0,                               /* xor r8d, r8d */
        TLB_SUM(0x06),                                  /* r8 += one word of each page */
        0x0f, 0x20, 0xd8, 0x0f, 0x22, 0xd8,             /* mov rax, cr3; mov cr3, rax */
        0x45, 0x31, 0xd2,                               /* xor r10d, r10d */
        TLB_SUM(0x16),                                  /* r10 += one word of each page */
    };
    uc_engine *uc = paged();
    uc_mem_write(uc, TEXT, code, sizeof code);
    put64(uc, 0x3000 + 0 * 8, 0x9000 | 3);          /* VA 0..2 MiB identity (the page tables) */
    for (uint64_t i = 0; i < 512; i++) put64(uc, 0x9000 + i * 8, (i << 12) | 3);
    put64(uc, 0x3000 + 4 * 8, 0x6000 | 3);          /* VA 0x800000..: PTs at 0x6000, 0x7000 */
    put64(uc, 0x3000 + 5 * 8, 0x7000 | 3);
    for (uint64_t i = 0; i < TLB_PAGES; i++) {
        put64(uc, 0x6000 + i * 8, (TLB_A + (i << 12)) | 3);
        put64(uc, TLB_A + (i << 12), 1);
        put64(uc, TLB_B + (i << 12), 2);
    }
    uc_err err = uc_emu_start(uc, TEXT, TEXT + sizeof code, 0, 0);
    uint64_t kept = 2 * TLB_PAGES - reg(uc, UC_X86_REG_R8), flushed = reg(uc, UC_X86_REG_R10);
    if (err != UC_ERR_OK) fail(name, "uc_emu_start %llu, want %llu", err, UC_ERR_OK);
    else if (flushed != 2 * TLB_PAGES) fail(name, "after a CR3 write the pages summed %llu, want %llu (every page remapped)", flushed, 2 * TLB_PAGES);
    else if (kept < 1000) fail(name, "translations kept after the PTEs changed: %llu of 1024, want at least %llu", kept, 1000);
    else printf("%s ok\n", name);
    uc_close(uc);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(60); /* a hang is a failure, not a stuck test run */
    const char *only = argc > 1 ? argv[1] : NULL;
#define RUN(n, call) if (!only || strcmp(only, n) == 0) call
    RUN("stop", case_mem_hook_stop());
    RUN("stop", case_mem_hook_stop_late());
    RUN("stop", case_mmio_stop());
    RUN("stop", case_failed_store("failed-store-unmapped", 0x700000, UC_ERR_WRITE_UNMAPPED));
    RUN("stop", case_failed_store("failed-store-readonly", RO, UC_ERR_WRITE_PROT));
    static const uint8_t inc[] = {INC_RCX}, st_inc[] = {ST(0x8000), INC_RCX};
    RUN("stop", case_count("count-exact-registers", inc, sizeof inc, 100, 37, 37, CODE + 37 * 3));
    RUN("stop", case_count("count-exact-stores", st_inc, sizeof st_inc, 50, 21, 10, CODE + 10 * 11 + 8));
    static const uint8_t spin[] = {0xeb, 0xfe}, spin_st[] = {ST(0x8000), 0xeb, 0xf6};
    RUN("stop", case_timeout("timeout-register-loop", spin, sizeof spin));
    RUN("stop", case_timeout("timeout-store-loop", spin_st, sizeof spin_st));
    RUN("stop", case_timeout_sleeps("timeout-thread-sleeps", spin, sizeof spin));
    RUN("stop", case_timeout_early("timeout-before-first-block", spin, sizeof spin));
    RUN("stop", case_thread_stop("stop-from-thread-register-loop", spin, sizeof spin));
    RUN("stop", case_thread_stop("stop-from-thread-store-loop", spin_st, sizeof spin_st));
    RUN("async", case_async_rmw("timeout-rmw-exact", false, false));
    RUN("async", case_async_rmw("timeout-rmw-exact-access-hook", false, true));
    RUN("async", case_async_rmw("stop-from-thread-rmw-exact-access-hook", true, true));
    RUN("smc", case_smc_alias());
    RUN("snapshot", case_snapshot());
    RUN("exception", case_fault_sequence());
    RUN("cpu-state", case_cpu_state());
    RUN("tlb", case_tlb_working_set());
    RUN("uretprobe", case_uret_entry());
    RUN("uretprobe", case_uret_falls_back());
    RUN("uretprobe", case_uret_depth());
    RUN("uretprobe", case_uret_longjmp());
    return failures ? 1 : 0;
}
