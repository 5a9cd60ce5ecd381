/** stat family, statx and statfs (cf. fs/stat.c, fs/statfs.c). */
import * as fs from "node:fs";
import { fail, failHost } from "../../lib/errno.js";
import { copyToUser } from "../../mm/index.js";
import { PipeEnd, SyntheticFile, statOf, type FileStat, type OpenFile } from "../files.js";
import { hostPipeStatfs, hostStatfs } from "../hostfs.js";
import { procStat } from "../procfs.js";
import { UnixSocket, hostSockfsStatfs } from "../unix-socket.js";
import type { Process } from "../process.js";
import { textPath, type GuestPath } from "../vfs.js";
import { Out } from "./process.js";
import { AT_FDCWD, dirBase, userPath } from "./fs.js";
import { i32, u64, type SyscallTable } from "./types.js";

const AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;

/** The stat of guest path `name` (from dirfd), following a last link unless told not to. */
export function statPath(p: Process, dirfd: number, name: GuestPath, follow: boolean): FileStat {
  const proc = procStat(p, name, dirBase(p, dirfd, name), follow);
  if (proc !== null && typeof proc !== "string") return proc;
  if (proc !== null) name = proc as GuestPath; // a link out of /proc, followed
  const r = p.fs.resolve(name, { follow, base: dirBase(p, dirfd, name) });
  let st: FileStat;
  try {
    st = statOf(fs.lstatSync(r.host, { bigint: true }));
  } catch (e) {
    return failHost(e, r.guest);
  }
  const cached = p.mm.sys.files.get(`${st.dev}:${st.ino}`);
  if (cached && (st.mode & 0o170000) === 0o100000) st.size = cached.size; // data not yet written back counts
  return st;
}

/** struct stat (x86-64, 144 bytes). */
function statBytes(st: FileStat): Uint8Array {
  const s = (ns: bigint) => ns / 1_000_000_000n, n = (ns: bigint) => ns % 1_000_000_000n;
  return new Out(144).u64(0, st.dev).u64(8, st.ino).u64(16, st.nlink).u32(24, st.mode).u32(28, st.uid).u32(32, st.gid)
    .u64(40, st.rdev).u64(48, st.size).u64(56, st.blksize).u64(64, st.blocks)
    .u64(72, s(st.atimeNs)).u64(80, n(st.atimeNs)).u64(88, s(st.mtimeNs)).u64(96, n(st.mtimeNs))
    .u64(104, s(st.ctimeNs)).u64(112, n(st.ctimeNs)).bytes;
}

/** Major and minor of a glibc-encoded dev_t. */
function devParts(dev: number): [number, number] {
  const d = BigInt(dev);
  return [Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)), Number((d & 0xffn) | ((d >> 12n) & ~0xffn))];
}

/** struct statx (256 bytes), with every basic field (STATX_BASIC_STATS | STATX_BTIME). */
function statxBytes(st: FileStat): Uint8Array {
  const ts = (o: Out, off: number, ns: bigint) => o.u64(off, ns / 1_000_000_000n).u32(off + 8, Number(ns % 1_000_000_000n));
  const o = new Out(256).u32(0, 0x7ff | 0x800).u32(4, st.blksize).u32(16, st.nlink).u32(20, st.uid).u32(24, st.gid)
    .u16(28, st.mode).u64(32, st.ino).u64(40, st.size).u64(48, st.blocks);
  ts(o, 64, st.atimeNs);
  ts(o, 80, st.birthtimeNs);
  ts(o, 96, st.ctimeNs);
  ts(o, 112, st.mtimeNs);
  const [rmaj, rmin] = devParts(st.rdev), [dmaj, dmin] = devParts(st.dev);
  return o.u32(128, rmaj).u32(132, rmin).u32(136, dmaj).u32(140, dmin).bytes;
}

/** The stat of a *at() call: by descriptor with AT_EMPTY_PATH and "", else by path. */
function statAt(p: Process, dirfd: number, pathAddr: number, flags: number): FileStat {
  const name = userPath(p, pathAddr);
  if (name === "") {
    if (!(flags & AT_EMPTY_PATH)) fail("ENOENT", "empty path");
    if (dirfd === AT_FDCWD) return statPath(p, AT_FDCWD, textPath("."), true);
    return p.fds.must(dirfd).stat();
  }
  return statPath(p, dirfd, name, (flags & AT_SYMLINK_NOFOLLOW) === 0);
}

/**
 * struct statfs of the file system an open file is on (cf. fd_statfs): the
 * host's, through the inode the file holds; /proc for files faultline makes
 * up there; the host's pipe and socket file systems for pipes and sockets.
 */
function fileStatfs(f: OpenFile): Uint8Array {
  if (f.hostInode >= 0) return hostStatfs({ fd: f.hostInode });
  if (f instanceof PipeEnd) return hostPipeStatfs();
  if (f instanceof UnixSocket) return hostSockfsStatfs();
  if (f instanceof SyntheticFile) return hostStatfs({ path: Buffer.from("/proc") });
  return fail("ENOSYS", "fstatfs: no file system behind this file");
}

export function registerStat(t: SyscallTable): void {
  t.set(4, { name: "stat", fn: (p, a) => (copyToUser(p.mm, u64(a[1]), statBytes(statPath(p, AT_FDCWD, userPath(p, u64(a[0])), true))), 0) });
  t.set(6, { name: "lstat", fn: (p, a) => (copyToUser(p.mm, u64(a[1]), statBytes(statPath(p, AT_FDCWD, userPath(p, u64(a[0])), false))), 0) });
  t.set(5, { name: "fstat", fn: (p, a) => (copyToUser(p.mm, u64(a[1]), statBytes(p.fds.must(i32(a[0])).stat())), 0) });
  t.set(262, { name: "newfstatat", fn: (p, a) => (copyToUser(p.mm, u64(a[2]), statBytes(statAt(p, i32(a[0]), u64(a[1]), i32(a[3])))), 0) });
  t.set(332, { name: "statx", fn: (p, a) => (copyToUser(p.mm, u64(a[4]), statxBytes(statAt(p, i32(a[0]), u64(a[1]), i32(a[2])))), 0) });
  t.set(137, { name: "statfs", fn: (p, a) => {
    const r = p.fs.resolve(userPath(p, u64(a[0])));
    copyToUser(p.mm, u64(a[1]), hostStatfs({ path: r.host }));
    return 0;
  } });
  t.set(138, { name: "fstatfs", fn: (p, a) => (copyToUser(p.mm, u64(a[1]), fileStatfs(p.fds.must(i32(a[0])))), 0) });
}
