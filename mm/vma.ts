/**
 * Virtual memory areas (cf. struct vm_area_struct) and the sorted list that
 * holds one process's VMAs. Invariants of VmaList: areas are page-aligned,
 * non-empty, sorted by start and never overlap.
 */
import { newReadaheadState, type AddressSpace, type ReadaheadState } from "./page-cache.js";
import { PAGE_SIZE } from "./layout.js";

/** PROT_* bits as the guest passes them. */
export const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
export const PROT_MASK = PROT_READ | PROT_WRITE | PROT_EXEC;

/** One mapping. */
export interface Vma {
  /** First byte (page-aligned). */
  start: number;
  /** One past the last byte (page-aligned, > start). */
  end: number;
  /** PROT_* bits. */
  prot: number;
  /** MAP_SHARED (writes reach the file / are seen by others) vs MAP_PRIVATE. */
  shared: boolean;
  /** The file mapped, or null for anonymous memory. */
  file: AddressSpace | null;
  /** Page index in `file` of `start` (0 for anonymous). */
  pgoff: number;
  /** Whether the file was opened for writing (a shared mapping may then become writable). */
  fileWritable: boolean;
  /** Grows down on faults just below it (the main stack). */
  growsDown: boolean;
  /** Name shown in /proc/self/maps for special areas ("[heap]", "[stack]"), else "". */
  name: string;
  /** Readahead state of faults through this mapping (cf. vma->vm_file->f_ra). */
  ra: ReadaheadState;
}

/** A new VMA with fresh readahead state. */
export function newVma(fields: Omit<Vma, "ra">): Vma {
  return { ...fields, ra: newReadaheadState() };
}

/** Page index in vma.file of address `va` inside the VMA. */
export function vmaPgoff(vma: Vma, va: number): number {
  return vma.pgoff + (va - vma.start) / PAGE_SIZE;
}

/** True when `b` may continue `a` as one area (cf. is_mergeable_vma + anon/file continuity). */
function canMerge(a: Vma, b: Vma): boolean {
  return a.end === b.start && a.prot === b.prot && a.shared === b.shared && a.file === b.file &&
    a.fileWritable === b.fileWritable && a.growsDown === b.growsDown && a.name === b.name &&
    (a.file === null || a.pgoff + (a.end - a.start) / PAGE_SIZE === b.pgoff);
}

/** The VMAs of one address space, sorted by start. */
export class VmaList {
  /** Sorted, non-overlapping. */
  private readonly list: Vma[] = [];

  /** Number of areas (cf. mm->map_count). */
  get count(): number {
    return this.list.length;
  }

  /** All areas in address order (read-only use). */
  all(): readonly Vma[] {
    return this.list;
  }

  /** Index of the first area whose end is above `va` (list.length if none). */
  private lowerBound(va: number): number {
    let lo = 0, hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid].end <= va) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The area containing `va`, or undefined (cf. vma_lookup). */
  find(va: number): Vma | undefined {
    const v = this.list[this.lowerBound(va)];
    return v !== undefined && v.start <= va ? v : undefined;
  }

  /** The first area ending above `va`, containing it or not (cf. find_vma). */
  findAbove(va: number): Vma | undefined {
    return this.list[this.lowerBound(va)];
  }

  /** The areas that intersect [start, end), in order. */
  intersecting(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.lowerBound(start); i < this.list.length && this.list[i].start < end; i++) out.push(this.list[i]);
    return out;
  }

  /** True when [start, end) is covered by areas with no hole. */
  covers(start: number, end: number): boolean {
    let at = start;
    for (const v of this.intersecting(start, end)) {
      if (v.start > at) return false;
      at = v.end;
    }
    return at >= end;
  }

  /**
   * Inserts `vma`, merging it with neighbours it continues.
   * Precondition: the range is free.
   * @returns the area now holding the range (vma itself or a merged neighbour)
   */
  insert(vma: Vma): Vma {
    const i = this.lowerBound(vma.start);
    this.list.splice(i, 0, vma);
    return this.mergeAround(i);
  }

  /** Merges list[i] with its neighbours where possible; returns the surviving area. */
  mergeAround(i: number): Vma {
    let v = this.list[i];
    const next = this.list[i + 1];
    if (next && canMerge(v, next)) {
      v.end = next.end;
      this.list.splice(i + 1, 1);
    }
    const prev = this.list[i - 1];
    if (prev && canMerge(prev, v)) {
      prev.end = v.end;
      this.list.splice(i, 1);
      v = prev;
    }
    return v;
  }

  /** Merges every area in [start, end) with its neighbours where possible. */
  mergeRange(start: number, end: number): void {
    for (let i = Math.max(0, this.lowerBound(start) - 1); i < this.list.length && this.list[i].start <= end; i++) {
      const before = this.list.length;
      this.mergeAround(i);
      if (this.list.length < before) i = Math.max(-1, i - 2);
    }
  }

  /**
   * Splits the area containing `va` so that an area starts at `va`
   * (cf. split_vma). No-op when va is already a boundary or unmapped.
   */
  splitAt(va: number): void {
    const i = this.lowerBound(va);
    const v = this.list[i];
    if (v === undefined || v.start >= va) return;
    const tail: Vma = { ...v, start: va, pgoff: v.file ? vmaPgoff(v, va) : 0, ra: newReadaheadState() };
    v.end = va;
    this.list.splice(i + 1, 0, tail);
  }

  /**
   * Splits at start and end, then returns the areas inside [start, end).
   * Removing them or changing them then touches nothing outside the range.
   */
  isolate(start: number, end: number): Vma[] {
    this.splitAt(start);
    this.splitAt(end);
    return this.intersecting(start, end);
  }

  /** Removes `vma` from the list. Precondition: it is in the list. */
  remove(vma: Vma): void {
    const i = this.list.indexOf(vma);
    if (i >= 0) this.list.splice(i, 1);
  }

  /**
   * Finds a free range of `len` bytes, top-down below `ceiling` and at or
   * above `floor` (cf. unmapped_area_topdown), keeping a one-page gap below
   * a grows-down area.
   * @returns the start address, or -1 when none fits
   */
  findFreeTopDown(len: number, floor: number, ceiling: number): number {
    // Walk the gaps from the highest down: gap i lies between list[i-1] and list[i].
    for (let i = this.lowerBound(ceiling); i >= 0; i--) {
      const above = this.list[i];
      const below = this.list[i - 1];
      const guard = above && above.growsDown ? PAGE_SIZE : 0;
      const top = above ? Math.min(ceiling, above.start - guard) : ceiling;
      const bottom = Math.max(floor, below ? below.end : floor);
      if (top - bottom >= len) return top - len;
      if (below && below.end <= floor) break;
    }
    return -1;
  }
}
