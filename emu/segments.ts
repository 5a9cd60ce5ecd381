/**
 * The guest's segments and privilege level, as x86-64 Linux sets them up
 * (cf. arch/x86/kernel/cpu/common.c gdt_page, arch/x86/include/asm/segment.h,
 * start_thread_common): a GDT with Linux's kernel and user descriptors at
 * Linux's selectors, a TSS at 0x40, and the guest running in ring 3 with
 * CS = __USER_CS (0x33, a 64-bit code segment) and SS = __USER_DS (0x2b);
 * DS, ES, FS and GS hold the null selector, as a 64-bit process starts.
 * At CPL 3 the page tables' U/S bits are honoured and the privileged
 * instructions (cli, sti, hlt, in/out, mov to/from CRn and DRn, rdmsr/wrmsr,
 * lgdt...) raise #GP, which process.ts turns into SIGSEGV SI_KERNEL.
 *
 * The descriptor tables live in host memory of their own, one small area
 * for every engine (as Linux's GDT is the same for every task: the
 * contents never change once built), mapped in each engine at
 * guest-physical KERNEL_AREA, above TASK_SIZE (no user
 * mapping can reach it) and below the CPU's 2^40 physical limit. The CPU
 * reads descriptors through the page tables (a `mov %ax,%ds`, `lar`, `lsl`,
 * `iretq` in the guest), so the area's own tables hang from PML4 entry 1,
 * the "kernel half" of every address space (cf. pgd_ctor), supervisor-only
 * and read-only: the guest can neither read nor write them, and an access
 * is a #PF with the user bit set.
 *
 *   KERNEL_AREA + 0x0000  PDPT  ┐ PML4[1] -> PDPT -> PD -> PT -> the tables page
 *                + 0x1000  PD    │ (entries P|W|A, no U; NX where the engine has it)
 *                + 0x2000  PT    ┘
 *                + 0x3000  GDT (16 descriptors), TSS at +0x80; leaf P|A: read-only, supervisor
 *
 * Getting to ring 3 (uc_reg_write of CS/SS in 64-bit mode sets only the
 * selector, not the CPL): before paging is on, the engine runs one `iretq`
 * at CPL 0 from a frame naming 0x33 and 0x2b, which loads both from the
 * GDT as a kernel's return to user space does. Unicorn delivers no
 * exception through an IDT (its interrupt hook takes them all) and its
 * `syscall` only calls the hook, so the CPU never leaves ring 3 again;
 * uc_context_save/restore keep it (exec's CpuSnapshot).
 */
import { EngineError } from "../lib/errors.js";
import { HostRegion } from "../lib/hostmem.js";
import { PF_PRESENT, Reg } from "./constants.js";
import type { Engine } from "./engine.js";

/** Linux's x86-64 selectors (cf. asm/segment.h): GDT index * 8 | RPL. */
export const KERNEL32_CS = 0x08, KERNEL_CS = 0x10, KERNEL_DS = 0x18, USER_DS = 0x2b, USER_CS = 0x33, TSS_SEL = 0x40, CPUNODE_SEL = 0x7b;

/** Guest-physical (and linear: identity, as mm's PTEs) base of the per-engine area; above TASK_SIZE, below 2^40. */
export const KERNEL_AREA = 0xfe_fff0_0000;
/** Pages of the area: three table pages, then the page holding the GDT and the TSS. */
const AREA_PAGES = 4;
const TABLES_PAGE = 3;
/** Linear address of the GDT and of the TSS. */
export const GDT_BASE = KERNEL_AREA + TABLES_PAGE * 0x1000;
const TSS_OFFSET = 0x80;
/** GDT_ENTRIES * 8 - 1, as Linux's GDTR limit. */
const GDT_LIMIT = 16 * 8 - 1;
/** sizeof(struct x86_hw_tss) - 1; its io_bitmap_base past the limit: no I/O bitmap, all port I/O at CPL 3 is #GP. */
const TSS_LIMIT = 0x67;

/**
 * Linux's descriptors (cf. gdt_page: GDT_ENTRY_INIT(flags, 0, 0xfffff)),
 * as 64-bit words, by GDT index. Entry 4, __USER32_CS, is left empty as on
 * a kernel with IA32 emulation off (faultline runs 64-bit code only): a far
 * jump or sigreturn to 0x23 fails as there. Entry 15 is the per-CPU
 * segment whose limit vDSO getcpu reads with `lsl` (cf. setup_getcpu: CPU 0,
 * node 0, as faultline's getcpu reports).
 */
const DESCRIPTORS: readonly [number, bigint][] = [
  [1, 0x00cf_9b00_0000_ffffn], // __KERNEL32_CS: flags 0xc09b
  [2, 0x00af_9b00_0000_ffffn], // __KERNEL_CS:   flags 0xa09b (L = 1)
  [3, 0x00cf_9300_0000_ffffn], // __KERNEL_DS:   flags 0xc093
  [5, 0x00cf_f300_0000_ffffn], // __USER_DS:     flags 0xc0f3 (DPL 3)
  [6, 0x00af_fb00_0000_ffffn], // __USER_CS:     flags 0xa0fb (DPL 3, L = 1)
  [15, 0x0040_f500_0000_0000n], // CPUNODE: RO data, expand-down, accessed, DPL 3, D = 1; limit = node << 12 | cpu = 0
];

/** Page-table bits of the kernel half: present, writable (tables only), accessed; never user. */
const P = 0x1n, W = 0x2n, A = 0x20n, NX = 1n << 63n;
/** SegmentCache flags of a present, busy 64-bit TSS (cf. DESC_P_MASK | type 0xb << DESC_TYPE_SHIFT). */
const TSS_FLAGS = 0x8b00;
/** The ring-0 trampoline, written in the tables page past the TSS while the guest is not yet running, zeroed after. */
const TRAMPOLINE = 0x800, IRET_FRAME = 0xf00;
/** RFLAGS the iretq frame carries: IF and the reserved bit 1 (start_thread's X86_EFLAGS_IF). */
const USER_RFLAGS = 0x202;

/** Bytes of a struct uc_x86_mmr (selector u16, base u64 at 8, limit u32 at 16, flags u32 at 20). */
const MMR_SIZE = 24;

/**
 * The host memory behind KERNEL_AREA for one engine, its tables built (an
 * NX bit is reserved where EFER.NXE is off). One per engine, as Linux keeps
 * a gdt_page per CPU; the tables are never written once built (their
 * accessed bits are preset, so the CPU does not write them either), only
 * the trampoline page for the one iretq.
 * @throws HostError when the host refuses the memory
 */
function newArea(nx: boolean): HostRegion {
  const area = new HostRegion(AREA_PAGES * 0x1000);
  buildTables(area, nx);
  return area;
}

/** Fills the three table pages and the GDT/TSS page of `area`. */
function buildTables(area: HostRegion, nx: boolean): void {
  const q = new BigUint64Array(area.view(0, AREA_PAGES * 0x1000).buffer, area.view(0, 8).byteOffset, AREA_PAGES * 512);
  const va = BigInt(GDT_BASE);
  const index = (shift: bigint) => Number((va >> shift) & 511n);
  const table = (page: number) => BigInt(KERNEL_AREA + page * 0x1000);
  q[index(30n)] = table(1) | P | W | A; // PDPT -> PD
  q[512 + index(21n)] = table(2) | P | W | A; // PD -> PT
  q[1024 + index(12n)] = va | P | A | (nx ? NX : 0n); // PT -> the tables page, read-only
  const gdt = TABLES_PAGE * 512;
  for (const [i, d] of DESCRIPTORS) q[gdt + i] = d;
  // The TSS descriptor (16 bytes at 0x40): base, limit 0x67, present, busy 64-bit TSS (type 0xb), DPL 0.
  const tss = BigInt(GDT_BASE + TSS_OFFSET);
  q[gdt + 8] = BigInt(TSS_LIMIT) | ((tss & 0xff_ffffn) << 16n) | (0x8bn << 40n) | (((tss >> 24n) & 0xffn) << 56n);
  q[gdt + 9] = tss >> 32n;
  // The TSS's io_bitmap_base (offset 0x66) past its limit: no I/O bitmap (cf. IO_BITMAP_OFFSET_INVALID).
  const t = area.view(TABLES_PAGE * 0x1000 + TSS_OFFSET, 0x68);
  new DataView(t.buffer, t.byteOffset, t.length).setUint16(0x66, TSS_LIMIT + 1, true);
}

/** One engine's view of the descriptor tables, and its CPU put in ring 3. */
export class UserSegments {
  /** Host memory behind KERNEL_AREA, this engine's own (see newArea); released by free(). */
  private readonly area: HostRegion;

  /**
   * Maps this engine's tables at KERNEL_AREA, loads GDTR and TR,
   * and puts the CPU in ring 3 (CS 0x33, SS 0x2b).
   * Precondition: a fresh engine, paging off (the trampoline runs at
   * physical addresses), no hook installed that would see its `iretq`.
   * @param nx whether the engine has NX (EFER.NXE stuck): the kernel half is then not executable
   * @throws EngineError ERING3 when the engine does not end in ring 3 with Linux's selectors
   */
  constructor(private readonly engine: Engine, nx: boolean) {
    this.area = newArea(nx);
    try {
      engine.mapHost(KERNEL_AREA, AREA_PAGES * 0x1000, this.area.addr);
      writeMmr(engine, Reg.GDTR, { selector: 0, base: GDT_BASE, limit: GDT_LIMIT, flags: 0 });
      writeMmr(engine, Reg.TR, { selector: TSS_SEL, base: GDT_BASE + TSS_OFFSET, limit: TSS_LIMIT, flags: TSS_FLAGS });
      this.enterRing3();
    } catch (e) {
      this.area.release(); // the caller closes the engine that maps it
      throw e;
    }
  }

  /**
   * Runs one `iretq` at CPL 0 to a frame of (RIP, 0x33, RFLAGS, RSP, 0x2b),
   * as a kernel's return to user space: the CPU loads CS and SS from the
   * GDT and continues at CPL 3. RIP and RSP are put back as they were.
   */
  private enterRing3(): void {
    const e = this.engine;
    const page = TABLES_PAGE * 0x1000;
    const at = GDT_BASE + TRAMPOLINE;
    const rip = e.readReg(Reg.RIP), rsp = e.readReg(Reg.RSP);
    this.area.view(page + TRAMPOLINE, 2).set([0x48, 0xcf]); // iretq
    const frame = new DataView(this.area.view(page + IRET_FRAME, 40).buffer, this.area.view(page + IRET_FRAME, 40).byteOffset, 40);
    [at + 2, USER_CS, USER_RFLAGS, 0, USER_DS].forEach((v, k) => frame.setBigUint64(k * 8, BigInt(v), true));
    e.writeReg(Reg.RSP, GDT_BASE + IRET_FRAME);
    let why: string | undefined;
    try {
      e.run(at, { until: at + 2 });
    } catch (err) {
      why = `the iretq failed: ${(err as Error).message}`;
    }
    this.area.view(page + TRAMPOLINE, 0x1000 - TRAMPOLINE).fill(0);
    e.invalidateCode(at, at + 2); // the trampoline's block, translated at CPL 0, goes (a whole flush costs 2.0.x a 1 GiB memset)
    const cs = e.readReg(Reg.CS) & 0xffff, ss = e.readReg(Reg.SS) & 0xffff, end = e.readReg(Reg.RIP);
    if (!why && (cs !== USER_CS || ss !== USER_DS || end !== at + 2)) {
      why = `after the iretq CS = 0x${cs.toString(16)}, SS = 0x${ss.toString(16)}, RIP = 0x${end.toString(16)}; want 0x33, 0x2b, 0x${(at + 2).toString(16)}`;
    }
    if (why) throw new EngineError("ERING3", `Unicorn ${e.lib.version} (${e.lib.path}): cannot run the guest in ring 3: ${why}`);
    e.writeReg(Reg.RSP, rsp);
    e.writeReg(Reg.RIP, rip);
  }

  /**
   * Puts the kernel half (PML4 entry 1: the GDT's tables) into the address
   * space rooted at guest-physical `cr3`, as every new page directory gets
   * the kernel's entries (cf. pgd_ctor). Call whenever the CPU is pointed
   * at tables made or emptied anew (mm's enablePaging).
   * Precondition: `cr3` lies in memory mapped in the engine.
   */
  installInto(cr3: number): void {
    const entry = new Uint8Array(8);
    new DataView(entry.buffer).setBigUint64(0, BigInt(KERNEL_AREA) | P | W | A, true);
    this.engine.writeMem(cr3 + 8, entry);
  }

  /** Releases the area. Precondition: the engine is closed (it maps the area). Idempotent. */
  free(): void {
    this.area.release();
  }

}

/** A struct uc_x86_mmr's fields (GDTR, IDTR, LDTR, TR). */
interface Mmr {
  readonly selector: number;
  readonly base: number;
  readonly limit: number;
  readonly flags: number;
}

/** Writes a memory-management register (uc_reg_write of a uc_x86_mmr). */
function writeMmr(e: Engine, id: number, m: Mmr): void {
  const b = new Uint8Array(MMR_SIZE);
  const v = new DataView(b.buffer);
  v.setUint16(0, m.selector, true);
  v.setBigUint64(8, BigInt(m.base), true);
  v.setUint32(16, m.limit, true);
  v.setUint32(20, m.flags, true);
  e.writeRegBlock(new Int32Array([id]), MMR_SIZE, b);
}

/** Linux's TASK_SIZE_MAX with 4-level paging: (1 << 47) - PAGE_SIZE, where the kernel's addresses begin. */
export const TASK_SIZE_MAX = 0x7fff_ffff_f000;

/**
 * The #PF error code a signal reports for a user access at `addr` (cf.
 * set_signal_archinfo): an address of the kernel's (at or above
 * TASK_SIZE_MAX) is always a protection fault, so that nothing of the
 * kernel's page tables shows; below it, faultline's own area past TASK_SIZE
 * (the GDT's tables, present but supervisor-only) must look as on Linux,
 * where nothing is mapped there: not present.
 * @param taskSize the end of faultline's user space (mm's TASK_SIZE)
 */
export function userFaultError(addr: number, err: number, taskSize: number): number {
  if (addr >= TASK_SIZE_MAX) return err | PF_PRESENT;
  if (addr >= taskSize) return err & ~PF_PRESENT;
  return err;
}

/**
 * The first vector only `int N` can raise here (CPU exceptions are 0-31, and
 * Unicorn has no external interrupts); Unicorn's interrupt hook does not
 * say whether a lower vector came from `int N` or from the CPU.
 */
export const FIRST_SOFT_VECTOR = 32;

/**
 * The #GP error code of `int N` from ring 3 through one of Linux's DPL-0
 * gates (every vector but int3's and overflow's; 0x80 too, as with IA32
 * emulation off): the vector's IDT index, N * 8, with the IDT bit (2).
 */
export function intGateError(vector: number): number {
  return vector * 8 + 2;
}

/** uc_flags bit: SS is to be restored as saved, not fixed up (cf. UC_STRICT_RESTORE_SS). */
const UC_STRICT_RESTORE_SS = 0x4;

/**
 * Why a signal frame's CS and SS cannot be returned to, or undefined when
 * they can (cf. restore_sigcontext: the RPL forced to 3; force_valid_ss
 * when UC_STRICT_RESTORE_SS is clear, which makes any bad SS 0x2b). In this
 * GDT the only 64-bit user code segment is 0x33 and the only user stack
 * segment 0x2b: the CPU already holds both, so nothing is loaded. Linux's
 * IRET to anything else faults, and the guest gets SIGSEGV.
 * @param cs, ss the frame's selectors; ucFlags its uc_flags
 * @returns undefined, or the reason the frame is bad
 */
export function sigreturnSegmentsError(cs: number, ss: number, ucFlags: number): string | undefined {
  const rcs = (cs | 3) & 0xffff;
  const rss = (ss | 3) & 0xffff;
  if (rcs !== USER_CS) return `rt_sigreturn: CS 0x${rcs.toString(16)} is not the 64-bit user code segment 0x33`;
  if (rss !== USER_DS && ucFlags & UC_STRICT_RESTORE_SS) return `rt_sigreturn: SS 0x${rss.toString(16)} is not the user stack segment 0x2b`;
  return undefined;
}
