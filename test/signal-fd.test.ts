/**
 * signalfd (issue 9): reads of struct signalfd_siginfo, the mask replaced,
 * poll/epoll readiness, SFD_CLOEXEC/SFD_NONBLOCK, blocking reads that park,
 * across fork, a timer's signal, and the systemd pattern (SIGCHLD read from
 * a signalfd), each run natively and under faultline with the same stdout
 * and exit status.
 */
import * as path from "node:path";
import { describe, it } from "vitest";
import { REPO, buildC, expectSameRun, runFaultline, runNative, type Variant } from "./support/native.js";

describe("signalfd (test/programs/sigfd.c), native vs faultline", () => {
  for (const variant of ["gcc-static", "musl-static", "gcc-dynamic"] as Variant[]) {
    it(variant, () => {
      const prog = buildC(path.join(REPO, "test", "programs", "sigfd.c"), variant);
      expectSameRun(runFaultline([prog]), runNative([prog]), `sigfd ${variant}`);
    });
  }
});
