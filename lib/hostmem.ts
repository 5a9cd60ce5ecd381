/**
 * Host memory the way a kernel wants it: page-aligned, reserved without being
 * committed, and given back on demand. Node's Buffers can do neither, so this
 * calls libc's mmap/munmap/madvise through koffi (cf. the field notes).
 *
 * Host addresses are plain numbers: x86-64 user space is 47 bits, well inside
 * a double's exact range.
 */
import koffi from "koffi";
import * as fs from "node:fs";
import { FaultlineError } from "./errors.js";

const PROT_READ = 1, PROT_WRITE = 2;
const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
const MFD_CLOEXEC = 1;
/** Longest memfd name in bytes: NAME_MAX less the "memfd:" prefix (cf. MFD_NAME_MAX_LEN). */
const MFD_NAME_MAX = 255 - "memfd:".length;
const FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2;
const MADV_DONTNEED = 4, MADV_HUGEPAGE = 14;
/** Size of a host transparent huge page (an x86-64 PMD). */
export const HOST_HUGE_SIZE = 2 << 20;
const MAP_FAILED = 0xffffffffffffffffn;
const EFAULT = 14;

const libc = koffi.load("libc.so.6");
const c_mmap = libc.func("void *mmap(uint64_t addr, size_t len, int prot, int flags, int fd, int64_t off)");
const c_munmap = libc.func("int munmap(uint64_t addr, size_t len)");
const c_madvise = libc.func("int madvise(uint64_t addr, size_t len, int advice)");
const c_pread = libc.func("int64_t pread(int fd, uint64_t buf, size_t count, int64_t off)");
const c_pwrite = libc.func("int64_t pwrite(int fd, uint64_t buf, size_t count, int64_t off)");
const c_mmap_num = libc.func("uint64_t mmap(uint64_t addr, size_t len, int prot, int flags, int fd, int64_t off)");
const c_mremap = libc.func("uint64_t mremap(uint64_t old, size_t oldLen, size_t newLen, int flags, uint64_t newAddr)");
const c_memfd_create = libc.func("int memfd_create(const char *name, unsigned int flags)");
const c_ftruncate = libc.func("int ftruncate(int fd, int64_t len)");
const c_fallocate = libc.func("int fallocate(int fd, int mode, int64_t off, int64_t len)");
const c_close = libc.func("int close(int fd)");
const c_memcpy = libc.func("uint64_t memcpy(uint64_t dst, uint64_t src, size_t n)");
/** glibc's mallopt parameter for the size from which malloc maps a chunk of its own (cf. malloc.h M_MMAP_THRESHOLD). */
const M_MMAP_THRESHOLD = -3;
// memset(p, 0, 0) returns p untouched: the cheapest way to turn a numeric
// host address into a koffi pointer, which koffi.view() needs.
const c_asPointer = libc.func("void *memset(uint64_t s, int c, size_t n)");

/** Size of MemFile's bounce buffer. */
const BOUNCE = 1 << 20;

/**
 * Size of the pieces HostRegion views host memory in (the largest view it
 * makes at once). V8 counts every byte an ArrayBuffer spans as external
 * memory, mapped or not, and answers each 64 MB of growth with a garbage
 * collection: views of 1 GiB (two per address space: its text and its
 * stack) cost an atomic mark-compact at every start and every exec (7-13 ms
 * each on 12-04's host). Views of 2 MiB count what a guest touches, 2 MiB
 * at a time. Callers that view more than a chunk split at these bounds
 * (mm/uaccess.ts).
 */
export const HOST_VIEW_CHUNK = 1 << 21;

/** A host system call failed; `code` is the errno name when known. */
export class HostError extends FaultlineError {
  /** Host errno number. */
  readonly errno: number;
  constructor(fn: string, errno: number) {
    super(`HOST_${fn.toUpperCase()}`, `host ${fn} failed: errno ${errno}`);
    this.errno = errno;
  }
}

/** The views of one HOST_VIEW_CHUNK-sized piece of a HostRegion (one ArrayBuffer). */
interface ChunkView {
  /** The chunk's bytes. */
  bytes: Uint8Array;
  /** The same bytes as 32-bit words. */
  words: Uint32Array;
}

/**
 * A reservation of host memory: `size` bytes at `addr`, anonymous, private,
 * MAP_NORESERVE, zero-filled, and costing nothing until touched.
 * Invariant: `addr` is page-aligned and stays valid until {@link release}.
 */
export class HostRegion {
  /** Host virtual address of the first byte. */
  readonly addr: number;
  /** Size in bytes, a multiple of 4096. */
  readonly size: number;
  /**
   * Views of the HOST_VIEW_CHUNK-sized pieces touched so far, by chunk index
   * (offset / HOST_VIEW_CHUNK), made on first use: a 512 GiB region has
   * 262,144 chunks and a guest touches a few dozen.
   */
  private readonly chunks = new Map<number, ChunkView>();
  /** The chunk the last view() or words() used and its index (-1: none): most calls hit it again. */
  private lastIndex = -1;
  private lastChunk: ChunkView | undefined;
  /** False after release(); every method then throws. */
  private live = true;
  /**
   * Indices (offset / HOST_HUGE_SIZE) of the 2 MiB ranges advised
   * MADV_HUGEPAGE on the host (adviseHuge) and still the region's own
   * anonymous memory: an index leaves when a mapping replaces any part of
   * its range (mapFile, resetAnon, a move's destination).
   */
  private readonly hugeAdvised = new Set<number>();

  /**
   * Reserves `size` bytes (rounded up to 4 KiB).
   * @throws HostError when the host refuses the mapping.
   */
  constructor(size: number) {
    this.size = Math.ceil(size / 4096) * 4096;
    const ptr = c_mmap(0, this.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    const at = BigInt(koffi.address(ptr));
    if (at === MAP_FAILED) throw new HostError("mmap", koffi.errno());
    this.addr = Number(at);
  }

  /** The views of chunk `ci`, made on first use. Precondition: `ci` is a chunk of the region. */
  private chunk(ci: number): ChunkView {
    if (ci === this.lastIndex) return this.lastChunk!;
    let c = this.chunks.get(ci);
    if (c === undefined) {
      const base = ci * HOST_VIEW_CHUNK;
      const bytes = new Uint8Array(viewAt(this.addr + base, Math.min(HOST_VIEW_CHUNK, this.size - base)));
      c = { bytes, words: new Uint32Array(bytes.buffer, 0, bytes.length >> 2) };
      this.chunks.set(ci, c);
    }
    this.lastIndex = ci;
    this.lastChunk = c;
    return c;
  }

  /**
   * Bytes [off, off+len) of the region, as a view over host memory (no copy).
   * Precondition: the range lies inside one HOST_VIEW_CHUNK-sized chunk of
   * the region (offsets [k * HOST_VIEW_CHUNK, (k + 1) * HOST_VIEW_CHUNK)).
   * @throws FaultlineError EFAULT when out of range or crossing a chunk
   */
  view(off: number, len: number): Uint8Array {
    this.check(off, len);
    const ci = (off / HOST_VIEW_CHUNK) >>> 0; // in range (checked): an integer index, not a double key
    const base = ci * HOST_VIEW_CHUNK;
    if (off + len > base + HOST_VIEW_CHUNK) throw new FaultlineError("EFAULT", `host view crosses a ${HOST_VIEW_CHUNK >> 20} MiB chunk: [${off}, +${len})`);
    return this.chunk(ci).bytes.subarray(off - base, off - base + len);
  }

  /**
   * 32-bit words of the chunk holding byte `off`, and the index of the word
   * at `off` in them, for word-sized accesses without making a view per
   * access. Precondition: `off` is 4-byte aligned and in range.
   */
  words(off: number): { arr: Uint32Array; at: number } {
    const ci = (off / HOST_VIEW_CHUNK) >>> 0;
    this.wordRef.arr = this.chunk(ci).words;
    this.wordRef.at = (off - ci * HOST_VIEW_CHUNK) >> 2;
    return this.wordRef;
  }

  /** The reused result of words(). */
  private readonly wordRef: { arr: Uint32Array; at: number } = { arr: new Uint32Array(0), at: 0 };

  /**
   * Gives the pages of [off, off+len) back to the host; they read as zero
   * afterwards (cf. MADV_DONTNEED). Preconditions: page-aligned, in range.
   */
  discard(off: number, len: number): void {
    this.check(off, len);
    if (c_madvise(this.addr + off, len, MADV_DONTNEED) !== 0) throw new HostError("madvise", koffi.errno());
  }

  /**
   * Asks the host to back the 2 MiB-aligned range holding byte `off` with a
   * transparent huge page from its next first touch (MADV_HUGEPAGE): one
   * 2 MiB allocation and clear instead of 512 host page faults, the way
   * QEMU backs guest RAM. The range then costs 2 MiB of host memory
   * whatever is touched. Idempotent; a hint: a host without THP, or out of
   * mappings (vm.max_map_count), refuses and nothing changes.
   * Precondition: the range is the region's own anonymous memory.
   * @returns whether the range is advised (now or before)
   */
  adviseHuge(off: number): boolean {
    const index = Math.floor(off / HOST_HUGE_SIZE);
    if (this.hugeAdvised.has(index)) return true;
    this.check(index * HOST_HUGE_SIZE, HOST_HUGE_SIZE);
    if (c_madvise(this.addr + index * HOST_HUGE_SIZE, HOST_HUGE_SIZE, MADV_HUGEPAGE) !== 0) return false;
    this.hugeAdvised.add(index);
    return true;
  }

  /** Whether any 2 MiB range that [off, off+len) touches is advised (adviseHuge). */
  advisedHuge(off: number, len: number): boolean {
    return this.advisedIndices(off, len).length > 0;
  }

  /** Forgets the advice of every 2 MiB range that [off, off+len) touches: a new host mapping replaces part of it. */
  private unadvise(off: number, len: number): void {
    for (const i of this.advisedIndices(off, len)) this.hugeAdvised.delete(i);
  }

  /** The advised indices whose ranges [off, off+len) touches, walking the range's indices or the set, whichever is shorter. */
  private advisedIndices(off: number, len: number): number[] {
    if (this.hugeAdvised.size === 0 || len <= 0) return [];
    const first = Math.floor(off / HOST_HUGE_SIZE), last = Math.floor((off + len - 1) / HOST_HUGE_SIZE);
    if (last - first >= this.hugeAdvised.size) return [...this.hugeAdvised].filter((i) => i >= first && i <= last);
    const out: number[] = [];
    for (let i = first; i <= last; i++) if (this.hugeAdvised.has(i)) out.push(i);
    return out;
  }

  /**
   * Reads `len` bytes of host file `fd` at `fileOff` into [off, off+len).
   * @returns bytes read (short at end of file)
   * @throws HostError on a read error
   */
  pread(fd: number, off: number, len: number, fileOff: number): number {
    this.check(off, len);
    const n = Number(c_pread(fd, this.addr + off, len, fileOff));
    if (n < 0) throw new HostError("pread", koffi.errno());
    return n;
  }

  /**
   * Writes [off, off+len) to host file `fd` at `fileOff`.
   * @throws HostError on a write error or a short write
   */
  pwrite(fd: number, off: number, len: number, fileOff: number): void {
    this.check(off, len);
    const n = Number(c_pwrite(fd, this.addr + off, len, fileOff));
    if (n !== len) throw new HostError("pwrite", n < 0 ? koffi.errno() : 0);
  }

  /**
   * Maps host file `fd` at [off, off+len) of the region, replacing what was
   * there: MAP_SHARED (writes reach the file) or MAP_PRIVATE (the host copies
   * a page on its first write; until then reads see the file's current page).
   * Precondition: the file is at least fileOff+len long, or the host would
   * raise SIGBUS on access past its end.
   */
  mapFile(off: number, len: number, fd: number, fileOff: number, shared: boolean): void {
    this.check(off, len);
    const r = BigInt(c_mmap_num(this.addr + off, len, PROT_READ | PROT_WRITE, (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, fd, fileOff));
    if (r === MAP_FAILED) throw new HostError("mmap", koffi.errno());
    this.unadvise(off, len);
  }

  /** Puts fresh zero-filled anonymous memory at [off, off+len), undoing mapFile(). */
  resetAnon(off: number, len: number): void {
    this.check(off, len);
    const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED;
    const r = BigInt(c_mmap_num(this.addr + off, len, PROT_READ | PROT_WRITE, flags, -1, 0));
    if (r === MAP_FAILED) throw new HostError("mmap", koffi.errno());
    this.unadvise(off, len);
  }

  /**
   * Moves the host pages of [from, from+len) to [to, to+len) without copying
   * (cf. host mremap), and leaves fresh anonymous memory at the source.
   * Precondition: the ranges do not overlap.
   */
  move(from: number, to: number, len: number): void {
    this.check(from, len);
    this.check(to, len);
    const advised = this.advisedIndices(from, len);
    this.unadvise(to, len);
    const r = BigInt(c_mremap(this.addr + from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, this.addr + to));
    if (r === MAP_FAILED) {
      const errno = koffi.errno();
      // Before Linux 6.17 a move must lie inside one host mapping, and an
      // advised range is a mapping of its own: move them one by one.
      if (errno !== EFAULT) throw new HostError("mremap", errno);
      this.movePieces(from, to, len);
    }
    this.resetAnon(from, len);
    // The host moved the advice with the pages: each destination range an advised source range reaches may carry it.
    for (const i of advised) {
      const a = Math.max(from, i * HOST_HUGE_SIZE) - from + to, b = Math.min(from + len, (i + 1) * HOST_HUGE_SIZE) - from + to;
      for (let j = Math.floor(a / HOST_HUGE_SIZE); j <= Math.floor((b - 1) / HOST_HUGE_SIZE); j++) this.hugeAdvised.add(j);
    }
  }

  /** move() one host mapping at a time, their bounds read from /proc/self/maps. */
  private movePieces(from: number, to: number, len: number): void {
    const start = this.addr + from, end = start + len;
    const cuts = new Set<number>([start, end]);
    for (const line of fs.readFileSync("/proc/self/maps", "latin1").split("\n")) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
      if (!m) continue;
      for (const b of [parseInt(m[1], 16), parseInt(m[2], 16)]) if (b > start && b < end) cuts.add(b);
    }
    const bounds = [...cuts].sort((a, b) => a - b);
    for (let k = 0; k + 1 < bounds.length; k++) {
      const n = bounds[k + 1] - bounds[k], dst = this.addr + to + (bounds[k] - start);
      if (BigInt(c_mremap(bounds[k], n, n, MREMAP_MAYMOVE | MREMAP_FIXED, dst)) === MAP_FAILED) throw new HostError("mremap", koffi.errno());
    }
  }

  /** Returns the region's address space to the host. Idempotent. */
  release(): void {
    if (!this.live) return;
    this.live = false;
    this.chunks.clear(); // the views go with the next collection, and V8's count of them
    this.lastIndex = -1;
    this.lastChunk = undefined;
    c_munmap(this.addr, this.size);
  }

  private check(off: number, len: number): void {
    if (!this.live || off < 0 || len < 0 || off + len > this.size) {
      throw new FaultlineError("EFAULT", `host region access out of range: [${off}, +${len}) of ${this.size}`);
    }
  }
}

/**
 * A view of `len` bytes of host memory at numeric address `addr` (no copy).
 * Precondition: the memory stays valid while the view is used.
 */
export function viewAt(addr: number, len: number): ArrayBuffer {
  return koffi.view(c_asPointer(addr, 0, 0), len) as ArrayBuffer;
}

/** Bytes of host memory hostSearch reads at a time. */
const SEARCH_CHUNK = 1 << 20;

/**
 * Host addresses in [addr, addr+len) where `pattern` starts. The memory is
 * read through /proc/self/mem a chunk at a time, never touched directly:
 * another thread of Node's (a garbage collector's sweeper freeing an
 * ArrayBuffer) may shrink the C heap while the range is searched, and a page
 * gone meanwhile then ends the search where a direct read would have
 * crashed the host. The needle is never found in the chunk buffer itself,
 * which lives in V8's heap.
 */
export function hostSearch(addr: number, len: number, pattern: Uint8Array): number[] {
  const out: number[] = [];
  const end = addr + len;
  const buf = Buffer.alloc(SEARCH_CHUNK + pattern.length);
  const fd = fs.openSync("/proc/self/mem", "r");
  try {
    for (let at = addr; at < end; at += SEARCH_CHUNK) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - at), at);
      } catch {
        break; // unmapped now: the rest is gone too (the heap shrank)
      }
      for (let k = buf.subarray(0, n).indexOf(pattern); k >= 0 && k < SEARCH_CHUNK; k = buf.subarray(0, n).indexOf(pattern, k + 1)) out.push(at + k);
      if (n < Math.min(buf.length, end - at)) break;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/** A read of [addr, addr+len) of this process's memory: the bytes, or undefined when any of them is not mapped now. */
export type HostMemRead = (addr: number, len: number) => Buffer | undefined;

/**
 * Runs `fn` with reads of this process's memory through one open
 * /proc/self/mem, never touching the memory directly (for memory that
 * another thread may unmap meanwhile, as the C heap shrinks: see hostSearch).
 * @returns what `fn` returns
 */
export function withHostMem<T>(fn: (read: HostMemRead) => T): T {
  const fd = fs.openSync("/proc/self/mem", "r");
  const read: HostMemRead = (addr, len) => {
    const buf = Buffer.alloc(len);
    try {
      return fs.readSync(fd, buf, 0, len, addr) === len ? buf : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    return fn(read);
  } finally {
    fs.closeSync(fd);
  }
}

/** This process's anonymous read-write-execute mappings (from /proc/self/maps), start -> length in bytes. */
export function anonExecMappings(): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of fs.readFileSync("/proc/self/maps", "utf8").split("\n")) {
    const f = line.split(/\s+/);
    if (f.length < 5 || f[1] !== "rwxp" || f[4] !== "0" || (f[5] ?? "") !== "") continue;
    const [a, b] = f[0].split("-").map((x) => parseInt(x, 16));
    out.set(a, b - a);
  }
  return out;
}

/**
 * Gives the pages of [addr, addr+len) of a private anonymous host mapping
 * back to the host (MADV_DONTNEED): they read as zeros again and hold no memory.
 * @throws HostError when the host refuses
 */
export function discardHostPages(addr: number, len: number): void {
  if (c_madvise(addr, len, MADV_DONTNEED) !== 0) throw new HostError("madvise", koffi.errno());
}

/** Copies `len` bytes between host addresses (no overlap). */
export function hostCopy(dst: number, src: number, len: number): void {
  c_memcpy(dst, src, len);
}

/**
 * Fixes the host allocator's mmap threshold at `bytes` (glibc mallopt
 * M_MMAP_THRESHOLD), which also turns off glibc's dynamic threshold.
 *
 * Why: glibc raises the threshold to the size of each mmapped chunk freed
 * (up to 32 MiB), so after V8 frees one large zone or buffer, later
 * allocations below that size come from the brk heap instead. An engine
 * allocates ~0.9 MiB there (TLB tables, the TCG context, memory regions) and
 * frees it at uc_close; interleaved with V8's compiler zones, that heap
 * fragments and only its top can be trimmed. Measured on 1,000 threads
 * created and joined (test/process-memory.test.ts): RSS grew 2-35 MiB from
 * run to run with the dynamic threshold, 1 MiB with it fixed at 128 KiB.
 *
 * Precondition: none; call it before the allocations it should govern.
 * Returns false when the host's libc has no mallopt (not glibc):
 * the allocator's own policy then stays, which is only a cost in memory.
 */
export function pinMallocMmapThreshold(bytes: number): boolean {
  let mallopt: koffi.KoffiFunction;
  try {
    mallopt = libc.func("int mallopt(int param, int value)");
  } catch {
    return false;
  }
  return mallopt(M_MMAP_THRESHOLD, bytes) === 1;
}

/** Resident set size of this process in bytes, from /proc/self/statm. */
export function hostRss(): number {
  // statm fields are in pages: size resident shared ...
  const statm = fs.readFileSync("/proc/self/statm", "utf8").split(" ");
  return Number(statm[1]) * 4096;
}

/**
 * Punches [off, off+len) out of host file `fd` (fallocate PUNCH_HOLE, size
 * kept): the range reads as zero and holds no blocks.
 * @throws HostError when the host refuses (a file system without holes)
 */
export function punchHostFile(fd: number, off: number, len: number): void {
  if (c_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) !== 0) throw new HostError("fallocate", koffi.errno());
}

/**
 * A host memory file (memfd): the storage behind one file's page cache.
 * Sparse: only pages written to it cost host memory; punch() gives them back.
 * Invariant: `size` never shrinks, so no host mapping of it can fault.
 */
export class MemFile {
  /** Host file descriptor of the memfd. */
  readonly fd: number;
  /** Current length in bytes (page multiple). */
  private length = 0;

  /**
   * @param name a debugging name (shown in the host's /proc/PID/maps); its
   *   bytes are cut to what memfd_create takes (cf. MFD_NAME_MAX_LEN)
   * @throws HostError when memfd_create fails
   */
  constructor(name: string | Uint8Array) {
    const bytes = typeof name === "string" ? Buffer.from(name, "utf8") : name;
    this.fd = c_memfd_create(Buffer.concat([bytes.subarray(0, MFD_NAME_MAX), Buffer.alloc(1)]), MFD_CLOEXEC);
    if (this.fd < 0) throw new HostError("memfd_create", koffi.errno());
  }

  /** Length in bytes. */
  get size(): number {
    return this.length;
  }

  /** Grows to at least `bytes` (rounded up to a page); never shrinks. */
  grow(bytes: number): void {
    const want = Math.ceil(bytes / 4096) * 4096;
    if (want <= this.length) return;
    if (c_ftruncate(this.fd, want) !== 0) throw new HostError("ftruncate", koffi.errno());
    this.length = want;
  }

  /** Frees the host pages of [off, off+len); they read as zero afterwards. */
  punch(off: number, len: number): void {
    punchHostFile(this.fd, off, len);
  }

  /**
   * Copies [off, off+len) of host file `srcFd` to the same offsets of this
   * memfd through a reused native bounce buffer (pread, then pwrite). The
   * memfd's pages are allocated by the write itself: no zero-fill of pages
   * about to be overwritten and no page faults on any mapping, which
   * measured ~1 us a page cheaper here than faulting a mapping in and reading
   * into it. (copy_file_range would be cheaper still, but the host refuses it
   * across file systems.)
   * @returns bytes copied (short at the source's end of file)
   * @throws HostError on a read or write error
   */
  fillFrom(srcFd: number, off: number, len: number): number {
    const bounce = (MemFile.bounce ??= new HostRegion(BOUNCE));
    let done = 0;
    while (done < len) {
      const want = Math.min(BOUNCE, len - done);
      const n = Number(c_pread(srcFd, bounce.addr, want, off + done));
      if (n < 0) throw new HostError("pread", koffi.errno());
      if (n === 0) break;
      if (Number(c_pwrite(this.fd, bounce.addr, n, off + done)) !== n) throw new HostError("pwrite", koffi.errno());
      done += n;
      if (n < want) break;
    }
    return done;
  }

  /** The bounce buffer shared by every fillFrom() (the host is single-threaded here). */
  private static bounce: HostRegion | undefined;

  /** Closes the memfd; mappings of it stay valid until unmapped. */
  close(): void {
    c_close(this.fd);
  }
}

/**
 * One 32-bit word in host memory of its own (a 4 KiB page), for a value
 * native code reads by pointer while JavaScript keeps it current (the
 * change counts engine patch 0011's return-probe table compares).
 * Invariant: `addr` stays valid until release().
 */
export class HostWord {
  private readonly region: HostRegion;
  private readonly arr: Uint32Array;
  private readonly at: number;

  /** @throws HostError when the host refuses the page */
  constructor(value: number) {
    this.region = new HostRegion(4096);
    ({ arr: this.arr, at: this.at } = this.region.words(0));
    this.arr[this.at] = value;
  }

  /** The word's host address. */
  get addr(): number {
    return this.region.addr;
  }

  /** Stores `value` modulo 2^32. */
  set(value: number): void {
    this.arr[this.at] = value;
  }

  /** Returns the page to the host. Idempotent. */
  release(): void {
    this.region.release();
  }
}
