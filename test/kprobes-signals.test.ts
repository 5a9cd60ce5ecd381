/**
 * Probes and signals together (kprobes/trap.ts with emu/signal), under every
 * insertion strategy (aops, notifier, preload --pin, cow), as Linux's
 * uprobes behave (uprobe_deny_signal, arch_uprobe_abort_xol,
 * uprobe_get_trap_addr, cleanup_return_instances):
 *
 * - a probe inside a signal handler hits, once per entry;
 * - a signal that becomes pending while a probed instruction is stepped out
 *   of line (a probe ON the syscall instruction of kill() or of the
 *   rt_sigprocmask() that unblocks it) is held until the step is done: the
 *   handler runs once per call and sees the original instruction's next
 *   address in RIP and RCX, TF clear, as natively;
 * - a fault in the stepped copy (a load from a PROT_NONE page, plain or
 *   RIP-relative through a scratch register; a divide by zero) reaches the
 *   guest's handler at the probed address (si_addr for the divide, REG_RIP,
 *   the scratch register's guest value); a handler that returns retries the
 *   instruction, which hits the probe again (hits = 2 per faulting execution,
 *   as Linux, whose abort_xol also puts IP back on the breakpoint);
 * - a return-probed function left by siglongjmp from a handler: its return
 *   instance is dropped at the next entry, so 100 jumps do not exhaust the
 *   64-deep return stack;
 * - a handler running while a return probe is pending on the interrupted
 *   function (on the same stack or an alternate one): the return is reported
 *   once, with the value the program got.
 *
 * Ground truth: the program run natively (same stdout and status) and the
 * program's own counts, which it keeps in volatile globals and prints.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Process, shellStatus } from "../emu/process.js";
import { strategyNamed, Uprobes, type Probe } from "../kprobes/index.js";
import type { ProbeTraps } from "../kprobes/trap.js";
import { MemSystem } from "../mm/index.js";
import { buildC, firstDifference, runNative } from "./support/native.js";

const BIN = buildC(path.join(__dirname, "programs", "probe_signals.c"), "gcc-static", ["-fno-optimize-sibling-calls"]);

const STRATEGIES = [
  { name: "aops", pin: false },
  { name: "notifier", pin: false },
  { name: "preload", pin: true },
  { name: "cow", pin: false },
] as const;

/** What one probed run gave. */
interface Outcome {
  stdout: Buffer;
  status: number;
  /** Per probe spec ("SYMBOL" or "ret:SYMBOL"): the probe. */
  probes: Record<string, Probe>;
  /** Per return probe: the values its ret handler saw, in order. */
  rets: Record<string, number[]>;
  traps: ProbeTraps;
}

/** Runs BIN with `args` under faultline with `specs` probed (entry probes by symbol, "ret:SYMBOL" for return probes). */
async function runProbed(strategy: (typeof STRATEGIES)[number], args: string[], specs: string[]): Promise<Outcome> {
  const sys = new MemSystem();
  const uprobes = new Uprobes(sys, strategyNamed(strategy.name, strategy.pin));
  const chunks: Buffer[] = [];
  const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) chunks.push(Buffer.from(d)); }, timeoutMs: 60_000 });
  try {
    const probes: Record<string, Probe> = {}, rets: Record<string, number[]> = {};
    for (const spec of specs) {
      const ret = spec.startsWith("ret:");
      const symbol = ret ? spec.slice(4) : spec;
      const seen: number[] = (rets[spec] = []);
      probes[spec] = await uprobes.register(BIN, symbol, ret ? { ret: (ctx) => { seen.push(ctx.retval!); } } : { pre: () => {} });
    }
    const loaded = proc.exec(BIN, [BIN, ...args], []);
    const traps = uprobes.attach(proc);
    const status = shellStatus(proc.run(loaded.entry, loaded.rsp));
    return { stdout: Buffer.concat(chunks), status, probes, rets, traps };
  } finally {
    proc.destroy();
    sys.sync();
    sys.close();
  }
}

/** The integer the program printed after `label` (e.g. "counted entries"); fails when absent. */
function printed(stdout: string, label: string): number {
  const m = new RegExp(`${label} (-?\\d+)`).exec(stdout);
  if (!m) expect.fail(`the program did not print "${label} N":\n${stdout}`);
  return Number(m[1]);
}

interface Case {
  /** What is checked, for the test name. */
  what: string;
  args: string[];
  specs: string[];
  /** Checks of hits and returns against the program's own printed counts. */
  check(o: Outcome, out: string): void;
}

const hitsOf = (o: Outcome, spec: string) => o.probes[spec].hits;
const returnsOf = (o: Outcome, spec: string) => o.probes[spec].returns;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const CASES: Case[] = [
  {
    what: "a probed function called from a SIGUSR1 handler (raise() x3, 4 calls each, plus 1 per round in main): hits and returns = its entries",
    args: ["handler", "3", "4"], specs: ["counted", "ret:counted"],
    check(o, out) {
      const entries = printed(out, "counted entries");
      expect(entries, "the program's own count of counted() entries").toBe(3 * 4 + 3);
      expect(hitsOf(o, "counted"), `hits: got ${hitsOf(o, "counted")}, want ${entries}`).toBe(entries);
      expect(returnsOf(o, "ret:counted"), `returns: got ${returnsOf(o, "ret:counted")}, want ${entries}`).toBe(entries);
      const want = printed(out, "handler sum") + printed(out, "main sum");
      expect(sum(o.rets["ret:counted"]), `sum of the values ret saw: got ${sum(o.rets["ret:counted"])}, want ${want} (the program's sums)`).toBe(want);
    },
  },
  {
    what: "a probe ON the syscall instruction of kill(getpid(), SIGUSR1) (stepped): the signal is held until the step is done, one handler run per kill",
    args: ["kill", "20"], specs: ["kp_kill_syscall"],
    check(o, out) {
      expect(out, "every kill ran the handler exactly once").toContain("kill: 20 calls, handler ran 20 times, 0 calls without exactly one run");
      expect(out, "the handler interrupted the original stream after the syscall, TF clear").toContain("RIP=syscall+2 RCX=syscall+2 EFLAGS.TF=0 RAX=0");
      expect(hitsOf(o, "kp_kill_syscall"), `hits: got ${hitsOf(o, "kp_kill_syscall")}, want 20`).toBe(20);
    },
  },
  {
    what: "a probe ON the syscall of the rt_sigprocmask that unblocks a pending SIGUSR1: delivered once, after the stepped syscall",
    args: ["unblock", "20"], specs: ["kp_mask_syscall"],
    check(o, out) {
      expect(out).toContain("unblock: 20 calls, handler ran 20 times, 0 calls without exactly one run");
      expect(out).toContain("RIP=syscall+2 RCX=syscall+2 EFLAGS.TF=0 RAX=0");
      expect(hitsOf(o, "kp_mask_syscall"), `hits: got ${hitsOf(o, "kp_mask_syscall")}, want 20`).toBe(20);
    },
  },
  {
    what: "a stepped load from a PROT_NONE page: SIGSEGV at the probed address, the handler's mprotect and return retries it (hits = 2)",
    args: ["segv", "1"], specs: ["kp_segv_load"],
    check(o, out) {
      expect(out, "one fault, reported at the probed instruction").toContain("segv: 1 loads, 1 faults, sum 1000; last fault si_addr=page+24 RIP=insn+0 si_code=2");
      expect(hitsOf(o, "kp_segv_load"), `hits: got ${hitsOf(o, "kp_segv_load")}, want 2 (the fault, then the retry)`).toBe(2);
    },
  },
  {
    what: "a stepped RIP-relative load (through a scratch register) of a PROT_NONE page, 5 times: the handler sees the guest's RSI, hits = 2 per load",
    args: ["segvrip", "5"], specs: ["kp_segv_riprel"],
    check(o, out) {
      const faults = printed(out, "loads,");
      expect(faults, "the program's own fault count").toBe(5);
      expect(out, "the scratch register held the guest's value in the handler's context").toContain("was the marker: 1");
      expect(hitsOf(o, "kp_segv_riprel"), `hits: got ${hitsOf(o, "kp_segv_riprel")}, want ${2 * faults}`).toBe(2 * faults);
    },
  },
  {
    what: "a stepped idiv by zero: SIGFPE with si_addr and REG_RIP at the probed idiv (not the slot); the handler skips it by editing RIP",
    args: ["fpe"], specs: ["kp_div"],
    check(o, out) {
      expect(out).toContain("handler ran 1 times, si_addr=idiv+0 RIP=idiv+0 si_code=1");
      expect(hitsOf(o, "kp_div"), `hits: got ${hitsOf(o, "kp_div")}, want 2 (the skipped divide, the good one)`).toBe(2);
    },
  },
  {
    what: "a return-probed function left by siglongjmp from a handler, 100 times, then 5 normal calls: returns = the program's 5, no stale instance left",
    args: ["longjmp", "100", "5"], specs: ["ret:leaper"],
    check(o, out) {
      const entries = printed(out, "leaper entered"), returned = printed(out, "returned");
      expect([entries, printed(out, "siglongjmp"), returned], "the program's own counts").toEqual([105, 100, 5]);
      expect(hitsOf(o, "ret:leaper"), `hits: got ${hitsOf(o, "ret:leaper")}, want ${entries}`).toBe(entries);
      expect(returnsOf(o, "ret:leaper"), `returns: got ${returnsOf(o, "ret:leaper")}, want ${returned}`).toBe(returned);
      expect(sum(o.rets["ret:leaper"]), "sum of the values ret saw = the program's sum of returns").toBe(printed(out, "sum of returns"));
      expect(o.traps.returns.skipped, `calls returning unprobed: got ${o.traps.returns.skipped}, want 0`).toBe(0);
      expect(o.traps.returns.depth, `return instances left: got ${o.traps.returns.depth}, want 0`).toBe(0);
    },
  },
  ...(["pending", "pendingalt"] as const).map((mode): Case => ({
    what: `a handler (${mode === "pending" ? "same stack" : "SA_ONSTACK"}) calling a return-probed function while a return probe is pending on the interrupted one: each return reported once, with its value`,
    args: [mode, "6"], specs: ["ret:interrupted", "ret:counted"],
    check(o, out) {
      const values = /pending:((?: -?\d+)+)\n/.exec(out)![1].trim().split(" ").map(Number);
      expect(o.rets["ret:interrupted"], "values ret saw for interrupted(), vs those the program printed").toEqual(values);
      expect(returnsOf(o, "ret:interrupted"), `returns: got ${returnsOf(o, "ret:interrupted")}, want 6`).toBe(6);
      const entries = printed(out, "counted entries");
      expect(returnsOf(o, "ret:counted"), `counted() returns in the handler: got ${returnsOf(o, "ret:counted")}, want ${entries}`).toBe(entries);
      expect(o.traps.returns.depth, "no return instance left").toBe(0);
    },
  })),
];

describe.each(STRATEGIES)("strategy $name", (strategy) => {
  it.each(CASES)("$what", async (c) => {
    const want = runNative([BIN, ...c.args]);
    expect(want.status, `native ${c.args.join(" ")}: ${want.stderr}`).toBe(0);
    const o = await runProbed(strategy, c.args, c.specs);
    expect(o.status, `exit status: got ${o.status} (probed, ${strategy.name}), want ${want.status} (native)`).toBe(want.status);
    if (!o.stdout.equals(want.stdout)) expect.fail(`stdout (probed, ${strategy.name}) vs native: ${firstDifference(o.stdout, want.stdout)}`);
    c.check(o, o.stdout.toString());
  });
});
