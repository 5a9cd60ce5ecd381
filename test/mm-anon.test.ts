/**
 * Anonymous memory: zero-fill on first touch, protections, MADV_DONTNEED,
 * mremap, brk, and host memory that follows what the guest touches.
 */
import { describe, expect, it } from "vitest";
import { hostRss } from "../lib/hostmem.js";
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MADV_DONTNEED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE, doBrk, doMadvise, doMmap,
  doMprotect, doMremap, copyFromUser,
} from "../mm/index.js";
import { WRITE_PAGES, exitWith, loadGuest } from "./support/guest.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;


/** Guest: reads a qword at rbx and exits with its low byte. */
const READ_ONE = `mov rax, [rbx]\n${exitWith()}`;
/** Guest: writes 7 to rbx. */
const WRITE_ONE = `mov qword ptr [rbx], 7\nmov rdi, 0\nmov eax, 231\nsyscall`;

describe("anonymous first touch", () => {
  it.each([1, 16, 300])("%i pages: zero-filled, one minor fault each, data kept", (n) => {
    const g = loadGuest(WRITE_PAGES);
    const addr = doMmap(g.proc.mm, 0, n * 4096, RW, ANON, null, 0);
    const before = g.sys.counters.anonPages;
    const st = g.run({ rbx: addr, rcx: n });
    const want = (n * (n + 1) / 2) & 0xff;
    expect(st, `exit: got ${JSON.stringify(st)}, want exited ${want}`).toEqual({ kind: "exited", code: want });
    expect(g.sys.counters.anonPages - before, `anon pages: got ${g.sys.counters.anonPages - before}, want ${n} + stack`).toBeGreaterThanOrEqual(n);
    const back = copyFromUser(g.proc.mm, addr + (n - 1) * 4096, 8);
    expect(back[0], `last page's first byte: got ${back[0]}, want ${n & 0xff}`).toBe(n & 0xff);
  });

  it("a fresh page reads as zero", () => {
    const g = loadGuest(READ_ONE);
    const addr = doMmap(g.proc.mm, 0, 4096, RW, ANON, null, 0);
    expect(g.run({ rbx: addr })).toEqual({ kind: "exited", code: 0 });
  });
});

describe("protection faults end in SIGSEGV with address, access and rip", () => {
  const cases = [
    { name: "read of PROT_NONE", prot: 0, code: READ_ONE, access: "read", why: "SEGV_ACCERR" },
    { name: "write to PROT_READ", prot: PROT_READ, code: WRITE_ONE, access: "write", why: "SEGV_ACCERR" },
    { name: "read of unmapped", prot: -1, code: READ_ONE, access: "read", why: "SEGV_MAPERR" },
  ];
  it.each(cases)("$name", ({ prot, code, access, why }) => {
    const g = loadGuest(code);
    const addr = prot < 0 ? 0x1234_5000 : doMmap(g.proc.mm, 0, 4096, prot, ANON, null, 0);
    const st = g.run({ rbx: addr + 8 });
    expect(st.kind, `kind: got ${st.kind}, want signaled`).toBe("signaled");
    if (st.kind !== "signaled") return;
    expect(st.signo, `signal: got ${st.signo}, want 11`).toBe(11);
    expect(st.addr, `address: got ${st.addr?.toString(16)}, want ${(addr + 8).toString(16)}`).toBe(addr + 8);
    expect(st.rip, `rip: got ${st.rip.toString(16)}, want 400000`).toBe(0x400000);
    expect(st.access, `access: got ${st.access}, want ${access}`).toBe(access);
    expect(st.detail).toContain(why);
  });
});

const SNIPPETS = { read: READ_ONE, write: WRITE_ONE };
const exited = (code: number) => ({ kind: "exited", code });

describe("mprotect, madvise, mremap, brk keep or drop data as Linux does", () => {
  it("PROT_NONE keeps anonymous data; access restored shows it again", () => {
    const g = loadGuest(SNIPPETS);
    const mm = g.proc.mm;
    const addr = doMmap(mm, 0, 2 * 4096, RW, ANON, null, 0);
    expect(g.run({ rbx: addr }, "write")).toEqual(exited(0));
    doMprotect(mm, addr, 2 * 4096, 0);
    const st = g.run({ rbx: addr }, "read");
    expect(st.kind === "signaled" && st.signo, `read under PROT_NONE: got ${JSON.stringify(st)}, want SIGSEGV`).toBe(11);
    doMprotect(mm, addr, 2 * 4096, PROT_READ);
    expect(g.run({ rbx: addr }, "read"), "data after PROT_NONE -> PROT_READ").toEqual(exited(7));
    const w = g.run({ rbx: addr }, "write");
    expect(w.kind === "signaled" && w.signo, `write under PROT_READ: got ${JSON.stringify(w)}, want SIGSEGV`).toBe(11);
  });

  it("mprotect of the middle page splits the VMA and merges back", () => {
    const g = loadGuest(SNIPPETS);
    const mm = g.proc.mm;
    const before = mm.vmas.count;
    const addr = doMmap(mm, 0, 3 * 4096, RW, ANON, null, 0);
    doMprotect(mm, addr + 4096, 4096, PROT_READ);
    expect(mm.vmas.count, `VMAs after split: got ${mm.vmas.count}, want ${before + 3}`).toBe(before + 3);
    doMprotect(mm, addr + 4096, 4096, RW);
    expect(mm.vmas.count, `VMAs after merge: got ${mm.vmas.count}, want ${before + 1}`).toBe(before + 1);
  });

  it("MADV_DONTNEED drops anonymous pages: they read as zero and are uncharged", () => {
    const g = loadGuest(SNIPPETS);
    const mm = g.proc.mm;
    const addr = doMmap(mm, 0, 4096, RW, ANON, null, 0);
    expect(g.run({ rbx: addr }, "write")).toEqual(exited(0));
    const charged = mm.anonPages;
    doMadvise(mm, addr, 4096, MADV_DONTNEED);
    expect(mm.anonPages, `anon pages after DONTNEED: got ${mm.anonPages}, want ${charged - 1}`).toBe(charged - 1);
    expect(g.run({ rbx: addr }, "read"), "page after DONTNEED").toEqual(exited(0));
  });

  it("mremap moves pages without losing data and frees the old range", () => {
    const g = loadGuest(SNIPPETS);
    const mm = g.proc.mm;
    const addr = doMmap(mm, 0, 4096, RW, ANON, null, 0);
    // Block growth in place so the mapping must move.
    doMmap(mm, addr + 4096, 4096, PROT_READ, ANON | 0x10, null, 0);
    expect(g.run({ rbx: addr }, "write")).toEqual(exited(0));
    const to = doMremap(mm, addr, 4096, 8 * 4096, MREMAP_MAYMOVE, 0);
    expect(to, "moved").not.toBe(addr);
    expect(g.run({ rbx: to }, "read"), "data at the new address").toEqual(exited(7));
    expect(g.run({ rbx: to + 7 * 4096 }, "read"), "grown tail reads zero").toEqual(exited(0));
    const old = g.run({ rbx: addr }, "read");
    expect(old.kind === "signaled" && old.signo, `old address: got ${JSON.stringify(old)}, want SIGSEGV`).toBe(11);
  });

  it("brk grows and shrinks the heap; a failed brk returns the old break", () => {
    const g = loadGuest(SNIPPETS);
    const mm = g.proc.mm;
    mm.brkStart = mm.brk = 0x1000_0000;
    expect(doBrk(mm, 0x1000_0000 + 3 * 4096 + 5)).toBe(0x1000_0000 + 3 * 4096 + 5);
    expect(g.run({ rbx: 0x1000_0000 + 3 * 4096 }, "write"), "write into the heap").toEqual(exited(0));
    expect(doBrk(mm, 0x1000_0000 - 4096), "brk below start").toBe(0x1000_0000 + 3 * 4096 + 5);
    doMmap(mm, 0x1000_0000 + 64 * 4096, 4096, RW, ANON | 0x10, null, 0);
    expect(doBrk(mm, 0x1000_0000 + 100 * 4096), "brk into a mapping fails").toBe(0x1000_0000 + 3 * 4096 + 5);
    expect(doBrk(mm, 0x1000_0000 + 4096), "shrink").toBe(0x1000_0000 + 4096);
    const st = g.run({ rbx: 0x1000_0000 + 3 * 4096 }, "read");
    expect(st.kind === "signaled" && st.signo, `read past the shrunk break: got ${JSON.stringify(st)}, want SIGSEGV`).toBe(11);
  });
});

describe("host memory follows what the guest touches, not what it reserves", () => {
  it("64 GiB PROT_NONE with ten pages made writable and touched costs megabytes", () => {
    const g = loadGuest(SNIPPETS);
    const mm = g.proc.mm;
    const rss0 = hostRss();
    const size = 64 * 2 ** 30;
    const addr = doMmap(mm, 0, size, 0, ANON | 0x4000, null, 0);
    for (let k = 0; k < 10; k++) {
      const at = addr + k * (size / 10) - ((k * (size / 10)) % 4096);
      doMprotect(mm, at, 4096, RW);
      expect(g.run({ rbx: at }, "write")).toEqual(exited(0));
    }
    const grown = hostRss() - rss0;
    expect(grown, `host RSS growth: got ${(grown / 2 ** 20).toFixed(1)} MiB, want < 32 MiB`).toBeLessThan(32 * 2 ** 20);
    expect(mm.anonPages, `resident anon pages: got ${mm.anonPages}`).toBeLessThan(20);
  });
});
