/**
 * --strace: one line per system call, as strace(1) prints it:
 * `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`,
 * `mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f...`,
 * `close(9) = -1 EBADF (Bad file descriptor)`. Each call has a signature of
 * argument kinds (below); flags print as strace's names (cf. strace's
 * xlat/*.in tables), strings quoted and cut at 32 bytes, buffers the call
 * fills shown after it. Structures print as their address.
 */
import { copyFromUser, stringFromUser } from "../../mm/index.js";
import type { Process } from "../process.js";
import { ERRNO_TEXT } from "./errno-text.js";
import { i32 } from "./types.js";

/**
 * Argument kinds: d int, u unsigned size, x pointer (NULL for 0), s path,
 * w buffer written (length is the next argument), r buffer read (length is
 * the result), F dirfd, O open flags (a mode follows only with O_CREAT or
 * O_TMPFILE), m mode (octal), P prot, M mmap flags, W whence, A access mode,
 * T AT_* flags, G signal, H sigprocmask how, C clock, R resource, K
 * arch_prctl code, L fcntl command, I ioctl request, V madvise advice,
 * N getrandom flags, X futex op, Z clone flags and exit signal, Y wait4
 * options, y waitid options, o octal, a string array (argv), e
 * environment array (its address and count). A result kind after the colon: d
 * decimal (default), x address.
 */
const SIGNATURES: Record<string, string> = {
  read: "drd", write: "dwd", open: "sO", openat: "FsO", creat: "sm", close: "d", stat: "sx", fstat: "dx", lstat: "sx",
  newfstatat: "FsxT", statx: "FsTxx", lseek: "ddW", mmap: "xuPMdd:x", mprotect: "xuP", munmap: "xu", brk: "x:x",
  pread64: "drdd", pwrite64: "dwdd", readv: "dxd", writev: "dxd", access: "sA", faccessat: "FsA", faccessat2: "FsAT",
  readlink: "sru", readlinkat: "Fsru", getdents64: "dxu", getcwd: "ru", chdir: "s", fchdir: "d", mkdir: "sm", mkdirat: "Fsm",
  unlink: "s", unlinkat: "FsT", rename: "ss", renameat: "FsFs", renameat2: "FsFsx", rmdir: "s", link: "ss", symlink: "ss",
  chmod: "sm", fchmod: "dm", fchmodat: "Fsm", truncate: "sd", ftruncate: "dd", exit_group: "d", exit: "d",
  arch_prctl: "Kx", ioctl: "dIx", fcntl: "dLx", dup: "d", dup2: "dd", dup3: "ddO", mremap: "xuuMx:x", madvise: "xuV",
  msync: "xux", getrandom: "ruN", clock_gettime: "Cx", clock_getres: "Cx", clock_nanosleep: "Cdxx", nanosleep: "xx",
  sendfile: "ddxu", prlimit64: "dRxx", getrlimit: "Rx", set_tid_address: "x", set_robust_list: "xu", rseq: "xudx",
  rt_sigaction: "Gxxu", rt_sigprocmask: "Hxxu", sigaltstack: "xx", kill: "dG", tkill: "dG", tgkill: "ddG",
  uname: "x", futex: "xXd", pipe: "x", pipe2: "xO", umask: "o", sysinfo: "x", sched_getaffinity: "dux", socket: "ddd",
  fsync: "d", fdatasync: "d", fadvise64: "dddd", utimensat: "FsxT", getxattr: "ssxu", lgetxattr: "ssxu", fgetxattr: "dsxu",
  listxattr: "sxu", llistxattr: "sxu", flistxattr: "dxu", statfs: "sx", fstatfs: "dx", chown: "sdd", lchown: "sdd",
  fchown: "ddd", fchownat: "FsddT", gettimeofday: "xx", time: "x", prctl: "dxxxx",
  execve: "sae", execveat: "FsaeT", wait4: "dxYx", waitid: "ddxyx", clone: "Zxxxx", clone3: "xu", fork: "", vfork: "",
  setpgid: "dd", getpgid: "d", getsid: "d", rt_sigsuspend: "xu", rt_sigtimedwait: "xxxu", rt_sigqueueinfo: "dGx", pause: "",
  socketpair: "dddx", sendto: "dwddxd", recvfrom: "drddxx", sendmsg: "dxd", recvmsg: "dxd", shutdown: "dd", getsockname: "dxx",
  getpeername: "dxx", getsockopt: "dddxx", setsockopt: "dddxd", listen: "dd", accept: "dxx", accept4: "dxxd",
  getpid: "", gettid: "", getppid: "", sched_yield: "", sched_setaffinity: "dux", getcpu: "xxx", get_robust_list: "dxx",
};

/** Named bits of a flag word, lowest first; `zero` names the value 0 when it has a name. */
interface Flags {
  readonly bits: readonly (readonly [number, string])[];
  readonly zero?: string;
}

const O_FLAGS: Flags = {
  bits: [[0o100, "O_CREAT"], [0o200, "O_EXCL"], [0o400, "O_NOCTTY"], [0o1000, "O_TRUNC"], [0o2000, "O_APPEND"],
    [0o4000, "O_NONBLOCK"], [0o10000, "O_DSYNC"], [0o20000, "O_ASYNC"], [0o40000, "O_DIRECT"], [0o200000, "O_DIRECTORY"],
    [0o400000, "O_NOFOLLOW"], [0o1000000, "O_NOATIME"], [0o2000000, "O_CLOEXEC"], [0o4000000, "O_SYNC"], [0o10000000, "O_PATH"],
    [0o20000000, "O_TMPFILE"], [0o100000, "O_LARGEFILE"]],
};
const PROT: Flags = { bits: [[1, "PROT_READ"], [2, "PROT_WRITE"], [4, "PROT_EXEC"], [0x1000000, "PROT_GROWSDOWN"], [0x2000000, "PROT_GROWSUP"]], zero: "PROT_NONE" };
const MAP: Flags = {
  bits: [[0x10, "MAP_FIXED"], [0x20, "MAP_ANONYMOUS"], [0x40, "MAP_32BIT"], [0x100, "MAP_GROWSDOWN"], [0x800, "MAP_DENYWRITE"],
    [0x1000, "MAP_EXECUTABLE"], [0x2000, "MAP_LOCKED"], [0x4000, "MAP_NORESERVE"], [0x8000, "MAP_POPULATE"], [0x10000, "MAP_NONBLOCK"],
    [0x20000, "MAP_STACK"], [0x40000, "MAP_HUGETLB"], [0x80000, "MAP_SYNC"], [0x100000, "MAP_FIXED_NOREPLACE"]],
};
const MREMAP: Flags = { bits: [[1, "MREMAP_MAYMOVE"], [2, "MREMAP_FIXED"], [4, "MREMAP_DONTUNMAP"]], zero: "0" };
const ACCESS: Flags = { bits: [[4, "R_OK"], [2, "W_OK"], [1, "X_OK"]], zero: "F_OK" };
const AT: Flags = {
  bits: [[0x100, "AT_SYMLINK_NOFOLLOW"], [0x200, "AT_REMOVEDIR"], [0x400, "AT_SYMLINK_FOLLOW"], [0x800, "AT_NO_AUTOMOUNT"],
    [0x1000, "AT_EMPTY_PATH"], [0x2000, "AT_STATX_FORCE_SYNC"], [0x4000, "AT_STATX_DONT_SYNC"]],
  zero: "0",
};
/** clone's flag bits above the exit signal's byte (cf. strace's xlat/clone_flags.in). */
const CLONE: Flags = {
  bits: [[0x100, "CLONE_VM"], [0x200, "CLONE_FS"], [0x400, "CLONE_FILES"], [0x800, "CLONE_SIGHAND"], [0x1000, "CLONE_PIDFD"],
    [0x2000, "CLONE_PTRACE"], [0x4000, "CLONE_VFORK"], [0x8000, "CLONE_PARENT"], [0x10000, "CLONE_THREAD"], [0x20000, "CLONE_NEWNS"],
    [0x40000, "CLONE_SYSVSEM"], [0x80000, "CLONE_SETTLS"], [0x100000, "CLONE_PARENT_SETTID"], [0x200000, "CLONE_CHILD_CLEARTID"],
    [0x400000, "CLONE_DETACHED"], [0x800000, "CLONE_UNTRACED"], [0x1000000, "CLONE_CHILD_SETTID"], [0x2000000, "CLONE_NEWCGROUP"],
    [0x4000000, "CLONE_NEWUTS"], [0x8000000, "CLONE_NEWIPC"], [0x10000000, "CLONE_NEWUSER"], [0x20000000, "CLONE_NEWPID"],
    [0x40000000, "CLONE_NEWNET"], [0x80000000, "CLONE_IO"]],
};
/** wait4/waitid options (cf. strace's xlat/wait4_options.in, waitid_options.in). */
const WAIT: Flags = {
  bits: [[1, "WNOHANG"], [2, "WSTOPPED"], [4, "WEXITED"], [8, "WCONTINUED"], [0x1000000, "WNOWAIT"], [0x20000000, "__WNOTHREAD"],
    [0x40000000, "__WALL"], [0x80000000, "__WCLONE"]],
  zero: "0",
};
/** wait4 names bit 2 WUNTRACED (the same bit as waitid's WSTOPPED). */
const WAIT4: Flags = { bits: WAIT.bits.map(([b, n]) => [b, b === 2 ? "WUNTRACED" : n] as const), zero: "0" };

const GRND: Flags = { bits: [[1, "GRND_NONBLOCK"], [2, "GRND_RANDOM"], [4, "GRND_INSECURE"]], zero: "0" };

/** Names of small enumerations. */
const ENUMS: Record<string, Readonly<Record<number, string>>> = {
  W: { 0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE" },
  H: { 0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK" },
  C: { 0: "CLOCK_REALTIME", 1: "CLOCK_MONOTONIC", 2: "CLOCK_PROCESS_CPUTIME_ID", 3: "CLOCK_THREAD_CPUTIME_ID", 4: "CLOCK_MONOTONIC_RAW",
    5: "CLOCK_REALTIME_COARSE", 6: "CLOCK_MONOTONIC_COARSE", 7: "CLOCK_BOOTTIME", 8: "CLOCK_REALTIME_ALARM", 9: "CLOCK_BOOTTIME_ALARM", 11: "CLOCK_TAI" },
  R: { 0: "RLIMIT_CPU", 1: "RLIMIT_FSIZE", 2: "RLIMIT_DATA", 3: "RLIMIT_STACK", 4: "RLIMIT_CORE", 5: "RLIMIT_RSS", 6: "RLIMIT_NPROC",
    7: "RLIMIT_NOFILE", 8: "RLIMIT_MEMLOCK", 9: "RLIMIT_AS", 10: "RLIMIT_LOCKS", 11: "RLIMIT_SIGPENDING", 12: "RLIMIT_MSGQUEUE",
    13: "RLIMIT_NICE", 14: "RLIMIT_RTPRIO", 15: "RLIMIT_RTTIME" },
  K: { 0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS", 0x1004: "ARCH_GET_GS", 0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID" },
  L: { 0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL", 5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN",
    9: "F_GETOWN", 1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS" },
  I: { 0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF", 0x540f: "TIOCGPGRP", 0x5410: "TIOCSPGRP",
    0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ", 0x541b: "FIONREAD", 0x5421: "FIONBIO", 0x5451: "FIOCLEX", 0x5450: "FIONCLEX" },
  V: { 0: "MADV_NORMAL", 1: "MADV_RANDOM", 2: "MADV_SEQUENTIAL", 3: "MADV_WILLNEED", 4: "MADV_DONTNEED", 8: "MADV_FREE", 9: "MADV_REMOVE",
    10: "MADV_DONTFORK", 11: "MADV_DOFORK", 12: "MADV_MERGEABLE", 13: "MADV_UNMERGEABLE", 14: "MADV_HUGEPAGE", 15: "MADV_NOHUGEPAGE",
    16: "MADV_DONTDUMP", 17: "MADV_DODUMP", 18: "MADV_WIPEONFORK", 19: "MADV_KEEPONFORK", 20: "MADV_COLD", 21: "MADV_PAGEOUT",
    22: "MADV_POPULATE_READ", 23: "MADV_POPULATE_WRITE", 100: "MADV_HWPOISON" },
  X: { 0: "FUTEX_WAIT", 1: "FUTEX_WAKE", 9: "FUTEX_WAIT_BITSET", 10: "FUTEX_WAKE_BITSET", 128: "FUTEX_WAIT_PRIVATE", 129: "FUTEX_WAKE_PRIVATE",
    137: "FUTEX_WAIT_BITSET_PRIVATE", 138: "FUTEX_WAKE_BITSET_PRIVATE" },
};

/** How strace names an unknown value of each enumeration: 0x9 then a comment "SEEK_???". */
const UNKNOWN_PREFIX: Readonly<Record<string, string>> = {
  W: "SEEK_", H: "SIG_", C: "CLOCK_", R: "RLIMIT_", K: "ARCH_", L: "F_", V: "MADV_", X: "FUTEX_",
};

const SIGNAL_NAMES = ["", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV",
  "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
  "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"];

/** `A|B|0x40` for the bits of `v` (cf. strace's printflags). */
function flags(v: number, f: Flags): string {
  if (v === 0) return f.zero ?? "0";
  const names: string[] = [];
  let rest = BigInt.asUintN(64, BigInt(v));
  for (const [bit, name] of f.bits) {
    if (rest & BigInt(bit)) {
      names.push(name);
      rest &= ~BigInt(bit);
    }
  }
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names.join("|");
}

/** open flags: the access mode, then the other bits (cf. tprint_open_modes). */
function openFlags(v: number): string {
  const acc = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][v & 3];
  const rest = v & ~3 & ~0o20000000; // O_TMPFILE includes O_DIRECTORY: printed below as one name
  const tmp = (v & 0o20200000) === 0o20200000 ? ["O_TMPFILE"] : [];
  const others = flags(tmp.length ? rest & ~0o200000 : rest, O_FLAGS);
  return [acc, ...tmp, ...(others === "0" ? [] : [others])].join("|");
}

/** A C string as strace quotes it: escapes, and `"..."...` past 32 bytes (cf. print_quoted_string, -s 32). */
export function quote(bytes: Uint8Array, cut = 32): string {
  const esc: Record<number, string> = { 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\" };
  let s = "";
  const shown = bytes.subarray(0, cut);
  shown.forEach((b, k) => {
    const digitNext = k + 1 < shown.length && shown[k + 1] >= 48 && shown[k + 1] <= 57; // "\0" then "1" would read as "\01"
    s += esc[b] ?? (b >= 32 && b < 127 ? String.fromCharCode(b) : `\\${b.toString(8).padStart(digitNext ? 3 : 1, "0")}`);
  });
  return `"${s}"${bytes.length > cut ? "..." : ""}`;
}

/** A pointer: NULL, or hex. */
const ptr = (v: number) => (v === 0 ? "NULL" : v < 0 ? String(v) : `0x${v.toString(16)}`);

/** Guest bytes at `addr`, or null when unreadable. */
function bytesAt(p: Process, addr: number, len: number): Uint8Array | null {
  try {
    return copyFromUser(p.mm, addr, Math.max(0, Math.min(len, 33)));
  } catch {
    return null;
  }
}

/** Most elements of a string array printed (cf. strace's printargv, -s 32). */
const ARRAY_MAX = 32;

/** The pointers of the NULL-terminated array at `addr` (at most `max`, then null for "more"); null when unreadable. */
function pointersAt(p: Process, addr: number, max: number): { ptrs: number[]; more: boolean } | null {
  const ptrs: number[] = [];
  try {
    for (let at = addr; ; at += 8) {
      const v = new DataView(copyFromUser(p.mm, at, 8).slice().buffer).getBigUint64(0, true);
      if (v === 0n) return { ptrs, more: false };
      if (ptrs.length === max) return { ptrs, more: true };
      ptrs.push(Number(v));
    }
  } catch {
    return null;
  }
}

/** argv as strace prints it: `["echo", "hi"]`, `[...]` past 32 elements. */
function stringArray(p: Process, addr: number): string {
  if (addr === 0) return "NULL";
  const a = pointersAt(p, addr, ARRAY_MAX);
  if (a === null) return ptr(addr);
  const items = a.ptrs.map((s) => arg(p, "S", s, 0, null));
  return `[${items.join(", ")}${a.more ? ", ..." : ""}]`;
}

/** envp as strace prints it by default: its address, then the count in a comment ("20 vars"). */
function envArray(p: Process, addr: number): string {
  if (addr === 0) return "NULL";
  const a = pointersAt(p, addr, Infinity);
  return a === null ? ptr(addr) : `${ptr(addr)} /* ${a.ptrs.length} vars */`;
}

/** One argument of kind `kind`; `next` is the following argument, `ret` the call's result. */
function arg(p: Process, kind: string, v: number, next: number, ret: number | null): string {
  switch (kind) {
    case "s":
      try {
        return quote(Buffer.from(stringFromUser(p.mm, v, 4096), "utf8"), 4096);
      } catch {
        return ptr(v);
      }
    case "S": { // an element of a string array: cut at 32 bytes, as strace's -s
      const b = bytesAt(p, v, 33);
      if (!b) return ptr(v);
      const nul = b.indexOf(0);
      return quote(nul < 0 ? b : b.subarray(0, nul));
    }
    case "w": {
      const b = bytesAt(p, v, next);
      return b ? quote(b) : ptr(v);
    }
    case "r": {
      if (ret === null || ret < 0) return ptr(v);
      const b = bytesAt(p, v, ret);
      return b ? quote(b) : ptr(v);
    }
    case "a": return stringArray(p, v);
    case "e": return envArray(p, v);
    case "F": return i32(v) === -100 ? "AT_FDCWD" : String(i32(v)); // an int: ld.so leaves the upper half of the register zero
    case "O": return openFlags(v);
    case "m": case "o": return "0" + (v & 0o7777).toString(8).padStart(3, "0");
    case "P": return flags(v, PROT);
    case "M": return flags(v & 3, { bits: [[1, "MAP_SHARED"], [2, "MAP_PRIVATE"], [3, "MAP_SHARED_VALIDATE"]] }) + (v & ~3 ? `|${flags(v & ~3, MAP)}` : "");
    case "A": return flags(v, ACCESS);
    case "T": return flags(v, AT);
    case "N": return flags(v, GRND);
    case "Z": { // clone flags with the exit signal in the low byte: CLONE_VM|CLONE_VFORK|SIGCHLD
      const sig = v & 0xff, rest = Number(BigInt.asUintN(64, BigInt(v)) & 0xffffff00n);
      const sigName = sig === 0 ? "" : SIGNAL_NAMES[sig] ?? String(sig);
      return [rest ? flags(rest, CLONE) : "", sigName].filter(Boolean).join("|") || "0";
    }
    case "Y": return flags(v, WAIT4);
    case "y": return flags(v, WAIT);
    case "G": return SIGNAL_NAMES[v] ?? (v >= 34 && v <= 64 ? `SIGRT_${v - 34}` : String(v));
    case "u": return v < 0 ? BigInt.asUintN(64, BigInt(v)).toString() : String(v);
    case "x": return ptr(v);
    case "d": return String(i32(v)); // a C int: the low 32 bits, signed
    default: {
      const name = ENUMS[kind]?.[v];
      if (name !== undefined) return name;
      const prefix = UNKNOWN_PREFIX[kind];
      return prefix ? `0x${v.toString(16)} /* ${prefix}??? */` : `0x${v.toString(16)}`; // cf. strace's printxval for unknown values
    }
  }
}

/** The argument list, with strace's call-specific shapes (open's mode only with O_CREAT, mremap's address only with MREMAP_FIXED...). */
function argList(p: Process, name: string, args: readonly number[], ret: number | null): string[] {
  const sig = (SIGNATURES[name] ?? "xxx").split(":")[0];
  const out = [...sig].map((k, i) => arg(p, k, args[i], args[i + 1], ret));
  const flagsAt = sig.indexOf("O");
  if ((name === "open" || name === "openat") && args[flagsAt] & 0o20000100) out.push(arg(p, "m", args[flagsAt + 1], 0, ret));
  if (name === "mremap") {
    out[3] = flags(args[3], MREMAP);
    if (!(args[3] & 2)) out.pop();
  }
  if (name === "fcntl" && [1, 3, 9, 1032, 1034].includes(args[1])) out.pop(); // the GET commands take no argument
  if (name === "fcntl" && [0, 2, 4, 1030].includes(args[1])) out[2] = args[1] === 4 ? openFlags(args[2]) : String(args[2]);
  if (name === "futex") out[1] = ENUMS.X[args[1]] ?? `0x${args[1].toString(16)}`;
  if (name === "clone") return cloneArgs(p, args, ret);
  if (name === "waitid") out[0] = ["P_ALL", "P_PID", "P_PGID", "P_PIDFD"][args[0]] ?? String(args[0]);
  if (name === "getcwd" && ret !== null && ret > 0) out[0] = arg(p, "r", args[0], 0, ret - 1); // the length counts the NUL
  return out;
}

/**
 * clone's arguments as strace names them (cf. strace's clone.c): the stack
 * and the flags, then each tid address or the TLS only when a flag uses it.
 */
function cloneArgs(p: Process, args: readonly number[], ret: number | null): string[] {
  const f = args[0];
  const out = [`child_stack=${ptr(args[1])}`, `flags=${arg(p, "Z", f, 0, ret)}`];
  if (f & 0x100000) out.push(`parent_tid=${ptr(args[2])}`); // CLONE_PARENT_SETTID
  if (f & 0x80000) out.push(`tls=${ptr(args[4])}`); // CLONE_SETTLS
  if (f & 0x1200000) out.push(`child_tidptr=${ptr(args[3])}`); // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID
  return out;
}

/**
 * The argument list of a call as strace prints it, without the parentheses;
 * `ret` as in formatLine (null before the call returns).
 */
export function formatArgs(p: Process, name: string, args: readonly number[], ret: number | null): string {
  return argList(p, name, args, ret).join(", ");
}

/** The result: ` = 3`, ` = 0x7f...` for an address, ` = -1 ENOENT (No such file or directory)`. */
export function formatResult(ret: number, name = ""): string {
  if (ret < 0 && ret >= -4095) {
    const [err, msg] = ERRNO_TEXT.get(-ret) ?? [`errno ${-ret}`, "Unknown error"];
    return ` = -1 ${err} (${msg})`;
  }
  const kind = (SIGNATURES[name] ?? "").split(":")[1] ?? "d";
  return kind === "x" ? ` = ${ptr(ret)}` : ` = ${ret}`;
}

/**
 * The whole line of a call that returned `ret` (null: it did not return,
 * as exit_group), as strace aligns it: the call padded to 39 columns.
 */
export function formatLine(p: Process, name: string, args: readonly number[], ret: number | null, argsText?: string): string {
  const call = `${name}(${argsText ?? formatArgs(p, name, args, ret)})`;
  // As strace -f: once a second process exists, every line says whose it is.
  const who = p.kernel.forked ? `[pid ${String(p.pid).padStart(5)}] ` : "";
  return `${who}${call.padEnd(39)}${ret === null ? " = ?" : formatResult(ret, name)}`;
}
