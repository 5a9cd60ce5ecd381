/**
 * `faultline demo` as a user runs it (the built CLI): the probe on
 * counted's work() hits, process by process, exactly as many times as each
 * run of the program says it entered work() (its own count, printed by the
 * guest), under both strategies the demo shows; cow's copies are one per run.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "./support/native.js";

/** The table rows of one strategy's section: pid -> [program, hits, own count, ..., bp copies]. */
function rows(section: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of section.split("\n")) {
    const cells = line.trim().split(/\s+/);
    if (/^\d+$/.test(cells[0] ?? "") && cells.length >= 8) out.set(Number(cells[0]), cells);
  }
  return out;
}

describe("faultline demo", () => {
  it("counts every process's entries into the probed function, under aops and cow", { timeout: 60_000 }, () => {
    const r = runCli(["demo"], { timeoutMs: 60_000 });
    expect(r.status, r.stderr.toString("utf8")).toBe(0);
    const sections = r.stdout.toString("utf8").split("\n== --probe-strategy ").slice(1);
    expect(sections.map((s) => s.split(":")[0]), "strategies shown").toEqual(["aops", "cow"]);
    for (const s of sections) {
      const strategy = s.split(":")[0];
      const own = [...s.matchAll(/\| counted\[(\d+)\]: work\(\) entered (\d+) times/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(own.length, `${strategy}: runs of counted in the guest's output`).toBe(3);
      const table = rows(s);
      for (const [pid, count] of own) {
        const row = table.get(pid);
        expect(row, `${strategy}: a row for pid ${pid}`).toBeDefined();
        expect(Number(row![2]), `${strategy} pid ${pid}: hits, want the program's own count`).toBe(count);
        expect(Number(row![7]), `${strategy} pid ${pid}: breakpoint copies`).toBe(strategy === "cow" ? 1 : 0);
      }
      const others = [...table.entries()].filter(([pid]) => !own.some(([p]) => p === pid));
      expect(others.length, `${strategy}: the shell and ls`).toBe(2);
      for (const [pid, row] of others) expect(Number(row[2]), `${strategy} pid ${pid} (${row[1]}): hits`).toBe(0);
    }
  });
});
