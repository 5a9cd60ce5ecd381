/**
 * Test support: the one harness for running a program natively and under
 * faultline's CLI side by side (the ground truth is the native run), and
 * for building test C programs once per variant.
 *
 *   const want = runNative(["/bin/ls", "-U", dir]);
 *   const got = runFaultline(["/bin/ls", "-U", dir]);
 *   expectSameRun(got, want);       // status, stdout; messages say got and want
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "vitest";

/** The repository root. */
export const REPO = path.resolve(__dirname, "..", "..");
/** The built CLI. */
/** The built CLI (run with node). */
export const CLI = path.join(REPO, "bin", "faultline.mjs");
/** The faultline command as users run it: the launcher, which hands on the signals its parent left ignored. */
export const LAUNCHER = path.join(REPO, "bin", "faultline");

/** How one run ended. */
export interface RunResult {
  /** Exit status as a shell reports it (128 + N when killed by signal N); null if it never ran. */
  status: number | null;
  stdout: Buffer;
  stderr: string;
  /** Wall-clock milliseconds. */
  ms: number;
  /** Why the run could not start or was cut off (spawn error, timeout), if it was. */
  error?: string;
}

/** Options of a run. */
export interface RunOptions {
  cwd?: string;
  /** The whole environment (default: PATH, LC_ALL=C, TZ=UTC). */
  env?: Record<string, string>;
  /** Bytes for stdin, or a file to open as stdin; default /dev/null. */
  stdin?: Buffer | string | { file: string };
  /** Kill after this many ms (default 90 s). */
  timeoutMs?: number;
}

/** The default environment of both sides. */
export const BASE_ENV: Record<string, string> = { PATH: "/usr/bin:/bin", LC_ALL: "C", TZ: "UTC" };

const SIGNALS = os.constants.signals as Record<string, number>;

function spawn(cmd: string, args: string[], o: RunOptions, extraEnv: Record<string, string> = {}): RunResult {
  const file = typeof o.stdin === "object" && !Buffer.isBuffer(o.stdin) ? fs.openSync(o.stdin.file, "r") : undefined;
  const input = file === undefined && o.stdin !== undefined ? Buffer.from(o.stdin as Buffer | string) : undefined;
  const t0 = performance.now();
  try {
    const r = spawnSync(cmd, args, {
      cwd: o.cwd, env: { ...(o.env ?? BASE_ENV), ...extraEnv }, input,
      stdio: [file ?? (input ? "pipe" : "ignore"), "pipe", "pipe"],
      timeout: o.timeoutMs ?? 90_000, maxBuffer: 256 << 20,
    });
    const status = r.status ?? (r.signal ? 128 + SIGNALS[r.signal] : null);
    // A program that exits without reading all of its input is not a failed run: spawnSync
    // reports EPIPE for the input it could not write, with the status and output intact.
    const unread = (r.error as NodeJS.ErrnoException | undefined)?.code === "EPIPE" && status !== null;
    return { status, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr?.toString("utf8") ?? "", ms: performance.now() - t0, error: unread ? undefined : r.error?.message };
  } finally {
    if (file !== undefined) fs.closeSync(file);
  }
}

/** What the launcher needs besides the run's own environment (it removes it before the guest starts). */
const LAUNCH_ENV = { FAULTLINE_NODE: process.execPath };

/** Runs `argv` natively. */
export function runNative(argv: string[], o: RunOptions = {}): RunResult {
  return spawn(argv[0], argv.slice(1), o);
}

/**
 * Runs `argv` under `faultline run` (the built CLI), with `flags` before
 * the program (default `--timeout 60`).
 */
export function runFaultline(argv: string[], o: RunOptions = {}, flags: string[] = ["--timeout", "60"]): RunResult {
  return spawn(LAUNCHER, ["run", ...flags, ...argv], o, LAUNCH_ENV);
}

/** Runs the faultline CLI with raw arguments (any subcommand). */
export function runCli(args: string[], o: RunOptions = {}): RunResult {
  return spawn(LAUNCHER, args, o, LAUNCH_ENV);
}

/** First differing byte, with a little context from both sides. */
export function firstDifference(got: Buffer, want: Buffer): string {
  let k = 0;
  while (k < got.length && k < want.length && got[k] === want[k]) k++;
  const line = want.subarray(0, k).toString("latin1").split("\n").length;
  const show = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, k - 40), k + 80).toString("latin1"));
  return `first difference at byte ${k} (line ${line}; got ${got.length} bytes, want ${want.length}):\n  got  ${show(got)}\n  want ${show(want)}`;
}

/**
 * Expects the faultline run `got` to end as the native run `want`: same exit
 * status and identical stdout bytes (and stderr too when `sameStderr`).
 */
export function expectSameRun(got: RunResult, want: RunResult, label = "", o: { sameStderr?: boolean } = {}): void {
  const tail = (s: string) => s.trim().split("\n").slice(-5).join("\n    ");
  const ctx = `${label}\n  faultline stderr (tail):\n    ${tail(got.stderr)}\n  native stderr (tail):\n    ${tail(want.stderr)}`;
  expect(want.error, `native run failed: ${want.error}\n${ctx}`).toBeUndefined();
  expect(got.error, `faultline run failed: ${got.error}\n${ctx}`).toBeUndefined();
  expect(got.status, `exit status: got ${got.status} (faultline), want ${want.status} (native)\n${ctx}`).toBe(want.status);
  if (!got.stdout.equals(want.stdout)) expect.fail(`stdout differs: ${firstDifference(got.stdout, want.stdout)}\n${ctx}`);
  if (o.sameStderr && got.stderr !== want.stderr) expect.fail(`stderr: got ${JSON.stringify(got.stderr)}, want ${JSON.stringify(want.stderr)}\n${label}`);
}

/** How a test C program is built. */
export type Variant = "gcc-static" | "musl-static" | "gcc-dynamic" | "nolibc";

const FLAGS: Record<Variant, [string, string[]]> = {
  "gcc-static": ["gcc", ["-O1", "-static"]],
  "musl-static": ["musl-gcc", ["-O1", "-static"]],
  "gcc-dynamic": ["gcc", ["-O1"]],
  // Freestanding, with guest/nolibc.h (its _start and syscall wrappers).
  nolibc: ["gcc", ["-O2", "-static", "-nostdlib", "-fno-builtin", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", `-I${path.join(REPO, "guest")}`]],
};

const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-build-"));
process.on("exit", () => fs.rmSync(buildDir, { recursive: true, force: true }));

/**
 * Compiles C source file `src` (or source text when it contains a newline)
 * as `variant` into a scratch directory, once per source and variant.
 * @returns the binary's path
 * @throws when the compiler fails (its stderr in the message)
 */
export function buildC(src: string, variant: Variant = "gcc-static", extra: string[] = []): string {
  const text = src.includes("\n");
  const name = (text ? `inline${hash(src)}` : path.basename(src, ".c")) + `-${variant}${extra.length ? hash(extra.join(" ")) : ""}`;
  const out = path.join(buildDir, name);
  if (fs.existsSync(out)) return out;
  let file = src;
  if (text) fs.writeFileSync((file = out + ".c"), src);
  const [cc, flags] = FLAGS[variant];
  execFileSync(cc, [...flags, "-o", out, file, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  return out;
}

function hash(s: string): string {
  let h = 2166136261;
  for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 16777619);
  return (h >>> 0).toString(16);
}

/** A fresh scratch directory, removed at process exit. */
export function scratch(prefix = "faultline-t-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
