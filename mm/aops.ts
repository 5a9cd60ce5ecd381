/**
 * address_space_operations: how pages of one file move between the host
 * file and the page cache (cf. struct address_space_operations).
 *
 * Methods are optional where Linux's are: callers check, and `readpages`
 * falls back to one `readpage` per page (cf. read_pages()).
 */
import type { AddressSpace, Page } from "./page-cache.js";

/** The vtable of one address_space. */
export interface AddressSpaceOperations {
  /**
   * Fills one page's bytes (page-cache memory at mapping.pageView(page)) from
   * backing store. Bytes past end of file must read as zero.
   * @throws on an I/O error; the page is then not uptodate
   */
  readpage(mapping: AddressSpace, page: Page): void;
  /**
   * Fills a batch of pages, contiguous and in ascending index order, in one
   * go (cf. ->readpages / ->readahead). Optional.
   */
  readpages?(mapping: AddressSpace, pages: readonly Page[]): void;
  /** Writes one dirty page back to backing store (cf. ->writepage). Optional: without it dirty pages are kept. */
  writepage?(mapping: AddressSpace, page: Page): void;
}

/**
 * The default vtable: reads and writes the host file behind the mapping,
 * straight between the host file and page-cache memory (no JS copies).
 */
export const hostFileAops: AddressSpaceOperations = {
  readpage(mapping, page) {
    mapping.readFromHost(page.index, 1);
  },
  readpages(mapping, pages) {
    mapping.readFromHost(pages[0].index, pages.length);
  },
  writepage(mapping, page) {
    mapping.writeToHost(page.index);
  },
};
