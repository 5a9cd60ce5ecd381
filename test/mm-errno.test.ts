/**
 * The memory system calls' answers to bad (and some good) arguments, checked
 * against Linux itself: guest/mmerrno.c is compiled at test time, run
 * natively on this host (the ground truth) and under faultline in-process,
 * and the two outputs are compared line by line, one test per case.
 *
 * The guest prints `<case> ok|-errno[ detail]` per case (never addresses).
 * Each case sets up and tears down its own mappings, so a case can also be
 * run alone: when the emulated run dies part-way (the guest is killed, or
 * faultline itself throws), the case it died in is blamed and the rest are
 * run again in a fresh process, so one crash cannot hide the other results.
 *
 * KNOWN lists cases whose answer legitimately differs (address-space size,
 * privileges, features the emulator documents as missing): they run on both
 * sides but are not compared.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Process, type ExitStatus } from "../emu/process.js";
import { MemSystem, PAGE_SIZE } from "../mm/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.join(here, "..", "guest", "mmerrno.c"); // includes guest/nolibc.h, found beside it
const CFLAGS = ["-O2", "-static", "-nostdlib", "-fno-builtin", "-fno-stack-protector", "-fno-asynchronous-unwind-tables"];

/** Compared cases, in the guest's table order: name and what it does (Linux's answer comes from the native run). */
const CASES: readonly { name: string; what: string }[] = [
  { name: "mmap-len0", what: "anonymous, len 0" },
  { name: "mmap-offset-unaligned", what: "file, offset 1" },
  { name: "mmap-anon-offset-unaligned", what: "anonymous, offset 1" },
  { name: "mmap-offset-unaligned-badfd", what: "offset 1 and fd 999: the offset is checked first" },
  { name: "mmap-notype-anon", what: "flags MAP_ANONYMOUS only (neither SHARED nor PRIVATE)" },
  { name: "mmap-notype-file", what: "file, flags 0" },
  { name: "mmap-notype-hugelen", what: "no type and len 2^50: length is checked before type" },
  { name: "mmap-fixed-unaligned", what: "MAP_FIXED at page + 0x800" },
  { name: "mmap-len-max", what: "len (size_t)-1: PAGE_ALIGN overflows" },
  { name: "mmap-len-align-wraps", what: "len 0xfffffffffffff001: PAGE_ALIGN overflows" },
  { name: "mmap-len-2p50", what: "len 2^50, larger than any user address space" },
  { name: "mmap-badfd", what: "fd 999 without MAP_ANONYMOUS" },
  { name: "mmap-badfd-minus1", what: "fd -1 without MAP_ANONYMOUS" },
  { name: "mmap-badfd-len0", what: "fd 999 and len 0: the fd is checked first" },
  { name: "mmap-anon-ignores-fd", what: "MAP_ANONYMOUS with fd 999" },
  { name: "mmap-shared-write-rdonly", what: "MAP_SHARED PROT_WRITE of an O_RDONLY file" },
  { name: "mmap-shared-read-rdonly", what: "MAP_SHARED PROT_READ of an O_RDONLY file" },
  { name: "mmap-private-write-rdonly", what: "MAP_PRIVATE PROT_WRITE of an O_RDONLY file" },
  { name: "mmap-validate-write-rdonly", what: "MAP_SHARED_VALIDATE PROT_WRITE of an O_RDONLY file" },
  { name: "mmap-private-wronly", what: "MAP_PRIVATE of an O_WRONLY file" },
  { name: "mmap-shared-wronly", what: "MAP_SHARED RW of an O_WRONLY file" },
  { name: "mmap-validate-unknown-flag", what: "MAP_SHARED_VALIDATE | 0x800000 on a file" },
  { name: "mmap-validate-sync", what: "MAP_SHARED_VALIDATE | MAP_SYNC on a non-DAX file" },
  { name: "mmap-shared-unknown-flag", what: "MAP_SHARED | 0x800000 on a file: ignored" },
  { name: "mmap-private-unknown-flag", what: "MAP_PRIVATE | MAP_ANONYMOUS | 0x800000: ignored" },
  { name: "mmap-validate-anon", what: "MAP_SHARED_VALIDATE | MAP_ANONYMOUS" },
  { name: "mmap-validate-anon-unknown", what: "MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x800000" },
  { name: "mmap-noreplace-exists", what: "MAP_FIXED_NOREPLACE over a mapping" },
  { name: "mmap-noreplace-fixed-exists", what: "MAP_FIXED | MAP_FIXED_NOREPLACE over a mapping" },
  { name: "mmap-noreplace-partial", what: "MAP_FIXED_NOREPLACE whose second page is in use" },
  { name: "mmap-noreplace-unaligned", what: "MAP_FIXED_NOREPLACE at page + 0x800 (a fixed address, not a hint)" },
  { name: "mmap-noreplace-free", what: "MAP_FIXED_NOREPLACE on a free range" },
  { name: "mmap-fixed-unaligned-shared-ro-write", what: "unaligned MAP_FIXED + shared write of O_RDONLY file: address first" },
  { name: "mmap-noreplace-exists-shared-ro-write", what: "NOREPLACE over a mapping + shared write of O_RDONLY file: EEXIST first" },
  { name: "mmap-fixed-kernel-addr", what: "MAP_FIXED at 0xffff800000000000" },
  { name: "mmap-fixed-wraps", what: "MAP_FIXED at 0xfffffffffffff000, 2 pages" },
  { name: "mmap-anon-shared-growsdown", what: "MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN" },
  { name: "mmap-private-growsdown", what: "MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN" },
  { name: "mmap-unknown-prot", what: "prot PROT_READ | 0x10: mmap does not validate prot" },
  { name: "mmap-unknown-prot-high", what: "prot PROT_READ | 0x40000000: ignored too" },
  { name: "mmap-unknown-prot-sign", what: "prot 0x80000001 (negative as an int)" },
  { name: "mmap-prot-growsdown", what: "prot PROT_READ | PROT_GROWSDOWN on mmap" },
  { name: "mmap-prot-none-populate", what: "PROT_NONE anonymous with MAP_POPULATE: the mapping, nothing faulted" },
  { name: "mmap-prot-none-populate-file", what: "PROT_NONE file mapping with MAP_POPULATE" },
  { name: "mmap-populate-rw", what: "RW anonymous with MAP_POPULATE, zero-filled" },
  { name: "mmap-populate-past-eof", what: "MAP_POPULATE of 8 pages of a 3-page file: populate errors are ignored" },
  { name: "mmap-file-offset-overflow", what: "file offset 0x7ffffffffffff000: past MAX_LFS_FILESIZE" },
  { name: "mmap-file-offset-1gib", what: "file offset 1 GiB (past EOF)" },
  { name: "mmap-file-offset-1tib", what: "file offset 1 TiB (past EOF)" },
  { name: "mmap-file-offset-4pib", what: "file offset 2^52 (past EOF)" },
  { name: "mmap-hint-unaligned", what: "unaligned hint without MAP_FIXED" },
  { name: "mmap-good", what: "anonymous RW, zero-filled and writable" },
  { name: "mmap-file-good", what: "private file mapping at offset 1 page, contents" },
  { name: "mmap-fixed-replace", what: "MAP_FIXED over a mapping replaces it" },

  { name: "munmap-unaligned", what: "address page + 1" },
  { name: "munmap-len0", what: "len 0" },
  { name: "munmap-wraps", what: "len -4096: range wraps past the end" },
  { name: "munmap-len-max", what: "len (size_t)-1" },
  { name: "munmap-kernel-addr", what: "address 0xffff800000000000" },
  { name: "munmap-unmapped", what: "a free range" },
  { name: "munmap-len-unaligned", what: "len 1 unmaps one page" },
  { name: "munmap-middle", what: "middle page of three" },

  { name: "mprotect-unaligned", what: "address page + 1" },
  { name: "mprotect-unknown-prot", what: "prot 0x10" },
  { name: "mprotect-unknown-prot-high", what: "prot PROT_READ | 0x40000000" },
  { name: "mprotect-unknown-prot-sign", what: "prot 0x80000001 (negative as an int)" },
  { name: "mprotect-unknown-prot-len0", what: "prot 0x10, len 0: len 0 returns first" },
  { name: "mprotect-unknown-prot-unmapped", what: "prot 0x10 on a free range: prot is checked first" },
  { name: "mprotect-hole", what: "three pages with the middle one unmapped" },
  { name: "mprotect-len0", what: "len 0" },
  { name: "mprotect-len0-unaligned", what: "len 0 at page + 1" },
  { name: "mprotect-unmapped", what: "a free range" },
  { name: "mprotect-starts-in-hole", what: "range starting in a hole before a mapping" },
  { name: "mprotect-wraps", what: "len -8192: range wraps" },
  { name: "mprotect-len-max", what: "len (size_t)-1" },
  { name: "mprotect-shared-ro-write", what: "PROT_WRITE on MAP_SHARED of an O_RDONLY file" },
  { name: "mprotect-shared-ro-read", what: "PROT_NONE on MAP_SHARED of an O_RDONLY file" },
  { name: "mprotect-private-ro-write", what: "PROT_WRITE on MAP_PRIVATE of an O_RDONLY file, then write" },
  { name: "mprotect-hole-before-shared-ro", what: "[anon][hole][shared O_RDONLY file] RW: the hole is met first" },
  { name: "mprotect-grows-both", what: "PROT_GROWSDOWN | PROT_GROWSUP" },
  { name: "mprotect-grows-both-len0", what: "PROT_GROWSDOWN | PROT_GROWSUP with len 0: checked before len" },
  { name: "mprotect-growsdown-plain", what: "PROT_GROWSDOWN on a mapping without MAP_GROWSDOWN" },
  { name: "mprotect-growsup", what: "PROT_GROWSUP (no VM_GROWSUP mappings on x86-64)" },
  { name: "mprotect-growsdown-ok", what: "PROT_GROWSDOWN on a MAP_GROWSDOWN mapping" },
  { name: "mprotect-sem", what: "PROT_READ | PROT_SEM" },

  { name: "mremap-unknown-flag", what: "flags 8" },
  { name: "mremap-fixed-no-maymove", what: "MREMAP_FIXED without MREMAP_MAYMOVE" },
  { name: "mremap-unaligned", what: "old address page + 1" },
  { name: "mremap-newlen0", what: "new_len 0" },
  { name: "mremap-newlen-max", what: "new_len (size_t)-1: PAGE_ALIGN gives 0" },
  { name: "mremap-unmapped-grow", what: "grow a free range" },
  { name: "mremap-unmapped-shrink", what: "shrink a free range: the lookup comes first" },
  { name: "mremap-unmapped-same", what: "same size on a free range" },
  { name: "mremap-span-grow", what: "grow an old range spanning two mappings" },
  { name: "mremap-span-shrink", what: "shrink an old range spanning two mappings" },
  { name: "mremap-grow-blocked", what: "grow without MAYMOVE, next page mapped" },
  { name: "mremap-grow-blocked-maymove", what: "grow with MAYMOVE, next page mapped: moves" },
  { name: "mremap-grow-in-place", what: "grow without MAYMOVE into free pages" },
  { name: "mremap-shrink", what: "shrink 3 pages to 1" },
  { name: "mremap-fixed-overlap", what: "MREMAP_FIXED with overlapping old and new ranges" },
  { name: "mremap-fixed-adjacent", what: "MREMAP_FIXED to the range just after the old one" },
  { name: "mremap-fixed-unaligned-new", what: "MREMAP_FIXED to page + 0x800" },
  { name: "mremap-fixed-kernel-addr", what: "MREMAP_FIXED to 0xffff800000000000" },
  { name: "mremap-fixed-ok", what: "MREMAP_FIXED to a free range, growing" },
  { name: "mremap-fixed-unmapped-old", what: "MREMAP_FIXED from a free range: EFAULT, target left mapped" },
  { name: "mremap-oldlen0-private", what: "old_len 0 on a private mapping" },
  { name: "mremap-dontunmap-no-maymove", what: "MREMAP_DONTUNMAP without MREMAP_MAYMOVE" },
  { name: "mremap-dontunmap-resize", what: "MREMAP_DONTUNMAP with old_len != new_len" },

  { name: "madvise-unaligned", what: "address page + 1" },
  { name: "madvise-unknown", what: "advice 12345" },
  { name: "madvise-unknown-5", what: "advice 5 (unassigned)" },
  { name: "madvise-unmapped", what: "MADV_NORMAL on a free range" },
  { name: "madvise-unmapped-dontneed", what: "MADV_DONTNEED on a free range" },
  { name: "madvise-len0", what: "len 0" },
  { name: "madvise-len0-unaligned", what: "len 0 at page + 1" },
  { name: "madvise-len0-unknown", what: "len 0, advice 12345" },
  { name: "madvise-wraps", what: "len -8192: start + len wraps" },
  { name: "madvise-len-max", what: "len (size_t)-1: rounds up to 0" },
  { name: "madvise-willneed", what: "MADV_WILLNEED on anonymous memory" },
  { name: "madvise-dontneed-anon", what: "MADV_DONTNEED on written anonymous memory, read back" },
  { name: "madvise-dontneed-hole", what: "MADV_DONTNEED over [page][hole][page]: both pages dropped" },
  { name: "madvise-dontneed-private-file", what: "MADV_DONTNEED on written private file pages, read back" },
  { name: "madvise-remove-private", what: "MADV_REMOVE on private anonymous memory" },
  { name: "madvise-guard-remove", what: "MADV_GUARD_REMOVE (103, Linux 6.13)" },

  { name: "msync-unknown-flag", what: "flags 8" },
  { name: "msync-sync-and-async", what: "MS_SYNC | MS_ASYNC" },
  { name: "msync-unaligned", what: "address page + 1" },
  { name: "msync-unmapped", what: "MS_SYNC on a free range" },
  { name: "msync-unmapped-async", what: "MS_ASYNC on a free range" },
  { name: "msync-len0", what: "len 0" },
  { name: "msync-wraps", what: "len -8192: range wraps" },
  { name: "msync-len-max", what: "len (size_t)-1: rounds to 0, success" },
  { name: "msync-hole", what: "MS_SYNC over [page][hole][page]" },
  { name: "msync-anon", what: "MS_SYNC | MS_INVALIDATE on anonymous memory" },
  { name: "msync-shared-file", what: "MS_SYNC on a shared read-only file mapping" },

  { name: "brk-query", what: "brk(0) returns the break" },
  { name: "brk-below-start", what: "brk(1) leaves the break unchanged" },
  { name: "brk-grow-shrink", what: "grow by 2 pages + 100, touch, shrink back" },
];

/** Cases run on both sides but not compared, with why their answers differ. */
const KNOWN: readonly { name: string; why: string }[] = [
  {
    name: "known-mmap-fixed-below-min",
    why: "MAP_FIXED_NOREPLACE at 0x1000: root (CAP_SYS_RAWIO) may map below vm.mmap_min_addr natively; the emulator answers as for an unprivileged process (EPERM)",
  },
  { name: "known-mmap-len-1tib", why: "1 TiB PROT_NONE mapping: fits Linux's 128 TiB user space, not the emulator's 512 GiB (ENOMEM)" },
  { name: "known-munmap-above-512gib", why: "munmap at 1 TiB: a user address natively (success), past the emulator's TASK_SIZE (EINVAL)" },
  { name: "known-mremap-dontunmap", why: "a valid MREMAP_DONTUNMAP move: documented as not implemented (EINVAL) in mm/mmap.ts doMremap" },
  { name: "known-mmap-droppable", why: "MAP_DROPPABLE (Linux 6.11): not implemented by the emulator (EINVAL)" },
  {
    name: "known-mremap-oldlen0-shared",
    why: "old_len 0 duplicates a shared anonymous mapping (Linux: success): the emulator duplicates file-backed shared mappings only and answers EINVAL here",
  },
];

/** `<case> <result...>` lines as a map, in output order. */
function parse(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    const sp = line.indexOf(" ");
    m.set(sp < 0 ? line : line.slice(0, sp), sp < 0 ? "" : line.slice(sp + 1));
  }
  return m;
}

function describeStatus(s: ExitStatus): string {
  return s.kind === "exited" ? `exited ${s.code}` : `killed by signal ${s.signo} (${s.detail}) at rip 0x${s.rip.toString(16)}`;
}

/** One emulated run of the guest (all cases, or only `only`): its stdout, stderr and how it ended. */
function runEmulated(bin: string, data: string, only: readonly string[]): { stdout: string; stderr: string; ending: string } {
  const out: Buffer[] = [], err: Buffer[] = [];
  const sys = new MemSystem();
  const proc = new Process(sys, {
    output: (fd, d) => (fd === 1 ? out : err).push(Buffer.from(d)),
    warn: (line) => err.push(Buffer.from(line + "\n")),
    timeoutMs: 60_000,
  });
  let ending: string;
  try {
    const loaded = proc.exec(bin, [bin, data, ...only], []);
    ending = describeStatus(proc.run(loaded.entry, loaded.rsp));
  } catch (e) {
    ending = `faultline threw ${(e as Error).name}: ${(e as Error).message}`;
  } finally {
    try {
      proc.destroy();
    } catch (e) {
      err.push(Buffer.from(`destroy threw: ${(e as Error).message}\n`));
    }
  }
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), ending };
}

let dir = "";
let native = new Map<string, string>();
const emulated = new Map<string, string>();
/** Why a case has no emulated line: the run ended in it. */
const lost = new Map<string, string>();

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-mm-errno-"));
  const bin = path.join(dir, "mmerrno");
  execFileSync("gcc", [...CFLAGS, "-o", bin, SOURCE], { stdio: ["ignore", "pipe", "pipe"] });

  // 3 pages: page i is the byte 'a'+i throughout.
  const data = path.join(dir, "data");
  const bytes = Buffer.alloc(3 * PAGE_SIZE);
  for (let i = 0; i < 3; i++) bytes.fill(0x61 + i, i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
  fs.writeFileSync(data, bytes);

  native = parse(execFileSync(bin, [data], { encoding: "utf8" })); // throws on a non-zero exit

  let pending = [...native.keys()];
  let first = true;
  while (pending.length > 0) {
    const run = runEmulated(bin, data, first ? [] : pending);
    first = false;
    const got = parse(run.stdout);
    for (const [k, v] of got) if (!emulated.has(k)) emulated.set(k, v);
    const culprit = pending.find((n) => !got.has(n));
    if (culprit === undefined) break;
    lost.set(culprit, run.ending + (run.stderr.trim() ? `; stderr: ${run.stderr.trim()}` : ""));
    pending = pending.slice(pending.indexOf(culprit) + 1);
  }
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("memory syscalls return Linux's errno (native run of guest/mmerrno.c is the reference)", () => {
  it("the native run printed exactly the expected cases, in order", () => {
    expect([...native.keys()]).toEqual([...CASES.map((c) => c.name), ...KNOWN.map((k) => k.name)]);
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.what}`, () => {
      const want = native.get(c.name);
      expect(want, `case ${c.name}: missing from the native output`).toBeDefined();
      const got = emulated.get(c.name) ?? `<no output: ${lost.get(c.name) ?? "case not run"}>`;
      expect(got, `case ${c.name}: got ${got}, want ${want}`).toBe(want);
    });
  }

  for (const k of KNOWN) {
    it(`known difference, not compared: ${k.name}: ${k.why}`, () => {
      expect(native.has(k.name), `case ${k.name}: missing from the native output`).toBe(true);
      const got = emulated.get(k.name);
      expect(got, `case ${k.name}: no emulated output: ${lost.get(k.name) ?? "case not run"}`).toBeDefined();
    });
  }
});
