/**
 * How breakpoints get into memory: one small interface, so that the design
 * under study (the per-file aops hook) and its alternatives can be swapped
 * and measured. A strategy only places and removes 0xCC; the trap path is
 * the same for all.
 *
 *   aops      the file's vtable is wrapped: pages get 0xCC as they are read (the 2006 proposal)
 *   notifier  one global hook after every read of every file looks for probes in the pages read
 *   preload   the probed page is read and patched at registration; --pin keeps it resident
 *   cow       the page cache is never written: each process gets a private copy with 0xCC (uprobes)
 */
import type { Mm, MemSystem, AddressSpace } from "../mm/index.js";
import type { Probe } from "./probe.js";

export interface InsertionStrategy {
  /** Name, as --probe-strategy spells it. */
  readonly name: string;
  /**
   * Makes `probe`'s breakpoint present in every process that maps its
   * page (that this strategy serves), now and whenever the page comes back.
   */
  arm(sys: MemSystem, probe: Probe): void;
  /** Removes it again (the probe's last consumer left). */
  disarm(sys: MemSystem, probe: Probe): void;
  /** A process was attached to the probes (strategies that act per process install into it). */
  attach?(sys: MemSystem, mm: Mm): void;
  /**
   * Puts original bytes back into `bytes`, which read() is about to return
   * from `mapping` at `pos`, where the page cache holds a breakpoint.
   * Only strategies that write the page cache have it.
   */
  maskRead?(mapping: AddressSpace, pos: number, bytes: Uint8Array): void;
  /** Pages this strategy holds resident (pinned). */
  pinnedPages?(): number;
}

const NONE: readonly Probe[] = [];

/** Probes by file, then by offset: the lookup the page-cache strategies share. */
export class ProbesByFile {
  readonly files = new Map<AddressSpace, Map<number, Probe>>();
  /** The same probes by file and page index: a page's lookup costs its own probes, not the file's. */
  private readonly pages = new Map<AddressSpace, Map<number, Probe[]>>();

  add(probe: Probe): void {
    let m = this.files.get(probe.mapping);
    if (!m) this.files.set(probe.mapping, (m = new Map()));
    m.set(probe.offset, probe);
    let pm = this.pages.get(probe.mapping);
    if (!pm) this.pages.set(probe.mapping, (pm = new Map()));
    const index = Math.floor(probe.offset / 4096);
    pm.set(index, [...(pm.get(index) ?? []), probe]);
  }

  /** Removes `probe`; returns whether its file has no probes left. */
  remove(probe: Probe): boolean {
    const m = this.files.get(probe.mapping);
    if (!m) return true;
    m.delete(probe.offset);
    const pm = this.pages.get(probe.mapping)!;
    const index = Math.floor(probe.offset / 4096);
    const left = (pm.get(index) ?? []).filter((p) => p !== probe);
    if (left.length > 0) pm.set(index, left);
    else pm.delete(index);
    if (m.size > 0) return false;
    this.files.delete(probe.mapping);
    this.pages.delete(probe.mapping);
    return true;
  }

  /** The probes of `mapping` whose offsets fall in page `index`. */
  inPage(mapping: AddressSpace, index: number): readonly Probe[] {
    return this.pages.get(mapping)?.get(index) ?? NONE;
  }

  /** maskRead over these probes: the original byte wherever a breakpoint is in range. */
  mask(mapping: AddressSpace, pos: number, bytes: Uint8Array): void {
    const m = this.files.get(mapping);
    if (!m) return;
    for (const [off, p] of m) if (off >= pos && off < pos + bytes.length && bytes[off - pos] === 0xcc) bytes[off - pos] = p.origByte;
  }
}
