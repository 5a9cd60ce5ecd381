/**
 * The guest in ring 3, in-process on whichever engine is loaded (CI runs
 * this file on 2.1.4, on Debian's 2.0.1 and without the CPU view): Linux's
 * selectors (__USER_CS 0x33, __USER_DS 0x2b, asm/segment.h), the privileged
 * instructions' #GP at CPL 3 (Intel SDM vol. 2), the descriptor tables out
 * of the guest's reach although the CPU reads them through the same page
 * tables (a supervisor page: a user access is a #PF, SDM vol. 3 4.6), and
 * what must still work at CPL 3: syscall, int3, #UD, FS base. The native
 * comparisons of the same behaviour are in signal-faults.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { ExitStatus } from "../emu/process.js";
import { exitWith, loadGuest } from "./support/guest.js";

/** Linux's selectors and GDT limit (asm/segment.h: GDT_ENTRIES 16). */
const USER_CS = 0x33, USER_DS = 0x2b, GDT_LIMIT = 16 * 8 - 1;

/** What a snippet must end with. */
type Want = { exit: number } | { signo: number; detail?: RegExp; access?: string };

const cases: { name: string; asm: string; want: Want }[] = [
  { name: "cs is __USER_CS", asm: `mov ax, cs\nmovzx eax, ax\n${exitWith()}`, want: { exit: USER_CS } },
  { name: "ss is __USER_DS", asm: `mov ax, ss\nmovzx eax, ax\n${exitWith()}`, want: { exit: USER_DS } },
  { name: "ds is null", asm: `mov ax, ds\nmovzx eax, ax\n${exitWith()}`, want: { exit: 0 } },
  { name: "CPL (cs RPL) is 3", asm: `mov ax, cs\nand eax, 3\n${exitWith()}`, want: { exit: 3 } },
  { name: "loading 0x2b into ds reads its descriptor (through the page tables) and works", asm: `mov eax, 0x2b\nmov ds, ax\nmov ax, ds\nmovzx eax, ax\n${exitWith()}`, want: { exit: USER_DS } },
  { name: "lsl of __USER_CS: the flat limit", asm: `mov eax, 0x33\nlsl ecx, eax\nsetz al\nmovzx eax, al\ncmp ecx, -1\nsete cl\nadd al, cl\n${exitWith()}`, want: { exit: 2 } },
  { name: "loading __KERNEL_DS (DPL 0) into ds: #GP", asm: `mov eax, 0x18\nmov ds, ax\n${exitWith()}`, want: { signo: 11, detail: /general protection/ } },
  { name: "cli: #GP", asm: `cli\n${exitWith()}`, want: { signo: 11, detail: /general protection/ } },
  { name: "hlt: #GP, not a stop", asm: `hlt\n${exitWith()}`, want: { signo: 11, detail: /general protection/ } },
  { name: "mov cr3, rax: #GP", asm: `xor eax, eax\nmov cr3, rax\n${exitWith()}`, want: { signo: 11, detail: /general protection/ } },
  { name: "wrmsr: #GP", asm: `mov ecx, 0xc0000080\nxor eax, eax\nxor edx, edx\nwrmsr\n${exitWith()}`, want: { signo: 11, detail: /general protection/ } },
  { name: "lgdt: #GP", asm: `lgdt [rsp]\n${exitWith()}`, want: { signo: 11, detail: /general protection/ } },
  { name: "int 0x41 through a DPL-0 gate: #GP", asm: `int 0x41\n${exitWith()}`, want: { signo: 11, detail: /general protection/ } },
  { name: "syscall still reaches the system-call layer", asm: `mov edi, 7\nmov eax, 231\nsyscall\n`, want: { exit: 7 } },
  { name: "int3 is still SIGTRAP", asm: `int3\n${exitWith()}`, want: { signo: 5 } },
  { name: "ud2 is still SIGILL", asm: `ud2\n${exitWith()}`, want: { signo: 4 } },
  {
    name: "arch_prctl(ARCH_SET_FS) still sets the FS base",
    asm: `lea rsi, [rsp - 256]\nmov qword ptr [rsi], 0x5a\nmov edi, 0x1002\nmov eax, 158\nsyscall\nmov rax, fs:[0]\n${exitWith()}`,
    want: { exit: 0x5a },
  },
];

/** The status as text, for messages. */
function show(s: ExitStatus): string {
  return s.kind === "exited" ? `exit ${s.code}` : `signal ${s.signo} (${s.detail}) at 0x${s.rip.toString(16)}`;
}

describe("guest in ring 3", () => {
  it.each(cases)("$name", ({ asm, want }) => {
    const g = loadGuest(asm);
    try {
      const s = g.run();
      if ("exit" in want) {
        expect(s.kind === "exited" && s.code, `got ${show(s)}, want exit ${want.exit}`).toBe(want.exit);
      } else {
        expect(s.kind === "signaled" && s.signo, `got ${show(s)}, want signal ${want.signo}`).toBe(want.signo);
        if (want.detail && s.kind === "signaled") expect(s.detail, `got ${show(s)}`).toMatch(want.detail);
      }
    } finally {
      g.proc.destroy();
    }
  });

  // sgdt is not privileged (no UMIP): the guest learns where the GDT is, writes GDTR's 10 bytes to
  // stdout, then touches the GDT. Its page is supervisor-only: the access must fault, not succeed.
  it.each([
    { access: "read", insn: "mov rax, [rbx]" },
    { access: "write", insn: "mov qword ptr [rbx], 0" },
  ])("the GDT is out of the guest's reach: a $access of it is SIGSEGV at its address", ({ access, insn }) => {
    const g = loadGuest(`
      sub rsp, 64
      sgdt [rsp]
      mov rbx, [rsp + 2]
      mov edi, 1
      mov rsi, rsp
      mov edx, 10
      mov eax, 1
      syscall
      ${insn}
      ${exitWith("0")}`);
    try {
      const s = g.run();
      const gdtr = Buffer.from(g.stdout);
      expect(gdtr.length, "sgdt's 10 bytes on stdout").toBe(10);
      const limit = gdtr.readUInt16LE(0), base = Number(gdtr.readBigUInt64LE(2));
      expect(limit, `GDT limit: got ${limit}, want ${GDT_LIMIT}`).toBe(GDT_LIMIT);
      expect(s.kind === "signaled" && s.signo, `got ${show(s)}, want SIGSEGV`).toBe(11);
      if (s.kind !== "signaled") return;
      expect(s.addr, `fault address: got 0x${s.addr?.toString(16)}, want the GDT base 0x${base.toString(16)}`).toBe(base);
      expect(s.access, `got ${s.access}`).toBe(access);
    } finally {
      g.proc.destroy();
    }
  });
});
