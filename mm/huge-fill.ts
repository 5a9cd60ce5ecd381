/**
 * Host huge pages behind guest anonymous memory that is being filled
 * (cf. do_huge_pmd_anonymous_page and thp_vma_suitable_order, but decided
 * for the host's backing, not the guest's page tables).
 *
 * The guest always faults per 4 KiB page and its PTEs are 4 KiB PTEs. What
 * changes is the host memory behind a 2 MiB-aligned range: a host first
 * touch costs ~1.4 us per 4 KiB page here (allocation and clear), a host
 * huge page ~0.18 us per 4 KiB of it. A huge page also costs 2 MiB of host
 * memory from the first touch, so it is given only where the guest shows it
 * will fill the range: the first fault in a range right after a range in
 * which it took at least DENSE_FAULTS first-touch faults (a sequential fill,
 * up or down: a heap, an array, a buffer), or anywhere in an area the guest
 * advised MADV_HUGEPAGE. A sparse guest (one page per 2 MiB over a large
 * area) never gets one, and costs what it touches.
 *
 *   anonymous first touch in range R of area V
 *     V "nohuge" (MAP_STACK, MADV_NOHUGEPAGE), in the store, or R not whole in V -> 4 KiB host pages
 *     R = last range          -> faults++                       (the fill goes on)
 *     R = last range +- 1 and faults >= DENSE_FAULTS, or V "huge" -> advise R (MADV_HUGEPAGE)
 *     then last range = R, faults = 1
 */
import { HOST_HUGE_SIZE } from "../lib/hostmem.js";
import type { HostRegion } from "../lib/hostmem.js";
import type { Vma } from "./vma.js";

/**
 * First-touch faults in a 2 MiB range (of its 512 pages) that mark it as
 * being filled: half of it.
 */
export const DENSE_FAULTS = 256;

/**
 * Where one address space's anonymous first touches went last (per Mm: the
 * fill is a property of the address space, as a readahead window is of an
 * open file). Invariant: `faults` counts the first-touch faults in `range`
 * since the last fault elsewhere; `range` is -1 before any.
 */
export class HugeFill {
  /** Index (va / HOST_HUGE_SIZE) of the range of the last anonymous first touch, or -1. */
  private range = -1;
  /** First-touch faults in `range` in a row. */
  private faults = 0;

  /**
   * Records an anonymous first touch at page `va` of area `vma` and, when
   * the rules above say so, advises its 2 MiB range huge on `mem` before the
   * host's own first touch there. Preconditions: `vma` is private
   * anonymous memory of `mem`'s address space, not in the fork store.
   */
  firstTouch(mem: HostRegion, vma: Vma, va: number): void {
    const r = Math.floor(va / HOST_HUGE_SIZE);
    if (r === this.range) {
      this.faults++;
      return;
    }
    const filling = this.faults >= DENSE_FAULTS && (r === this.range + 1 || r === this.range - 1);
    this.range = r;
    this.faults = 1;
    if (vma.hugePage === "nohuge" || !(filling || vma.hugePage === "huge")) return;
    const start = r * HOST_HUGE_SIZE;
    if (start < vma.start || start + HOST_HUGE_SIZE > vma.end) return; // cf. thp_vma_suitable_order
    mem.adviseHuge(start);
  }
}
