/**
 * Program execution (cf. fs/exec.c SYSCALL_DEFINE3(execve),
 * SYSCALL_DEFINE5(execveat)): the machinery is emu/exec.ts.
 */
import { execveat } from "../exec.js";
import { AT_FDCWD } from "./fs.js";
import { i32, u64, type SyscallTable } from "./types.js";

/** What both leave out of Linux's execve. */
const PARTIAL = "set-user-ID and set-group-ID bits are not honoured (the credentials stay the caller's); a running program's file is not write-protected (no ETXTBSY)";

/** Registers execve (59) and execveat (322). */
export function registerExec(t: SyscallTable): void {
  t.set(59, {
    name: "execve", traceAtEntry: true, partial: PARTIAL,
    fn: (p, a) => execveat(p, { dirfd: AT_FDCWD, pathAddr: u64(a[0]), argvAddr: u64(a[1]), envpAddr: u64(a[2]), flags: 0 }),
  });
  t.set(322, {
    name: "execveat", traceAtEntry: true, partial: PARTIAL,
    fn: (p, a) => execveat(p, { dirfd: i32(a[0]), pathAddr: u64(a[1]), argvAddr: u64(a[2]), envpAddr: u64(a[3]), flags: i32(a[4]) }),
  });
}
