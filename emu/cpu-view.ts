/**
 * Direct access to the engine's live CPU state, to take engine calls off the
 * trap paths (a page fault's stale-exception reset and CR2, a probe hit's
 * RIP and TF): each uc_* call through koffi costs ~70-130 ns, a memory
 * access nothing.
 *
 * Where the state lives is found by experiment, never assumed: distinctive
 * values are written to eight registers through the API, the process's
 * [heap] is searched for them, and the one match is proven by writing a
 * register through the API and seeing the memory change, and the other way
 * round. The first engine's search also teaches where the state lies from
 * the engine's handle (a pointer in uc_struct plus an offset); later engines
 * (one per guest process) follow that path instead of searching, and the
 * same proofs hold it to account. Field offsets come from the saved-context
 * experiment in exception-state.ts. Any doubt and the engine keeps using the API.
 *
 * Only fields QEMU keeps as plain values are touched: the general
 * registers, RIP, CR2, the exception-state and error-code ints, and the TF
 * bit of EFLAGS (the arithmetic flags live elsewhere, computed lazily; they
 * are read through the API).
 *
 * The x87/SSE state (for signal frames, fork) is found the same way, field
 * by field (see {@link locateFpu}): TOP, FSW, FCW, the eight tag bytes, the
 * eight 80-bit registers, MXCSR and XMM0-15, each by a sequence of values
 * written through the API and seen in memory, then proven the other way
 * (written in memory, read back through the API). FCW is only read
 * directly: QEMU derives its softfloat state (rounding, precision) from it
 * in cpu_set_fpuc(), so a change goes through the API, which calls that (an
 * unchanged value, the common case, costs nothing). MXCSR goes through the
 * API both ways: cpu_set_mxcsr() derives the SSE rounding, DAZ/FTZ and
 * flags from it, and on faultline's build (patch 0007) the exception flags
 * SSE arithmetic raised since the last write live in the softfloat state
 * until a read merges them (update_mxcsr_from_sse_status), so the field
 * alone can lag the register. When any FPU field cannot be proven the view
 * keeps its other parts and the FPU goes through the API.
 */
import * as fs from "node:fs";
import { hostSearch, viewAt, withHostMem } from "../lib/hostmem.js";
import { Reg, UC_CTL_CPU_STATE, ucCtlRead } from "./constants.js";
import type { Engine } from "./engine.js";
import type { ContextLayout } from "./exception-state.js";

/** The first eight general registers in the CPU state's order (env->regs[0..7]). */
const FIRST_EIGHT = [Reg.RAX, Reg.RCX, Reg.RDX, Reg.RBX, Reg.RSP, Reg.RBP, Reg.RSI, Reg.RDI];
const TF = 0x100;

/** FCW, FSW, FTW, MXCSR, FIP: the x87/SSE control registers as the API names them (16-, 16-, 16-, 32-, 64-bit). */
export const FPU_CTL_REGS = new Int32Array([Reg.FPCW, Reg.FPSW, Reg.FPTAG, Reg.MXCSR, Reg.FIP]);
/** The x87 registers R0-R7 by physical number (ST(i) is R((TOP + i) & 7)), 10 bytes each. */
export const FP_REGS = new Int32Array(8).map((_, k) => Reg.FP0 + k);
/** XMM0-15, 16 bytes each. */
export const XMM_REGS = new Int32Array(16).map((_, k) => Reg.XMM0 + k);
/** FCW and MXCSR after FNINIT / at power-on (cf. fpstate_init_fxstate). */
export const FCW_DEFAULT = 0x37f, MXCSR_DEFAULT = 0x1f80;
/** sizeof the FXSAVE image. */
export const FXSAVE_SIZE = 512;
/** Word (u32) offsets in the FXSAVE image of ST0 and XMM0 (cf. struct fxregs_state). */
const FX_ST_WORD = 8, FX_XMM_WORD = 40;
/** The MXCSR bits this CPU supports, as FXSAVE reports them (cf. mxcsr_feature_mask). */
const MXCSR_MASK = 0xffff;
/** FSW's TOP field (bits 11-13). */
const FSW_TOP = 0x3800;

/** Byte offsets from the CPU state's start (RAX) of its x87/SSE fields (cf. CPUX86State), found by locateFpu. */
export interface FpuOffsets {
  /** fpstt: TOP, a 32-bit int. */
  readonly top: number;
  /** fpus: FSW without TOP, 16-bit. */
  readonly fsw: number;
  /** fpuc: FCW, 16-bit (read only: writes go through the API). */
  readonly fcw: number;
  /** fptags[8]: one byte per physical register, 1 = empty. */
  readonly tags: number;
  /** fpregs[0]: R0 as floatx80 (64-bit mantissa, then 16-bit sign and exponent), and the stride to R1. */
  readonly st: number;
  readonly stStride: number;
  /** fpip: the last x87 instruction's address, 64-bit. */
  readonly fip: number;
  /** mxcsr, 32-bit (read only: writes go through the API). */
  readonly mxcsr: number;
  /** xmm_regs[0] (its low 16 bytes are XMM0), and the stride to XMM1. */
  readonly xmm: number;
  readonly xmmStride: number;
}

export class CpuView {
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly rip32: number;
  private readonly eflags32: number;
  private readonly cr232: number;
  private readonly err32: number;
  private readonly oldExc32: number[];
  /** The x87/SSE fields, when they were found and proven (else undefined: the FPU goes through the API). */
  private fpu: FpuFields | undefined;

  /**
   * @param env the host address of the CPU state's RAX
   * @param source how `env` was found: answered by the engine (patch 0004) or by searching the host heap
   */
  private constructor(readonly env: number, layout: ContextLayout, private readonly engine: Engine, readonly source: "engine" | "search") {
    const base = layout.rax;
    const span = Math.max(...layout.oldException, layout.errorCode, layout.cr2, layout.eflags) - base + 16;
    const ab = viewAt(env, span);
    this.u32 = new Uint32Array(ab);
    this.i32 = new Int32Array(ab);
    this.rip32 = (layout.rip - base) >> 2;
    this.eflags32 = (layout.eflags - base) >> 2;
    this.cr232 = (layout.cr2 - base) >> 2;
    this.err32 = (layout.errorCode - base) >> 2;
    this.oldExc32 = layout.oldException.map((o) => (o - base) >> 2);
  }

  /**
   * Finds and proves the CPU state of `engine`, or returns undefined (the
   * caller then uses the API): asked of the engine where it answers
   * (faultline's build, patch 0004), else searched for in the host heap.
   * Clobbers RAX..RDI (call before the guest runs).
   */
  static find(engine: Engine, layout: ContextLayout): CpuView | undefined {
    if (layout.rax < 0 || layout.rip < 0 || layout.eflags < 0 || layout.cr2 < 0) return undefined;
    const answered = stateFromEngine(engine, layout);
    const found = answered !== undefined ? [answered] : searchState(engine);
    if (found.length !== 1) return undefined;
    const view = new CpuView(found[0], layout, engine, answered !== undefined ? "engine" : "search");
    // Prove it both ways, and that RIP sits where the experiment said.
    engine.writeReg(Reg.RAX, 0x1234_5678);
    if (view.u32[0] !== 0x1234_5678) return undefined;
    view.u32[2] = 0x0bad_cafe; // RCX
    if (engine.readReg(Reg.RCX) !== 0x0bad_cafe) return undefined;
    engine.writeReg(Reg.RCX, 0);
    engine.writeReg(Reg.RAX, 0);
    engine.writeReg(Reg.RIP, 0x7777_1000);
    if (view.rip !== 0x7777_1000) return undefined;
    view.findFpu(layout);
    return view;
  }

  /**
   * Locates (see locateFpu; on a library's later engines, takes the offsets
   * its first one found) and proves the FPU fields, leaving the FPU state as
   * it was. On failure the FPU stays on the API path.
   */
  private findFpu(layout: ContextLayout): void {
    const e = this.engine;
    const span = Number(e.lib.fn.uc_context_size(e.handle)) - layout.rax;
    if (!(span > 0)) return;
    const ctl = e.readRegBlock(FPU_CTL_REGS, 8).slice(), st = e.readRegBlock(FP_REGS, 16).slice(), xmm = e.readRegBlock(XMM_REGS, 16).slice();
    try {
      const buf = viewAt(this.env, span & ~3);
      const win = new DataView(buf);
      // The layout is the library's: learned on its first engine, proven again on each.
      const learned = e.lib.learned;
      const at = learned.fpuOffsets ?? locateFpu(e, win);
      if (at && proveFpu(e, win, at)) {
        this.fpu = new FpuFields(buf, at);
        learned.fpuOffsets ??= at;
      }
    } finally {
      e.writeRegBlock(FPU_CTL_REGS, 8, ctl);
      e.writeRegBlock(FP_REGS, 16, st);
      e.writeRegBlock(XMM_REGS, 16, xmm);
    }
  }

  /** Whether the x87/SSE state is seen directly (else use the API). */
  get hasFpu(): boolean {
    return this.fpu !== undefined;
  }

  /**
   * Writes the whole 512-byte FXSAVE image of the live state into `dst`
   * (128 words; 64-bit layout: FCW, FSW, abridged FTW, FIP, MXCSR,
   * MXCSR_MASK, ST0-7, XMM0-15, everything else zero), as the API path of
   * saveFxsave (signal/frame.ts) does. Precondition: hasFpu.
   */
  fxsave(dst: Uint32Array): void {
    const f = this.fpu!, u32 = f.u32, u16 = f.u16, u8 = f.u8;
    dst.fill(0);
    const top = u32[f.top] & 7;
    let abridged = 0;
    for (let r = 0; r < 8; r++) if (u8[f.tags + r] === 0) abridged |= 1 << r;
    dst[0] = u16[f.fcw] | (((u16[f.fsw] & ~FSW_TOP) | (top << 11)) << 16);
    dst[1] = abridged;
    dst[2] = u32[f.fip];
    dst[3] = u32[f.fip + 1];
    dst[6] = this.engine.readReg(Reg.MXCSR); // merges lazily held SSE flags (see the file comment)
    dst[7] = MXCSR_MASK;
    for (let i = 0; i < 8; i++) {
      const s = f.st[(top + i) & 7], d = FX_ST_WORD + 4 * i;
      dst[d] = u32[s];
      dst[d + 1] = u32[s + 1];
      dst[d + 2] = u16[2 * s + 4];
    }
    for (let k = 0; k < 16; k++) copy4(dst, FX_XMM_WORD + 4 * k, u32, f.xmm[k]);
  }

  /**
   * Loads the FXSAVE image `src` (128 words) into the live state (cf.
   * fxrstor), FCW and MXCSR through the API when they change.
   * Precondition: hasFpu; the caller has checked MXCSR's reserved bits.
   */
  fxrstor(src: Uint32Array): void {
    const f = this.fpu!, u32 = f.u32, u16 = f.u16, u8 = f.u8;
    const fsw = src[0] >>> 16, top = (fsw >> 11) & 7, abridged = src[1] & 0xff;
    u32[f.top] = top;
    u16[f.fsw] = fsw & ~FSW_TOP;
    for (let r = 0; r < 8; r++) u8[f.tags + r] = abridged & (1 << r) ? 0 : 1;
    u32[f.fip] = src[2];
    u32[f.fip + 1] = src[3];
    for (let i = 0; i < 8; i++) {
      const t = f.st[(top + i) & 7], s = FX_ST_WORD + 4 * i;
      u32[t] = src[s];
      u32[t + 1] = src[s + 1];
      u16[2 * t + 4] = src[s + 2];
    }
    for (let k = 0; k < 16; k++) copy4(u32, f.xmm[k], src, FX_XMM_WORD + 4 * k);
    this.setControl(src[0] & 0xffff, src[6]);
  }

  /**
   * The FPU a signal handler starts with (cf. fpu__clear_user_states): FCW
   * and MXCSR at their defaults, FSW, TOP and FIP zero, every tag empty,
   * XMM0-15 zero; the x87 registers keep their bits, as after FNINIT.
   * Precondition: hasFpu.
   */
  fpuInit(): void {
    const f = this.fpu!, u32 = f.u32, u8 = f.u8;
    u32[f.top] = 0;
    f.u16[f.fsw] = 0;
    for (let r = 0; r < 8; r++) u8[f.tags + r] = 1;
    u32[f.fip] = 0;
    u32[f.fip + 1] = 0;
    for (let k = 0; k < 16; k++) {
      const t = f.xmm[k];
      u32[t] = 0;
      u32[t + 1] = 0;
      u32[t + 2] = 0;
      u32[t + 3] = 0;
    }
    this.setControl(FCW_DEFAULT, MXCSR_DEFAULT);
  }

  /**
   * Sets FCW (only when it changes) and MXCSR (always: its field can lag
   * the flags the engine holds, see the file comment) through the API.
   */
  private setControl(fcw: number, mxcsr: number): void {
    const f = this.fpu!;
    if (f.u16[f.fcw] !== fcw) this.engine.writeReg(Reg.FPCW, fcw);
    this.engine.writeReg(Reg.MXCSR, mxcsr >>> 0);
  }

  get rip(): number {
    return this.u32[this.rip32] + this.u32[this.rip32 + 1] * 0x100000000;
  }

  set rip(v: number) {
    this.u32[this.rip32] = v >>> 0; // the low half: ToUint32 (`%` on a double is a call)
    this.u32[this.rip32 + 1] = Math.floor(v / 0x100000000);
  }

  /** General register `i` (x86 number: 0 = RAX ... 4 = RSP ... 15 = R15), exact below 2^53. */
  gpr(i: number): number {
    return this.u32[2 * i] + this.u32[2 * i + 1] * 0x100000000;
  }

  /** Sets general register `i` to `v` (a non-negative integer below 2^53). */
  setGpr(i: number, v: number): void {
    this.u32[2 * i] = v >>> 0; // the low half: ToUint32 (`%` on a double is a call)
    this.u32[2 * i + 1] = Math.floor(v / 0x100000000);
  }

  /** Puts the general registers numbered `order` (full 64 bits each) at dst[off], dst[off + 8], ... little-endian. */
  saveGprs(dst: DataView, off: number, order: readonly number[]): void {
    for (let k = 0; k < order.length; k++) {
      dst.setUint32(off + 8 * k, this.u32[2 * order[k]], true);
      dst.setUint32(off + 8 * k + 4, this.u32[2 * order[k] + 1], true);
    }
  }

  /** Loads the general registers numbered `order` from src[off], src[off + 8], ... (the inverse of saveGprs). */
  loadGprs(src: DataView, off: number, order: readonly number[]): void {
    for (let k = 0; k < order.length; k++) {
      this.u32[2 * order[k]] = src.getUint32(off + 8 * k, true);
      this.u32[2 * order[k] + 1] = src.getUint32(off + 8 * k + 4, true);
    }
  }

  /** General register `i` as 32-bit halves into out[0] (low) and out[1] (high). */
  gprHalves(i: number, out: Uint32Array): void {
    out[0] = this.u32[2 * i];
    out[1] = this.u32[2 * i + 1];
  }

  get cr2(): number {
    return this.u32[this.cr232] + this.u32[this.cr232 + 1] * 0x100000000;
  }

  /** The #PF error code, with the stale previous-exception state reset (see exception-state.ts). */
  pageFaultFixup(): number {
    for (const o of this.oldExc32) this.i32[o] = -1;
    return this.i32[this.err32];
  }

  /** EFLAGS.TF. */
  get trapFlag(): boolean {
    return (this.u32[this.eflags32] & TF) !== 0;
  }

  set trapFlag(on: boolean) {
    this.u32[this.eflags32] = on ? this.u32[this.eflags32] | TF : this.u32[this.eflags32] & ~TF;
  }
}

/** Copies the four words from[s..s+3] to to[t..t+3] (one XMM register). */
function copy4(to: Uint32Array, t: number, from: Uint32Array, s: number): void {
  to[t] = from[s];
  to[t + 1] = from[s + 1];
  to[t + 2] = from[s + 2];
  to[t + 3] = from[s + 3];
}

/**
 * The proven FPU fields as typed views of the CPU state and indices into
 * them (element, not byte, numbers), made once so that the signal path
 * does only element loads and stores.
 */
class FpuFields {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  /** u32 index of TOP; u16 indices of FSW and FCW; u8 index of the tag bytes; u32 index of FIP and MXCSR. */
  readonly top: number;
  readonly fsw: number;
  readonly fcw: number;
  readonly tags: number;
  readonly fip: number;
  readonly mxcsr: number;
  /** u32 index of each physical x87 register R0-R7 (mantissa; the sign and exponent are u16 2 * i + 4). */
  readonly st: Int32Array;
  /** u32 index of each XMM register. */
  readonly xmm: Int32Array;

  constructor(buf: ArrayBuffer, at: FpuOffsets) {
    this.u8 = new Uint8Array(buf);
    this.u16 = new Uint16Array(buf);
    this.u32 = new Uint32Array(buf);
    this.top = at.top >> 2;
    this.fsw = at.fsw >> 1;
    this.fcw = at.fcw >> 1;
    this.tags = at.tags;
    this.fip = at.fip >> 2;
    this.mxcsr = at.mxcsr >> 2;
    this.st = new Int32Array(8).map((_, r) => (at.st + r * at.stStride) >> 2);
    this.xmm = new Int32Array(16).map((_, k) => (at.xmm + k * at.xmmStride) >> 2);
  }
}

/** One step of a field search: a write through the API, and the bytes it must leave in the field. */
interface Probe {
  readonly write: () => void;
  readonly want: Uint8Array;
}

/**
 * The one offset in `win`, a multiple of `align`, whose bytes equal each
 * step's `want` after that step's write; -1 when none or several do.
 */
function locate(win: DataView, align: number, steps: readonly Probe[]): number {
  const bytes = new Uint8Array(win.buffer, win.byteOffset, win.byteLength);
  let at: number[] | undefined;
  for (const s of steps) {
    s.write();
    const w = s.want;
    const hit = (o: number) => {
      for (let k = 0; k < w.length; k++) if (bytes[o + k] !== w[k]) return false;
      return true;
    };
    if (at === undefined) {
      // Candidates where the first byte matches (indexOf runs natively), then the rest.
      at = [];
      for (let o = bytes.indexOf(w[0]); o >= 0 && o + w.length <= bytes.length; o = bytes.indexOf(w[0], o + 1)) {
        if (o % align === 0 && hit(o)) at.push(o);
      }
    } else {
      at = at.filter(hit);
    }
  }
  return at?.length === 1 ? at[0] : -1;
}

/** Little-endian bytes of `v` (an integer below 2^53) in `n` bytes. */
function le(v: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++, v = Math.floor(v / 256)) out[k] = v % 256;
  return out;
}

/** `n` random bytes, none zero (so a pattern never matches cleared memory). */
function randomBytes(n: number): Uint8Array {
  return new Uint8Array(n).map(() => 1 + Math.floor(Math.random() * 255));
}

/**
 * Finds the x87/SSE fields in the CPU state `win` (from RAX on), each by
 * values written through the API that it must then hold: FSW's TOP and
 * rest, FCW, the tag bytes (FTW), MXCSR, and every x87 and XMM register
 * (random bytes, twice). Registers must sit at a constant stride.
 * Clobbers the FPU state (the caller saves and restores it).
 * @returns the offsets, or undefined when any field is not found exactly once
 */
function locateFpu(e: Engine, win: DataView): FpuOffsets | undefined {
  const word = (id: number, v: number, n: number): Probe => ({ write: () => e.writeReg(id, v), want: le(v, n) });
  const fsw = (top: number, rest: number) => (top << 11) | rest;
  // FSW through the API: TOP goes to fpstt, the other bits to fpus.
  const topSteps = [5, 2, 6].map((t, k) => ({ write: () => e.writeReg(Reg.FPSW, fsw(t, 0x41 + k)), want: le(t, 4) }));
  const fswSteps = [5, 2, 6].map((t, k) => ({ write: () => e.writeReg(Reg.FPSW, fsw(t, 0x41 + k)), want: le(0x41 + k, 2) }));
  // FTW through the API: tag 3 (empty) becomes fptags[r] = 1, anything else 0.
  const tagSteps = [0xc3c3, 0x3c3c, 0xfff0].map((t) => ({
    write: () => e.writeReg(Reg.FPTAG, t),
    want: new Uint8Array(8).map((_, r) => (((t >> (2 * r)) & 3) === 3 ? 1 : 0)),
  }));
  const top = locate(win, 4, topSteps), fswAt = locate(win, 2, fswSteps), tags = locate(win, 1, tagSteps);
  const fcw = locate(win, 2, [0x027f, 0x0e7f, 0x0c7f].map((v) => word(Reg.FPCW, v, 2)));
  const mxcsr = locate(win, 4, [0x9fc0, 0x3f81, 0x7fa2].map((v) => word(Reg.MXCSR, v, 4)));
  const fip = locate(win, 4, [0, 1].map(() => word(Reg.FIP, 0x1000 + Math.floor(Math.random() * 2 ** 46), 8)));
  const regs = (ids: Int32Array, size: number, valueSize: number, align: number): number[] =>
    Array.from(ids, (id) => locate(win, align, [0, 1].map(() => {
      const want = randomBytes(valueSize);
      const buf = new Uint8Array(size);
      buf.set(want);
      return { write: () => e.writeRegBlock(new Int32Array([id]), size, buf), want };
    })));
  const st = regs(FP_REGS, 16, 10, 8), xmm = regs(XMM_REGS, 16, 16, 8);
  const stride = (at: number[]) => (at.every((o, k) => o >= 0 && o - at[0] === k * (at[1] - at[0])) ? at[1] - at[0] : -1);
  const stStride = stride(st), xmmStride = stride(xmm);
  if ([top, fswAt, tags, fcw, mxcsr, fip].some((o) => o < 0) || stStride < 10 || xmmStride < 16) return undefined;
  return { top, fsw: fswAt, fcw, tags, st: st[0], stStride, fip, mxcsr, xmm: xmm[0], xmmStride };
}

/**
 * The other direction: values written into the fields in memory must read
 * back through the API (FSW with TOP, which registers the tags call empty,
 * FIP, the x87 and XMM registers). Clobbers the FPU state.
 */
function proveFpu(e: Engine, win: DataView, f: FpuOffsets): boolean {
  win.setUint32(f.fip, 0x5a5a_1234, true);
  win.setUint32(f.fip + 4, 0x7e, true);
  if (e.readReg(Reg.FIP) !== 0x7e_5a5a_1234) return false;
  win.setUint32(f.top, 3, true);
  win.setUint16(f.fsw, 0x0042, true);
  // (readReg of a 16-bit register leaves the scratch's upper bytes as they were: mask.)
  if ((e.readReg(Reg.FPSW) & 0xffff) !== ((3 << 11) | 0x42)) return false;
  const empty = [1, 0, 1, 1, 0, 0, 1, 0];
  empty.forEach((t, r) => win.setUint8(f.tags + r, t));
  const ftw = e.readReg(Reg.FPTAG) & 0xffff;
  if (empty.some((t, r) => (((ftw >> (2 * r)) & 3) === 3) !== (t === 1))) return false;
  const check = (ids: Int32Array, at: number, stride: number, n: number): boolean => {
    const want = randomBytes(ids.length * n);
    for (let k = 0; k < ids.length; k++) for (let b = 0; b < n; b++) win.setUint8(at + k * stride + b, want[k * n + b]);
    const got = e.readRegBlock(ids, 16);
    for (let k = 0; k < ids.length; k++) for (let b = 0; b < n; b++) if (got[k * 16 + b] !== want[k * n + b]) return false;
    return true;
  };
  return check(FP_REGS, f.st, f.stStride, 10) && check(XMM_REGS, f.xmm, f.xmmStride, 16);
}

/**
 * Candidates for `engine`'s RAX in the host heap: marker values written to
 * its first eight registers, found through the library's learned pointer
 * paths, else by a search (whose single match teaches the paths). Leaves
 * those registers zero.
 */
function searchState(engine: Engine): number[] {
  const pattern = Buffer.alloc(64);
  const salt = BigInt(Math.floor(Math.random() * 0xffff)) << 16n;
  FIRST_EIGHT.forEach((_, i) => pattern.writeBigUInt64LE(0x6a5f_0000_0000_0000n | salt | BigInt(i * 0x101), i * 8));
  FIRST_EIGHT.forEach((id, i) => engine.writeReg(id, pattern.readBigUInt64LE(i * 8)));
  try {
    const heap = heapRange();
    if (!heap) return [];
    const known = engine.lib.learned.cpuStatePaths;
    const followed = known ? followPaths(engine.handle, known, heap, pattern) : [];
    if (followed.length === 1) return followed;
    const found = searchHeap(pattern, engine.handle, heap);
    if (found.length === 1 && !known) engine.lib.learned.cpuStatePaths = learnPaths(engine.handle, found[0], heap);
    return found;
  } finally {
    FIRST_EIGHT.forEach((id) => engine.writeReg(id, 0));
  }
}

/** UC_CPU_STATE_LAYOUT_VERSION: the uc_cpu_state_layout this code reads. */
export const CPU_STATE_LAYOUT_VERSION = 1;
/** uc_cpu_state_layout's fields, as 32-bit words (cf. patch 0004's unicorn.h). */
export enum StateLayout { Version, Size, Gpr, Pc, Flags, FaultAddr, ErrorCode, OldException, Words }

/** What UC_CTL_CPU_STATE answers: where the state is, and its fields as byte offsets from RAX. */
export interface EngineState {
  /** Host address of the CPU state's RAX. */
  readonly rax: number;
  /** Byte offsets from RAX of RIP, EFLAGS, CR2, the pending exception's error code and old_exception. */
  readonly rip: number;
  readonly eflags: number;
  readonly cr2: number;
  readonly errorCode: number;
  readonly oldException: number;
}

/**
 * Asks `engine` where its CPU state is, through UC_CTL_CPU_STATE (faultline's
 * build with patch 0004; the control initialises the engine if it was not).
 * @returns the answer, or undefined on any other engine or layout version
 */
export function stateFromControl(engine: Engine): EngineState | undefined {
  if (!engine.lib.patches.includes("0004-cpu-state-through-uc-ctl")) return undefined;
  const ptr = new BigUint64Array(1), words = new Uint32Array(StateLayout.Words);
  if (engine.lib.fn.uc_ctl(engine.handle, ucCtlRead(UC_CTL_CPU_STATE, 2), "void *", ptr, "void *", words) !== 0) return undefined;
  if (words[StateLayout.Version] !== CPU_STATE_LAYOUT_VERSION || ptr[0] === 0n) return undefined;
  const rel = (field: StateLayout) => words[field] - words[StateLayout.Gpr];
  return {
    rax: Number(ptr[0]) + words[StateLayout.Gpr], rip: rel(StateLayout.Pc), eflags: rel(StateLayout.Flags),
    cr2: rel(StateLayout.FaultAddr), errorCode: rel(StateLayout.ErrorCode), oldException: rel(StateLayout.OldException),
  };
}

/**
 * The host address of `engine`'s RAX as the engine answers it (see
 * stateFromControl), when the offsets it reports agree with `layout`;
 * undefined on any other engine, or when they disagree (the heap search
 * then decides).
 */
function stateFromEngine(engine: Engine, layout: ContextLayout): number | undefined {
  const st = stateFromControl(engine);
  if (!st) return undefined;
  const agrees = st.rip === layout.rip - layout.rax && st.eflags === layout.eflags - layout.rax && st.cr2 === layout.cr2 - layout.rax &&
    st.errorCode === layout.errorCode - layout.rax && layout.oldException.includes(st.oldException + layout.rax);
  return agrees ? st.rax : undefined;
}

/**
 * Where, from an engine's handle, a library keeps the CPU state: the handle
 * (uc_struct) holds a pointer at `offset` (its `cpu`, or another pointer into
 * the same allocation), and the state starts `delta` bytes past where it points.
 */
export interface PointerPath {
  /** Byte offset of the pointer inside the handle's structure. */
  readonly offset: number;
  /** Bytes from the pointed-to address to the CPU state. */
  readonly delta: number;
}

/** How far into the handle's structure pointers are looked for, and how far past one the state may start. */
const HANDLE_SPAN = 16 << 10, MAX_DELTA = 1 << 20;

/** The pointers in the first HANDLE_SPAN bytes of `handle` that land at most MAX_DELTA below `env` (all candidates). */
function learnPaths(handle: number, env: number, heap: HeapRange): PointerPath[] {
  if (handle < heap.start || handle + 8 > heap.end) return [];
  const bytes = withHostMem((read) => read(handle, Math.min(HANDLE_SPAN, heap.end - handle) & ~7));
  if (!bytes) return [];
  const out: PointerPath[] = [];
  new BigUint64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8).forEach((w, k) => {
    const delta = env - Number(w);
    if (delta >= 0 && delta < MAX_DELTA && delta % 8 === 0) out.push({ offset: k * 8, delta });
  });
  return out;
}

/**
 * The addresses the known paths lead to from `handle` that hold `pattern`
 * (each read only inside the heap, and through /proc/self/mem: a GC thread
 * may shrink the C heap meanwhile, and a direct read of a page gone crashed the host).
 */
function followPaths(handle: number, paths: readonly PointerPath[], heap: HeapRange, pattern: Buffer): number[] {
  const span = paths.reduce((m, p) => Math.max(m, p.offset + 8), 0);
  if (handle + span > heap.end) return [];
  return withHostMem((read) => {
    const words = read(handle, span);
    if (!words) return [];
    const hits = new Set<number>();
    for (const p of paths) {
      const env = Number(words.readBigUInt64LE(p.offset)) + p.delta;
      if (env >= heap.start && env + pattern.length <= heap.end && read(env, pattern.length)?.equals(pattern)) hits.add(env);
    }
    return [...hits];
  });
}

/** The host process's [heap] segment. */
interface HeapRange {
  readonly start: number;
  readonly end: number;
}

/** This process's [heap] from /proc/self/maps, or undefined. */
function heapRange(): HeapRange | undefined {
  const line = fs.readFileSync("/proc/self/maps", "utf8").split("\n").find((l) => l.endsWith("[heap]"));
  if (!line) return undefined;
  const [start, end] = line.split(" ")[0].split("-").map((x) => parseInt(x, 16));
  return { start, end };
}

/**
 * Addresses in this process's [heap] where `pattern` occurs: first near the
 * engine's handle (the CPU state is allocated right after it), then, if
 * that finds nothing, the whole heap (which grows with every engine made).
 */
function searchHeap(pattern: Buffer, near: number, heap: HeapRange): number[] {
  const a = heap.start, b = heap.end;
  const scan = (lo: number, hi: number): number[] => hostSearch(lo, hi - lo, pattern).filter((x) => x % 8 === 0);
  if (near >= a && near < b) {
    const local = scan(Math.max(a, near - (4 << 20)), Math.min(b, near + (16 << 20)));
    if (local.length > 0) return local;
  }
  return scan(a, b);
}
