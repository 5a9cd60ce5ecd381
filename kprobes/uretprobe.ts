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

interface ReturnInstance {
  readonly probe: Probe;
  /** The real return address. */
  readonly ret: number;
  /** RSP at entry: where the return address lies. */
  readonly sp: number;
}

export class ReturnStack {
  private readonly stack: ReturnInstance[] = [];
  /** Calls whose return went unprobed because the stack was full. */
  skipped = 0;

  /** fork's copy (cf. dup_utask's dup_return_instance): the child returns through the same frames. */
  clone(): ReturnStack {
    const c = new ReturnStack();
    c.stack.push(...this.stack.map((r) => ({ ...r })));
    c.skipped = this.skipped;
    return c;
  }

  /**
   * At the entry of `probe`'s function: hijacks the return address.
   * @returns false when the depth limit was reached (the call returns unprobed)
   * @throws GuestSignal when the return address cannot be written (nothing is recorded)
   */
  enter(p: Process, probe: Probe, trampoline: number): boolean {
    if (this.stack.length >= MAX_URETPROBE_DEPTH) {
      this.skipped++;
      return false;
    }
    const { rsp, old } = exchangeStackTop(p, trampoline);
    // Instances at or below this frame were skipped by a longjmp (cf. cleanup_return_instances):
    // a live caller's return address lies strictly above RSP (arch_uretprobe_is_alive, RP_CHECK_CALL:
    // alive iff sp < ret->stack). One at RSP itself is a frame a (sig)longjmp left, the same call
    // site entered again: keeping it would pile one stale instance per jump up to the depth limit.
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].sp <= rsp) this.stack.pop();
    this.stack.push({ probe, ret: old, sp: rsp });
    return true;
  }

  /**
   * At the trampoline, with RSP just past the popped return address.
   * @returns the instance returning now, or undefined when none matches
   */
  leave(rsp: number): ReturnInstance | undefined {
    const frame = rsp - 8;
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].sp < frame) this.stack.pop(); // skipped by longjmp
    const top = this.stack[this.stack.length - 1];
    if (!top || top.sp !== frame) return undefined;
    this.stack.pop();
    return top;
  }

  /** Instances outstanding. */
  get depth(): number {
    return this.stack.length;
  }
}
