/**
 * x86-64 Linux errno numbers (cf. include/uapi/asm-generic/errno-base.h and
 * errno.h), a thrower, and the one place where a host failure becomes the
 * guest's errno (`hostErrno`, `failHost`). System-call code returns
 * `-errno` to the guest.
 */
import { ErrnoError, FaultlineError } from "./errors.js";

export const Errno = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9, ECHILD: 10,
  EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19,
  ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25, ETXTBSY: 26, EFBIG: 27, ENOSPC: 28,
  ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37,
  ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENOMSG: 42, EIDRM: 43, ENOSTR: 60, ENODATA: 61, ETIME: 62, ENOSR: 63,
  ENOLINK: 67, EPROTO: 71, EMULTIHOP: 72, EBADMSG: 74, EOVERFLOW: 75, EILSEQ: 84, ERESTART: 85, EUSERS: 87,
  ENOTSOCK: 88, EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTOTYPE: 91, ENOPROTOOPT: 92, EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94, EOPNOTSUPP: 95, EPFNOSUPPORT: 96, EAFNOSUPPORT: 97, EADDRINUSE: 98, EADDRNOTAVAIL: 99,
  ENETDOWN: 100, ENETUNREACH: 101, ENETRESET: 102, ECONNABORTED: 103, ECONNRESET: 104, ENOBUFS: 105,
  EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108, ETOOMANYREFS: 109, ETIMEDOUT: 110, ECONNREFUSED: 111,
  EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115, ESTALE: 116, EDQUOT: 122,
  ECANCELED: 125, EOWNERDEAD: 130, ENOTRECOVERABLE: 131,
} as const;

/** An errno name. */
export type ErrnoName = keyof typeof Errno;

/** Host error codes that are other spellings of a Linux errno. */
const ALIASES: Record<string, ErrnoName> = { EWOULDBLOCK: "EAGAIN", ENOTSUP: "EOPNOTSUPP", EDEADLOCK: "EDEADLK" };

/**
 * Throws the ErrnoError for `name`.
 * @param why one line saying what was wrong, for logs and --strace
 */
export function fail(name: ErrnoName, why: string): never {
  throw new ErrnoError(Errno[name], name, why);
}

/**
 * The guest's errno name for a failed host call (a Node fs/os error, or a
 * libc errno number), or undefined when `e` is not a host error at all
 * (a RangeError, a bug of ours): those must never become an errno.
 * faultline's own errors (an OutOfMemoryError's code is ENOMEM, yet it
 * kills) are not host errors. The host is Linux x86-64, so its errno
 * values are the guest's.
 */
export function hostErrno(e: unknown): ErrnoName | undefined {
  if (e instanceof FaultlineError) return undefined; // ours: its code is a vocabulary of its own
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string") return undefined;
  if (code in Errno) return code as ErrnoName;
  return ALIASES[code];
}

/**
 * Rethrows a failed host call made on the guest's behalf as the guest's
 * errno (cf. how a syscall returns the error of the vfs call it made).
 * Errors that are not host errors are rethrown unchanged.
 * @param what what was being done, e.g. the guest path, for the message
 */
export function failHost(e: unknown, what: string): never {
  if (e instanceof ErrnoError) throw e;
  const name = hostErrno(e);
  if (name === undefined) throw e;
  throw new ErrnoError(Errno[name], name, `${what}: ${(e as Error).message}`);
}

/** The errno name of number `n`, or undefined. */
export function errnoName(n: number): ErrnoName | undefined {
  return ERRNO_NAMES.get(n);
}

const ERRNO_NAMES = new Map<number, ErrnoName>((Object.entries(Errno) as [ErrnoName, number][]).map(([k, v]) => [v, k]));
