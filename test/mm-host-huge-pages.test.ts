/**
 * Host transparent huge pages behind guest anonymous memory the guest fills
 * (MmConfig.hostHugePages, mm/huge-fill.ts): the guest still takes one
 * fault per 4 KiB page and sees its own bytes, while the host backs 2 MiB
 * ranges of a sequential fill with huge pages; never MAP_STACK areas
 * (VM_NOHUGEPAGE since Linux 6.7) or MADV_NOHUGEPAGE ones, always
 * MADV_HUGEPAGE ones, and never a sparse guest's. Ground truth for the host
 * side is the host kernel's own report: AnonHugePages in /proc/self/smaps
 * of this process over the guest's host range.
 */
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { HostRegion } from "../lib/hostmem.js";
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MAP_STACK, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ, PROT_WRITE,
  MemSystem, doMadvise, doMmap, doMremap, copyFromUser, type MmConfig,
} from "../mm/index.js";
import { WRITE_PAGES, loadGuest } from "./support/guest.js";
import { hostSmapsTotal } from "./support/smaps.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const MIB = 1 << 20;
/**
 * Area size: 8 MiB holds at least three whole 2 MiB-aligned ranges wherever
 * it starts; a fill from its start gets huge pages from the second whole
 * range on (the first is where the fill shows itself), so at least 4 MiB.
 */
const AREA = 8 * MIB;

/** The host's THP mode ("always", "madvise", "never"), or undefined without THP. */
function hostThpMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(fs.readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8"))?.[1];
  } catch {
    return undefined;
  }
}
const THP = hostThpMode();
const HAVE_THP = THP === "always" || THP === "madvise";

/** Bytes of AnonHugePages the host reports for its mappings overlapping [start, end). */
function hostAnonHuge(start: number, end: number): number {
  return hostSmapsTotal("AnonHugePages", [[start, end]]);
}


/** Guest: writes one qword every 2 MiB, rcx times from rbx, and exits 0. */
const SPARSE = `
1:  mov qword ptr [rbx], 1
    add rbx, 0x200000
    dec rcx
    jnz 1b
    xor edi, edi
    mov eax, 231
    syscall`;

interface Case {
  name: string;
  /** mmap flags beyond MAP_PRIVATE | MAP_ANONYMOUS. */
  flags: number;
  /** madvise calls over the whole area after mmap, in order. */
  advice: number[];
  config: Partial<MmConfig>;
  /** Whether the host should report huge pages over the area. */
  huge: boolean;
}

const CASES: Case[] = [
  { name: "plain anonymous area, filled in order", flags: 0, advice: [], config: {}, huge: true },
  { name: "MAP_STACK area (VM_NOHUGEPAGE, as Linux 6.7)", flags: MAP_STACK, advice: [], config: {}, huge: false },
  { name: "MADV_NOHUGEPAGE area", flags: 0, advice: [MADV_NOHUGEPAGE], config: {}, huge: false },
  { name: "MADV_NOHUGEPAGE then MADV_HUGEPAGE", flags: 0, advice: [MADV_NOHUGEPAGE, MADV_HUGEPAGE], config: {}, huge: true },
  { name: "MAP_STACK area given MADV_HUGEPAGE", flags: MAP_STACK, advice: [MADV_HUGEPAGE], config: {}, huge: true },
  { name: "hostHugePages: false", flags: 0, advice: [], config: { hostHugePages: false }, huge: false },
];

describe.skipIf(!HAVE_THP)(`host huge pages behind anonymous memory (host THP mode: ${THP ?? "none"})`, () => {
  it.each(CASES)("$name: one fault per 4 KiB page, the guest's bytes, host huge pages as configured", (c) => {
    const g = loadGuest(WRITE_PAGES, new MemSystem(c.config));
    const mm = g.proc.mm;
    const addr = doMmap(mm, 0, AREA, RW, ANON | c.flags, null, 0);
    for (const a of c.advice) doMadvise(mm, addr, AREA, a);
    const pages = AREA / 4096;
    const faults = g.sys.counters.minorFaults;
    const st = g.run({ rbx: addr, rcx: pages });
    const want = (pages * (pages + 1) / 2) & 0xff;
    expect(st, `exit: got ${JSON.stringify(st)}, want exited ${want} (the low byte of 1 + ... + ${pages})`).toEqual({ kind: "exited", code: want });
    const got = g.sys.counters.minorFaults - faults;
    expect(got, `guest minor faults over ${pages} fresh pages: got ${got}, want ${pages} and a few for the stack`).toBeGreaterThanOrEqual(pages);
    expect(got).toBeLessThan(pages + 8);
    const last = copyFromUser(mm, addr + AREA - 4096, 8);
    expect(Buffer.from(last).readBigUInt64LE(0), `last page's first qword: want ${pages}`).toBe(BigInt(pages));
    const huge = hostAnonHuge(mm.mem.addr + addr, mm.mem.addr + addr + AREA);
    if (c.huge) expect(huge, `host AnonHugePages over the area: got ${huge >> 10} kB, want at least 4096 kB`).toBeGreaterThanOrEqual(4 * MIB);
    else expect(huge, `host AnonHugePages over the area: got ${huge >> 10} kB, want 0`).toBe(0);
    g.proc.destroy();
  });

  it("a sparse guest (one page per 2 MiB over 64 MiB) gets no huge page: the host holds what it touched", () => {
    const g = loadGuest(SPARSE);
    const mm = g.proc.mm;
    const addr = doMmap(mm, 0, 64 * MIB, RW, ANON, null, 0);
    expect(g.run({ rbx: addr, rcx: 32 })).toEqual({ kind: "exited", code: 0 });
    const huge = hostAnonHuge(mm.mem.addr + addr, mm.mem.addr + addr + 64 * MIB);
    expect(huge, `host AnonHugePages over the area: got ${huge >> 10} kB, want 0`).toBe(0);
    g.proc.destroy();
  });

  it("mremap moves an area backed by huge pages, its bytes with it", () => {
    const g = loadGuest(WRITE_PAGES);
    const mm = g.proc.mm;
    const pages = AREA / 4096;
    const addr = doMmap(mm, 0, AREA, RW, ANON, null, 0);
    expect(g.run({ rbx: addr, rcx: pages }).kind).toBe("exited");
    const to = doMmap(mm, 0, AREA + 4 * MIB, RW, ANON, null, 0) + 4096; // a free, unaligned destination
    doMremap(mm, addr, AREA, AREA, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    for (const k of [0, 1, 511, 512, pages - 1]) {
      const q = Buffer.from(copyFromUser(mm, to + k * 4096, 8)).readBigUInt64LE(0);
      expect(q, `page ${k} after the move: got ${q}, want ${k + 1}`).toBe(BigInt(k + 1));
    }
    g.proc.destroy();
  });
});

describe.skipIf(!HAVE_THP)("HostRegion huge advice: a move across ranges of different advice", () => {
  it("moves every byte of a source that is three host mappings, and the advice with them", () => {
    const r = new HostRegion(64 * MIB);
    try {
      expect(r.adviseHuge(2 * MIB) && r.adviseHuge(6 * MIB), "the host took MADV_HUGEPAGE").toBe(true);
      // [3, 7) MiB: advised | not | advised; one view per page (views stop at HOST_VIEW_CHUNK bounds)
      for (let i = 0; i < 4 * MIB; i += 4096) r.view(3 * MIB + i, 1)[0] = ((i / 4096) & 0xff) | 1;
      const to = 40 * MIB + 4096;
      r.move(3 * MIB, to, 4 * MIB);
      for (let i = 0; i < 4 * MIB; i += 4096) {
        const want = ((i / 4096) & 0xff) | 1, got = r.view(to + i, 1)[0];
        if (got !== want) expect(got, `byte at page ${i / 4096} after the move: got ${got}, want ${want}`).toBe(want);
      }
      expect(r.view(3 * MIB, 4096)[0], "the source reads as zero after the move").toBe(0);
      expect(r.advisedHuge(3 * MIB, 4 * MIB), "the source lost its advice (fresh memory)").toBe(false);
      expect(r.advisedHuge(to, 4096), "the destination carries the advice the host moved").toBe(true);
    } finally {
      r.release();
    }
  });
});
