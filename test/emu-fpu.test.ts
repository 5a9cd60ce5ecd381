/**
 * The x87/SSE state as faultline moves it for signal frames and fork
 * (saveFxsave, restoreFxsave, resetHandlerFpu in emu/signal/frame.ts):
 * directly in the engine's CPU state when emu/cpu-view.ts found and proved
 * its FPU fields, else through Unicorn's register API
 * (FAULTLINE_NO_CPU_VIEW=1, which CI also runs, and on Debian's 2.0.1).
 * The ground truth is the emulated CPU's own FXSAVE instruction: a guest
 * snippet sets a non-default state (x87 stack with TOP 5, FSW flags, FCW,
 * MXCSR, XMM0-15) and FXSAVEs it into a zeroed buffer, and faultline's image
 * must be those bytes, with FIP as the CPU's FNSTENV reports it (2.0.1's
 * FXSAVE writes 0 there; Linux's frame holds the real one, as faultline's
 * does); an image faultline loads must FXSAVE back as itself;
 * and rounding done by the guest after a load must be the rounding of the
 * loaded FCW/MXCSR, as after the guest's own FLDCW/LDMXCSR.
 */
import { describe, expect, it } from "vitest";
import { copyFromUser, copyToUser, STACK_TOP } from "../mm/index.js";
import { resetHandlerFpu, restoreFxsave, saveFxsave } from "../emu/signal/index.js";
import { STACK_SIZE, exitWith, loadGuest, type Guest } from "./support/guest.js";

/** Where the snippets FXSAVE to: the bottom of the test stack (fresh, zero pages). */
const BUF = STACK_TOP - STACK_SIZE;

const SNIPPETS = {
  /** A non-default FPU state: FCW 0x0a7f, three x87 values (TOP 5), FSW |= PE|ZE, MXCSR 0x5fa1, XMM0-15 distinct; FXSAVE to [rdi]. */
  set: `
    mov rbx, rdi
    finit
    fldcw [rip + cw]
    fld tbyte ptr [rip + v1]
    fld tbyte ptr [rip + v2]
    fldpi
    fnstenv [rbx + 512]
    or word ptr [rbx + 516], 0x24
    fldenv [rbx + 512]
    ldmxcsr [rip + mx]
    ${Array.from({ length: 16 }, (_, k) => `movdqu xmm${k}, [rip + x + ${16 * k}]`).join("\n    ")}
    mov rdi, rbx
    xor eax, eax
    mov ecx, 1024
    rep stosb
    fxsave [rbx]
    fnstenv [rbx + 512]
    ${exitWith("0")}
    .align 16
cw: .word 0x0a7f
mx: .long 0x5fa1
v1: .tfloat 1.5
v2: .tfloat -2.25e-300
x:  ${Array.from({ length: 32 }, (_, k) => `.quad 0x${(0x1122334455667788n + BigInt(k) * 0x0102030405060708n).toString(16)}`).join("\n    ")}
`,
  /** FXSAVE of the current state to [rdi], FNSTENV to [rdi + 512] (zeroed first). */
  dump: `
    mov rbx, rdi
    xor eax, eax
    mov ecx, 1024
    rep stosb
    fxsave [rbx]
    fnstenv [rbx + 512]
    ${exitWith("0")}`,
  /** The state a handler should start with, made by the CPU: FNINIT, MXCSR 0x1f80, XMM0-15 zero. */
  init: `
    fninit
    ldmxcsr [rip + dmx]
    ${Array.from({ length: 16 }, (_, k) => `pxor xmm${k}, xmm${k}`).join("\n    ")}
    ${exitWith("0")}
    .align 4
dmx: .long 0x1f80`,
  /** Sets FCW = [rdi] and MXCSR = [rdi + 4] the guest's way. */
  setctl: `
    fldcw [rdi]
    ldmxcsr [rdi + 4]
    ${exitWith("0")}`,
  /** Rounding-sensitive results to [rdi]: x87 1/3 (tbyte), SSE 1/3 and 1/10 (doubles). */
  compute: `
    fld1
    fld tbyte ptr [rip + three]
    fdivp st(1), st
    fstp tbyte ptr [rdi]
    movsd xmm0, [rip + one]
    divsd xmm0, [rip + d3]
    movsd [rdi + 16], xmm0
    movsd xmm1, [rip + one]
    divsd xmm1, [rip + d10]
    movsd [rdi + 24], xmm1
    ${exitWith("0")}
    .align 16
three: .tfloat 3.0
one: .double 1.0
d3: .double 3.0
d10: .double 10.0`,
};

/** Runs snippet `name` with rdi = `buf`; the guest must exit 0. */
function run(g: Guest, name: keyof typeof SNIPPETS, buf = BUF): void {
  const st = g.run({ rdi: buf }, name);
  expect(st, `snippet ${name}: got ${JSON.stringify(st)}, want exit 0`).toMatchObject({ kind: "exited", code: 0 });
}

/** `n` bytes of guest memory at `va`. */
const mem = (g: Guest, va: number, n = 512) => Array.from(copyFromUser(g.proc.mm, va, n));

/** The CPU's FXSAVE image that set/dump left at `va`, its FIP (bytes 8-15) the FNSTENV one at va + 512 + 12. */
function cpuImage(g: Guest, va: number): number[] {
  const img = mem(g, va);
  const env = mem(g, va + 512 + 12, 4);
  return [...img.slice(0, 8), ...env, 0, 0, 0, 0, ...img.slice(16)];
}

/** The first differing byte offset of two images, for messages. */
function firstDiff(a: readonly number[], b: readonly number[]): string {
  const k = a.findIndex((x, i) => x !== b[i]);
  return k < 0 ? "none" : `byte ${k}: got 0x${a[k].toString(16)}, want 0x${b[k].toString(16)}`;
}

const path = (g: Guest) => (g.proc.engine.cpu?.hasFpu ? "direct (cpu-view)" : "API");

describe("FXSAVE images through faultline's FPU paths against the CPU's own FXSAVE", () => {
  it("saveFxsave reads the state the guest set, byte for byte", () => {
    const g = loadGuest(SNIPPETS);
    try {
      run(g, "set");
      const cpu = cpuImage(g, BUF);
      expect(cpu.slice(8, 12), "guest's FNSTENV: a FIP (the snippet ran x87 instructions)").not.toEqual([0, 0, 0, 0]);
      expect((cpu[3] >> 3) & 7, "guest's FXSAVE: TOP 5 (three values pushed)").toBe(5);
      const ours = Array.from(saveFxsave(g.proc.engine));
      expect(ours, `saveFxsave (${path(g)}) vs the guest's FXSAVE: first difference ${firstDiff(ours, cpu)}`).toEqual(cpu);
    } finally {
      g.proc.destroy();
    }
  });

  it("restoreFxsave loads an image that the guest then FXSAVEs back unchanged", () => {
    const g = loadGuest(SNIPPETS);
    try {
      run(g, "set");
      const img = Uint8Array.from(cpuImage(g, BUF));
      const dv = new DataView(img.buffer);
      // Another state: TOP 2 with ST0-ST2 the old ST2, ST0, ST1; FCW 0x0f7f, FSW flags 0x01,
      // tags valid for R2-R4, FIP 0x40abcd, MXCSR 0x3f82, XMM k = the old XMM 15-k.
      const st = [2, 0, 1].map((i) => img.slice(32 + 16 * i, 32 + 16 * i + 16));
      st.forEach((b, i) => img.set(b, 32 + 16 * i));
      dv.setUint16(0, 0x0f7f, true);
      dv.setUint16(2, (2 << 11) | 0x01, true);
      img[4] = 0b0001_1100;
      dv.setUint32(8, 0x40abcd, true);
      dv.setUint32(24, 0x3f82, true);
      const xmm = img.slice(160, 416);
      for (let k = 0; k < 16; k++) img.set(xmm.subarray(16 * (15 - k), 16 * (16 - k)), 160 + 16 * k);
      restoreFxsave(g.proc.engine, img);
      run(g, "dump", BUF + 1024);
      const back = cpuImage(g, BUF + 1024);
      expect(back, `guest's FXSAVE after restoreFxsave (${path(g)}): first difference ${firstDiff(back, Array.from(img))}`).toEqual(Array.from(img));
    } finally {
      g.proc.destroy();
    }
  });

  it("resetHandlerFpu leaves the state the CPU's FNINIT + LDMXCSR 0x1f80 + PXOR leave", () => {
    const g = loadGuest(SNIPPETS);
    try {
      run(g, "set");
      resetHandlerFpu(g.proc.engine);
      run(g, "dump", BUF + 1024);
      const ours = cpuImage(g, BUF + 1024);
      run(g, "set");
      run(g, "init");
      run(g, "dump", BUF + 2048);
      const cpu = cpuImage(g, BUF + 2048);
      expect(ours, `FXSAVE after resetHandlerFpu (${path(g)}) vs after the guest's own init: first difference ${firstDiff(ours, cpu)}`).toEqual(cpu);
    } finally {
      g.proc.destroy();
    }
  });

  it("a loaded FCW/MXCSR governs the guest's rounding, as after the guest's own FLDCW/LDMXCSR", () => {
    // FCW 0x0c7f: round toward zero, 24-bit precision; MXCSR 0x7f80: round toward zero.
    const FCW = 0x0c7f, MXCSR = 0x7f80;
    const g = loadGuest(SNIPPETS);
    try {
      run(g, "compute", BUF + 512);
      const dflt = mem(g, BUF + 512, 32);
      const ctl = new Uint8Array(8);
      new DataView(ctl.buffer).setUint16(0, FCW, true);
      new DataView(ctl.buffer).setUint32(4, MXCSR, true);
      copyToUser(g.proc.mm, BUF + 3072, ctl);
      run(g, "setctl", BUF + 3072);
      run(g, "compute", BUF + 1024);
      const guest = mem(g, BUF + 1024, 32);
      expect(guest.slice(0, 10), "sanity: the guest's own FLDCW changes the x87 result").not.toEqual(dflt.slice(0, 10));
      expect(guest.slice(24, 32), "sanity: the guest's own LDMXCSR changes the SSE result").not.toEqual(dflt.slice(24, 32));
      run(g, "init"); // back to the defaults, then load the image with FCW/MXCSR changed
      const img = saveFxsave(g.proc.engine);
      new DataView(img.buffer).setUint16(0, FCW, true);
      new DataView(img.buffer).setUint32(24, MXCSR, true);
      restoreFxsave(g.proc.engine, img);
      run(g, "compute", BUF + 1536);
      const ours = mem(g, BUF + 1536, 32);
      expect(ours, `results after restoreFxsave (${path(g)}): got ${ours}, want ${guest} (the guest's own FLDCW/LDMXCSR)`).toEqual(guest);
      resetHandlerFpu(g.proc.engine);
      run(g, "compute", BUF + 2048);
      const reset = mem(g, BUF + 2048, 32);
      expect(reset, `results after resetHandlerFpu (${path(g)}): got ${reset}, want ${dflt} (the defaults)`).toEqual(dflt);
    } finally {
      g.proc.destroy();
    }
  });
});

describe.skipIf(process.env.FAULTLINE_NO_CPU_VIEW)("the direct FPU view (emu/cpu-view.ts; FAULTLINE_NO_CPU_VIEW turns it off)", () => {
  it("is found and proven for a process's engine on this library", () => {
    const g = loadGuest(SNIPPETS);
    try {
      expect(g.proc.engine.cpu?.hasFpu, "CpuView found with its FPU fields").toBe(true);
    } finally {
      g.proc.destroy();
    }
  });
});
