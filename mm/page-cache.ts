/**
 * The page cache: one AddressSpace per file (identity: host device and
 * inode), shared by every mapping of that file in every process, so a
 * resident page is never read twice (cf. struct address_space, struct page).
 *
 * Page contents live in a host memfd (MemFile). The memory manager reads and
 * writes them through a MAP_SHARED "kernel view" of it, and maps the same
 * memfd into each process's memory, so a process and the cache see one copy:
 *
 *   host file --readpage--> memfd page <--MAP_SHARED/PRIVATE-- process memory
 *                              ^
 *                              +-- kernel view (readpage, probes, read())
 */
import * as fs from "node:fs";
import { HostRegion, MemFile } from "../lib/hostmem.js";
import { type AddressSpaceOperations, hostFileAops } from "./aops.js";
import { PAGE_SIZE, pageAlignUp } from "./layout.js";
import type { Mm } from "./mm.js";

/** Bytes per kernel-view window of a page cache (a multiple of the page size; one host mapping each). */
export const VIEW_WINDOW = 1 << 30;

/** Page flags (cf. enum pageflags). */
export const PG_uptodate = 1, PG_dirty = 2, PG_referenced = 4, PG_readahead = 8, PG_active = 16, PG_locked = 32;
/** Never reclaimed while set (cf. mlock / PG_unevictable): a pinned page. */
export const PG_unevictable = 64;

/** Where a page is mapped: one PTE in one process. */
export interface RmapEntry {
  readonly mm: Mm;
  /** Guest virtual address of the PTE. */
  va: number;
}

/** One page of one file in the cache (cf. struct page). */
export class Page {
  /** PG_* bits. */
  flags = 0;
  /** Every PTE that maps this page (cf. the reverse map). Empty when unmapped. */
  readonly rmap: RmapEntry[] = [];
  /** LRU links; both null when the page is on no list. */
  lruPrev: Page | null = null;
  lruNext: Page | null = null;
  /** The list the page is on, or null. */
  lru: LruList | null = null;

  /**
   * @param mapping the file this page belongs to
   * @param index its page index in the file
   */
  constructor(readonly mapping: AddressSpace, readonly index: number) {}
}

/** An intrusive doubly-linked list of pages, oldest at the head (cf. struct lruvec lists). */
export class LruList {
  head: Page | null = null;
  tail: Page | null = null;
  length = 0;

  /** Appends `p` (newest). Precondition: p is on no list. */
  push(p: Page): void {
    p.lru = this;
    p.lruPrev = this.tail;
    p.lruNext = null;
    if (this.tail) this.tail.lruNext = p;
    else this.head = p;
    this.tail = p;
    this.length++;
  }

  /** Removes `p`. Precondition: p is on this list. */
  remove(p: Page): void {
    if (p.lruPrev) p.lruPrev.lruNext = p.lruNext;
    else this.head = p.lruNext;
    if (p.lruNext) p.lruNext.lruPrev = p.lruPrev;
    else this.tail = p.lruPrev;
    p.lruPrev = p.lruNext = null;
    p.lru = null;
    this.length--;
  }
}

/** Readahead state of one stream (cf. struct file_ra_state). */
export interface ReadaheadState {
  /** First page of the current window. */
  start: number;
  /** Pages in the current window (0 = no window yet). */
  size: number;
  /** Pages at the window's end that, when hit, trigger the next window. */
  asyncSize: number;
  /** Last page index read through this stream (-1 = none). */
  prevIndex: number;
}

/** A fresh readahead state. */
export function newReadaheadState(): ReadaheadState {
  return { start: 0, size: 0, asyncSize: 0, prevIndex: -1 };
}

/** The cache of one file (cf. struct address_space + its inode). */
export class AddressSpace {
  /** Pages present in the cache, by index. */
  readonly pages = new Map<number, Page>();
  /** The vtable in force. Replace with setAops(); the default reads the host file. */
  private ops: AddressSpaceOperations = hostFileAops;
  /** The storage behind the cache. */
  readonly mem: MemFile;
  /**
   * The kernel view: MAP_SHARED windows of `mem`, VIEW_WINDOW bytes each,
   * made on first use by window number (file offset / VIEW_WINDOW), where
   * the memory manager touches page bytes. Host address space is taken only
   * around offsets in use, so a sparse file may have pages at any offset.
   */
  private readonly windows = new Map<number, HostRegion>();

  /**
   * @param key identity, "dev:ino"
   * @param path the host path it was opened by (for messages and /proc/self/maps; a Buffer holds its exact bytes)
   * @param hostFd host descriptor of the file, read-write when `hostWritable`
   *   (replaced by upgradeHostFd()); -1 for a shmem object, which has none
   * @param hostWritable whether writeback can reach the host file
   * @param size current file size in bytes
   */
  constructor(
    readonly key: string,
    readonly path: string | Buffer,
    public hostFd: number,
    public hostWritable: boolean,
    public size: number,
  ) {
    this.mem = new MemFile(Buffer.concat([Buffer.from("faultline:"), typeof path === "string" ? Buffer.from(path, "utf8") : path]));
    this.ensureBacking(pageAlignUp(size));
  }

  /** The vtable in force (cf. mapping->a_ops). */
  get aops(): AddressSpaceOperations {
    return this.ops;
  }

  /**
   * Puts `ops` in force for this file only and returns the previous vtable,
   * so a wrapper can call through to it and restore it later.
   */
  setAops(ops: AddressSpaceOperations): AddressSpaceOperations {
    const old = this.ops;
    this.ops = ops;
    return old;
  }

  /** Number of pages beyond which the file has no data: ceil(size / 4096). */
  get sizePages(): number {
    return Math.ceil(this.size / PAGE_SIZE);
  }

  /**
   * Makes the memfd at least `bytes` long, so that no host mapping of
   * [0, bytes) can fault. Never shrinks; costs no memory (the memfd is sparse).
   */
  ensureBacking(bytes: number): void {
    if (bytes > this.mem.size) this.mem.grow(bytes);
  }

  /**
   * The kernel-view window holding file offset `off`, mapped on first use.
   * Precondition: the memfd covers the page at `off` (ensureBacking), so
   * touching it cannot fault; bytes of the window past the memfd's end are
   * never touched.
   * @returns the window and the offset of `off` in it
   */
  private window(off: number): { region: HostRegion; at: number } {
    const w = Math.floor(off / VIEW_WINDOW);
    let region = this.windows.get(w);
    if (region === undefined) {
      region = new HostRegion(VIEW_WINDOW);
      try {
        region.mapFile(0, VIEW_WINDOW, this.mem.fd, w * VIEW_WINDOW, true);
      } catch (e) {
        region.release();
        throw e;
      }
      this.windows.set(w, region);
    }
    return { region, at: off - w * VIEW_WINDOW };
  }

  /** The bytes of page `index` in cache memory (a live view, no copy). */
  pageBytes(index: number): Uint8Array {
    const { region, at } = this.window(index * PAGE_SIZE);
    return region.view(at, PAGE_SIZE);
  }

  /**
   * Reads pages [index, index+n) from the host file into cache memory, in
   * one host read and write per MiB; bytes past end of file are zero.
   * Precondition: the pages are not cached (their memfd range is a hole).
   * @returns bytes read
   */
  readFromHost(index: number, n: number): number {
    this.ensureBacking((index + n) * PAGE_SIZE);
    // Bytes past the host file's end stay zero: a page not in the cache is a hole in the memfd.
    return this.mem.fillFrom(this.hostFd, index * PAGE_SIZE, n * PAGE_SIZE);
  }

  /** Writes page `index` back to the host file, up to end of file. */
  writeToHost(index: number): void {
    const off = index * PAGE_SIZE;
    const len = Math.min(PAGE_SIZE, this.size - off);
    if (len <= 0) return;
    const { region, at } = this.window(off);
    region.pwrite(this.hostFd, at, len, off);
  }

  /** Gives the host memory of page `index` back (its bytes read as zero afterwards). */
  dropPageMemory(index: number): void {
    this.mem.punch(index * PAGE_SIZE, PAGE_SIZE);
  }

  /** Swaps in a read-write host descriptor for the same file, closing the old one. */
  upgradeHostFd(fd: number): void {
    fs.closeSync(this.hostFd);
    this.hostFd = fd;
    this.hostWritable = true;
  }

  /** Closes host resources. Precondition: no page is mapped any more. */
  close(): void {
    for (const w of this.windows.values()) w.release();
    this.windows.clear();
    this.mem.close();
    if (this.hostFd >= 0) fs.closeSync(this.hostFd); // a shmem object has no host file (shmem.ts)
  }
}
