/**
 * Writing a byte into a cached page so that every process sees it (cf.
 * uprobe_write_opcode, in its 2006 page-cache form): the byte goes into the
 * page-cache page, which private and shared mappings alias, and translated
 * code of that page is dropped in every engine that maps it executable.
 * Pages a process copied privately (it wrote to its text) are not reached.
 */
import { PAGE_SIZE, PROT_EXEC, PTE_SW_ANON, vmaPgoff, type AddressSpace, type MemSystem, type Page } from "../mm/index.js";

/**
 * Writes `byte` at file offset `offset` of a cached page and invalidates
 * translated code mapping it. No-op when the page is not cached.
 * @returns the byte that was there, or -1 when the page is not cached
 */
export function pokeCached(mapping: AddressSpace, offset: number, byte: number): number {
  const page = mapping.pages.get(Math.floor(offset / PAGE_SIZE));
  if (!page) return -1;
  return pokePage(page, offset, byte);
}

/** pokeCached() on a page in hand (e.g. one just read by ->readpage). */
export function pokePage(page: Page, offset: number, byte: number): number {
  const bytes = page.mapping.pageBytes(page.index);
  const at = offset % PAGE_SIZE;
  const old = bytes[at];
  if (old === byte) return old;
  bytes[at] = byte;
  dropMappedCode(page);
  return old;
}

/** Drops translated code for every executable PTE mapping `page` (found through its reverse map). */
export function dropMappedCode(page: Page): void {
  for (const { mm, va } of page.rmap) {
    const vma = mm.vmas.find(va);
    if (vma && vma.prot & PROT_EXEC) mm.dropCode(va, va + PAGE_SIZE);
  }
}

/**
 * Puts `byte` back at file offset `offset` in every process's private copy
 * of that page where `expect` (the breakpoint) still stands (cf. Linux
 * restoring the original instruction in every mm on unregister): a process
 * that copied a page while it held a breakpoint must not keep it.
 */
export function restorePrivateCopies(sys: MemSystem, mapping: AddressSpace, offset: number, expect: number, byte: number): void {
  const index = Math.floor(offset / PAGE_SIZE);
  for (const mm of sys.mms) {
    for (const v of mm.vmas.all()) {
      if (v.file !== mapping || index < v.pgoff || index >= vmaPgoff(v, v.end)) continue;
      const page = v.start + (index - v.pgoff) * PAGE_SIZE;
      const i = mm.pt.leaf(page, false);
      if (i < 0 || (mm.pt.lo(i) & PTE_SW_ANON) === 0) continue;
      const b = mm.bytes(page + (offset % PAGE_SIZE), 1);
      if (b[0] !== expect) continue;
      if (v.prot & PROT_EXEC) mm.dropCode(page, page + PAGE_SIZE);
      b[0] = byte;
    }
  }
}
