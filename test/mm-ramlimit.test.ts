/**
 * No data lost under a RAM limit: a file larger than the limit is written
 * (dirty pages written back and reclaimed while the program's own text is
 * evicted and read again), and its bytes equal the native run's; a limit
 * too small to run is an out-of-memory kill (137) with one line, and a limit
 * below MIN_RAM_PAGES is refused up front with a typed error.
 *
 * The regression under all of it: a page that readahead read and marked
 * PG_readahead, then reclaimed before anything touched it, was never read
 * again (the next window began after it), so the fault ended in
 * "SIGBUS ... page N of PROG could not be read".
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  MAP_PRIVATE, MIN_RAM_PAGES, MemSystem, PAGE_SIZE, PROT_READ, RamLimitError, doMmap, evictPage, filemapRead, handlePageFault,
  newReadaheadState,
} from "../mm/index.js";
import { loadGuest } from "./support/guest.js";
import { REPO, buildC, firstDifference, runFaultline, runNative, scratch } from "./support/native.js";

const WRITEBACK = path.join(REPO, "test", "programs", "writeback.c");

/** A file of `pages` pages, page i filled with byte i+1. */
function numberedFile(dir: string, pages: number): { file: string; bytes: Buffer } {
  const bytes = Buffer.alloc(pages * PAGE_SIZE);
  for (let i = 0; i < pages; i++) bytes.fill(i + 1, i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
  const file = path.join(dir, "numbered");
  fs.writeFileSync(file, bytes);
  return { file, bytes };
}

describe("a readahead page reclaimed before it was touched is read again", () => {
  it("read(): the marker page of the first window, evicted, then read", () => {
    const { file, bytes } = numberedFile(scratch(), 64);
    const sys = new MemSystem();
    const mapping = sys.openFile(file, false);
    const ra = newReadaheadState();
    filemapRead(sys, mapping, ra, 0, 1);
    const marked = [...mapping.pages.values()].filter((p) => p.index > 0);
    expect(marked.length, "the first read opened a readahead window past page 0").toBeGreaterThan(0);
    for (const p of marked) evictPage(sys, p);
    for (let i = 1; i <= marked.length; i++) {
      const got = Buffer.from(filemapRead(sys, mapping, ra, i * PAGE_SIZE, PAGE_SIZE));
      const want = bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
      if (!got.equals(want)) expect.fail(`page ${i}: ${firstDifference(got, want)}`);
    }
    sys.close();
  });

  it("page fault: the marker page of a mapping, evicted, then faulted", () => {
    const { file, bytes } = numberedFile(scratch(), 64);
    const sys = new MemSystem({ faultAroundPages: 0 });
    const g = loadGuest("hlt", sys);
    const mapping = sys.openFile(file, false);
    const addr = doMmap(g.proc.mm, 0, 64 * PAGE_SIZE, PROT_READ, MAP_PRIVATE, { mapping, readable: true, writable: false }, 0);
    handlePageFault(g.proc.mm, addr, 0, () => 0);
    const marked = [...mapping.pages.values()].filter((p) => p.index > 0);
    expect(marked.length, "the first fault opened a readahead window past page 0").toBeGreaterThan(0);
    for (const p of marked) evictPage(sys, p);
    for (let i = 1; i <= marked.length; i++) {
      handlePageFault(g.proc.mm, addr + i * PAGE_SIZE, 0, () => 0);
      const got = Buffer.from(g.proc.mm.bytes(addr + i * PAGE_SIZE, PAGE_SIZE));
      const want = bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
      if (!got.equals(want)) expect.fail(`page ${i}: ${firstDifference(got, want)}`);
    }
    g.proc.destroy();
    sys.close();
  });
});

describe("files larger than --mem are written whole", () => {
  const CASES: readonly { label: string; argv: (dir: string, out: string) => string[] }[] = [
    { label: "busybox dd bs=1M count=72 of a fixed 72 MiB file", argv: (dir, out) => ["/bin/busybox", "dd", `if=${path.join(dir, "src")}`, `of=${out}`, "bs=1M", "count=72"] },
    { label: "busybox dd bs=4k of the same file", argv: (dir, out) => ["/bin/busybox", "dd", `if=${path.join(dir, "src")}`, `of=${out}`, "bs=4k"] },
    { label: "a static C program: write() 80 MiB in 64 KiB blocks, read it back", argv: (_dir, out) => [buildC(WRITEBACK, "gcc-static"), out, "80"] },
    { label: "a dynamic C program: write() 70 MiB in 4 KiB blocks, read it back", argv: (_dir, out) => [buildC(WRITEBACK, "gcc-dynamic"), out, "70", "4096"] },
  ];
  const dir = scratch("faultline-ramlimit-");

  for (const c of CASES) {
    it(`${c.label}: under --mem 64M, exit status, output and the file's bytes as natively`, () => {
      const src = path.join(dir, "src");
      if (!fs.existsSync(src)) {
        const b = Buffer.alloc(72 << 20);
        let x = 0x2545f491;
        for (let k = 0; k < b.length; k += 4) {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          b.writeInt32LE(x | 0, k);
        }
        fs.writeFileSync(src, b);
      }
      const wantFile = path.join(dir, "native.out"), gotFile = path.join(dir, "faultline.out");
      const want = runNative(c.argv(dir, wantFile));
      const got = runFaultline(c.argv(dir, gotFile), {}, ["--mem", "64M", "--timeout", "240"]);
      expect(got.status, `exit status: got ${got.status}, want ${want.status}; faultline stderr: ${got.stderr.trim()}`).toBe(want.status);
      if (!got.stdout.equals(want.stdout)) expect.fail(`stdout: ${firstDifference(got.stdout, want.stdout)}`);
      const gotBytes = fs.readFileSync(gotFile), wantBytes = fs.readFileSync(wantFile);
      expect(wantBytes.length, "the native run wrote more than the limit").toBeGreaterThan(64 << 20);
      if (!gotBytes.equals(wantBytes)) expect.fail(`file bytes: ${firstDifference(gotBytes, wantBytes)}`);
      fs.rmSync(gotFile);
      fs.rmSync(wantFile);
    }, 300_000);
  }
});

describe("limits too small to run", () => {
  it("--mem 64K busybox echo hi: an out-of-memory kill (137) in one line, never SIGBUS", () => {
    const got = runFaultline(["/bin/busybox", "echo", "hi"], {}, ["--mem", "64K", "--timeout", "60"]);
    const lines = got.stderr.trim().split("\n");
    expect(got.status, `exit status: got ${got.status}, want 137; stderr: ${got.stderr.trim()}`).toBe(137);
    expect(lines.length, `stderr lines: got ${JSON.stringify(lines)}, want one`).toBe(1);
    expect(lines[0], `stderr: got ${lines[0]}`).toMatch(/killed by SIGKILL.*out of memory.*RAM limit 16 pages \(64 KiB\)/);
    expect(got.stdout.toString(), "nothing printed").toBe("");
  });

  const REFUSED: readonly { pages: number; why: string }[] = [
    { pages: 0, why: "zero" },
    { pages: 1, why: "one page" },
    { pages: MIN_RAM_PAGES - 1, why: "one below the minimum" },
    { pages: 16.5, why: "not a whole number of pages" },
    { pages: -1, why: "negative" },
    { pages: NaN, why: "not a number" },
  ];
  for (const r of REFUSED) {
    it(`MemSystem refuses a RAM limit of ${r.pages} pages (${r.why}) with RamLimitError`, () => {
      let err: unknown;
      try {
        new MemSystem({ ramLimitPages: r.pages }).close();
      } catch (e) {
        err = e;
      }
      expect(err, `got ${String(err)}, want a RamLimitError`).toBeInstanceOf(RamLimitError);
      expect((err as RamLimitError).code).toBe("ERAMLIMIT");
    });
  }

  it(`MemSystem accepts MIN_RAM_PAGES (${MIN_RAM_PAGES}) and no limit`, () => {
    new MemSystem({ ramLimitPages: MIN_RAM_PAGES }).close();
    new MemSystem({ ramLimitPages: Infinity }).close();
  });
});
