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
import { BASE_ENV, buildC, expectSameRun, firstDifference, runFaultline, runNative, type RunOptions, type Variant } from "./native.js";

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
        const title = `${c.needs ? `[${c.needs}] ` : ""}${env}${c.name}: ${c.why}`;
        it(title, () => {
          const prog = buildC(src, variant, o.cflags ?? []);
          const argv = [prog, c.name];
          const run: RunOptions = c.env ? { env: { ...BASE_ENV, ...c.env } } : {};
          const want = runNative(argv, run);
          expect(want.status, `native exit status: got ${want.status}, want ${c.status ?? 0}\n${want.stderr}`).toBe(c.status ?? 0);
          if (!c.once) {
            const again = runNative(argv, run);
            if (!again.stdout.equals(want.stdout)) expect.fail(`native output is not stable across runs: ${firstDifference(again.stdout, want.stdout)}`);
          }
          expectSameRun(runFaultline(argv, run, o.flags), want, `${base} ${env}${c.name} (${variant})`);
        });
      }
    });
  }
}
