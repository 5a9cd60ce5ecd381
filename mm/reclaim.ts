/**
 * Page reclaim under the RAM limit (cf. mm/vmscan.c: shrink_inactive_list,
 * shrink_active_list, page_check_references, shrink_page_list).
 *
 *   inactive (oldest first) --referenced twice / mapped twice--> active
 *        ^                                                         |
 *        +-------------- not referenced when aged -----------------+
 *
 * "Referenced" is read from the accessed bits that the CPU sets in every PTE
 * mapping the page, found through the reverse map; reading clears them
 * (cf. folio_referenced), so a page must be touched again to survive the
 * next look: second chance. An evicted page is unmapped from every process
 * (PTE cleared, TLB flushed, translated code dropped), written back through
 * ->writepage if dirty, and its memory given back to the host.
 * Anonymous pages are never reclaimed: there is no swap.
 */
import { PTE_A, PTE_D } from "./page-table.js";
import { PAGE_SIZE } from "./layout.js";
import { PROT_EXEC } from "./vma.js";
import { PG_active, PG_dirty, PG_locked, PG_referenced, PG_unevictable, type Page } from "./page-cache.js";
import type { MemSystem } from "./system.js";

/** Tests and clears the accessed bit of every PTE mapping `page` (cf. folio_referenced). */
function referenced(page: Page): boolean {
  let young = false;
  for (const { mm, va } of page.rmap) {
    const i = mm.pt.leaf(va, false);
    if (i < 0) continue;
    const lo = mm.pt.lo(i);
    if (lo & PTE_A) {
      young = true;
      mm.pt.setFlags(i, lo & 0xfff & ~PTE_A);
      mm.oweFlush();
    }
  }
  return young;
}

/**
 * Writes a dirty page back through ->writepage (cf. pageout) and clears
 * PG_dirty. Without ->writepage the page stays dirty.
 * @returns whether the page is clean now
 */
export function writebackPage(sys: MemSystem, page: Page): boolean {
  const writepage = page.mapping.aops.writepage;
  if (!writepage) return false;
  writepage(page.mapping, page);
  page.flags &= ~PG_dirty;
  sys.counters.writebacks++;
  return true;
}

/**
 * Unmaps `page` from every process, writes it back if dirty and drops it
 * from the cache (cf. try_to_unmap + pageout + __remove_mapping).
 * @returns false when it must stay (dirty, and the vtable cannot write it)
 */
export function evictPage(sys: MemSystem, page: Page): boolean {
  for (const { mm, va } of page.rmap) {
    const i = mm.pt.leaf(va, false);
    if (i < 0) continue;
    if ((mm.vmas.find(va)?.prot ?? 0) & PROT_EXEC) mm.dropCode(va, va + PAGE_SIZE);
    if (mm.pt.clear(i) & PTE_D) page.flags |= PG_dirty;
    mm.oweFlush();
  }
  page.rmap.length = 0;
  if (page.flags & PG_dirty && !writebackPage(sys, page)) return false;
  sys.dropPage(page);
  sys.counters.evictions++;
  return true;
}

/**
 * Frees up to `nr` page-cache pages, oldest and unreferenced first.
 * Settles every process's owed TLB flushes before returning.
 * @returns pages freed
 */
export function shrinkPageCache(sys: MemSystem, nr: number): number {
  let freed = 0;
  let budget = 2 * (sys.active.length + sys.inactive.length) + 2;
  while (freed < nr && budget-- > 0) {
    if (sys.inactive.length === 0 || sys.inactive.length < sys.active.length / 2) {
      if (sys.active.head === null) break;
      ageActive(sys, sys.active.head);
      continue;
    }
    const page = sys.inactive.head!;
    sys.inactive.remove(page);
    if (page.flags & (PG_locked | PG_unevictable)) {
      sys.inactive.push(page);
      continue;
    }
    if (referenced(page)) {
      if (page.flags & PG_referenced || page.rmap.length > 1) {
        page.flags = (page.flags | PG_active) & ~PG_referenced;
        sys.active.push(page);
      } else {
        page.flags |= PG_referenced;
        sys.inactive.push(page);
      }
      continue;
    }
    if (evictPage(sys, page)) freed++;
    else sys.inactive.push(page);
  }
  for (const mm of sys.mms) mm.settle();
  return freed;
}

/** Moves the oldest active page to the inactive list unless it was referenced (cf. shrink_active_list). */
function ageActive(sys: MemSystem, page: Page): void {
  sys.active.remove(page);
  if (referenced(page)) {
    sys.active.push(page);
  } else {
    page.flags &= ~PG_active;
    sys.inactive.push(page);
  }
}
