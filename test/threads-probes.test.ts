/**
 * A probe registered while a process's threads run (issue 11: "a probe
 * registered while threads run is seen by all of them"), through the
 * TypeScript API, under each insertion strategy. test/programs/thread_probe.c
 * `live`: 4 worker threads call step_me in a loop while main creates and
 * joins 60 short threads; faultline's runAsync turns Node's event loop every
 * 20 ended tasks, so a register() awaited after the run has started
 * completes while the workers are in their loops. Every worker's engine has
 * translated and run step_me's page by then, so each must drop that code and
 * trap on the new breakpoint: every worker thread hits. Ground truth: the
 * native run's output (every worker called step_me) and the thread ids the
 * guest itself has (the workers are the tids that are neither the first
 * task nor a short thread: those never call step_me).
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Process, shellStatus } from "../emu/index.js";
import { Uprobes, strategyNamed } from "../kprobes/index.js";
import { MemSystem } from "../mm/index.js";
import { REPO, buildC, runNative } from "./support/native.js";

const PROG = path.join(REPO, "test", "programs", "thread_probe.c");

describe("a probe registered while threads run (thread_probe live), per strategy", () => {
  for (const s of ["aops", "notifier", "preload", "cow"]) {
    it(`${s}: every worker thread hits it, the output is native's`, async () => {
      const prog = buildC(PROG, "gcc-static", ["-pthread"]);
      const want = runNative([prog, "live"]);
      expect(want.status, `native status ${want.status}`).toBe(0);
      const sys = new MemSystem();
      const uprobes = new Uprobes(sys, strategyNamed(s));
      const out: Buffer[] = [];
      const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) out.push(Buffer.from(d)); }, timeoutMs: 120_000 });
      try {
        // Warm the disassembler (its first use waits for its module), so that the register() below
        // completes at the run's first turn of the event loop.
        const warm = await uprobes.register(prog, "step_other", {});
        uprobes.unregister(warm, warm.consumers[0]);
        const loaded = proc.exec(prog, [prog, "live"], []);
        uprobes.attach(proc);
        const hitsByTid = new Map<number, number>();
        const running = proc.runAsync(loaded.entry, loaded.rsp);
        const liveBefore = proc.kernel.live().length;
        const probe = await uprobes.register(prog, "step_me", { pre: (ctx) => { hitsByTid.set(ctx.proc.pid, (hitsByTid.get(ctx.proc.pid) ?? 0) + 1); } });
        const status = await running;
        expect(shellStatus(status), "exit status").toBe(0);
        expect(Buffer.concat(out).toString(), "stdout as native").toBe(want.stdout.toString());
        expect(liveBefore, "the workers were running when register() was called").toBeGreaterThanOrEqual(5);
        // The workers are tids 2..5 (created first, before any short thread).
        const workers = [2, 3, 4, 5].map((tid) => hitsByTid.get(tid) ?? 0);
        expect(workers.every((n) => n > 0), `hits per worker tid 2..5: got ${workers.join(", ")}, want every one > 0 (hits by tid: ${JSON.stringify([...hitsByTid])})`).toBe(true);
        expect([...hitsByTid.keys()].every((tid) => tid >= 2 && tid <= 5), `only the workers call step_me: tids ${[...hitsByTid.keys()]}`).toBe(true);
        expect(probe.hits, "the probe's count is the sum").toBe(workers.reduce((a, b) => a + b, 0));
      } finally {
        proc.destroy();
        sys.close();
      }
    }, 180_000);
  }
});
