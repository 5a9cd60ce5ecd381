/* MAP_SHARED|MAP_ANONYMOUS memory across fork (one shmem object behind every
 * process's mapping, cf. shmem_zero_setup): pages untouched before fork,
 * touched by the child only or by both, counters handed back and forth with
 * pipes for ordering, a grandchild whose parent has exited, MADV_DONTNEED
 * (drops the mapping only) and MADV_REMOVE (frees the data), mremap moves and
 * old_len-0 duplicates, munmap on one side, and /proc/self/maps. Run natively
 * and under faultline by test/mm-shared-anon.test.ts. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
static int *area(int pages) {
  int *p = mmap(0, pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(2); }
  return p;
}
/* The int at the start of page `n`. */
#define AT(p, n) ((p)[(n) * (PAGE / sizeof(int))])

static void reap(pid_t c, const char *what) {
  int st;
  if (waitpid(c, &st, 0) != c) { perror("waitpid"); exit(2); }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("%s: child status 0x%x\n", what, st);
}
/* Two pipes, one each way. */
static void pipes(int a[2], int b[2]) {
  if (pipe(a) || pipe(b)) { perror("pipe"); exit(2); }
}
static void put(int fd) { if (write(fd, "x", 1) != 1) _exit(3); }
static void take(int fd) { char c; if (read(fd, &c, 1) != 1) _exit(4); }

static void untouched(void) {
  int *p = area(3);
  pid_t c = fork();
  if (!c) { AT(p, 0) = 11; AT(p, 1) = 12; AT(p, 2) = 13; _exit(0); }
  reap(c, "untouched");
  printf("untouched before fork, child wrote: %d %d %d\n", AT(p, 0), AT(p, 1), AT(p, 2));
}

static void both(void) {
  int *p = area(2);
  AT(p, 0) = 1;
  pid_t c = fork();
  if (!c) { printf("child reads parent's %d\n", AT(p, 0)); AT(p, 0) = 2; AT(p, 1) = 3; _exit(0); }
  reap(c, "both");
  printf("parent reads child's %d %d\n", AT(p, 0), AT(p, 1));
  AT(p, 1) = 4;
  c = fork();
  if (!c) { printf("second child reads %d %d\n", AT(p, 0), AT(p, 1)); _exit(0); }
  reap(c, "both 2");
}

static void pingpong(void) {
  int *p = area(4);
  int to_child[2], to_parent[2];
  pipes(to_child, to_parent);
  pid_t c = fork();
  if (!c) {
    for (int i = 0; i < 50; i++) { take(to_child[0]); AT(p, 3) += 1; AT(p, 2) = AT(p, 3) * 7; put(to_parent[1]); }
    _exit(0);
  }
  int bad = 0;
  for (int i = 0; i < 50; i++) {
    AT(p, 3) += 1;
    put(to_child[1]);
    take(to_parent[0]);
    if (AT(p, 3) != 2 * i + 2 || AT(p, 2) != AT(p, 3) * 7) bad++;
  }
  reap(c, "pingpong");
  printf("pingpong counter %d flag %d mismatches %d\n", AT(p, 3), AT(p, 2), bad);
}

static void grandchild(void) {
  int *p = area(3);
  int fd[2], back[2];
  pipes(fd, back);
  pid_t c = fork();
  if (!c) {
    AT(p, 1) = 21;
    if (fork() == 0) {
      take(fd[0]); /* the middle process has exited and been reaped by now */
      AT(p, 2) = AT(p, 1) + 1;
      AT(p, 0) = 23;
      put(back[1]);
      _exit(0);
    }
    _exit(0);
  }
  reap(c, "middle");
  put(fd[1]);
  take(back[0]);
  printf("grandchild after its parent exited: %d %d %d\n", AT(p, 0), AT(p, 1), AT(p, 2));
}

static void dontneed(void) {
  int *p = area(2);
  pid_t c = fork();
  if (!c) { AT(p, 0) = 31; AT(p, 1) = 32; _exit(0); }
  reap(c, "dontneed");
  int r = madvise(p, 2 * PAGE, MADV_DONTNEED);
  printf("MADV_DONTNEED %d keeps the data: %d %d\n", r, AT(p, 0), AT(p, 1));
  c = fork();
  if (!c) { madvise(p, PAGE, MADV_DONTNEED); printf("child after its own MADV_DONTNEED: %d\n", AT(p, 0)); AT(p, 0) = 33; _exit(0); }
  reap(c, "dontneed 2");
  printf("parent sees %d\n", AT(p, 0));
  r = madvise(p, PAGE, MADV_REMOVE);
  c = fork();
  if (!c) { printf("child after parent's MADV_REMOVE %d: %d %d\n", r, AT(p, 0), AT(p, 1)); _exit(0); }
  reap(c, "remove");
  printf("parent after MADV_REMOVE: %d %d\n", AT(p, 0), AT(p, 1));
}

static void remap(void) {
  int *p = area(2);
  pid_t c = fork();
  if (!c) {
    int *q = mremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (char *)p + 64 * PAGE);
    if (q == MAP_FAILED) { perror("mremap"); _exit(1); }
    AT(q, 1) = 41;
    _exit(0);
  }
  reap(c, "remap");
  int *d = mremap(p, 0, 2 * PAGE, MREMAP_MAYMOVE);
  printf("moved child's write %d; duplicate %s\n", AT(p, 1), d == MAP_FAILED ? "failed" : "made");
  if (d == MAP_FAILED) return;
  c = fork();
  if (!c) { AT(d, 0) = 42; _exit(0); }
  reap(c, "dup");
  printf("write through the duplicate in the child: %d\n", AT(p, 0));
}

static void unmapped(void) {
  int *p = area(2);
  int fd[2], back[2];
  pipes(fd, back);
  pid_t c = fork();
  if (!c) {
    take(fd[0]);
    AT(p, 1) = 51;
    printf("child after parent's munmap: %d %d\n", AT(p, 0), AT(p, 1));
    _exit(0);
  }
  AT(p, 0) = 50;
  munmap(p, 2 * PAGE);
  put(fd[1]);
  reap(c, "unmapped");
}

/* Prints the maps line of `p` without its addresses and inode; returns the inode. */
static unsigned long mapsLine(void *p, const char *who) {
  char want[32], line[512];
  snprintf(want, sizeof want, "%lx-", (unsigned long)p);
  FILE *f = fopen("/proc/self/maps", "r");
  unsigned long ino = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, want, strlen(want))) continue;
    char perms[8], off[20], dev[16], name[256] = "";
    sscanf(line, "%*s %7s %19s %15s %lu %255[^\n]", perms, off, dev, &ino, name);
    printf("%s maps: %s %s %s inode>0:%d %s\n", who, perms, off, dev, ino > 0, name);
  }
  if (f) fclose(f);
  return ino;
}

static void maps(void) {
  int *p = area(2), *q = area(1);
  unsigned long a = mapsLine(p, "parent"), b = mapsLine(q, "parent");
  printf("two mappings, two inodes: %d\n", a != b);
  int fd[2];
  if (pipe(fd)) { perror("pipe"); exit(2); }
  pid_t c = fork();
  if (!c) {
    unsigned long mine = mapsLine(p, "child");
    if (write(fd[1], &mine, sizeof mine) != sizeof mine) _exit(3);
    _exit(0);
  }
  unsigned long theirs = 0;
  if (read(fd[0], &theirs, sizeof theirs) != sizeof theirs) exit(2);
  reap(c, "maps");
  printf("child's inode is the parent's: %d\n", theirs == a);
  mprotect((char *)p + PAGE, PAGE, PROT_READ);
  mapsLine((char *)p + PAGE, "split");
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  untouched();
  both();
  pingpong();
  grandchild();
  dontneed();
  remap();
  unmapped();
  maps();
  return 0;
}
