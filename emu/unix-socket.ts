/**
 * AF_UNIX sockets made by socketpair(2), inside the guest world (cf.
 * net/unix/af_unix.c). Each socket holds its own receive queue of buffers
 * (cf. sk_receive_queue of sk_buffs); a sender queues into its peer's queue
 * and is charged for what it queued (cf. sk_wmem_alloc against sk_sndbuf)
 * until the receiver consumes it, which is all the flow control AF_UNIX
 * has (the receiver's SO_RCVBUF is kept, and not used, as on Linux).
 *
 *   A.send ──> skb { data, files (SCM_RIGHTS), creds } ──> B.queue     A.wmem += truesize
 *   B.recv <── B.queue (stream: bytes across buffers; dgram/seqpacket: one buffer)   A.wmem -= truesize
 *
 * Operations never wait: one that would answers EAGAIN, and the system-call
 * layer (emu/syscalls/net.ts, or fs.ts `blocking` for read/write through
 * OpenFile) waits for the socket's poll mask, parking the task while other
 * processes run, exactly as pipes do. An operation is told whether its
 * caller will wait (`dontwait`), because a few answers differ (a datagram
 * socket shut for reading answers 0 to a blocking read, EAGAIN otherwise).
 */
import koffi from "koffi";
import * as fs from "node:fs";
import { fail, type ErrnoName } from "../lib/errno.js";
import { ErrnoError } from "../lib/errors.js";
import { CLOCK_REALTIME_COARSE, hostClockNs } from "./host-clock.js";
import { OpenFile, statOf, type FileStat } from "./files.js";
import { hostStatfs, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "./hostfs.js";
import type { InodeKey, UnixAddress, UnixNames } from "./unix-names.js";

export const AF_UNIX = 1;
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5;
/** A socket type: SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET. */
export type SockType = typeof SOCK_STREAM | typeof SOCK_DGRAM | typeof SOCK_SEQPACKET;

/** sk_shutdown bits (cf. include/net/sock.h). */
const RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2, SHUTDOWN_MASK = 3;
const POLLRDHUP = 0x2000, POLLWRBAND = 0x200;

/** Default and largest buffer sizes: the host's net.core.{w,r}mem_default / _max (faultline's /proc/sys is the host's). */
function sysctl(name: string, fallback: number): number {
  try {
    return Number(fs.readFileSync(`/proc/sys/net/core/${name}`, "latin1").trim()) || fallback;
  } catch {
    return fallback;
  }
}

/** Longest queue of datagrams from senders that are not a socket's peer (cf. net.unix.max_dgram_qlen as sk_max_ack_backlog). */
function maxDgramQlen(): number {
  try {
    return Number(fs.readFileSync("/proc/sys/net/unix/max_dgram_qlen", "latin1").trim()) || 512;
  } catch {
    return 512;
  }
}

/** What a socket's buffers start at, and what SO_SNDBUF / SO_RCVBUF may ask unprivileged (cf. sysctl_wmem_max). */
export interface BufferLimits {
  wmemDefault: number; rmemDefault: number; wmemMax: number; rmemMax: number;
}

/** The host's buffer limits (read at socketpair, as Linux reads its sysctls at sock_init_data). */
export function bufferLimits(): BufferLimits {
  return {
    wmemDefault: sysctl("wmem_default", 212992), rmemDefault: sysctl("rmem_default", 212992),
    wmemMax: sysctl("wmem_max", 212992), rmemMax: sysctl("rmem_max", 212992),
  };
}

/** Smallest send and receive buffers (cf. SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF: 2 x and 1 x (2048 + an aligned sk_buff)). */
export const SOCK_MIN_SNDBUF = 4608, SOCK_MIN_RCVBUF = 2304;
/** What one buffer costs its sender beyond its bytes (cf. SKB_TRUESIZE's sk_buff + skb_shared_info). */
const SKB_OVERHEAD = 576;
/** Largest buffer a stream send makes (cf. SKB_MAX_HEAD(0) + UNIX_SKB_FRAGS_SZ). */
const STREAM_SKB_MAX = 3776 + 32768;
/** Most descriptors one SCM_RIGHTS message may carry (cf. SCM_MAX_FD). */
export const SCM_MAX_FD = 253;

/** Credentials a message carries (cf. UNIXCB(skb).pid / uid / gid; struct ucred). */
export interface Creds {
  pid: number;
  uid: number;
  gid: number;
}

/** The credentials of nobody (cf. cred_to_ucred without a pid or cred: pid 0, uid and gid -1): SO_PEERCRED of an unconnected socket. */
export const NO_CREDS: Creds = { pid: 0, uid: 0xffffffff, gid: 0xffffffff };

/**
 * A socket's connection state (cf. sk_state): "unconnected" (TCP_CLOSE,
 * a new socket, or a datagram one), "listening" (TCP_LISTEN) and
 * "connected" (TCP_ESTABLISHED: a socketpair, a connected or accepted stream).
 */
export type SockState = "unconnected" | "listening" | "connected";

/** Where a bound socket's name is registered, to forget it when the socket is released. */
interface Binding {
  readonly names: UnixNames<UnixSocket>;
  /** The socket node's (device, inode) for a file-system name; null for an abstract one. */
  readonly key: InodeKey | null;
}

/** One queued buffer (cf. struct sk_buff with its unix_skb_parms). */
interface Skb {
  data: Uint8Array;
  /** Bytes of a stream buffer already read (cf. UNIXCB(skb).consumed). */
  consumed: number;
  /** What the sender is charged while the buffer is queued (cf. skb->truesize). */
  truesize: number;
  /** The socket charged for it (cf. skb->sk). */
  sender: UnixSocket;
  /** Open files in flight (SCM_RIGHTS), each holding one reference, or null (cf. UNIXCB(skb).fp). */
  files: OpenFile[] | null;
  /** The sender's credentials when either end asked SO_PASSCRED or the sender gave SCM_CREDENTIALS, else null. */
  creds: Creds | null;
}

/** What a send carries besides its bytes. */
export interface SendOptions {
  /** The caller's credentials (added to the message when either end has SO_PASSCRED, cf. maybe_add_creds). */
  current: Creds;
  /** Credentials the sender gave (SCM_CREDENTIALS), already checked. */
  creds?: Creds;
  /** Files to pass (SCM_RIGHTS); the socket takes a reference on each when it queues them. */
  files?: OpenFile[];
  /** A datagram's destination found from its address (sendto), instead of the connected peer. */
  to?: UnixSocket;
}

/** How a receive is asked for (MSG_* flags, decoded). */
export interface RecvOptions {
  peek?: boolean;
  /** MSG_WAITALL: a stream receive wants all `len` bytes. */
  waitall?: boolean;
  /** The caller will not wait (MSG_DONTWAIT or O_NONBLOCK). */
  dontwait?: boolean;
}

/** What a receive took. */
export interface Received {
  data: Uint8Array;
  /** The whole datagram's length (for MSG_TRUNC's return value); the stream's `data.length`. */
  fullLength: number;
  /** Files passed with the data (the caller owns one reference on each), or null. */
  files: OpenFile[] | null;
  /** The credentials of the data, when the receiver has SO_PASSCRED (cf. scm_recv's SCM_CREDENTIALS). */
  creds: Creds | null;
  /** The sending socket's bound address (cf. unix_copy_addr of skb->sk), or null when it has none or nothing came. */
  from: UnixAddress | null;
}

const libc = koffi.load("libc.so.6");
const c_socketpair = libc.func("int socketpair(int domain, int type, int protocol, _Out_ int *sv)");
const c_close = libc.func("int close(int fd)");

/**
 * `fn` of a host socket made for the purpose and closed after (to ask the
 * host's sockfs what it says of every socket: its device, its statfs).
 * @throws ErrnoError ENFILE when the host can make none
 */
function withHostSocket<T>(fn: (fd: number) => T): T {
  const sv = [-1, -1];
  if (c_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) !== 0) fail("ENFILE", "the host made no socket");
  try {
    return fn(sv[0]);
  } finally {
    c_close(sv[0]);
    c_close(sv[1]);
  }
}

/** The host's sockfs device number (st_dev of a socket). */
function hostSockfsDev(): number {
  return withHostSocket((fd) => statOf(fs.fstatSync(fd, { bigint: true })).dev);
}

/** struct statfs of the host's socket file system (cf. sockfs_ops: SOCKFS_MAGIC), for fstatfs on a socket. */
export function hostSockfsStatfs(): Buffer {
  return withHostSocket((fd) => hostStatfs({ fd }));
}

/**
 * One AF_UNIX socket (cf. struct unix_sock with its struct socket and
 * file): a connected end of a socketpair. Its open file description is the
 * socket itself, so dup and fork share it and the last close releases it.
 */
export class UnixSocket extends OpenFile {
  /** The connected peer (cf. unix_peer); a datagram socket forgets a dead one when a send finds it. */
  peer: UnixSocket | null = null;
  /** Buffers sent to this socket, oldest first (cf. sk_receive_queue). */
  private readonly queue: Skb[] = [];
  /** RCV_SHUTDOWN / SEND_SHUTDOWN bits (cf. sk_shutdown). */
  private shut = 0;
  /** A pending error, reported once (cf. sk_err and sock_error). */
  private err: ErrnoName | null = null;
  /** Bytes this socket has queued at its peer, overheads included (cf. sk_wmem_alloc). */
  private wmem = 0;
  /** Whether the socket was closed (cf. SOCK_DEAD). */
  private dead = false;
  /** Send buffer size (cf. sk_sndbuf). */
  sndbuf: number;
  /** Receive buffer size (cf. sk_rcvbuf), kept for SO_RCVBUF. */
  rcvbuf: number;
  /** SO_PASSCRED: received data carries its sender's credentials. */
  passcred = false;
  /** SO_RCVLOWAT (cf. sk_rcvlowat): a stream receive waits for this many bytes, or its whole length if less. */
  rcvlowat = 1;
  /** SO_RCVTIMEO / SO_SNDTIMEO in nanoseconds, whole jiffies (0: wait forever). */
  rcvtimeoNs = 0n;
  sndtimeoNs = 0n;
  /** SO_LINGER's struct linger as set (AF_UNIX keeps it and never lingers). */
  readonly linger = new Uint8Array(8);
  /** Socket options that AF_UNIX keeps and never acts on (SO_KEEPALIVE, SO_REUSEADDR...), by number. */
  readonly inert = new Map<number, number>();
  /** When the socket's inode was made (its stat times). */
  private readonly bornNs = hostClockNs(CLOCK_REALTIME_COARSE);
  /** Connection state (cf. sk_state). */
  state: SockState;
  /** The bound address (cf. unix_sk(sk)->addr): bind's, autobind's, or an accepted socket's listener's; null when unbound. */
  addr: UnixAddress | null = null;
  /** Where the name is registered (null for an accepted socket, which shares its listener's name without owning it). */
  private binding: Binding | null = null;
  /** Most connections a listener queues beyond the first (cf. sk_max_ack_backlog); for a datagram socket, net.unix.max_dgram_qlen. */
  backlog: number;
  /** Connections made to this listener and not yet accepted, oldest first (cf. the embryos in a listener's receive queue). */
  private readonly pending: UnixSocket[] = [];

  /**
   * @param type SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
   * @param ino the socket's inode number (cf. sock_alloc's get_next_ino), shown as socket:[ino]
   * @param peercred who made the pair (cf. init_peercred), for SO_PEERCRED
   */
  constructor(readonly type: SockType, readonly ino: number, public peercred: Creds, limits: BufferLimits, flags: number, state: SockState = "connected") {
    super(`socket:[${ino}]`, true, true, flags);
    this.sndbuf = limits.wmemDefault;
    this.rcvbuf = limits.rmemDefault;
    this.state = state;
    this.backlog = type === SOCK_DGRAM ? maxDgramQlen() : 0;
  }

  /** A new unconnected socket (cf. unix_create): socket(2)'s. */
  static create(type: SockType, ino: number, flags: number): UnixSocket {
    return new UnixSocket(type, ino, NO_CREDS, bufferLimits(), flags, "unconnected");
  }

  /** Records `addr` as this socket's name, registered in `names` (at `key` for a file-system name), to be forgotten on release. */
  setBound(addr: UnixAddress, names: UnixNames<UnixSocket>, key: InodeKey | null): void {
    this.addr = addr;
    this.binding = { names, key };
  }

  /** Whether the socket is shut for reading (cf. sk_shutdown & RCV_SHUTDOWN): a listener so shut refuses connections. */
  get shutForReading(): boolean {
    return (this.shut & RCV_SHUTDOWN) !== 0;
  }

  /** Whether the socket was closed (SOCK_DEAD). */
  get isDead(): boolean {
    return this.dead;
  }

  /**
   * listen(2) (cf. unix_listen): a bound stream or seqpacket socket that is
   * not connected starts (or keeps) listening with `backlog`, and records
   * the caller as who answers connections (init_peercred).
   * @throws ErrnoError EOPNOTSUPP (datagram), EINVAL (unbound, or connected)
   */
  listen(backlog: number, creds: Creds): void {
    if (this.type === SOCK_DGRAM) fail("EOPNOTSUPP", "listen: a datagram socket");
    if (!this.addr) fail("EINVAL", "listen: the socket is not bound");
    if (this.state === "connected") fail("EINVAL", "listen: the socket is connected");
    this.backlog = backlog;
    this.state = "listening";
    this.peercred = creds;
  }

  /** Whether this listener's queue is over its backlog (cf. unix_recvq_full: more than sk_max_ack_backlog waiting). */
  get backlogFull(): boolean {
    return this.pending.length > this.backlog;
  }

  /**
   * Connects this socket to `listener` (cf. unix_stream_connect after the
   * lookup): a new socket for the server side, with `creds` as its peer's
   * credentials, queued at the listener; this socket takes the listener's.
   * @param ino the new socket's inode number
   * @throws ErrnoError ECONNREFUSED (not listening, or shut), EAGAIN (backlog full: the caller waits or not), EISCONN, EINVAL
   */
  connectTo(listener: UnixSocket, creds: Creds, ino: number): void {
    if (listener.state !== "listening" || listener.shutForReading || listener.dead) fail("ECONNREFUSED", "connect: nothing listens there");
    if (listener.backlogFull) fail("EAGAIN", "connect: the listener's backlog is full");
    if (this.state === "connected") fail("EISCONN", "connect: already connected");
    if (this.state !== "unconnected") fail("EINVAL", "connect: a listening socket");
    const server = new UnixSocket(this.type, ino, creds, bufferLimits(), 0, "connected");
    server.addr = listener.addr; // cf. newsk->addr = otheru->addr
    server.sndbuf = listener.sndbuf;
    server.rcvbuf = listener.rcvbuf;
    server.peer = this;
    this.peer = server;
    this.peercred = listener.peercred; // cf. copy_peercred(sk, other)
    this.state = "connected";
    listener.pending.push(server);
  }

  /**
   * The oldest connection waiting at this listener, taken off its queue (cf. unix_accept).
   * @throws ErrnoError EOPNOTSUPP (datagram), EINVAL (not listening), EAGAIN (none waits)
   */
  accept(): UnixSocket {
    if (this.type === SOCK_DGRAM) fail("EOPNOTSUPP", "accept: a datagram socket");
    if (this.state !== "listening") fail("EINVAL", "accept: the socket is not listening");
    return this.pending.shift() ?? fail("EAGAIN", "accept: no connection waits");
  }

  /**
   * connect(2) of a datagram socket (cf. unix_dgram_connect): `other` becomes
   * the default peer, or none (AF_UNSPEC). What was queued from an old peer stays.
   * @throws ErrnoError EPERM when `other` is connected to another socket (cf. unix_may_send)
   */
  connectDgram(other: UnixSocket | null): void {
    if (other && !this.maySend(other)) fail("EPERM", "connect: that socket is connected to another");
    this.peer = other;
    this.state = other ? "connected" : "unconnected";
  }

  /** Whether this socket may send to datagram socket `other` (cf. unix_may_send: `other` has no peer, or this one). */
  private maySend(other: UnixSocket): boolean {
    return other.peer === null || other.peer === this;
  }

  /**
   * Two sockets joined back to back (cf. unix_socketpair).
   * @param inos the two inode numbers
   */
  static pair(type: SockType, inos: [number, number], creator: Creds, flags: number): [UnixSocket, UnixSocket] {
    const limits = bufferLimits();
    const a = new UnixSocket(type, inos[0], creator, limits, flags), b = new UnixSocket(type, inos[1], creator, limits, flags);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  /** Whether bytes keep no record boundaries (SOCK_STREAM). */
  get isStream(): boolean {
    return this.type === SOCK_STREAM;
  }

  /** The pending error, cleared (cf. sock_error), or null. */
  takeError(): ErrnoName | null {
    const e = this.err;
    this.err = null;
    return e;
  }

  /** Bytes queued for reading (cf. unix_inq_len: all of a stream's, the first datagram's). */
  get inq(): number {
    if (!this.isStream) return this.queue[0]?.data.length ?? 0;
    return this.queue.reduce((n, s) => n + s.data.length - s.consumed, 0);
  }

  /** Bytes this socket has queued at its peer, overheads included (cf. unix_outq_len). */
  get outq(): number {
    return this.wmem;
  }

  /** Whether a send would find room (cf. unix_writable: at most a quarter of the send buffer in flight). */
  private hasRoom(): boolean {
    return this.wmem * 4 <= this.sndbuf;
  }

  /**
   * Readiness (cf. unix_poll for streams, unix_dgram_poll for the others):
   * a listener is readable while a connection waits and never writable; an
   * unconnected stream or seqpacket socket says POLLHUP.
   */
  pollMask(): number {
    let mask = 0;
    if (this.err) mask |= POLLERR;
    if (this.shut === SHUTDOWN_MASK) mask |= POLLHUP;
    if (this.shut & RCV_SHUTDOWN) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.queue.length > 0 || this.pending.length > 0) mask |= POLLIN | POLLRDNORM;
    if (this.type !== SOCK_DGRAM && this.state === "unconnected") mask |= POLLHUP;
    if (this.state !== "listening" && this.hasRoom()) mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return mask;
  }

  /**
   * shutdown(2) (cf. unix_shutdown): how = 0 SHUT_RD, 1 SHUT_WR, 2 SHUT_RDWR;
   * for connection sockets the peer's opposite direction closes too.
   */
  shutdown(how: number): void {
    if (how < 0 || how > 2) fail("EINVAL", `shutdown: how ${how}`);
    const mode = how + 1;
    this.shut |= mode;
    const other = this.peer;
    if (!other || this.type === SOCK_DGRAM) return;
    other.shut |= (mode & RCV_SHUTDOWN ? SEND_SHUTDOWN : 0) | (mode & SEND_SHUTDOWN ? RCV_SHUTDOWN : 0);
  }

  /**
   * The checks every send makes before it may queue (cf. sock_alloc_send_pskb):
   * a pending error, the socket shut for sending (EPIPE), no room (EAGAIN).
   */
  private allocCheck(): void {
    const e = this.takeError();
    if (e) fail(e, "send: pending socket error");
    if (this.shut & SEND_SHUTDOWN) fail("EPIPE", "send: the socket is shut down for sending");
    if (this.wmem >= this.sndbuf) fail("EAGAIN", "send: the send buffer is full");
  }

  /** Queues `data` at `other` from this socket (cf. skb_queue_tail + the wmem charge). */
  private enqueue(other: UnixSocket, data: Uint8Array, o: SendOptions, withFiles: boolean): void {
    const files = withFiles && o.files?.length ? o.files : null;
    for (const f of files ?? []) f.refs++; // in flight: the message holds the file (cf. unix_attach_fds)
    const creds = o.creds ?? (this.passcred || other.passcred ? o.current : null);
    const truesize = data.length + SKB_OVERHEAD;
    this.wmem += truesize;
    other.queue.push({ data: data.slice(), consumed: 0, truesize, sender: this, files, creds });
  }

  /**
   * Sends what fits now (cf. unix_stream_sendmsg / unix_dgram_sendmsg):
   * a stream takes as many bytes as its send buffer allows, in buffers of
   * at most half of it; a datagram or seqpacket message goes whole or not at
   * all. Files go with the first buffer.
   * @returns bytes sent (> 0 unless `data` is empty)
   * @throws ErrnoError EAGAIN (nothing fits now), EPIPE (a stream's caller raises SIGPIPE; the others raise none),
   *   ENOTCONN, ECONNREFUSED (a datagram peer closed), ECONNRESET (a pending error), EMSGSIZE
   */
  send(data: Uint8Array, o: SendOptions): number {
    return this.isStream ? this.sendStream(data, o) : this.sendDgram(data, o);
  }

  private sendStream(data: Uint8Array, o: SendOptions): number {
    const other = this.peer ?? fail("ENOTCONN", "send: not connected");
    if (this.shut & SEND_SHUTDOWN) fail("EPIPE", "send: the socket is shut down for sending");
    let sent = 0;
    while (sent < data.length) {
      const size = Math.min(data.length - sent, (this.sndbuf >> 1) - 64, STREAM_SKB_MAX);
      try {
        this.allocCheck();
        if (other.dead || other.shut & RCV_SHUTDOWN) fail("EPIPE", "send: the peer is closed for reading");
      } catch (e) {
        if (sent > 0 && e instanceof ErrnoError) return sent;
        throw e;
      }
      this.enqueue(other, data.subarray(sent, sent + size), o, sent === 0);
      sent += size;
    }
    return sent;
  }

  /**
   * What a datagram or seqpacket send checks before it copies the message in
   * (cf. unix_seqpacket_sendmsg's sock_error, unix_dgram_sendmsg up to its EMSGSIZE).
   * @returns the peer
   * @throws ErrnoError a pending error (seqpacket), ENOTCONN, EMSGSIZE
   */
  precheckMessage(len: number, addressed = false): UnixSocket | null {
    if (this.type === SOCK_SEQPACKET) {
      const e = this.takeError();
      if (e) fail(e, "send: pending socket error");
      if (this.state !== "connected") fail("ENOTCONN", "send: not connected");
    }
    if (len > this.sndbuf - 32) fail("EMSGSIZE", `send: ${len} bytes is over the send buffer`);
    if (addressed && this.type === SOCK_DGRAM) return null;
    return this.peer ?? fail("ENOTCONN", "send: not connected");
  }

  private sendDgram(data: Uint8Array, o: SendOptions): number {
    const other = (this.type === SOCK_DGRAM ? o.to : undefined) ?? this.precheckMessage(data.length)!;
    this.allocCheck();
    if (this.type === SOCK_DGRAM && !this.maySend(other)) fail("EPERM", "send: that socket is connected to another");
    if (other.dead) {
      if (this.type === SOCK_SEQPACKET) fail("EPIPE", "send: the peer is closed");
      if (this.peer === other) {
        this.peer = null; // cf. unix_dgram_disconnected: what came from the old peer goes too
        this.state = "unconnected";
        this.purge();
      }
      fail("ECONNREFUSED", "send: the peer is closed");
    }
    if (other.shut & RCV_SHUTDOWN) fail("EPIPE", "send: the peer is shut down for reading");
    // cf. unix_dgram_sendmsg: a receiver whose own peer is not this socket takes at most max_dgram_qlen + 1 datagrams
    if (this.type === SOCK_DGRAM && other.peer !== this && other.queue.length > other.backlog) fail("EAGAIN", "send: the receiver's queue is full");
    this.enqueue(other, data, o, true);
    return data.length;
  }

  /**
   * Receives what is there now (cf. unix_stream_read_generic,
   * __unix_dgram_recvmsg): a stream gives bytes across buffers up to `len`,
   * stopping after a buffer that carried files and, under SO_PASSCRED, where
   * the writer changes; a datagram or seqpacket socket gives one message
   * (cut to `len`: `fullLength` says how long it was).
   * @returns what was taken; `data` empty at end of file
   * @throws ErrnoError EAGAIN when the caller must wait; a pending error (ECONNRESET)
   */
  recv(len: number, o: RecvOptions = {}): Received {
    return this.isStream ? this.recvStream(len, o) : this.recvDgram(len, o);
  }

  private recvDgram(len: number, o: RecvOptions): Received {
    if (this.type === SOCK_SEQPACKET && this.state !== "connected") fail("ENOTCONN", "recv: not connected"); // cf. unix_seqpacket_recvmsg
    const e = this.takeError();
    if (e) fail(e, "recv: pending socket error");
    const skb = this.queue[0];
    if (!skb) {
      // cf. __skb_wait_for_more_packets: a socket shut for reading ends a wait with 0; a seqpacket
      // socket answers 0 without waiting too (its EOF), a datagram one EAGAIN.
      if (this.shut & RCV_SHUTDOWN && (!o.dontwait || this.type === SOCK_SEQPACKET)) return { data: new Uint8Array(0), fullLength: 0, files: null, creds: null, from: null };
      return fail("EAGAIN", "recv: no message");
    }
    const data = skb.data.slice(0, Math.min(len, skb.data.length));
    let files = skb.files;
    if (o.peek) files = files && dupFiles(files);
    else this.unlink(skb, { keepFiles: true });
    return { data, fullLength: skb.data.length, files, creds: this.passcred ? credsOf(skb) : null, from: skb.sender.addr };
  }

  private recvStream(len: number, o: RecvOptions): Received {
    if (this.state !== "connected") fail("EINVAL", "recv: the stream is not connected"); // cf. unix_stream_read_generic
    const target = o.waitall ? len : Math.max(1, Math.min(this.rcvlowat, len));
    if (!o.peek && target > 1 && this.inq < target && !(this.shut & RCV_SHUTDOWN) && !this.err && !o.dontwait && !this.senderBlocked()) {
      fail("EAGAIN", "recv: waiting for all the bytes asked"); // nothing is taken until they are there (see emu/README.md)
    }
    const parts: Uint8Array[] = [];
    let copied = 0, files: OpenFile[] | null = null, creds: Creds | null = null, k = 0, skip = 0, from: UnixAddress | null = null;
    let first = true;
    while (copied < len) {
      const skb = this.queue[k];
      if (!skb) {
        if (copied > 0) break;
        const e = this.takeError();
        if (e) fail(e, "recv: pending socket error");
        if (this.shut & RCV_SHUTDOWN) break;
        return fail("EAGAIN", "recv: nothing to read");
      }
      if (this.passcred) {
        if (!first && !sameCreds(creds, skb.creds)) break; // never glue messages from different writers
        creds = credsOf(skb);
      }
      if (first) from = skb.sender.addr;
      first = false;
      const at = skb.consumed + skip;
      const chunk = Math.min(skb.data.length - at, len - copied);
      parts.push(skb.data.subarray(at, at + chunk));
      copied += chunk;
      if (o.peek) {
        if (skb.files) {
          files = dupFiles(skb.files);
          break;
        }
        skip = 0;
        k++;
        continue;
      }
      skb.consumed += chunk;
      if (skb.files) {
        files = skb.files;
        skb.files = null;
      }
      if (skb.consumed < skb.data.length) break;
      this.unlink(skb, { keepFiles: true });
      if (files) break;
    }
    const data = concat(parts, copied);
    return { data, fullLength: data.length, files, creds: this.passcred ? creds : null, from };
  }

  /** Whether this socket's peer can send no more until this one reads (its send buffer is full): a MSG_WAITALL receive then takes what is there. */
  private senderBlocked(): boolean {
    const p = this.peer;
    return !p || p.dead || p.wmem >= p.sndbuf || (p.shut & SEND_SHUTDOWN) !== 0;
  }

  /** Takes `skb` off the queue and uncharges its sender; its files are dropped unless the caller took them (cf. consume_skb). */
  private unlink(skb: Skb, o: { keepFiles: boolean }): void {
    const k = this.queue.indexOf(skb);
    if (k >= 0) this.queue.splice(k, 1);
    skb.sender.wmem -= skb.truesize;
    if (!o.keepFiles && skb.files) dropFiles(skb.files);
  }

  /** Empties the receive queue (cf. skb_queue_purge): files in flight are closed. */
  private purge(): void {
    while (this.queue.length > 0) this.unlink(this.queue[0], { keepFiles: false });
  }

  /**
   * The last descriptor closed (cf. unix_release_sock): the name is
   * forgotten, the peer of a connection sees EOF, or ECONNRESET when this
   * end left data unread or was never accepted (`embryo`); a listener
   * releases the connections nobody accepted.
   */
  override release(embryo = false): void {
    this.shut = SHUTDOWN_MASK;
    this.dead = true;
    if (this.binding && this.addr) this.binding.names.unbind(this, this.addr, this.binding.key);
    this.binding = null;
    const other = this.peer;
    this.peer = null;
    if (other && this.type !== SOCK_DGRAM) {
      other.shut = SHUTDOWN_MASK;
      if (this.queue.length > 0 || embryo) other.err = "ECONNRESET";
    }
    this.purge();
    for (const s of this.pending.splice(0)) s.release(true);
  }

  override read(len: number): Uint8Array {
    const r = this.recv(len, { dontwait: true });
    if (r.files) dropFiles(r.files); // no room for them (cf. scm_recv without msg_control)
    return r.data;
  }
  /** write(2) without a caller (sendfile, splice): no credentials to add. */
  override write(data: Uint8Array): number {
    return this.send(data, { current: { pid: 0, uid: 65534, gid: 65534 } });
  }

  override stat(): FileStat {
    const t = this.bornNs;
    return {
      dev: hostSockfsDev(), ino: this.ino, mode: 0o140777, nlink: 1, uid: this.peercred.uid, gid: this.peercred.gid, rdev: 0,
      size: 0, blksize: 4096, blocks: 0, atimeNs: t, mtimeNs: t, ctimeNs: t, birthtimeNs: 0n,
    };
  }
}

/** The credentials a receiver under SO_PASSCRED sees for `skb`: the sender's, or nobody's (cf. scm_recv: pid 0, the overflow ids). */
function credsOf(skb: Skb): Creds {
  return skb.creds ?? { pid: 0, uid: 65534, gid: 65534 };
}

/** Whether two buffers' credentials are the same writer's (cf. unix_skb_scm_eq). */
function sameCreds(a: Creds | null, b: Creds | null): boolean {
  return a?.pid === b?.pid && a?.uid === b?.uid && a?.gid === b?.gid;
}

/** New references to `files` for a MSG_PEEK receive (cf. scm_fp_dup). */
function dupFiles(files: OpenFile[]): OpenFile[] {
  for (const f of files) f.refs++;
  return [...files];
}

/** Drops one in-flight reference on each of `files`, releasing those nobody else holds (cf. fput). */
export function dropFiles(files: readonly OpenFile[]): void {
  for (const f of files) if (--f.refs === 0) f.release();
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1) return parts[0].slice();
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
