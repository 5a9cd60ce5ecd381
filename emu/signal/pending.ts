/**
 * A set of pending signals (cf. struct sigpending and kernel/signal.c
 * __send_signal_locked / collect_signal): a bit per signal, and the queue
 * of their siginfos. A standard signal (1..31) is pending at most once; a
 * real-time one (32..64) queues every instance, up to RLIMIT_SIGPENDING.
 */
import { SIGRTMIN, SYNCHRONOUS, inSet, sigBit } from "./constants.js";
import type { SigInfo } from "./siginfo.js";

/** Largest number of queued signals (cf. RLIMIT_SIGPENDING; Linux's default is about the task limit). */
export const SIGQUEUE_MAX = 4096;

export class SigPending {
  /** Bit sig-1 set while at least one `sig` is queued. Invariant: equals the signals in `queue`. */
  signal = 0n;
  /** Queued siginfos in arrival order. */
  private readonly queue: SigInfo[] = [];

  /**
   * Queues `info` (cf. __send_signal_locked's legacy_queue check).
   * @returns false when a standard signal of that number is already pending
   *   or the queue is full (then a real-time signal is lost, as Linux's
   *   sigqueue allocation failure returns -EAGAIN to a sender)
   */
  add(info: SigInfo): boolean {
    if (info.signo < SIGRTMIN && inSet(this.signal, info.signo)) return false;
    if (this.queue.length >= SIGQUEUE_MAX) return false;
    this.queue.push(info);
    this.signal |= sigBit(info.signo);
    return true;
  }

  /**
   * The signal to deliver next among those not in `blocked` (cf.
   * next_signal: synchronous signals first, then the lowest number),
   * removed from the set.
   */
  take(blocked: bigint): SigInfo | undefined {
    const ready = this.signal & ~blocked;
    if (ready === 0n) return undefined;
    const sync = ready & SYNCHRONOUS;
    const pick = sync !== 0n ? sync : ready;
    const sig = lowestBit(pick);
    return this.remove(sig);
  }

  /** Removes and returns the first queued `sig` (cf. collect_signal); undefined when none. */
  remove(sig: number): SigInfo | undefined {
    const k = this.queue.findIndex((i) => i.signo === sig);
    if (k < 0) return undefined;
    const [info] = this.queue.splice(k, 1);
    if (!this.queue.some((i) => i.signo === sig)) this.signal &= ~sigBit(sig);
    return info;
  }

  /** Drops every queued instance of the signals in `set` (cf. flush_sigqueue_mask). */
  discard(set: bigint): void {
    if ((this.signal & set) === 0n) return;
    for (let k = this.queue.length - 1; k >= 0; k--) if (inSet(set, this.queue[k].signo)) this.queue.splice(k, 1);
    this.signal &= ~set;
  }
}

/** The lowest signal number whose bit is set in `set` (non-zero). */
function lowestBit(set: bigint): number {
  let sig = 1;
  let s = set;
  while ((s & 0xffffffffn) === 0n) {
    s >>= 32n;
    sig += 32;
  }
  while ((s & 1n) === 0n) {
    s >>= 1n;
    sig++;
  }
  return sig;
}
