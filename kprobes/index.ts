/**
 * kprobes/: user-space probes that survive demand paging. This file is its
 * whole public surface; see kprobes/README.md for the design.
 */
export { Uprobes, strategyNamed, type ProbeWhere } from "./uprobes.js";
export { Probe, type Consumer, type ProbeContext } from "./probe.js";
export { ProbeError } from "./errors.js";
export { AopsStrategy } from "./strategy-aops.js";
export { NotifierStrategy } from "./strategy-notifier.js";
export { PreloadStrategy } from "./strategy-preload.js";
export { CowStrategy } from "./strategy-cow.js";
export type { InsertionStrategy } from "./strategy.js";
export { MAX_URETPROBE_DEPTH } from "./uretprobe.js";
export { parseProbeSpec, probeableSymbols, readSymbols, vaddrToOffset, offsetToVaddr, resolveSpec } from "./symbols.js";
export { HitCounter, allOf, byExe, byPid, byTid, countingConsumer } from "./filters.js";
