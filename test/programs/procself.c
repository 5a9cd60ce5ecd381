/* What a program learns about itself from /proc/self and the CPU and memory
 * files, printed as facts that hold natively and under faultline alike
 * (test/procfs.test.ts runs it both ways and compares the output). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static char buf[1 << 17];

/* The whole of `path` into buf, read `chunk` bytes at a time; -errno on failure. */
static long slurp_by(const char *path, size_t chunk) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -errno;
  long n = 0, r;
  while (n + chunk < sizeof buf && (r = read(fd, buf + n, chunk)) > 0) n += r;
  close(fd);
  buf[n] = 0;
  return n;
}
static long slurp(const char *path) { return slurp_by(path, 4096); }

/* The value after "name:" on its line in buf (status-style), or "". */
static const char *value(const char *name) {
  static char ring[8][512];
  static int next;
  char *v = ring[next++ % 8];
  size_t len = strlen(name);
  for (const char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, name, len) != 0 || line[len] != ':') continue;
    const char *p = line + len + 1;
    while (*p == '\t' || *p == ' ') p++;
    size_t k = 0;
    while (p[k] && p[k] != '\n' && k < sizeof ring[0] - 1) { v[k] = p[k]; k++; }
    v[k] = 0;
    return v;
  }
  return "";
}

/* Whether buf[0..n) is exactly the NUL-terminated strings of list. */
static int same_strings(long n, char **list) {
  long at = 0;
  for (char **s = list; *s; s++) {
    size_t len = strlen(*s) + 1;
    if (at + (long)len > n || memcmp(buf + at, *s, len) != 0) return 0;
    at += len;
  }
  return at == n;
}

static void on_term(int sig) { (void)sig; }

int main(int argc, char **argv, char **envp) {
  printf("cmdline equals argv: %d\n", same_strings(slurp("/proc/self/cmdline"), argv));
  printf("environ equals envp: %d\n", same_strings(slurp("/proc/self/environ"), envp));

  long n = slurp("/proc/self/auxv");
  int pairs = 0, agree = 0, ended = 0;
  for (long k = 0; k + 16 <= n; k += 16) {
    unsigned long key, val;
    memcpy(&key, buf + k, 8);
    memcpy(&val, buf + k + 8, 8);
    if (key == AT_NULL) { ended = k + 16 == n; break; }
    if (key == AT_HWCAP) continue; /* x86-64 glibc answers its own dl_hwcap (HWCAP_X86_64), not the vector's */
    pairs++;
    if (getauxval(key) == val) agree++;
    else fprintf(stderr, "auxv key %lu: %#lx, getauxval %#lx\n", key, val, getauxval(key));
  }
  printf("auxv: every pair is getauxval's: %d, ends with AT_NULL: %d, has PHDR/ENTRY/RANDOM/EXECFN: %d\n", pairs > 0 && agree == pairs,
         ended, getauxval(AT_PHDR) && getauxval(AT_ENTRY) && getauxval(AT_RANDOM) && getauxval(AT_EXECFN));

  umask(027);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGUSR2, SIG_IGN);
  signal(SIGTERM, on_term);
  long whole = slurp("/proc/self/status");
  char name[16];
  snprintf(name, sizeof name, "%s", strrchr(argv[0], '/') + 1);
  printf("status: Name is the program: %d, Umask %s, State %.1s, Pid is getpid: %d, Tgid is getpid: %d, Threads %s\n",
         strcmp(value("Name"), name) == 0, value("Umask"), value("State"), atol(value("Pid")) == getpid(), atol(value("Tgid")) == getpid(),
         value("Threads"));
  printf("status: SigBlk %s SigIgn %s SigCgt has SIGTERM: %d, VmRSS > 0: %d, VmSize >= VmRSS: %d\n", value("SigBlk"), value("SigIgn"),
         (strtoull(value("SigCgt"), NULL, 16) >> (SIGTERM - 1)) & 1, atol(value("VmRSS")) > 0, atol(value("VmSize")) >= atol(value("VmRSS")));
  char copy[sizeof buf];
  memcpy(copy, buf, whole + 1);
  long bytewise = slurp_by("/proc/self/status", 1);
  printf("status read one byte at a time: as long as at once: %d\n", bytewise > 0 && labs(bytewise - whole) < 64);
  (void)copy;

  slurp("/proc/self/stat");
  char *close_paren = strrchr(buf, ')');
  int fields = 2;
  for (char *p = close_paren + 1; *p; p++) fields += *p == ' ';
  unsigned long f[64] = {0};
  char state = 0;
  sscanf(close_paren + 2, "%c", &state);
  char *p = close_paren + 4;
  for (int k = 4; k <= 52 && *p; k++) {
    f[k] = strtoul(p, &p, 10);
    while (*p == ' ') p++;
  }
  printf("stat: %d fields, pid is getpid: %d, comm is the program: %d, state %c, startstack is argc's: %d\n", fields,
         atol(buf) == getpid(), strncmp(strchr(buf, '(') + 1, name, strlen(name)) == 0, state, f[28] + 8 == (unsigned long)argv);
  int in_args = 1, in_env = 1;
  for (int k = 0; k < argc; k++) in_args &= (unsigned long)argv[k] >= f[48] && (unsigned long)argv[k] < f[49];
  for (char **e = envp; *e; e++) in_env &= (unsigned long)*e >= f[50] && (unsigned long)*e < f[51];
  printf("stat: argv strings in arg_start..arg_end: %d, envp strings in env_start..env_end: %d, rsslim unlimited: %d\n", in_args, in_env,
         f[25] == ~0UL);
  slurp("/proc/self/statm");
  unsigned long size, resident;
  printf("statm: size >= resident > 0: %d\n", sscanf(buf, "%lu %lu", &size, &resident) == 2 && size >= resident && resident > 0);

  int fd = open("/etc/passwd", O_RDONLY);
  char link[4096], path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t ln = readlink(path, link, sizeof link - 1);
  link[ln < 0 ? 0 : ln] = 0;
  printf("fd %d reads as %s\n", fd, link);
  char head[8] = {0}, again[8] = {0};
  read(fd, head, 7);
  int fd2 = open(path, O_RDONLY);
  read(fd2, again, 7);
  printf("opening /proc/self/fd/N gives a new description of the file: %d (fd %d)\n", fd2 > fd && strcmp(head, again) == 0, fd2);
  struct stat a, b;
  printf("stat of the link is the file's: %d\n", stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  printf("lstat of the link: a link: %d\n", lstat(path, &a) == 0 && S_ISLNK(a.st_mode));
  close(fd2);
  int pfd[2];
  pipe(pfd);
  snprintf(path, sizeof path, "/proc/self/fd/%d", pfd[0]);
  ln = readlink(path, link, sizeof link - 1);
  link[ln < 0 ? 0 : ln] = 0;
  printf("pipe fd reads as pipe:[...]: %d\n", strncmp(link, "pipe:[", 6) == 0 && link[ln - 1] == ']');
  printf("fd 77 (not open): readlink errno %s\n", readlink("/proc/self/fd/77", link, sizeof link) < 0 ? strerror(errno) : "none");
  DIR *d = opendir("/proc/self/fd");
  struct dirent *de;
  int seen[128] = {0};
  while ((de = readdir(d))) if (de->d_name[0] != '.') seen[atoi(de->d_name) & 127] = 1 + (de->d_type == DT_LNK);
  printf("fd/ lists:"); /* those below 10: descriptors the test harness leaks to the native run sit above */
  for (int k = 0; k < 10; k++) if (seen[k]) printf(" %d%s", k, seen[k] == 2 ? "" : "(not DT_LNK)");
  printf(" (the listing's own fd is %d)\n", dirfd(d));
  closedir(d);

  char cwd[4096];
  ln = readlink("/proc/self/cwd", link, sizeof link - 1);
  link[ln < 0 ? 0 : ln] = 0;
  printf("cwd link is getcwd: %d\n", getcwd(cwd, sizeof cwd) && strcmp(cwd, link) == 0);
  ln = readlink("/proc/self/exe", link, sizeof link - 1);
  link[ln < 0 ? 0 : ln] = 0;
  char *real = realpath(argv[0], NULL);
  printf("exe link is the program: %d\n", real && strcmp(real, link) == 0);
  slurp("/proc/self/maps");
  printf("maps has [stack]: %d\n", strstr(buf, "[stack]") != NULL);
  snprintf(path, sizeof path, "/proc/%d/task/%d/stat", getpid(), gettid());
  printf("task/<tid>/stat opens: %d\n", slurp(path) > 0);

  n = slurp("/sys/devices/system/cpu/online");
  printf("cpu/online: %ld bytes, no NUL: %d, ends in newline: %d\n", n == (long)strlen(buf) ? 0L : n, n == (long)strlen(buf), n > 0 && buf[n - 1] == '\n');
  int first = 0, last = 0, cpus = sscanf(buf, "%d-%d", &first, &last) == 2 ? last - first + 1 : 1;
  printf("cpu/online count is sysconf(_SC_NPROCESSORS_ONLN): %d\n", cpus == sysconf(_SC_NPROCESSORS_ONLN));
  slurp("/proc/cpuinfo");
  int procs = 0;
  for (char *q = buf; (q = strstr(q, "processor\t:")); q++) procs++;
  printf("cpuinfo processors are sysconf(_SC_NPROCESSORS_CONF): %d\n", procs == sysconf(_SC_NPROCESSORS_CONF));
  slurp("/proc/meminfo");
  struct sysinfo si;
  sysinfo(&si);
  printf("meminfo MemTotal is sysinfo's totalram: %d\n", strtoull(value("MemTotal"), NULL, 10) * 1024 == (unsigned long long)si.totalram * si.mem_unit);
  slurp("/proc/uptime");
  double up = 0, idle = 0;
  printf("uptime has two numbers: %d\n", sscanf(buf, "%lf %lf", &up, &idle) == 2 && up > 0);
  stat("/proc/self/status", &a);
  printf("stat /proc/self/status: regular %d size %ld\n", S_ISREG(a.st_mode), (long)a.st_size);
  printf("/proc/self/oom_adj-like missing file: %s\n", slurp("/proc/self/no-such-file") == -ENOENT ? "ENOENT" : "other");
  return 0;
}
