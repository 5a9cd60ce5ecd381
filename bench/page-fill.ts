/**
 * `npm run bench:page-fill`: what filling faultline's page cache costs per
 * page on this host, for each way of doing it (issue 12: "the page-cache fill
 * through a memfd costs 1.5-2 us per page whatever the batch ... measure
 * alternatives"). bench/programs/fill.c does the work natively, no emulator:
 * each method copies a 32 MiB host file (in the host page cache) into a fresh
 * memfd in batches of 1, 4 and 32 pages, then touches every page through a
 * shared mapping, as a guest's first access does; and, for comparison, a
 * private mapping of the host file itself is touched with no fill at all.
 *
 * Output: a table of medians (ns per page) on stdout and
 * bench/results/page-fill.json with every sample.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../emu/index.js";

/** Pages in the file (32 MiB, as bench/fault-path.ts). */
const PAGES = 8192;
/** Fills per method and batch. */
const REPS = Number(process.env.PAGE_FILL_REPS ?? 7);
const BATCHES = [1, 4, 32];

/** One line of fill.c's output. */
interface Line {
  method: string;
  batch: number;
  fillNs?: number[];
  touchNs?: number[];
  error?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function main(): void {
  const root = projectRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-bench-page-fill-"));
  try {
    const bin = path.join(dir, "fill"), data = path.join(dir, "data.bin");
    execFileSync("gcc", ["-O2", "-o", bin, path.join(root, "bench", "programs", "fill.c")]);
    fs.writeFileSync(data, crypto.randomBytes(PAGES * 4096));
    fs.readFileSync(data); // in the host page cache
    const lines: Line[] = [];
    for (const b of BATCHES) {
      const out = execFileSync(bin, [data, String(PAGES), String(b), String(REPS)], { encoding: "utf8" });
      for (const l of out.trim().split("\n")) lines.push(JSON.parse(l) as Line);
    }
    const rows = lines.map((l) => ({
      ...l,
      medianFillNs: l.fillNs?.length ? Number(median(l.fillNs).toFixed(1)) : undefined,
      medianTouchNs: l.touchNs?.length ? Number(median(l.touchNs).toFixed(1)) : undefined,
    }));
    console.log(`page-cache fill, ${PAGES} pages (32 MiB) from the host page cache, ns per page, median of ${REPS}`);
    console.log("method            batch   fill    touch   fill+touch");
    for (const r of rows) {
      const cell = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(0)).padStart(7);
      const sum = r.error ? `refused: ${r.error}` : ((r.medianFillNs ?? 0) + (r.medianTouchNs ?? 0)).toFixed(0).padStart(9);
      console.log(`${r.method.padEnd(16)} ${String(r.batch).padStart(5)} ${cell(r.medianFillNs)} ${cell(r.medianTouchNs)}  ${sum}`);
    }
    const results = {
      date: new Date().toISOString(),
      host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, kernel: os.release(), load: os.loadavg() },
      pages: PAGES, reps: REPS, rows,
      notes: "fill: copying into a fresh memfd (faultline's page cache memory); touch: one read per page through a MAP_SHARED mapping of it " +
        "(host faults, as the guest's first access); private-map: no fill, a MAP_PRIVATE mapping of the host file itself touched once per page.",
    };
    const out = path.join(root, "bench", "results", "page-fill.json");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
    console.log(`wrote ${path.relative(root, out)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
