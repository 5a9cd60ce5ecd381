/**
 * The memory manager's view of the CPU (mm's Mmu interface), over one
 * Unicorn engine: x86-64 paging control, TLB flushes, translated-code
 * invalidation, and guest-physical regions. It also owns the engine's
 * descriptor tables and puts the CPU in ring 3 (emu/segments.ts), since
 * the GDT is reached through the same page tables.
 */
import type { Mmu } from "../mm/index.js";
import { CR0_EM, CR0_MP, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, EFER_NXE, EFER_SCE, MSR_EFER, Reg } from "./constants.js";
import type { Engine } from "./engine.js";
import { UserSegments } from "./segments.js";

/** Mmu over `engine`. NX is used when the engine lets EFER.NXE be set (2.1.x yes, 2.0.1 no). */
export class EngineMmu implements Mmu {
  readonly nx: boolean;
  /** The GDT, TSS and the kernel half of the page tables that maps them. */
  private readonly segments: UserSegments;

  /**
   * Sets EFER.NXE and EFER.SCE where they stick and puts the CPU in ring 3 with Linux's
   * segments. Precondition: a fresh engine, paging off, no hooks yet.
   * @throws EngineError ERING3 when the engine cannot run the guest in ring 3
   */
  constructor(private readonly engine: Engine) {
    // NXE, and SCE as Linux sets it (so that sysret at CPL 3 is #GP, not #UD; 2.0.1 keeps neither).
    const efer = engine.readMsr(MSR_EFER);
    engine.writeMsr(MSR_EFER, efer | EFER_NXE | EFER_SCE);
    this.nx = (engine.readMsr(MSR_EFER) & EFER_NXE) !== 0;
    this.segments = new UserSegments(engine, this.nx);
  }

  mapPhysical(base: number, size: number, hostAddr: number): void {
    this.engine.mapHost(base, size, hostAddr);
  }

  /** Also puts the kernel half (the GDT's tables) into the tables at `cr3` first (cf. pgd_ctor). */
  enablePaging(cr3: number): void {
    const e = this.engine;
    this.segments.installInto(cr3);
    e.writeReg(Reg.CR3, cr3);
    // As a kernel sets them: PAE paging, and SSE usable (OSFXSR, OSXMMEXCPT; no x87 emulation).
    e.writeReg(Reg.CR4, e.readReg(Reg.CR4) | CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT);
    e.writeReg(Reg.CR0, ((e.readReg(Reg.CR0) | CR0_PE | CR0_MP | CR0_WP | CR0_PG) & ~CR0_EM) >>> 0);
  }

  /** Releases what this Mmu holds besides the engine (the descriptor tables' memory). Precondition: the engine is closed. */
  free(): void {
    this.segments.free();
  }

  flushTlb(): void {
    this.engine.flushTlb();
  }

  invalidateCode(start: number, end: number): void {
    this.engine.invalidateCode(start, end);
  }
}
