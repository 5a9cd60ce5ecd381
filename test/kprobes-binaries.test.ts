/**
 * kprobes on whole binaries: a static program (gcc -static), a PIE (plain
 * gcc: dynamically linked, loaded at a random-looking base, so every
 * emulated branch target and RIP-relative operand is relocated), and
 * libc.so.6 as /bin/ls uses it (strlen is an IFUNC: the variant that runs
 * is found through its resolver's return value, then probed). Then what
 * consumers can do: several on one probe, a pre handler returning "remove",
 * and a filter that accepts one of two processes sharing the MemSystem and
 * the Uprobes.
 *
 * Ground truth: the same program run natively and unprobed; hit counts from
 * the program's logic (test/programs/probe_work.c: work runs 2n times,
 * twice n times).
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Process, shellStatus } from "../emu/process.js";
import { Uprobes, readSymbols, resolveSpec, type Consumer, type Probe } from "../kprobes/index.js";
import { MemSystem, PAGE_SIZE, hostFileAops, vmaPgoff } from "../mm/index.js";
import { scratchDir } from "./support/guest.js";

const dir = scratchDir();
const WORK_SRC = path.join(__dirname, "programs", "probe_work.c");
const CLASSES_SRC = path.join(__dirname, "programs", "probe_classes.c");

function gcc(src: string, out: string, flags: string[]): string {
  const bin = path.join(dir, out);
  execFileSync("gcc", ["-O1", "-fno-optimize-sibling-calls", ...flags, "-o", bin, src]);
  return bin;
}

const STATIC = gcc(WORK_SRC, "work-static", ["-static"]);
const PIE = gcc(WORK_SRC, "work-pie", []);
const CLASSES_PIE = gcc(CLASSES_SRC, "classes-pie", ["-pie", "-fPIE"]);

/** libc.so.6 as /bin/ls loads it (from ldd). */
const LIBC = (() => {
  const m = /libc\.so\.6 => (\S+)/.exec(execFileSync("ldd", ["/bin/ls"], { encoding: "utf8" }));
  return m ? m[1] : "/lib/x86_64-linux-gnu/libc.so.6";
})();

interface RunResult {
  stdout: string;
  code: number;
}

function runNative(argv: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env });
  return { stdout: r.stdout, code: r.status ?? -1 };
}

/**
 * Runs `argv` under faultline in `sys`, with `uprobes` attached (when
 * given), or returns the Process un-run when `hold` (see runHeld).
 */
function runGuest(sys: MemSystem, uprobes: Uprobes | null, argv: string[], env: string[] = []): RunResult {
  const g = startGuest(sys, uprobes, argv, env);
  try {
    return g.run();
  } finally {
    g.proc.destroy();
  }
}

/** A process exec'd and attached, not yet run. */
function startGuest(sys: MemSystem, uprobes: Uprobes | null, argv: string[], env: string[] = []) {
  const chunks: Buffer[] = [];
  const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) chunks.push(Buffer.from(d)); }, timeoutMs: 60_000 });
  const loaded = proc.exec(argv[0], argv, env);
  if (uprobes) uprobes.attach(proc);
  return {
    proc,
    run(): RunResult {
      const status = proc.run(loaded.entry, loaded.rsp);
      return { stdout: Buffer.concat(chunks).toString(), code: shellStatus(status) };
    },
  };
}

/** A consumer counting its pre/post/ret calls. */
function counter(extra: Partial<Consumer> = {}) {
  const c = { pre: 0, post: 0, ret: 0 };
  const consumer: Consumer = {
    pre: (ctx) => { c.pre++; return extra.pre?.(ctx); },
    post: (ctx) => { c.post++; extra.post?.(ctx); },
    ...(extra.ret ? { ret: (ctx) => { c.ret++; extra.ret!(ctx); } } : {}),
    ...(extra.filter ? { filter: extra.filter } : {}),
  };
  return { c, consumer };
}

/** A fresh MemSystem + Uprobes, closed after `fn`. */
async function withSystem<T>(fn: (sys: MemSystem, uprobes: Uprobes) => Promise<T>): Promise<T> {
  const sys = new MemSystem();
  try {
    return await fn(sys, new Uprobes(sys));
  } finally {
    sys.sync();
    sys.close();
  }
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

describe("static and PIE executables", () => {
  const BINARIES = [
    { name: "static (gcc -static)", bin: STATIC },
    { name: "PIE (plain gcc, dynamically linked)", bin: PIE },
  ];
  for (const { name, bin } of BINARIES) {
    it(`${name}: work hits 2n, twice hits n, the call inside twice hits 2n; output as native`, async () => {
      const n = 9;
      const native = runNative([bin, String(n)]);
      expect(native.stdout).toMatch(/^n 9 sum \d+\n$/);
      await withSystem(async (sys, uprobes) => {
        const elf = readSymbols(bin);
        // the first call instruction of twice (a call rel32: emulated, with the PIE's load delta)
        const dis = execFileSync("objdump", ["--disassemble=twice", "--no-show-raw-insn", bin], { encoding: "utf8" });
        const twiceAt = resolveSpec(elf, "twice").vaddr;
        const callLine = dis.split("\n").find((l) => /^\s+[0-9a-f]+:\s+call\s+[0-9a-f]+ <work>/.test(l) && parseInt(l, 16) >= twiceAt)!;
        const callOff = parseInt(callLine, 16) - twiceAt;
        const specs = { work: 2 * n, twice: n, [`twice+${callOff}`]: n };
        const probes: [string, Probe, { pre: number; post: number }][] = [];
        for (const spec of Object.keys(specs)) {
          const { c, consumer } = counter();
          probes.push([spec, await uprobes.register(bin, spec, consumer), c]);
        }
        const r = runGuest(sys, uprobes, [bin, String(n)]);
        expect(r.stdout, "stdout: got (probed) vs want (native)").toBe(native.stdout);
        expect(r.code, `exit: got ${r.code}, want ${native.code}`).toBe(native.code);
        for (const [spec, probe, c] of probes) {
          const want = specs[spec];
          expect(probe.hits, `${spec} (${probe.text}): hits got ${probe.hits}, want ${want}`).toBe(want);
          expect([c.pre, c.post], `${spec}: pre/post calls`).toEqual([want, want]);
        }
      });
    });
  }

  it("PIE: every instruction class of probe_classes at once (relocated targets and RIP-relative operands)", async () => {
    const N = 4;
    const labels = execFileSync("nm", [CLASSES_PIE], { encoding: "utf8" }).split("\n")
      .map((l) => l.trim().split(/\s+/)[2]).filter((s) => s?.startsWith("kp_") && !/^kp_(int3|int80|int1|loop|jrcxz|mid|bad_|rep_)/.test(s));
    const want: Record<string, number> = Object.fromEntries(labels.map((l) => [l, N]));
    want.kp_jcc_loop = (N * (N + 1)) / 2;
    want.kp_ret = 5 * N;
    await withSystem(async (sys, uprobes) => {
      const unprobed = runGuest(sys, null, [CLASSES_PIE, String(N)]);
      const probes = await Promise.all(labels.map((l) => uprobes.register(CLASSES_PIE, l, {})));
      const r = runGuest(sys, uprobes, [CLASSES_PIE, String(N)]);
      expect(r.stdout, "stdout: got (probed) vs want (unprobed)").toBe(unprobed.stdout);
      expect(r.code, "exit status").toBe(unprobed.code);
      const got = Object.fromEntries(labels.map((l, k) => [l, probes[k].hits]));
      expect(got, "hits per label").toEqual(want);
    });
  });
});

describe(`libc.so.6 (${LIBC}) of /bin/ls`, () => {
  // A directory of our own, with fixed times, two levels down (so "." and ".." are ours too).
  const lsDir = path.join(dir, "ls", "a", "b");
  fs.mkdirSync(lsDir, { recursive: true });
  for (const f of ["one", "two-longer-name", "three.c"]) fs.writeFileSync(path.join(lsDir, f), f.repeat(3));
  const t = new Date("2020-02-02T02:02:02Z");
  for (const p of [...["one", "two-longer-name", "three.c"].map((f) => path.join(lsDir, f)), lsDir, path.dirname(lsDir)]) fs.utimesSync(p, t, t);
  const LS = ["/bin/ls", "-la", lsDir];
  const ENV = ["LC_ALL=C", "TZ=UTC"];

  it("strlen is an IFUNC: its resolver's return value names the variant that runs; that variant gets hits, ls's output is unchanged", async () => {
    const native = runNative(LS, { LC_ALL: "C", TZ: "UTC" });
    expect(native.code).toBe(0);
    const elf = readSymbols(LIBC);
    const strlen = elf.symbols.find((s) => s.name === "strlen" && s.ifunc);
    expect(strlen, "strlen is an STT_GNU_IFUNC symbol of libc").toBeDefined();

    // Run 1: a return probe on the resolver; the return value (RAX) is the chosen implementation.
    const chosen = await withSystem(async (sys, uprobes) => {
      const offsets = new Set<number>();
      const resolver = await uprobes.register(LIBC, "strlen", {
        ret: (ctx) => {
          const va = ctx.retval!;
          const vma = ctx.proc.mm.vmas.find(va);
          expect(vma?.file, `strlen resolver returned 0x${va.toString(16)}, which no file mapping holds`).toBeTruthy();
          offsets.add(vmaPgoff(vma!, va - (va % PAGE_SIZE)) * PAGE_SIZE + (va % PAGE_SIZE));
        },
      });
      const r = runGuest(sys, uprobes, LS, ENV);
      expect(r.stdout, "ls stdout with the resolver probed").toBe(native.stdout);
      expect(resolver.hits, "the resolver ran at least once").toBeGreaterThan(0);
      expect(resolver.returns, `resolver returns got ${resolver.returns}, want its hits ${resolver.hits}`).toBe(resolver.hits);
      expect(offsets.size, `one variant chosen, got ${[...offsets].map((o) => o.toString(16))}`).toBe(1);
      return [...offsets][0];
    });

    // Run 2: probe the chosen variant by file offset.
    await withSystem(async (sys, uprobes) => {
      const unprobed = runGuest(sys, null, LS, ENV);
      const variant = await uprobes.register(LIBC, { offset: chosen }, {});
      const r = runGuest(sys, uprobes, LS, ENV);
      expect(r.stdout, "ls stdout: got (probed) vs want (unprobed)").toBe(unprobed.stdout);
      expect(r.stdout, "ls stdout: got (probed) vs want (native)").toBe(native.stdout);
      expect(r.code).toBe(0);
      expect(variant.hits, `strlen variant at file offset 0x${chosen.toString(16)} (${variant.text}): hits`).toBeGreaterThan(0);
    });
  });

  // libc.so.6 of Debian is stripped: .dynsym has strlen (the IFUNC) but no __strlen_* variants.
  const variants = readSymbols(LIBC).symbols.filter((s) => /^__strlen_/.test(s.name) && s.size > 0);
  it.skipIf(variants.length === 0)(`__strlen_* names in libc's symbols (${variants.length} found): at least one gets hits`, async () => {
    await withSystem(async (sys, uprobes) => {
      const unprobed = runGuest(sys, null, LS, ENV);
      const probes = await Promise.all(variants.map((v) => uprobes.register(LIBC, v.name, {})));
      const r = runGuest(sys, uprobes, LS, ENV);
      expect(r.stdout).toBe(unprobed.stdout);
      const hits = Object.fromEntries(variants.map((v, k) => [v.name, probes[k].hits]));
      expect(Object.values(hits).some((h) => h > 0), `hits per variant: ${JSON.stringify(hits)}`).toBe(true);
    });
  });
});

describe("consumers", () => {
  const n = 6;

  it("three consumers on one probe: one Probe, each consumer called 2n times, probe.hits 2n", async () => {
    await withSystem(async (sys, uprobes) => {
      const cs = [counter(), counter(), counter()];
      const probes = [];
      for (const { consumer } of cs) probes.push(await uprobes.register(STATIC, "work", consumer));
      expect(new Set(probes).size, "register returns the same Probe for the same instruction").toBe(1);
      expect(probes[0].consumers.length).toBe(3);
      const r = runGuest(sys, uprobes, [STATIC, String(n)]);
      expect(r.stdout).toBe(runNative([STATIC, String(n)]).stdout);
      expect(probes[0].hits, `hits got ${probes[0].hits}, want ${2 * n}`).toBe(2 * n);
      expect(cs.map(({ c }) => [c.pre, c.post]), "pre/post per consumer").toEqual([[2 * n, 2 * n], [2 * n, 2 * n], [2 * n, 2 * n]]);
    });
  });

  it('a pre handler returning "remove": that consumer is called once, the others every time; the probe stays', async () => {
    await withSystem(async (sys, uprobes) => {
      const once = counter({ pre: () => "remove" });
      const always = counter();
      const probe = await uprobes.register(STATIC, "work", once.consumer);
      await uprobes.register(STATIC, "work", always.consumer);
      const r = runGuest(sys, uprobes, [STATIC, String(n)]);
      expect(r.stdout).toBe(runNative([STATIC, String(n)]).stdout);
      expect(once.c.pre, `removed consumer: pre calls got ${once.c.pre}, want 1`).toBe(1);
      expect(always.c.pre, `other consumer: pre calls got ${always.c.pre}, want ${2 * n}`).toBe(2 * n);
      expect(probe.hits).toBe(2 * n);
      expect(probe.consumers, "only the other consumer is left").toEqual([always.consumer]);
      expect(uprobes.all()).toEqual([probe]);
    });
  });

  // kprobes/trap.ts onBreakpoint: when the pre handler's "remove" unregisters the last consumer,
  // Uprobes.unregister deletes the probe's plan, and onBreakpoint then reads this.table.plan(probe)
  // (undefined) and plan.kind: TypeError "Cannot read properties of undefined (reading 'kind')",
  // thrown out of proc.run (a host crash, not a guest signal). The plan (or the probe's insn and class)
  // must be taken before the handlers run, as Linux's handler_chain runs before the insn is stepped.
  it('a pre handler returning "remove" as the last consumer: later hits 0, original bytes back in the page cache', async () => {
    await withSystem(async (sys, uprobes) => {
      const only = counter({ pre: () => "remove" });
      const probe = await uprobes.register(STATIC, "work", only.consumer);
      const mapping = sys.openFile(STATIC, false);
      const index = Math.floor(probe.offset / PAGE_SIZE);
      const r = runGuest(sys, uprobes, [STATIC, String(n)]);
      expect(r.stdout, "stdout").toBe(runNative([STATIC, String(n)]).stdout);
      expect(only.c.pre, "pre calls").toBe(1);
      expect(probe.hits, `hits got ${probe.hits}, want 1 (the breakpoint is gone after the first)`).toBe(1);
      expect(uprobes.all(), "no probe left").toEqual([]);
      expect(mapping.aops, "original vtable back").toBe(hostFileAops);
      expect(mapping.pages.has(index), "the probed page is cached").toBe(true);
      expect(Buffer.from(mapping.pageBytes(index)).equals(filePage(STATIC, index)), "cached page = the file's bytes").toBe(true);
      const again = runGuest(sys, uprobes, [STATIC, String(n)]);
      expect(again.stdout).toBe(r.stdout);
      expect(probe.hits, "no hit in a later run").toBe(1);
    });
  });

  it("filter: two processes share the MemSystem and the Uprobes; handlers run for the accepted one only, probe.hits counts both", async () => {
    await withSystem(async (sys, uprobes) => {
      const nA = 3, nB = 5;
      let accepted: Process | undefined;
      const rets: number[] = [];
      const f = counter({ filter: (p) => p === accepted, ret: (ctx) => { rets.push(ctx.retval!); } });
      const all = counter();
      const probe = await uprobes.register(STATIC, "work", f.consumer);
      await uprobes.register(STATIC, "work", all.consumer);
      // Both exist at once (their text pages are the same page-cache pages); A is accepted.
      const a = startGuest(sys, uprobes, [STATIC, String(nA)]);
      const b = startGuest(sys, uprobes, [STATIC, String(nB)]);
      accepted = a.proc;
      try {
        const rb = b.run();
        const ra = a.run();
        expect(ra.stdout, "A stdout").toBe(runNative([STATIC, String(nA)]).stdout);
        expect(rb.stdout, "B stdout").toBe(runNative([STATIC, String(nB)]).stdout);
      } finally {
        a.proc.destroy();
        b.proc.destroy();
      }
      expect(probe.hits, `probe.hits got ${probe.hits}, want ${2 * nA + 2 * nB} (both processes)`).toBe(2 * nA + 2 * nB);
      expect([f.c.pre, f.c.post, f.c.ret], "filtered consumer pre/post/ret: process A's calls only").toEqual([2 * nA, 2 * nA, 2 * nA]);
      expect([all.c.pre, all.c.post], "unfiltered consumer").toEqual([2 * nA + 2 * nB, 2 * nA + 2 * nB]);
      // work(x) = 3x + 7 for x = 0..nA (twice(i) calls work(i), work(i+1))
      const want = Array.from({ length: nA }, (_, i) => [3 * i + 7, 3 * (i + 1) + 7]).flat();
      expect(rets, "return values seen by the filtered ret handler").toEqual(want);
    });
  });
});
