/**
 * A seeded fuzz of the ELF loader: the ELF header and program headers of
 * small static programs (gcc -static, musl-gcc -static, nolibc) are
 * mutated, and each mutant runs under `faultline run --timeout 5` (inside
 * /usr/bin/time for the host's peak memory, and timeout(1) against hangs).
 * Every outcome must be a defined exit status (never 70, the internal
 * error), at most two stderr lines, no hang, and a bounded host RSS; where
 * the mutant also runs natively (a bare execve succeeds), the exit status
 * must be the native one. Seeds that once found a bug are kept as named
 * regression cases below; the random part is bounded to about a minute.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { EHDR, phdrTable, readPhdrs, patchPhdr, writeProgram, type Phdr } from "./support/elf.js";
import { EXECVE } from "./support/exec.js";
import { buildC, CLI, runNative, scratch } from "./support/native.js";
import { prng } from "./support/prng.js";

/** Host peak RSS allowed for one faultline run, in KiB (a normal run takes ~90 MiB; the /dev/zero bug took 3 GiB). */
const MAX_RSS_KIB = 400 * 1024;
/** Mutants per base program in the random part (3 programs, ~1.2 s each: about a minute); FUZZ_N explores more. */
const MUTANTS_PER_BASE = Number(process.env.FUZZ_N ?? 12);
/** The CLI under test; FUZZ_FAULTLINE_CLI replays the mutants against another build (e.g. one from before a fix). */
const FAULTLINE = process.env.FUZZ_FAULTLINE_CLI ?? CLI;
/** The random part's seed: change it to explore, then keep what it finds as a regression case. */
const SEED = 0x5eed_0008;

const dir = scratch("fl-fuzz-");
const SRC = '#include <stdio.h>\nint main(int c, char **v) { printf("hi %d\\n", c); return 3; }\n';
const NOLIBC_SRC = '#include "nolibc.h"\nNOLIBC_START;\nint main(int argc, char **argv) { put(1, "hi\\n"); return 3; }\n';
const BASES: Record<string, () => string> = {
  "gcc-static": () => buildC(SRC, "gcc-static"),
  "musl-static": () => buildC(SRC, "musl-static"),
  nolibc: () => buildC(NOLIBC_SRC, "nolibc"),
};


const INTERESTING = [0n, 1n, 8n, 0xfffn, 0x1000n, 0x1001n, 0x10000n, 1n << 32n, 1n << 39n, 1n << 40n, 1n << 47n, 1n << 63n, (1n << 64n) - 1n];
const TYPES = [0, 1, 2, 3, 4, 6, 7, 0x6474e550, 0x6474e551, 0x6474e552, 0x70000000];
const FIELDS = ["type", "flags", "offset", "vaddr", "filesz", "memsz"] as const;

/** Applies 1-3 random mutations to the headers of `b` (in place) and says what they were. */
function mutate(b: Buffer, rnd: () => number): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const done: string[] = [];
  const table = phdrTable(b); // program-header mutations stay where the headers really are
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
    const phdrs = readPhdrs(b, table);
    const r = rnd();
    if (r < 0.2) {
      const at = Math.floor(rnd() * 64);
      const v = Math.floor(rnd() * 256);
      b[at] = v;
      done.push(`ehdr[${at}]=${v}`);
    } else if (r < 0.3) {
      const v = pick([0, 1, phdrs.length - 1, phdrs.length + 1, 1170, 1171, 0xffff]);
      b.writeUInt16LE(v, EHDR.phnum);
      done.push(`e_phnum=${v}`);
    } else {
      const k = Math.floor(rnd() * phdrs.length);
      const field = pick(FIELDS);
      const old = phdrs[k][field];
      let v: number | bigint;
      if (field === "type") v = pick(TYPES);
      else if (field === "flags") v = Math.floor(rnd() * 8);
      else {
        const o = old as bigint;
        v = pick([pick(INTERESTING), o + BigInt(Math.floor(rnd() * 64) - 32), o ^ (1n << BigInt(Math.floor(rnd() * 64))), o + 0x1000n, o * 2n]) & ((1n << 64n) - 1n);
        if ((v as bigint) < 0n) v = 0n;
      }
      patchPhdr(b, k, { [field]: v } as Partial<Phdr>, table);
      done.push(`phdr[${k}].${field}=0x${v.toString(16)}`);
    }
  }
  return done;
}

/** How one mutant ended under faultline, with the host's peak RSS. */
interface Outcome {
  status: number | null;
  stderr: string;
  rssKiB: number;
}

/** Runs `prog` under faultline inside /usr/bin/time (peak RSS) and timeout(1) (a hang is status 124 or 137). */
function runMeasured(prog: string): Outcome {
  const rssFile = path.join(dir, "rss");
  const r = runNative(["/usr/bin/time", "-f", "%M", "-o", rssFile, "timeout", "-k", "5", "60", process.execPath, FAULTLINE, "run", "--timeout", "5", prog], { timeoutMs: 90_000 });
  const lines = fs.readFileSync(rssFile, "utf8").trim().split("\n");
  return { status: r.status, stderr: r.stderr, rssKiB: Number(lines[lines.length - 1]) };
}

/** Checks one mutant: a defined outcome under faultline, and the native status when it runs natively. */
function checkMutant(bytes: Buffer, label: string): void {
  const prog = writeProgram(path.join(dir, "mutant"), bytes);
  const got = runMeasured(prog);
  const ctx = `${label}\n  faultline: status ${got.status}, stderr ${JSON.stringify(got.stderr)}`;
  expect(got.status, `never an internal error (70)\n${ctx}`).not.toBe(70);
  expect(got.status === null || got.status === 124, `never a hang\n${ctx}`).toBe(false);
  expect(got.stderr, `no internal error\n${ctx}`).not.toMatch(/internal error/);
  expect(got.stderr.trim().split("\n").length, `at most two stderr lines\n${ctx}`).toBeLessThanOrEqual(2);
  expect(got.rssKiB, `host peak RSS: got ${got.rssKiB} KiB, want at most ${MAX_RSS_KIB}\n${ctx}`).toBeLessThanOrEqual(MAX_RSS_KIB);
  const want = runNative([EXECVE, prog], { timeoutMs: 10_000 });
  if (want.error !== undefined) return; // natively it hangs (or could not be started): nothing to compare
  // The one known difference: mm's user address space ends at 512 GiB (TASK_SIZE), Linux's at
  // 128 TiB, so a segment between the two runs natively and kills the exec here.
  if (BEYOND_TASK_SIZE.test(got.stderr) && got.status === 139) return;
  expect(got.status, `exit status: got ${got.status} (faultline), want ${want.status} (native)\n${ctx}\n  native stderr ${JSON.stringify(want.stderr)}`).toBe(want.status);
}

/** faultline's line for a segment past its (smaller than Linux's) user address space. */
const BEYOND_TASK_SIZE = /killed by SIGSEGV during exec: .*outside the user address space \(below 0x8000000000\)/;

/**
 * Mutants that found bugs, kept as regression cases: the base program,
 * the seed given to mutate(), and what the bug was.
 */
const REGRESSIONS: { base: keyof typeof BASES; seed: number; found: string }[] = [
  { base: "gcc-static", seed: 1592590361, found: "padzero of a read-only segment faulted: exit 70 (bad user address, EFAULT)" },
  { base: "gcc-static", seed: 1592590387, found: "a fault at an undecodable instruction: exit 70 (Capstone.js: cs_disasm failed), native SIGSEGV" },
  { base: "gcc-static", seed: 1592590353, found: "a PT_PHDR that lies became AT_PHDR: SIGSEGV in glibc's start-up, native exit 3" },
  { base: "gcc-static", seed: 1592590357, found: "'corrupt PT_LOAD' (p_offset + p_filesz past the file's end) refused, native runs" },
  { base: "gcc-static", seed: 1592590388, found: "a segment below mmap_min_addr refused with 126, native is killed during exec (139)" },
  { base: "gcc-static", seed: 1592590351, found: "'corrupt program headers' for e_phnum > 256, native runs" },
  { base: "gcc-static", seed: 1592590356, found: "'no loadable segment' refused (126), native killed during exec (139)" },
  { base: "gcc-static", seed: 1592590347, found: "EI_CLASS checked (126), native runs" },
  { base: "musl-static", seed: 1592591353, found: "EI_DATA checked (126), native runs" },
  { base: "gcc-static", seed: 1592590408, found: "a PT_INTERP that is not NUL-terminated looked up (127), native ENOEXEC (126)" },
];

describe("ELF header fuzz: regression seeds", () => {
  it.each(REGRESSIONS)("$base seed $seed: $found", ({ base, seed }) => {
    const b = Buffer.from(fs.readFileSync(BASES[base]()));
    const what = mutate(b, prng(seed));
    checkMutant(b, `${base} seed ${seed}: ${what.join(", ")}`);
  });
});

describe("ELF header fuzz: seeded random mutants", () => {
  const cases = Object.keys(BASES).flatMap((base, i) =>
    Array.from({ length: MUTANTS_PER_BASE }, (_, k) => ({ base, seed: (SEED + i * 1000 + k) >>> 0 })));
  it.each(cases)("$base seed $seed", ({ base, seed }) => {
    const b = Buffer.from(fs.readFileSync(BASES[base]()));
    const what = mutate(b, prng(seed));
    checkMutant(b, `${base} seed ${seed}: ${what.join(", ")}`);
  });
});
