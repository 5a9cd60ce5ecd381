/**
 * On-demand readahead (cf. mm/readahead.c: page_cache_sync_ra,
 * page_cache_async_ra, ondemand_readahead, read_pages).
 *
 * A cache miss opens a window starting at the missed page; the page
 * `asyncSize` before the window's end carries PG_readahead, and touching it
 * reads the next, larger window before it is needed:
 *
 *   miss at 0:  [0 1 2 3]            size 4, marker on 1 (async = 3)
 *   hit 1 (PG_readahead): [4 .. 11]  size 8, marker on 4 (async = 8)
 *   hit 4:               [12 .. 27]  size 16 ... growing to the maximum
 *
 * Random misses read only the page asked for and leave the state alone.
 * Every window is read with ->readpages batches of contiguous missing pages
 * (->readpage per page when the vtable has no readpages).
 */
import { FaultlineError } from "../lib/errors.js";
import { Page, PG_readahead, PG_uptodate, type AddressSpace, type ReadaheadState } from "./page-cache.js";
import type { MemSystem } from "./system.js";

/** First window size for a request of `req` pages (cf. get_init_ra_size). */
export function initWindow(req: number, max: number): number {
  let size = 1;
  while (size < req) size *= 2;
  if (size <= max / 32) size *= 4;
  else if (size <= max / 4) size *= 2;
  else size = max;
  return Math.min(size, max);
}

/** Next window size after a window of `cur` pages (cf. get_next_ra_size). */
export function nextWindow(cur: number, max: number): number {
  if (cur < max / 16) return 4 * cur;
  if (cur <= max / 2) return 2 * cur;
  return max;
}

/**
 * A cache miss at `index` (cf. page_cache_sync_ra). Reads at least that page.
 * @throws FaultlineError EIO when the vtable fails
 */
export function syncReadahead(sys: MemSystem, mapping: AddressSpace, ra: ReadaheadState, index: number): void {
  const max = sys.config.readaheadMaxPages;
  if (max <= 0) {
    readWindow(sys, mapping, index, 1, 0);
    return;
  }
  const sequential =
    index === 0 || index === ra.start + ra.size || index === ra.start + ra.size - ra.asyncSize ||
    index - ra.prevIndex === 1 || mapping.pages.has(index - 1); // cf. try_context_readahead
  if (!sequential) {
    readWindow(sys, mapping, index, 1, 0); // standalone random read: do not disturb the state
    return;
  }
  if (ra.size > 0 && index === ra.start + ra.size) {
    // The window after the current one starts at the missed page: ramp up.
    ra.start = index;
    ra.size = nextWindow(ra.size, max);
    ra.asyncSize = ra.size;
  } else {
    // Anything else, the marker page itself missing included (it was read,
    // then reclaimed before it was touched), opens a new window AT the missed
    // page: a window that began after it would never read it (cf.
    // page_cache_sync_ra, which always starts at the index asked for).
    ra.start = index;
    ra.size = initWindow(1, max);
    ra.asyncSize = ra.size > 1 ? ra.size - 1 : ra.size;
  }
  readWindow(sys, mapping, ra.start, ra.size, ra.asyncSize);
}

/**
 * A hit on a page marked PG_readahead (cf. page_cache_async_ra): reads the
 * next window ahead of use.
 */
export function asyncReadahead(sys: MemSystem, mapping: AddressSpace, ra: ReadaheadState, page: Page): void {
  page.flags &= ~PG_readahead;
  const max = sys.config.readaheadMaxPages;
  if (max <= 0) return;
  if (page.index === ra.start + ra.size - ra.asyncSize) {
    ra.start += ra.size;
    ra.size = nextWindow(ra.size, max);
  } else {
    // A marker from another stream: continue after the cached run (cf. page_cache_next_miss).
    let next = page.index + 1;
    while (mapping.pages.has(next) && next - page.index < max) next++;
    ra.start = next;
    ra.size = nextWindow(Math.max(1, next - page.index), max);
  }
  ra.asyncSize = ra.size;
  readWindow(sys, mapping, ra.start, ra.size, ra.asyncSize);
}

/**
 * Reads the missing pages of [start, start+nr), clipped to end of file,
 * and marks page start+nr-asyncSize PG_readahead (cf. do_page_cache_ra).
 */
export function readWindow(sys: MemSystem, mapping: AddressSpace, start: number, nr: number, asyncSize: number): void {
  const end = Math.min(start + nr, mapping.sizePages);
  const mark = asyncSize > 0 ? start + nr - asyncSize : -1;
  // Make room for the whole window first: reclaim between its batches could drop pages read earlier in it.
  let missing = 0;
  for (let index = start; index < end; index++) if (!mapping.pages.has(index)) missing++;
  if (missing === 0) return;
  sys.reserve(missing, "file");
  let batch: Page[] = [];
  for (let index = start; index <= end; index++) {
    if (index === end || mapping.pages.has(index)) {
      if (batch.length > 0) readPages(sys, mapping, batch);
      batch = [];
      continue;
    }
    const page = new Page(mapping, index);
    if (index === mark) page.flags |= PG_readahead;
    batch.push(page);
  }
}

/**
 * Fills `pages` (contiguous, ascending, not yet cached) through the vtable
 * and adds them to the cache (cf. read_pages). Precondition: room for them
 * was reserved under the RAM limit.
 * @throws FaultlineError EIO when the vtable throws; no page is added then
 */
export function readPages(sys: MemSystem, mapping: AddressSpace, pages: Page[]): void {
  const aops = mapping.aops;
  const c = sys.counters;
  try {
    if (pages.length > 1 && aops.readpages) {
      aops.readpages(mapping, pages);
      c.readpagesBatches++;
      c.readpagesHistogram[pages.length] = (c.readpagesHistogram[pages.length] ?? 0) + 1;
    } else {
      for (const p of pages) {
        aops.readpage(mapping, p);
        c.readpageCalls++;
      }
    }
  } catch (e) {
    for (const p of pages) mapping.dropPageMemory(p.index);
    if (e instanceof FaultlineError) throw e;
    throw new FaultlineError("EIO", `${mapping.path}: read failed: ${(e as Error).message}`);
  }
  c.pagesRead += pages.length;
  for (const p of pages) {
    p.flags |= PG_uptodate;
    sys.addPage(p);
  }
  for (const hook of sys.readHooks) hook(mapping, pages);
}
