/**
 * siginfo_t as x86-64 Linux lays it out (cf. include/uapi/asm-generic/siginfo.h,
 * kernel/signal.c siginfo_layout): 128 bytes, signo/errno/code, then a union
 * whose member the signal and code choose.
 *
 *   0 si_signo  4 si_errno  8 si_code  12 (pad)
 *  16 kill:  si_pid  20 si_uid
 *  16 timer: si_tid  20 si_overrun  24 si_value
 *  16 rt:    si_pid  20 si_uid      24 si_value
 *  16 chld:  si_pid  20 si_uid      24 si_status  32 si_utime  40 si_stime
 *  16 fault: si_addr
 */
import { SIG, SI_QUEUE, SI_TIMER, SI_MESGQ, SI_ASYNCIO, SI_TKILL, SI_USER } from "./constants.js";

/** sizeof(siginfo_t). */
export const SIGINFO_SIZE = 128;

/** One signal's information, the fields its layout uses. */
export interface SigInfo {
  readonly signo: number;
  /** si_code: SI_USER, SI_KERNEL, SI_TKILL, SEGV_MAPERR, ... */
  readonly code: number;
  readonly errno?: number;
  /** Sender's pid and uid (kill, tkill, sigqueue, SIGCHLD). */
  readonly pid?: number;
  readonly uid?: number;
  /** The faulting address (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP from the CPU). */
  readonly addr?: number;
  /** A POSIX timer's id and overrun count (SI_TIMER). */
  readonly timerId?: number;
  readonly overrun?: number;
  /** sigval: sigqueue's and a timer's value, as its 64 bits. */
  readonly value?: bigint;
  /** SIGCHLD: the exit code or signal, and the child's CPU times in clock ticks. */
  readonly status?: number;
  readonly utime?: number;
  readonly stime?: number;
  /**
   * Called as the signal is dequeued for delivery; returns the siginfo to
   * deliver (cf. posixtimer_rearm: a POSIX timer fills si_overrun there),
   * or undefined to drop it (cf. posixtimer_deliver_signal: its timer was
   * set again or deleted since).
   */
  readonly rearm?: (info: SigInfo) => SigInfo | undefined;
  /** For a CPU exception: the vector, error code and CR2 that go into the ucontext (trapno, err, cr2). */
  readonly trap?: { readonly trapno: number; readonly err: number; readonly cr2: number };
  /** The 128 bytes a sender wrote (rt_sigqueueinfo), delivered as they are. */
  readonly raw?: Uint8Array;
}

/** The union member a siginfo uses (cf. enum siginfo_layout, the ones faultline sends). */
export type Layout = "kill" | "timer" | "rt" | "chld" | "fault";

const FAULT_SIGNALS = new Set<number>([SIG.SIGILL, SIG.SIGFPE, SIG.SIGSEGV, SIG.SIGBUS, SIG.SIGTRAP]);

/** Which union member a siginfo uses (cf. siginfo_layout). */
export function layoutOf(info: SigInfo): Layout {
  if (info.code === SI_TIMER) return "timer";
  if (info.code === SI_QUEUE || info.code === SI_MESGQ || info.code === SI_ASYNCIO) return "rt";
  if (info.code > 0 && info.signo === SIG.SIGCHLD) return "chld";
  if (info.code > 0 && FAULT_SIGNALS.has(info.signo)) return "fault";
  return "kill";
}

/** The 128 bytes of `info` as the guest reads them. */
export function encodeSigInfo(info: SigInfo): Uint8Array {
  if (info.raw) return info.raw.slice(0, SIGINFO_SIZE);
  const b = new Uint8Array(SIGINFO_SIZE);
  const v = new DataView(b.buffer);
  v.setInt32(0, info.signo, true);
  v.setInt32(4, info.errno ?? 0, true);
  v.setInt32(8, info.code, true);
  switch (layoutOf(info)) {
    case "fault":
      v.setBigUint64(16, BigInt(info.addr ?? 0), true);
      break;
    case "timer":
      v.setInt32(16, info.timerId ?? 0, true);
      v.setInt32(20, info.overrun ?? 0, true);
      v.setBigUint64(24, BigInt.asUintN(64, info.value ?? 0n), true);
      break;
    case "chld":
      v.setInt32(16, info.pid ?? 0, true);
      v.setUint32(20, info.uid ?? 0, true);
      v.setInt32(24, info.status ?? 0, true);
      v.setBigInt64(32, BigInt(info.utime ?? 0), true);
      v.setBigInt64(40, BigInt(info.stime ?? 0), true);
      break;
    case "rt":
    case "kill":
      v.setInt32(16, info.pid ?? 0, true);
      v.setUint32(20, info.uid ?? 0, true);
      if (info.value !== undefined) v.setBigUint64(24, BigInt.asUintN(64, info.value), true);
  }
  return b;
}

/**
 * A siginfo the guest wrote (rt_sigqueueinfo): signo, errno and code, and
 * the kill/rt fields, which is what a sender may fill (cf. copy_siginfo_from_user).
 * Precondition: bytes.length >= 128.
 */
export function decodeSigInfo(bytes: Uint8Array): SigInfo {
  const v = new DataView(bytes.buffer, bytes.byteOffset, SIGINFO_SIZE);
  return {
    signo: v.getInt32(0, true), errno: v.getInt32(4, true), code: v.getInt32(8, true),
    pid: v.getInt32(16, true), uid: v.getUint32(20, true), value: v.getBigUint64(24, true),
    raw: bytes.slice(0, SIGINFO_SIZE),
  };
}

/** The siginfo of a signal sent by kill (SI_USER) or tkill/tgkill (SI_TKILL) from `pid`/`uid` (cf. prepare_kill_siginfo). */
export function userSigInfo(signo: number, o: { pid: number; uid: number; tkill?: boolean }): SigInfo {
  return { signo, code: o.tkill ? SI_TKILL : SI_USER, pid: o.pid, uid: o.uid };
}
