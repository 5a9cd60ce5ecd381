/**
 * The signal calls' argument checks (kill, tkill, tgkill, rt_sigaction,
 * rt_sigprocmask) answer as Linux does: test/programs/sigargs.c makes each
 * call through syscall(2) and prints the errno; the native run is the ground
 * truth. Also what kill(self, N) does to the caller: the default action's
 * exit status, nothing for a blocked, ignored or default-ignored signal.
 */
import * as path from "node:path";
import { describe, it } from "vitest";
import { REPO, buildC, expectSameRun, runFaultline, runNative, type Variant } from "./support/native.js";

const SRC = path.join(REPO, "test", "programs", "sigargs.c");

describe("signal-call argument checks, native vs faultline", () => {
  for (const variant of ["gcc-static", "musl-static", "gcc-dynamic"] as Variant[]) {
    it(`every call's errno, ${variant}`, () => {
      const prog = buildC(SRC, variant);
      expectSameRun(runFaultline([prog]), runNative([prog]), `${prog} (${variant})`);
    });
  }
});

describe("kill(getpid(), N): the exit status of the default action", () => {
  // Real-time signals (34-64) are left out: the harness names statuses through os.constants.signals, which lacks them.
  // 65 is not a signal (EINVAL, the program goes on: 0); 12 is ignored by the program; 17 (SIGCHLD) by default.
  for (const sig of [15, 9, 6, 31, 65, 12, 17, 0]) {
    it(`signal ${sig}`, () => {
      const prog = buildC(SRC, "gcc-static");
      expectSameRun(runFaultline([prog, "kill", String(sig)]), runNative([prog, "kill", String(sig)]), `sigargs kill ${sig}`);
    });
  }
});
