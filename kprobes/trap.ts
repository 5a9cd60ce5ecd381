/**
 * The trap path of one process (cf. handle_swbp, handle_singlestep,
 * handle_trampoline), an explicit state machine:
 *
 *            int3 at a probe
 *   IDLE ───────────────────────> run pre handlers (filters), arm return probe
 *    ^                              │
 *    │        emulated insn         ├──> emulate ──> post handlers ──> IDLE
 *    │                              │
 *    │                              └──> copy to slot, TF on, RIP = slot ──> STEPPING
 *    │                                                                          │
 *    └──── post handlers <── postXol (RIP back, fix-ups, TF as the guest had it) <┘ #DB
 *
 *   int3 at the trampoline: pop the return instance, ret handlers, RIP = real return address.
 *   int3 that is no probe, or #DB when not STEPPING: the guest's own (SIGTRAP, as unprobed).
 *   A fault inside the stepped copy is handled by mm as usual (the copy re-executes);
 *   one that raises a signal aborts the step (abortStep: RIP back on the probe, cf.
 *   arch_uprobe_abort_xol), so the guest's handler sees the original address and,
 *   returning, hits the probe again; a fatal one is reported at the original address.
 *   A copied `syscall` ends its step at the call's exit (syscallDone), before delivery.
 *   Signals: none is delivered while STEPPING (cf. uprobe_deny_signal); the core asks
 *   stepping() and delivers after the #DB.
 */
import { PF_PRESENT, PF_USER, PF_WRITE, Reg, SEGV_ACCERR, Vec, forceSignal, type Process, type TrapHandler } from "../emu/index.js";
import { GuestSignal } from "../lib/errors.js";
import { PAGE_SIZE, PTE_P, vmaPgoff, type Mm } from "../mm/index.js";
import { abortXol, emulate, endSyscallXol, postXol, preXol, type Plan, type XolSave } from "./arch-x86.js";
import { probeKey, type Consumer, type Probe, type ProbeContext } from "./probe.js";
import { ReturnStack, type EngineInsn } from "./uretprobe.js";
import { XolArea } from "./xol.js";

/** What the registry offers the trap path. */
export interface ProbeTable {
  /** The probe at file `key` ("dev:ino:offset"), if any. */
  byKey(key: string): Probe | undefined;
  /** How the probe's instruction runs. */
  plan(probe: Probe): Plan;
  /** Removes one consumer (a pre handler asked to be removed). */
  unregister(probe: Probe, consumer: Consumer): void;
  /** Changes whenever a probe or a consumer is added or removed (invalidates lookups). */
  readonly generation: number;
  /**
   * The host address of a 32-bit word that always holds `generation`
   * (modulo 2^32), for the engine's return-probe table; absent: entries are
   * never given to the engine.
   */
  generationWordAddress?(): number;
  /** A traced process exec'd: its new address space is to get the breakpoints per-process strategies place (cf. uprobe_mmap). */
  execed?(proc: Process): void;
  /**
   * The slot area of each address space the probes have stepped in (cf. mm->uprobes_state.xol_area):
   * one per Mm, shared by every task that runs it (threads, a vfork child).
   */
  readonly xolAreas: WeakMap<Mm, XolArea>;
}

type State =
  | { readonly kind: "idle" }
  | {
    readonly kind: "stepping"; readonly probe: Probe; readonly plan: Plan & { kind: "step" }; readonly save: XolSave; readonly addr: number;
    /** The address of the slot the copy is stepped in (this task's until the step ends). */
    readonly slot: number;
  };

/** What the trap path remembers of one address (ProbeTraps.lookup). */
interface CachedProbe {
  /** The areas' change count (VmaList.seq) and the table's generation the answer was derived at. */
  seq: number;
  gen: number;
  /** The probe there and how its instruction runs; undefined when no probe is there. */
  found: { readonly probe: Probe; readonly plan: Plan } | undefined;
}

const ARG_REGS = new Int32Array([Reg.RDI, Reg.RSI, Reg.RDX, Reg.RCX, Reg.R8, Reg.R9]);
const start = process.hrtime.bigint();

export class ProbeTraps implements TrapHandler {
  private state: State = { kind: "idle" };
  /** The slot area of the address space this task runs (the table's for that Mm), once it stepped or armed a return there. */
  private xolArea: XolArea | undefined;
  /** Outstanding return probes (replaced at exec: their frames were in the old image). */
  returns = new ReturnStack();

  constructor(private readonly table: ProbeTable) {}

  /** The slot area of `proc`'s address space, mapped on first need by whichever of its tasks needs it first. */
  private xol(proc: Process): XolArea {
    if (this.xolArea?.mm === proc.mm) return this.xolArea;
    let area = this.table.xolAreas.get(proc.mm);
    if (area === undefined) this.table.xolAreas.set(proc.mm, (area = new XolArea(proc.mm)));
    return (this.xolArea = area);
  }

  /**
   * The probe whose instruction is at `addr` in `proc` (found through its
   * VMA's file and offset) and its plan; remembered per address while the
   * address space's areas (their change count) and the probe table stay the
   * same. The task's address space changes only at exec, which empties the
   * cache (onExec).
   * @returns the probe and its plan, or undefined when no probe is at `addr`
   */
  private lookup(proc: Process, addr: number): CachedProbe["found"] {
    const seq = proc.mm.vmas.seq, gen = this.table.generation;
    let hit = this.cache.get(addr);
    if (hit?.seq === seq && hit.gen === gen) return hit.found;
    if (hit === undefined) this.cache.set(addr, (hit = { seq, gen, found: undefined }));
    const vma = proc.mm.vmas.find(addr);
    const page = addr - (addr % PAGE_SIZE);
    const probe = vma?.file ? this.table.byKey(probeKey(vma.file, vmaPgoff(vma, page) * PAGE_SIZE + (addr % PAGE_SIZE))) : undefined;
    hit.seq = seq;
    hit.gen = gen;
    hit.found = probe && { probe, plan: this.table.plan(probe) };
    return hit.found;
  }

  /** Address -> probe and plan, with the change counts they were derived at. */
  private readonly cache = new Map<number, CachedProbe>();

  onBreakpoint(proc: Process): boolean {
    const addr = proc.engine.rip() - 1;
    const area = this.xolArea?.mm === proc.mm ? this.xolArea : this.table.xolAreas.get(proc.mm); // the cached one on the hot path
    if (area && addr === area.trampoline) return this.onTrampoline(proc);
    const found = this.lookup(proc, addr); // with its plan, taken before handlers: a "remove" may drop the probe
    if (!found) return this.restartIfGone(proc, addr);
    const { probe, plan } = found;
    probe.hit();
    let ctx: ProbeContext | undefined;
    let wantsReturn = false;
    for (const c of probe.consumers.length === 1 ? probe.consumers : [...probe.consumers]) {
      if (c.filter && !c.filter(proc)) continue;
      if (c.ret) wantsReturn = true;
      if (c.pre && c.pre((ctx ??= context(proc, probe, addr))) === "remove") this.table.unregister(probe, c);
    }
    if (wantsReturn) {
      const trampoline = this.xol(proc).trampoline;
      this.returns.enter(proc, probe, trampoline);
      this.offerEntry(proc, probe, plan, addr, trampoline);
    }
    if (plan.kind === "emulate") {
      try {
        emulate(proc, probe.insn, probe.cls, addr);
      } catch (e) {
        if (!(e instanceof GuestSignal)) throw e;
        storeFault(proc, addr, e);
        return true;
      }
      runPost(probe, proc, addr);
      return true;
    }
    const slot = this.xol(proc).claim(this, plan.bytes);
    const save = preXol(proc, plan, addr, probe.insn.length, slot);
    this.state = { kind: "stepping", probe, plan, save, addr, slot };
    return true;
  }

  /**
   * After a return probe's entry taken here: when the probe wants nothing
   * at its entry (only `ret` consumers, no filter) and its instruction is
   * one the engine emulates (a nop or a push of a register), its later
   * entries at `addr` are given to the engine (patch 0011; nothing happens
   * on engines without it), for as long as this address space's areas and
   * the probe table stay as they are now. A probe that wants more takes its
   * entry back.
   */
  private offerEntry(proc: Process, probe: Probe, plan: Plan, addr: number, trampoline: number): void {
    const genWord = this.table.generationWordAddress;
    if (genWord === undefined) return;
    const insn = engineInsn(probe, plan);
    if (insn === undefined) {
      this.returns.withdraw(addr);
      return;
    }
    const vmas = proc.mm.vmas;
    this.returns.giveToEngine(proc.engine, {
      addr, probe, insn, trampoline,
      epochWords: [vmas.seqWordAddress(), genWord.call(this.table)],
      epochs: [vmas.seq, this.table.generation],
    });
  }

  /**
   * An int3 that is no probe: when the byte there is no longer 0xCC (a probe
   * was removed between the trap and now) the instruction is restarted (cf.
   * is_trap_at_addr); otherwise it is the guest's own breakpoint.
   */
  private restartIfGone(proc: Process, addr: number): boolean {
    const i = proc.mm.pt.leaf(addr - (addr % PAGE_SIZE), false);
    if (i < 0 || (proc.mm.pt.lo(i) & PTE_P) === 0 || proc.mm.bytes(addr, 1)[0] === 0xcc) return false;
    proc.engine.setRip(addr);
    return true;
  }

  /**
   * execve replaced the address space (cf. uprobe_free_utask from
   * mm_release, and the old mm's xol area going with it): no instruction is
   * being stepped, no return is outstanding, the slot area and the address
   * lookups belonged to the old image. The registry then serves the new one.
   */
  /**
   * The trap state of a fork child (cf. dup_utask, uprobe_dup_mmap): the same
   * probe table, its own copy of the slot area (dupMmap copied the page) and
   * of the return instances, and the step in progress if the fork was one.
   * A child that shares the address space (CLONE_VM: vfork's) shares the
   * area itself, each stepping in a slot of its own (cf. xol_get_insn_slot).
   * A new thread starts with no return instances and no step (a fresh
   * uprobe_task).
   */
  fork(child: Process): ProbeTraps {
    const t = new ProbeTraps(this.table);
    const area = this.xolArea;
    if (area && child.mm === area.mm) t.xolArea = area;
    else if (area) this.table.xolAreas.set(child.mm, (t.xolArea = new XolArea(child.mm, area)));
    if (child !== child.group.leader) return t; // a new thread: no return pending, no step (cf. a fresh uprobe_task)
    t.returns = this.returns.clone();
    t.state = this.state;
    // A copied area's slot goes to the child; in a shared one (vfork) the parent keeps it, and the child's step ends without freeing it.
    if (this.state.kind === "stepping" && t.xolArea !== this.xolArea) t.xolArea!.adopt(t, this.state.slot);
    return t;
  }

  onExec(proc: Process): void {
    this.state = { kind: "idle" };
    this.xolArea = undefined;
    this.returns.dispose();
    this.returns = new ReturnStack();
    this.cache.clear();
    this.table.execed?.(proc);
  }

  onSingleStep(proc: Process): boolean {
    const s = this.state;
    if (s.kind !== "stepping") return false;
    // A rep-prefixed string instruction traps after each iteration with RIP still
    // at its start: keep stepping the copy until it is done.
    if (proc.engine.rip() === s.slot) return true;
    this.endStep(s.slot);
    postXol(proc, s.plan, s.save, s.addr, s.probe.insn.length, s.slot);
    runPost(s.probe, proc, s.addr);
    return !s.save.guestTf; // a guest stepping itself gets its own trap, as unprobed
  }

  onExit(_proc: Process): void {
    if (this.state.kind === "stepping") this.endStep(this.state.slot);
    this.returns.dispose();
  }

  stepping(_proc: Process): boolean {
    return this.state.kind === "stepping";
  }

  abortStep(proc: Process): void {
    const s = this.state;
    if (s.kind !== "stepping") return;
    this.endStep(s.slot);
    abortXol(proc, s.plan, s.save, s.addr);
  }

  /**
   * The system call just made by `proc` has completed (cf. the syscall exit
   * path): when it was a probe's copy being stepped, the step ends here, with
   * the post handlers, before signals are delivered. So the restart rules
   * of an interrupted call (-ERESTART* into -EINTR or a restart at the
   * probed syscall, which hits again) apply as unprobed, and an
   * rt_sigreturn stepped out of line, after which no #DB comes, does not
   * leave the step open (every later signal held).
   */
  syscallDone(proc: Process): void {
    const s = this.state;
    if (s.kind !== "stepping" || !s.plan.fixSyscall) return;
    this.endStep(s.slot);
    endSyscallXol(proc, s.save, s.addr, proc.registersReplaced);
    runPost(s.probe, proc, s.addr);
  }

  originalRip(_proc: Process, rip: number): number {
    const s = this.state;
    if (s.kind === "stepping" && XolArea.inSlot(s.slot, rip)) return s.addr + (rip - s.slot);
    return rip;
  }

  /** The step in `slot` is over: this task is idle and the slot free for others. */
  private endStep(slot: number): void {
    this.state = { kind: "idle" };
    this.xolArea?.free(this, slot);
  }

  /** The trampoline's int3: a probed function is returning. */
  private onTrampoline(proc: Process): boolean {
    const inst = this.returns.leave(proc.engine.gpr(4));
    if (!inst) return false;
    inst.probe.returns++;
    let ctx: ProbeContext | undefined;
    for (const c of inst.probe.consumers) {
      if (c.ret && (!c.filter || c.filter(proc))) c.ret((ctx ??= context(proc, inst.probe, inst.ret, proc.engine.gpr(0))));
    }
    proc.engine.setRip(inst.ret);
    return true;
  }
}

/**
 * How the engine would run `probe`'s instruction at a return probe's entry
 * (patch 0011), or undefined when the entry must come to JavaScript: a
 * consumer with a pre or post handler or a filter, or an instruction the
 * engine does not emulate.
 */
function engineInsn(probe: Probe, plan: Plan): EngineInsn | undefined {
  if (plan.kind !== "emulate") return undefined;
  for (const c of probe.consumers) if (c.pre || c.post || c.filter || !c.ret) return undefined;
  const len = probe.insn.length;
  if (probe.cls.kind === "nop") return { kind: "skip", len };
  if (probe.cls.kind === "push") return { kind: "push", len, reg: probe.cls.reg };
  return undefined;
}

/**
 * An emulated push or call whose stack store faulted: the guest gets the
 * signal the CPU's own store would have raised, at the probed instruction
 * (RIP back on it, nothing changed), so a handler that returns retries it
 * and hits the probe again. Linux gets the same by falling back to stepping
 * the instruction out of line when emulate_push_stack fails, and aborting
 * that step on the fault (arch_uprobe_abort_xol).
 * @throws GuestSignal `e` when the signal kills (no handler, blocked or ignored)
 */
function storeFault(proc: Process, addr: number, e: GuestSignal): void {
  proc.engine.setRip(addr);
  const err = PF_USER | PF_WRITE | (e.siCode === SEGV_ACCERR ? PF_PRESENT : 0);
  forceSignal(proc, { signo: e.signo, code: e.siCode, addr: e.addr, trap: { trapno: Vec.PF, err, cr2: e.addr ?? 0 } }, e);
}

function runPost(probe: Probe, proc: Process, addr: number): void {
  let ctx: ProbeContext | undefined;
  for (const c of probe.consumers) if (c.post && (!c.filter || c.filter(proc))) c.post((ctx ??= context(proc, probe, addr)));
}

/**
 * What a handler sees of one hit: registers are read when asked for, and
 * the time when first asked for (during the handlers, which run at the hit);
 * reading the host clock for every hit cost ~40 ns whether a handler looked
 * or not.
 */
class HitContext implements ProbeContext {
  /** The time, once read (invariant: set at most once). */
  private at: bigint | undefined;

  constructor(readonly proc: Process, readonly probe: Probe, readonly addr: number, readonly retval?: number) {}

  get time(): bigint {
    return (this.at ??= process.hrtime.bigint() - start);
  }

  reg(name: string): number {
    return this.proc.engine.readReg(Reg[name as keyof typeof Reg]);
  }

  args(): number[] {
    const out: number[] = [];
    this.proc.engine.readRegs(ARG_REGS, out);
    return out;
  }
}

/** A handler context for a hit of `probe` at `addr` in `proc`. */
function context(proc: Process, probe: Probe, addr: number, retval?: number): ProbeContext {
  return new HitContext(proc, probe, addr, retval);
}
