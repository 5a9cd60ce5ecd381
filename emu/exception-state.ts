/**
 * Work-around for Unicorn's stale "previous exception" state (unicorn issue
 * 1883, present in 2.0.1 and 2.1.4): when a hook handles a #PF, the CPU's
 * `old_exception` field keeps 14, so the next #PF becomes a double fault and
 * the one after ends emulation. After each handled #PF we save the CPU
 * context, put -1 back into that field, and restore the context.
 *
 * The field's byte offset in the saved context differs between builds, so it
 * is never hard-coded. On faultline's own build (patch 0004) the engine says
 * where its CPU state's fields are (UC_CTL_CPU_STATE), and one saved context
 * of the process's first engine, with a known value in RAX, says where that
 * state starts in a saved context: no scratch engine (~8-20 ms of start-up).
 * Elsewhere the layout is found by experiment: a scratch engine
 * takes three page faults of known kinds; the int that went from -1 to 14 is
 * `old_exception`, and the int that read 0, 3 and 2 is the #PF error code
 * (read of a not-present page, write to a read-only page, write to a
 * not-present page; CPL 0). The second and third
 * faults arriving as #PF (not #DF) prove the fix; otherwise the library is
 * refused with a clear error. (On the build, patch 0003 clears the field in
 * the engine itself; the fix-up stays, harmless. test/emu-engine.test.ts runs
 * the experiment on the build too and checks that it finds what the control
 * says, so the control's offsets keep an independent proof.)
 *
 *        before run      fault A (read, !P)   fault B (write, P)   fault C (write, !P)
 *   old_exc:  -1    ->        14   --fix-->  -1 ... 14  --fix-->   -1 ... 14
 *   err code: ?               0                   3                    2
 */
import { EngineError } from "../lib/errors.js";
import { HostRegion, viewAt } from "../lib/hostmem.js";
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE, Reg, Vec } from "./constants.js";
import { CpuView, stateFromControl } from "./cpu-view.js";
import type { Engine } from "./engine.js";
import type { UnicornLib } from "./unicorn.js";

/** Where, in a saved context of this library, the two fields live. */
export interface ContextLayout {
  /** Byte offsets of the int32 `old_exception` field(s) to reset to -1. */
  readonly oldException: readonly number[];
  /** Byte offset of the int32 #PF error code. */
  readonly errorCode: number;
  /** Byte offsets, in the saved context, of RAX (the CPU state's first field), RIP, EFLAGS and CR2 (64-bit each). */
  readonly rax: number;
  readonly rip: number;
  readonly eflags: number;
  readonly cr2: number;
}

/** Per-engine context buffer and the fix-up. */
export class ExceptionState {
  private readonly ctx: number;
  private readonly words: Int32Array;
  private readonly layout: ContextLayout;

  /**
   * Allocates a context for `engine`. The layout is discovered on first use
   * per library (see {@link discoverLayout}). Precondition: the guest has not
   * started on `engine` (finding the layout clobbers RAX..RDI and RIP).
   * @throws EngineError when the library does not behave as expected
   */
  constructor(private readonly engine: Engine) {
    this.layout = discoverLayout(engine);
    this.ctx = allocContext(engine);
    const size = Number(engine.lib.fn.uc_context_size(engine.handle));
    this.words = new Int32Array(viewAt(this.ctx, size), 0, size >> 2);
    if (!process.env.FAULTLINE_NO_CPU_VIEW) engine.cpu = CpuView.find(engine, this.layout);
  }

  /**
   * Call from the #PF hook, before returning to the guest: clears the stale
   * exception state and returns this fault's error code (PF_* bits).
   */
  afterPageFault(): number {
    const view = this.engine.cpu;
    if (view) return view.pageFaultFixup();
    const fn = this.engine.lib.fn;
    fn.uc_context_save(this.engine.handle, this.ctx);
    const code = this.words[this.layout.errorCode >> 2];
    for (const off of this.layout.oldException) this.words[off >> 2] = -1;
    fn.uc_context_restore(this.engine.handle, this.ctx);
    return code;
  }

  /**
   * Clears the previous-exception state outside emulation: a run that ended
   * (stopped from a hook) may have raised a fault that no hook saw, and the
   * next run's first #PF would then arrive as a double fault.
   */
  reset(): void {
    this.afterPageFault();
  }

  /** Frees the context. */
  free(): void {
    this.engine.lib.fn.uc_context_free(this.ctx);
  }
}

/** uc_context_alloc, returning the context's address (freed with uc_context_free). @throws UnicornError */
export function allocContext(engine: Engine): number {
  const out = new HostRegion(4096);
  try {
    engine.check("uc_context_alloc", engine.lib.fn.uc_context_alloc(engine.handle, out.addr));
    return Number(new BigUint64Array(out.view(0, 8).buffer, out.view(0, 8).byteOffset, 1)[0]);
  } finally {
    out.release();
  }
}

/** A value put in RAX to find where the CPU state starts in a saved context. */
const RAX_MAGIC = 0x5a17_c0de_7731;

/** The 64-bit word of a saved context at int32 index `i` (below 2^53 for the values looked for). */
const word64 = (words: Int32Array, i: number) => (words[i] >>> 0) + (words[i + 1] >>> 0) * 0x100000000;

/** Byte offsets of the 8-aligned 64-bit words of `words` equal to `v`, in order. */
function offsetsOf64(words: Int32Array, v: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < words.length; i += 2) if (word64(words, i) === v) out.push(i * 4);
  return out;
}

/** Page-table flag bits used by the experiment. */
const P = 1n, W = 2n;

/**
 * Finds the context layout of `engine`'s library, once per library: from the
 * engine's own answer where it gives one (layoutFromControl), else by the
 * experiment described above (layoutByExperiment).
 * Precondition: the guest has not started on `engine` (RAX is clobbered).
 * @throws EngineError ESTALEEXC when the experiment cannot find the fields or the fix does not hold
 */
export function discoverLayout(engine: Engine): ContextLayout {
  return (engine.lib.learned.contextLayout ??= layoutFromControl(engine) ?? layoutByExperiment(engine.lib));
}

/**
 * The context layout from UC_CTL_CPU_STATE (patch 0004): the control gives
 * each field's offset from RAX in the live state; a context of `engine`
 * saved with RAX_MAGIC in RAX gives RAX's offset in a saved context (the
 * context's header comes before the copy of the state). Leaves RAX zero.
 * @returns the layout, or undefined when the engine has no such control or
 *   the magic value is not found exactly once inside the context
 */
export function layoutFromControl(engine: Engine): ContextLayout | undefined {
  const st = stateFromControl(engine);
  if (!st) return undefined;
  const fn = engine.lib.fn;
  const ctx = allocContext(engine);
  try {
    const size = Number(fn.uc_context_size(engine.handle));
    const words = new Int32Array(viewAt(ctx, size), 0, size >> 2);
    engine.writeReg(Reg.RAX, RAX_MAGIC);
    fn.uc_context_save(engine.handle, ctx);
    const hits = offsetsOf64(words, RAX_MAGIC);
    if (hits.length !== 1) return undefined;
    const rax = hits[0];
    const layout = { rax, rip: rax + st.rip, eflags: rax + st.eflags, cr2: rax + st.cr2, errorCode: rax + st.errorCode, oldException: [rax + st.oldException] };
    const inside = [layout.rip, layout.eflags, layout.cr2, layout.errorCode, ...layout.oldException].every((o) => o >= 0 && o + 8 <= size);
    return inside ? layout : undefined;
  } finally {
    engine.writeReg(Reg.RAX, 0);
    fn.uc_context_free(ctx);
  }
}

/**
 * The context layout of `lib` by the experiment described above, on a
 * scratch engine (not memoized: discoverLayout memoizes).
 * @throws EngineError ESTALEEXC when the fields cannot be found or the fix does not hold
 */
export function layoutByExperiment(lib: UnicornLib): ContextLayout {
  const { Engine: EngineClass } = engineModule;
  const e: Engine = new EngineClass(lib);
  const mem = new HostRegion(0x200000);
  try {
    const pt = new BigUint64Array(mem.view(0x100000, 0x4000).buffer, mem.view(0x100000, 4).byteOffset, 0x800);
    pt[0] = 0x101000n | P | W; // PML4[0]
    pt[512] = 0x102000n | P | W; // PDPT[0]
    pt[1024] = 0x103000n | P | W; // PD[0]
    const pte = (i: number, v: bigint) => { pt[1536 + i] = v; };
    pte(1, 0x1000n | P); // code
    const code = [
      0x48, 0x8b, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00, // mov rax, [0x2000]   (A: read, not present)
      0x48, 0x89, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00, // mov [0x2000], rax   (B: write, read-only)
      0x48, 0x89, 0x04, 0x25, 0x00, 0x30, 0x00, 0x00, // mov [0x3000], rax   (C: write, not present)
    ];
    mem.view(0x1000, code.length).set(code);
    e.mapHost(0, 0x200000, mem.addr);
    e.writeReg(Reg.CR3, 0x100000);
    e.writeReg(Reg.CR4, e.readReg(Reg.CR4) | CR4_PAE);
    e.writeReg(Reg.CR0, e.readReg(Reg.CR0) | CR0_PE | CR0_WP | CR0_PG);

    const ctx = allocContext(e);
    const size = Number(lib.fn.uc_context_size(e.handle));
    const words = new Int32Array(viewAt(ctx, size), 0, size >> 2);
    e.writeReg(Reg.RAX, RAX_MAGIC);
    e.writeReg(Reg.EFLAGS, 0x202 | 0x400); // IF and DF: bits kept in the eflags field itself
    lib.fn.uc_context_save(e.handle, ctx);
    const before = words.slice();
    const snaps: Int32Array[] = [];
    const vectors: number[] = [];
    let oldExc: number[] = [];
    e.onInterrupt((intno) => {
      vectors.push(intno);
      if (intno !== Vec.PF || snaps.length >= 3) { e.stop(); return; }
      lib.fn.uc_context_save(e.handle, ctx);
      const snap = words.slice();
      snaps.push(snap);
      if (snaps.length === 1) {
        for (let i = 0; i < snap.length; i++) if (before[i] === -1 && snap[i] === Vec.PF) oldExc.push(i * 4);
      }
      for (const off of oldExc) words[off >> 2] = -1;
      lib.fn.uc_context_restore(e.handle, ctx);
      if (snaps.length === 1) pte(2, 0x2000n | P);
      else if (snaps.length === 2) pte(2, 0x2000n | P | W);
      else pte(3, 0x3000n | P | W);
    });
    e.run(0x1000, { until: 0x1000 + code.length, timeoutUs: 1_000_000 });
    lib.fn.uc_context_free(ctx);
    const fail = (why: string) =>
      new EngineError("ESTALEEXC", `Unicorn ${lib.version} (${lib.path}): cannot work around the stale exception state: ${why}`);
    if (snaps.length < 3 || vectors.slice(0, 3).some((v) => v !== Vec.PF)) {
      throw fail(`page faults arrived as vectors [${vectors.join(", ")}], want [14, 14, 14]`);
    }
    if (oldExc.length === 0) throw fail("no context field went from -1 to 14 on a page fault");
    const want = [0, 3, 2];
    let errorCode = -1;
    for (let i = 0; i < snaps[0].length && errorCode < 0; i++) {
      if (snaps.every((s, k) => s[i] === want[k])) errorCode = i * 4;
    }
    if (errorCode < 0) throw fail("no context field holds the page-fault error code");
    oldExc = oldExc.filter((o) => o !== errorCode);
    const find64 = (want: number[]): number => {
      for (let i = 0; i + 1 < snaps[0].length; i += 2) if (snaps.every((sn, k) => word64(sn, i) === want[k])) return i * 4;
      return -1;
    };
    const rax = offsetsOf64(before, RAX_MAGIC)[0] ?? -1;
    const rip = find64([0x1000, 0x1008, 0x1010]), cr2 = find64([0x2000, 0x2000, 0x3000]);
    const eflags = rip >= 0 && (word64(before, (rip + 8) >> 2) & 0x400) !== 0 ? rip + 8 : -1;
    return { oldException: oldExc, errorCode, rax, rip, eflags, cr2 };
  } finally {
    e.close();
    mem.release();
  }
}

/** Set by engine.ts at load time, to break the import cycle. */
export const engineModule: { Engine: new (lib: UnicornLib) => Engine } = { Engine: undefined as never };
