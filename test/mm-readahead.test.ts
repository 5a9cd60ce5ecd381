/**
 * Readahead and fault-around on a sequential scan, and the aops vtable:
 * readpages batches grow as Linux's on-demand readahead grows its window,
 * readahead off means readpage only, a vtable without readpages falls back
 * to readpage, and replacing one file's vtable touches no other file.
 */
import * as crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_PRIVATE, MemSystem, PROT_READ, PROT_WRITE, copyFromUser, doMmap, hostFileAops, initWindow, nextWindow } from "../mm/index.js";
import { HASH_SNIPPET, hashQwords, loadGuest, writeFile } from "./support/guest.js";

/** Scans `pages` pages of a fresh random file in a fresh system configured by `config`; checks the bytes. */
function scan(pages: number, config: { readaheadMaxPages: number; faultAroundPages: number }, withReadpages = true) {
  const bytes = crypto.randomBytes(pages * 4096);
  const path = writeFile(bytes);
  const sys = new MemSystem(config);
  const g = loadGuest({ hash: HASH_SNIPPET, warm: "mov edi, 0\nmov eax, 231\nsyscall" }, sys);
  expect(g.run({}, "warm"), "warm-up run (faults the text page in)").toEqual({ kind: "exited", code: 0 });
  const mapping = sys.openFile(path, false);
  if (!withReadpages) mapping.setAops({ readpage: hostFileAops.readpage, writepage: hostFileAops.writepage });
  const addr = doMmap(g.proc.mm, 0, pages * 4096, PROT_READ, MAP_PRIVATE, { mapping, readable: true, writable: false }, 0);
  const out = doMmap(g.proc.mm, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
  const before = { ...sys.counters.snapshot() } as Record<string, number>;
  expect(g.run({ rbx: addr, rcx: pages * 512, rdx: 0, r12: out })).toEqual({ kind: "exited", code: 0 });
  expect(Buffer.from(copyFromUser(g.proc.mm, out, 8)).readBigUInt64LE(0), "bytes scanned").toBe(hashQwords(bytes));
  const c = sys.counters;
  const delta = (k: string) => (c as unknown as Record<string, number>)[k] - before[k];
  return { c, delta, mapping };
}

/** The batch sizes Linux's window growth gives for a sequential scan of `pages` from 0 (clipped at EOF). */
function linuxWindows(pages: number, max: number): number[] {
  const out: number[] = [];
  let start = 0, size = initWindow(1, max);
  while (start < pages) {
    out.push(Math.min(size, pages - start));
    start += size;
    size = nextWindow(size, max);
  }
  return out;
}

describe("on-demand readahead window growth", () => {
  it.each([
    { max: 32, first: [4, 8, 16, 32, 32] },
    { max: 16, first: [2, 4, 8, 16, 16] },
    { max: 8, first: [2, 4, 8, 8] },
    { max: 4, first: [2, 4, 4] },
  ])("max $max pages: windows $first...", ({ max, first }) => {
    expect(linuxWindows(1000, max).slice(0, first.length), "window sizes of Linux's get_init_ra_size/get_next_ra_size").toEqual(first);
  });

  it.each([4, 8, 16, 32])("sequential scan with max %i: one major fault, then readpages batches of the window sizes", (max) => {
    const pages = 200;
    const { c, delta } = scan(pages, { readaheadMaxPages: max, faultAroundPages: 0 });
    const want: Record<number, number> = {};
    for (const w of linuxWindows(pages, max)) want[w] = (want[w] ?? 0) + 1;
    expect(c.readpagesHistogram, `batch histogram: got ${JSON.stringify(c.readpagesHistogram)}, want ${JSON.stringify(want)}`).toEqual(want);
    expect(delta("majorFaults"), "major faults (only the first miss waits for I/O)").toBe(1);
    expect(delta("pagesRead"), "pages read").toBe(pages);
    expect(delta("readpageCalls"), "readpage calls").toBe(0);
  });

  it("readahead off: every page is a major fault served by readpage", () => {
    const pages = 64;
    const { delta } = scan(pages, { readaheadMaxPages: 0, faultAroundPages: 0 });
    expect(delta("readpageCalls")).toBe(pages);
    expect(delta("readpagesBatches")).toBe(0);
    expect(delta("majorFaults")).toBe(pages);
  });

  it("a vtable without readpages falls back to one readpage per page", () => {
    const pages = 64;
    const { delta } = scan(pages, { readaheadMaxPages: 32, faultAroundPages: 0 }, false);
    expect(delta("readpageCalls"), "readpage calls").toBe(pages);
    expect(delta("readpagesBatches"), "readpages batches").toBe(0);
    expect(delta("majorFaults"), "major faults").toBe(1);
  });
});

describe("fault-around", () => {
  it("maps cached neighbours: far fewer faults than pages, every page accounted", () => {
    const pages = 256;
    const { delta } = scan(pages, { readaheadMaxPages: 32, faultAroundPages: 16 });
    const faults = delta("majorFaults") + delta("minorFaults");
    const around = delta("faultAroundMapped");
    expect(around, `pages mapped by fault-around: got ${around}`).toBeGreaterThan(pages / 2);
    // Every data page is either faulted or mapped around; the text and stack add a few faults.
    expect(faults + around, `faults ${faults} + around ${around}`).toBeGreaterThanOrEqual(pages);
    expect(faults, `faults: got ${faults}, want < ${pages / 4}`).toBeLessThan(pages / 4);
  });
});

describe("the aops vtable is per file", () => {
  it("replacing one file's vtable leaves other files' untouched, and restoring it works", () => {
    const sys = new MemSystem();
    const a = sys.openFile(writeFile(crypto.randomBytes(4096)), false);
    const b = sys.openFile(writeFile(crypto.randomBytes(4096)), false);
    const orig = a.setAops({ readpage: (m, p) => hostFileAops.readpage(m, p) });
    expect(b.aops, "the other file's vtable").toBe(hostFileAops);
    expect(a.aops).not.toBe(hostFileAops);
    a.setAops(orig);
    expect(a.aops, "restored").toBe(hostFileAops);
  });
});
