/**
 * Signal system calls, recorded but not delivered yet (cf. kernel/signal.c):
 * rt_sigaction keeps the guest's dispositions so it reads back what it set,
 * rt_sigprocmask keeps the process's blocked mask, sigaltstack a stack;
 * faults still end the guest with the signal's default action. Arguments
 * are checked as Linux checks them: a signal number outside 1..64 (0 for
 * the kill family's existence probe) is EINVAL, a process or thread other
 * than the guest itself is ESRCH.
 */
import { fail } from "../../lib/errno.js";
import { copyFromUser, copyToUser } from "../../mm/index.js";
import type { Process } from "../process.js";
import { i32, u64, type SyscallTable } from "./types.js";

const SIGKILL = 9, SIGSTOP = 19;
/** _NSIG on x86-64: signals are 1..64. */
export const NSIG = 64;
/** struct sigaction as the kernel takes it: handler, flags, restorer, mask (8 bytes). */
const SIGACTION_SIZE = 32;
/** Offset of sa_mask in that struct. */
const SA_MASK_OFF = 24;
/** The bits of SIGKILL and SIGSTOP in a sigset, which can never be blocked (cf. sigdelsetmask). */
const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));

/** A signal number rt_sigaction accepts: 1..64 (cf. valid_signal, with 0 excluded by do_sigaction). */
function validSignal(sig: number): boolean {
  return sig >= 1 && sig <= NSIG;
}

/** Reads a 64-bit sigset from guest memory. */
function sigsetFromUser(p: Process, addr: number): bigint {
  return new DataView(copyFromUser(p.mm, addr, 8).buffer).getBigUint64(0, true);
}

/** Writes a 64-bit sigset to guest memory. */
function sigsetToUser(p: Process, addr: number, set: bigint): void {
  const o = new DataView(new ArrayBuffer(8));
  o.setBigUint64(0, set, true);
  copyToUser(p.mm, addr, new Uint8Array(o.buffer));
}

/** rt_sigaction(2) (cf. do_sigaction): the size first, then the signal, then SIGKILL/SIGSTOP. */
function sigaction(p: Process, sig: number, act: number, old: number, size: number): number {
  if (size !== 8) fail("EINVAL", `rt_sigaction: sigset size ${size}, want 8`);
  if (!validSignal(sig)) fail("EINVAL", `rt_sigaction: bad signal ${sig}`);
  if (act !== 0 && (sig === SIGKILL || sig === SIGSTOP)) fail("EINVAL", "rt_sigaction: SIGKILL and SIGSTOP cannot be caught");
  const next = act !== 0 ? copyFromUser(p.mm, act, SIGACTION_SIZE) : null;
  if (old !== 0) copyToUser(p.mm, old, p.sigactions.get(sig) ?? new Uint8Array(SIGACTION_SIZE));
  if (next) {
    const view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    view.setBigUint64(SA_MASK_OFF, view.getBigUint64(SA_MASK_OFF, true) & ~UNBLOCKABLE, true);
    p.sigactions.set(sig, next);
  }
  return 0;
}

/** rt_sigprocmask(2) (cf. sys_rt_sigprocmask): a bad `how` changes nothing and writes no old set. */
function sigprocmask(p: Process, how: number, set: number, old: number, size: number): number {
  if (size !== 8) fail("EINVAL", `rt_sigprocmask: sigset size ${size}, want 8`);
  const before = p.sigmask;
  if (set !== 0) {
    const v = sigsetFromUser(p, set) & ~UNBLOCKABLE;
    switch (how) {
      case 0: p.sigmask = before | v; break; // SIG_BLOCK
      case 1: p.sigmask = before & ~v; break; // SIG_UNBLOCK
      case 2: p.sigmask = v; break; // SIG_SETMASK
      default: fail("EINVAL", `rt_sigprocmask: bad how ${how}`);
    }
  }
  if (old !== 0) sigsetToUser(p, old, before);
  return 0;
}

/** Signals whose default action is to ignore them (cf. SIG_KERNEL_IGNORE_MASK). */
const DEFAULT_IGNORED = new Set([17, 18, 23, 28]); // SIGCHLD, SIGCONT, SIGURG, SIGWINCH

/**
 * Sends `sig` to the guest itself once the target is known to be it (cf.
 * check_kill_permission's valid_signal, then sig_ignored and the default
 * action): 0 only probes; a blocked or ignored signal is dropped (Linux
 * keeps a blocked one pending; delivery is not built yet); any other ends
 * the guest as its default action would, even when a handler is set.
 */
function sendToSelf(p: Process, sig: number, call: string): number {
  if (sig < 0 || sig > NSIG) fail("EINVAL", `${call}: bad signal ${sig}`);
  if (sig === 0 || (p.sigmask >> BigInt(sig - 1)) & 1n) return 0;
  const act = p.sigactions.get(sig);
  const handler = act ? new DataView(act.buffer, act.byteOffset, act.byteLength).getBigUint64(0, true) : 0n;
  if (handler === 1n || (handler === 0n && DEFAULT_IGNORED.has(sig))) return 0; // SIG_IGN, or SIG_DFL that ignores
  return p.exit(128 + sig);
}

/**
 * kill(2) (cf. kill_something_info): pid > 0 names a process, 0 the caller's
 * group, -pgrp a group, -1 every process but the caller (of which a guest
 * sees none).
 */
function kill(p: Process, pid: number, sig: number): number {
  if (pid === -0x80000000) fail("ESRCH", "kill: pid INT_MIN names no process");
  if (pid === p.pid || pid === 0 || pid === -p.pid) return sendToSelf(p, sig, "kill");
  if (pid === -1 && (sig < 0 || sig > NSIG)) fail("EINVAL", `kill: bad signal ${sig}`);
  return fail("ESRCH", `kill: no process ${pid} in this guest`);
}

/**
 * tgkill(2) and tkill(2) (`tgid` null) (cf. sys_tgkill, do_tkill): non-positive
 * ids are EINVAL; a thread other than the guest's one is ESRCH.
 */
function tgkill(p: Process, tgid: number | null, tid: number, sig: number, call: string): number {
  if (tid <= 0 || (tgid !== null && tgid <= 0)) fail("EINVAL", `${call}: bad thread id`);
  if (tid !== p.pid || (tgid !== null && tgid !== p.pid)) fail("ESRCH", `${call}: no thread ${tid} in this guest`);
  return sendToSelf(p, sig, call);
}

/** Registers the signal calls. */
export function registerSignal(t: SyscallTable): void {
  t.set(13, { name: "rt_sigaction", partial: "dispositions are recorded and read back; no handler ever runs", fn: (p, a) => sigaction(p, i32(a[0]), u64(a[1]), u64(a[2]), u64(a[3])) });
  t.set(14, { name: "rt_sigprocmask", partial: "the mask is kept (and shown in /proc/self/status); no signal is ever pending", fn: (p, a) => sigprocmask(p, i32(a[0]), u64(a[1]), u64(a[2]), u64(a[3])) });
  t.set(131, { name: "sigaltstack", partial: "a new stack is accepted and forgotten; the old one always reads as SS_DISABLE", fn: (p, a) => {
    if (u64(a[1]) !== 0) copyToUser(p.mm, u64(a[1]), new Uint8Array(24).fill(0).map((_, k) => (k === 8 ? 2 : 0))); // SS_DISABLE
    return 0;
  } });
  t.set(62, { name: "kill", partial: "only the guest itself; a blocked signal is dropped, not kept pending; a caught one ends the guest with the default action (no handlers run)", fn: (p, a) => kill(p, i32(a[0]), i32(a[1])) });
  t.set(200, { name: "tkill", partial: "only the guest's one thread; as kill: blocked signals are dropped, handlers do not run", fn: (p, a) => tgkill(p, null, i32(a[0]), i32(a[1]), "tkill") });
  t.set(234, { name: "tgkill", partial: "only the guest's one thread; as kill: blocked signals are dropped, handlers do not run", fn: (p, a) => tgkill(p, i32(a[0]), i32(a[1]), i32(a[2]), "tgkill") });
}
