/**
 * mm/: a Linux-like memory manager under the engine. This file is its whole
 * public surface; see mm/README.md for the design and the fault path.
 */
export { AnonPage, AnonStore, unshareAnonPage } from "./anon.js";
export type { Mmu } from "./arch.js";
export type { AddressSpaceOperations } from "./aops.js";
export { hostFileAops } from "./aops.js";
export { MmCounters } from "./counters.js";
export { handlePageFault, accessOf, protString, STACK_LIMIT, type Access } from "./fault.js";
export * from "./layout.js";
export { dupMmap } from "./fork.js";
export { futexKey, sameFutexKey, type FutexKey } from "./futex-key.js";
export { Mm } from "./mm.js";
export {
  doMmap, doMunmap, doMprotect, doBrk, doMremap, doMadvise, doMsync, mapRegion, unmapRange,
  MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_FIXED, MAP_ANONYMOUS, MAP_GROWSDOWN, MAP_POPULATE,
  MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_STACK, MREMAP_MAYMOVE, MREMAP_FIXED, MS_ASYNC, MS_SYNC, MS_INVALIDATE,
  MADV_DONTNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK, MAX_MAP_COUNT, type MmapFile,
} from "./mmap.js";
export {
  AddressSpace, Page, PG_uptodate, PG_dirty, PG_referenced, PG_readahead, PG_active, PG_unevictable, newReadaheadState, type ReadaheadState,
} from "./page-cache.js";
export { readWindow } from "./readahead.js";
export { PTE_P, PTE_W, PTE_A, PTE_D, PTE_U, PTE_SW_ANON, PTE_SW_STORE } from "./page-table.js";
export { initWindow, nextWindow } from "./readahead.js";
export { shrinkPageCache, evictPage, writebackPage } from "./reclaim.js";
export { truncatePagecache, punchPagecache } from "./truncate.js";
export { filemapRead, filemapWrite } from "./filemap.js";
export { MemSystem, DEFAULT_CONFIG, MIN_RAM_PAGES, RamLimitError, type MmConfig } from "./system.js";
export { bytesFromUser, copyFromUser, copyToUser, userBytes, stringFromUser, faultIn, faultInPrefix, accessOk, USER_COPY_MAX } from "./uaccess.js";
export { PROT_READ, PROT_WRITE, PROT_EXEC, vmaPgoff, type Vma } from "./vma.js";
