/**
 * Access to guest memory on the guest's behalf (cf. copy_from_user,
 * copy_to_user, strncpy_from_user): every page is faulted in through the
 * normal fault path first, with the access kind the copy needs, so a
 * system call's write into a private file page makes its private copy and a
 * bad pointer becomes EFAULT, never a host crash.
 */
import { fail } from "../lib/errno.js";
import { FaultlineError, GuestSignal } from "../lib/errors.js";
import { HOST_VIEW_CHUNK } from "../lib/hostmem.js";
import { handlePageFault } from "./fault.js";
import { PAGE_SIZE, TASK_SIZE } from "./layout.js";
import type { Mm } from "./mm.js";
import { PTE_P, PTE_W } from "./page-table.js";
import { PROT_READ } from "./vma.js";

/**
 * Most bytes one copyFromUser may move (and so allocate): larger transfers
 * go through the guest's memory in steps of this size (cf. the page-sized
 * steps of copy_page_to_iter), so a huge length never costs host memory.
 */
export const USER_COPY_MAX = 1 << 20;

/**
 * Whether [va, va+len) lies in user space at all (cf. access_ok): checked
 * before any page is touched, so an absurd range fails at once.
 */
export function accessOk(va: number, len: number): boolean {
  return len === 0 || (va >= 0 && len > 0 && va + len <= TASK_SIZE);
}

/**
 * Faults in [va, va+len) page by page, for reading or (when `write`) for
 * writing, and stops at the first page that cannot be made so.
 * @returns how many bytes from va are accessible (len when all are; 0 when
 *   the first page is not, or the range is outside user space)
 * @throws OutOfMemoryError when anonymous memory exceeds the RAM limit
 */
export function faultInPrefix(mm: Mm, va: number, len: number, write: boolean): number {
  if (len === 0) return 0;
  if (!accessOk(va, len)) return 0;
  const need = write ? PTE_P | PTE_W : PTE_P;
  for (let p = va - (va % PAGE_SIZE); p < va + len; p += PAGE_SIZE) {
    const i = mm.pt.leaf(p, false);
    if (i >= 0 && (mm.pt.lo(i) & need) === need) continue;
    if (!write && (i < 0 || mm.pt.lo(i) === 0) && readsAsZero(mm, p)) continue;
    try {
      handlePageFault(mm, p, write ? 2 : 0, () => 0);
    } catch (e) {
      if (e instanceof GuestSignal) return Math.max(0, p - va);
      throw e;
    }
  }
  return len;
}

/**
 * Whether the never-touched page at `va` may be read in place: a private
 * anonymous, readable area, whose bytes live in the process's reservation
 * (zeros until first written). Linux maps the shared zero page for such a
 * read (cf. do_anonymous_page without FAULT_FLAG_WRITE); faulting it in
 * would instead charge a page against the RAM limit for every 4 KiB a
 * write() of an untouched buffer sends.
 */
function readsAsZero(mm: Mm, va: number): boolean {
  const vma = mm.vmas.find(va);
  // (Not in an area whose pages went to the store: its host page there may be another process's.)
  return vma !== undefined && vma.file === null && !vma.shared && vma.anonPgoff < 0 && (vma.prot & PROT_READ) !== 0;
}

/**
 * Makes [va, va+len) accessible for reading, or writing when `write`.
 * @throws ErrnoError EFAULT when any page cannot be made so
 */
export function faultIn(mm: Mm, va: number, len: number, write: boolean): void {
  if (len === 0) return;
  if (faultInPrefix(mm, va, len, write) < len) fail("EFAULT", `bad user address range 0x${va.toString(16)}+${len}`);
}

/**
 * Copies guest [va, va+len) out.
 * Precondition: len <= USER_COPY_MAX (larger transfers go in steps).
 * @throws ErrnoError EFAULT; FaultlineError E2BIG for a length over the bound (a caller's bug)
 */
export function copyFromUser(mm: Mm, va: number, len: number): Uint8Array {
  if (!accessOk(va, len)) fail("EFAULT", `bad user address 0x${va.toString(16)}`);
  if (len > USER_COPY_MAX) throw new FaultlineError("E2BIG", `copyFromUser of ${len} bytes: over the ${USER_COPY_MAX}-byte bound`);
  faultIn(mm, va, len, false);
  return readAcrossChunks(mm, va, len);
}

/** Copies `data` into guest memory at va. @throws ErrnoError EFAULT */
export function copyToUser(mm: Mm, va: number, data: Uint8Array): void {
  if (!accessOk(va, data.length)) fail("EFAULT", `bad user address 0x${va.toString(16)}`);
  faultIn(mm, va, data.length, true);
  let done = 0;
  while (done < data.length) {
    const n = Math.min(data.length - done, HOST_VIEW_CHUNK - ((va + done) % HOST_VIEW_CHUNK));
    mm.bytes(va + done, n).set(data.subarray(done, done + n));
    done += n;
  }
}

/**
 * Guest [va, va+len) in place: faults it in for reading, or writing when
 * `write` (as copyFromUser/copyToUser do), then returns a view of the host
 * memory behind it (no copy), for a caller that moves a small structure
 * field by field (the signal frame). Undefined when the range is not one
 * host view (it crosses a HOST_VIEW_CHUNK bound): then copy it.
 * @throws ErrnoError EFAULT
 */
export function userBytes(mm: Mm, va: number, len: number, write: boolean): Uint8Array | undefined {
  if (!accessOk(va, len)) fail("EFAULT", `bad user address 0x${va.toString(16)}`);
  faultIn(mm, va, len, write);
  return Math.floor(va / HOST_VIEW_CHUNK) === Math.floor((va + len - 1) / HOST_VIEW_CHUNK) ? mm.bytes(va, len) : undefined;
}

function readAcrossChunks(mm: Mm, va: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const n = Math.min(len - done, HOST_VIEW_CHUNK - ((va + done) % HOST_VIEW_CHUNK));
    out.set(mm.bytes(va + done, n), done);
    done += n;
  }
  return out;
}

/**
 * Reads a NUL-terminated string of at most `max` bytes (cf. strncpy_from_user).
 * @throws ErrnoError EFAULT, or ENAMETOOLONG when no NUL comes within max
 */
export function stringFromUser(mm: Mm, va: number, max = 4096): string {
  const bytes: number[] = [];
  for (let p = va; p < va + max; ) {
    const pageEnd = Math.min(p - (p % PAGE_SIZE) + PAGE_SIZE, va + max);
    const chunk = copyFromUser(mm, p, pageEnd - p);
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      for (let k = 0; k < nul; k++) bytes.push(chunk[k]);
      return Buffer.from(bytes).toString("utf8");
    }
    for (const b of chunk) bytes.push(b);
    p = pageEnd;
  }
  return fail("ENAMETOOLONG", "string from user too long");
}

/**
 * Reads a NUL-terminated string's bytes, without the NUL, of at most `max`
 * bytes including it (cf. strncpy_from_user): names are bytes, nothing is
 * decoded. Reads page by page, so a string ending just before an unmapped
 * page is fine.
 * @throws ErrnoError EFAULT, or ENAMETOOLONG when no NUL comes within max
 */
export function bytesFromUser(mm: Mm, va: number, max = 4096): Buffer {
  const parts: Uint8Array[] = [];
  let len = 0;
  for (let p = va; p < va + max; ) {
    const pageEnd = Math.min(p - (p % PAGE_SIZE) + PAGE_SIZE, va + max);
    const chunk = copyFromUser(mm, p, pageEnd - p);
    const nul = chunk.indexOf(0);
    parts.push(nul >= 0 ? chunk.subarray(0, nul) : chunk);
    len += nul >= 0 ? nul : chunk.length;
    if (nul >= 0) return Buffer.concat(parts, len);
    p = pageEnd;
  }
  return fail("ENAMETOOLONG", "string from user too long");
}
