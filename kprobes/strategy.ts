/**
 * How breakpoints get into memory: one small interface, so that the design
 * under study (the per-file aops hook) and its alternatives can be swapped
 * and measured. A strategy only places and removes 0xCC; the trap path is
 * the same for all.
 */
import type { MemSystem } from "../mm/index.js";
import type { Probe } from "./probe.js";

export interface InsertionStrategy {
  /** Name, as --probe-strategy spells it. */
  readonly name: string;
  /**
   * Makes `probe`'s breakpoint present in every process that maps its
   * page, now and whenever the page is read in again.
   */
  arm(sys: MemSystem, probe: Probe): void;
  /** Removes it again (the probe's last consumer left). */
  disarm(sys: MemSystem, probe: Probe): void;
}
