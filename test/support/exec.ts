/**
 * Test support: a program file executed natively by a bare execve(2)
 * (test/programs/execve.c, which prints the errno when the kernel refuses
 * the file) and under `faultline run`, expected to end the same way.
 */
import * as path from "node:path";
import { expect } from "vitest";
import { buildC, expectSameRun, REPO, runFaultline, runNative } from "./native.js";

/** The bare-execve helper: `EXECVE PROGRAM ARGS...` is PROGRAM exactly as the kernel runs it. */
export const EXECVE = buildC(path.join(REPO, "test", "programs", "execve.c"), "gcc-dynamic");

/** The errno name the helper printed for a refused execve, or undefined when it ran. */
export function nativeErrno(stderr: string): string | undefined {
  return /^execve: (\w+)$/m.exec(stderr)?.[1];
}

/**
 * Runs `argv` natively through a bare execve and under faultline: the same
 * exit status and stdout, and when execve was refused, one faultline line
 * naming the same errno (`[EACCES]`).
 */
export function expectSameExec(argv: string[], label: string): void {
  const want = runNative([EXECVE, ...argv], { timeoutMs: 30_000 });
  const got = runFaultline(argv, { timeoutMs: 60_000 }, ["--timeout", "20"]);
  expectSameRun(got, want, label);
  const errno = nativeErrno(want.stderr);
  if (errno !== undefined) {
    expect(got.stderr.trim().split("\n"), `${label}: one stderr line, got ${JSON.stringify(got.stderr)}`).toHaveLength(1);
    expect(got.stderr, `${label}: errno: want [${errno}] (native), got ${JSON.stringify(got.stderr)}`).toContain(`[${errno}]`);
  }
}
