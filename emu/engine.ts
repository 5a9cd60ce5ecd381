/**
 * One Unicorn engine (one guest CPU and its physical memory), typed.
 * Every Unicorn error becomes a {@link UnicornError}; every hook callback is
 * guarded so that a JS exception never unwinds through native code: it is
 * recorded, the engine is stopped, and {@link Engine.run} rethrows it.
 */
import koffi from "koffi";
import { UnicornError } from "../lib/errors.js";
import { HostRegion, anonExecMappings, discardHostPages } from "../lib/hostmem.js";
import {
  Reg, UC_ARCH_X86, UC_CTL_TB_FLUSH, UC_CTL_TB_REMOVE_CACHE, UC_ERR_NAMES, UC_HOOK_INSN, UC_HOOK_INTR,
  UC_HOOK_MEM_INVALID, UC_MODE_64, UC_PROT_ALL, UC_QUERY_TIMEOUT, UC_X86_INS_SYSCALL, UC_CTL_X86_URETPROBE, ucCtlWrite,
} from "./constants.js";
import type { CpuView } from "./cpu-view.js";
import { engineModule } from "./exception-state.js";
import { IntrHookProto, MemHookProto, SyscallHookProto, loadUnicorn, type UnicornLib } from "./unicorn.js";

/** Interrupt/exception hook: `intno` is the x86 vector (14 = #PF, 3 = #BP, ...). */
export type InterruptHandler = (intno: number) => void;
/** Syscall-instruction hook. */
export type SyscallHandler = () => void;
/**
 * Invalid-memory hook (access to an address with no Unicorn region behind
 * it). Return true if the access may be retried.
 */
export type MemInvalidHandler = (type: number, address: number, size: number) => boolean;

/** Limits of one {@link Engine.run}. */
export interface RunOptions {
  /** Stop when RIP reaches this address. */
  until?: number;
  /** Stop after this many microseconds (0 = no limit). */
  timeoutUs?: number;
  /** Stop after this many instructions (0 = no limit). */
  count?: number;
}

/** Unicorn ids of the general registers by x86 number. */
const GPR_IDS = [Reg.RAX, Reg.RCX, Reg.RDX, Reg.RBX, Reg.RSP, Reg.RBP, Reg.RSI, Reg.RDI,
  Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15];

/** Scratch guest-physical page for flushTlb() on 2.0.x: above the guest layout, below 2^40. */
const TLB_FLUSH_PAGE = 0xfe_ffff_f000;

/** Largest number of registers {@link Engine.readRegs} moves in one call. */
const BATCH_MAX = 64;

/** Scratch layout (one native page): [0, 512) register values, [512, 1024) value pointers, [1024, 1280) register ids, [2048, 2064) out-parameters. */
const VALS = 0, PTRS = 512, IDS = 1024, OUT = 2048;

/** A live Unicorn engine in x86-64 mode. Not reusable after {@link close}. */
export class Engine {
  /** The library this engine came from. */
  readonly lib: UnicornLib;
  /** The native `uc_engine *` as a number; 0 after close(). */
  private uc: number;
  /** Native scratch memory for register values, ids and out-parameters (see VALS...). */
  private readonly scratch = new HostRegion(4096);
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly u64: BigUint64Array;
  /** Native scratch for {@link readRegBlock}/{@link writeRegBlock}: [0, 2048) values, [2048, 2560) pointers, [2560, 2816) ids. */
  private readonly block = new HostRegion(4096);
  /** Views of the block scratch's three parts, made once. */
  private readonly blockVals = this.block.view(0, 2048);
  private readonly blockPtrs = new BigUint64Array(this.block.view(2048, 512).buffer, this.block.view(2048, 512).byteOffset, 64);
  private readonly blockIds = new Int32Array(this.block.view(2560, 256).buffer, this.block.view(2560, 256).byteOffset, 64);
  /** The value size the pointers are laid out for (0: none yet). Invariant: pointer k = values + k * blockSize. */
  private blockSize = 0;
  /** The 64 value pointers for each size used, to copy in when the size changes. */
  private readonly blockLayouts = new Map<number, BigUint64Array>();
  /** The live CPU state seen directly, when it was found and proven (see cpu-view.ts); else undefined. */
  cpu: CpuView | undefined;
  /** koffi-registered callbacks, kept alive while the engine may call them. */
  private readonly callbacks: unknown[] = [];
  /**
   * Unicorn 2.0.x only (see trimCodeBuffer): the anonymous executable host mappings that existed before this
   * engine made its translation buffer, until the buffer is found; then the buffer itself. Undefined on other versions.
   */
  private codeBuffer: { readonly before: Map<number, number> } | { readonly start: number; readonly len: number } | undefined;
  /** An exception thrown by a hook during run() (any value, even undefined); rethrown when run() returns. */
  private pending: unknown = undefined;
  private hasPending = false;

  /**
   * Opens an engine on the loaded library (see loadUnicorn()).
   * @throws UnicornError when uc_open fails; EngineError when no library loads
   */
  constructor(lib: UnicornLib = loadUnicorn()) {
    this.lib = lib;
    const view = this.scratch.view(0, 4096);
    this.u32 = new Uint32Array(view.buffer, view.byteOffset, 1024);
    this.i32 = new Int32Array(view.buffer, view.byteOffset, 1024);
    this.u64 = new BigUint64Array(view.buffer, view.byteOffset, 512);
    for (let i = 0; i < BATCH_MAX; i++) this.u64[PTRS / 8 + i] = BigInt(this.scratch.addr + VALS + i * 8);
    if (lib.versionNumber >>> 16 === 0x0200) this.codeBuffer = { before: anonExecMappings() };
    this.check("uc_open", lib.fn.uc_open(UC_ARCH_X86, UC_MODE_64, this.scratch.addr + OUT));
    this.uc = Number(this.u64[OUT / 8]);
  }

  /**
   * Unicorn 2.0.x's whole-buffer flush (UC_CTL_TB_FLUSH) leaves all of its
   * 1 GiB translation buffer resident, in zeros (measured: ~1 GiB RSS per
   * engine after its first flush, which runs a fork-heavy guest or a test
   * suite out of memory; 2.1.x does not). After a flush only the buffer's
   * first page holds anything (the prologue), so all but its first 2 MiB is
   * given back to the host: it reads as the zeros it held, and is faulted in
   * again as translation reaches it. The buffer is the one anonymous
   * executable mapping of at least 256 MiB that appeared since this engine
   * was opened. No-op on other versions.
   */
  private trimCodeBuffer(): void {
    const KEEP = 2 * 1024 * 1024;
    let b = this.codeBuffer;
    if (b === undefined) return;
    if ("before" in b) {
      const before = b.before;
      const found = [...anonExecMappings()].find(([start, len]) => before.get(start) !== len && len >= 256 * 1024 * 1024);
      if (!found) return;
      b = this.codeBuffer = { start: found[0], len: found[1] };
    }
    discardHostPages(b.start + KEEP, b.len - KEEP);
  }

  /** The native handle as a number, for the few callers that talk to the library directly (exception-state). */
  get handle(): number {
    return this.uc;
  }

  /**
   * Throws a UnicornError when `err` is not UC_ERR_OK.
   * @param fn name of the Unicorn function, for the message
   */
  check(fn: string, err: number): void {
    if (err === 0) return;
    const name = UC_ERR_NAMES[err] ?? `UC_ERR_${err}`;
    throw new UnicornError(fn, err, name, this.lib.fn.uc_strerror(err));
  }

  /**
   * Maps host memory at guest-physical `address` (cf. uc_mem_map_ptr), always
   * with all permissions: the page tables decide what the guest may do.
   * Preconditions: 4 KiB-aligned address and size; `hostAddr` stays valid
   * until the range is unmapped.
   */
  mapHost(address: number, size: number, hostAddr: number): void {
    this.check("uc_mem_map_ptr", this.lib.fn.uc_mem_map_ptr(this.uc, address, size, UC_PROT_ALL, hostAddr));
  }

  /** Removes [address, address+size) from the engine's memory (cf. uc_mem_unmap). */
  unmap(address: number, size: number): void {
    this.check("uc_mem_unmap", this.lib.fn.uc_mem_unmap(this.uc, address, size));
  }

  /** Reads a register as a number (exact below 2^53; use readRegBig for full 64 bits). */
  readReg(id: number): number {
    this.check("uc_reg_read", this.lib.fn.uc_reg_read(this.uc, id, this.scratch.addr + VALS));
    return this.u32[0] + this.u32[1] * 0x100000000;
  }

  /** RIP, from the CPU state directly when possible (no engine call). */
  rip(): number {
    return this.cpu ? this.cpu.rip : this.readReg(Reg.RIP);
  }

  /** Sets RIP; from a hook, the guest continues there. */
  setRip(v: number): void {
    if (this.cpu) this.cpu.rip = v;
    else this.writeReg(Reg.RIP, v);
  }

  /** General register by x86 number (0 = RAX ... 15 = R15), exact below 2^53; directly when possible. */
  gpr(i: number): number {
    return this.cpu ? this.cpu.gpr(i) : this.readReg(GPR_IDS[i]);
  }

  /** Sets general register `i` (a non-negative integer below 2^53); directly when possible. */
  setGpr(i: number, v: number): void {
    if (this.cpu) this.cpu.setGpr(i, v);
    else this.writeReg(GPR_IDS[i], v);
  }

  /**
   * General register `i` as 32-bit halves (full 64 bits, no BigInt);
   * directly when possible.
   * @returns [low, high] in this engine's own scratch array, valid until the next call
   */
  gprHalves(i: number): Uint32Array {
    const out = this.halves;
    if (this.cpu) this.cpu.gprHalves(i, out);
    else this.readRegHalves(GPR_IDS[i], out);
    return out;
  }

  /** What gprHalves() returns, reused (one per engine: its task's trap path is its only user at a time). */
  private readonly halves = new Uint32Array(2);

  /** Reads a register's 64 bits as two 32-bit halves into out[0] (low) and out[1] (high), without BigInt. */
  readRegHalves(id: number, out: Uint32Array): void {
    this.check("uc_reg_read", this.lib.fn.uc_reg_read(this.uc, id, this.scratch.addr + VALS));
    out[0] = this.u32[0];
    out[1] = this.u32[1];
  }

  /** Reads a register's full 64 bits. */
  readRegBig(id: number): bigint {
    this.check("uc_reg_read", this.lib.fn.uc_reg_read(this.uc, id, this.scratch.addr + VALS));
    return this.u64[0];
  }

  /** Writes a register; a number must be a non-negative integer below 2^53, a bigint is taken mod 2^64. */
  writeReg(id: number, value: number | bigint): void {
    if (typeof value === "number") {
      this.u32[0] = value >>> 0;
      this.u32[1] = Math.floor(value / 0x100000000);
    } else {
      this.u64[0] = BigInt.asUintN(64, value);
    }
    this.check("uc_reg_write", this.lib.fn.uc_reg_write(this.uc, id, this.scratch.addr + VALS));
  }

  /**
   * Reads several registers in one call (cf. uc_reg_read_batch) into `out`
   * as numbers: unsigned, or with `signed` as two's-complement signed 64-bit
   * values (exact when |v| < 2^53, so -1 stays -1). Precondition: ids.length <= 64.
   */
  readRegs(ids: Int32Array, out: number[], signed = false): void {
    this.i32.set(ids, IDS / 4);
    this.check("uc_reg_read_batch", this.lib.fn.uc_reg_read_batch(this.uc, this.scratch.addr + IDS, this.scratch.addr + PTRS, ids.length));
    const u = this.u32, s = this.i32;
    for (let i = 0; i < ids.length; i++) out[i] = (signed ? s[2 * i + 1] : u[2 * i + 1]) * 0x100000000 + u[2 * i];
  }

  /**
   * Writes several registers in one call (cf. uc_reg_write_batch); values are
   * non-negative integers below 2^53. Precondition: ids.length <= 64.
   */
  writeRegs(ids: Int32Array, values: readonly number[]): void {
    this.i32.set(ids, IDS / 4);
    const u = this.u32;
    for (let i = 0; i < ids.length; i++) {
      u[2 * i] = values[i] >>> 0;
      u[2 * i + 1] = Math.floor(values[i] / 0x100000000);
    }
    this.check("uc_reg_write_batch", this.lib.fn.uc_reg_write_batch(this.uc, this.scratch.addr + IDS, this.scratch.addr + PTRS, ids.length));
  }

  /**
   * Reads `ids.length` registers of `size` bytes each (x87 registers 10,
   * XMM registers 16) in one call (cf. uc_reg_read_batch).
   * Preconditions: size <= 32, ids.length * size <= 2048.
   * @returns a view of the values, register k at k * size; valid until the next block call
   */
  readRegBlock(ids: Int32Array, size: number): Uint8Array {
    this.prepareBlock(ids, size);
    const vals = this.blockVals.subarray(0, ids.length * size);
    vals.fill(0); // a register narrower than `size` writes only its own bytes
    this.check("uc_reg_read_batch", this.lib.fn.uc_reg_read_batch(this.uc, this.block.addr + 2560, this.block.addr + 2048, ids.length));
    return vals;
  }

  /**
   * Writes registers of `size` bytes each from `values` (register k at
   * k * size) in one call (cf. uc_reg_write_batch). Preconditions as readRegBlock.
   */
  writeRegBlock(ids: Int32Array, size: number, values: Uint8Array): void {
    this.prepareBlock(ids, size);
    this.blockVals.set(values.subarray(0, ids.length * size));
    this.check("uc_reg_write_batch", this.lib.fn.uc_reg_write_batch(this.uc, this.block.addr + 2560, this.block.addr + 2048, ids.length));
  }

  /** Lays out the block scratch's ids and value pointers for `ids` of `size` bytes. */
  private prepareBlock(ids: Int32Array, size: number): void {
    if (size !== this.blockSize) {
      let layout = this.blockLayouts.get(size);
      if (!layout) {
        layout = new BigUint64Array(64).map((_, k) => BigInt(this.block.addr + k * size));
        this.blockLayouts.set(size, layout);
      }
      this.blockPtrs.set(layout);
      this.blockSize = size;
    }
    this.blockIds.set(ids);
  }

  /** Writes an x86 model-specific register (cf. struct uc_x86_msr). */
  writeMsr(msr: number, value: number): void {
    this.u32[0] = msr;
    this.u32[1] = 0;
    this.u64[1] = BigInt(value);
    this.check("uc_reg_write", this.lib.fn.uc_reg_write(this.uc, Reg.MSR, this.scratch.addr + VALS));
  }

  /** Reads an x86 model-specific register. */
  readMsr(msr: number): number {
    this.u32[0] = msr;
    this.u32[1] = 0;
    this.check("uc_reg_read", this.lib.fn.uc_reg_read(this.uc, Reg.MSR, this.scratch.addr + VALS));
    return Number(this.u64[1]);
  }

  /** Copies guest-physical memory out (cf. uc_mem_read). Precondition: into.length <= 1024. */
  readMem(address: number, into: Uint8Array): void {
    const at = this.scratch.view(OUT + 16, into.length);
    this.check("uc_mem_read", this.lib.fn.uc_mem_read(this.uc, address, this.scratch.addr + OUT + 16, into.length));
    into.set(at);
  }

  /** Copies into guest-physical memory (cf. uc_mem_write). Precondition: bytes.length <= 1024. */
  writeMem(address: number, bytes: Uint8Array): void {
    this.scratch.view(OUT + 16, bytes.length).set(bytes);
    this.check("uc_mem_write", this.lib.fn.uc_mem_write(this.uc, address, this.scratch.addr + OUT + 16, bytes.length));
  }

  /** Calls `fn` on every CPU exception and `int N` (cf. UC_HOOK_INTR). */
  onInterrupt(fn: InterruptHandler): void {
    // Each hook's guard has the hook's own arity: a generic (...args) wrapper allocated an
    // array and spread it on every call, and these run for every fault, trap and syscall.
    this.addHook(UC_HOOK_INTR, IntrHookProto, (_uc: number, intno: number) => {
      try {
        fn(intno);
      } catch (e) {
        this.hookFailed(e);
      }
    });
  }

  /** Calls `fn` on every `syscall` instruction (cf. UC_HOOK_INSN, UC_X86_INS_SYSCALL). */
  onSyscall(fn: SyscallHandler): void {
    this.addHook(UC_HOOK_INSN, SyscallHookProto, () => {
      try {
        fn();
      } catch (e) {
        this.hookFailed(e);
      }
    }, "int", UC_X86_INS_SYSCALL);
  }

  /** Calls `fn` on accesses to addresses no region backs (cf. UC_HOOK_MEM_INVALID). */
  onMemInvalid(fn: MemInvalidHandler): void {
    this.addHook(UC_HOOK_MEM_INVALID, MemHookProto, (_uc: number, type: number, address: bigint | number, size: number) => {
      try {
        return fn(type, Number(address), size);
      } catch (e) {
        this.hookFailed(e);
        return false;
      }
    });
  }

  /**
   * A hook threw: keeps the first error for run() to rethrow and stops the
   * engine, so that no JavaScript exception unwinds through native code.
   */
  private hookFailed(e: unknown): void {
    if (!this.hasPending) {
      this.hasPending = true;
      this.pending = e;
    }
    this.lib.fn.uc_emu_stop(this.uc);
  }

  /** Registers `guarded` (which must not throw) as a hook of `type` over all addresses. */
  private addHook(type: number, proto: koffi.IKoffiCType, guarded: (...a: never[]) => unknown, ...tail: unknown[]): void {
    const cb = koffi.register(guarded, koffi.pointer(proto));
    this.callbacks.push(cb);
    this.check("uc_hook_add", this.lib.fn.uc_hook_add(this.uc, this.scratch.addr + OUT, type, cb, 0, 1, 0, ...tail));
  }

  /**
   * Runs from `begin` until the guest stops (stop() from a hook), RIP
   * reaches `until` (default: never), `count` instructions ran (0 = no
   * limit) or `timeoutUs` passed (0 = none).
   * @throws whatever a hook threw during the run, else UnicornError
   */
  run(begin: number, opts: RunOptions = {}): void {
    this.pending = undefined;
    this.hasPending = false;
    const until = opts.until ?? 0xffffffffffffffffn;
    const err = this.lib.fn.uc_emu_start(this.uc, begin, until, opts.timeoutUs ?? 0, opts.count ?? 0);

    if (this.hasPending) {
      const pending = this.pending;
      this.pending = undefined;
      this.hasPending = false;
      throw pending;
    }
    this.check("uc_emu_start", err);
  }

  /** Whether the last run() ended because its timeout passed (cf. uc_query UC_QUERY_TIMEOUT). */
  timedOut(): boolean {
    this.check("uc_query", this.lib.fn.uc_query(this.uc, UC_QUERY_TIMEOUT, this.scratch.addr + OUT));
    return this.u64[OUT / 8] !== 0n;
  }

  /** Asks the engine to stop after the current instruction (cf. uc_emu_stop). */
  stop(): void {
    this.check("uc_emu_stop", this.lib.fn.uc_emu_stop(this.uc));
  }

  /**
   * Drops translated code for guest addresses [begin, end), so that patched
   * bytes are fetched anew (cf. UC_CTL_TB_REMOVE_CACHE).
   */
  invalidateCode(begin: number, end: number): void {
    this.check("uc_ctl", this.lib.fn.uc_ctl(this.uc, ucCtlWrite(UC_CTL_TB_REMOVE_CACHE, 2), "uint64_t", begin, "uint64_t", end));
  }

  /**
   * Gives the engine a return-probe table (engine patch 0011,
   * UC_CTL_X86_URETPROBE): int3s at its entries are then taken inside the
   * engine, without this engine's interrupt hook. `table` is the host
   * address of a uc_x86_uretprobe_table (kprobes/uretprobe.ts lays it out),
   * 0 to take it back. Precondition: the memory stays valid until it is
   * taken back or the engine is closed; not called while the engine runs.
   * @returns false when the engine has no such control (the stock
   *   libraries) or refused the table; nothing changed then
   */
  setReturnProbeTable(table: number): boolean {
    return this.lib.fn.uc_ctl(this.uc, ucCtlWrite(UC_CTL_X86_URETPROBE, 1), "uint64_t", table) === 0; // a pointer, as a variadic 64-bit integer
  }

  /** Drops all translated code (cf. UC_CTL_TB_FLUSH). */
  flushCode(): void {
    this.check("uc_ctl", this.lib.fn.uc_ctl(this.uc, ucCtlWrite(UC_CTL_TB_FLUSH, 0)));
    this.trimCodeBuffer();
  }

  /**
   * Flushes the whole TLB. 2.1.x flushes when CR3 is written, as a CPU does.
   * 2.0.x only stores a CR3 written through uc_reg_write, but flushes on any
   * change of the memory map, so there a scratch page is mapped and unmapped.
   */
  flushTlb(): void {
    if (this.lib.versionNumber >>> 16 === 0x0200) {
      this.mapHost(TLB_FLUSH_PAGE, 0x1000, this.scratch.addr);
      this.unmap(TLB_FLUSH_PAGE, 0x1000);
    } else {
      this.writeReg(Reg.CR3, this.readReg(Reg.CR3));
    }
  }

  /** Frees the engine and its callbacks. Idempotent. */
  close(): void {
    if (this.uc === 0) return;
    this.lib.fn.uc_close(this.uc);
    this.uc = 0;
    for (const cb of this.callbacks) koffi.unregister(cb as never);
    this.callbacks.length = 0;
    this.scratch.release();
    this.block.release();
  }
}

engineModule.Engine = Engine;
