/**
 * The system-call table and dispatcher (cf. arch/x86/entry/syscall_64.c).
 * Handlers live one file per area; results follow the kernel ABI: a value,
 * or -errno in RAX.
 */
import { ErrnoError } from "../../lib/errors.js";
import { Errno, hostErrno } from "../../lib/errno.js";
import type { Process } from "../process.js";
import { registerDirs } from "./dirs.js";
import { registerFs } from "./fs.js";
import { registerMm } from "./mm.js";
import { registerNet } from "./net.js";
import { registerProcess } from "./process.js";
import { registerSignal } from "./signal.js";
import { registerStat } from "./stat.js";
import { formatCall, formatResult } from "./strace.js";
import type { SyscallTable } from "./types.js";

/** Every implemented call. */
export const SYSCALLS: SyscallTable = new Map();
registerMm(SYSCALLS);
registerFs(SYSCALLS);
registerProcess(SYSCALLS);
registerStat(SYSCALLS);
registerDirs(SYSCALLS);
registerSignal(SYSCALLS);
registerNet(SYSCALLS);

/**
 * The -errno a handler's exception stands for: an ErrnoError's own, or a
 * host call's failure made on the guest's behalf (the one place where host
 * errors that no handler translated become the guest's errno). 0 for
 * anything else: a bug or a guest exit, rethrown by the caller.
 */
function errnoOf(e: unknown): number {
  if (e instanceof ErrnoError) return -e.errno;
  const name = hostErrno(e);
  return name === undefined ? 0 : -Errno[name];
}

/**
 * Runs syscall `nr` with `args` for `p`.
 * @returns the value for RAX (-errno on failure; -ENOSYS for unknown calls,
 *   with one warning per call number)
 */
export function dispatch(p: Process, nr: number, args: readonly number[]): number | bigint {
  const entry = SYSCALLS.get(nr);
  const trace = p.options.strace;
  if (!entry) {
    p.warnOnce(`syscall-${nr}`, `faultline: unimplemented system call ${nr}, returning -ENOSYS`);
    trace?.(`syscall_${nr}(0x${(args[0] ?? 0).toString(16)}, ...) = -1 ENOSYS`);
    return -Errno.ENOSYS;
  }
  const call = trace ? formatCall(p, entry.name, args) : "";
  let ret: number | bigint;
  try {
    ret = entry.fn(p, args);
  } catch (e) {
    ret = errnoOf(e);
    if (ret === 0) {
      if (trace) trace(`${call} = ?`);
      throw e;
    }
  }
  trace?.(call + formatResult(Number(ret)));
  return ret;
}
