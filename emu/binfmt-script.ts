/**
 * `#!` scripts as programs (cf. fs/binfmt_script.c load_script): the first
 * line of the file names an interpreter and at most one argument; the
 * program becomes that interpreter, run with the script's path and the
 * original arguments. The parse works on the first BINPRM_BUF_SIZE bytes
 * exactly as Linux does, so a line too long for them is ENOEXEC when the
 * interpreter's name would be cut, and the argument is cut silently.
 */
import { ExecError } from "./loader.js";

/** What a `#!` line asks for: the interpreter's path and its optional single argument. */
export interface Shebang {
  /** The interpreter's path, as written (resolved relative to the cwd, like open_exec). */
  readonly interp: Buffer;
  /** Everything after the name up to the end of the line (inner blanks kept), or null. */
  readonly arg: Buffer | null;
}

const isBlank = (c: number): boolean => c === 0x20 || c === 0x09;

/** Index of the first non-blank byte in [from, to], or -1 (cf. next_non_spacetab). */
function nonBlank(buf: Buffer, from: number, to: number): number {
  for (let k = from; k <= to; k++) if (!isBlank(buf[k])) return k;
  return -1;
}

/** Index of the first blank or NUL byte in [from, to], or -1 (cf. next_terminator). */
function terminator(buf: Buffer, from: number, to: number): number {
  for (let k = from; k <= to; k++) if (isBlank(buf[k]) || buf[k] === 0) return k;
  return -1;
}

/** Index of the first newline before any NUL, or -1 (cf. strnchr, which stops at a NUL). */
function lineEnd(buf: Buffer): number {
  for (let k = 0; k < buf.length && buf[k] !== 0; k++) if (buf[k] === 0x0a) return k;
  return -1;
}

/** The bytes of [from, to) up to the first NUL (a C string in a fixed buffer). */
function cString(buf: Buffer, from: number, to: number): Buffer {
  const nul = buf.indexOf(0, from);
  return buf.subarray(from, nul >= 0 && nul < to ? nul : to);
}

/**
 * Parses the `#!` line at the start of `buf`, the file's first bytes
 * (BINPRM_BUF_SIZE of them, NUL-padded when the file is shorter), as
 * load_script does.
 * @returns null when `buf` does not start with `#!` (not a script: the next
 *   handler's turn); else the interpreter and its optional argument
 * @throws ExecError ENOEXEC when the line names no interpreter, or when the
 *   name may be cut off by the end of the buffer
 */
export function parseShebang(buf: Buffer, program: string): Shebang | null {
  if (buf.length < 2 || buf[0] !== 0x23 || buf[1] !== 0x21) return null;
  const noexec = (why: string): never => { throw new ExecError("ENOEXEC", `${program}: ${why}`); };
  const last = buf.length - 1;
  let end = lineEnd(buf);
  if (end < 0) {
    const first = nonBlank(buf, 2, last);
    if (first < 0) noexec("#! line has no interpreter");
    // Without a newline the name must be followed by a blank or NUL inside the buffer.
    if (terminator(buf, first, last) < 0) noexec(`#! line longer than ${buf.length} bytes cuts the interpreter's name`);
    end = last;
  }
  while (end > 2 && isBlank(buf[end - 1])) end--;
  const name = nonBlank(buf, 2, end);
  if (name < 0 || name === end) noexec("#! line has no interpreter");
  const sep = terminator(buf, name, end);
  const argAt = sep >= 0 && sep < end && buf[sep] !== 0 ? nonBlank(buf, sep, end) : -1;
  const interp = cString(buf, name, sep >= 0 && sep < end ? sep : end);
  const arg = argAt >= 0 && argAt < end ? cString(buf, argAt, end) : null;
  return { interp, arg };
}

/**
 * The argument vector the interpreter of a script gets (cf. load_script's
 * remove_arg_zero + copy_string_kernel): the interpreter's name, its
 * argument if any, the script's path (as it was executed), then the
 * original arguments after argv[0].
 */
export function scriptArgv(sb: Shebang, scriptPath: string, argv: readonly (string | Uint8Array)[]): (string | Uint8Array)[] {
  // Names are bytes: the interpreter, its argument and the script path (a GuestPath, latin1) pass as the file spelled them.
  return [sb.interp, ...(sb.arg ? [sb.arg] : []), Buffer.from(scriptPath, "latin1"), ...argv.slice(1)];
}
