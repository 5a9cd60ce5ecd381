/* System-call edge cases of file I/O, one case per argv[1], each printing
 * one line per call: "name = result" or "name = -1 ERRNO". Run natively
 * and under faultline: the two outputs must be identical.
 *
 *   iocalls CASE [FILE] */
#define _GNU_SOURCE
/* The bad buffers are on purpose. */
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
  case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case EINTR: return "EINTR"; case EIO: return "EIO";
  case ENXIO: return "ENXIO"; case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN"; case ENOMEM: return "ENOMEM";
  case EACCES: return "EACCES"; case EFAULT: return "EFAULT"; case EEXIST: return "EEXIST"; case EXDEV: return "EXDEV";
  case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR"; case EINVAL: return "EINVAL"; case EMFILE: return "EMFILE";
  case ENOTTY: return "ENOTTY"; case EFBIG: return "EFBIG"; case ENOSPC: return "ENOSPC"; case ESPIPE: return "ESPIPE";
  case EPIPE: return "EPIPE"; case ENOSYS: return "ENOSYS"; case EOVERFLOW: return "EOVERFLOW";
  case EOPNOTSUPP: return "EOPNOTSUPP"; case ENODEV: return "ENODEV";
  default: { static char b[32]; snprintf(b, sizeof b, "errno%d", e); return b; }
  }
}

/* Prints "what = r" or "what = -1 ENAME". */
static long say(const char *what, long r) {
  if (r < 0) printf("%s = -1 %s\n", what, ename(errno));
  else printf("%s = %ld\n", what, r);
  fflush(stdout);
  return r;
}
/* For calls that return an error number (clock_nanosleep). */
static void sayrc(const char *what, int rc) {
  if (rc) printf("%s = %s\n", what, ename(rc));
  else printf("%s = 0\n", what);
  fflush(stdout);
}

#define GIB (1UL << 30)

static char *untouched(size_t len) {
  char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(2); }
  return p;
}

/* Three pages, the middle one unmapped: a copy past the first page faults. */
static char *holed(void) {
  char *p = untouched(3 * 4096);
  memset(p, 'a', 4096);
  memset(p + 8192, 'c', 4096);
  munmap(p + 4096, 4096);
  return p;
}

static int scratch_fd(const char *file, int flags) {
  int fd = open(file, flags | O_CREAT, 0644);
  if (fd < 0) { perror(file); exit(2); }
  return fd;
}

static void bounded(const char *file) {
  int fd = scratch_fd(file, O_RDWR | O_TRUNC);
  ftruncate(fd, 1L << 32);                         /* sparse 4 GiB */
  say("read bad buffer", read(fd, (void *)9, 1 << 30));
  say("pread bad buffer", pread(fd, (void *)9, 1 << 30, 0));
  struct iovec bad = { (void *)9, 1 << 30 };
  say("readv bad buffer", readv(fd, &bad, 1));
  say("lseek after", lseek(fd, 0, SEEK_CUR));
  char *big = untouched(2 * GIB);
  int null = open("/dev/null", O_WRONLY);
  say("write 2G untouched to /dev/null", write(null, big, 2 * GIB));
  say("pwrite on a pipe 2G", pwrite(0, big, 2 * GIB, 0));
  int ro = open(file, O_RDONLY);
  say("write on O_RDONLY 2G", write(ro, big, 2 * GIB));
  say("pwrite on O_RDONLY 2G", pwrite(ro, big, 2 * GIB, 0));
  struct iovec v = { big, 2 * GIB };
  say("writev on O_RDONLY 2G", writev(ro, &v, 1));
  int wo = open(file, O_WRONLY);
  say("read on O_WRONLY 2G", read(wo, big, 2 * GIB));
  say("write bad buffer", write(fd, (void *)9, 1 << 30));
  say("sendfile to O_RDONLY", sendfile(ro, fd, 0, 2 * GIB));
  say("write to null from bad buffer", write(null, (void *)9, 1 << 30));
}

static void shortcopies(const char *file) {
  char *p = holed();
  int fd = scratch_fd(file, O_RDWR | O_TRUNC);
  say("write holed", write(fd, p, 3 * 4096));
  say("pwrite holed", pwrite(fd, p, 3 * 4096, 100));
  struct iovec v[2] = { { p, 4096 }, { p + 4096, 4096 } };
  say("writev holed", writev(fd, v, 2));
  char line[4096 * 3];
  memset(line, 'z', sizeof line);
  say("pwrite full", pwrite(fd, line, sizeof line, 0));
  say("lseek 0", lseek(fd, 0, SEEK_SET));
  say("read holed", read(fd, p, 3 * 4096));
  say("lseek cur", lseek(fd, 0, SEEK_CUR));
  say("pread holed", pread(fd, p, 3 * 4096, 0));
  say("readv holed", readv(fd, v, 2));
  say("lseek cur", lseek(fd, 0, SEEK_CUR));
  int pf[2];
  pipe(pf);
  write(pf[1], line, 3 * 4096);
  say("read pipe holed", read(pf[0], p, 3 * 4096));
  say("read pipe rest", read(pf[0], line, sizeof line));
  say("write pipe holed", write(pf[1], p, 3 * 4096));
}

static void offsets(const char *file) {
  int fd = scratch_fd(file, O_RDWR | O_TRUNC);
  const long at[] = { (1L << 44) - 8192, (1L << 44) - 4096, (1L << 44) - 4095, 1L << 44, (1L << 53) + 1, INT64_MAX, -1 };
  char name[64];
  for (unsigned k = 0; k < sizeof at / sizeof *at; k++) {
    snprintf(name, sizeof name, "lseek SET %ld", at[k]);
    say(name, lseek(fd, at[k], SEEK_SET));
  }
  lseek(fd, 0, SEEK_SET);
  say("lseek CUR 2^40", lseek(fd, 1L << 40, SEEK_CUR));
  say("lseek CUR 2^40", lseek(fd, 1L << 40, SEEK_CUR));
  say("lseek END -1", lseek(fd, -1, SEEK_END));
  for (unsigned k = 0; k < sizeof at / sizeof *at; k++) {
    snprintf(name, sizeof name, "pwrite 1 at %ld", at[k]);
    say(name, pwrite(fd, "x", 1, at[k]));
  }
  say("pwrite 2 at 2^44-4097", pwrite(fd, "xy", 2, (1L << 44) - 4097));
  say("pwrite 8192 at 2^44-8192", pwrite(fd, memset(malloc(8192), 'q', 8192), 8192, (1L << 44) - 8192));
  say("lseek END 0", lseek(fd, 0, SEEK_END));
  say("write at end", write(fd, "x", 1));
  say("ftruncate 2^50", ftruncate(fd, 1L << 50));
  say("ftruncate 2^44", ftruncate(fd, 1L << 44));
  say("ftruncate 2^44-4096", ftruncate(fd, (1L << 44) - 4096));
  say("ftruncate 0", ftruncate(fd, 0));
  say("ftruncate -1", ftruncate(fd, -1));
  say("truncate 2^50", truncate(file, 1L << 50));
  int null = open("/dev/null", O_RDWR);
  say("lseek /dev/null 2^62", lseek(null, 1L << 62, SEEK_SET));
  say("lseek /dev/null END", lseek(null, 5, SEEK_END));
  say("pwrite /dev/null 2^62", pwrite(null, "x", 1, 1L << 62));
  say("pread /dev/null 2^62", pread(null, name, 1, 1L << 62));
}

/* A file on a file system with other limits (tmpfs: MAX_LFS_FILESIZE). */
static void bigoffsets(const char *file) {
  int fd = scratch_fd(file, O_RDWR | O_TRUNC);
  say("lseek SET 2^63-1", lseek(fd, INT64_MAX, SEEK_SET));
  say("lseek CUR 0", lseek(fd, 0, SEEK_CUR));
  say("lseek CUR -1", lseek(fd, -1, SEEK_CUR));
  say("lseek CUR +2", lseek(fd, 2, SEEK_CUR));
  say("lseek SET 2^53+1", lseek(fd, (1L << 53) + 1, SEEK_SET));
  say("lseek CUR 0", lseek(fd, 0, SEEK_CUR));
  say("read at 2^53+1", read(fd, (char *)file, 1));
  say("lseek SET 2^62+3", lseek(fd, (1L << 62) + 3, SEEK_SET));
  say("lseek CUR 0", lseek(fd, 0, SEEK_CUR));
}

static void fcntls(const char *file) {
  int fd = scratch_fd(file, O_RDWR);
  say("F_DUPFD -1", fcntl(fd, F_DUPFD, -1));
  say("F_DUPFD 1024", fcntl(fd, F_DUPFD, 1024));
  say("F_DUPFD 1023", fcntl(fd, F_DUPFD, 1023));
  say("F_DUPFD_CLOEXEC -5", fcntl(fd, F_DUPFD_CLOEXEC, -5));
  say("F_DUPFD_CLOEXEC 10", fcntl(fd, F_DUPFD_CLOEXEC, 10));
  say("F_GETFD 10", fcntl(10, F_GETFD));
  say("F_DUPFD bad fd", fcntl(999, F_DUPFD, 0));
  say("F_GETFL bad fd", fcntl(-1, F_GETFL));
  say("F_GETFL", fcntl(fd, F_GETFL) & ~0100000); /* O_LARGEFILE varies */
  say("F_SETFL O_APPEND|O_RDONLY", fcntl(fd, F_SETFL, O_APPEND | O_RDONLY));
  say("F_GETFL", fcntl(fd, F_GETFL) & ~0100000);
  say("F_SETFD 3", fcntl(fd, F_SETFD, 3));
  say("F_GETFD", fcntl(fd, F_GETFD));
  say("unknown cmd", fcntl(fd, 12345, 0));
  say("F_GETPIPE_SZ on a file", fcntl(fd, F_GETPIPE_SZ));
  int pf[2];
  pipe(pf);
  say("F_GETPIPE_SZ", fcntl(pf[0], F_GETPIPE_SZ));
  say("F_SETPIPE_SZ 5000", fcntl(pf[0], F_SETPIPE_SZ, 5000));
  say("F_GETPIPE_SZ", fcntl(pf[1], F_GETPIPE_SZ));
  say("F_SETPIPE_SZ 1", fcntl(pf[1], F_SETPIPE_SZ, 1));
  say("F_SETPIPE_SZ on a file", fcntl(fd, F_SETPIPE_SZ, 4096));
  say("F_GETOWN", fcntl(fd, F_GETOWN));
  say("F_SETFD on a bad fd", fcntl(77, F_SETFD, 1));
  say("F_SETFL O_NONBLOCK pipe", fcntl(pf[0], F_SETFL, O_NONBLOCK));
  say("F_GETFL pipe", fcntl(pf[0], F_GETFL));
  char c;
  say("read empty nonblocking pipe", read(pf[0], &c, 1));
}

static void sleeps(void) {
  struct timespec ts = { 0, 1000000000 }, rem;
  say("nanosleep nsec 1e9", nanosleep(&ts, &rem));
  ts.tv_nsec = -1;
  say("nanosleep nsec -1", nanosleep(&ts, &rem));
  ts.tv_sec = -1; ts.tv_nsec = 0;
  say("nanosleep sec -1", nanosleep(&ts, &rem));
  ts.tv_sec = 0; ts.tv_nsec = 1000;
  say("nanosleep 1us", nanosleep(&ts, &rem));
  say("nanosleep bad pointer", syscall(SYS_nanosleep, (void *)9, 0));
  ts.tv_nsec = 1000000000;
  sayrc("clock_nanosleep nsec 1e9", clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, 0));
  ts.tv_nsec = 0;
  sayrc("clock_nanosleep bad clock", clock_nanosleep(77, 0, &ts, 0));
  sayrc("clock_nanosleep THREAD_CPUTIME", clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ts, 0));
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  now.tv_sec -= 1;
  sayrc("clock_nanosleep ABSTIME past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, 0));
  clock_gettime(CLOCK_MONOTONIC, &now);
  now.tv_nsec += 200000000;
  if (now.tv_nsec >= 1000000000) { now.tv_sec++; now.tv_nsec -= 1000000000; }
  sayrc("clock_nanosleep ABSTIME +200ms", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &now, 0));
  struct timespec after;
  clock_gettime(CLOCK_MONOTONIC, &after);
  int reached = after.tv_sec > now.tv_sec || (after.tv_sec == now.tv_sec && after.tv_nsec >= now.tv_nsec);
  printf("deadline reached = %d\n", reached);
  clock_gettime(CLOCK_REALTIME, &now);
  now.tv_sec -= 100;
  sayrc("clock_nanosleep REALTIME ABSTIME past", clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &now, 0));
}

static void polls(const char *file) {
  int fd = scratch_fd(file, O_RDWR);
  int null = open("/dev/null", O_RDWR);
  int pf[2];
  pipe(pf);
  struct pollfd p[5] = { { fd, POLLIN | POLLOUT, 0 }, { null, POLLIN | POLLOUT, 0 }, { pf[0], POLLIN, 0 }, { pf[1], POLLOUT, 0 }, { 999, POLLIN, 0 } };
  say("poll", poll(p, 5, 0));
  for (int k = 0; k < 5; k++) printf("  revents[%d] = %#x\n", k, p[k].revents);
  p[2].revents = 0;
  say("poll empty pipe 100ms", poll(&p[2], 1, 100));
  write(pf[1], "x", 1);
  say("poll pipe with data", poll(&p[2], 1, -1));
  printf("  revents = %#x\n", p[2].revents);
  char c;
  read(pf[0], &c, 1);
  close(pf[1]);
  say("poll pipe no writer", poll(&p[2], 1, -1));
  printf("  revents = %#x\n", p[2].revents);
  say("poll nfds huge", poll(p, 1 << 30, 0));
  say("poll bad pointer", poll((void *)9, 1, 0));
  say("poll none 50ms", poll(0, 0, 50));
  struct timespec ts = { 0, 1000000 };
  say("ppoll regular", ppoll(p, 2, &ts, 0));
  ts.tv_nsec = 1000000000;
  say("ppoll bad timespec", ppoll(p, 2, &ts, 0));

  int q[2];
  pipe(q);
  fd_set r, w;
  FD_ZERO(&r); FD_ZERO(&w);
  FD_SET(fd, &r); FD_SET(q[0], &r); FD_SET(q[1], &w); FD_SET(null, &w);
  struct timeval tv = { 0, 20000 };
  say("select", select(q[1] + 1 > null + 1 ? q[1] + 1 : null + 1, &r, &w, 0, &tv));
  printf("  r: file %d pipe %d  w: pipe %d null %d\n", FD_ISSET(fd, &r), FD_ISSET(q[0], &r), FD_ISSET(q[1], &w), FD_ISSET(null, &w));
  FD_ZERO(&r);
  FD_SET(q[0], &r);
  tv.tv_sec = 0; tv.tv_usec = 30000;
  say("select empty pipe 30ms", select(q[0] + 1, &r, 0, 0, &tv));
  printf("  r: pipe %d\n", FD_ISSET(q[0], &r));
  FD_ZERO(&r);
  FD_SET(900, &r);
  tv.tv_usec = 0;
  say("select bad fd", select(901, &r, 0, 0, &tv));
  tv.tv_usec = -1;
  say("select bad timeval", select(1, 0, 0, 0, &tv));
  say("select nfds -1", select(-1, 0, 0, 0, 0));
  struct timespec pts = { 0, 10000000 };
  FD_ZERO(&r);
  FD_SET(fd, &r);
  say("pselect regular", pselect(fd + 1, &r, 0, 0, &pts, 0));

  int ep = say("epoll_create1", epoll_create1(EPOLL_CLOEXEC));
  say("epoll_create1 bad flags", epoll_create1(1));
  struct epoll_event ev = { EPOLLIN, { .u64 = 7 } };
  say("epoll_ctl regular file", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
  say("epoll_ctl self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
  say("epoll_ctl bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev));
  say("epoll_ctl on non-epoll", epoll_ctl(fd, EPOLL_CTL_ADD, q[0], &ev));
  say("epoll_ctl add pipe", epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev));
  say("epoll_ctl add again", epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev));
  ev.events = EPOLLOUT; ev.data.u64 = 9;
  say("epoll_ctl add write end", epoll_ctl(ep, EPOLL_CTL_ADD, q[1], &ev));
  struct epoll_event out[4];
  say("epoll_wait", epoll_wait(ep, out, 4, 0));
  printf("  data %lu events %#x\n", (unsigned long)out[0].data.u64, out[0].events);
  say("epoll_ctl del write end", epoll_ctl(ep, EPOLL_CTL_DEL, q[1], 0));
  say("epoll_ctl del again", epoll_ctl(ep, EPOLL_CTL_DEL, q[1], 0));
  say("epoll_wait empty 30ms", epoll_wait(ep, out, 4, 30));
  write(q[1], "y", 1);
  say("epoll_pwait data", epoll_pwait(ep, out, 4, -1, 0));
  printf("  data %lu events %#x\n", (unsigned long)out[0].data.u64, out[0].events);
  ev.events = EPOLLIN | EPOLLOUT; ev.data.u64 = 11;
  say("epoll_ctl mod", epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev));
  say("epoll_wait maxevents 0", epoll_wait(ep, out, 0, 0));
  say("epoll_wait", epoll_wait(ep, out, 4, 0));
  printf("  data %lu events %#x\n", (unsigned long)out[0].data.u64, out[0].events);
  close(q[1]);
  say("epoll_wait hup", epoll_wait(ep, out, 4, 0));
  printf("  data %lu events %#x\n", (unsigned long)out[0].data.u64, out[0].events);
}

static void copies(const char *file) {
  char src[256], dst[256];
  snprintf(src, sizeof src, "%s.src", file);
  snprintf(dst, sizeof dst, "%s.dst", file);
  int s = scratch_fd(src, O_RDWR | O_TRUNC), d = scratch_fd(dst, O_RDWR | O_TRUNC);
  char buf[10000];
  for (unsigned k = 0; k < sizeof buf; k++) buf[k] = 'a' + k % 26;
  write(s, buf, sizeof buf);
  char *m = mmap(0, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, d, 0);
  ftruncate(d, 8192);
  loff_t in = 5, out = 100;
  say("copy_file_range", copy_file_range(s, &in, d, &out, 6000, 0));
  printf("  in %ld out %ld\n", (long)in, (long)out);
  printf("  mapping sees %.10s\n", m + 100);
  char back[16] = { 0 };
  pread(d, back, 10, 5000);
  printf("  read sees %.10s\n", back);
  say("lseek s cur", lseek(s, 0, SEEK_CUR));
  say("copy_file_range from cur", copy_file_range(s, 0, d, 0, 3, 0));
  say("lseek s cur", lseek(s, 0, SEEK_CUR));
  say("lseek d cur", lseek(d, 0, SEEK_CUR));
  in = 9999;
  say("copy_file_range at eof", copy_file_range(s, &in, d, 0, 100, 0));
  in = 20000;
  say("copy_file_range past eof", copy_file_range(s, &in, d, 0, 100, 0));
  say("copy_file_range flags", copy_file_range(s, 0, d, 0, 1, 1));
  int ro = open(dst, O_RDONLY);
  say("copy_file_range to O_RDONLY", copy_file_range(s, 0, ro, 0, 1, 0));
  int pf[2];
  pipe(pf);
  say("copy_file_range to pipe", copy_file_range(s, 0, pf[1], 0, 1, 0));
  in = 0; out = 0;
  say("copy_file_range same file overlap", copy_file_range(s, &in, s, &out, 100, 0));
  in = 0; out = 5000;
  say("copy_file_range same file", copy_file_range(s, &in, s, &out, 100, 0));
  say("copy_file_range bad offset pointer", copy_file_range(s, (void *)9, d, 0, 1, 0));
  struct stat st;
  fstat(d, &st);
  printf("  dst size %ld\n", (long)st.st_size);
}

static void devices(const char *file) {
  say("open /dev/tty", open("/dev/tty", O_RDWR));
  say("open socket file", open(file, O_RDONLY));
  say("open socket file O_PATH", open(file, O_PATH) >= 0 ? 0 : -1);
  say("open /dev/console", open("/dev/console", O_RDWR));
  say("open /dev/zero", open("/dev/zero", O_RDONLY) >= 0 ? 0 : -1);
}

static void fifos(const char *file) {
  int w = open(file, O_WRONLY | O_NONBLOCK);
  say("open fifo O_WRONLY|O_NONBLOCK without reader", w);
  int r = open(file, O_RDONLY | O_NONBLOCK);
  say("open fifo O_RDONLY|O_NONBLOCK", r >= 0 ? 0 : -1);
  char c;
  say("read fifo no writer", read(r, &c, 1));
  w = open(file, O_WRONLY | O_NONBLOCK);
  say("open fifo O_WRONLY|O_NONBLOCK with reader", w >= 0 ? 0 : -1);
  say("read fifo empty", read(r, &c, 1));
  say("write fifo", write(w, "hi", 2));
  struct pollfd p = { r, POLLIN, 0 };
  say("poll fifo", poll(&p, 1, 1000));
  printf("  revents %#x\n", p.revents);
  char b[4];
  say("read fifo", read(r, b, 4));
  close(w);
  say("poll fifo after writer closed", poll(&p, 1, 1000));
  printf("  revents %#x\n", p.revents);
  say("read fifo eof", read(r, b, 4));
  int rw = open(file, O_RDWR);
  say("open fifo O_RDWR", rw >= 0 ? 0 : -1);
  say("write fifo rw", write(rw, "abc", 3));
  say("read fifo rw", read(rw, b, 4));
  int wb = open(file, O_WRONLY);
  say("open fifo O_WRONLY with a reader", wb >= 0 ? 0 : -1);
}

/* Host stdin (a pipe the harness fills and closes): poll, select, epoll see data, then the hang-up. */
static void stdinpoll(void) {
  struct pollfd p = { 0, POLLIN, 0 };
  usleep(200000); /* the writer has written and closed by now */
  say("poll stdin", poll(&p, 1, 1000));
  printf("  revents %#x\n", p.revents & ~POLLHUP);
  int ep = epoll_create1(0);
  struct epoll_event ev = { EPOLLIN, { .u64 = 3 } }, out;
  say("epoll_ctl stdin", epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev));
  say("epoll_wait stdin", epoll_wait(ep, &out, 1, 1000));
  char b[16];
  say("read stdin", read(0, b, sizeof b));
  say("poll stdin at eof", poll(&p, 1, 1000));
  printf("  revents %#x\n", p.revents);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(0, &r);
  struct timeval tv = { 1, 0 };
  say("select stdin at eof", select(1, &r, 0, 0, &tv));
  say("read stdin at eof", read(0, b, sizeof b));
}

/* Writes 96 MiB of a never-touched anonymous mapping (one byte set) to FILE: under
 * faultline --mem 64M the untouched pages read as zeros without being charged. */
static void zerowrite(const char *file) {
  size_t n = 96UL << 20;
  char *p = untouched(n);
  p[5] = 'x';
  int fd = scratch_fd(file, O_WRONLY | O_TRUNC);
  say("write 96M untouched", write(fd, p, n));
}

/* Buffers that cross 2 MiB bounds of the address space (where faultline's
 * host views of guest memory are cut): write, pwrite, writev, read, pread
 * and readv of 3 MiB through a file, the bytes compared in the program. */
static void straddle(const char *file) {
  size_t map = 16UL << 20, n = 3UL << 20;
  char *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) { perror("mmap"); exit(99); }
  char *b = (char *)(((uintptr_t)m + (2UL << 20) - 1) & ~((2UL << 20) - 1)); /* a 2 MiB bound */
  char *src = b + (1UL << 20) + 777, *dst = b + (6UL << 20) + 4095; /* each crosses one bound */
  for (size_t i = 0; i < n; i++) src[i] = (char)(i * 131 + (i >> 12));
  int fd = scratch_fd(file, O_RDWR | O_TRUNC);
  say("write 3M across a 2M bound", write(fd, src, n));
  say("pwrite 3M across a 2M bound", pwrite(fd, src + 1, n - 1, n));
  struct iovec wv[2] = { { src, 4096 }, { src + 4096, n - 4096 } };
  say("writev 3M across a 2M bound", writev(fd, wv, 2));
  say("lseek 0", lseek(fd, 0, SEEK_SET));
  say("read 3M across a 2M bound", read(fd, dst, n));
  say("same bytes", memcmp(src, dst, n) == 0);
  say("pread 3M across a 2M bound", pread(fd, dst, n - 1, n));
  say("same bytes", memcmp(src + 1, dst, n - 1) == 0);
  memset(dst, 0, n);
  struct iovec rv[2] = { { dst, n - 5000 }, { dst + n - 5000, 5000 } };
  say("lseek 6M", lseek(fd, 2 * n, SEEK_SET));
  say("readv 3M across a 2M bound", readv(fd, rv, 2));
  say("same bytes", memcmp(src, dst, n) == 0);
  close(fd);
}

/* Waits forever on its own empty pipe (natively too): only --timeout ends it. */
static void selfpipe(void) {
  int pf[2];
  char c;
  pipe(pf);
  say("read own empty pipe", read(pf[0], &c, 1));
}

/* With a controlling terminal: /dev/tty opens, and is a terminal. */
static void tty(void) {
  int fd = open("/dev/tty", O_RDWR);
  say("open /dev/tty", fd >= 0 ? 0 : -1);
  say("isatty /dev/tty", isatty(fd));
  say("isatty 1", isatty(1));
  say("write /dev/tty", write(fd, "", 0));
  struct pollfd p = { fd, POLLOUT, 0 };
  say("poll /dev/tty POLLOUT", poll(&p, 1, 1000));
  printf("  revents %#x\n", p.revents);
  say("lseek /dev/tty", lseek(fd, 0, SEEK_CUR));
  say("pread /dev/tty", pread(fd, &p, 1, 0));
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *c = argv[1], *f = argc > 2 ? argv[2] : "";
  signal(SIGPIPE, SIG_IGN);
  if (!strcmp(c, "bounded")) bounded(f);
  else if (!strcmp(c, "short")) shortcopies(f);
  else if (!strcmp(c, "offsets")) offsets(f);
  else if (!strcmp(c, "bigoffsets")) bigoffsets(f);
  else if (!strcmp(c, "fcntl")) fcntls(f);
  else if (!strcmp(c, "sleep")) sleeps();
  else if (!strcmp(c, "poll")) polls(f);
  else if (!strcmp(c, "copy")) copies(f);
  else if (!strcmp(c, "devices")) devices(f);
  else if (!strcmp(c, "fifo")) fifos(f);
  else if (!strcmp(c, "selfpipe")) selfpipe();
  else if (!strcmp(c, "stdinpoll")) stdinpoll();
  else if (!strcmp(c, "zerowrite")) zerowrite(f);
  else if (!strcmp(c, "straddle")) straddle(f);
  else if (!strcmp(c, "tty")) tty();
  else return 2;
  return 0;
}
