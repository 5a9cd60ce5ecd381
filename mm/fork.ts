/**
 * fork's copy of an address space (cf. kernel/fork.c dup_mmap, and
 * mm/memory.c copy_page_range -> copy_pte_range -> copy_present_pte).
 *
 * Every area is copied to the child, except MADV_DONTFORK ones (left out)
 * and MADV_WIPEONFORK ones (empty, so zero, in the child). Page by page:
 * - private anonymous pages, and private copies in private file mappings,
 *   go to the store (anon.ts) and are mapped read-only by both: the first
 *   write on either side copies (or reuses the page when it is the last);
 * - page-cache pages (private pages never written, MAP_SHARED file pages,
 *   and MAP_SHARED anonymous pages, which are a shmem object's: shmem.ts)
 *   are mapped again, and added to the page's reverse map;
 * - PROT_NONE'd anonymous data and guard markers are copied as they are.
 * The child's page tables are made as its PTEs are written (each table
 * page charged); the parent's TLB is flushed once, as its PTEs lost W.
 */
import { FaultlineError } from "../lib/errors.js";
import { mapStore, mapStorePage, storePages, storeRuns } from "./anon.js";
import { PAGE_SIZE } from "./layout.js";
import type { Mm } from "./mm.js";
import { PTE_A, PTE_D, PTE_P, PTE_SW_ANON, PTE_SW_GUARD, PTE_SW_STORE } from "./page-table.js";
import { PROT_EXEC, newVma, type Vma } from "./vma.js";

/**
 * Copies every area of `parent` into `child` for fork (cf. dup_mmap).
 * Preconditions: `child` is fresh (no areas) and uses the same MemSystem,
 * on its own engine.
 * @throws FaultlineError EFORK when the preconditions do not hold
 * @throws OutOfMemoryError when the child's page tables, or copies made to
 *   free a store slot, do not fit the RAM limit; the parent stays usable and
 *   the caller destroys the half-made child (fork then fails with ENOMEM)
 */
export function dupMmap(parent: Mm, child: Mm): void {
  if (child.sys !== parent.sys) throw new FaultlineError("EFORK", "dupMmap: the child's address space belongs to another MemSystem");
  if (child.vmas.count > 0) throw new FaultlineError("EFORK", "dupMmap: the child's address space is not empty");
  child.brkStart = parent.brkStart;
  child.brk = parent.brk;
  try {
    for (const v of [...parent.vmas.all()]) {
      if (v.dontCopy) continue; // cf. VM_DONTCOPY
      if (v.wipeOnFork) {
        child.vmas.insert(newVma({ ...v, anonPgoff: -1 })); // cf. VM_WIPEONFORK: fresh zero memory
        continue;
      }
      storeArea(parent, v);
      mapChildHost(child, v);
      copyPtes(parent, child, v);
      child.vmas.insert(newVma({ ...v }));
    }
  } finally {
    parent.settle();
    child.settle();
  }
}

/**
 * Puts the parent's anonymous pages of `v` into the store, so that a child
 * can map them: its private pages move there (and lose W), and its host
 * memory over them becomes a mapping of the store. A MAP_SHARED area,
 * anonymous ones included (a shmem object), is left alone: its page cache
 * is the shared memory, found by offset in every process.
 */
function storeArea(mm: Mm, v: Vma): void {
  if (v.shared) return; // the page cache is the shared memory
  const own: number[] = [];
  mm.pt.forEach(v.start, v.end, (va, i) => {
    const lo = mm.pt.lo(i);
    if (lo & PTE_SW_ANON && (lo & PTE_SW_STORE) === 0) own.push(va);
  });
  const first = v.anonPgoff < 0;
  if (first) {
    if (own.length === 0) return; // nothing to share: the child starts from zeros or the file
    v.anonPgoff = mm.sys.anon.allocate();
  }
  storePages(mm, v, own);
  if (v.file) storeRuns(mm, v, own);
  else if (own.length > 0) mapStore(mm, v, v.start, v.end);
}

/** The child's host memory for `v`: the file's cache, or the store (a private file area's store runs come with its PTEs). */
function mapChildHost(child: Mm, v: Vma): void {
  if (v.file) child.mem.mapFile(v.start, v.end - v.start, v.file.mem.fd, v.pgoff * PAGE_SIZE, v.shared);
  else if (v.anonPgoff >= 0) mapStore(child, v, v.start, v.end);
}

/**
 * Copies the PTEs of `v` (cf. copy_pte_range): store pages join their
 * reverse maps, page-cache pages theirs; the child's copies are old (A
 * clear) and, in a shared area, clean (cf. copy_present_pte).
 */
function copyPtes(parent: Mm, child: Mm, v: Vma): void {
  const stored: number[] = [];
  const nx = child.nx && (v.prot & PROT_EXEC) === 0;
  parent.pt.forEach(v.start, v.end, (va, i) => {
    const lo = parent.pt.lo(i);
    if (lo & PTE_SW_GUARD) {
      child.pt.set(child.pt.leaf(va, true), va, lo & 0xfff, false);
      return;
    }
    if (lo & PTE_SW_ANON) { // every anonymous page is a store page now (storeArea)
      child.pt.set(child.pt.leaf(va, true), va, lo & 0xfff & ~PTE_A, nx);
      mapStorePage(child, v, va);
      stored.push(va);
      return;
    }
    if ((lo & PTE_P) === 0) return;
    const page = parent.filePage(v, va);
    if (!page) return; // (cannot happen: reclaim clears every PTE of a page it drops)
    child.pt.set(child.pt.leaf(va, true), va, lo & 0xfff & ~(PTE_A | (v.shared ? PTE_D : 0)), nx);
    child.rmapAdd(page, va);
  });
  if (v.file && !v.shared) storeRuns(child, v, stored);
}
