/*
 * execve(argv[1], argv + 1, environ) and nothing else: the kernel's own
 * answer for a program file, as ground truth for faultline's loader (a
 * shell or execvp would retry an ENOEXEC file with /bin/sh). On failure
 * prints "execve: <errno name>" on stderr and exits as a shell does:
 * 127 for ENOENT, 126 for any other errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char *name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case ENOEXEC: return "ENOEXEC";
    case EACCES: return "EACCES";
    case EIO: return "EIO";
    case ELIBBAD: return "ELIBBAD";
    case ELOOP: return "ELOOP";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case E2BIG: return "E2BIG";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ETXTBSY: return "ETXTBSY";
    default: return strerror(e);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs("usage: execve PROGRAM [ARGS...]\n", stderr);
    return 2;
  }
  execve(argv[1], argv + 1, environ);
  int e = errno;
  fprintf(stderr, "execve: %s\n", name(e));
  return e == ENOENT ? 127 : 126;
}
