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
 *   address in RIP and RCX, TF clear, as natively; a stepped rt_sigsuspend
 *   keeps the restart rules (-EINTR, not -ERESTARTNOHAND), a stepped
 *   rt_sigreturn (glibc's __restore_rt) ends its step; a signal a probe
 *   handler sends (as bpf_send_signal) runs after the stepped instruction;
 * - an emulated push or call whose stack store faults gives the guest's
 *   SIGSEGV handler (on an alternate stack) the fault the CPU would give;
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
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Process, shellStatus } from "../emu/process.js";
import { SIG, SI_KERNEL, sendSignal } from "../emu/signal/index.js";
import { strategyNamed, Uprobes, type Probe, type ProbeContext } from "../kprobes/index.js";
import type { ProbeTraps } from "../kprobes/trap.js";
import { MemSystem } from "../mm/index.js";
import { buildC, expectSameRun, firstDifference, runFaultline, runNative } from "./support/native.js";

const SRC = path.join(__dirname, "programs", "probe_signals.c");
/** The program as the probe tests build it (glibc), and with musl (whose raise() blocks every signal around tgkill). */
const BUILDS = {
  glibc: buildC(SRC, "gcc-static", ["-fno-optimize-sibling-calls"]),
  musl: buildC(SRC, "musl-static", ["-fno-optimize-sibling-calls"]),
} as const;

/** glibc's and musl's __restore_rt are `mov $15, %rax; syscall`: the spec of its syscall, checked against objdump. */
const RESTORER_SYSCALL = "__restore_rt+7";
for (const bin of Object.values(BUILDS)) {
  const text = execFileSync("objdump", ["-d", "--no-show-raw-insn", bin], { encoding: "utf8", maxBuffer: 64 << 20 });
  const at = /^\s*([0-9a-f]+) <__restore_rt>:/m.exec(text);
  if (!at || !new RegExp(`^\\s*${(parseInt(at[1], 16) + 7).toString(16)}:\\s+syscall`, "m").test(text)) {
    throw new Error(`objdump: no syscall at ${RESTORER_SYSCALL} in ${bin}`);
  }
}

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

/**
 * Runs `bin` with `args` under faultline with `specs` probed (entry probes by
 * symbol, "ret:SYMBOL" for return probes); `pre` gives a spec's pre handler
 * (default: none that acts).
 */
async function runProbed(bin: string, strategy: (typeof STRATEGIES)[number], args: string[], specs: string[], pre: Case["pre"] = {}): Promise<Outcome> {
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
      probes[spec] = await uprobes.register(bin, symbol, ret ? { ret: (ctx) => { seen.push(ctx.retval!); } } : { pre: pre[spec] ?? (() => {}) });
    }
    const loaded = proc.exec(bin, [bin, ...args], []);
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
  /** Pre handlers by spec. */
  pre?: Record<string, (ctx: ProbeContext) => void>;
  /** Whether stdout must equal the native run's (default true; false when a probe handler changes what the program sees). */
  sameAsNative?: boolean;
  /** Checks of hits and returns against the program's own printed counts (`bin`: the program run). */
  check(o: Outcome, out: string, bin: string): void;
}

const hitsOf = (o: Outcome, spec: string) => o.probes[spec].hits;
const returnsOf = (o: Outcome, spec: string) => o.probes[spec].returns;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const CASES: Case[] = [
  {
    what: "a probed function called from a SIGUSR1 handler (raise() x3, 4 calls each, plus 1 per round in main), and the handler itself probed at entry and return: hits and returns = the program's counts",
    args: ["handler", "3", "4"], specs: ["counted", "ret:counted", "on_usr1_calls", "ret:on_usr1_calls"],
    check(o, out) {
      const runs = printed(out, "handler runs");
      expect(runs, "the program's own count of handler runs").toBe(3);
      expect(hitsOf(o, "on_usr1_calls"), `the handler's own entry probe: hits got ${hitsOf(o, "on_usr1_calls")}, want ${runs}`).toBe(runs);
      expect(returnsOf(o, "ret:on_usr1_calls"), `the handler's return probe (its return address is the restorer): got ${returnsOf(o, "ret:on_usr1_calls")}, want ${runs}`).toBe(runs);
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
    what: "a probe ON the syscall of rt_sigsuspend that unblocks a pending SIGUSR1: the call's -ERESTARTNOHAND becomes -EINTR after the handler, the mask comes back",
    args: ["suspend", "10"], specs: ["kp_suspend_syscall"],
    check(o, out) {
      expect(out).toContain("suspend: 10 calls, handler ran 10 times, 0 calls without exactly one run");
      expect(out, "the handler's context and the call's result: -EINTR (-4)").toContain("RAX=-4");
      expect(out).toContain("suspend: last returned -4");
      expect(hitsOf(o, "kp_suspend_syscall"), `hits: got ${hitsOf(o, "kp_suspend_syscall")}, want 10`).toBe(10);
    },
  },
  {
    what: `a probe ON the syscall of glibc's __restore_rt (rt_sigreturn stepped out of line): every later kill still runs its handler`,
    args: ["kill", "10"], specs: [RESTORER_SYSCALL],
    check(o, out) {
      expect(out).toContain("kill: 10 calls, handler ran 10 times, 0 calls without exactly one run");
      expect(hitsOf(o, RESTORER_SYSCALL), `hits: got ${hitsOf(o, RESTORER_SYSCALL)}, want 10 (one sigreturn per handler)`).toBe(10);
    },
  },
  {
    what: "a probe handler sends SIGUSR1 (as bpf_send_signal) while its RIP-relative load is stepped: the handler runs once per hit, after the load",
    args: ["sendsig", "10"], specs: ["kp_sent"], sameAsNative: false,
    pre: { kp_sent: (ctx) => { sendSignal(ctx.proc, { signo: SIG.SIGUSR1, code: SI_KERNEL }); } },
    check(o, out, bin) {
      const nativeSum = printed(runNative([bin, "sendsig", "10"]).stdout.toString(), "sum");
      expect(out, "the program's view: the loads' sum as native, one handler run per load, interrupted at the next instruction")
        .toBe(`sendsig: 10 loads, sum ${nativeSum}, handler ran 10 times, last at RIP=next+0 EFLAGS.TF=0\n`);
      expect(hitsOf(o, "kp_sent"), `hits: got ${hitsOf(o, "kp_sent")}, want 10`).toBe(10);
    },
  },
  ...(["push", "call"] as const).map((insn): Case => ({
    what: `an emulated ${insn} whose stack store faults (RSP at unmapped 0x10008), 3 times: SIGSEGV reaches the handler on its alternate stack, at the probed ${insn}`,
    args: [`bad${insn}`], specs: [`kp_bad_${insn}`],
    check(o, out) {
      expect(out, "si_addr, RIP, RSP, si_code, err, trapno, cr2 as native").toContain(`bad${insn}: caught 3 faults; last si_addr=0x10000 RIP=insn+0 RSP=0x10008 si_code=1 err=6 trapno=14`);
      expect(hitsOf(o, `kp_bad_${insn}`), `hits: got ${hitsOf(o, `kp_bad_${insn}`)}, want 3`).toBe(3);
    },
  })),
  {
    what: "a stepped load from a PROT_NONE page: SIGSEGV at the probed address, the handler's mprotect and return retries it (hits = 2)",
    args: ["segv", "1"], specs: ["kp_segv_load", "ret:on_segv"],
    check(o, out) {
      expect(returnsOf(o, "ret:on_segv"), `the SIGSEGV handler's returns: got ${returnsOf(o, "ret:on_segv")}, want 1`).toBe(1);
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

/** Every strategy on the glibc build; the musl build under the default strategy. */
const RUNS = [
  ...STRATEGIES.map((strategy) => ({ label: `${strategy.name}, glibc`, bin: BUILDS.glibc, strategy })),
  { label: "aops, musl", bin: BUILDS.musl, strategy: STRATEGIES[0] },
];

describe.each(RUNS)("strategy $label", ({ bin, strategy }) => {
  it.each(CASES)("$what", async (c) => {
    const want = runNative([bin, ...c.args]);
    expect(want.status, `native ${c.args.join(" ")}: ${want.stderr}`).toBe(0);
    const o = await runProbed(bin, strategy, c.args, c.specs, c.pre);
    expect(o.status, `exit status: got ${o.status} (probed, ${strategy.name}), want ${want.status} (native)`).toBe(want.status);
    if (c.sameAsNative !== false && !o.stdout.equals(want.stdout)) expect.fail(`stdout (probed, ${strategy.name}) vs native: ${firstDifference(o.stdout, want.stdout)}`);
    c.check(o, o.stdout.toString(), bin);
  });
});

/** The same through the CLI, as a user meets it: `--probe` and `--probe-strategy`, hits on stderr at exit. */
describe.each(STRATEGIES)("faultline run --probe-strategy $name", (strategy) => {
  const bin = BUILDS.glibc;
  const flags = ["--probe-strategy", strategy.name, ...(strategy.pin ? ["--pin"] : [])];
  it.each([
    { args: ["kill", "7"], probes: { kp_kill_syscall: 7, [RESTORER_SYSCALL]: 7 } },
    { args: ["segv", "3"], probes: { kp_segv_load: 6 } },
    { args: ["longjmp", "70", "4"], probes: { "ret:leaper": 4 } },
  ])("$args: output as native, hits on stderr: $probes", ({ args, probes }) => {
    const specs = Object.keys(probes).map((p) => (p.startsWith("ret:") ? `ret:${bin}:${p.slice(4)}` : `${bin}:${p}`));
    const got = runFaultline([bin, ...args], {}, ["--timeout", "60", ...flags, ...specs.flatMap((p) => ["--probe", p])]);
    expectSameRun(got, runNative([bin, ...args]), `${strategy.name}: ${args.join(" ")}`);
    Object.values(probes).forEach((n, k) => {
      const line = `probe ${specs[k]} hits ${n}`;
      expect(got.stderr.split("\n"), `stderr: got ${JSON.stringify(got.stderr)}, want the line "${line}"`).toContain(line);
    });
  });

  it("a probed ud2, stepped: killed by SIGILL as native, the report naming the probed address (nm), not the slot", () => {
    const nm = /^([0-9a-f]+) T kp_ud2$/m.exec(execFileSync("nm", [bin], { encoding: "utf8", maxBuffer: 64 << 20 }));
    const want = `rip 0x${parseInt(nm![1], 16).toString(16)}`;
    const got = runFaultline([bin, "ud2"], {}, ["--timeout", "60", ...flags, "--probe", `${bin}:kp_ud2`]);
    expectSameRun(got, runNative([bin, "ud2"]), `${strategy.name}: ud2`);
    expect(got.stderr, `kill report: got ${JSON.stringify(got.stderr)}, want it to contain "${want}"`).toContain(want);
  });
});
