/**
 * The guest's view of the file system (cf. struct fs_struct and
 * path_lookupat): a root directory on the host (--root, default /), a
 * current directory, a umask, and path resolution that walks one component
 * at a time and follows symbolic links itself, so neither `..` nor a link
 * (absolute or relative) can lead outside the root.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fail } from "../lib/errno.js";

/** Most symbolic links followed in one lookup (cf. MAXSYMLINKS). */
const MAX_LINKS = 40;

/** A resolved path: where it is on the host, and its canonical guest spelling. */
export interface Resolved {
  /** Host path (inside the root). */
  readonly host: string;
  /** Guest path, absolute and canonical ("/" for the root). */
  readonly guest: string;
}

/** A guest's root, working directory and umask. */
export class Vfs {
  /** Host directory that the guest sees as "/". */
  readonly root: string;
  /** Guest path of the working directory (canonical). */
  cwd = "/";
  /** File-creation mask. */
  umask = 0o022;

  /**
   * @param root host directory to show as "/"
   * @param cwd initial guest working directory (default "/": must exist under root)
   */
  constructor(root = "/", cwd = "/") {
    this.root = path.resolve(root);
    this.cwd = this.resolve(cwd, true).guest;
  }

  /** Sets the umask and returns the old one. */
  setUmask(mask: number): number {
    const old = this.umask;
    this.umask = mask;
    return old;
  }

  /** Host path of guest path `guest` (canonical, no links resolved). */
  hostOf(guest: string): string {
    return guest === "/" ? this.root : path.join(this.root, guest);
  }

  /**
   * Resolves `p` relative to `base` (a guest directory; default the cwd).
   * @param followLast whether a link in the last component is followed
   * @param mustExist whether a missing last component is ENOENT
   *   (intermediate components must always exist and be directories)
   * @throws ErrnoError ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG
   */
  resolve(p: string, followLast: boolean, base = this.cwd, mustExist = true): Resolved {
    if (p.length === 0) fail("ENOENT", "empty path");
    if (p.length >= 4096) fail("ENAMETOOLONG", "path too long");
    let links = 0;
    let parts: string[] = [];
    let todo = (p.startsWith("/") ? p : `${base}/${p}`).split("/");
    while (todo.length > 0) {
      const c = todo.shift()!;
      if (c === "" || c === ".") continue;
      if (c === "..") {
        parts.pop(); // never above the root
        continue;
      }
      if (c.length > 255) fail("ENAMETOOLONG", `path component too long: ${c.slice(0, 32)}...`);
      const guest = "/" + [...parts, c].join("/");
      const host = this.hostOf(guest);
      const last = todo.every((x) => x === "" || x === ".");
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(host);
      } catch {
        if (!last || mustExist) fail("ENOENT", `${guest}: no such file or directory`);
        parts.push(c);
        continue;
      }
      if (st.isSymbolicLink() && (!last || followLast)) {
        if (++links > MAX_LINKS) fail("ELOOP", `${p}: too many levels of symbolic links`);
        const target = fs.readlinkSync(host);
        if (target.startsWith("/")) parts = [];
        todo = [...target.split("/"), ...todo];
        continue;
      }
      if (!last && !st.isDirectory()) fail("ENOTDIR", `${guest}: not a directory`);
      parts.push(c);
    }
    const guest = "/" + parts.join("/");
    return { guest, host: this.hostOf(guest) };
  }

  /** The guest path of a host path under the root, or the host path itself when outside. */
  guestOf(host: string): string {
    const rel = path.relative(this.root, host);
    return rel.startsWith("..") ? host : "/" + rel;
  }
}
