/**
 * Return probes (cf. prepare_uretprobe, handle_trampoline): at the probed
 * function's first instruction the return address on the stack is replaced
 * by the trampoline's address and kept, with the stack pointer, on a
 * per-process stack of return instances. The trampoline's int3 pops the
 * instance whose frame is returning, runs the `ret` handlers with the return
 * value, and resumes at the real return address.
 *
 * Recursion and nesting push one instance per call. A longjmp, a
 * siglongjmp out of a signal handler, or an exception unwinding skips
 * frames: their instances, whose stack pointers lie below the returning
 * frame's, are dropped when the trampoline is next hit, and at the next
 * probed entry those at or below its RSP (cf. cleanup_return_instances). Depth is capped at 64 instances per
 * process, as Linux's MAX_URETPROBE_DEPTH: deeper calls run unprobed on return.
 */
import type { Process } from "../emu/index.js";
import { exchangeStackTop } from "./arch-x86.js";
import type { Probe } from "./probe.js";

/** Most return instances per process (cf. MAX_URETPROBE_DEPTH). */
export const MAX_URETPROBE_DEPTH = 64;

/** A return instance that is returning (cf. struct return_instance): what the trampoline's handlers see. */
interface ReturnInstance {
  readonly probe: Probe;
  /** The real return address. */
  readonly ret: number;
  /** RSP at entry: where the return address lay. */
  readonly sp: number;
}

/**
 * One task's outstanding return instances, innermost last, kept in fixed
 * arrays of MAX_URETPROBE_DEPTH entries: a probed call makes no object.
 * Invariant: entries [0, depth) are live, their `sp` strictly decreasing
 * (an inner frame lies below its caller's).
 */
export class ReturnStack {
  /** The probe of each instance. */
  private readonly probes: (Probe | undefined)[] = new Array<Probe | undefined>(MAX_URETPROBE_DEPTH).fill(undefined);
  /** The real return address of each instance. */
  private readonly rets = new Float64Array(MAX_URETPROBE_DEPTH);
  /** RSP at each instance's entry. */
  private readonly sps = new Float64Array(MAX_URETPROBE_DEPTH);
  /** Instances outstanding. */
  private n = 0;
  /** What exchangeStackTop reports, reused. */
  private readonly top = { rsp: 0, old: 0 };
  /** Calls whose return went unprobed because the stack was full. */
  skipped = 0;

  /** fork's copy (cf. dup_utask's dup_return_instance): the child returns through the same frames. */
  clone(): ReturnStack {
    const c = new ReturnStack();
    for (let i = 0; i < this.n; i++) c.push(this.probes[i]!, this.rets[i], this.sps[i]);
    c.skipped = this.skipped;
    return c;
  }

  /**
   * At the entry of `probe`'s function: hijacks the return address.
   * @returns false when the depth limit was reached (the call returns unprobed)
   * @throws GuestSignal when the return address cannot be written (nothing is recorded)
   */
  enter(p: Process, probe: Probe, trampoline: number): boolean {
    if (this.n >= MAX_URETPROBE_DEPTH) {
      this.skipped++;
      return false;
    }
    const { rsp, old } = exchangeStackTop(p, trampoline, this.top);
    // Instances at or below this frame were skipped by a longjmp (cf. cleanup_return_instances):
    // a live caller's return address lies strictly above RSP (arch_uretprobe_is_alive, RP_CHECK_CALL:
    // alive iff sp < ret->stack). One at RSP itself is a frame a (sig)longjmp left, the same call
    // site entered again: keeping it would pile one stale instance per jump up to the depth limit.
    while (this.n > 0 && this.sps[this.n - 1] <= rsp) this.drop();
    this.push(probe, old, rsp);
    return true;
  }

  /**
   * At the trampoline, with RSP just past the popped return address.
   * @returns the instance returning now (a new object), or undefined when none matches
   */
  leave(rsp: number): ReturnInstance | undefined {
    const frame = rsp - 8;
    while (this.n > 0 && this.sps[this.n - 1] < frame) this.drop(); // skipped by longjmp
    const i = this.n - 1;
    if (i < 0 || this.sps[i] !== frame) return undefined;
    const inst = { probe: this.probes[i]!, ret: this.rets[i], sp: frame };
    this.drop();
    return inst;
  }

  /** Instances outstanding. */
  get depth(): number {
    return this.n;
  }

  private push(probe: Probe, ret: number, sp: number): void {
    this.probes[this.n] = probe;
    this.rets[this.n] = ret;
    this.sps[this.n] = sp;
    this.n++;
  }

  /** Pops the innermost instance (its probe reference goes with it). */
  private drop(): void {
    this.probes[--this.n] = undefined;
  }
}
