/**
 * Anonymous pages shared between address spaces after fork (cf. anon_vma,
 * page_mapcount and the reuse test of do_wp_page).
 *
 * A process's anonymous memory is its own host reservation, which no other
 * process can map. So a fork moves the parent's resident anonymous pages into
 * the system's *store*, one host memfd, where each page has one slot (a page
 * index); parent and child then map those slots MAP_PRIVATE (the host
 * copies a page when one side writes it, after the fault path has decided
 * that it may). Only private areas use the store: MAP_SHARED anonymous
 * memory is a shmem object's page cache (shmem.ts).
 * A slot holds one AnonPage: its reverse map lists every (mm, va) whose PTE
 * carries PTE_SW_STORE for it, and it is charged once against the RAM limit;
 * the last mapper to go frees it (the slot is punched).
 *
 *   parent PTE (r-, STORE) ─┐                   ┌─ AnonPage  rmap: [parent@va, child@va]
 *                           ├── store slot k ───┤   charged once (sys.anonPages)
 *   child  PTE (r-, STORE) ─┘                   └─ host: memfd page k, MAP_PRIVATE in both
 *
 * Each VMA whose pages went to the store knows the slot of its first page
 * (vma.anonPgoff, cf. an anonymous vm_pgoff); slots of a page follow its
 * address inside the VMA, through splits, merges and mremap moves. Every
 * area first stored gets a fresh range of slots (a slab), and its fork
 * children keep it: so two processes of one family may each put their own
 * page at the same slot. The rules that keep that safe:
 * - storing a page (fork) at a slot that others map first gives each of
 *   them a private copy of the old page (evictSlot);
 * - a private page never touched reads zeros: when its slot holds another
 *   process's page, its host page is reset to plain zero memory first.
 */
import { FaultlineError } from "../lib/errors.js";
import { hostCopy as hostCopyRange, MemFile } from "../lib/hostmem.js";
import { PAGE_SIZE, TASK_SIZE } from "./layout.js";
import type { Mm } from "./mm.js";
import type { RmapEntry } from "./page-cache.js";
import { PTE_A, PTE_D, PTE_SW_ANON, PTE_SW_STORE, PTE_W } from "./page-table.js";
import { PROT_WRITE, vmaAnonIndex, vmaPgoff, type Vma } from "./vma.js";

/**
 * Slots per slab: 8 address spaces' worth, so an area may grow either way
 * from where it was first stored (its start sits in the middle) by more
 * than any area can span, even after mremap moves.
 */
const SLAB_PAGES = (8 * TASK_SIZE) / PAGE_SIZE;
/** Slabs that fit in a memfd (whose size tops out below 2^63 bytes). */
const MAX_SLABS = Math.floor(2 ** 63 / (SLAB_PAGES * PAGE_SIZE)) - 1;

/** One anonymous page in the store (cf. struct page of an anonymous folio). */
export class AnonPage {
  /** Every PTE mapping this page (cf. the anon rmap); its length is the map count. */
  readonly rmap: RmapEntry[] = [];

  /** @param index the page's slot in the store */
  constructor(readonly index: number) {}
}

/** The store of shared anonymous pages of one MemSystem. */
export class AnonStore {
  /** The host memfd holding the pages (sparse: slots without a page cost nothing); made on first use. */
  private file: MemFile | undefined;
  /** Pages by slot. */
  readonly pages = new Map<number, AnonPage>();
  /** Slabs handed out. */
  private slabs = 0;

  /** Host descriptor of the store's memfd. */
  get fd(): number {
    return this.memfd().fd;
  }

  /** The memfd, made on first use. */
  private memfd(): MemFile {
    this.file ??= new MemFile("faultline:anon");
    return this.file;
  }

  /**
   * A fresh range of slots for an area being stored for the first time.
   * @returns the slot of the area's first page (vma.anonPgoff)
   * @throws FaultlineError EANONSTORE when the memfd has no room for another slab
   */
  allocate(): number {
    if (this.slabs >= MAX_SLABS) throw new FaultlineError("EANONSTORE", `anonymous-page store full: ${MAX_SLABS} areas shared by fork`);
    const base = this.slabs++ * SLAB_PAGES;
    this.memfd().grow((base + SLAB_PAGES) * PAGE_SIZE); // sparse: costs nothing
    return base + SLAB_PAGES / 2;
  }

  /** Copies guest [va, va+len) of `mm` (its host bytes) into the store from slot `index` on. */
  write(mm: Mm, va: number, len: number, index: number): void {
    mm.mem.pwrite(this.fd, va, len, index * PAGE_SIZE);
  }

  /** Frees the host page of slot `index` (it reads as zero afterwards). */
  punch(index: number): void {
    this.file?.punch(index * PAGE_SIZE, PAGE_SIZE);
  }

  /** Closes the memfd. Precondition: no process maps the store any more. */
  close(): void {
    this.file?.close();
    this.file = undefined;
    this.pages.clear();
  }
}

/**
 * The store page behind a PTE marked PTE_SW_STORE.
 * @throws FaultlineError EANONSTORE when there is none (a bug: the marks and the store disagree)
 */
export function storePage(mm: Mm, vma: Vma, va: number): AnonPage {
  const page = mm.sys.anon.pages.get(vmaAnonIndex(vma, va));
  if (!page) throw new FaultlineError("EANONSTORE", `no store page behind the shared PTE at 0x${va.toString(16)}`);
  return page;
}

/** Frees a store page nobody maps any more: its slot is punched and its charge returned. */
function freePage(mm: Mm, page: AnonPage): void {
  mm.sys.anon.pages.delete(page.index);
  mm.sys.anon.punch(page.index);
  mm.sys.anonPages--;
}

/** Makes the host copy the page at `va` of `mm` now (its mapping there is MAP_PRIVATE over the store). */
function hostCopy(mm: Mm, va: number): void {
  const b = mm.bytes(va, 1);
  b[0] = b[0];
}

/**
 * Takes (mm, va) out of its store page's reverse map as its PTE is zapped
 * (cf. page_remove_rmap); the last mapper frees the page. The caller counts
 * mm.anonPages down.
 */
export function unmapStorePage(mm: Mm, vma: Vma, va: number): void {
  const page = storePage(mm, vma, va);
  mm.rmapRemove(page, va);
  if (page.rmap.length === 0) freePage(mm, page);
}

/**
 * A write to a page shared copy-on-write (cf. do_wp_page): the host copies
 * it for this process, which leaves the page's reverse map; when it was the
 * last mapper the page is simply reused (cf. wp_can_reuse_anon_folio: no new
 * page is charged, no COW fault counted) and its slot freed.
 * @param i the PTE's word index; `lo` its low word
 * @throws OutOfMemoryError when a copy is needed and the RAM limit has no room
 */
export function breakCow(mm: Mm, vma: Vma, i: number, va: number, lo: number): void {
  const page = storePage(mm, vma, va);
  const reuse = page.rmap.length === 1;
  if (!reuse) mm.sys.reserve(1, "anon");
  hostCopy(mm, va);
  mm.rmapRemove(page, va);
  if (reuse) {
    mm.sys.anon.pages.delete(page.index);
    mm.sys.anon.punch(page.index);
  } else {
    mm.sys.anonPages++;
    mm.sys.counters.cowFaults++;
  }
  mm.pt.setFlags(i, (lo & 0xfff & ~PTE_SW_STORE) | PTE_W | PTE_A | PTE_D);
}

/**
 * Prepares the first touch of a page in a private area whose pages are in
 * the store (cf. do_anonymous_page): the page will be this process's own,
 * so its host page is made to read zeros first (the slot may hold another
 * process's page, or the host would leave a zero page in the store). The
 * caller then goes on with an ordinary anonymous first touch. (MAP_SHARED
 * anonymous areas never reach the store: they are a shmem object's.)
 */
export function storeAnonFault(mm: Mm, vma: Vma, va: number): void {
  const store = mm.sys.anon;
  const index = vmaAnonIndex(vma, va);
  if (store.pages.has(index)) {
    mm.mem.resetAnon(va, PAGE_SIZE);
  } else {
    hostCopy(mm, va);
    store.punch(index);
  }
}

/**
 * Gives every mapper of the page at slot `index` a private copy of it and
 * frees the page (its slot is about to hold another page). Only private
 * areas use the store (shared ones are shmem objects').
 * @throws OutOfMemoryError when the copies do not fit the RAM limit
 */
function evictSlot(mm: Mm, index: number): void {
  const page = mm.sys.anon.pages.get(index);
  if (!page) return;
  mm.sys.reserve(page.rmap.length - 1, "anon"); // n copies for one page freed
  for (const { mm: other, va } of page.rmap) {
    hostCopy(other, va);
    const j = other.pt.leaf(va, false);
    other.pt.setFlags(j, other.pt.lo(j) & 0xfff & ~PTE_SW_STORE);
    mm.sys.anonPages++;
  }
  page.rmap.length = 0;
  mm.sys.anon.pages.delete(index);
  mm.sys.anonPages--;
}

/**
 * Moves the private anonymous pages at `vas` (ascending, all in `vma`, each
 * with PTE_SW_ANON and without PTE_SW_STORE) of `mm` into the store: their
 * bytes are written to their slots, each becomes an AnonPage mapped by
 * (mm, va), keeping its charge, and its PTE is marked PTE_SW_STORE (and
 * read-only in a private area). The caller then maps the store over them
 * on the host (storeRuns()). Precondition: vma.anonPgoff >= 0.
 * @throws OutOfMemoryError when evicting a slot's old page needs room
 */
export function storePages(mm: Mm, vma: Vma, vas: readonly number[]): void {
  const store = mm.sys.anon;
  for (const [start, end] of runs(vas)) {
    for (let va = start; va < end; va += PAGE_SIZE) evictSlot(mm, vmaAnonIndex(vma, va));
    store.write(mm, start, end - start, vmaAnonIndex(vma, start));
  }
  for (const va of vas) {
    const index = vmaAnonIndex(vma, va);
    const page = new AnonPage(index);
    mm.rmapAdd(page, va);
    store.pages.set(index, page);
    const i = mm.pt.leaf(va, false);
    const lo = mm.pt.lo(i);
    mm.pt.setFlags(i, (lo & 0xfff & ~(vma.shared ? 0 : PTE_W)) | PTE_SW_STORE);
  }
  if (!vma.shared && vas.length > 0) mm.oweFlush();
}

/** Maps the store on the host over each run of `vas` in `mm` (private or shared as the area is). */
export function storeRuns(mm: Mm, vma: Vma, vas: readonly number[]): void {
  for (const [start, end] of runs(vas)) mapStore(mm, vma, start, end);
}

/** Maps the store's slots for [start, end) of `vma` over the host memory of `mm` there. */
export function mapStore(mm: Mm, vma: Vma, start: number, end: number): void {
  mm.mem.mapFile(start, end - start, mm.sys.anon.fd, vmaAnonIndex(vma, start) * PAGE_SIZE, vma.shared);
}

/** Consecutive page runs [start, end) of ascending page addresses. */
export function runs(vas: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const va of vas) {
    const last = out[out.length - 1];
    if (last && last[1] === va) last[1] = va + PAGE_SIZE;
    else out.push([va, va + PAGE_SIZE]);
  }
  return out;
}

/** Adds (mm, va) to the reverse map of the store page behind a PTE copied by fork. */
export function mapStorePage(mm: Mm, vma: Vma, va: number): void {
  mm.rmapAdd(storePage(mm, vma, va), va);
  mm.anonPages++;
}

/**
 * Moves the host memory of [from, from+len) of `vma` to `to` (mremap) when
 * the area's pages went to the store: its host memory is then several host
 * mappings (file, store runs, plain memory), which one host mremap cannot
 * move. The destination is mapped afresh over the same file and store
 * slots, and pages only this process holds are copied; the source is left
 * as fresh memory. Call before the PTEs move (they are read here).
 */
export function moveStoreArea(mm: Mm, vma: Vma, from: number, to: number, len: number): void {
  if (vma.file) mm.mem.mapFile(to, len, vma.file.mem.fd, vmaPgoff(vma, from) * PAGE_SIZE, vma.shared);
  else mm.mem.mapFile(to, len, mm.sys.anon.fd, vmaAnonIndex(vma, from) * PAGE_SIZE, vma.shared);
  const stored: number[] = [];
  const own: number[] = [];
  mm.pt.forEach(from, from + len, (va, i) => {
    const lo = mm.pt.lo(i);
    if ((lo & PTE_SW_ANON) === 0) return;
    if (lo & PTE_SW_STORE) stored.push(va);
    else own.push(va);
  });
  if (vma.file) {
    for (const [a, b] of runs(stored)) mm.mem.mapFile(to + (a - from), b - a, mm.sys.anon.fd, vmaAnonIndex(vma, a) * PAGE_SIZE, false);
  }
  for (const [a, b] of runs(own)) hostCopyRange(mm.mem.addr + to + (a - from), mm.mem.addr + a, b - a);
  mm.mem.resetAnon(from, len);
}

/**
 * Makes the page at `va` this process's own before the memory manager's
 * user writes bytes into it behind the guest (a breakpoint, a restored
 * instruction: cf. the FOLL_WRITE|FOLL_FORCE COW break of
 * uprobe_write_opcode): a page shared copy-on-write by fork is copied, or
 * reused when the last, and its PTE keeps its protection. Writing through
 * mm.bytes() into a shared page without this would copy it on the host
 * behind the reverse map's back. No-op for any other page.
 * @throws OutOfMemoryError when a copy does not fit the RAM limit
 */
export function unshareAnonPage(mm: Mm, va: number): void {
  const page = va - (va % PAGE_SIZE);
  const vma = mm.vmas.find(page);
  const i = mm.pt.leaf(page, false);
  if (!vma || vma.shared || i < 0) return;
  const lo = mm.pt.lo(i);
  if ((lo & PTE_SW_STORE) === 0) return;
  breakCow(mm, vma, i, page, lo);
  mm.pt.setFlags(i, (mm.pt.lo(i) & 0xfff & ~PTE_W) | (lo & PTE_W)); // W as it was: the next write fault sets it
}
