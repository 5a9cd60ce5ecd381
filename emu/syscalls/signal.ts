/**
 * The signal system calls (cf. kernel/signal.c, arch/x86/kernel/signal_64.c):
 * dispositions, masks, waiting for signals, sending them to the guest itself,
 * the alternate stack, and rt_sigreturn. Delivery itself is emu/signal/.
 * Arguments are checked in Linux's order: sigset size, then the user
 * pointers (EFAULT), then the signal number (EINVAL), then the target (ESRCH).
 */
import { fail } from "../../lib/errno.js";
import { GuestSignal } from "../../lib/errors.js";
import { copyFromUser, copyToUser } from "../../mm/index.js";
import { ParkError } from "../park.js";
import type { Process } from "../process.js";
import {
  BadFrameError, NSIG, RestartError, SIG, SIGACTION_SIZE, SIG_DFL, SIG_IGN, SI_KERNEL, SI_TKILL, SS_AUTODISARM, SS_DISABLE,
  SS_ONSTACK, UNBLOCKABLE, decodeSigAction, decodeSigInfo, defaultAction, dequeueSignal, encodeSigAction, encodeSigInfo, forceSignal,
  restartAs, restoreRtFrame, sendSignal, signalPending, sigBit, sigsetFromUser, userSigInfo, type SigInfo,
} from "../signal/index.js";
import { deadlineNs, nowNs, readTimeNs, sleepSlice } from "./poll.js";
import { i32, u64, type SyscallTable } from "./types.js";

/** The sigaction flags the kernel keeps (cf. UAPI_SA_FLAGS with SA_RESTORER; unknown bits read back as 0). */
const UAPI_SA_FLAGS = 0x1 | 0x2 | 0x4 | 0x800 | 0x04000000 | 0x08000000 | 0x10000000 | 0x40000000 | 0x80000000;
/** The smallest alternate stack sigaltstack accepts (cf. MINSIGSTKSZ on x86). */
const MINSIGSTKSZ = 2048;
/** The calls whose EPIPE also raises SIGPIPE (cf. pipe_write and the socket send paths). */
export const SIGPIPE_CALLS: ReadonlySet<number> = new Set([1, 18, 20, 40, 275, 276, 278, 296, 328]);

/** A signal number rt_sigaction accepts: 1..64 (cf. valid_signal, with 0 excluded by do_sigaction). */
function validSignal(sig: number): boolean {
  return sig >= 1 && sig <= NSIG;
}

/** Writes a 64-bit sigset to guest memory. */
function sigsetToUser(p: Process, addr: number, set: bigint): void {
  const o = new DataView(new ArrayBuffer(8));
  o.setBigUint64(0, set, true);
  copyToUser(p.mm, addr, new Uint8Array(o.buffer));
}

/** The uid senders put in siginfo: the host's, as getuid answers the guest (read once: process.getuid costs ~1.7 us). */
const HOST_UID = process.getuid?.() ?? 0;

/** rt_sigaction(2) (cf. sys_rt_sigaction, do_sigaction). */
function sigaction(p: Process, sig: number, act: number, old: number, size: number): number {
  if (size !== 8) fail("EINVAL", `rt_sigaction: sigset size ${size}, want 8`);
  const next = act !== 0 ? decodeSigAction(copyFromUser(p.mm, act, SIGACTION_SIZE)) : null;
  if (!validSignal(sig)) fail("EINVAL", `rt_sigaction: bad signal ${sig}`);
  if (next && (sig === SIG.SIGKILL || sig === SIG.SIGSTOP)) fail("EINVAL", "rt_sigaction: SIGKILL and SIGSTOP cannot be caught");
  const before = p.sighand.get(sig);
  if (next) {
    p.sighand.set(sig, { ...next, flags: (next.flags & UAPI_SA_FLAGS) >>> 0 });
    // Setting an action that ignores discards what is pending of it (cf. do_sigaction's flush_sigqueue_mask).
    if (next.handler === SIG_IGN || (next.handler === SIG_DFL && defaultAction(sig) === "ignore")) {
      p.signal.shared.discard(sigBit(sig));
      p.sigtask.pending.discard(sigBit(sig));
    } else if (before.handler === SIG_IGN) {
      p.signal.timers.unignore(sig); // cf. posixtimer_sig_unignore: timers whose signal was ignored signal now
    }
  }
  if (old !== 0) copyToUser(p.mm, old, encodeSigAction(before));
  return 0;
}

/** rt_sigprocmask(2) (cf. sys_rt_sigprocmask): a bad `how` changes nothing and writes no old set. */
function sigprocmask(p: Process, how: number, set: number, old: number, size: number): number {
  if (size !== 8) fail("EINVAL", `rt_sigprocmask: sigset size ${size}, want 8`);
  const t = p.sigtask;
  const before = t.blocked;
  if (set !== 0) {
    const v = sigsetFromUser(p, set) & ~UNBLOCKABLE;
    switch (how) {
      case 0: t.blocked = before | v; break; // SIG_BLOCK
      case 1: t.blocked = before & ~v; break; // SIG_UNBLOCK
      case 2: t.blocked = v; break; // SIG_SETMASK
      default: fail("EINVAL", `rt_sigprocmask: bad how ${how}`);
    }
  }
  if (old !== 0) sigsetToUser(p, old, before);
  return 0;
}

/** rt_sigpending(2): the blocked signals that are pending, the task's and the group's (cf. do_sigpending). */
function sigpending(p: Process, addr: number, size: number): number {
  if (size > 8) fail("EINVAL", `rt_sigpending: sigset size ${size} > 8`);
  const set = (p.sigtask.pending.signal | p.signal.shared.signal) & p.sigtask.blocked;
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, set, true);
  copyToUser(p.mm, addr, b.subarray(0, size));
  return 0;
}

/** Waits until a signal is pending (the wait of pause and sigsuspend): throws the RestartError of sleepSlice. */
function waitForSignal(p: Process): never {
  for (;;) sleepSlice(p, { fds: [], events: 0 });
}

/**
 * rt_sigsuspend(2) (cf. sys_rt_sigsuspend): the mask is replaced until a
 * handler runs; the old one goes into the handler's frame and comes back
 * at sigreturn (TIF_RESTORE_SIGMASK). Always -EINTR once a handler ran.
 */
function sigsuspend(p: Process, addr: number, size: number): number {
  if (size !== 8) fail("EINVAL", `rt_sigsuspend: sigset size ${size}, want 8`);
  const mask = sigsetFromUser(p, addr) & ~UNBLOCKABLE;
  const t = p.sigtask;
  t.savedMask = t.blocked;
  t.blocked = mask;
  try {
    return Number(restartAs("ERESTARTNOHAND", () => waitForSignal(p)));
  } catch (e) {
    if (e instanceof ParkError) t.restoreSavedMask(); // it runs again from the start: the old mask until then
    throw e;
  }
}

/**
 * rt_sigtimedwait(2) (cf. do_sigtimedwait): takes a pending signal of `set`
 * (blocked or not), waiting with the set unblocked while it waits; EAGAIN
 * when the timeout passes, EINTR when another signal is to be delivered.
 * @returns the signal's number
 */
function sigtimedwait(p: Process, setAddr: number, infoAddr: number, tsAddr: number, size: number): number {
  if (size !== 8) fail("EINVAL", `rt_sigtimedwait: sigset size ${size}, want 8`);
  const set = sigsetFromUser(p, setAddr) & ~UNBLOCKABLE;
  const until = tsAddr !== 0 ? deadlineNs(p, readTimeNs(p, tsAddr)) : undefined;
  const t = p.sigtask;
  const take = (): SigInfo | undefined => dequeueSignal(p, ~set);
  let info = take();
  const real = t.blocked;
  try {
    t.blocked = real & ~set; // cf. real_blocked: the awaited signals wake the wait
    while (!info) {
      if (until !== undefined && nowNs() >= until) fail("EAGAIN", "rt_sigtimedwait: timeout");
      try {
        sleepSlice(p, { fds: [], events: 0 }, until);
      } catch (e) {
        if (!(e instanceof RestartError)) throw e;
      }
      info = take();
      if (!info && signalPending(p)) fail("EINTR", "rt_sigtimedwait: interrupted by another signal");
    }
  } finally {
    t.blocked = real;
  }
  if (infoAddr !== 0) copyToUser(p.mm, infoAddr, encodeSigInfo(info));
  return info.signo;
}

/**
 * The processes kill's `pid` names (cf. kill_something_info): pid > 0 that
 * process, 0 the caller's group, -pgrp a group, -1 every process but the
 * caller and the first (as Linux spares init). Zombies count as found (a
 * signal to one does nothing).
 * @throws ErrnoError ESRCH when it names none
 */
function killTargets(p: Process, pid: number): Process[] {
  if (pid === -0x80000000) fail("ESRCH", "kill: pid INT_MIN names no process");
  const all = [...p.kernel.procs.values()].filter((q) => q === q.group.leader); // one per process
  let out: Process[];
  if (pid > 0) {
    const t = p.kernel.procs.get(pid); // a thread's id names its process too (cf. find_vpid)
    out = t ? [t.group.leader] : [];
  } else if (pid === 0) out = all.filter((q) => q.pgid === p.pgid);
  else if (pid === -1) out = all.filter((q) => q.group !== p.group && q.group !== p.kernel.init?.group);
  else out = all.filter((q) => q.pgid === -pid);
  if (out.length === 0 && pid !== -1) fail("ESRCH", `kill: no process ${pid} in this guest`);
  return out;
}

/** kill(2) (cf. kill_something_info, group_send_sig_info): 0 only probes; one sent to the caller is delivered at this call's return. */
function kill(p: Process, pid: number, sig: number): number {
  if (pid === -1 && (sig < 0 || sig > NSIG)) fail("EINVAL", `kill: bad signal ${sig}`);
  const targets = killTargets(p, pid);
  if (sig < 0 || sig > NSIG) fail("EINVAL", `kill: bad signal ${sig}`);
  if (pid === -1 && targets.length === 0) fail("ESRCH", "kill: no other process");
  if (sig === 0) return 0;
  for (const t of targets) if (t.exitStatus === undefined) sendSignal(t, userSigInfo(sig, { pid: p.tgid, uid: HOST_UID }));
  return 0;
}

/**
 * tgkill(2) and tkill(2) (`tgid` null) (cf. do_tkill): non-positive ids
 * are EINVAL; a tid that names no live thread, or one of another process
 * than `tgid`, is ESRCH; the signal goes to the thread (SI_TKILL).
 */
function tgkill(p: Process, tgid: number | null, tid: number, sig: number, call: string): number {
  if (tid <= 0 || (tgid !== null && tgid <= 0)) fail("EINVAL", `${call}: bad thread id`);
  const t = p.kernel.procs.get(tid);
  if (!t || t.state === "zombie" || (tgid !== null && tgid !== t.tgid)) fail("ESRCH", `${call}: no thread ${tid} in this guest`);
  if (sig < 0 || sig > NSIG) fail("EINVAL", `${call}: bad signal ${sig}`);
  if (sig !== 0) sendSignal(t, userSigInfo(sig, { pid: p.tgid, uid: HOST_UID, tkill: true }), { thread: true });
  return 0;
}

/**
 * rt_sigqueueinfo(2) / rt_tgsigqueueinfo(2) (cf. do_rt_sigqueueinfo): the
 * sender's siginfo as it wrote it; a sender may not pose as the kernel or as
 * kill/tkill (si_code >= 0 or SI_TKILL) toward another process.
 */
function sigqueueinfo(p: Process, target: { tgid: number; tid?: number }, sig: number, infoAddr: number): number {
  const raw = decodeSigInfo(copyFromUser(p.mm, infoAddr, 128));
  if ((raw.code >= 0 || raw.code === SI_TKILL) && target.tgid !== p.tgid) fail("EPERM", "rt_sigqueueinfo: si_code reserved for the kernel");
  if (target.tid !== undefined && (target.tgid <= 0 || target.tid <= 0)) fail("EINVAL", "rt_tgsigqueueinfo: bad ids");
  const t = p.kernel.procs.get(target.tid ?? target.tgid);
  const to = target.tid === undefined ? t?.group.leader : t?.tgid === target.tgid && t.state !== "zombie" ? t : undefined;
  if (to === undefined || to.exitStatus !== undefined) fail("ESRCH", `rt_sigqueueinfo: no process ${target.tgid}${target.tid === undefined ? "" : ` thread ${target.tid}`} in this guest`);
  if (sig < 0 || sig > NSIG) fail("EINVAL", `rt_sigqueueinfo: bad signal ${sig}`);
  if (sig === 0) return 0;
  const bytes = raw.raw!;
  new DataView(bytes.buffer, bytes.byteOffset).setInt32(0, sig, true);
  const sent = sendSignal(to, { ...raw, signo: sig, raw: bytes }, { thread: target.tid !== undefined });
  if (!sent && sig >= 32 && !to.sighand.ignores(sig)) fail("EAGAIN", "rt_sigqueueinfo: the queue is full");
  return 0;
}

/**
 * sigaltstack(2) (cf. do_sigaltstack): the old stack as it is (SS_ONSTACK
 * while running on it, SS_DISABLE when none), then the new one: EPERM while
 * on the stack, EINVAL for unknown flags, ENOMEM below MINSIGSTKSZ.
 */
function sigaltstack(p: Process, ssAddr: number, oldAddr: number): number {
  const t = p.sigtask;
  const sp = p.engine.gpr(4);
  const cur = t.altstack;
  const oldFlags = (cur.size === 0 ? SS_DISABLE : t.onAltStack(sp) ? SS_ONSTACK : 0) | (cur.flags & SS_AUTODISARM);
  const old = stackT(cur.sp, oldFlags, cur.size);
  if (ssAddr !== 0) {
    const v = new DataView(copyFromUser(p.mm, ssAddr, 24).buffer);
    const ss = { sp: Number(v.getBigUint64(0, true)), flags: v.getInt32(8, true), size: Number(v.getBigUint64(16, true)) };
    if (t.onAltStack(sp)) fail("EPERM", "sigaltstack: running on the alternate stack");
    const mode = ss.flags & ~SS_AUTODISARM;
    if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) fail("EINVAL", `sigaltstack: bad flags 0x${(ss.flags >>> 0).toString(16)}`);
    if (mode === SS_DISABLE) t.altstack = { sp: 0, size: 0, flags: ss.flags };
    else if (ss.size < MINSIGSTKSZ) fail("ENOMEM", `sigaltstack: ${ss.size} bytes < MINSIGSTKSZ`);
    else t.altstack = { sp: ss.sp, size: ss.size, flags: ss.flags };
  }
  if (oldAddr !== 0) copyToUser(p.mm, oldAddr, old);
  return 0;
}

/** A stack_t's 24 bytes. */
function stackT(sp: number, flags: number, size: number): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(sp), true);
  v.setInt32(8, flags, true);
  v.setBigUint64(16, BigInt(size), true);
  return b;
}

/**
 * rt_sigreturn(2) (cf. sys_rt_sigreturn): the registers, mask and altstack
 * of the frame the handler returns from; nothing restarts from here. A frame
 * that cannot be restored kills with SIGSEGV (or runs a SIGSEGV handler), as
 * Linux's badframe path forces it.
 * @returns the restored RAX (the dispatcher leaves the registers as restored)
 */
function sigreturn(p: Process): number {
  p.registersReplaced = true;
  const setRip = (a: number) => p.engine.setRip(a - 2); // from the syscall hook: the engine adds 2
  try {
    const r = restoreRtFrame(p.engine, p.mm, setRip);
    p.sigtask.blocked = r.mask & ~UNBLOCKABLE;
    restoreAltstack(p, r.altstack);
  } catch (e) {
    if (!(e instanceof BadFrameError)) throw e;
    const rip = p.engine.rip() + 2;
    forceSignal(p, { signo: SIG.SIGSEGV, code: SI_KERNEL }, new GuestSignal("SIGSEGV", SIG.SIGSEGV, rip, "signal", undefined, `SI_KERNEL: ${e.message}`),
      { rip, setRip });
  }
  return 0;
}

/** restore_altstack: the frame's uc_stack through sigaltstack's rules, errors other than EFAULT ignored. */
function restoreAltstack(p: Process, a: { sp: number; flags: number; size: number }): void {
  const t = p.sigtask;
  if (t.onAltStack(p.engine.gpr(4))) return; // EPERM, squashed
  const mode = a.flags & ~SS_AUTODISARM;
  if (mode === SS_DISABLE) t.altstack = { sp: 0, size: 0, flags: a.flags };
  else if ((mode === 0 || mode === SS_ONSTACK) && a.size >= MINSIGSTKSZ) t.altstack = { ...a };
}

/** restart_syscall(2): continues a nanosleep that a signal without a handler interrupted (cf. do_restart_poll et al.). */
function restartSyscall(p: Process): number | bigint {
  const fn = p.sigtask.restart;
  p.sigtask.restart = undefined;
  return fn ? fn() : fail("EINTR", "restart_syscall: nothing to restart");
}

/** Sends SIGPIPE to the caller, whose write just failed with EPIPE (cf. pipe_write's send_sig(SIGPIPE, current, 0)). */
export function raiseSigpipe(p: Process): void {
  sendSignal(p, userSigInfo(SIG.SIGPIPE, { pid: p.pid, uid: HOST_UID }), { thread: true });
}

/** Registers the signal calls. */
export function registerSignal(t: SyscallTable): void {
  t.set(13, { name: "rt_sigaction", fn: (p, a) => sigaction(p, i32(a[0]), u64(a[1]), u64(a[2]), u64(a[3])) });
  t.set(14, { name: "rt_sigprocmask", fn: (p, a) => sigprocmask(p, i32(a[0]), u64(a[1]), u64(a[2]), u64(a[3])) });
  t.set(15, { name: "rt_sigreturn", fn: (p) => sigreturn(p) });
  t.set(127, { name: "rt_sigpending", fn: (p, a) => sigpending(p, u64(a[0]), u64(a[1])) });
  t.set(128, { name: "rt_sigtimedwait", fn: (p, a) => sigtimedwait(p, u64(a[0]), u64(a[1]), u64(a[2]), u64(a[3])) });
  t.set(129, { name: "rt_sigqueueinfo", fn: (p, a) => sigqueueinfo(p, { tgid: i32(a[0]) }, i32(a[1]), u64(a[2])) });
  t.set(297, { name: "rt_tgsigqueueinfo", fn: (p, a) => sigqueueinfo(p, { tgid: i32(a[0]), tid: i32(a[1]) }, i32(a[2]), u64(a[3])) });
  t.set(130, { name: "rt_sigsuspend", fn: (p, a) => sigsuspend(p, u64(a[0]), u64(a[1])) });
  t.set(34, { name: "pause", fn: (p) => Number(restartAs("ERESTARTNOHAND", () => waitForSignal(p))) });
  t.set(131, { name: "sigaltstack", fn: (p, a) => sigaltstack(p, u64(a[0]), u64(a[1])) });
  t.set(219, { name: "restart_syscall", fn: (p) => restartSyscall(p) });
  t.set(62, { name: "kill", fn: (p, a) => kill(p, i32(a[0]), i32(a[1])) });
  t.set(200, { name: "tkill", fn: (p, a) => tgkill(p, null, i32(a[0]), i32(a[1]), "tkill") });
  t.set(234, { name: "tgkill", fn: (p, a) => tgkill(p, i32(a[0]), i32(a[1]), i32(a[2]), "tgkill") });
}

