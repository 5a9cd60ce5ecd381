/**
 * Job control (issue 9's stop and continue, in issue 10's processes): stop
 * signals stop a process, SIGCONT continues it, the parent's waits and
 * SIGCHLD report both, each run natively and under faultline with the same
 * stdout and exit status. A run whose stopped process nothing can continue
 * ends with 128 + the stop signal (as a shell reports a stopped job).
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, buildC, expectSameRun, runCli, runFaultline, runNative, scratch, type Variant } from "./support/native.js";

const dir = scratch("faultline-jobctl-");

describe("stop, continue, waitpid/waitid and SIGCHLD (test/programs/jobctl.c)", () => {
  for (const variant of ["gcc-static", "musl-static", "gcc-dynamic"] as Variant[]) {
    it(variant, () => {
      const prog = buildC(path.join(REPO, "test", "programs", "jobctl.c"), variant);
      expectSameRun(runFaultline([prog]), runNative([prog]), `jobctl ${variant}`);
    });
  }
});

const SCRIPTS: { name: string; argv: string[] }[] = [
  { name: "busybox sh: kill -STOP, kill -CONT, wait", argv: ["/bin/busybox", "sh", "-c", "sleep 0.3 & p=$!; kill -STOP $p; kill -CONT $p; wait $p; echo $?"] },
  { name: "dash: a stopped child continued later", argv: ["/bin/sh", "-c", "sleep 0.3 & p=$!; kill -STOP $p; sleep 0.1; kill -CONT $p; wait $p; echo $?"] },
  { name: "bash: SIGKILL ends a child stopped by SIGTSTP", argv: ["/bin/bash", "-c", "sleep 0.3 & p=$!; kill -TSTP $p; kill -KILL $p; wait $p; echo $?"] },
  { name: "bash: kill -TSTP in a new session (orphaned group) is discarded", argv: ["/bin/bash", "-c", "setsid bash -c 'kill -TSTP $$; echo still running'; echo st=$?"] },
];

describe("shells that stop and continue their children, native vs faultline", () => {
  for (const c of SCRIPTS) {
    it(c.name, () => {
      expectSameRun(runFaultline(c.argv, { cwd: dir }, ["--timeout", "60"]), runNative(c.argv, { cwd: dir }), c.name);
    });
  }
});

/** Linux's signal numbers (signal(7), x86-64). */
const SIGSTOP = 19, SIGTSTP = 20;

describe("a stopped process that nothing can continue ends the run", () => {
  const cases: { name: string; argv: string[]; signo: number; name2: string }[] = [
    { name: "the first process stops itself with SIGSTOP", argv: ["/bin/sh", "-c", "echo before; kill -STOP $$; echo after"], signo: SIGSTOP, name2: "SIGSTOP" },
    { name: "the first process stops itself with SIGTSTP", argv: ["/bin/busybox", "sh", "-c", "echo before; kill -TSTP $$; echo after"], signo: SIGTSTP, name2: "SIGTSTP" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = runCli(["run", "--timeout", "60", ...c.argv], { cwd: dir });
      expect(r.stdout.toString(), "what ran before the stop, and nothing after").toBe("before\n");
      expect(r.status, `exit status: got ${r.status}, want 128 + ${c.signo}`).toBe(128 + c.signo);
      expect(r.stderr.toString(), "one line saying the process is stopped for good").toMatch(new RegExp(`^faultline: .*: stopped by ${c.name2}, .*no process is left that could continue it.*\\n$`));
    });
  }
  it("a shell waiting for a child that stopped itself (no job control): both end", () => {
    const r = runCli(["run", "--timeout", "60", "/bin/sh", "-c", "sh -c 'kill -STOP $$'; echo not reached"], { cwd: dir });
    expect(r.stdout.toString(), "the waiting shell never continues").toBe("");
    expect(r.status, `exit status: got ${r.status}, want 137 (SIGKILL)`).toBe(137);
    expect(r.stderr.toString()).toMatch(/is stopped by SIGSTOP, and no process is left that could continue it/);
  });
});
