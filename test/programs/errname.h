/* errno names for test programs that print them (strerrorname_np is glibc
 * >= 2.32 only, and musl has none): errname(e) is "EAGAIN", "EINVAL", ...
 * or "errno N" for one not in the table. Shared by threads.c and futex.c. */
#include <errno.h>
#include <stdio.h>

static const char *errname(int e) {
  static const struct { int e; const char *name; } T[] = {
    {0, "0"}, {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EINTR, "EINTR"}, {EIO, "EIO"},
    {EBADF, "EBADF"}, {ECHILD, "ECHILD"}, {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"},
    {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"}, {EEXIST, "EEXIST"}, {EINVAL, "EINVAL"}, {ENOSYS, "ENOSYS"},
    {EDEADLK, "EDEADLK"}, {ETIMEDOUT, "ETIMEDOUT"}, {EOWNERDEAD, "EOWNERDEAD"},
    {ENOTRECOVERABLE, "ENOTRECOVERABLE"}, {EOVERFLOW, "EOVERFLOW"}, {ENOTSUP, "ENOTSUP"}, {ERANGE, "ERANGE"},
  };
  for (size_t k = 0; k < sizeof T / sizeof T[0]; k++)
    if (T[k].e == e) return T[k].name;
  static char buf[32];
  snprintf(buf, sizeof buf, "errno %d", e);
  return buf;
}
