/**
 * Names of AF_UNIX sockets in a guest world (cf. net/unix/af_unix.c's
 * unix_socket_table and bsd_socket_buckets): the abstract namespace
 * (sun_path[0] == 0), names that live only while their socket does, and
 * file-system names, socket nodes in the guest's file system (the host's
 * under the root) found by the node's (device, inode), as Linux finds the
 * socket bound to an inode (cf. unix_find_socket_byinode).
 *
 *   bind "/tmp/s"  ──mknod(S_IFSOCK) on the host──> (dev, ino) ──> socket
 *   bind "\0name"  ──────────────────────────────> "name" bytes ──> socket
 *   connect        ──lookup (path: resolve + stat)──> the same key ──> socket or ECONNREFUSED
 *
 * One `UnixNames` per Kernel: nothing is shared between guest worlds.
 */
import { fail } from "../lib/errno.js";

/** sizeof(struct sockaddr_un): the longest AF_UNIX address. */
export const SOCKADDR_UN_LEN = 110;
/** offsetof(struct sockaddr_un, sun_path): an address of just the family. */
export const SUN_PATH_OFF = 2;
const AF_UNIX = 1;

/**
 * A bound AF_UNIX address (cf. struct unix_address): the sockaddr_un bytes
 * as getsockname returns them, family included.
 */
export interface UnixAddress {
  /** The sockaddr_un bytes (length: the address's length, cf. unix_address.len). */
  readonly bytes: Uint8Array;
  /** Whether the name is abstract (sun_path[0] == 0) rather than a file-system path. */
  readonly abstract: boolean;
}

/** Where a file-system name's node is (the host's st_dev and st_ino of the socket node). */
export interface InodeKey {
  readonly dev: bigint;
  readonly ino: bigint;
}

/** What an address given to bind, connect or sendto names (cf. unix_validate_addr + unix_mkname_bsd). */
export type ParsedAddress =
  | { readonly kind: "autobind" }
  | { readonly kind: "abstract"; readonly address: UnixAddress }
  | { readonly kind: "path"; readonly address: UnixAddress; readonly path: Uint8Array };

/**
 * Checks and decodes `raw`, the `len` bytes of a sockaddr_un the guest gave
 * (cf. unix_validate_addr): just the family is "autobind" (bind's meaning;
 * connect and sendto reject it the way their callers say); a path stops at
 * its first NUL (cf. unix_mkname_bsd: the length becomes strlen + 1 + 2).
 * Only bind takes "autobind"; for connect and sendto it is EINVAL.
 * @throws ErrnoError EINVAL (too short or long, not AF_UNIX)
 */
export function parseAddress(raw: Uint8Array): ParsedAddress {
  if (raw.length === SUN_PATH_OFF && raw[0] === AF_UNIX && raw[1] === 0) return { kind: "autobind" };
  if (raw.length <= SUN_PATH_OFF || raw.length > SOCKADDR_UN_LEN) fail("EINVAL", `AF_UNIX address of ${raw.length} bytes`);
  if (raw[0] !== AF_UNIX || raw[1] !== 0) fail("EINVAL", "not an AF_UNIX address");
  if (raw[SUN_PATH_OFF] === 0) return { kind: "abstract", address: { bytes: raw.slice(), abstract: true } };
  const nul = raw.indexOf(0, SUN_PATH_OFF);
  const path = raw.slice(SUN_PATH_OFF, nul < 0 ? raw.length : nul);
  const bytes = new Uint8Array(SUN_PATH_OFF + path.length + 1); // NUL-terminated, as unix_mkname_bsd stores it
  bytes.set(raw.subarray(0, SUN_PATH_OFF));
  bytes.set(path, SUN_PATH_OFF);
  return { kind: "path", address: { bytes, abstract: false }, path };
}

/** The key of an abstract name: its sun_path bytes after the leading NUL, one char per byte. */
function abstractKey(a: UnixAddress): string {
  return Buffer.from(a.bytes.subarray(SUN_PATH_OFF + 1)).toString("latin1");
}

/**
 * The bound names of one guest world (cf. the per-net unix_table). Values
 * are the sockets themselves (any object the socket layer binds).
 * Invariant: a socket appears at most once, under the name it is bound to,
 * and only while it is open.
 */
export class UnixNames<S extends object> {
  /** Abstract names (cf. unix_table buckets keyed by the name's hash). */
  private readonly abstract = new Map<string, S>();
  /** File-system names by the node's device, then inode (cf. bsd_socket_buckets keyed by the inode). */
  private readonly byInode = new Map<bigint, Map<bigint, S>>();
  /** The next autobind number (cf. unix_autobind's ordernum; counts from 0 here, a random start on Linux). */
  private ordernum = 0;

  /** The socket bound to abstract address `a`, or undefined. */
  findAbstract(a: UnixAddress): S | undefined {
    return this.abstract.get(abstractKey(a));
  }

  /**
   * Binds `s` to abstract address `a` (cf. unix_bind_abstract).
   * @throws ErrnoError EADDRINUSE when another socket has the name
   */
  bindAbstract(s: S, a: UnixAddress): void {
    const k = abstractKey(a);
    if (this.abstract.has(k)) fail("EADDRINUSE", "bind: the abstract name is in use");
    this.abstract.set(k, s);
  }

  /**
   * An unused abstract name of five hex digits for `s`, bound to it (cf. unix_autobind).
   * @throws ErrnoError ENOSPC when all 2^20 are taken
   */
  autobind(s: S): UnixAddress {
    for (let tries = 0; tries < 0x100000; tries++) {
      const n = this.ordernum;
      this.ordernum = (this.ordernum + 1) & 0xfffff;
      const bytes = new Uint8Array(SUN_PATH_OFF + 6);
      bytes[0] = AF_UNIX;
      bytes.set(Buffer.from(n.toString(16).padStart(5, "0"), "latin1"), SUN_PATH_OFF + 1);
      const a: UnixAddress = { bytes, abstract: true };
      if (this.findAbstract(a)) continue;
      this.abstract.set(abstractKey(a), s);
      return a;
    }
    return fail("ENOSPC", "autobind: every abstract name is taken");
  }

  /** The socket bound to the node at `key`, or undefined. */
  findInode(key: InodeKey): S | undefined {
    return this.byInode.get(key.dev)?.get(key.ino);
  }

  /** Binds `s` to the socket node at `key` (the caller made the node, so nothing else has it). */
  bindInode(s: S, key: InodeKey): void {
    let m = this.byInode.get(key.dev);
    if (!m) this.byInode.set(key.dev, (m = new Map()));
    m.set(key.ino, s);
  }

  /** Forgets the name `s` holds (cf. unix_remove_socket when the socket is released); the node in the file system stays. */
  unbind(s: S, a: UnixAddress, key: InodeKey | null): void {
    if (a.abstract) {
      const k = abstractKey(a);
      if (this.abstract.get(k) === s) this.abstract.delete(k);
    } else if (key) {
      const m = this.byInode.get(key.dev);
      if (m?.get(key.ino) === s) m.delete(key.ino);
    }
  }
}
