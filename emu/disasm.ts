/**
 * Instruction text for fault reports and traces, from capstone (WASM). It
 * loads on first use (~50 ms); calls are ~4 us, so it is for reports, never
 * for the execution path.
 *
 * The module itself (331 KB of JavaScript) is loaded on first use too, and
 * through require: an ESM import of a CommonJS module makes Node scan its
 * whole source for export names (cjs-module-lexer) at start-up, which cost
 * `faultline run` ~40 ms of a ~180 ms start even when nothing disassembles.
 */
import type capstoneFactory from "@alexaltea/capstone-js";
import { createRequire } from "node:module";
import { PAGE_SIZE, PTE_P, type Mm } from "../mm/index.js";

/** One x86-64 capstone handle. */
export type Capstone = InstanceType<Awaited<ReturnType<typeof capstoneFactory>>["Capstone"]>;
/** The host process's disassembler once asked for (stateless after creation, so one is shared). */
let engine: Promise<Capstone> | undefined;

/**
 * The x86-64 disassembler, loaded and instantiated on the first call.
 * @returns a promise of the handle; it rejects when capstone cannot be loaded
 */
export function x86Disassembler(): Promise<Capstone> {
  engine ??= Promise.resolve().then(() => {
    const factory = createRequire(import.meta.url)("@alexaltea/capstone-js") as typeof capstoneFactory;
    return factory().then((cs) => new cs.Capstone(cs.ARCH_X86, cs.MODE_64));
  });
  return engine;
}

/** Up to 15 bytes at `rip` from pages that are present now (no faults are taken). */
function codeBytes(mm: Mm, rip: number): number[] {
  const out: number[] = [];
  for (let va = rip; va < rip + 15; va++) {
    const i = mm.pt.leaf(va - (va % PAGE_SIZE), false);
    if (i < 0 || (mm.pt.lo(i) & PTE_P) === 0) break;
    out.push(mm.bytes(va, 1)[0]);
  }
  return out;
}

/** The first bytes of `bytes` as "0f ff 06", for a report. */
function hexBytes(bytes: number[]): string {
  return bytes.slice(0, 4).map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * The instruction at `rip` as "mov qword ptr [8], rax", or a short reason
 * when its bytes are not in memory, do not decode (capstone's cs_disasm
 * fails on them: "(undecodable: 06 ...)"), or the disassembler cannot be
 * loaded. Never throws: a fault report must not be lost to its decoration.
 */
export async function instructionAt(mm: Mm, rip: number): Promise<string> {
  const bytes = codeBytes(mm, rip);
  if (bytes.length === 0) return "(no code mapped there)";
  let cs: Capstone;
  try {
    cs = await x86Disassembler();
  } catch {
    return `(disassembler unavailable: ${hexBytes(bytes)})`;
  }
  let insn: { mnemonic: string; op_str: string } | undefined;
  try {
    [insn] = cs.disasm(bytes, rip);
  } catch {
    insn = undefined; // capstone-js throws when cs_disasm decodes nothing
  }
  if (!insn) return `(undecodable: ${hexBytes(bytes)})`;
  return `${insn.mnemonic} ${insn.op_str}`.trim();
}
