/**
 * Loading libunicorn.so.2 through koffi and declaring the C functions we call.
 * Nothing above this file sees koffi's Unicorn declarations.
 *
 * Which library, first found wins: $FAULTLINE_UNICORN (a path, and then only
 * it) > faultline's own build of 2.1.4 with its patches (vendor/unicorn-fl/lib,
 * made by scripts/setup.sh from third_party/unicorn) > the official 2.1.4 wheel
 * (vendor/unicorn/unicorn/lib) > the system's libunicorn.so.2 (Debian's 2.0.1).
 * `faultline --version` names the one loaded.
 */
import koffi from "koffi";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { EngineError } from "../lib/errors.js";
import { pinMallocMmapThreshold } from "../lib/hostmem.js";
import type { FpuOffsets, PointerPath } from "./cpu-view.js";
import type { ContextLayout } from "./exception-state.js";

/**
 * Where the loaded library came from: "env" ($FAULTLINE_UNICORN), "build"
 * (faultline's patched build, vendor/unicorn-fl), "wheel" (the official 2.1.4
 * wheel, vendor/unicorn), "system" (the dynamic linker's libunicorn.so.2).
 */
export type LibrarySource = "env" | "build" | "wheel" | "system";

/** The loaded library: its functions, version and origin. */
export interface UnicornLib {
  /** Path or soname passed to dlopen. */
  readonly path: string;
  readonly source: LibrarySource;
  /** Version as "major.minor.patch" from uc_version(). */
  readonly version: string;
  /** uc_version()'s packed number: major << 24 | minor << 16 | patch << 8 | extra. */
  readonly versionNumber: number;
  /** The C functions (koffi-declared). */
  readonly fn: UnicornFunctions;
  /** For source "build": the patch files applied (from the build's `patches` list, written by setup); else empty. */
  readonly patches: readonly string[];
  /** Facts of this build that engines learn at run time (see LearnedFacts). */
  readonly learned: LearnedFacts;
}

/**
 * Facts about a library's build that the first engine needing them learns
 * by experiment, and every later engine of the same library reuses: each
 * is written once (undefined until then) and only read after.
 */
export interface LearnedFacts {
  /** Where the saved context keeps the exception fields (exception-state.ts discoverLayout). */
  contextLayout?: ContextLayout;
  /**
   * Pointer paths from an engine's handle to its CPU state, learned from the
   * first engine whose state cpu-view.ts's heap search found: later engines
   * follow them instead of searching the heap (~65 ms per engine), and each
   * candidate is still proven on each engine.
   */
  cpuStatePaths?: readonly PointerPath[];
  /**
   * Where the CPU state keeps its x87/SSE fields, located by the first engine
   * (cpu-view.ts locateFpu, ~0.7 ms of register writes and scans) and proven
   * again on each later one (proveFpu) instead of located anew.
   */
  fpuOffsets?: FpuOffsets;
}

/**
 * The raw C functions; see unicorn.h for each one's contract. Every pointer
 * (engine handle, context, buffers) is passed as a plain number: koffi
 * passes a uint64_t in ~70 ns where a Buffer or an External costs 130-290.
 */
export interface UnicornFunctions {
  uc_version(major: number, minor: number): number;
  uc_open(arch: number, mode: number, out: number): number;
  uc_close(uc: number): number;
  uc_strerror(err: number): string;
  uc_mem_map_ptr(uc: number, address: number, size: number, perms: number, ptr: number): number;
  uc_mem_unmap(uc: number, address: number, size: number): number;
  uc_mem_read(uc: number, address: number, bytes: number, size: number): number;
  uc_mem_write(uc: number, address: number, bytes: number, size: number): number;
  uc_reg_read(uc: number, regid: number, value: number): number;
  uc_reg_write(uc: number, regid: number, value: number): number;
  uc_reg_read_batch(uc: number, regs: number, vals: number, count: number): number;
  uc_reg_write_batch(uc: number, regs: number, vals: number, count: number): number;
  uc_hook_add(uc: number, out: number, type: number, cb: unknown, user: number, begin: number, end: number, ...rest: unknown[]): number;
  uc_hook_del(uc: number, hh: number): number;
  uc_emu_start(uc: number, begin: number, until: number | bigint, timeout: number, count: number): number;
  uc_emu_stop(uc: number): number;
  uc_query(uc: number, type: number, result: number): number;
  uc_ctl(uc: number, control: number, ...rest: unknown[]): number;
  uc_context_alloc(uc: number, out: number): number;
  uc_context_save(uc: number, ctx: number): number;
  uc_context_restore(uc: number, ctx: number): number;
  uc_context_size(uc: number): number;
  uc_context_free(ctx: number): number;
}

/**
 * Callback prototypes (cf. uc_cb_hookintr, uc_cb_insn_syscall_t,
 * uc_cb_eventmem_t), declared with only the arguments faultline's hooks
 * read: the engine handle is taken as its low 32 bits and trailing ones are
 * left out. Each 64-bit pointer argument cost a heap number per call, and
 * these run on every trap and system call. The engine still passes all of
 * them; in the C calling conventions koffi supports, arguments travel in
 * registers the callee may ignore, and a 32-bit parameter reads the low half.
 * Signed 32-bit types make small integers (an unsigned one became a heap
 * number through napi_create_double).
 */
export const IntrHookProto = koffi.proto("void faultline_intr_cb(int32_t uc_low, int32_t intno)");
export const SyscallHookProto = koffi.proto("void faultline_syscall_cb(void)");
export const MemHookProto = koffi.proto("bool faultline_mem_cb(int32_t uc_low, int type, uint64_t address, int size)");

/** The repository root: the nearest folder above this file holding package.json. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) throw new EngineError("ENOROOT", "cannot find the faultline project root");
    dir = up;
  }
  return dir;
}

/** Path of faultline's own patched Unicorn 2.1.4 build (may not exist; scripts/setup.sh makes it). */
export function buildLibraryPath(): string {
  return path.join(projectRoot(), "vendor", "unicorn-fl", "lib", "libunicorn.so.2");
}

/** Path of the official Unicorn 2.1.4 wheel's library (may not exist; scripts/setup.sh installs it). */
export function wheelLibraryPath(): string {
  return path.join(projectRoot(), "vendor", "unicorn", "unicorn", "lib", "libunicorn.so.2");
}

/** The candidates in order of preference: only $FAULTLINE_UNICORN when set, else build > wheel > system. */
function candidates(): { path: string; source: LibrarySource }[] {
  const env = process.env.FAULTLINE_UNICORN;
  if (env) return [{ path: env, source: "env" }];
  const list: { path: string; source: LibrarySource }[] = [];
  for (const [file, source] of [[buildLibraryPath(), "build"], [wheelLibraryPath(), "wheel"]] as const) {
    if (fs.existsSync(file)) list.push({ path: file, source });
  }
  list.push({ path: "libunicorn.so.2", source: "system" });
  return list;
}

function declare(lib: koffi.IKoffiLib): UnicornFunctions {
  const f = (sig: string) => lib.func(sig);
  return {
    uc_version: f("uint32_t uc_version(uint64_t major, uint64_t minor)"),
    uc_open: f("int uc_open(int arch, int mode, uint64_t out)"),
    uc_close: f("int uc_close(uint64_t uc)"),
    uc_strerror: f("const char *uc_strerror(int code)"),
    uc_mem_map_ptr: f("int uc_mem_map_ptr(uint64_t uc, uint64_t address, size_t size, uint32_t perms, uint64_t ptr)"),
    uc_mem_unmap: f("int uc_mem_unmap(uint64_t uc, uint64_t address, size_t size)"),
    uc_mem_read: f("int uc_mem_read(uint64_t uc, uint64_t address, uint64_t bytes, size_t size)"),
    uc_mem_write: f("int uc_mem_write(uint64_t uc, uint64_t address, uint64_t bytes, size_t size)"),
    uc_reg_read: f("int uc_reg_read(uint64_t uc, int regid, uint64_t value)"),
    uc_reg_write: f("int uc_reg_write(uint64_t uc, int regid, uint64_t value)"),
    uc_reg_read_batch: f("int uc_reg_read_batch(uint64_t uc, uint64_t regs, uint64_t vals, int count)"),
    uc_reg_write_batch: f("int uc_reg_write_batch(uint64_t uc, uint64_t regs, uint64_t vals, int count)"),
    uc_hook_add: f("int uc_hook_add(uint64_t uc, uint64_t hh, int type, void *callback, uint64_t user, uint64_t begin, uint64_t end, ...)"),
    uc_hook_del: f("int uc_hook_del(uint64_t uc, size_t hh)"),
    uc_emu_start: f("int uc_emu_start(uint64_t uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)"),
    uc_emu_stop: f("int uc_emu_stop(uint64_t uc)"),
    uc_query: f("int uc_query(uint64_t uc, int type, uint64_t result)"),
    uc_ctl: f("int uc_ctl(uint64_t uc, int control, ...)"),
    uc_context_alloc: f("int uc_context_alloc(uint64_t uc, uint64_t out)"),
    uc_context_save: f("int uc_context_save(uint64_t uc, uint64_t ctx)"),
    uc_context_restore: f("int uc_context_restore(uint64_t uc, uint64_t ctx)"),
    uc_context_size: f("size_t uc_context_size(uint64_t uc)"),
    uc_context_free: f("int uc_context_free(uint64_t ctx)"),
  } as unknown as UnicornFunctions;
}

/** The patch names setup recorded beside a "build" library (vendor/unicorn-fl/patches), one a line. */
function appliedPatches(c: { path: string; source: LibrarySource }): string[] {
  if (c.source !== "build") return [];
  const list = path.join(path.dirname(c.path), "..", "patches");
  return fs.existsSync(list) ? fs.readFileSync(list, "utf8").split("\n").filter((l) => l !== "") : [];
}

let loaded: UnicornLib | undefined;

/** The host allocator's mmap threshold while engines run: glibc's initial default, kept fixed (128 KiB). */
const ENGINE_MMAP_THRESHOLD = 128 << 10;

/**
 * Loads the engine library once per host process and returns it.
 * @throws EngineError ENOENGINE when no candidate loads, naming each tried path
 */
export function loadUnicorn(): UnicornLib {
  if (loaded) return loaded;
  // Engines are made and freed per task; keep their memory from fragmenting the brk heap (see the function).
  pinMallocMmapThreshold(ENGINE_MMAP_THRESHOLD);
  const tried: string[] = [];
  for (const c of candidates()) {
    let lib: koffi.IKoffiLib;
    try {
      lib = koffi.load(c.path);
    } catch (e) {
      tried.push(`${c.path}: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    const fn = declare(lib);
    const v = fn.uc_version(0, 0) >>> 0;
    const version = `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}`;
    loaded = { path: c.path, source: c.source, version, versionNumber: v, fn, patches: appliedPatches(c), learned: {} };
    return loaded;
  }
  throw new EngineError("ENOENGINE", `cannot load libunicorn.so.2 (${tried.join("; ")}); run scripts/setup.sh`);
}
