/**
 * What a probe is (cf. struct uprobe and struct uprobe_consumer): an
 * instruction of a file, named by (file identity, file offset) like Linux's
 * (inode, offset), so it applies to every process mapping that file, now
 * or later; and the consumers whose handlers run when any process hits it.
 */
import type { Process } from "../emu/index.js";
import type { AddressSpace } from "../mm/index.js";
import type { Insn, InsnClass } from "./insn.js";

/** What a handler sees. Registers are read when asked for (reg and args are methods: call them on the context). */
export interface ProbeContext {
  /** The process that hit the probe. */
  readonly proc: Process;
  readonly probe: Probe;
  /** Address of the probed instruction in this process. */
  readonly addr: number;
  /** A register by its emu/constants `Reg` name ("RAX", "RDI", ...), as a number (exact below 2^53). */
  reg(name: string): number;
  /** The first six integer arguments (System V: rdi, rsi, rdx, rcx, r8, r9). */
  args(): number[];
  /** The return value (RAX), for `ret` handlers. */
  readonly retval?: number;
  /** Nanoseconds since faultline started, for traces: taken when first read (handlers run at the hit). */
  readonly time: bigint;
}

/** One user of a probe (cf. struct uprobe_consumer). Every method is optional. */
export interface Consumer {
  /** Before the probed instruction runs. Returning "remove" unregisters this consumer. */
  pre?(ctx: ProbeContext): void | "remove";
  /** After the probed instruction ran (emulated or stepped out of line). */
  post?(ctx: ProbeContext): void;
  /** When the probed function returns (the probe must be at its first instruction). */
  ret?(ctx: ProbeContext): void;
  /** Which processes the handlers run for (default: all). */
  filter?(proc: Process): boolean;
}

/** Something outside the probe that counts its hits (an engine's return-probe table). */
export interface HitSource {
  /** The hits of `probe` it has counted and not yet folded into the probe. */
  hitsOf(probe: Probe): number;
}

/** A registered probe. Invariant: consumers is non-empty while registered. */
export class Probe {
  /** Handlers, in registration order. */
  readonly consumers: Consumer[] = [];
  /** Hits the trap path counted. */
  private counted = 0;
  /** Hits engine tables counted and folded in (entries the engine took). */
  private folded = 0;
  /**
   * Engine return-probe tables (kprobes/uretprobe.ts) that count entries of
   * this probe taken inside the engine; each is in the set from its first
   * entry for the probe until it forgets the probe, having folded its count in.
   */
  private readonly sources = new Set<HitSource>();

  /** Times any process hit it (whatever the filters said), including entries the engine took itself. */
  get hits(): number {
    return this.counted + this.engineHits;
  }

  /** Of `hits`, the entries an engine took itself, without the trap path (return-only probes on faultline's build: engine patch 0011). */
  get engineHits(): number {
    let n = this.folded;
    for (const s of this.sources) n += s.hitsOf(this);
    return n;
  }

  /** One hit, seen by the trap path. */
  hit(): void {
    this.counted++;
  }

  /** `source` counts entries of this probe from now on (until it folds). */
  countedBy(source: HitSource): void {
    this.sources.add(source);
  }

  /** `n` hits a source counted (and now forgets) join this probe's own count. */
  fold(n: number): void {
    this.folded += n;
  }

  /** `source` no longer counts this probe (it folded what it had). */
  forget(source: HitSource): void {
    this.sources.delete(source);
  }
  /** Times a return was caught for it. */
  returns = 0;

  /**
   * @param mapping the file's page cache (its identity is the file's)
   * @param offset file offset of the probed instruction's first byte
   * @param insn the decoded original instruction
   * @param cls what the trap path does with it
   * @param text its disassembly (capstone), for traces and errors
   * @param label how the user named it (SPEC), for reports
   */
  constructor(
    readonly mapping: AddressSpace,
    readonly offset: number,
    readonly insn: Insn,
    readonly cls: InsnClass,
    readonly text: string,
    readonly label: string,
  ) {}

  /** The original first byte, which the breakpoint (0xCC) replaces. */
  get origByte(): number {
    return this.insn.bytes[0];
  }

  /** Identity: "dev:ino:offset". */
  get key(): string {
    return probeKey(this.mapping, this.offset);
  }
}

/** The identity of the instruction at `offset` of `mapping`'s file. */
export function probeKey(mapping: AddressSpace, offset: number): string {
  return `${mapping.key}:${offset}`;
}
