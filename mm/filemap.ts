/**
 * read(2) and write(2) on regular files through the page cache (cf.
 * filemap_read and generic_perform_write): reads find pages or read them
 * with the same on-demand readahead as faults; writes fill cache pages and
 * mark them dirty, to be written back through ->writepage by msync, reclaim
 * or sync. So a read() sees what mappings see, probes' breakpoints included.
 */
import { FaultlineError } from "../lib/errors.js";
import { PAGE_SIZE } from "./layout.js";
import { Page, PG_dirty, PG_locked, PG_readahead, PG_referenced, PG_uptodate, type AddressSpace, type ReadaheadState } from "./page-cache.js";
import { asyncReadahead, syncReadahead } from "./readahead.js";
import type { MemSystem } from "./system.js";

/**
 * The cache page `index`, read if needed, locked against reclaim while the
 * caller copies (unlock with page.flags &= ~PG_locked).
 * @throws FaultlineError EIO when it cannot be read
 */
function getPage(sys: MemSystem, mapping: AddressSpace, ra: ReadaheadState, index: number): Page {
  let page = mapping.pages.get(index);
  if (page) {
    page.flags |= PG_locked;
    try {
      if (page.flags & PG_readahead) asyncReadahead(sys, mapping, ra, page);
    } catch (e) {
      page.flags &= ~PG_locked;
      throw e;
    }
  } else {
    syncReadahead(sys, mapping, ra, index);
    page = mapping.pages.get(index);
    if (!page || (page.flags & PG_uptodate) === 0) throw new FaultlineError("EIO", `${mapping.path}: page ${index} could not be read`);
    page.flags |= PG_locked;
  }
  ra.prevIndex = index;
  page.flags |= PG_referenced; // cf. folio_mark_accessed
  return page;
}

/**
 * Reads up to `len` bytes at `pos` (cf. filemap_read).
 * @returns the bytes (short at end of file, empty past it)
 */
export function filemapRead(sys: MemSystem, mapping: AddressSpace, ra: ReadaheadState, pos: number, len: number): Uint8Array {
  const end = Math.min(pos + len, mapping.size);
  if (pos >= end) return new Uint8Array(0);
  const out = new Uint8Array(end - pos);
  for (let at = pos; at < end; ) {
    const index = Math.floor(at / PAGE_SIZE), off = at % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - off, end - at);
    const page = getPage(sys, mapping, ra, index);
    out.set(mapping.pageBytes(index).subarray(off, off + n), at - pos);
    page.flags &= ~PG_locked;
    at += n;
  }
  sys.readMask?.(mapping, pos, out);
  return out;
}

/**
 * Writes `data` at `pos` into the cache (cf. generic_perform_write): pages
 * partly overwritten are read first; the file grows as needed.
 * @returns bytes written (all of them)
 */
export function filemapWrite(sys: MemSystem, mapping: AddressSpace, ra: ReadaheadState, pos: number, data: Uint8Array): number {
  const end = pos + data.length;
  for (let at = pos; at < end; ) {
    const index = Math.floor(at / PAGE_SIZE), off = at % PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - off, end - at);
    const whole = off === 0 && (n === PAGE_SIZE || at + n >= mapping.size);
    let page: Page;
    if (index < mapping.sizePages && !whole) page = getPage(sys, mapping, ra, index);
    else page = newPage(sys, mapping, index);
    mapping.pageBytes(index).set(data.subarray(at - pos, at - pos + n), off);
    page.flags = (page.flags | PG_dirty | PG_uptodate) & ~PG_locked;
    at += n;
    if (at > mapping.size) mapping.size = at;
  }
  return data.length;
}

/**
 * The cache page for `index` when the write covers all of its data: found,
 * or made without reading (a page past end of file is a hole: zeros).
 */
function newPage(sys: MemSystem, mapping: AddressSpace, index: number): Page {
  const found = mapping.pages.get(index);
  if (found) {
    found.flags |= PG_locked;
    return found;
  }
  sys.reserve(1, "file");
  mapping.ensureBacking((index + 1) * PAGE_SIZE);
  const page = new Page(mapping, index);
  page.flags = PG_uptodate | PG_locked;
  sys.addPage(page);
  return page;
}
