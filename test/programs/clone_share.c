/*
 * clone(2) flags that share a part of the parent between processes
 * (CLONE_VM, CLONE_FILES, CLONE_FS, CLONE_SIGHAND, CLONE_VFORK), and
 * vfork/posix_spawn, which rely on CLONE_VM. Each case prints what the
 * parent sees after the child ran; a native run is the reference.
 * Usage: clone_share CASE (or "all").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char stack[256 * 1024] __attribute__((aligned(16)));
static char *const stack_top = stack + sizeof stack;
static volatile int shared_word;
static volatile char *child_map;
static int child_fd = -1;

/* Runs fn in a clone child with `flags` (| SIGCHLD) and waits for it; returns its exit status. */
static int run_child(int (*fn)(void *), int flags, void *arg) {
  pid_t pid = clone(fn, stack_top, flags | SIGCHLD, arg);
  if (pid < 0) {
    printf("clone: %s\n", strerror(errno));
    return -1;
  }
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) printf("waitpid: %s\n", strerror(errno));
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int vm_child(void *arg) {
  (void)arg;
  shared_word = 42;
  char *m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 1;
  strcpy(m, "mapped by the child");
  child_map = m;
  return 3;
}

/* CLONE_VM: the child's stores and its new mapping are the parent's. */
static void case_vm(void) {
  shared_word = 1;
  int st = run_child(vm_child, CLONE_VM, 0);
  printf("vm: status %d word %d map %s\n", st, shared_word, child_map ? (const char *)child_map : "(none)");
  shared_word = 1;
  st = run_child(vm_child, 0, 0);
  printf("no vm: status %d word %d\n", st, shared_word);
}

static int files_child(void *arg) {
  close(*(int *)arg);
  int fd = open("/dev/null", O_RDONLY);
  child_fd = fcntl(fd, F_DUPFD, 100); /* not the number just closed */
  close(fd);
  return 0;
}

/* CLONE_FILES: a descriptor the child opens or closes is opened or closed in the parent. */
static void case_files(void) {
  for (int share = 1; share >= 0; share--) {
    int fd = open("/dev/null", O_RDONLY);
    int st = run_child(files_child, share ? CLONE_FILES | CLONE_VM : CLONE_VM, &fd);
    int closed = fcntl(fd, F_GETFD) < 0 && errno == EBADF;
    int opened = child_fd >= 0 && fcntl(child_fd, F_GETFD) >= 0;
    printf("files %s: status %d parent's fd closed %d child's fd open %d\n", share ? "shared" : "copied", st, closed, opened);
    if (!closed) close(fd);
    if (opened && fd != child_fd) close(child_fd);
    child_fd = -1;
  }
}

static int fs_child(void *arg) {
  (void)arg;
  umask(027);
  return chdir("/tmp") == 0 ? 0 : 1;
}

/* CLONE_FS: the child's chdir and umask are the parent's. */
static void case_fs(void) {
  for (int share = 1; share >= 0; share--) {
    if (chdir("/") != 0) return;
    mode_t old = umask(022);
    int st = run_child(fs_child, share ? CLONE_FS : 0, 0);
    char cwd[256];
    mode_t now = umask(old);
    printf("fs %s: status %d cwd %s umask %03o\n", share ? "shared" : "copied", st, getcwd(cwd, sizeof cwd) ? cwd : "?", (unsigned)now);
  }
}

static volatile int got_usr1;
static void on_usr1(int s) { (void)s; got_usr1++; }

static int sighand_child(void *arg) {
  (void)arg;
  signal(SIGUSR1, on_usr1);
  return 0;
}

/* CLONE_SIGHAND: a handler the child installs is the parent's. */
static void case_sighand(void) {
  for (int share = 1; share >= 0; share--) {
    signal(SIGUSR1, SIG_IGN);
    got_usr1 = 0;
    int st = run_child(sighand_child, share ? CLONE_VM | CLONE_SIGHAND : CLONE_VM, 0);
    raise(SIGUSR1);
    printf("sighand %s: status %d handler ran %d\n", share ? "shared" : "copied", st, got_usr1);
  }
  signal(SIGUSR1, SIG_DFL);
}

/* Probed by the tests (`--probe BIN:work`): called 3 times by a vfork child, then twice by its parent. */
__attribute__((noinline)) int work(int x) {
  __asm__ volatile("" ::: "memory");
  return x * 3 + shared_word;
}

/* vfork: the parent waits; the child's store before _exit is seen; vfork + exec runs a program. */
static void case_vfork(void) {
  shared_word = 0;
  pid_t pid = vfork();
  if (pid == 0) {
    int v = 0;
    for (int i = 0; i < 3; i++) v += work(i);
    shared_word = 7 + v;
    _exit(5);
  }
  int st;
  waitpid(pid, &st, 0);
  int v = work(1) + work(2);
  printf("vfork: status %d word %d work %d (work called 5 times)\n", WEXITSTATUS(st), shared_word, v);
  fflush(stdout);
  pid = vfork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", "echo exec from a vfork child; exit 6", (char *)0);
    _exit(127);
  }
  waitpid(pid, &st, 0);
  printf("vfork+exec: status %d\n", WEXITSTATUS(st));
}

/* posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK)): the child's exec error comes back through shared memory. */
static void case_spawn(void) {
  pid_t pid;
  char *argv_ok[] = {"sh", "-c", "exit 9", 0};
  int r = posix_spawn(&pid, "/bin/sh", 0, 0, argv_ok, environ);
  int st = 0;
  if (r == 0) waitpid(pid, &st, 0);
  printf("spawn /bin/sh: %s, status %d\n", r ? strerror(r) : "ok", WEXITSTATUS(st));
  char *argv_no[] = {"nope", 0};
  r = posix_spawn(&pid, "/no/such/program", 0, 0, argv_no, environ);
  printf("spawn /no/such/program: %s\n", r ? strerror(r) : "ok (unexpected)");
  if (r == 0) waitpid(pid, &st, 0);
  r = posix_spawnp(&pid, "no-such-program-anywhere", 0, 0, argv_no, environ);
  printf("spawnp no-such-program-anywhere: %s\n", r ? strerror(r) : "ok (unexpected)");
  if (r == 0) waitpid(pid, &st, 0);
}

static sigjmp_buf segv_jmp;
static void on_segv(int s) { (void)s; siglongjmp(segv_jmp, 1); }
static volatile char *prot_page;

static int mprotect_child(void *arg) {
  (void)arg;
  return mprotect((void *)prot_page, 4096, PROT_NONE) == 0 ? 0 : 1;
}

static int munmap_child(void *arg) {
  (void)arg;
  return munmap((void *)prot_page, 4096) == 0 ? 0 : 1;
}

/* A protection change by a CLONE_VM child reaches the parent's CPU (a TLB shootdown): its next read faults. */
static void case_shootdown(void) {
  signal(SIGSEGV, on_segv);
  int (*children[])(void *) = {mprotect_child, munmap_child};
  const char *names[] = {"mprotect", "munmap"};
  for (int k = 0; k < 2; k++) {
    prot_page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    prot_page[0] = 'x';
    volatile char c = 0;
    for (int i = 0; i < 1000; i++) c += prot_page[0]; /* translated, in this CPU's TLB */
    int st = run_child(children[k], CLONE_VM, 0);
    int faulted = 0;
    if (sigsetjmp(segv_jmp, 1) == 0) c += prot_page[0];
    else faulted = 1;
    printf("shootdown %s: status %d parent's read faulted %d\n", names[k], st, faulted);
    if (k == 0) munmap((void *)prot_page, 4096);
  }
  signal(SIGSEGV, SIG_DFL);
}

typedef int (*fn_t)(void);
static fn_t code_page;

static int patch_child(void *arg) {
  (void)arg;
  unsigned char *p = (unsigned char *)code_page;
  p[1] = 22; /* mov $22, %eax */
  return 0;
}

/* Code the parent ran, rewritten by a CLONE_VM child in a writable and executable page, runs anew in the parent. */
static void case_code(void) {
  unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char insns[] = {0xb8, 11, 0, 0, 0, 0xc3}; /* mov $11, %eax; ret */
  memcpy(p, insns, sizeof insns);
  code_page = (fn_t)p;
  int before = 0;
  for (int i = 0; i < 100; i++) before = code_page();
  int st = run_child(patch_child, CLONE_VM, 0);
  printf("code: status %d before %d after %d\n", st, before, code_page());
}

static volatile int flag;

static int spin_child(void *arg) {
  (void)arg;
  while (flag == 0) {
  }
  flag = 2;
  return 0;
}

/* Two CPUs on one address space: the child spins until the parent's store, without any system call. */
static void case_spin(void) {
  flag = 0;
  pid_t pid = clone(spin_child, stack_top, CLONE_VM | SIGCHLD, 0);
  for (volatile long i = 0; i < 1000000; i++) {
  }
  flag = 1;
  int st;
  waitpid(pid, &st, 0);
  printf("spin: status %d flag %d\n", WEXITSTATUS(st), flag);
}

static int exec_child(void *arg) {
  (void)arg;
  shared_word = 99;
  execl("/bin/sh", "sh", "-c", "exit 4", (char *)0);
  return 127;
}

/* A CLONE_VM child (without CLONE_VFORK) that execs leaves the address space to the parent, which runs on. */
static void case_exec(void) {
  shared_word = 0;
  int st = run_child(exec_child, CLONE_VM, 0);
  char *m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  m[0] = 'y';
  printf("exec from CLONE_VM: status %d word %d parent still maps %c\n", st, shared_word, m[0]);
}

static const struct { const char *name; void (*fn)(void); } CASES[] = {
  {"vm", case_vm}, {"files", case_files}, {"fs", case_fs}, {"sighand", case_sighand},
  {"vfork", case_vfork}, {"spawn", case_spawn}, {"shootdown", case_shootdown},
  {"code", case_code}, {"spin", case_spin}, {"exec", case_exec},
};

int main(int argc, char **argv) {
  const char *want = argc > 1 ? argv[1] : "all";
  int ran = 0;
  for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
    if (strcmp(want, "all") && strcmp(want, CASES[k].name)) continue;
    CASES[k].fn();
    fflush(stdout);
    ran++;
  }
  if (!ran) {
    fprintf(stderr, "clone_share: no case %s\n", want);
    return 2;
  }
  return 0;
}
