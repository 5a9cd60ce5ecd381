/**
 * The guest's /proc and /sys (cf. fs/proc/root.c, fs/proc/base.c,
 * fs/sysfs): a tree of the files programs read, made at open and read to
 * their end. The guest's own process comes from faultline's state
 * (emu/procfs/self.ts), and so does every other guest process, by its
 * guest pid; the rest of the system from faultline's state or
 * the host's files (emu/procfs/host.ts). Any other path under /proc or
 * /sys is ENOENT (a pid no guest process has, too): nothing of Node's own
 * process or of other host processes shows through.
 *
 *   /proc/{self,thread-self,<pid>}/{status,stat,statm,cmdline,environ,auxv,maps,comm,mounts,mountinfo}
 *   /proc/<pid>/{exe,cwd,root} and fd/N links, fd/ and task/ directories
 *   /proc/{cpuinfo,meminfo,stat,uptime,loadavg,version,mounts} and /proc/sys/{kernel,vm,fs}/ (the host's)
 *   /sys/devices/system/cpu/{online,possible,present,kernel_max,cpu0/}
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fail, failHost } from "../lib/errno.js";
import { NOFILE } from "./fdtable.js";
import { DirFile, S_IFDIR, S_IFLNK, S_IFREG, SyntheticFile, seekTo, statOf, type FileStat, type OpenFile } from "./files.js";
import type { GuestPath } from "./vfs.js";
import { CLOCK_REALTIME_COARSE, hostClockNs } from "./host-clock.js";
import { cpuListText, cpuinfoText, hostText, meminfoText, mountsText, statText as systemStatText } from "./procfs/host.js";
import { fdTarget, mapsText, nulJoined, statText, statmText, statusText, comm } from "./procfs/self.js";
import type { Process } from "./process.js";

/** One node of the tree. Content and children are made when asked for, from the state of that moment. */
type Node =
  /** A file: made at open, or (`task`) at its first read, from a process that may be reaped by then. */
  | { readonly kind: "file"; readonly read: () => string | Uint8Array; readonly task?: TaskRead }
  | { readonly kind: "dir"; readonly children: () => ReadonlyMap<string, Node> }
  /** A link inside the tree (self, thread-self, /proc/mounts): `target` is relative to the link's directory. */
  | { readonly kind: "link"; readonly target: () => string }
  /** A link out of the tree (exe, cwd, root, fd/N): a guest path, or a name such as pipe:[N]; `file` is the open file it stands for. */
  | { readonly kind: "magic"; readonly target: () => string; readonly file?: () => OpenFile }
  /** A host directory passed through read-only (/proc/sys/kernel). */
  | { readonly kind: "host"; readonly host: string };

const file = (read: () => string | Uint8Array): Node => ({ kind: "file", read });

/**
 * How a /proc/<pid> file made at read time reads once its process is reaped
 * (cf. proc_single_show's and m_start's get_proc_task: ESRCH; environ_read's
 * mmget_not_zero of a released mm: 0 bytes).
 */
interface TaskRead {
  /** Whether the process has been reaped (its pid left the process table). */
  readonly reaped: () => boolean;
  readonly whenReaped: "ESRCH" | "empty";
}
const dir = (entries: () => [string, Node][]): Node => ({ kind: "dir", children: () => new Map(entries()) });

/**
 * /proc/<pid> of guest process `q` (cf. tid_base_stuff / tgid_base_stuff).
 * Most files are made at their first read (and again after an lseek to 0),
 * so one opened before its process was reaped then reads ESRCH (environ:
 * 0 bytes), as Linux's do (see TaskFile).
 * A zombie keeps its stat and status; what its address space, files and
 * fs context held is gone: maps, cmdline, environ and auxv read empty, and
 * its exe, cwd and root links are ENOENT, as Linux shows them
 * (cf. proc_exe_link's get_task_exe_file of a task without mm).
 */
function pidDir(q: Process): Node {
  const alive = () => q.state !== "zombie";
  const reaped = () => q.kernel.procs.get(q.pid) !== q;
  // Made at the first read (cf. seq_read's ->start/->show), so a file opened earlier reads the state of that moment.
  const taskFile = (read: () => string | Uint8Array, whenReaped: TaskRead["whenReaped"] = "ESRCH"): Node => ({ kind: "file", read, task: { reaped, whenReaped } });
  const ifAlive = (read: () => string | Uint8Array): (() => string | Uint8Array) => () => (alive() ? read() : "");
  const link = (name: string, target: () => string): Node =>
    ({ kind: "magic", target: () => (alive() ? target() : fail("ENOENT", `/proc/${q.pid}/${name}: process ${q.pid} has exited`)) });
  return dir(() => [
    ["status", taskFile(() => statusText(q))], ["stat", taskFile(() => statText(q))], ["statm", taskFile(ifAlive(() => statmText(q)))],
    ["cmdline", taskFile(ifAlive(() => nulJoined(q.execImage?.argv ?? [])))], ["environ", taskFile(ifAlive(() => nulJoined(q.execImage?.envp ?? [])), "empty")],
    // auxv is copied at open (cf. proc_mem_open's mmgrab + auxv_read of mm->saved_auxv): it reads the same after a reap
    ["auxv", file(ifAlive(() => q.execImage?.auxv ?? new Uint8Array(0)))], ["maps", taskFile(ifAlive(() => mapsText(q)))], ["comm", taskFile(() => `${comm(q)}\n`)],
    ["mounts", file(() => mountsText(q, "/proc/self/mounts", 1))], ["mountinfo", file(() => mountsText(q, "/proc/self/mountinfo", 4))],
    ["exe", link("exe", () => q.exePath)], ["cwd", link("cwd", () => q.fs.cwd)],
    ["root", link("root", () => "/")], ["fd", dir(() => (alive() ? fdLinks(q) : []))],
    ["task", dir(() => taskEntries(q))],
  ]);
}

/** /proc/PID/task: one directory per live thread of the process, in tid order (cf. proc_task_readdir); a zombie's own. */
function taskEntries(q: Process): [string, Node][] {
  const threads = q.group.threads.size > 0 ? [...q.group.threads] : [q.group.leader];
  return threads.sort((a, b) => a.pid - b.pid).map((t): [string, Node] => [String(t.pid), pidDir(t)]);
}

/** The guest processes /proc lists, in pid order (cf. proc_pid_readdir: zombies included, one entry per process, not per thread). */
function pidEntries(p: Process): [string, Node][] {
  return [...p.kernel.procs.values()].filter((q) => q === q.group.leader).sort((a, b) => a.pid - b.pid).map((q): [string, Node] => [String(q.pid), pidDir(q)]);
}

/** /proc/<pid>/fd: one link per open descriptor. */
function fdLinks(p: Process): [string, Node][] {
  const out: [string, Node][] = [];
  for (let fd = 0; fd < NOFILE; fd++) {
    const f = p.fds.get(fd);
    if (f) out.push([String(fd), { kind: "magic", target: () => fdTarget(p, f), file: () => f }]);
  }
  return out;
}

/** The tree's root: its two children are /proc and /sys. */
function rootNode(p: Process): Node {
  const hostFile = (name: string) => file(() => hostText(name));
  const proc = dir(() => [
    ["self", { kind: "link", target: () => String(p.tgid) }],
    ["thread-self", { kind: "link", target: () => `${p.tgid}/task/${p.pid}` }],
    ["mounts", { kind: "link", target: () => "self/mounts" }],
    ["cpuinfo", file(() => cpuinfoText(p.kernel.cpus))], ["meminfo", file(() => meminfoText(p))], ["stat", file(() => systemStatText(p.kernel.cpus))],
    ["uptime", hostFile("/proc/uptime")], ["loadavg", hostFile("/proc/loadavg")], ["version", hostFile("/proc/version")],
    ["sys", dir(() => ["kernel", "vm", "fs"].map((d): [string, Node] => [d, { kind: "host", host: `/proc/sys/${d}` }]))],
    ...pidEntries(p), // after the fixed entries, as proc_root_readdir lists them
  ]);
  const cpuList = file(() => cpuListText(p.kernel.cpus));
  const cpus = dir(() => [
    ["online", cpuList], ["possible", cpuList], ["present", cpuList], ["kernel_max", hostFile("/sys/devices/system/cpu/kernel_max")],
    ...Array.from({ length: p.kernel.cpus }, (_, k): [string, Node] => [`cpu${k}`, dir(() => [])]),
  ]);
  const sys = dir(() => [["devices", dir(() => [["system", dir(() => [["cpu", cpus]])]])]]);
  return dir(() => [["proc", proc], ["sys", sys]]);
}

/** Whether absolute guest path `target` lies in the tree (/proc or /sys). */
function insideTree(target: string): boolean {
  const first = target.split("/").filter((s) => s !== "")[0];
  return first === "proc" || first === "sys";
}

/** Where a lookup ended: a node of the tree (with its canonical path), or a path outside it to go on with. */
type Found = { node: Node; at: string } | { outside: string; via: Node & { kind: "magic" } };

/**
 * Walks guest path `name` (from `base`) through the tree, following links
 * inside it, and the last component's only when `follow`.
 * @returns null when the path is not under /proc or /sys
 * @throws ErrnoError ENOENT for what faultline does not provide, ENOTDIR, ELOOP
 */
function lookup(p: Process, name: string, base: string, follow: boolean): Found | null {
  // A trailing slash, "." or ".." makes the last link one to follow (cf. LOOKUP_FOLLOW | LOOKUP_DIRECTORY).
  if (/(^|\/)(\.\.?)?$/.test(name)) follow = true;
  const abs = name.startsWith("/") ? name : `${base}/${name}`;
  // Components walked as they come, so that ".." after a link out of the tree applies to its target;
  // a path that only reaches the tree through ".." outside it is taken lexically.
  let parts = abs.split("/").filter((s) => s !== "" && s !== ".");
  if (!insideTree("/" + parts.join("/"))) parts = path.posix.normalize(abs).split("/").filter((s) => s !== "");
  if (parts[0] !== "proc" && parts[0] !== "sys") return null;
  let node = rootNode(p), at: string[] = [], hops = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === "..") { // within the tree, lexical; leaving it, the caller walks the path itself
      if (at.length <= 1 && parts[0] !== "proc" && parts[0] !== "sys") return null;
      parts.unshift(...at.slice(0, -1));
      node = rootNode(p);
      at = [];
      continue;
    }
    if (node.kind === "host") { // one component at a time, so that ".." cannot lead out of the passed-through directory
      node = { kind: "host", host: `${node.host}/${part}` };
      at.push(part);
      continue;
    }
    if (node.kind !== "dir") fail("ENOTDIR", `/${at.join("/")} is not a directory`);
    const next = node.children().get(part);
    if (!next) return fail("ENOENT", `/${[...at, part].join("/")}: not provided by faultline`);
    const last = parts.length === 0;
    const target = (next.kind === "link" || next.kind === "magic") && (!last || follow) ? next.target() : null;
    if (target !== null && next.kind === "magic" && !target.startsWith("/")) {
      if (!last) fail("ENOTDIR", `${abs}: ${target} is not a directory`);
      return { outside: target, via: next };
    }
    if (target !== null && next.kind === "magic" && !insideTree(target)) return { outside: path.posix.join(target, ...parts), via: next };
    if (target !== null) { // a link inside the tree (also a magic link back into /proc or /sys): walk on from its target
      if (++hops > 40) fail("ELOOP", `${abs}: too many links`);
      const from = target.startsWith("/") ? target : `/${at.join("/")}/${target}`;
      parts.unshift(...path.posix.normalize(from).split("/").filter((s) => s !== ""));
      node = rootNode(p);
      at = [];
      continue;
    }
    node = next;
    at.push(part);
  }
  return { node, at: "/" + at.join("/") };
}

/** A directory of the tree opened for getdents (cf. proc_readdir): its records are made, not the host's. */
class ProcDir extends DirFile {
  /** Index of the next entry getdents returns; d_off of an entry is its index + 1. */
  private pos = 0;

  constructor(guestPath: string, private readonly node: Node & { kind: "dir" }, private readonly st: FileStat) {
    super(guestPath, -1, 0);
  }
  /** linux_dirent64 records from the next entry on, as many as fit in `size` bytes (EINVAL when none fits). */
  override readEntries(size: number): Buffer {
    const type = (n: Node) => (n.kind === "dir" ? 4 : n.kind === "file" ? 8 : n.kind === "host" ? 4 : 10);
    const list: [number, number, string][] = [[this.st.ino, 4, "."], [this.st.ino + 1, 4, ".."]];
    let k = 2;
    for (const [name, n] of this.node.children()) list.push([this.st.ino + k++, type(n), name]);
    const out: Buffer[] = [];
    let used = 0;
    for (; this.pos < list.length; this.pos++) {
      const [ino, t, name] = list[this.pos];
      const bytes = Buffer.from(name, "latin1");
      const reclen = Math.ceil((19 + bytes.length + 1) / 8) * 8;
      if (used + reclen > size) {
        if (used === 0) fail("EINVAL", "getdents64: buffer too small");
        break;
      }
      const rec = Buffer.alloc(reclen);
      rec.writeBigUInt64LE(BigInt(ino), 0);
      rec.writeBigInt64LE(BigInt(this.pos + 1), 8);
      rec.writeUInt16LE(reclen, 16);
      rec[18] = t;
      bytes.copy(rec, 19);
      out.push(rec);
      used += reclen;
    }
    return Buffer.concat(out);
  }
  override seek(off: number, whence: number): number {
    if (whence !== 0) fail("EINVAL", "lseek on a directory: only SEEK_SET");
    this.pos = off;
    return off;
  }
  override seekBig(off: bigint, whence: number): bigint {
    return BigInt(this.seek(Number(off), whence));
  }
  override where(): GuestPath {
    return this.guestPath as GuestPath;
  }
  override get hostInode(): number {
    return -1;
  }
  override stat(): FileStat {
    return this.st;
  }
  override release(): void {}
}

/** The stat of a node (cf. proc_pid_make_inode, sysfs_init_inode): procfs's or sysfs's device, mode by kind. */
function nodeStat(p: Process, node: Node, at: string): FileStat {
  if (node.kind === "host") return hostStat(node.host, at);
  const fsRoot = at.startsWith("/sys") ? "/sys" : "/proc";
  let dev = 0;
  try {
    dev = Number(fs.statSync(fsRoot).dev);
  } catch { /* no such host file system: 0 */ }
  const own = /^\/proc\/\d+(\/|$)/.test(at); // a guest process's files are its owner's (every guest process runs as the host's user)
  const mode = node.kind === "dir" ? S_IFDIR | 0o555 : node.kind === "file" ? S_IFREG | 0o444 : S_IFLNK | 0o777;
  let ino = 0;
  for (let k = 0; k < at.length; k++) ino = (Math.imul(ino, 31) + at.charCodeAt(k)) >>> 0;
  const ids = own ? { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 } : { uid: 0, gid: 0 };
  const now = hostClockNs(CLOCK_REALTIME_COARSE); // cf. proc_pid_make_inode: times are the inode's making
  return {
    dev, ino, mode, nlink: node.kind === "dir" ? 2 : 1, ...ids, rdev: 0, size: node.kind === "magic" ? 64 : 0, blksize: 1024, blocks: 0,
    atimeNs: now, mtimeNs: now, ctimeNs: now, birthtimeNs: 0n,
  };
}

/** The stat of a passed-through host file. */
function hostStat(host: string, at: string): FileStat {
  try {
    return statOf(fs.lstatSync(host, { bigint: true }));
  } catch (e) {
    return failHost(e, at);
  }
}

/** O_ACCMODE and the flags that would create or change a file. */
const O_ACCMODE = 3, O_CREAT = 0o100, O_TRUNC = 0o1000;

/** An open file for a node of the tree. */
function openNode(p: Process, node: Node, at: string, flags: number): OpenFile {
  if ((flags & O_ACCMODE) !== 0 || flags & (O_CREAT | O_TRUNC)) fail("EACCES", `open: ${at} is read-only`);
  if (node.kind === "dir") return new ProcDir(at, node, nodeStat(p, node, at));
  if (node.kind === "host") {
    const st = hostStat(node.host, at);
    if ((st.mode & 0o170000) === S_IFDIR) {
      const entries = (): [string, Node][] => fs.readdirSync(node.host).map((n) => [n, { kind: "host", host: `${node.host}/${n}` }]);
      return new ProcDir(at, { kind: "dir", children: () => new Map(entries()) }, st);
    }
    let data: Buffer;
    try {
      data = fs.readFileSync(node.host);
    } catch (e) {
      return failHost(e, at);
    }
    return new SyntheticFile(at, data);
  }
  if (node.kind !== "file") return fail("ELOOP", `open: ${at} is a symbolic link (O_NOFOLLOW)`);
  if (node.task) return new TaskFile(at, node.read, node.task);
  const data = node.read();
  return new SyntheticFile(at, typeof data === "string" ? Buffer.from(data, "latin1") : data);
}

/**
 * A /proc/<pid> file made when first read (cf. a seq_file: generated by the
 * read that finds its buffer empty at position 0, kept until an lseek to 0):
 * a read that must make it once its process is reaped fails with ESRCH or
 * reads 0 bytes, as the node says; a read at its end reads 0 bytes.
 */
class TaskFile extends SyntheticFile {
  /** The contents once made; null until the first read (and after an lseek to 0). */
  private made: Uint8Array | null = null;
  constructor(guestPath: string, private readonly make: () => string | Uint8Array, private readonly task: TaskRead) {
    super(guestPath, new Uint8Array(0));
  }
  /** The contents, made now if not yet. @throws ErrnoError ESRCH when the process is reaped (unless it reads empty) */
  private contents(): Uint8Array {
    if (this.made) return this.made;
    if (this.task.reaped()) {
      if (this.task.whenReaped === "ESRCH") fail("ESRCH", `${this.guestPath}: the process has been reaped`);
      return (this.made = new Uint8Array(0));
    }
    const d = this.make();
    return (this.made = typeof d === "string" ? Buffer.from(d, "latin1") : d);
  }
  override pread(len: number, off: number): Uint8Array {
    const data = this.contents();
    return off >= data.length ? new Uint8Array(0) : data.slice(off, off + len);
  }
  override seekBig(off: bigint, whence: number): bigint {
    const pos = seekTo(this.pos, BigInt(this.made?.length ?? 0), off, whence);
    if (pos === 0n) this.made = null; // cf. seq_lseek: back to the start, the next read makes it again
    this.pos = pos;
    return pos;
  }
}

/** Whether an open file is reached again by its path (a file or directory of the guest's tree) rather than shared. */
function reopensByPath(f: OpenFile): boolean {
  return f.guestPath.startsWith("/") && f.hostTty < 0;
}

/** open's flag not to follow a last link. */
const O_NOFOLLOW = 0o400000;

/**
 * Opens guest path `name` (from `base`) when it lies under /proc or /sys.
 * @returns the open file to install; a guest path to open instead (a link
 *   out of the tree, e.g. /proc/self/fd/3 of a file, /proc/self/exe); or
 *   null when `name` is not under /proc or /sys
 * @throws ErrnoError ENOENT for what faultline does not provide, EACCES for writes
 */
export function procFile(p: Process, name: string, base: string, flags = 0): OpenFile | string | { inodeOf: OpenFile } | null {
  const found = lookup(p, name, base, (flags & O_NOFOLLOW) === 0);
  if (found === null) return null;
  if ("outside" in found) {
    const f = found.via.file?.();
    if (f && found.outside === found.via.target()) {
      if (!reopensByPath(f)) return f;
      if (f.hostInode >= 0 && found.outside.endsWith(" (deleted)")) return { inodeOf: f }; // no name left: open the inode itself
    }
    return found.outside;
  }
  return openNode(p, found.node, found.at, flags);
}

/**
 * What a link under /proc reads as (readlink of /proc/self, /proc/self/exe,
 * /proc/self/fd/N...).
 * @returns the target, or null when `name` is not under /proc or /sys
 * @throws ErrnoError EINVAL when the node is not a link, ENOENT when it does not exist
 */
export function procLink(p: Process, name: string, base: string): string | null {
  const found = lookup(p, name, base, false);
  if (found === null) return null;
  // A path through a link out of the tree (/proc/self/cwd/x) is not walked further here.
  if ("outside" in found) return fail("ENOENT", `${name}: a link out of /proc in the middle of the path`);
  const n = found.node;
  if (n.kind === "link" || n.kind === "magic") return n.target();
  if (n.kind === "host") {
    try {
      return fs.readlinkSync(n.host, { encoding: "latin1" }); // bytes, as GuestPath keeps them
    } catch (e) {
      return failHost(e, found.at);
    }
  }
  return fail("EINVAL", `readlink: ${found.at} is not a link`);
}

/**
 * The stat of guest path `name` (from `base`) when it lies under /proc or /sys.
 * @returns the stat; a guest path to stat instead (a link out of the tree,
 *   followed); or null when `name` is not under /proc or /sys
 * @throws ErrnoError ENOENT for what faultline does not provide
 */
export function procStat(p: Process, name: string, base: string, follow: boolean): FileStat | string | null {
  const found = lookup(p, name, base, follow);
  if (found === null) return null;
  if ("outside" in found) {
    const f = found.via.file?.();
    return f && !reopensByPath(f) && found.outside === found.via.target() ? f.stat() : found.outside;
  }
  return nodeStat(p, found.node, found.at);
}

/**
 * access(2) of guest path `name` (from `base`) when it lies under /proc or
 * /sys, by the node's permission bits (cf. generic_permission: the owner's
 * bits for the owner, else the others'; root may read and write anything
 * and execute what has an x bit).
 * @returns 0 when allowed; a guest path to check instead (a link out of the
 *   tree); or null when `name` is not under /proc or /sys
 * @throws ErrnoError EACCES when denied, ENOENT for what faultline does not provide
 */
export function procAccess(p: Process, name: string, base: string, follow: boolean, mode: number): 0 | string | null {
  const st = procStat(p, name, base, follow);
  if (st === null || typeof st === "string") return st;
  const euid = process.geteuid?.() ?? 0;
  const bits = (st.mode >> (st.uid === euid ? 6 : 0)) & 7;
  const granted = euid === 0 ? 6 | (st.mode & 0o111 ? 1 : 0) : bits;
  if (mode & ~granted & 7) fail("EACCES", `access: ${name}: mode ${mode} not granted`);
  return 0;
}

