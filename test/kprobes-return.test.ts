/**
 * Return probes (kprobes/uretprobe.ts): one return per call for a recursive
 * function, nested probed functions returning in order, the return values
 * the ret handlers see, longjmp skipping probed frames, and the depth limit
 * (Linux's MAX_URETPROBE_DEPTH = 64: the 65th and deeper outstanding calls
 * return unprobed).
 *
 * test/programs/probe_return.c, built with gcc -O1 -static (no sibling-call
 * optimisation, so every call returns through its own frame). Ground truth:
 * the program run natively; counts and values computed here from the
 * program's logic (fib(n) makes 2 fib(n+1) - 1 calls). The longjmp cases
 * mirror Linux's selftest tools/testing/selftests/bpf/prog_tests/uretprobe_depth.c
 * (uretprobe_longjmp, uretprobe_cleanup_return_instances,
 * uretprobe_reach_nestedness_limit).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Process, shellStatus } from "../emu/process.js";
import { MAX_URETPROBE_DEPTH, Uprobes, type Consumer, type Probe } from "../kprobes/index.js";
import type { ProbeTraps } from "../kprobes/trap.js";
import { MemSystem } from "../mm/index.js";
import { scratchDir } from "./support/guest.js";

const dir = scratchDir();
const BIN = path.join(dir, "probe_return");
execFileSync("gcc", ["-O1", "-fno-optimize-sibling-calls", "-static", "-o", BIN, path.join(__dirname, "programs", "probe_return.c")]);

interface Outcome {
  stdout: string;
  code: number;
  probes: Record<string, Probe>;
  traps: ProbeTraps;
}

function native(args: string[]): { stdout: string; code: number } {
  const r = spawnSync(BIN, args, { encoding: "utf8" });
  return { stdout: r.stdout, code: r.status ?? -1 };
}

/** Runs the program with `consumers` registered on the named functions. */
async function run(args: string[], consumers: Record<string, Consumer>): Promise<Outcome> {
  const sys = new MemSystem();
  const uprobes = new Uprobes(sys);
  const chunks: Buffer[] = [];
  const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) chunks.push(Buffer.from(d)); }, timeoutMs: 60_000 });
  try {
    const loaded = proc.exec(BIN, [BIN, ...args], []);
    const probes: Record<string, Probe> = {};
    for (const [fn, c] of Object.entries(consumers)) probes[fn] = await uprobes.register(BIN, fn, c);
    const traps = uprobes.attach(proc);
    const status = proc.run(loaded.entry, loaded.rsp);
    return { stdout: Buffer.concat(chunks).toString(), code: shellStatus(status), probes, traps };
  } finally {
    proc.destroy();
    sys.sync();
    sys.close();
  }
}

function expectNative(o: Outcome, args: string[]): void {
  const n = native(args);
  expect(o.stdout, `stdout: got (probed) vs want (native) for ${args.join(" ")}`).toBe(n.stdout);
  expect(o.code, `exit: got ${o.code}, want ${n.code}`).toBe(n.code);
}

/** fib's calls in entry order (arguments) and in return order (values), as the program makes them. */
function fibTrace(n: number): { entries: number[]; returns: number[] } {
  const entries: number[] = [], returns: number[] = [];
  const fib = (k: number): number => {
    entries.push(k);
    const v = k < 2 ? k : fib(k - 1) + fib(k - 2);
    returns.push(v);
    return v;
  };
  fib(n);
  return { entries, returns };
}

describe("recursion and nesting", () => {
  it.each([1, 2, 10, 15])("fib(%i): one return per call (2 fib(n+1) - 1), ret values = fib(k) of each call in return order", async (n) => {
    const args = ["fib", String(n)];
    const want = fibTrace(n);
    const entries: number[] = [], rets: number[] = [];
    const o = await run(args, { fib: { pre: (ctx) => { entries.push(ctx.args()[0]); }, ret: (ctx) => { rets.push(ctx.retval!); } } });
    expectNative(o, args);
    const calls = want.entries.length;
    expect(o.probes.fib.hits, `fib(${n}) hits: got ${o.probes.fib.hits}, want ${calls}`).toBe(calls);
    expect(o.probes.fib.returns, `fib(${n}) returns: got ${o.probes.fib.returns}, want ${calls}`).toBe(calls);
    expect(entries, "arguments seen by pre, in call order").toEqual(want.entries);
    expect(rets, "values seen by ret, in return order").toEqual(want.returns);
    expect(rets[rets.length - 1], "the last return is fib(n)").toBe(want.returns[want.returns.length - 1]);
    expect(o.traps.returns.depth, "no return instance left").toBe(0);
    expect(o.traps.returns.skipped).toBe(0);
  });

  it("nested probed functions (outer -> middle -> inner x2): returns in order, with their values", async () => {
    const K = 4;
    const args = ["nest", String(K)];
    const seen: string[] = [];
    const ret = (fn: string): Consumer => ({ ret: (ctx) => { seen.push(`${fn}=${ctx.retval}`); } });
    const o = await run(args, { outer: ret("outer"), middle: ret("middle"), inner: ret("inner") });
    expectNative(o, args);
    const inner = (x: number) => 2 * x + 1, middle = (x: number) => inner(x) + inner(x + 10);
    const want = Array.from({ length: K }, (_, i) => [`inner=${inner(i)}`, `inner=${inner(i + 10)}`, `middle=${middle(i)}`, `outer=${3 * middle(i)}`]).flat();
    expect(seen, "returns, in order").toEqual(want);
    expect([o.probes.outer.returns, o.probes.middle.returns, o.probes.inner.returns]).toEqual([K, K, 2 * K]);
    expect(o.traps.returns.depth).toBe(0);
  });

  it("an entry consumer and a return consumer on one probe: hits and returns both = calls", async () => {
    const args = ["fib", "8"];
    let pre = 0, ret = 0;
    const sys = new MemSystem();
    const uprobes = new Uprobes(sys);
    const proc = new Process(sys, { output: () => {}, timeoutMs: 60_000 });
    try {
      const loaded = proc.exec(BIN, [BIN, ...args], []);
      const p1 = await uprobes.register(BIN, "fib", { pre: () => { pre++; } });
      const p2 = await uprobes.register(BIN, "fib", { ret: () => { ret++; } });
      expect(p1).toBe(p2);
      uprobes.attach(proc);
      expect(proc.run(loaded.entry, loaded.rsp)).toEqual({ kind: "exited", code: 0 });
      const calls = fibTrace(8).entries.length;
      expect([p1.hits, p1.returns, pre, ret]).toEqual([calls, calls, calls, calls]);
    } finally {
      proc.destroy();
      sys.close();
    }
  });
});

describe("longjmp over probed frames", () => {
  const retOf = (rets: number[]): Consumer => ({ ret: (ctx) => { rets.push(ctx.retval!); } });

  it("uretprobe_longjmp: the skipped frames never return; the output is unchanged and later returns are counted (dive(3,0): 4)", async () => {
    const args = ["longjmp", "5", "1", "3"];
    const rets: number[] = [];
    const o = await run(args, { dive: retOf(rets) });
    expectNative(o, args);
    expect(o.probes.dive.hits, "hits: 6 calls that longjmp, 4 that return").toBe(6 + 4);
    expect(o.probes.dive.returns, `returns: got ${o.probes.dive.returns}, want 4`).toBe(4);
    expect(rets, "values of dive(0..3, 0)").toEqual([100, 101, 102, 103]);
  });

  // kprobes/uretprobe.ts ReturnStack: instances a longjmp skipped are dropped only in leave() (at the
  // trampoline), and only those deeper than the returning frame; enter() never drops them. Linux's
  // prepare_uretprobe calls cleanup_return_instances at every probed entry (after its depth check): the
  // instances whose stack lies at or below the new entry's RSP are dead (arch_uretprobe_is_alive,
  // RP_CHECK_CALL) and freed, so the depth count starts over. Here the stale instances stay, count
  // toward MAX_URETPROBE_DEPTH, and later calls return unprobed once 64 are reached.
  const CLEANUP =
    "ReturnStack.enter does not drop the instances a longjmp invalidated (Linux: cleanup_return_instances in prepare_uretprobe)";
  it(`uretprobe_cleanup_return_instances: longjmp from 61 frames (under the limit), then dive(16,0): 17 returns, as Linux (${CLEANUP})`, async () => {
    const args = ["longjmp", "60", "1", "16"];
    const rets: number[] = [];
    const o = await run(args, { dive: retOf(rets) });
    expectNative(o, args);
    expect(o.probes.dive.hits).toBe(61 + 17);
    expect(o.probes.dive.returns, `returns: got ${o.probes.dive.returns}, want 17`).toBe(17);
    expect(rets).toEqual(Array.from({ length: 17 }, (_, k) => 100 + k));
  });

  it(`8 longjmps each over 11 probed frames, then dive(3,0): 4 returns, as Linux (${CLEANUP})`, async () => {
    const args = ["longjmp", "10", "8", "3"];
    const o = await run(args, { dive: retOf([]) });
    expectNative(o, args);
    expect(o.probes.dive.hits).toBe(8 * 11 + 4);
    expect(o.probes.dive.returns, `returns: got ${o.probes.dive.returns}, want 4`).toBe(4);
  });

  it("uretprobe_reach_nestedness_limit: longjmp from 64 armed frames, then dive(16,0): 0 returns (Linux keeps the stale 64: its depth check comes before the cleanup)", async () => {
    const args = ["longjmp", "63", "1", "16"];
    const o = await run(args, { dive: retOf([]) });
    expectNative(o, args);
    expect(o.probes.dive.hits).toBe(64 + 17);
    expect(o.probes.dive.returns, `returns: got ${o.probes.dive.returns}, want 0`).toBe(0);
    expect(o.traps.returns.skipped, "the 17 later calls are counted as skipped").toBe(17);
  });
});

describe(`depth beyond MAX_URETPROBE_DEPTH (${MAX_URETPROBE_DEPTH}, as Linux)`, () => {
  it.each([63, 64, 65, 100, 300])("deep(%i): every call hits; the outermost 64 return through the probe, deeper ones return unprobed; output unchanged", async (d) => {
    const args = ["deep", String(d)];
    const rets: number[] = [];
    const o = await run(args, { deep: { ret: (ctx) => { rets.push(ctx.retval!); } } });
    expectNative(o, args);
    const calls = d + 1, probed = Math.min(calls, MAX_URETPROBE_DEPTH);
    expect(o.probes.deep.hits, "hits").toBe(calls);
    expect(o.probes.deep.returns, `returns: got ${o.probes.deep.returns}, want ${probed}`).toBe(probed);
    expect(o.traps.returns.skipped, "calls returning unprobed").toBe(calls - probed);
    // deep(k) = 2k; the probed calls are the outermost ones: k = d - probed + 1 .. d, returning innermost first
    expect(rets, "values seen by ret").toEqual(Array.from({ length: probed }, (_, j) => 2 * (d - probed + 1 + j)));
    expect(o.traps.returns.depth).toBe(0);
  });
});
