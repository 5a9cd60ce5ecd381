/**
 * Names in the file system (cf. fs/namei.c, fs/readdir.c, fs/d_path.c,
 * fs/utimes.c, fs/xattr.c): directory listing, the working directory,
 * links, times, owners, modes, extended attributes, creation and removal.
 * Every path resolves inside the guest's root (emu/vfs.ts) and travels as
 * bytes; calls on a descriptor act on the host inode the open file holds.
 */
import * as fs from "node:fs";
import { fail, failHost } from "../../lib/errno.js";
import { bytesFromUser, copyFromUser, copyToUser, PG_dirty, writebackPage } from "../../mm/index.js";
import { DirFile, fileSizeLimit, truncateFile, type OpenFile } from "../files.js";
import {
  hostGetxattr, hostLink, hostListxattr, hostRemovexattr, hostRename, hostSetxattr, hostUtimens, type HostTarget,
} from "../hostfs.js";
import { procAccess, procLink } from "../procfs.js";
import type { Process } from "../process.js";
import { pathBytes, printable, type GuestPath, type Resolved } from "../vfs.js";
import { AT_FDCWD, dirBase, userPath } from "./fs.js";
import { argBig, i32, u64, type SyscallTable } from "./types.js";

const AT_REMOVEDIR = 0x200, AT_SYMLINK_NOFOLLOW = 0x100, AT_SYMLINK_FOLLOW = 0x400, AT_EMPTY_PATH = 0x1000;
/** Longest xattr name and value (cf. XATTR_NAME_MAX, XATTR_SIZE_MAX, XATTR_LIST_MAX). */
const XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536;

/** How at() resolves the last component. */
interface AtOptions {
  /** Follow a link in the last component. */
  follow: boolean;
  /** The last component may be missing (a creating call). */
  mayCreate?: boolean;
}

/** Resolves a *at() path (bytes at guest address `pathAddr`) inside the root. */
function at(p: Process, dirfd: number, pathAddr: number, o: AtOptions): Resolved {
  const name = userPath(p, pathAddr);
  return p.fs.resolve(name, { follow: o.follow, base: dirBase(p, dirfd, name), mustExist: !o.mayCreate });
}

/**
 * What a call that takes a path or, with AT_EMPTY_PATH and "", a descriptor
 * acts on (cf. user_path_at with LOOKUP_EMPTY).
 */
function target(p: Process, dirfd: number, pathAddr: number, flags: number): HostTarget & { what: string } {
  const name = userPath(p, pathAddr);
  if (name === "" && flags & AT_EMPTY_PATH) {
    if (dirfd === AT_FDCWD) return { path: p.fs.resolve(p.fs.cwd).host, what: "." };
    return { fd: inodeOf(p.fds.must(dirfd), "AT_EMPTY_PATH"), what: `fd ${dirfd}` };
  }
  const r = p.fs.resolve(name, { follow: (flags & AT_SYMLINK_NOFOLLOW) === 0, base: dirBase(p, dirfd, name) });
  return { path: r.host, what: printable(r.guest) };
}

/** The host inode descriptor of `f`. @throws ErrnoError EOPNOTSUPP when it lives inside faultline */
function inodeOf(f: OpenFile, what: string): number {
  return f.hostInode >= 0 ? f.hostInode : fail("EOPNOTSUPP", `${what}: this file has no inode on the host`);
}

/** getdents64(2): the host's linux_dirent64 records, in the host's order with its d_off cookies. */
function getdents(p: Process, fd: number, buf: number, size: number): number {
  const f = p.fds.must(fd);
  if (!(f instanceof DirFile)) return fail("ENOTDIR", "getdents64: not a directory");
  const records = f.readEntries(size);
  if (records.length > 0) copyToUser(p.mm, buf, records);
  return records.length;
}

/** readlink(2) into the guest buffer (not NUL-terminated, truncated to size). */
function readlink(p: Process, dirfd: number, pathAddr: number, buf: number, size: number): number {
  if (size <= 0) fail("EINVAL", "readlink: size must be positive");
  const name = userPath(p, pathAddr);
  const base = dirBase(p, dirfd, name);
  const proc = procLink(p, name, base);
  let target: Buffer;
  if (proc !== null) {
    target = Buffer.from(proc, "latin1"); // a GuestPath's bytes
  } else {
    const r = p.fs.resolve(name, { follow: false, base });
    try {
      target = fs.readlinkSync(r.host, { encoding: "buffer" });
    } catch (e) {
      return failHost(e, `readlink ${printable(r.guest)}`);
    }
  }
  const bytes = target.subarray(0, size);
  copyToUser(p.mm, buf, bytes);
  return bytes.length;
}

/** access(2)/faccessat(2): existence and permission on the host file. */
function access(p: Process, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (mode & ~7) fail("EINVAL", "access: bad mode");
  const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
  const name = userPath(p, pathAddr);
  const base = dirBase(p, dirfd, name);
  const proc = procAccess(p, name, base, follow, mode);
  if (proc === 0) return 0;
  const r = p.fs.resolve((proc as GuestPath | null) ?? name, { follow, base }); // proc: a link out of /proc, followed
  return host(printable(r.guest), () => fs.accessSync(r.host, mode));
}

/** Runs a host operation on resolved paths, mapping host errors to errno. */
function host(what: string, op: () => void): number {
  try {
    op();
  } catch (e) {
    failHost(e, what);
  }
  return 0;
}

/** getcwd(2): the working directory's bytes and a NUL (cf. d_path; ENOENT once it is removed). */
function getcwd(p: Process, buf: number, size: number): number {
  const cwd = Buffer.concat([pathBytes(p.fs.cwd), Buffer.alloc(1)]);
  if (p.fs.cwdRemoved() || !fs.existsSync(p.fs.hostOf(p.fs.cwd))) fail("ENOENT", "getcwd: the working directory was removed");
  if (cwd.length > size) fail("ERANGE", "getcwd: buffer too small");
  copyToUser(p.mm, buf, cwd);
  return cwd.length;
}

export function registerDirs(t: SyscallTable): void {
  t.set(217, { name: "getdents64", fn: (p, a) => getdents(p, i32(a[0]), u64(a[1]), u64(a[2]) % 2 ** 32) });
  t.set(79, { name: "getcwd", fn: (p, a) => getcwd(p, u64(a[0]), u64(a[1])) });
  t.set(80, { name: "chdir", fn: (p, a) => {
    const r = p.fs.resolve(userPath(p, u64(a[0])));
    if (!fs.statSync(r.host).isDirectory()) fail("ENOTDIR", `chdir: ${printable(r.guest)} is not a directory`);
    p.fs.cwd = r.guest;
    return 0;
  } });
  t.set(81, { name: "fchdir", fn: (p, a) => {
    const f = p.fds.must(i32(a[0]));
    if (!(f instanceof DirFile)) fail("ENOTDIR", "fchdir: not a directory");
    p.fs.cwd = f.where(p.fs);
    return 0;
  } });
  t.set(89, { name: "readlink", fn: (p, a) => readlink(p, AT_FDCWD, u64(a[0]), u64(a[1]), i32(a[2])) });
  t.set(267, { name: "readlinkat", fn: (p, a) => readlink(p, i32(a[0]), u64(a[1]), u64(a[2]), i32(a[3])) });
  t.set(21, { name: "access", fn: (p, a) => access(p, AT_FDCWD, u64(a[0]), i32(a[1]), 0) });
  t.set(269, { name: "faccessat", fn: (p, a) => access(p, i32(a[0]), u64(a[1]), i32(a[2]), 0) });
  t.set(439, { name: "faccessat2", fn: (p, a) => access(p, i32(a[0]), u64(a[1]), i32(a[2]), i32(a[3])) });
  t.set(83, { name: "mkdir", fn: (p, a) => mkdir(p, AT_FDCWD, u64(a[0]), i32(a[1])) });
  t.set(258, { name: "mkdirat", fn: (p, a) => mkdir(p, i32(a[0]), u64(a[1]), i32(a[2])) });
  t.set(84, { name: "rmdir", fn: (p, a) => unlink(p, AT_FDCWD, u64(a[0]), AT_REMOVEDIR) });
  t.set(87, { name: "unlink", fn: (p, a) => unlink(p, AT_FDCWD, u64(a[0]), 0) });
  t.set(263, { name: "unlinkat", fn: (p, a) => unlink(p, i32(a[0]), u64(a[1]), i32(a[2])) });
  t.set(82, { name: "rename", fn: (p, a) => rename(p, AT_FDCWD, u64(a[0]), AT_FDCWD, u64(a[1]), 0) });
  t.set(264, { name: "renameat", fn: (p, a) => rename(p, i32(a[0]), u64(a[1]), i32(a[2]), u64(a[3]), 0) });
  t.set(316, { name: "renameat2", fn: (p, a) => rename(p, i32(a[0]), u64(a[1]), i32(a[2]), u64(a[3]), i32(a[4])) });
  t.set(88, { name: "symlink", fn: (p, a) => symlink(p, u64(a[0]), AT_FDCWD, u64(a[1])) });
  t.set(266, { name: "symlinkat", fn: (p, a) => symlink(p, u64(a[0]), i32(a[1]), u64(a[2])) });
  t.set(86, { name: "link", fn: (p, a) => link(p, AT_FDCWD, u64(a[0]), AT_FDCWD, u64(a[1]), 0) });
  t.set(265, { name: "linkat", fn: (p, a) => link(p, i32(a[0]), u64(a[1]), i32(a[2]), u64(a[3]), i32(a[4])) });
  registerAttrs(t);
  registerXattrs(t);
  t.set(76, { name: "truncate", fn: (p, a) => truncate(p, u64(a[0]), argBig(p, 1)) });
}

/** chmod, chown and times, by path or through the open file's inode. */
function registerAttrs(t: SyscallTable): void {
  const chmod = (p: Process, tg: HostTarget & { what: string }, mode: number) =>
    host(tg.what, () => ("fd" in tg ? fs.fchmodSync(tg.fd, mode & 0o7777) : fs.chmodSync(tg.path, mode & 0o7777)));
  t.set(90, { name: "chmod", fn: (p, a) => chmod(p, target(p, AT_FDCWD, u64(a[0]), 0), i32(a[1])) });
  t.set(268, { name: "fchmodat", fn: (p, a) => chmod(p, target(p, i32(a[0]), u64(a[1]), 0), i32(a[2])) });
  t.set(91, { name: "fchmod", fn: (p, a) => {
    const f = p.fds.must(i32(a[0]));
    return f.hostInode < 0 ? 0 : chmod(p, { fd: f.hostInode, what: `fd ${i32(a[0])}` }, i32(a[1])); // a pipe's inode is faultline's own
  } });
  // uid_t and gid_t are 32 bits unsigned; (uid_t)-1 leaves the id as it is (cf. chown_common).
  const id = (v: number) => (v >>> 0 === 0xffffffff ? -1 : v >>> 0);
  const chown = (tg: HostTarget & { what: string }, uid: number, gid: number) =>
    host(tg.what, () => ("fd" in tg ? fs.fchownSync(tg.fd, id(uid), id(gid)) : fs.lchownSync(tg.path, id(uid), id(gid))));
  t.set(92, { name: "chown", fn: (p, a) => chown(target(p, AT_FDCWD, u64(a[0]), 0), i32(a[1]), i32(a[2])) });
  t.set(94, { name: "lchown", fn: (p, a) => chown(target(p, AT_FDCWD, u64(a[0]), AT_SYMLINK_NOFOLLOW), i32(a[1]), i32(a[2])) });
  t.set(93, { name: "fchown", fn: (p, a) => {
    const f = p.fds.must(i32(a[0]));
    return f.hostInode < 0 ? 0 : chown({ fd: f.hostInode, what: `fd ${i32(a[0])}` }, i32(a[1]), i32(a[2]));
  } });
  t.set(260, { name: "fchownat", fn: (p, a) => {
    if (i32(a[4]) & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail("EINVAL", "fchownat: bad flags");
    return chown(target(p, i32(a[0]), u64(a[1]), i32(a[4])), i32(a[2]), i32(a[3]));
  } });
  t.set(280, { name: "utimensat", fn: (p, a) => utimensat(p, i32(a[0]), u64(a[1]), u64(a[2]), i32(a[3])) });
  t.set(132, { name: "utime", fn: (p, a) => utimes(p, AT_FDCWD, u64(a[0]), u64(a[1]), "utimbuf") });
  t.set(235, { name: "utimes", fn: (p, a) => utimes(p, AT_FDCWD, u64(a[0]), u64(a[1]), "timeval") });
  t.set(261, { name: "futimesat", fn: (p, a) => utimes(p, i32(a[0]), u64(a[1]), u64(a[2]), "timeval") });
}

/**
 * utimensat(2) (cf. do_utimes): times (two struct timespec, UTIME_NOW and
 * UTIME_OMIT as the host reads them) or NULL for now; a NULL path means
 * dirfd itself (what glibc's futimens passes).
 */
function utimensat(p: Process, dirfd: number, pathAddr: number, timesAddr: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) fail("EINVAL", "utimensat: bad flags");
  const times = timesAddr === 0 ? null : copyFromUser(p.mm, timesAddr, 32);
  if (pathAddr === 0) {
    if (dirfd === AT_FDCWD) fail("EFAULT", "utimensat: NULL path");
    setTimes(p, { fd: inodeOf(p.fds.must(dirfd), "utimensat") }, times);
    return 0;
  }
  setTimes(p, target(p, dirfd, pathAddr, flags), times);
  return 0;
}

/**
 * Sets the times of `t` on the host, after writing back its dirty cached
 * pages: write() has already changed the file as Linux sees it, and a later
 * write-back must not move the times the guest sets now.
 */
function setTimes(p: Process, t: HostTarget, times: Uint8Array | null): void {
  let st: fs.Stats | undefined;
  try {
    st = "fd" in t ? fs.fstatSync(t.fd) : fs.lstatSync(t.path);
  } catch { /* the host call below reports it */ }
  const cache = st && p.mm.sys.files.get(`${st.dev}:${st.ino}`);
  if (cache) for (const page of cache.pages.values()) if (page.flags & PG_dirty) writebackPage(p.mm.sys, page);
  hostUtimens(t, times);
}

/** utime(2), utimes(2), futimesat(2): seconds (utimbuf) or microseconds (timeval) made into timespecs. */
function utimes(p: Process, dirfd: number, pathAddr: number, timesAddr: number, kind: "utimbuf" | "timeval"): number {
  let times: Uint8Array | null = null;
  if (timesAddr !== 0) {
    const raw = Buffer.from(copyFromUser(p.mm, timesAddr, kind === "utimbuf" ? 16 : 32));
    const ts = Buffer.alloc(32);
    for (let k = 0; k < 2; k++) {
      const sec = raw.readBigInt64LE(kind === "utimbuf" ? k * 8 : k * 16);
      const usec = kind === "utimbuf" ? 0n : raw.readBigInt64LE(k * 16 + 8);
      if (usec < 0n || usec >= 1_000_000n) fail("EINVAL", `${kind}: microseconds out of range`);
      ts.writeBigInt64LE(sec, k * 16);
      ts.writeBigInt64LE(usec * 1000n, k * 16 + 8);
    }
    times = ts;
  }
  setTimes(p, target(p, dirfd, pathAddr, 0), times);
  return 0;
}

/** The xattr family: real attributes of the host file, as the host file system keeps them. */
function registerXattrs(t: SyscallTable): void {
  const kinds = [["", 0], ["l", AT_SYMLINK_NOFOLLOW]] as const;
  const on = (p: Process, a: readonly number[], flags: number): HostTarget =>
    flags < 0 ? { fd: inodeOf(p.fds.must(i32(a[0])), "xattr") } : target(p, AT_FDCWD, u64(a[0]), flags);
  const all = [...kinds, ["f", -1]] as const;
  all.forEach(([prefix, flags], k) => {
    t.set(188 + k, { name: `${prefix}setxattr`, fn: (p, a) => {
      const name = xattrName(p, u64(a[1]));
      const size = u64(a[3]);
      if (size > XATTR_SIZE_MAX) fail("E2BIG", "setxattr: value too large");
      const value = size === 0 ? new Uint8Array(0) : copyFromUser(p.mm, u64(a[2]), size);
      hostSetxattr(on(p, a, flags), name, value, i32(a[4]));
      return 0;
    } });
    t.set(191 + k, { name: `${prefix}getxattr`, fn: (p, a) => {
      const name = xattrName(p, u64(a[1]));
      const buf = Buffer.alloc(Math.min(u64(a[3]), XATTR_SIZE_MAX));
      const n = hostGetxattr(on(p, a, flags), name, buf);
      if (buf.length > 0 && n > 0) copyToUser(p.mm, u64(a[2]), buf.subarray(0, n));
      return n;
    } });
    t.set(194 + k, { name: `${prefix}listxattr`, fn: (p, a) => {
      const buf = Buffer.alloc(Math.min(u64(a[2]), XATTR_SIZE_MAX));
      const n = hostListxattr(on(p, a, flags), buf);
      if (buf.length > 0 && n > 0) copyToUser(p.mm, u64(a[1]), buf.subarray(0, n));
      return n;
    } });
    t.set(197 + k, { name: `${prefix}removexattr`, fn: (p, a) => (hostRemovexattr(on(p, a, flags), xattrName(p, u64(a[1]))), 0) });
  });
}

/** An xattr name's bytes (cf. strncpy_from_user into XATTR_NAME_MAX + 1: ERANGE when empty or too long). */
function xattrName(p: Process, addr: number): Buffer {
  let name: Buffer;
  try {
    name = bytesFromUser(p.mm, addr, XATTR_NAME_MAX + 1);
  } catch (e) {
    if ((e as { code?: string }).code === "ENAMETOOLONG") fail("ERANGE", "xattr name too long");
    throw e;
  }
  return name.length === 0 ? fail("ERANGE", "empty xattr name") : name;
}

/** truncate(2) (cf. vfs_truncate): EINVAL for a negative length or a file that is not regular, EISDIR for a directory. */
/** truncate(2) with the length's exact 64 bits (cf. do_sys_truncate): EINVAL when negative, EFBIG past the file system's largest size. */
function truncate(p: Process, pathAddr: number, len: bigint): number {
  if (len < 0n) fail("EINVAL", "truncate: negative length");
  const r = at(p, AT_FDCWD, pathAddr, { follow: true });
  const st = fs.statSync(r.host);
  if (st.isDirectory()) fail("EISDIR", `truncate: ${printable(r.guest)} is a directory`);
  if (!st.isFile()) fail("EINVAL", `truncate: ${printable(r.guest)} is not a regular file`);
  const cache = p.mm.sys.openFile(r.host, true);
  const max = fileSizeLimit(cache.hostFd);
  if (len > max) fail("EFBIG", `truncate to ${len}: past the largest size ${max}`); // cf. inode_newsize_ok
  truncateFile(p.mm.sys, cache, Number(len));
  return 0;
}

function mkdir(p: Process, dirfd: number, pathAddr: number, mode: number): number {
  const r = at(p, dirfd, pathAddr, { follow: false, mayCreate: true });
  return host(printable(r.guest), () => fs.mkdirSync(r.host, mode & ~p.fs.umask & 0o7777));
}

function unlink(p: Process, dirfd: number, pathAddr: number, flags: number): number {
  if (flags & ~AT_REMOVEDIR) fail("EINVAL", "unlinkat: bad flags");
  const r = at(p, dirfd, pathAddr, { follow: false });
  const what = printable(r.guest);
  if (flags & AT_REMOVEDIR) return host(what, () => fs.rmdirSync(r.host));
  if (fs.lstatSync(r.host).isDirectory()) fail("EISDIR", `unlink: ${what} is a directory`);
  return host(what, () => fs.unlinkSync(r.host));
}

/** rename(2), renameat(2), renameat2(2) with its flags (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT), by the host. */
function rename(p: Process, fromFd: number, from: number, toFd: number, to: number, flags: number): number {
  const a = at(p, fromFd, from, { follow: false }), b = at(p, toFd, to, { follow: false, mayCreate: true });
  hostRename(a.host, b.host, flags);
  return 0;
}

/** symlink(2), symlinkat(2): the target's bytes are stored as given, never resolved. */
function symlink(p: Process, targetAddr: number, dirfd: number, pathAddr: number): number {
  const target = bytesFromUser(p.mm, targetAddr);
  if (target.length === 0) fail("ENOENT", "symlink: empty target");
  const r = at(p, dirfd, pathAddr, { follow: false, mayCreate: true });
  return host(printable(r.guest), () => fs.symlinkSync(target, r.host));
}

/**
 * link(2), linkat(2) (cf. do_linkat): the old name's link itself unless
 * AT_SYMLINK_FOLLOW; with AT_EMPTY_PATH and "" the open file's inode.
 */
function link(p: Process, fromFd: number, from: number, toFd: number, to: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) fail("EINVAL", "linkat: bad flags");
  const src = target(p, fromFd, from, flags & AT_EMPTY_PATH | (flags & AT_SYMLINK_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW));
  const dst = at(p, toFd, to, { follow: false, mayCreate: true });
  if ("fd" in src) hostLink(Buffer.from(`/proc/self/fd/${src.fd}`), dst.host, true);
  else hostLink(src.path, dst.host, false);
  return 0;
}
