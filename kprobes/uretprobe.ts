/**
 * Return probes (cf. prepare_uretprobe, handle_trampoline): at the probed
 * function's first instruction the return address on the stack is replaced
 * by the trampoline's address and kept, with the stack pointer, on a
 * per-task stack of return instances. The trampoline's int3 pops the
 * instance whose frame is returning, runs the `ret` handlers with the return
 * value, and resumes at the real return address.
 *
 * Recursion and nesting push one instance per call. A longjmp, a
 * siglongjmp out of a signal handler, or an exception unwinding skips
 * frames: their instances, whose stack pointers lie below the returning
 * frame's, are dropped when the trampoline is next hit, and at the next
 * probed entry those at or below its RSP (cf. cleanup_return_instances). Depth is capped at 64 instances per
 * task, as Linux's MAX_URETPROBE_DEPTH: deeper calls run unprobed on return.
 *
 * On faultline's engine build (patch 0011) the instances live in the
 * engine's return-probe table (uc_x86_uretprobe_table), and entries of
 * probes that want nothing from JavaScript at the entry (only `ret`
 * handlers, no filter) are given to the engine, which takes them without
 * calling the interrupt hook; the trampoline stays JavaScript's:
 *
 *   int3 at a listed entry, table epochs hold ──> engine: swap [RSP], push instance,
 *        │                                          emulate push/nop, count the hit
 *        └─ otherwise ──> trap path (enter(), emulate) ──> list the entry for next time
 *   int3 at the trampoline ──> trap path: leave(), ret handlers, RIP = real return
 */
import type { Process } from "../emu/index.js";
import { HostRegion } from "../lib/hostmem.js";
import { exchangeStackTop } from "./arch-x86.js";
import type { HitSource, Probe } from "./probe.js";

/** A task's engine (emu/'s Engine, reached through the process). */
type Engine = Process["engine"];

/** Most return instances per task (cf. MAX_URETPROBE_DEPTH; the engine table's UC_X86_URET_DEPTH). */
export const MAX_URETPROBE_DEPTH = 64;

/** The patch that gives the engine its return-probe table (a "build" library lists it). */
const ENGINE_PATCH = "0011-uretprobe-entries-in-the-engine";

/**
 * uc_x86_uretprobe_table (include/unicorn/unicorn.h of faultline's build),
 * as indices of 32-bit words; a 64-bit field is two words, low first.
 */
const T = {
  version: 0, nentries: 1, epoch0: 2, epoch1: 4, trampoline: 6, depth: 8, skipped: 9,
  /** 16 entries of 8 words: addr (2), hits (2), epoch[2], probe, kind | len << 8 | reg << 16. */
  entries: 10,
  ret: 138, sp: 266, probe: 394, words: 458,
} as const;
const TABLE_VERSION = 1, TABLE_ENTRIES = 16, ENTRY_WORDS = 8;
const E = { addr: 0, hits: 2, epoch: 4, probe: 6, shape: 7 } as const;
const KIND_SKIP = 1, KIND_PUSH = 2;
const TWO32 = 0x100000000;

/** A return instance that is returning (cf. struct return_instance): what the trampoline's handlers see. */
interface ReturnInstance {
  readonly probe: Probe;
  /** The real return address. */
  readonly ret: number;
  /** RSP at entry: where the return address lay. */
  readonly sp: number;
}

/** How the engine runs a listed entry's displaced instruction. */
export type EngineInsn = { readonly kind: "skip"; readonly len: number } | { readonly kind: "push"; readonly len: number; readonly reg: number };

/** What an entry given to the engine holds for. */
export interface EngineEntry {
  /** The int3's address in the task's address space. */
  readonly addr: number;
  readonly probe: Probe;
  readonly insn: EngineInsn;
  /** The trampoline of the task's address space. */
  readonly trampoline: number;
  /** Host addresses of the two words the entry's epochs are compared with, and their values now. */
  readonly epochWords: readonly [number, number];
  readonly epochs: readonly [number, number];
}

/** Where the engine was with this task's table. */
type EngineState =
  | { readonly kind: "none" }
  | { readonly kind: "attached"; readonly engine: Engine; readonly region: HostRegion }
  /** The engine has no such table (a stock library): never asked again. */
  | { readonly kind: "unsupported" };

/**
 * One task's outstanding return instances, innermost last, in the engine
 * table's layout: a JavaScript array until the table is given to the
 * engine, host memory (shared with the engine) from then on. A probed call
 * makes no object. Invariant: instances [0, depth) are live, their `sp`
 * strictly decreasing (an inner frame lies below its caller's); an
 * instance's probe number indexes `numbered`.
 */
export class ReturnStack implements HitSource {
  /** The table's words: `T` says where each field is. */
  private w: Uint32Array = new Uint32Array(T.words);
  /** Probes by the number instances and entries record. */
  private readonly numbered: Probe[] = [];
  /** Each numbered probe's number. */
  private readonly numbers = new Map<Probe, number>();
  /** What exchangeStackTop reports, reused. */
  private readonly top = { rsp: 0, old: 0 };
  private engine: EngineState = { kind: "none" };

  /** fork's copy (cf. dup_utask's dup_return_instance): the child returns through the same frames; entries stay with the parent's engine. */
  clone(): ReturnStack {
    const c = new ReturnStack();
    for (let i = 0; i < this.depth; i++) c.push(this.probeAt(i), this.u64(T.ret + 2 * i), this.u64(T.sp + 2 * i));
    c.w[T.skipped] = this.w[T.skipped];
    return c;
  }

  /**
   * At the entry of `probe`'s function: hijacks the return address.
   * @returns false when the depth limit was reached (the call returns unprobed)
   * @throws GuestSignal when the return address cannot be written (nothing is recorded)
   */
  enter(p: Process, probe: Probe, trampoline: number): boolean {
    if (this.depth >= MAX_URETPROBE_DEPTH) {
      this.w[T.skipped]++;
      return false;
    }
    const { rsp, old } = exchangeStackTop(p, trampoline, this.top);
    // Instances at or below this frame were skipped by a longjmp (cf. cleanup_return_instances):
    // a live caller's return address lies strictly above RSP (arch_uretprobe_is_alive, RP_CHECK_CALL:
    // alive iff sp < ret->stack). One at RSP itself is a frame a (sig)longjmp left, the same call
    // site entered again: keeping it would pile one stale instance per jump up to the depth limit.
    while (this.depth > 0 && this.u64(T.sp + 2 * (this.depth - 1)) <= rsp) this.w[T.depth]--;
    this.push(probe, old, rsp);
    return true;
  }

  /**
   * At the trampoline, with RSP just past the popped return address.
   * @returns the instance returning now (a new object), or undefined when none matches
   */
  leave(rsp: number): ReturnInstance | undefined {
    const frame = rsp - 8;
    while (this.depth > 0 && this.u64(T.sp + 2 * (this.depth - 1)) < frame) this.w[T.depth]--; // skipped by longjmp
    const i = this.depth - 1;
    if (i < 0 || this.u64(T.sp + 2 * i) !== frame) return undefined;
    const inst = { probe: this.probeAt(i), ret: this.u64(T.ret + 2 * i), sp: frame };
    this.w[T.depth]--;
    return inst;
  }

  /** Instances outstanding. */
  get depth(): number {
    return this.w[T.depth];
  }

  /** Calls whose return went unprobed because the stack was full (the engine's and the trap path's). */
  get skipped(): number {
    return this.w[T.skipped];
  }

  /**
   * Lets `engine` take the entries at `entry.addr` itself from now on
   * (patch 0011), while both epoch words keep the values given; the first
   * call gives the engine this task's table. Nothing happens on an engine
   * without the patch, or when the table's 16 entries are taken.
   * Precondition: the engine is not running; every consumer of the probe
   * only wants returns (no pre or post handler, no filter).
   * @returns whether the engine holds the entry now
   */
  giveToEngine(engine: Engine, entry: EngineEntry): boolean {
    if (!this.attach(engine)) return false;
    const w = this.w;
    setU64(w, T.epoch0, entry.epochWords[0]);
    setU64(w, T.epoch1, entry.epochWords[1]);
    setU64(w, T.trampoline, entry.trampoline);
    const at = this.entrySlot(entry.addr);
    if (at < 0) return false;
    const num = this.numberOf(entry.probe);
    if (w[at + E.probe] !== num) this.foldEntry(at); // the address named another probe (a free entry: nothing to fold)
    setU64(w, at + E.addr, entry.addr);
    w[at + E.epoch] = entry.epochs[0];
    w[at + E.epoch + 1] = entry.epochs[1];
    w[at + E.probe] = num;
    const i = entry.insn;
    w[at + E.shape] = (i.kind === "push" ? KIND_PUSH : KIND_SKIP) | (i.len << 8) | ((i.kind === "push" ? i.reg : 0) << 16);
    entry.probe.countedBy(this);
    return true;
  }

  /** Takes the entry at `addr` back from the engine (its probe now wants the entry in JavaScript), its hits folded into the probe. */
  withdraw(addr: number): void {
    if (this.engine.kind !== "attached") return;
    for (let k = 0; k < this.w[T.nentries]; k++) {
      const at = T.entries + k * ENTRY_WORDS;
      if (this.u64(at + E.addr) === addr) this.foldEntry(at);
    }
  }

  hitsOf(probe: Probe): number {
    const num = this.numbers.get(probe);
    let n = 0;
    for (let k = 0; k < this.w[T.nentries]; k++) {
      const at = T.entries + k * ENTRY_WORDS;
      if (this.w[at + E.probe] === num && this.u64(at + E.addr) !== 0) n += this.u64(at + E.hits);
    }
    return n;
  }

  /**
   * The task ended or exec'd: the engine lets go of the table (unless it
   * was closed already), the entries' hits are folded into their probes,
   * and the host memory returned. The stack is empty and unused afterwards.
   */
  dispose(): void {
    const s = this.engine;
    if (s.kind !== "attached") return;
    if (s.engine.handle !== 0) s.engine.setReturnProbeTable(0);
    for (let k = 0; k < this.w[T.nentries]; k++) this.foldEntry(T.entries + k * ENTRY_WORDS);
    this.w = new Uint32Array(T.words);
    s.region.release();
    this.engine = { kind: "none" };
  }

  /** Gives `engine` this table (moved into host memory) once; false when it cannot take one. */
  private attach(engine: Engine): boolean {
    const s = this.engine;
    if (s.kind === "attached" && s.engine === engine) return true;
    if (s.kind === "unsupported" || s.kind === "attached") return false; // one engine per task's stack (exec makes a new stack)
    if (!engine.lib.patches.includes(ENGINE_PATCH)) {
      this.engine = { kind: "unsupported" };
      return false;
    }
    const region = new HostRegion(T.words * 4);
    const { arr, at } = region.words(0);
    const w = arr.subarray(at, at + T.words);
    w.set(this.w);
    w[T.version] = TABLE_VERSION;
    if (!engine.setReturnProbeTable(region.addr)) {
      region.release();
      this.engine = { kind: "unsupported" };
      return false;
    }
    this.w = w;
    this.engine = { kind: "attached", engine, region };
    return true;
  }

  /** The word index of the entry for `addr`: its own, a free one, or a new one; -1 when all 16 are taken. */
  private entrySlot(addr: number): number {
    const n = this.w[T.nentries];
    let free = -1;
    for (let k = 0; k < n; k++) {
      const at = T.entries + k * ENTRY_WORDS;
      const a = this.u64(at + E.addr);
      if (a === addr) return at;
      if (a === 0 && free < 0) free = at;
    }
    if (free >= 0 || n === TABLE_ENTRIES) return free;
    this.w[T.nentries] = n + 1;
    return T.entries + n * ENTRY_WORDS;
  }

  /**
   * Frees the entry at word `at`: its engine-counted hits go to its probe,
   * which is forgotten when no other entry names it. A free entry stays so.
   */
  private foldEntry(at: number): void {
    if (this.u64(at + E.addr) === 0) return;
    const num = this.w[at + E.probe];
    const probe = this.numbered[num];
    probe.fold(this.u64(at + E.hits));
    setU64(this.w, at + E.hits, 0);
    setU64(this.w, at + E.addr, 0);
    for (let k = 0; k < this.w[T.nentries]; k++) {
      const o = T.entries + k * ENTRY_WORDS;
      if (this.w[o + E.probe] === num && this.u64(o + E.addr) !== 0) return;
    }
    probe.forget(this);
  }

  private numberOf(probe: Probe): number {
    let n = this.numbers.get(probe);
    if (n === undefined) {
      n = this.numbered.push(probe) - 1;
      this.numbers.set(probe, n);
    }
    return n;
  }

  private probeAt(i: number): Probe {
    return this.numbered[this.w[T.probe + i]];
  }

  private push(probe: Probe, ret: number, sp: number): void {
    const i = this.depth;
    setU64(this.w, T.ret + 2 * i, ret);
    setU64(this.w, T.sp + 2 * i, sp);
    this.w[T.probe + i] = this.numberOf(probe);
    this.w[T.depth] = i + 1;
  }

  /** The 64-bit field at word `i` (an address: below 2^53). */
  private u64(i: number): number {
    return this.w[i] + this.w[i + 1] * TWO32;
  }
}

/** Stores `v` (0 <= v < 2^53) as the 64-bit field at word `i`. */
function setU64(w: Uint32Array, i: number, v: number): void {
  w[i] = v >>> 0;
  w[i + 1] = Math.floor(v / TWO32);
}
