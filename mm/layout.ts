/**
 * The guest's address-space layout and the machine constants it rests on.
 *
 *   0 ............ 64 KiB    never mapped (cf. vm.mmap_min_addr)
 *   ...                      program, brk heap (grows up)
 *   ...        MMAP_BASE     mmap area, allocated top-down from here
 *   STACK_TOP - ...          main thread stack (grows down)
 *   TASK_SIZE = 512 GiB      end of user space
 *   PT_BASE   = 1020 GiB     page tables (guest-physical only, never mapped)
 *   2^40                     the emulated CPU's physical address limit
 *
 * Unicorn 2.0.1 uses a virtual address as its physical address after the
 * page walk, so every PTE names its own virtual address (identity), which
 * 2.1.4 honours too. Everything must therefore stay below 2^40.
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** Pages per 2 MiB leaf table. */
export const PTRS_PER_TABLE = 512;

/** End of guest user space (exclusive). */
export const TASK_SIZE = 0x80_0000_0000;
/** Lowest address mmap may hand out or MAP_FIXED may take (cf. mmap_min_addr). */
export const MMAP_MIN_ADDR = 0x10000;
/** Top of the main stack. */
export const STACK_TOP = TASK_SIZE - PAGE_SIZE;
/** Where top-down mmap allocation starts: 1 GiB below the stack top. */
export const MMAP_BASE = STACK_TOP - 0x4000_0000;

/** Guest-physical base of the page-table area. */
export const PT_BASE = 0xff_0000_0000;
/**
 * Size of the page-table area (NORESERVE host memory, costing only the
 * table pages in use): room for every table that all of [0, TASK_SIZE) can
 * need, one leaf table per 2 MiB, one directory per 1 GiB, a PDPT and the
 * PML4 (~1 GiB), so the tables grow with what is touched and only the RAM
 * limit bounds them.
 */
export const PT_AREA_SIZE = (TASK_SIZE / 0x20_0000 + TASK_SIZE / 0x4000_0000 + 2) * PAGE_SIZE;

/*
 * Engine regions: exactly two per process, [0, TASK_SIZE) over the process's
 * host reservation and the page-table area. Unicorn aborts past ~4,096
 * regions and unmapping or splitting one costs time in proportion to its
 * size (~11 ms per GiB, measured), so regions are made once and never split;
 * mapping even 512 GiB of untouched reservation is instant.
 */
/** Rounds up to a page multiple. */
export function pageAlignUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** True when n is a multiple of PAGE_SIZE. */
export function isPageAligned(n: number): boolean {
  return n % PAGE_SIZE === 0;
}
