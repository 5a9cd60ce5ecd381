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
import { copyFromUser, copyToUser, userBytes } from "../../mm/index.js";
import { Reg } from "../constants.js";
import { FCW_DEFAULT, FP_REGS, FPU_CTL_REGS, FXSAVE_SIZE, MXCSR_DEFAULT, XMM_REGS } from "../cpu-view.js";
import type { Engine } from "../engine.js";
import { USER_CS, USER_DS as USER_SS, sigreturnSegmentsError } from "../segments.js";
import { SIGINFO_SIZE } from "./siginfo.js";

/** sizeof(struct rt_sigframe): pretcode, the kernel's ucontext (304), siginfo (128). */
export const RT_SIGFRAME_SIZE = 8 + 304 + SIGINFO_SIZE;
/** Offsets in the frame. */
const UC = 8, UC_STACK = UC + 16, MCTX = UC + 40, SIGMASK = UC + 296, INFO = UC + 304;
/** Offsets in struct sigcontext (uc_mcontext). */
const SC_RIP = 128, SC_EFLAGS = 136, SC_CSGSFS = 144, SC_ERR = 152, SC_TRAPNO = 160, SC_OLDMASK = 168, SC_CR2 = 176, SC_FPSTATE = 184;
/** uc_flags as a 64-bit kernel without XSAVE sets them: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS. */
const UC_FLAGS = 0x2 | 0x4;
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
/** The x86 numbers (0 = RAX ... 15 = R15) of sigcontext's 16 general registers, in its order. */
const SC_GPR_NUMBERS = [8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 3, 2, 0, 1, 4];

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
  const len = fpAddr + FXSAVE_SIZE - frame;
  const inPlace = userBytes(mm, frame, len, true); // the frame is built in guest memory itself when it can be
  const img = inPlace ?? new Uint8Array(len);
  const v = new DataView(img.buffer, img.byteOffset, len);
  img.fill(0, 0, fpAddr - frame); // fxsaveTo writes all of its own 512 bytes
  put64(v, 0, req.restorer);
  put64(v, UC, UC_FLAGS);
  put64(v, UC_STACK, req.altstack.sp);
  v.setInt32(UC_STACK + 8, req.altstack.flags, true);
  put64(v, UC_STACK + 16, req.altstack.size);
  const flags = saveRegisters(e, v, MCTX);
  put64(v, MCTX + SC_RIP, ctx.rip);
  v.setUint16(MCTX + SC_CSGSFS, USER_CS, true);
  v.setUint16(MCTX + SC_CSGSFS + 6, USER_SS, true);
  put64(v, MCTX + SC_ERR, req.trap?.err ?? 0);
  put64(v, MCTX + SC_TRAPNO, req.trap?.trapno ?? 0);
  v.setBigUint64(MCTX + SC_OLDMASK, req.savedMask, true);
  put64(v, MCTX + SC_CR2, req.trap?.cr2 ?? 0);
  put64(v, MCTX + SC_FPSTATE, fpAddr);
  v.setBigUint64(SIGMASK, req.savedMask, true);
  if (req.info) img.set(req.info, INFO);
  fxsaveTo(e, img.subarray(fpAddr - frame, fpAddr - frame + FXSAVE_SIZE));
  if (!inPlace) copyToUser(mm, frame, img);
  if (flags & HANDLER_CLEARS) e.writeReg(Reg.EFLAGS, (flags & ~HANDLER_CLEARS) >>> 0);
  setHandlerRegisters(e, [req.sig, frame + INFO, frame + UC, 0, frame]);
  ctx.setRip(req.handler);
  resetHandlerFpu(e);
  return frame;
}

/** Writes `n` (a non-negative integer below 2^53) as a little-endian u64 at `off`. */
function put64(v: DataView, off: number, n: number): void {
  v.setUint32(off, n % 0x100000000, true);
  v.setUint32(off + 4, Math.floor(n / 0x100000000), true);
}

/** Reads the little-endian u64 at `off` as a number (exact below 2^53). */
function get64(v: DataView, off: number): number {
  return v.getUint32(off, true) + v.getUint32(off + 4, true) * 0x100000000;
}

/**
 * Puts sigcontext's 16 general registers, RIP and EFLAGS at `v[off]` (RIP
 * as the engine has it: the caller overwrites it with the resume address).
 * @returns EFLAGS
 */
function saveRegisters(e: Engine, v: DataView, off: number): number {
  const view = e.cpu;
  if (!view) {
    new Uint8Array(v.buffer, v.byteOffset + off, 144).set(e.readRegBlock(SC_REGS, 8));
    return v.getUint32(off + SC_EFLAGS, true);
  }
  view.saveGprs(v, off, SC_GPR_NUMBERS);
  const flags = e.readReg(Reg.EFLAGS);
  put64(v, off + SC_EFLAGS, flags);
  return flags;
}

/** RDI, RSI, RDX, RAX, RSP for the handler (signo, &info, &uc, 0, the frame). */
function setHandlerRegisters(e: Engine, values: readonly number[]): void {
  const view = e.cpu;
  if (!view) {
    e.writeRegs(HANDLER_REGS, values);
    return;
  }
  for (let k = 0; k < HANDLER_NUMBERS.length; k++) view.setGpr(HANDLER_NUMBERS[k], values[k]);
}

const HANDLER_REGS = new Int32Array([Reg.RDI, Reg.RSI, Reg.RDX, Reg.RAX, Reg.RSP]);
/** The same by x86 number. */
const HANDLER_NUMBERS = [7, 6, 2, 0, 4];

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
 * the general registers, RIP, the FIX_EFLAGS bits and the FPU/SSE state;
 * CS and SS must name the user segments the CPU already holds (segments.ts).
 * @returns the mask and altstack saved in the frame
 * @throws BadFrameError when the frame is not readable, its CS/SS cannot be returned to, or its FPU state is invalid
 */
export function restoreRtFrame(e: Engine, mm: Parameters<typeof copyFromUser>[0], setRip: (addr: number) => void): RestoredFrame {
  const frame = e.gpr(4) - 8;
  let v: DataView, fx: Uint8Array | undefined;
  try {
    const img = userView(mm, frame, RT_SIGFRAME_SIZE);
    v = new DataView(img.buffer, img.byteOffset, RT_SIGFRAME_SIZE);
    const fp = get64(v, MCTX + SC_FPSTATE);
    if (fp !== 0) fx = userView(mm, fp, FXSAVE_SIZE);
  } catch {
    throw new BadFrameError(`rt_sigreturn: frame at 0x${frame.toString(16)} is not readable`);
  }
  if (fx && ((fx[FX_MXCSR + 2] << 16) | (fx[FX_MXCSR + 3] << 24)) & MXCSR_RESERVED) {
    throw new BadFrameError("rt_sigreturn: reserved MXCSR bits set in the frame's fpstate");
  }
  const badSegments = sigreturnSegmentsError(v.getUint16(MCTX + SC_CSGSFS, true), v.getUint16(MCTX + SC_CSGSFS + 6, true), Number(v.getBigUint64(UC, true) & 0xffffffffn));
  if (badSegments) throw new BadFrameError(badSegments);
  restoreGprs(e, v, MCTX);
  const cur = e.readReg(Reg.EFLAGS);
  const saved = v.getUint32(MCTX + SC_EFLAGS, true);
  if ((cur ^ saved) & FIX_EFLAGS) e.writeReg(Reg.EFLAGS, ((cur & ~FIX_EFLAGS) | (saved & FIX_EFLAGS)) >>> 0);
  setRip(get64(v, MCTX + SC_RIP));
  if (fx) fxrstorFrom(e, fx);
  else resetHandlerFpu(e); // cf. fpu__restore_sig with a NULL buf: the initial state
  return {
    mask: v.getBigUint64(SIGMASK, true),
    altstack: { sp: get64(v, UC_STACK), flags: v.getInt32(UC_STACK + 8, true), size: get64(v, UC_STACK + 16) },
  };
}

/**
 * Guest [va, va+len) for reading, in place when it can be (else a copy).
 * @throws ErrnoError EFAULT
 */
function userView(mm: Parameters<typeof copyFromUser>[0], va: number, len: number): Uint8Array {
  return userBytes(mm, va, len, false) ?? copyFromUser(mm, va, len);
}

/** Loads sigcontext's 16 general registers from `v[off]`. */
function restoreGprs(e: Engine, v: DataView, off: number): void {
  const view = e.cpu;
  if (!view) {
    e.writeRegBlock(SC_GPRS, 8, new Uint8Array(v.buffer, v.byteOffset + off, 128));
    return;
  }
  view.loadGprs(v, off, SC_GPR_NUMBERS);
}

/** Offsets in the FXSAVE image (cf. struct fxregs_state). */
const FX_FSW = 2, FX_FTW = 4, FX_FIP = 8, FX_MXCSR = 24, FX_MXCSR_MASK = 28, FX_ST = 32, FX_XMM = 160;

/**
 * `fx` (512 bytes) as 128 words, for the CPU view: itself when aligned,
 * else a copy (a frame's fpstate pointer comes from the guest).
 */
function fxWords(fx: Uint8Array): Uint32Array {
  if ((fx.byteOffset & 3) === 0) return new Uint32Array(fx.buffer, fx.byteOffset, FXSAVE_SIZE / 4);
  return new Uint32Array(fx.slice().buffer);
}

/**
 * Writes the FPU/SSE state as FXSAVE does in 64-bit mode into `fx`, all 512
 * bytes: FCW, FSW, abridged FTW, FIP, MXCSR, MXCSR_MASK, ST0-7 (ST(i),
 * relative to TOP), XMM0-15; the rest, with the last 48 bytes
 * (sw_reserved), zero, which says "no XSAVE state" to glibc, musl and the
 * kernel's own restore. Directly from the CPU state when the view has it,
 * else through the API.
 */
function fxsaveTo(e: Engine, fx: Uint8Array): void {
  if (e.cpu?.hasFpu) {
    const w = fxWords(fx);
    e.cpu.fxsave(w);
    if (w.buffer !== fx.buffer) fx.set(new Uint8Array(w.buffer));
    return;
  }
  const v = new DataView(fx.buffer, fx.byteOffset, FXSAVE_SIZE);
  fx.fill(0);
  const ctl = e.readRegBlock(FPU_CTL_REGS, 8);
  const cv = new DataView(ctl.buffer, ctl.byteOffset, 40);
  const fcw = cv.getUint16(0, true), fsw = cv.getUint16(8, true), ftw = cv.getUint16(16, true), mxcsr = cv.getUint32(24, true);
  const top = (fsw >> 11) & 7;
  let abridged = 0;
  for (let r = 0; r < 8; r++) if (((ftw >> (2 * r)) & 3) !== 3) abridged |= 1 << r;
  v.setUint16(0, fcw, true);
  v.setUint16(FX_FSW, fsw, true);
  fx[FX_FTW] = abridged;
  fx.set(ctl.subarray(32, 40), FX_FIP);
  v.setUint32(FX_MXCSR, mxcsr, true);
  v.setUint32(FX_MXCSR_MASK, 0xffff, true); // the bits this CPU supports (cf. mxcsr_feature_mask)
  const st = e.readRegBlock(FP_REGS, 16);
  for (let i = 0; i < 8; i++) fx.set(st.subarray(((top + i) & 7) * 16, ((top + i) & 7) * 16 + 10), FX_ST + i * 16);
  fx.set(e.readRegBlock(XMM_REGS, 16), FX_XMM);
}

/**
 * Loads the FXSAVE image `fx` (512 bytes; cf. fxrstor): the inverse of
 * fxsaveTo, directly when the view has the FPU, else through the API.
 */
function fxrstorFrom(e: Engine, fx: Uint8Array): void {
  if (e.cpu?.hasFpu) {
    e.cpu.fxrstor(fxWords(fx));
    return;
  }
  const v = new DataView(fx.buffer, fx.byteOffset, FXSAVE_SIZE);
  const fsw = v.getUint16(FX_FSW, true), top = (fsw >> 11) & 7, abridged = fx[FX_FTW];
  let ftw = 0;
  for (let r = 0; r < 8; r++) if (!(abridged & (1 << r))) ftw |= 3 << (2 * r);
  const ctl = new Uint8Array(40);
  const cv = new DataView(ctl.buffer);
  cv.setUint16(0, v.getUint16(0, true), true);
  cv.setUint16(8, fsw, true);
  cv.setUint16(16, ftw, true);
  cv.setUint32(24, v.getUint32(FX_MXCSR, true), true);
  ctl.set(fx.subarray(FX_FIP, FX_FIP + 8), 32);
  e.writeRegBlock(FPU_CTL_REGS, 8, ctl);
  const st = new Uint8Array(128);
  for (let i = 0; i < 8; i++) st.set(fx.subarray(FX_ST + i * 16, FX_ST + i * 16 + 10), ((top + i) & 7) * 16);
  e.writeRegBlock(FP_REGS, 16, st);
  e.writeRegBlock(XMM_REGS, 16, fx.subarray(FX_XMM, FX_XMM + 256));
}

/** The FPU/SSE state as a 512-byte FXSAVE image (see fxsaveTo), e.g. for fork to copy. */
export function saveFxsave(e: Engine): Uint8Array {
  const fx = new Uint8Array(FXSAVE_SIZE);
  fxsaveTo(e, fx);
  return fx;
}

/** Loads a 512-byte FXSAVE image (cf. fxrstor): the inverse of saveFxsave. */
export function restoreFxsave(e: Engine, fx: Uint8Array): void {
  fxrstorFrom(e, fx.subarray(0, FXSAVE_SIZE));
}

/** The FPU a handler starts with (cf. fpu__clear_user_states): FNINIT (FIP 0 too), the default MXCSR, XMM zero. */
export function resetHandlerFpu(e: Engine): void {
  if (e.cpu?.hasFpu) {
    e.cpu.fpuInit();
    return;
  }
  const ctl = new Uint8Array(40);
  const cv = new DataView(ctl.buffer);
  cv.setUint16(0, FCW_DEFAULT, true);
  cv.setUint16(16, 0xffff, true);
  cv.setUint32(24, MXCSR_DEFAULT, true);
  e.writeRegBlock(FPU_CTL_REGS, 8, ctl);
  e.writeRegBlock(XMM_REGS, 16, new Uint8Array(256));
}
