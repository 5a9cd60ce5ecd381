/**
 * Random system calls from a guest (guest/fuzz-syscalls.c), seeded: whatever
 * a guest asks, faultline answers with a value or an errno. Per seed, under
 * `faultline run --timeout 20 --root <scratch tree>`:
 *   - the guest ends with its own exit status (0), having made every call
 *     (`@end COUNT` printed): never 70 (internal error), never a signal;
 *   - stderr holds no `internal error` and nothing but the one-per-call
 *     unimplemented-call warnings;
 *   - the host neither hangs (the run ends before a wall-clock bound well
 *     past --timeout) nor grows past RSS_BOUND (peak RSS of the faultline
 *     process, from getrusage(RUSAGE_CHILDREN) in a one-child wrapper).
 *
 * A failing seed is replayed by hand with the guest's `v` mode, which prints
 * each call's arguments before making it:
 *   faultline run --root DIR /.b/fuzz SEED COUNT v SKIP
 *
 * KNOWN lists the calls that hit an open finding (none now); the guest is
 * told to skip them in the main seeds. Each finding the fuzz made has its
 * seed in REGRESSIONS, run with the calls that were skipped when it was
 * found, so the same call is reached again.
 *
 * Results are not compared with a native run of the same seed: pointer
 * values (ASLR natively) flow into integer arguments, pids other than the
 * guest's exist natively, and ENOSYS answers differ by design. What the safe
 * mode's comparison found wrong in emu/syscalls/process.ts is pinned instead
 * by the guest's `r` mode, a fixed list of calls compared with Linux.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildC, CLI, expectSameRun, REPO, runFaultline, runNative } from "./support/native.js";

const SOURCE = path.join(REPO, "guest", "fuzz-syscalls.c");
/** Calls per seed. */
const COUNT = 2000;
/** Peak RSS of a faultline run, in KiB (a run of 2000 calls peaks near 80 MiB). */
const RSS_BOUND = 512 * 1024;
/** faultline's own --timeout, and the wall-clock bound past which the host counts as hung. */
const TIMEOUT_S = 20;
const HANG_MS = 30_000;

/** A call number the main seeds skip, with the finding it hits and who fixes it. */
interface Known {
  nr: number;
  name: string;
  finding: string;
  owner: "names" | "io" | "loader" | "mm" | "procfs";
}

/** Findings of the fuzz that others are fixing (FINDINGS.md); the main seeds skip these calls. */
const KNOWN: Known[] = [
  // Empty: every finding below is fixed (their calls are fuzzed again in the main seeds).
];

/** A seed that found something, kept as a regression case. */
interface Regression {
  seed: number;
  /** The calls skipped when it was found (so that the same call is reached). */
  skip: number[];
  /** The call that went wrong, its arguments, and what faultline did. */
  found: string;
  owner: Known["owner"];
  /** A hang: skipped (not run as failing) so that the suite stays bounded. */
  hangs?: boolean;
}

const REGRESSIONS: Regression[] = [
  { seed: 1, skip: [], found: "nanosleep(&{2^40, 1e9}) sleeps for ever (Linux: EINVAL)", owner: "io", hangs: true },
  { seed: 2, skip: [62], found: "clock_nanosleep(2, 0, &{2^40, 1e9}) sleeps for ever (Linux: EINVAL)", owner: "io", hangs: true },
  { seed: 77, skip: [62, 35, 230], found: 'truncate(path, 0x3cfde938c1ca389b): internal error, "len" out of range (Linux: EFBIG)', owner: "names" },
  { seed: 96, skip: [62, 35, 230], found: "truncate(path, -0x73f2f7c3e797dd73): internal error (Linux: EINVAL)", owner: "names" },
  { seed: 65, skip: [62, 35, 230], found: "pwrite64(0, 0x7fffffff, 0xf7ec72fe, off): runs past --timeout (Linux: ESPIPE)", owner: "io", hangs: true },
  { seed: 87, skip: [62, 35, 230], found: "write(8 = O_RDONLY, 0x13eaf06b, 0x7fbfdf5000): 4.2 GB RSS, killed by the timeout (Linux: EBADF)", owner: "io", hangs: true },
  { seed: 143, skip: [62, 35, 230, 76, 1, 18], found: 'ftruncate(3, 0x652238a3ed5664f8): internal error, "len" out of range (Linux: EFBIG)', owner: "io" },
  { seed: 225, skip: [62, 35, 230, 76, 1, 18], found: "read(5, 0x2, -1) on a file grown by ftruncate: runs past --timeout (Linux: EFAULT)", owner: "io", hangs: true },
  { seed: 245, skip: [62, 35, 230, 76, 1, 18], found: "mmap(0, 0x47db7, prot 0xbfc38000, MAP_PRIVATE|MAP_ANONYMOUS|MAP_POPULATE|..., ...): SIGSEGV at rip 0 (Linux: EINVAL, unknown prot bits)", owner: "mm" },
];

/** Seeds of the main run: a fixed list, and a few derived from a constant (xorshift32 of 0x5eed). */
function mainSeeds(): number[] {
  const seeds = [3, 4, 6, 7, 8, 9];
  let x = 0x5eed;
  for (let k = 0; k < 6; k++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    seeds.push(x % 1_000_000);
  }
  return seeds;
}

/**
 * Runs the faultline CLI with `args` as the only child of a small Node
 * wrapper, which then reports the child's peak RSS (getrusage(RUSAGE_CHILDREN),
 * through koffi) on fd 3 as JSON and exits with the child's status, or 124
 * when it had to kill it after HANG_MS.
 */
const WRAPPER = `
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const koffi = require(process.argv[1]);
const getrusage = koffi.load("libc.so.6").func("int getrusage(int who, _Out_ uint8_t *usage)");
const r = spawnSync(process.execPath, process.argv.slice(3), { stdio: "inherit", timeout: ${HANG_MS}, killSignal: "SIGKILL" });
const usage = new Uint8Array(144);
getrusage(-1, usage);
const maxrss = Number(new DataView(usage.buffer).getBigInt64(32, true));
const hung = r.error !== undefined && r.error.code === "ETIMEDOUT";
fs.writeFileSync(process.argv[2], JSON.stringify({ maxrss, hung, signal: r.signal }));
process.exit(hung ? 124 : r.status ?? 128);
`;

/** How one seed's run ended. */
interface FuzzRun {
  /** The faultline process's exit status as the wrapper passed it on (124: killed as hung). */
  status: number | null;
  /** The guest's log (and whatever fuzzed writes put on fd 1). */
  stdout: string;
  /** faultline's own stderr (the guest's fd 2 is a file in the tree). */
  stderr: string;
  /** Peak RSS of the faultline process, KiB. */
  maxrss: number;
  /** Whether the wrapper had to kill it after HANG_MS. */
  hung: boolean;
  /** The signal that ended the faultline process itself, if one did (a host crash). */
  signal: string | null;
}

/** A fresh scratch tree as the guest expects it, with the guest at /.b/fuzz (the caller removes it). */
function makeRoot(guest: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-fuzz-"));
  fs.mkdirSync(path.join(root, "d"));
  fs.mkdirSync(path.join(root, "e"));
  fs.mkdirSync(path.join(root, ".b"));
  fs.writeFileSync(path.join(root, "f"), "hello, world\n".repeat(100));
  fs.writeFileSync(path.join(root, "d", "g"), "g\n");
  fs.symlinkSync("f", path.join(root, "l"));
  fs.copyFileSync(guest, path.join(root, ".b", "fuzz"));
  fs.chmodSync(path.join(root, ".b", "fuzz"), 0o755);
  return root;
}

/** Runs `guest` for `seed` in a fresh tree, skipping the calls `skip`, and removes the tree. */
function runSeed(guest: string, seed: number, skip: number[]): FuzzRun {
  const root = makeRoot(guest);
  const report = `${root}.rss.json`;
  const koffi = path.join(REPO, "node_modules", "koffi");
  try {
    return runIn(root, report, koffi, seed, skip);
  } finally {
    fs.rmSync(report, { force: true });
    spawnSync("chmod", ["-R", "u+rwx", root]); // a fuzzed chmod may have locked the tree
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** One run under the RSS wrapper in tree `root`; the wrapper's report goes to file `report`. */
function runIn(root: string, report: string, koffi: string, seed: number, skip: number[]): FuzzRun {
  const r = runNative([process.execPath, "-e", WRAPPER, koffi, report, CLI, "run", "--timeout", String(TIMEOUT_S), "--root", root,
    "/.b/fuzz", String(seed), String(COUNT), "", skip.join(",")], { cwd: root, timeoutMs: HANG_MS + 20_000 });
  const rep = fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, "utf8")) : { maxrss: 0, hung: true, signal: null };
  expect(rep.maxrss, `the wrapper measured no peak RSS (seed ${seed})`).toBeGreaterThan(0);
  return { status: r.status, stdout: r.stdout.toString("latin1"), stderr: r.stderr, maxrss: rep.maxrss, hung: rep.hung, signal: rep.signal };
}

/** The `@NR RESULT` lines of the guest's log (fuzzed writes to fd 1 may put garbage before them). */
function calls(stdout: string): string[] {
  return stdout.split("\n").map((l) => /@-?\d+ -?\d+$/.exec(l)?.[0]).filter((l): l is string => l !== undefined);
}

/** Expects the contract of one run; messages say what happened and how to replay it. */
function expectContract(run: FuzzRun, seed: number, skip: number[]): void {
  const log = calls(run.stdout);
  const replay = `replay: faultline run --root DIR /.b/fuzz ${seed} ${COUNT} v ${skip.join(",")}`;
  const ctx = `seed ${seed}: last call ${log.at(-1) ?? "(none)"}, ${log.length} calls logged\n  stderr: ${run.stderr.split("\n").filter((l) => !/unimplemented/.test(l)).slice(-3).join("\n    ")}\n  ${replay}`;
  expect(run.hung, `host hung: not done ${HANG_MS} ms after start (--timeout ${TIMEOUT_S})\n${ctx}`).toBe(false);
  expect(run.stderr, `internal error\n${ctx}`).not.toMatch(/internal error/);
  expect(run.signal, `the host process died of ${run.signal}\n${ctx}`).toBeNull();
  expect(run.status, `exit status: got ${run.status}, want 0 (the guest's own)\n${ctx}`).toBe(0);
  expect(run.stdout, `the guest did not reach its end\n${ctx}`).toMatch(new RegExp(`@end ${COUNT}\\n`));
  const lines = run.stderr.split("\n").filter((l) => l !== "");
  const other = lines.filter((l) => !/^faultline: .*unimplemented system call/.test(l));
  expect(other, `stderr lines other than unimplemented-call warnings\n${ctx}`).toEqual([]);
  expect(new Set(lines).size, `a warning repeated\n${ctx}`).toBe(lines.length);
  expect(run.maxrss, `peak RSS ${run.maxrss} KiB, bound ${RSS_BOUND} KiB\n${ctx}`).toBeLessThan(RSS_BOUND);
}

describe("random system calls from a guest: never an internal error, a host crash, a hang or a blowup", () => {
  const guest = buildC(SOURCE, "nolibc");
  const skip = KNOWN.map((k) => k.nr);

  it.each(mainSeeds())(`seed %i, ${COUNT} calls (skipping the known findings' calls)`, (seed) => {
    expectContract(runSeed(guest, seed, skip), seed, skip);
  }, HANG_MS + 30_000);

  describe("seeds that found something", () => {
    for (const r of REGRESSIONS) {
      const title = `seed ${r.seed} (${r.owner}): ${r.found}`;
      const test = () => expectContract(runSeed(guest, r.seed, r.skip), r.seed, r.skip);
      it(title, test, HANG_MS + 30_000);
    }
  });
});

describe("what the safe mode's native comparison found in the identity and limit calls (guest mode r, Linux is the reference)", () => {
  const guest = buildC(SOURCE, "nolibc");
  it("getpgid/getsid/sched_getaffinity/prlimit64 of another pid are ESRCH; prlimit64, getrandom, clock_getres, getgroups check as Linux does", () => {
    const root = makeRoot(guest);
    try {
      const want = runNative([path.join(root, ".b", "fuzz"), "1", "1", "r"], { cwd: root });
      const got = runFaultline(["/.b/fuzz", "1", "1", "r"], { cwd: root }, ["--timeout", String(TIMEOUT_S), "--root", root]);
      expectSameRun(got, want, "fuzz-syscalls r: one `@NR RESULT` line per case of regressions() in guest/fuzz-syscalls.c");
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
