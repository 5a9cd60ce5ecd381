/**
 * The page-fault handler (cf. do_user_addr_fault -> handle_mm_fault ->
 * do_anonymous_page / do_read_fault / do_cow_fault / do_shared_fault /
 * do_wp_page, and filemap_fault for file pages).
 *
 *  #PF(va, error code)
 *   |
 *   +- no VMA (and no stack to grow) ------------------------> SIGSEGV (MAPERR)
 *   +- VMA forbids the access -------------------------------> SIGSEGV (ACCERR)
 *   +- PTE present: protection fault
 *   |    +- write, private file page -> private copy (cow)
 *   |    +- write, page shared by fork -> copy, or reuse when the last (anon.ts)
 *   |    +- write, shared/anon page -> make writable
 *   +- PTE keeps anon data (PROT_NONE'd) -> present again
 *   +- anonymous VMA -> zero-filled page (first touch)
 *   +- file VMA: page past EOF -------------------------------> SIGBUS
 *        +- read/exec: fault-around maps cached neighbours
 *        +- filemap_fault: cache hit (minor; PG_readahead -> async readahead)
 *        |                 cache miss -> sync readahead (major)
 *        +- write to private -> private copy; else map the cache page
 */
import { breakCow, storeAnonFault } from "./anon.js";
import { GuestSignal } from "../lib/errors.js";
import { FaultlineError } from "../lib/errors.js";
import { PAGE_SIZE } from "./layout.js";
import type { Mm } from "./mm.js";
import { PG_locked, PG_readahead, PG_uptodate, type Page } from "./page-cache.js";
import { PTE_A, PTE_D, PTE_P, PTE_SW_ANON, PTE_SW_GUARD, PTE_SW_STORE, PTE_U, PTE_W } from "./page-table.js";
import { asyncReadahead, syncReadahead } from "./readahead.js";
import { isShmem, shmemGetPage } from "./shmem.js";
import { PROT_EXEC, PROT_MASK, PROT_WRITE, vmaPgoff, type Vma } from "./vma.js";

/** What the faulting access was. */
export type Access = "read" | "write" | "exec";

/** #PF error-code bits (Intel SDM 4.7). */
const PF_WRITE = 2, PF_INSTR = 16;

/** Largest main-stack size reached by growing down (cf. RLIMIT_STACK, 8 MiB). */
export const STACK_LIMIT = 8 * 1024 * 1024;

/** The access kind encoded in a #PF error code. */
export function accessOf(errorCode: number): Access {
  return errorCode & PF_WRITE ? "write" : errorCode & PF_INSTR ? "exec" : "read";
}

const SIGBUS = 7, SIGSEGV = 11;
/** si_code values of the fault signals (cf. uapi/asm-generic/siginfo.h). */
const SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2;

function segv(mm: Mm, va: number, rip: number, access: Access, why: string, code = SEGV_MAPERR): never {
  mm.sys.counters.signals++;
  throw new GuestSignal("SIGSEGV", SIGSEGV, rip, access, va, why, code);
}

/**
 * Handles one guest page fault at `va`. On return the access can be retried.
 * @param errorCode the #PF error code (PF_* bits)
 * @param ripOf returns the faulting instruction's address, for signal reports
 *   (read only when a signal is sent: it costs an engine call)
 * @throws GuestSignal SIGSEGV or SIGBUS when Linux would send one
 * @throws OutOfMemoryError when anonymous memory exceeds the RAM limit
 */
export function handlePageFault(mm: Mm, va: number, errorCode: number, ripOf: () => number): void {
  const access = accessOf(errorCode);
  const page = va - (va % PAGE_SIZE);
  const vma = mm.vmas.find(va) ?? expandStack(mm, page);
  if (!vma) segv(mm, va, ripOf(), access, "SEGV_MAPERR: no mapping");
  if (!allowed(vma, access, mm.nx)) segv(mm, va, ripOf(), access, `SEGV_ACCERR: mapping is ${protString(vma.prot)}`, SEGV_ACCERR);
  const i = mm.pt.leaf(page, true);
  const lo = mm.pt.lo(i);
  if (lo & PTE_SW_GUARD) segv(mm, va, ripOf(), access, "SEGV_MAPERR: guard page");
  if (lo & PTE_P) protectionFault(mm, vma, i, page, lo, access);
  else if (lo & PTE_SW_ANON) restoreAnon(mm, vma, i, page, lo);
  else if (vma.file === null) anonymousFault(mm, vma, i, page);
  else fileFault(mm, vma, i, page, va, access, ripOf);
  mm.settle();
}

/** Whether `vma` permits `access` (x86: any protection but PROT_NONE reads; exec is checked only with NX). */
function allowed(vma: Vma, access: Access, nx: boolean): boolean {
  if (access === "write") return (vma.prot & PROT_WRITE) !== 0;
  if (access === "exec" && nx) return (vma.prot & PROT_EXEC) !== 0;
  return (vma.prot & PROT_MASK) !== 0;
}

/** "r-x" style text of PROT_* bits. */
export function protString(prot: number): string {
  return (prot & 1 ? "r" : "-") + (prot & 2 ? "w" : "-") + (prot & 4 ? "x" : "-");
}

/** Grows a grows-down VMA to cover `page` when within the stack limit (cf. expand_stack). */
function expandStack(mm: Mm, page: number): Vma | undefined {
  const above = mm.vmas.findAbove(page);
  if (!above || !above.growsDown || above.end - page > STACK_LIMIT) return undefined;
  const below = mm.vmas.below(above);
  if (below && below.end > page - PAGE_SIZE) return undefined; // keep a guard gap
  mm.vmas.setStart(above, page);
  return above;
}

/** A fault on a present PTE: write-enable or copy (cf. do_wp_page). */
function protectionFault(mm: Mm, vma: Vma, i: number, page: number, lo: number, access: Access): void {
  const c = mm.sys.counters;
  c.minorFaults++;
  if (access === "write" && (lo & PTE_W) === 0) {
    if (lo & PTE_SW_STORE && !vma.shared) {
      breakCow(mm, vma, i, page, lo); // only W is added: no flush (the host copies behind the same host address)
    } else if (vma.file !== null && !vma.shared && (lo & PTE_SW_ANON) === 0) {
      const cached = mm.filePage(vma, page);
      if (cached) mm.rmapRemove(cached, page);
      privateCopy(mm, vma, i, page);
    } else {
      mm.pt.setFlags(i, (lo & 0xfff) | PTE_W | PTE_A | PTE_D);
    }
    return;
  }
  if (access === "exec") {
    mm.pt.setNx(i, false);
    mm.oweFlush();
    return;
  }
  mm.oweFlush(); // a stale TLB entry: flush and retry
}

/**
 * Gives this process its own copy of the page at `page` (cf. wp_page_copy):
 * the host mapping there is MAP_PRIVATE over the page cache, so writing a
 * byte to it makes the host copy the page now, before reclaim could drop the
 * cache page under it.
 */
function privateCopy(mm: Mm, vma: Vma, i: number, page: number): void {
  mm.chargeAnon();
  const b = mm.bytes(page, 1);
  b[0] = b[0];
  mm.setPte(i, page, vma, true, true, true);
  mm.pt.setFlags(i, (mm.pt.lo(i) & 0xfff) | PTE_D);
  mm.sys.counters.privateCopies++;
}

/** Anonymous data kept across PROT_NONE becomes accessible again. */
function restoreAnon(mm: Mm, vma: Vma, i: number, page: number, lo: number): void {
  mm.sys.counters.minorFaults++;
  const writable = (vma.prot & PROT_WRITE) !== 0 && (vma.shared || (lo & PTE_SW_STORE) === 0); // a COW page stays read-only
  mm.pt.setFlags(i, (lo & 0xfff & ~PTE_W) | PTE_P | PTE_U | PTE_A | (writable ? PTE_W : 0));
  mm.pt.setNx(i, mm.nx && (vma.prot & PROT_EXEC) === 0);
}

/** First touch of an anonymous page: host memory there is zero already (cf. do_anonymous_page). */
function anonymousFault(mm: Mm, vma: Vma, i: number, page: number): void {
  if (vma.anonPgoff >= 0) storeAnonFault(mm, vma, page);
  else if (mm.sys.config.hostHugePages) mm.hugeFill.firstTouch(mm.mem, vma, page);
  mm.chargeAnon();
  mm.setPte(i, page, vma, (vma.prot & PROT_WRITE) !== 0, true, true);
  mm.sys.counters.minorFaults++;
  mm.sys.counters.anonPages++;
}

/** A fault on a file page (cf. do_read_fault / do_cow_fault / do_shared_fault). */
function fileFault(mm: Mm, vma: Vma, i: number, page: number, va: number, access: Access, ripOf: () => number): void {
  const mapping = vma.file!;
  const index = vmaPgoff(vma, page);
  const c = mm.sys.counters;
  if (index >= mapping.sizePages) {
    c.signals++;
    throw new GuestSignal("SIGBUS", SIGBUS, ripOf(), access, va, `BUS_ADRERR: page ${index} is past the end of ${mapping.path} (${mapping.size} bytes)`, BUS_ADRERR);
  }
  if (access !== "write" && mm.sys.config.faultAroundPages > 1) {
    faultAround(mm, vma, page);
    if (mm.pt.lo(i) & PTE_P) {
      c.minorFaults++;
      return;
    }
  }
  const { cached, major } = isShmem(mapping) ? { cached: lockedShmemPage(mm, vma, index), major: false } : filemapFault(mm, vma, index, va, access, ripOf);
  try {
    if (major) c.majorFaults++;
    else c.minorFaults++;
    if (access === "write" && !vma.shared) {
      privateCopy(mm, vma, i, page);
      return;
    }
    mm.setPte(i, page, vma, vma.shared && (vma.prot & PROT_WRITE) !== 0, false, true);
    mm.rmapAdd(cached, page);
    if (!vma.shared) mm.sys.pageMapped?.(mm, vma, page, index);
  } finally {
    cached.flags &= ~PG_locked;
  }
}

/** Page `index` of a shmem object, made when absent and returned locked as filemapFault's is (cf. shmem_fault: no readahead, a minor fault). */
function lockedShmemPage(mm: Mm, vma: Vma, index: number): Page {
  const page = shmemGetPage(mm.sys, vma.file!, index);
  page.flags |= PG_locked;
  return page;
}

/**
 * Finds page `index` in the cache or reads it (cf. filemap_fault), and
 * returns it locked (PG_locked: reclaim leaves it alone) so that readahead
 * started here, which may reclaim, cannot drop it before it is mapped.
 * @returns the page, and whether it had to be read (a major fault)
 */
function filemapFault(mm: Mm, vma: Vma, index: number, va: number, access: Access, ripOf: () => number): { cached: Page; major: boolean } {
  const mapping = vma.file!;
  const ra = vma.ra;
  let cached = mapping.pages.get(index);
  let major = false;
  try {
    if (cached) {
      cached.flags |= PG_locked;
      if (cached.flags & PG_readahead) asyncReadahead(mm.sys, mapping, ra, cached);
    } else {
      syncReadahead(mm.sys, mapping, ra, index);
      cached = mapping.pages.get(index);
      if (cached) cached.flags |= PG_locked;
      major = true;
    }
  } catch (e) {
    if (cached) cached.flags &= ~PG_locked;
    if (!(e instanceof FaultlineError) || e.code !== "EIO") throw e;
    mm.sys.counters.signals++;
    throw new GuestSignal("SIGBUS", SIGBUS, ripOf(), access, va, `BUS_ADRERR: ${e.message}`, BUS_ADRERR);
  }
  ra.prevIndex = index;
  if (!cached || (cached.flags & PG_uptodate) === 0) {
    if (cached) cached.flags &= ~PG_locked;
    mm.sys.counters.signals++;
    throw new GuestSignal("SIGBUS", SIGBUS, ripOf(), access, va, `BUS_ADRERR: page ${index} of ${mapping.path} could not be read`, BUS_ADRERR);
  }
  return { cached, major };
}

/**
 * Maps the cached, uptodate pages around `page` whose PTEs are empty
 * (cf. do_fault_around / filemap_map_pages): an aligned window of
 * faultAroundPages, clipped to the VMA, one leaf table and end of file.
 * Pages still carrying PG_readahead are skipped so their hit is seen.
 */
function faultAround(mm: Mm, vma: Vma, page: number): void {
  const span = mm.sys.config.faultAroundPages * PAGE_SIZE;
  const table = 0x200000;
  const start = Math.max(page - (page % span), vma.start, page - (page % table));
  let end = Math.min(start + span, vma.end, page - (page % table) + table);
  const mapping = vma.file!;
  end = Math.min(end, vma.start + (mapping.sizePages - vma.pgoff) * PAGE_SIZE);
  if (start >= end) return;
  const i0 = mm.pt.leaf(start, true);
  const writable = vma.shared && (vma.prot & PROT_WRITE) !== 0;
  for (let va = start, i = i0; va < end; va += PAGE_SIZE, i += 2) {
    if (mm.pt.lo(i) !== 0) continue;
    const cached = mapping.pages.get(vmaPgoff(vma, va));
    if (!cached || (cached.flags & (PG_uptodate | PG_readahead)) !== PG_uptodate) continue;
    mm.setPte(i, va, vma, writable, false, va === page);
    mm.rmapAdd(cached, va);
    if (va !== page) mm.sys.counters.faultAroundMapped++;
    if (!vma.shared) mm.sys.pageMapped?.(mm, vma, va, cached.index);
  }
}
