/**
 * The host kernel's own account of this process's memory, per mapping
 * (/proc/self/smaps, cf. fs/proc/task_mmu.c show_smap): ground truth for
 * what faultline's host memory really costs.
 */
import * as fs from "node:fs";

/**
 * Bytes of smaps field `field` ("Pss", "AnonHugePages", ...) summed over
 * this process's host mappings that overlap any of `ranges` ([start, end)
 * host addresses). A mapping that only partly overlaps counts whole.
 */
export function hostSmapsTotal(field: string, ranges: readonly (readonly [number, number])[]): number {
  let total = 0, inRange = false;
  const want = new RegExp(`^${field}:\\s+(\\d+) kB$`);
  for (const line of fs.readFileSync("/proc/self/smaps", "latin1").split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (head) {
      const start = parseInt(head[1], 16), end = parseInt(head[2], 16);
      inRange = ranges.some(([a, b]) => start < b && end > a);
      continue;
    }
    const m = want.exec(line);
    if (m && inRange) total += Number(m[1]) * 1024;
  }
  return total;
}
