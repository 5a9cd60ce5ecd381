/**
 * Instruction text for fault reports and traces, from capstone (WASM). It
 * loads on first use (~50 ms); calls are ~4 us, so it is for reports, never
 * for the execution path.
 */
import capstoneFactory from "@alexaltea/capstone-js";
import { PAGE_SIZE, PTE_P, type Mm } from "../mm/index.js";

type Capstone = InstanceType<Awaited<ReturnType<typeof capstoneFactory>>["Capstone"]>;
let engine: Promise<Capstone> | undefined;

function capstone(): Promise<Capstone> {
  engine ??= capstoneFactory().then((cs) => new cs.Capstone(cs.ARCH_X86, cs.MODE_64));
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
    cs = await capstone();
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
