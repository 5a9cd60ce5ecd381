/**
 * Open file descriptions (cf. struct file and its file_operations): regular
 * files read and written through the page cache, directories, the host's
 * standard streams, pipes, and files whose content faultline makes up
 * (/proc/self/maps). Each kind implements what it supports; the rest
 * answers as Linux does for such a file (ESPIPE, EINVAL, ENOTDIR...).
 */
import * as fs from "node:fs";
import { fail } from "../lib/errno.js";
import { hostGetdents, hostLseek } from "./hostfs.js";
import type { GuestPath, HostPath, Vfs } from "./vfs.js";
import {
  filemapRead, filemapWrite, newReadaheadState, truncatePagecache, type AddressSpace, type MemSystem, type ReadaheadState,
} from "../mm/index.js";

/** The fields of struct stat / statx that faultline fills. */
export interface FileStat {
  dev: number; ino: number; mode: number; nlink: number; uid: number; gid: number; rdev: number;
  size: number; blksize: number; blocks: number;
  atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint; birthtimeNs: bigint;
}

/** struct stat fields from a host stat (bigint form, for exact times). */
export function statOf(st: fs.BigIntStats): FileStat {
  return {
    dev: Number(st.dev), ino: Number(st.ino), mode: Number(st.mode), nlink: Number(st.nlink), uid: Number(st.uid), gid: Number(st.gid),
    rdev: Number(st.rdev), size: Number(st.size), blksize: Number(st.blksize), blocks: Number(st.blocks),
    atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, birthtimeNs: st.birthtimeNs,
  };
}

export const O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3, O_CREAT = 0o100, O_EXCL = 0o200, O_NOCTTY = 0o400, O_TRUNC = 0o1000;
export const O_APPEND = 0o2000, O_NONBLOCK = 0o4000, O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000, O_TMPFILE = 0o20000000 | O_DIRECTORY;
export const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFIFO = 0o010000, S_IFCHR = 0o020000;

/** One open file description. Methods a kind lacks answer as Linux does. */
export abstract class OpenFile {
  /** Status flags (O_APPEND, O_NONBLOCK...) as set by open or F_SETFL. */
  flags: number;
  /** Descriptors referring to this description (dup shares it). */
  refs = 0;

  constructor(readonly guestPath: string, readonly readable: boolean, readonly writable: boolean, flags: number) {
    this.flags = flags;
  }

  /** The page cache behind the file, when it can be mmapped. */
  get mapping(): AddressSpace | null {
    return null;
  }
  read(_len: number): Uint8Array {
    return fail("EINVAL", "read: not supported on this file");
  }
  write(_data: Uint8Array): number {
    return fail("EINVAL", "write: not supported on this file");
  }
  pread(_len: number, _off: number): Uint8Array {
    return fail("ESPIPE", "pread: not seekable");
  }
  pwrite(_data: Uint8Array, _off: number): number {
    return fail("ESPIPE", "pwrite: not seekable");
  }
  seek(_off: number, _whence: number): number {
    return fail("ESPIPE", "lseek: not seekable");
  }
  abstract stat(): FileStat;
  /** The host descriptor behind a terminal-capable stream, for ioctl; -1 otherwise. */
  get hostTty(): number {
    return -1;
  }
  /**
   * A host descriptor of the inode this open file is (it stays that inode
   * when the name is renamed or removed), or -1 when the file lives inside
   * faultline (pipes, made-up files). Calls on the file rather than a
   * name (fstatfs, fchmod, fchown, fsetxattr, futimens...) act on it.
   */
  get hostInode(): number {
    return -1;
  }
  /** Called when the last descriptor closes. */
  release(): void {}
  truncate(_len: number): void {
    fail("EINVAL", "ftruncate: not a regular file");
  }
}

/** New position for lseek, or EINVAL (cf. vfs_setpos). */
function seekTo(pos: number, size: number, off: number, whence: number): number {
  const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
  let at: number;
  switch (whence) {
    case SEEK_SET: at = off; break;
    case SEEK_CUR: at = pos + off; break;
    case SEEK_END: at = size + off; break;
    case SEEK_DATA: if (off >= size) fail("ENXIO", "lseek: past end"); at = off; break;
    case SEEK_HOLE: if (off >= size) fail("ENXIO", "lseek: past end"); at = size; break;
    default: return fail("EINVAL", `lseek: bad whence ${whence}`);
  }
  if (at < 0) fail("EINVAL", "lseek: negative position");
  return at;
}

/** A regular file: data through the page cache, metadata from the host. */
export class RegularFile extends OpenFile {
  pos = 0;
  /** Readahead state of this open file (cf. file->f_ra). */
  readonly ra: ReadaheadState = newReadaheadState();

  constructor(guestPath: string, readonly hostPath: HostPath, readonly sys: MemSystem, private readonly cache: AddressSpace,
    readable: boolean, writable: boolean, flags: number) {
    super(guestPath, readable, writable, flags);
  }
  override get mapping(): AddressSpace {
    return this.cache;
  }
  override read(len: number): Uint8Array {
    const data = this.pread(len, this.pos);
    this.pos += data.length;
    return data;
  }
  override pread(len: number, off: number): Uint8Array {
    if (!this.readable) fail("EBADF", "read: not open for reading");
    return filemapRead(this.sys, this.cache, this.ra, off, len);
  }
  override write(data: Uint8Array): number {
    if (this.flags & O_APPEND) this.pos = this.cache.size;
    const n = this.pwrite(data, this.pos);
    this.pos += n;
    return n;
  }
  override pwrite(data: Uint8Array, off: number): number {
    if (!this.writable) fail("EBADF", "write: not open for writing");
    return filemapWrite(this.sys, this.cache, this.ra, off, data);
  }
  override seek(off: number, whence: number): number {
    this.pos = seekTo(this.pos, this.cache.size, off, whence);
    return this.pos;
  }
  override get hostInode(): number {
    return this.cache.hostFd;
  }
  override stat(): FileStat {
    const st = statOf(fs.fstatSync(this.cache.hostFd, { bigint: true }));
    st.size = this.cache.size; // the cache may hold data not yet written back
    st.blocks = Math.max(st.blocks, Math.ceil(st.size / 512));
    return st;
  }
  override truncate(len: number): void {
    if (!this.writable) fail("EINVAL", "ftruncate: not open for writing");
    truncateFile(this.sys, this.cache, len);
  }
}

/** Truncates a file and its cache (cf. do_truncate + truncate_pagecache). */
export function truncateFile(sys: MemSystem, cache: AddressSpace, len: number): void {
  fs.ftruncateSync(cache.hostFd, len);
  truncatePagecache(sys, cache, len);
}

/**
 * A directory opened for reading its entries. It holds a host descriptor of
 * the directory itself, so it stays the same directory when its name is
 * renamed or removed, as Linux's struct file does; entries come straight
 * from the host's getdents64, in the host's order, with its d_off cookies.
 */
export class DirFile extends OpenFile {
  /**
   * Exact host cookies by their nearest double: lseek arguments and results
   * travel as numbers, and ext4's hash cookies use 63 bits.
   */
  private readonly cookies = new Map<number, bigint>();

  /**
   * @param hostFd host descriptor of the directory (O_RDONLY|O_DIRECTORY); closed on release
   */
  constructor(guestPath: string, readonly hostFd: number, flags: number) {
    super(guestPath, true, false, flags);
  }
  override read(): Uint8Array {
    return fail("EISDIR", "read: is a directory");
  }
  override get hostInode(): number {
    return this.hostFd;
  }
  /**
   * linux_dirent64 records for a buffer of `size` bytes, as the host's
   * getdents64 gives them (EINVAL when not even one fits, ENOENT once the
   * directory is removed, cf. iterate_dir).
   */
  readEntries(size: number): Buffer {
    const buf = Buffer.alloc(Math.min(size, 1 << 20));
    const n = hostGetdents(this.hostFd, buf);
    for (let at = 0; at < n; at += buf.readUInt16LE(at + 16)) {
      const off = buf.readBigInt64LE(at + 8);
      this.cookies.set(Number(off), off);
    }
    return buf.subarray(0, n);
  }
  /** lseek(2) on a directory with a number offset: a cookie handed out before is taken back exactly. */
  override seek(off: number, whence: number): number {
    return Number(this.seekBig(this.cookies.get(off) ?? BigInt(Math.trunc(off)), whence));
  }
  /** lseek(2) on a directory: the host's position, a cookie from d_off (cf. ext4_dir_llseek), with all 64 bits. */
  seekBig(off: bigint, whence: number): bigint {
    const at = hostLseek(this.hostFd, off, whence);
    this.cookies.set(Number(at), at);
    return at;
  }
  /**
   * The directory's guest path as it is now (after any rename), from the
   * host's name for the descriptor; relative lookups from it start there.
   * @throws ErrnoError ENOENT once the directory is removed (or was moved out of the root)
   */
  where(vfs: Vfs): GuestPath {
    if (fs.fstatSync(this.hostFd).nlink === 0) fail("ENOENT", `${this.guestPath}: directory was removed`);
    const host = fs.readlinkSync(`/proc/self/fd/${this.hostFd}`, { encoding: "buffer" });
    return vfs.guestInside(host) ?? fail("ENOENT", `${this.guestPath}: directory is no longer under the root`);
  }
  override stat(): FileStat {
    return statOf(fs.fstatSync(this.hostFd, { bigint: true }));
  }
  override release(): void {
    fs.closeSync(this.hostFd);
  }
}

/**
 * An O_PATH descriptor (cf. FMODE_PATH): it names an inode (a symbolic link
 * itself with O_NOFOLLOW) through a host O_PATH descriptor, answers fstat
 * and serves as a *at() or AT_EMPTY_PATH anchor, and does no I/O (EBADF).
 */
export class PathFile extends OpenFile {
  /** @param hostFd host O_PATH descriptor of the inode; closed on release */
  constructor(guestPath: string, readonly hostFd: number, flags: number) {
    super(guestPath, false, false, flags);
  }
  override read(): Uint8Array {
    return fail("EBADF", "read: O_PATH descriptor");
  }
  override write(): number {
    return fail("EBADF", "write: O_PATH descriptor");
  }
  override pread(): Uint8Array {
    return fail("EBADF", "pread: O_PATH descriptor");
  }
  override pwrite(): number {
    return fail("EBADF", "pwrite: O_PATH descriptor");
  }
  override seek(): number {
    return fail("EBADF", "lseek: O_PATH descriptor");
  }
  override truncate(): void {
    fail("EBADF", "ftruncate: O_PATH descriptor");
  }
  override get hostInode(): number {
    return this.hostFd;
  }
  override stat(): FileStat {
    return statOf(fs.fstatSync(this.hostFd, { bigint: true }));
  }
  override release(): void {
    fs.closeSync(this.hostFd);
  }
}

/** One of the host's standard streams (or any host descriptor passed through). */
export class StreamFile extends OpenFile {
  constructor(guestPath: string, readonly hostFd: number, readable: boolean, writable: boolean, private readonly out: (fd: number, d: Uint8Array) => void) {
    super(guestPath, readable, writable, 0);
  }
  override read(len: number): Uint8Array {
    if (!this.readable) fail("EBADF", "read: not open for reading");
    const buf = Buffer.alloc(Math.min(len, 1 << 20));
    try {
      return buf.subarray(0, fs.readSync(this.hostFd, buf, 0, buf.length, null));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") return fail("EAGAIN", "read: would block");
      if (code === "EOF") return new Uint8Array(0);
      return fail("EIO", `read: ${(e as Error).message}`);
    }
  }
  override write(data: Uint8Array): number {
    if (!this.writable) fail("EBADF", "write: not open for writing");
    this.out(this.hostFd, data);
    return data.length;
  }
  override stat(): FileStat {
    return statOf(fs.fstatSync(this.hostFd, { bigint: true }));
  }
  override get hostTty(): number {
    return this.hostFd;
  }
  override get hostInode(): number {
    return this.hostFd;
  }
}

/** The shared buffer of a pipe. */
class PipeBuffer {
  chunks: Uint8Array[] = [];
  readers = 0;
  writers = 0;
}

/** One end of a pipe inside the process (pipe2). */
export class PipeEnd extends OpenFile {
  constructor(private readonly buf: PipeBuffer, readable: boolean, flags: number) {
    super("pipe:", readable, !readable, flags);
    if (readable) buf.readers++;
    else buf.writers++;
  }
  /** A connected pair: [read end, write end]. */
  static pair(flags: number): [PipeEnd, PipeEnd] {
    const b = new PipeBuffer();
    return [new PipeEnd(b, true, flags), new PipeEnd(b, false, flags)];
  }
  override read(len: number): Uint8Array {
    if (!this.readable) fail("EBADF", "read: write end of a pipe");
    const b = this.buf;
    if (b.chunks.length === 0) {
      if (b.writers === 0) return new Uint8Array(0);
      return fail("EAGAIN", "read: empty pipe (nothing else runs to fill it)");
    }
    const out: number[] = [];
    while (out.length < len && b.chunks.length > 0) {
      const c = b.chunks[0];
      const n = Math.min(len - out.length, c.length);
      for (let k = 0; k < n; k++) out.push(c[k]);
      if (n === c.length) b.chunks.shift();
      else b.chunks[0] = c.subarray(n);
    }
    return Uint8Array.from(out);
  }
  override write(data: Uint8Array): number {
    if (!this.writable) fail("EBADF", "write: read end of a pipe");
    if (this.buf.readers === 0) fail("EPIPE", "write: no reader");
    this.buf.chunks.push(Uint8Array.from(data));
    return data.length;
  }
  override stat(): FileStat {
    return { dev: 12, ino: 1, mode: S_IFIFO | 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: 0n };
  }
  override release(): void {
    if (this.readable) this.buf.readers--;
    else this.buf.writers--;
  }
}

/** A read-only file whose bytes faultline makes at open (/proc/self/maps). */
export class SyntheticFile extends OpenFile {
  pos = 0;
  constructor(guestPath: string, private readonly data: Uint8Array) {
    super(guestPath, true, false, 0);
  }
  override read(len: number): Uint8Array {
    const out = this.pread(len, this.pos);
    this.pos += out.length;
    return out;
  }
  override pread(len: number, off: number): Uint8Array {
    return this.data.slice(off, off + len);
  }
  override seek(off: number, whence: number): number {
    this.pos = seekTo(this.pos, this.data.length, off, whence);
    return this.pos;
  }
  override stat(): FileStat {
    return { dev: 4, ino: 4026531842, mode: S_IFREG | 0o444, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 1024, blocks: 0, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: 0n };
  }
}
