/**
 * Sockets (cf. net/socket.c, net/core/sock.c, net/core/scm.c, net/unix/af_unix.c):
 * AF_UNIX stream, datagram and seqpacket sockets inside the guest world
 * (emu/unix-socket.ts), made by socketpair(2) or socket(2) and named by
 * bind (file-system and abstract names, emu/unix-names.ts), listen,
 * connect, accept; the calls on them: send/recv in all their forms with
 * MSG_* flags, addresses and SCM_RIGHTS / SCM_CREDENTIALS control
 * messages, shutdown, getsockname/getpeername, getsockopt/setsockopt, and
 * read/write/readv/writev/ioctl on a socket descriptor (cf. sock_read_iter,
 * sock_write_iter). faultline gives guests no network: socket() of
 * another family answers as a kernel without the family would.
 *
 * A call that must wait parks the task while others run (emu/park.ts,
 * through poll.ts's sleepSlice), as a pipe's does; one that moved bytes
 * before it had to wait returns a short count instead.
 */
import * as fs from "node:fs";
import { Errno, fail, failHost } from "../../lib/errno.js";
import { ErrnoError } from "../../lib/errors.js";
import { copyFromUser, copyToUser, faultInPrefix } from "../../mm/index.js";
import { O_CLOEXEC, O_NONBLOCK, type OpenFile } from "../files.js";
import { POLLERR, POLLHUP, POLLIN, POLLOUT, hostMknod } from "../hostfs.js";
import { ParkError } from "../park.js";
import type { Process } from "../process.js";
import { RestartError } from "../signal/index.js";
import {
  AF_UNIX, SCM_MAX_FD, SOCK_DGRAM, SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, UnixSocket, bufferLimits,
  dropFiles, type Creds, type Received, type SockType,
} from "../unix-socket.js";
import { parseAddress, type ParsedAddress, type UnixAddress } from "../unix-names.js";
import { accessible, checkIov, eachPiece, iovecs, type Iov } from "./fs.js";
import { deadlineNs, nowNs, sleepSlice, waitUntil } from "./poll.js";
import { raiseSigpipe } from "./signal.js";
import { i32, u64, type SyscallTable } from "./types.js";

const MSG_OOB = 1, MSG_PEEK = 2, MSG_CTRUNC = 8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_WAITALL = 0x100, MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SOL_SOCKET = 1, SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;
const SOCK_NONBLOCK = O_NONBLOCK, SOCK_CLOEXEC = O_CLOEXEC;
/** Most iovec entries a message may have (cf. UIO_MAXIOV). */
const UIO_MAXIOV = 1024;
/** Bytes of a stream send copied from the guest at a time. */
const SEND_PIECE = 1 << 16;
/** sizeof(struct sockaddr_storage): the longest address a call takes. */
const SOCKADDR_MAX = 128;
/** The families a Debian kernel registers whose sockets have no socketpair (cf. sock_no_socketpair): AF_INET, AF_INET6, AF_NETLINK, AF_PACKET. */
const NO_PAIR_FAMILIES = new Set([2, 10, 16, 17]);
/** Jiffies of a socket timeout (cf. HZ = 250: SO_RCVTIMEO is kept in whole 4 ms ticks). */
const JIFFY_NS = 4_000_000n;

/** The socket at descriptor `fd` (cf. sockfd_lookup). @throws ErrnoError EBADF, ENOTSOCK */
function sockAt(p: Process, fd: number): UnixSocket {
  const f = p.fds.must(fd);
  return f instanceof UnixSocket ? f : fail("ENOTSOCK", `descriptor ${fd} is not a socket`);
}

/** The caller's credentials (cf. task_tgid + current_uid_gid). */
function currentCreds(p: Process): Creds {
  return { pid: p.tgid, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/** Whether the caller has the capability root has (CAP_NET_ADMIN, CAP_SYS_ADMIN...). */
function privileged(): boolean {
  return (process.geteuid?.() ?? 1) === 0;
}

/**
 * The type of a new AF_UNIX socket (cf. __sys_socketpair, __sock_create, unix_create).
 * @throws ErrnoError EINVAL (flags, type out of range), EAFNOSUPPORT / EOPNOTSUPP (another family), ESOCKTNOSUPPORT, EPROTONOSUPPORT
 */
function pairType(domain: number, type: number, protocol: number, pair = true): SockType {
  const base = type & 0xf;
  if (domain < 0 || domain >= 46) fail("EAFNOSUPPORT", `socketpair: family ${domain}`);
  if (base >= 11) fail("EINVAL", `socketpair: type ${base} out of range`);
  if (pair && NO_PAIR_FAMILIES.has(domain)) fail("EOPNOTSUPP", `socketpair: family ${domain} has no socket pairs`);
  if (domain !== AF_UNIX) fail("EAFNOSUPPORT", `socketpair: family ${domain}: faultline has only AF_UNIX`);
  if (protocol !== 0 && protocol !== AF_UNIX) fail("EPROTONOSUPPORT", `socketpair: protocol ${protocol}`);
  if (base === SOCK_STREAM || base === SOCK_DGRAM || base === SOCK_SEQPACKET) return base;
  if (base === SOCK_RAW) return SOCK_DGRAM; // "Believe it or not BSD has AF_UNIX, SOCK_RAW though nothing uses it"
  return fail("ESOCKTNOSUPPORT", `socketpair: type ${base}`);
}

/** socketpair(2): two connected sockets at the two lowest free descriptors, stored at `svAddr`. */
function socketpair(p: Process, a: readonly number[]): number {
  const type = i32(a[1]);
  if (type & ~0xf & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) fail("EINVAL", "socketpair: unknown flags in type");
  if (faultInPrefix(p.mm, u64(a[3]), 8, true) < 8) fail("EFAULT", "socketpair: bad sv"); // stored before the family is looked at
  const kind = pairType(i32(a[0]), type, i32(a[2]));
  const ino = p.kernel.nextSocketIno;
  p.kernel.nextSocketIno += 2;
  const [s1, s2] = UnixSocket.pair(kind, [ino, ino + 1], currentCreds(p), type & SOCK_NONBLOCK);
  const cloexec = (type & SOCK_CLOEXEC) !== 0;
  const fds: number[] = [];
  try {
    fds.push(p.fds.install(s1, cloexec));
    fds.push(p.fds.install(s2, cloexec));
    const out = new DataView(new ArrayBuffer(8));
    out.setInt32(0, fds[0], true);
    out.setInt32(4, fds[1], true);
    copyToUser(p.mm, u64(a[3]), new Uint8Array(out.buffer));
  } catch (e) {
    for (const fd of fds) p.fds.close(fd);
    throw e;
  }
  return 0;
}

/**
 * socket(2) (cf. __sys_socket, unix_create): a new unconnected AF_UNIX
 * socket; other families EAFNOSUPPORT (faultline gives guests no network).
 */
function socket(p: Process, a: readonly number[]): number {
  const type = i32(a[1]);
  if (type & ~0xf & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) fail("EINVAL", "socket: unknown flags in type");
  const kind = pairType(i32(a[0]), type, i32(a[2]), false);
  const s = UnixSocket.create(kind, p.kernel.nextSocketIno++, type & SOCK_NONBLOCK);
  return p.fds.install(s, (type & SOCK_CLOEXEC) !== 0);
}

/** The sockaddr the guest passed at `addr`, `len` bytes (cf. move_addr_to_kernel). @throws ErrnoError EINVAL (length), EFAULT */
function addrFromUser(p: Process, addr: number, len: number): Uint8Array {
  if (len < 0 || len > SOCKADDR_MAX) fail("EINVAL", `bad address length ${len}`);
  return len === 0 ? new Uint8Array(0) : copyFromUser(p.mm, addr, len);
}

/**
 * The socket bound to `a` in the caller's world (cf. unix_find_other):
 * a path is looked up (ENOENT, ENOTDIR, ELOOP...), must be writable
 * (EACCES) and a socket node (ECONNREFUSED), and some socket must be bound
 * to that node (ECONNREFUSED); an abstract name must be bound (ECONNREFUSED);
 * the socket must be of `type` (EPROTOTYPE).
 */
function findOther(p: Process, a: ParsedAddress, type: SockType): UnixSocket {
  const names = p.kernel.unixNames;
  let other: UnixSocket | undefined;
  if (a.kind === "abstract") other = names.findAbstract(a.address);
  else if (a.kind === "path") {
    const r = p.fs.resolve(a.path); // cf. unix_find_bsd's kern_path(LOOKUP_FOLLOW)
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(r.host, { bigint: true });
      fs.accessSync(r.host, fs.constants.W_OK); // cf. path_permission(MAY_WRITE)
    } catch (e) {
      return failHost(e, "connect");
    }
    if (!st.isSocket()) fail("ECONNREFUSED", "connect: not a socket");
    other = names.findInode({ dev: st.dev, ino: st.ino });
  } else {
    fail("EINVAL", "connect: an address of the family alone");
  }
  if (!other) return fail("ECONNREFUSED", "connect: no socket is bound to that name");
  if (other.type !== type) fail("EPROTOTYPE", "connect: a socket of another type");
  return other;
}

/** Binds `s` to an unused abstract name if it has none (cf. unix_autobind). */
function autobind(p: Process, s: UnixSocket): void {
  if (s.addr) return;
  const names = p.kernel.unixNames;
  s.setBound(names.autobind(s), names, null);
}

/**
 * bind(2) (cf. unix_bind): the family alone autobinds; an abstract name
 * must be free (EADDRINUSE); a path gets a socket node made in the
 * guest's file system (mode 0777 less the umask), EADDRINUSE when the name
 * exists, the lookup's errno otherwise. A socket that already has a name
 * is EINVAL (a node made for it is removed again, as Linux does).
 */
function bind(p: Process, fd: number, addr: number, len: number): number {
  const s = sockAt(p, fd);
  const parsed = parseAddress(addrFromUser(p, addr, len));
  const names = p.kernel.unixNames;
  if (parsed.kind === "autobind") return autobind(p, s), 0;
  if (parsed.kind === "abstract") {
    if (s.addr) fail("EINVAL", "bind: the socket is already bound");
    names.bindAbstract(s, parsed.address);
    s.setBound(parsed.address, names, null);
    return 0;
  }
  const r = p.fs.resolve(parsed.path, { mustExist: false, follow: false }); // cf. kern_path_create
  try {
    hostMknod(r.host, 0o140000 | (0o777 & ~p.fs.umask));
  } catch (e) {
    if (e instanceof ErrnoError && e.code === "EEXIST") fail("EADDRINUSE", "bind: the name exists");
    throw e;
  }
  if (s.addr) {
    fs.rmSync(r.host, { force: true }); // cf. unix_bind_bsd's out_unlink
    fail("EINVAL", "bind: the socket is already bound");
  }
  const st = fs.lstatSync(r.host, { bigint: true });
  const key = { dev: st.dev, ino: st.ino };
  names.bindInode(s, key);
  s.setBound(parsed.address, names, key);
  return 0;
}

/** listen(2) (cf. __sys_listen: the backlog capped at net.core.somaxconn, unsigned; unix_listen). */
function listen(p: Process, fd: number, backlog: number): number {
  const s = sockAt(p, fd);
  const somaxconn = somaxconnOf();
  s.listen(backlog >>> 0 > somaxconn ? somaxconn : backlog, currentCreds(p));
  return 0;
}

/** The host's net.core.somaxconn (the guest's /proc/sys is the host's). */
function somaxconnOf(): number {
  try {
    return Number(fs.readFileSync("/proc/sys/net/core/somaxconn", "latin1").trim()) || 4096;
  } catch {
    return 4096;
  }
}

/**
 * connect(2) (cf. unix_stream_connect, unix_dgram_connect): a stream or
 * seqpacket socket joins the queue of the socket listening at the address,
 * waiting while that queue is over its backlog (EAGAIN when it may not
 * wait); a datagram socket takes the address's socket as its default peer
 * (AF_UNSPEC: none).
 */
function connect(p: Process, fd: number, addr: number, len: number): number {
  const s = sockAt(p, fd);
  const raw = addrFromUser(p, addr, len);
  if (s.type === SOCK_DGRAM) {
    if (raw.length < 2) fail("EINVAL", "connect: address too short");
    if (raw[0] === 0 && raw[1] === 0) return s.connectDgram(null), 0; // AF_UNSPEC
    const parsed = parseAddress(raw.length === 2 ? raw.subarray(0, 1) : raw);
    if (s.passcred) autobind(p, s);
    s.connectDgram(findOther(p, parsed, SOCK_DGRAM));
    return 0;
  }
  const parsed = parseAddress(raw.length === 2 ? raw.subarray(0, 1) : raw);
  if (s.passcred) autobind(p, s);
  let target: UnixSocket | undefined;
  const ready = () => !target || !target.backlogFull || target.isDead || target.state !== "listening";
  sockWait(p, ready, { dontwait: (s.flags & O_NONBLOCK) !== 0, timeoNs: s.sndtimeoNs }, () => {
    target = findOther(p, parsed, s.type);
    s.connectTo(target, currentCreds(p), p.kernel.nextSocketIno);
    p.kernel.nextSocketIno++;
  });
  return 0;
}

/**
 * accept(2) / accept4(2) (cf. __sys_accept4_file, unix_accept): waits for a
 * connection (unless the listener is O_NONBLOCK), installs it with
 * SOCK_CLOEXEC / SOCK_NONBLOCK, and stores the connecting socket's name.
 */
function accept(p: Process, fd: number, addr: number, lenAddr: number, flags: number): number {
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) fail("EINVAL", "accept4: bad flags");
  const s = sockAt(p, fd);
  const how = { dontwait: (s.flags & O_NONBLOCK) !== 0, timeoNs: s.rcvtimeoNs };
  const n = sockWait(p, () => (s.pollMask() & (POLLIN | POLLERR | POLLHUP)) !== 0, how, () => s.accept());
  n.flags |= flags & SOCK_NONBLOCK;
  const newfd = p.fds.install(n, (flags & SOCK_CLOEXEC) !== 0);
  if (addr !== 0) {
    try {
      putAddr(p, addr, lenAddr, addrBytes(n.peer?.addr ?? null));
    } catch (e) {
      p.fds.close(newfd); // cf. __sys_accept4_file's out_fd: the connection goes
      throw e;
    }
  }
  return newfd;
}

/** How a socket call waits: not at all, or with the socket's timeout (0: none). */
interface WaitHow {
  dontwait: boolean;
  timeoNs: bigint;
}

const NO_HOST = { fds: [], events: 0 };

/**
 * Runs the non-blocking socket operation `op`; while it answers EAGAIN and
 * the caller may wait, waits until `ready` (see `readyFor`) and retries (cf. sock_alloc_send_pskb's and unix_stream_data_wait's
 * loops). A socket timeout ends the wait with EAGAIN, and makes an
 * interruption EINTR instead of a restart (cf. sock_intr_errno).
 */
function sockWait<T>(p: Process, ready: () => boolean, how: WaitHow, op: () => T): T {
  const until = how.timeoNs > 0n ? deadlineNs(p, how.timeoNs) : undefined;
  try {
    for (;;) {
      try {
        return op();
      } catch (e) {
        if (!(e instanceof ErrnoError) || e.code !== "EAGAIN" || how.dontwait) throw e;
      }
      if (until !== undefined && nowNs() >= until) fail("EAGAIN", "socket timeout");
      sleepSlice(p, NO_HOST, until);
      waitUntil(p, ready, NO_HOST, until);
    }
  } catch (e) {
    if (e instanceof RestartError && until !== undefined) fail("EINTR", "interrupted by a signal (socket timeout set)");
    throw e;
  }
}

/** Whether socket `s` shows any of `events`, an error or a hang-up (what a socket call waits for). */
function readyFor(s: UnixSocket, events: number): () => boolean {
  return () => (s.pollMask() & (events | POLLERR | POLLHUP)) !== 0;
}

/** The bytes of `iov` in [at, at + n) that are accessible, copied in (cf. copy_from_iter). */
function gather(p: Process, iov: Iov, at: number, n: number): Uint8Array {
  const ok = accessible(p, iov, at, n, false);
  const data = new Uint8Array(ok);
  eachPiece(iov, at, ok, (va, o, k) => data.set(copyFromUser(p.mm, va, k), o));
  return data;
}

/** What a send carries besides the bytes (decoded control messages and flags). */
interface SendHow {
  flags: number;
  files?: OpenFile[];
  creds?: Creds;
  /** Finds a datagram's destination from the address it was sent to (looked up after the size checks, as Linux does). */
  to?: () => UnixSocket;
}

/**
 * Sends the bytes of `iov` on `s` (cf. sock_sendmsg): a stream in pieces
 * until all went or it must wait after some did (a short count), a message
 * whole. An EPIPE of a stream raises SIGPIPE unless MSG_NOSIGNAL (cf.
 * unix_stream_sendmsg); a datagram or seqpacket socket's raises none.
 * @returns bytes sent
 */
function sendIov(p: Process, s: UnixSocket, iov: Iov, how: SendHow): number {
  if (how.flags & MSG_OOB) fail("EOPNOTSUPP", "send: MSG_OOB is not supported");
  const total = checkIov(iov);
  const wait: WaitHow = { dontwait: (how.flags & MSG_DONTWAIT) !== 0 || (s.flags & O_NONBLOCK) !== 0, timeoNs: s.sndtimeoNs };
  const current = currentCreds(p);
  try {
    if (!s.isStream) {
      if (s.type === SOCK_DGRAM && s.passcred) autobind(p, s); // cf. unix_dgram_sendmsg: a credential needs a name to come from
      s.precheckMessage(total, how.to !== undefined);
      const data = gather(p, iov, 0, total);
      if (data.length < total) fail("EFAULT", "send: bad buffer");
      const to = how.to?.();
      return sockWait(p, readyFor(s, POLLOUT), wait, () => s.send(data, { current, creds: how.creds, files: how.files, to }));
    }
    let sent = 0;
    do {
      const piece = gather(p, iov, sent, Math.min(SEND_PIECE, total - sent));
      if (piece.length === 0 && total > 0) return sent > 0 ? sent : fail("EFAULT", "send: bad buffer");
      const first = sent === 0;
      let n: number;
      try {
        n = sockWait(p, readyFor(s, POLLOUT), wait, () => s.send(piece, { current, creds: how.creds, files: first ? how.files : undefined }));
      } catch (e) {
        // Once bytes moved, a wait (parking, a signal) or an error ends the call short, never re-runs it.
        if (!first && (e instanceof ErrnoError || e instanceof ParkError)) return sent;
        throw e;
      }
      sent += n;
    } while (sent < total);
    return sent;
  } catch (e) {
    if (e instanceof ErrnoError && e.code === "EPIPE") {
      if (s.isStream && !(how.flags & MSG_NOSIGNAL)) raiseSigpipe(p);
      p.sigpipeQuiet = true;
    }
    throw e;
  }
}

/**
 * Receives into `iov` from `s` (cf. sock_recvmsg): the buffers are faulted
 * in first, so a bad one loses no data.
 * @returns what was received; the bytes are in the guest's buffers
 */
function recvIov(p: Process, s: UnixSocket, iov: Iov, flags: number): Received {
  if (flags & MSG_OOB) fail(s.isStream ? "EINVAL" : "EOPNOTSUPP", "recv: no out-of-band data");
  const total = checkIov(iov);
  const ok = accessible(p, iov, 0, total, true);
  if (total > 0 && ok === 0) fail("EFAULT", "recv: bad buffer");
  if (!s.isStream && ok < Math.min(total, s.inq)) fail("EFAULT", "recv: bad buffer");
  const dontwait = (flags & MSG_DONTWAIT) !== 0 || (s.flags & O_NONBLOCK) !== 0;
  const r = sockWait(p, readyFor(s, POLLIN), { dontwait, timeoNs: s.rcvtimeoNs },
    () => s.recv(s.isStream ? ok : total, { peek: (flags & MSG_PEEK) !== 0, waitall: (flags & MSG_WAITALL) !== 0, dontwait }));
  eachPiece(iov, 0, r.data.length, (va, o, n) => copyToUser(p.mm, va, r.data.subarray(o, o + n)));
  return r;
}

/** Frees what a receive handed over that has no place to go (cf. scm_destroy). */
function dropReceived(r: Received): void {
  if (r.files) dropFiles(r.files);
}

/** The guest's struct msghdr (cf. struct user_msghdr), read and checked (cf. __copy_msghdr). */
interface Msghdr {
  name: number;
  namelen: number;
  iov: Iov;
  control: number;
  controllen: number;
}

/** Reads the struct msghdr at `addr` (56 bytes). @throws ErrnoError EFAULT, EINVAL, EMSGSIZE, ENOBUFS */
function readMsghdr(p: Process, addr: number): Msghdr {
  const v = new DataView(copyFromUser(p.mm, addr, 56).buffer);
  const namelen = v.getInt32(8, true), iovlen = v.getBigUint64(24, true), controllen = v.getBigUint64(40, true);
  if (namelen < 0) fail("EINVAL", "msghdr: negative msg_namelen");
  if (iovlen > BigInt(UIO_MAXIOV)) fail("EMSGSIZE", "msghdr: over UIO_MAXIOV iovecs");
  if (controllen > 0x7fffffffn) fail("ENOBUFS", "msghdr: msg_controllen over INT_MAX");
  const iov = iovecs(p, Number(v.getBigUint64(16, true)), Number(iovlen));
  return { name: Number(v.getBigUint64(0, true)), namelen: Math.min(namelen, SOCKADDR_MAX), iov, control: Number(v.getBigUint64(32, true)), controllen: Number(controllen) };
}

const CMSG_HDR = 16;
const cmsgAlign = (n: number) => (n + 7) & ~7;

/**
 * The control messages of a send (cf. __scm_send): SCM_RIGHTS files (each
 * descriptor open, at most SCM_MAX_FD in all) and SCM_CREDENTIALS (the
 * caller's own, unless privileged); other levels are skipped, other types EINVAL.
 */
function readControl(p: Process, m: Msghdr): { files?: OpenFile[]; creds?: Creds } {
  const out: { files?: OpenFile[]; creds?: Creds } = {};
  if (m.controllen < CMSG_HDR) return out;
  const buf = copyFromUser(p.mm, m.control, m.controllen);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let at = 0; at + CMSG_HDR <= m.controllen;) {
    const len = Number(v.getBigUint64(at, true));
    if (len < CMSG_HDR || len > m.controllen - at) fail("EINVAL", "sendmsg: bad cmsg_len");
    const level = v.getInt32(at + 8, true), type = v.getInt32(at + 12, true);
    if (level === SOL_SOCKET) {
      if (type === SCM_RIGHTS) {
        const n = Math.floor((len - CMSG_HDR) / 4);
        const files = out.files ?? [];
        if (files.length + n > SCM_MAX_FD) fail("EINVAL", `sendmsg: more than ${SCM_MAX_FD} descriptors`);
        for (let k = 0; k < n; k++) files.push(p.fds.must(v.getInt32(at + CMSG_HDR + 4 * k, true)));
        if (files.length > 0) out.files = files;
      } else if (type === SCM_CREDENTIALS) {
        if (len !== CMSG_HDR + 12) fail("EINVAL", "sendmsg: SCM_CREDENTIALS of the wrong size");
        out.creds = checkCreds(p, { pid: v.getInt32(at + 16, true), uid: v.getUint32(at + 20, true), gid: v.getUint32(at + 24, true) });
      } else {
        fail("EINVAL", `sendmsg: control message type ${type}`);
      }
    }
    at += cmsgAlign(len);
  }
  return out;
}

/** Credentials a sender may claim (cf. scm_check_creds): its own, or any existing process's and ids when privileged. */
function checkCreds(p: Process, c: Creds): Creds {
  const own = currentCreds(p);
  if (!privileged() && (c.pid !== own.pid || c.uid !== own.uid || c.gid !== own.gid)) fail("EPERM", "SCM_CREDENTIALS: not the caller's");
  if (!p.kernel.procs.has(c.pid)) fail("ESRCH", `SCM_CREDENTIALS: no process ${c.pid}`);
  return c;
}

/** Where a receive's control messages go, and the flags it reports (cf. put_cmsg's msg_control_user / msg_controllen). */
class ControlOut {
  at: number;
  left: number;
  flags: number;
  constructor(readonly start: number, len: number, flags: number) {
    this.at = start;
    this.left = len;
    this.flags = flags & MSG_CMSG_CLOEXEC;
  }
  /** Bytes written so far (msg_controllen on return). */
  get used(): number {
    return this.at - this.start;
  }
  /** One control message (cf. put_cmsg): cut to what fits, with MSG_CTRUNC. */
  put(p: Process, type: number, data: Uint8Array): void {
    if (this.left < CMSG_HDR) {
      this.flags |= MSG_CTRUNC;
      return;
    }
    let len = CMSG_HDR + data.length;
    if (this.left < len) {
      this.flags |= MSG_CTRUNC;
      len = this.left;
    }
    const b = new Uint8Array(len);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(CMSG_HDR + data.length), true);
    v.setInt32(8, SOL_SOCKET, true);
    v.setInt32(12, type, true);
    b.set(data.subarray(0, len - CMSG_HDR), CMSG_HDR);
    copyToUser(p.mm, this.at, b);
    const step = Math.min(cmsgAlign(CMSG_HDR + data.length), this.left);
    this.at += step;
    this.left -= step;
  }
  /**
   * Installs passed files as descriptors (cf. scm_detach_fds): as many as
   * the buffer has room for, close-on-exec under MSG_CMSG_CLOEXEC; the rest
   * are closed and MSG_CTRUNC says so.
   */
  files(p: Process, files: OpenFile[]): void {
    const room = this.left > CMSG_HDR ? Math.floor((this.left - CMSG_HDR) / 4) : 0;
    const fds: number[] = [];
    for (const f of files.slice(0, room)) {
      try {
        fds.push(p.fds.install(f, (this.flags & MSG_CMSG_CLOEXEC) !== 0));
      } catch {
        break;
      }
    }
    dropFiles(files); // the message's references: the installed ones live on in the table
    if (fds.length < files.length) this.flags |= MSG_CTRUNC;
    if (fds.length === 0) return;
    const data = new DataView(new ArrayBuffer(4 * fds.length));
    fds.forEach((fd, k) => data.setInt32(4 * k, fd, true));
    this.put(p, SCM_RIGHTS, new Uint8Array(data.buffer));
  }
}

/** struct ucred bytes. */
function ucred(c: Creds): Uint8Array {
  const v = new DataView(new ArrayBuffer(12));
  v.setInt32(0, c.pid, true);
  v.setUint32(4, c.uid, true);
  v.setUint32(8, c.gid, true);
  return new Uint8Array(v.buffer);
}

/**
 * Stores socket address `bytes` for the caller (cf. move_addr_to_user): as
 * much as `*lenAddr` allows, and the whole length at `lenAddr`.
 */
function putAddr(p: Process, addr: number, lenAddr: number, bytes: Uint8Array): void {
  const len = new DataView(copyFromUser(p.mm, lenAddr, 4).buffer).getInt32(0, true);
  if (len < 0) fail("EINVAL", "negative address length");
  const n = Math.min(len, bytes.length);
  if (n > 0) copyToUser(p.mm, addr, bytes.subarray(0, n));
  putInt(p, lenAddr, bytes.length);
}

/** A socket's name as getsockname gives it (cf. unix_getname): its address, or the family alone when unbound. */
function addrBytes(a: UnixAddress | null): Uint8Array {
  return a ? a.bytes : new Uint8Array([AF_UNIX, 0]);
}

function putInt(p: Process, addr: number, v: number): void {
  const b = new DataView(new ArrayBuffer(4));
  b.setInt32(0, v, true);
  copyToUser(p.mm, addr, new Uint8Array(b.buffer));
}

/**
 * A destination address on a send (cf. unix_dgram_sendmsg with msg_namelen):
 * a stream says EISCONN when connected (EOPNOTSUPP when not), a seqpacket
 * socket ignores it; a datagram socket's is checked now (cf.
 * unix_validate_addr: EINVAL) and looked up by the returned function.
 */
function destination(p: Process, s: UnixSocket, name: number, namelen: number): (() => UnixSocket) | undefined {
  if (namelen === 0 || s.type === SOCK_SEQPACKET) return undefined;
  if (s.isStream) fail(s.state === "connected" ? "EISCONN" : "EOPNOTSUPP", "send: a stream takes no address");
  const raw = copyFromUser(p.mm, name, namelen);
  const parsed = parseAddress(raw.length === 2 ? raw.subarray(0, 1) : raw);
  return () => findOther(p, parsed, SOCK_DGRAM);
}

/** sendto(2). */
function sendto(p: Process, a: readonly number[]): number {
  const s = sockAt(p, i32(a[0]));
  const flags = i32(a[3]);
  const namelen = u64(a[4]) === 0 ? 0 : i32(a[5]);
  if (namelen < 0 || namelen > SOCKADDR_MAX) fail("EINVAL", "sendto: bad address length");
  const to = destination(p, s, u64(a[4]), namelen);
  return sendIov(p, s, [[u64(a[1]), u64(a[2])]], { flags, to });
}

/** recvfrom(2): the sender's name is stored when it has one, else the address is 0 bytes long (cf. unix_copy_addr). */
function recvfrom(p: Process, a: readonly number[]): number {
  const s = sockAt(p, i32(a[0]));
  const flags = i32(a[3]);
  const r = recvIov(p, s, [[u64(a[1]), u64(a[2])]], flags);
  dropReceived(r);
  if (u64(a[4]) !== 0) putAddr(p, u64(a[4]), u64(a[5]), r.from?.bytes ?? new Uint8Array(0));
  return flags & MSG_TRUNC && !s.isStream ? r.fullLength : r.data.length;
}

/** sendmsg(2) (cf. ____sys_sendmsg). */
function sendmsg(p: Process, fd: number, addr: number, flags: number): number {
  const s = sockAt(p, fd);
  const m = readMsghdr(p, addr);
  const ctl = readControl(p, m);
  const to = destination(p, s, m.name, m.name === 0 ? 0 : m.namelen);
  return sendIov(p, s, m.iov, { flags, ...ctl, to });
}

/** recvmsg(2) (cf. ____sys_recvmsg): data, then msg_namelen, msg_controllen and msg_flags written back. */
function recvmsg(p: Process, fd: number, addr: number, flags: number): number {
  const s = sockAt(p, fd);
  const m = readMsghdr(p, addr);
  const r = recvIov(p, s, m.iov, flags);
  const ctl = new ControlOut(m.control, m.controllen, flags);
  if (!s.isStream && r.fullLength > r.data.length) ctl.flags |= MSG_TRUNC;
  if (r.creds) ctl.put(p, SCM_CREDENTIALS, ucred(r.creds));
  if (r.files) ctl.files(p, r.files);
  if (m.name !== 0) {
    const from = r.from?.bytes ?? new Uint8Array(0);
    if (Math.min(m.namelen, from.length) > 0) copyToUser(p.mm, m.name, from.subarray(0, Math.min(m.namelen, from.length)));
    putInt(p, addr + 8, from.length);
  }
  const tail = new DataView(new ArrayBuffer(16));
  tail.setBigUint64(0, BigInt(ctl.used), true);
  tail.setInt32(8, ctl.flags, true);
  copyToUser(p.mm, addr + 40, new Uint8Array(tail.buffer, 0, 12));
  return flags & MSG_TRUNC && !s.isStream ? r.fullLength : r.data.length;
}

/** read/readv on a socket (cf. sock_read_iter): recvmsg with no flags but the file's O_NONBLOCK; passed files are closed. */
function sockRead(p: Process, s: UnixSocket, iov: Iov): number {
  if (checkIov(iov) === 0) return 0;
  const r = recvIov(p, s, iov, 0);
  dropReceived(r);
  return r.data.length;
}

/** getsockname(2) / getpeername(2) (cf. unix_getname): a socket's bound address; an unbound socket's name is sa_family alone. */
function getname(p: Process, a: readonly number[], peer: boolean): number {
  const s = sockAt(p, i32(a[0]));
  if (peer && !s.peer) fail("ENOTCONN", "getpeername: not connected");
  putAddr(p, u64(a[1]), u64(a[2]), addrBytes(peer ? s.peer!.addr : s.addr));
  return 0;
}

const SO = {
  DEBUG: 1, REUSEADDR: 2, TYPE: 3, ERROR: 4, DONTROUTE: 5, BROADCAST: 6, SNDBUF: 7, RCVBUF: 8, KEEPALIVE: 9, OOBINLINE: 10,
  NO_CHECK: 11, PRIORITY: 12, LINGER: 13, REUSEPORT: 15, PASSCRED: 16, PEERCRED: 17, RCVLOWAT: 18, SNDLOWAT: 19,
  RCVTIMEO: 20, SNDTIMEO: 21, ACCEPTCONN: 30, SNDBUFFORCE: 32, RCVBUFFORCE: 33, PROTOCOL: 38, DOMAIN: 39,
} as const;
/** Options AF_UNIX keeps and never acts on (cf. sk_setsockopt's flag cases), as booleans or (SO_PRIORITY) a number. */
const INERT = new Set<number>([SO.DEBUG, SO.REUSEADDR, SO.DONTROUTE, SO.BROADCAST, SO.KEEPALIVE, SO.OOBINLINE, SO.NO_CHECK, SO.PRIORITY, SO.REUSEPORT]);

/** A struct timeval of a socket timeout (cf. sock_get_timeout: 0 is none). */
function timeval(ns: bigint): Uint8Array {
  const v = new DataView(new ArrayBuffer(16));
  v.setBigInt64(0, ns / 1_000_000_000n, true);
  v.setBigInt64(8, (ns % 1_000_000_000n) / 1000n, true);
  return new Uint8Array(v.buffer);
}

/** The value of SOL_SOCKET option `name` (cf. sk_getsockopt). @throws ErrnoError ENOPROTOOPT */
function optionValue(s: UnixSocket, name: number): Uint8Array | number {
  switch (name) {
    case SO.TYPE: return s.type;
    case SO.ERROR: {
      const e = s.takeError();
      return e ? Errno[e] : 0;
    }
    case SO.SNDBUF: return s.sndbuf;
    case SO.RCVBUF: return s.rcvbuf;
    case SO.PASSCRED: return s.passcred ? 1 : 0;
    case SO.PEERCRED: return ucred(s.peercred);
    case SO.RCVLOWAT: return s.rcvlowat;
    case SO.SNDLOWAT: return 1;
    case SO.RCVTIMEO: return timeval(s.rcvtimeoNs);
    case SO.SNDTIMEO: return timeval(s.sndtimeoNs);
    case SO.ACCEPTCONN: return s.state === "listening" ? 1 : 0;
    case SO.PROTOCOL: return 0;
    case SO.DOMAIN: return AF_UNIX;
    case SO.LINGER: return s.linger.slice();
    default:
      if (INERT.has(name)) return s.inert.get(name) ?? 0;
      return fail("ENOPROTOOPT", `getsockopt: option ${name}`);
  }
}

/** getsockopt(2): SOL_SOCKET options, cut to the caller's length (cf. sk_getsockopt); other levels EOPNOTSUPP. */
function getsockopt(p: Process, a: readonly number[]): number {
  const s = sockAt(p, i32(a[0]));
  const level = i32(a[1]), name = i32(a[2]), valAddr = u64(a[3]), lenAddr = u64(a[4]);
  if (level !== SOL_SOCKET) fail("EOPNOTSUPP", `getsockopt: level ${level} on an AF_UNIX socket`);
  const len = new DataView(copyFromUser(p.mm, lenAddr, 4).buffer).getInt32(0, true);
  if (len < 0) fail("EINVAL", "getsockopt: negative length");
  const v = optionValue(s, name);
  let bytes: Uint8Array;
  if (typeof v === "number") {
    const d = new DataView(new ArrayBuffer(4));
    d.setInt32(0, v, true);
    bytes = new Uint8Array(d.buffer);
  } else {
    bytes = v;
  }
  const n = Math.min(len, bytes.length);
  if (n > 0) copyToUser(p.mm, valAddr, bytes.subarray(0, n));
  putInt(p, lenAddr, n);
  return 0;
}

/**
 * A socket timeout from a struct timeval (cf. sock_set_timeout): EDOM for
 * microseconds out of range, a negative time is 0 (no wait), 0 is none;
 * kept in whole jiffies, rounded up.
 */
function readTimeout(p: Process, addr: number, len: number): bigint {
  if (len < 16) fail("EINVAL", "setsockopt: timeval too short");
  const v = new DataView(copyFromUser(p.mm, addr, 16).buffer);
  const sec = v.getBigInt64(0, true), usec = v.getBigInt64(8, true);
  if (usec < 0n || usec >= 1_000_000n) fail("EDOM", "setsockopt: tv_usec out of range");
  if (sec < 0n) return 1n; // cf. sock_set_timeout: a negative time means do not wait (one ns: already past)
  const ns = sec * 1_000_000_000n + usec * 1000n;
  return ((ns + JIFFY_NS - 1n) / JIFFY_NS) * JIFFY_NS;
}

/** setsockopt(2) of SOL_SOCKET options (cf. sk_setsockopt); other levels EOPNOTSUPP. */
function setsockopt(p: Process, a: readonly number[]): number {
  const s = sockAt(p, i32(a[0]));
  const level = i32(a[1]), name = i32(a[2]), valAddr = u64(a[3]), len = i32(a[4]);
  if (level !== SOL_SOCKET) fail("EOPNOTSUPP", `setsockopt: level ${level} on an AF_UNIX socket`);
  if (name === SO.RCVTIMEO || name === SO.SNDTIMEO) {
    const ns = readTimeout(p, valAddr, len);
    if (name === SO.RCVTIMEO) s.rcvtimeoNs = ns;
    else s.sndtimeoNs = ns;
    return 0;
  }
  if (name === SO.LINGER) {
    if (len < 8) fail("EINVAL", "setsockopt: SO_LINGER needs a struct linger");
    s.linger.set(copyFromUser(p.mm, valAddr, 8));
    return 0;
  }
  if (len < 4) fail("EINVAL", "setsockopt: option shorter than an int");
  const val = new DataView(copyFromUser(p.mm, valAddr, 4).buffer).getInt32(0, true);
  const limits = bufferLimits();
  switch (name) {
    case SO.SNDBUF: case SO.SNDBUFFORCE: {
      if (name === SO.SNDBUFFORCE && !privileged()) fail("EPERM", "SO_SNDBUFFORCE needs CAP_NET_ADMIN");
      const want = name === SO.SNDBUF ? Math.min(val >>> 0, limits.wmemMax) : Math.max(val, 0);
      s.sndbuf = Math.max(Math.min(want, 0x3fffffff) * 2, SOCK_MIN_SNDBUF);
      return 0;
    }
    case SO.RCVBUF: case SO.RCVBUFFORCE: {
      if (name === SO.RCVBUFFORCE && !privileged()) fail("EPERM", "SO_RCVBUFFORCE needs CAP_NET_ADMIN");
      const want = name === SO.RCVBUF ? Math.min(val >>> 0, limits.rmemMax) : Math.max(val, 0);
      s.rcvbuf = Math.max(Math.min(want, 0x3fffffff) * 2, SOCK_MIN_RCVBUF);
      return 0;
    }
    case SO.PASSCRED: s.passcred = val !== 0; return 0;
    case SO.RCVLOWAT: s.rcvlowat = val < 0 ? 0x7fffffff : Math.max(val, 1); return 0;
    case SO.SNDLOWAT: return 0;
    default:
      if (!INERT.has(name)) fail("ENOPROTOOPT", `setsockopt: option ${name}`);
      s.inert.set(name, name === SO.PRIORITY ? val : val !== 0 ? 1 : 0);
      return 0;
  }
}

/** ioctl(2) on a socket (cf. unix_ioctl): SIOCINQ / FIONREAD and SIOCOUTQ; FIONBIO and the rest as for any file. */
function sockIoctl(p: Process, s: UnixSocket, req: number, arg: number): number | undefined {
  const SIOCINQ = 0x541b, SIOCOUTQ = 0x5411;
  if (req === SIOCINQ) return putInt(p, arg, s.inq), 0;
  if (req === SIOCOUTQ) return putInt(p, arg, s.outq), 0;
  return undefined;
}

/**
 * Routes calls on descriptors that may be sockets through the socket layer
 * (cf. socket_file_ops): `table`'s handler `nr` runs as before for every
 * other file. Precondition: registerFs has filled the table.
 */
function onSockets(t: SyscallTable, nr: number, fn: (p: Process, s: UnixSocket, a: readonly number[]) => number | undefined): void {
  const entry = t.get(nr) ?? fail("ENOSYS", `emu/syscalls/net.ts: call ${nr} must be registered before the socket layer`);
  const plain = entry.fn;
  t.set(nr, { ...entry, fn: (p, a) => {
    const f = p.fds.get(i32(a[0]));
    return (f instanceof UnixSocket ? fn(p, f, a) : undefined) ?? plain(p, a);
  } });
}

/** What the socket calls leave out, for emu/syscalls/README.md's table. */
const SEND_NOTE = "AF_UNIX only: no MSG_OOB (EOPNOTSUPP); a stream send that must wait after moving bytes returns a short count";
const RECV_NOTE = "AF_UNIX only: no MSG_OOB, MSG_ERRQUEUE or SO_PEEK_OFF; MSG_WAITALL takes what came once the sender's buffer is full";
const NAMED = "AF_UNIX only: file-system names (socket nodes on the host, found by device and inode) and abstract names per guest world";
const OPT_NOTE = "the SOL_SOCKET options of AF_UNIX (other levels EOPNOTSUPP); SO_PEEK_OFF, SO_PASSSEC, SO_PEERPIDFD are ENOPROTOOPT";

export function registerNet(t: SyscallTable): void {
  t.set(49, { name: "bind", fn: (p, a) => bind(p, i32(a[0]), u64(a[1]), i32(a[2])), partial: NAMED });
  t.set(42, { name: "connect", fn: (p, a) => connect(p, i32(a[0]), u64(a[1]), i32(a[2])), partial: NAMED });
  t.set(50, { name: "listen", fn: (p, a) => listen(p, i32(a[0]), i32(a[1])) });
  t.set(43, { name: "accept", fn: (p, a) => accept(p, i32(a[0]), u64(a[1]), u64(a[2]), 0) });
  t.set(288, { name: "accept4", fn: (p, a) => accept(p, i32(a[0]), u64(a[1]), u64(a[2]), i32(a[3])) });
  t.set(41, { name: "socket", fn: socket, partial: "AF_UNIX only: other families EAFNOSUPPORT (no network in faultline guests)" });
  t.set(53, { name: "socketpair", fn: socketpair, partial: "AF_UNIX only (AF_INET, AF_INET6, AF_NETLINK, AF_PACKET: EOPNOTSUPP as Linux; other families EAFNOSUPPORT); files in flight inside a socket that is itself in flight are never collected (no unix_gc)" });
  t.set(44, { name: "sendto", fn: sendto, partial: SEND_NOTE });
  t.set(45, { name: "recvfrom", fn: recvfrom, partial: RECV_NOTE });
  t.set(46, { name: "sendmsg", fn: (p, a) => sendmsg(p, i32(a[0]), u64(a[1]), i32(a[2])), partial: SEND_NOTE });
  t.set(47, { name: "recvmsg", fn: (p, a) => recvmsg(p, i32(a[0]), u64(a[1]), i32(a[2])), partial: RECV_NOTE });
  // bash asks getpeername of stdin whether it runs under a remote shell daemon (then it reads ~/.bashrc).
  t.set(48, { name: "shutdown", fn: (p, a) => (sockAt(p, i32(a[0])).shutdown(i32(a[1])), 0) });
  t.set(51, { name: "getsockname", fn: (p, a) => getname(p, a, false) });
  t.set(52, { name: "getpeername", fn: (p, a) => getname(p, a, true) });
  t.set(54, { name: "setsockopt", fn: setsockopt, partial: OPT_NOTE });
  t.set(55, { name: "getsockopt", fn: getsockopt, partial: OPT_NOTE });
  onSockets(t, 0, (p, s, a) => sockRead(p, s, [[u64(a[1]), u64(a[2])]]));
  onSockets(t, 19, (p, s, a) => sockRead(p, s, iovecs(p, u64(a[1]), i32(a[2]))));
  onSockets(t, 1, (p, s, a) => sendIov(p, s, [[u64(a[1]), u64(a[2])]], { flags: 0 }));
  onSockets(t, 20, (p, s, a) => sendIov(p, s, iovecs(p, u64(a[1]), i32(a[2])), { flags: 0 }));
  onSockets(t, 16, (p, s, a) => sockIoctl(p, s, u64(a[1]) % 2 ** 32, u64(a[2])));
}
