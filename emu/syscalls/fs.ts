/**
 * File I/O system calls (cf. fs/open.c, fs/read_write.c, fs/fcntl.c,
 * fs/ioctl.c, fs/pipe.c): open through the guest's root, read and write
 * through the open file (regular files go through the page cache).
 */
import * as fs from "node:fs";
import * as tty from "node:tty";
import koffi from "koffi";
import { errnoName, fail, failHost } from "../../lib/errno.js";
import { ParkError } from "../park.js";
import { ErrnoError } from "../../lib/errors.js";
import { HostRegion } from "../../lib/hostmem.js";
import { accessOk, bytesFromUser, copyFromUser, copyToUser, faultInPrefix, USER_COPY_MAX } from "../../mm/index.js";
import { NOFILE } from "../fdtable.js";
import {
  DirFile, MAX_LFS_FILESIZE, O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDWR,
  O_TMPFILE, O_TRUNC, O_WRONLY, PathFile, PipeEnd, RegularFile, StreamFile, SyntheticFile, truncateFile, type OpenFile,
} from "../files.js";
import { POLLIN, POLLOUT } from "../hostfs.js";
import { procFile } from "../procfs.js";
import type { Process } from "../process.js";
import { guestPath, printable, type GuestPath, type HostPath, type Resolved } from "../vfs.js";
import { blocking, registerPoll, waitUntil } from "./poll.js";
import { argBig, i32, u64, type SyscallTable } from "./types.js";

export const AT_FDCWD = -100;
/** Largest single read or write moved in one call (Linux caps at 0x7ffff000). */
const RW_MAX = 0x7ffff000;

/** The path at guest address `addr`: its bytes, as the guest gave them. @throws ErrnoError EFAULT, ENAMETOOLONG */
export function userPath(p: Process, addr: number): GuestPath {
  return guestPath(bytesFromUser(p.mm, addr));
}

/**
 * The guest directory a *at() call's relative paths start from: the cwd, or
 * where directory `dirfd` is now (it may have been renamed since it was opened).
 * @throws ErrnoError EBADF, ENOTDIR, ENOENT (the directory was removed)
 */
export function dirBase(p: Process, dirfd: number, name: GuestPath): GuestPath {
  if (name.startsWith("/") || dirfd === AT_FDCWD) return p.fs.cwd;
  const f = p.fds.must(dirfd);
  if (!(f instanceof DirFile)) fail("ENOTDIR", `dirfd ${dirfd} is not a directory`);
  return f.where(p.fs);
}

/** A host descriptor of directory `r` for a DirFile (cf. do_dentry_open of a directory). */
export function openHostDir(r: Resolved): number {
  try {
    return fs.openSync(r.host, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    return failHost(e, printable(r.guest));
  }
}

/**
 * An O_PATH open (cf. do_o_path): only O_DIRECTORY and O_NOFOLLOW count;
 * the file (a symbolic link itself with O_NOFOLLOW) is held by a host O_PATH descriptor.
 */
function openPath(p: Process, name: GuestPath, base: GuestPath, flags: number): OpenFile {
  const r = p.fs.resolve(name, { follow: (flags & O_NOFOLLOW) === 0, base });
  let fd: number;
  try {
    fd = fs.openSync(r.host, O_PATH | O_NOFOLLOW | (flags & O_DIRECTORY));
  } catch (e) {
    return failHost(e, printable(r.guest));
  }
  return fs.fstatSync(fd).isDirectory() ? new DirFile(r.guest, fd, flags) : new PathFile(r.guest, fd, flags);
}

/**
 * An O_TMPFILE open (cf. do_tmpfile): an unnamed regular file in directory
 * `name`, made by the host (EOPNOTSUPP where its file system has none); its
 * page cache reaches it through the host's /proc/self/fd link, and linkat
 * with AT_EMPTY_PATH can give it a name later.
 */
function openTmpfile(p: Process, name: GuestPath, base: GuestPath, flags: number, mode: number): OpenFile {
  const acc = flags & O_ACCMODE;
  if (acc !== O_WRONLY && acc !== O_RDWR) fail("EINVAL", "open: O_TMPFILE needs O_WRONLY or O_RDWR");
  const r = p.fs.resolve(name, { base });
  let fd: number;
  try {
    fd = fs.openSync(r.host, O_TMPFILE | acc | (flags & O_EXCL), mode & ~p.fs.umask & 0o7777);
  } catch (e) {
    return failHost(e, printable(r.guest));
  }
  try {
    const cache = p.mm.sys.openFile(`/proc/self/fd/${fd}`, true);
    return new RegularFile(r.guest, r.host, p.mm.sys, cache, acc === O_RDWR, true, flags & (O_APPEND | O_NONBLOCK));
  } finally {
    fs.closeSync(fd);
  }
}

/** openat(2) (cf. do_sys_openat2 + path_openat). */
export function openAt(p: Process, dirfd: number, pathAddr: number, flags: number, mode: number): number {
  let name = userPath(p, pathAddr);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  let base = dirBase(p, dirfd, name);
  if ((flags & O_TMPFILE) === O_TMPFILE) return p.fds.install(openTmpfile(p, name, base, flags, mode), cloexec);
  const proc = procFile(p, name, base, flags);
  let inode: Resolved | undefined; // /proc/self/fd/N of a file with no name left: its inode, through the host's own link
  if (proc !== null && typeof proc === "object" && "inodeOf" in proc) {
    inode = { guest: proc.inodeOf.guestPath as GuestPath, host: Buffer.from(`/proc/self/fd/${proc.inodeOf.hostInode}`) };
  } else if (proc !== null && typeof proc !== "string") {
    return p.fds.install(proc, cloexec);
  } else if (proc !== null) { // a link out of /proc (/proc/self/exe, /proc/self/fd/N): open its target
    name = proc as GuestPath;
    base = dirBase(p, dirfd, name);
  }
  if (flags & O_PATH && !inode) return p.fds.install(openPath(p, name, base, flags), cloexec);
  const acc = flags & O_ACCMODE;
  if (acc === O_ACCMODE) fail("EINVAL", "open: bad access mode");
  const readable = acc !== O_WRONLY, writable = acc === O_WRONLY || acc === O_RDWR;
  const r = inode ?? p.fs.resolve(name, { follow: (flags & O_NOFOLLOW) === 0, base, mustExist: (flags & O_CREAT) === 0 });
  const guest = printable(r.guest);
  let st: fs.Stats | undefined;
  try {
    st = inode ? fs.statSync(r.host) : fs.lstatSync(r.host);
  } catch { /* created below */ }
  if (st?.isSymbolicLink()) fail("ELOOP", `open: ${guest} is a symbolic link (O_NOFOLLOW)`);
  if (st && flags & O_CREAT && flags & O_EXCL) fail("EEXIST", `open: ${guest} exists`);
  if (!st) {
    if (!(flags & O_CREAT)) fail("ENOENT", `open: ${guest}: no such file`);
    try {
      fs.closeSync(fs.openSync(r.host, "wx", mode & ~p.fs.umask & 0o7777));
    } catch (e) {
      failHost(e, guest);
    }
    st = fs.lstatSync(r.host);
  }
  if (st.isDirectory()) {
    if (writable) fail("EISDIR", `open: ${guest} is a directory`);
    return p.fds.install(new DirFile(r.guest, openHostDir(r), flags), cloexec);
  }
  if (flags & O_DIRECTORY) fail("ENOTDIR", `open: ${guest} is not a directory`);
  if (!st.isFile()) {
    return openDevice(p, r, st, { readable, writable, flags, cloexec });
  }
  try {
    fs.accessSync(r.host, (readable ? fs.constants.R_OK : 0) | (writable ? fs.constants.W_OK : 0));
  } catch (e) {
    failHost(e, guest);
  }
  const cache = p.mm.sys.openFile(r.host, writable);
  const file = new RegularFile(r.guest, r.host, p.mm.sys, cache, readable, writable, flags & (O_APPEND | O_NONBLOCK));
  if (flags & O_TRUNC && writable) truncateFile(p.mm.sys, cache, 0);
  return p.fds.install(file, cloexec);
}

/**
 * Files that are neither regular nor directories (cf. the open methods of
 * chrdev_open, fifo_open, and the ENXIO of a socket's inode): character and
 * block devices and FIFOs are host descriptors passed through. The host is
 * opened O_NONBLOCK so that no open or read blocks the emulator; a guest
 * that did not ask O_NONBLOCK gets the blocking semantics emulated: an open
 * for writing of a FIFO waits in slices for a reader, a read waits for data
 * or a writer (emu/syscalls/poll.ts). Whatever the host refuses (ENXIO for
 * /dev/tty without a controlling terminal, EACCES) is the guest's errno.
 */
function openDevice(p: Process, r: Resolved, st: fs.Stats, o: { readable: boolean; writable: boolean; flags: number; cloexec: boolean }): number {
  if (st.isSocket()) fail("ENXIO", `open: ${r.guest} is a socket`);
  const acc = o.readable && o.writable ? O_RDWR : o.writable ? O_WRONLY : 0;
  const hostFlags = acc | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY | (o.flags & O_APPEND);
  const open = () => {
    try {
      return fs.openSync(r.host, hostFlags);
    } catch (e) {
      return failHost(e, `open ${r.guest}`);
    }
  };
  let fd: number;
  if (st.isFIFO() && acc === O_WRONLY && !(o.flags & O_NONBLOCK)) {
    // cf. fifo_open: a blocking open for writing waits for a reader (the host's O_NONBLOCK open says ENXIO until one comes).
    let got = -1;
    waitUntil(p, () => {
      try {
        got = open();
        return true;
      } catch (e) {
        if (e instanceof ErrnoError && e.code === "ENXIO") return false;
        throw e;
      }
    });
    fd = got;
  } else {
    fd = open();
  }
  const file = new StreamFile(r.guest, fd, o.readable, o.writable, (hostFd, d) => fs.writeSync(hostFd, d),
    { hostNonblock: true, own: true, flags: o.flags & (O_APPEND | O_NONBLOCK) });
  return p.fds.install(file, o.cloexec);
}

/** Bytes moved per step of a read or write: what one step may allocate on the host. */
const STEP = USER_COPY_MAX;

/** The guest buffers of one transfer: [address, length] pairs (cf. struct iov_iter). */
export type Iov = readonly (readonly [number, number])[];

/**
 * The bytes of `iov` from byte `at` on, at most `want`, that can be made
 * accessible (faulted in; for writing when `write`), stopping at the first
 * page that cannot (cf. fault_in_iov_iter_readable/writeable).
 */
export function accessible(p: Process, iov: Iov, at: number, want: number, write: boolean): number {
  let got = 0;
  for (const [base, len] of iov) {
    if (want === 0) break;
    if (at >= len) {
      at -= len;
      continue;
    }
    const n = Math.min(len - at, want);
    const ok = faultInPrefix(p.mm, base + at, n, write);
    got += ok;
    if (ok < n) break;
    want -= n;
    at = 0;
  }
  return got;
}

/** Calls fn(address, offset in data, length) for each piece of iov's bytes [at, at+len). */
export function eachPiece(iov: Iov, at: number, len: number, fn: (va: number, off: number, n: number) => void): void {
  let off = 0;
  for (const [base, l] of iov) {
    if (off >= len) break;
    if (at >= l) {
      at -= l;
      continue;
    }
    const n = Math.min(l - at, len - off);
    fn(base + at, off, n);
    off += n;
    at = 0;
  }
}

/** Whether reading `f` goes on until the count is met or the file ends (a regular file), or returns what one read gives (a stream). */
function fillsCount(f: OpenFile): boolean {
  return f instanceof RegularFile || f instanceof SyntheticFile;
}

/**
 * Checks a transfer's vector (cf. import_iovec + rw_verify_area): every
 * buffer in user space, the total clamped to MAX_RW_COUNT.
 * @returns the bytes to move
 * @throws ErrnoError EFAULT, EINVAL
 */
export function checkIov(iov: Iov): number {
  let total = 0;
  for (const [base, len] of iov) {
    if (len > Number.MAX_SAFE_INTEGER || total + len > 2 ** 63 - 1) fail("EINVAL", "total length over SSIZE_MAX");
    if (!accessOk(base, len)) fail("EFAULT", `bad buffer 0x${base.toString(16)}+${len}`);
    total += len;
  }
  return Math.min(total, RW_MAX);
}

/** The position of a positioned call, checked (cf. rw_verify_area): EINVAL when negative or when pos + count overflows. */
function checkPos(pos: bigint, count: number): void {
  if (pos < 0n) fail("EINVAL", "negative offset");
  if (pos + BigInt(count) > MAX_LFS_FILESIZE) fail("EINVAL", "offset + count overflows");
}

/**
 * read/pread/readv/preadv from `f` into the guest buffers `iov` (cf.
 * vfs_read -> filemap_read / pipe_read): in bounded steps, each faulting in
 * its part of the buffers before taking data from the file (so a bad buffer
 * loses no pipe data), a short count when a later step faults.
 * @param off the position of a positioned read (its file position untouched), else the file's own
 * @returns bytes read
 * @throws ErrnoError EBADF, EFAULT (nothing read), EINVAL, EAGAIN, EISDIR...
 */
function readInto(p: Process, f: OpenFile, iov: Iov, off?: bigint): number {
  if (!f.readable) fail("EBADF", "read: not open for reading");
  const total = checkIov(iov);
  if (off !== undefined) {
    checkPos(off, total);
    f.pread(0, Number(off)); // ESPIPE for what cannot be read at a position
  }
  if (total === 0) return 0;
  if (isNull(f)) return 0; // cf. read_null: nothing, memory untouched
  if (f instanceof RegularFile && (off ?? f.pos) >= BigInt(f.mapping.size)) return 0; // cf. filemap_read at or past EOF
  let done = 0;
  while (done < total) {
    const step = nextStep(p, iov, { done, total, write: true });
    if (!step) break;
    const { want, ok } = step;
    const pos = off === undefined ? undefined : Number(off + BigInt(done));
    const op = () => (pos === undefined ? f.read(ok) : f.pread(ok, pos));
    const data = done === 0 ? blocking(p, f, POLLIN, op) : op();
    eachPiece(iov, done, data.length, (va, o, n) => copyToUser(p.mm, va, data.subarray(o, o + n)));
    done += data.length;
    if (data.length < want || !fillsCount(f)) break;
  }
  return done;
}

/**
 * The next step of a transfer that has moved `done` of `total` bytes: how
 * many it wants (at most STEP) and how many of those the buffers make
 * accessible (faulted in, for writing into them when `write`).
 * @returns the step, or null when the buffers fault after earlier steps moved data (a short count)
 * @throws ErrnoError EFAULT when the very first byte is not accessible
 */
function nextStep(p: Process, iov: Iov, at: { done: number; total: number; write: boolean }): { want: number; ok: number } | null {
  const want = Math.min(STEP, at.total - at.done);
  const ok = accessible(p, iov, at.done, want, at.write);
  if (ok > 0) return { want, ok };
  if (at.done > 0) return null;
  return fail("EFAULT", `${at.write ? "read" : "write"}: bad buffer`);
}

/** Whether `f` is the host's /dev/null (cf. write_null / read_null: memory never touched). */
function isNull(f: OpenFile): boolean {
  return f instanceof StreamFile && f.isNull;
}

/**
 * write/pwrite/writev/pwritev of the guest buffers `iov` to `f` (cf.
 * vfs_write -> generic_perform_write / pipe_write): the descriptor and its
 * mode first, then the range, then the file's limits (EFBIG at the file
 * system's largest offset), then bounded steps, each copied in and written
 * before the next; a short count when a later step faults or fails.
 * @param off the position of a positioned write, else the file's own
 * @returns bytes written
 */
function writeFrom(p: Process, f: OpenFile, iov: Iov, off?: bigint): number {
  if (off !== undefined) f.pwrite(new Uint8Array(0), 0); // ESPIPE (or EBADF) before anything else (cf. FMODE_PWRITE)
  if (!f.writable) fail("EBADF", "write: not open for writing");
  let total = checkIov(iov);
  if (off !== undefined) checkPos(off, total);
  if (total === 0) return 0;
  if (isNull(f)) return total; // cf. write_null
  if (f instanceof RegularFile) total = f.writeLimit(off ?? (f.flags & O_APPEND ? BigInt(f.mapping.size) : f.pos), total);
  let done = 0;
  while (done < total) {
    const step = nextStep(p, iov, { done, total, write: false });
    if (!step) break;
    const { want, ok } = step;
    const data = new Uint8Array(ok);
    eachPiece(iov, done, ok, (va, o, n) => data.set(copyFromUser(p.mm, va, n), o));
    const wrote = writeAll(p, f, data, off === undefined ? undefined : off + BigInt(done), done > 0);
    done += wrote;
    if (wrote < data.length || ok < want) break;
  }
  return done;
}

/**
 * Writes all of `data` (a blocking file waits for room; an O_NONBLOCK one
 * stops short), at `pos` or the file position.
 * @param moved whether earlier bytes of this call were written (then a failure is a short count)
 * @returns bytes written
 */
function writeAll(p: Process, f: OpenFile, data: Uint8Array, pos: bigint | undefined, moved: boolean): number {
  let k = 0;
  while (k < data.length) {
    const rest = data.subarray(k);
    const op = () => (pos === undefined ? f.write(rest) : f.pwrite(rest, Number(pos + BigInt(k))));
    let n: number;
    try {
      n = blocking(p, f, POLLOUT, op);
    } catch (e) {
      // Once bytes moved, a wait (parking, a signal) or an error ends the call short, never re-runs it.
      if ((e instanceof ErrnoError || e instanceof ParkError) && (moved || k > 0)) return k;
      throw e;
    }
    if (n <= 0) break;
    k += n;
  }
  return k;
}

/**
 * close_range(2) (cf. __close_range): closes, or with CLOSE_RANGE_CLOEXEC
 * marks close-on-exec, every open descriptor in [first, last];
 * CLOSE_RANGE_UNSHARE needs nothing more (the table is never shared yet).
 */
function closeRange(p: Process, first: number, last: number, flags: number): number {
  const CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;
  if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) fail("EINVAL", `close_range: flags 0x${flags.toString(16)}`);
  if (first > last) fail("EINVAL", "close_range: first > last");
  for (let fd = first; fd <= Math.min(last, NOFILE - 1); fd++) {
    if (!p.fds.get(fd)) continue;
    if (flags & CLOSE_RANGE_CLOEXEC) p.fds.setCloexec(fd, true);
    else p.fds.close(fd);
  }
  return 0;
}

/** struct iovec array at `iov` with `cnt` entries: [base, len] pairs (cf. import_iovec). */
export function iovecs(p: Process, iov: number, cnt: number): [number, number][] {
  if (cnt < 0 || cnt > 1024) fail("EINVAL", "bad iovec count");
  if (cnt === 0) return [];
  const raw = new DataView(copyFromUser(p.mm, iov, cnt * 16).buffer);
  const out: [number, number][] = [];
  for (let k = 0; k < cnt; k++) {
    const len = raw.getBigInt64(k * 16 + 8, true);
    if (len < 0n) fail("EINVAL", "negative iovec length");
    out.push([Number(raw.getBigUint64(k * 16, true)), Number(len)]);
  }
  return out;
}

const c_ioctl = koffi.load("libc.so.6").func("int ioctl(int fd, unsigned long req, void *arg)");

/**
 * Terminal requests passed through to a host terminal, with the size of
 * their argument and its direction (cf. tty_ioctl / tty_mode_ioctl; the
 * kernel's struct termios is 36 bytes, not glibc's 60).
 */
const TTY_IOCTLS = new Map<number, { size: number; dir: "out" | "in" }>([
  [0x5401, { size: 36, dir: "out" }], // TCGETS
  [0x5402, { size: 36, dir: "in" }], // TCSETS
  [0x5403, { size: 36, dir: "in" }], // TCSETSW
  [0x5404, { size: 36, dir: "in" }], // TCSETSF
  [0x540f, { size: 4, dir: "out" }], // TIOCGPGRP
  [0x5410, { size: 4, dir: "in" }], // TIOCSPGRP
  [0x5413, { size: 8, dir: "out" }], // TIOCGWINSZ
  [0x5414, { size: 8, dir: "in" }], // TIOCSWINSZ
  [0x5429, { size: 4, dir: "out" }], // TIOCGSID
  [0x541b, { size: 4, dir: "out" }], // FIONREAD
]);

/** ioctl(2): FIONBIO, and terminal requests passed through to a host terminal (the host's errno); anything else is ENOTTY. */
function ioctl(p: Process, fd: number, req: number, arg: number): number {
  const f = p.fds.must(fd);
  const FIONBIO = 0x5421;
  if (req === FIONBIO) {
    const on = new DataView(copyFromUser(p.mm, arg, 4).buffer).getInt32(0, true) !== 0;
    f.flags = on ? f.flags | O_NONBLOCK : f.flags & ~O_NONBLOCK;
    return 0;
  }
  const how = TTY_IOCTLS.get(req);
  if (how === undefined || f.hostTty < 0 || !isatty(f.hostTty)) return fail("ENOTTY", `ioctl 0x${req.toString(16)}: not a terminal`);
  const mem = Buffer.alloc(how.size);
  if (how.dir === "in") mem.set(copyFromUser(p.mm, arg, how.size));
  if (c_ioctl(f.hostTty, req, mem) < 0) {
    const name = errnoName(koffi.errno());
    fail(name ?? "ENOTTY", `ioctl 0x${req.toString(16)}: the host refused`);
  }
  if (how.dir === "out") copyToUser(p.mm, arg, mem);
  return 0;
}

function isatty(fd: number): boolean {
  try {
    return tty.isatty(fd);
  } catch {
    return false;
  }
}

/** fcntl(2) (cf. do_fcntl). Locks are granted: one process holds them all. */
function fcntl(p: Process, fd: number, cmd: number, arg: number): number {
  const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7;
  const F_SETOWN = 8, F_GETOWN = 9, F_SETSIG = 10, F_GETSIG = 11, F_SETPIPE_SZ = 1031, F_SETOWN_EX = 15, F_GETOWN_EX = 16;
  const F_DUPFD_CLOEXEC = 1030, F_GETPIPE_SZ = 1032, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38;
  const f = p.fds.must(fd);
  switch (cmd) {
    case F_DUPFD: case F_DUPFD_CLOEXEC:
      // cf. f_dupfd: the lowest descriptor at or above arg (an unsigned long), below RLIMIT_NOFILE.
      if (arg < 0 || arg >= NOFILE) fail("EINVAL", `fcntl: F_DUPFD from ${arg}: outside [0, ${NOFILE})`);
      return p.fds.install(f, cmd === F_DUPFD_CLOEXEC, arg);
    case F_GETFD: return p.fds.cloexec(fd) ? 1 : 0;
    case F_SETFD: p.fds.setCloexec(fd, (arg & 1) !== 0); return 0;
    case F_GETFL: return (f.readable && f.writable ? O_RDWR : f.writable ? O_WRONLY : 0) | f.flags;
    case F_SETFL: f.flags = (f.flags & ~(O_APPEND | O_NONBLOCK)) | (arg & (O_APPEND | O_NONBLOCK)); return 0;
    case F_GETLK: case F_OFD_GETLK: {
      const lock = copyFromUser(p.mm, arg, 2);
      lock[0] = 2; lock[1] = 0; // l_type = F_UNLCK: nobody else holds a lock
      copyToUser(p.mm, arg, lock);
      return 0;
    }
    case F_SETLK: case F_SETLKW: case F_OFD_SETLK: case F_OFD_SETLKW: return 0;
    case F_GETPIPE_SZ: case F_SETPIPE_SZ:
      if (!(f instanceof PipeEnd)) fail("EBADF", "fcntl: F_GETPIPE_SZ on a file that is not a pipe");
      return cmd === F_GETPIPE_SZ ? f.capacity : f.setCapacity(arg, (process.geteuid?.() ?? 1) === 0);
    case F_SETOWN: case F_SETSIG: return 0; // no signals are delivered: nobody to notify
    case F_GETOWN: case F_GETSIG: return 0;
    case F_SETOWN_EX: copyFromUser(p.mm, arg, 8); return 0;
    case F_GETOWN_EX: copyToUser(p.mm, arg, new Uint8Array(8)); return 0; // { F_OWNER_TID, pid 0 }: no owner (glibc's F_GETOWN asks this)
    default: return fail("EINVAL", `fcntl: command ${cmd} not supported`);
  }
}

/** The loff_t at guest address `addr` (an offset a call reads and updates). @throws ErrnoError EFAULT */
function loffAt(p: Process, addr: number): bigint {
  return new DataView(copyFromUser(p.mm, addr, 8).buffer).getBigInt64(0, true);
}

/** Stores loff_t `v` at guest address `addr`. */
function putLoff(p: Process, addr: number, v: bigint): void {
  const b = new DataView(new ArrayBuffer(8));
  b.setBigInt64(0, v, true);
  copyToUser(p.mm, addr, new Uint8Array(b.buffer));
}

/**
 * sendfile(2) (cf. do_sendfile -> do_splice_direct): from a readable file
 * to any writable one, in bounded steps; at `*offAddr` (then updated, the
 * file position untouched) or at the input's position.
 */
function sendfile(p: Process, outFd: number, inFd: number, offAddr: number, count: number): number {
  const inp = p.fds.must(inFd);
  if (!inp.readable) fail("EBADF", "sendfile: input not open for reading");
  let pos: bigint | undefined;
  if (offAddr !== 0) {
    pos = loffAt(p, offAddr);
    inp.pread(0, 0); // ESPIPE when the input cannot be read at a position
    if (pos < 0n) fail("EINVAL", "sendfile: negative offset");
  }
  const out = p.fds.must(outFd);
  if (!out.writable) fail("EBADF", "sendfile: output not open for writing");
  if (out.flags & O_APPEND) fail("EINVAL", "sendfile: output is O_APPEND");
  const total = Math.min(count, RW_MAX);
  let done = 0;
  while (done < total) {
    const n = Math.min(STEP, total - done);
    const at = pos === undefined ? undefined : Number(pos + BigInt(done));
    const op = () => (at === undefined ? inp.read(n) : inp.pread(n, at));
    const data = done === 0 ? blocking(p, inp, POLLIN, op) : op();
    if (data.length === 0) break;
    const w = writeAll(p, out, data, undefined, done > 0);
    done += w;
    if (w < data.length || (data.length < n && !fillsCount(inp))) break;
  }
  if (pos !== undefined) putLoff(p, offAddr, pos + BigInt(done));
  return done;
}

/**
 * copy_file_range(2) between regular files through the page cache, so
 * read() and mappings of the output see the bytes at once (cf.
 * vfs_copy_file_range -> generic_copy_file_checks -> splice): offsets from
 * `*offInAddr` / `*offOutAddr` (updated) or the files' positions.
 */
function copyFileRange(p: Process, a: readonly number[]): number {
  const inp = p.fds.must(i32(a[0])), out = p.fds.must(i32(a[2]));
  const offInAddr = u64(a[1]), offOutAddr = u64(a[3]);
  const posIn0 = offInAddr !== 0 ? loffAt(p, offInAddr) : undefined;
  const posOut0 = offOutAddr !== 0 ? loffAt(p, offOutAddr) : undefined;
  if (u64(a[5]) !== 0) fail("EINVAL", "copy_file_range: flags must be 0");
  if (inp instanceof DirFile || out instanceof DirFile) fail("EISDIR", "copy_file_range: a directory");
  if (!(inp instanceof RegularFile) || !(out instanceof RegularFile)) fail("EINVAL", "copy_file_range: not regular files");
  if (!inp.readable || !out.writable || out.flags & O_APPEND) fail("EBADF", "copy_file_range: wrong open modes");
  const posIn = posIn0 ?? inp.pos, posOut = posOut0 ?? out.pos;
  let count = BigInt(Math.min(u64(a[4]), RW_MAX));
  if (posIn < 0n || posOut < 0n) fail("EINVAL", "copy_file_range: negative offset");
  const sizeIn = BigInt(inp.mapping.size);
  count = posIn >= sizeIn ? 0n : count < sizeIn - posIn ? count : sizeIn - posIn; // shortened to EOF
  if (inp.mapping === out.mapping && posOut + count > posIn && posOut < posIn + count) fail("EINVAL", "copy_file_range: overlapping ranges of one file");
  if (count === 0n) return 0;
  const total = out.writeLimit(posOut, Number(count));
  let done = 0;
  while (done < total) {
    const data = inp.pread(Math.min(STEP, total - done), Number(posIn) + done);
    if (data.length === 0) break;
    done += writeAll(p, out, data, posOut + BigInt(done), done > 0);
    if (data.length < Math.min(STEP, total - done)) break;
  }
  const d = BigInt(done);
  if (offInAddr !== 0) putLoff(p, offInAddr, posIn + d);
  else inp.pos = posIn + d;
  if (offOutAddr !== 0) putLoff(p, offOutAddr, posOut + d);
  else out.pos = posOut + d;
  return done;
}

/** lseek(2) with the offset's exact 64 bits (cf. ksys_lseek). */
function lseek(p: Process, fd: number, whence: number): number | bigint {
  const f = p.fds.must(fd);
  if (whence < 0 || whence > 4) fail("EINVAL", `lseek: bad whence ${whence}`);
  const off = argBig(p, 1);
  return f.seekBig(off, whence);
}

/**
 * ftruncate(2) with the length's exact 64 bits (cf. do_ftruncate): EINVAL
 * when negative, EFBIG past the file system's largest size (cf.
 * inode_newsize_ok), asked of the host; the truncation itself is the file's.
 */
function ftruncate(p: Process, fd: number, len: bigint): number {
  if (len < 0n) fail("EINVAL", "ftruncate: negative length");
  const f = p.fds.must(fd);
  if (f instanceof RegularFile && f.writable && len > f.maxSize) fail("EFBIG", `ftruncate to ${len}: past the largest size ${f.maxSize}`);
  f.truncate(Number(len));
  return 0;
}

/** An iovec call's vector: `a[1]`, `a[2]`. */
function iovOf(p: Process, a: readonly number[]): Iov {
  return iovecs(p, u64(a[1]), i32(a[2]));
}

/** A single buffer: address `a[1]`, length `a[2]`. */
function bufOf(a: readonly number[]): Iov {
  return [[u64(a[1]), u64(a[2])]];
}

export function registerFs(t: SyscallTable): void {
  const fileOf = (p: Process, a: readonly number[]) => p.fds.must(i32(a[0]));
  t.set(0, { name: "read", fn: (p, a) => readInto(p, fileOf(p, a), bufOf(a)) });
  t.set(1, { name: "write", fn: (p, a) => writeFrom(p, fileOf(p, a), bufOf(a)) });
  t.set(17, { name: "pread64", fn: (p, a) => readAt(p, a, bufOf(a), 3) });
  t.set(18, { name: "pwrite64", fn: (p, a) => writeAt(p, a, bufOf(a), 3) });
  t.set(19, { name: "readv", fn: (p, a) => readInto(p, fileOf(p, a), iovOf(p, a)) });
  t.set(20, { name: "writev", fn: (p, a) => writeFrom(p, fileOf(p, a), iovOf(p, a)) });
  t.set(295, { name: "preadv", fn: (p, a) => readAt(p, a, iovOf(p, a), 3) });
  t.set(296, { name: "pwritev", fn: (p, a) => writeAt(p, a, iovOf(p, a), 3) });
  t.set(2, { name: "open", fn: (p, a) => openAt(p, AT_FDCWD, u64(a[0]), i32(a[1]), i32(a[2])) });
  t.set(85, { name: "creat", fn: (p, a) => openAt(p, AT_FDCWD, u64(a[0]), O_CREAT | O_WRONLY | O_TRUNC, i32(a[1])) });
  t.set(257, { name: "openat", fn: (p, a) => openAt(p, i32(a[0]), u64(a[1]), i32(a[2]), i32(a[3])) });
  t.set(3, { name: "close", fn: (p, a) => (p.fds.close(i32(a[0])), 0) });
  t.set(436, { name: "close_range", fn: (p, a) => closeRange(p, u64(a[0]) % 2 ** 32, u64(a[1]) % 2 ** 32, u64(a[2]) % 2 ** 32) });
  t.set(8, { name: "lseek", fn: (p, a) => lseek(p, i32(a[0]), i32(a[2])) });
  t.set(32, { name: "dup", fn: (p, a) => p.fds.install(p.fds.must(i32(a[0]))) });
  t.set(33, { name: "dup2", fn: (p, a) => {
    const f = p.fds.must(i32(a[0]));
    if (i32(a[0]) !== i32(a[1])) p.fds.put(i32(a[1]), f, false);
    return i32(a[1]);
  } });
  t.set(292, { name: "dup3", fn: (p, a) => {
    if (i32(a[0]) === i32(a[1])) fail("EINVAL", "dup3: same descriptor");
    if (i32(a[2]) & ~O_CLOEXEC) fail("EINVAL", "dup3: bad flags");
    p.fds.put(i32(a[1]), p.fds.must(i32(a[0])), (i32(a[2]) & O_CLOEXEC) !== 0);
    return i32(a[1]);
  } });
  t.set(72, { name: "fcntl", fn: (p, a) => fcntl(p, i32(a[0]), i32(a[1]), u64(a[2])) });
  t.set(16, { name: "ioctl", fn: (p, a) => ioctl(p, i32(a[0]), u64(a[1]) % 2 ** 32, u64(a[2])) });
  t.set(22, { name: "pipe", fn: (p, a) => pipe(p, u64(a[0]), 0) });
  t.set(293, { name: "pipe2", fn: (p, a) => pipe(p, u64(a[0]), i32(a[1])) });
  t.set(40, { name: "sendfile", fn: (p, a) => sendfile(p, i32(a[0]), i32(a[1]), u64(a[2]), u64(a[3])) });
  t.set(326, { name: "copy_file_range", fn: (p, a) => copyFileRange(p, a) });
  t.set(77, { name: "ftruncate", fn: (p, a) => ftruncate(p, i32(a[0]), argBig(p, 1)) });
  t.set(74, { name: "fsync", fn: (p, a) => (p.fds.must(i32(a[0])), p.mm.sys.sync(), 0) });
  t.set(75, { name: "fdatasync", fn: (p, a) => (p.fds.must(i32(a[0])), p.mm.sys.sync(), 0) });
  t.set(221, { name: "fadvise64", fn: (p, a) => (p.fds.must(i32(a[0])), 0) });
  registerPoll(t);
}

/** A positioned read: position argument `k`, exact (cf. ksys_pread64: EINVAL for a negative one first). */
function readAt(p: Process, a: readonly number[], iov: Iov, k: number): number {
  const off = argBig(p, k);
  if (off < 0n) fail("EINVAL", "pread: negative offset");
  return readInto(p, p.fds.must(i32(a[0])), iov, off);
}

/** A positioned write: position argument `k`, exact. */
function writeAt(p: Process, a: readonly number[], iov: Iov, k: number): number {
  const off = argBig(p, k);
  if (off < 0n) fail("EINVAL", "pwrite: negative offset");
  return writeFrom(p, p.fds.must(i32(a[0])), iov, off);
}

function pipe(p: Process, fdsAddr: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | 0o40000)) fail("EINVAL", "pipe2: bad flags");
  const [r, w] = PipeEnd.pair(flags & O_NONBLOCK);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const rfd = p.fds.install(r, cloexec), wfd = p.fds.install(w, cloexec);
  const out = new DataView(new ArrayBuffer(8));
  out.setInt32(0, rfd, true);
  out.setInt32(4, wfd, true);
  copyToUser(p.mm, fdsAddr, new Uint8Array(out.buffer));
  return 0;
}
