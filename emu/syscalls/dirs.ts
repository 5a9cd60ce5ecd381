/**
 * Names in the file system (cf. fs/namei.c, fs/readdir.c, fs/d_path.c):
 * directory listing, the working directory, links, creation and removal.
 * Every path resolves inside the guest's root (emu/vfs.ts).
 */
import * as fs from "node:fs";
import { fail, failHost } from "../../lib/errno.js";
import { copyToUser, stringFromUser } from "../../mm/index.js";
import { DirFile, truncateFile } from "../files.js";
import { procAccess, procLink } from "../procfs.js";
import type { Process } from "../process.js";
import { AT_FDCWD, dirBase } from "./fs.js";
import { i32, u64, type SyscallTable } from "./types.js";

const AT_REMOVEDIR = 0x200, AT_SYMLINK_NOFOLLOW = 0x100;

/** Resolves a *at() path to host and guest form; the last component need not exist when `mayCreate`. */
function at(p: Process, dirfd: number, pathAddr: number, follow: boolean, mayCreate = false) {
  const name = stringFromUser(p.mm, pathAddr);
  return p.fs.resolve(name, follow, dirBase(p, dirfd, name), !mayCreate);
}

/** getdents64(2): linux_dirent64 records into the buffer, as many as fit. */
function getdents(p: Process, fd: number, buf: number, size: number): number {
  const f = p.fds.must(fd);
  const entries = f.getdents();
  if (!(f instanceof DirFile) || !entries) return fail("ENOTDIR", "getdents64: not a directory");
  const chunks: Buffer[] = [];
  let used = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const reclen = Math.ceil((19 + name.length + 1) / 8) * 8;
    if (used + reclen > size) {
      if (used === 0) fail("EINVAL", "getdents64: buffer too small");
      break;
    }
    const rec = Buffer.alloc(reclen);
    rec.writeBigUInt64LE(BigInt(e.ino), 0);
    rec.writeBigInt64LE(BigInt(f.pos + 1), 8);
    rec.writeUInt16LE(reclen, 16);
    rec[18] = e.type;
    name.copy(rec, 19);
    chunks.push(rec);
    used += reclen;
    f.pos++;
  }
  if (used > 0) copyToUser(p.mm, buf, Buffer.concat(chunks));
  return used;
}

/** readlink(2) into the guest buffer (not NUL-terminated, truncated to size). */
function readlink(p: Process, dirfd: number, pathAddr: number, buf: number, size: number): number {
  if (size <= 0) fail("EINVAL", "readlink: size must be positive");
  const name = stringFromUser(p.mm, pathAddr);
  const proc = procLink(p, name, dirBase(p, dirfd, name));
  let target: string;
  if (proc !== null) {
    target = proc;
  } else {
    const r = p.fs.resolve(name, false, dirBase(p, dirfd, name));
    try {
      target = fs.readlinkSync(r.host);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EINVAL") fail("EINVAL", `readlink: ${r.guest} is not a link`);
      return failHost(e, r.guest);
    }
  }
  const bytes = Buffer.from(target, "utf8").subarray(0, size);
  copyToUser(p.mm, buf, bytes);
  return bytes.length;
}

/** access(2)/faccessat(2): existence and permission on the host file. */
function access(p: Process, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (mode & ~7) fail("EINVAL", "access: bad mode");
  const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
  const name = stringFromUser(p.mm, pathAddr);
  const proc = procAccess(p, name, dirBase(p, dirfd, name), follow, mode);
  if (proc === 0) return 0;
  const r = p.fs.resolve(proc ?? name, follow, dirBase(p, dirfd, name)); // proc: a link out of /proc, followed
  try {
    fs.accessSync(r.host, mode);
  } catch (e) {
    failHost(e, r.guest);
  }
  return 0;
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

export function registerDirs(t: SyscallTable): void {
  t.set(217, { name: "getdents64", fn: (p, a) => getdents(p, i32(a[0]), u64(a[1]), u64(a[2])) });
  t.set(79, { name: "getcwd", fn: (p, a) => {
    const cwd = Buffer.from(p.fs.cwd + "\0", "utf8");
    if (cwd.length > u64(a[1])) fail("ERANGE", "getcwd: buffer too small");
    copyToUser(p.mm, u64(a[0]), cwd);
    return cwd.length;
  } });
  t.set(80, { name: "chdir", fn: (p, a) => {
    const r = p.fs.resolve(stringFromUser(p.mm, u64(a[0])), true);
    if (!fs.statSync(r.host).isDirectory()) fail("ENOTDIR", `chdir: ${r.guest} is not a directory`);
    p.fs.cwd = r.guest;
    return 0;
  } });
  t.set(81, { name: "fchdir", fn: (p, a) => {
    const f = p.fds.must(i32(a[0]));
    if (!(f instanceof DirFile)) fail("ENOTDIR", "fchdir: not a directory");
    p.fs.cwd = f.guestPath;
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
  t.set(82, { name: "rename", fn: (p, a) => rename(p, AT_FDCWD, u64(a[0]), AT_FDCWD, u64(a[1])) });
  t.set(264, { name: "renameat", fn: (p, a) => rename(p, i32(a[0]), u64(a[1]), i32(a[2]), u64(a[3])) });
  t.set(316, { name: "renameat2", fn: (p, a) => (i32(a[4]) !== 0 ? fail("EINVAL", "renameat2: flags not supported") : rename(p, i32(a[0]), u64(a[1]), i32(a[2]), u64(a[3]))) });
  t.set(88, { name: "symlink", fn: (p, a) => {
    const target = stringFromUser(p.mm, u64(a[0]));
    const r = at(p, AT_FDCWD, u64(a[1]), false, true);
    return host(r.guest, () => fs.symlinkSync(target, r.host));
  } });
  t.set(86, { name: "link", fn: (p, a) => {
    const from = at(p, AT_FDCWD, u64(a[0]), false), to = at(p, AT_FDCWD, u64(a[1]), false, true);
    return host(to.guest, () => fs.linkSync(from.host, to.host));
  } });
  t.set(90, { name: "chmod", fn: (p, a) => { const r = at(p, AT_FDCWD, u64(a[0]), true); return host(r.guest, () => fs.chmodSync(r.host, i32(a[1]) & 0o7777)); } });
  t.set(268, { name: "fchmodat", fn: (p, a) => { const r = at(p, i32(a[0]), u64(a[1]), true); return host(r.guest, () => fs.chmodSync(r.host, i32(a[2]) & 0o7777)); } });
  t.set(91, { name: "fchmod", fn: (p, a) => (p.fds.must(i32(a[0])), 0) });
  t.set(92, { name: "chown", fn: () => 0 });
  t.set(93, { name: "fchown", fn: () => 0 });
  t.set(94, { name: "lchown", fn: () => 0 });
  t.set(260, { name: "fchownat", fn: () => 0 });
  t.set(280, { name: "utimensat", fn: () => 0 });
  // Extended attributes: none are kept (cf. a file system without xattrs holding no ACLs).
  for (const [nr, name, follow] of [[191, "getxattr", true], [192, "lgetxattr", false]] as const) {
    t.set(nr, { name, fn: (p, a) => (at(p, AT_FDCWD, u64(a[0]), follow), fail("ENODATA", `${name}: no such attribute`)) });
  }
  t.set(193, { name: "fgetxattr", fn: (p, a) => (p.fds.must(i32(a[0])), fail("ENODATA", "fgetxattr: no such attribute")) });
  for (const [nr, name, follow] of [[194, "listxattr", true], [195, "llistxattr", false]] as const) {
    t.set(nr, { name, fn: (p, a) => (at(p, AT_FDCWD, u64(a[0]), follow), 0) });
  }
  t.set(196, { name: "flistxattr", fn: (p, a) => (p.fds.must(i32(a[0])), 0) });
  t.set(76, { name: "truncate", fn: (p, a) => {
    const r = at(p, AT_FDCWD, u64(a[0]), true);
    const cache = p.mm.sys.openFile(r.host, true);
    truncateFile(p.mm.sys, cache, a[1]);
    return 0;
  } });
}

function mkdir(p: Process, dirfd: number, pathAddr: number, mode: number): number {
  const r = at(p, dirfd, pathAddr, false, true);
  return host(r.guest, () => fs.mkdirSync(r.host, mode & ~p.fs.umask & 0o7777));
}

function unlink(p: Process, dirfd: number, pathAddr: number, flags: number): number {
  if (flags & ~AT_REMOVEDIR) fail("EINVAL", "unlinkat: bad flags");
  const r = at(p, dirfd, pathAddr, false);
  if (flags & AT_REMOVEDIR) return host(r.guest, () => fs.rmdirSync(r.host));
  if (fs.lstatSync(r.host).isDirectory()) fail("EISDIR", `unlink: ${r.guest} is a directory`);
  return host(r.guest, () => fs.unlinkSync(r.host));
}

function rename(p: Process, fromFd: number, from: number, toFd: number, to: number): number {
  const a = at(p, fromFd, from, false), b = at(p, toFd, to, false, true);
  return host(b.guest, () => fs.renameSync(a.host, b.host));
}
