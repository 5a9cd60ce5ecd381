/**
 * Virtual memory areas (cf. struct vm_area_struct) and the ordered set that
 * holds one process's VMAs. Invariants of VmaList: areas are page-aligned,
 * non-empty, ordered by start and never overlap.
 */
import { newReadaheadState, type AddressSpace, type ReadaheadState } from "./page-cache.js";
import { fail } from "../lib/errno.js";
import { PAGE_SIZE } from "./layout.js";
import { VmaTree } from "./vma-tree.js";
import { HostWord } from "../lib/hostmem.js";

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
  /**
   * Page index in the system's anonymous-page store (anon.ts) of the page
   * at `start`, once the area's anonymous pages were shared by a fork
   * (cf. vma->anon_vma and the vm_pgoff of an anonymous area); -1 before.
   */
  anonPgoff: number;
  /** Left out of a fork child (MADV_DONTFORK, cf. VM_DONTCOPY). */
  dontCopy: boolean;
  /** Zero-filled in a fork child (MADV_WIPEONFORK, cf. VM_WIPEONFORK; private anonymous areas only). */
  wipeOnFork: boolean;
  /**
   * The area's huge-page advice (cf. VM_HUGEPAGE / VM_NOHUGEPAGE): "nohuge"
   * from MAP_STACK (as Linux 6.7 sets it, so a thread's stack does not cost
   * 2 MiB) or MADV_NOHUGEPAGE, "huge" from MADV_HUGEPAGE, else "none".
   * Decides where the host's huge pages may back the area (huge-fill.ts).
   */
  hugePage: HugePageAdvice;
}

/** An area's huge-page advice: none given, MADV_HUGEPAGE, or MADV_NOHUGEPAGE / MAP_STACK. */
export type HugePageAdvice = "none" | "huge" | "nohuge";

/** What newVma() needs; the fork-related fields default to "not shared yet, copied on fork". */
export type VmaFields = Omit<Vma, "ra" | "anonPgoff" | "dontCopy" | "wipeOnFork" | "hugePage"> &
  Partial<Pick<Vma, "anonPgoff" | "dontCopy" | "wipeOnFork" | "hugePage">>;

/** A new VMA with fresh readahead state. */
export function newVma(fields: VmaFields): Vma {
  const f = fields;
  return {
    start: f.start, end: f.end, prot: f.prot, shared: f.shared, file: f.file, pgoff: f.pgoff, fileWritable: f.fileWritable,
    growsDown: f.growsDown, name: f.name, ra: newReadaheadState(),
    anonPgoff: f.anonPgoff ?? -1, dontCopy: f.dontCopy ?? false, wipeOnFork: f.wipeOnFork ?? false,
    hugePage: f.hugePage ?? "none",
  };
}

/** Store page index of address `va` inside a VMA whose anonymous pages are in the store (anonPgoff >= 0). */
export function vmaAnonIndex(vma: Vma, va: number): number {
  return vma.anonPgoff + (va - vma.start) / PAGE_SIZE;
}

/** Page index in vma.file of address `va` inside the VMA. */
export function vmaPgoff(vma: Vma, va: number): number {
  return vma.pgoff + (va - vma.start) / PAGE_SIZE;
}

/** True when `b` may continue `a` as one area (cf. is_mergeable_vma + anon/file continuity). */
function canMerge(a: Vma, b: Vma): boolean {
  return a.end === b.start && a.prot === b.prot && a.shared === b.shared && a.file === b.file &&
    a.fileWritable === b.fileWritable && a.growsDown === b.growsDown && a.name === b.name &&
    a.dontCopy === b.dontCopy && a.wipeOnFork === b.wipeOnFork && a.hugePage === b.hugePage &&
    (a.file === null || a.pgoff + (a.end - a.start) / PAGE_SIZE === b.pgoff) &&
    anonContinues(a, b);
}

/**
 * Whether b's store pages continue a's (cf. is_mergeable_anon_vma): neither
 * was shared by a fork, or one run of store indices, or (private areas) one
 * of them was never shared and adopts the other's run: the host pages of a
 * private area need not all be store pages (a fork stores them all again).
 */
function anonContinues(a: Vma, b: Vma): boolean {
  if (a.anonPgoff < 0 && b.anonPgoff < 0) return true;
  if (a.anonPgoff >= 0 && b.anonPgoff >= 0) return a.anonPgoff + (a.end - a.start) / PAGE_SIZE === b.anonPgoff;
  return !a.shared;
}

/** Gives `a` (merging with the area `b` right after it) the store run they share as one area. */
function adoptAnon(a: Vma, b: Vma): void {
  if (a.anonPgoff < 0 && b.anonPgoff >= 0) a.anonPgoff = b.anonPgoff - (a.end - a.start) / PAGE_SIZE;
}

/** What a split may do when the area count is at the limit. */
export interface SplitOptions {
  /**
   * Refuse (ENOMEM) a split when the count is already at least this
   * (cf. the map_count check of __split_vma on the mprotect / madvise
   * path); munmap's splits are checked by the caller instead.
   */
  limit?: number;
}

/**
 * The VMAs of one address space, in address order, in an augmented balanced
 * tree (vma-tree.ts): find, insert, remove, split and the free-range search
 * are O(log n); all() is O(n) once per change.
 */
export class VmaList {
  private readonly tree = new VmaTree();
  /** all()'s array, rebuilt after a change. */
  private cache: Vma[] | null = null;
  /**
   * Changes of the list so far: bumped by every insertion, removal and
   * boundary move, so a lookup remembered at one value still holds while
   * the value is the same (an area's start, end, file and offset change
   * only through the list).
   */
  private changes = 0;
  /**
   * The change count mirrored in host memory (its first 32-bit word), for a
   * reader outside JavaScript: the engine's return-probe table (engine
   * patch 0011) holds entries only while this word is what they were
   * derived at. Made on the first seqWordAddress(); invariant: while it
   * exists, its word equals `changes` modulo 2^32.
   */
  private seqWord: HostWord | undefined;

  /** The change count (see `changes`): equal values mean no area was added, removed or resized in between. */
  get seq(): number {
    return this.changes;
  }

  /**
   * The host address of a 32-bit word that always holds the change count
   * (modulo 2^32), valid until release().
   * @throws HostError when the host refuses the page for it
   */
  seqWordAddress(): number {
    return (this.seqWord ??= new HostWord(this.changes)).addr;
  }

  /** Returns the change-count word's host page (the address space is being torn down). Idempotent. */
  release(): void {
    this.seqWord?.release();
    this.seqWord = undefined;
  }

  /** Number of areas (cf. mm->map_count). */
  get count(): number {
    return this.tree.size;
  }

  /** All areas in address order (read-only use; O(n) after a change). */
  all(): readonly Vma[] {
    if (this.cache === null) {
      const out: Vma[] = [];
      this.tree.forEach((v) => out.push(v));
      this.cache = out;
    }
    return this.cache;
  }

  /** The area containing `va`, or undefined (cf. vma_lookup). */
  find(va: number): Vma | undefined {
    const v = this.tree.lowerBound(va);
    return v !== undefined && v.start <= va ? v : undefined;
  }

  /** The first area ending above `va`, containing it or not (cf. find_vma). */
  findAbove(va: number): Vma | undefined {
    return this.tree.lowerBound(va);
  }

  /** The area just below `vma` (cf. vma_prev), or undefined. */
  below(vma: Vma): Vma | undefined {
    return this.tree.before(vma.start);
  }

  /** The area just above `vma` (cf. vma_next), or undefined. */
  above(vma: Vma): Vma | undefined {
    return this.tree.lowerBound(vma.end);
  }

  /** The areas that intersect [start, end), in order. */
  intersecting(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let v = this.tree.lowerBound(start); v !== undefined && v.start < end; v = this.tree.lowerBound(v.end)) out.push(v);
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
    this.add(vma);
    return this.mergeAround(vma);
  }

  /** Merges `v` with its neighbours where possible (cf. vma_merge); returns the surviving area. */
  mergeAround(v: Vma): Vma {
    const next = this.above(v);
    if (next && canMerge(v, next)) {
      adoptAnon(v, next);
      this.remove(next);
      this.setEnd(v, next.end);
    }
    const prev = this.below(v);
    if (prev && canMerge(prev, v)) {
      adoptAnon(prev, v);
      this.remove(v);
      this.setEnd(prev, v.end);
      v = prev;
    }
    return v;
  }

  /** Merges every area in [start, end], and the one below it, with its neighbours where possible. */
  mergeRange(start: number, end: number): void {
    const first = this.findAbove(start);
    let v = first ? this.below(first) ?? first : undefined;
    while (v !== undefined && v.start <= end) v = this.above(this.mergeAround(v));
  }

  /**
   * Splits the area containing `va` so that an area starts at `va`
   * (cf. split_vma). No-op when va is already a boundary or unmapped.
   * @throws ErrnoError ENOMEM when the count is at opts.limit
   */
  splitAt(va: number, opts: SplitOptions = {}): void {
    const v = this.find(va);
    if (v === undefined || v.start >= va) return;
    if (opts.limit !== undefined && this.count >= opts.limit) fail("ENOMEM", "too many mappings to split one (vm.max_map_count)");
    const tail: Vma = {
      ...v, start: va, pgoff: v.file ? vmaPgoff(v, va) : 0, ra: newReadaheadState(),
      anonPgoff: v.anonPgoff >= 0 ? vmaAnonIndex(v, va) : -1,
    };
    this.setEnd(v, va);
    this.add(tail);
  }

  /**
   * Splits at start and end, then returns the areas inside [start, end).
   * Removing them or changing them then touches nothing outside the range.
   * @throws ErrnoError ENOMEM when a split is refused by opts.limit (the first split may have happened)
   */
  isolate(start: number, end: number, opts: SplitOptions = {}): Vma[] {
    this.splitAt(start, opts);
    this.splitAt(end, opts);
    return this.intersecting(start, end);
  }

  /** Removes `vma` from the list. Precondition: it is in the list. */
  remove(vma: Vma): void {
    this.tree.delete(vma);
    this.changed();
  }

  /** Moves the end of `vma` (it grows into free space or shrinks). */
  setEnd(vma: Vma, end: number): void {
    this.tree.setEnd(vma, end);
    this.changed();
  }

  /** Moves the start of `vma` down into the free space below it (a stack growing); its store index follows. */
  setStart(vma: Vma, start: number): void {
    if (vma.anonPgoff >= 0) vma.anonPgoff -= (vma.start - start) / PAGE_SIZE;
    this.tree.setStart(vma, start);
    this.bump(); // the order of areas stays: all()'s array holds
  }

  /**
   * Finds a free range of `len` bytes, top-down below `ceiling` and at or
   * above `floor` (cf. unmapped_area_topdown), keeping a one-page gap below
   * a grows-down area. O(log n).
   * @returns the start address, or -1 when none fits
   */
  findFreeTopDown(len: number, floor: number, ceiling: number): number {
    return this.tree.findFreeTopDown(len, floor, ceiling);
  }

  /** After an insertion, removal or end move: all() is rebuilt, and the change count moves. */
  private changed(): void {
    this.cache = null;
    this.bump();
  }

  /** The change count moves, and its host word with it. */
  private bump(): void {
    this.changes++;
    this.seqWord?.set(this.changes);
  }

  /** Adds `vma` without merging. */
  private add(vma: Vma): void {
    this.tree.add(vma);
    this.changed();
  }
}
