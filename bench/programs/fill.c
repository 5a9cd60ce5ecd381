/*
 * fill.c - the page-cache fill alternatives of issue 12, measured on the host
 * alone (no emulator): how much it costs per 4 KiB page to get a host file's
 * bytes into faultline's page-cache memory, a memfd, and then to touch them
 * through a shared mapping of it, as a guest access does.
 *
 *   fill FILE PAGES BATCH REPS
 *
 * FILE must be at least PAGES pages long and in the host page cache. Each
 * method fills a fresh memfd (PAGES pages, BATCH pages per call) REPS times;
 * one JSON line per method: {"method", "batch", "fillNs": [per rep, ns per
 * page], "touchNs": [...]} or {"method", "batch", "error": errno}. Methods:
 *   pread+pwrite     through a 1 MiB buffer (faultline's MemFile.fillFrom)
 *   sendfile         host file -> memfd in the kernel
 *   splice           host file -> pipe -> memfd
 *   copy_file_range  (the host refuses it across file systems: EXDEV)
 *   fallocate        allocation only: the floor of every copy into a memfd
 *   private-map      no fill: a MAP_PRIVATE mapping of the host file itself,
 *                    touched once per page (what sharing the host's page
 *                    cache would cost; touchNs only)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static const char *const METHODS[] = {"pread+pwrite", "sendfile", "splice", "copy_file_range", "fallocate", "private-map"};

/* Fills [0, len) of memfd mfd from src, batch bytes per call; 0 or an errno. */
static int fill(int m, int src, int mfd, size_t len, size_t batch, char *buf, int pipefd[2])
{
    for (size_t off = 0; off < len; off += batch) {
        ssize_t n = -1;
        if (m == 0) {
            n = pread(src, buf, batch, off);
            if (n > 0 && pwrite(mfd, buf, n, off) != n) return errno;
        } else if (m == 1) {
            off_t in = off;
            if (lseek(mfd, off, SEEK_SET) < 0) return errno;
            n = sendfile(mfd, src, &in, batch);
        } else if (m == 2) {
            loff_t in = off, out = off;
            n = splice(src, &in, pipefd[1], NULL, batch, 0);
            if (n > 0 && splice(pipefd[0], NULL, mfd, &out, n, 0) != n) return errno;
        } else if (m == 3) {
            loff_t in = off, out = off;
            n = copy_file_range(src, &in, mfd, &out, batch, 0);
        } else {
            n = fallocate(mfd, 0, off, batch) == 0 ? (ssize_t)batch : -1;
        }
        if (n != (ssize_t)batch) return n < 0 ? errno : EIO;
    }
    return 0;
}

/* Reads one byte per page of [p, p+len): ns per page. */
static double touch(const volatile unsigned char *p, size_t len, unsigned *sum)
{
    double t0 = now();
    for (size_t i = 0; i < len; i += 4096) *sum += p[i];
    return (now() - t0) / (len / 4096);
}

int main(int argc, char **argv)
{
    if (argc != 5) { fprintf(stderr, "usage: fill FILE PAGES BATCH REPS\n"); return 2; }
    int src = open(argv[1], O_RDONLY);
    size_t pages = strtoul(argv[2], NULL, 0), batch = strtoul(argv[3], NULL, 0) * 4096, len = pages * 4096;
    int reps = atoi(argv[4]);
    if (src < 0 || batch == 0 || len % batch) { fprintf(stderr, "fill: bad arguments\n"); return 2; }
    char *buf = malloc(batch);
    int pipefd[2];
    if (!buf || pipe(pipefd) || fcntl(pipefd[1], F_SETPIPE_SZ, batch < 65536 ? 65536 : batch) < 0) { perror("fill"); return 1; }
    memset(buf, 0, batch);
    unsigned sum = 0;
    for (int m = 0; m < 6; m++) {
        printf("{\"method\":\"%s\",\"batch\":%zu", METHODS[m], batch / 4096);
        char fills[4096] = "", touches[4096] = "";
        int err = 0;
        for (int r = 0; r < reps && !err; r++) {
            const volatile unsigned char *p;
            double f = 0;
            int mfd = -1;
            if (m == 5) {
                p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, src, 0);
            } else {
                mfd = memfd_create("fill", MFD_CLOEXEC);
                if (mfd < 0 || ftruncate(mfd, len)) { err = errno; break; }
                double t0 = now();
                err = fill(m, src, mfd, len, batch, buf, pipefd);
                f = (now() - t0) / pages;
                p = err ? MAP_FAILED : mmap(NULL, len, PROT_READ, MAP_SHARED, mfd, 0);
            }
            if (!err && p == MAP_FAILED) err = errno;
            if (!err) {
                double t = touch(p, len, &sum);
                munmap((void *)p, len);
                snprintf(fills + strlen(fills), sizeof fills - strlen(fills), "%s%.1f", r ? "," : "", f);
                snprintf(touches + strlen(touches), sizeof touches - strlen(touches), "%s%.1f", r ? "," : "", t);
            }
            if (mfd >= 0) close(mfd);
        }
        if (err) printf(",\"error\":\"%s\"}\n", strerrorname_np(err) ? strerrorname_np(err) : "?");
        else printf(",\"fillNs\":[%s],\"touchNs\":[%s]}\n", m == 5 ? "" : fills, touches);
    }
    return sum == 0xffffffffu; /* keeps the reads */
}
