/**
 * The system-call table and dispatcher (cf. arch/x86/entry/syscall_64.c).
 * Handlers live one file per area; results follow the kernel ABI: a value,
 * or -errno in RAX.
 */
import { ErrnoError } from "../../lib/errors.js";
import { Errno } from "../../lib/errno.js";
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
 * Runs syscall `nr` with `args` for `p`.
 * @returns the value for RAX (-errno on failure; -ENOSYS for unknown calls,
 *   with one warning per call number)
 */
export function dispatch(p: Process, nr: number, args: readonly number[]): number {
  const entry = SYSCALLS.get(nr);
  const trace = p.options.strace;
  if (!entry) {
    p.warnOnce(`syscall-${nr}`, `faultline: unimplemented system call ${nr}, returning -ENOSYS`);
    trace?.(`syscall_${nr}(0x${(args[0] ?? 0).toString(16)}, ...) = -1 ENOSYS`);
    return -Errno.ENOSYS;
  }
  const call = trace ? formatCall(p, entry.name, args) : "";
  let ret: number;
  try {
    ret = entry.fn(p, args);
  } catch (e) {
    if (!(e instanceof ErrnoError)) {
      if (trace) trace(`${call} = ?`);
      throw e;
    }
    ret = -e.errno;
  }
  trace?.(call + formatResult(ret));
  return ret;
}
