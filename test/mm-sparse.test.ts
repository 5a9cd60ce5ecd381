/**
 * Sparse memory: page tables grow with what is touched, up to the RAM
 * limit. test/programs/sparse.c writes one byte every 2 MiB of a large
 * anonymous mapping (so every byte needs a leaf page table of its own) and
 * reads them back; its output is compared with the native run. Page-table
 * pages count against --mem as a memory cgroup counts them (one 4 KiB leaf
 * table per 2 MiB touched, besides the data page itself), and running out is
 * an out-of-memory kill (137) in one line, never an internal error.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, buildC, expectSameRun, runFaultline, runNative, type RunResult } from "./support/native.js";

const SPARSE = path.join(REPO, "test", "programs", "sparse.c");

describe("page tables grow with what is touched", () => {
  // 130 GiB: 66,560 leaf tables, past the 65,536 table pages the old fixed area held (it
  // failed with "page-table area exhausted"). 200 GiB works too (~70 s here: every touch
  // costs the host several page faults of its own), too long for a test run thrice in CI.
  // The native and the emulated run are separate tests: each blocks the test worker, and
  // one block of over a minute makes vitest's own RPC time out.
  let want: RunResult | undefined;
  const big = () => [buildC(SPARSE, "gcc-static"), "130", "2048"];
  it("one byte per 2 MiB over 130 GiB, natively (the reference)", () => {
    want = runNative(big());
    expect(want.stdout.toString()).toBe("touched 66560, sum 8486400\n");
  }, 120_000);
  it("one byte per 2 MiB over 130 GiB (66,560 leaf tables): output as natively", () => {
    expect(want, "the native run ran first").toBeDefined();
    expectSameRun(runFaultline(big(), { timeoutMs: 280_000 }, ["--timeout", "240"]), want!, "sparse 130 GiB, 2 MiB step");
  }, 300_000);

  it("20 GiB at a 2 MiB step needs 40 MiB of data and 40 MiB of page tables: runs under --mem 96M", () => {
    const bin = buildC(SPARSE, "gcc-static");
    const argv = [bin, "20", "2048"];
    expectSameRun(runFaultline(argv, {}, ["--mem", "96M", "--timeout", "120"]), runNative(argv), "sparse 20 GiB under --mem 96M");
  }, 150_000);

  it("the same under --mem 64M (room for the data, not for its page tables): an out-of-memory kill, one line", () => {
    const bin = buildC(SPARSE, "gcc-static");
    const got = runFaultline([bin, "20", "2048"], {}, ["--mem", "64M", "--timeout", "120"]);
    const lines = got.stderr.trim().split("\n");
    expect(got.status, `exit status: got ${got.status}, want 137; stderr: ${got.stderr.trim()}`).toBe(137);
    expect(lines.length, `stderr lines: got ${JSON.stringify(lines)}, want one`).toBe(1);
    expect(lines[0]).toMatch(/killed by SIGKILL.*out of memory.*RAM limit 16384 pages \(64 MiB\).*page-table/);
  }, 150_000);
});
