/**
 * The x86-64 part of the probes engine, behind four functions as in Linux's
 * arch/x86/kernel/uprobes.c: analyzeInsn (what can be probed, and how),
 * emulate (the instructions run without stepping), preXol (the copy placed
 * in the slot and the registers it needs), postXol (the fix-ups after the
 * single step).
 *
 * Emulated, as Linux does: every NOP form, push of a register, jmp rel8/32,
 * call rel32, jcc. Everything else is single-stepped out of line. A
 * RIP-relative operand is rewritten to go through a scratch register loaded
 * with the original RIP of the next instruction (Linux's riprel approach).
 */
import { Reg, SEGV_ACCERR, SEGV_MAPERR, SIG, type Process } from "../emu/index.js";
import { ErrnoError, GuestSignal } from "../lib/errors.js";
import { PAGE_SIZE, PTE_P, PTE_W, copyFromUser, copyToUser } from "../mm/index.js";
import { ProbeError } from "./errors.js";
import { condTaken, type Insn, type InsnClass } from "./insn.js";

/** Registers by x86 encoding number 0-15, as Unicorn ids. */
export const GPR = [Reg.RAX, Reg.RCX, Reg.RDX, Reg.RBX, Reg.RSP, Reg.RBP, Reg.RSI, Reg.RDI,
  Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15] as const;

/** EFLAGS.TF. */
export const TF = 0x100;

/** How the trap path runs the original instruction. */
export type Plan =
  | { readonly kind: "emulate" }
  | {
    readonly kind: "step";
    /** The instruction as placed in the slot (RIP-relative operand rewritten). */
    readonly bytes: Uint8Array;
    /** x86 number of the scratch register standing in for RIP, or -1. */
    readonly scratch: number;
    /** Post-step fix-ups. */
    readonly fixCall: boolean;
    readonly fixPushf: boolean;
    readonly fixSyscall: boolean;
  };

/** Opcode bytes of `insn` after prefixes, as one number for matching (e.g. 0x0f05). */
function op(insn: Insn): number {
  return insn.opcode.reduce((a, b) => a * 256 + b, 0);
}

/**
 * Decides whether and how the instruction can be probed (cf.
 * arch_uprobe_analyze_insn).
 * @throws ProbeError ENOTPROBEABLE naming the instruction class and why
 */
export function analyzeInsn(insn: Insn, cls: InsnClass, text: string): Plan {
  const refuse = (why: string): never => {
    throw new ProbeError("ENOTPROBEABLE", `cannot probe "${text}": ${why}`);
  };
  switch (cls.kind) {
    case "int3": return refuse("it is a breakpoint itself");
    case "int": return refuse("software interrupts (int n, into, int1) are not stepped");
    case "nop": case "push": case "jmp": case "call": case "jcc": return { kind: "emulate" };
    default: break;
  }
  const o = op(insn);
  if (o >= 0xe0 && o <= 0xe3) refuse("loop/jrcxz branch relative to RIP with an 8-bit reach, which a copy elsewhere cannot keep");
  if (o === 0xc7 && insn.modrm === 0xf8) refuse("xbegin: a transaction cannot be stepped out of line");
  if (insn.ripRelative && insn.vex) refuse("RIP-relative VEX/EVEX instruction (its register fields are inverted in the prefix)");
  let bytes: Uint8Array = insn.bytes.slice(0, insn.length);
  let scratch = -1;
  if (insn.ripRelative) ({ bytes, scratch } = rewriteRipRelative(insn, text));
  const isCallIndirect = cls.kind === "indirect" && insn.modrm !== null && ((insn.modrm >> 3) & 7) === 2;
  return { kind: "step", bytes, scratch, fixCall: isCallIndirect, fixPushf: o === 0x9c, fixSyscall: o === 0x0f05 };
}

/**
 * Rewrites ModRM mod=00 rm=101 ([rip+disp32]) to mod=10 rm=scratch
 * ([scratch+disp32]), choosing a scratch register the instruction does not
 * use (cf. riprel_analyze). REX.B is cleared so the register is one of the
 * first eight.
 */
function rewriteRipRelative(insn: Insn, text: string): { bytes: Uint8Array; scratch: number } {
  const bytes = insn.bytes.slice(0, insn.length);
  const modrmAt = insn.dispOffset - 1;
  const reg = ((insn.modrm ?? 0) >> 3) & 7 | (insn.rex & 4 ? 8 : 0);
  // rsi, rdi, rbx first: no instruction with a ModRM memory operand uses them implicitly
  // (rax: mul/div/cmpxchg; rcx: shift counts; rdx: mul/div), and none may appear in the operands.
  const words = new Set(text.toLowerCase().split(/[^a-z0-9]+/));
  const scratch = [6, 7, 3, 1, 2, 0].find((r) => r !== reg && !REG_ALIASES[r].some((n) => words.has(n)));
  if (scratch === undefined) throw new ProbeError("ENOTPROBEABLE", `cannot probe "${text}": no free scratch register for its RIP-relative operand`);
  bytes[modrmAt] = (0b10 << 6) | (((insn.modrm ?? 0) >> 3) & 7) << 3 | scratch;
  const rexAt = insn.prefixes.length; // REX, when present, immediately precedes the opcode
  if (insn.rex && bytes[rexAt] === insn.rex) bytes[rexAt] = insn.rex & ~1;
  return { bytes, scratch };
}

/** Every name of registers 0-7 (64, 32, 16 and 8-bit). */
const REG_ALIASES = [
  ["rax", "eax", "ax", "al", "ah"], ["rcx", "ecx", "cx", "cl", "ch"], ["rdx", "edx", "dx", "dl", "dh"], ["rbx", "ebx", "bx", "bl", "bh"],
  ["rsp", "esp", "sp", "spl"], ["rbp", "ebp", "bp", "bpl"], ["rsi", "esi", "si", "sil"], ["rdi", "edi", "di", "dil"],
];

/** Whether the page of `va` has a present PTE (writable too, when `write`) now. */
function present(p: Process, va: number, write: boolean): boolean {
  const i = p.mm.pt.leaf(va - (va & (PAGE_SIZE - 1)), false); // & not %: see PageTable.leaf
  if (i < 0) return false;
  const lo = p.mm.pt.lo(i);
  return (lo & PTE_P) !== 0 && (!write || (lo & PTE_W) !== 0);
}

/**
 * The 8 bytes at `va` as a view of host memory, when they lie in one page
 * whose PTE is present (and writable, for a write) now; else null, and the
 * caller goes through the fault path.
 */
function direct(p: Process, va: number, write: boolean): DataView | null {
  const off = va % PAGE_SIZE;
  if (off > PAGE_SIZE - 8) return null;
  const i = p.mm.pt.leaf(va - off, false);
  if (i < 0) return null;
  const lo = p.mm.pt.lo(i);
  if ((lo & PTE_P) === 0 || (write && (lo & PTE_W) === 0)) return null;
  const b = p.mm.bytes(va, 8);
  return new DataView(b.buffer, b.byteOffset, 8);
}

/**
 * The host words of the aligned qword at `va` (an aligned qword never
 * crosses a page), when its PTE is present (and writable, for a write) now;
 * else null. The result is reused by the next call: use it at once.
 */
function qwordAt(p: Process, va: number, write: boolean): { arr: Uint32Array; at: number } | null {
  return (va & 7) === 0 && present(p, va, write) ? p.mm.mem.words(va) : null;
}

/** Reads 8 bytes of guest memory as a number (exact below 2^53). */
function peek64(p: Process, va: number): number {
  const w = qwordAt(p, va, false);
  if (w) return w.arr[w.at] + w.arr[w.at + 1] * 0x100000000;
  const d = direct(p, va, false) ?? new DataView(copyFromUser(p.mm, va, 8).buffer);
  return d.getUint32(0, true) + d.getUint32(4, true) * 0x100000000;
}

/**
 * Writes 8 bytes (low and high halves) to guest memory, as the guest's own
 * store would: through the fault path when the page is not writable now.
 * @throws GuestSignal SIGSEGV when the address is not writable at all (what
 *   the CPU would have raised executing the original instruction at `rip`)
 */
function store64(p: Process, va: number, lo: number, hi: number, rip: number): void {
  const w = qwordAt(p, va, true);
  if (w) {
    w.arr[w.at] = lo;
    w.arr[w.at + 1] = hi;
    return;
  }
  const d = direct(p, va, true);
  if (d) {
    d.setUint32(0, lo, true);
    d.setUint32(4, hi, true);
    return;
  }
  const buf = new DataView(new ArrayBuffer(8));
  buf.setUint32(0, lo, true);
  buf.setUint32(4, hi, true);
  try {
    copyToUser(p.mm, va, new Uint8Array(buf.buffer));
  } catch (e) {
    if (!(e instanceof ErrnoError && e.code === "EFAULT")) throw e;
    // As the CPU's own store would fault (cf. do_user_addr_fault -> bad_area / bad_area_access_error).
    if (p.mm.vmas.find(va)) throw new GuestSignal("SIGSEGV", SIG.SIGSEGV, rip, "write", va, "SEGV_ACCERR: not writable", SEGV_ACCERR);
    throw new GuestSignal("SIGSEGV", SIG.SIGSEGV, rip, "write", va, "SEGV_MAPERR: no mapping", SEGV_MAPERR);
  }
}

/** Writes a number (exact below 2^53) or bigint as 8 bytes of guest memory. */
export function poke64(p: Process, va: number, value: number | bigint, rip = 0): void {
  if (typeof value === "number" && value >= 0) {
    store64(p, va, value >>> 0, Math.floor(value / 0x100000000), rip);
    return;
  }
  const v = BigInt.asUintN(64, BigInt(value));
  store64(p, va, Number(v & 0xffffffffn), Number(v >> 32n), rip);
}

/**
 * Replaces the guest's return address at [rsp] by `value` (cf.
 * arch_uretprobe_hijack_return_addr), with one page-table lookup when the
 * slot is aligned and writable now, else as peek64 then poke64.
 * Precondition: 0 <= value < 2^53.
 * @returns `out`, holding RSP and the address that was there (exact below 2^53)
 * @throws GuestSignal SIGSEGV as poke64 when the stack is not writable (nothing replaced)
 */
export function exchangeStackTop(p: Process, value: number, out: { rsp: number; old: number }): { rsp: number; old: number } {
  const rsp = p.engine.gpr(RSP);
  const w = qwordAt(p, rsp, true);
  if (w) {
    const old = w.arr[w.at] + w.arr[w.at + 1] * 0x100000000;
    w.arr[w.at] = value >>> 0;
    w.arr[w.at + 1] = Math.floor(value / 0x100000000);
    out.rsp = rsp;
    out.old = old;
    return out;
  }
  const old = peek64(p, rsp);
  poke64(p, rsp, value);
  out.rsp = rsp;
  out.old = old;
  return out;
}

/** x86 number of RSP. */
const RSP = 4;

/**
 * Runs an emulated instruction at `addr` (cf. branch_emulate_op,
 * push_emulate_op): registers and memory as the CPU would leave them, RIP
 * at the next instruction or the branch target.
 */
export function emulate(p: Process, insn: Insn, cls: InsnClass, addr: number): void {
  const e = p.engine;
  const next = addr + insn.length;
  const delta = addr - insn.addr; // targets were computed at the file's link address
  switch (cls.kind) {
    case "nop":
      if (insn.length !== 1) e.setRip(next); // after int3, RIP is addr + 1 already
      return;
    case "push": {
      const rsp = e.gpr(RSP) - 8;
      const halves = e.gprHalves(cls.reg);
      store64(p, rsp, halves[0], halves[1], addr);
      e.setGpr(RSP, rsp);
      e.setRip(next);
      return;
    }
    case "jmp":
      e.setRip(cls.target + delta);
      return;
    case "call": {
      const rsp = e.gpr(RSP) - 8;
      store64(p, rsp, next >>> 0, Math.floor(next / 0x100000000), addr);
      e.setGpr(RSP, rsp);
      e.setRip(cls.target + delta);
      return;
    }
    case "jcc":
      e.setRip(condTaken(cls.cond, e.readReg(Reg.EFLAGS)) ? cls.target + delta : next);
      return;
    default:
      throw new ProbeError("EINVAL", `not an emulated instruction: ${cls.kind}`);
  }
}

/** What preXol saved, for postXol. */
export interface XolSave {
  /** The scratch register's guest value, when one stands in for RIP. */
  scratchValue: bigint;
  /** Whether the guest itself had TF set. */
  guestTf: boolean;
}

/**
 * Prepares the single step of the copy at `slot` (cf. arch_uprobe_pre_xol):
 * loads the scratch register, sets TF, points RIP at the slot.
 */
export function preXol(p: Process, plan: Plan & { kind: "step" }, addr: number, length: number, slot: number): XolSave {
  const e = p.engine;
  let scratchValue = 0n;
  if (plan.scratch >= 0) {
    scratchValue = e.readRegBig(GPR[plan.scratch]);
    e.writeReg(GPR[plan.scratch], addr + length); // what RIP would be after the original
  }
  if (e.cpu) {
    const guestTf = e.cpu.trapFlag;
    e.cpu.trapFlag = true;
    e.cpu.rip = slot;
    return { scratchValue, guestTf };
  }
  const flags = e.readReg(Reg.EFLAGS);
  e.writeRegs(FLAGS_RIP, [flags | TF, slot]);
  return { scratchValue, guestTf: (flags & TF) !== 0 };
}

const FLAGS_RIP = new Int32Array([Reg.EFLAGS, Reg.RIP]);
const RIP_FLAGS_RSP = new Int32Array([Reg.RIP, Reg.EFLAGS, Reg.RSP]);
const regs3: number[] = [0, 0, 0];

/**
 * Puts the world back after the step (cf. arch_uprobe_post_xol): RIP from
 * the slot to the original's next instruction (branches keep their target),
 * a call's pushed return address, pushf's TF, syscall's RCX/R11, the scratch
 * register, and TF as the guest had it.
 */
export function postXol(p: Process, plan: Plan & { kind: "step" }, save: XolSave, addr: number, length: number, slot: number): void {
  const e = p.engine;
  const next = addr + length, slotNext = slot + plan.bytes.length;
  if (e.cpu && !plan.fixCall && !plan.fixPushf && !plan.fixSyscall && plan.scratch < 0) {
    // The common case, without engine calls.
    const rip = e.cpu.rip;
    e.cpu.trapFlag = save.guestTf;
    if (rip === slotNext) e.cpu.rip = next;
    return;
  }
  e.readRegs(RIP_FLAGS_RSP, regs3);
  const [rip, flags, rsp] = regs3;
  if (plan.fixCall) poke64(p, rsp, next);
  if (plan.fixPushf && !save.guestTf) poke64(p, rsp, peek64(p, rsp) & ~TF);
  if (plan.fixSyscall) {
    if (e.readReg(Reg.RCX) === slotNext) e.writeReg(Reg.RCX, next);
    if (!save.guestTf) e.writeReg(Reg.R11, e.readReg(Reg.R11) & ~TF);
  }
  if (plan.scratch >= 0) e.writeReg(GPR[plan.scratch], save.scratchValue);
  // Fell through: back to the original's next instruction; a branch keeps its (absolute) target.
  e.writeRegs(FLAGS_RIP, [save.guestTf ? flags | TF : flags & ~TF, rip === slotNext ? next : rip]);
}

/**
 * Ends the step of a copied `syscall` from inside the system-call hook, the
 * call having completed (the #DB that would follow is not needed): RIP at
 * the original instruction, so the engine's "+2 after the hook" lands on the
 * original's next instruction (and the RCX the hook then writes is that
 * address), and TF as the guest had it (so R11 does not carry ours, and no
 * #DB arrives unless the guest was stepping itself). A call that replaced
 * every register (rt_sigreturn) leaves nothing to fix.
 * Precondition: in the syscall hook, before RAX/RCX/R11 are written back.
 */
export function endSyscallXol(p: Process, save: XolSave, addr: number, replaced: boolean): void {
  if (replaced) return;
  const e = p.engine;
  const flags = e.readReg(Reg.EFLAGS);
  e.writeRegs(FLAGS_RIP, [save.guestTf ? flags | TF : flags & ~TF, addr]);
}

/**
 * Abandons a step of the copy that faulted (cf. arch_uprobe_abort_xol): RIP
 * back at the original instruction, the scratch register and TF as the guest
 * had them, so the fault is reported at, and a handler returns to, the
 * probed address (where the breakpoint is hit again).
 */
export function abortXol(p: Process, plan: Plan & { kind: "step" }, save: XolSave, addr: number): void {
  const e = p.engine;
  if (plan.scratch >= 0) e.writeReg(GPR[plan.scratch], save.scratchValue);
  const flags = e.readReg(Reg.EFLAGS);
  e.writeRegs(FLAGS_RIP, [save.guestTf ? flags | TF : flags & ~TF, addr]);
}
