/**
 * The host's own file-system calls that Node does not offer (getdents64,
 * lseek, utimensat, linkat, the xattr family), called through koffi on host
 * descriptors and byte paths. A failure throws the guest's errno: the host
 * is Linux x86-64, so its errno is the guest's (cf. lib/errno.ts).
 */
import koffi from "koffi";
import { errnoName, fail } from "../lib/errno.js";
import type { HostPath } from "./vfs.js";

const libc = koffi.load("libc.so.6");
const c_getdents64 = libc.func("int64_t getdents64(int fd, void *buf, size_t n)");
const c_lseek = libc.func("int64_t lseek(int fd, int64_t off, int whence)");
const c_utimensat = libc.func("int utimensat(int dirfd, const char *path, const void *times, int flags)");
const c_futimens = libc.func("int futimens(int fd, const void *times)");
const c_linkat = libc.func("int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)");
const c_renameat2 = libc.func("int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)");
const c_lsetxattr = libc.func("int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)");
const c_fsetxattr = libc.func("int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)");
const c_lgetxattr = libc.func("int64_t lgetxattr(const char *path, const char *name, void *value, size_t size)");
const c_fgetxattr = libc.func("int64_t fgetxattr(int fd, const char *name, void *value, size_t size)");
const c_llistxattr = libc.func("int64_t llistxattr(const char *path, void *list, size_t size)");
const c_flistxattr = libc.func("int64_t flistxattr(int fd, void *list, size_t size)");
const c_statfs = libc.func("int statfs(const char *path, void *buf)");
const c_fstatfs = libc.func("int fstatfs(int fd, void *buf)");
const c_pipe2 = libc.func("int pipe2(_Out_ int *fds, int flags)");
const c_close = libc.func("int close(int fd)");
const c_mknod = libc.func("int mknod(const char *path, uint32_t mode, uint64_t dev)");
const c_lremovexattr = libc.func("int lremovexattr(const char *path, const char *name)");
const c_fremovexattr = libc.func("int fremovexattr(int fd, const char *name)");

/** AT_FDCWD of the host (the same number as the guest's). */
const HOST_AT_FDCWD = -100;

/** `s` NUL-terminated, as C wants it. */
function cstr(s: Uint8Array): Buffer {
  return Buffer.concat([s, Buffer.alloc(1)]);
}

/** Throws the guest's errno for a failed host call. */
function hostFailed(what: string): never {
  const n = koffi.errno();
  return fail(errnoName(n) ?? "EIO", `${what}: host errno ${n}`);
}

/** `rc`, or the guest's errno when it is negative. */
function check<T extends number | bigint>(rc: T, what: string): T {
  if (rc < 0) hostFailed(what);
  return rc;
}

/**
 * Where a path-or-descriptor call acts: a host path, whose last component is
 * never followed (the Vfs has followed what the guest asked for, and a host
 * link must not lead out of the root), or a host descriptor.
 */
export type HostTarget = { path: HostPath } | { fd: number };

/** getdents64(2) on host descriptor `fd` into `buf`: linux_dirent64 records, as the host returns them. */
export function hostGetdents(fd: number, buf: Buffer): number {
  return Number(check(c_getdents64(fd, buf, buf.length), "getdents64"));
}

/** lseek(2) on host descriptor `fd`: the new position (a directory cookie may need all 63 bits). */
export function hostLseek(fd: number, off: bigint, whence: number): bigint {
  return check(BigInt(c_lseek(fd, off, whence)), "lseek");
}

/**
 * utimensat(2) on a host path, or futimens(2) on a host descriptor, with
 * `times` the guest's two struct timespec (16 bytes each) or null for "now".
 */
export function hostUtimens(target: HostTarget, times: Uint8Array | null): void {
  const AT_SYMLINK_NOFOLLOW = 0x100;
  if ("fd" in target) check(c_futimens(target.fd, times), "futimens");
  else check(c_utimensat(HOST_AT_FDCWD, cstr(target.path), times, AT_SYMLINK_NOFOLLOW), "utimensat");
}

/** linkat(2) between host paths; `follow` = AT_SYMLINK_FOLLOW (needed to link a /proc/self/fd/N file). */
export function hostLink(from: HostPath, to: HostPath, follow: boolean): void {
  const AT_SYMLINK_FOLLOW = 0x400;
  check(c_linkat(HOST_AT_FDCWD, cstr(from), HOST_AT_FDCWD, cstr(to), follow ? AT_SYMLINK_FOLLOW : 0), "linkat");
}

/** mknod(2) of host path `path` with `mode` (type and permissions) and device 0: a socket node (S_IFSOCK) needs no privilege. */
export function hostMknod(path: HostPath, mode: number): void {
  check(c_mknod(cstr(path), mode, 0), "mknod");
}

/** renameat2(2) between host paths with `flags` (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT). */
export function hostRename(from: HostPath, to: HostPath, flags: number): void {
  check(c_renameat2(HOST_AT_FDCWD, cstr(from), HOST_AT_FDCWD, cstr(to), flags), "renameat2");
}

/** setxattr(2) family: sets attribute `name` to `value` with `flags` (XATTR_CREATE, XATTR_REPLACE). */
export function hostSetxattr(t: HostTarget, name: Uint8Array, value: Uint8Array, flags: number): void {
  const n = cstr(name);
  if ("fd" in t) check(c_fsetxattr(t.fd, n, value, value.length, flags), "fsetxattr");
  else check(c_lsetxattr(cstr(t.path), n, value, value.length, flags), "setxattr");
}

/** getxattr(2) family into `buf` (size 0: only the value's length). @returns the value's length */
export function hostGetxattr(t: HostTarget, name: Uint8Array, buf: Buffer): number {
  const n = cstr(name), out = buf.length === 0 ? null : buf;
  if ("fd" in t) return Number(check(c_fgetxattr(t.fd, n, out, buf.length), "fgetxattr"));
  return Number(check(c_lgetxattr(cstr(t.path), n, out, buf.length), "getxattr"));
}

/** listxattr(2) family into `buf` (size 0: only the list's length). @returns the list's length */
export function hostListxattr(t: HostTarget, buf: Buffer): number {
  const out = buf.length === 0 ? null : buf;
  if ("fd" in t) return Number(check(c_flistxattr(t.fd, out, buf.length), "flistxattr"));
  return Number(check(c_llistxattr(cstr(t.path), out, buf.length), "listxattr"));
}

/** removexattr(2) family. */
export function hostRemovexattr(t: HostTarget, name: Uint8Array): void {
  const n = cstr(name);
  if ("fd" in t) check(c_fremovexattr(t.fd, n), "fremovexattr");
  else check(c_lremovexattr(cstr(t.path), n), "removexattr");
}

/** Size of x86-64 struct statfs. */
export const STATFS_SIZE = 120;

/**
 * struct statfs (x86-64, 120 bytes) of the host file system holding `t`
 * (a path, always followed as statfs(2) does, or a host descriptor), exactly
 * as the host fills it.
 */
export function hostStatfs(t: { path: HostPath } | { fd: number }): Buffer {
  const buf = Buffer.alloc(STATFS_SIZE);
  if ("fd" in t) check(c_fstatfs(t.fd, buf), "fstatfs");
  else check(c_statfs(cstr(t.path), buf), "statfs");
  return buf;
}

/** struct statfs of the host's pipe file system (a pipe made and closed for the purpose). */
export function hostPipeStatfs(): Buffer {
  const fds = [-1, -1];
  check(c_pipe2(fds, 0o2000000), "pipe2");
  try {
    return hostStatfs({ fd: fds[0] });
  } finally {
    c_close(fds[0]);
    c_close(fds[1]);
  }
}

const c_poll = libc.func("int poll(void *fds, unsigned long nfds, int timeout)");

/**
 * The largest offset the host file system lets file `fd` reach (cf.
 * s_maxbytes), asked of the host itself: lseek(SEEK_SET) succeeds exactly
 * up to that offset (cf. vfs_setpos), so a binary search of lseek finds it
 * without changing the file; the host position is put back.
 */
export function hostMaxBytes(fd: number): bigint {
  const was = BigInt(c_lseek(fd, 0n, 1));
  let lo = 0n, hi = 2n ** 63n - 1n; // MAX_LFS_FILESIZE
  if (BigInt(c_lseek(fd, hi, 0)) !== hi) {
    while (lo < hi) { // lo reachable, hi + 1 not
      const mid = (lo + hi + 1n) / 2n;
      if (BigInt(c_lseek(fd, mid, 0)) === mid) lo = mid;
      else hi = mid - 1n;
    }
  } else lo = hi;
  if (was >= 0n) c_lseek(fd, was, 0);
  return lo;
}

export const POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
export const POLLRDNORM = 0x40, POLLWRNORM = 0x100;

/**
 * The host's own poll of descriptors `fds` for `events`, waiting at most
 * `timeoutMs` (0: answer at once; never negative, so never unbounded).
 * @returns the revents of each descriptor, in order (POLLNVAL for a bad one)
 */
export function hostPoll(fds: readonly number[], events: number, timeoutMs = 0): number[] {
  const b = Buffer.alloc(8 * fds.length);
  fds.forEach((fd, k) => {
    b.writeInt32LE(fd, 8 * k);
    b.writeInt16LE(events, 8 * k + 4);
  });
  const rc = c_poll(b, fds.length, Math.max(0, Math.floor(timeoutMs)));
  if (rc < 0) return fds.map(() => 0); // EINTR: nothing known to be ready yet
  return fds.map((_, k) => b.readUInt16LE(8 * k + 6));
}
