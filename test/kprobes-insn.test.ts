/**
 * kprobes/insn.ts: the x86-64 length/ModRM decoder, the probe classifier and
 * the condition evaluator.
 *
 * Ground truth is binutils: `objdump -d -w -z` over real binaries (busybox,
 * ls, libc, and a C program built here with gcc -O2, -O2 -mavx2 and
 * -O3 -mavx512f, which also carries a hand-written block of awkward
 * encodings). For every instruction objdump decodes (its `(bad)` entries are
 * skipped), decodeInsn must give objdump's byte count; RIP-relative
 * instructions must say so and reach the address objdump computes; the rest
 * must not be RIP-relative; and direct branches, returns, syscalls, int3
 * and push must classify as objdump names them, with the same targets.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultlineError } from "../lib/errors.js";
import { classifyInsn, condTaken, decodeInsn, DecodeError, type Insn, type InsnClass } from "../kprobes/insn.js";
import { prng } from "./support/prng.js";

const hexBytes = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((h) => parseInt(h, 16)));
const dec = (s: string, addr = 0x1000): Insn => decodeInsn(hexBytes(s), addr);

// ---------------------------------------------------------------------------
// objdump ground truth
// ---------------------------------------------------------------------------

/** One instruction as objdump printed it, with the code bytes that follow it. */
interface Listed {
  addr: number;
  len: number;
  text: string;
  /** Up to 16 bytes of code from `addr` (the instruction and what follows it in its section). */
  code: Uint8Array;
}

/** Every instruction of `file`'s code sections, from `objdump -d -w -z`. */
function objdump(file: string): Listed[] {
  const out = execFileSync("objdump", ["-d", "-w", "-z", file], { encoding: "utf8", maxBuffer: 1 << 30 });
  const line = /^\s*([0-9a-f]+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*) *(?:\t(.*))?$/;
  const insns: Listed[] = [];
  // Runs of contiguous bytes: an instruction's input is its run from its address on.
  let run: number[] = [];
  let runStart = 0;
  let runInsns: Array<{ addr: number; len: number; text: string }> = [];
  const flush = (): void => {
    const bytes = Uint8Array.from(run);
    for (const i of runInsns) {
      const off = i.addr - runStart;
      insns.push({ ...i, code: bytes.subarray(off, Math.min(off + 16, bytes.length)) });
    }
    run = [];
    runInsns = [];
  };
  for (const l of out.split("\n")) {
    if (l.startsWith("Disassembly of section")) { flush(); continue; }
    const m = line.exec(l);
    if (!m) continue;
    const addr = parseInt(m[1], 16);
    const bytes = m[2].split(" ").map((h) => parseInt(h, 16));
    if (run.length === 0 || addr !== runStart + run.length) { flush(); runStart = addr; }
    run.push(...bytes);
    runInsns.push({ addr, len: bytes.length, text: (m[3] ?? "").trim() });
  }
  flush();
  return insns;
}

/** Prefix words objdump prints before a mnemonic. */
const PREFIX_WORDS = new Set([
  "bnd", "notrack", "cs", "ds", "ss", "es", "fs", "gs", "data16", "addr32", "lock", "rep", "repz", "repnz", "repe", "repne",
  "xacquire", "xrelease", "rex", "rex.W", "rex.B", "rex.R", "rex.X", "rex.WB", "rex.WR", "rex.WX", "rex.RB", "rex.XB",
  "rex.WRB", "rex.WXB", "rex.RXB", "rex.WRX", "rex.WRXB", "{evex}", "{vex}", "{vex3}",
]);

/** objdump's mnemonic (without prefix words) and its operand text. */
function mnemonic(text: string): { mn: string; ops: string } {
  const words = text.replace(/\s+#.*$/, "").split(/\s+/);
  let i = 0;
  while (i < words.length - 1 && PREFIX_WORDS.has(words[i])) i++;
  return { mn: words[i] ?? "", ops: words.slice(i + 1).join(" ") };
}

/** The target of a direct branch as objdump prints it, or null when `text` is not one. */
function directTarget(text: string): number | null {
  const { mn, ops } = mnemonic(text);
  if (!/^(call|jmp|j[a-z]{1,3}|loop[a-z]*|jrcxz|jecxz|xbegin)[wq]?$/.test(mn)) return null;
  const m = /^(?:0x)?([0-9a-f]+)(?: <[^>]*>)?$/.exec(ops);
  return m ? parseInt(m[1], 16) : null;
}

const REG64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];

/** What one binary's check found. */
interface Report {
  checked: number;
  ripRelative: number;
  branches: number;
  vex: number;
  skippedBad: number;
  mismatches: string[];
}

/** Checks decodeInsn and classifyInsn against objdump for `insns`. */
function check(insns: Listed[]): Report {
  const r: Report = { checked: 0, ripRelative: 0, branches: 0, vex: 0, skippedBad: 0, mismatches: [] };
  const bad = (i: Listed, why: string): void => {
    if (r.mismatches.length < 50) r.mismatches.push(`0x${i.addr.toString(16)}: ${why} [${i.text}]`);
    else r.mismatches.length++;
  };
  for (const i of insns) {
    if (i.text.includes("(bad)")) { r.skippedBad++; continue; }
    r.checked++;
    let insn: Insn;
    try {
      insn = decodeInsn(i.code, i.addr);
    } catch (e) {
      bad(i, `threw ${(e as Error).message}`);
      continue;
    }
    if (insn.length !== i.len) { bad(i, `length ${insn.length}, objdump ${i.len}`); continue; }
    if (insn.vex) r.vex++;
    // RIP-relative operands: objdump prints `disp(%rip)` and `# target`.
    const rip = /\(%[re]ip\)/.test(i.text);
    if (rip !== insn.ripRelative) { bad(i, `ripRelative ${insn.ripRelative}`); continue; }
    if (rip) {
      r.ripRelative++;
      const m = /#\s+(?:0x)?([0-9a-f]+)/.exec(i.text);
      let ours = insn.addr + insn.length + insn.disp;
      if (i.text.includes("(%eip)")) ours = ours % 2 ** 32;
      if (!m) bad(i, "objdump printed no RIP-relative target");
      else if (parseInt(m[1], 16) !== ours) bad(i, `RIP target 0x${ours.toString(16)}`);
    }
    // Classification against objdump's own reading.
    const c = classifyInsn(insn);
    const { mn, ops } = mnemonic(i.text);
    const target = directTarget(i.text);
    const ourTarget = "target" in c ? c.target : null;
    if (target !== null || ourTarget !== null) {
      r.branches++;
      if (target !== ourTarget) bad(i, `classified ${JSON.stringify(c)}`);
    }
    const expectKind = (kind: InsnClass["kind"], when: boolean): void => {
      if (when !== (c.kind === kind)) bad(i, `classified ${JSON.stringify(c)}, expected ${when ? "" : "not "}${kind}`);
    };
    expectKind("ret", mn === "ret");
    expectKind("syscall", mn === "syscall");
    expectKind("int3", mn === "int3");
    expectKind("push", mn === "push" && /^%r/.test(ops));
    if (c.kind === "push" && ops !== `%${REG64[c.reg]}`) bad(i, `push reg ${c.reg}`);
    if (c.kind === "nop" && !/^(nop[wlq]?|pause|xchg %ax,%ax)$/.test(mn === "xchg" ? `${mn} ${ops}` : mn)) bad(i, "classified nop");
  }
  return r;
}


/** The C program built at test time: ordinary code plus a block of awkward encodings. */
const C_SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double table[64];
static float va[1024], vb[1024], vc[1024];
int counter;
volatile long sink;

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

__attribute__((noinline)) int classify(int c) {
  switch (c) {
    case 0: return 11; case 1: return 23; case 2: return 37; case 3: return 41;
    case 4: return 53; case 5: return 67; case 6: return 71; case 7: return 89;
    default: return -1;
  }
}

__attribute__((noinline)) void saxpy(float a, int n) {
  for (int i = 0; i < n; i++) vc[i] = a * va[i] + vb[i];
}

__attribute__((noinline)) long mix(long x, unsigned char s) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdL; x ^= (long)s << 7; x = (x << 13) | ((unsigned long)x >> 51);
  return x / 7 + x % 1000003;
}

int main(int argc, char **argv) {
  int v[32];
  for (int i = 0; i < 32; i++) v[i] = (i * 7919) % 101 - argc;
  qsort(v, 32, sizeof v[0], cmp);
  for (int i = 0; i < 64; i++) table[i] = i * 1.5 + argc;
  saxpy(2.0f, 1024);
  char buf[128];
  snprintf(buf, sizeof buf, "%s %d %f", argc > 1 ? argv[1] : "x", classify(argc), table[argc & 63]);
  sink = mix((long)strlen(buf), (unsigned char)v[3]);
  counter += v[0] + (int)vc[5];
  printf("%s %ld %d\n", buf, sink, counter);
  return 0;
}

/* Never called: encodings compilers rarely emit, for objdump to judge. */
__asm__(
  ".text\n.globl edge_cases\n.type edge_cases,@function\nedge_cases:\n"
  "enter $0x10, $1\n"
  "movabs 0x1122334455667788, %al\n"
  "movabs 0x1122334455667788, %rax\n"
  "movabs %eax, 0x1122334455667788\n"
  ".byte 0x67, 0xa1, 0x78, 0x56, 0x34, 0x12\n"            /* addr32 mov moffs32, %eax */
  "movabs $0x1122334455667788, %r11\n"
  "mov $0x1234, %ax\n"
  "mov $0x12345678, %r8d\n"
  "testb $0x5, 0x100(%rip)\n"
  "testl $0x12345, 0x100(%rip)\n"
  "testw $0x1234, 0x100(%rip)\n"
  "testq $-2, 0x100(%rip)\n"
  "notl 0x100(%rip)\n"
  "negb 0x100(%rip)\n"
  "idivq 0x100(%rip)\n"
  "movw $0x1234, 0x200(%rip)\n"
  "movq $-1, 0x200(%rip)\n"
  "movb $7, 0x200(%rip)\n"
  "cmpb $0, 0x10(%rip)\n"
  "addw $0x1234, 0x10(%rip)\n"
  "subq $0x12345678, 0x10(%rip)\n"
  "imul $0x1234, 0x10(%rip), %ecx\n"
  "imul $3, 0x10(%rip), %cx\n"
  "shlq $3, 0x10(%rip)\n"
  "rorw $5, 0x10(%rip)\n"
  "btsl $3, 0x10(%rip)\n"
  "push $0x12345678\n"
  "push $12\n"
  "pushw $0x1234\n"
  "pushq 0x10(%rip)\n"
  "popq 0x10(%rip)\n"
  "shld $3, %eax, 0x10(%rip)\n"
  "shrd $3, %rax, 0x10(%rip)\n"
  "pshufd $0x1b, 0x10(%rip), %xmm0\n"
  "pshufw $0x1b, 0x10(%rip), %mm0\n"
  "psrlq $3, %xmm1\n"
  "cmpps $1, 0x10(%rip), %xmm0\n"
  "pinsrw $2, 0x10(%rip), %xmm0\n"
  "shufps $1, 0x10(%rip), %xmm0\n"
  "roundss $1, 0x10(%rip), %xmm1\n"
  "pextrd $1, %xmm1, 0x10(%rip)\n"
  "pshufb 0x10(%rip), %xmm2\n"
  "crc32b 0x10(%rip), %eax\n"
  "movbe 0x10(%rip), %rax\n"
  "pi2fd 0x10(%rip), %mm0\n"
  "pfadd %mm1, %mm0\n"
  "femms\n"
  "extrq $1, $2, %xmm0\n"
  "insertq $1, $2, %xmm1, %xmm0\n"
  "vpshufd $0x1b, 0x10(%rip), %ymm0\n"
  "vpermq $0x1b, 0x10(%rip), %ymm0\n"
  "vpshufb 0x10(%rip), %ymm1, %ymm2\n"
  "vblendvps %ymm3, 0x20(%rip), %ymm1, %ymm2\n"
  "vfmadd231ps 0x20(%rip), %ymm1, %ymm12\n"
  "vpgatherdd %ymm0, 0x10(,%ymm1,4), %ymm2\n"
  "vcmpps $3, 0x20(%rip), %ymm1, %ymm2\n"
  "kmovw %k1, %eax\n"
  "vzeroupper\n"
  "vzeroall\n"
  "vpternlogd $0xff, 0x40(%rip), %zmm1, %zmm2\n"
  "vmovdqu64 0x40(%rip), %zmm3\n"
  "vmovdqu64 0x40(%rax), %zmm3\n"
  "vmovdqu64 0x12340(%rax,%rbx,8), %zmm30{%k1}{z}\n"
  "vaddps (%rax){1to16}, %zmm1, %zmm2\n"
  "vaddph 0x40(%rip), %zmm1, %zmm2\n"
  "vfmadd132ph 0x40(%rip), %zmm1, %zmm2\n"
  "vprotb $3, 0x10(%rip), %xmm1\n"
  "vfrczps 0x10(%rip), %xmm1\n"
  "bextr $0x1234, 0x10(%rip), %eax\n"
  "xbegin 1f\n"
  "xabort $3\n"
  "1: loop 1b\n"
  "loope 1b\n"
  "loopne 1b\n"
  "jrcxz 1b\n"
  "jecxz 1b\n"
  "jmp 1b\n"
  "jmp.d32 1b\n"
  "jne.d32 1b\n"
  "jo 1b\n"
  ".byte 0x66, 0xe9, 0x00, 0x00\n"                       /* jmpw rel16 */
  ".byte 0x66, 0x0f, 0x84, 0x10, 0x00\n"                 /* jew rel16 */
  "jmp *0x10(%rip)\n"
  "call *0x10(%rip)\n"
  "notrack jmp *%rax\n"
  "call *%r11\n"
  "ljmp *(%rax)\n"
  "lcall *0x10(%rip)\n"
  "bnd ret\n"
  "repz ret\n"
  "ret $16\n"
  "lretq $8\n"
  "lretq\n"
  "iretq\n"
  "int $0x80\n"
  "int1\n"
  "int3\n"
  "ud2\n"
  "ud1 0x10(%rip), %eax\n"
  "syscall\n"
  "sysenter\n"
  "movslq (%rax), %rdx\n"
  "lock cmpxchg %rcx, 0x10(%rip)\n"
  "xacquire lock incl 0x10(%rip)\n"
  "mov %fs:0x28, %rax\n"
  "mov 0x10(,%rax,8), %rdx\n"
  "mov 0x10(%rbp), %rax\n"
  "mov (%r13), %rax\n"
  "mov (%r12), %rax\n"
  "mov 0x7fffffff(%r12,%r13,2), %r14\n"
  "addr32 mov 0x10(%eip), %eax\n"
  "addr32 lea 0x10(%eax,%ebx,4), %ecx\n"
  "mov %cr0, %rax\n"
  "mov %dr7, %rcx\n"
  "mov %es, %eax\n"
  "rdrand %eax\n"
  "rdtscp\n"
  "xgetbv\n"
  "sgdt 0x10(%rip)\n"
  "fldt 0x10(%rip)\n"
  "fistpll 0x10(%rip)\n"
  "fxch %st(3)\n"
  "prefetchw 0x10(%rip)\n"
  "prefetcht0 0x10(%rip)\n"
  "clflush 0x10(%rip)\n"
  "in $0x60, %al\n"
  "out %al, $0x80\n"
  "xlat\n"
  "cpuid\n"
  "rdtsc\n"
  "cmc\n"
  "hlt\n"
  "xchg %r8, %rax\n"
  "xchg %ax, %ax\n"
  "nop\n"
  "pause\n"
  "nopw 0x0(%rax,%rax,1)\n"
  ".byte 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0\n" /* data16 cs nopw 0x0(%rax,%rax,1) */
  "nopl 0x10(%rip)\n"
  "endbr64\n"
  "push %r12\n"
  "push %rbp\n"
  "pushw %ax\n"
  "pop %r15\n"
  "rep movsb\n"
  "rep stosq\n"
  "repne scasb\n"
  "cqto\n"
  "ret\n"
);
`;

describe("decodeInsn against objdump on real binaries", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-insn-"));
  const reports: Array<[string, Report]> = [];
  afterAll(() => {
    fs.rmSync(work, { recursive: true, force: true });
    for (const [name, r] of reports) {
      console.log(`${name}: ${r.checked} checked (${r.ripRelative} RIP-relative, ${r.branches} direct branches, ${r.vex} VEX/EVEX/XOP, ${r.skippedBad} (bad) skipped), ${r.mismatches.length} mismatches`);
    }
  });

  /** Runs the check and asserts no mismatches (listing the first few). */
  const expectClean = (name: string, insns: Listed[]): Report => {
    const r = check(insns);
    reports.push([name, r]);
    expect(r.checked).toBeGreaterThan(0);
    expect(r.mismatches.slice(0, 20), `${r.mismatches.length} mismatches`).toEqual([]);
    return r;
  };

  const needed = ["/bin/busybox", "/bin/ls", "/lib/x86_64-linux-gnu/libc.so.6"];
  const haveObjdump = spawnSync("objdump", ["--version"]).status === 0;

  it.runIf(haveObjdump && fs.existsSync(needed[0]))("/bin/busybox (static, stripped): every instruction", () => {
    expect(expectClean("busybox", objdump(needed[0])).checked).toBeGreaterThan(100_000);
  });

  it.runIf(haveObjdump && fs.existsSync(needed[1]))("/bin/ls (dynamic): every instruction", () => {
    expect(expectClean("ls", objdump(needed[1])).checked).toBeGreaterThan(10_000);
  });

  // FAULTLINE_INSN_FULL=1 checks every libc instruction (~340,000) instead of a sample.
  const full = process.env.FAULTLINE_INSN_FULL === "1";
  it.runIf(haveObjdump && fs.existsSync(needed[2]))(`libc.so.6: ${full ? "every instruction" : "the first 20000 and a seeded random 20000 instructions"}`, () => {
    const all = objdump(needed[2]);
    if (full) {
      expect(expectClean("libc.so.6 (all)", all).checked).toBeGreaterThan(300_000);
      return;
    }
    const rand = prng(0x5eed);
    const picked = new Set<number>();
    for (let i = 0; i < Math.min(20_000, all.length); i++) picked.add(i);
    while (picked.size < Math.min(40_000, all.length)) picked.add(Math.floor(rand() * all.length));
    const r = expectClean("libc.so.6 (sample)", [...picked].sort((a, b) => a - b).map((i) => all[i]));
    expect(r.checked).toBeGreaterThan(39_000);
    expect(r.vex).toBeGreaterThan(0);
  });

  const builds: Array<[string, string[]]> = [
    ["gcc -O2", ["-O2"]],
    ["gcc -O2 -mavx2", ["-O2", "-mavx2", "-mfma"]],
    ["gcc -O3 -mavx512f", ["-O3", "-mavx512f", "-mavx512bw"]],
  ];
  const haveGcc = spawnSync("gcc", ["--version"]).status === 0;
  for (const [name, flags] of builds) {
    it.runIf(haveObjdump && haveGcc)(`C program built with ${name}, with the awkward-encodings block`, () => {
      const src = path.join(work, "prog.c");
      fs.writeFileSync(src, C_SOURCE);
      const exe = path.join(work, `prog${flags.join("")}`);
      execFileSync("gcc", [...flags, "-o", exe, src], { stdio: "pipe" });
      const insns = objdump(exe);
      const r = expectClean(`C ${name}`, insns);
      // The hand-written block is all there and all checked.
      const edge = insns.filter((i) => i.text.startsWith("xbegin") || i.text.startsWith("vaddph") || i.text.startsWith("bextr"));
      expect(edge.length).toBe(3);
      if (flags.includes("-mavx2") || flags.includes("-mavx512f")) expect(r.vex).toBeGreaterThan(30);
      expect(r.ripRelative).toBeGreaterThan(50);
    });
  }
});

// ---------------------------------------------------------------------------
// Hand-written cases
// ---------------------------------------------------------------------------

describe("decodeInsn fields", () => {
  it("splits prefixes, REX, opcode, ModRM, SIB, displacement and immediate", () => {
    // lock cmpxchg %rcx, 0x10(%rip) -> f0 48 0f b1 0d 10 00 00 00
    let i = dec("f0 48 0f b1 0d 10 00 00 00");
    expect(i).toMatchObject({ length: 9, prefixes: [0xf0], rex: 0x48, opcode: [0x0f, 0xb1], modrm: 0x0d, sib: null });
    expect(i).toMatchObject({ disp: 0x10, dispSize: 4, dispOffset: 5, immSize: 0, imm: 0n, ripRelative: true, vex: false });
    expect([...i.bytes]).toEqual([0xf0, 0x48, 0x0f, 0xb1, 0x0d, 0x10, 0, 0, 0]);

    // mov 0x7fffffff(%r12,%r13,2), %r14 -> 4f 8b b4 6c ff ff ff 7f
    i = dec("4f 8b b4 6c ff ff ff 7f");
    expect(i).toMatchObject({ length: 8, rex: 0x4f, opcode: [0x8b], modrm: 0xb4, sib: 0x6c, disp: 0x7fffffff, dispSize: 4, dispOffset: 4, ripRelative: false });

    // mov -0x8(%rbp), %rax: disp8, signed
    i = dec("48 8b 45 f8");
    expect(i).toMatchObject({ length: 4, disp: -8, dispSize: 1, dispOffset: 3, ripRelative: false });

    // mov 0x10(,%rax,8), %rdx: SIB with no base, mod=00 -> disp32, not RIP-relative
    i = dec("48 8b 14 c5 10 00 00 00");
    expect(i).toMatchObject({ length: 8, sib: 0xc5, disp: 0x10, dispSize: 4, ripRelative: false });

    // mov %fs:0x28, %rax: segment prefix, SIB absolute
    i = dec("64 48 8b 04 25 28 00 00 00");
    expect(i).toMatchObject({ length: 9, prefixes: [0x64], ripRelative: false, disp: 0x28 });

    // testw $0x1234, 0x100(%rip): 66 shrinks F7's immediate to 2 bytes
    i = dec("66 f7 05 00 01 00 00 34 12");
    expect(i).toMatchObject({ length: 9, immSize: 2, imm: 0x1234n, ripRelative: true, dispOffset: 3 });
    // testq $-2: REX.W keeps it imm32, sign-extended
    i = dec("48 f7 05 00 01 00 00 fe ff ff ff");
    expect(i).toMatchObject({ length: 11, immSize: 4, imm: -2n });
    // notl 0x100(%rip): F7 /2 has no immediate
    expect(dec("f7 15 00 01 00 00").length).toBe(6);
    // testb $5, (%rax): F6 /0 imm8; F6 /3 (neg) none
    expect(dec("f6 00 05").immSize).toBe(1);
    expect(dec("f6 18").immSize).toBe(0);
  });

  it("handles the immediate special cases", () => {
    expect(dec("48 b8 01 02 03 04 05 06 07 08")).toMatchObject({ length: 10, immSize: 8, imm: 0x0807060504030201n });
    expect(dec("b8 01 02 03 04")).toMatchObject({ length: 5, immSize: 4 });
    expect(dec("66 b8 34 12")).toMatchObject({ length: 4, immSize: 2, imm: 0x1234n });
    expect(dec("66 48 b8 01 02 03 04 05 06 07 08")).toMatchObject({ length: 11, immSize: 8 }); // REX.W wins over 66
    expect(dec("c8 10 00 01")).toMatchObject({ length: 4, immSize: 3, imm: 0x010010n }); // enter $0x10, $1
    expect(dec("c2 10 00")).toMatchObject({ length: 3, immSize: 2, imm: 16n });
    expect(dec("e8 fb ff ff ff")).toMatchObject({ length: 5, immSize: 4, imm: -5n });
    expect(dec("66 e8 00 00")).toMatchObject({ length: 4, immSize: 2 }); // rel16, as objdump/AMD/QEMU
    expect(dec("0f 84 00 01 00 00").length).toBe(6);
    expect(dec("e3 fe").length).toBe(2);
    expect(dec("c7 f8 00 00 00 00").length).toBe(6); // xbegin rel32
    expect(dec("66 0f 78 c0 01 02")).toMatchObject({ length: 6, immSize: 2 }); // extrq $1, $2
    expect(dec("0f 78 c0")).toMatchObject({ length: 3, immSize: 0 }); // vmread
    // 3DNow!: 0F 0F modrm [sib] [disp] suffix
    expect(dec("0f 0f 05 10 00 00 00 0d")).toMatchObject({ length: 8, opcode: [0x0f, 0x0f], immSize: 1, imm: 0x0dn, ripRelative: true, dispOffset: 3 });
  });

  it("reads moffs as an address-sized displacement (8 bytes, 4 with 67)", () => {
    const i = dec("a1 88 77 66 55 44 33 22 11");
    expect(i).toMatchObject({ length: 9, modrm: null, dispSize: 8, dispOffset: 1, disp: 0x1122334455667788, ripRelative: false });
    expect(dec("48 a3 00 00 60 ff ff ff ff ff")).toMatchObject({ length: 10, disp: -0xa00000 });
    expect(dec("67 a1 78 56 34 12")).toMatchObject({ length: 6, dispSize: 4, disp: 0x12345678 });
  });

  it("decodes VEX, EVEX and XOP lengths and RIP-relative operands", () => {
    expect(dec("c5 f8 77")).toMatchObject({ length: 3, vex: true, vexPrefix: [0xc5, 0xf8], opcode: [0x0f, 0x77], modrm: null });
    // vpshufb 0x10(%rip),%ymm1,%ymm2 -> c4 e2 75 00 15 10 00 00 00
    expect(dec("c4 e2 75 00 15 10 00 00 00")).toMatchObject({ length: 9, opcode: [0x0f, 0x38, 0x00], ripRelative: true, disp: 0x10, immSize: 0 });
    // vpermq $0x1b, 0x10(%rip), %ymm0 -> c4 e3 fd 00 05 10 00 00 00 1b
    expect(dec("c4 e3 fd 00 05 10 00 00 00 1b")).toMatchObject({ length: 10, immSize: 1, ripRelative: true });
    // vpshufd $0x1b, (%rax), %ymm0 -> c5 fd 70 00 1b (map 1 with imm8)
    expect(dec("c5 fd 70 00 1b")).toMatchObject({ length: 5, immSize: 1 });
    // vmovdqu64 0x40(%rax), %zmm3 -> 62 f1 fe 48 6f 58 01 (disp8*N: encoded 1)
    expect(dec("62 f1 fe 48 6f 58 01")).toMatchObject({ length: 7, vex: true, vexPrefix: [0x62, 0xf1, 0xfe, 0x48], disp: 1, dispSize: 1 });
    // vaddph 0x40(%rip), %zmm1, %zmm2 (EVEX map 5)
    expect(dec("62 f5 74 48 58 15 40 00 00 00")).toMatchObject({ length: 10, opcode: [0x58], ripRelative: true });
    // XOP: vprotb $3, (%rax), %xmm1 (map 8, imm8); bextr $0x1234, %eax, %ebx (map 0A, imm32)
    expect(dec("8f e8 78 c0 08 03")).toMatchObject({ length: 6, vex: true, immSize: 1 });
    expect(dec("8f ea 78 10 d8 34 12 00 00")).toMatchObject({ length: 9, immSize: 4 });
    expect(classifyInsn(dec("c5 f8 77")).kind).toBe("other");
    // 8F /0 stays pop
    expect(dec("8f 40 08")).toMatchObject({ length: 3, vex: false, opcode: [0x8f] });
  });

  it("ignores mod for mov to/from control and debug registers", () => {
    expect(dec("0f 20 44")).toMatchObject({ length: 3, sib: null, dispSize: 0 });
  });

  it("treats a REX byte followed by another prefix as no REX", () => {
    expect(dec("48 66 90")).toMatchObject({ length: 3, rex: 0, prefixes: [0x48, 0x66], opcode: [0x90] });
    expect(dec("66 41 b8 34 12")).toMatchObject({ length: 5, rex: 0x41, immSize: 2 });
  });

  it("accepts 15 bytes and no more", () => {
    const fifteen = "66 66 66 66 66 66 2e 0f 1f 84 00 00 00 00 00";
    expect(dec(fifteen).length).toBe(15);
    expect(() => dec(`66 ${fifteen}`)).toThrow(/longer than 15/);
    expect(() => dec("66 ".repeat(20) + "90")).toThrow(/longer than 15/);
  });

  it("throws DecodeError (EDECODE) for truncated input", () => {
    for (const s of ["", "48", "e8 00 00 00", "48 8b 05 00 00", "0f", "0f 38", "c4 e2", "62 f1 fe 48", "f6 00", "a1 00 00 00 00", "48 b8 00"]) {
      let err: unknown;
      try { decodeInsn(s ? hexBytes(s) : new Uint8Array(0), 0x1000); } catch (e) { err = e; }
      expect(err, s).toBeInstanceOf(DecodeError);
      expect(err).toBeInstanceOf(FaultlineError);
      expect((err as DecodeError).code).toBe("EDECODE");
      expect((err as DecodeError).message).toMatch(/truncated/);
    }
  });

  it("throws DecodeError for opcodes invalid in 64-bit mode", () => {
    const invalid = ["06", "07", "0e", "16", "17", "1e", "1f", "27", "2f", "37", "3f", "60", "61", "82 c0 01", "9a 00 00 00 00 00 00", "ce",
      "d4 0a", "d5 0a", "d6", "ea 00 00 00 00 00 00", "0f 04", "0f 0a", "0f 24 c0", "0f a6", "fe 10", "ff 38", "ff d8", "ff e8",
      "c4 e0 78 10 c0", "62 f1 78 48 28 c1" /* EVEX without its fixed 1 bit */, "66 c5 f8 77", "48 c5 f8 77"];
    for (const s of invalid) {
      expect(() => dec(s), s).toThrow(DecodeError);
      try { dec(s); } catch (e) { expect((e as DecodeError).code).toBe("EDECODE"); expect((e as DecodeError).addr).toBe(0x1000); }
    }
  });
});

describe("classifyInsn", () => {
  const A = 0x401000;
  const cases: Array<[string, string, InsnClass]> = [
    ["nop", "90", { kind: "nop" }],
    ["66 nop", "66 90", { kind: "nop" }],
    ["REX.W nop", "48 90", { kind: "nop" }],
    ["pause", "f3 90", { kind: "nop" }],
    ["xchg %r8, %rax is not a nop", "49 90", { kind: "other" }],
    ["nopl 0x0(%rax,%rax,1)", "0f 1f 44 00 00", { kind: "nop" }],
    ["nopw cs:0x0(%rax,%rax,1)", "66 2e 0f 1f 84 00 00 00 00 00", { kind: "nop" }],
    ["nopl (%rax)", "0f 1f 00", { kind: "nop" }],
    ["0F 1F /1 is a hint, not a NOP for us", "0f 1f 08", { kind: "other" }],
    ["endbr64", "f3 0f 1e fa", { kind: "other" }],
    ["push %rbp", "55", { kind: "push", reg: 5 }],
    ["push %r12", "41 54", { kind: "push", reg: 12 }],
    ["push %r15", "41 57", { kind: "push", reg: 15 }],
    ["pushw %ax is 16-bit", "66 50", { kind: "other" }],
    ["pop %rbp", "5d", { kind: "other" }],
    ["jmp rel8", "eb 10", { kind: "jmp", target: A + 2 + 0x10 }],
    ["jmp rel8 backwards", "eb fe", { kind: "jmp", target: A }],
    ["jmp rel32", "e9 00 01 00 00", { kind: "jmp", target: A + 5 + 0x100 }],
    ["call rel32", "e8 fb ff ff ff", { kind: "call", target: A, next: A + 5 }],
    ["call rel32 forward", "e8 10 00 00 00", { kind: "call", target: A + 0x15, next: A + 5 }],
    ["je rel8", "74 05", { kind: "jcc", cond: 4, target: A + 7 }],
    ["jo rel8 back", "70 80", { kind: "jcc", cond: 0, target: A + 2 - 128 }],
    ["jg rel8", "7f 00", { kind: "jcc", cond: 15, target: A + 2 }],
    ["jne rel32", "0f 85 00 10 00 00", { kind: "jcc", cond: 5, target: A + 6 + 0x1000 }],
    ["jb rel32 back", "0f 82 f0 ff ff ff", { kind: "jcc", cond: 2, target: A + 6 - 16 }],
    ["loop", "e2 fe", { kind: "loop", op: "loop", target: A }],
    ["jrcxz", "e3 10", { kind: "loop", op: "jrcxz", target: A + 0x12 }],
    ["xbegin", "c7 f8 10 00 00 00", { kind: "xbegin", target: A + 0x16 }],
    ["ret", "c3", { kind: "ret", pop: 0 }],
    ["repz ret", "f3 c3", { kind: "ret", pop: 0 }],
    ["ret $16", "c2 10 00", { kind: "ret", pop: 16 }],
    ["ret $0xfff0", "c2 f0 ff", { kind: "ret", pop: 0xfff0 }],
    ["lret", "cb", { kind: "other" }],
    ["call *0x10(%rip)", "ff 15 10 00 00 00", { kind: "indirect", op: "call", far: false, reg: null, slot: A + 6 + 0x10 }],
    ["jmp *0x10(%rip)", "ff 25 10 00 00 00", { kind: "indirect", op: "jmp", far: false, reg: null, slot: A + 6 + 0x10 }],
    ["call *%rax", "ff d0", { kind: "indirect", op: "call", far: false, reg: 0, slot: null }],
    ["jmp *%r11", "41 ff e3", { kind: "indirect", op: "jmp", far: false, reg: 11, slot: null }],
    ["notrack jmp *%rax", "3e ff e0", { kind: "indirect", op: "jmp", far: false, reg: 0, slot: null }],
    ["call *0x8(%rax,%rbx,8)", "ff 54 d8 08", { kind: "indirect", op: "call", far: false, reg: null, slot: null }],
    ["lcall *(%rax)", "ff 18", { kind: "indirect", op: "call", far: true, reg: null, slot: null }],
    ["ljmp *(%rax)", "ff 28", { kind: "indirect", op: "jmp", far: true, reg: null, slot: null }],
    ["inc %eax (FF /0)", "ff c0", { kind: "other" }],
    ["push 0x10(%rip) (FF /6)", "ff 35 10 00 00 00", { kind: "other" }],
    ["syscall", "0f 05", { kind: "syscall" }],
    ["int3", "cc", { kind: "int3" }],
    ["int $0x80", "cd 80", { kind: "int", vector: 0x80 }],
    ["int1", "f1", { kind: "int", vector: 1 }],
    ["ud2", "0f 0b", { kind: "other" }],
    ["mov 0x10(%rip), %rax", "48 8b 05 10 00 00 00", { kind: "other" }],
    ["vzeroupper", "c5 f8 77", { kind: "other" }],
  ];
  for (const [name, bytes, want] of cases) {
    it(`${name}: ${bytes}`, () => {
      expect(classifyInsn(dec(bytes, A))).toEqual(want);
    });
  }

  it("classifies into (CE) as int 4 although decodeInsn rejects it in 64-bit mode", () => {
    const into: Insn = { ...dec("cc", A), opcode: [0xce], bytes: Uint8Array.of(0xce) };
    expect(classifyInsn(into)).toEqual({ kind: "int", vector: 4 });
    expect(() => dec("ce")).toThrow(DecodeError);
  });

  it("wraps 66-prefixed near branch targets to 16 bits, as objdump, AMD and QEMU do", () => {
    expect(classifyInsn(dec("66 e9 10 00", 0x401000))).toEqual({ kind: "jmp", target: 0x1014 });
  });
});

describe("condTaken", () => {
  const CF = 1, PF = 4, ZF = 0x40, SF = 0x80, OF = 0x800;
  // Each row: EFLAGS, then the expected result for conditions 0..15
  // (O NO B AE E NE BE A S NS P NP L GE LE G).
  const rows: Array<[string, number, string]> = [
    ["none", 0, "0101010101010101"],
    ["CF", CF, "0110011001010101"],
    ["ZF", ZF, "0101101001010110"],
    ["CF|ZF", CF | ZF, "0110101001010110"],
    ["SF", SF, "0101010110011010"],
    ["OF", OF, "1001010101011010"],
    ["SF|OF", SF | OF, "1001010110010101"],
    ["SF|OF|ZF", SF | OF | ZF, "1001101010010110"],
    ["PF", PF, "0101010101100101"],
    ["all", CF | PF | ZF | SF | OF | 0x202, "1010101010100110"],
    ["unrelated bits only (IF, AF, DF, TF)", 0x200 | 0x10 | 0x400 | 0x100, "0101010101010101"],
  ];
  for (const [name, flags, want] of rows) {
    it(`EFLAGS ${name}`, () => {
      const got = Array.from({ length: 16 }, (_, c) => (condTaken(c, flags) ? "1" : "0")).join("");
      expect(got).toBe(want);
    });
  }

  it("agrees with the textbook definitions over every combination of the five flags", () => {
    for (let m = 0; m < 32; m++) {
      const f = (m & 1 ? CF : 0) | (m & 2 ? PF : 0) | (m & 4 ? ZF : 0) | (m & 8 ? SF : 0) | (m & 16 ? OF : 0);
      const cf = !!(f & CF), pf = !!(f & PF), zf = !!(f & ZF), sf = !!(f & SF), of = !!(f & OF);
      const def = [of, !of, cf, !cf, zf, !zf, cf || zf, !cf && !zf, sf, !sf, pf, !pf, sf !== of, sf === of, zf || sf !== of, !zf && sf === of];
      for (let c = 0; c < 16; c++) expect(condTaken(c, f), `cond ${c} flags ${f.toString(16)}`).toBe(def[c]);
    }
  });
});
