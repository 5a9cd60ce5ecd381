/**
 * The guest's view of the file system (cf. struct fs_struct and
 * path_lookupat): a root directory on the host (--root, default /), a
 * current directory, a umask, and path resolution that walks one component
 * at a time and follows symbolic links itself, so neither `..` nor a link
 * (absolute or relative) can lead outside the root.
 *
 * Names are bytes, as in Linux: a guest path is a `GuestPath` (its bytes,
 * one char per byte), a host path is a `HostPath` (a Buffer handed to the
 * host as it is). Nothing on the way decodes or encodes UTF-8, so a name
 * that is not UTF-8 reaches the host file with the bytes the guest gave.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fail, failHost, hostErrno } from "../lib/errno.js";

/** Most symbolic links followed in one lookup (cf. MAXSYMLINKS). */
const MAX_LINKS = 40;
/** Longest path, NUL included (cf. PATH_MAX). */
const PATH_MAX = 4096;
/** Longest path component (cf. NAME_MAX). */
const NAME_MAX = 255;

declare const guestBytes: unique symbol;
/**
 * A guest path's bytes, one char per byte (latin1), so that string
 * operations are byte operations. Made by `guestPath()` from bytes or
 * `textPath()` from text; never a UTF-8 string.
 */
export type GuestPath = string & { readonly [guestBytes]: true };
/** A host path: the exact bytes handed to the host. */
export type HostPath = Buffer;

/** The guest path whose bytes are `bytes`. */
export function guestPath(bytes: Uint8Array): GuestPath {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1") as GuestPath;
}

/** The guest path spelled by text `s` (e.g. from the command line): its UTF-8 bytes. */
export function textPath(s: string): GuestPath {
  return guestPath(Buffer.from(s, "utf8"));
}

/** The bytes of guest path `g`. */
export function pathBytes(g: GuestPath): Buffer {
  return Buffer.from(g, "latin1");
}

/** A resolved path: where it is on the host, and its canonical guest spelling. */
export interface Resolved {
  /** Host path (inside the root). */
  readonly host: HostPath;
  /** Guest path, absolute and canonical ("/" for the root). */
  readonly guest: GuestPath;
}

/** How resolve() treats the last component. */
export interface ResolveOptions {
  /** Whether a link in the last component is followed (default true). */
  follow?: boolean;
  /** Guest directory relative paths start from (default the cwd). */
  base?: GuestPath;
  /** Whether a missing last component is ENOENT (default true; false for creating calls). */
  mustExist?: boolean;
}

/** O_PATH | O_DIRECTORY of Linux x86-64 (Node names neither). */
const O_PATH_DIRECTORY = 0o10000000 | 0o200000;

/** A guest's root, working directory and umask. */
export class Vfs {
  /** Host directory that the guest sees as "/". */
  readonly root: string;
  /** The bytes of `root`. */
  private readonly rootBytes: Buffer;
  /** The bytes of `root` with its links resolved (as the host names its files, e.g. in /proc/self/fd). */
  private readonly realRootBytes: Buffer;
  /**
   * The working directory as an object (cf. fs_struct.pwd, a path, not a
   * name): a host O_PATH descriptor of it, so a rename of it or of a parent
   * shows in getcwd and relative lookups, as on Linux. -1 before the first
   * set and after close().
   */
  private cwdFd = -1;
  /** The working directory's guest path as last seen (what `cwd` answers once it is removed or moved out of the root). */
  private cwdSeen: GuestPath = "/" as GuestPath;
  /** File-creation mask. */
  umask = 0o022;

  /**
   * @param root host directory to show as "/"
   * @param cwd initial guest working directory (default "/": must exist under root)
   */
  constructor(root = "/", cwd = "/") {
    this.root = path.resolve(root);
    this.rootBytes = Buffer.from(this.root, "utf8");
    this.realRootBytes = fs.realpathSync(this.rootBytes, { encoding: "buffer" });
    this.cwd = this.resolve(textPath(cwd)).guest;
  }

  /** Guest path of the working directory where it is now (canonical; cf. d_path of fs->pwd). */
  get cwd(): GuestPath {
    if (this.cwdFd < 0) return this.cwdSeen;
    try {
      const host = fs.readlinkSync(`/proc/self/fd/${this.cwdFd}`, { encoding: "buffer" });
      if (!this.cwdRemoved()) this.cwdSeen = this.guestInside(host) ?? this.cwdSeen;
    } catch { /* no /proc on the host: the name it was set by */ }
    return this.cwdSeen;
  }

  /** Makes guest directory `guest` (resolved, existing) the working directory. */
  set cwd(guest: GuestPath) {
    let fd = -1;
    try {
      fd = fs.openSync(this.hostOf(guest), O_PATH_DIRECTORY);
    } catch { /* kept by name only */ }
    this.close();
    this.cwdFd = fd;
    this.cwdSeen = guest;
  }

  /** Whether the working directory has been removed (getcwd is then ENOENT, cf. d_unlinked). */
  cwdRemoved(): boolean {
    try {
      return this.cwdFd >= 0 && fs.fstatSync(this.cwdFd).nlink === 0;
    } catch {
      return false;
    }
  }

  /**
   * fork's copy of the fs context (cf. copy_fs_struct): the same root and
   * umask, and the working directory as the same directory object (a new
   * host descriptor of it, so either side may chdir alone).
   */
  clone(): Vfs {
    const c = Object.create(Vfs.prototype) as Vfs;
    Object.assign(c, { root: this.root, rootBytes: this.rootBytes, realRootBytes: this.realRootBytes, umask: this.umask, cwdSeen: this.cwdSeen, cwdFd: -1 });
    if (this.cwdFd >= 0) {
      try {
        c.cwdFd = fs.openSync(`/proc/self/fd/${this.cwdFd}`, O_PATH_DIRECTORY);
      } catch { /* kept by name only, as set */ }
    }
    return c;
  }

  /** Processes using this context (cf. fs_struct.users): 1 at creation, +1 per share(); its cwd is released when the last one puts it. */
  private users = 1;

  /** This context for one more process (clone with CLONE_FS, cf. copy_fs). */
  share(): this {
    this.users++;
    return this;
  }

  /** A process stops using this context (exit); the last one releases the cwd (cf. free_fs_struct). */
  put(): void {
    if (--this.users === 0) this.close();
  }

  /** Releases the working directory's host descriptor (process exit). */
  close(): void {
    if (this.cwdFd >= 0) fs.closeSync(this.cwdFd);
    this.cwdFd = -1;
  }

  /** Sets the umask and returns the old one. */
  setUmask(mask: number): number {
    const old = this.umask;
    this.umask = mask;
    return old;
  }

  /** Host path of guest path `guest` (canonical, no links resolved). */
  hostOf(guest: GuestPath): HostPath {
    if (this.root === "/") return pathBytes(guest);
    return guest === "/" ? Buffer.from(this.rootBytes) : Buffer.concat([this.rootBytes, pathBytes(guest)]);
  }

  /**
   * Resolves `p` (bytes, or a GuestPath) component by component inside the root.
   * Intermediate components must exist and be directories.
   * @throws ErrnoError ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG
   */
  resolve(p: GuestPath | Uint8Array, o: ResolveOptions = {}): Resolved {
    const name = typeof p === "string" ? p : guestPath(p);
    const follow = o.follow ?? true, mustExist = o.mustExist ?? true;
    if (name.length === 0) fail("ENOENT", "empty path");
    if (name.length >= PATH_MAX) fail("ENAMETOOLONG", "path too long");
    let links = 0;
    // A relative lookup starts in its base directory, already resolved (cf. path_init from
    // fs->pwd or the dirfd): its components are not walked again, so `..` of a removed
    // working directory is its old parent, as on Linux.
    let parts: string[] = name.startsWith("/") ? [] : (o.base ?? this.cwd).split("/").filter((c) => c !== "");
    let todo = name.split("/");
    while (todo.length > 0) {
      const c = todo.shift()!;
      if (c === "" || c === ".") continue;
      if (c === "..") {
        parts.pop(); // never above the root
        continue;
      }
      if (c.length > NAME_MAX) fail("ENAMETOOLONG", `path component too long: ${c.slice(0, 32)}...`);
      const guest = ("/" + [...parts, c].join("/")) as GuestPath;
      const host = this.hostOf(guest);
      const last = todo.every((x) => x === "" || x === ".");
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(host);
      } catch (e) {
        if (hostErrno(e) !== "ENOENT") failHost(e, printable(guest)); // EACCES on a directory the guest may not search
        if (!last || mustExist) fail("ENOENT", `${printable(guest)}: no such file or directory`);
        parts.push(c);
        continue;
      }
      if (st.isSymbolicLink() && (!last || follow)) {
        if (++links > MAX_LINKS) fail("ELOOP", `${printable(name)}: too many levels of symbolic links`);
        const target = guestPath(fs.readlinkSync(host, { encoding: "buffer" }));
        if (target.startsWith("/")) parts = [];
        todo = [...target.split("/"), ...todo];
        continue;
      }
      if (!last && !st.isDirectory()) fail("ENOTDIR", `${printable(guest)}: not a directory`);
      parts.push(c);
    }
    const guest = ("/" + parts.join("/")) as GuestPath;
    return { guest, host: this.hostOf(guest) };
  }

  /**
   * The guest path of host path `host` when it lies under the root, comparing
   * whole components (so `/r/..x` is inside root `/r`, and `/rx` is not); else null.
   */
  guestInside(host: HostPath | string): GuestPath | null {
    const h = typeof host === "string" ? Buffer.from(host, "utf8") : host;
    if (this.root === "/") return h.length === 0 ? null : guestPath(h);
    return under(h, this.rootBytes) ?? under(h, this.realRootBytes);
  }

  /** The guest path of a host path under the root, or the host path itself when outside. */
  guestOf(host: HostPath | string): GuestPath {
    return this.guestInside(host) ?? guestPath(typeof host === "string" ? Buffer.from(host, "utf8") : host);
  }
}

/** The guest path of host path `h` under root directory `root` (no trailing slash), comparing whole components; else null. */
function under(h: Buffer, root: Buffer): GuestPath | null {
  if (h.length < root.length || !h.subarray(0, root.length).equals(root)) return null;
  if (h.length === root.length) return "/" as GuestPath;
  return h[root.length] === 0x2f ? guestPath(h.subarray(root.length)) : null;
}

/** A guest path for a message (bytes that are not UTF-8 show as U+FFFD). */
export function printable(g: GuestPath): string {
  return pathBytes(g).toString("utf8");
}
