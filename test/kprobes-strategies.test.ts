/**
 * The insertion strategies side by side (kprobes/strategy-*.ts): every one
 * keeps a probe's hits exact in a normal run; under a RAM limit that evicts
 * the probed page, preload without --pin loses exactly the hits after the
 * eviction (as the 2006 review predicted) while the others keep them all;
 * and the side effects: whether read() of the probed file and an unprobed
 * process mapping it see the breakpoint.
 */
import { spawnSync, execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Process, shellStatus } from "../emu/process.js";
import { strategyNamed, Uprobes, readSymbols, resolveSpec } from "../kprobes/index.js";
import { MemSystem, PAGE_SIZE, type MmConfig } from "../mm/index.js";
import { scratchDir } from "./support/guest.js";

const dir = scratchDir();
const BIN = path.join(dir, "probe_paging");
execFileSync("gcc", ["-O1", "-static", "-o", BIN, path.join(__dirname, "programs", "probe_paging.c")]);
const BIG = path.join(dir, "big.bin");
fs.writeFileSync(BIG, crypto.randomBytes(16 << 20));
const PROBED = resolveSpec(readSymbols(BIN), "probed");
const PROBED_PAGE = Math.floor(PROBED.offset / PAGE_SIZE);
const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => fs.existsSync(p))!;
const STRATEGIES = [
  { name: "aops", pin: false, patchesCache: true },
  { name: "notifier", pin: false, patchesCache: true },
  { name: "preload", pin: true, patchesCache: true },
  { name: "cow", pin: false, patchesCache: false },
] as const;

function native(args: string[]): { stdout: string; code: number } {
  const r = spawnSync(BIN, args, { encoding: "utf8" });
  return { stdout: r.stdout, code: r.status ?? -1 };
}

function run(sys: MemSystem, uprobes: Uprobes | null, argv: string[]): { stdout: string; code: number; signo?: number } {
  const chunks: Buffer[] = [];
  const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) chunks.push(Buffer.from(d)); }, timeoutMs: 120_000 });
  try {
    const loaded = proc.exec(argv[0], argv, []);
    if (uprobes) uprobes.attach(proc);
    const st = proc.run(loaded.entry, loaded.rsp);
    return { stdout: Buffer.concat(chunks).toString(), code: shellStatus(st), signo: st.kind === "signaled" ? st.signo : undefined };
  } finally {
    proc.destroy();
  }
}

function withSystem<T>(config: Partial<MmConfig>, fn: (sys: MemSystem) => Promise<T>): Promise<T> {
  const sys = new MemSystem(config);
  return fn(sys).finally(() => { sys.sync(); sys.close(); });
}

describe.each(STRATEGIES)("strategy $name", ({ name, pin, patchesCache }) => {
  const label = pin ? `${name} --pin` : name;

  it(`${label}: every call hits, output as native`, () => withSystem({}, async (sys) => {
    const uprobes = new Uprobes(sys, strategyNamed(name, pin));
    const probe = await uprobes.register(BIN, "probed", {});
    expect(run(sys, uprobes, [BIN, "5"]), "probed run vs native").toEqual(native(["5"]));
    expect(probe.hits, `hits: got ${probe.hits}, want 5`).toBe(5);
  }));

  it(`${label}: under a RAM limit that evicts the probed page, every call still hits`, () => withSystem({ ramLimitPages: 128 }, async (sys) => {
    const uprobes = new Uprobes(sys, strategyNamed(name, pin));
    const probe = await uprobes.register(BIN, "probed", {});
    const r = run(sys, uprobes, [BIN, "6", BIG]);
    expect(r, "output as native").toEqual(native(["6", BIG]));
    expect(sys.counters.evictions, "evictions happened").toBeGreaterThan(0);
    expect(probe.hits, `hits: got ${probe.hits}, want 6`).toBe(6);
  }));

  it(`${label}: read() of the probed file: masked by default, and what the page cache really holds`, () => withSystem({}, async (sys) => {
    const real = crypto.createHash("sha256").update(fs.readFileSync(BIN)).digest("hex");
    const sum = (u: Uprobes) => run(sys, u, [BUSYBOX, "sha256sum", BIN]).stdout.split(/\s+/)[0];
    const masked = new Uprobes(sys, strategyNamed(name, pin));
    const probe = await masked.register(BIN, "probed", {});
    run(sys, masked, [BIN, "1"]); // the probed page is now cached (and, for cow, copied in that process only)
    expect(sum(masked), "read() with masking: the file's real sha256").toBe(real);
    sys.readMask = undefined; // what { maskReads: false } leaves: read() returns the cache's bytes as they are
    const raw = sum(masked);
    if (patchesCache) expect(raw, `${label} writes 0xCC into the page cache, so an unmasked read() sees it`).not.toBe(real);
    else expect(raw, "cow never writes the page cache: read() sees the file").toBe(real);
    masked.unregister(probe, probe.consumers[0]);
  }));

  it(`${label}: an unprobed process mapping the same file ${patchesCache ? "traps (reported: SIGTRAP)" : "does not trap"}`, () => withSystem({}, async (sys) => {
    const uprobes = new Uprobes(sys, strategyNamed(name, pin));
    await uprobes.register(BIN, "probed", {});
    run(sys, uprobes, [BIN, "1"]); // a probed process first: the page is read (and patched, where the strategy does)
    const other = run(sys, null, [BIN, "2"]); // not attached: no trap handler
    if (patchesCache) {
      expect(other.signo, `an unattached process finds the page-cache breakpoint: got ${JSON.stringify(other)}`).toBe(5);
    } else {
      expect(other, "cow: the other process runs as native").toEqual(native(["2"]));
    }
  }));
});

describe("preload without --pin: the failure the review predicted", () => {
  it("the probed page is evicted and read back unpatched: the hits after the eviction are lost, exactly", () => withSystem({ ramLimitPages: 128 }, async (sys) => {
    const uprobes = new Uprobes(sys, strategyNamed("preload", false));
    const mapping = sys.openFile(BIN, false);
    // Count the reads of the probed page: the first comes from registration, each later one is an unpatched refault.
    const orig = mapping.aops;
    let refaults = 0;
    mapping.setAops({
      readpage: (m, p) => { if (p.index === PROBED_PAGE) refaults++; orig.readpage(m, p); },
      readpages: (m, ps) => { refaults += ps.filter((p) => p.index === PROBED_PAGE).length; orig.readpages!(m, ps); },
      writepage: orig.writepage,
    });
    const probe = await uprobes.register(BIN, "probed", {});
    refaults = 0; // registration's own read
    const r = run(sys, uprobes, [BIN, "6", BIG]);
    mapping.setAops(orig);
    expect(r, "the program itself is unaffected").toEqual(native(["6", BIG]));
    expect(refaults, "the probed page was evicted and read again").toBeGreaterThan(0);
    // probe_paging calls probed() once per round, then scans BIG (4,096 pages through a 128-page
    // limit), which evicts probed()'s page: round 1 hits the preloaded breakpoint, rounds 2-6 run on
    // a page read back without it. Shortfall: exactly 5 of 6.
    expect(probe.hits, `hits: got ${probe.hits}, want 1 (5 lost)`).toBe(1);
  }));
});
