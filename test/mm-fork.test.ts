/**
 * fork's half in the memory manager (dupMmap, anon.ts): a child address
 * space from the parent's, copy-on-write for private pages, MAP_SHARED
 * memory shared, pages counted once, and either side's munmap, mprotect,
 * madvise, mremap, reclaim and exit leaving the other's data as it was.
 * Guest code runs in both processes on their own engines; every check is
 * against the fixed values the test wrote (or the file's bytes on disk).
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { Reg } from "../emu/constants.js";
import { Engine } from "../emu/engine.js";
import { EngineMmu } from "../emu/mmu.js";
import { Process, type ExitStatus } from "../emu/process.js";
import { hostRss } from "../lib/hostmem.js";
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MADV_DONTFORK, MADV_DONTNEED, MADV_WIPEONFORK, MREMAP_MAYMOVE, MemSystem, Mm,
  PROT_EXEC, PROT_READ, PROT_WRITE, PTE_SW_STORE, STACK_TOP, copyFromUser, copyToUser, doBrk, doMadvise, doMmap, doMprotect, doMremap, doMunmap, dupMmap,
  unshareAnonPage,
  type MmapFile,
} from "../mm/index.js";
import { TEXT, loadGuest, writeFile, type Guest } from "./support/guest.js";
import { hostSmapsTotal } from "./support/smaps.js";

const RW = PROT_READ | PROT_WRITE;
const PAGE = 4096;
/** Values the tests write (below 2^53: they pass through JS numbers into registers). */
const A = 0x1234_5678_9abc, B = 0x0fed_cba9_8765, C = 0x0777_0000_5555;

/** Guest: exits 0 when the qword every `step` bytes, rcx times from rdi, equals rsi; else 1. */
function checkEvery(step: number): string {
  return `
1:  cmp [rdi], rsi
    jne 2f
    add rdi, ${step}
    dec rcx
    jnz 1b
    xor edi, edi
    mov eax, 231
    syscall
2:  mov edi, 1
    mov eax, 231
    syscall`;
}

/** Guest snippets, each exiting 0 on success; registers: rdi address, rcx count, rsi value. */
const SNIPPETS = {
  /** Stores rsi in every qword of rcx qwords from rdi. */
  fill: `
    mov rax, rsi
    cld
    rep stosq
    xor edi, edi
    mov eax, 231
    syscall`,
  /** Exits 0 when every one of rcx qwords from rdi equals rsi, else 1. */
  check: checkEvery(8),
  /** Stores rsi in the first qword of each of rcx pages from rdi. */
  pokePages: `
1:  mov [rdi], rsi
    add rdi, 4096
    dec rcx
    jnz 1b
    xor edi, edi
    mov eax, 231
    syscall`,
  /** Exits 0 when the first qword of each of rcx pages from rdi equals rsi, else 1. */
  checkPages: checkEvery(4096),
} as const;
type Snippet = keyof typeof SNIPPETS;
const NAMES = Object.keys(SNIPPETS) as Snippet[];

const EXITED_0: ExitStatus = { kind: "exited", code: 0 };

/** Runs snippet `name` in `p` (parent or child: the text mapping is the same). */
function runIn(p: Process, name: Snippet, rdi: number, rcx: number, rsi: number): ExitStatus {
  p.engine.writeReg(Reg.RDI, rdi);
  p.engine.writeReg(Reg.RCX, rcx);
  p.engine.writeReg(Reg.RSI, rsi);
  return p.run(TEXT + NAMES.indexOf(name) * 1024, STACK_TOP - 64);
}

/** Expects `p`'s `pages` pages at `addr` to hold `value` in every qword (the guest reads them). */
function expectHolds(p: Process, who: string, addr: number, pages: number, value: number): void {
  const st = runIn(p, "check", addr, pages * PAGE / 8, value);
  expect(st, `${who}: ${pages} pages at 0x${addr.toString(16)} should hold 0x${value.toString(16)}; got ${JSON.stringify(st)}`).toEqual(EXITED_0);
}

/** Has `p` fill `pages` pages at `addr` with `value`. */
function fill(p: Process, addr: number, pages: number, value: number): void {
  expect(runIn(p, "fill", addr, pages * PAGE / 8, value), "fill exits 0").toEqual(EXITED_0);
}

/** A parent guest, and a way to fork children of it (fresh process on the same MemSystem, then dupMmap). */
interface Family {
  readonly g: Guest;
  readonly parent: Process;
  fork(from?: Process): Process;
}

function family(sys?: MemSystem): Family {
  const g = loadGuest(SNIPPETS as unknown as Record<string, string>, sys);
  return {
    g,
    parent: g.proc,
    fork(from = g.proc) {
      const child = new Process(g.sys, { output: () => {}, timeoutMs: 60_000 });
      dupMmap(from.mm, child.mm);
      return child;
    },
  };
}

/** sys.anonPages must equal the pages each live process holds alone plus each store page once. */
function expectAnonTotal(sys: MemSystem, want: number, why: string): void {
  expect(sys.anonPages, `resident anonymous pages (${why}): got ${sys.anonPages}, want ${want}`).toBe(want);
}

/**
 * Proportional set size (shared pages divided among their mappers), in
 * bytes, of the host memory behind guest range [addr, addr+len) in each of
 * `procs`: the host mappings there, not the whole host process, whose
 * engines, heaps and allocator pools grow with a fork whatever the guest
 * touched (a first fork in a fresh test process grew it by ~10 MiB).
 */
function hostPss(procs: readonly Process[], addr: number, len: number): number {
  return hostSmapsTotal("Pss", procs.map((p) => [p.mm.mem.addr + addr, p.mm.mem.addr + addr + len] as const));
}

describe("fork: private anonymous memory is copy-on-write", () => {
  it.each(["child", "parent"] as const)("a write by the %s is seen by it alone; the page written before fork reads the same in both", (writer) => {
    const f = family();
    const addr = doMmap(f.parent.mm, 0, 8 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    fill(f.parent, addr, 8, A);
    const child = f.fork();
    expectHolds(child, "child after fork", addr, 8, A);
    expectHolds(f.parent, "parent after fork", addr, 8, A);
    const [w, other] = writer === "child" ? [child, f.parent] : [f.parent, child];
    const cow0 = f.g.sys.counters.cowFaults;
    fill(w, addr, 8, B);
    expectHolds(w, `${writer} after its write`, addr, 8, B);
    expectHolds(other, `the other side after the ${writer}'s write`, addr, 8, A);
    const cow = f.g.sys.counters.cowFaults - cow0;
    expect(cow, `COW faults: got ${cow}, want 8 (one per page written)`).toBe(8);
    expect(f.g.sys.counters.snapshot().cowFaults, "cowFaults in the snapshot --stats and --stats-json print").toBe(f.g.sys.counters.cowFaults);
    child.destroy();
    expectAnonTotal(f.g.sys, f.parent.mm.anonPages, "child gone: the parent's pages only");
  });

  it("16 MiB touched before fork: one physical copy (RAM use ~0 more), then one page per page written", () => {
    const f = family();
    const sys = f.g.sys;
    const pages = 4096;
    const addr = doMmap(f.parent.mm, 0, pages * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    fill(f.parent, addr, pages, A);
    const anon0 = sys.anonPages, ram0 = sys.anonPages + sys.filePages + sys.tablePages;
    const pss0 = hostPss([f.parent], addr, pages * PAGE);
    const child = f.fork();
    expectHolds(child, "child", addr, pages, A);
    expectHolds(f.parent, "parent", addr, pages, A);
    expectAnonTotal(sys, anon0, "after fork and reads by both");
    const ram = sys.anonPages + sys.filePages + sys.tablePages - ram0;
    expect(ram, `RAM use grown by fork: got ${ram} pages, want only the child's page tables (< 32), not ${pages}`).toBeLessThan(32);
    const pss = (hostPss([f.parent, child], addr, pages * PAGE) - pss0) / 2 ** 20;
    expect(pss, `host PSS grown by fork and both reading 16 MiB: got ${pss.toFixed(1)} MiB, want < 8 (one copy shared)`).toBeLessThan(8);
    const cow0 = sys.counters.cowFaults;
    expect(runIn(child, "pokePages", addr, 10, B)).toEqual(EXITED_0);
    expectAnonTotal(sys, anon0 + 10, "child wrote 10 pages");
    expect(sys.counters.cowFaults - cow0, "COW faults after the child wrote 10 pages").toBe(10);
    expect(runIn(f.parent, "checkPages", addr, pages, A), "parent still reads A everywhere").toEqual(EXITED_0);
    child.destroy();
    expectAnonTotal(sys, anon0, "child gone");
  });

  it("the child's exit leaves the parent's pages; the parent's write then reuses them in place (no COW fault, no new page)", () => {
    const f = family();
    const addr = doMmap(f.parent.mm, 0, 8 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    fill(f.parent, addr, 8, A);
    const child = f.fork();
    expectHolds(child, "child", addr, 8, A);
    child.destroy();
    expectHolds(f.parent, "parent after the child's exit", addr, 8, A);
    const anon0 = f.g.sys.anonPages, cow0 = f.g.sys.counters.cowFaults;
    fill(f.parent, addr, 8, B);
    expectHolds(f.parent, "parent after its write", addr, 8, B);
    expect(f.g.sys.counters.cowFaults - cow0, "COW faults when the other sharer is gone").toBe(0);
    expectAnonTotal(f.g.sys, anon0, "pages reused in place");
    expect(f.g.sys.anon.pages.size, "store pages left: those the parent still maps unwritten (its stack)").toBe(countStorePtes(f.parent.mm));
  });

  it("three generations and a second fork after a write: each process sees what it last wrote", () => {
    const f = family();
    const addr = doMmap(f.parent.mm, 0, 4 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    fill(f.parent, addr, 4, A);
    const c1 = f.fork();
    fill(f.parent, addr, 4, B); // parent's own copies; c1 alone holds the pages with A
    const c2 = f.fork(); // B goes to the store where c1's A was: c1 must keep A
    const g1 = f.fork(c1); // grandchild of c1's A
    expectHolds(c1, "first child", addr, 4, A);
    expectHolds(g1, "grandchild", addr, 4, A);
    expectHolds(c2, "second child", addr, 4, B);
    expectHolds(f.parent, "parent", addr, 4, B);
    fill(g1, addr, 4, C);
    expectHolds(g1, "grandchild after its write", addr, 4, C);
    expectHolds(c1, "first child after the grandchild's write", addr, 4, A);
    for (const p of [g1, c1, c2]) p.destroy();
    expectHolds(f.parent, "parent after all exits", addr, 4, B);
    expectAnonTotal(f.g.sys, f.parent.mm.anonPages, "only the parent left");
  });
});

/** PTEs of `mm` still marked as store pages (what the store must still hold for it). */
function countStorePtes(mm: Mm): number {
  let n = 0;
  for (const v of mm.vmas.all()) mm.pt.forEach(v.start, v.end, (_va, i) => { if (mm.pt.lo(i) & PTE_SW_STORE) n++; });
  return n;
}

/** Resident pages of the shmem objects behind MAP_SHARED anonymous mappings (Shmem in /proc/meminfo: page cache, not AnonPages). */
function shmemPages(sys: MemSystem): number {
  let n = 0;
  for (const as of sys.shmem) n += as.pages.size;
  return n;
}

describe("fork: MAP_SHARED anonymous memory stays shared", () => {
  it.each(["child", "parent"] as const)("a write by the %s is seen by the other, pages touched after fork included, counted once", (writer) => {
    const f = family();
    const sys = f.g.sys;
    const addr = doMmap(f.parent.mm, 0, 8 * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, null, 0);
    fill(f.parent, addr, 4, A); // pages 4..7 untouched before fork
    const anon0 = sys.anonPages;
    expect(shmemPages(sys), "shmem pages touched before fork").toBe(4);
    const child = f.fork();
    expect(shmemPages(sys), "shmem pages after fork").toBe(4);
    const [w, other] = writer === "child" ? [child, f.parent] : [f.parent, child];
    expectHolds(other, "the other side before the write", addr, 4, A);
    fill(w, addr, 8, B);
    expectHolds(other, `the other side after the ${writer}'s write`, addr, 8, B);
    expect(shmemPages(sys), "four pages first touched after fork, counted once").toBe(8);
    expectAnonTotal(sys, anon0, "shared anonymous memory is not anonymous pages (it is shmem)");
    expect(sys.counters.cowFaults, "no COW faults on shared memory").toBe(0);
    fill(other, addr + 4 * PAGE, 4, C);
    expectHolds(w, `the ${writer} after the other's write`, addr + 4 * PAGE, 4, C);
    child.destroy();
    expectHolds(f.parent, "parent after the child's exit", addr, 4, B);
    expectHolds(f.parent, "parent after the child's exit", addr + 4 * PAGE, 4, C);
    doMunmap(f.parent.mm, addr, 8 * PAGE);
    expect(sys.shmem.size, "the object goes with its last mapping").toBe(0);
  });

  it("pages first touched by the child alone outlive it; the object goes with the last process", () => {
    const f = family();
    const sys = f.g.sys;
    const addr = doMmap(f.parent.mm, 0, 4 * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, null, 0);
    const child = f.fork();
    fill(child, addr, 4, A);
    const grandchild = f.fork(child);
    child.destroy();
    fill(grandchild, addr + 2 * PAGE, 2, B);
    grandchild.destroy();
    expectHolds(f.parent, "parent after both exited", addr, 2, A);
    expectHolds(f.parent, "parent sees the grandchild's write", addr + 2 * PAGE, 2, B);
    expect(shmemPages(sys), "one object, four pages").toBe(4);
    f.parent.destroy();
    expect(sys.shmem.size, "no object once every mapper exited").toBe(0);
  });

  it("MADV_DONTNEED by one side: the page reads the shared contents again (madvise(2): shared anonymous mappings)", () => {
    const f = family();
    const addr = doMmap(f.parent.mm, 0, 2 * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS, null, 0);
    fill(f.parent, addr, 2, A);
    const child = f.fork();
    doMadvise(child.mm, addr, 2 * PAGE, MADV_DONTNEED);
    expectHolds(child, "child after MADV_DONTNEED", addr, 2, A);
    fill(f.parent, addr, 1, B);
    expectHolds(child, "child sees the parent's later write", addr, 1, B);
    child.destroy();
  });
});

describe("fork: areas that grow after fork", () => {
  it("a brk heap grown after fork joins the shared area; a second fork shares the new pages, the first child keeps its own", () => {
    const f = family();
    const heap = 0x1000_0000;
    f.parent.mm.brkStart = f.parent.mm.brk = heap;
    expect(doBrk(f.parent.mm, heap + 2 * PAGE), "brk grown").toBe(heap + 2 * PAGE);
    fill(f.parent, heap, 2, A);
    const c1 = f.fork();
    expect(doBrk(f.parent.mm, heap + 4 * PAGE), "brk grown after fork").toBe(heap + 4 * PAGE);
    expect(f.parent.mm.vmas.intersecting(heap, heap + 4 * PAGE).length, "the heap is one area after growing").toBe(1);
    fill(f.parent, heap + 2 * PAGE, 2, B);
    const c2 = f.fork();
    expectHolds(c2, "second child's old heap", heap, 2, A);
    expectHolds(c2, "second child's grown heap", heap + 2 * PAGE, 2, B);
    expect(doBrk(c1.mm, heap + 4 * PAGE), "first child's brk grown").toBe(heap + 4 * PAGE);
    expectHolds(c1, "first child's grown heap: zeros, not the parent's pages", heap + 2 * PAGE, 2, 0);
    fill(c2, heap, 4, C);
    expectHolds(f.parent, "parent's heap after the second child's write", heap, 2, A);
    expectHolds(f.parent, "parent's grown heap after the second child's write", heap + 2 * PAGE, 2, B);
    for (const p of [c1, c2]) p.destroy();
    expectAnonTotal(f.g.sys, f.parent.mm.anonPages, "children gone");
  });

  it("a stack grown down in a child is shared with its own child", () => {
    const f = family();
    const below = STACK_TOP - 64 * 1024 - PAGE; // just under the 64 KiB stack area: it grows
    const child = f.fork();
    fill(child, below, 1, A);
    const grandchild = f.fork(child);
    expectHolds(grandchild, "grandchild's copy of the grown stack page", below, 1, A);
    fill(grandchild, below, 1, B);
    expectHolds(child, "child's grown stack page after the grandchild's write", below, 1, A);
    expectHolds(f.parent, "parent's stack page there (grown now, by this read): zeros", below, 1, 0);
    for (const p of [grandchild, child]) p.destroy();
  });
});

describe("fork: private file mappings", () => {
  /** A 4-page file whose page k holds the qword FILE_VALUE + k everywhere. */
  const FILE_VALUE = 0x4400_0000;
  function filePages(): { path: string; bytes: Uint8Array } {
    const q = new BigUint64Array(4 * PAGE / 8);
    for (let k = 0; k < 4; k++) q.fill(BigInt(FILE_VALUE + k), k * 512, (k + 1) * 512);
    const bytes = new Uint8Array(q.buffer);
    return { path: writeFile(bytes), bytes };
  }

  it("a written page is copy-on-write; a page never written stays the page-cache page in both; the file keeps its bytes", () => {
    const f = family();
    const sys = f.g.sys;
    const { path, bytes } = filePages();
    const file: MmapFile = { mapping: sys.openFile(path, false), readable: true, writable: false };
    const addr = doMmap(f.parent.mm, 0, 4 * PAGE, RW, MAP_PRIVATE, file, 0);
    fill(f.parent, addr, 1, A); // page 0: the parent's private copy
    expectHolds(f.parent, "parent page 1 from the file", addr + PAGE, 1, FILE_VALUE + 1);
    const child = f.fork();
    expectHolds(child, "child page 0 (parent's copy)", addr, 1, A);
    expectHolds(child, "child page 1 (the file)", addr + PAGE, 1, FILE_VALUE + 1);
    const cached = file.mapping.pages.get(1)!;
    const mappers = cached.rmap.map((r) => (r.mm === f.parent.mm ? "parent" : r.mm === child.mm ? "child" : "other")).sort();
    expect(mappers, "page 1's reverse map: the cache page, mapped by both").toEqual(["child", "parent"]);
    const cow0 = sys.counters.cowFaults, copies0 = sys.counters.privateCopies;
    fill(child, addr, 2, B);
    expect(sys.counters.cowFaults - cow0, "COW faults: page 0 (shared copy)").toBe(1);
    expect(sys.counters.privateCopies - copies0, "private copies: page 1 (a cache page)").toBe(1);
    expectHolds(f.parent, "parent page 0 after the child's write", addr, 1, A);
    expectHolds(f.parent, "parent page 1 after the child's write", addr + PAGE, 1, FILE_VALUE + 1);
    expectHolds(child, "child pages 0-1 after its write", addr, 2, B);
    expect(Buffer.compare(fs.readFileSync(path), Buffer.from(bytes)), "the file on disk is unchanged").toBe(0);
    child.destroy();
    expect(cached.rmap.map((r) => r.mm === f.parent.mm), "page 1's reverse map after the child's exit").toEqual([true]);
  });

  it("a byte written behind the guest after unshareAnonPage (a breakpoint in a copied text page) stays in that process", () => {
    const f = family();
    const { path } = filePages();
    const file: MmapFile = { mapping: f.g.sys.openFile(path, false), readable: true, writable: false };
    const addr = doMmap(f.parent.mm, 0, 4 * PAGE, RW, MAP_PRIVATE, file, 0);
    fill(f.parent, addr, 1, A); // a private copy, as a probe's copy of a text page
    doMprotect(f.parent.mm, addr, 4 * PAGE, PROT_READ | PROT_EXEC);
    const child = f.fork();
    const anon0 = f.g.sys.anonPages;
    unshareAnonPage(child.mm, addr);
    child.mm.bytes(addr, 8).set(new Uint8Array(new BigUint64Array([BigInt(B)]).buffer));
    expect(runIn(child, "checkPages", addr, 1, B), "child's first qword, written behind the guest").toEqual(EXITED_0);
    expectHolds(f.parent, "parent's page", addr, 1, A);
    expectAnonTotal(f.g.sys, anon0 + 1, "the child's own copy, counted");
    expect(runIn(child, "fill", addr, 1, C).kind, "the page stays read-only for the guest").toBe("signaled");
    child.destroy();
  });

  it("MAP_SHARED file pages stay shared and writable in both", () => {
    const f = family();
    const { path } = filePages();
    const file: MmapFile = { mapping: f.g.sys.openFile(path, true), readable: true, writable: true };
    const addr = doMmap(f.parent.mm, 0, 4 * PAGE, RW, MAP_SHARED, file, 0);
    fill(f.parent, addr, 1, A);
    const child = f.fork();
    expectHolds(child, "child sees the parent's shared write", addr, 1, A);
    fill(child, addr + PAGE, 1, B);
    expectHolds(f.parent, "parent sees the child's shared write", addr + PAGE, 1, B);
    expect(f.g.sys.counters.cowFaults, "no COW faults on shared file pages").toBe(0);
    child.destroy();
  });
});

describe("fork: one side's munmap, mprotect, madvise, mremap leave the other's data", () => {
  const cases: { name: string; side: "child" | "parent"; op: (p: Process, addr: number) => number; after: (p: Process, addr: number) => void }[] = [
    { name: "munmap", side: "child", op: (p, a) => { doMunmap(p.mm, a, 4 * PAGE); return a; },
      after: (p, a) => expect(runIn(p, "check", a, 1, A).kind, "access after munmap").toBe("signaled") },
    { name: "munmap", side: "parent", op: (p, a) => { doMunmap(p.mm, a, 4 * PAGE); return a; },
      after: (p, a) => expect(runIn(p, "check", a, 1, A).kind, "access after munmap").toBe("signaled") },
    { name: "MADV_DONTNEED", side: "child", op: (p, a) => { doMadvise(p.mm, a, 4 * PAGE, MADV_DONTNEED); return a; },
      after: (p, a) => expectHolds(p, "after MADV_DONTNEED: zeros", a, 4, 0) },
    { name: "MADV_DONTNEED", side: "parent", op: (p, a) => { doMadvise(p.mm, a, 4 * PAGE, MADV_DONTNEED); return a; },
      after: (p, a) => expectHolds(p, "after MADV_DONTNEED: zeros", a, 4, 0) },
    { name: "mprotect read-only", side: "parent", op: (p, a) => { doMprotect(p.mm, a, 4 * PAGE, PROT_READ); return a; },
      after: (p, a) => { expectHolds(p, "read-only still reads", a, 4, A); expect(runIn(p, "fill", a, 1, B).kind, "write to read-only").toBe("signaled"); } },
    { name: "mprotect PROT_NONE and back", side: "child", op: (p, a) => { doMprotect(p.mm, a, 4 * PAGE, 0); doMprotect(p.mm, a, 4 * PAGE, RW); return a; },
      after: (p, a) => { expectHolds(p, "after PROT_NONE and back", a, 4, A); fill(p, a, 4, B); expectHolds(p, "its own write", a, 4, B); } },
    { name: "mremap move, grown", side: "child", op: (p, a) => doMremap(p.mm, a, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, 0),
      after: (p, a) => { expectHolds(p, "moved pages", a, 4, A); expectHolds(p, "grown part: zeros", a + 4 * PAGE, 4, 0); fill(p, a, 8, B); } },
    { name: "mremap move, grown", side: "parent", op: (p, a) => doMremap(p.mm, a, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, 0),
      after: (p, a) => { expectHolds(p, "moved pages", a, 4, A); expectHolds(p, "grown part: zeros", a + 4 * PAGE, 4, 0); fill(p, a, 8, B); } },
  ];
  it.each(cases)("$name by the $side", ({ side, op, after }) => {
    const f = family();
    const addr = doMmap(f.parent.mm, 0, 4 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    // A neighbour mapped right after, so that a grown mremap must move.
    doMmap(f.parent.mm, addr + 4 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
    fill(f.parent, addr, 4, A);
    const child = f.fork();
    const [actor, other] = side === "child" ? [child, f.parent] : [f.parent, child];
    const at = op(actor, addr);
    after(actor, at);
    expectHolds(other, `the other side after the ${side}'s change`, addr, 4, A);
    fill(other, addr, 4, C);
    expectHolds(other, "the other side's own write", addr, 4, C);
    child.destroy();
    expectAnonTotal(f.g.sys, f.parent.mm.anonPages, "child gone");
  });

  it("a private file mapping with a copied page moved by mremap in the parent keeps file pages and its copy", () => {
    const f = family();
    const q = new BigUint64Array(2 * PAGE / 8).fill(0x55n);
    const file: MmapFile = { mapping: f.g.sys.openFile(writeFile(new Uint8Array(q.buffer)), false), readable: true, writable: false };
    const addr = doMmap(f.parent.mm, 0, 2 * PAGE, RW, MAP_PRIVATE, file, 0);
    doMmap(f.parent.mm, addr + 2 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
    fill(f.parent, addr, 1, A);
    const child = f.fork();
    const to = doMremap(f.parent.mm, addr, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE, 0);
    expect(to, "the mapping moved").not.toBe(addr);
    expectHolds(f.parent, "parent's copied page, moved", to, 1, A);
    expectHolds(f.parent, "parent's file page, moved", to + PAGE, 1, 0x55);
    expectHolds(child, "child's page 0", addr, 1, A);
    fill(f.parent, to, 1, B);
    expectHolds(child, "child's page 0 after the parent's write", addr, 1, A);
    child.destroy();
  });
});

describe("fork: MADV_DONTFORK, MADV_WIPEONFORK, PROT_NONE'd data and guard pages", () => {
  it.each([
    { advice: MADV_DONTFORK, name: "MADV_DONTFORK: no mapping in the child", want: "signaled" },
    { advice: MADV_WIPEONFORK, name: "MADV_WIPEONFORK: zeros in the child", want: "zeros" },
  ])("$name; the parent keeps its data", ({ advice, want }) => {
    const f = family();
    const addr = doMmap(f.parent.mm, 0, 2 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    fill(f.parent, addr, 2, A);
    doMadvise(f.parent.mm, addr, 2 * PAGE, advice);
    const child = f.fork();
    if (want === "zeros") expectHolds(child, "child", addr, 2, 0);
    else expect(runIn(child, "check", addr, 1, A).kind, "child's access").toBe("signaled");
    expectHolds(f.parent, "parent", addr, 2, A);
    child.destroy();
  });

  it("MADV_WIPEONFORK on a file mapping is EINVAL, as Linux answers", () => {
    const f = family();
    const file: MmapFile = { mapping: f.g.sys.openFile(writeFile(new Uint8Array(PAGE)), false), readable: true, writable: false };
    const addr = doMmap(f.parent.mm, 0, PAGE, PROT_READ, MAP_PRIVATE, file, 0);
    expect(() => doMadvise(f.parent.mm, addr, PAGE, MADV_WIPEONFORK)).toThrow(/EINVAL|MADV_WIPEONFORK/);
  });

  it("a PROT_NONE'd page keeps its data in the child, a guard page stays a guard page", () => {
    const f = family();
    const addr = doMmap(f.parent.mm, 0, 3 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    fill(f.parent, addr, 3, A);
    doMprotect(f.parent.mm, addr + PAGE, PAGE, 0);
    doMadvise(f.parent.mm, addr + 2 * PAGE, PAGE, 102); // MADV_GUARD_INSTALL
    const child = f.fork();
    for (const [p, who] of [[child, "child"], [f.parent, "parent"]] as const) {
      const none = runIn(p, "check", addr + PAGE, 1, A);
      expect(none.kind === "signaled" && none.detail, `${who}: PROT_NONE page`).toMatch(/SEGV_ACCERR/);
      const guard = runIn(p, "check", addr + 2 * PAGE, 1, A);
      expect(guard.kind === "signaled" && guard.detail, `${who}: guard page`).toMatch(/guard/);
    }
    doMprotect(child.mm, addr + PAGE, PAGE, RW);
    expectHolds(child, "child's PROT_NONE'd page made accessible", addr, 2, A);
    fill(child, addr + PAGE, 1, B);
    doMprotect(f.parent.mm, addr + PAGE, PAGE, PROT_READ);
    expectHolds(f.parent, "parent's PROT_NONE'd page after the child's write", addr + PAGE, 1, A);
    child.destroy();
  });
});

describe("fork: reclaim under a RAM limit with shared pages", () => {
  it("page-cache pages mapped by both are evicted and read again; anonymous pages of both keep their data", () => {
    const sys = new MemSystem({ ramLimitPages: 1024 });
    const f = family(sys);
    const file1Pages = 256, file2Pages = 1200;
    const mk = (n: number, v: number) => writeFile(new Uint8Array(new BigUint64Array(n * PAGE / 8).fill(BigInt(v)).buffer));
    const path1 = mk(file1Pages, 0x11), path2 = mk(file2Pages, 0x22);
    const map = (p: Process, path: string, n: number) =>
      doMmap(p.mm, 0, n * PAGE, PROT_READ, MAP_PRIVATE, { mapping: sys.openFile(path, false), readable: true, writable: false }, 0);
    const anon = doMmap(f.parent.mm, 0, 64 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    fill(f.parent, anon, 64, A);
    const f1 = map(f.parent, path1, file1Pages);
    expect(runIn(f.parent, "checkPages", f1, file1Pages, 0x11), "parent reads file 1").toEqual(EXITED_0);
    const child = f.fork();
    expect(runIn(child, "checkPages", f1, file1Pages, 0x11), "child reads file 1").toEqual(EXITED_0);
    const ev0 = sys.counters.evictions;
    const f2 = map(child, path2, file2Pages);
    expect(runIn(child, "checkPages", f2, file2Pages, 0x22), "child reads file 2 (more than the limit)").toEqual(EXITED_0);
    expect(sys.counters.evictions - ev0, "page-cache pages evicted").toBeGreaterThan(0);
    expect(sys.filePages + sys.anonPages + sys.tablePages, "resident pages within the limit").toBeLessThanOrEqual(1024);
    for (const [p, who] of [[f.parent, "parent"], [child, "child"]] as const) {
      expect(runIn(p, "checkPages", f1, file1Pages, 0x11), `${who} reads file 1 again`).toEqual(EXITED_0);
      expectHolds(p, `${who}'s anonymous pages`, anon, 64, A);
    }
    child.destroy();
  });
});

describe("fork: no host memory left behind", () => {
  /**
   * Runs `n` cycles of a fresh address space on a fresh engine (and `dup`
   * when given), yielding to the event loop now and then.
   * @returns RSS growth in MiB from cycle `from` to the last
   */
  async function cycles(sys: MemSystem, n: number, from: number, dup?: (mm: Mm, k: number) => void): Promise<number> {
    let rssFrom = hostRss();
    for (let k = 1; k <= n; k++) {
      const engine = new Engine();
      const mmu = new EngineMmu(engine);
      const mm = new Mm(sys, mmu);
      dup?.(mm, k);
      mm.destroy();
      engine.close();
      mmu.free();
      if (k === from) rssFrom = hostRss();
      if (k % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    return (hostRss() - rssFrom) / 2 ** 20;
  }

  it("1,000 dup+destroy cycles of a small address space leave RSS where it was after the first hundred", async () => {
    const f = family();
    const sys = f.g.sys;
    const addr = doMmap(f.parent.mm, 0, 16 * PAGE, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    fill(f.parent, addr, 16, A);
    const anon0 = sys.anonPages;
    // (Yielding to the event loop now and then matters: a closed engine's native memory, ~0.5 MiB, is
    // given back only when the loop turns, so a loop that never yields grows by that much per cycle.)
    const grown = await cycles(sys, 1000, 100, (mm, k) => {
      dupMmap(f.parent.mm, mm);
      copyToUser(mm, addr + (k % 16) * PAGE, new Uint8Array([k & 0xff])); // one COW copy per cycle
    });
    expect(grown, `RSS grown over dup+destroy cycles 100 to 1,000: got ${grown.toFixed(1)} MiB, want < 24`).toBeLessThan(24);
    expectAnonTotal(sys, anon0, "after the cycles");
    expect(sys.anon.pages.size, "store pages after the cycles: the parent's own").toBe(countStorePtes(f.parent.mm));
    expect(copyFromUser(f.parent.mm, addr, 8), "parent's first page").toEqual(new Uint8Array(new BigUint64Array([BigInt(A)]).buffer));
  }, 120_000);
});
