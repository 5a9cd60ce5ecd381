/*
 * socketpair(2) between processes: every AF_UNIX type, both directions,
 * record boundaries, MSG_PEEK / MSG_TRUNC / MSG_WAITALL / MSG_DONTWAIT /
 * MSG_NOSIGNAL, shutdown, EOF, ECONNRESET, EPIPE and SIGPIPE, nonblocking
 * EAGAIN with a full buffer, poll and epoll readiness, a 4 MiB transfer that
 * makes the writer wait, SCM_RIGHTS and SCM_CREDENTIALS, socket options,
 * fstat and /proc/self/fd, and the errors Linux gives. Prints only what
 * does not depend on the host (no pids, inode numbers or buffer fill
 * counts), so the output is compared byte for byte with a native run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
  case 0: return "0";
  case EAGAIN: return "EAGAIN"; case EPIPE: return "EPIPE"; case ECONNRESET: return "ECONNRESET";
  case ECONNREFUSED: return "ECONNREFUSED"; case ENOTCONN: return "ENOTCONN"; case EINVAL: return "EINVAL";
  case EAFNOSUPPORT: return "EAFNOSUPPORT"; case EOPNOTSUPP: return "EOPNOTSUPP"; case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
  case EPROTONOSUPPORT: return "EPROTONOSUPPORT"; case ENOTSOCK: return "ENOTSOCK"; case EBADF: return "EBADF";
  case ENOPROTOOPT: return "ENOPROTOOPT"; case EISCONN: return "EISCONN"; case EMSGSIZE: return "EMSGSIZE";
  case EFAULT: return "EFAULT"; case ENOENT: return "ENOENT"; case EDOM: return "EDOM"; case ESPIPE: return "ESPIPE";
  default: return "E?";
  }
}

/* Prints a call's result as "label = value" or "label = -1 ENAME". */
#define SHOW(label, expr) do { errno = 0; long r_ = (long)(expr); \
  if (r_ < 0) printf("%s = -1 %s\n", label, ename(errno)); else printf("%s = %ld\n", label, r_); } while (0)

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int s) { (void)s; sigpipes++; }

static const int TYPES[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
static const char *tname(int t) { return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "dgram" : "seqpacket"; }

static void pair(int type, int sv[2]) {
  if (socketpair(AF_UNIX, type, 0, sv) != 0) { perror("socketpair"); exit(1); }
}

static int reap(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Reads exactly n bytes (a stream may give them in pieces). */
static long read_full(int fd, char *buf, long n) {
  long got = 0;
  while (got < n) {
    long r = read(fd, buf + got, n - got);
    if (r <= 0) return r < 0 ? r : got;
    got += r;
  }
  return got;
}

/* Both directions across fork: the child echoes three messages upper-cased; record boundaries show in the sizes. */
static void echo(int type) {
  int sv[2];
  pair(type, sv);
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    char buf[256];
    for (int k = 0; k < 3; k++) {
      long n = type == SOCK_STREAM ? read_full(sv[1], buf, k == 0 ? 1 : k == 1 ? 10 : 100) : recv(sv[1], buf, sizeof buf, 0);
      for (long j = 0; j < n; j++) if (buf[j] >= 'a' && buf[j] <= 'z') buf[j] -= 32;
      if (send(sv[1], buf, n, 0) != n) _exit(2);
    }
    _exit(0);
  }
  close(sv[1]);
  char msg[101];
  memset(msg, 'x', sizeof msg);
  send(sv[0], "a", 1, 0);
  send(sv[0], "helloworld", 10, 0);
  send(sv[0], msg, 100, 0);
  char buf[256];
  long sizes[3];
  if (type == SOCK_STREAM) {
    long n = read_full(sv[0], buf, 111);
    printf("%s echo: %ld bytes, starts %.12s\n", tname(type), n, buf);
  } else {
    for (int k = 0; k < 3; k++) sizes[k] = recv(sv[0], buf, sizeof buf, 0);
    printf("%s echo: messages of %ld %ld %ld bytes, last ends %c\n", tname(type), sizes[0], sizes[1], sizes[2], buf[99]);
  }
  printf("%s echo child: %d\n", tname(type), reap(pid));
  close(sv[0]);
}

/* MSG_PEEK, MSG_TRUNC, recvmsg's msg_flags, and boundaries within one process. */
static void peek_trunc(int type) {
  int sv[2];
  pair(type, sv);
  send(sv[0], "first", 5, 0);
  send(sv[0], "second!", 7, 0);
  char buf[64] = { 0 };
  SHOW("  peek 3", recv(sv[1], buf, 3, MSG_PEEK));
  printf("  peeked %.3s\n", buf);
  SHOW("  peek 64", recv(sv[1], buf, 64, MSG_PEEK));
  struct iovec iov = { buf, 2 };
  struct msghdr m = { 0 };
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  SHOW("  recvmsg 2", recvmsg(sv[1], &m, 0));
  printf("  got %.2s, MSG_TRUNC %d\n", buf, (m.msg_flags & MSG_TRUNC) != 0);
  SHOW("  recv MSG_TRUNC 1", recv(sv[1], buf, 1, MSG_TRUNC));
  SHOW("  recv rest", recv(sv[1], buf, 64, MSG_DONTWAIT));
  SHOW("  recv empty", recv(sv[1], buf, 64, MSG_DONTWAIT));
  /* readv over two buffers gathers one message (or stream bytes) */
  send(sv[0], "abcdef", 6, 0);
  char b1[2], b2[8];
  struct iovec v[2] = { { b1, 2 }, { b2, 8 } };
  SHOW("  readv", readv(sv[1], v, 2));
  printf("  readv %.2s|%.4s\n", b1, b2);
  /* a zero-length message is a message; on a stream it is nothing */
  SHOW("  send 0", send(sv[0], "", 0, 0));
  SHOW("  recv after send 0", recv(sv[1], buf, 64, MSG_DONTWAIT));
  close(sv[0]);
  close(sv[1]);
}

/* shutdown(2) directions and what each end then sees, and EOF when the peer closes. */
static void shutdowns(int type) {
  int sv[2];
  pair(type, sv);
  char buf[16];
  struct pollfd pf = { sv[1], POLLIN | POLLOUT | POLLRDHUP, 0 };
  SHOW("  poll fresh", (poll(&pf, 1, 0), pf.revents));
  SHOW("  shutdown WR", shutdown(sv[0], SHUT_WR));
  SHOW("  poll after peer SHUT_WR", (poll(&pf, 1, 0), pf.revents));
  SHOW("  recv after peer SHUT_WR", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
  SHOW("  send after own SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL));
  SHOW("  send the other way", send(sv[1], "y", 1, 0));
  SHOW("  shutdown RD", shutdown(sv[0], SHUT_RD));
  SHOW("  recv after own SHUT_RD", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT));
  SHOW("  send to a SHUT_RD peer", send(sv[1], "z", 1, MSG_NOSIGNAL));
  SHOW("  shutdown bad how", shutdown(sv[0], 3));
  close(sv[0]);
  SHOW("  poll after peer close", (poll(&pf, 1, 0), pf.revents));
  SHOW("  recv after peer close", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
  SHOW("  getpeername after peer close", ({ struct sockaddr_un a; socklen_t l = sizeof a; getpeername(sv[1], (void *)&a, &l); }));
  close(sv[1]);
}

/* EPIPE and SIGPIPE (counted by a handler), ECONNRESET when the peer left data unread. */
static void broken(int type) {
  int sv[2];
  pair(type, sv);
  close(sv[0]);
  sigpipes = 0;
  SHOW("  send to closed", send(sv[1], "x", 1, 0));
  SHOW("  again", send(sv[1], "x", 1, 0));
  SHOW("  MSG_NOSIGNAL", send(sv[1], "x", 1, MSG_NOSIGNAL));
  SHOW("  write", write(sv[1], "x", 1));
  printf("  SIGPIPEs %d\n", (int)sigpipes);
  close(sv[1]);
  pair(type, sv);
  send(sv[1], "unread", 6, 0);
  close(sv[0]); /* sv[0] had data it never read */
  char buf[8];
  SHOW("  recv after the peer closed unread", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
  SHOW("  recv again", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
  int err = -1;
  socklen_t l = sizeof err;
  getsockopt(sv[1], SOL_SOCKET, SO_ERROR, &err, &l);
  printf("  SO_ERROR %s\n", ename(err));
  close(sv[1]);
}

/* A child that writes to a closed stream with SIGPIPE at its default dies of it. */
static void sigpipe_kills(void) {
  int sv[2];
  pair(SOCK_STREAM, sv);
  close(sv[0]);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    write(sv[1], "x", 1);
    _exit(0);
  }
  printf("stream write to a closed peer, SIGPIPE default: child status %d\n", reap(pid));
  pid = fork();
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    send(sv[1], "x", 1, MSG_NOSIGNAL);
    _exit(errno == EPIPE ? 3 : 4);
  }
  printf("the same with MSG_NOSIGNAL: child status %d\n", reap(pid));
  close(sv[1]);
}

/* A nonblocking writer fills the buffer (EAGAIN, no POLLOUT); once the peer drains, POLLOUT again. */
static void nonblocking(int type) {
  int sv[2];
  if (socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv) != 0) return;
  char buf[4096] = { 0 };
  SHOW("  recv empty", recv(sv[1], buf, sizeof buf, 0));
  SHOW("  read empty", read(sv[1], buf, sizeof buf));
  long total = 0, n;
  int msgs = 0;
  while ((n = write(sv[0], buf, sizeof buf)) > 0) total += n, msgs++;
  printf("  filled: %s after more than 16 KiB: %d\n", ename(errno), total > 16384);
  struct pollfd pf = { sv[0], POLLOUT, 0 };
  SHOW("  poll full", (poll(&pf, 1, 0), pf.revents));
  int q = -1;
  ioctl(sv[1], FIONREAD, &q);
  printf("  FIONREAD > 0: %d\n", q > 0);
  long drained = 0;
  while ((n = read(sv[1], buf, sizeof buf)) > 0) drained += n;
  printf("  drained all: %d (%s)\n", drained == total, ename(errno));
  SHOW("  poll drained", (poll(&pf, 1, 0), pf.revents));
  int fl = fcntl(sv[1], F_GETFL);
  printf("  F_GETFL O_NONBLOCK %d O_RDWR %d\n", (fl & O_NONBLOCK) != 0, (fl & O_ACCMODE) == O_RDWR);
  fcntl(sv[1], F_SETFL, fl & ~O_NONBLOCK);
  SHOW("  MSG_DONTWAIT on a blocking socket", recv(sv[1], buf, 1, MSG_DONTWAIT));
  close(sv[0]);
  close(sv[1]);
}

/* 4 MiB from parent to child through a stream: the writer fills the buffer and waits while the child reads. */
static void bulk(void) {
  int sv[2];
  pair(SOCK_STREAM, sv);
  const long N = 4L << 20;
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    static char buf[65536];
    unsigned long sum = 0, got = 0;
    long n;
    while ((n = read(sv[1], buf, sizeof buf)) > 0) {
      for (long k = 0; k < n; k++) sum = sum * 31 + (unsigned char)buf[k];
      got += n;
    }
    char line[64];
    int len = snprintf(line, sizeof line, "%lu %lx", got, sum);
    write(sv[1], line, len);
    _exit(0);
  }
  close(sv[1]);
  char *data = malloc(N);
  unsigned long sum = 0;
  for (long k = 0; k < N; k++) data[k] = (char)(k * 7 + (k >> 12)), sum = sum * 31 + (unsigned char)data[k];
  long sent = 0;
  while (sent < N) {
    long n = write(sv[0], data + sent, N - sent);
    if (n <= 0) break;
    sent += n;
  }
  shutdown(sv[0], SHUT_WR);
  char line[64] = { 0 };
  read(sv[0], line, sizeof line - 1);
  char want[64];
  snprintf(want, sizeof want, "%lu %lx", (unsigned long)N, sum);
  printf("4 MiB through a stream: sent %ld, child saw the same bytes: %d\n", sent, strcmp(line, want) == 0);
  printf("bulk child: %d\n", reap(pid));
  free(data);
  close(sv[0]);
}

/* A child that writes `what` to `fd` `times` times, 20 ms apart, then waits 20 ms more and exits. */
static pid_t slow_writer(int fd, const char *what, int times) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  for (int k = 0; k < times; k++) {
    usleep(20000);
    write(fd, what, strlen(what));
  }
  usleep(20000);
  _exit(0);
}

/* A blocking read waits (the reader parks) until the other process writes; MSG_WAITALL waits for all. */
static void waits(void) {
  int sv[2];
  pair(SOCK_STREAM, sv);
  pid_t pid = slow_writer(sv[1], "0123456789", 3);
  close(sv[1]);
  char buf[64];
  SHOW("blocking recv MSG_WAITALL 30", recv(sv[0], buf, 30, MSG_WAITALL));
  printf("  %.30s\n", buf);
  printf("waits child: %d\n", reap(pid));
  SHOW("read after the writer exited", read(sv[0], buf, sizeof buf));
  close(sv[0]);
  pair(SOCK_DGRAM, sv);
  struct timeval tv = { 0, 30000 };
  SHOW("SO_RCVTIMEO 30 ms", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
  SHOW("recv with a timeout", recv(sv[0], buf, sizeof buf, 0));
  close(sv[0]);
  close(sv[1]);
}

/* poll and epoll see a socket become readable when the other process writes, and hang up when it exits. */
static void readiness(void) {
  int sv[2];
  pair(SOCK_STREAM, sv);
  pid_t pid = slow_writer(sv[1], "ready", 1);
  close(sv[1]);
  struct pollfd pf = { sv[0], POLLIN | POLLRDHUP, 0 };
  SHOW("poll waits for data", poll(&pf, 1, 5000));
  printf("  revents %x\n", pf.revents);
  int ep = epoll_create1(0);
  struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP }, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
  char buf[8];
  read(sv[0], buf, 5);
  SHOW("epoll waits for the hang-up", epoll_wait(ep, &out, 1, 5000));
  printf("  events %x\n", out.events);
  printf("readiness child: %d\n", reap(pid));
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(sv[0], &rs);
  struct timeval tv = { 0, 0 };
  SHOW("select at EOF", select(sv[0] + 1, &rs, NULL, NULL, &tv));
  close(ep);
  close(sv[0]);
}

/* A message of the one byte at `byte` (through `iov`) with the control buffer `ctl` of `len` bytes. */
static struct msghdr byte_msg(struct iovec *iov, char *byte, void *ctl, size_t len) {
  struct msghdr m = { 0 };
  iov->iov_base = byte;
  iov->iov_len = 1;
  m.msg_iov = iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = len;
  return m;
}

/* Sends one byte with `n` descriptors in an SCM_RIGHTS message. */
static void send_fds(int sock, char byte, const int *fds, int n) {
  char cbuf[CMSG_SPACE(4 * sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov;
  struct msghdr m = byte_msg(&iov, &byte, cbuf, CMSG_SPACE(n * sizeof(int)));
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(n * sizeof(int));
  memcpy(CMSG_DATA(c), fds, n * sizeof(int));
  if (sendmsg(sock, &m, 0) != 1) printf("  sendmsg: %s\n", ename(errno));
}

/* SCM_RIGHTS: the child gets a pipe's write end and a socket over the socket, and writes through the pipe. */
static void rights(int type) {
  int sv[2], pp[2];
  pair(type, sv);
  pipe(pp);
  pid_t pid = fork();
  if (pid == 0) {
    close(pp[1]); /* the only write end left will be the one passed */
    close(pp[0]);
    char byte = 0, cbuf[CMSG_SPACE(2 * sizeof(int))];
    struct iovec iov;
    struct msghdr m = byte_msg(&iov, &byte, cbuf, sizeof cbuf);
    long n = recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (n != 1 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(2 * sizeof(int))) _exit(10);
    int fds[2];
    memcpy(fds, CMSG_DATA(c), sizeof fds);
    int cloexec = (fcntl(fds[0], F_GETFD) & FD_CLOEXEC) != 0;
    struct stat st;
    fstat(fds[1], &st);
    dprintf(fds[0], "  via the passed pipe: byte %c, close-on-exec %d, second is a socket %d, controllen %zu\n", byte, cloexec,
            S_ISSOCK(st.st_mode), (size_t)m.msg_controllen);
    /* too small a control buffer: MSG_CTRUNC, and the descriptor does not arrive */
    char small[CMSG_SPACE(0)];
    m.msg_control = small;
    m.msg_controllen = sizeof small;
    n = recvmsg(sv[1], &m, 0);
    dprintf(fds[0], "  small control buffer: n %ld byte %c MSG_CTRUNC %d controllen %zu\n", n, byte, (m.msg_flags & MSG_CTRUNC) != 0,
            (size_t)m.msg_controllen);
    /* plain read() of a message with descriptors: the data only */
    n = read(sv[1], &byte, 1);
    dprintf(fds[0], "  read: n %ld byte %c\n", n, byte);
    _exit(0);
  }
  int two[2] = { pp[1], sv[0] };
  send_fds(sv[0], 'R', two, 2);
  send_fds(sv[0], 'S', two, 1);
  send_fds(sv[0], 'T', two, 1);
  SHOW("  SCM_RIGHTS with a closed descriptor", ({ int bad = 1000; char cb[CMSG_SPACE(4)], b = 'x'; struct iovec io;
    struct msghdr mm = byte_msg(&io, &b, cb, sizeof cb); struct cmsghdr *cc = CMSG_FIRSTHDR(&mm); cc->cmsg_level = SOL_SOCKET;
    cc->cmsg_type = SCM_RIGHTS; cc->cmsg_len = CMSG_LEN(4); memcpy(CMSG_DATA(cc), &bad, 4); sendmsg(sv[0], &mm, 0); }));
  close(pp[1]);
  close(sv[0]);
  char line[512];
  long n = 0, k;
  while ((k = read(pp[0], line + n, sizeof line - 1 - n)) > 0) n += k;
  line[n] = 0;
  printf("%s", line);
  printf("  child: %d\n", reap(pid));
  close(pp[0]);
  close(sv[1]);
}

/* SO_PASSCRED: data from the child carries its pid and ids (SCM_CREDENTIALS); a sender may state its own. */
static void creds(int type) {
  int sv[2], on = 1;
  pair(type, sv);
  setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  pid_t pid = fork();
  if (pid == 0) {
    write(sv[1], "c", 1);
    _exit(0);
  }
  reap(pid);
  char byte, cbuf[CMSG_SPACE(sizeof(struct ucred))];
  struct iovec iov;
  struct msghdr m = byte_msg(&iov, &byte, cbuf, sizeof cbuf);
  long n = recvmsg(sv[0], &m, 0);
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  struct ucred uc = { 0 };
  if (c) memcpy(&uc, CMSG_DATA(c), sizeof uc);
  printf("  n %ld, SCM_CREDENTIALS %d, pid is the child's %d, uid %d gid %d\n", n, c && c->cmsg_type == SCM_CREDENTIALS, uc.pid == pid,
         uc.uid == getuid(), uc.gid == getgid());
  /* the parent states its own credentials explicitly */
  struct ucred mine = { getpid(), getuid(), getgid() };
  char sbuf[CMSG_SPACE(sizeof mine)];
  memset(sbuf, 0, sizeof sbuf);
  struct msghdr s = byte_msg(&iov, &byte, sbuf, sizeof sbuf);
  c = CMSG_FIRSTHDR(&s);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof mine);
  memcpy(CMSG_DATA(c), &mine, sizeof mine);
  SHOW("  sendmsg SCM_CREDENTIALS", sendmsg(sv[1], &s, 0));
  m.msg_controllen = sizeof cbuf;
  n = recvmsg(sv[0], &m, 0);
  c = CMSG_FIRSTHDR(&m);
  if (c) memcpy(&uc, CMSG_DATA(c), sizeof uc);
  printf("  n %ld, pid is the parent's %d\n", n, uc.pid == getpid());
  close(sv[0]);
  close(sv[1]);
}

/* Socket options, names, fstat and /proc/self/fd. */
static void options(void) {
  int sv[2], v;
  socklen_t l;
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
  printf("SOCK_CLOEXEC: FD_CLOEXEC %d\n", (fcntl(sv[0], F_GETFD) & FD_CLOEXEC) != 0);
  static const struct { int opt; const char *name; } ints[] = {
    { SO_TYPE, "SO_TYPE" }, { SO_DOMAIN, "SO_DOMAIN" }, { SO_PROTOCOL, "SO_PROTOCOL" }, { SO_ACCEPTCONN, "SO_ACCEPTCONN" },
    { SO_ERROR, "SO_ERROR" }, { SO_SNDBUF, "SO_SNDBUF" }, { SO_RCVBUF, "SO_RCVBUF" }, { SO_RCVLOWAT, "SO_RCVLOWAT" },
    { SO_PASSCRED, "SO_PASSCRED" }, { SO_KEEPALIVE, "SO_KEEPALIVE" },
  };
  for (unsigned k = 0; k < sizeof ints / sizeof ints[0]; k++) {
    l = sizeof v;
    v = -7;
    int r = getsockopt(sv[0], SOL_SOCKET, ints[k].opt, &v, &l);
    printf("  %s = %d (r %d, len %d)\n", ints[k].name, v, r, (int)l);
  }
  static const struct { int opt; const char *name; int set; } sets[] = {
    { SO_SNDBUF, "SO_SNDBUF", 100000 }, { SO_SNDBUF, "SO_SNDBUF", 1 }, { SO_SNDBUF, "SO_SNDBUF", -1 }, { SO_RCVBUF, "SO_RCVBUF", 1 },
    { SO_KEEPALIVE, "SO_KEEPALIVE", 5 }, { SO_PRIORITY, "SO_PRIORITY", 3 }, { SO_RCVLOWAT, "SO_RCVLOWAT", 5 }, { SO_PASSCRED, "SO_PASSCRED", 2 },
  };
  for (unsigned k = 0; k < sizeof sets / sizeof sets[0]; k++) {
    v = sets[k].set;
    int r = setsockopt(sv[0], SOL_SOCKET, sets[k].opt, &v, sizeof v);
    l = sizeof v;
    getsockopt(sv[0], SOL_SOCKET, sets[k].opt, &v, &l);
    printf("  %s after setting %d: %d (r %d)\n", sets[k].name, sets[k].set, v, r);
  }
  v = 0x11223344;
  l = 2;
  getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l);
  printf("  SO_TYPE into 2 bytes: %x len %d\n", v, (int)l);
  SHOW("  getsockopt level IPPROTO_TCP", ({ l = 4; getsockopt(sv[0], 6, 1, &v, &l); }));
  SHOW("  getsockopt unknown option", ({ l = 4; getsockopt(sv[0], SOL_SOCKET, 9999, &v, &l); }));
  SHOW("  getsockopt negative length", ({ l = -1; getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l); }));
  SHOW("  setsockopt SO_TYPE", setsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, sizeof v));
  SHOW("  setsockopt short", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, 2));
  SHOW("  setsockopt level IPPROTO_TCP", setsockopt(sv[0], 6, 1, &v, sizeof v));
  struct timeval tv = { 0, 2000000 };
  SHOW("  SO_RCVTIMEO usec out of range", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
  tv.tv_sec = 1;
  tv.tv_usec = 500000;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  l = sizeof tv;
  getsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, &l);
  printf("  SO_SNDTIMEO %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
  struct ucred uc;
  l = sizeof uc;
  getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &uc, &l);
  printf("  SO_PEERCRED: pid is ours %d, uid %d, gid %d, len %d\n", uc.pid == getpid(), uc.uid == getuid(), uc.gid == getgid(), (int)l);
  pid_t pid = fork();
  if (pid == 0) {
    l = sizeof uc;
    getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &uc, &l);
    _exit(uc.pid == getppid() ? 0 : 1);
  }
  printf("  SO_PEERCRED in a child names the parent: %d\n", reap(pid) == 0);
  struct sockaddr_un a;
  memset(&a, 0x55, sizeof a);
  l = sizeof a;
  SHOW("  getsockname", getsockname(sv[0], (void *)&a, &l));
  printf("  len %d family %d\n", (int)l, a.sun_family);
  l = sizeof a;
  SHOW("  getpeername", getpeername(sv[0], (void *)&a, &l));
  printf("  len %d family %d\n", (int)l, a.sun_family);
  l = 1;
  SHOW("  getsockname into 1 byte", getsockname(sv[0], (void *)&a, &l));
  printf("  len %d\n", (int)l);
  struct stat st0, st1;
  fstat(sv[0], &st0);
  fstat(sv[1], &st1);
  printf("  fstat: S_ISSOCK %d, mode %o, nlink %ld, size %ld, blksize %ld, distinct inodes %d\n", S_ISSOCK(st0.st_mode), st0.st_mode & 07777,
         (long)st0.st_nlink, (long)st0.st_size, (long)st0.st_blksize, st0.st_ino != st1.st_ino);
  char path[64], link[64], want[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", sv[0]);
  long n = readlink(path, link, sizeof link - 1);
  link[n > 0 ? n : 0] = 0;
  snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st0.st_ino);
  printf("  /proc/self/fd link is socket:[st_ino]: %d\n", strcmp(link, want) == 0);
  struct statfs sf;
  SHOW("  fstatfs", fstatfs(sv[0], &sf));
  printf("  sockfs: %d\n", sf.f_type == 0x534F434B);
  close(sv[0]);
  close(sv[1]);
}

/* The errors Linux gives. */
static void errors(void) {
  int sv[2], pp[2];
  SHOW("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, sv));
  SHOW("socketpair AF_INET6 dgram", socketpair(AF_INET6, SOCK_DGRAM, 0, sv));
  SHOW("socketpair family 99", socketpair(99, SOCK_STREAM, 0, sv));
  SHOW("socketpair SOCK_RDM", socketpair(AF_UNIX, SOCK_RDM, 0, sv));
  SHOW("socketpair type 11", socketpair(AF_UNIX, 11, 0, sv));
  SHOW("socketpair protocol 2", socketpair(AF_UNIX, SOCK_STREAM, 2, sv));
  SHOW("socketpair bad flag", socketpair(AF_UNIX, SOCK_STREAM | 0x1000, 0, sv));
  SHOW("socketpair NULL sv", socketpair(AF_UNIX, SOCK_STREAM, 0, (int *)(long)getenv("NO_SUCH_VARIABLE")));
  SHOW("socketpair SOCK_RAW", socketpair(AF_UNIX, SOCK_RAW, 0, sv));
  int v;
  socklen_t l = sizeof v;
  getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l);
  printf("  SOCK_RAW is a datagram socket: %d\n", v == SOCK_DGRAM);
  SHOW("listen dgram", listen(sv[0], 1));
  SHOW("accept dgram", accept(sv[0], NULL, NULL));
  SHOW("send MSG_OOB dgram", send(sv[0], "x", 1, MSG_OOB));
  SHOW("recv MSG_OOB dgram", recv(sv[0], &v, 1, MSG_OOB));
  char *big = malloc(300000);
  memset(big, 0, 300000);
  SHOW("send 300000 bytes dgram", send(sv[0], big, 300000, 0));
  free(big);
  struct sockaddr_un a = { AF_UNIX, "/no/such/socket" };
  SHOW("sendto a missing path", sendto(sv[0], "x", 1, 0, (void *)&a, sizeof a));
  a.sun_path[0] = 0;
  SHOW("sendto an unbound abstract name", sendto(sv[0], "x", 1, 0, (void *)&a, sizeof a));
  SHOW("sendto address too short", sendto(sv[0], "x", 1, 0, (void *)&a, 2));
  close(sv[0]);
  close(sv[1]);
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  SHOW("sendto with an address on a stream", sendto(sv[0], "x", 1, 0, (void *)&a, sizeof a));
  SHOW("listen stream", listen(sv[0], 1));
  SHOW("accept stream", accept(sv[0], NULL, NULL));
  pipe(pp);
  SHOW("shutdown a pipe", shutdown(pp[0], SHUT_RD));
  SHOW("recv a pipe", recv(pp[0], &v, 1, 0));
  SHOW("getsockopt a pipe", ({ l = 4; getsockopt(pp[0], SOL_SOCKET, SO_TYPE, &v, &l); }));
  SHOW("getpeername a pipe", ({ l = sizeof a; getpeername(pp[0], (void *)&a, &l); }));
  SHOW("sendmsg a pipe", ({ struct msghdr m = { 0 }; sendmsg(pp[1], &m, 0); }));
  SHOW("shutdown a closed fd", shutdown(999, SHUT_RD));
  SHOW("lseek a socket", lseek(sv[0], 0, SEEK_SET));
  SHOW("pread a socket", pread(sv[0], &v, 1, 0));
  close(pp[0]);
  close(pp[1]);
  close(sv[0]);
  close(sv[1]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, on_sigpipe);
  for (int t = 0; t < 3; t++) echo(TYPES[t]);
  for (int t = 0; t < 3; t++) { printf("%s peek/trunc:\n", tname(TYPES[t])); peek_trunc(TYPES[t]); }
  for (int t = 0; t < 3; t++) { printf("%s shutdown:\n", tname(TYPES[t])); shutdowns(TYPES[t]); }
  for (int t = 0; t < 3; t++) { printf("%s broken:\n", tname(TYPES[t])); broken(TYPES[t]); }
  sigpipe_kills();
  for (int t = 0; t < 3; t++) { printf("%s nonblocking:\n", tname(TYPES[t])); nonblocking(TYPES[t]); }
  bulk();
  waits();
  readiness();
  for (int t = 0; t < 3; t++) { printf("%s rights:\n", tname(TYPES[t])); rights(TYPES[t]); }
  for (int t = 0; t < 3; t++) { printf("%s credentials:\n", tname(TYPES[t])); creds(TYPES[t]); }
  options();
  errors();
  return 0;
}
