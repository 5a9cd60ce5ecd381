/**
 * MAP_SHARED|MAP_ANONYMOUS memory across fork (mm/shmem.ts, cf.
 * shmem_zero_setup): one object behind every process's mapping, so pages
 * untouched before fork, touched by one side or both, by a grandchild whose
 * parent exited, survive MADV_DONTNEED, go with MADV_REMOVE, follow mremap,
 * and show in /proc/self/maps as "/dev/zero (deleted)" with one inode per
 * mapping — all compared with the same program run natively.
 */
import * as path from "node:path";
import { describe, it } from "vitest";
import { REPO, buildC, expectSameRun, runFaultline, runNative, type Variant } from "./support/native.js";

describe("shared anonymous memory across fork (test/programs/shared_anon.c)", () => {
  for (const variant of ["gcc-static", "musl-static", "gcc-dynamic"] as Variant[]) {
    it(variant, () => {
      const prog = buildC(path.join(REPO, "test", "programs", "shared_anon.c"), variant);
      expectSameRun(runFaultline([prog]), runNative([prog]), `shared_anon ${variant}`);
    });
  }
});
