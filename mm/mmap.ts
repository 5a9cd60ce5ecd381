/**
 * The memory system calls, with Linux's semantics and errno for bad
 * arguments (cf. mm/mmap.c do_mmap/do_munmap/do_brk_flags, mm/mprotect.c,
 * mm/mremap.c, mm/madvise.c, mm/msync.c). Each throws ErrnoError where Linux
 * returns an error; the syscall layer turns that into -errno.
 */
import { fail } from "../lib/errno.js";
import { GuestSignal } from "../lib/errors.js";
import { moveStoreArea, storePage } from "./anon.js";
import { handlePageFault } from "./fault.js";
import { MMAP_BASE, MMAP_MIN_ADDR, PAGE_SIZE, TASK_SIZE, isPageAligned, pageAlignUp } from "./layout.js";
import type { Mm } from "./mm.js";
import { PG_dirty, type AddressSpace } from "./page-cache.js";
import { PTE_A, PTE_P, PTE_SW_ANON, PTE_SW_GUARD, PTE_SW_STORE, PTE_W } from "./page-table.js";
import { writebackPage } from "./reclaim.js";
import { releaseShmem, shmemZeroSetup } from "./shmem.js";
import { punchPagecache } from "./truncate.js";
import { PROT_EXEC, PROT_MASK, PROT_WRITE, newVma, vmaPgoff, type HugePageAdvice, type Vma } from "./vma.js";

export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_SHARED_VALIDATE = 0x03, MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_GROWSDOWN = 0x100, MAP_DENYWRITE = 0x800;
export const MAP_EXECUTABLE = 0x1000, MAP_LOCKED = 0x2000, MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000, MAP_STACK = 0x20000, MAP_HUGETLB = 0x40000, MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000, MAP_UNINITIALIZED = 0x4000000;
/** Flags MAP_SHARED accepts silently (cf. LEGACY_MAP_MASK); MAP_SHARED_VALIDATE refuses others. */
const LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE |
  MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB;
export const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
export const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;
export const MADV_DONTNEED = 4, MADV_REMOVE = 9, MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15, MADV_GUARD_INSTALL = 102, MADV_GUARD_REMOVE = 103;
export const MADV_DONTFORK = 10, MADV_DOFORK = 11, MADV_WIPEONFORK = 18, MADV_KEEPONFORK = 19;
const PROT_SEM = 0x8, PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
/** One past the largest file size (cf. MAX_LFS_FILESIZE = 2^63 - 1). */
const LFS_LIMIT = 2 ** 63;
/** Most VMAs a process may have (cf. vm.max_map_count). */
export const MAX_MAP_COUNT = 65530;

/** Splits that mprotect and madvise make are refused at the limit (cf. __split_vma's map_count check). */
const SPLIT_COUNTED = { limit: MAX_MAP_COUNT } as const;

/** An open file as mmap sees it: its page cache and the open mode. */
export interface MmapFile {
  readonly mapping: AddressSpace;
  readonly readable: boolean;
  readonly writable: boolean;
}

/**
 * mmap(2) (cf. ksys_mmap_pgoff + do_mmap + mmap_region).
 * @param file the open file, or null with MAP_ANONYMOUS (the caller turns a bad fd into EBADF)
 * @returns the mapping's start address
 * @throws ErrnoError EINVAL, ENOMEM, EOVERFLOW, EEXIST, EACCES, EPERM, EOPNOTSUPP
 */
export function doMmap(mm: Mm, addr: number, len: number, prot: number, flags: number, file: MmapFile | null, offset: number): number {
  if (offset % PAGE_SIZE !== 0 || offset < 0) fail("EINVAL", "mmap: offset not page-aligned");
  if (len === 0) fail("EINVAL", "mmap: zero length");
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED; // a fixed address, only without replacing
  if (!(flags & MAP_FIXED)) addr = roundHintToMin(addr);
  len = pageAlignUp(len);
  if (len >= 2 ** 64) fail("ENOMEM", "mmap: length overflows when page-aligned");
  const pgoff = offset / PAGE_SIZE;
  if (mm.vmas.count > MAX_MAP_COUNT) fail("ENOMEM", "mmap: too many mappings (vm.max_map_count)"); // cf. do_mmap: '>', not '>=
  const start = unmappedArea(mm, addr, len, flags);
  if (flags & MAP_FIXED_NOREPLACE && mm.vmas.intersecting(start, start + len).length > 0) fail("EEXIST", "mmap: MAP_FIXED_NOREPLACE range is in use");
  const type = flags & MAP_TYPE;
  if (file) checkFileMapping(file, type, prot, flags, offset, len);
  else if (type === MAP_SHARED && flags & MAP_GROWSDOWN) fail("EINVAL", "mmap: shared anonymous mapping cannot grow down");
  else if (type !== MAP_SHARED && type !== MAP_PRIVATE) fail("EINVAL", "mmap: anonymous mapping neither MAP_SHARED nor MAP_PRIVATE");
  const shmem = file === null && type === MAP_SHARED ? shmemFile(mm, len) : null; // cf. shmem_zero_setup
  let vma: Vma;
  try {
    vma = mapRegion(mm, start, len, prot & PROT_MASK, type !== MAP_PRIVATE, file ?? shmem, file ? pgoff : 0, (flags & MAP_GROWSDOWN) !== 0, "",
      { hugePage: flags & MAP_STACK ? "nohuge" : "none" }); // cf. calc_vm_flag_bits: MAP_STACK -> VM_NOHUGEPAGE (Linux 6.7)
  } catch (e) {
    if (shmem) releaseShmem(mm.sys, [shmem.mapping]);
    throw e;
  }
  if (flags & MAP_POPULATE) populate(mm, vma, start, start + len);
  return start;
}

/** A MAP_SHARED anonymous mapping's object, as mmap maps it: a fresh shmem file of `len` bytes. */
function shmemFile(mm: Mm, len: number): MmapFile {
  return { mapping: shmemZeroSetup(mm.sys, len), readable: true, writable: true };
}

/** A non-zero hint below mmap_min_addr is raised to it (cf. round_hint_to_min); zero stays "no hint". */
function roundHintToMin(addr: number): number {
  const hint = addr - (addr % PAGE_SIZE);
  return hint !== 0 && hint < MMAP_MIN_ADDR ? MMAP_MIN_ADDR : hint;
}

/** The open-mode and type checks of a file mapping (cf. do_mmap's switch on MAP_TYPE). */
function checkFileMapping(file: MmapFile, type: number, prot: number, flags: number, offset: number, len: number): void {
  if (offset + len >= LFS_LIMIT) fail("EOVERFLOW", "mmap: offset + length past the largest file size"); // cf. file_mmap_ok
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) fail("EINVAL", "mmap: neither MAP_SHARED nor MAP_PRIVATE");
  if (type === MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_MASK) !== 0) fail("EOPNOTSUPP", "mmap: unknown flags with MAP_SHARED_VALIDATE");
  if (type !== MAP_PRIVATE && prot & PROT_WRITE && !file.writable) fail("EACCES", "mmap: shared writable mapping of a file not open for writing");
  if (!file.readable) fail("EACCES", "mmap: file not open for reading");
}

/**
 * Chooses where a mapping goes (cf. get_unmapped_area): MAP_FIXED takes
 * `addr`; otherwise a free hint is honoured, else top-down from MMAP_BASE.
 */
function unmappedArea(mm: Mm, addr: number, len: number, flags: number): number {
  if (len > TASK_SIZE) fail("ENOMEM", "mmap: length exceeds the address space");
  if (flags & MAP_FIXED) {
    if (addr > TASK_SIZE - len) fail("ENOMEM", "mmap: fixed range past the end of the address space");
    if (!isPageAligned(addr)) fail("EINVAL", "mmap: fixed address not page-aligned");
    if (addr < MMAP_MIN_ADDR) fail("EPERM", "mmap: fixed address below mmap_min_addr");
    return addr;
  }
  if (addr > 0 && addr <= TASK_SIZE - len && mm.vmas.intersecting(addr, addr + len).length === 0) return addr;
  const at = mm.vmas.findFreeTopDown(len, MMAP_MIN_ADDR, MMAP_BASE);
  if (at < 0) fail("ENOMEM", "mmap: no free range that large");
  return at;
}

/**
 * Creates a VMA over [start, start+len), replacing whatever was there
 * (cf. mmap_region), and puts the host memory behind it in place.
 */
export function mapRegion(mm: Mm, start: number, len: number, prot: number, shared: boolean, file: MmapFile | null,
  pgoff: number, growsDown: boolean, name: string, opts: { hugePage?: HugePageAdvice } = {}): Vma {
  unmapRange(mm, start, start + len);
  // The memfd may be shorter than the range: pages past its end are past the
  // file's end too, get no PTE (SIGBUS), and so are never touched on the host.
  if (file) mm.mem.mapFile(start, len, file.mapping.mem.fd, pgoff * PAGE_SIZE, shared);
  const vma = newVma({
    start, end: start + len, prot, shared, file: file ? file.mapping : null, pgoff: file ? pgoff : 0,
    fileWritable: file ? file.writable : false, growsDown, name, hugePage: opts.hugePage ?? "none",
  });
  const merged = mm.vmas.insert(vma);
  mm.settle();
  return merged;
}

/**
 * Faults in every page of [start, end) now (cf. MAP_POPULATE ->
 * __mm_populate with ignore_errors): a PROT_NONE mapping is skipped, and a
 * page that cannot be faulted (past end of file, unreadable) ends the
 * populating without failing the mmap. Running out of memory still kills.
 */
function populate(mm: Mm, vma: Vma, start: number, end: number): void {
  if ((vma.prot & PROT_MASK) === 0) return; // cf. populate_vma_page_range: no access, nothing to fault
  const write = (vma.prot & PROT_WRITE) !== 0 && !vma.shared;
  for (let va = start; va < end; va += PAGE_SIZE) {
    if (vma.file && vmaPgoff(vma, va) >= vma.file.sizePages) break;
    const i = mm.pt.leaf(va, false);
    if (i >= 0 && mm.pt.lo(i) & PTE_P) continue;
    try {
      handlePageFault(mm, va, write ? 2 : 0, () => 0);
    } catch (e) {
      if (e instanceof GuestSignal) return;
      throw e;
    }
  }
}

/**
 * Unmaps everything in [start, end) (cf. do_vmi_munmap); no argument checks.
 * @throws ErrnoError ENOMEM when the range lies strictly inside one area and
 *   the area count is at vm.max_map_count: the split would leave one more
 *   (cf. vms_gather_munmap_vmas; munmap's other splits are not counted)
 */
export function unmapRange(mm: Mm, start: number, end: number): void {
  const first = mm.vmas.findAbove(start);
  if (first === undefined || first.start >= end) return; // nothing mapped there
  if (first.start < start && end < first.end && mm.vmas.count >= MAX_MAP_COUNT) fail("ENOMEM", "munmap: too many mappings to split one (vm.max_map_count)");
  const removed = mm.vmas.isolate(start, end);
  for (const v of removed) {
    mm.zap(v, v.start, v.end);
    // A host mapping of a file or the store, or memory advised huge on the host (whose next touch would take 2 MiB): fresh memory.
    if (v.file || v.anonPgoff >= 0 || mm.mem.advisedHuge(v.start, v.end - v.start)) mm.mem.resetAnon(v.start, v.end - v.start);
    else mm.mem.discard(v.start, v.end - v.start);
    mm.vmas.remove(v);
  }
  mm.settle();
  releaseShmem(mm.sys, removed.map((v) => v.file));
}

/**
 * munmap(2).
 * @throws ErrnoError EINVAL for an unaligned or out-of-range request
 */
export function doMunmap(mm: Mm, start: number, len: number): void {
  if (!isPageAligned(start) || start > TASK_SIZE || len > TASK_SIZE - start) fail("EINVAL", "munmap: bad range");
  len = pageAlignUp(len);
  if (len === 0) fail("EINVAL", "munmap: zero length");
  unmapRange(mm, start, start + len);
}

/**
 * Walks `pieces` (the VMAs isolated in [start, end), in order) and calls fn
 * on each; a hole stops the walk with ENOMEM after the pieces before it were
 * done, as Linux does.
 */
function eachCovering(pieces: readonly Vma[], start: number, end: number, what: string, fn: (v: Vma) => void): void {
  let at = start;
  for (const v of pieces) {
    if (v.start > at) break;
    fn(v);
    at = v.end;
  }
  if (at < end) fail("ENOMEM", `${what}: range not fully mapped`);
}

/**
 * mprotect(2) (cf. do_mprotect_pkey + change_protection).
 * @throws ErrnoError EINVAL, ENOMEM, EACCES
 */
export function doMprotect(mm: Mm, start: number, len: number, prot: number): void {
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) fail("EINVAL", "mprotect: both GROWSDOWN and GROWSUP");
  if (!isPageAligned(start)) fail("EINVAL", "mprotect: address not page-aligned");
  if (len === 0) return;
  let end = start + pageAlignUp(len);
  if (end >= 2 ** 64 || end <= start) fail("ENOMEM", "mprotect: range wraps");
  if (prot & ~(PROT_MASK | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP)) fail("EINVAL", "mprotect: unknown protection bits");
  const want = prot & PROT_MASK;
  const first = mm.vmas.findAbove(start);
  if (!first || first.start >= end) fail("ENOMEM", "mprotect: address not mapped");
  if (grows & PROT_GROWSDOWN) {
    if (!first.growsDown) fail("EINVAL", "mprotect: PROT_GROWSDOWN on a mapping that does not grow down");
    start = first.start; // cf. do_mprotect_pkey: the whole stack VMA from its start
  } else {
    if (first.start > start) fail("ENOMEM", "mprotect: address not mapped");
    if (grows & PROT_GROWSUP) fail("EINVAL", "mprotect: PROT_GROWSUP (no mapping grows up on x86-64)");
  }
  // A split refused at the limit fails before any change, and leaves what was split split (cf. vma_modify).
  const pieces = mm.vmas.isolate(start, end, SPLIT_COUNTED);
  try {
    eachCovering(pieces, start, end, "mprotect", (v) => {
      if (v.shared && v.file && want & PROT_WRITE && !v.fileWritable) fail("EACCES", "mprotect: shared mapping of a file not open for writing");
      changeProtection(mm, v, want);
    });
  } finally {
    mm.vmas.mergeRange(start, end);
    mm.settle();
  }
}

/** Applies `prot` to a whole VMA and its present PTEs (cf. change_pte_range). */
function changeProtection(mm: Mm, v: Vma, prot: number): void {
  const reduced = (v.prot & ~prot) !== 0;
  if (v.prot & PROT_EXEC && !(prot & PROT_EXEC)) mm.dropCode(v.start, v.end); // while still fetchable
  v.prot = prot;
  const pt = mm.pt;
  const nx = mm.nx && (prot & PROT_EXEC) === 0;
  pt.forEach(v.start, v.end, (va, i) => {
    const lo = pt.lo(i);
    if (lo & PTE_SW_GUARD) return; // guard markers survive mprotect
    const anon = (lo & PTE_SW_ANON) !== 0;
    if (prot === 0) {
      if (anon) pt.setFlags(i, lo & 0xfff & ~(PTE_P | PTE_W));
      else mm.zap(v, va, va + PAGE_SIZE);
      return;
    }
    if (!(lo & PTE_P)) return; // PROT_NONE'd anon data: the next fault restores it
    const cow = (lo & PTE_SW_STORE) !== 0 && !v.shared; // shared with another process: the first write copies
    const writable = (prot & PROT_WRITE) !== 0 && ((anon && !cow) || v.shared);
    pt.setFlags(i, (lo & 0xfff & ~PTE_W) | (writable ? PTE_W : 0));
    pt.setNx(i, nx);
  });
  if (reduced) mm.oweFlush();
}

/**
 * brk(2) (cf. sys_brk): moves the program break; on failure the old break
 * is returned, as Linux does.
 * @returns the break now in force
 */
export function doBrk(mm: Mm, newBrk: number): number {
  if (newBrk < mm.brkStart) return mm.brk;
  const oldEnd = pageAlignUp(mm.brk), newEnd = pageAlignUp(newBrk);
  if (newEnd === oldEnd) {
    mm.brk = newBrk;
    return mm.brk;
  }
  if (newEnd < oldEnd) {
    unmapRange(mm, newEnd, oldEnd);
    mm.brk = newBrk;
    return mm.brk;
  }
  const next = mm.vmas.findAbove(oldEnd);
  if (newEnd > TASK_SIZE || (next && next.start < newEnd + PAGE_SIZE)) return mm.brk;
  if (mm.vmas.count > MAX_MAP_COUNT) return mm.brk; // cf. do_brk_flags
  const heap = newVma({ start: oldEnd, end: newEnd, prot: PROT_MASK & ~PROT_EXEC, shared: false, file: null, pgoff: 0,
    fileWritable: false, growsDown: false, name: "[heap]" });
  mm.vmas.insert(heap);
  mm.brk = newBrk;
  return mm.brk;
}

/**
 * mremap(2) (cf. mm/mremap.c): shrink in place, grow in place, or move.
 * @returns the mapping's (possibly new) address
 * @throws ErrnoError EINVAL, EFAULT, ENOMEM
 */
export function doMremap(mm: Mm, old: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) fail("EINVAL", "mremap: unknown flags");
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) fail("EINVAL", "mremap: MREMAP_FIXED without MREMAP_MAYMOVE");
  if (flags & MREMAP_DONTUNMAP && (!(flags & MREMAP_MAYMOVE) || oldLen !== newLen)) fail("EINVAL", "mremap: MREMAP_DONTUNMAP needs MAYMOVE and equal lengths");
  if (!isPageAligned(old)) fail("EINVAL", "mremap: old address not page-aligned");
  oldLen = wrap64(pageAlignUp(oldLen));
  newLen = wrap64(pageAlignUp(newLen));
  if (newLen === 0) fail("EINVAL", "mremap: zero new length");
  const vma = mm.vmas.find(old);
  if (!vma) fail("EFAULT", "mremap: old address not mapped");
  if (flags & MREMAP_DONTUNMAP) fail("EINVAL", "mremap: MREMAP_DONTUNMAP is not supported");
  if (flags & MREMAP_FIXED) return mremapTo(mm, old, oldLen, newLen, newAddr);
  if (oldLen >= newLen) {
    if (oldLen > newLen) doMunmap(mm, old + newLen, oldLen - newLen);
    return old;
  }
  resizable(mm, old, oldLen);
  if (oldLen === 0) return duplicateShared(mm, vma, old, newLen, flags);
  const end = old + newLen;
  if (old + oldLen === vma.end && end <= TASK_SIZE && mm.vmas.intersecting(vma.end, end).length === 0) {
    growInPlace(mm, vma, end);
    return old;
  }
  if (!(flags & MREMAP_MAYMOVE)) fail("ENOMEM", "mremap: cannot grow in place and MREMAP_MAYMOVE not given");
  const to = mm.vmas.findFreeTopDown(newLen, MMAP_MIN_ADDR, MMAP_BASE);
  if (to < 0) fail("ENOMEM", "mremap: no free range that large");
  return moveMapping(mm, vma, old, oldLen, newLen, to);
}

/**
 * A move may split the old area into three before unmapping it: refused
 * near the limit (cf. move_vma: map_count >= sysctl_max_map_count - 3).
 * @throws ErrnoError ENOMEM
 */
function checkMoveCount(mm: Mm): void {
  if (mm.vmas.count >= MAX_MAP_COUNT - 3) fail("ENOMEM", "mremap: too many mappings to move one (vm.max_map_count)");
}

/** A length as the kernel's unsigned arithmetic sees it: 2^64 and above wrap. */
function wrap64(n: number): number {
  return n >= 2 ** 64 ? n - 2 ** 64 : n;
}

/**
 * mremap with old_len 0 on a shared mapping: a second mapping of the same
 * pages (cf. the old_len == 0 case of mremap). File-backed only here.
 */
function duplicateShared(mm: Mm, vma: Vma, old: number, newLen: number, flags: number): number {
  if (!(flags & MREMAP_MAYMOVE)) fail("ENOMEM", "mremap: duplicating needs MREMAP_MAYMOVE");
  if (!vma.file) fail("EINVAL", "mremap: duplicating shared anonymous memory is not supported");
  checkMoveCount(mm);
  const to = mm.vmas.findFreeTopDown(newLen, MMAP_MIN_ADDR, MMAP_BASE);
  if (to < 0) fail("ENOMEM", "mremap: no free range that large");
  const file = { mapping: vma.file, readable: true, writable: vma.fileWritable };
  mapRegion(mm, to, newLen, vma.prot, true, file, vmaPgoff(vma, old), vma.growsDown, "");
  return to;
}

/** The VMA holding all of [old, old+oldLen) (cf. vma_to_resize). */
function resizable(mm: Mm, old: number, oldLen: number): Vma {
  const vma = mm.vmas.find(old);
  if (!vma || oldLen > vma.end - old) fail("EFAULT", "mremap: old range is not one mapping");
  if (oldLen === 0 && !vma.shared) fail("EINVAL", "mremap: old_len 0 on a private mapping");
  return vma;
}

/** mremap with MREMAP_FIXED (cf. mremap_to). */
function mremapTo(mm: Mm, old: number, oldLen: number, newLen: number, to: number): number {
  if (!isPageAligned(to)) fail("EINVAL", "mremap: new address not page-aligned");
  if (newLen > TASK_SIZE || to > TASK_SIZE - newLen) fail("EINVAL", "mremap: new range out of the address space");
  if (to < old + oldLen && old < to + newLen) fail("EINVAL", "mremap: old and new ranges overlap");
  const vma0 = resizable(mm, old, oldLen); // fail before unmapping anything at the target
  if (oldLen === 0) return duplicateAt(mm, vma0, old, newLen, to);
  unmapRange(mm, to, to + newLen);
  if (oldLen > newLen) {
    doMunmap(mm, old + newLen, oldLen - newLen);
    oldLen = newLen;
  }
  const vma = resizable(mm, old, oldLen);
  return moveMapping(mm, vma, old, oldLen, newLen, to);
}

/** duplicateShared at a fixed address. */
function duplicateAt(mm: Mm, vma: Vma, old: number, newLen: number, to: number): number {
  if (!vma.file) fail("EINVAL", "mremap: duplicating shared anonymous memory is not supported");
  checkMoveCount(mm);
  mapRegion(mm, to, newLen, vma.prot, true, { mapping: vma.file, readable: true, writable: vma.fileWritable }, vmaPgoff(vma, old), vma.growsDown, "");
  return to;
}

/** Extends `vma` to `end`, mapping the file further when it is a file mapping. */
function growInPlace(mm: Mm, vma: Vma, end: number): void {
  if (vma.file) mm.mem.mapFile(vma.end, end - vma.end, vma.file.mem.fd, vmaPgoff(vma, vma.end) * PAGE_SIZE, vma.shared);
  mm.vmas.setEnd(vma, end);
}

/**
 * Moves [old, old+oldLen) of `vma` to `to` and sizes it to newLen (cf.
 * move_vma + move_page_tables): host pages move without copying, PTEs move
 * with them, the reverse map follows.
 */
function moveMapping(mm: Mm, vma: Vma, old: number, oldLen: number, newLen: number, to: number): number {
  checkMoveCount(mm);
  const [piece] = mm.vmas.isolate(old, old + oldLen);
  if (piece.anonPgoff >= 0) moveStoreArea(mm, piece, old, to, oldLen);
  else mm.mem.move(old, to, oldLen);
  const moved = newVma({ ...piece, start: to, end: to + oldLen });
  movePtes(mm, piece, old, to, oldLen);
  mm.vmas.remove(piece);
  mm.vmas.insert(moved);
  const target = mm.vmas.find(to)!;
  if (newLen > oldLen) growInPlace(mm, target, to + newLen);
  mm.vmas.mergeRange(to, to + newLen);
  mm.settle();
  return to;
}

/** Moves the PTEs of [from, from+len) to [to, to+len), keeping their flags. */
function movePtes(mm: Mm, vma: Vma, from: number, to: number, len: number): void {
  const pt = mm.pt;
  const moves: [number, number][] = [];
  if (vma.prot & PROT_EXEC) mm.dropCode(from, from + len);
  pt.forEach(from, from + len, (va, i) => moves.push([va, pt.lo(i)]));
  for (const [va, lo] of moves) {
    const i = pt.leaf(va, false);
    pt.clear(i);
    const nva = to + (va - from);
    const j = pt.leaf(nva, true);
    if (lo & PTE_P) {
      mm.setPte(j, nva, vma, (lo & PTE_W) !== 0, (lo & PTE_SW_ANON) !== 0, (lo & PTE_A) !== 0);
      pt.setFlags(j, lo & 0xfff);
      const page = (lo & PTE_SW_ANON) === 0 ? mm.filePage(vma, va) : undefined;
      if (page) {
        mm.rmapRemove(page, va);
        mm.rmapAdd(page, nva);
      }
      if (lo & PTE_SW_STORE) moveStoreMapper(mm, vma, va, nva);
    } else {
      if (lo & PTE_SW_STORE) moveStoreMapper(mm, vma, va, nva);
      pt.set(j, nva, lo & 0xfff, false); // PROT_NONE'd anonymous data
    }
  }
  mm.oweFlush();
}

/** The reverse-map entry of a store page follows its PTE from `va` to `nva` (the page keeps its slot). */
function moveStoreMapper(mm: Mm, vma: Vma, va: number, nva: number): void {
  const entry = storePage(mm, vma, va).rmap.find((r) => r.mm === mm && r.va === va);
  if (entry) entry.va = nva;
}

/**
 * madvise(2) (cf. do_madvise). MADV_DONTNEED drops pages (anonymous ones
 * read as zero afterwards, private file pages as the file); other known
 * advice is accepted as a hint.
 * @throws ErrnoError EINVAL, ENOMEM
 */
export function doMadvise(mm: Mm, start: number, len: number, advice: number): void {
  if (!isPageAligned(start)) fail("EINVAL", "madvise: address not page-aligned");
  if (!KNOWN_ADVICE.has(advice)) fail("EINVAL", `madvise: unknown advice ${advice}`);
  const alen = wrap64(pageAlignUp(len));
  if (len > 0 && alen === 0) fail("EINVAL", "madvise: length overflows");
  const end = start + alen;
  if (end >= 2 ** 64) fail("EINVAL", "madvise: range wraps");
  if (end === start) return;
  let hole = false;
  let at = start;
  const pieces = mm.vmas.isolate(start, end, SPLIT_COUNTED);
  try {
    for (const v of pieces) {
      if (v.start > at) hole = true;
      adviseOne(mm, v, advice);
      at = v.end;
    }
  } finally {
    mm.vmas.mergeRange(start, end);
    mm.settle();
  }
  if (hole || at < end) fail("ENOMEM", "madvise: range not fully mapped");
}

/** Applies one advice to a whole (isolated) VMA (cf. madvise_vma_behavior). */
function adviseOne(mm: Mm, v: Vma, advice: number): void {
  switch (advice) {
    case MADV_DONTNEED:
      mm.zap(v, v.start, v.end, { keepGuards: true });
      mm.mem.discard(v.start, v.end - v.start);
      return;
    case MADV_REMOVE:
      if (!v.file) fail("EINVAL", "madvise: MADV_REMOVE needs a file mapping");
      if (!v.shared || !v.fileWritable) fail("EACCES", "madvise: MADV_REMOVE needs a shared writable mapping");
      punchPagecache(mm.sys, v.file, vmaPgoff(v, v.start), vmaPgoff(v, v.end));
      return;
    case MADV_GUARD_INSTALL:
      mm.zap(v, v.start, v.end);
      if (!v.file) mm.mem.discard(v.start, v.end - v.start);
      mm.guard(v.start, v.end, true);
      return;
    case MADV_GUARD_REMOVE:
      mm.guard(v.start, v.end, false);
      return;
    case MADV_DONTFORK:
    case MADV_DOFORK:
      v.dontCopy = advice === MADV_DONTFORK;
      return;
    case MADV_WIPEONFORK:
      if (v.file || v.shared) fail("EINVAL", "madvise: MADV_WIPEONFORK needs private anonymous memory");
      v.wipeOnFork = true;
      return;
    case MADV_KEEPONFORK:
      v.wipeOnFork = false;
      return;
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
      v.hugePage = advice === MADV_HUGEPAGE ? "huge" : "nohuge"; // cf. hugepage_madvise
      return;
    default:
      return; // a hint: accepted, nothing to do
  }
}

/** Advice values Linux 6.x accepts (cf. madvise_behavior_valid). */
const KNOWN_ADVICE = new Set([0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 100, 101, 102, 103]);

/**
 * msync(2) (cf. sys_msync): MS_SYNC writes the dirty pages of shared file
 * mappings in the range back through ->writepage; MS_ASYNC only records
 * which are dirty.
 * @throws ErrnoError EINVAL, ENOMEM
 */
export function doMsync(mm: Mm, start: number, len: number, flags: number): void {
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) fail("EINVAL", "msync: unknown flags");
  if (!isPageAligned(start)) fail("EINVAL", "msync: address not page-aligned");
  if (flags & MS_ASYNC && flags & MS_SYNC) fail("EINVAL", "msync: both MS_ASYNC and MS_SYNC");
  const end = start + wrap64(pageAlignUp(len));
  if (end >= 2 ** 64) fail("ENOMEM", "msync: range wraps");
  if (end === start) return;
  let at = start;
  for (const v of mm.vmas.intersecting(start, end)) {
    if (v.start > at) break;
    at = v.end;
    if (!v.shared || !v.file) continue;
    const lo = Math.max(start, v.start), hi = Math.min(end, v.end);
    mm.harvestDirty(v, lo, hi);
    mm.settle();
    if (!(flags & MS_SYNC)) continue;
    for (let index = vmaPgoff(v, lo); index < vmaPgoff(v, hi); index++) {
      const p = v.file.pages.get(index);
      if (p && p.flags & PG_dirty) writebackPage(mm.sys, p);
    }
  }
  if (at < end) fail("ENOMEM", "msync: range not fully mapped");
}
