/**
 * Shared anonymous memory as Linux makes it: one object, a shmem inode
 * with its own page cache, behind every VMA of a MAP_SHARED|MAP_ANONYMOUS
 * mapping (cf. mm/shmem.c shmem_zero_setup, shmem_fault, shmem_get_folio).
 *
 * mmap gives the area an AddressSpace of its own, sized to the mapping and
 * named "/dev/zero (deleted)" (what /proc/PID/maps shows), and from then on
 * the area is a MAP_SHARED file mapping of it: fork maps the same object in
 * the child, so a fault in any process of the family, before or after any
 * fork, finds the page by (object, offset) or makes it there. munmap,
 * MADV_DONTNEED (drops the mapping only: the data stays in the object),
 * MADV_REMOVE (frees it), mremap (growing past the object's size gives
 * SIGBUS, as on Linux) and msync follow the file paths. There is no swap:
 * the pages are PG_unevictable. The object goes when its last VMA in any
 * process goes (releaseShmem(), cf. the file's last fput).
 */
import { FaultlineError } from "../lib/errors.js";
import type { AddressSpaceOperations } from "./aops.js";
import { pageAlignUp } from "./layout.js";
import { AddressSpace, Page, PG_uptodate, PG_unevictable } from "./page-cache.js";
import type { MemSystem } from "./system.js";

/** The device shmem inodes report (cf. the shm_mnt superblock: 00:01 on Linux 6.x). */
export const SHMEM_DEV = 1;
/** The name of a shared anonymous mapping's object (cf. shmem_zero_setup's "dev/zero" file, unlinked). */
export const SHMEM_ZERO_PATH = "/dev/zero (deleted)";

/**
 * The vtable of a shmem object: a page not yet in the object is zeros (its
 * memfd range is a hole), and there is nowhere to write it back (no swap),
 * so there is no writepage and pages are never evicted.
 */
const shmemAops: AddressSpaceOperations = {
  readpage(_mapping, page) {
    page.flags |= PG_unevictable;
  },
};

/** Whether `mapping` is a shmem object (no host file behind it). */
export function isShmem(mapping: AddressSpace | null): boolean {
  return mapping !== null && mapping.hostFd < 0;
}

/**
 * A fresh shmem object of `len` bytes for a MAP_SHARED anonymous mapping
 * (cf. shmem_zero_setup -> shmem_kernel_file_setup): its inode number is
 * the system's next one, and it is registered in sys.shmem until released.
 * @throws HostError when the host cannot make the memfd
 */
export function shmemZeroSetup(sys: MemSystem, len: number): AddressSpace {
  const ino = ++sys.shmemInodes;
  const as = new AddressSpace(`${SHMEM_DEV}:${ino}`, SHMEM_ZERO_PATH, -1, true, pageAlignUp(len));
  as.setAops(shmemAops);
  sys.shmem.add(as);
  return as;
}

/**
 * The page at `index` of shmem object `mapping`, made (zero, charged as a
 * page-cache page, unevictable) when absent (cf. shmem_get_folio with
 * SGP_CACHE). Precondition: index is below the object's size.
 * @throws OutOfMemoryError when the RAM limit has no room
 */
export function shmemGetPage(sys: MemSystem, mapping: AddressSpace, index: number): Page {
  const known = mapping.pages.get(index);
  if (known) return known;
  sys.reserve(1, "file");
  const page = new Page(mapping, index);
  page.flags |= PG_uptodate | PG_unevictable;
  sys.addPage(page);
  return page;
}

/**
 * Frees every shmem object among `objects` (the files of removed VMAs; others
 * are skipped) that no live address space maps any more (cf. the last fput
 * of the shmem file -> shmem_evict_inode): its pages leave the cache and the
 * RAM charge, its memfd is closed. Call after the VMAs were removed (munmap)
 * or their address space left sys.mms (exit, execve).
 * @throws FaultlineError ESHMEM when a page of a freed object is still mapped (a bug)
 */
export function releaseShmem(sys: MemSystem, objects: Iterable<AddressSpace | null>): void {
  const candidates = new Set<AddressSpace>();
  for (const as of objects) if (as && sys.shmem.has(as)) candidates.add(as);
  if (candidates.size === 0) return;
  for (const mm of sys.mms) {
    for (const v of mm.vmas.all()) if (v.file) candidates.delete(v.file);
    if (candidates.size === 0) return;
  }
  for (const as of candidates) {
    for (const page of [...as.pages.values()]) {
      if (page.rmap.length > 0) throw new FaultlineError("ESHMEM", `shmem page ${page.index} still mapped when its object is freed`);
      sys.dropPage(page);
    }
    sys.shmem.delete(as);
    as.close();
  }
}
