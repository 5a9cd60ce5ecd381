/**
 * Reclaim under a RAM limit: a file twice the limit's size is scanned twice
 * and every byte checked; a hot page survives by its accessed bit; dirty
 * shared pages are written back before eviction; anonymous memory past the
 * limit is a clear out-of-memory kill.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MemSystem, PROT_READ, PROT_WRITE, copyFromUser, doMmap } from "../mm/index.js";
import { HASH_SNIPPET, hashQwords, loadGuest, scratchDir, writeFile, type Guest } from "./support/guest.js";

const RW = PROT_READ | PROT_WRITE;

/** Guest: stores rcx, rcx-1, ..., 1 into the first qword of rcx pages from rbx, then exits 0. */
const STORE_PAGES = `
1:  mov [rbx], rcx
    add rbx, 4096
    dec rcx
    jnz 1b
    mov edi, 0
    mov eax, 231
    syscall`;

function hashRun(g: Guest, addr: number, pages: number, hot = 0): bigint {
  const out = doMmap(g.proc.mm, 0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
  const st = g.run({ rbx: addr, rcx: pages * 512, rdx: hot, r12: out }, "hash");
  expect(st, `scan: got ${JSON.stringify(st)}`).toEqual({ kind: "exited", code: 0 });
  return Buffer.from(copyFromUser(g.proc.mm, out, 8)).readBigUInt64LE(0);
}

/** A file of `pages` pages whose every qword is distinct (page index and offset), made without holding it all in memory twice. */
function patternFile(pages: number): { path: string; hash: bigint } {
  const p = path.join(scratchDir(), "big.bin");
  const fd = fs.openSync(p, "w");
  const chunkPages = 1024;
  const M = 0x9e3779b97f4a7c15n, MASK = (1n << 64n) - 1n;
  let h = 0n;
  for (let first = 0; first < pages; first += chunkPages) {
    const n = Math.min(chunkPages, pages - first);
    const buf = Buffer.alloc(n * 4096);
    for (let q = 0; q < n * 512; q++) {
      buf.writeUInt32LE((first * 512 + q) >>> 0, q * 8);
      buf.writeUInt32LE(0xfa017000 + first + Math.floor(q / 512), q * 8 + 4);
    }
    fs.writeSync(fd, buf);
    const v = new BigUint64Array(buf.buffer, buf.byteOffset, n * 512);
    for (const x of v) {
      h ^= x;
      h = ((h << 13n) | (h >> 51n)) & MASK;
      h = (h * M) & MASK;
    }
  }
  fs.closeSync(fd);
  return { path: p, hash: h };
}

describe("reclaim", () => {
  it("stress: 100,000 pages of a file twice the RAM limit, scanned twice, every byte right", () => {
    const pages = 100_000;
    const { path: file, hash } = patternFile(pages);
    const sys = new MemSystem({ ramLimitPages: pages / 2 });
    const g = loadGuest({ hash: HASH_SNIPPET }, sys);
    const mapping = sys.openFile(file, false);
    const addr = doMmap(g.proc.mm, 0, pages * 4096, PROT_READ, MAP_PRIVATE, { mapping, readable: true, writable: false }, 0);
    for (const pass of [1, 2]) {
      const got = hashRun(g, addr, pages);
      expect(got, `pass ${pass} hash: got ${got.toString(16)}, want ${hash.toString(16)}`).toBe(hash);
    }
    const c = sys.counters;
    expect(c.pagesRead, `pages read: got ${c.pagesRead}, want >= ${2 * pages} (every page read twice)`).toBeGreaterThanOrEqual(2 * pages);
    expect(c.evictions, `evictions: got ${c.evictions}`).toBeGreaterThanOrEqual(2 * pages - pages / 2 - 100);
    expect(sys.filePages + sys.anonPages, "resident pages within the limit").toBeLessThanOrEqual(pages / 2);
  });

  it("second chance: a page touched all along survives while cold pages go", () => {
    const pages = 400;
    const bytes = Buffer.alloc(pages * 4096);
    for (let p = 0; p < pages; p++) bytes.fill(p & 0xff, p * 4096, (p + 1) * 4096);
    const file = writeFile(bytes);
    const sys = new MemSystem({ ramLimitPages: 96, faultAroundPages: 0 });
    const g = loadGuest({ hash: HASH_SNIPPET }, sys);
    const mapping = sys.openFile(file, false);
    let hotReads = 0;
    const orig = mapping.aops;
    mapping.setAops({
      readpage: (m, p) => { if (p.index === 0) hotReads++; orig.readpage(m, p); },
      readpages: (m, ps) => { if (ps[0].index === 0) hotReads++; orig.readpages!(m, ps); },
    });
    const addr = doMmap(g.proc.mm, 0, pages * 4096, PROT_READ, MAP_PRIVATE, { mapping, readable: true, writable: false }, 0);
    // Touch page 0 once, then scan pages 1.. while touching page 0 after every page.
    expect(hashRun(g, addr, 1)).toBe(hashQwords(bytes.subarray(0, 4096)));
    const got = hashRun(g, addr + 4096, pages - 1, addr);
    expect(got).toBe(hashQwords(bytes.subarray(4096)));
    expect(sys.counters.evictions, "cold pages were evicted").toBeGreaterThan(pages / 2);
    expect(mapping.pages.has(0), "the hot page is still cached").toBe(true);
    expect(hotReads, `reads of the hot page: got ${hotReads}, want 1`).toBe(1);
  });

  it("dirty shared pages are written back through writepage before eviction", () => {
    const pages = 200;
    const file = writeFile(Buffer.alloc(pages * 4096, 0));
    const sys = new MemSystem({ ramLimitPages: 48 });
    const g = loadGuest({ fill: STORE_PAGES }, sys);
    const mapping = sys.openFile(file, true);
    const addr = doMmap(g.proc.mm, 0, pages * 4096, RW, MAP_SHARED, { mapping, readable: true, writable: true }, 0);
    expect(g.run({ rbx: addr, rcx: pages }, "fill")).toEqual({ kind: "exited", code: 0 });
    expect(sys.counters.writebacks, "writebacks by reclaim").toBeGreaterThan(pages / 2);
    g.proc.destroy();
    sys.sync();
    const back = fs.readFileSync(file);
    for (let p = 0; p < pages; p++) {
      const v = back.readUInt32LE(p * 4096);
      expect(v, `page ${p}: got ${v}, want ${pages - p}`).toBe(pages - p);
    }
  });

  it("anonymous memory past the limit is killed with a clear out-of-memory message", () => {
    const sys = new MemSystem({ ramLimitPages: 64 });
    const g = loadGuest({ touch: STORE_PAGES }, sys);
    const addr = doMmap(g.proc.mm, 0, 1000 * 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    const st = g.run({ rbx: addr, rcx: 1000 }, "touch");
    expect(st.kind === "signaled" && st.signo, `got ${JSON.stringify(st)}, want SIGKILL`).toBe(9);
    if (st.kind === "signaled") expect(st.detail).toMatch(/out of memory.*RAM limit 64 pages/);
  });
});
