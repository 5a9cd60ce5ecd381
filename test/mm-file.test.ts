/**
 * File mappings through the page cache: contents equal the file's bytes,
 * the cache is shared between processes, private writes copy, shared
 * writes reach the file, and pages past end of file raise SIGBUS.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MS_SYNC, MemSystem, PROT_READ, PROT_WRITE, copyFromUser, doMmap, doMsync, doMunmap,
  truncatePagecache,
} from "../mm/index.js";
import { HASH_SNIPPET, hashQwords, loadGuest, writeFile, type Guest } from "./support/guest.js";

const RW = PROT_READ | PROT_WRITE;

/** Maps `path` in g's process and returns the address. */
function mapFile(g: Guest, path: string, pages: number, flags: number, prot = PROT_READ, writable = false): number {
  const mapping = g.sys.openFile(path, writable);
  return doMmap(g.proc.mm, 0, pages * 4096, prot, flags, { mapping, readable: true, writable }, 0);
}

/** Runs the hash snippet over `pages` pages at addr and returns the guest's hash. */
function guestHash(g: Guest, addr: number, pages: number, hot = 0): bigint {
  const out = doMmap(g.proc.mm, 0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
  const st = g.run({ rbx: addr, rcx: pages * 512, rdx: hot, r12: out }, "hash");
  expect(st, `hash run: got ${JSON.stringify(st)}`).toEqual({ kind: "exited", code: 0 });
  return Buffer.from(copyFromUser(g.proc.mm, out, 8)).readBigUInt64LE(0);
}

const SNIPPETS = {
  hash: HASH_SNIPPET,
  write: "mov byte ptr [rbx], 0xAB\nmov edi, 0\nmov eax, 231\nsyscall",
  read: "movzx rdi, byte ptr [rbx]\nmov eax, 231\nsyscall",
};

describe("private file mappings read the file's real bytes", () => {
  it.each([1, 7, 64, 300])("%i pages", (pages) => {
    const bytes = crypto.randomBytes(pages * 4096);
    const path = writeFile(bytes);
    const g = loadGuest(SNIPPETS);
    const addr = mapFile(g, path, pages, MAP_PRIVATE);
    const got = guestHash(g, addr, pages), want = hashQwords(bytes);
    expect(got, `hash: got ${got.toString(16)}, want ${want.toString(16)}`).toBe(want);
    expect(g.sys.counters.pagesRead, `pages read: got ${g.sys.counters.pagesRead}, want >= ${pages}`).toBeGreaterThanOrEqual(pages);
  });
});

describe("the page cache is shared by every process", () => {
  it("a second process mapping the same file reads nothing again", () => {
    const pages = 50;
    const bytes = crypto.randomBytes(pages * 4096);
    const path = writeFile(bytes);
    const sys = new MemSystem();
    // Count every page the data file's vtable reads (a wrapping copy, as probes use).
    const mapping = sys.openFile(path, false);
    let read = 0;
    const orig = mapping.aops;
    mapping.setAops({
      readpage: (m, p) => { read++; orig.readpage(m, p); },
      readpages: (m, ps) => { read += ps.length; orig.readpages!(m, ps); },
    });
    const a = loadGuest(SNIPPETS, sys);
    guestHash(a, mapFile(a, path, pages, MAP_PRIVATE), pages);
    expect(read, `pages read by the 1st process: got ${read}, want ${pages}`).toBe(pages);
    const b = loadGuest(SNIPPETS, sys);
    const got = guestHash(b, mapFile(b, path, pages, MAP_SHARED), pages);
    expect(got).toBe(hashQwords(bytes));
    expect(read, `pages read after the 2nd process: got ${read}, want still ${pages}`).toBe(pages);
    expect(sys.files.size, `page caches: got ${sys.files.size}`).toBe(3); // the two texts and the data file
  });
});

describe("writes", () => {
  it("a private write copies the page: the file and other processes keep the original", () => {
    const bytes = Buffer.alloc(2 * 4096, 0x11);
    const path = writeFile(bytes);
    const sys = new MemSystem();
    const a = loadGuest(SNIPPETS, sys);
    const addr = mapFile(a, path, 2, MAP_PRIVATE, RW);
    expect(a.run({ rbx: addr }, "read")).toEqual({ kind: "exited", code: 0x11 });
    expect(a.run({ rbx: addr + 4096 }, "write")).toEqual({ kind: "exited", code: 0 });
    expect(sys.counters.privateCopies, `private copies: got ${sys.counters.privateCopies}, want 1`).toBe(1);
    expect(a.run({ rbx: addr + 4096 }, "read"), "the writer sees its write").toEqual({ kind: "exited", code: 0xab });
    const b = loadGuest(SNIPPETS, sys);
    expect(b.run({ rbx: mapFile(b, path, 2, MAP_PRIVATE) + 4096 }, "read"), "another process sees the file").toEqual({ kind: "exited", code: 0x11 });
    a.proc.destroy();
    sys.sync();
    expect(fs.readFileSync(path)[4096], "file byte after sync").toBe(0x11);
  });

  it("a shared write reaches the file through writepage at msync, found by the dirty bit", () => {
    const path = writeFile(Buffer.alloc(3 * 4096, 0x22));
    const g = loadGuest(SNIPPETS);
    const addr = mapFile(g, path, 3, MAP_SHARED, RW, true);
    expect(g.run({ rbx: addr + 4096 + 5 }, "write")).toEqual({ kind: "exited", code: 0 });
    expect(fs.readFileSync(path)[4096 + 5], "file before msync").toBe(0x22);
    doMsync(g.proc.mm, addr, 3 * 4096, MS_SYNC);
    expect(fs.readFileSync(path)[4096 + 5], "file after msync").toBe(0xab);
    expect(g.sys.counters.writebacks, `writebacks: got ${g.sys.counters.writebacks}, want 1 (only the dirty page)`).toBe(1);
  });

  it("dirty shared pages are written back when the mapping goes and the system syncs", () => {
    const path = writeFile(Buffer.alloc(4096, 0x33));
    const g = loadGuest(SNIPPETS);
    const addr = mapFile(g, path, 1, MAP_SHARED, RW, true);
    expect(g.run({ rbx: addr }, "write")).toEqual({ kind: "exited", code: 0 });
    doMunmap(g.proc.mm, addr, 4096);
    g.sys.sync();
    expect(fs.readFileSync(path)[0]).toBe(0xab);
  });
});

describe("end of file", () => {
  it("the tail of the last page reads zero; the page past it raises SIGBUS", () => {
    const path = writeFile(Buffer.alloc(4096 + 100, 0x44));
    const g = loadGuest(SNIPPETS);
    const addr = mapFile(g, path, 3, MAP_PRIVATE);
    expect(g.run({ rbx: addr + 4096 + 99 }, "read")).toEqual({ kind: "exited", code: 0x44 });
    expect(g.run({ rbx: addr + 4096 + 100 }, "read")).toEqual({ kind: "exited", code: 0 });
    const st = g.run({ rbx: addr + 2 * 4096 }, "read");
    expect(st.kind === "signaled" && st.signo, `past EOF: got ${JSON.stringify(st)}, want SIGBUS (7)`).toBe(7);
    if (st.kind === "signaled") expect(st.addr).toBe(addr + 2 * 4096);
  });

  it("a file truncated under a mapping raises SIGBUS on its lost pages", () => {
    const path = writeFile(Buffer.alloc(4 * 4096, 0x55));
    const g = loadGuest(SNIPPETS);
    const addr = mapFile(g, path, 4, MAP_SHARED);
    expect(g.run({ rbx: addr + 3 * 4096 }, "read")).toEqual({ kind: "exited", code: 0x55 });
    fs.truncateSync(path, 4096);
    truncatePagecache(g.sys, g.sys.openFile(path, false), 4096);
    const st = g.run({ rbx: addr + 3 * 4096 }, "read");
    expect(st.kind === "signaled" && st.signo, `after truncate: got ${JSON.stringify(st)}, want SIGBUS (7)`).toBe(7);
    expect(g.run({ rbx: addr }, "read"), "the page still inside the file").toEqual({ kind: "exited", code: 0x55 });
  });
});
