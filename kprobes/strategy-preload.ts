/**
 * Alternative (2) of the original discussion: read the probed page at
 * registration and patch it, with no read-path hook at all. With `pin` the
 * page is held resident (PG_unevictable) and the breakpoint lasts; without
 * it, reclaim may discard the page and the next read brings it back
 * unpatched: the probe is silently lost, which is what the review predicted.
 */
import { PAGE_SIZE, PG_unevictable, readWindow, type AddressSpace, type MemSystem } from "../mm/index.js";
import { pokePage, restorePrivateCopies } from "./patch.js";
import type { Probe } from "./probe.js";
import { restoreCached } from "./strategy-aops.js";
import { ProbesByFile, type InsertionStrategy } from "./strategy.js";

export class PreloadStrategy implements InsertionStrategy {
  readonly name: string;
  private readonly probes = new ProbesByFile();
  /** Pinned pages: "file:index" -> how many probes hold it. */
  private readonly pins = new Map<string, number>();

  /** @param pin hold each probed page resident */
  constructor(readonly pin: boolean) {
    this.name = pin ? "preload --pin" : "preload";
  }

  arm(sys: MemSystem, probe: Probe): void {
    this.probes.add(probe);
    const index = Math.floor(probe.offset / PAGE_SIZE);
    if (!probe.mapping.pages.has(index)) readWindow(sys, probe.mapping, index, 1, 0);
    const page = probe.mapping.pages.get(index)!;
    pokePage(page, probe.offset, 0xcc);
    if (this.pin) {
      const key = `${probe.mapping.key}:${index}`;
      this.pins.set(key, (this.pins.get(key) ?? 0) + 1);
      page.flags |= PG_unevictable;
    }
  }

  disarm(sys: MemSystem, probe: Probe): void {
    this.probes.remove(probe);
    restoreCached(probe);
    restorePrivateCopies(sys, probe.mapping, probe.offset, 0xcc, probe.origByte);
    if (!this.pin) return;
    const index = Math.floor(probe.offset / PAGE_SIZE);
    const key = `${probe.mapping.key}:${index}`;
    const n = (this.pins.get(key) ?? 1) - 1;
    if (n > 0) {
      this.pins.set(key, n);
      return;
    }
    this.pins.delete(key);
    const page = probe.mapping.pages.get(index);
    if (page) page.flags &= ~PG_unevictable;
  }

  maskRead(mapping: AddressSpace, pos: number, bytes: Uint8Array): void {
    this.probes.mask(mapping, pos, bytes);
  }

  pinnedPages(): number {
    return this.pins.size;
  }
}
