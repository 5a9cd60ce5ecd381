/**
 * One process's address space (cf. struct mm_struct): its VMAs, its page
 * tables and the host memory its pages live in.
 *
 * Guest memory is one host reservation `mem` covering [0, TASK_SIZE): the
 * page at guest address va is host byte mem.addr + va. Anonymous memory is
 * that reservation itself; a file mapping replaces its range by a host
 * mapping of the file's page-cache memfd (shared, or private so the host
 * copies on write); after a fork, anonymous pages shared with another
 * process are a host mapping of the system's anonymous-page store (anon.ts).
 * The engine sees all of `mem` as one region (mapping it
 * costs nothing until touched, and the engine never unmaps it), and the
 * page tables decide what is present.
 */
import { FaultlineError } from "../lib/errors.js";
import { HostRegion } from "../lib/hostmem.js";
import { runs, unmapStorePage } from "./anon.js";
import type { Mmu } from "./arch.js";
import { PAGE_SIZE, PT_AREA_SIZE, PT_BASE, TASK_SIZE } from "./layout.js";
import { PG_dirty, type Page, type RmapEntry } from "./page-cache.js";
import { releaseShmem } from "./shmem.js";
import { PTE_A, PTE_D, PTE_P, PTE_SW_ANON, PTE_SW_GUARD, PTE_SW_STORE, PTE_U, PTE_W, PageTable } from "./page-table.js";
import type { MemSystem } from "./system.js";
import { HugeFill } from "./huge-fill.js";
import { PROT_EXEC, PROT_WRITE, vmaPgoff, VmaList, type Vma } from "./vma.js";

/** What zap() leaves in place. */
export interface ZapOptions {
  /** Keep guard markers (MADV_DONTNEED does; munmap does not). */
  keepGuards?: boolean;
  /** Keep private anonymous pages (a hole punched in the file leaves private copies). */
  keepPrivate?: boolean;
  /** The host memory is released next (exit): leave its mappings as they are. */
  releasing?: boolean;
}

/**
 * A process address space. Several tasks may run it at once, each on its
 * own engine (clone with CLONE_VM: vfork's child, a thread): every engine
 * maps the same host memory and table area and points at the same tables,
 * so a PTE change is seen by all, and what Linux follows with a TLB
 * shootdown (settle's flush, dropCode's invalidation) reaches every
 * engine attached (cf. mm_cpumask and flush_tlb_mm_range).
 *
 *   Mm ──mmus──> { EngineMmu(task A's engine), EngineMmu(task B's engine) }
 *      users = 2 (cf. mm_users): put() by each task at exit or exec; the last one tears it down
 */
export class Mm {
  /** The page tables; each table page is charged to the system's RAM limit. */
  readonly pt: PageTable;
  /** Host memory behind guest [0, TASK_SIZE). */
  readonly mem: HostRegion;
  readonly vmas = new VmaList();
  /** Start of the brk heap, and the current break (cf. mm->start_brk, mm->brk). */
  brkStart = 0;
  brk = 0;
  /** Resident anonymous pages of this process. */
  anonPages = 0;
  /** Where anonymous first touches went last, to back a range being filled with a host huge page (huge-fill.ts). */
  readonly hugeFill = new HugeFill();
  /** A whole-TLB flush is owed before the guest runs again. */
  private flushOwed = false;
  /** Whether PTEs may carry NX: the engines' library lets EFER.NXE be set (the same for every engine of a run). */
  readonly nx: boolean;
  /** The engines running this address space (cf. mm_cpumask); never empty while it lives. */
  private readonly mmus = new Set<Mmu>();
  /** Tasks using this address space (cf. mm_users): 1 at creation, +1 per share(), -1 per put(); torn down at 0. */
  private users = 1;
  /** The engine (its Mmu) that ran this address space last (see enter); undefined before the first run. */
  private lastMmu: Mmu | undefined;
  /** False once destroy() ran. */
  private live = true;

  /**
   * Creates an empty address space on `mmu` and turns paging on.
   * @param inherit for renew() only: the emptied host memory and tables of the
   *   address space this one replaces, already mapped in the engine
   * @throws HostError when the host refuses the reservations
   * @throws OutOfMemoryError when the RAM limit has no room for the first table
   */
  constructor(readonly sys: MemSystem, mmu: Mmu, inherit?: { mem: HostRegion; pt: PageTable }) {
    sys.chargeTable(); // the PML4, made with the tables
    this.nx = mmu.nx;
    this.mmus.add(mmu);
    if (inherit) {
      // renew(): the engine already maps these, emptied; the CPU is pointed at them afresh (the
      // arch's own entries go back in, cf. pgd_ctor) and cached translations are dropped.
      this.pt = inherit.pt;
      this.mem = inherit.mem;
      mmu.enablePaging(this.pt.root);
      mmu.flushTlb();
    } else {
      this.pt = new PageTable(() => sys.chargeTable());
      try {
        this.mem = new HostRegion(TASK_SIZE);
      } catch (e) {
        // The host has no room for another 512 GiB reservation (about 250 fit in 128 TiB): undo the tables.
        this.pt.release();
        sys.tablePages -= this.pt.tables;
        throw e;
      }
      mmu.mapPhysical(0, TASK_SIZE, this.mem.addr);
      mmu.mapPhysical(PT_BASE, PT_AREA_SIZE, this.pt.area.addr);
      mmu.enablePaging(this.pt.root);
    }
    sys.mms.add(this);
  }

  /** Whether another task uses this address space too (CLONE_VM): execve must then leave it to them (see renew). */
  get shared(): boolean {
    return this.users > 1;
  }

  /**
   * Lets one more task run this address space on `mmu`'s engine (cf.
   * copy_mm with CLONE_VM: mmget): the engine maps the same host memory and
   * table area and points at the same tables.
   * Precondition: `mmu`'s engine is fresh (nothing mapped at guest-physical 0 or PT_BASE) and of the same library (nx).
   */
  share(mmu: Mmu): void {
    if (!this.live) throw new FaultlineError("EMMDEAD", "share of an address space already released");
    mmu.mapPhysical(0, TASK_SIZE, this.mem.addr);
    mmu.mapPhysical(PT_BASE, PT_AREA_SIZE, this.pt.area.addr);
    mmu.enablePaging(this.pt.root);
    this.mmus.add(mmu);
    this.users++;
  }

  /**
   * Called before `mmu`'s engine runs this address space: whether that
   * engine must drop its translated code first. Each engine notices stores
   * only to the code it translated itself (QEMU's TLB_NOTDIRTY pages), so
   * when another engine ran this address space since, and some executable
   * mapping could have been written meanwhile (one that is also writable, or
   * a shared file mapping, which a writable view of the same pages can
   * change), this engine's code for it may be stale. Programs without
   * writable code pay nothing.
   */
  enter(mmu: Mmu): boolean {
    const other = this.lastMmu !== undefined && this.lastMmu !== mmu;
    this.lastMmu = mmu;
    return other && this.vmas.all().some((v) => (v.prot & PROT_EXEC) !== 0 && ((v.prot & PROT_WRITE) !== 0 || (v.shared && v.file !== null)));
  }

  /**
   * A task stops using this address space (cf. mmput): its engine, on
   * `mmu`, is closed or leaves it next (exit, or execve of a task that
   * shared it) and gets no more flushes; the last user tears it down as
   * destroy() does. Idempotent per engine.
   */
  put(mmu: Mmu): void {
    if (!this.mmus.delete(mmu)) return;
    if (--this.users === 0) this.destroy();
  }

  /**
   * Makes a present PTE for `va` (cf. set_pte_at).
   * @param i word index from pt.leaf(va, true)
   * @param writable whether the PTE allows writes
   * @param anon whether this is a private anonymous page (PTE_SW_ANON)
   * @param young whether to mark it accessed (the faulting page) or not (fault-around)
   */
  setPte(i: number, va: number, vma: Vma, writable: boolean, anon: boolean, young: boolean): void {
    const flags = PTE_P | PTE_U | (writable ? PTE_W : 0) | (anon ? PTE_SW_ANON : 0) | (young ? PTE_A : 0);
    this.pt.set(i, va, flags, this.nx && (vma.prot & PROT_EXEC) === 0);
  }

  /** Adds (this, va) to a page's reverse map (a page-cache page, or a store page: anon.ts). */
  rmapAdd(page: { readonly rmap: RmapEntry[] }, va: number): void {
    page.rmap.push({ mm: this, va });
  }

  /** Removes (this, va) from a page's reverse map (a page-cache page, or a store page). */
  rmapRemove(page: { readonly rmap: RmapEntry[] }, va: number): void {
    const r = page.rmap;
    for (let k = 0; k < r.length; k++) {
      if (r[k].mm === this && r[k].va === va) {
        r.splice(k, 1);
        return;
      }
    }
  }

  /** Counts one more resident anonymous page, reclaiming page cache if the RAM limit needs it. */
  chargeAnon(): void {
    this.sys.reserve(1, "anon");
    this.anonPages++;
    this.sys.anonPages++;
  }

  /** The page-cache page behind file PTE `va` of `vma`, if cached. */
  filePage(vma: Vma, va: number): Page | undefined {
    return vma.file?.pages.get(vmaPgoff(vma, va));
  }

  /**
   * Removes every PTE of `vma` in [start, end) (cf. zap_page_range): anonymous
   * pages are uncharged, page-cache pages leave the reverse map and pass
   * their dirty bit on to the page. Translated code of executable pages is
   * dropped first, while the PTEs still allow fetching; a TLB flush is owed.
   */
  zap(vma: Vma, start: number, end: number, opts: ZapOptions = {}): void {
    const pt = this.pt;
    if (vma.prot & PROT_EXEC) this.dropCode(start, end);
    // A private file area's store pages are host-mapped from the store: give those ranges the file back.
    const restore: number[] | undefined = vma.file && vma.anonPgoff >= 0 && !opts.releasing ? [] : undefined;
    pt.forEach(start, end, (va, i) => {
      const cur = pt.lo(i);
      if ((opts.keepGuards && cur & PTE_SW_GUARD) || (opts.keepPrivate && cur & PTE_SW_ANON)) return;
      const lo = pt.clear(i);
      if (lo & PTE_SW_ANON) {
        this.anonPages--;
        if (lo & PTE_SW_STORE) unmapStorePage(this, vma, va);
        else this.sys.anonPages--;
        restore?.push(va);
      } else if (lo & PTE_P) {
        const page = this.filePage(vma, va);
        if (page) {
          this.rmapRemove(page, va);
          if (lo & PTE_D) page.flags |= PG_dirty;
        }
      }
      if (lo & PTE_P) this.flushOwed = true;
    });
    for (const [a, b] of restore ? runs(restore) : []) this.mem.mapFile(a, b - a, vma.file!.mem.fd, vmaPgoff(vma, a) * PAGE_SIZE, false);
  }

  /**
   * Installs (on) or removes guard markers on every page of [start, end)
   * (cf. MADV_GUARD_INSTALL / MADV_GUARD_REMOVE). Installing expects the
   * pages zapped first.
   */
  guard(start: number, end: number, on: boolean): void {
    const pt = this.pt;
    if (!on) {
      pt.forEach(start, end, (_va, i) => {
        if (pt.lo(i) === PTE_SW_GUARD) pt.clear(i);
      });
      return;
    }
    for (let va = start; va < end; va += PAGE_SIZE) pt.set(pt.leaf(va, true), va, PTE_SW_GUARD, false);
  }

  /**
   * Drops translated code for the present pages of [start, end), one call
   * per run of present pages (cf. flush_icache_range). Precondition (see
   * Mmu.invalidateCode): the pages are mapped executable right now.
   */
  dropCode(start: number, end: number): void {
    const pt = this.pt;
    let runStart = -1, runEnd = -1;
    const flush = () => {
      if (runStart < 0) return;
      for (const mmu of this.mmus) mmu.invalidateCode(runStart, runEnd);
      this.sys.counters.codeInvalidations++;
    };
    pt.forEach(start, end, (va, i) => {
      if ((pt.lo(i) & PTE_P) === 0) return;
      if (va !== runEnd) {
        flush();
        runStart = va;
      }
      runEnd = va + PAGE_SIZE;
    });
    flush();
  }

  /** Records that PTE permissions were reduced: a TLB flush is owed. */
  oweFlush(): void {
    this.flushOwed = true;
  }

  /**
   * Pays what is owed: one TLB flush (cf. tlb_finish_mmu). Call before
   * returning to the guest.
   */
  settle(): void {
    if (this.flushOwed) {
      this.flushOwed = false;
      for (const mmu of this.mmus) mmu.flushTlb();
      this.sys.counters.tlbFlushes++;
    }
  }

  /**
   * Moves dirty bits of present file PTEs in [start, end) of `vma` onto their
   * pages and cleans the PTEs (cf. page_mkclean), so that later writes are
   * seen again. Owes a TLB flush when any bit was cleared.
   * @returns the pages found dirty
   */
  harvestDirty(vma: Vma, start: number, end: number): Page[] {
    const out: Page[] = [];
    const pt = this.pt;
    pt.forEach(start, end, (va, i) => {
      const lo = pt.lo(i);
      if ((lo & (PTE_P | PTE_SW_ANON | PTE_D)) !== (PTE_P | PTE_D)) return;
      pt.setFlags(i, lo & 0xfff & ~PTE_D);
      const page = this.filePage(vma, va);
      if (page) {
        page.flags |= PG_dirty;
        out.push(page);
      }
      this.flushOwed = true;
    });
    return out;
  }

  /** Host bytes of guest [va, va+len) (no checks: callers fault the range in first). */
  bytes(va: number, len: number): Uint8Array {
    return this.mem.view(va, len);
  }


  /**
   * Tears the address space down (cf. exit_mmap): every mapping is zapped,
   * dirty bits reach the page cache, and host memory is returned.
   */
  destroy(): void {
    if (!this.teardown()) return;
    this.mem.release();
    this.pt.release();
  }

  /**
   * Ends this address space as destroy() does and returns a new, empty one
   * on the same Mmu in its place (cf. exec_mmap: execve's new mm replaces
   * the old, which is then released). The host reservation and the
   * page-table area pass to the new one emptied, so the engine's two
   * regions stay mapped (unmapping them costs seconds). This object is dead
   * afterwards: nothing may touch it.
   * Precondition: not shared (a task that shares it gets a new Mm on a new engine instead).
   * @throws OutOfMemoryError when the RAM limit has no room for the new PML4
   */
  renew(): Mm {
    if (this.shared) throw new FaultlineError("EMMSHARED", "renew of an address space other tasks still use");
    const [mmu] = this.mmus;
    if (!this.teardown()) throw new FaultlineError("EMMDEAD", "renew of an address space already released");
    this.mem.resetAnon(0, this.mem.size);
    this.pt.reset();
    return new Mm(this.sys, mmu, { mem: this.mem, pt: this.pt });
  }

  /** What destroy() and renew() share (cf. exit_mmap): exit hooks, every mapping zapped, the tables uncharged. False when already done. */
  private teardown(): boolean {
    if (!this.live) return false;
    this.live = false;
    for (const hook of this.sys.exitHooks) hook(this);
    for (const v of [...this.vmas.all()]) this.zap(v, v.start, v.end, { releasing: true });
    this.sys.mms.delete(this);
    releaseShmem(this.sys, [...this.vmas.all()].map((v) => v.file));
    this.sys.tablePages -= this.pt.tables;
    this.vmas.release(); // precondition of teardown: no engine runs, so none reads the change-count word
    return true;
  }
}
