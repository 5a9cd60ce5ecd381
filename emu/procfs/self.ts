/**
 * The guest's own /proc/<pid> files, made from faultline's state of the
 * process (cf. fs/proc/array.c, fs/proc/base.c, fs/proc/task_mmu.c):
 * status, stat, statm, cmdline, environ, auxv, maps, comm, and the targets
 * of the exe, cwd, root and fd/N links.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { copyFromUser, PTE_P, PTE_SW_ANON, USER_COPY_MAX, type Mm, type Vma } from "../../mm/index.js";
import { NOFILE } from "../fdtable.js";
import type { OpenFile } from "../files.js";
import type { Process } from "../process.js";

/** What exec left on the initial stack, kept for /proc (cf. mm->arg_start..env_end, mm->saved_auxv). */
export interface ExecImage {
  /** The argument strings, without their NULs. */
  readonly argv: readonly Buffer[];
  /** The environment strings, without their NULs. */
  readonly envp: readonly Buffer[];
  /** The auxiliary vector as the stack held it: (key, value) words up to and including AT_NULL. */
  readonly auxv: Uint8Array;
  /** Lowest and one-past-highest address of the argument strings; likewise the environment's. */
  readonly argStart: number;
  readonly argEnd: number;
  readonly envStart: number;
  readonly envEnd: number;
  /** The initial stack pointer (where argc is; cf. mm->start_stack). */
  readonly startStack: number;
  /** Host uptime in clock ticks (1/100 s) at exec (cf. task->start_time in /proc/<pid>/stat). */
  readonly startTicks: number;
  /** The name exec was called with, as AT_EXECFN points to it (cf. bprm->filename: a script's own name, "/proc/self/exe" as given). */
  readonly execFn: Buffer;
}

/** AT_EXECFN, the auxiliary vector's key for the name exec was called with. */
const AT_EXECFN = 31;

/** Clock ticks per second as AT_CLKTCK tells the guest (USER_HZ). */
export const CLK_TCK = 100;
const PAGE = 4096;

/**
 * Reads back what exec laid out at `rsp` (argc, argv and envp pointers, the
 * auxiliary vector), before the guest first runs.
 * Preconditions: `rsp` is the stack pointer exec returned.
 * @throws ErrnoError EFAULT when the stack is not what exec builds
 */
export function readExecImage(mm: Mm, rsp: number): ExecImage {
  const word = (addr: number) => Number(new DataView(copyFromUser(mm, addr, 8).buffer).getBigUint64(0, true));
  const pointers = (first: number, n: number | null): number[] => {
    const out: number[] = [];
    for (let at = first; n === null || out.length < n; at += 8) {
      const ptr = word(at);
      if (ptr === 0) break;
      out.push(ptr);
    }
    return out;
  };
  const argPtrs = pointers(rsp + 8, word(rsp));
  const envAt = rsp + 8 + (argPtrs.length + 1) * 8;
  const envPtrs = pointers(envAt, null);
  const auxAt = envAt + (envPtrs.length + 1) * 8;
  let end = auxAt;
  while (word(end) !== 0) end += 16; // AT_NULL ends the vector
  // The strings, as bytes: one copy from the lowest of them to the end of the stack area that holds them.
  const all = [...argPtrs, ...envPtrs];
  const lo = all.length ? Math.min(...all) : rsp;
  const area = mm.vmas.find(lo);
  const len = (area?.end ?? lo) - lo, parts: Uint8Array[] = [];
  for (let at = 0; at < len; at += USER_COPY_MAX) parts.push(copyFromUser(mm, lo + at, Math.min(USER_COPY_MAX, len - at))); // execve allows 2 MiB of strings
  const bytes = Buffer.concat(parts);
  const str = (ptr: number) => {
    const off = ptr - lo, nul = bytes.indexOf(0, off);
    return bytes.subarray(off, nul < 0 ? bytes.length : nul);
  };
  const argv = argPtrs.map(str), envp = envPtrs.map(str);
  const auxv = copyFromUser(mm, auxAt, end + 16 - auxAt);
  const execFnAt = auxValue(auxv, AT_EXECFN);
  const execFn = execFnAt !== undefined && execFnAt >= lo && execFnAt < lo + bytes.length ? Buffer.from(str(execFnAt)) : Buffer.alloc(0);
  const span = (ptrs: number[], list: Buffer[]) => ptrs.length === 0 ? [0, 0]
    : [Math.min(...ptrs), Math.max(...ptrs.map((p, k) => p + list[k].length + 1))];
  const [argStart, argEnd] = span(argPtrs, argv), [envStart, envEnd] = span(envPtrs, envp);
  return {
    argv, envp, auxv, argStart, argEnd, envStart, envEnd, startStack: rsp,
    startTicks: Math.round(os.uptime() * CLK_TCK), execFn,
  };
}

/** The value of auxiliary-vector entry `key` in `auxv` ((key, value) words to AT_NULL), or undefined. */
function auxValue(auxv: Uint8Array, key: number): number | undefined {
  const v = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
  for (let at = 0; at + 16 <= auxv.byteLength; at += 16) {
    const k = Number(v.getBigUint64(at, true));
    if (k === 0) return undefined;
    if (k === key) return Number(v.getBigUint64(at + 8, true));
  }
  return undefined;
}

/** The NUL-terminated strings of `list`, concatenated (cmdline, environ). */
export function nulJoined(list: readonly Buffer[]): Buffer {
  return Buffer.concat(list.flatMap((s) => [s, Buffer.from([0])]));
}

/** TASK_COMM_LEN less its NUL: the longest command name. */
export const COMM_MAX = 15;

/**
 * The command name (cf. task->comm): what prctl(PR_SET_NAME) set since the
 * last exec, else the base name of the name exec was called with (cf.
 * begin_new_exec's __set_task_comm(kbasename(bprm->filename))), at most 15
 * bytes; the running program's base name before any exec.
 */
export function comm(p: Process): string {
  if (p.setName && p.setName.image === p.execImage) return p.setName.name.toString("latin1");
  const name = p.execImage && p.execImage.execFn.length > 0 ? p.execImage.execFn : Buffer.from(p.exePath, "latin1"); // GuestPath bytes
  const base = name.subarray(name.lastIndexOf(0x2f) + 1);
  return base.subarray(0, COMM_MAX).toString("latin1");
}

/** Sizes in pages of the address space, by kind (cf. task_mem, task_statm). */
interface MemUse {
  size: number; rssAnon: number; rssFile: number; data: number; stack: number; exe: number; lib: number; shared: number;
}

/** Whether `v` maps the running program's own file with execute permission (its text, cf. VmExe). */
function isProgramText(p: Process, v: Vma): boolean {
  return v.file !== null && (v.prot & 4) !== 0 && Buffer.from(v.file.path).equals(p.fs.hostOf(p.exePath));
}

/** Walks the VMAs and their present PTEs (a zombie has none: its address space is gone, cf. task_mem without mm). */
function memUse(p: Process): MemUse {
  const u: MemUse = { size: 0, rssAnon: 0, rssFile: 0, data: 0, stack: 0, exe: 0, lib: 0, shared: 0 };
  if (p.state === "zombie") return u;
  for (const v of p.mm.vmas.all()) {
    const pages = (v.end - v.start) / PAGE;
    u.size += pages;
    if (v.growsDown) u.stack += pages;
    else if (v.file && v.prot & 4) {
      if (isProgramText(p, v)) u.exe += pages;
      else u.lib += pages;
    } else if (v.prot & 2 && !v.shared) u.data += pages; // cf. is_data_mapping: private writable
    p.mm.pt.forEach(v.start, v.end, (_va, i) => {
      const lo = p.mm.pt.lo(i);
      if (!(lo & PTE_P)) return;
      if (!v.file || lo & PTE_SW_ANON) u.rssAnon++;
      else {
        u.rssFile++;
        u.shared++;
      }
    });
  }
  return u;
}

/** The host's ids, as getuid/getgid answer the guest. */
const ids = () => ({
  uid: process.getuid?.() ?? 0, euid: process.geteuid?.() ?? 0, gid: process.getgid?.() ?? 0, egid: process.getegid?.() ?? 0,
});

/** A sigset as /proc prints it: 16 hex digits. */
const sigset = (s: bigint) => s.toString(16).padStart(16, "0");

/** The ignored and caught signals (cf. collect_sigign_sigcatch). */
function dispositions(p: Process): { ign: bigint; cgt: bigint } {
  const d = p.sighand.summary();
  return { ign: d.ignored, cgt: d.caught };
}

/** FDSize: the descriptor table's capacity, 64 and doubling (cf. expand_fdtable). */
function fdSize(p: Process): number {
  let top = 0;
  for (let fd = 0; fd < NOFILE; fd++) if (p.fds.get(fd)) top = fd + 1;
  let size = 64;
  while (size < top) size *= 2;
  return size;
}

/**
 * The state letter and name /proc shows (cf. task_state_array, get_task_state):
 * running or ready R, a parked call S (an interruptible sleep; also while
 * the scheduler has it queued to re-check its wait, which it has not yet
 * done: parkedOn is still set), a vfork parent D (it waits killable,
 * TASK_UNINTERRUPTIBLE), stopped T, zombie Z.
 */
export function taskState(p: Process): string {
  if (p.state === "runnable" && p.parkedOn !== undefined) return "S (sleeping)";
  const states: Record<string, string> = {
    runnable: "R (running)", parked: "S (sleeping)", "vfork-wait": "D (disk sleep)", stopped: "T (stopped)", zombie: "Z (zombie)",
  };
  return states[p.state] ?? "R (running)";
}

/** The parent's pid as the guest's pid namespace shows it: 0 for a parent outside it (the first process's; cf. task_ppid_nr_ns). */
export function ppidOf(p: Process): number {
  return p.parent?.pid ?? 0;
}

/** /proc/<pid>/status (cf. proc_pid_status): the lines faultline has state for, in Linux's order and format. */
export function statusText(p: Process): string {
  const kb = (pages: number) => `${String(pages * 4).padStart(8)} kB`;
  const u = memUse(p), id = ids(), d = dispositions(p), zombie = p.state === "zombie";
  const mem: [string, string | number][] = zombie ? [] : [
    ["VmSize", kb(u.size)], ["VmLck", kb(0)], ["VmPin", kb(0)], ["VmRSS", kb(u.rssAnon + u.rssFile)],
    ["RssAnon", kb(u.rssAnon)], ["RssFile", kb(u.rssFile)], ["RssShmem", kb(0)], ["VmData", kb(u.data)],
    ["VmStk", kb(u.stack)], ["VmExe", kb(u.exe)], ["VmLib", kb(u.lib)], ["VmSwap", kb(0)],
  ];
  const lines: [string, string | number][] = [
    ["Name", comm(p)], ["Umask", p.fs.umask.toString(8).padStart(4, "0")], ["State", taskState(p)],
    ["Tgid", p.tgid], ["Ngid", 0], ["Pid", p.pid], ["PPid", ppidOf(p)], ["TracerPid", 0],
    ["Uid", `${id.uid}\t${id.euid}\t${id.euid}\t${id.euid}`], ["Gid", `${id.gid}\t${id.egid}\t${id.egid}\t${id.egid}`],
    ["FDSize", zombie ? 0 : fdSize(p)], ["Groups", " "], ["NStgid", p.tgid], ["NSpid", p.pid], ["NSpgid", p.pgid], ["NSsid", p.sid],
    ...mem, // a zombie has no mm: no Vm lines (cf. task_mem only with an mm)
    ["Threads", Math.max(1, p.group.threads.size)], ["SigPnd", sigset(p.sigtask.pending.signal)], ["ShdPnd", sigset(p.signal.shared.signal)], ["SigBlk", sigset(p.sigtask.blocked)],
    ["SigIgn", sigset(d.ign)], ["SigCgt", sigset(d.cgt)], ["Cpus_allowed", "1"], ["Cpus_allowed_list", "0"],
    ["voluntary_ctxt_switches", 0], ["nonvoluntary_ctxt_switches", 0],
  ];
  return lines.map(([k, v]) => `${k}:\t${v}\n`).join("");
}

/** /proc/<pid>/stat (cf. do_task_stat): the 52 fields; what faultline does not track is 0, as Linux shows hidden fields. */
export function statText(p: Process): string {
  const u = memUse(p), img = p.execImage, d = dispositions(p);
  const cpu = process.cpuUsage();
  const ticks = (us: number) => Math.round((us / 1e6) * CLK_TCK);
  const own = p.kernel.accounting.countersOf(p).values; // this process's faults (cf. task->min_flt, maj_flt)
  const text = p.state === "zombie" ? [] : p.mm.vmas.all().filter((v) => isProgramText(p, v));
  const f: (number | bigint | string)[] = [
    p.pid, `(${comm(p)})`, taskState(p)[0], ppidOf(p), p.pgid, p.sid, 0, -1, 0x400000, // flags: PF_RANDOMIZE... as an exec'd task
    own.minorFaults ?? 0, 0, own.majorFaults ?? 0, 0, ticks(cpu.user), ticks(cpu.system), 0, 0,
    20, 0, 1, 0, img?.startTicks ?? 0, u.size * PAGE, u.rssAnon + u.rssFile, 2n ** 64n - 1n,
    text[0]?.start ?? 0, text.at(-1)?.end ?? 0, img?.startStack ?? 0, 0, 0,
    0, 0, d.ign, d.cgt, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0,
    0, 0, p.state === "zombie" ? 0 : p.mm.brkStart, img?.argStart ?? 0, img?.argEnd ?? 0, img?.envStart ?? 0, img?.envEnd ?? 0, 0,
  ];
  return f.join(" ") + "\n";
}

/** /proc/<pid>/statm (cf. task_statm): size resident shared text lib data dt, in pages. */
export function statmText(p: Process): string {
  const u = memUse(p);
  return `${u.size} ${u.rssAnon + u.rssFile} ${u.shared} ${u.exe} 0 ${u.data + u.stack} 0\n`;
}

/** /proc/<pid>/maps text: one line per VMA, as Linux prints it (cf. show_map_vma). */
export function mapsText(p: Process): string {
  const hex = (n: number, w = 8) => n.toString(16).padStart(w, "0");
  const lines: string[] = [];
  for (const v of p.mm.vmas.all()) {
    const perms = (v.prot & 1 ? "r" : "-") + (v.prot & 2 ? "w" : "-") + (v.prot & 4 ? "x" : "-") + (v.shared ? "s" : "p");
    let dev = "00:00", ino = 0, name = v.name;
    if (v.file) {
      const [d, i] = v.file.key.split(":").map(Number);
      dev = `${hex(Math.floor(d / 256) & 0xfff, 2)}:${hex(d & 0xff, 2)}`;
      ino = i;
      name = p.fs.guestOf(v.file.path);
    }
    const head = `${hex(v.start)}-${hex(v.end)} ${perms} ${hex(v.file ? v.pgoff * 4096 : 0)} ${dev} ${ino}`;
    lines.push(name ? `${head.padEnd(73)}${name}` : head);
  }
  return lines.join("\n") + "\n";
}

/**
 * What /proc/<pid>/fd/N reads as (cf. proc_fd_link + d_path): a file's guest
 * path, `pipe:[ino]` for a pipe, and for a descriptor passed through from the
 * host (the standard streams, devices) what the host's link names, as a guest
 * path when it lies inside the root.
 */
export function fdTarget(p: Process, f: OpenFile): string {
  if (f.guestPath === "pipe:") return `pipe:[${f.stat().ino}]`;
  if (f.hostTty >= 0) {
    const host = hostFdLink(f.hostTty);
    if (host !== null) return host[0] === 0x2f ? p.fs.guestOf(host) : host.toString("latin1");
  }
  return removed(f) ? `${f.guestPath} (deleted)` : f.guestPath; // cf. d_path of an unlinked dentry
}

/** Whether the inode an open file holds has no name left (unlinked, or an rmdir'ed directory). */
function removed(f: OpenFile): boolean {
  if (f.hostInode < 0) return false;
  try {
    return fs.fstatSync(f.hostInode).nlink === 0;
  } catch {
    return false;
  }
}

/** The host's /proc/self/fd/N link of Node's descriptor `fd`, or null when unreadable. */
function hostFdLink(fd: number): Buffer | null {
  try {
    return os.platform() === "linux" ? fs.readlinkSync(`/proc/self/fd/${fd}`, { encoding: "buffer" }) : null;
  } catch {
    return null;
  }
}
