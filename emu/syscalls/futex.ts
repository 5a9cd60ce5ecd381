/**
 * futex(2), set_robust_list(2) and get_robust_list(2) (cf.
 * kernel/futex/syscalls.c do_futex, futex_init_timeout): the operation
 * decoded and checked as Linux checks it, then the wait queues of
 * emu/futex.ts.
 *
 *   FUTEX_WAIT, FUTEX_WAIT_BITSET             wait while *uaddr == val (WAIT: relative timeout; BITSET: absolute)
 *   FUTEX_WAKE, FUTEX_WAKE_BITSET             wake at most val waiters (whose bitset matches)
 *   FUTEX_REQUEUE, FUTEX_CMP_REQUEUE          wake val, move val2 to uaddr2 (CMP: only while *uaddr == val3)
 *   FUTEX_WAKE_OP                             *uaddr2 = op(*uaddr2); wake on uaddr, and on uaddr2 if cmp(old)
 *   the PI operations, FUTEX_FD               ENOSYS (glibc uses PI only for PTHREAD_PRIO_INHERIT mutexes)
 */
import { fail } from "../../lib/errno.js";
import { copyToUser, futexKey } from "../../mm/index.js";
import { FUTEX_BITSET_MATCH_ANY, futexWait, readFutexWord, writeFutexWord } from "../futex.js";
import type { Process } from "../process.js";
import { CLOCK_REALTIME, hostClockNs } from "../host-clock.js";
import { deadlineNs, nowNs, readTimeNs } from "./poll.js";
import { i32, u64, type SyscallTable } from "./types.js";

/** futex operations and flags (cf. uapi/linux/futex.h). */
export const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_FD = 2, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5;
export const FUTEX_LOCK_PI = 6, FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
export const FUTEX_WAIT_REQUEUE_PI = 11, FUTEX_CMP_REQUEUE_PI = 12, FUTEX_LOCK_PI2 = 13;
export const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
const FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

/** The six arguments of futex(2) as the caller passed them. */
interface FutexCall {
  readonly uaddr: number;
  readonly op: number;
  readonly val: number;
  /** The timeout's address (the waits). */
  readonly utime: number;
  /** The same argument's low 32 bits as an int: val2, the count REQUEUE, CMP_REQUEUE and WAKE_OP take there (cf. `val2 = (u32)(unsigned long)utime`). */
  readonly val2: number;
  readonly uaddr2: number;
  readonly val3: number;
}

/**
 * The monotonic deadline of a wait's timeout (cf. futex_init_timeout):
 * FUTEX_WAIT's is relative; the others' absolute, on CLOCK_MONOTONIC or,
 * with FUTEX_CLOCK_REALTIME, CLOCK_REALTIME. A re-run after parking keeps
 * the first run's deadline.
 */
function waitDeadline(p: Process, c: FutexCall, cmd: number): bigint | undefined {
  if (c.utime === 0) return undefined;
  const ns = readTimeNs(p, c.utime);
  if (cmd === FUTEX_WAIT) return deadlineNs(p, ns);
  if (p.resumeUntilNs !== undefined) return p.resumeUntilNs;
  const now = c.op & FUTEX_CLOCK_REALTIME ? hostClockNs(CLOCK_REALTIME) : nowNs();
  return nowNs() + (ns > now ? ns - now : 0n);
}

/** FUTEX_WAKE_OP's operation on the old value (cf. arch_futex_atomic_op_inuser). @throws ErrnoError ENOSYS for an unknown one */
function wakeOpValue(encoded: number, old: number): number {
  const op = (encoded >>> 28) & 7, shift = (encoded >>> 28) & 8;
  let arg = (encoded << 8) >> 20; // 12 bits, sign-extended
  if (shift) arg = 1 << (arg & 31);
  switch (op) {
    case 0: return arg; // FUTEX_OP_SET
    case 1: return old + arg; // FUTEX_OP_ADD
    case 2: return old | arg; // FUTEX_OP_OR
    case 3: return old & ~arg; // FUTEX_OP_ANDN
    case 4: return old ^ arg; // FUTEX_OP_XOR
    default: return fail("ENOSYS", `futex: FUTEX_WAKE_OP operation ${op}`);
  }
}

/** FUTEX_WAKE_OP's comparison of the old value (cf. futex_atomic_op_inuser). @throws ErrnoError ENOSYS for an unknown one */
function wakeOpCompare(encoded: number, old: number): boolean {
  const cmp = (encoded >>> 24) & 15, arg = (encoded << 20) >> 20, v = old | 0;
  switch (cmp) {
    case 0: return v === arg; // FUTEX_OP_CMP_EQ
    case 1: return v !== arg; // NE
    case 2: return v < arg; // LT
    case 3: return v <= arg; // LE
    case 4: return v > arg; // GT
    case 5: return v >= arg; // GE
    default: return fail("ENOSYS", `futex: FUTEX_WAKE_OP comparison ${cmp}`);
  }
}

/** FUTEX_WAKE_OP (cf. futex_wake_op). */
function wakeOp(p: Process, c: FutexCall, shared: boolean): number {
  const k1 = futexKey(p.mm, c.uaddr, shared), k2 = futexKey(p.mm, c.uaddr2, shared);
  const old = readFutexWord(p, c.uaddr2);
  writeFutexWord(p, c.uaddr2, wakeOpValue(c.val3, old)); // an unknown comparison fails after the operation (cf. futex_atomic_op_inuser)
  const hit = wakeOpCompare(c.val3, old);
  const t = p.kernel.futexes;
  let n = t.wake(k1, c.val, FUTEX_BITSET_MATCH_ANY);
  if (hit) n += t.wake(k2, c.val2, FUTEX_BITSET_MATCH_ANY);
  return n;
}

/** FUTEX_REQUEUE / FUTEX_CMP_REQUEUE (cf. futex_requeue without PI). */
function requeue(p: Process, c: FutexCall, shared: boolean, cmp: boolean): number {
  const nWake = c.val, nRequeue = c.val2;
  if (nWake < 0 || nRequeue < 0) fail("EINVAL", "futex: negative wake or requeue count");
  const from = futexKey(p.mm, c.uaddr, shared), to = futexKey(p.mm, c.uaddr2, shared);
  if (cmp && readFutexWord(p, c.uaddr) !== c.val3 >>> 0) fail("EAGAIN", "futex: FUTEX_CMP_REQUEUE: the word no longer holds val3");
  return p.kernel.futexes.requeue(from, to, nWake, nRequeue);
}

/**
 * futex(2) (cf. do_futex and SYSCALL_DEFINE6(futex)).
 * @returns 0 for a wait that was woken, the number woken (and requeued) for the others
 * @throws ErrnoError as futex(2) documents: ENOSYS for unknown and PI operations, EINVAL, EFAULT,
 *   EAGAIN, ETIMEDOUT; RestartError when a signal interrupts a wait
 */
export function futex(p: Process, c: FutexCall): number {
  const cmd = c.op & FUTEX_CMD_MASK, shared = (c.op & FUTEX_PRIVATE_FLAG) === 0;
  if (c.op & FUTEX_CLOCK_REALTIME && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT_REQUEUE_PI && cmd !== FUTEX_LOCK_PI2) {
    fail("ENOSYS", "futex: FUTEX_CLOCK_REALTIME with an operation that has no absolute timeout");
  }
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bitset = cmd === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : c.val3 >>> 0;
      if (bitset === 0) fail("EINVAL", "futex: FUTEX_WAIT_BITSET with bitset 0");
      return futexWait(p, { addr: c.uaddr, val: c.val, bitset, shared, untilNs: waitDeadline(p, c, cmd) });
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const bitset = cmd === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : c.val3 >>> 0;
      if (bitset === 0) fail("EINVAL", "futex: FUTEX_WAKE_BITSET with bitset 0");
      return p.kernel.futexes.wake(futexKey(p.mm, c.uaddr, shared), c.val, bitset);
    }
    case FUTEX_REQUEUE: return requeue(p, c, shared, false);
    case FUTEX_CMP_REQUEUE: return requeue(p, c, shared, true);
    case FUTEX_WAKE_OP: return wakeOp(p, c, shared);
    case FUTEX_LOCK_PI: case FUTEX_UNLOCK_PI: case FUTEX_TRYLOCK_PI: case FUTEX_WAIT_REQUEUE_PI: case FUTEX_CMP_REQUEUE_PI: case FUTEX_LOCK_PI2:
      return fail("ENOSYS", "futex: priority-inheritance futexes are not supported");
    default: return fail("ENOSYS", `futex: unknown operation ${cmd}`);
  }
}

/** sizeof(struct robust_list_head). */
export const ROBUST_LIST_HEAD_SIZE = 24;

/** get_robust_list(2): the robust list head of thread `tid` (0: the caller) and its size. */
function getRobustList(p: Process, tid: number, headAddr: number, lenAddr: number): number {
  const t = tid === 0 ? p : p.kernel.procs.get(tid) ?? fail("ESRCH", `get_robust_list: no thread ${tid}`);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(t.robustList), true);
  copyToUser(p.mm, headAddr, b);
  new DataView(b.buffer).setBigUint64(0, BigInt(ROBUST_LIST_HEAD_SIZE), true);
  copyToUser(p.mm, lenAddr, b);
  return 0;
}

export function registerFutex(t: SyscallTable): void {
  t.set(202, {
    name: "futex", partial: "priority-inheritance operations are ENOSYS",
    fn: (p, a) => futex(p, { uaddr: u64(a[0]), op: i32(a[1]), val: i32(a[2]), utime: u64(a[3]), val2: i32(a[3]), uaddr2: u64(a[4]), val3: i32(a[5]) }),
  });
  t.set(273, { name: "set_robust_list", fn: (p, a) => {
    if (u64(a[1]) !== ROBUST_LIST_HEAD_SIZE) fail("EINVAL", "set_robust_list: bad size");
    p.robustList = u64(a[0]);
    return 0;
  } });
  t.set(274, { name: "get_robust_list", fn: (p, a) => getRobustList(p, i32(a[0]), u64(a[1]), u64(a[2])) });
}
