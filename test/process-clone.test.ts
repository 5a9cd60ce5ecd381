/**
 * clone flags that share a part of the parent between processes (CLONE_VM,
 * CLONE_FILES, CLONE_FS, CLONE_SIGHAND, CLONE_VFORK), and vfork and
 * posix_spawn, which rely on CLONE_VM: test/programs/clone_share.c, one
 * case per run, native vs faultline (stdout and exit status). Two engines
 * on one address space must see each other's stores and mappings, a
 * protection change by one must reach the other's TLB, code rewritten by
 * one must run anew in the other, and an exec in a child that shares the
 * address space must leave it to the parent.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, buildC, expectSameRun, runFaultline, runNative, type Variant } from "./support/native.js";

const SRC = path.join(REPO, "test", "programs", "clone_share.c");

const CASES: { name: string; what: string }[] = [
  { name: "vm", what: "CLONE_VM: the child's stores and new mapping are the parent's; without it, a copy" },
  { name: "files", what: "CLONE_FILES: the child's open and close are the parent's; without it, its own" },
  { name: "fs", what: "CLONE_FS: the child's chdir and umask are the parent's" },
  { name: "sighand", what: "CLONE_SIGHAND: the child's handler is the parent's" },
  { name: "vfork", what: "vfork: the parent waits, sees the child's stores; vfork + exec" },
  { name: "spawn", what: "posix_spawn: ENOENT of a missing program comes back from the child through shared memory" },
  { name: "shootdown", what: "mprotect/munmap by a CLONE_VM child: the parent's next read faults (TLB shootdown)" },
  { name: "code", what: "code rewritten by a CLONE_VM child runs anew in the parent" },
  { name: "spin", what: "a CLONE_VM child spins on a flag the parent sets (preemption between engines on one mm)" },
  { name: "exec", what: "exec in a CLONE_VM child leaves the address space to the parent" },
];

describe("clone sharing between processes (test/programs/clone_share.c), native vs faultline", () => {
  for (const variant of ["gcc-static", "musl-static", "gcc-dynamic"] as Variant[]) {
    const prog = buildC(SRC, variant);
    for (const c of CASES) {
      it(`${variant}: ${c.name}: ${c.what}`, () => {
        expectSameRun(runFaultline([prog, c.name], {}, ["--timeout", "60"]), runNative([prog, c.name]), `clone_share ${c.name} ${variant}`);
      });
    }
  }
});

describe("probes in a vfork child, which shares its parent's [uprobes] slot area", () => {
  const prog = buildC(SRC, "gcc-static", ["-fno-optimize-sibling-calls"]);
  for (const strategy of ["aops", "notifier", "preload", "cow"]) {
    it(`--probe-strategy ${strategy}: work() hits 3 in the child, 2 in the parent (the program's own count: 5)`, () => {
      const got = runFaultline([prog, "vfork"], {}, ["--timeout", "60", "--probe-strategy", strategy, "--probe", `${prog}:work`, "--probe", `ret:${prog}:work`]);
      const want = runNative([prog, "vfork"]);
      expectSameRun(got, want, `clone_share vfork ${strategy}`);
      expect(want.stdout.toString(), "the native run's own count").toContain("work called 5 times");
      for (const spec of [`${prog}:work`, `ret:${prog}:work`]) {
        expect(got.stderr, `${spec}: total`).toContain(`probe ${spec} hits 5`);
        expect(got.stderr, `${spec}: the parent`).toContain(`probe ${spec} pid 1 hits 2`);
        expect(got.stderr, `${spec}: the child`).toContain(`probe ${spec} pid 2 hits 3`);
      }
    });
  }
});
