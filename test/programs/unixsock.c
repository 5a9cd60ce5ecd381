/*
 * Named AF_UNIX sockets between processes: `unixsock CASE`.
 *   stream    a server on a file-system path accepts in a loop and echoes to
 *             several forked clients; names seen by each side; unlink
 *   dgram     datagrams with sendto/recvfrom addresses, connect as default peer, EPERM
 *   abstract  abstract names (sun_path[0] == 0), gone when the socket closes; autobind
 *   errors    EADDRINUSE / ECONNREFUSED / ENOENT / EINVAL / EPROTOTYPE / EISCONN...
 *   nonblock  nonblocking accept and connect (EAGAIN with a full backlog), a blocking connect that waits
 *   poll      poll and epoll on a listener and on unconnected sockets
 *   peercred  SO_PEERCRED pids, as relations (the peer is the child fork named)
 * Works in a fresh directory under /tmp; prints only what does not depend
 * on the host (no pids, inode numbers, absolute paths, autobind digits).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
  case 0: return "0";
  case EAGAIN: return "EAGAIN"; case EPIPE: return "EPIPE"; case ECONNRESET: return "ECONNRESET";
  case ECONNREFUSED: return "ECONNREFUSED"; case ENOTCONN: return "ENOTCONN"; case EINVAL: return "EINVAL";
  case EOPNOTSUPP: return "EOPNOTSUPP"; case EISCONN: return "EISCONN"; case EADDRINUSE: return "EADDRINUSE";
  case ENOENT: return "ENOENT"; case ENOTDIR: return "ENOTDIR"; case EPROTOTYPE: return "EPROTOTYPE"; case EPERM: return "EPERM";
  case EACCES: return "EACCES"; case ENOTSOCK: return "ENOTSOCK"; case EAFNOSUPPORT: return "EAFNOSUPPORT";
  case EPROTONOSUPPORT: return "EPROTONOSUPPORT"; case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT"; case EFAULT: return "EFAULT";
  default: return "E?";
  }
}

#define SHOW(label, expr) do { errno = 0; long r_ = (long)(expr); \
  if (r_ < 0) printf("%s = -1 %s\n", label, ename(errno)); else printf("%s = %ld\n", label, r_); } while (0)

static char tmpdir[64];

/* A fresh directory to work in (removed at the end with what is left in it). */
static void enter_tmp(void) {
  strcpy(tmpdir, "/tmp/unixsock-XXXXXX");
  if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0) { perror("tmp"); exit(1); }
}
static void leave_tmp(void) {
  if (chdir("/") != 0) return;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "%s/sock", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/dg1", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/dg2", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/file", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/nb", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/p", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/pc", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/a", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/b", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/b2", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/c", tmpdir); unlink(cmd);
  snprintf(cmd, sizeof cmd, "%s/dir", tmpdir); rmdir(cmd);
  rmdir(tmpdir);
}

static socklen_t mkaddr(struct sockaddr_un *a, const char *path) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strcpy(a->sun_path, path);
  return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}
/* An abstract address: a NUL, then `name` (its length counts, no trailing NUL). */
static socklen_t mkabstract(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  memcpy(a->sun_path + 1, name, strlen(name));
  return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

/* Prints a name as "len N path P" or "len N abstract <name>". */
static void show_name(const char *label, struct sockaddr_un *a, socklen_t len) {
  if (len <= offsetof(struct sockaddr_un, sun_path)) printf("%s: len %u (unnamed)\n", label, (unsigned)len);
  else if (a->sun_path[0]) printf("%s: len %u path %s\n", label, (unsigned)len, a->sun_path);
  else printf("%s: len %u abstract %.*s\n", label, (unsigned)len, (int)(len - offsetof(struct sockaddr_un, sun_path) - 1), a->sun_path + 1);
}

static int reap(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int listener(int type, const char *path, int backlog) {
  struct sockaddr_un a;
  socklen_t len = mkaddr(&a, path);
  int s = socket(AF_UNIX, type, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&a, len) != 0 || listen(s, backlog) != 0) { perror("listener"); exit(1); }
  return s;
}

static int connect_path(int type, const char *path) {
  struct sockaddr_un a;
  socklen_t len = mkaddr(&a, path);
  int s = socket(AF_UNIX, type, 0);
  if (s < 0) return -1;
  if (connect(s, (struct sockaddr *)&a, len) != 0) { int e = errno; close(s); errno = e; return -1; }
  return s;
}

/* Several clients, each forked, each sending its line; the server accepts in a loop and echoes upper-cased. */
static void case_stream(void) {
  enum { CLIENTS = 4 };
  int srv = listener(SOCK_STREAM, "sock", 8);
  struct stat st;
  SHOW("lstat sock", lstat("sock", &st));
  printf("sock is a socket node: %d, mode %o\n", S_ISSOCK(st.st_mode), st.st_mode & 0777);
  int one;
  socklen_t ol = sizeof one;
  getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &one, &ol);
  printf("SO_ACCEPTCONN %d\n", one);
  pid_t kids[CLIENTS];
  for (int k = 0; k < CLIENTS; k++) {
    kids[k] = fork();
    if (kids[k] == 0) {
      close(srv);
      int c = connect_path(SOCK_STREAM, "sock");
      if (c < 0) _exit(10);
      char msg[32], buf[64];
      int n = snprintf(msg, sizeof msg, "hello from client %d", k);
      if (write(c, msg, n) != n) _exit(11);
      shutdown(c, SHUT_WR);
      long got = 0, r;
      while ((r = read(c, buf + got, sizeof buf - 1 - got)) > 0) got += r;
      buf[got] = 0;
      printf("client %d got \"%s\"\n", k, buf);
      fflush(stdout);
      _exit(0);
    }
    /* one at a time, so that the output's order is fixed */
    struct sockaddr_un peer;
    socklen_t pl = sizeof peer;
    int c = accept(srv, (struct sockaddr *)&peer, &pl);
    if (c < 0) { perror("accept"); exit(1); }
    if (k == 0) {
      show_name("accept's peer address", &peer, pl);
      struct sockaddr_un me;
      socklen_t ml = sizeof me;
      getsockname(c, (struct sockaddr *)&me, &ml);
      show_name("accepted socket's name", &me, ml);
    }
    char buf[64];
    long got = 0, r;
    while ((r = read(c, buf + got, sizeof buf - got)) > 0) got += r;
    for (long j = 0; j < got; j++) if (buf[j] >= 'a' && buf[j] <= 'z') buf[j] -= 32;
    if (write(c, buf, got) != got) exit(1);
    close(c);
    printf("client %d exit %d\n", k, reap(kids[k]));
  }
  /* the client's view of the names */
  int c = connect_path(SOCK_STREAM, "sock");
  struct sockaddr_un a;
  socklen_t al = sizeof a;
  getpeername(c, (struct sockaddr *)&a, &al);
  show_name("client's peer name", &a, al);
  al = sizeof a;
  getsockname(c, (struct sockaddr *)&a, &al);
  show_name("client's own name", &a, al);
  /* data sent before accept waits in the new connection */
  SHOW("send before accept", send(c, "early", 5, 0));
  int s2 = accept(srv, NULL, NULL);
  char buf[16] = { 0 };
  SHOW("recv after accept", recv(s2, buf, sizeof buf, 0));
  printf("got %s\n", buf);
  char rb[16];
  al = sizeof a;
  send(s2, "back", 4, 0);
  SHOW("recvfrom on the client", recvfrom(c, rb, sizeof rb, 0, (struct sockaddr *)&a, &al));
  show_name("recvfrom's address", &a, al);
  close(c);
  SHOW("read at EOF", read(s2, buf, sizeof buf));
  close(s2);
  /* unlink removes the name: connect is ENOENT; the bound socket keeps its name */
  SHOW("unlink sock", unlink("sock"));
  errno = 0;
  SHOW("connect after unlink", connect_path(SOCK_STREAM, "sock"));
  al = sizeof a;
  getsockname(srv, (struct sockaddr *)&a, &al);
  show_name("listener's name after unlink", &a, al);
  close(srv);
  /* a node left by a closed socket refuses connections */
  int s = listener(SOCK_STREAM, "sock", 1);
  close(s);
  SHOW("connect to a closed socket's node", connect_path(SOCK_STREAM, "sock"));
  unlink("sock");
}

static void case_dgram(void) {
  struct sockaddr_un a1, a2, from;
  socklen_t l1 = mkaddr(&a1, "dg1"), l2 = mkaddr(&a2, "dg2"), fl;
  int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0), d3 = socket(AF_UNIX, SOCK_DGRAM, 0);
  SHOW("bind dg1", bind(d1, (struct sockaddr *)&a1, l1));
  SHOW("bind dg2", bind(d2, (struct sockaddr *)&a2, l2));
  SHOW("sendto dg2", sendto(d1, "one", 3, 0, (struct sockaddr *)&a2, l2));
  SHOW("sendto dg2 from unbound", sendto(d3, "three", 5, 0, (struct sockaddr *)&a2, l2));
  char buf[32];
  fl = sizeof from;
  SHOW("recvfrom", recvfrom(d2, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
  show_name("from", &from, fl);
  fl = sizeof from;
  SHOW("recvfrom", recvfrom(d2, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
  printf("unbound sender's address length %u\n", (unsigned)fl);
  /* a short address buffer: cut, with the full length */
  SHOW("sendto dg2", sendto(d1, "x", 1, 0, (struct sockaddr *)&a2, l2));
  fl = 4;
  memset(&from, 0, sizeof from);
  SHOW("recvfrom short", recvfrom(d2, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
  printf("len %u, bytes %.2s\n", (unsigned)fl, from.sun_path);
  /* recvmsg's msg_name */
  sendto(d1, "msg", 3, 0, (struct sockaddr *)&a2, l2);
  struct iovec iov = { buf, sizeof buf };
  struct msghdr m = { 0 };
  m.msg_name = &from;
  m.msg_namelen = sizeof from;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  SHOW("recvmsg", recvmsg(d2, &m, 0));
  show_name("msg_name", &from, m.msg_namelen);
  /* connect: a default peer; a socket connected elsewhere refuses others (EPERM) */
  SHOW("connect d1 -> dg2", connect(d1, (struct sockaddr *)&a2, l2));
  SHOW("send", send(d1, "conn", 4, 0));
  fl = sizeof from;
  SHOW("recvfrom", recvfrom(d2, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
  show_name("from", &from, fl);
  SHOW("connect d2 -> dg1", connect(d2, (struct sockaddr *)&a1, l1));
  SHOW("sendto dg2 from a third socket", sendto(d3, "no", 2, 0, (struct sockaddr *)&a2, l2));
  fl = sizeof from;
  getpeername(d1, (struct sockaddr *)&from, &fl);
  show_name("d1's peer", &from, fl);
  struct sockaddr unspec = { .sa_family = AF_UNSPEC };
  SHOW("connect AF_UNSPEC", connect(d1, &unspec, sizeof unspec));
  SHOW("getpeername after", getpeername(d1, (struct sockaddr *)&from, &fl));
  SHOW("send unconnected", send(d1, "x", 1, 0));
  /* across fork: a child sends to a bound name */
  SHOW("mkdir", mkdir("dir", 0755));
  pid_t pid = fork();
  if (pid == 0) {
    int c = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un me;
    socklen_t ml = mkaddr(&me, "dir/../dg1");
    for (int k = 0; k < 3; k++) sendto(c, "child", 5, 0, (struct sockaddr *)&me, ml);
    _exit(0);
  }
  for (int k = 0; k < 3; k++) SHOW("recv from child", recv(d1, buf, sizeof buf, 0));
  printf("child exit %d\n", reap(pid));
  close(d2);
  SHOW("sendto a closed socket's name", sendto(d1, "x", 1, 0, (struct sockaddr *)&a2, l2));
  close(d1);
  close(d3);
  unlink("dg1");
  unlink("dg2");
}

static void case_abstract(void) {
  char name[64];
  snprintf(name, sizeof name, "faultline-test-%d", (int)getpid()); /* unique on the host too */
  struct sockaddr_un a, got;
  socklen_t len = mkabstract(&a, name), gl;
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("bind abstract", bind(s, (struct sockaddr *)&a, len));
  gl = sizeof got;
  getsockname(s, (struct sockaddr *)&got, &gl);
  printf("name length is the given one: %d, same bytes %d\n", gl == len, memcmp(&got, &a, len) == 0);
  int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
  SHOW("bind the same name", bind(s2, (struct sockaddr *)&a, len));
  SHOW("connect before listen", connect(s2, (struct sockaddr *)&a, len));
  SHOW("listen", listen(s, 4));
  pid_t pid = fork();
  if (pid == 0) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, len) != 0) _exit(10);
    write(c, "abstract hello", 14);
    _exit(0);
  }
  int c = accept(s, NULL, NULL);
  char buf[32] = { 0 };
  long n = 0, r;
  while ((r = read(c, buf + n, sizeof buf - 1 - n)) > 0) n += r;
  printf("server got \"%s\"\n", buf);
  printf("child exit %d\n", reap(pid));
  close(c);
  /* a name is one length: a longer one with the same prefix is another name */
  struct sockaddr_un b = a;
  SHOW("connect to a longer name", connect(s2, (struct sockaddr *)&b, len + 1));
  close(s);
  SHOW("connect after close", connect(s2, (struct sockaddr *)&a, len));
  int s3 = socket(AF_UNIX, SOCK_DGRAM, 0);
  SHOW("bind again after close", bind(s3, (struct sockaddr *)&a, len));
  close(s3);
  /* autobind: bind with the family alone gives "\0" and 5 hex digits */
  int s4 = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un fam = { .sun_family = AF_UNIX };
  SHOW("autobind", bind(s4, (struct sockaddr *)&fam, sizeof(sa_family_t)));
  gl = sizeof got;
  getsockname(s4, (struct sockaddr *)&got, &gl);
  int hex = 1;
  for (int k = 1; k <= 5; k++) hex &= (got.sun_path[k] >= '0' && got.sun_path[k] <= '9') || (got.sun_path[k] >= 'a' && got.sun_path[k] <= 'f');
  printf("autobind name: len %u, leading NUL %d, five hex digits %d\n", (unsigned)gl, got.sun_path[0] == 0, hex);
  SHOW("autobind again", bind(s4, (struct sockaddr *)&fam, sizeof(sa_family_t)));
  SHOW("bind a path after autobind", bind(s4, (struct sockaddr *)&b, mkaddr(&b, "a")));
  SHOW("the path is not left", access("a", F_OK));
  /* the autobound name can be sent to */
  int s5 = socket(AF_UNIX, SOCK_DGRAM, 0);
  SHOW("sendto the autobound name", sendto(s5, "auto", 4, 0, (struct sockaddr *)&got, gl));
  SHOW("recv", recv(s4, buf, sizeof buf, MSG_DONTWAIT));
  close(s4);
  close(s5);
  close(s2);
}

struct errcase { const char *label; int type; const char *path; int how; };
enum { BIND, CONNECT, SENDTO };

static void case_errors(void) {
  int fd = open("file", O_CREAT | O_WRONLY, 0644);
  close(fd);
  mkdir("dir", 0755);
  int ls = listener(SOCK_STREAM, "sock", 1);
  int ds = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un a;
  bind(ds, (struct sockaddr *)&a, mkaddr(&a, "dg1"));
  static const struct errcase T[] = {
    { "bind an existing path", SOCK_STREAM, "sock", BIND },
    { "bind over a regular file", SOCK_STREAM, "file", BIND },
    { "bind over a directory", SOCK_DGRAM, "dir", BIND },
    { "bind in a missing directory", SOCK_STREAM, "nodir/s", BIND },
    { "bind under a file", SOCK_STREAM, "file/s", BIND },
    { "connect to a missing path", SOCK_STREAM, "missing", CONNECT },
    { "connect to a regular file", SOCK_STREAM, "file", CONNECT },
    { "connect to a directory", SOCK_STREAM, "dir", CONNECT },
    { "connect under a file", SOCK_STREAM, "file/x", CONNECT },
    { "connect stream to a datagram socket", SOCK_STREAM, "dg1", CONNECT },
    { "connect seqpacket to a stream listener", SOCK_SEQPACKET, "sock", CONNECT },
    { "connect dgram to a stream listener", SOCK_DGRAM, "sock", CONNECT },
    { "sendto a stream listener", SOCK_DGRAM, "sock", SENDTO },
    { "sendto a missing path", SOCK_DGRAM, "missing", SENDTO },
    { "sendto a regular file", SOCK_DGRAM, "file", SENDTO },
  };
  for (unsigned k = 0; k < sizeof T / sizeof T[0]; k++) {
    int s = socket(AF_UNIX, T[k].type, 0);
    socklen_t len = mkaddr(&a, T[k].path);
    errno = 0;
    long r = T[k].how == BIND ? bind(s, (struct sockaddr *)&a, len)
           : T[k].how == CONNECT ? connect(s, (struct sockaddr *)&a, len)
           : sendto(s, "x", 1, 0, (struct sockaddr *)&a, len);
    printf("%s = %ld %s\n", T[k].label, r, r < 0 ? ename(errno) : "");
    close(s);
  }
  /* addresses that are not well formed */
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un bad;
  mkaddr(&bad, "x");
  bad.sun_family = AF_INET;
  SHOW("bind AF_INET family", bind(s, (struct sockaddr *)&bad, 5));
  SHOW("connect AF_INET family", connect(s, (struct sockaddr *)&bad, 5));
  mkaddr(&bad, "x");
  SHOW("bind length 1", bind(s, (struct sockaddr *)&bad, 1));
  SHOW("bind length 111", bind(s, (struct sockaddr *)&bad, 111));
  SHOW("connect length 2", connect(s, (struct sockaddr *)&bad, 2));
  SHOW("connect length -1", connect(s, (struct sockaddr *)&bad, -1));
  SHOW("bind a bad pointer", bind(s, (struct sockaddr *)8, 10));
  /* state errors */
  SHOW("listen unbound", listen(s, 1));
  SHOW("accept unbound", accept(s, NULL, NULL));
  char buf[4];
  SHOW("recv unconnected stream", recv(s, buf, 4, MSG_DONTWAIT));
  SHOW("send unconnected stream", send(s, "x", 1, MSG_NOSIGNAL));
  SHOW("getpeername unconnected", getpeername(s, (struct sockaddr *)&bad, &(socklen_t){ sizeof bad }));
  SHOW("sendto on an unconnected stream with address", sendto(s, "x", 1, MSG_NOSIGNAL, (struct sockaddr *)&a, mkaddr(&a, "sock")));
  SHOW("connect", connect(s, (struct sockaddr *)&a, mkaddr(&a, "sock")));
  SHOW("connect again", connect(s, (struct sockaddr *)&a, mkaddr(&a, "sock")));
  SHOW("connect again, missing path", connect(s, (struct sockaddr *)&a, mkaddr(&a, "missing")));
  SHOW("listen connected", listen(s, 1));
  SHOW("sendto on a connected stream with address", sendto(s, "x", 1, 0, (struct sockaddr *)&a, mkaddr(&a, "sock")));
  SHOW("bind a connected socket", bind(s, (struct sockaddr *)&a, mkaddr(&a, "b")));
  SHOW("connect a listener", connect(ls, (struct sockaddr *)&a, mkaddr(&a, "sock")));
  SHOW("send on a listener", send(ls, "x", 1, MSG_NOSIGNAL));
  SHOW("recv on a listener", recv(ls, buf, 4, MSG_DONTWAIT));
  SHOW("listen a datagram socket", listen(ds, 1));
  SHOW("accept a datagram socket", accept(ds, NULL, NULL));
  SHOW("bind a bound socket to a new path", bind(ls, (struct sockaddr *)&a, mkaddr(&a, "b2")));
  SHOW("that path is not left", access("b2", F_OK));
  int sp = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  SHOW("send unconnected seqpacket", send(sp, "x", 1, MSG_NOSIGNAL));
  SHOW("recv unconnected seqpacket", recv(sp, buf, 4, MSG_DONTWAIT));
  SHOW("socket type 4", socket(AF_UNIX, 4, 0));
  SHOW("socket protocol 2", socket(AF_UNIX, SOCK_STREAM, 2));
  SHOW("socket bad flags", socket(AF_UNIX, SOCK_STREAM | 0x100, 0));
  SHOW("accept4 bad flags", accept4(ls, NULL, NULL, 1));
  SHOW("bind on a file descriptor", bind(0 + open("file", O_RDONLY), (struct sockaddr *)&a, mkaddr(&a, "c")));
  /* a listener with a connection nobody accepts: its close resets the client */
  int c = connect_path(SOCK_STREAM, "sock");
  close(ls);
  SHOW("recv after the listener closed", recv(c, buf, 4, 0));
  SHOW("recv again", recv(c, buf, 4, 0));
  close(c);
  close(s);
  close(sp);
  close(ds);
  unlink("sock");
  unlink("dg1");
  unlink("file");
}

static void case_nonblock(void) {
  int srv = listener(SOCK_STREAM, "nb", 1);
  fcntl(srv, F_SETFL, O_NONBLOCK);
  SHOW("accept with none waiting", accept(srv, NULL, NULL));
  int cs[4], n = 0;
  for (int k = 0; k < 4; k++) {
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un a;
    errno = 0;
    int r = connect(c, (struct sockaddr *)&a, mkaddr(&a, "nb"));
    printf("nonblocking connect %d = %d %s\n", k, r, r < 0 ? ename(errno) : "");
    if (r == 0) cs[n++] = c; else close(c);
  }
  /* a blocking connect waits for room: a child accepts one later */
  pid_t pid = fork();
  if (pid == 0) {
    usleep(100000);
    int a = accept(srv, NULL, NULL);
    _exit(a >= 0 ? 0 : 1);
  }
  int c = connect_path(SOCK_STREAM, "nb");
  printf("blocking connect after waiting = %d\n", c >= 0 ? 0 : -1);
  printf("child exit %d\n", reap(pid));
  int a = accept4(srv, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  printf("accept4 = %d, O_NONBLOCK %d, FD_CLOEXEC %d\n", a >= 0 ? 0 : -1, (fcntl(a, F_GETFL) & O_NONBLOCK) != 0, fcntl(a, F_GETFD) & FD_CLOEXEC);
  char buf[4];
  SHOW("recv on the accepted nonblocking socket", recv(a, buf, 4, 0));
  int a2 = accept(srv, NULL, NULL);
  SHOW("accepted another", a2 >= 0 ? 0 : -1);
  SHOW("accept with none waiting", accept(srv, NULL, NULL));
  /* SO_RCVTIMEO bounds a blocking accept */
  fcntl(srv, F_SETFL, 0);
  struct timeval tv = { 0, 20000 };
  setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SHOW("accept with a timeout", accept(srv, NULL, NULL));
  for (int k = 0; k < n; k++) close(cs[k]);
  close(c); close(a); close(a2); close(srv);
  unlink("nb");
}

static void show_revents(const char *label, int fd, short events) {
  struct pollfd p = { fd, events, 0 };
  int r = poll(&p, 1, 0);
  printf("%s: poll %d revents%s%s%s%s\n", label, r, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
         p.revents & POLLHUP ? " HUP" : "", p.revents & POLLERR ? " ERR" : "");
}

static void case_poll(void) {
  int srv = listener(SOCK_STREAM, "p", 4);
  show_revents("idle listener", srv, POLLIN | POLLOUT);
  int fresh = socket(AF_UNIX, SOCK_STREAM, 0);
  show_revents("unconnected stream", fresh, POLLIN | POLLOUT);
  int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
  show_revents("unconnected dgram", dg, POLLIN | POLLOUT);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(50000);
    int c = connect_path(SOCK_STREAM, "p");
    write(c, "hi", 2);
    usleep(200000);
    _exit(c >= 0 ? 0 : 1);
  }
  struct pollfd p = { srv, POLLIN, 0 };
  SHOW("poll waits for a connection", poll(&p, 1, 5000));
  printf("revents IN %d\n", (p.revents & POLLIN) != 0);
  int ep = epoll_create1(0);
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = srv }, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev);
  SHOW("epoll_wait on the listener", epoll_wait(ep, &out, 1, 0));
  int c = accept(srv, NULL, NULL);
  show_revents("listener after accept", srv, POLLIN | POLLOUT);
  SHOW("epoll_wait after accept", epoll_wait(ep, &out, 1, 0));
  struct pollfd q = { c, POLLIN, 0 };
  SHOW("poll on the connection", poll(&q, 1, 5000));
  printf("child exit %d\n", reap(pid));
  show_revents("connection after the client left", c, POLLIN | POLLOUT);
  fd_set rf;
  FD_ZERO(&rf);
  FD_SET(srv, &rf);
  struct timeval tv = { 0, 0 };
  SHOW("select on an idle listener", select(srv + 1, &rf, NULL, NULL, &tv));
  close(c); close(ep); close(fresh); close(dg); close(srv);
  unlink("p");
}

static void case_peercred(void) {
  int srv = listener(SOCK_STREAM, "pc", 4);
  int pfd[2];
  if (pipe(pfd) != 0) exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    close(pfd[0]);
    int c = connect_path(SOCK_STREAM, "pc");
    struct ucred u;
    socklen_t ul = sizeof u;
    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &u, &ul);
    /* the listener's creds: the parent, who called listen */
    int ok = u.pid == getppid() && u.uid == getuid() && u.gid == getgid();
    write(pfd[1], &ok, sizeof ok);
    char b;
    read(c, &b, 1);
    _exit(0);
  }
  close(pfd[1]);
  int c = accept(srv, NULL, NULL);
  struct ucred u;
  socklen_t ul = sizeof u;
  SHOW("SO_PEERCRED", getsockopt(c, SOL_SOCKET, SO_PEERCRED, &u, &ul));
  printf("length %u, peer pid is the child fork returned: %d, uid %d, gid %d\n", (unsigned)ul, u.pid == pid, u.uid == getuid(), u.gid == getgid());
  int ok = 0;
  read(pfd[0], &ok, sizeof ok);
  printf("the child sees the parent as its peer: %d\n", ok);
  write(c, "x", 1);
  printf("child exit %d\n", reap(pid));
  ul = sizeof u;
  getsockopt(srv, SOL_SOCKET, SO_PEERCRED, &u, &ul);
  printf("listener's SO_PEERCRED is the caller of listen: %d\n", u.pid == getpid());
  int fresh = socket(AF_UNIX, SOCK_STREAM, 0);
  ul = sizeof u;
  getsockopt(fresh, SOL_SOCKET, SO_PEERCRED, &u, &ul);
  printf("unconnected socket's SO_PEERCRED: pid %d uid %d gid %d\n", u.pid, (int)u.uid, (int)u.gid);
  close(fresh); close(c); close(srv);
  unlink("pc");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) { fprintf(stderr, "usage: unixsock CASE\n"); return 2; }
  enter_tmp();
  const char *c = argv[1];
  if (!strcmp(c, "stream")) case_stream();
  else if (!strcmp(c, "dgram")) case_dgram();
  else if (!strcmp(c, "abstract")) case_abstract();
  else if (!strcmp(c, "errors")) case_errors();
  else if (!strcmp(c, "nonblock")) case_nonblock();
  else if (!strcmp(c, "poll")) case_poll();
  else if (!strcmp(c, "peercred")) case_peercred();
  else { fprintf(stderr, "unixsock: unknown case %s\n", c); leave_tmp(); return 2; }
  leave_tmp();
  return 0;
}
