/**
 * Waiting and readiness (cf. fs/select.c, fs/eventpoll.c, the wait queues
 * of fs/pipe.c and drivers/tty): poll, ppoll, select, pselect6 and the
 * epoll family, and the one way any system call waits. No host call may
 * block the emulator: a guest that waits sleeps in bounded slices (host
 * descriptors are asked with the host's own poll, timeout bounded by the
 * slice), and every slice checks the run's --timeout, which kills the guest
 * with SIGKILL as a timeout in the engine does.
 *
 * Readiness of an open file (cf. vfs_poll): a pipe end or host stream
 * answers for itself (`pollMask`); a file without a poll method (regular
 * files, directories, /proc files) is always ready for reading and writing
 * (DEFAULT_POLLMASK), and cannot be added to an epoll set (EPERM).
 */
import { fail } from "../../lib/errno.js";
import { ErrnoError, GuestSignal } from "../../lib/errors.js";
import { copyFromUser, copyToUser } from "../../mm/index.js";
import { Reg } from "../constants.js";
import { O_CLOEXEC, O_NONBLOCK, OpenFile, type FileStat } from "../files.js";
import { hostPoll, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from "../hostfs.js";
import { ParkError } from "../park.js";
import type { Process } from "../process.js";
import { RestartError, SIG, expireTimers, restartAs, signalPending, withSigmask } from "../signal/index.js";
import { i32, u64, type SyscallTable } from "./types.js";

/** Events a poll-like call may ask for beyond files.ts's (cf. uapi/asm-generic/poll.h). */
export const POLLRDBAND = 0x80, POLLWRBAND = 0x200, POLLRDHUP = 0x2000;
/** What a file without a poll method reports (cf. DEFAULT_POLLMASK). */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
/** Events reported whether asked for or not. */
const ALWAYS = POLLERR | POLLHUP | POLLNVAL;

/** Longest single host sleep of a waiting guest: bounds how late a --timeout kill comes. */
const SLICE_MS = 10;

/** A file kind with its own readiness (cf. file_operations.poll). */
export interface Pollable {
  /** The events ready now (POLL* bits), answered without blocking. */
  pollMask(): number;
  /** Host descriptors whose readiness this file's depends on (for sleeping in the host's poll). */
  readonly pollHostFds?: readonly number[];
}

/** Whether `f` has a poll method of its own. */
export function isPollable(f: OpenFile): f is OpenFile & Pollable {
  return typeof (f as Partial<Pollable>).pollMask === "function";
}

/** Ready events of `f` now (cf. vfs_poll). */
export function pollMask(f: OpenFile): number {
  return isPollable(f) ? f.pollMask() : DEFAULT_POLLMASK;
}

/**
 * The deadline of a wait that lasts `ns` from now: the one the call had
 * when it parked, if this is its re-run (so a sleep does not start over).
 */
export function deadlineNs(p: Process, ns: bigint): bigint {
  return p.resumeUntilNs ?? nowNs() + ns;
}

/** Monotonic nanoseconds (the clock of every wait's deadline). */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Whether `p`'s run has passed its --timeout at monotonic time `now` (never, without one). */
export function timedOut(p: Process, now: bigint): boolean {
  const ms = p.options.timeoutMs ?? 0;
  return ms > 0 && now - p.runStartNs >= BigInt(Math.round(ms * 1e6));
}

/**
 * Kills the guest when its run's --timeout has passed, as the engine's own
 * timeout does (SIGKILL, "killed: timeout after N ms").
 * @throws GuestSignal SIGKILL
 */
export function checkTimeout(p: Process): void {
  if (!timedOut(p, nowNs())) return;
  const ms = p.options.timeoutMs ?? 0;
  throw new GuestSignal("SIGKILL", SIG.SIGKILL, p.engine.readReg(Reg.RIP), "timeout", undefined, `killed: timeout after ${ms} ms`);
}

/** Host descriptors a wait may sleep on, and the events that end the sleep (POLLIN / POLLOUT). */
export interface HostWait {
  readonly fds: readonly number[];
  readonly events: number;
}

/** No host descriptor: a wait only other guest tasks, timers or signals can end. */
export const NO_HOST: HostWait = { fds: [], events: 0 };

/**
 * Sleeps one bounded slice, at most until `untilNs` and the next timer's
 * deadline: in the host's poll of `host` when it names descriptors (woken
 * early by their readiness), else plainly. Due timers fire before and
 * after; a signal to deliver interrupts the wait (cf. signal_pending in
 * the wait loops).
 * @throws GuestSignal SIGKILL when the run's --timeout has passed
 * @throws RestartError ERESTARTSYS when an unblocked signal is pending
 * @throws ParkError when other processes are alive: the call parks, and runs again later (when `wake`
 *   is given, only once it holds or a signal, `untilNs` or --timeout may end the wait; see ParkError)
 */
export function sleepSlice(p: Process, host: HostWait, untilNs?: bigint, wake?: () => boolean): void {
  interruption(p);
  if (p.kernel.othersAlive(p)) throw new ParkError(host, untilNs, wake); // others may run (and wake this one) meanwhile
  let ms = SLICE_MS;
  const timer = p.signal.timers.nextDeadlineNs();
  const until = timer !== undefined && (untilNs === undefined || timer < untilNs) ? timer : untilNs;
  if (until !== undefined) ms = Math.min(ms, Math.max(0, Number(until - nowNs()) / 1e6));
  if (host.fds.length > 0 && host.events !== 0) hostPoll(host.fds, host.events, ms);
  else if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  interruption(p);
}

/** What ends a wait early: --timeout (SIGKILL) or a pending signal (ERESTARTSYS), after due timers fired. */
function interruption(p: Process): void {
  checkTimeout(p);
  expireTimers(p);
  if (signalPending(p)) throw new RestartError("ERESTARTSYS", "interrupted by a signal");
}

/**
 * Waits until `ready()` holds or monotonic time `untilNs` comes (undefined:
 * no limit), in slices (cf. wait_event_interruptible_timeout).
 * @returns whether ready() held
 * @throws GuestSignal SIGKILL when the run's --timeout passes first
 */
export function waitUntil(p: Process, ready: () => boolean, host: HostWait = NO_HOST, untilNs?: bigint): boolean {
  for (;;) {
    if (ready()) return true;
    if (untilNs !== undefined && nowNs() >= untilNs) return false;
    sleepSlice(p, host, untilNs);
  }
}

/**
 * Runs the non-blocking operation `op` on `f` as a blocking call when the
 * file is not O_NONBLOCK: while it fails with EAGAIN, waits for `events`
 * (or an error or hang-up) on the file and retries (cf. the wait loops of
 * pipe_read / pipe_write / n_tty_read).
 * @throws ErrnoError from op; GuestSignal SIGKILL on --timeout
 */
export function blocking<T>(p: Process, f: OpenFile, events: number, op: () => T): T {
  for (;;) {
    try {
      return op();
    } catch (e) {
      if (!(e instanceof ErrnoError) || e.code !== "EAGAIN" || f.flags & O_NONBLOCK) throw e;
    }
    const host = { fds: isPollable(f) ? f.pollHostFds ?? [] : [], events: events & (POLLIN | POLLOUT) };
    sleepSlice(p, host);
    waitUntil(p, () => (pollMask(f) & (events | ALWAYS)) !== 0, host);
  }
}

/** Sleeps until monotonic time `untilNs` (cf. hrtimer_nanosleep). @throws GuestSignal on --timeout */
export function sleepUntil(p: Process, untilNs: bigint): void {
  waitUntil(p, () => false, NO_HOST, untilNs);
}

/** One descriptor a poll-like call watches. */
interface Watch {
  fd: number;
  /** Events asked for (POLL* bits). */
  events: number;
  revents: number;
}

/**
 * The readiness of every watch now; returns how many have any event
 * (cf. do_pollfd). A descriptor that is not open reports POLLNVAL.
 */
function scan(p: Process, watches: Watch[]): number {
  let n = 0;
  for (const w of watches) {
    w.revents = 0;
    if (w.fd < 0) continue;
    const f = p.fds.get(w.fd);
    w.revents = f ? pollMask(f) & (w.events | ALWAYS) : POLLNVAL;
    if (w.revents) n++;
  }
  return n;
}

/** The host descriptors behind watched files and the events asked of them, to sleep in the host's poll. */
function hostWaitOf(p: Process, watches: readonly Watch[]): HostWait {
  const fds: number[] = [];
  let events = 0;
  for (const w of watches) {
    const f = w.fd >= 0 ? p.fds.get(w.fd) : undefined;
    if (!f || !isPollable(f) || !f.pollHostFds?.length) continue;
    fds.push(...f.pollHostFds);
    events |= w.events & (POLLIN | POLLOUT);
  }
  return { fds, events };
}

/**
 * Scans `watches` until one is ready or `untilNs` passes (undefined: no
 * limit; a deadline already past: one scan) (cf. do_poll).
 * @returns the number of ready watches
 */
function pollWait(p: Process, watches: Watch[], untilNs?: bigint): number {
  let n = 0;
  waitUntil(p, () => (n = scan(p, watches)) > 0, hostWaitOf(p, watches), untilNs);
  return n;
}

/** Most descriptors one poll may name (cf. RLIMIT_NOFILE's soft limit, 1024 here). */
const NOFILE = 1024;

/** poll(2) / ppoll(2) on the struct pollfd array at `addr` (cf. do_sys_poll). */
function poll(p: Process, addr: number, nfds: number, untilNs?: bigint): number {
  if (nfds < 0 || nfds > NOFILE) fail("EINVAL", `poll: ${nfds} descriptors is over RLIMIT_NOFILE`);
  const raw = new DataView(copyFromUser(p.mm, addr, nfds * 8).buffer);
  const watches: Watch[] = [];
  for (let k = 0; k < nfds; k++) watches.push({ fd: raw.getInt32(8 * k, true), events: raw.getUint16(8 * k + 4, true), revents: 0 });
  const n = pollWait(p, watches, untilNs);
  watches.forEach((w, k) => raw.setUint16(8 * k + 6, w.revents, true));
  copyToUser(p.mm, addr, new Uint8Array(raw.buffer));
  return n;
}

/** The deadline of a poll timeout in ms (negative: none; 0: a single scan). */
function msDeadline(p: Process, ms: number): bigint | undefined {
  return ms < 0 ? undefined : deadlineNs(p, BigInt(ms) * 1_000_000n);
}

/**
 * A struct timespec (or timeval when `usec`) at `addr` as nanoseconds.
 * @throws ErrnoError EFAULT; EINVAL when negative or its fraction is out of range
 */
export function readTimeNs(p: Process, addr: number, usec = false): bigint {
  const v = new DataView(copyFromUser(p.mm, addr, 16).buffer);
  const sec = v.getBigInt64(0, true), frac = v.getBigInt64(8, true);
  const unit = usec ? 1_000_000n : 1_000_000_000n;
  if (sec < 0n || frac < 0n || frac >= unit) fail("EINVAL", "bad time value");
  return sec * 1_000_000_000n + frac * (1_000_000_000n / unit);
}

/** The deadline of a struct timespec timeout at `addr` (0: none). */
function tsDeadline(p: Process, addr: number, usec = false): bigint | undefined {
  return addr === 0 ? undefined : deadlineNs(p, readTimeNs(p, addr, usec));
}

/** The fdtable size select() clamps nfds to (cf. fdt->max_fds: 64, then powers of two from 256). */
function maxFds(p: Process): number {
  let top = -1;
  for (let fd = NOFILE - 1; fd >= 0 && top < 0; fd--) if (p.fds.get(fd)) top = fd;
  if (top < 64) return 64;
  let n = 256;
  while (n <= top) n *= 2;
  return n;
}

/**
 * select(2) / pselect6(2) over the fd_set bitmaps at `sets` (read, write,
 * except; 0 = none) (cf. core_sys_select): a descriptor that is not open is
 * EBADF; the sets are rewritten with the ready ones.
 */
function select(p: Process, nfds: number, sets: [number, number, number], untilNs?: bigint): number {
  if (nfds < 0) fail("EINVAL", "select: negative nfds");
  nfds = Math.min(nfds, maxFds(p));
  const bytes = Math.ceil(nfds / 64) * 8;
  const bits = sets.map((a) => (a === 0 || bytes === 0 ? null : copyFromUser(p.mm, a, bytes)));
  const kinds = [POLLIN | POLLRDNORM | POLLHUP | POLLERR, POLLOUT | POLLWRNORM | POLLERR, POLLPRI];
  const watches: { w: Watch; set: number }[] = [];
  for (let fd = 0; fd < nfds; fd++) {
    for (let s = 0; s < 3; s++) {
      const b = bits[s];
      if (!b || !(b[fd >> 3] & (1 << (fd & 7)))) continue;
      if (!p.fds.get(fd)) fail("EBADF", `select: descriptor ${fd} is not open`);
      watches.push({ w: { fd, events: kinds[s], revents: 0 }, set: s });
    }
  }
  const list = watches.map((x) => x.w);
  pollWait(p, list, untilNs);
  let n = 0;
  const out = bits.map((b) => (b ? new Uint8Array(b.length) : null));
  for (const { w, set } of watches) {
    if ((w.revents & kinds[set]) === 0) continue;
    out[set]![w.fd >> 3] |= 1 << (w.fd & 7);
    n++;
  }
  out.forEach((b, s) => b && copyToUser(p.mm, sets[s], b));
  return n;
}

/** One registered descriptor of an epoll set (cf. struct epitem). */
interface EpollItem {
  /** The open file watched (the set holds it, as epoll holds a file reference). */
  file: OpenFile;
  events: number;
  /** epoll_data, returned as is. */
  data: bigint;
}

const EPOLLET = 1 << 31, EPOLLONESHOT = 1 << 30, EPOLLEXCLUSIVE = 1 << 28, EPOLLWAKEUP = 1 << 29;

/** An epoll instance (cf. struct eventpoll): descriptor -> item, level-triggered. */
export class EpollFile extends OpenFile implements Pollable {
  /** The watched descriptors and what they ask for. */
  readonly items = new Map<number, EpollItem>();

  constructor(flags: number) {
    super("anon_inode:[eventpoll]", false, false, flags);
  }
  /** Ready items now, at most `max` (cf. ep_send_events). */
  ready(max: number): { data: bigint; events: number }[] {
    const out: { data: bigint; events: number }[] = [];
    for (const it of this.items.values()) {
      if (out.length >= max) break;
      const r = pollMask(it.file) & (it.events | POLLERR | POLLHUP);
      if (r === 0) continue;
      out.push({ data: it.data, events: r });
      if (it.events & EPOLLONESHOT) it.events &= EPOLLET | EPOLLONESHOT; // disarmed until EPOLL_CTL_MOD
    }
    return out;
  }
  pollMask(): number {
    return this.ready(1).length > 0 ? POLLIN | POLLRDNORM : 0;
  }
  /** What to sleep on in the host's poll: the watched host descriptors, for the events asked of them. */
  hostWait(): HostWait {
    const fds: number[] = [];
    let events = 0;
    for (const it of this.items.values()) {
      if (!isPollable(it.file) || !it.file.pollHostFds?.length) continue;
      fds.push(...it.file.pollHostFds);
      events |= it.events & (POLLIN | POLLOUT);
    }
    return { fds, events };
  }
  override read(): Uint8Array {
    return fail("EINVAL", "read: an epoll instance");
  }
  override write(): number {
    return fail("EINVAL", "write: an epoll instance");
  }
  override stat(): FileStat {
    return { dev: 14, ino: 1, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: 0n };
  }
}

/** epoll_create1(2). */
function epollCreate(p: Process, flags: number): number {
  if (flags & ~O_CLOEXEC) fail("EINVAL", "epoll_create1: bad flags");
  return p.fds.install(new EpollFile(0), (flags & O_CLOEXEC) !== 0);
}

/** The epoll instance at `epfd`. @throws ErrnoError EBADF, EINVAL */
function epollAt(p: Process, epfd: number): EpollFile {
  const ep = p.fds.must(epfd);
  if (!(ep instanceof EpollFile)) fail("EINVAL", `epoll: descriptor ${epfd} is not an epoll instance`);
  return ep;
}

/** epoll_ctl(2) (cf. do_epoll_ctl). */
function epollCtl(p: Process, epfd: number, op: number, fd: number, evAddr: number): number {
  const ADD = 1, DEL = 2, MOD = 3;
  let events = 0, data = 0n;
  if (op !== DEL) {
    const v = new DataView(copyFromUser(p.mm, evAddr, 12).buffer);
    events = v.getUint32(0, true);
    data = v.getBigUint64(4, true);
  }
  const ep = epollAt(p, epfd);
  const f = p.fds.must(fd);
  if (!isPollable(f)) fail("EPERM", "epoll_ctl: the file does not support poll");
  if (f === ep) fail("EINVAL", "epoll_ctl: an epoll instance cannot watch itself");
  const have = ep.items.get(fd);
  switch (op) {
    case ADD:
      if (have && have.file === f) fail("EEXIST", `epoll_ctl: descriptor ${fd} is already watched`);
      ep.items.set(fd, { file: f, events: events & ~(EPOLLWAKEUP | EPOLLEXCLUSIVE), data });
      return 0;
    case MOD:
      if (!have || have.file !== f) fail("ENOENT", `epoll_ctl: descriptor ${fd} is not watched`);
      if (events & EPOLLEXCLUSIVE) fail("EINVAL", "epoll_ctl: EPOLLEXCLUSIVE on MOD");
      have.events = events & ~EPOLLWAKEUP;
      have.data = data;
      return 0;
    case DEL:
      if (!have || have.file !== f) fail("ENOENT", `epoll_ctl: descriptor ${fd} is not watched`);
      ep.items.delete(fd);
      return 0;
    default:
      return fail("EINVAL", `epoll_ctl: unknown op ${op}`);
  }
}

/** epoll_wait(2) / epoll_pwait(2) (cf. do_epoll_wait): timeout in ms, negative = none. */
function epollWait(p: Process, epfd: number, evAddr: number, max: number, timeoutMs: number): number {
  if (max <= 0 || max > 0x7fffffff / 12) fail("EINVAL", "epoll_wait: bad maxevents");
  const ep = epollAt(p, epfd);
  let got: { data: bigint; events: number }[] = [];
  // Closed descriptors leave the set (cf. eventpoll_release).
  for (const [fd, it] of ep.items) if (p.fds.get(fd) !== it.file) ep.items.delete(fd);
  waitUntil(p, () => (got = ep.ready(max)).length > 0, ep.hostWait(), msDeadline(p, timeoutMs));
  if (got.length === 0) return 0;
  const out = new DataView(new ArrayBuffer(12 * got.length));
  got.forEach((e, k) => {
    out.setUint32(12 * k, e.events, true);
    out.setBigUint64(12 * k + 4, e.data, true);
  });
  copyToUser(p.mm, evAddr, new Uint8Array(out.buffer));
  return got.length;
}

/** poll, ppoll, select, pselect6 and the epoll family. */
export function registerPoll(t: SyscallTable): void {
  // Interrupted, these restart when no handler runs and are EINTR when one does (cf. -ERESTARTNOHAND);
  // the p-forms run with the guest's mask in place (cf. set_user_sigmask).
  t.set(7, { name: "poll", fn: (p, a) => restartAs("ERESTARTNOHAND", () => poll(p, u64(a[0]), u64(a[1]), msDeadline(p, i32(a[2])))) });
  t.set(271, { name: "ppoll", fn: (p, a) => {
    const until = tsDeadline(p, u64(a[2]));
    return withSigmask(p, u64(a[3]), u64(a[4]), () => restartAs("ERESTARTNOHAND", () => poll(p, u64(a[0]), u64(a[1]), until)));
  } });
  t.set(23, { name: "select", fn: (p, a) => restartAs("ERESTARTNOHAND", () => selectCall(p, a, true)) });
  t.set(270, { name: "pselect6", fn: (p, a) => {
    const [mask, size] = pselectMask(p, u64(a[5]));
    return withSigmask(p, mask, size, () => restartAs("ERESTARTNOHAND", () => selectCall(p, a, false)));
  } });
  t.set(213, { name: "epoll_create", fn: (p, a) => (i32(a[0]) <= 0 ? fail("EINVAL", "epoll_create: size <= 0") : epollCreate(p, 0)) });
  t.set(291, { name: "epoll_create1", fn: (p, a) => epollCreate(p, i32(a[0])) });
  t.set(233, { name: "epoll_ctl", fn: (p, a) => epollCtl(p, i32(a[0]), i32(a[1]), i32(a[2]), u64(a[3])) });
  // epoll waits are never restarted (cf. ep_poll's -EINTR).
  t.set(232, { name: "epoll_wait", fn: (p, a) => eintr(() => epollWait(p, i32(a[0]), u64(a[1]), i32(a[2]), i32(a[3]))) });
  t.set(281, { name: "epoll_pwait", fn: (p, a) =>
    withSigmask(p, u64(a[4]), u64(a[5]), () => eintr(() => epollWait(p, i32(a[0]), u64(a[1]), i32(a[2]), i32(a[3])))) });
  t.set(441, { name: "epoll_pwait2", fn: (p, a) => {
    const until = tsDeadline(p, u64(a[3]));
    const ms = until === undefined ? -1 : Number((until - nowNs()) / 1_000_000n);
    return withSigmask(p, u64(a[4]), u64(a[5]), () => eintr(() => epollWait(p, i32(a[0]), u64(a[1]), i32(a[2]), ms)));
  } });
}

/** pselect6's sixth argument: { const sigset_t *ss; size_t ss_len } or NULL (cf. get_sigset_argpack). */
function pselectMask(p: Process, addr: number): [number, number] {
  if (addr === 0) return [0, 0];
  const v = new DataView(copyFromUser(p.mm, addr, 16).buffer);
  return [Number(v.getBigUint64(0, true)), Number(v.getBigUint64(8, true))];
}

/** `fn`, with an interruption by a signal answered EINTR whether or not a handler runs. */
function eintr(fn: () => number): number {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RestartError) fail("EINTR", "interrupted by a signal");
    throw e;
  }
}

/**
 * select (timeval, rewritten with the time left as Linux does) or pselect6
 * (timespec, left alone by the glibc wrapper's contract; the kernel rewrites
 * it too).
 */
function selectCall(p: Process, a: readonly number[], usec: boolean): number {
  const tAddr = u64(a[4]);
  const until = tsDeadline(p, tAddr, usec);
  const n = select(p, i32(a[0]), [u64(a[1]), u64(a[2]), u64(a[3])], until);
  if (tAddr !== 0 && until !== undefined) {
    const left = until > nowNs() ? until - nowNs() : 0n;
    const unit = usec ? 1000n : 1n;
    const v = new DataView(new ArrayBuffer(16));
    v.setBigInt64(0, left / 1_000_000_000n, true);
    v.setBigInt64(8, (left % 1_000_000_000n) / unit, true);
    copyToUser(p.mm, tAddr, new Uint8Array(v.buffer));
  }
  return n;
}
