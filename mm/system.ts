/**
 * The machine-wide side of memory management: the page-cache registry,
 * the LRU lists, RAM accounting against the limit, configuration and
 * counters. One MemSystem serves every process (Mm) of one faultline run.
 */
import * as fs from "node:fs";
import { FaultlineError, OutOfMemoryError } from "../lib/errors.js";
import { fail, failHost } from "../lib/errno.js";
import { AnonStore } from "./anon.js";
import { MmCounters } from "./counters.js";
import { PAGE_SIZE } from "./layout.js";
import { AddressSpace, LruList, PG_dirty, PG_unevictable, type Page } from "./page-cache.js";
import { shrinkPageCache, writebackPage } from "./reclaim.js";
import type { Mm } from "./mm.js";
import type { Vma } from "./vma.js";

/** Tunables (cf. /proc/sys/vm and the block device's read_ahead_kb). */
export interface MmConfig {
  /** RAM limit in pages for page cache plus anonymous memory; Infinity = none. */
  ramLimitPages: number;
  /** Largest readahead window in pages (default 32 = 128 KiB); 0 turns readahead off. */
  readaheadMaxPages: number;
  /** Fault-around window in pages (default 16 = 64 KiB); 0 or 1 turns it off. */
  faultAroundPages: number;
  /**
   * Back anonymous memory the guest is filling with host transparent huge
   * pages (default true; huge-fill.ts): the guest still faults per 4 KiB
   * page, but the host clears 2 MiB once instead of faulting 512 times.
   * MAP_STACK and MADV_NOHUGEPAGE areas never, MADV_HUGEPAGE areas always.
   * False: 4 KiB host pages only.
   */
  hostHugePages: boolean;
}

/** The defaults: no RAM limit, 128 KiB readahead, 64 KiB fault-around (Linux's), host huge pages. */
export const DEFAULT_CONFIG: MmConfig = { ramLimitPages: Infinity, readaheadMaxPages: 32, faultAroundPages: 16, hostHugePages: true };

/**
 * The smallest RAM limit a MemSystem accepts, in pages (64 KiB). Below it
 * not even one instruction's worst case fits: its code, a source and a
 * destination operand each straddling a page boundary (6 pages), and the
 * page tables that map them. A program that needs more than the limit is
 * killed as out of memory (exit 137); a limit below this is refused up front.
 */
export const MIN_RAM_PAGES = 16;

/** A RAM limit that no program could run under (below MIN_RAM_PAGES, or not a whole number of pages). */
export class RamLimitError extends FaultlineError {
  /** The refused limit, in pages. */
  readonly pages: number;

  /** @param pages the refused limit in pages */
  constructor(pages: number) {
    super("ERAMLIMIT", `RAM limit of ${pages} pages is unusable: at least ${MIN_RAM_PAGES} pages (${(MIN_RAM_PAGES * PAGE_SIZE) >> 10} KiB) are needed`);
    this.pages = pages;
  }
}

/** "N pages (X MiB)" or "(X KiB)" for messages about a page count. */
export function pagesText(pages: number): string {
  const kib = (pages * PAGE_SIZE) / 1024;
  return `${pages} pages (${kib >= 1024 ? `${Math.floor(kib / 1024)} MiB` : `${kib} KiB`})`;
}

/** Memory management for one faultline run. */
export class MemSystem {
  readonly config: MmConfig;
  readonly counters = new MmCounters();
  /** Page caches by "dev:ino" (cf. the inode cache). */
  readonly files = new Map<string, AddressSpace>();
  /** Recently referenced page-cache pages, and those that are reclaim candidates. */
  readonly active = new LruList();
  readonly inactive = new LruList();
  /** Resident anonymous pages over all processes (zero-fill and private copies). */
  anonPages = 0;
  /** Anonymous pages shared between processes by fork (anon.ts); each is counted once in anonPages. */
  readonly anon = new AnonStore();
  /** Shmem objects behind MAP_SHARED anonymous mappings (shmem.ts), until their last VMA goes; not in `files`. */
  readonly shmem = new Set<AddressSpace>();
  /** Inode numbers handed out to shmem objects so far (the last one given). */
  shmemInodes = 0;
  /** Page-table pages over all processes, counted against the RAM limit as a memcg counts them. */
  tablePages = 0;
  /** Processes using this system. */
  readonly mms = new Set<Mm>();
  /**
   * Called after every batch of pages read from backing store, of every
   * file (cf. a notifier in every readpage/readpages). Empty by default:
   * the read path then pays one length check.
   */
  readonly readHooks: ((mapping: AddressSpace, pages: readonly Page[]) => void)[] = [];
  /**
   * Called after a page of a file is mapped into a process's private
   * mapping by a fault or fault-around (cf. what uprobe_mmap and the COW
   * breakpoint design need). Undefined by default.
   */
  pageMapped: ((mm: Mm, vma: Vma, va: number, index: number) => void) | undefined;
  /**
   * Rewrites bytes a read() returns from a file's cache (e.g. to mask
   * breakpoints written into the page cache). Undefined by default.
   */
  readMask: ((mapping: AddressSpace, pos: number, bytes: Uint8Array) => void) | undefined;
  /** Called when a process's address space is torn down, before its memory is released (cf. mmput). */
  readonly exitHooks: ((mm: Mm) => void)[] = [];

  /**
   * @param config tunables; missing ones take DEFAULT_CONFIG's values
   * @throws RamLimitError when config.ramLimitPages is below MIN_RAM_PAGES or not an integer
   */
  constructor(config: Partial<MmConfig> = {}) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    const limit = this.config.ramLimitPages;
    if (limit !== Infinity && !(Number.isInteger(limit) && limit >= MIN_RAM_PAGES)) throw new RamLimitError(limit);
  }

  /** Resident page-cache pages. */
  get filePages(): number {
    return this.active.length + this.inactive.length;
  }

  /**
   * The page cache of host file `path`, shared with every earlier open of
   * the same file (same device and inode). Opens the host file read-write
   * when `writable`, else read-only.
   * @throws ErrnoError ENOENT, EACCES, EISDIR... as the host reports them
   */
  openFile(path: string | Buffer, writable: boolean): AddressSpace {
    let st: fs.Stats;
    try {
      st = fs.statSync(path);
    } catch (e) {
      return failHost(e, String(path));
    }
    if (st.isDirectory()) fail("EISDIR", `${path} is a directory`);
    const key = `${st.dev}:${st.ino}`;
    const known = this.files.get(key);
    if (known && (!writable || known.hostWritable)) return known;
    let fd: number;
    try {
      fd = fs.openSync(path, writable ? "r+" : "r");
    } catch (e) {
      return failHost(e, String(path));
    }
    if (known) {
      known.upgradeHostFd(fd);
      return known;
    }
    const as = new AddressSpace(key, path, fd, writable, st.size);
    this.files.set(key, as);
    return as;
  }

  /**
   * Makes room for `n` more resident pages under the RAM limit, reclaiming
   * page-cache pages if needed (cf. the allocator's direct reclaim).
   * @param what "file" or "anon", for the error message
   * @throws OutOfMemoryError when reclaim cannot free enough
   */
  reserve(n: number, what: "file" | "anon" | "page-table"): void {
    const limit = this.config.ramLimitPages;
    const over = this.filePages + this.anonPages + this.tablePages + n - limit;
    if (over <= 0) return;
    shrinkPageCache(this, Math.max(over, 32));
    if (this.filePages + this.anonPages + this.tablePages + n > limit) {
      throw new OutOfMemoryError(
        `out of memory: ${what} page needs room, RAM limit ${pagesText(limit)} holds ${this.anonPages} anonymous, ` +
        `${this.tablePages} page-table and ${this.filePages} unreclaimable page-cache pages`);
    }
  }

  /**
   * Counts one more page-table page, reclaiming page cache if the RAM limit
   * needs it (cf. the memcg charge of a page-table allocation).
   * @throws OutOfMemoryError when there is no room
   */
  chargeTable(): void {
    this.reserve(1, "page-table");
    this.tablePages++;
  }

  /** Adds a freshly read page to the cache and the inactive list (cf. add_to_page_cache_lru). */
  addPage(page: Page): void {
    page.mapping.pages.set(page.index, page);
    this.inactive.push(page);
  }

  /** Takes a page out of the cache and frees its memory (cf. __delete_from_page_cache). */
  dropPage(page: Page): void {
    page.lru?.remove(page);
    page.mapping.pages.delete(page.index);
    page.mapping.dropPageMemory(page.index);
  }

  /**
   * Releases every page cache's host memory and descriptors.
   * Precondition: no process uses this system any more (call after destroy()
   * of each, and after sync() if dirty data must reach the files).
   */
  close(): void {
    for (const as of this.files.values()) as.close();
    this.files.clear();
    for (const as of this.shmem) as.close();
    this.shmem.clear();
    this.active.head = this.active.tail = null;
    this.inactive.head = this.inactive.tail = null;
    this.active.length = this.inactive.length = 0;
    this.anon.close();
  }

  /**
   * Writes back every dirty page, with the dirty bits of every process's
   * shared file mappings moved onto their pages first (cf. sync(2)), so that
   * the host files hold all the guest wrote, by write(2) or through a mapping.
   */
  syncAll(): void {
    for (const mm of this.mms) {
      for (const v of mm.vmas.all()) if (v.file && v.shared) mm.harvestDirty(v, v.start, v.end);
      mm.settle();
    }
    this.sync();
  }

  /** Writes every dirty page of every file back (cf. sync()). Call after harvesting PTE dirty bits. */
  sync(): void {
    for (const as of this.files.values()) {
      for (const page of as.pages.values()) if (page.flags & PG_dirty) writebackPage(this, page);
    }
  }
}

