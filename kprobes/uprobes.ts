/**
 * The probe registry (cf. kernel/events/uprobes.c: uprobe_register,
 * uprobe_unregister, the uprobes tree keyed by inode and offset).
 * Registration reads the instruction from the file, checks with capstone
 * that the offset is an instruction boundary, decodes and analyzes it, and
 * hands the probe to the insertion strategy; attach() gives a process the
 * trap path.
 */
import * as fs from "node:fs";
import { x86Disassembler, type Capstone, type Process } from "../emu/index.js";
import type { MemSystem, Mm } from "../mm/index.js";
import { analyzeInsn, type Plan } from "./arch-x86.js";
import { HostWord } from "../lib/hostmem.js";
import { ProbeError } from "./errors.js";
import { classifyInsn, decodeInsn } from "./insn.js";
import { Probe, probeKey, type Consumer } from "./probe.js";
import { AopsStrategy } from "./strategy-aops.js";
import { CowStrategy } from "./strategy-cow.js";
import { NotifierStrategy } from "./strategy-notifier.js";
import { PreloadStrategy } from "./strategy-preload.js";
import type { InsertionStrategy } from "./strategy.js";
import type { XolArea } from "./xol.js";
import { offsetToVaddr, probeableSymbols, readSymbols, resolveSpec, type ElfSymbols } from "./symbols.js";
import { ProbeTraps, type ProbeTable } from "./trap.js";

/** Where to probe: a symbol spec ("main", "fib+0x4", "0x1139" as a file offset) or a file offset. */
export type ProbeWhere = string | { offset: number };

/** Probes of one MemSystem: every process using it sees them. */
export class Uprobes implements ProbeTable {
  private readonly probes = new Map<string, Probe>();
  private readonly plans = new Map<Probe, Plan>();
  /** Bumped on every probe or consumer added or removed (see `generation`). */
  private gen = 0;
  /** `gen` mirrored in host memory for the engine's return-probe tables, once asked for (generationWordAddress). */
  private genWord: HostWord | undefined;
  /** The [uprobes] slot area of each address space its processes stepped in (see ProbeTable.xolAreas). */
  readonly xolAreas = new WeakMap<Mm, XolArea>();

  /**
   * @param sys the memory system whose page caches hold the probed files
   * @param strategy how breakpoints get into memory (default: the per-file aops hook)
   * @param options.maskReads for strategies that write breakpoints into the
   *   page cache: whether read() of a probed file returns the original bytes
   *   (default true; false shows the 0xCC a read then really finds)
   */
  constructor(readonly sys: MemSystem, readonly strategy: InsertionStrategy = defaultStrategy(), options: { maskReads?: boolean } = {}) {
    const mask = strategy.maskRead?.bind(strategy);
    if (mask && options.maskReads !== false) sys.readMask = mask;
  }

  /** Changes whenever a probe or a consumer is added or removed (ProbeTable.generation). */
  get generation(): number {
    return this.gen;
  }

  generationWordAddress(): number {
    return (this.genWord ??= new HostWord(this.gen)).addr;
  }

  /** A probe or consumer came or went: lookups and engine entries derived before no longer hold. */
  private changed(): void {
    this.gen++;
    this.genWord?.set(this.gen);
  }

  /** Every registered probe. */
  all(): Probe[] {
    return [...this.probes.values()];
  }

  byKey(key: string): Probe | undefined {
    return this.probes.get(key);
  }

  plan(probe: Probe): Plan {
    return this.plans.get(probe)!;
  }

  /**
   * Adds `consumer` to the probe at `where` in host file `path`, creating and
   * arming the probe if it is new (cf. uprobe_register).
   * @param label how reports name it (default "path:where")
   * @throws ProbeError ENOSYM, ERANGE, EFAULT, ENOTBOUNDARY, ENOTPROBEABLE, ENOEXEC
   */
  async register(path: string, where: ProbeWhere, consumer: Consumer, label?: string): Promise<Probe> {
    const elf = this.symbols(path);
    const at = typeof where === "string" ? resolveSpec(elf, where) : { offset: where.offset, vaddr: offsetToVaddr(elf, where.offset) };
    const mapping = this.sys.openFile(path, false);
    const known = this.probes.get(probeKey(mapping, at.offset));
    if (known) {
      known.consumers.push(consumer);
      this.changed(); // what the probe's hits run (an engine entry, for instance) may change with its consumers
      return known;
    }
    const bytes = readBytes(path, at.offset, 16);
    const cs = await x86Disassembler();
    checkBoundary(cs, elf, path, at.offset, at.vaddr, this.boundaries);
    const [ci] = cs.disasm(bytes, at.vaddr);
    const insn = decodeInsn(bytes, at.vaddr);
    const text = ci ? `${ci.mnemonic} ${ci.op_str}`.trim() : "(undecodable)";
    if (!ci || ci.size !== insn.length) {
      throw new ProbeError("ENOTPROBEABLE", `cannot probe ${path} at 0x${at.offset.toString(16)}: capstone and the decoder disagree on "${text}"`);
    }
    const cls = classifyInsn(insn);
    const plan = analyzeInsn(insn, cls, text);
    const probe = new Probe(mapping, at.offset, insn, cls, text, label ?? `${path}:${typeof where === "string" ? where : `0x${where.offset.toString(16)}`}`);
    probe.consumers.push(consumer);
    this.probes.set(probe.key, probe);
    this.plans.set(probe, plan);
    this.changed();
    this.strategy.arm(this.sys, probe);
    return probe;
  }

  /** Symbols per file, read once (keyed by path, size and mtime). */
  private readonly symbolCache = new Map<string, { stamp: string; elf: ElfSymbols }>();
  /** Instruction starts per function, disassembled once ("path:function address"). */
  private readonly boundaries = new Map<string, Set<number>>();

  private symbols(path: string): ElfSymbols {
    const st = fs.statSync(path);
    const stamp = `${st.size}:${st.mtimeMs}`;
    const known = this.symbolCache.get(path);
    if (known && known.stamp === stamp) return known.elf;
    const elf = readSymbols(path);
    this.symbolCache.set(path, { stamp, elf });
    return elf;
  }

  /** Removes one consumer; the last one removes the probe and its breakpoint (cf. uprobe_unregister). */
  unregister(probe: Probe, consumer: Consumer): void {
    const i = probe.consumers.indexOf(consumer);
    if (i >= 0) probe.consumers.splice(i, 1);
    if (i >= 0) this.changed();
    if (probe.consumers.length > 0 || !this.probes.has(probe.key)) return;
    this.strategy.disarm(this.sys, probe);
    this.probes.delete(probe.key);
    this.plans.delete(probe);
    this.changed();
  }

  /** An attached process exec'd: a per-process strategy serves its new address space (cf. uprobe_mmap of the new image). */
  execed(proc: Process): void {
    this.strategy.attach?.(this.sys, proc.mm);
  }

  /** Gives `proc` the trap path of these probes (and, for per-process strategies, their breakpoints). */
  attach(proc: Process): ProbeTraps {
    const traps = new ProbeTraps(this);
    proc.traps = traps;
    this.strategy.attach?.(this.sys, proc.mm);
    return traps;
  }
}

const fnCache = new WeakMap<ElfSymbols, ReturnType<typeof probeableSymbols>>();
/** probeableSymbols, computed once per symbol table. */
function functionsOf(elf: ElfSymbols): ReturnType<typeof probeableSymbols> {
  let f = fnCache.get(elf);
  if (!f) fnCache.set(elf, (f = probeableSymbols(elf)));
  return f;
}

/** `len` bytes of host file `path` at `offset` (fewer at its end). */
function readBytes(path: string, offset: number, len: number): Uint8Array {
  const fd = fs.openSync(path, "r");
  try {
    const buf = Buffer.alloc(len);
    const n = fs.readSync(fd, buf, 0, len, offset);
    return new Uint8Array(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuses an offset inside an instruction: disassembles the function that
 * contains it (capstone) from its start and requires an instruction to
 * begin exactly there. Offsets outside every known function are accepted.
 */
function checkBoundary(cs: Capstone, elf: ElfSymbols, path: string, offset: number, vaddr: number, cache: Map<string, Set<number>>): void {
  const fn = functionsOf(elf).find((s) => s.value <= vaddr && vaddr < s.value + s.size);
  if (!fn) return;
  const key = `${path}:${fn.value}`;
  let starts = cache.get(key);
  if (!starts) {
    starts = new Set<number>();
    const code = readBytes(path, offset - (vaddr - fn.value), fn.size);
    let at = fn.value;
    for (const insn of cs.disasm(code, fn.value)) {
      starts.add(at);
      at += insn.size;
    }
    starts.add(at);
    cache.set(key, starts);
  }
  if (starts.has(vaddr)) return;
  throw new ProbeError("ENOTBOUNDARY", `${path}: 0x${vaddr.toString(16)} (${fn.name}+0x${(vaddr - fn.value).toString(16)}) is not the start of an instruction`);
}

/**
 * The strategy used when none is given: aops, or the one named by
 * $FAULTLINE_PROBE_STRATEGY ("aops", "notifier", "preload", "preload-pin", "cow"),
 * which lets the whole probe test suite run under each strategy.
 */
export function defaultStrategy(): InsertionStrategy {
  const env = process.env.FAULTLINE_PROBE_STRATEGY;
  if (!env) return new AopsStrategy();
  return env === "preload-pin" ? strategyNamed("preload", true) : strategyNamed(env);
}

/** The strategy --probe-strategy names: aops (default), notifier, preload (with `pin`: preload --pin), cow. */
export function strategyNamed(name: string, pin = false): InsertionStrategy {
  switch (name) {
    case "aops": return new AopsStrategy();
    case "notifier": return new NotifierStrategy();
    case "preload": return new PreloadStrategy(pin);
    case "cow": return new CowStrategy();
    default: throw new ProbeError("EBADSPEC", `unknown probe strategy '${name}' (aops, notifier, preload, cow)`);
  }
}
