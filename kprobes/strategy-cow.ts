/**
 * The design Linux merged (uprobes, 3.5): the page cache is never written.
 * When a process attached to the probes maps a probed page (a fault or
 * fault-around in a private mapping, cf. uprobe_mmap + install_breakpoint),
 * it gets a private copy of that page with the breakpoint (cf.
 * uprobe_write_opcode breaking COW). Other processes, and every read() of
 * the file, see the original bytes. Unregistering restores the byte and
 * drops the copy once it matches the file again, so the process shares the
 * cache page once more.
 *
 * Copies are anonymous pages: they count against the RAM limit and are never
 * reclaimed (no swap); the page cache page behind them can be.
 */
import * as fs from "node:fs";
import {
  PAGE_SIZE, PROT_EXEC, PTE_P, PTE_SW_ANON, PTE_W, vmaPgoff, type Mm, type MemSystem, type Vma,
} from "../mm/index.js";
import type { Probe } from "./probe.js";
import { ProbesByFile, type InsertionStrategy } from "./strategy.js";

export class CowStrategy implements InsertionStrategy {
  readonly name = "cow";
  private readonly probes = new ProbesByFile();
  /** Address spaces that get breakpoints. */
  private readonly mms = new Set<Mm>();
  /** Private copies made, and those held now. */
  copiesMade = 0;

  attach(sys: MemSystem, mm: Mm): void {
    this.mms.add(mm);
    this.hook(sys);
    for (const m of this.probes.files.values()) for (const p of m.values()) this.installEverywhere(p, mm);
  }

  arm(sys: MemSystem, probe: Probe): void {
    this.hook(sys);
    this.probes.add(probe);
    for (const mm of this.live()) this.installEverywhere(probe, mm);
  }

  /** The attached address spaces still alive (a destroyed one has released its memory: never touch it). */
  private live(): Mm[] {
    for (const mm of this.mms) if (!mm.sys.mms.has(mm)) this.mms.delete(mm);
    return [...this.mms];
  }

  disarm(_sys: MemSystem, probe: Probe): void {
    this.probes.remove(probe);
    for (const mm of this.live()) {
      for (const v of mappingsOf(mm, probe)) this.uninstall(mm, v, probe);
    }
  }

  /** Private copies with breakpoints held now, over all attached processes. */
  copiesHeld(): number {
    let n = 0;
    for (const mm of this.live()) {
      for (const m of this.probes.files.values()) {
        const pages = new Set([...m.keys()].map((o) => Math.floor(o / PAGE_SIZE)));
        for (const index of pages) {
          const any = m.values().next().value!;
          for (const v of mappingsOf(mm, any)) {
            const va = v.start + (index - v.pgoff) * PAGE_SIZE;
            if (va < v.start || va >= v.end) continue;
            const i = mm.pt.leaf(va, false);
            if (i >= 0 && mm.pt.lo(i) & PTE_SW_ANON) n++;
          }
        }
      }
    }
    return n;
  }

  /** Forgets an address space as its process exits (it must not be kept alive, nor touched after release). */
  private readonly onExit = (mm: Mm): void => {
    this.mms.delete(mm);
  };

  /** Installs the mm-level hooks once: every page mapped privately is checked for probes; exits are seen. */
  private hook(sys: MemSystem): void {
    if (!sys.exitHooks.includes(this.onExit)) sys.exitHooks.push(this.onExit);
    sys.pageMapped = (mm, vma, va, index) => {
      if (!this.mms.has(mm) || !vma.file) return;
      for (const p of this.probes.inPage(vma.file, index)) this.install(mm, vma, va, p, false);
    };
  }

  /** Installs `probe` in every present mapping of its page in `mm`. */
  private installEverywhere(probe: Probe, mm: Mm): void {
    const index = Math.floor(probe.offset / PAGE_SIZE);
    for (const v of mappingsOf(mm, probe)) {
      const va = v.start + (index - v.pgoff) * PAGE_SIZE;
      if (va >= v.start && va < v.end) this.install(mm, v, va, probe);
    }
  }

  /**
   * Gives `mm` a private copy of the page at `pageVa` (if it has not one
   * already) and writes the breakpoint into it. Only present pages: a page
   * not mapped yet gets its copy when it faults in.
   */
  private install(mm: Mm, vma: Vma, pageVa: number, probe: Probe, mayHaveRun = true): void {
    const i = mm.pt.leaf(pageVa, false);
    if (i < 0) return;
    const lo = mm.pt.lo(i);
    if ((lo & PTE_P) === 0) return;
    const at = pageVa + (probe.offset % PAGE_SIZE);
    if ((lo & PTE_SW_ANON) === 0) {
      const cached = vma.file?.pages.get(vmaPgoff(vma, pageVa));
      if (cached) mm.rmapRemove(cached, pageVa);
      mm.chargeAnon();
      mm.bytes(at, 1)[0] = 0xcc; // the host copies the page on this write (a MAP_PRIVATE mapping of the cache)
      mm.pt.setFlags(i, (lo & 0xfff & ~PTE_W) | PTE_SW_ANON);
      this.copiesMade++;
      mm.sys.counters.privateCopies++;
    } else {
      mm.bytes(at, 1)[0] = 0xcc;
    }
    // A page being mapped right now has not run here; one mapped before may have translated code.
    // (No TLB flush: the host copies behind the same host address, and the PTE only loses W.)
    if (mayHaveRun && vma.prot & PROT_EXEC) mm.dropCode(pageVa, pageVa + PAGE_SIZE);
  }

  /** Restores the byte in `mm`'s copy and drops the copy when it equals the file's page again. */
  private uninstall(mm: Mm, vma: Vma, probe: Probe): void {
    const index = Math.floor(probe.offset / PAGE_SIZE);
    const pageVa = vma.start + (index - vma.pgoff) * PAGE_SIZE;
    if (pageVa < vma.start || pageVa >= vma.end) return;
    const i = mm.pt.leaf(pageVa, false);
    if (i < 0 || (mm.pt.lo(i) & PTE_SW_ANON) === 0) return;
    const at = pageVa + (probe.offset % PAGE_SIZE);
    if (vma.prot & PROT_EXEC && mm.pt.lo(i) & PTE_P) mm.dropCode(pageVa, pageVa + PAGE_SIZE);
    if (mm.bytes(at, 1)[0] === 0xcc) mm.bytes(at, 1)[0] = probe.origByte;
    if (this.probes.inPage(probe.mapping, index).length > 0) return; // other breakpoints still need the copy
    if (!sameAsFile(probe, index, mm.bytes(pageVa, PAGE_SIZE))) return; // the process wrote to it: its own data now
    mm.zap(vma, pageVa, pageVa + PAGE_SIZE);
    mm.mem.discard(pageVa, PAGE_SIZE); // drops the host copy: the range aliases the cache again
    mm.settle();
  }
}

/** The private, file-backed VMAs of `mm` that map `probe`'s page. */
function mappingsOf(mm: Mm, probe: Probe): Vma[] {
  const index = Math.floor(probe.offset / PAGE_SIZE);
  return mm.vmas.all().filter((v) => v.file === probe.mapping && !v.shared && index >= v.pgoff && index < vmaPgoff(v, v.end));
}

/** Whether `bytes` equal page `index` of the probed file as stored on the host. */
function sameAsFile(probe: Probe, index: number, bytes: Uint8Array): boolean {
  const file = Buffer.alloc(PAGE_SIZE);
  fs.readSync(probe.mapping.hostFd, file, 0, PAGE_SIZE, index * PAGE_SIZE);
  return Buffer.compare(file, Buffer.from(bytes.buffer, bytes.byteOffset, PAGE_SIZE)) === 0;
}
