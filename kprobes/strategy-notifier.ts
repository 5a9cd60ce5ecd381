/**
 * Alternative (1) of the original discussion: a notifier in every
 * readpage/readpages. One global hook runs after every read of every file
 * (MemSystem.readHooks) and looks up whether any probe falls in the pages
 * read; cached pages are patched at registration. Every file's read path
 * pays the lookup while any probe exists, probed or not.
 */
import type { AddressSpace, MemSystem, Page } from "../mm/index.js";
import { pokeCached, pokePage, restorePrivateCopies } from "./patch.js";
import type { Probe } from "./probe.js";
import { restoreCached } from "./strategy-aops.js";
import { ProbesByFile, type InsertionStrategy } from "./strategy.js";

export class NotifierStrategy implements InsertionStrategy {
  readonly name = "notifier";
  private readonly probes = new ProbesByFile();
  private installed: MemSystem | undefined;

  /** The global hook (cf. a read notifier chain): runs for every batch of every file. */
  private readonly hook = (mapping: AddressSpace, pages: readonly Page[]): void => {
    if (!this.probes.files.has(mapping)) return;
    for (const page of pages) for (const p of this.probes.inPage(mapping, page.index)) pokePage(page, p.offset, 0xcc);
  };

  arm(sys: MemSystem, probe: Probe): void {
    if (!this.installed) {
      sys.readHooks.push(this.hook);
      this.installed = sys;
    }
    this.probes.add(probe);
    pokeCached(probe.mapping, probe.offset, 0xcc);
  }

  disarm(sys: MemSystem, probe: Probe): void {
    this.probes.remove(probe);
    restoreCached(probe);
    restorePrivateCopies(sys, probe.mapping, probe.offset, 0xcc, probe.origByte);
    if (this.probes.files.size === 0 && this.installed) {
      const i = sys.readHooks.indexOf(this.hook);
      if (i >= 0) sys.readHooks.splice(i, 1);
      this.installed = undefined;
    }
  }

  maskRead(mapping: AddressSpace, pos: number, bytes: Uint8Array): void {
    this.probes.mask(mapping, pos, bytes);
  }
}
