/**
 * Memory-manager event counters (cf. /proc/vmstat). One set per MemSystem,
 * shared by every process it serves.
 */
export class MmCounters {
  /** Faults served without I/O: page-cache hits, anonymous first touches, write-enables. */
  minorFaults = 0;
  /** Faults that had to read the faulting page from backing store. */
  majorFaults = 0;
  /** ->readpage calls (readahead off, single-page reads, or readpages fallback). */
  readpageCalls = 0;
  /** ->readpages batches issued. */
  readpagesBatches = 0;
  /** Batch size -> number of readpages batches of that size. */
  readpagesHistogram: Record<number, number> = {};
  /** Pages filled from backing store, by either method. */
  pagesRead = 0;
  /** Pages mapped by fault-around without a fault of their own. */
  faultAroundMapped = 0;
  /** Private copies made by a write to a private file page (copy-on-write). */
  privateCopies = 0;
  /**
   * Write faults that copied a page shared copy-on-write with another
   * address space after fork (cf. wp_page_copy); a write to a page whose
   * other sharers are gone reuses it and is not counted.
   */
  cowFaults = 0;
  /** Anonymous pages zero-filled on first touch. */
  anonPages = 0;
  /** Page-cache pages evicted by reclaim. */
  evictions = 0;
  /** Dirty pages written back through ->writepage. */
  writebacks = 0;
  /** Whole-TLB flushes issued to engines. */
  tlbFlushes = 0;
  /** Translated-code ranges invalidated. */
  codeInvalidations = 0;
  /** Faults that ended in SIGSEGV or SIGBUS. */
  signals = 0;

  /** A plain object copy, for JSON output and comparisons. */
  snapshot(): Record<string, number | Record<number, number>> {
    return { ...(this as unknown as Record<string, number>), readpagesHistogram: { ...this.readpagesHistogram } };
  }
}
