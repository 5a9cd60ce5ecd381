/**
 * Signal system calls, recorded but not delivered yet (cf. kernel/signal.c):
 * rt_sigaction keeps the guest's dispositions so it reads back what it set,
 * rt_sigprocmask keeps a mask, sigaltstack a stack; faults still end the
 * guest with the signal's default action.
 */
import { fail } from "../../lib/errno.js";
import { copyFromUser, copyToUser } from "../../mm/index.js";
import type { Process } from "../process.js";
import { i32, u64, type SyscallTable } from "./types.js";

const SIGKILL = 9, SIGSTOP = 19;
/** struct sigaction as the kernel takes it: handler, flags, restorer, mask (8 bytes). */
const SIGACTION_SIZE = 32;

function sigaction(p: Process, sig: number, act: number, old: number, size: number): number {
  if (sig < 1 || sig > 64 || size !== 8) fail("EINVAL", `rt_sigaction: bad signal ${sig} or mask size ${size}`);
  if (act !== 0 && (sig === SIGKILL || sig === SIGSTOP)) fail("EINVAL", "rt_sigaction: SIGKILL and SIGSTOP cannot be caught");
  if (old !== 0) copyToUser(p.mm, old, p.sigactions.get(sig) ?? new Uint8Array(SIGACTION_SIZE));
  if (act !== 0) p.sigactions.set(sig, copyFromUser(p.mm, act, SIGACTION_SIZE));
  return 0;
}

let mask = 0n;

function sigprocmask(p: Process, how: number, set: number, old: number, size: number): number {
  if (size !== 8) fail("EINVAL", "rt_sigprocmask: bad size");
  if (old !== 0) {
    const o = new DataView(new ArrayBuffer(8));
    o.setBigUint64(0, mask, true);
    copyToUser(p.mm, old, new Uint8Array(o.buffer));
  }
  if (set === 0) return 0;
  const v = new DataView(copyFromUser(p.mm, set, 8).buffer).getBigUint64(0, true);
  switch (how) {
    case 0: mask |= v; break; // SIG_BLOCK
    case 1: mask &= ~v; break; // SIG_UNBLOCK
    case 2: mask = v; break; // SIG_SETMASK
    default: fail("EINVAL", `rt_sigprocmask: bad how ${how}`);
  }
  return 0;
}

export function registerSignal(t: SyscallTable): void {
  t.set(13, { name: "rt_sigaction", fn: (p, a) => sigaction(p, i32(a[0]), u64(a[1]), u64(a[2]), u64(a[3])) });
  t.set(14, { name: "rt_sigprocmask", fn: (p, a) => sigprocmask(p, i32(a[0]), u64(a[1]), u64(a[2]), u64(a[3])) });
  t.set(131, { name: "sigaltstack", fn: (p, a) => {
    if (u64(a[1]) !== 0) copyToUser(p.mm, u64(a[1]), new Uint8Array(24).fill(0).map((_, k) => (k === 8 ? 2 : 0))); // SS_DISABLE
    return 0;
  } });
  t.set(62, { name: "kill", fn: (p, a) => (i32(a[0]) === p.pid && i32(a[1]) !== 0 ? p.exit(128 + i32(a[1])) : 0) });
  t.set(200, { name: "tkill", fn: () => 0 });
  t.set(234, { name: "tgkill", fn: () => 0 });
}
