/**
 * Open file descriptions (cf. struct file and its file_operations): regular
 * files read and written through the page cache, directories, the host's
 * standard streams, pipes, and files whose content faultline makes up
 * (/proc/self/maps). Each kind implements what it supports; the rest
 * answers as Linux does for such a file (ESPIPE, EINVAL, ENOTDIR...).
 */
import * as fs from "node:fs";
import { fail, failHost } from "../lib/errno.js";
import { hostGetdents, hostLseek, hostMaxBytes, hostPoll, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLRDNORM, POLLWRNORM } from "./hostfs.js";
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
  /** lseek(2) with the offset's exact 64 bits; kinds whose offsets can pass 2^53 override it. */
  seekBig(off: bigint, whence: number): bigint {
    return BigInt(this.seek(Number(off), whence));
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

/** Largest file offset Linux has (cf. MAX_LFS_FILESIZE, 2^63-1). */
export const MAX_LFS_FILESIZE = 2n ** 63n - 1n;
/** Largest offset faultline's page cache addresses exactly (a JS number's integers). */
const CACHE_MAX_BYTES = 2n ** 53n;

/**
 * The largest size a file may be given (cf. inode_newsize_ok against
 * s_maxbytes): the host file system's limit for host descriptor `fd`, held
 * within what the page cache addresses exactly.
 * @param maxBytes the host's limit when already known
 */
export function fileSizeLimit(fd: number, maxBytes = hostMaxBytes(fd)): bigint {
  return maxBytes < CACHE_MAX_BYTES ? maxBytes : CACHE_MAX_BYTES - 1n;
}

/**
 * New position for lseek, or EINVAL (cf. generic_file_llseek_size and
 * vfs_setpos): exact over the whole 64-bit range.
 * @param max the file system's largest offset (cf. s_maxbytes)
 */
export function seekTo(pos: bigint, size: bigint, off: bigint, whence: number, max = MAX_LFS_FILESIZE): bigint {
  const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
  let at: bigint;
  switch (whence) {
    case SEEK_SET: at = off; break;
    case SEEK_CUR: if (off === 0n) return pos; at = pos + off; break;
    case SEEK_END: at = size + off; break;
    case SEEK_DATA: if (off < 0n || off >= size) fail("ENXIO", "lseek: past end"); at = off; break;
    case SEEK_HOLE: if (off < 0n || off >= size) fail("ENXIO", "lseek: past end"); at = size; break;
    default: return fail("EINVAL", `lseek: bad whence ${whence}`);
  }
  if (at < 0n || at > max) fail("EINVAL", `lseek: position ${at} outside [0, ${max}]`);
  return at;
}

/** A regular file: data through the page cache, metadata from the host. */
export class RegularFile extends OpenFile {
  /** The file position, exact to 2^63-1 (cf. f_pos). */
  pos = 0n;
  /** Readahead state of this open file (cf. file->f_ra). */
  readonly ra: ReadaheadState = newReadaheadState();
  /** The host file system's largest offset for this file, found on first need (cf. s_maxbytes). */
  private maxBytesFound: bigint | undefined;

  constructor(guestPath: string, readonly hostPath: HostPath, readonly sys: MemSystem, private readonly cache: AddressSpace,
    readable: boolean, writable: boolean, flags: number) {
    super(guestPath, readable, writable, flags);
  }
  override get mapping(): AddressSpace {
    return this.cache;
  }
  /** The largest offset of this file (cf. inode->i_sb->s_maxbytes), from the host. */
  get maxBytes(): bigint {
    return (this.maxBytesFound ??= hostMaxBytes(this.cache.hostFd));
  }
  /** The largest size this file may be given: the file system's, within what the page cache addresses exactly. */
  get maxSize(): bigint {
    return fileSizeLimit(this.cache.hostFd, this.maxBytes);
  }
  override read(len: number): Uint8Array {
    const data = this.pread(len, Number(this.pos));
    this.pos += BigInt(data.length);
    return data;
  }
  /** Reads at most `len` bytes at `off`; nothing at or past the largest offset (cf. filemap_read). */
  override pread(len: number, off: number): Uint8Array {
    if (!this.readable) fail("EBADF", "read: not open for reading");
    if (BigInt(off) >= this.maxBytes || off >= this.cache.size) return new Uint8Array(0);
    return filemapRead(this.sys, this.cache, this.ra, off, len);
  }
  override write(data: Uint8Array): number {
    if (this.flags & O_APPEND) this.pos = BigInt(this.cache.size);
    const n = this.pwrite(data, Number(this.pos));
    this.pos += BigInt(n);
    return n;
  }
  override pwrite(data: Uint8Array, off: number): number {
    if (!this.writable) fail("EBADF", "write: not open for writing");
    const n = this.writeLimit(BigInt(off), data.length);
    return filemapWrite(this.sys, this.cache, this.ra, off, n === data.length ? data : data.subarray(0, n));
  }
  /**
   * How many of `count` bytes may be written at `pos` (cf.
   * generic_write_check_limits): EFBIG at or past the file system's largest
   * offset, else cut to it.
   */
  writeLimit(pos: bigint, count: number): number {
    const max = this.maxSize;
    if (count === 0) return 0;
    if (pos >= max) fail("EFBIG", `write at ${pos}: past the file system's largest offset ${max}`);
    return Number(BigInt(count) < max - pos ? BigInt(count) : max - pos);
  }
  override seek(off: number, whence: number): number {
    return Number(this.seekBig(BigInt(off), whence));
  }
  /** lseek with exact 64-bit offsets (cf. ext4_llseek -> generic_file_llseek_size). */
  override seekBig(off: bigint, whence: number): bigint {
    this.pos = seekTo(this.pos, BigInt(this.cache.size), off, whence, this.maxBytes);
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
  override seekBig(off: bigint, whence: number): bigint {
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

/** How a host stream was opened. */
export interface StreamOptions {
  /** faultline opened the host descriptor O_NONBLOCK itself (a FIFO): its reads answer EAGAIN and EOF as the host says. */
  hostNonblock?: boolean;
  /** Status flags the guest opened it with (O_APPEND, O_NONBLOCK). */
  flags?: number;
  /** Close the host descriptor when the last guest descriptor closes (it was opened for the guest). */
  own?: boolean;
}

/** Most bytes written to a host pipe or socket in one step: what a ready pipe takes without blocking (cf. PIPE_BUF). */
const PIPE_STEP = 4096;
/** Most bytes read from a host stream in one call. */
const STREAM_READ_MAX = 1 << 20;

/**
 * A host descriptor passed through: the host's standard streams, character
 * devices, FIFOs. Its operations never block the host: a read or write that
 * would wait answers EAGAIN, and the system-call layer waits in slices
 * (emu/syscalls/poll.ts `blocking`) unless the guest asked O_NONBLOCK.
 */
export class StreamFile extends OpenFile {
  /** Whether host writes may block (a FIFO or socket): then they go PIPE_BUF at a time, when the host polls writable. */
  private readonly pipeLike: boolean;
  private readonly hostNonblock: boolean;
  private readonly own: boolean;
  /** The host descriptor is /dev/null (char device 1:3): reads end at once, writes are taken whole, memory untouched (cf. read_null, write_null). */
  readonly isNull: boolean;

  constructor(guestPath: string, readonly hostFd: number, readable: boolean, writable: boolean,
    private readonly out: (fd: number, d: Uint8Array) => void, o: StreamOptions = {}) {
    super(guestPath, readable, writable, o.flags ?? 0);
    this.hostNonblock = o.hostNonblock ?? false;
    this.own = o.own ?? false;
    this.pipeLike = hostIsPipeLike(hostFd);
    this.isNull = hostIsNull(hostFd);
  }
  /** Host readiness now (cf. the device's poll), answered by the host's poll with timeout 0. */
  pollMask(): number {
    return hostPoll([this.hostFd], POLLIN | POLLOUT)[0] & ~(this.readable ? 0 : POLLIN) & ~(this.writable ? 0 : POLLOUT);
  }
  get pollHostFds(): readonly number[] {
    return [this.hostFd];
  }
  override read(len: number): Uint8Array {
    if (!this.readable) fail("EBADF", "read: not open for reading");
    // A blocking host descriptor is read only when the host says it will not block; a FIFO
    // faultline opened O_NONBLOCK answers EAGAIN itself, but for a guest that blocks it must
    // also wait for a first writer (poll shows POLLHUP only once one came and went).
    const direct = this.hostNonblock && this.flags & O_NONBLOCK;
    if (!direct && (hostPoll([this.hostFd], POLLIN)[0] & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) === 0) fail("EAGAIN", "read: nothing to read yet");
    const buf = Buffer.alloc(Math.min(len, STREAM_READ_MAX));
    try {
      return buf.subarray(0, fs.readSync(this.hostFd, buf, 0, buf.length, null));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EOF") return new Uint8Array(0);
      return failHost(e, `read ${this.guestPath}`);
    }
  }
  override write(data: Uint8Array): number {
    if (!this.writable) fail("EBADF", "write: not open for writing");
    if (!this.pipeLike) {
      this.out(this.hostFd, data);
      return data.length;
    }
    if ((hostPoll([this.hostFd], POLLOUT)[0] & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)) === 0) fail("EAGAIN", "write: the host pipe is full");
    const step = data.subarray(0, PIPE_STEP);
    try {
      this.out(this.hostFd, step);
    } catch (e) {
      return failHost(e, `write ${this.guestPath}`);
    }
    return step.length;
  }
  override pread(len: number, off: number): Uint8Array {
    this.mustSeek();
    if (!this.readable) fail("EBADF", "pread: not open for reading");
    const buf = Buffer.alloc(Math.min(len, STREAM_READ_MAX));
    try {
      return buf.subarray(0, fs.readSync(this.hostFd, buf, 0, buf.length, off));
    } catch (e) {
      return failHost(e, `pread ${this.guestPath}`);
    }
  }
  override pwrite(data: Uint8Array, off: number): number {
    this.mustSeek();
    if (!this.writable) fail("EBADF", "pwrite: not open for writing");
    try {
      return fs.writeSync(this.hostFd, data, 0, Math.min(data.length, STREAM_READ_MAX), off);
    } catch (e) {
      return failHost(e, `pwrite ${this.guestPath}`);
    }
  }
  /** ESPIPE unless the host descriptor can be read or written at a position (cf. FMODE_PREAD / FMODE_PWRITE). */
  private mustSeek(): void {
    hostLseek(this.hostFd, 0n, 1);
  }
  override seek(off: number, whence: number): number {
    return Number(this.seekBig(BigInt(off), whence));
  }
  /** The host's own lseek (0 on /dev/null, ESPIPE on a pipe or terminal, the real position on a file). */
  override seekBig(off: bigint, whence: number): bigint {
    return hostLseek(this.hostFd, off, whence);
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
  override release(): void {
    if (this.own) fs.closeSync(this.hostFd);
  }
}

/** Whether host descriptor `fd` is /dev/null (the character device 1:3). */
function hostIsNull(fd: number): boolean {
  try {
    const st = fs.fstatSync(fd);
    return st.isCharacterDevice() && st.rdev === ((1 << 8) | 3);
  } catch {
    return false;
  }
}

/** Whether host descriptor `fd` is a FIFO or socket (writes to it may block). */
function hostIsPipeLike(fd: number): boolean {
  try {
    const st = fs.fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/** Bytes a new pipe holds before a writer must wait (cf. PIPE_DEF_BUFFERS pages). */
export const PIPE_CAPACITY = 65536;
/** Largest capacity an unprivileged F_SETPIPE_SZ may ask (cf. /proc/sys/fs/pipe-max-size). */
const PIPE_MAX_SIZE = 1 << 20;
/** Writes up to this size are atomic: all or nothing (cf. PIPE_BUF). */
const PIPE_BUF = 4096;

/** The shared buffer of a pipe. */
class PipeBuffer {
  chunks: Uint8Array[] = [];
  /** Bytes held in chunks. */
  bytes = 0;
  /** Bytes it may hold (F_SETPIPE_SZ changes it). */
  capacity = PIPE_CAPACITY;
  readers = 0;
  writers = 0;
}

/**
 * One end of a pipe inside the process (pipe2). Operations never wait: an
 * empty pipe with writers, or a full one with readers, answers EAGAIN and
 * the system-call layer waits unless O_NONBLOCK (cf. pipe_read, pipe_write).
 */
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
  /** Readiness (cf. pipe_poll): data or no writers for the read end; room or no readers for the write end. */
  pollMask(): number {
    const b = this.buf;
    if (this.readable) return (b.bytes > 0 ? POLLIN | POLLRDNORM : 0) | (b.writers === 0 ? POLLHUP : 0);
    return (b.bytes + PIPE_BUF <= b.capacity ? POLLOUT | POLLWRNORM : 0) | (b.readers === 0 ? POLLERR : 0);
  }
  override read(len: number): Uint8Array {
    if (!this.readable) fail("EBADF", "read: write end of a pipe");
    const b = this.buf;
    if (b.bytes === 0) {
      if (b.writers === 0) return new Uint8Array(0);
      return fail("EAGAIN", "read: empty pipe");
    }
    const out = new Uint8Array(Math.min(len, b.bytes));
    let at = 0;
    while (at < out.length) {
      const c = b.chunks[0];
      const n = Math.min(out.length - at, c.length);
      out.set(c.subarray(0, n), at);
      if (n === c.length) b.chunks.shift();
      else b.chunks[0] = c.subarray(n);
      at += n;
    }
    b.bytes -= out.length;
    return out;
  }
  /** Writes what fits (all of a write up to PIPE_BUF, or nothing); EAGAIN when nothing does. */
  override write(data: Uint8Array): number {
    if (!this.writable) fail("EBADF", "write: read end of a pipe");
    const b = this.buf;
    if (b.readers === 0) fail("EPIPE", "write: no reader");
    const room = b.capacity - b.bytes;
    const n = data.length <= PIPE_BUF ? (data.length <= room ? data.length : 0) : Math.min(room, data.length);
    if (n === 0 && data.length > 0) fail("EAGAIN", "write: the pipe is full");
    b.chunks.push(data.slice(0, n));
    b.bytes += n;
    return n;
  }
  /** The pipe's capacity (F_GETPIPE_SZ). */
  get capacity(): number {
    return this.buf.capacity;
  }
  /**
   * Sets the capacity (cf. pipe_set_size): rounded up to a power of two of
   * pages; EPERM over pipe-max-size unprivileged, EBUSY below what it holds.
   * @returns the new capacity
   */
  setCapacity(want: number, privileged: boolean): number {
    if (want > 0x7fffffff) fail("EINVAL", "F_SETPIPE_SZ: too large");
    let size = 4096;
    while (size < want) size *= 2;
    if (size > PIPE_MAX_SIZE && !privileged) fail("EPERM", `F_SETPIPE_SZ: ${size} is over pipe-max-size`);
    if (size < this.buf.bytes) fail("EBUSY", "F_SETPIPE_SZ: the pipe holds more");
    this.buf.capacity = size;
    return size;
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
  /** The file position, exact to 2^63-1 (cf. seq_lseek). */
  pos = 0n;
  constructor(guestPath: string, private readonly data: Uint8Array) {
    super(guestPath, true, false, 0);
  }
  override read(len: number): Uint8Array {
    const out = this.pread(len, Number(this.pos));
    this.pos += BigInt(out.length);
    return out;
  }
  override pread(len: number, off: number): Uint8Array {
    return off >= this.data.length ? new Uint8Array(0) : this.data.slice(off, off + len);
  }
  override seek(off: number, whence: number): number {
    return Number(this.seekBig(BigInt(off), whence));
  }
  /** lseek with exact 64-bit offsets. */
  override seekBig(off: bigint, whence: number): bigint {
    this.pos = seekTo(this.pos, BigInt(this.data.length), off, whence);
    return this.pos;
  }
  override stat(): FileStat {
    return { dev: 4, ino: 4026531842, mode: S_IFREG | 0o444, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 1024, blocks: 0, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: 0n };
  }
}
