/*
 * stracecalls.c - a fixed series of system calls whose arguments strace
 * decodes (open flags, AT_FDCWD, mmap prot and flags, whence, access modes,
 * errno names), for test/strace.test.ts to compare faultline's --strace
 * lines with strace(1)'s of the same program. Freestanding (guest/nolibc.h):
 * no libc start-up calls around them. argv[1] is a scratch directory.
 */
#include "nolibc.h"

NOLIBC_START;

#define AT_FDCWD (-100)

int main(int argc, char **argv) {
    char path[256];
    u64 pos = 0;
    append_str(path, &pos, argc > 1 ? argv[1] : "/tmp");
    append_str(path, &pos, "/new");
    path[pos] = 0;
    s64 fd = syscall6(257, AT_FDCWD, (s64)"/etc/passwd", 02000000 /* O_CLOEXEC */, 0, 0, 0);
    char buf[64];
    syscall3(0, fd, buf, 5);                                       /* read */
    syscall3(8, fd, 0, 2);                                         /* lseek SEEK_END */
    syscall3(8, fd, -1, 9);                                        /* lseek: EINVAL */
    syscall3(3, fd, 0, 0);                                         /* close */
    syscall3(3, 99, 0, 0);                                         /* close: EBADF */
    syscall6(257, AT_FDCWD, (s64)"/nonexistent/file", 0, 0, 0, 0); /* ENOENT */
    s64 w = syscall6(257, AT_FDCWD, (s64)path, 01 | 0100 | 01000, 0640, 0, 0); /* O_WRONLY|O_CREAT|O_TRUNC */
    syscall3(1, w, "hello\n\tworld\0001", 14);                     /* write with escapes */
    syscall3(1, w, "0123456789012345678901234567890123456789", 40); /* cut at 32 */
    syscall3(3, w, 0, 0);
    syscall6(257, AT_FDCWD, (s64)path, 02 | 0200 | 0100, 0600, 0, 0); /* O_RDWR|O_CREAT|O_EXCL: EEXIST */
    syscall6(257, AT_FDCWD, (s64)argv[1], 0200000 | 04000, 0, 0, 0); /* O_RDONLY|O_DIRECTORY|O_NONBLOCK */
    syscall3(21, "/nonexistent", 4 | 2, 0);                        /* access R_OK|W_OK */
    syscall3(21, "/", 0, 0);                                       /* access F_OK */
    s64 m = syscall6(9, 0, 8192, 1 | 2, 0x02 | 0x20, -1, 0);        /* mmap anonymous */
    syscall3(10, m, 4096, 1);                                      /* mprotect PROT_READ */
    syscall3(10, m, 4096, 0);                                      /* mprotect PROT_NONE */
    syscall3(11, m, 8192, 0);                                      /* munmap */
    syscall6(9, 0, 4096, 1 | 4, 0x02 | 0x20 | 0x4000, -1, 0);      /* PROT_READ|PROT_EXEC, MAP_NORESERVE */
    syscall6(9, 0, 4096, 1, 0x01 | 0x20, -1, 0);                   /* MAP_SHARED|MAP_ANONYMOUS */
    syscall6(9, 0, 0, 1, 0x02 | 0x20, -1, 0);                      /* length 0: EINVAL */
    syscall3(87, path, 0, 0);                                      /* unlink */
    syscall3(87, path, 0, 0);                                      /* unlink: ENOENT */
    syscall3(83, path, 0755, 0);                                   /* mkdir */
    syscall6(263, AT_FDCWD, (s64)path, 0x200, 0, 0, 0);             /* unlinkat AT_REMOVEDIR */
    return 0;
}
