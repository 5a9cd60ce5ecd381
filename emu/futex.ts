/**
 * Futexes (cf. kernel/futex/: core.c, waitwake.c, requeue.c): the wait
 * queues of a guest world, keyed by futex word (mm/futex-key.ts), and the
 * operations on them that futex(2) offers.
 *
 *   futexWait(task, addr, val)                       futexWake(key, n, bitset)
 *     value != val ──> EAGAIN                          each waiter on key with bitset & its bitset,
 *     queue a FutexWaiter on key                       at most n, in queue order:
 *     park (ParkError with wake = waiter.woken)          woken = true, taken off the queue
 *       ◄── the scheduler re-runs the call only once woken, a signal, the deadline or --timeout
 *     woken ──> 0     deadline ──> ETIMEDOUT     signal ──> ERESTARTSYS (timed: restart block)
 *
 * Only one engine runs at a time, so the value check and the queueing are
 * atomic against every other task's futex calls and stores, as the hash
 * bucket lock makes them in Linux (cf. futex_wait_setup). A parked wait runs
 * again from the start of its system call; the task's `futexWaiter` says
 * that it is already queued, so a re-run does not check the value again
 * (a wake between the two runs must not be lost).
 */
import { fail } from "../lib/errno.js";
import { ErrnoError } from "../lib/errors.js";
import { copyFromUser, copyToUser, futexKey, sameFutexKey, type FutexKey } from "../mm/index.js";
import { ParkError } from "./park.js";
import type { Process } from "./process.js";
import { RestartError } from "./signal/index.js";
import { NO_HOST, nowNs, sleepSlice } from "./syscalls/poll.js";

/** FUTEX_BITSET_MATCH_ANY: what FUTEX_WAIT and FUTEX_WAKE use as their bitset. */
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

/** One task queued on a futex word (cf. struct futex_q). */
export class FutexWaiter {
  /** Set by a wake (or a requeue to a PI futex, which faultline lacks): the wait returns 0. */
  woken = false;
  /**
   * @param task the waiting task
   * @param key the word it waits on; a requeue moves it (cf. requeue_futex)
   * @param bitset the wake bits it accepts (non-zero)
   */
  constructor(readonly task: Process, public key: FutexKey, readonly bitset: number) {}
}

/** The futex wait queues of one guest world (cf. futex_queues, one bucket per key here). */
export class FutexTable {
  /** Waiters by key: base object, then offset; each list in queue order. Invariant: no empty list is kept. */
  private readonly queues = new Map<object, Map<number, FutexWaiter[]>>();
  /** The same for mm-shared keys (shared futexes in private memory: other words than the private ones at the same address). */
  private readonly mmSharedQueues = new Map<object, Map<number, FutexWaiter[]>>();

  /** The map `key`'s queue lives in. */
  private mapOf(key: FutexKey): Map<object, Map<number, FutexWaiter[]>> {
    return key.mmShared ? this.mmSharedQueues : this.queues;
  }

  /** Queues `w` at the end of its key's list (cf. futex_queue). */
  queue(w: FutexWaiter): void {
    const map = this.mapOf(w.key);
    let byOffset = map.get(w.key.base);
    if (byOffset === undefined) map.set(w.key.base, (byOffset = new Map()));
    const list = byOffset.get(w.key.offset);
    if (list === undefined) byOffset.set(w.key.offset, [w]);
    else list.push(w);
  }

  /** Takes `w` off its queue (cf. futex_unqueue). @returns whether it was queued */
  unqueue(w: FutexWaiter): boolean {
    const map = this.mapOf(w.key);
    const byOffset = map.get(w.key.base);
    const list = byOffset?.get(w.key.offset);
    const k = list?.indexOf(w) ?? -1;
    if (k < 0) return false;
    list!.splice(k, 1);
    if (list!.length === 0) {
      byOffset!.delete(w.key.offset);
      if (byOffset!.size === 0) map.delete(w.key.base);
    }
    return true;
  }

  /** The waiters queued on `key`, in queue order (a copy). */
  waiters(key: FutexKey): FutexWaiter[] {
    return [...(this.mapOf(key).get(key.base)?.get(key.offset) ?? [])];
  }

  /**
   * Wakes at most `n` waiters of `key` whose bitset shares a bit with
   * `bitset`, oldest first, and at least one when any matches, whatever
   * `n` (cf. futex_wake's `if (++ret >= nr_wake) break` after each wake).
   * @returns how many were woken
   */
  wake(key: FutexKey, n: number, bitset: number): number {
    let woken = 0;
    for (const w of this.waiters(key)) {
      if ((w.bitset & bitset) === 0) continue;
      this.wakeOne(w);
      if (++woken >= n) break;
    }
    return woken;
  }

  /** Takes `w` off its queue and lets its wait return 0 (cf. futex_wake_mark). */
  private wakeOne(w: FutexWaiter): void {
    this.unqueue(w);
    w.woken = true;
  }

  /**
   * Wakes at most `nWake` waiters of `from`, then moves at most `nRequeue`
   * of the rest to `to` (cf. futex_requeue without PI).
   * @returns woken plus requeued
   */
  requeue(from: FutexKey, to: FutexKey, nWake: number, nRequeue: number): number {
    let count = 0; // cf. futex_requeue's task_count: exactly nWake woken here, unlike futex_wake
    for (const w of this.waiters(from)) {
      if (count - nWake >= nRequeue) break;
      if (++count <= nWake) {
        this.wakeOne(w);
        continue;
      }
      if (sameFutexKey(from, to)) continue; // moved onto its own word: it stays where it is
      this.unqueue(w);
      w.key = to;
      this.queue(w);
    }
    return count;
  }
}

/** Reads the futex word at `addr` (cf. get_futex_value_locked). @throws ErrnoError EFAULT */
export function readFutexWord(p: Process, addr: number): number {
  return new DataView(copyFromUser(p.mm, addr, 4).buffer).getUint32(0, true);
}

/** Writes the futex word at `addr`. @throws ErrnoError EFAULT */
export function writeFutexWord(p: Process, addr: number, value: number): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  copyToUser(p.mm, addr, b);
}

/** How a futex wait is asked for. */
export interface FutexWaitArgs {
  /** The word's address. */
  readonly addr: number;
  /** The value the caller saw: the wait happens only while the word still holds it. */
  readonly val: number;
  /** Wake bits (FUTEX_WAIT: all). Non-zero. */
  readonly bitset: number;
  /** Not FUTEX_PRIVATE_FLAG: the key follows shared mappings. */
  readonly shared: boolean;
  /** Monotonic deadline in ns (undefined: none). */
  readonly untilNs?: bigint;
}

/**
 * FUTEX_WAIT / FUTEX_WAIT_BITSET for task `p` (cf. futex_wait): waits
 * while the word holds `val`, until a wake, the deadline or a signal.
 * Precondition: called from `p`'s system call (it may park: ParkError).
 * @returns 0 when woken
 * @throws ErrnoError EAGAIN (the value differs), ETIMEDOUT, EFAULT, EINVAL; RestartError
 *   ERESTARTSYS for an untimed wait a signal interrupts, ERESTART_RESTARTBLOCK for a timed one
 */
export function futexWait(p: Process, a: FutexWaitArgs): number {
  const table = p.kernel.futexes;
  let w = p.futexWaiter;
  if (w === undefined) {
    const key = futexKey(p.mm, a.addr, a.shared);
    if (readFutexWord(p, a.addr) !== a.val >>> 0) fail("EAGAIN", "futex: the word no longer holds the value");
    w = new FutexWaiter(p, key, a.bitset);
    table.queue(w);
    p.futexWaiter = w;
  }
  const waiter = w;
  try {
    while (!waiter.woken) {
      if (a.untilNs !== undefined && nowNs() >= a.untilNs) fail("ETIMEDOUT", "futex: timed out");
      sleepSlice(p, NO_HOST, a.untilNs, () => waiter.woken);
    }
  } catch (e) {
    if (e instanceof RestartError && a.untilNs !== undefined) {
      leaveWait(p, waiter);
      p.sigtask.restart = () => futexWait(p, a); // cf. futex_wait_restart: the same deadline, the value checked again
      throw new RestartError("ERESTART_RESTARTBLOCK", e.message);
    }
    if (!(e instanceof ParkError)) leaveWait(p, waiter); // a parked call stays queued for its re-run
    throw e;
  }
  leaveWait(p, waiter);
  return 0;
}

/** Ends `p`'s wait on `w`: off its queue, and no longer the task's. */
function leaveWait(p: Process, w: FutexWaiter): void {
  p.kernel.futexes.unqueue(w);
  if (p.futexWaiter === w) p.futexWaiter = undefined;
}

/**
 * Takes a task that ends while it waits off the futex queues (cf. the
 * futex_q of a task killed in futex_wait). No-op when it does not wait.
 */
export function abandonFutexWait(p: Process): void {
  const w = p.futexWaiter;
  if (w !== undefined) leaveWait(p, w);
}

/** Bits of a robust (and PI) futex word (cf. uapi/linux/futex.h). */
export const FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
/** How many entries a robust list walk follows at most (cf. ROBUST_LIST_LIMIT). */
const ROBUST_LIST_LIMIT = 2048;

/** Reads a user pointer-sized word. @throws ErrnoError EFAULT */
function readWord(p: Process, addr: number): bigint {
  return new DataView(copyFromUser(p.mm, addr, 8).buffer).getBigUint64(0, true);
}

/**
 * A robust futex held by task `p`, which ends (cf. handle_futex_death): a
 * word that names `p` as its owner becomes FUTEX_OWNER_DIED (keeping
 * FUTEX_WAITERS), and one waiter is woken, so the next locker gets
 * EOWNERDEAD; a pending operation's word that is 0 (the lock was being
 * taken) wakes a waiter too.
 */
function futexDeath(p: Process, uaddr: number, pi: boolean, pending: boolean): void {
  if (uaddr % 4 !== 0) return;
  const v = readFutexWord(p, uaddr);
  if (pending && !pi && v === 0) {
    p.kernel.futexes.wake(futexKey(p.mm, uaddr, true), 1, FUTEX_BITSET_MATCH_ANY);
    return;
  }
  if (((v & FUTEX_TID_MASK) >>> 0) !== p.pid) return;
  writeFutexWord(p, uaddr, ((v & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
  if (!pi && (v & FUTEX_WAITERS) !== 0) p.kernel.futexes.wake(futexKey(p.mm, uaddr, true), 1, FUTEX_BITSET_MATCH_ANY);
}

/**
 * Walks the robust list of task `p`, which ends (cf. exit_robust_list):
 * struct robust_list_head { next, futex_offset, list_op_pending } at
 * `p.robustList`; each entry's word is at entry + futex_offset, the entry's
 * low bit marks a PI futex. A list that cannot be read ends the walk, as
 * in Linux. No-op without a list.
 */
export function exitRobustList(p: Process): void {
  const head = p.robustList;
  if (head === 0) return;
  try {
    let entry = readWord(p, head);
    const offset = Number(BigInt.asIntN(64, readWord(p, head + 8)));
    const pending = readWord(p, head + 16);
    const at = (e: bigint) => Number(e & ~1n);
    for (let limit = ROBUST_LIST_LIMIT; at(entry) !== head && limit > 0; limit--) {
      const next = readWord(p, at(entry));
      if (at(entry) !== at(pending)) futexDeath(p, at(entry) + offset, (entry & 1n) !== 0n, false);
      entry = next;
    }
    if (pending !== 0n) futexDeath(p, at(pending) + offset, (pending & 1n) !== 0n, true);
  } catch (e) {
    if (!(e instanceof ErrnoError)) throw e;
  }
}
