/**
 * The guest's /proc and /sys (cf. fs/proc/root.c, fs/proc/base.c,
 * fs/sysfs): a tree of the files programs read, made at open and read to
 * their end. The guest's own process comes from faultline's state
 * (emu/procfs/self.ts), the rest of the system from faultline's state or
 * the host's files (emu/procfs/host.ts). Any other path under /proc or
 * /sys is ENOENT: nothing of Node's own process or of other host
 * processes shows through.
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
import { DirFile, S_IFDIR, S_IFLNK, S_IFREG, SyntheticFile, statOf, type FileStat, type OpenFile } from "./files.js";
import type { GuestPath } from "./vfs.js";
import { GUEST_CPUS, cpuListText, cpuinfoText, hostText, meminfoText, mountsText, statText as systemStatText } from "./procfs/host.js";
import { fdTarget, mapsText, nulJoined, statText, statmText, statusText, comm } from "./procfs/self.js";
import type { Process } from "./process.js";

/** One node of the tree. Content and children are made when asked for, from the state of that moment. */
type Node =
  | { readonly kind: "file"; readonly read: () => string | Uint8Array }
  | { readonly kind: "dir"; readonly children: () => ReadonlyMap<string, Node> }
  /** A link inside the tree (self, thread-self, /proc/mounts): `target` is relative to the link's directory. */
  | { readonly kind: "link"; readonly target: () => string }
  /** A link out of the tree (exe, cwd, root, fd/N): a guest path, or a name such as pipe:[N]; `file` is the open file it stands for. */
  | { readonly kind: "magic"; readonly target: () => string; readonly file?: () => OpenFile }
  /** A host directory passed through read-only (/proc/sys/kernel). */
  | { readonly kind: "host"; readonly host: string };

const file = (read: () => string | Uint8Array): Node => ({ kind: "file", read });
const dir = (entries: () => [string, Node][]): Node => ({ kind: "dir", children: () => new Map(entries()) });

/** /proc/<pid>: the guest's own process. */
function pidDir(p: Process): Node {
  return dir(() => [
    ["status", file(() => statusText(p))], ["stat", file(() => statText(p))], ["statm", file(() => statmText(p))],
    ["cmdline", file(() => nulJoined(p.execImage?.argv ?? []))], ["environ", file(() => nulJoined(p.execImage?.envp ?? []))],
    ["auxv", file(() => p.execImage?.auxv ?? new Uint8Array(0))], ["maps", file(() => mapsText(p))], ["comm", file(() => `${comm(p)}\n`)],
    ["mounts", file(() => mountsText(p, "/proc/self/mounts", 1))], ["mountinfo", file(() => mountsText(p, "/proc/self/mountinfo", 4))],
    ["exe", { kind: "magic", target: () => p.exePath }], ["cwd", { kind: "magic", target: () => p.fs.cwd }],
    ["root", { kind: "magic", target: () => "/" }], ["fd", dir(() => fdLinks(p))],
    ["task", dir(() => [[String(p.pid), pidDir(p)]])],
  ]);
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
    [String(p.pid), pidDir(p)], ["self", { kind: "link", target: () => String(p.pid) }],
    ["thread-self", { kind: "link", target: () => `${p.pid}/task/${p.pid}` }],
    ["mounts", { kind: "link", target: () => "self/mounts" }],
    ["cpuinfo", file(cpuinfoText)], ["meminfo", file(() => meminfoText(p))], ["stat", file(systemStatText)],
    ["uptime", hostFile("/proc/uptime")], ["loadavg", hostFile("/proc/loadavg")], ["version", hostFile("/proc/version")],
    ["sys", dir(() => ["kernel", "vm", "fs"].map((d): [string, Node] => [d, { kind: "host", host: `/proc/sys/${d}` }]))],
  ]);
  const cpuList = file(cpuListText);
  const cpus = dir(() => [
    ["online", cpuList], ["possible", cpuList], ["present", cpuList], ["kernel_max", hostFile("/sys/devices/system/cpu/kernel_max")],
    ...Array.from({ length: GUEST_CPUS }, (_, k): [string, Node] => [`cpu${k}`, dir(() => [])]),
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
  const own = at.startsWith(`/proc/${p.pid}`);
  const mode = node.kind === "dir" ? S_IFDIR | 0o555 : node.kind === "file" ? S_IFREG | 0o444 : S_IFLNK | 0o777;
  let ino = 0;
  for (let k = 0; k < at.length; k++) ino = (Math.imul(ino, 31) + at.charCodeAt(k)) >>> 0;
  const ids = own ? { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 } : { uid: 0, gid: 0 };
  const now = BigInt(Date.now()) * 1_000_000n; // cf. proc_pid_make_inode: times are the inode's making
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
  const data = node.read();
  return new SyntheticFile(at, typeof data === "string" ? Buffer.from(data, "latin1") : data);
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

