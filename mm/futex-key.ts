/**
 * Futex keys (cf. kernel/futex/core.c get_futex_key): what identifies the
 * 32-bit word a futex waits on, so that a wake through any mapping of the
 * same memory finds the waiters.
 *
 *   private (FUTEX_PRIVATE_FLAG)                          ->  (the Mm, the address)
 *   shared, in a private mapping                          ->  (the Mm, the address), marked mmShared: another
 *                                                             word than the private one (cf. FUT_OFF_MMSHARED),
 *                                                             so a private wake does not reach a shared waiter
 *   shared, in a MAP_SHARED mapping of a file or of shared anonymous memory (shmem)
 *                                                         ->  (its AddressSpace, the byte offset in it)
 *
 * A shared key names the page-cache object, not a page, so it holds across
 * fork, across processes that map the same file at different addresses,
 * and across reclaim of the page (Linux keys shared futexes by inode and
 * offset for the same reason).
 */
import { fail } from "../lib/errno.js";
import { TASK_SIZE } from "./layout.js";
import type { Mm } from "./mm.js";
import { PROT_READ, PROT_WRITE } from "./vma.js";
import type { AddressSpace } from "./page-cache.js";

/** Identifies a futex word. Two keys name the same word when `base` is the same object and `offset` and `mmShared` are equal. */
export interface FutexKey {
  /** The Mm (private and mm-shared keys) or the AddressSpace (shared mapping) the word lies in. */
  readonly base: Mm | AddressSpace;
  /** The address (Mm keys) or the byte offset in the object (AddressSpace keys). */
  readonly offset: number;
  /** A shared futex in private memory (cf. FUT_OFF_MMSHARED); false for the other two kinds. */
  readonly mmShared: boolean;
}

/**
 * The key of the futex word at `addr` of `mm` (cf. get_futex_key).
 * @param shared false for FUTEX_PRIVATE_FLAG: the key is (mm, addr) without looking at the mapping
 *   (so a private wake of an unmapped word wakes nobody, as Linux's does)
 * @throws ErrnoError EINVAL when `addr` is not 4-byte aligned, EFAULT when it is not a user address
 *   or (shared) no area maps it
 */
export function futexKey(mm: Mm, addr: number, shared: boolean): FutexKey {
  if (addr % 4 !== 0) fail("EINVAL", `futex: address 0x${addr.toString(16)} is not 4-byte aligned`);
  if (addr + 4 > TASK_SIZE) fail("EFAULT", `futex: address 0x${addr.toString(16)} is not a user address`); // cf. access_ok
  if (!shared) return { base: mm, offset: addr, mmShared: false };
  const v = mm.vmas.find(addr);
  // cf. get_futex_key's get_user_pages_fast: no page to pin is EFAULT; so is a read-only anonymous one
  if (v === undefined || (v.prot & (PROT_READ | PROT_WRITE)) === 0) fail("EFAULT", `futex: no accessible mapping at 0x${addr.toString(16)}`);
  if (v.shared && v.file !== null) return { base: v.file, offset: v.pgoff * 4096 + (addr - v.start), mmShared: false };
  if (v.file === null && (v.prot & PROT_WRITE) === 0) fail("EFAULT", `futex: a shared futex on a read-only anonymous page at 0x${addr.toString(16)}`);
  return { base: mm, offset: addr, mmShared: true };
}

/** Whether two keys name the same word (cf. match_futex). */
export function sameFutexKey(a: FutexKey, b: FutexKey): boolean {
  return a.base === b.base && a.offset === b.offset && a.mmShared === b.mmShared;
}
