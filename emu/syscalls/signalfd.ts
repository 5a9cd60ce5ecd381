/**
 * signalfd(2) and signalfd4(2) (cf. fs/signalfd.c): a descriptor whose
 * reads take the reader's own pending signals of a mask, as 128-byte
 * struct signalfd_siginfo records.
 *
 *   signalfd4(-1, mask) ──> new SignalFd (mask minus SIGKILL/SIGSTOP; SFD_CLOEXEC, SFD_NONBLOCK)
 *   signalfd4(fd, mask) ──> the same file, its mask replaced
 *   read   ──> dequeue from the calling process (task's set, then the group's), as many as fit;
 *              none: EAGAIN with O_NONBLOCK, else wait (parks while others run; a signal
 *              to deliver interrupts it, ERESTARTSYS)
 *   poll   ──> POLLIN while a signal of the mask is pending for the calling process
 *
 * The file is shared by fork and dup, and each reader takes its own
 * signals (cf. signalfd_dequeue's `current`), as Linux does.
 */
import { fail } from "../../lib/errno.js";
import { O_CLOEXEC, O_NONBLOCK, OpenFile, type FileStat } from "../files.js";
import { POLLIN } from "../hostfs.js";
import type { Kernel } from "../kernel.js";
import type { Process } from "../process.js";
import { ALL_SIGNALS, UNBLOCKABLE, dequeueSignal, encodeSigInfo, sigsetFromUser, type SigInfo } from "../signal/index.js";
import { layoutOf } from "../signal/siginfo.js";
import type { Pollable } from "./poll.js";
import { i32, u64, type SyscallTable } from "./types.js";

/** sizeof(struct signalfd_siginfo). */
export const SIGNALFD_SIGINFO_SIZE = 128;
/** signalfd4 flags (cf. uapi/linux/signalfd.h: the O_ values). */
const SFD_CLOEXEC = O_CLOEXEC, SFD_NONBLOCK = O_NONBLOCK;

/** A signalfd's open file (cf. struct signalfd_ctx). */
export class SignalFd extends OpenFile implements Pollable {
  /**
   * @param kernel the guest world, whose current process is the reader
   * @param mask the signals it reads (never SIGKILL or SIGSTOP); signalfd4 on it replaces them
   */
  constructor(private readonly kernel: Kernel, public mask: bigint, flags: number) {
    super("anon_inode:[signalfd]", true, true, flags);
  }

  /** The process reading or polling now (cf. current). */
  private reader(): Process {
    return this.kernel.current ?? fail("EINVAL", "signalfd: used outside a process's slice");
  }

  /**
   * Takes as many pending signals of the mask as `len` holds (cf.
   * signalfd_read): EINVAL under one record, EAGAIN when none is pending
   * (the caller waits unless O_NONBLOCK).
   */
  override read(len: number): Uint8Array {
    const max = Math.floor(len / SIGNALFD_SIGINFO_SIZE);
    if (max === 0) fail("EINVAL", "signalfd read: buffer smaller than a signalfd_siginfo");
    const p = this.reader();
    const out: Uint8Array[] = [];
    for (let info; out.length < max && (info = dequeueSignal(p, ALL_SIGNALS & ~this.mask)); ) out.push(signalfdSiginfo(info));
    if (out.length === 0) fail("EAGAIN", "signalfd: no signal of the mask is pending");
    const b = new Uint8Array(out.length * SIGNALFD_SIGINFO_SIZE);
    out.forEach((r, k) => b.set(r, k * SIGNALFD_SIGINFO_SIZE));
    return b;
  }

  /** POLLIN while a signal of the mask is pending for the caller (cf. signalfd_poll). */
  pollMask(): number {
    const p = this.reader();
    return ((p.sigtask.pending.signal | p.signal.shared.signal) & this.mask) !== 0n ? POLLIN : 0;
  }

  override write(): number {
    return fail("EINVAL", "write: a signalfd");
  }

  override stat(): FileStat {
    return { dev: 14, ino: 1, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: 0n };
  }
}

/**
 * The struct signalfd_siginfo of `info` (cf. signalfd_copyinfo): signo,
 * errno, code, then the fields of the union member its layout uses.
 *
 *   0 ssi_signo  4 ssi_errno  8 ssi_code  12 ssi_pid  16 ssi_uid  20 ssi_fd  24 ssi_tid
 *  28 ssi_band  32 ssi_overrun  36 ssi_trapno  40 ssi_status  44 ssi_int  48 ssi_ptr
 *  56 ssi_utime  64 ssi_stime  72 ssi_addr  80 ssi_addr_lsb ... 128
 */
export function signalfdSiginfo(info: SigInfo): Uint8Array {
  const si = new DataView(encodeSigInfo(info).buffer);
  const b = new Uint8Array(SIGNALFD_SIGINFO_SIZE);
  const v = new DataView(b.buffer);
  for (const off of [0, 4, 8]) v.setInt32(off, si.getInt32(off, true), true);
  const pidUid = (): void => {
    v.setUint32(12, si.getUint32(16, true), true);
    v.setUint32(16, si.getUint32(20, true), true);
  };
  const value = (): void => {
    v.setInt32(44, si.getInt32(24, true), true);
    v.setBigUint64(48, si.getBigUint64(24, true), true);
  };
  switch (layoutOf(info)) {
    case "kill":
      pidUid();
      break;
    case "rt":
      pidUid();
      value();
      break;
    case "timer":
      v.setUint32(24, si.getUint32(16, true), true);
      v.setUint32(32, si.getUint32(20, true), true);
      value();
      break;
    case "chld":
      pidUid();
      v.setInt32(40, si.getInt32(24, true), true);
      v.setBigUint64(56, si.getBigUint64(32, true), true);
      v.setBigUint64(64, si.getBigUint64(40, true), true);
      break;
    case "fault":
      v.setBigUint64(72, si.getBigUint64(16, true), true);
      break;
  }
  return b;
}

/**
 * signalfd4(2) (cf. do_signalfd4): the size first (EINVAL unless 8), the
 * mask (EFAULT), then the flags (EINVAL); fd -1 makes a new signalfd, else
 * `fd` must be one (EBADF, EINVAL) and its mask is replaced (flags unused).
 * @returns the descriptor
 */
function signalfd4(p: Process, fd: number, maskAddr: number, size: number, flags: number): number {
  if (size !== 8) fail("EINVAL", `signalfd: sigset size ${size}, want 8`);
  const mask = sigsetFromUser(p, maskAddr) & ~UNBLOCKABLE;
  if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) fail("EINVAL", `signalfd4: bad flags 0x${flags.toString(16)}`);
  if (fd === -1) return p.fds.install(new SignalFd(p.kernel, mask, flags & SFD_NONBLOCK), (flags & SFD_CLOEXEC) !== 0);
  const f = p.fds.must(fd);
  if (!(f instanceof SignalFd)) fail("EINVAL", `signalfd: descriptor ${fd} is not a signalfd`);
  f.mask = mask;
  return fd;
}

/** Registers signalfd and signalfd4. */
export function registerSignalfd(t: SyscallTable): void {
  t.set(282, { name: "signalfd", fn: (p, a) => signalfd4(p, i32(a[0]), u64(a[1]), u64(a[2]), 0) });
  t.set(289, { name: "signalfd4", fn: (p, a) => signalfd4(p, i32(a[0]), u64(a[1]), u64(a[2]), i32(a[3])) });
}
