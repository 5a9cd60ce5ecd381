/**
 * The memory manager's view of the CPU (mm's Mmu interface), over one
 * Unicorn engine: x86-64 paging control, TLB flushes, translated-code
 * invalidation, and guest-physical regions.
 */
import type { Mmu } from "../mm/index.js";
import { CR0_EM, CR0_MP, CR0_PE, CR0_PG, CR0_WP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, EFER_NXE, MSR_EFER, Reg } from "./constants.js";
import type { Engine } from "./engine.js";

/** Mmu over `engine`. NX is used when the engine lets EFER.NXE be set (2.1.x yes, 2.0.1 no). */
export class EngineMmu implements Mmu {
  readonly nx: boolean;

  constructor(private readonly engine: Engine) {
    const efer = engine.readMsr(MSR_EFER);
    engine.writeMsr(MSR_EFER, efer | EFER_NXE);
    this.nx = (engine.readMsr(MSR_EFER) & EFER_NXE) !== 0;
  }

  mapPhysical(base: number, size: number, hostAddr: number): void {
    this.engine.mapHost(base, size, hostAddr);
  }

  enablePaging(cr3: number): void {
    const e = this.engine;
    e.writeReg(Reg.CR3, cr3);
    // As a kernel sets them: PAE paging, and SSE usable (OSFXSR, OSXMMEXCPT; no x87 emulation).
    e.writeReg(Reg.CR4, e.readReg(Reg.CR4) | CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT);
    e.writeReg(Reg.CR0, ((e.readReg(Reg.CR0) | CR0_PE | CR0_MP | CR0_WP | CR0_PG) & ~CR0_EM) >>> 0);
  }

  flushTlb(): void {
    this.engine.flushTlb();
  }

  invalidateCode(start: number, end: number): void {
    this.engine.invalidateCode(start, end);
  }
}
