/**
 * kprobes under demand paging, the point of the aops design: a probe names
 * (file, offset), so it must hold whether its page was never read, is
 * already cached (and mapped, and its code translated, in a live process),
 * or is evicted under a RAM limit and read again during the run; the last
 * probe of a file must give back the original vtable and bytes. And the
 * known side effect of patching the page cache: read() of the probed file
 * shows the breakpoint.
 *
 * test/programs/probe_paging.c: probed() alone on its text page, called
 * once per round; with a file argument each round also scans that file
 * through a private mapping. Ground truth: the native run; hits = rounds.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Process, shellStatus } from "../emu/process.js";
import { Uprobes, readSymbols, resolveSpec, AopsStrategy } from "../kprobes/index.js";
import { MemSystem, PAGE_SIZE, hostFileAops, type AddressSpace, type AddressSpaceOperations, type MmConfig } from "../mm/index.js";
import { scratchDir } from "./support/guest.js";

const dir = scratchDir();
const BIN = path.join(dir, "probe_paging");
execFileSync("gcc", ["-O1", "-static", "-o", BIN, path.join(__dirname, "programs", "probe_paging.c")]);
const BIG = path.join(dir, "big.bin");
fs.writeFileSync(BIG, crypto.randomBytes(16 << 20));
const BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"].find((p) => fs.existsSync(p));

const elf = readSymbols(BIN);
const PROBED = resolveSpec(elf, "probed");
const PROBED_PAGE = Math.floor(PROBED.offset / PAGE_SIZE);
const BREAKPOINT = 0xcc;

interface RunResult {
  stdout: string;
  code: number;
}

function native(args: string[]): RunResult {
  const r = spawnSync(BIN, args, { encoding: "utf8" });
  return { stdout: r.stdout, code: r.status ?? -1 };
}

/** Runs argv in a new process of `sys`, attached to `uprobes` when given. */
function runGuest(sys: MemSystem, uprobes: Uprobes | null, argv: string[]): RunResult {
  const chunks: Buffer[] = [];
  const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) chunks.push(Buffer.from(d)); }, timeoutMs: 120_000 });
  try {
    const loaded = proc.exec(argv[0], argv, []);
    if (uprobes) uprobes.attach(proc);
    const status = proc.run(loaded.entry, loaded.rsp);
    return { stdout: Buffer.concat(chunks).toString(), code: shellStatus(status) };
  } finally {
    proc.destroy();
  }
}

function system(config: Partial<MmConfig> = {}): { sys: MemSystem; uprobes: Uprobes; done: () => void } {
  const sys = new MemSystem(config);
  // This file tests the aops design itself (its vtable, reads through the wrapper, the raw 0xCC a
  // read() finds), whatever $FAULTLINE_PROBE_STRATEGY says; kprobes-strategies covers the others.
  return { sys, uprobes: new Uprobes(sys, new AopsStrategy(), { maskReads: false }), done: () => { sys.sync(); sys.close(); } };
}

/** The host file's bytes of page `index`. */
function filePage(file: string, index: number): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const b = Buffer.alloc(PAGE_SIZE);
    fs.readSync(fd, b, 0, PAGE_SIZE, index * PAGE_SIZE);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

const cachedByte = (m: AddressSpace, offset: number) => m.pageBytes(Math.floor(offset / PAGE_SIZE))[offset % PAGE_SIZE];

describe("probe_paging layout (preconditions)", () => {
  it("probed() is alone on its text page: main and next_page are on other pages", () => {
    const page = (name: string) => Math.floor(resolveSpec(elf, name).offset / PAGE_SIZE);
    expect(page("main"), "main's page").not.toBe(PROBED_PAGE);
    expect(page("next_page"), "next_page's page").not.toBe(PROBED_PAGE);
    expect(PROBED.offset % PAGE_SIZE, "probed() starts its page").toBe(0);
  });
});

describe("when the probe is registered", () => {
  const ROUNDS = 7;

  it("before the process starts and before its page was ever read: hits = rounds", async () => {
    const { sys, uprobes, done } = system();
    try {
      const probe = await uprobes.register(BIN, "probed", {});
      const mapping = sys.openFile(BIN, false);
      expect(mapping.pages.has(PROBED_PAGE), `page ${PROBED_PAGE} cached at registration`).toBe(false);
      expect(mapping.aops, "the file's vtable is the probes' wrapper").not.toBe(hostFileAops);
      const r = runGuest(sys, uprobes, [BIN, String(ROUNDS)]);
      expect(r, "probed run vs native").toEqual(native([String(ROUNDS)]));
      expect(probe.hits, `hits got ${probe.hits}, want ${ROUNDS}`).toBe(ROUNDS);
      expect(mapping.pages.has(PROBED_PAGE), "the page was read by the run").toBe(true);
      expect(cachedByte(mapping, PROBED.offset), "the page read through the wrapper holds the breakpoint").toBe(BREAKPOINT);
    } finally {
      done();
    }
  });

  it("after the page is cached (a first, unprobed run), for a new process sharing the MemSystem: hits = rounds", async () => {
    const { sys, uprobes, done } = system();
    try {
      const first = runGuest(sys, null, [BIN, String(ROUNDS)]);
      expect(first, "unprobed run vs native").toEqual(native([String(ROUNDS)]));
      const mapping = sys.openFile(BIN, false);
      expect(mapping.pages.has(PROBED_PAGE), "page cached by the first run").toBe(true);
      const probe = await uprobes.register(BIN, "probed", {});
      expect(cachedByte(mapping, PROBED.offset), "registration patched the cached page in place").toBe(BREAKPOINT);
      const r = runGuest(sys, uprobes, [BIN, String(ROUNDS)]);
      expect(r, "probed run vs native").toEqual(native([String(ROUNDS)]));
      expect(probe.hits, `hits got ${probe.hits}, want ${ROUNDS}`).toBe(ROUNDS);
    } finally {
      done();
    }
  });

  it("while a live process maps the page and has run (translated) its code: the next run of that process hits", async () => {
    // A libc-free program: _start calls f ten times (r = f(r), f adds 3) and exits with r = 30.
    // Without libc it can be started again in the same process: its memory stays, pages and translations too.
    const src = path.join(dir, "live.c");
    fs.writeFileSync(src, `
__attribute__((noinline)) long f(long x) { return x + 3; }
void _start(void) {
  long r = 0;
  for (int i = 0; i < 10; i++) r = f(r);
  asm volatile("mov %0, %%rdi\\n\\tmov $231, %%eax\\n\\tsyscall" :: "r"(r) : "rdi", "rax");
  __builtin_unreachable();
}
`);
    const live = path.join(dir, "live");
    execFileSync("gcc", ["-O1", "-static", "-nostdlib", "-o", live, src]);
    const { sys, uprobes, done } = system();
    const proc = new Process(sys, { timeoutMs: 60_000 });
    try {
      const loaded = proc.exec(live, [live], []);
      uprobes.attach(proc);
      const r1 = proc.run(loaded.entry, loaded.rsp);
      expect(r1, "unprobed").toEqual({ kind: "exited", code: 30 });
      const mapping = sys.openFile(live, false);
      const fOff = resolveSpec(readSymbols(live), "f").offset;
      const page = mapping.pages.get(Math.floor(fOff / PAGE_SIZE));
      expect(page?.rmap.length, "f's page is cached and mapped in the live process").toBe(1);
      const probe = await uprobes.register(live, "f", {});
      const r2 = proc.run(loaded.entry, loaded.rsp);
      expect(r2, "probed, same process").toEqual({ kind: "exited", code: 30 });
      expect(probe.hits, `hits got ${probe.hits}, want 10`).toBe(10);
      // unregistering while it is still mapped takes the breakpoint out of that process too
      uprobes.unregister(probe, probe.consumers[0]);
      expect(mapping.aops, "original vtable back").toBe(hostFileAops);
      const r3 = proc.run(loaded.entry, loaded.rsp);
      expect(r3, "after unregister").toEqual({ kind: "exited", code: 30 });
      expect(probe.hits, "no hit after unregister").toBe(10);
    } finally {
      proc.destroy();
      done();
    }
  });
});

describe("under a RAM limit that evicts the probed text page during the run", () => {
  it("the page is read again (through the wrapper) and every call still hits; output as native", async () => {
    const ROUNDS = 6;
    const { sys, uprobes, done } = system({ ramLimitPages: 128 });
    try {
      const probe = await uprobes.register(BIN, "probed", {});
      // Count reads of the probed page by wrapping the probes' wrapper (restored before unregister).
      const mapping = sys.openFile(BIN, false);
      const inner = mapping.aops;
      let reads = 0;
      const count: AddressSpaceOperations = {
        readpage: (m, p) => { if (p.index === PROBED_PAGE) reads++; inner.readpage(m, p); },
        ...(inner.readpages ? { readpages: (m, ps) => { reads += ps.filter((p) => p.index === PROBED_PAGE).length; inner.readpages!(m, ps); } } : {}),
        ...(inner.writepage ? { writepage: inner.writepage } : {}),
      };
      mapping.setAops(count);
      const r = runGuest(sys, uprobes, [BIN, String(ROUNDS), BIG]);
      mapping.setAops(inner);
      expect(r, "probed run vs native").toEqual(native([String(ROUNDS), BIG]));
      expect(sys.counters.evictions, "evictions").toBeGreaterThan(0);
      expect(reads, `reads of the probed page: got ${reads}, want > 1`).toBeGreaterThan(1);
      expect(probe.hits, `hits got ${probe.hits}, want ${ROUNDS}`).toBe(ROUNDS);
    } finally {
      done();
    }
  });
});

describe("unregistering", () => {
  it("the last probe of a file: mapping.aops is hostFileAops again, the cached page equals the file, later runs do not hit", async () => {
    const { sys, uprobes, done } = system();
    try {
      const consumer = {};
      const probe = await uprobes.register(BIN, "probed", consumer);
      const second = await uprobes.register(BIN, "main", consumer);
      const mapping = sys.openFile(BIN, false);
      runGuest(sys, uprobes, [BIN, "3"]);
      expect([probe.hits, second.hits]).toEqual([3, 1]);
      const mainPage = Math.floor(second.offset / PAGE_SIZE);
      uprobes.unregister(second, consumer);
      expect(mapping.aops, "one probe left: still the wrapper").not.toBe(hostFileAops);
      expect(cachedByte(mapping, second.offset), "main's byte restored").toBe(filePage(BIN, mainPage)[second.offset % PAGE_SIZE]);
      expect(cachedByte(mapping, PROBED.offset), "probed's breakpoint stays").toBe(BREAKPOINT);
      uprobes.unregister(probe, consumer);
      expect(mapping.aops, "last probe gone: the original vtable").toBe(hostFileAops);
      expect(uprobes.all()).toEqual([]);
      for (const index of [PROBED_PAGE, mainPage]) {
        expect(Buffer.from(mapping.pageBytes(index)).equals(filePage(BIN, index)), `cached page ${index} = the file's bytes`).toBe(true);
      }
      const r = runGuest(sys, uprobes, [BIN, "3"]);
      expect(r).toEqual(native(["3"]));
      expect([probe.hits, second.hits], "no hits after unregister").toEqual([3, 1]);
    } finally {
      done();
    }
  });

  it("a probe whose page was never read: the vtable comes back and nothing is cached", async () => {
    const { sys, uprobes, done } = system();
    try {
      const c = {};
      const probe = await uprobes.register(BIN, "probed", c);
      uprobes.unregister(probe, c);
      const mapping = sys.openFile(BIN, false);
      expect(mapping.aops).toBe(hostFileAops);
      expect(mapping.pages.size).toBe(0);
    } finally {
      done();
    }
  });
});

describe("a process's private copy of the probed page (it wrote to its own text: the design's documented limit)", () => {
  const ROUNDS = 5;
  /** Runs probe_paging ROUNDS "" MODE with a probe on probed() that marker's handler unregisters in round `at` (never: -1). */
  async function run(mode: string, at: number) {
    const { sys, uprobes, done } = system();
    try {
      const c = {};
      const probe = await uprobes.register(BIN, "probed", c);
      const marker = await uprobes.register(BIN, "marker", { pre: (ctx) => { if (ctx.args()[0] === at) uprobes.unregister(probe, c); } });
      const r = runGuest(sys, uprobes, [BIN, String(ROUNDS), "", mode]);
      return { r, hits: probe.hits, marker: marker.hits, copies: sys.counters.privateCopies };
    } finally {
      done();
    }
  }

  it("copied while the breakpoint is in the page cache: the copy keeps it, every call still hits", async () => {
    const o = await run("cow", -1);
    expect(o.r, "output and exit as native").toEqual(native([String(ROUNDS), "", "cow"]));
    expect(o.hits, `hits got ${o.hits}, want ${ROUNDS}`).toBe(ROUNDS);
  });

  it("control, no copy: unregistering mid-run (from marker's handler in round 2) stops the hits, output unchanged", async () => {
    const o = await run("nocow", 2);
    expect(o.r).toEqual(native([String(ROUNDS), "", "nocow"]));
    expect(o.hits, "rounds 0-2 hit").toBe(3);
  });

  // kprobes/strategy-aops.ts disarm -> restoreCached writes the original byte into the page-cache page
  // only. The process's private copy (made by its write after round 0, while the cache page held 0xCC)
  // keeps the 0xCC; after unregister that int3 is no probe (lookup fails), so onBreakpoint returns false
  // and the guest dies of SIGTRAP at probed() (status signaled 5, TRAP_BRKPT). Linux restores the
  // original instruction in every mm that maps the probe (remove_breakpoint -> set_orig_insn ->
  // uprobe_write_opcode, per VMA, COW pages included), and treats an int3 that is no longer a probe
  // as a restart (is_trap_at_addr), never as the guest's SIGTRAP.
  it("unregistering after the process copied the page: the guest runs on unprobed, as Linux (the breakpoint is restored in its copy too)", async () => {
    const o = await run("cow", 2);
    expect(o.copies, "the write made a private copy").toBeGreaterThan(0);
    expect(o.r, "output and exit as native").toEqual(native([String(ROUNDS), "", "cow"]));
    expect(o.hits).toBe(3);
  });
});

describe.skipIf(!BUSYBOX)("read() of the probed binary inside a guest (the aops strategy's known side effect)", () => {
  const sha = (b: Uint8Array) => crypto.createHash("sha256").update(b).digest("hex");
  const real = sha(fs.readFileSync(BIN));
  const withBreakpoint = (() => {
    const b = fs.readFileSync(BIN);
    b[PROBED.offset] = BREAKPOINT;
    return sha(b);
  })();
  const sha256sum = (sys: MemSystem, uprobes: Uprobes) => {
    const r = runGuest(sys, uprobes, [BUSYBOX!, "sha256sum", BIN]);
    expect(r.code, "busybox sha256sum exit").toBe(0);
    return r.stdout.split(/\s+/)[0];
  };

  it("shows the breakpoint: busybox sha256sum gives the hash of the file with 0xCC at the probe, not the file's", async () => {
    const { sys, uprobes, done } = system();
    try {
      expect(sha256sum(sys, uprobes), "unprobed: the file's real sha256").toBe(real);
      // Page cached by that read; register now: the cache page gets 0xCC in place.
      const c = {};
      const probe = await uprobes.register(BIN, "probed", c);
      expect(sys.openFile(BIN, false).pages.has(PROBED_PAGE), "probed page cached").toBe(true);
      const got = sha256sum(sys, uprobes);
      expect(got, "read() of the cached, probed page shows 0xCC (differs from the real sha256)").not.toBe(real);
      expect(got, "= sha256 of the file with 0xCC at the probed offset").toBe(withBreakpoint);
      uprobes.unregister(probe, c);
      expect(sha256sum(sys, uprobes), "after unregister: the real sha256 again").toBe(real);
    } finally {
      done();
    }
  });

  it("also when the page was not cached at registration: read() goes through the wrapper's ->readpages", async () => {
    const { sys, uprobes, done } = system();
    try {
      await uprobes.register(BIN, "probed", {});
      expect(sys.openFile(BIN, false).pages.has(PROBED_PAGE)).toBe(false);
      expect(sha256sum(sys, uprobes)).toBe(withBreakpoint);
    } finally {
      done();
    }
  });
});
