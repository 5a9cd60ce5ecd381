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
const MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
const MADV_DONTNEED = 4;
const MAP_FAILED = 0xffffffffffffffffn;

const libc = koffi.load("libc.so.6");
const c_mmap = libc.func("void *mmap(uint64_t addr, size_t len, int prot, int flags, int fd, int64_t off)");
const c_munmap = libc.func("int munmap(uint64_t addr, size_t len)");
const c_madvise = libc.func("int madvise(uint64_t addr, size_t len, int advice)");
const c_pread = libc.func("int64_t pread(int fd, uint64_t buf, size_t count, int64_t off)");
const c_pwrite = libc.func("int64_t pwrite(int fd, uint64_t buf, size_t count, int64_t off)");
const c_memcpy = libc.func("uint64_t memcpy(uint64_t dst, uint64_t src, size_t n)");
// memset(p, 0, 0) returns p untouched: the cheapest way to turn a numeric
// host address into a koffi pointer, which koffi.view() needs.
const c_asPointer = libc.func("void *memset(uint64_t s, int c, size_t n)");

/** Largest ArrayBuffer view made over host memory at once (V8 limits external buffers). */
const VIEW_CHUNK = 1 << 30;

/** A host system call failed; `code` is the errno name when known. */
export class HostError extends FaultlineError {
  /** Host errno number. */
  readonly errno: number;
  constructor(fn: string, errno: number) {
    super(`HOST_${fn.toUpperCase()}`, `host ${fn} failed: errno ${errno}`);
    this.errno = errno;
  }
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
  /** Views of VIEW_CHUNK-sized pieces, made on first use. */
  private readonly chunks: (Uint8Array | undefined)[] = [];
  /** False after release(); every method then throws. */
  private live = true;

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

  /**
   * Bytes [off, off+len) of the region, as a view over host memory (no copy).
   * Precondition: the range lies inside one 1 GiB chunk of the region .
   * @throws FaultlineError EFAULT when out of range or crossing a chunk
   */
  view(off: number, len: number): Uint8Array {
    this.check(off, len);
    const ci = Math.floor(off / VIEW_CHUNK);
    const base = ci * VIEW_CHUNK;
    if (off + len > base + VIEW_CHUNK) throw new FaultlineError("EFAULT", `host view crosses a 1 GiB chunk: [${off}, +${len})`);
    let chunk = this.chunks[ci];
    if (chunk === undefined) {
      const n = Math.min(VIEW_CHUNK, this.size - base);
      chunk = new Uint8Array(koffi.view(c_asPointer(this.addr + base, 0, 0), n) as ArrayBuffer);
      this.chunks[ci] = chunk;
    }
    return chunk.subarray(off - base, off - base + len);
  }

  /**
   * Gives the pages of [off, off+len) back to the host; they read as zero
   * afterwards (cf. MADV_DONTNEED). Preconditions: page-aligned, in range.
   */
  discard(off: number, len: number): void {
    this.check(off, len);
    if (c_madvise(this.addr + off, len, MADV_DONTNEED) !== 0) throw new HostError("madvise", koffi.errno());
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

  /** Returns the region's address space to the host. Idempotent. */
  release(): void {
    if (!this.live) return;
    this.live = false;
    c_munmap(this.addr, this.size);
  }

  private check(off: number, len: number): void {
    if (!this.live || off < 0 || len < 0 || off + len > this.size) {
      throw new FaultlineError("EFAULT", `host region access out of range: [${off}, +${len}) of ${this.size}`);
    }
  }
}

/** Copies `len` bytes between host addresses (no overlap). */
export function hostCopy(dst: number, src: number, len: number): void {
  c_memcpy(dst, src, len);
}

/** Resident set size of this process in bytes, from /proc/self/statm. */
export function hostRss(): number {
  // statm fields are in pages: size resident shared ...
  const statm = fs.readFileSync("/proc/self/statm", "utf8").split(" ");
  return Number(statm[1]) * 4096;
}
