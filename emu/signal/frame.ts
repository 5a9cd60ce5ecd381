/**
 * The x86-64 signal frame (cf. arch/x86/kernel/signal_64.c x64_setup_rt_frame
 * and sys_rt_sigreturn, arch/x86/kernel/signal.c get_sigframe,
 * arch/x86/kernel/fpu/signal.c): the arch half of delivery, behind three
 * functions: {@link setupRtFrame}, {@link restoreRtFrame} and
 * {@link resetHandlerFpu}.
 *
 *   higher addresses
 *   +---------------------------+ <- interrupted RSP
 *   | red zone (128 bytes)      |
 *   +---------------------------+ <- stackTop (or the altstack's top); rounded down to 64
 *   | fpstate: fxsave (512)     |    uc_mcontext.fpstate points here
 *   +---------------------------+
 *   | siginfo (128)         312 |
 *   | ucontext: uc_sigmask  304 |
 *   |   uc_mcontext (256)    48 |    r8..r15 rdi rsi rbp rbx rdx rax rcx rsp rip eflags
 *   |   uc_stack             24 |    cs gs fs ss, err, trapno, oldmask, cr2, fpstate
 *   |   uc_link, uc_flags     8 |
 *   | pretcode (sa_restorer)  0 |
 *   +---------------------------+ <- handler's RSP: 16-aligned minus 8, as after a call
 */
import { copyFromUser, copyToUser } from "../../mm/index.js";
import { Reg } from "../constants.js";
import type { Engine } from "../engine.js";
import { SIGINFO_SIZE } from "./siginfo.js";

/** sizeof(struct rt_sigframe): pretcode, the kernel's ucontext (304), siginfo (128). */
export const RT_SIGFRAME_SIZE = 8 + 304 + SIGINFO_SIZE;
/** Offsets in the frame. */
const UC = 8, UC_STACK = UC + 16, MCTX = UC + 40, SIGMASK = UC + 296, INFO = UC + 304;
/** Offsets in struct sigcontext (uc_mcontext). */
const SC_RIP = 128, SC_EFLAGS = 136, SC_CSGSFS = 144, SC_ERR = 152, SC_TRAPNO = 160, SC_OLDMASK = 168, SC_CR2 = 176, SC_FPSTATE = 184;
/** sizeof the fxsave image, and its alignment in the frame. */
const FXSAVE_SIZE = 512;
/** uc_flags as a 64-bit kernel without XSAVE sets them: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS. */
const UC_FLAGS = 0x2 | 0x4;
/** User code and stack selectors of x86-64 Linux (__USER_CS, __USER_DS). */
const USER_CS = 0x33, USER_SS = 0x2b;
/** EFLAGS bits sigreturn takes from the frame (cf. FIX_EFLAGS): AC OF DF TF SF ZF AF PF CF RF. */
const FIX_EFLAGS = 0x50dd5;
/** EFLAGS bits cleared for the handler (cf. handle_signal): DF, RF, TF. */
const HANDLER_CLEARS = 0x400 | 0x10000 | 0x100;
/** The reserved MXCSR bits: a frame with any of them set is corrupt (cf. mxcsr_feature_mask). */
const MXCSR_RESERVED = 0xffff0000;

/** The 18 registers of sigcontext's first 144 bytes, in its order (r8 ... rip, eflags). */
const SC_REGS = new Int32Array([Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15,
  Reg.RDI, Reg.RSI, Reg.RBP, Reg.RBX, Reg.RDX, Reg.RAX, Reg.RCX, Reg.RSP, Reg.RIP, Reg.EFLAGS]);
/** The same without RIP and EFLAGS (16 general registers), which restore writes separately. */
const SC_GPRS = SC_REGS.subarray(0, 16);
const FP_CTL = new Int32Array([Reg.FPCW, Reg.FPSW, Reg.FPTAG, Reg.MXCSR]);
const FP_REGS = new Int32Array(8).map((_, k) => Reg.FP0 + k);
const XMM_REGS = new Int32Array(16).map((_, k) => Reg.XMM0 + k);

/** Where the guest's registers stand at the delivery point. */
export interface UserContext {
  /** The address the guest resumes at when the handler returns (after a syscall: past it, or at it to restart). */
  readonly rip: number;
  /**
   * How to make the engine continue at an address: from the syscall hook
   * the engine adds 2 after the hook, so there it writes addr - 2 (cf. helper_syscall).
   */
  readonly setRip: (addr: number) => void;
}

/** What goes into the frame besides the registers. */
export interface FrameRequest {
  readonly sig: number;
  /** The siginfo's 128 bytes (copied only with SA_SIGINFO, as Linux does). */
  readonly info: Uint8Array | undefined;
  /** sa_handler, sa_restorer. */
  readonly handler: number;
  readonly restorer: number;
  /** The mask to restore at sigreturn (uc_sigmask; its low word is sigcontext's oldmask). */
  readonly savedMask: bigint;
  /** The stack to build on: the interrupted RSP less the 128-byte red zone, or the altstack's top. */
  readonly stackTop: number;
  /** uc_stack as sigaltstack reports it at delivery (cf. __save_altstack). */
  readonly altstack: { readonly sp: number; readonly flags: number; readonly size: number };
  /** trapno, err and cr2 of a CPU exception (0 otherwise). */
  readonly trap?: { readonly trapno: number; readonly err: number; readonly cr2: number };
}

/** Where the fpstate of a frame built below `stackTop` goes (cf. get_sigframe, fpu__alloc_mathframe). */
function fpstateAddress(stackTop: number): number {
  return Math.floor((stackTop - FXSAVE_SIZE) / 64) * 64;
}

/** The address of the frame built below `stackTop`: the handler's RSP (16-aligned minus 8). */
export function frameAddress(stackTop: number): number {
  return Math.floor((fpstateAddress(stackTop) - RT_SIGFRAME_SIZE) / 16) * 16 - 8;
}

/**
 * Builds the rt_sigframe of `req` on the guest's stack and points the CPU at
 * the handler: RDI = signo, RSI = &info, RDX = &uc, RAX = 0, RSP = frame,
 * EFLAGS without DF/RF/TF (cf. x64_setup_rt_frame, handle_signal).
 * Precondition: called at a delivery point, with the guest's registers as
 * the interrupted code left them (RIP as `ctx.rip` says).
 * @returns the frame's address
 * @throws ErrnoError EFAULT when the stack cannot take the frame (the caller forces SIGSEGV)
 */
export function setupRtFrame(e: Engine, mm: Parameters<typeof copyToUser>[0], ctx: UserContext, req: FrameRequest): number {
  const fpAddr = fpstateAddress(req.stackTop);
  const frame = frameAddress(req.stackTop);
  const img = new Uint8Array(fpAddr + FXSAVE_SIZE - frame);
  const v = new DataView(img.buffer);
  v.setBigUint64(0, BigInt(req.restorer), true);
  v.setBigUint64(UC, BigInt(UC_FLAGS), true);
  v.setBigUint64(UC_STACK, BigInt(req.altstack.sp), true);
  v.setInt32(UC_STACK + 8, req.altstack.flags, true);
  v.setBigUint64(UC_STACK + 16, BigInt(req.altstack.size), true);
  img.set(e.readRegBlock(SC_REGS, 8), MCTX);
  v.setBigUint64(MCTX + SC_RIP, BigInt(ctx.rip), true);
  v.setUint16(MCTX + SC_CSGSFS, USER_CS, true);
  v.setUint16(MCTX + SC_CSGSFS + 6, USER_SS, true);
  v.setBigUint64(MCTX + SC_ERR, BigInt(req.trap?.err ?? 0), true);
  v.setBigUint64(MCTX + SC_TRAPNO, BigInt(req.trap?.trapno ?? 0), true);
  v.setBigUint64(MCTX + SC_OLDMASK, req.savedMask, true);
  v.setBigUint64(MCTX + SC_CR2, BigInt(req.trap?.cr2 ?? 0), true);
  v.setBigUint64(MCTX + SC_FPSTATE, BigInt(fpAddr), true);
  v.setBigUint64(SIGMASK, req.savedMask, true);
  if (req.info) img.set(req.info, INFO);
  img.set(saveFxsave(e), fpAddr - frame);
  copyToUser(mm, frame, img);
  const flags = Number(v.getBigUint64(MCTX + SC_EFLAGS, true) & 0xffffffffn);
  e.writeReg(Reg.EFLAGS, (flags & ~HANDLER_CLEARS) >>> 0);
  e.writeRegs(HANDLER_REGS, [req.sig, frame + INFO, frame + UC, 0, frame]);
  ctx.setRip(req.handler);
  resetHandlerFpu(e);
  return frame;
}

const HANDLER_REGS = new Int32Array([Reg.RDI, Reg.RSI, Reg.RDX, Reg.RAX, Reg.RSP]);

/** What rt_sigreturn found in the frame, for the caller's part (mask, altstack). */
export interface RestoredFrame {
  readonly mask: bigint;
  readonly altstack: { readonly sp: number; readonly flags: number; readonly size: number };
}

/** A frame that cannot be restored (cf. sys_rt_sigreturn's badframe): the guest gets SIGSEGV. */
export class BadFrameError extends Error {}

/**
 * rt_sigreturn's register half (cf. restore_sigcontext, fpu__restore_sig):
 * reads the frame at RSP - 8 (the handler's ret popped pretcode), puts back
 * the general registers, RIP, the FIX_EFLAGS bits and the FPU/SSE state.
 * @returns the mask and altstack saved in the frame
 * @throws BadFrameError when the frame is not readable or its FPU state is invalid
 */
export function restoreRtFrame(e: Engine, mm: Parameters<typeof copyFromUser>[0], setRip: (addr: number) => void): RestoredFrame {
  const frame = e.readReg(Reg.RSP) - 8;
  let img: Uint8Array, fx: Uint8Array | undefined;
  try {
    img = copyFromUser(mm, frame, RT_SIGFRAME_SIZE);
    const v0 = new DataView(img.buffer, img.byteOffset);
    const fp = Number(v0.getBigUint64(MCTX + SC_FPSTATE, true));
    if (fp !== 0) fx = copyFromUser(mm, fp, FXSAVE_SIZE);
  } catch {
    throw new BadFrameError(`rt_sigreturn: frame at 0x${frame.toString(16)} is not readable`);
  }
  const v = new DataView(img.buffer, img.byteOffset);
  if (fx && new DataView(fx.buffer, fx.byteOffset).getUint32(24, true) & MXCSR_RESERVED) {
    throw new BadFrameError("rt_sigreturn: reserved MXCSR bits set in the frame's fpstate");
  }
  const rip = v.getBigUint64(MCTX + SC_RIP, true);
  e.writeRegBlock(SC_GPRS, 8, img.subarray(MCTX, MCTX + 128));
  const cur = e.readReg(Reg.EFLAGS);
  const saved = Number(v.getBigUint64(MCTX + SC_EFLAGS, true) & 0xffffffffn);
  e.writeReg(Reg.EFLAGS, ((cur & ~FIX_EFLAGS) | (saved & FIX_EFLAGS)) >>> 0);
  setRip(Number(rip));
  if (fx) restoreFxsave(e, fx);
  else resetHandlerFpu(e); // cf. fpu__restore_sig with a NULL buf: the initial state
  return {
    mask: v.getBigUint64(SIGMASK, true),
    altstack: {
      sp: Number(v.getBigUint64(UC_STACK, true)), flags: v.getInt32(UC_STACK + 8, true),
      size: Number(v.getBigUint64(UC_STACK + 16, true)),
    },
  };
}

/**
 * The FPU/SSE state as FXSAVE writes it in 64-bit mode: FCW, FSW, abridged
 * FTW, MXCSR, MXCSR_MASK, ST0-7 (ST(i), relative to TOP), XMM0-15; the last
 * 48 bytes (sw_reserved) zero, which says "no XSAVE state" to glibc, musl and
 * the kernel's own restore.
 */
function saveFxsave(e: Engine): Uint8Array {
  const fx = new Uint8Array(FXSAVE_SIZE);
  const v = new DataView(fx.buffer);
  const ctl = e.readRegBlock(FP_CTL, 8);
  const cv = new DataView(ctl.buffer, ctl.byteOffset, 32);
  const fcw = cv.getUint16(0, true), fsw = cv.getUint16(8, true), ftw = cv.getUint16(16, true), mxcsr = cv.getUint32(24, true);
  const top = (fsw >> 11) & 7;
  let abridged = 0;
  for (let r = 0; r < 8; r++) if (((ftw >> (2 * r)) & 3) !== 3) abridged |= 1 << r;
  v.setUint16(0, fcw, true);
  v.setUint16(2, fsw, true);
  fx[4] = abridged;
  v.setUint32(24, mxcsr, true);
  v.setUint32(28, 0xffff, true); // MXCSR_MASK: the bits this CPU supports (cf. mxcsr_feature_mask)
  const st = e.readRegBlock(FP_REGS, 16);
  for (let i = 0; i < 8; i++) fx.set(st.subarray(((top + i) & 7) * 16, ((top + i) & 7) * 16 + 10), 32 + i * 16);
  fx.set(e.readRegBlock(XMM_REGS, 16), 160);
  return fx;
}

/** Loads an FXSAVE image back (cf. fxrstor): the inverse of saveFxsave. */
function restoreFxsave(e: Engine, fx: Uint8Array): void {
  const v = new DataView(fx.buffer, fx.byteOffset, FXSAVE_SIZE);
  const fsw = v.getUint16(2, true), top = (fsw >> 11) & 7, abridged = fx[4];
  let ftw = 0;
  for (let r = 0; r < 8; r++) if (!(abridged & (1 << r))) ftw |= 3 << (2 * r);
  const ctl = new Uint8Array(32);
  const cv = new DataView(ctl.buffer);
  cv.setUint16(0, v.getUint16(0, true), true);
  cv.setUint16(8, fsw, true);
  cv.setUint16(16, ftw, true);
  cv.setUint32(24, v.getUint32(24, true), true);
  e.writeRegBlock(FP_CTL, 8, ctl);
  const st = new Uint8Array(128);
  for (let i = 0; i < 8; i++) st.set(fx.subarray(32 + i * 16, 32 + i * 16 + 10), ((top + i) & 7) * 16);
  e.writeRegBlock(FP_REGS, 16, st);
  e.writeRegBlock(XMM_REGS, 16, fx.subarray(160, 416));
}

/** The FPU a handler starts with (cf. fpu__clear_user_states): FNINIT, the default MXCSR, XMM zero. */
export function resetHandlerFpu(e: Engine): void {
  const ctl = new Uint8Array(32);
  const cv = new DataView(ctl.buffer);
  cv.setUint16(0, 0x37f, true);
  cv.setUint16(16, 0xffff, true);
  cv.setUint32(24, 0x1f80, true);
  e.writeRegBlock(FP_CTL, 8, ctl);
  e.writeRegBlock(XMM_REGS, 16, new Uint8Array(256));
}
