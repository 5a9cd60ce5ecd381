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
  /** Drops translated code for guest addresses [start, end). */
  invalidateCode(start: number, end: number): void;
}
