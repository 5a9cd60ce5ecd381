/**
 * The per-process slot area (cf. struct xol_area): one page, mapped
 * read+execute as "[uprobes]" (so /proc/self/maps shows it), holding the
 * return-probe trampoline (an int3) and the slot where an instruction is
 * copied to be single-stepped out of line. A guest is single-threaded, so
 * one slot is enough; it is rewritten only when a different instruction is
 * stepped.
 *
 *   +0   int3          <- return addresses of probed functions point here
 *   +64  [slot: up to 15 bytes of the displaced instruction]
 */
import { MMAP_BASE, MMAP_MIN_ADDR, PAGE_SIZE, PROT_EXEC, PROT_READ, mapRegion, type Mm } from "../mm/index.js";

const SLOT_OFFSET = 64;

export class XolArea {
  /** Address of the trampoline's int3. */
  readonly trampoline: number;
  /** Address of the slot. */
  readonly slot: number;
  /** The bytes the slot holds now (a probe's plan keeps one array), to skip rewriting the same instruction. */
  private held: Uint8Array | undefined;

  /**
   * Maps the area in `mm` (top-down in the mmap area), or, with `copyOf`,
   * takes over the area a fork copied into `mm` from `copyOf`'s (cf.
   * uprobe_dup_mmap: the child's [uprobes] page is its own copy).
   */
  constructor(private readonly mm: Mm, copyOf?: XolArea) {
    if (copyOf) {
      this.trampoline = copyOf.trampoline;
      this.slot = copyOf.slot;
      this.held = copyOf.held;
      return;
    }
    const at = mm.vmas.findFreeTopDown(PAGE_SIZE, MMAP_MIN_ADDR, MMAP_BASE);
    mapRegion(mm, at, PAGE_SIZE, PROT_READ | PROT_EXEC, false, null, 0, false, "[uprobes]");
    this.trampoline = at;
    this.slot = at + SLOT_OFFSET;
    mm.bytes(at, 1)[0] = 0xcc; // anonymous memory: the page faults in with these bytes
  }

  /** Places `bytes` in the slot (cf. xol_get_insn_slot + arch_uprobe_copy_ixol), dropping stale translations. */
  load(bytes: Uint8Array): void {
    if (bytes === this.held) return;
    this.mm.bytes(this.slot, bytes.length).set(bytes);
    this.mm.dropCode(this.trampoline, this.trampoline + PAGE_SIZE); // no-op until the page is present
    this.held = bytes;
  }
}
