/**
 * --strace: one line per system call, strace-style: `name(args) = result`.
 * Argument kinds per call where it helps reading (strings for paths, octal
 * for modes); other calls show their first three arguments in hex.
 */
import { Errno } from "../../lib/errno.js";
import { stringFromUser } from "../../mm/index.js";
import type { Process } from "../process.js";

/** Kinds: s = path string, d = signed decimal, x = hex, o = octal. */
const SIGNATURES: Record<string, string> = {
  read: "dxd", write: "dxd", open: "sxo", openat: "dsxo", close: "d", stat: "sx", fstat: "dx", lstat: "sx",
  newfstatat: "dsxx", statx: "dsxxx", lseek: "ddd", mmap: "xxxxdx", mprotect: "xxx", munmap: "xx", brk: "x",
  pread64: "dxdd", pwrite64: "dxdd", readv: "dxd", writev: "dxd", access: "so", faccessat: "dso", faccessat2: "dsod",
  readlink: "sxd", readlinkat: "dsxd", getdents64: "dxd", getcwd: "xd", chdir: "s", mkdir: "so", mkdirat: "dso",
  unlink: "s", unlinkat: "dsx", rename: "ss", rmdir: "s", exit_group: "d", exit: "d", arch_prctl: "xx",
  ioctl: "dxx", fcntl: "ddx", dup: "d", dup2: "dd", dup3: "ddx", mremap: "xxxxx", madvise: "xxd", msync: "xxx",
  getrandom: "xdx", clock_gettime: "dx", sendfile: "ddxd", prlimit64: "ddxx", set_tid_address: "x", rt_sigaction: "dxxd",
  rt_sigprocmask: "dxxd", uname: "x", futex: "xdd", pipe2: "xx", ftruncate: "dd", umask: "o",
};

const ERRNO_NAMES = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

function arg(p: Process, kind: string, v: number): string {
  switch (kind) {
    case "s":
      try {
        return JSON.stringify(stringFromUser(p.mm, v, 256));
      } catch {
        return `0x${v.toString(16)}`;
      }
    case "d": return String(v);
    case "o": return "0" + v.toString(8);
    default: return v < 0 ? String(v) : `0x${v.toString(16)}`;
  }
}

/** The text of the call before it runs: `name(a, b, c)`. */
export function formatCall(p: Process, name: string, args: readonly number[]): string {
  const sig = SIGNATURES[name] ?? "xxx";
  return `${name}(${[...sig].map((k, i) => arg(p, k, args[i])).join(", ")})`;
}

/** The result part: ` = value` or ` = -1 ENOENT`. */
export function formatResult(ret: number): string {
  if (ret < 0 && ret >= -4095) return ` = -1 ${ERRNO_NAMES.get(-ret) ?? `errno ${-ret}`}`;
  return ret > 0xffff ? ` = 0x${ret.toString(16)}` : ` = ${ret}`;
}
