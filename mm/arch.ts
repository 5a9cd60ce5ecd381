/**
 * What the memory manager needs from the CPU underneath, and nothing more
 * (cf. the arch hooks of Linux mm: flush_tlb_mm, flush_icache_range...).
 * emu/ implements it over a Unicorn engine.
 */
export interface Mmu {
  /** Whether PTEs may carry NX (the engine lets EFER.NXE be set). */
  readonly nx: boolean;
  /** Makes guest-physical [base, base+size) read and write host memory at hostAddr. */
  mapPhysical(base: number, size: number, hostAddr: number): void;
  /** Points the CPU at the tables rooted at `cr3` and turns paging on. */
  enablePaging(cr3: number): void;
  /** Drops every cached translation (the kernel's flush_tlb_mm). */
  flushTlb(): void;
  /**
   * Drops translated code for guest addresses [start, end).
   * Precondition: every page of the range is present and executable in the
   * page tables now: Unicorn 2.1 walks them to find the code page, and a
   * fault during that walk leaves its exception state corrupt (the next
   * #PF then arrives as a double fault).
   */
  invalidateCode(start: number, end: number): void;
}
