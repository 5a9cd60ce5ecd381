/**
 * Real multi-threaded programs from Debian, native vs faultline: the same
 * stdout bytes (compressed streams included) and exit status. Each of them
 * starts threads with glibc's pthread_create (clone3 with CLONE_THREAD and
 * the rest), synchronises them with futexes, and joins them through
 * clear_child_tid. The guest gets the host's CPU count (no --cpus), so the
 * programs pick the thread counts they pick natively.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { prng } from "./support/prng.js";
import { expectSameRun, runFaultline, runNative, scratch, type RunOptions } from "./support/native.js";

const MiB = 1 << 20;
let dir = "";
let text16 = ""; // 16 MiB of compressible text (words from a fixed seed)
let lines300k = ""; // 300,000 lines in a fixed shuffled order

/** `n` bytes of words drawn from a small vocabulary by a seeded PRNG: compressible, like real text. */
function wordsText(n: number, seed: number): Buffer {
  const r = prng(seed);
  const vocab = Array.from({ length: 512 }, (_, k) => `w${(k * 2654435761 % 99991).toString(36)}`);
  const parts: string[] = [];
  let size = 0;
  while (size < n) {
    const line = Array.from({ length: 12 }, () => vocab[Math.floor(r() * r() * vocab.length)]).join(" ") + "\n";
    parts.push(line);
    size += line.length;
  }
  return Buffer.from(parts.join("")).subarray(0, n);
}

beforeAll(() => {
  dir = scratch("faultline-threads-");
  text16 = path.join(dir, "text16");
  fs.writeFileSync(text16, wordsText(16 * MiB, 11));
  const r = prng(7);
  const nums = Array.from({ length: 300_000 }, (_, k) => k);
  for (let k = nums.length - 1; k > 0; k--) {
    const j = Math.floor(r() * (k + 1));
    [nums[k], nums[j]] = [nums[j], nums[k]];
  }
  lines300k = path.join(dir, "lines300k");
  fs.writeFileSync(lines300k, nums.map((n) => `line ${n}\n`).join(""));
});

/** Runs `argv` natively and under faultline (with `flags`) and requires the same status and stdout. */
function same(argv: string[], label: string, o: RunOptions = {}, flags: string[] = ["--timeout", "240"]): Buffer {
  const want = runNative(argv, o);
  expect(want.status, `native ${label}: status ${want.status}, stderr ${want.stderr}`).toBe(0);
  const got = runFaultline(argv, { timeoutMs: 300_000, ...o }, flags);
  expectSameRun(got, want, label);
  return got.stdout;
}

describe("compressors that start threads: the compressed bytes are native's, and they round-trip", () => {
  const cases = [
    { name: "zstd -T2 (an I/O thread and two workers)", compress: ["/usr/bin/zstd", "-q", "-T2", "-c"], decompress: ["/usr/bin/zstd", "-q", "-d", "-c"] },
    { name: "xz -T2 -1 (blocks of 3 MiB: several compressed at once)", compress: ["/usr/bin/xz", "-T2", "-1", "-c"], decompress: ["/usr/bin/xz", "-T2", "-d", "-c"] },
  ];
  for (const c of cases) {
    it(`${c.name}: 16 MiB`, () => {
      const packed = same([...c.compress, text16], `${c.name} compress`);
      const file = path.join(dir, `packed-${c.compress[0].split("/").pop()}`);
      fs.writeFileSync(file, packed);
      const unpacked = same([...c.decompress, file], `${c.name} decompress`);
      expect(unpacked.equals(fs.readFileSync(text16)), "the round trip gives the input back").toBe(true);
    }, 600_000);
  }
});

describe("other threaded programs", () => {
  it("sort --parallel=2 of 300,000 lines (merge threads)", () => {
    same(["/usr/bin/sort", "--parallel=2", "-S", "8M", lines300k], "sort --parallel=2");
  }, 300_000);

  it("python3 threading (a lock shared by 4 threads) and concurrent.futures (a pool of 3)", () => {
    const code = [
      "import threading, concurrent.futures",
      "lock = threading.Lock(); total = [0]",
      "def work(n):",
      "    for i in range(n):",
      "        with lock: total[0] += 1",
      "ts = [threading.Thread(target=work, args=(20000,)) for _ in range(4)]",
      "[t.start() for t in ts]; [t.join() for t in ts]",
      "print('total', total[0], 'threads', threading.active_count())",
      "with concurrent.futures.ThreadPoolExecutor(max_workers=3) as ex:",
      "    print(sorted(ex.map(lambda x: x * x, range(50))))",
      "ev = threading.Event(); out = []",
      "t = threading.Thread(target=lambda: (ev.wait(), out.append(threading.get_ident() != threading.main_thread().ident)))",
      "t.start(); ev.set(); t.join(); print('event', out)",
    ].join("\n");
    same(["/usr/bin/python3", "-c", code], "python3 threading");
  }, 300_000);
});
