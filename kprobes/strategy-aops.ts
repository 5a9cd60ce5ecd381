/**
 * The per-file aops hook (the 2006 proposal): while a file has probes, its
 * address_space_operations are a wrapping copy whose ->readpage and
 * ->readpages call the original and then patch every probed offset in the
 * pages just read, the batch at once. Pages already cached are patched in
 * place at registration. ->writepage writes the original bytes, so a
 * breakpoint never reaches the file. Files without probes keep their own
 * vtable and fault path untouched; the last probe of a file restores both
 * the bytes (where a breakpoint is still there) and the vtable.
 *
 *   fault -> filemap_fault -> readahead -> mapping.aops.readpages (wrapper)
 *                                            |-> original readpages (host file)
 *                                            '-> patch 0xCC at probed offsets of these pages
 */
import { PAGE_SIZE, type AddressSpace, type AddressSpaceOperations, type MemSystem, type Page } from "../mm/index.js";
import { pokeCached, pokePage, restorePrivateCopies } from "./patch.js";
import type { Probe } from "./probe.js";
import { ProbesByFile, type InsertionStrategy } from "./strategy.js";

const BREAKPOINT = 0xcc;

/** Per hooked file: its original vtable and its probes by offset and by page. */
interface Hooked {
  readonly orig: AddressSpaceOperations;
  readonly probes: Map<number, Probe>;
  readonly byPage: ProbesByFile;
}

export class AopsStrategy implements InsertionStrategy {
  readonly name = "aops";
  private readonly hooked = new Map<AddressSpace, Hooked>();

  arm(_sys: MemSystem, probe: Probe): void {
    let h = this.hooked.get(probe.mapping);
    if (!h) {
      h = { orig: probe.mapping.aops, probes: new Map(), byPage: new ProbesByFile() };
      this.hooked.set(probe.mapping, h);
      probe.mapping.setAops(wrap(h));
    }
    h.probes.set(probe.offset, probe);
    h.byPage.add(probe);
    pokeCached(probe.mapping, probe.offset, BREAKPOINT);
  }

  disarm(sys: MemSystem, probe: Probe): void {
    const h = this.hooked.get(probe.mapping);
    if (!h) return;
    h.probes.delete(probe.offset);
    h.byPage.remove(probe);
    restoreCached(probe);
    restorePrivateCopies(sys, probe.mapping, probe.offset, BREAKPOINT, probe.origByte);
    if (h.probes.size === 0) {
      probe.mapping.setAops(h.orig);
      this.hooked.delete(probe.mapping);
    }
  }

  maskRead(mapping: AddressSpace, pos: number, bytes: Uint8Array): void {
    const h = this.hooked.get(mapping);
    if (!h) return;
    for (const [off, p] of h.probes) if (off >= pos && off < pos + bytes.length && bytes[off - pos] === BREAKPOINT) bytes[off - pos] = p.origByte;
  }
}

/** Puts the original byte back where the breakpoint still is. */
export function restoreCached(probe: Probe): void {
  const page = probe.mapping.pages.get(Math.floor(probe.offset / PAGE_SIZE));
  if (page && probe.mapping.pageBytes(page.index)[probe.offset % PAGE_SIZE] === BREAKPOINT) pokePage(page, probe.offset, probe.origByte);
}

/** Patches the probes of `h` that fall in `pages`. */
function patchPages(h: Hooked, pages: readonly Page[]): void {
  for (const page of pages) for (const probe of h.byPage.inPage(page.mapping, page.index)) pokePage(page, probe.offset, BREAKPOINT);
}

/** The wrapping vtable (cf. the proposal's uprobe_readpage / uprobe_readpages). */
function wrap(h: Hooked): AddressSpaceOperations {
  const ops: AddressSpaceOperations = {
    readpage(mapping, page) {
      h.orig.readpage(mapping, page);
      patchPages(h, [page]);
    },
    writepage: h.orig.writepage && ((mapping, page) => {
      // The file must get the original bytes: lift the breakpoints while it is written.
      const lifted = h.byPage.inPage(mapping, page.index);
      const bytes = mapping.pageBytes(page.index);
      for (const p of lifted) bytes[p.offset % PAGE_SIZE] = p.origByte;
      try {
        h.orig.writepage!(mapping, page);
      } finally {
        for (const p of lifted) bytes[p.offset % PAGE_SIZE] = BREAKPOINT;
      }
    }),
  };
  // ->readpages only where the original has it: the fault path's fallback must stay the original's.
  if (h.orig.readpages) {
    ops.readpages = (mapping, pages) => {
      h.orig.readpages!(mapping, pages);
      patchPages(h, pages);
    };
  }
  return ops;
}
