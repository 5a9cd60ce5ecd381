/**
 * What a system-call handler sees: the process and its six arguments, as
 * signed 64-bit values held exactly when |v| < 2^53 (addresses, sizes and
 * small negatives such as fd -1 all are). A handler that needs an argument's
 * exact 64 bits (a file offset up to 2^63-1) reads it with {@link argBig}.
 * A handler returns the result (a bigint when it may exceed 2^53, as an
 * lseek offset may) or throws ErrnoError; the dispatcher turns that into
 * -errno.
 */
import { Reg } from "../constants.js";
import type { Process } from "../process.js";

export type SyscallHandler = (p: Process, a: readonly number[]) => number | bigint;

/**
 * A table of handlers by x86-64 syscall number, with names for --strace and,
 * for a call that does only part of what Linux's does, what is missing
 * (`partial`, shown in emu/syscalls/README.md's generated table).
 */
export type SyscallTable = Map<number, {
  name: string;
  fn: SyscallHandler;
  partial?: string;
  /** --strace formats the arguments before the call (execve: after it they lie in a released address space). */
  traceAtEntry?: boolean;
}>;

/** Unsigned view of a signed argument (lossy above 2^53, which only ever means "huge"). */
export function u64(v: number): number {
  return v < 0 ? v + 2 ** 64 : v;
}

/** The low 32 bits as a signed int (C `int` arguments). */
export function i32(v: number): number {
  return Number(BigInt.asIntN(32, BigInt(Math.trunc(v))));
}

/** The registers of the six arguments, in order (cf. the x86-64 syscall ABI). */
const ARG_REGS = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9] as const;

/**
 * Argument `k` (0-5) of the system call being handled, exactly, as a signed
 * 64-bit value (cf. loff_t arguments). Precondition: called from a handler,
 * before the result is written (the registers still hold the arguments).
 */
export function argBig(p: Process, k: number): bigint {
  return BigInt.asIntN(64, p.engine.readRegBig(ARG_REGS[k]));
}
