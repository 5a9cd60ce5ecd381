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
 * round. Field offsets come from the saved-context experiment in
 * exception-state.ts. Any doubt and the engine keeps using the API.
 *
 * Only fields QEMU keeps as plain values are touched: the general
 * registers, RIP, CR2, the exception-state and error-code ints, and the TF
 * bit of EFLAGS (the arithmetic flags live elsewhere, computed lazily; they
 * are read through the API).
 */
import * as fs from "node:fs";
import { hostSearch, viewAt } from "../lib/hostmem.js";
import { Reg } from "./constants.js";
import type { Engine } from "./engine.js";
import type { ContextLayout } from "./exception-state.js";

/** The first eight general registers in the CPU state's order (env->regs[0..7]). */
const FIRST_EIGHT = [Reg.RAX, Reg.RCX, Reg.RDX, Reg.RBX, Reg.RSP, Reg.RBP, Reg.RSI, Reg.RDI];
const TF = 0x100;

export class CpuView {
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly rip32: number;
  private readonly eflags32: number;
  private readonly cr232: number;
  private readonly err32: number;
  private readonly oldExc32: number[];

  private constructor(readonly env: number, layout: ContextLayout) {
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
   * caller then uses the API). Clobbers RAX..RDI (call before the guest runs).
   */
  static find(engine: Engine, layout: ContextLayout): CpuView | undefined {
    if (layout.rax < 0 || layout.rip < 0 || layout.eflags < 0 || layout.cr2 < 0) return undefined;
    const pattern = Buffer.alloc(64);
    const salt = BigInt(Math.floor(Math.random() * 0xffff)) << 16n;
    FIRST_EIGHT.forEach((_, i) => pattern.writeBigUInt64LE(0x6a5f_0000_0000_0000n | salt | BigInt(i * 0x101), i * 8));
    FIRST_EIGHT.forEach((id, i) => engine.writeReg(id, pattern.readBigUInt64LE(i * 8)));
    const found = searchHeap(pattern, engine.handle);
    FIRST_EIGHT.forEach((id) => engine.writeReg(id, 0));
    if (found.length !== 1) return undefined;
    const view = new CpuView(found[0], layout);
    // Prove it both ways, and that RIP sits where the experiment said.
    engine.writeReg(Reg.RAX, 0x1234_5678);
    if (view.u32[0] !== 0x1234_5678) return undefined;
    view.u32[2] = 0x0bad_cafe; // RCX
    if (engine.readReg(Reg.RCX) !== 0x0bad_cafe) return undefined;
    engine.writeReg(Reg.RCX, 0);
    engine.writeReg(Reg.RAX, 0);
    engine.writeReg(Reg.RIP, 0x7777_1000);
    if (view.rip !== 0x7777_1000) return undefined;
    return view;
  }

  get rip(): number {
    return this.u32[this.rip32] + this.u32[this.rip32 + 1] * 0x100000000;
  }

  set rip(v: number) {
    this.u32[this.rip32] = v % 0x100000000;
    this.u32[this.rip32 + 1] = Math.floor(v / 0x100000000);
  }

  /** General register `i` (x86 number: 0 = RAX ... 4 = RSP ... 15 = R15), exact below 2^53. */
  gpr(i: number): number {
    return this.u32[2 * i] + this.u32[2 * i + 1] * 0x100000000;
  }

  /** Sets general register `i` to `v` (a non-negative integer below 2^53). */
  setGpr(i: number, v: number): void {
    this.u32[2 * i] = v % 0x100000000;
    this.u32[2 * i + 1] = Math.floor(v / 0x100000000);
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

/**
 * Addresses in this process's [heap] where `pattern` occurs: first near the
 * engine's handle (the CPU state is allocated right after it), then, if
 * that finds nothing, the whole heap (which grows with every engine made).
 */
function searchHeap(pattern: Buffer, near: number): number[] {
  const line = fs.readFileSync("/proc/self/maps", "utf8").split("\n").find((l) => l.endsWith("[heap]"));
  if (!line) return [];
  const [a, b] = line.split(" ")[0].split("-").map((x) => parseInt(x, 16));
  const scan = (lo: number, hi: number): number[] => hostSearch(lo, hi - lo, pattern).filter((x) => x % 8 === 0);
  if (near >= a && near < b) {
    const local = scan(Math.max(a, near - (4 << 20)), Math.min(b, near + (16 << 20)));
    if (local.length > 0) return local;
  }
  return scan(a, b);
}
