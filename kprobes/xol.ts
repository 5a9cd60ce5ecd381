/**
 * The per-address-space slot area (cf. struct xol_area): one page, mapped
 * read+execute as "[uprobes]" (so /proc/self/maps shows it), holding the
 * return-probe trampoline (an int3) and the slots where instructions are
 * copied to be single-stepped out of line. A task takes a slot for each
 * step and gives it back when the step ends (cf. xol_get_insn_slot,
 * xol_free_insn_slot), so the threads of a process, sharing the area, never
 * step in the same slot at once, even when one is preempted mid-step. A
 * slot is rewritten only when it is to hold a different instruction.
 *
 *   +0            int3          <- return addresses of probed functions point here
 *   +64 + 32k     [slot k: up to 15 bytes of a displaced instruction]     k < SLOTS
 */
import { FaultlineError } from "../lib/errors.js";
import { MMAP_BASE, MMAP_MIN_ADDR, PAGE_SIZE, PROT_EXEC, PROT_READ, PTE_P, mapRegion, type Mm } from "../mm/index.js";

const SLOT_OFFSET = 64;
/** Bytes per slot: an instruction is at most 15 (cf. UPROBE_XOL_SLOT_BYTES, 128 on x86 for its longer fix-ups). */
export const SLOT_BYTES = 32;
/** Slots in the one page. */
export const SLOTS = (PAGE_SIZE - SLOT_OFFSET) / SLOT_BYTES;

/** Thrown when more tasks step at once than the area has slots (Linux would make the next one wait). */
export class XolFullError extends FaultlineError {
  constructor() {
    super("EXOLFULL", `more than ${SLOTS} tasks are single-stepping probed instructions at once`);
  }
}

/** One slot's occupant and contents. */
interface Slot {
  /** Who steps in it now (a task's trap state), or undefined when free. */
  owner: object | undefined;
  /** The bytes it holds (a probe's plan keeps one array), to skip rewriting the same instruction. */
  held: Uint8Array | undefined;
}

export class XolArea {
  /** Address of the trampoline's int3. */
  readonly trampoline: number;
  /** The slots, by index. Invariant: length SLOTS. */
  private readonly slots: Slot[];

  /**
   * Maps the area in `mm` (top-down in the mmap area), or, with `copyOf`,
   * takes over the area a fork copied into `mm` from `copyOf`'s (cf.
   * uprobe_dup_mmap: the child's [uprobes] page is its own copy), its slots
   * free (a step in progress is handed over by adopt()).
   * @param mm the address space the area is mapped in (kept: `mm`)
   */
  constructor(readonly mm: Mm, copyOf?: XolArea) {
    if (copyOf) {
      this.trampoline = copyOf.trampoline;
      this.slots = copyOf.slots.map((s) => ({ owner: undefined, held: s.held }));
      // A page the parent never executed is not present, and dupMmap copies only present pages: the
      // child would find zeros where the trampoline's int3 is, and a return through it would run them.
      if (!present(mm, this.trampoline)) mm.bytes(this.trampoline, PAGE_SIZE).set(copyOf.mm.bytes(this.trampoline, PAGE_SIZE));
      return;
    }
    const at = mm.vmas.findFreeTopDown(PAGE_SIZE, MMAP_MIN_ADDR, MMAP_BASE);
    mapRegion(mm, at, PAGE_SIZE, PROT_READ | PROT_EXEC, false, null, 0, false, "[uprobes]");
    this.trampoline = at;
    this.slots = Array.from({ length: SLOTS }, () => ({ owner: undefined, held: undefined }));
    mm.bytes(at, 1)[0] = 0xcc; // anonymous memory: the page faults in with these bytes
  }

  /** The address of slot `k`. */
  private addr(k: number): number {
    return this.trampoline + SLOT_OFFSET + k * SLOT_BYTES;
  }

  /**
   * Takes a free slot for `owner` and places `bytes` in it (cf.
   * xol_get_insn_slot + arch_uprobe_copy_ixol), dropping stale
   * translations; a free slot already holding `bytes` is preferred.
   * @returns the slot's address
   * @throws XolFullError when every slot is taken
   */
  claim(owner: object, bytes: Uint8Array): number {
    let k = this.slots.findIndex((s) => s.owner === undefined && s.held === bytes);
    if (k < 0) k = this.slots.findIndex((s) => s.owner === undefined);
    if (k < 0) throw new XolFullError();
    const s = this.slots[k];
    s.owner = owner;
    if (s.held !== bytes) {
      this.mm.bytes(this.addr(k), bytes.length).set(bytes);
      this.mm.dropCode(this.trampoline, this.trampoline + PAGE_SIZE); // no-op until the page is present
      s.held = bytes;
    }
    return this.addr(k);
  }

  /** Gives back the slot at `addr` when `owner` holds it (cf. xol_free_insn_slot); else no-op. */
  free(owner: object, addr: number): void {
    const s = this.slotAt(addr);
    if (s?.owner === owner) s.owner = undefined;
  }

  /** Makes `owner` the holder of the slot at `addr` (a fork child that copied its parent's step into its own area). */
  adopt(owner: object, addr: number): void {
    const s = this.slotAt(addr);
    if (s) s.owner = owner;
  }

  /** Whether `rip` lies in the slot that starts at `slot` (a stepped copy's instruction). */
  static inSlot(slot: number, rip: number): boolean {
    return rip >= slot && rip < slot + 16;
  }

  /** The slot that starts at `addr`, if it is one. */
  private slotAt(addr: number): Slot | undefined {
    const k = (addr - this.trampoline - SLOT_OFFSET) / SLOT_BYTES;
    return Number.isInteger(k) && k >= 0 && k < SLOTS ? this.slots[k] : undefined;
  }
}

/** Whether page `va` of `mm` has a present PTE. */
function present(mm: Mm, va: number): boolean {
  const i = mm.pt.leaf(va, false);
  return i >= 0 && (mm.pt.lo(i) & PTE_P) !== 0;
}
