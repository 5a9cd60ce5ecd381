/**
 * Truncation of a file's page cache (cf. truncate_pagecache +
 * unmap_mapping_range with even_cows): every process's mapping of pages past
 * the new end of file is zapped, private copies included, so the next touch
 * raises SIGBUS; cached pages past the end are dropped and the tail of the
 * new last page is zeroed.
 */
import { punchHostFile } from "../lib/hostmem.js";
import { PAGE_SIZE } from "./layout.js";
import type { AddressSpace } from "./page-cache.js";
import type { MemSystem } from "./system.js";

/**
 * Sets `mapping`'s size to `newSize` bytes (call after the backing file
 * itself was truncated).
 */
export function truncatePagecache(sys: MemSystem, mapping: AddressSpace, newSize: number): void {
  const keep = Math.ceil(newSize / PAGE_SIZE);
  if (newSize < mapping.size) {
    for (const mm of sys.mms) {
      for (const v of mm.vmas.all()) {
        if (v.file !== mapping) continue;
        const from = Math.max(v.start, v.start + (keep - v.pgoff) * PAGE_SIZE);
        if (from < v.end) mm.zap(v, from, v.end);
      }
      mm.settle();
    }
    for (const page of [...mapping.pages.values()]) if (page.index >= keep) sys.dropPage(page);
    if (newSize % PAGE_SIZE !== 0 && mapping.pages.has(keep - 1)) mapping.pageBytes(keep - 1).fill(0, newSize % PAGE_SIZE);
  }
  mapping.size = newSize;
}

/**
 * Frees the file's pages [from, to) (cf. MADV_REMOVE -> fallocate(PUNCH_HOLE)
 * + unmap_mapping_range without even_cows): the host file's range becomes a
 * hole, cached pages are dropped without writeback, and every process's PTEs
 * on them are cleared; private copies stay.
 */
export function punchPagecache(sys: MemSystem, mapping: AddressSpace, from: number, to: number): void {
  for (const mm of sys.mms) {
    for (const v of mm.vmas.all()) {
      if (v.file !== mapping) continue;
      const lo = Math.max(v.start, v.start + (from - v.pgoff) * PAGE_SIZE);
      const hi = Math.min(v.end, v.start + (to - v.pgoff) * PAGE_SIZE);
      if (lo < hi) mm.zap(v, lo, hi, { keepPrivate: true });
    }
    mm.settle();
  }
  for (let index = from; index < to; index++) {
    const page = mapping.pages.get(index);
    if (page) sys.dropPage(page);
  }
  if (mapping.hostFd >= 0) punchHostFile(mapping.hostFd, from * PAGE_SIZE, (to - from) * PAGE_SIZE); // a shmem object has only its cache
}
