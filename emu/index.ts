/**
 * emu/: the guest world (processes, their engines and system calls, the
 * scheduler, /proc). This file is its whole public surface for cli/,
 * kprobes/ and bench/; see emu/README.md for the design.
 */
export { Process, shellStatus, type ExitStatus, type ProcessOptions, type ProcessState, type TrapHandler } from "./process.js";
export { Kernel, FIRST_PID, MAX_CPUS, MAX_TASKS } from "./kernel.js";
export type { ProcessAccount, ProcessCounters } from "./accounting.js";
export { ExecError, ExecKilledError } from "./loader.js";
export { instructionAt, x86Disassembler, type Capstone } from "./disasm.js";
export { PF_PRESENT, PF_USER, PF_WRITE, Reg, Vec } from "./constants.js";
export { SEGV_ACCERR, SEGV_MAPERR, SIG, defaultAction, forceSignal, signalName } from "./signal/index.js";
export { textPath, type GuestPath } from "./vfs.js";
export { loadUnicorn, projectRoot } from "./unicorn.js";
