/**
 * What a system-call handler sees: the process and its six arguments, as
 * signed 64-bit values held exactly when |v| < 2^53 (addresses, sizes and
 * small negatives such as fd -1 all are). A handler returns the result or
 * throws ErrnoError; the dispatcher turns that into -errno.
 */
import type { Process } from "../process.js";

export type SyscallHandler = (p: Process, a: readonly number[]) => number;

/**
 * A table of handlers by x86-64 syscall number, with names for --strace and,
 * for a call that does only part of what Linux's does, what is missing
 * (`partial`, shown in emu/syscalls/README.md's generated table).
 */
export type SyscallTable = Map<number, { name: string; fn: SyscallHandler; partial?: string }>;

/** Unsigned view of a signed argument (lossy above 2^53, which only ever means "huge"). */
export function u64(v: number): number {
  return v < 0 ? v + 2 ** 64 : v;
}

/** The low 32 bits as a signed int (C `int` arguments). */
export function i32(v: number): number {
  return Number(BigInt.asIntN(32, BigInt(Math.trunc(v))));
}
