/**
 * x86-64 Linux errno numbers (cf. include/uapi/asm-generic/errno-base.h and
 * errno.h) and a thrower. System-call code returns `-errno` to the guest.
 */
import { ErrnoError } from "./errors.js";

export const Errno = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9, ECHILD: 10,
  EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19,
  ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25, EFBIG: 27, ENOSPC: 28,
  ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOSYS: 38,
  ENOTEMPTY: 39, ELOOP: 40, ENODATA: 61, EOVERFLOW: 75, EOPNOTSUPP: 95, EAFNOSUPPORT: 97,
} as const;

/** An errno name. */
export type ErrnoName = keyof typeof Errno;

/**
 * Throws the ErrnoError for `name`.
 * @param why one line saying what was wrong, for logs and --strace
 */
export function fail(name: ErrnoName, why: string): never {
  throw new ErrnoError(Errno[name], name, why);
}
