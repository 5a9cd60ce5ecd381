/**
 * Return probes whose entries the engine takes itself (engine patch 0011,
 * kprobes/uretprobe.ts): a return-only probe's first entry in a task goes
 * through the trap path, which gives the entry to the engine; later entries
 * never reach JavaScript, until what the entry was derived from changes: the
 * address space's areas (an mmap), the probe's consumers (one removed), the
 * task (a fork child has its own engine). Whatever the engine took, every
 * call is a hit and a return, with the value the program printed natively.
 *
 * test/programs/probe_return_engine.c (gcc -O1 -static, f starts with a push).
 * Ground truth: the native run's lines (one per call of f, with its value).
 * Which entries the engine took is the patch's own behaviour, counted here
 * from the program's structure: on engines without the patch, none.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Process, shellStatus } from "../emu/process.js";
import { Uprobes, type Consumer } from "../kprobes/index.js";
import { MemSystem } from "../mm/index.js";
import { scratchDir } from "./support/guest.js";

const dir = scratchDir();
const BIN = path.join(dir, "probe_return_engine");
execFileSync("gcc", ["-O1", "-fcf-protection=none", "-static", "-o", BIN, path.join(__dirname, "programs", "probe_return_engine.c")]);

interface Case {
  name: string;
  args: string[];
  /** Entries the engine takes on faultline's build, from the program's structure. */
  engine: number;
  /** A consumer with a pre handler that removes itself after this many entries (then the probe is return-only). */
  preFor?: number;
}

const CASES: Case[] = [
  { name: "40 calls: all but the first taken by the engine", args: ["loop", "40"], engine: 39 },
  { name: "mmap and munmap after every second call: the first after each goes to JavaScript", args: ["remap", "10"], engine: 10 },
  { name: "a pre consumer that removes itself at the 5th entry: the engine takes them from the 6th", args: ["loop", "20"], engine: 15, preFor: 5 },
  { name: "fork: the child's engine gets its own entry (each task's first goes to JavaScript)", args: ["fork", "5"], engine: 4 + 5 + 4 },
];

/** f's values in the native run's order ("who f(i)=v" lines). */
function nativeValues(stdout: string): number[] {
  return stdout.trim().split("\n").map((l) => Number(l.split("=")[1]));
}

describe("return probes taken by the engine", () => {
  it.each(CASES)("$name", async (c) => {
    const native = spawnSync(BIN, c.args, { encoding: "utf8" });
    expect(native.status, `native exit: got ${native.status}, want 0`).toBe(0);
    const want = nativeValues(native.stdout);
    const sys = new MemSystem();
    const uprobes = new Uprobes(sys);
    const chunks: Buffer[] = [];
    const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) chunks.push(Buffer.from(d)); }, timeoutMs: 60_000 });
    try {
      const loaded = proc.exec(BIN, [BIN, ...c.args], []);
      const rets: number[] = [];
      const probe = await uprobes.register(BIN, "f", { ret: (ctx) => { rets.push(ctx.retval!); } });
      let pres = 0;
      if (c.preFor !== undefined) {
        const pre: Consumer = { pre: () => (++pres === c.preFor ? "remove" : undefined) };
        await uprobes.register(BIN, "f", pre);
      }
      uprobes.attach(proc);
      const onBuild = proc.engine.lib.patches.includes("0011-uretprobe-entries-in-the-engine");
      const status = proc.run(loaded.entry, loaded.rsp);
      const out = Buffer.concat(chunks).toString();
      expect(shellStatus(status), `exit status: got ${shellStatus(status)}, want 0`).toBe(0);
      expect(out, "stdout: got (probed) vs want (native)").toBe(native.stdout);
      expect(probe.hits, `hits: got ${probe.hits}, want ${want.length} (one per call)`).toBe(want.length);
      expect(probe.returns, `returns: got ${probe.returns}, want ${want.length}`).toBe(want.length);
      expect([...rets].sort((a, b) => a - b), "values the ret handlers saw (any order across processes)").toEqual([...want].sort((a, b) => a - b));
      if (c.args[0] !== "fork") expect(rets, "values in call order").toEqual(want);
      if (c.preFor !== undefined) expect(pres, `entries the pre consumer saw: got ${pres}, want ${c.preFor}`).toBe(c.preFor);
      const engine = onBuild ? c.engine : 0;
      expect(probe.engineHits, `entries the engine took: got ${probe.engineHits}, want ${engine} (${onBuild ? "faultline's build" : "a stock engine"})`).toBe(engine);
    } finally {
      proc.destroy();
      sys.close();
    }
  });
});
