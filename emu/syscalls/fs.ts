/**
 * File I/O system calls (cf. fs/open.c, fs/read_write.c, fs/fcntl.c,
 * fs/ioctl.c, fs/pipe.c): open through the guest's root, read and write
 * through the open file (regular files go through the page cache).
 */
import * as fs from "node:fs";
import * as tty from "node:tty";
import koffi from "koffi";
import { HostRegion } from "../../lib/hostmem.js";
import { fail, failHost } from "../../lib/errno.js";
import { bytesFromUser, copyFromUser, copyToUser } from "../../mm/index.js";
import {
  DirFile, O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDWR, O_TMPFILE, O_TRUNC,
  O_WRONLY, PathFile, PipeEnd, RegularFile, StreamFile, SyntheticFile, truncateFile, type OpenFile,
} from "../files.js";
import { procFile } from "../procfs.js";
import type { Process } from "../process.js";
import { guestPath, printable, type GuestPath, type HostPath, type Resolved } from "../vfs.js";
import { i32, u64, type SyscallTable } from "./types.js";

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
  if (proc !== null && typeof proc !== "string") return p.fds.install(proc, cloexec);
  if (proc !== null) { // a link out of /proc (/proc/self/exe, /proc/self/fd/N): open its target
    name = proc as GuestPath;
    base = dirBase(p, dirfd, name);
  }
  if (flags & O_PATH) return p.fds.install(openPath(p, name, base, flags), cloexec);
  const acc = flags & O_ACCMODE;
  if (acc === O_ACCMODE) fail("EINVAL", "open: bad access mode");
  const readable = acc !== O_WRONLY, writable = acc === O_WRONLY || acc === O_RDWR;
  const r = p.fs.resolve(name, { follow: (flags & O_NOFOLLOW) === 0, base, mustExist: (flags & O_CREAT) === 0 });
  const guest = printable(r.guest);
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(r.host);
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
    return openDevice(p, r.guest, r.host, readable, writable, flags, cloexec);
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

/** Character devices: /dev/null, /dev/zero, /dev/urandom and /dev/tty (passed to the host). */
function openDevice(p: Process, guest: string, host: HostPath, readable: boolean, writable: boolean, flags: number, cloexec: boolean): number {
  const fd = fs.openSync(host, readable && writable ? "r+" : writable ? "w" : "r");
  const file = new StreamFile(guest, fd, readable, writable, (hostFd, d) => fs.writeSync(hostFd, d));
  file.flags = flags & (O_APPEND | O_NONBLOCK);
  const release = file.release.bind(file);
  file.release = () => {
    release();
    fs.closeSync(fd);
  };
  return p.fds.install(file, cloexec);
}


/** Reads at most `len` bytes from `f` into guest memory at buf. */
function readInto(p: Process, f: OpenFile, buf: number, len: number, off?: number): number {
  const data = off === undefined ? f.read(Math.min(len, RW_MAX)) : f.pread(Math.min(len, RW_MAX), off);
  copyToUser(p.mm, buf, data);
  return data.length;
}

/** struct iovec array at `iov` with `cnt` entries: [base, len] pairs. */
function iovecs(p: Process, iov: number, cnt: number): [number, number][] {
  if (cnt < 0 || cnt > 1024) fail("EINVAL", "bad iovec count");
  const raw = new DataView(copyFromUser(p.mm, iov, cnt * 16).buffer);
  const out: [number, number][] = [];
  for (let k = 0; k < cnt; k++) out.push([Number(raw.getBigUint64(k * 16, true)), Number(raw.getBigUint64(k * 16 + 8, true))]);
  return out;
}

const c_ioctl = koffi.load("libc.so.6").func("int ioctl(int fd, unsigned long req, uint64_t arg)");
/** Native scratch for a host ioctl's result. */
let ioctlScratch: HostRegion | undefined;

/** ioctl(2): terminal queries pass through to a host terminal; anything else is ENOTTY. */
function ioctl(p: Process, fd: number, req: number, arg: number): number {
  const f = p.fds.must(fd);
  const TCGETS = 0x5401, TIOCGWINSZ = 0x5413, TIOCGPGRP = 0x540f, FIONBIO = 0x5421;
  if (req === FIONBIO) return 0;
  const sizes: Record<number, number> = { [TCGETS]: 60, [TIOCGWINSZ]: 8, [TIOCGPGRP]: 4 };
  const size = sizes[req];
  if (size === undefined || f.hostTty < 0 || !isatty(f.hostTty)) return fail("ENOTTY", `ioctl 0x${req.toString(16)}: not a terminal`);
  const mem = new Uint8Array(size);
  const rc = hostIoctl(f.hostTty, req, mem);
  if (rc < 0) fail("ENOTTY", "ioctl: host refused");
  copyToUser(p.mm, arg, mem);
  return 0;
}

function isatty(fd: number): boolean {
  try {
    return tty.isatty(fd);
  } catch {
    return false;
  }
}

/** ioctl on a host descriptor, its result copied into `into`. */
function hostIoctl(fd: number, req: number, into: Uint8Array): number {
  const region = (ioctlScratch ??= new HostRegion(4096));
  const rc = c_ioctl(fd, req, region.addr);
  into.set(region.view(0, into.length));
  return rc;
}

/** fcntl(2) (cf. do_fcntl). Locks are granted: one process holds them all. */
function fcntl(p: Process, fd: number, cmd: number, arg: number): number {
  const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7;
  const F_DUPFD_CLOEXEC = 1030, F_GETPIPE_SZ = 1032, F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38;
  const f = p.fds.must(fd);
  switch (cmd) {
    case F_DUPFD: return p.fds.install(f, false, arg);
    case F_DUPFD_CLOEXEC: return p.fds.install(f, true, arg);
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
    case F_GETPIPE_SZ: return 65536;
    default: return fail("EINVAL", `fcntl: command ${cmd} not supported`);
  }
}

/** sendfile(2): from a readable file to any writable one. */
function sendfile(p: Process, outFd: number, inFd: number, offAddr: number, count: number): number {
  const out = p.fds.must(outFd), inp = p.fds.must(inFd);
  if (!out.writable || !inp.readable) fail("EBADF", "sendfile: wrong open modes");
  const n = Math.min(count, RW_MAX);
  let data: Uint8Array;
  if (offAddr !== 0) {
    const off = Number(new DataView(copyFromUser(p.mm, offAddr, 8).buffer).getBigInt64(0, true));
    data = inp.pread(n, off);
    const next = new DataView(new ArrayBuffer(8));
    next.setBigInt64(0, BigInt(off + data.length), true);
    copyToUser(p.mm, offAddr, new Uint8Array(next.buffer));
  } else {
    data = inp.read(n);
  }
  return data.length === 0 ? 0 : out.write(data);
}

export function registerFs(t: SyscallTable): void {
  t.set(0, { name: "read", fn: (p, a) => readInto(p, p.fds.must(i32(a[0])), u64(a[1]), u64(a[2])) });
  t.set(1, { name: "write", fn: (p, a) => p.fds.must(i32(a[0])).write(copyFromUser(p.mm, u64(a[1]), Math.min(u64(a[2]), RW_MAX))) });
  t.set(17, { name: "pread64", fn: (p, a) => (a[3] < 0 ? fail("EINVAL", "pread: negative offset") : readInto(p, p.fds.must(i32(a[0])), u64(a[1]), u64(a[2]), a[3])) });
  t.set(18, { name: "pwrite64", fn: (p, a) => (a[3] < 0 ? fail("EINVAL", "pwrite: negative offset")
    : p.fds.must(i32(a[0])).pwrite(copyFromUser(p.mm, u64(a[1]), Math.min(u64(a[2]), RW_MAX)), a[3])) });
  t.set(19, { name: "readv", fn: (p, a) => {
    const f = p.fds.must(i32(a[0]));
    let total = 0;
    for (const [base, len] of iovecs(p, u64(a[1]), i32(a[2]))) {
      const n = readInto(p, f, base, len);
      total += n;
      if (n < len) break;
    }
    return total;
  } });
  t.set(20, { name: "writev", fn: (p, a) => {
    const f = p.fds.must(i32(a[0]));
    const parts = iovecs(p, u64(a[1]), i32(a[2])).map(([base, len]) => copyFromUser(p.mm, base, len));
    const all = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
    let at = 0;
    for (const x of parts) {
      all.set(x, at);
      at += x.length;
    }
    return all.length === 0 ? 0 : f.write(all);
  } });
  t.set(2, { name: "open", fn: (p, a) => openAt(p, AT_FDCWD, u64(a[0]), i32(a[1]), i32(a[2])) });
  t.set(85, { name: "creat", fn: (p, a) => openAt(p, AT_FDCWD, u64(a[0]), O_CREAT | O_WRONLY | O_TRUNC, i32(a[1])) });
  t.set(257, { name: "openat", fn: (p, a) => openAt(p, i32(a[0]), u64(a[1]), i32(a[2]), i32(a[3])) });
  t.set(3, { name: "close", fn: (p, a) => (p.fds.close(i32(a[0])), 0) });
  t.set(8, { name: "lseek", fn: (p, a) => p.fds.must(i32(a[0])).seek(a[1], i32(a[2])) });
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
  t.set(77, { name: "ftruncate", fn: (p, a) => (a[1] < 0 ? fail("EINVAL", "ftruncate: negative length") : (p.fds.must(i32(a[0])).truncate(a[1]), 0)) });
  t.set(74, { name: "fsync", fn: (p, a) => (p.fds.must(i32(a[0])), p.mm.sys.sync(), 0) });
  t.set(75, { name: "fdatasync", fn: (p, a) => (p.fds.must(i32(a[0])), p.mm.sys.sync(), 0) });
  t.set(221, { name: "fadvise64", fn: (p, a) => (p.fds.must(i32(a[0])), 0) });
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
