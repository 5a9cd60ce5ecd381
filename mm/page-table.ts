/**
 * x86-64 four-level page tables (PML4 -> PDPT -> PD -> PT), held in a host
 * region that the engine maps at guest-physical PT_BASE. The CPU walks them,
 * checks present/writable/NX and writes the accessed and dirty bits back;
 * this file reads and writes the same words.
 *
 *   va: | 47..39 PML4 | 38..30 PDPT | 29..21 PD | 20..12 PT | 11..0 offset |
 *
 * A PTE is two 32-bit words: lo = address bits 12..31 | flags, hi = address
 * bits 32..39 | NX (bit 63). Leaf PTEs name their own virtual address (see
 * layout.ts). Upper-level entries are always P|W|U; leaves decide access.
 */
import { HostRegion, viewAt } from "../lib/hostmem.js";
import { FaultlineError } from "../lib/errors.js";
import { PAGE_SIZE, PT_AREA_SIZE, PT_BASE } from "./layout.js";

/** PTE flag bits (low word). */
export const PTE_P = 0x1, PTE_W = 0x2, PTE_U = 0x4, PTE_A = 0x20, PTE_D = 0x40;
/**
 * Software bit (AVL, ignored by the CPU): the page at this address is a
 * private anonymous page of this process (zero-fill or copy-on-write copy).
 * It stays set while the page's data is held, even when P is cleared by
 * PROT_NONE, so a later fault knows the data is already there.
 */
export const PTE_SW_ANON = 0x200;
/**
 * Software bit on a non-present PTE: a guard page (MADV_GUARD_INSTALL); any
 * access is SIGSEGV. munmap clears it; MADV_DONTNEED and mprotect keep it.
 */
export const PTE_SW_GUARD = 0x400;
/**
 * Software bit, with PTE_SW_ANON: the page is a page of the system's
 * anonymous-page store (anon.ts), shared with other address spaces and in
 * its reverse map. In a private area the PTE is then read-only and a write
 * breaks the sharing (copy-on-write); in a MAP_SHARED area it is the
 * shared page itself.
 */
export const PTE_SW_STORE = 0x800;
/** NX, in the high word. */
export const PTE_HI_NX = 0x80000000;
const TABLE = PTE_P | PTE_W | PTE_U;
/** Table pages the first view covers (1 MiB: leaf tables for 512 MiB touched). */
const FIRST_VIEW_PAGES = 256;
const WORDS = PAGE_SIZE / 4;

/** The tables of one address space. */
export class PageTable {
  /** Host memory holding every table page of this address space. */
  readonly area: HostRegion;
  /**
   * The table pages in use as 32-bit words (a PTE is words [2i, 2i+1]): a
   * view of the area's first `viewPages` pages, widened as tables are added
   * (a view over the whole 1 GiB would cost every address space ~17 ms of
   * garbage collection at birth, as V8 weighs large external buffers).
   */
  private w: Uint32Array;
  private viewPages = FIRST_VIEW_PAGES;
  /** Next never-used table page, and table pages freed for reuse. */
  private bump = 1;
  private readonly free: number[] = [];
  /** Table pages in use (the PML4 included), for accounting. */
  tables = 1;
  /** The last leaf table found: its 2 MiB slot (va / 2^21) and its first word. Tables are never freed, so it stays valid. */
  private lastSlot = -1;
  private lastTable = 0;

  /**
   * @param charge called before each new table page is taken, so the owner
   *   can count it against the RAM limit (cf. the memcg charge of
   *   pte_alloc_one / __GFP_ACCOUNT); it throws OutOfMemoryError to refuse
   * @throws HostError when the host refuses the reservation
   */
  constructor(private readonly charge: () => void = () => {}) {
    this.area = new HostRegion(PT_AREA_SIZE);
    // One view from the area's start (over 1 GiB at most: HostRegion.view's chunks would split it).
    this.w = new Uint32Array(viewAt(this.area.addr, this.viewPages * PAGE_SIZE));
  }

  /** Widens the view to cover table page `page` (by 4x steps, up to the whole area). */
  private cover(page: number): void {
    if (page < this.viewPages) return;
    while (this.viewPages <= page) this.viewPages = Math.min(this.viewPages * 4, PT_AREA_SIZE / PAGE_SIZE);
    this.w = new Uint32Array(viewAt(this.area.addr, this.viewPages * PAGE_SIZE));
  }

  /** Guest-physical address of the PML4 (the CR3 value). */
  get root(): number {
    return PT_BASE;
  }

  /**
   * A zeroed table page, charged first.
   * @throws OutOfMemoryError when the charge is refused (RAM limit)
   */
  private allocTable(): number {
    if (this.free.length === 0 && this.bump * PAGE_SIZE >= PT_AREA_SIZE) {
      // The area holds every table of [0, TASK_SIZE): only a va past it gets here.
      throw new FaultlineError("EPTAREA", "page-table area exhausted: an address past TASK_SIZE was walked");
    }
    this.charge();
    const reused = this.free.pop();
    const page = reused ?? this.bump++;
    this.cover(page);
    if (reused !== undefined) this.w.fill(0, page * WORDS, (page + 1) * WORDS); // fresh area pages are zero already
    this.tables++;
    return page;
  }

  /**
   * Word index of the leaf PTE for `va`, creating missing tables when
   * `create`; -1 when a table is missing and `create` is false.
   * Precondition: va < 2^48.
   */
  leaf(va: number, create: boolean): number {
    const pd = Math.floor(va / 0x200000); // va >> 21, exact below 2^53
    // (va >>> 12) & 511: bits 20..12 of va, exact for any integer va below 2^53 (ToUint32 keeps the
    // low 32 bits); `%` on a va above 2^31 would be a floating-point remainder, a call per use.
    if (pd === this.lastSlot) return this.lastTable + ((va >>> 12) & 511) * 2;
    let w = this.w;
    let table = 0; // PML4 is table page 0
    // Indices for levels 4..2: bits 47..39, 38..30, 29..21.
    for (let level = 0; level < 3; level++) {
      const index = level === 0 ? Math.floor(pd / 262144) % 512 : level === 1 ? Math.floor(pd / 512) % 512 : pd % 512;
      const e = (table * WORDS) + index * 2;
      if ((w[e] & PTE_P) === 0) {
        if (!create) return -1;
        const t = this.allocTable();
        w = this.w; // allocTable may have widened the view
        const phys = PT_BASE + t * PAGE_SIZE;
        w[e] = ((phys >>> 0) | TABLE) >>> 0;
        w[e + 1] = Math.floor(phys / 0x100000000);
        table = t;
      } else {
        table = (w[e + 1] * 0x100000000 + (w[e] & 0xfffff000) - PT_BASE) / PAGE_SIZE;
      }
    }
    this.lastSlot = pd;
    this.lastTable = table * WORDS;
    return table * WORDS + ((va >>> 12) & 511) * 2;
  }

  /** Low word (flags) of the PTE at word index `i`. */
  lo(i: number): number {
    return this.w[i];
  }

  /**
   * Writes a leaf PTE naming `va` itself with `flags` (low-word bits) and NX.
   * @param i word index from leaf(va, true)
   */
  set(i: number, va: number, flags: number, nx: boolean): void {
    this.w[i] = ((va & 0xfffff000) | flags) >>> 0;
    this.w[i + 1] = (Math.floor(va / 0x100000000) | (nx ? PTE_HI_NX : 0)) >>> 0;
  }

  /** Replaces the flag bits of an existing PTE, keeping its address and NX. */
  setFlags(i: number, flags: number): void {
    this.w[i] = ((this.w[i] & 0xfffff000) | flags) >>> 0;
  }

  /** Sets or clears NX of an existing PTE. */
  setNx(i: number, nx: boolean): void {
    this.w[i + 1] = ((this.w[i + 1] & 0x7fffffff) | (nx ? PTE_HI_NX : 0)) >>> 0;
  }

  /** Clears a PTE entirely and returns its old low word. */
  clear(i: number): number {
    const old = this.w[i];
    this.w[i] = 0;
    this.w[i + 1] = 0;
    return old;
  }

  /**
   * Calls fn(va, i) for every leaf PTE in [start, end) whose low word is not
   * zero, skipping absent tables wholesale. fn may modify the PTE.
   * Preconditions: page-aligned start <= end.
   */
  forEach(start: number, end: number, fn: (va: number, i: number) => void): void {
    let va = start;
    while (va < end) {
      const span = 0x200000; // one leaf table covers 2 MiB
      const tableEnd = Math.min(end, (Math.floor(va / span) + 1) * span);
      const first = this.leaf(va, false);
      if (first >= 0) {
        for (let a = va, i = first; a < tableEnd; a += PAGE_SIZE, i += 2) {
          if (this.w[i] !== 0) fn(a, i);
        }
      }
      va = tableEnd;
    }
  }

  /**
   * Empties the tables for a new address space in the same area (Mm.renew):
   * every table page back to the host (zero), only the PML4 in use.
   */
  reset(): void {
    this.area.discard(0, PT_AREA_SIZE);
    this.bump = 1;
    this.free.length = 0;
    this.tables = 1;
    this.lastSlot = -1;
    this.lastTable = 0;
  }

  /** Frees the host memory of the tables. */
  release(): void {
    this.area.release();
  }
}
