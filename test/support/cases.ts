/**
 * Test support: one test per (variant, case) of a `PROG CASE` program from
 * test/programs/, each run natively (the ground truth) and under faultline,
 * compared with expectSameRun. The program's native output is also checked
 * to be stable (two native runs print the same), so that a difference is
 * faultline's and not the program's.
 *
 *   describeCases(path.join(REPO, "test", "programs", "sigfaults.c"), [
 *     { name: "fpe", why: "SIGFPE skipped by editing RIP" },
 *   ]);
 */
import { describe, expect, it } from "vitest";
import { ulps64 } from "./hexfloat.js";
import { BASE_ENV, buildC, expectSameRun, firstDifference, runFaultline, runNative, type RunOptions, type RunResult, type Variant } from "./native.js";

/** One `PROG CASE` run. */
export interface ProgramCase {
  /** The program's argument (its case name). */
  name: string;
  /** What the case checks, for the test's title. */
  why: string;
  /** The exit status the native run must have (a check that the case is what it claims; default 0). */
  status?: number;
  /** Title prefix marking a case that needs another part of the work (e.g. "needs alarm"). */
  needs?: string;
  /** Skip the second native run (a case that waits on a timer: its output is still compared). */
  once?: boolean;
  /** Variables added to both runs' environment (BASE_ENV), e.g. { OMP_NUM_THREADS: "4" }; shown in the title. */
  env?: Record<string, string>;
  /**
   * A known difference: functions (by name, as the output labels them:
   * `logl(...) = VALUE` or `logl(3) VALUE`) whose long double results may
   * differ from native by one unit in the last place; every other byte must
   * be native's. Shown in the title.
   */
  lastBit?: { fns: string[]; why: string };
  /**
   * A case whose native output depends on how the host kernel is built or
   * booted, where faultline models one such kernel: when the native run's
   * stdout matches `nativeShows`, the host is the other kind, and the test
   * is skipped as a known difference (`why`, shown in the title).
   */
  hostKind?: { nativeShows: RegExp; why: string };
}

/** How describeCases builds and runs. */
export interface CaseOptions {
  /** Variants to build (default gcc-static, musl-static, gcc-dynamic). */
  variants?: Variant[];
  /** Extra compiler arguments (e.g. ["-lm"]). */
  cflags?: string[];
  /** faultline flags before the program (default --timeout 60). */
  flags?: string[];
}

const ALL: Variant[] = ["gcc-static", "musl-static", "gcc-dynamic"];

/**
 * Registers a describe block per variant of `src`, with one test per case:
 * native twice (same status and stdout, and the status the case expects),
 * then faultline, which must end the same as native.
 */
export function describeCases(src: string, cases: ProgramCase[], o: CaseOptions = {}): void {
  const base = src.split("/").pop() ?? src;
  for (const variant of o.variants ?? ALL) {
    describe(`${base} (${variant}), native vs faultline`, () => {
      for (const c of cases) {
        const env = c.env ? Object.entries(c.env).map(([k, v]) => `${k}=${v} `).join("") : "";
        const known = c.lastBit ? ` (known: ${c.lastBit.fns.join(", ")} within 1 ulp: ${c.lastBit.why})` : "";
        const host = c.hostKind ? ` (skipped where the host differs: ${c.hostKind.why})` : "";
        const title = `${c.needs ? `[${c.needs}] ` : ""}${env}${c.name}: ${c.why}${known}${host}`;
        it(title, (ctx) => {
          const prog = buildC(src, variant, o.cflags ?? []);
          const argv = [prog, c.name];
          const run: RunOptions = c.env ? { env: { ...BASE_ENV, ...c.env } } : {};
          const want = runNative(argv, run);
          expect(want.status, `native exit status: got ${want.status}, want ${c.status ?? 0}\n${want.stderr}`).toBe(c.status ?? 0);
          if (c.hostKind?.nativeShows.test(want.stdout.toString("latin1"))) return ctx.skip();
          if (!c.once) {
            const again = runNative(argv, run);
            if (!again.stdout.equals(want.stdout)) expect.fail(`native output is not stable across runs: ${firstDifference(again.stdout, want.stdout)}`);
          }
          const got = runFaultline(argv, run, o.flags), label = `${base} ${env}${c.name} (${variant})`;
          if (c.lastBit && !got.stdout.equals(want.stdout)) expectSameUpToLastBit(got, want, c.lastBit.fns, label);
          else expectSameRun(got, want, label);
        });
      }
    });
  }
}

/**
 * Expects `got` to end as `want` with the same output, except that a value
 * labelled by one of `fns` (the nearest earlier word `NAME(...)` on its line)
 * may differ by one unit in the last place of a 64-bit significand.
 */
function expectSameUpToLastBit(got: RunResult, want: RunResult, fns: string[], label: string): void {
  expect(got.status, `exit status: got ${got.status} (faultline), want ${want.status} (native)\n${label}`).toBe(want.status);
  const g = got.stdout.toString("latin1").split("\n"), w = want.stdout.toString("latin1").split("\n");
  expect(g.length, `line count: got ${g.length}, want ${w.length}\n${label}`).toBe(w.length);
  for (let k = 0; k < w.length; k++) {
    if (g[k] === w[k]) continue;
    const gt = g[k].split(" "), wt = w[k].split(" ");
    let fn = "";
    const ok = gt.length === wt.length && wt.every((t, i) => {
      const m = /^([a-z0-9_]+)\(/.exec(t);
      if (m) fn = m[1];
      return t === gt[i] || (fns.includes(fn) && ulps64(gt[i], t) === 1n);
    });
    if (!ok) expect.fail(`line ${k + 1} differs beyond the known last-bit difference of ${fns.join(", ")}:\n  got  ${g[k]}\n  want ${w[k]}\n${label}`);
  }
}
