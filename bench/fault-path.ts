/**
 * `npm run bench`: per-page costs of the fault path, native vs faultline, in
 * one run. The guest guest/touch.c times its own loops with
 * clock_gettime; the figure that matters is that guest-reported time divided
 * by the page count (benny's whole-call timings only feed the chart).
 *
 * Cases (N pages, a 32 MiB file in the host page cache):
 *   anon first touch      touch anon N, loop 1              native | faultline (default config: host huge
 *                                                           pages behind a fill) | faultline, 4 KiB host pages
 *   ... MADV_HUGEPAGE     touch anon-huge N, loop 1         native | faultline (the guest asks for THP)
 *   file minor fault      touch file N, scan 3 (refault)    native | faultline (default config)
 *   ... 4 KiB PTEs        touch file-nohuge N, scan 3       native (MADV_NOHUGEPAGE: no 2 MiB
 *                                                           mappings of large folios) | faultline
 *   file major fault      touch file N, scan 1 (cold cache) native (host minor!) |
 *                         faultline readpage only, readahead 4/8/16/32 (fault-around off),
 *                         readahead 32 + fault-around 16 (the defaults)
 * Each faultline run gets a fresh MemSystem, so its page cache starts cold.
 *
 * Output: bench/results/fault-path.json (medians, samples, ratios, counters,
 * targets), benny's bench/results/fault-path.chart.html and
 * fault-path.benny.json, and a table on stdout.
 */
import b from "benny";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildGuest } from "../cli/demo.js";
import { Process, projectRoot } from "../emu/index.js";
import { MemSystem, type MmConfig } from "../mm/index.js";

/** Pages per run: 8192 pages = a 32 MiB file / mapping. */
const PAGES = Number(process.env.FAULT_PATH_PAGES ?? 8192);
/** Guest samples wanted per case (benny's minSamples; the warm-up call is not counted). */
const MIN_SAMPLES = Number(process.env.FAULT_PATH_SAMPLES ?? 9);
/** benny/benchmark.js: keep sampling a case at least this long (seconds). */
const MAX_TIME = Number(process.env.FAULT_PATH_MAX_TIME ?? 1);

const TARGET_ANON_RATIO = 1.5; // issue 12: within 1.5x native per page
const TARGET_BATCH_RATIO = 0.25;
const TARGET_MINOR_RATIO = 15; // issue 12: file minor fault within 15x native per page

/** What one guest run reported. */
interface TouchResult {
  mode: string;
  pages: number;
  ns: number[];
  sum: number;
  /** File modes: the host's FilePmdMapped (KiB) after scan 3; -1 under faultline (no smaps_rollup). */
  pmdKiB?: number;
}

type Counters = Record<string, number | Record<number, number>>;

/** One benchmark case. */
interface Case {
  name: string;
  kind: "native" | "faultline";
  /** Which timed loop of the guest's output this case measures. */
  loop: number;
  /** The guest's arguments after argv[0]. */
  args: string[];
  /** MemSystem config (faultline only). */
  config?: Partial<MmConfig>;
  /** Name of the native case this one is compared with (faultline only). */
  nativeRef?: string;
  note?: string;
  /** Guest ns / page of every call (the first is the warm-up and is dropped). */
  perPage: number[];
  /** Native file cases: the host's FilePmdMapped (KiB) of every call, warm-up included. */
  pmdKiB?: number[];
  counters?: Counters;
}

const root = projectRoot();
const touch = buildGuest("touch");
const resultsDir = path.join(root, "bench", "results");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-"));
const dataFile = path.join(tmp, "data.bin");
fs.writeFileSync(dataFile, crypto.randomBytes(PAGES * 4096));
fs.readFileSync(dataFile); // into the host page cache (it is, after the write; make sure)
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs touch natively and parses its JSON line. */
function runNative(args: string[]): TouchResult {
  const r = spawnSync(touch, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`native touch ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as TouchResult;
}

/**
 * Runs touch under faultline in this process on a fresh MemSystem (cold page
 * cache), reading its JSON line from fd 1; returns it with the counters.
 */
function runFaultline(args: string[], config: Partial<MmConfig>): { out: TouchResult; counters: Counters } {
  const sys = new MemSystem(config);
  const stdout: Buffer[] = [];
  const proc = new Process(sys, {
    output: (fd, data) => {
      if (fd === 1) stdout.push(Buffer.from(data));
      else process.stderr.write(data);
    },
  });
  let status;
  try {
    const loaded = proc.exec(touch, [touch, ...args], []);
    status = proc.run(loaded.entry, loaded.rsp);
  } finally {
    proc.destroy();
    sys.sync();
    sys.close();
  }
  if (status.kind !== "exited" || status.code !== 0) {
    throw new Error(`faultline touch ${args.join(" ")}: ${JSON.stringify(status)}`);
  }
  return { out: JSON.parse(Buffer.concat(stdout).toString("utf8")) as TouchResult, counters: sys.counters.snapshot() };
}

const anonArgs = ["anon", String(PAGES)];
const hugeArgs = ["anon-huge", String(PAGES)];
const fileArgs = ["file", String(PAGES), dataFile];
const fileNoHugeArgs = ["file-nohuge", String(PAGES), dataFile];
const OFF = { faultAroundPages: 0 };

const cases: Case[] = [
  { name: "anon first touch: native", kind: "native", loop: 0, args: anonArgs, perPage: [] },
  { name: "anon first touch: faultline", kind: "faultline", loop: 0, args: anonArgs, config: {}, nativeRef: "anon first touch: native", perPage: [],
    note: "defaults: host huge pages behind the ranges the guest fills (mm/huge-fill.ts); the guest still faults per 4 KiB page" },
  { name: "anon first touch: faultline, 4 KiB host pages", kind: "faultline", loop: 0, args: anonArgs, config: { hostHugePages: false },
    nativeRef: "anon first touch: native", perPage: [], note: "hostHugePages off (--no-host-huge-pages): each guest page is a host first touch too" },
  { name: "anon first touch, MADV_HUGEPAGE: native", kind: "native", loop: 0, args: hugeArgs, perPage: [],
    note: "the guest asks for transparent huge pages: the host's THP at their best, for reference" },
  { name: "anon first touch, MADV_HUGEPAGE: faultline", kind: "faultline", loop: 0, args: hugeArgs, config: {},
    nativeRef: "anon first touch, MADV_HUGEPAGE: native", perPage: [] },
  { name: "file minor fault: native", kind: "native", loop: 2, args: fileArgs, perPage: [] },
  { name: "file minor fault: faultline", kind: "faultline", loop: 2, args: fileArgs, config: {}, nativeRef: "file minor fault: native", perPage: [],
    note: "default config (readahead 32, fault-around 16 pages), like the host's 64 KiB fault_around_bytes" },
  { name: "file minor fault, 4 KiB PTEs: native", kind: "native", loop: 2, args: fileNoHugeArgs, perPage: [],
    note: "MADV_NOHUGEPAGE over each mapping: the host maps 4 KiB PTEs (fault-around 64 KiB) instead of 2 MiB PMDs of its large folios (see notes)" },
  { name: "file minor fault, 4 KiB PTEs: faultline", kind: "faultline", loop: 2, args: fileNoHugeArgs, config: {},
    nativeRef: "file minor fault, 4 KiB PTEs: native", perPage: [],
    note: "the same guest program; faultline maps 4 KiB guest PTEs with or without the advice" },
  { name: "file major fault: native", kind: "native", loop: 0, args: fileArgs, perPage: [],
    note: "host MINOR faults: the file is in the host page cache (a cold read would need dropping caches, i.e. root)" },
  { name: "file major fault: faultline readpage only", kind: "faultline", loop: 0, args: fileArgs,
    config: { readaheadMaxPages: 0, ...OFF }, nativeRef: "file major fault: native", perPage: [] },
  ...[4, 8, 16, 32].map((w): Case => ({
    name: `file major fault: faultline readahead ${w}`, kind: "faultline", loop: 0, args: fileArgs,
    config: { readaheadMaxPages: w, ...OFF }, nativeRef: "file major fault: native", perPage: [],
    note: `readpages batches grow to ${w} pages; fault-around off`,
  })),
  { name: "file major fault: faultline readahead 32 + fault-around 16", kind: "faultline", loop: 0, args: fileArgs,
    config: { readaheadMaxPages: 32, faultAroundPages: 16 }, nativeRef: "file major fault: native", perPage: [] },
];

/** One call of a case: runs the guest once and records ns/page of the loop. */
function runCase(c: Case): void {
  let out: TouchResult;
  if (c.kind === "native") {
    out = runNative(c.args);
  } else {
    const r = runFaultline(c.args, c.config ?? {});
    out = r.out;
    c.counters = r.counters;
  }
  if (out.pages !== PAGES || out.ns.length <= c.loop) throw new Error(`${c.name}: unexpected output ${JSON.stringify(out)}`);
  c.perPage.push(out.ns[c.loop] / PAGES);
  if (c.kind === "native" && out.pmdKiB !== undefined) (c.pmdKiB ??= []).push(out.pmdKiB);
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

async function main(): Promise<void> {
  fs.mkdirSync(resultsDir, { recursive: true });
  const started = Date.now();
  await b.suite(
    `fault path, ${PAGES} pages`,
    ...cases.map((c) => b.add(c.name, () => runCase(c), { minSamples: MIN_SAMPLES + 1, maxTime: MAX_TIME })),
    b.cycle(),
    b.complete(),
    b.save({ file: "fault-path.benny", folder: resultsDir, format: "json" }),
    b.save({ file: "fault-path", folder: resultsDir, format: "chart.html" }),
  );

  // benny calls every case once while setting up the suite (before any
  // measuring): that first sample is the warm-up, dropped here.
  for (const c of cases) c.perPage.shift();
  const med = new Map(cases.map((c) => [c.name, median(c.perPage)]));
  const entries = cases.map((c) => ({
    name: c.name,
    medianNsPerPage: round(med.get(c.name)!),
    samples: c.perPage.map((x) => round(x)),
    ratioToNative: c.nativeRef ? round(med.get(c.name)! / med.get(c.nativeRef)!, 2) : null,
    ...(c.loop === 0 && c.args[0] === "file" && c.kind === "faultline"
      ? { ratioToReadpageOnly: round(med.get(c.name)! / med.get("file major fault: faultline readpage only")!, 3) } : {}),
    ...(c.nativeRef ? { nativeCase: c.nativeRef } : {}),
    ...(c.config ? { config: c.config } : {}),
    ...(c.note ? { note: c.note } : {}),
    ...(c.pmdKiB ? { hostFilePmdMappedKiB: c.pmdKiB } : {}),
    counters: c.counters ?? null,
  }));

  const anonRatio = med.get("anon first touch: faultline")! / med.get("anon first touch: native")!;
  const batchRatio = med.get("file major fault: faultline readahead 32")! / med.get("file major fault: faultline readpage only")!;
  const minorRatio = med.get("file minor fault: faultline")! / med.get("file minor fault: native")!;
  const minor4kRatio = med.get("file minor fault, 4 KiB PTEs: faultline")! / med.get("file minor fault, 4 KiB PTEs: native")!;
  const targets = {
    fileMinorFaultRatioToNative: { value: round(minorRatio, 1), target: `<= ${TARGET_MINOR_RATIO}`, met: minorRatio <= TARGET_MINOR_RATIO },
    fileMinorFaultRatioToNative4KiBPtes: { value: round(minor4kRatio, 2), target: "none (reference: the same design natively)", met: null },
    anonFirstTouchRatioToNative: { value: round(anonRatio, 2), target: `<= ${TARGET_ANON_RATIO}`, met: anonRatio <= TARGET_ANON_RATIO },
    readahead32OverReadpageOnly: { value: round(batchRatio, 3), target: `<= ${TARGET_BATCH_RATIO}`, met: batchRatio <= TARGET_BATCH_RATIO },
  };
  const report = {
    benchmark: "fault-path",
    date: new Date().toISOString(),
    host: {
      node: process.version, platform: `${os.type()} ${os.release()} ${os.arch()}`, cpu: os.cpus()[0]?.model, cpus: os.cpus().length,
      dataFileDir: os.tmpdir(), dataFileFsType: `0x${fs.statfsSync(tmp).type.toString(16)}`,
    },
    pages: PAGES,
    fileBytes: PAGES * 4096,
    seconds: round((Date.now() - started) / 1000),
    unit: "guest-reported ns per page (touch.c's own clock_gettime around the loop), median over samples",
    notes: [
      "file major fault: native is the host's first scan of a fresh mapping of a file already in the host page cache, i.e. host MINOR faults (with fault-around); the host cannot cold-read without dropping caches (root). Faultline's major-fault cases are genuinely cold in faultline's own page cache (fresh MemSystem per run) but read from the same host-cached file, so their ratioToNative compares a faultline major fault with a host minor fault.",
      "file minor fault: native maps the file's large page-cache folios (Linux 6.16+ on ext4; the bench writes its file in one write, so its folios are large) with 2 MiB PMD entries when the mapping is 2 MiB aligned, as the host places a 32 MiB file mapping: one fault per 2 MiB, ~10 ns per page. hostFilePmdMappedKiB says, per native call, how much of the mapping the host mapped so (FilePmdMapped of /proc/self/smaps_rollup; 32768 = all of it). A file whose cache was read back in small pieces, or MADV_NOHUGEPAGE (the 4 KiB PTEs case), gets 4 KiB PTEs with 64 KiB fault-around, faultline's own design (guest 4 KiB PTEs, fault-around 16).",
      "faultline counters are the MemSystem counters of the last run of the case; they include loading touch itself (a few readpage/readpages calls on the ELF file and its bss/stack pages).",
      "the first call of every case (made by benny while setting up) is a warm-up and is not in samples.",
      "benny's whole-call timings (fault-path.chart.html, fault-path.benny.json) include process spawn / engine setup; use them for relative comparison only.",
    ],
    targets,
    entries,
  };
  // Arrays of numbers (samples) on one line each.
  const json = JSON.stringify(report, null, 2).replace(/\[\s*(-?[\d.]+(?:,\s*-?[\d.]+)*)\s*\]/g,
    (_m, inner: string) => `[${inner.split(/,\s*/).join(", ")}]`);
  fs.writeFileSync(path.join(resultsDir, "fault-path.json"), json + "\n");

  // The table.
  const rows = entries.map((e) => [
    e.name, e.medianNsPerPage.toFixed(1), e.ratioToNative === null ? "-" : e.ratioToNative.toFixed(2) + "x",
    "ratioToReadpageOnly" in e ? e.ratioToReadpageOnly!.toFixed(3) : "-",
    String(e.samples.length), `${Math.min(...e.samples).toFixed(0)}..${Math.max(...e.samples).toFixed(0)}`,
  ]);
  const head = ["case", "median ns/page", "vs native", "vs readpage", "n", "range"];
  const w = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (r: string[]) => r.map((x, k) => (k === 0 ? x.padEnd(w[k]) : x.padStart(w[k]))).join("  ");
  console.log(`\nfault path, ${PAGES} pages (${(PAGES * 4096) >> 20} MiB), guest-reported ns per page, median of samples`);
  console.log(line(head));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log(`\n(native "file major fault" = host minor faults on a host-cached file; see notes in the JSON)`);
  console.log(`target: anon first touch faultline/native = ${anonRatio.toFixed(2)} (<= ${TARGET_ANON_RATIO}: ${targets.anonFirstTouchRatioToNative.met ? "met" : "NOT met"})`);
  console.log(`target: readahead 32 / readpage only      = ${batchRatio.toFixed(3)} (<= ${TARGET_BATCH_RATIO}: ${targets.readahead32OverReadpageOnly.met ? "met" : "NOT met"})`);
  console.log(`target: file minor fault faultline/native  = ${minorRatio.toFixed(1)} (<= ${TARGET_MINOR_RATIO}: ${targets.fileMinorFaultRatioToNative.met ? "met" : "NOT met"}); against native 4 KiB PTEs ${minor4kRatio.toFixed(2)}`);
  const pmd = cases.find((c) => c.name === "file minor fault: native")?.pmdKiB ?? [];
  console.log(`host FilePmdMapped of the native file-minor runs (KiB): ${[...new Set(pmd)].join(", ") || "-"}`);
  console.log(`\nwrote ${path.relative(root, path.join(resultsDir, "fault-path.json"))}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
