/**
 * Fork bombs bounded by --max-procs (issue 10, "How it is checked"): the
 * limit is the guest's RLIMIT_NPROC, so a program that forks until fork
 * fails sees EAGAIN (fork(2): "the RLIMIT_NPROC soft resource limit ... was
 * encountered"), getrlimit reports the limit, and everything is reaped;
 * never a host crash, never exit 70. Ground truth: the same program run
 * natively as an unused unprivileged uid (root is exempt from RLIMIT_NPROC) under
 * `prlimit --nproc=N:N`. A shell fork bomb ends at --timeout with the first
 * process's status.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, REPO, BASE_ENV, buildC, expectSameRun, runFaultline, runNative, scratch, type Variant } from "./support/native.js";

const SRC = path.join(REPO, "test", "programs", "forkbomb.c");
const ROOT = process.getuid?.() === 0;
/**
 * The unprivileged uid the native runs use: one no account has, picked from
 * this process's pid, so that no other process on the machine counts
 * against its RLIMIT_NPROC (a shared uid like nobody's may have some).
 */
const NOBODY = String(3_000_000 + (process.pid % 1_000_000));

/** `prog` copied where the unprivileged user may run it. */
function public_(prog: string): string {
  const dir = scratch("faultline-nproc-");
  fs.chmodSync(dir, 0o755);
  const out = path.join(dir, path.basename(prog));
  fs.copyFileSync(prog, out);
  fs.chmodSync(out, 0o755);
  return out;
}

/** `prog` run natively as nobody with RLIMIT_NPROC = `limit` (soft and hard). */
function nativeLimited(prog: string, limit: number) {
  return runNative(["/usr/bin/setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups",
    "/usr/bin/prlimit", `--nproc=${limit}:${limit}`, public_(prog)]);
}

/** Checks a faultline run ended as the guest decided: no internal error, no crash. */
function expectNoInternalError(stderr: string): void {
  expect(stderr, "faultline must not report an internal error (exit 70 is a faultline bug)").not.toMatch(/internal error/);
}

describe("a C program forks until fork fails (test/programs/forkbomb.c), native under prlimit --nproc vs faultline --max-procs", () => {
  const cases: { variant: Variant; limit: number | "default" }[] = [
    { variant: "gcc-static", limit: 20 },
    { variant: "musl-static", limit: 20 },
    { variant: "gcc-dynamic", limit: 5 },
    { variant: "gcc-static", limit: "default" },
  ];
  for (const c of cases) {
    const limit = c.limit === "default" ? 128 : c.limit;
    const flags = c.limit === "default" ? ["--timeout", "120"] : ["--timeout", "120", "--max-procs", String(limit)];
    it.skipIf(!ROOT)(`${c.variant}, ${c.limit === "default" ? "the default --max-procs (128)" : `--max-procs ${limit}`}: EAGAIN after ${limit - 1} children, all reaped`, () => {
      const prog = buildC(SRC, c.variant);
      const want = nativeLimited(prog, limit);
      expect(want.status, `native run: ${want.stderr}`).toBe(0);
      expect(want.stdout.toString(), "native: the limit is what prlimit set").toContain(`fork failed: EAGAIN after ${limit - 1} children\n`);
      const got = runFaultline([prog], {}, flags);
      expectNoInternalError(got.stderr);
      expectSameRun(got, want, `forkbomb ${c.variant} limit ${limit}`);
    }, 180_000);
  }

  it("past what the host can hold (each process reserves 512 GiB of host address space): fork is ENOMEM, the guest carries on", () => {
    // A host address-space limit stands in for the 128 TiB a 47-bit host has: about 16 guest processes fit in 8 TiB.
    const prog = buildC(SRC, "gcc-static");
    const tib8 = 8 * 1024 * 1024 * 1024; // KiB
    const got = runNative(["/bin/sh", "-c", `ulimit -v ${tib8}; exec "$0" "$@"`, process.execPath, CLI, "run", "--timeout", "120", "--max-procs", "400", prog],
      { env: BASE_ENV });
    expectNoInternalError(got.stderr);
    const out = got.stdout.toString();
    const made = /^fork failed: Cannot allocate memory after (\d+) children\n/.exec(out);
    expect(made, `fork must fail with ENOMEM (fork(2): "failed to allocate the necessary kernel structures"); got stdout ${JSON.stringify(out)}, stderr ${got.stderr}`).not.toBeNull();
    const n = Number(made![1]);
    expect(n, "some children fit before the host ran out").toBeGreaterThan(0);
    // Every child is reaped (a half-made child holding the pipe's write end would block them all), and fork works again.
    expect(out).toContain(`reaped ${n} (0 not exit 0), then ECHILD\nfork after reaping: ok, status 4\n`);
    expect(got.status, "the program's own verdict (1: the errno was not EAGAIN), not faultline's").toBe(1);
  }, 180_000);
});

describe("a shell fork bomb bounded by --max-procs and --timeout", () => {
  /** How a bomb may end: its exit status and what it printed, as each is possible natively. */
  interface Outcome { status: number; stdout: string }
  const bombs: { name: string; script: string; outcomes: Outcome[] }[] = [
    // Each f waits for its pipeline: the first shell ends with 2 (sh's status when a fork of its own fails:
    // a non-interactive shell exits on that error), with its pipeline's 2, or is killed at the timeout (128 + SIGKILL),
    // depending on which forks the interleaving lets fail, as natively.
    { name: "foreground f | f: sh's error status or the timeout's SIGKILL", script: "f(){ f | f; }; f", outcomes: [{ status: 2, stdout: "" }, { status: 137, stdout: "" }] },
    // The first shell forks both members of its background pipeline itself (ash's evalpipe), then echoes and
    // exits 0. When the first member's descendants reach the limit before that second fork, the fork fails and
    // the shell exits 2 without echoing. Natively the first shell nearly always gets there first (12 of 12 runs
    // as an unprivileged user under ulimit -u 4 ended 0); under faultline a fork takes longer than a time
    // slice, so either may. What the first shell left behind runs until it ends or the timeout.
    { name: "background f | f &: the first shell's own status, the rest ended by the limit or the timeout", script: "f(){ f | f & }; f; echo top-done",
      outcomes: [{ status: 0, stdout: "top-done\n" }, { status: 2, stdout: "" }] },
  ];
  for (const b of bombs) {
    it(b.name, () => {
      const got = runFaultline(["/bin/busybox", "sh", "-c", b.script], {}, ["--timeout", "12", "--max-procs", "4"]);
      expectNoInternalError(got.stderr);
      expect(got.error, "faultline itself must end (by its --timeout), not be cut off by the harness").toBeUndefined();
      const outcome = { status: got.status, stdout: got.stdout.toString() };
      expect(b.outcomes, `exit status and stdout: got ${JSON.stringify(outcome)}, want one of ${JSON.stringify(b.outcomes)}\n${got.stderr}`)
        .toContainEqual(outcome);
      // The guest shell saw EAGAIN as Linux words it (strerror), so the limit was reached, not just the timeout.
      expect(got.stderr, "sh reports fork's EAGAIN").toContain("can't fork: Resource temporarily unavailable");
      if (got.status === 137) expect(got.stderr).toContain("killed: timeout after 12000 ms");
    }, 120_000);
  }
});
