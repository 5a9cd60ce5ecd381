/**
 * A small x86-64 instruction decoder for user-space probes, in the spirit of
 * Linux's `arch/x86/lib/insn.c`: it finds an instruction's length and the
 * parts a probe engine needs to copy and fix it up out of line (prefixes,
 * REX, opcode, ModRM, SIB, displacement, immediate, RIP-relative addressing).
 * It knows nothing of mnemonics or operand semantics beyond that.
 *
 * - {@link decodeInsn}: bytes to {@link Insn} (synchronous, pure TypeScript).
 * - {@link classifyInsn}: the few instruction classes a probe engine treats
 *   specially (NOPs, push, direct and indirect branches, returns, traps).
 * - {@link condTaken}: whether a Jcc condition holds for an EFLAGS value.
 *
 * Only 64-bit mode is decoded. Capstone (emu/disasm.ts) is the tool for
 * instruction *text*; its x86 detail output is unusable (see
 * /work/shared/FIELD-NOTES.md), which is why this decoder exists. Lengths and
 * RIP-relative targets are checked against binutils' `objdump -d` over real
 * binaries in test/kprobes-insn.test.ts.
 */
import { FaultlineError } from "../lib/errors.js";

/** The architectural limit on the length of one x86 instruction, in bytes. */
export const MAX_INSN_LENGTH = 15;

/**
 * The bytes do not form an instruction this decoder accepts: an opcode that
 * is invalid in 64-bit mode, input that ends inside the instruction, or an
 * instruction longer than {@link MAX_INSN_LENGTH} bytes. `code` is always
 * `"EDECODE"`.
 */
export class DecodeError extends FaultlineError {
  /** Address of the instruction that failed to decode. */
  readonly addr: number;
  /** Byte offset, from `addr`, at which decoding failed. */
  readonly offset: number;

  /**
   * @param addr address of the instruction being decoded
   * @param offset offset of the offending byte inside it
   * @param why one human-readable line
   */
  constructor(addr: number, offset: number, why: string) {
    super("EDECODE", `cannot decode instruction at 0x${addr.toString(16)} (+${offset}): ${why}`);
    this.addr = addr;
    this.offset = offset;
  }
}

/**
 * One decoded x86-64 instruction. Its bytes are, in order: `prefixes`, the
 * REX byte (when `rex` is not 0) or the VEX/EVEX/XOP prefix (`vexPrefix`),
 * the opcode bytes actually present, ModRM, SIB, displacement, immediate.
 */
export interface Insn {
  /** Address the instruction was decoded at (as given to {@link decodeInsn}). */
  addr: number;
  /** Length in bytes, 1 to 15. */
  length: number;
  /**
   * Legacy prefix bytes in encoding order (66, 67, F0, F2, F3, 2E, 36, 3E,
   * 26, 64, 65). A REX byte that is followed by another prefix has no effect
   * on the CPU; such a byte is listed here too, never in `rex`.
   */
  prefixes: number[];
  /** The effective REX prefix (0x40-0x4F), or 0 when there is none. */
  rex: number;
  /**
   * The opcode, with its map's escape bytes: `[op]` for the one-byte map,
   * `[0x0F, op]`, `[0x0F, 0x38, op]`, `[0x0F, 0x3A, op]`. For 3DNow!
   * (`0F 0F`) it is `[0x0F, 0x0F]` and the opcode suffix byte is the
   * immediate. For VEX/EVEX/XOP instructions the escape bytes of maps 1-3
   * are implied by the prefix and listed here anyway (`C5 F8 77` gives
   * `[0x0F, 0x77]`); EVEX maps 5-6 and XOP maps 8-10 give just `[op]` (the
   * map is in `vexPrefix`).
   */
  opcode: number[];
  /** The ModRM byte, or null when the instruction has none. */
  modrm: number | null;
  /** The SIB byte, or null when the instruction has none. */
  sib: number | null;
  /**
   * The displacement as a signed number: from ModRM/SIB addressing, or the
   * absolute address of `A0`-`A3` (`mov` with a memory offset, 8 bytes in
   * 64-bit mode, 4 with a 67 prefix). 8-byte offsets are exact for values
   * within +/-2^53 (every user-space and kernel address is). For EVEX
   * instructions with a one-byte displacement this is the encoded value,
   * which the CPU scales by the operand's size (disp8*N); 4-byte
   * displacements, including every RIP-relative one, are not scaled.
   */
  disp: number;
  /** Size of the displacement in bytes (0 when there is none). */
  dispSize: 0 | 1 | 2 | 4 | 8;
  /** Offset of the displacement from the instruction's first byte, or -1 when there is none. */
  dispOffset: number;
  /**
   * The immediate as a signed two's-complement integer of `immSize` bytes,
   * little-endian: for relative branches this is the displacement from the
   * next instruction. Two immediates (`enter imm16, imm8`, `extrq`/`insertq`
   * `imm8, imm8`) are read as one little-endian integer of their summed
   * size. The immediate is always the last `immSize` bytes of the
   * instruction. 0n when there is none.
   */
  imm: bigint;
  /** Size of the immediate in bytes (0 when there is none). */
  immSize: 0 | 1 | 2 | 3 | 4 | 8;
  /**
   * The memory operand is RIP-relative: ModRM mod=00, rm=101, no SIB
   * (64-bit mode). Its address is `addr + length + disp` (truncated to 32
   * bits when a 67 prefix makes it EIP-relative).
   */
  ripRelative: boolean;
  /**
   * The instruction has a VEX (C4/C5), EVEX (62) or XOP (8F) prefix. These
   * are decoded for length and RIP-relative addressing only;
   * {@link classifyInsn} returns `{ kind: "other" }` for them, and a probe
   * engine that cannot execute them out of line should refuse them.
   */
  vex: boolean;
  /** The VEX/EVEX/XOP prefix bytes (2, 3 or 4 of them), empty when `vex` is false. */
  vexPrefix: number[];
  /** A copy of the instruction's `length` bytes. */
  bytes: Uint8Array;
}

// ---------------------------------------------------------------------------
// Opcode attribute tables (64-bit mode)
// ---------------------------------------------------------------------------

/** Attribute bits of one opcode. */
const M = 1 << 0; // has a ModRM byte
const X = 1 << 1; // invalid in 64-bit mode
const IB = 1 << 2; // imm8 (or rel8 for branches)
const IW = 1 << 3; // imm16
const IZ = 1 << 4; // imm16 with operand size 16, else imm32 (also rel16/rel32)
const IV = 1 << 5; // imm16/32/64 by operand size (B8-BF only)
const MOFFS = 1 << 6; // memory offset of address size (A0-A3)
const PFX = 1 << 7; // legacy prefix or REX: never reaches the table lookup

/** Builds a 256-entry table from [first, last, flags] ranges (later ranges win). */
function table(ranges: Array<[number, number, number]>): Uint8Array {
  const t = new Uint8Array(256);
  for (const [lo, hi, f] of ranges) t.fill(f, lo, hi + 1);
  return t;
}

/**
 * The one-byte opcode map (Intel SDM vol. 2, table A-2). Opcodes with
 * special handling in {@link decodeInsn} (0F, C4, C5, 62, 8F, F6, F7) are
 * marked only with what they have in common.
 */
const ONE_BYTE = table([
  [0x00, 0xff, 0],
  // ALU rows: op r/m,r (00-03), op al,imm8 (04), op eax,imm32 (05).
  ...[0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38].flatMap((b): Array<[number, number, number]> => [
    [b, b + 3, M], [b + 4, b + 4, IB], [b + 5, b + 5, IZ],
  ]),
  [0x06, 0x07, X], [0x0e, 0x0e, X], [0x16, 0x17, X], [0x1e, 0x1f, X], // push/pop es, cs, ss, ds
  [0x27, 0x27, X], [0x2f, 0x2f, X], [0x37, 0x37, X], [0x3f, 0x3f, X], // daa das aaa aas
  [0x26, 0x26, PFX], [0x2e, 0x2e, PFX], [0x36, 0x36, PFX], [0x3e, 0x3e, PFX],
  [0x40, 0x4f, PFX], // REX
  [0x60, 0x61, X], // pusha, popa
  [0x63, 0x63, M], // movsxd
  [0x64, 0x67, PFX],
  [0x68, 0x68, IZ], [0x69, 0x69, M | IZ], [0x6a, 0x6a, IB], [0x6b, 0x6b, M | IB],
  [0x70, 0x7f, IB], // jcc rel8
  [0x80, 0x80, M | IB], [0x81, 0x81, M | IZ], [0x82, 0x82, X], [0x83, 0x83, M | IB],
  [0x84, 0x8f, M], // test, xchg, mov, lea, mov sreg, pop r/m (8F: or XOP)
  [0x9a, 0x9a, X], // far call ptr16:32
  [0xa0, 0xa3, MOFFS], [0xa8, 0xa8, IB], [0xa9, 0xa9, IZ],
  [0xb0, 0xb7, IB], [0xb8, 0xbf, IV],
  [0xc0, 0xc1, M | IB], [0xc2, 0xc2, IW], [0xc6, 0xc6, M | IB], [0xc7, 0xc7, M | IZ],
  [0xc8, 0xc8, IW | IB], // enter imm16, imm8
  [0xca, 0xca, IW], [0xcd, 0xcd, IB], [0xce, 0xce, X], // retf imm16, int imm8, into
  [0xd0, 0xd3, M], [0xd4, 0xd6, X], [0xd8, 0xdf, M], // shifts, aam/aad/salc, x87
  [0xe0, 0xe7, IB], // loop*, jrcxz rel8; in/out imm8
  [0xe8, 0xe9, IZ], [0xea, 0xea, X], [0xeb, 0xeb, IB], // call/jmp rel32, jmp far, jmp rel8
  [0xf0, 0xf0, PFX], [0xf2, 0xf3, PFX],
  [0xf6, 0xf7, M], [0xfe, 0xff, M],
]);

/** The two-byte map, after 0F (Intel SDM vol. 2, table A-3). */
const TWO_BYTE = table([
  [0x00, 0xff, M],
  [0x04, 0x04, X], [0x05, 0x0b, 0], [0x0a, 0x0a, X], [0x0c, 0x0c, X], [0x0e, 0x0e, 0],
  [0x0f, 0x0f, M | IB], // 3DNow!: the opcode suffix follows the operand
  [0x24, 0x27, X], // mov to/from test registers
  [0x30, 0x37, 0], [0x36, 0x36, X], [0x39, 0x39, X], [0x3b, 0x3f, X],
  [0x70, 0x73, M | IB], [0x77, 0x77, 0], [0x7a, 0x7b, X],
  [0x80, 0x8f, IZ], // jcc rel32
  [0xa0, 0xa2, 0], [0xa4, 0xa4, M | IB], [0xa6, 0xa7, X], [0xa8, 0xaa, 0], [0xac, 0xac, M | IB],
  [0xba, 0xba, M | IB], [0xc2, 0xc2, M | IB], [0xc4, 0xc6, M | IB], [0xc8, 0xcf, 0],
]);

/** Legacy prefixes (not REX). */
const LEGACY_PREFIXES = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65]);

/** Sign-extends the low `bytes * 8` bits of `v`. */
function signed(v: bigint, bytes: number): bigint {
  return BigInt.asIntN(bytes * 8, v);
}

/**
 * Decodes the x86-64 (64-bit mode) instruction at the start of `bytes`.
 *
 * `bytes` may hold more than the instruction (pass up to 15 bytes from the
 * code); only what the instruction needs is read. Immediate and displacement
 * sizes follow the operand- and address-size prefixes and REX.W, including
 * the special cases (F6/F7 `test` with an immediate, `A0`-`A3` 8-byte memory
 * offsets, `B8`-`BF` with REX.W and imm64, `enter`, 3DNow!, `extrq`/
 * `insertq`). A 66 prefix gives near `call`/`jmp`/`jcc` (and `xbegin`) a
 * rel16, as AMD CPUs, QEMU (hence Unicorn) and objdump decode them; Intel
 * CPUs ignore it.
 *
 * VEX, EVEX and XOP instructions are decoded for their length, ModRM,
 * displacement and RIP-relative addressing; see {@link Insn.vex}.
 *
 * @param bytes the code, starting at the instruction
 * @param addr the instruction's address (used for messages and by {@link classifyInsn})
 * @returns the decoded instruction
 * @throws DecodeError (`EDECODE`) for opcodes invalid in 64-bit mode, input
 *   that ends inside the instruction, and instructions over 15 bytes
 */
export function decodeInsn(bytes: Uint8Array, addr: number): Insn {
  let pos = 0;
  const fail = (why: string, at = pos): never => {
    throw new DecodeError(addr, at, why);
  };
  const next = (): number => {
    if (pos >= MAX_INSN_LENGTH) fail(`longer than ${MAX_INSN_LENGTH} bytes`);
    if (pos >= bytes.length) fail(`truncated: input ends after ${bytes.length} byte(s)`);
    return bytes[pos++];
  };
  const peek = (): number | undefined => (pos < bytes.length ? bytes[pos] : undefined);
  /** Reads `n` bytes little-endian as an unsigned bigint. */
  const readLE = (n: number): bigint => {
    let v = 0n;
    for (let i = 0; i < n; i++) v |= BigInt(next()) << BigInt(8 * i);
    return v;
  };

  // Legacy prefixes and REX. A REX byte counts only when the opcode follows it.
  const prefixes: number[] = [];
  let rex = 0;
  let b = next();
  for (;;) {
    if (LEGACY_PREFIXES.has(b)) {
      if (rex) { prefixes.push(rex); rex = 0; }
      prefixes.push(b);
    } else if ((b & 0xf0) === 0x40) {
      if (rex) prefixes.push(rex);
      rex = b;
    } else {
      break;
    }
    b = next();
  }
  const has = (p: number): boolean => prefixes.includes(p);
  const rexW = (rex & 0x08) !== 0;
  const opSize = rexW ? 8 : has(0x66) ? 2 : 4;
  const addrSize = has(0x67) ? 4 : 8;

  let opcode: number[];
  let attr: number;
  let vex = false;
  let vexPrefix: number[] = [];
  /** The ModRM byte always names registers (mov to/from cr/dr): mod is ignored, no SIB or displacement. */
  let forceRegModrm = false;

  const isVexStart = b === 0xc4 || b === 0xc5 || b === 0x62 || (b === 0x8f && ((peek() ?? 0) & 0x1f) >= 8);
  if (isVexStart) {
    // VEX (C4 3-byte, C5 2-byte), EVEX (62, 4-byte), XOP (8F, 3-byte).
    const at = pos - 1;
    if (rex || has(0x66) || has(0xf2) || has(0xf3) || has(0xf0)) {
      fail(`REX, 66, F0, F2 or F3 before a ${b === 0x62 ? "EVEX" : b === 0x8f ? "XOP" : "VEX"} prefix is #UD`, at);
    }
    vex = true;
    let map: number;
    if (b === 0xc5) {
      vexPrefix = [b, next()];
      map = 1;
    } else if (b === 0x62) {
      vexPrefix = [b, next(), next(), next()];
      map = vexPrefix[1] & 0x07;
      if ((vexPrefix[1] & 0x08) !== 0 || (vexPrefix[2] & 0x04) === 0) fail("malformed EVEX prefix (reserved bits)", at);
      if (![1, 2, 3, 5, 6].includes(map)) fail(`EVEX opcode map ${map} is reserved`, at);
    } else {
      vexPrefix = [b, next(), next()];
      map = vexPrefix[1] & 0x1f;
      if (b === 0xc4 && (map < 1 || map > 3)) fail(`VEX opcode map ${map} is reserved`, at);
      if (b === 0x8f && map > 10) fail(`XOP opcode map ${map} is reserved`, at);
    }
    const op = next();
    opcode = map === 1 ? [0x0f, op] : map === 2 ? [0x0f, 0x38, op] : map === 3 ? [0x0f, 0x3a, op] : [op];
    attr = M;
    if (map === 1 && op === 0x77) attr = 0; // vzeroupper / vzeroall
    else if (map === 1 && ((op >= 0x70 && op <= 0x73) || op === 0xc2 || (op >= 0xc4 && op <= 0xc6))) attr |= IB;
    else if (map === 3 || map === 8) attr |= IB;
    else if (map === 10) attr |= IZ; // XOP map 0A: imm32 (bextr, lwpins, lwpval)
  } else if (b === 0x0f) {
    const b2 = next();
    if (b2 === 0x38) {
      opcode = [0x0f, 0x38, next()];
      attr = M;
    } else if (b2 === 0x3a) {
      opcode = [0x0f, 0x3a, next()];
      attr = M | IB;
    } else {
      opcode = [0x0f, b2];
      attr = TWO_BYTE[b2];
      if (b2 === 0x78 && (has(0x66) || has(0xf2))) attr = M | IW; // extrq / insertq imm8, imm8
      if (b2 >= 0x20 && b2 <= 0x23) forceRegModrm = true; // mov cr/dr: mod is ignored
    }
  } else {
    opcode = [b];
    attr = ONE_BYTE[b];
  }
  if (attr & X) fail(`opcode ${opcode.map(hex).join(" ")} is invalid in 64-bit mode`, pos - 1);

  // ModRM, SIB, displacement.
  let modrm: number | null = null;
  let sib: number | null = null;
  let disp = 0;
  let dispSize: Insn["dispSize"] = 0;
  let dispOffset = -1;
  let ripRelative = false;
  if (attr & M) {
    modrm = next();
    const mod = modrm >> 6;
    const rm = modrm & 7;
    const reg = (modrm >> 3) & 7;
    if (!vex && opcode.length === 1) {
      const op = opcode[0];
      if (op === 0xf6 && reg <= 1) attr |= IB; // test r/m8, imm8
      if (op === 0xf7 && reg <= 1) attr |= IZ; // test r/m, imm32
      if (op === 0xfe && reg >= 2) fail(`FE /${reg} is invalid`, pos - 1);
      if (op === 0xff && (reg === 7 || (mod === 3 && (reg === 3 || reg === 5)))) fail(`FF /${reg} with mod=${mod} is invalid`, pos - 1);
      if (op === 0x8f && reg !== 0) fail(`8F /${reg} is invalid`, pos - 1);
    }
    if (mod !== 3 && !forceRegModrm) {
      let size = mod === 1 ? 1 : mod === 2 ? 4 : 0;
      if (rm === 4) {
        sib = next();
        if (mod === 0 && (sib & 7) === 5) size = 4;
      } else if (mod === 0 && rm === 5) {
        size = 4;
        ripRelative = true;
      }
      if (size) {
        dispOffset = pos;
        dispSize = size as 1 | 4;
        disp = Number(signed(readLE(size), size));
      }
    }
  } else if (attr & MOFFS) {
    dispOffset = pos;
    dispSize = addrSize as 4 | 8;
    disp = Number(signed(readLE(addrSize), addrSize));
  }

  // Immediate.
  let immSize = 0;
  if (attr & IB) immSize += 1;
  if (attr & IW) immSize += 2;
  if (attr & IZ) immSize += opSize === 2 ? 2 : 4;
  if (attr & IV) immSize += opSize;
  const imm = immSize ? signed(readLE(immSize), immSize) : 0n;

  const length = pos;
  return {
    addr,
    length,
    prefixes,
    rex,
    opcode,
    modrm,
    sib,
    disp,
    dispSize,
    dispOffset,
    imm,
    immSize: immSize as Insn["immSize"],
    ripRelative,
    vex,
    vexPrefix,
    bytes: bytes.slice(0, length),
  };
}

/** Two lowercase hex digits. */
function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

// ---------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------

/**
 * What a probe engine needs to know about an instruction before it copies
 * it out of line or emulates it. Registers are numbered as in ModRM/REX:
 * 0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8-15 r8-r15.
 * Targets are absolute: `addr + length + rel`. Every instruction whose
 * effect depends on its own address is one of `jmp`, `call`, `jcc`, `loop`,
 * `xbegin`, or has `ripRelative` set on its {@link Insn}; `other` covers the
 * rest (and VEX/EVEX/XOP instructions, whatever they are).
 */
export type InsnClass =
  /** No architectural effect beyond RIP: `90` (without REX.B), `66 90`, `F3 90` (pause), `0F 1F /0`. */
  | { kind: "nop" }
  /** `push reg` (50-57, REX.B for r8-r15), 64-bit only: a 66-prefixed push is "other". */
  | { kind: "push"; reg: number }
  /** Direct `jmp` (EB rel8, E9 rel32). */
  | { kind: "jmp"; target: number }
  /** Direct `call` (E8 rel32). `next` is the return address pushed. */
  | { kind: "call"; target: number; next: number }
  /** Conditional jump (70-7F rel8, 0F 80-8F rel32). `cond` is the low nibble; see {@link condTaken}. */
  | { kind: "jcc"; cond: number; target: number }
  /**
   * `loopne`, `loope`, `loop` (decrement rcx) and `jrcxz` (E0-E3 rel8); with
   * a 67 prefix they use ecx (`jrcxz` is then `jecxz`). Added beyond the
   * Linux-style basics because executing them out of line would branch
   * relative to the wrong address.
   */
  | { kind: "loop"; op: "loopne" | "loope" | "loop" | "jrcxz"; target: number }
  /** `xbegin rel32` (C7 F8): `target` is the abort handler. */
  | { kind: "xbegin"; target: number }
  /** Near return: C3 (`pop` 0) or C2 imm16 (`pop` = bytes released after the return address). */
  | { kind: "ret"; pop: number }
  /**
   * Indirect `call`/`jmp` through FF /2 /3 /4 /5. `far` for /3 and /5.
   * `reg` is the register operand (mod=11), else null. `slot` is the
   * address of the memory operand when it is RIP-relative, else null.
   */
  | { kind: "indirect"; op: "call" | "jmp"; far: boolean; reg: number | null; slot: number | null }
  /** `syscall` (0F 05). */
  | { kind: "syscall" }
  /** `int3` (CC). */
  | { kind: "int3" }
  /**
   * Software interrupt: `int imm8` (CD), `into` (CE, vector 4; invalid in
   * 64-bit mode, so {@link decodeInsn} never yields it), `int1` (F1, vector 1).
   */
  | { kind: "int"; vector: number }
  /** Anything else. */
  | { kind: "other" };

/**
 * Classifies a decoded instruction for a probe engine (see {@link InsnClass}).
 *
 * Branch targets are `insn.addr + insn.length + rel` as JavaScript numbers
 * (exact below 2^53). A 66 prefix on a near `jmp`/`call`/`jcc`/`xbegin`
 * makes the target wrap to 16 bits, as on AMD CPUs and in QEMU/Unicorn.
 *
 * @param insn an instruction from {@link decodeInsn}
 * @returns its class
 */
export function classifyInsn(insn: Insn): InsnClass {
  if (insn.vex) return { kind: "other" };
  const { opcode, prefixes, rex, modrm } = insn;
  const has = (p: number): boolean => prefixes.includes(p);
  const next = insn.addr + insn.length;
  const rel = Number(insn.imm);
  const target = has(0x66) ? (next + rel) & 0xffff : next + rel;
  const op = opcode[0];

  if (opcode.length === 1) {
    if (op === 0x90 && !(rex & 0x01) && !has(0xf0)) return { kind: "nop" };
    if (op >= 0x50 && op <= 0x57) {
      return has(0x66) ? { kind: "other" } : { kind: "push", reg: (op & 7) | ((rex & 0x01) << 3) };
    }
    if (op === 0xeb || op === 0xe9) return { kind: "jmp", target };
    if (op === 0xe8) return { kind: "call", target, next };
    if (op >= 0x70 && op <= 0x7f) return { kind: "jcc", cond: op & 0x0f, target };
    if (op >= 0xe0 && op <= 0xe3) {
      const ops = ["loopne", "loope", "loop", "jrcxz"] as const;
      return { kind: "loop", op: ops[op - 0xe0], target: next + rel };
    }
    if (op === 0xc7 && modrm === 0xf8) return { kind: "xbegin", target };
    if ((op === 0xc3 || op === 0xc2) && !has(0x66)) {
      return { kind: "ret", pop: op === 0xc2 ? Number(insn.imm & 0xffffn) : 0 };
    }
    if (op === 0xff && modrm !== null) {
      const reg = (modrm >> 3) & 7;
      if (reg >= 2 && reg <= 5) {
        const mod = modrm >> 6;
        let slot: number | null = null;
        if (insn.ripRelative) {
          slot = insn.addr + insn.length + insn.disp;
          if (has(0x67)) slot = slot % 2 ** 32;
        }
        return {
          kind: "indirect",
          op: reg <= 3 ? "call" : "jmp",
          far: reg === 3 || reg === 5,
          reg: mod === 3 ? (modrm & 7) | ((rex & 0x01) << 3) : null,
          slot,
        };
      }
    }
    if (op === 0xcc) return { kind: "int3" };
    if (op === 0xcd) return { kind: "int", vector: Number(insn.imm & 0xffn) };
    if (op === 0xce) return { kind: "int", vector: 4 };
    if (op === 0xf1) return { kind: "int", vector: 1 };
    return { kind: "other" };
  }
  if (opcode.length === 2 && op === 0x0f) {
    const op2 = opcode[1];
    if (op2 === 0x1f && modrm !== null && ((modrm >> 3) & 7) === 0 && !has(0xf0)) return { kind: "nop" };
    if (op2 >= 0x80 && op2 <= 0x8f) return { kind: "jcc", cond: op2 & 0x0f, target };
    if (op2 === 0x05) return { kind: "syscall" };
  }
  return { kind: "other" };
}

// ---------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------

/** EFLAGS bits read by the condition codes. */
const CF = 1 << 0, PF = 1 << 2, ZF = 1 << 6, SF = 1 << 7, OF = 1 << 11;

/**
 * Whether the x86 condition `cond` holds for `eflags`, as `jcc`, `setcc`
 * and `cmovcc` evaluate it. Conditions, by number: 0 O, 1 NO, 2 B/C/NAE,
 * 3 AE/NB/NC, 4 E/Z, 5 NE/NZ, 6 BE/NA, 7 A/NBE, 8 S, 9 NS, 10 P/PE,
 * 11 NP/PO, 12 L/NGE, 13 GE/NL, 14 LE/NG, 15 G/NLE. Odd conditions are the
 * negation of the even one below them.
 *
 * @param cond condition number, 0-15 (only the low 4 bits are used)
 * @param eflags the flags: CF bit 0, PF bit 2, ZF bit 6, SF bit 7, OF bit 11
 * @returns true when the condition holds (the jump is taken)
 */
export function condTaken(cond: number, eflags: number): boolean {
  const cf = (eflags & CF) !== 0;
  const pf = (eflags & PF) !== 0;
  const zf = (eflags & ZF) !== 0;
  const sf = (eflags & SF) !== 0;
  const of = (eflags & OF) !== 0;
  let r: boolean;
  switch ((cond >> 1) & 7) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf !== of; break;
    default: r = zf || sf !== of; break;
  }
  return (cond & 1) !== 0 ? !r : r;
}
