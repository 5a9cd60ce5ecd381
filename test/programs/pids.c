/* Pids as a new pid namespace shows them, and /proc/PID of another process:
 * the parent forks a child that tells it it runs, then blocks reading a pipe;
 * the parent reads the child's /proc files (stat, status, cmdline, exe, comm,
 * fd/), lists /proc's pids, lets the child exit, reads it as a zombie
 * (waitid WNOWAIT), reaps it and finds it gone. Run natively under
 * `unshare -pf --mount-proc` it prints the same: pids 1 and 2. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[8192];

/* The whole of a file, NUL-terminated in buf; -errno when it cannot be opened. */
static int slurp(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -errno;
  int n = 0, k;
  while ((k = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += k;
  close(fd);
  buf[n] = 0;
  return n;
}

/* The value of "Key:" in buf (a status file), up to the line's end. */
static const char *field(const char *key) {
  static char v[256];
  char *at = strstr(buf, key);
  if (!at) return "(none)";
  at += strlen(key) + 1;
  while (*at == '\t' || *at == ' ') at++;
  int n = 0;
  while (at[n] && at[n] != '\n' && n < 255) { v[n] = at[n]; n++; }
  v[n] = 0;
  return v;
}

/* stat's fields: pid, comm, state, ppid. */
static void show_stat(pid_t pid, const char *what) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int n = slurp(path);
  if (n < 0) { printf("%s: stat %s\n", what, strerror(-n)); return; }
  int spid, ppid; char comm[64], state;
  sscanf(buf, "%d %63s %c %d", &spid, comm, &state, &ppid);
  printf("%s: stat pid %d comm %s state %c ppid %d\n", what, spid, comm, state, ppid);
}

static void show_status(pid_t pid, const char *what) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  int n = slurp(path);
  if (n < 0) { printf("%s: status %s\n", what, strerror(-n)); return; }
  printf("%s: status Name %s", what, field("Name"));
  printf(" State %s", field("State"));
  printf(" Pid %s", field("Pid"));
  printf(" PPid %s\n", field("PPid"));
}

static void show_link(pid_t pid, const char *name, const char *what) {
  char path[64], target[256];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) { printf("%s: %s %s\n", what, name, strerror(errno)); return; }
  target[n] = 0;
  printf("%s: %s -> %s\n", what, name, target);
}

/* The numeric entries of /proc, in ascending order. */
static void show_pids(const char *what) {
  DIR *d = opendir("/proc");
  int pids[64], n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) if (e->d_name[0] >= '0' && e->d_name[0] <= '9') pids[n++] = atoi(e->d_name);
  closedir(d);
  for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) if (pids[j] < pids[i]) { int t = pids[i]; pids[i] = pids[j]; pids[j] = t; }
  printf("%s: /proc lists", what);
  for (int i = 0; i < n; i++) printf(" %d", pids[i]);
  printf("\n");
}

int main(int argc, char **argv) {
  int up[2], down[2];
  printf("first: pid %d ppid %d\n", getpid(), getppid());
  fflush(stdout);
  if (pipe(up) || pipe(down)) return 1;
  pid_t c = fork();
  if (c == 0) {
    close(up[0]); close(down[1]);
    printf("child: pid %d ppid %d\n", getpid(), getppid());
    fflush(stdout);
    write(up[1], "x", 1);
    char b;
    read(down[0], &b, 1); /* blocked here while the parent looks */
    _exit(5);
  }
  close(up[1]); close(down[0]);
  char b;
  read(up[0], &b, 1);
  printf("fork returned %d\n", c);
  /* Until the child sleeps in its read (natively it may still be on its way there): at most 2 s. */
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", c);
  for (int tries = 0; tries < 2000 && slurp(path) > 0 && strchr(buf, ')')[2] == 'R'; tries++) usleep(1000);
  show_stat(c, "live child");
  show_status(c, "live child");
  show_link(c, "exe", "live child");
  int n = slurp("/proc/self/cmdline");
  (void)n;
  snprintf(path, sizeof path, "/proc/%d/cmdline", c);
  n = slurp(path);
  printf("live child: cmdline %d bytes, argv[0] is ours: %d\n", n, n > 0 && strcmp(buf, argv[0]) == 0);
  snprintf(path, sizeof path, "/proc/%d/fd/%d", c, down[0]);
  printf("live child: fd/%d exists: %d\n", down[0], access(path, F_OK) == 0);
  show_stat(getpid(), "self");
  show_status(getpid(), "self");
  show_pids("both live");
  close(down[1]); /* the child's read sees EOF: it exits */
  siginfo_t si;
  memset(&si, 0, sizeof si);
  waitid(P_PID, c, &si, WEXITED | WNOWAIT);
  printf("waitid: pid %d status %d\n", si.si_pid, si.si_status);
  show_stat(c, "zombie");
  show_status(c, "zombie");
  show_link(c, "exe", "zombie");
  show_pids("zombie");
  int st;
  pid_t w = waitpid(c, &st, 0);
  printf("reaped %d status %d\n", w, WEXITSTATUS(st));
  show_stat(c, "reaped");
  show_link(c, "exe", "reaped");
  show_pids("reaped");
  int k = kill(c, 0);
  printf("kill(reaped) %d %s\n", k, strerror(errno));
  return 0;
}
