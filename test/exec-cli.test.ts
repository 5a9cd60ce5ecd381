/**
 * The `run` command's own refusals and reports: option values that cannot
 * work are usage errors (exit 2, one line) before any guest runs, and a
 * fault at an instruction the disassembler cannot decode is still the
 * normal one-line fault report with the native signal.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildC, expectSameRun, runCli, runFaultline, runNative, scratch } from "./support/native.js";

const dir = scratch("fl-cli-");
const HELLO = buildC('#include "nolibc.h"\nNOLIBC_START;\nint main(void) { put(1, "hello\\n"); return 7; }\n', "nolibc");

describe("option values that cannot work: exit 2 and one line, before the guest runs", () => {
  const notDir = path.join(dir, "file");
  fs.writeFileSync(notDir, "x");
  it.each([
    { args: ["--timeout", "Infinity"], message: /--timeout: want seconds/ },
    { args: ["--timeout", "NaN"], message: /--timeout: want seconds/ },
    { args: ["--timeout", "-1"], message: /--timeout: want seconds/ },
    { args: ["--timeout", "0"], message: /--timeout: want seconds/ },
    { args: ["--timeout", "1e3"], message: /--timeout: want seconds/ },
    { args: ["--timeout", "99999999999"], message: /--timeout: want seconds/ },
    { args: ["--timeout", ""], message: /--timeout: want seconds/ },
    { args: ["--root", ""], message: /--root: empty path/ },
    { args: ["--root", notDir], message: /--root: .*: not a directory/ },
    { args: ["--root", path.join(dir, "missing")], message: /--root: .*: no such directory/ },
    { args: ["--stats-json", path.join(dir, "missing", "stats.json")], message: /--stats-json: cannot write .*ENOENT/ },
    { args: ["--stats-json", dir], message: /--stats-json: cannot write .*EISDIR/ },
    { args: ["--mem", "0"], message: /--mem: 0 is too small to run anything: at least 64K/ },
    { args: ["--mem", "16K"], message: /--mem: 16K is too small/ },
    { args: ["--mem", "65535"], message: /--mem: 65535 is too small/ },
  ])("$args", ({ args, message }) => {
    const r = runCli(["run", ...args, HELLO]);
    expect(r.status, `status: got ${r.status}, want 2; stderr ${r.stderr}`).toBe(2);
    expect(r.stderr.trim().split("\n"), "one line").toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout.toString(), "the guest never ran").toBe("");
  });

  it.each([
    { args: ["--timeout", "0.5"] },
    { args: ["--timeout", "2592000"] },
    { args: ["--mem", "64K"] },
    { args: ["--root", "/"] },
  ])("accepted: $args", ({ args }) => {
    expectSameRun(runFaultline([HELLO], {}, args), runNative([HELLO]), `with ${args.join(" ")}`);
  });

  it("--stats-json to a writable path still gets the counters", () => {
    const out = path.join(dir, "stats.json");
    const r = runCli(["run", "--stats-json", out, HELLO]);
    expect(r.status, r.stderr).toBe(7);
    expect(JSON.parse(fs.readFileSync(out, "utf8")).minorFaults, "minorFaults in the JSON").toBeGreaterThan(0);
  });
});

describe("a fault at an instruction the disassembler cannot decode", () => {
  it.each([
    { name: "push es (0x06, invalid in 64-bit mode)", bytes: ".byte 0x06" },
    { name: "salc (0xd6)", bytes: ".byte 0xd6" },
    { name: "a truncated VEX prefix (0xc4) at the end of text", bytes: ".byte 0xc4, 0xff, 0xff, 0xff" },
  ])("$name: the native signal and the normal fault line", ({ name, bytes }) => {
    const bin = buildC(`#include "nolibc.h"\nNOLIBC_START;\nint main(void) { __asm__ volatile("${bytes}"); return 0; }\n`, "nolibc");
    const want = runNative([bin]);
    const got = runFaultline([bin]);
    expectSameRun(got, want, name);
    const lines = got.stderr.trim().split("\n");
    expect(lines, `one stderr line, got ${JSON.stringify(got.stderr)}`).toHaveLength(1);
    expect(lines[0]).toMatch(/^faultline: .*: killed by SIG\w+, rip 0x[0-9a-f]+ \(\(undecodable: [0-9a-f]{2}( [0-9a-f]{2})*\)\): /);
  });
});
