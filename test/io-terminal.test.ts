/**
 * Programs with and without a controlling terminal, natively and under
 * faultline: without one (setsid: CI, cron, a pipe) /dev/tty is ENXIO for
 * the guest as for the native program, and bash runs; with one (a
 * pseudo-terminal made by util-linux `script`), /dev/tty opens, is a
 * terminal, and terminal ioctls pass through. stdout is compared byte for
 * byte (under `script` it is the terminal's, with \r\n).
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildC, CLI, expectSameRun, REPO, runNative } from "./support/native.js";

const bin = buildC(path.join(REPO, "test", "programs", "iocalls.c"), "gcc-static");
const faultline = `${process.execPath} ${CLI} run --timeout 60`;

/** A shell line for both sides: `prog` is the program path natively and faultline + path under faultline. */
interface Case {
  name: string;
  /** The command, given how to start a program on this side. */
  cmd: (run: string) => string;
}

/** bash builtins only (faultline has no fork): the terminal tests, /dev/tty, a timed read. */
const BASH_SCRIPT = "echo hi; [ -t 0 ] && echo in-tty; [ -t 1 ] && echo out-tty; if exec 3</dev/tty; then echo ctty; else echo no-ctty; fi; read -t 0.2 x; echo read=$?";

const CASES: Case[] = [
  { name: "bash -c 'echo hi'", cmd: (run) => `${run} /bin/bash -c 'echo hi'` },
  { name: "bash: terminal tests, /dev/tty, read -t", cmd: (run) => `${run} /bin/bash -c '${BASH_SCRIPT}'` },
  { name: "iocalls tty: /dev/tty opens, is a terminal, answers poll and lseek", cmd: (run) => `${run} ${bin} tty` },
];

/** Runs `line` in a new session with no controlling terminal. */
const noTerminal = (line: string) => runNative(["setsid", "-w", "sh", "-c", line]);
/** Runs `line` on a new pseudo-terminal (its stderr discarded: it shares the terminal with stdout). */
const onTerminal = (line: string) => runNative(["script", "-qec", `${line} 2>/dev/null`, "/dev/null"]);

describe("without a controlling terminal", () => {
  for (const c of CASES.slice(0, 2)) {
    it(c.name, () => {
      const want = noTerminal(c.cmd(""));
      expect(want.stdout.toString(), "native run").toContain("hi");
      expectSameRun(noTerminal(c.cmd(faultline)), want, c.name);
    });
  }
  it("open of /dev/tty is ENXIO", () => {
    const want = noTerminal(`${bin} tty`);
    expect(want.stdout.toString()).toContain("open /dev/tty = -1 ENXIO");
    expectSameRun(noTerminal(`${faultline} ${bin} tty`), want);
  });
});

describe("on a terminal (script's pseudo-terminal)", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const want = onTerminal(c.cmd(""));
      expect(want.stdout.length, "native run printed nothing").toBeGreaterThan(0);
      expectSameRun(onTerminal(c.cmd(faultline)), want, c.name);
    });
  }
});
