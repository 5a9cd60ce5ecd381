/**
 * Cost of one probe hit: a C program calls a small function in a tight loop
 * (CALLS times, default 1e6); the same run is timed unprobed and with one
 * probe on an instruction of that function:
 *
 *   target:  push %rbp          <- "push (emulated)": the function's first instruction
 *            mov  %rsp, %rbp
 *            nop                <- "nop (emulated)"
 *            mov  %rdi, %rax
 *            add  $3, %rax      <- "add (single-stepped)": copied to the [uprobes] slot, TF, #DB
 *            pop  %rbp
 *            ret
 *
 * and a return probe on target (entry trap + trampoline trap per call).
 * In-process: a fresh MemSystem + Process per run, probes registered
 * before the run; only proc.run is timed. Cases are interleaved round by
 * round, after one warm-up round; medians of SAMPLES runs.
 *
 *   cost per hit = (median probed run - median unprobed run) / hits
 *
 * Every run must print the native run's output and count exactly CALLS
 * hits (and returns), or the benchmark fails.
 * Results: a table on stdout and bench/results/probes.json.
 *
 *   npm run bench:probes    (PROBES_CALLS, PROBES_SAMPLES override the defaults)
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Process, projectRoot } from "../emu/index.js";
import { Uprobes, type Consumer, type Probe } from "../kprobes/index.js";
import { MemSystem } from "../mm/index.js";

const CALLS = Number(process.env.PROBES_CALLS ?? 1_000_000);
const SAMPLES = Number(process.env.PROBES_SAMPLES ?? 5);
const root = projectRoot();

const SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
long target(long);
asm(".text\n.globl target\n.type target,@function\n.p2align 4\ntarget:\n\t"
    "push %rbp\n\t"
    "mov %rsp, %rbp\n\t"
    ".globl target_nop\ntarget_nop:\n\t"
    "nop\n\t"
    "mov %rdi, %rax\n\t"
    ".globl target_add\ntarget_add:\n\t"
    "add $3, %rax\n\t"
    "pop %rbp\n\t"
    "ret\n"
    ".size target, .-target\n");
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000, s = 0;
  for (long i = 0; i < n; i++) s += target(i);
  printf("%ld %ld\n", n, s);
  return 0;
}
`;

/**
 * Linux reference figures per hit, as given with the task (x86-64, 2025 Intel,
 * selftests/bpf bench style): a uprobe on a nop (emulated, int3 + handler) and
 * on an instruction that must be single-stepped out of line. Not measured here.
 */
const LINUX_NS = { emulated: 310, stepped: 900, uretprobe: 476 };

interface Case {
  name: string;
  /** Where the probe goes (none: the unprobed baseline). */
  where?: string;
  ret?: boolean;
  /** A consumer filter (always true): the probe then wants JavaScript at every entry, so the engine takes none (patch 0011). */
  filtered?: boolean;
  /** How the trap path runs it. */
  kind: "baseline" | "emulated" | "stepped" | "return";
  /** Linux figure to compare with, ns per hit. */
  linuxNs?: number;
}

const CASES: Case[] = [
  { name: "unprobed", kind: "baseline" },
  { name: "push %rbp (emulated, function entry)", where: "target", kind: "emulated", linuxNs: LINUX_NS.emulated },
  { name: "nop (emulated)", where: "target_nop", kind: "emulated", linuxNs: LINUX_NS.emulated },
  { name: "add $3,%rax (single-stepped)", where: "target_add", kind: "stepped", linuxNs: LINUX_NS.stepped },
  { name: "return probe on target (entry + return)", where: "target", ret: true, kind: "return", linuxNs: LINUX_NS.uretprobe },
  { name: "return probe with a filter (2 traps/call)", where: "target", ret: true, filtered: true, kind: "return", linuxNs: LINUX_NS.uretprobe },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Per case, the entries the engine took itself in the last run (engine patch 0011; 0 on stock engines and for filtered probes). */
const engineEntries = new Map<Case, number>();

/** One run of `bin`: ms spent in proc.run, checked against the native output and the expected counts. */
async function runOnce(bin: string, c: Case, expect: string): Promise<number> {
  const sys = new MemSystem();
  const chunks: Buffer[] = [];
  const proc = new Process(sys, { output: (fd, d) => { if (fd === 1) chunks.push(Buffer.from(d)); } });
  try {
    const loaded = proc.exec(bin, [bin, String(CALLS)], []);
    let probe: Probe | undefined;
    if (c.where) {
      const uprobes = new Uprobes(sys);
      const consumer: Consumer = c.ret ? { ret: () => {} } : { pre: () => {} };
      if (c.filtered) consumer.filter = () => true;
      probe = await uprobes.register(bin, c.where, consumer);
      uprobes.attach(proc);
    }
    const t = process.hrtime.bigint();
    const status = proc.run(loaded.entry, loaded.rsp);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const out = Buffer.concat(chunks).toString();
    if (status.kind !== "exited" || status.code !== 0 || out !== expect) {
      throw new Error(`${c.name}: status ${JSON.stringify(status)}, stdout ${JSON.stringify(out)}, want ${JSON.stringify(expect)}`);
    }
    if (probe && (probe.hits !== CALLS || (c.ret && probe.returns !== CALLS))) {
      throw new Error(`${c.name}: hits ${probe.hits}, returns ${probe.returns}, want ${CALLS}`);
    }
    if (probe) engineEntries.set(c, probe.engineHits);
    return ms;
  } finally {
    proc.destroy();
    sys.close();
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-probes-"));
  try {
    const src = path.join(dir, "loop.c"), bin = path.join(dir, "loop");
    fs.writeFileSync(src, SOURCE);
    execFileSync("gcc", ["-O1", "-static", "-o", bin, src]);
    const expect = execFileSync(bin, [String(CALLS)], { encoding: "utf8" });

    const samples = new Map<Case, number[]>(CASES.map((c) => [c, []]));
    for (const c of CASES) await runOnce(bin, c, expect); // warm-up round
    for (let s = 0; s < SAMPLES; s++) for (const c of CASES) samples.get(c)!.push(await runOnce(bin, c, expect));

    const baseMs = median(samples.get(CASES[0])!);
    const rows = CASES.map((c) => {
      const ms = median(samples.get(c)!);
      const perHitNs = c.kind === "baseline" ? 0 : ((ms - baseMs) * 1e6) / CALLS;
      return {
        name: c.name, kind: c.kind, where: c.where ?? null, medianMs: ms,
        samplesMs: samples.get(c)!.map((x) => Math.round(x * 10) / 10),
        hits: c.kind === "baseline" ? 0 : CALLS,
        perHitNs: c.kind === "baseline" ? null : perHitNs,
        engineEntries: engineEntries.get(c) ?? 0,
        /** Traps that reach JavaScript per call: the entry's unless the engine took it, and the trampoline's for a return probe. */
        trapsPerCall: c.kind === "baseline" ? 0 : (c.kind === "return" ? 2 : 1) - (engineEntries.get(c) ?? 0) / CALLS,
        linuxNs: c.linuxNs ?? null,
        vsLinux: c.linuxNs ? perHitNs / c.linuxNs : null,
      };
    });

    const engine = execFileSync(process.execPath, [path.join(root, "bin", "faultline.mjs"), "--version"], { encoding: "utf8" }).trim();
    const out = {
      date: new Date().toISOString(),
      machine: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, ${os.platform()} ${os.release()}`,
      engine,
      calls: CALLS,
      samples: SAMPLES,
      method: "in-process MemSystem + Process per run, probes registered before the run, only proc.run timed; " +
        "medians over interleaved rounds after one warm-up round; per hit = (probed - unprobed) / hits",
      linuxReference: {
        note: "figures given with the task, not measured here: Linux uprobe per hit, 2025 Intel",
        emulatedNsPerHit: LINUX_NS.emulated,
        steppedNsPerHit: LINUX_NS.stepped,
        uretprobeNsPerCall: LINUX_NS.uretprobe,
      },
      results: rows,
    };
    fs.mkdirSync(path.join(root, "bench", "results"), { recursive: true });
    fs.writeFileSync(path.join(root, "bench", "results", "probes.json"), JSON.stringify(out, null, 2) + "\n");

    console.log(`probe cost: ${CALLS} calls of target(), median of ${SAMPLES} runs (only proc.run timed)`);
    console.log(`${"case".padEnd(42)} ${"run ms".padStart(9)} ${"ns/hit".padStart(8)} ${"Linux ns".padStart(9)} ${"vs Linux".padStart(9)}`);
    for (const r of rows) {
      const perHit = r.perHitNs === null ? "-" : r.perHitNs.toFixed(0);
      const linux = r.linuxNs === null ? "-" : String(r.linuxNs);
      const vs = r.vsLinux === null ? "-" : `${r.vsLinux.toFixed(1)}x`;
      console.log(`${r.name.padEnd(42)} ${r.medianMs.toFixed(1).padStart(9)} ${perHit.padStart(8)} ${linux.padStart(9)} ${vs.padStart(9)}`);
    }
    for (const r of rows.filter((x) => x.kind === "return")) {
      console.log(`${r.name}: ${r.perHitNs!.toFixed(0)} ns per call, ${r.trapsPerCall.toFixed(2)} traps into JavaScript per call (${r.engineEntries} of ${CALLS} entries taken by the engine)`);
    }
    console.log(`Linux reference (given with the task, not measured here): uprobe-nop ~${LINUX_NS.emulated} ns/hit, single-stepped ~${LINUX_NS.stepped} ns/hit (2025 Intel), uretprobe-nop ~${LINUX_NS.uretprobe} ns/call (int3 based)`);
    console.log("wrote bench/results/probes.json");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
