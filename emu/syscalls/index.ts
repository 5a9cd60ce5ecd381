/**
 * The system-call table and dispatcher (cf. arch/x86/entry/syscall_64.c).
 * Handlers live one file per area; results follow the kernel ABI: a value,
 * or -errno in RAX.
 */
import { ErrnoError } from "../../lib/errors.js";
import { Errno, hostErrno } from "../../lib/errno.js";
import { ParkError } from "../park.js";
import type { Process } from "../process.js";
import { registerClone } from "./clone.js";
import { registerDirs } from "./dirs.js";
import { registerExec } from "./exec.js";
import { registerFs } from "./fs.js";
import { registerFutex } from "./futex.js";
import { registerMm } from "./mm.js";
import { registerNet } from "./net.js";
import { registerProcess } from "./process.js";
import { registerSched } from "./sched.js";
import { registerSignal } from "./signal.js";
import { registerSignalfd } from "./signalfd.js";
import { registerStat } from "./stat.js";
import { registerTimer } from "./timer.js";
import { SYSCALL_NAMES } from "./names.js";
import { formatArgs, formatLine } from "./strace.js";
import type { SyscallTable } from "./types.js";

/** Every implemented call. */
export const SYSCALLS: SyscallTable = new Map();
registerMm(SYSCALLS);
registerFs(SYSCALLS);
registerProcess(SYSCALLS);
registerFutex(SYSCALLS);
registerSched(SYSCALLS);
registerStat(SYSCALLS);
registerDirs(SYSCALLS);
registerSignal(SYSCALLS);
registerSignalfd(SYSCALLS);
registerNet(SYSCALLS);
registerClone(SYSCALLS);
registerTimer(SYSCALLS);
registerExec(SYSCALLS);

/**
 * What the calls registered without a `partial` note leave out of Linux's
 * behaviour, by name (a handler may instead carry the note itself). Shown in
 * emu/syscalls/README.md's generated table; a name here that is not in the
 * table is a load-time error.
 */
const PARTIAL: Readonly<Record<string, string>> = {
  prctl: "PR_SET_NAME, PR_GET_NAME, PR_SET_PDEATHSIG and PR_GET_PDEATHSIG as Linux; every other option answers 0 and does nothing",
  ioctl: "terminal requests (TCGETS/TCSETS*, TIOCGWINSZ/TIOCSWINSZ, TIOCGPGRP/TIOCSPGRP) pass through to a host terminal and FIONBIO is accepted, and on sockets SIOCINQ (FIONREAD) and SIOCOUTQ answer; any other request is ENOTTY",
  pipe: "both ends inside the process; a read of an empty pipe whose writer is open (or a write to a full one) waits, and with one process only --timeout ends it",
  pipe2: "as pipe",
  fadvise64: "advice accepted and ignored",
  socket: "no networking: every family is EAFNOSUPPORT",
  getppid: "the first process's parent is outside the guest: it answers the first process's own pid",
  clock_gettime: "the CPU-time clocks measure the whole faultline process",
};
for (const [name, note] of Object.entries(PARTIAL)) {
  const entry = [...SYSCALLS.values()].find((e) => e.name === name);
  if (!entry) throw new Error(`emu/syscalls/index.ts: partial note for ${name}, which is not in the table`);
  entry.partial ??= note;
}

/**
 * Calls that answer ENOSYS by design, with the reason; dispatch returns
 * -ENOSYS for them without the unimplemented-call warning.
 */
export const ENOSYS_ON_PURPOSE: ReadonlyMap<number, string> = new Map([
  ...[134, 174, 177, 178, 180, 181, 182, 183, 184, 185, 205, 211, 214, 215, 236].map((nr): [number, string] =>
    [nr, "Linux itself has no x86-64 entry point for it (sys_ni_syscall)"]),
  ...[425, 426, 427].map((nr): [number, string] =>
    [nr, "no io_uring (one thread, no asynchronous I/O); its users check for ENOSYS and fall back to plain calls"]),
]);

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
    const name = SYSCALL_NAMES.get(nr);
    if (!ENOSYS_ON_PURPOSE.has(nr)) {
      p.warnOnce(`syscall-${nr}`, `faultline: unimplemented system call ${nr} (${name ?? "no such x86-64 call"}), returning -ENOSYS`);
    }
    trace?.(formatLine(p, name ?? `syscall_0x${nr.toString(16)}`, args, -Errno.ENOSYS));
    return -Errno.ENOSYS;
  }
  let ret: number | bigint;
  const atEntry = trace && entry.traceAtEntry ? formatArgs(p, entry.name, args, null) : undefined;
  try {
    ret = entry.fn(p, args);
  } catch (e) {
    if (e instanceof ParkError) throw e; // it runs again when the scheduler retries it: traced then
    ret = errnoOf(e);
    if (ret === 0) {
      trace?.(formatLine(p, entry.name, args, null, atEntry)); // exit, or a bug: the call does not return
      throw e;
    }
  }
  trace?.(formatLine(p, entry.name, args, Number(ret), atEntry));
  return ret;
}
