/*
 * Names are bytes and open files are objects: one case per argv[1], run in
 * the scratch directory argv[2] (empty, made for the run). Prints what the
 * calls answer (values that do not depend on the run: sizes, modes, link
 * counts, errno names, file-system types, names as hex), so a native run and
 * a faultline run print the same lines.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

static const char *ename(int e) {
  switch (e) {
    case 0: return "OK";
    case ENOENT: return "ENOENT"; case EACCES: return "EACCES"; case EEXIST: return "EEXIST"; case EINVAL: return "EINVAL";
    case EISDIR: return "EISDIR"; case ENOTDIR: return "ENOTDIR"; case EPERM: return "EPERM"; case ENODATA: return "ENODATA";
    case ERANGE: return "ERANGE"; case EOPNOTSUPP: return "EOPNOTSUPP"; case EBADF: return "EBADF"; case ELOOP: return "ELOOP";
    case EXDEV: return "EXDEV"; case ENOTEMPTY: return "ENOTEMPTY"; case E2BIG: return "E2BIG"; case EFAULT: return "EFAULT";
    case ENAMETOOLONG: return "ENAMETOOLONG"; case ENOSYS: return "ENOSYS";
    default: { static char b[32]; snprintf(b, sizeof b, "errno%d", e); return b; }
  }
}

/* Prints `what = rc` or `what = -1 ENAME`. */
static long show(const char *what, long rc) {
  if (rc < 0) printf("%s = -1 %s\n", what, ename(errno));
  else printf("%s = %ld\n", what, rc);
  return rc;
}

static void hex(const char *what, const unsigned char *p, size_t n) {
  printf("%s:", what);
  for (size_t k = 0; k < n; k++) printf(" %02x", p[k]);
  printf("\n");
}

static void fstat_line(const char *what, int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0) { show(what, -1); return; }
  printf("%s: type %o mode %o nlink %lu size %lld\n", what, st.st_mode & S_IFMT, st.st_mode & 07777, (unsigned long)st.st_nlink, (long long)st.st_size);
}

static void statfs_line(const char *what, int fd) {
  struct statfs s;
  if (fstatfs(fd, &s) < 0) { show(what, -1); return; }
  printf("%s: type %lx bsize %ld namelen %ld frsize %ld flags %lx\n", what, (long)s.f_type, (long)s.f_bsize, (long)s.f_namelen, (long)s.f_frsize, (long)s.f_flags);
}

static int mkfile(const char *name, const char *text) {
  int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0 && text) write(fd, text, strlen(text));
  return fd;
}

/* open, unlink, then every call on the descriptor (Python's TemporaryFile). */
static void unlinked(void) {
  int fd = mkfile("f", NULL);
  char buf[5000];
  memset(buf, 'x', sizeof buf);
  show("write", write(fd, buf, sizeof buf));
  show("unlink", unlink("f"));
  fstat_line("fstat", fd);
  statfs_line("fstatfs", fd);
  show("ftruncate 100", ftruncate(fd, 100));
  fstat_line("fstat", fd);
  show("fchmod 600", fchmod(fd, 0600));
  show("fchown", fchown(fd, getuid(), getgid()));
  fstat_line("fstat", fd);
  char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  printf("mmap byte 99: %c\n", m == MAP_FAILED ? '?' : m[99]);
  show("pwrite", pwrite(fd, "yz", 2, 200));
  char back[3] = {0};
  show("pread", pread(fd, back, 2, 200));
  printf("read back: %s\n", back);
  show("linkat AT_EMPTY_PATH of an unlinked file", linkat(fd, "", AT_FDCWD, "g", AT_EMPTY_PATH));
  /* /proc/self/fd/N of an unlinked file: its link says (deleted), and opening it reaches the file. */
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n >= 0) { target[n] = 0; printf("fd link ends: %s\n", strrchr(target, '/')); }
  int again = show("open /proc/self/fd/N", open(link, O_RDONLY));
  char c3[3] = {0};
  show("pread through it", pread(again, c3, 2, 200));
  printf("reopened reads: %s\n", c3);
  show("close it", close(again));
  show("close", close(fd));
}

/* O_TMPFILE: an unnamed file, named later by linkat(AT_EMPTY_PATH). */
static void tmpfile_case(void) {
  int fd = show("open O_TMPFILE", open(".", O_TMPFILE | O_RDWR, 0600));
  if (fd < 0) return;
  show("write", write(fd, "unnamed", 7));
  fstat_line("fstat", fd);
  show("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, "named", AT_EMPTY_PATH));
  fstat_line("fstat", fd);
  close(fd);
  char buf[16] = {0};
  int in = open("named", O_RDONLY);
  show("read named", read(in, buf, sizeof buf - 1));
  printf("named holds: %s\n", buf);
  show("open O_TMPFILE read-only", open(".", O_TMPFILE | O_RDONLY, 0600));
  show("open O_TMPFILE of a file", open("named", O_TMPFILE | O_RDWR, 0600));
}

/* Names change under open files and directories. */
static void renamed(void) {
  int fd = mkfile("f", "data");
  show("rename f", rename("f", "f2"));
  fstat_line("fstat", fd);
  show("fchmod 640", fchmod(fd, 0640));
  fstat_line("fstat", fd);
  mkdir("d", 0755);
  int dfd = open("d", O_RDONLY | O_DIRECTORY);
  show("rename d", rename("d", "e"));
  int in = openat(dfd, "inside", O_WRONLY | O_CREAT, 0600);
  show("openat(dirfd, inside)", in >= 0 ? 0 : -1);
  struct stat st;
  show("stat e/inside", stat("e/inside", &st));
  show("fchdir", fchdir(dfd));
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd)) printf("cwd ends: %s\n", strrchr(cwd, '/'));
  show("chdir ..", chdir(".."));
  /* The working directory is a directory, not a name: renamed under us, getcwd follows it; removed, ENOENT. */
  mkdir("w", 0755);
  show("chdir w", chdir("w"));
  show("rename ../w ../w2", rename("../w", "../w2"));
  if (getcwd(cwd, sizeof cwd)) printf("cwd after rename ends: %s\n", strrchr(cwd, '/'));
  show("create in the renamed cwd", close(open("made", O_WRONLY | O_CREAT, 0600)));
  show("stat ../w2/made", stat("../w2/made", &st));
  mkdir("gone", 0755);
  show("chdir gone", chdir("gone"));
  show("rmdir ../gone", rmdir("../gone"));
  show("getcwd of a removed cwd", getcwd(cwd, sizeof cwd) ? 0 : -1);
  show("chdir ..", chdir(".."));
  close(in);
  close(dfd);
  close(fd);
}

/* A directory removed while open (cf. iterate_dir on a dead directory). */
static void rmdired(void) {
  mkdir("d", 0755);
  int dfd = open("d", O_RDONLY | O_DIRECTORY);
  show("rmdir", rmdir("d"));
  char buf[4096];
  show("getdents64", syscall(SYS_getdents64, dfd, buf, sizeof buf));
  fstat_line("fstat", dfd);
  statfs_line("fstatfs", dfd);
  show("fchmod", fchmod(dfd, 0700));
  show("openat(removed dir, x, O_CREAT)", openat(dfd, "x", O_WRONLY | O_CREAT, 0600));
  show("mkdirat(removed dir, y)", mkdirat(dfd, "y", 0700));
  close(dfd);
}

struct dirent64_rec { unsigned long long ino; long long off; unsigned short reclen; unsigned char type; char name[]; };

/* Directory order and d_off cookies: read one record at a time, seek back to a cookie, read on. */
static void dirseek(void) {
  char name[32];
  mkdir("d", 0755);
  for (int k = 0; k < 24; k++) {
    snprintf(name, sizeof name, "d/entry-%02d", k);
    close(mkfile(name, NULL));
  }
  int fd = open("d", O_RDONLY | O_DIRECTORY);
  char small[8];
  show("getdents64 into 8 bytes", syscall(SYS_getdents64, fd, small, sizeof small));
  long long offs[40];
  char names[40][32];
  int n = 0;
  char buf[48];
  for (;;) {
    long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got <= 0) { show("getdents64 at end", got); break; }
    for (long at = 0; at < got && n < 40;) {
      struct dirent64_rec *d = (struct dirent64_rec *)(buf + at);
      offs[n] = d->off;
      snprintf(names[n], sizeof names[n], "%s", d->name);
      printf("entry %d: %s type %d\n", n, d->name, d->type);
      n++;
      at += d->reclen;
    }
  }
  printf("entries: %d\n", n);
  off_t pos = lseek(fd, offs[9], SEEK_SET);
  printf("lseek to d_off of entry 9 returns it: %s\n", pos == offs[9] ? "yes" : "no");
  long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
  if (got > 0) printf("after seek: %s (want %s)\n", ((struct dirent64_rec *)buf)->name, names[10]);
  printf("SEEK_CUR is the last d_off: %s\n", lseek(fd, 0, SEEK_CUR) == ((struct dirent64_rec *)buf)->off ? "yes" : "no");
  show("lseek 0", lseek(fd, 0, SEEK_SET));
  DIR *dir = fdopendir(fd);
  int again = 0;
  while (readdir(dir)) again++;
  printf("readdir after rewind: %d\n", again);
  closedir(dir);
}

/* The standard streams and /proc/self/maps are files on file systems too. */
static void fds(void) {
  for (int fd = 0; fd < 3; fd++) {
    char what[32];
    snprintf(what, sizeof what, "fstatfs %d", fd);
    statfs_line(what, fd);
  }
  int m = open("/proc/self/maps", O_RDONLY);
  statfs_line("fstatfs /proc/self/maps", m);
  close(m);
  int p[2];
  pipe(p);
  statfs_line("fstatfs pipe", p[0]);
  struct statfs s;
  show("statfs .", statfs(".", &s));
}

/* Extended attributes on the host file, as the host file system keeps them. */
static void xattrs(void) {
  close(mkfile("f", "x"));
  symlink("f", "l");
  char v[64];
  show("setxattr user.a", setxattr("f", "user.a", "hello", 5, 0));
  show("setxattr user.a XATTR_CREATE", setxattr("f", "user.a", "again", 5, XATTR_CREATE));
  show("setxattr user.b XATTR_REPLACE", setxattr("f", "user.b", "x", 1, XATTR_REPLACE));
  show("getxattr size", getxattr("f", "user.a", NULL, 0));
  long n = show("getxattr", getxattr("f", "user.a", v, sizeof v));
  if (n > 0) printf("value: %.*s\n", (int)n, v);
  show("getxattr into 2 bytes", getxattr("f", "user.a", v, 2));
  show("getxattr through the link", getxattr("l", "user.a", v, sizeof v));
  show("lgetxattr on the link", lgetxattr("l", "user.a", v, sizeof v));
  show("lsetxattr user.* on a link", lsetxattr("l", "user.c", "x", 1, 0));
  show("getxattr missing", getxattr("f", "user.none", v, sizeof v));
  char list[256];
  n = show("listxattr", listxattr("f", list, sizeof list));
  for (long at = 0; at < n; at += strlen(list + at) + 1) printf("  name %s\n", list + at);
  int fd = open("f", O_RDONLY);
  show("fsetxattr user.b", fsetxattr(fd, "user.b", "bb", 2, 0));
  show("fgetxattr user.b", fgetxattr(fd, "user.b", v, sizeof v));
  show("flistxattr size", flistxattr(fd, NULL, 0));
  show("fremovexattr user.b", fremovexattr(fd, "user.b"));
  show("removexattr user.a", removexattr("f", "user.a"));
  show("removexattr user.a again", removexattr("f", "user.a"));
  show("listxattr after", listxattr("f", list, sizeof list));
  char longname[300];
  memset(longname, 'n', sizeof longname - 1);
  memcpy(longname, "user.", 5);
  longname[299] = 0;
  show("getxattr name too long", getxattr("f", longname, v, sizeof v));
  show("getxattr empty name", getxattr("f", "", v, sizeof v));
  show("setxattr unknown namespace", setxattr("f", "bogus.a", "x", 1, 0));
  close(fd);
}

static void times_line(const char *what, const char *name, int flags) {
  struct stat st;
  if (fstatat(AT_FDCWD, name, &st, flags) < 0) { show(what, -1); return; }
  printf("%s: atime %lld.%09ld mtime %lld.%09ld\n", what, (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* utimensat and the older calls; UTIME_NOW is checked against the clock, not printed. */
static void times(void) {
  close(mkfile("f", "x"));
  symlink("f", "l");
  struct timespec ts[2] = {{1000000000, 123456789}, {1500000000, 987654321}};
  show("utimensat", utimensat(AT_FDCWD, "f", ts, 0));
  times_line("f", "f", 0);
  struct timespec omit[2] = {{0, UTIME_OMIT}, {1600000000, 5}};
  show("utimensat UTIME_OMIT atime", utimensat(AT_FDCWD, "f", omit, 0));
  times_line("f", "f", 0);
  struct timespec link[2] = {{1100000000, 1}, {1200000000, 2}};
  show("utimensat AT_SYMLINK_NOFOLLOW", utimensat(AT_FDCWD, "l", link, AT_SYMLINK_NOFOLLOW));
  times_line("l (the link)", "l", AT_SYMLINK_NOFOLLOW);
  times_line("f (untouched)", "f", 0);
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  show("utimensat tv_nsec 1e9", utimensat(AT_FDCWD, "f", bad, 0));
  show("utimensat bad flags", utimensat(AT_FDCWD, "f", ts, 0x4));
  show("utimensat missing", utimensat(AT_FDCWD, "missing", ts, 0));
  struct timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  time_t t0 = time(NULL);
  show("utimensat UTIME_NOW", utimensat(AT_FDCWD, "f", now, 0));
  struct stat st;
  stat("f", &st);
  printf("UTIME_NOW is now: %s\n", st.st_mtim.tv_sec >= t0 && st.st_mtim.tv_sec <= time(NULL) ? "yes" : "no");
  int fd = open("f", O_WRONLY);
  write(fd, "more", 4);
  show("futimens", futimens(fd, ts));
  close(fd);
  times_line("f after write and futimens", "f", 0);
  struct timeval tv[2] = {{1300000000, 5}, {1310000000, 6}};
  show("utimes", utimes("f", tv));
  times_line("f", "f", 0);
  struct timeval badtv[2] = {{0, 1000000}, {0, 0}};
  show("utimes tv_usec 1e6", utimes("f", badtv));
  struct utimbuf ub = {1400000000, 1410000000};
  show("utime", utime("f", &ub));
  times_line("f", "f", 0);
  show("futimesat", syscall(SYS_futimesat, AT_FDCWD, "f", tv));
  times_line("f", "f", 0);
}

/* truncate's checks (cf. vfs_truncate). */
static void truncates(void) {
  close(mkfile("f", "0123456789"));
  mkdir("d", 0755);
  show("truncate -1", truncate("f", -1));
  show("truncate /dev/null", truncate("/dev/null", 0));
  show("truncate a directory", truncate("d", 0));
  show("truncate missing", truncate("missing", 0));
  show("truncate 4", truncate("f", 4));
  struct stat st;
  stat("f", &st);
  printf("size %lld\n", (long long)st.st_size);
}

/* symlink, link, linkat flags, renameat2 flags. */
static void links(void) {
  close(mkfile("t", "target"));
  show("symlinkat", symlinkat("t", AT_FDCWD, "s"));
  show("symlink onto an existing name", symlink("x", "t"));
  char buf[64];
  long n = show("readlink", readlink("s", buf, sizeof buf));
  if (n > 0) printf("target: %.*s\n", (int)n, buf);
  show("readlink of a file", readlink("t", buf, sizeof buf));
  show("link", link("t", "h"));
  show("link onto an existing name", link("t", "h"));
  show("linkat of the link itself", linkat(AT_FDCWD, "s", AT_FDCWD, "hs", 0));
  show("linkat AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "s", AT_FDCWD, "hf", AT_SYMLINK_FOLLOW));
  show("linkat bad flags", linkat(AT_FDCWD, "t", AT_FDCWD, "hx", 0x1));
  int fd = open("t", O_RDONLY);
  show("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, "he", AT_EMPTY_PATH));
  close(fd);
  struct stat st;
  lstat("hs", &st);
  printf("hs: type %o nlink %lu\n", st.st_mode & S_IFMT, (unsigned long)st.st_nlink);
  lstat("t", &st);
  printf("t: nlink %lu\n", (unsigned long)st.st_nlink);
  mkdir("dir", 0755);
  show("link a directory", link("dir", "dir2"));
  close(mkfile("a", "A"));
  close(mkfile("b", "B"));
  show("renameat2 RENAME_NOREPLACE onto b", syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", 1));
  show("renameat2 RENAME_EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "b", 2));
  fd = open("a", O_RDONLY);
  n = read(fd, buf, sizeof buf);
  printf("a holds: %.*s\n", (int)n, buf);
  close(fd);
  show("renameat2 bad flags", syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "c", 8));
  show("renameat2 RENAME_NOREPLACE to a new name", syscall(SYS_renameat2, AT_FDCWD, "a", AT_FDCWD, "c", 1));
  show("chmod", chmod("c", 0600));
  show("fchmodat", fchmodat(AT_FDCWD, "c", 0640, 0));
  show("lchown of a link", lchown("s", getuid(), getgid()));
  show("fchownat AT_EMPTY_PATH", fchownat(open("c", O_RDONLY), "", getuid(), getgid(), AT_EMPTY_PATH));
  stat("c", &st);
  printf("c: mode %o\n", st.st_mode & 07777);
}

static int by_bytes(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Names that are not UTF-8 go to the host and come back as the same bytes. */
static void bytes(void) {
  show("mkdir ff", mkdir("\xff", 0755));
  show("mkdir fe", mkdir("\xfe", 0755));
  show("create caf\\xe9", close(mkfile("caf\xe9", "latin-1")));
  show("create caf\\xc3\\xa9", close(mkfile("caf\xc3\xa9", "utf-8")));
  show("open caf\\xe9", open("caf\xe9", O_RDONLY) >= 0 ? 0 : -1);
  show("symlink to \\xe9\\xff", symlink("\xe9\xff", "ln"));
  char buf[64];
  long n = readlink("ln", buf, sizeof buf);
  hex("readlink", (unsigned char *)buf, n > 0 ? n : 0);
  DIR *d = opendir(".");
  char *names[16];
  int k = 0;
  struct dirent *e;
  while ((e = readdir(d)) && k < 16) if (e->d_name[0] != '.') names[k++] = strdup(e->d_name);
  closedir(d);
  qsort(names, k, sizeof *names, by_bytes);
  for (int i = 0; i < k; i++) hex("entry", (unsigned char *)names[i], strlen(names[i]));
  show("chdir fe", chdir("\xfe"));
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd)) hex("cwd tail", (unsigned char *)strrchr(cwd, '/'), strlen(strrchr(cwd, '/')));
  chdir("..");
  /* A host path whose first 240 characters take more than 249 bytes (the memfd's name). */
  char longname[256] = "";
  for (int i = 0; i < 120; i++) strcat(longname, "\xc3\xa9");
  show("mkdir 120 x e-acute", mkdir(longname, 0755));
  char file[600];
  snprintf(file, sizeof file, "%s/%s", longname, longname);
  int fd = mkfile(file, "long name");
  show("create under it", fd >= 0 ? 0 : -1);
  n = pread(fd, buf, sizeof buf, 0);
  printf("read back: %.*s\n", (int)(n > 0 ? n : 0), buf);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc < 3 || chdir(argv[2]) != 0) { fprintf(stderr, "usage: names CASE DIR\n"); return 2; }
  setvbuf(stdout, NULL, _IONBF, 0);
  static const struct { const char *name; void (*fn)(void); } cases[] = {
    {"unlinked", unlinked}, {"tmpfile", tmpfile_case}, {"renamed", renamed}, {"rmdired", rmdired}, {"dirseek", dirseek}, {"fds", fds},
    {"xattrs", xattrs}, {"times", times}, {"truncate", truncates}, {"links", links}, {"bytes", bytes},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    if (strcmp(argv[1], cases[k].name) == 0) { cases[k].fn(); return 0; }
  }
  fprintf(stderr, "names: no case %s\n", argv[1]);
  return 2;
}
