/**
 * Processes (issue 10, first part): fork, vfork, exec, wait, pipes between
 * processes, and the programs that need them, each run natively and under
 * faultline with the same stdout and exit status; probes counted across fork.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, buildC, expectSameRun, runFaultline, runNative, scratch, type Variant } from "./support/native.js";

const dir = scratch("faultline-proc-");

describe("fork, pipe, wait and exit statuses (test/programs/fork_wait.c)", () => {
  for (const variant of ["gcc-static", "musl-static", "gcc-dynamic"] as Variant[]) {
    it(variant, () => {
      const prog = buildC(path.join(REPO, "test", "programs", "fork_wait.c"), variant);
      expectSameRun(runFaultline([prog]), runNative([prog]), `fork_wait ${variant}`);
    });
  }
});

describe("a process that busy-waits is preempted (test/programs/fork_spin.c: parent spins, then child spins, on a shared flag)", () => {
  for (const variant of ["gcc-static", "musl-static"] as Variant[]) {
    it(variant, () => {
      const prog = buildC(path.join(REPO, "test", "programs", "fork_spin.c"), variant);
      expectSameRun(runFaultline([prog]), runNative([prog]), `fork_spin ${variant}`);
    });
  }
});

const SCRIPTS: { name: string; argv: string[] }[] = [
  { name: "busybox sh: command substitution", argv: ["/bin/busybox", "sh", "-c", "x=$(echo hi); echo $x; echo $(echo $(echo nested))"] },
  { name: "busybox sh: a pipeline through three programs", argv: ["/bin/busybox", "sh", "-c", "for i in 3 1 2; do echo $i; done | sort | tr 123 abc"] },
  { name: "busybox sh: subshell status, & and wait", argv: ["/bin/busybox", "sh", "-c", "(echo sub; exit 3); echo st=$?; sleep 0.05 & wait; echo waited"] },
  { name: "busybox sh: trap on CHLD and EXIT", argv: ["/bin/busybox", "sh", "-c", "trap 'echo chld' CHLD; trap 'echo bye' EXIT; true & wait; echo done"] },
  { name: "dash: pipelines and Debian programs", argv: ["/bin/sh", "-c", "echo $(uname -s) | cat; ls / | head -2 | wc -l; false | true; echo $?"] },
  { name: "bash: pipefail, process substitution's kin, exit code", argv: ["/bin/bash", "-o", "pipefail", "-c", "x=$(printf 'a\\nb\\n' | wc -l); echo $x; (exit 4) | cat; echo $?"] },
  { name: "find -exec and xargs", argv: ["/bin/sh", "-c", `cd ${REPO}/test/programs && find . -name 'fork_*.c' -exec basename {} \\; | sort; printf 'a b c' | xargs -n1 echo | wc -l`] },
  { name: "python3: subprocess.run and os.fork/os.waitpid", argv: ["/usr/bin/python3", "-c",
    "import subprocess, os\nprint(subprocess.run(['echo', 'sub'], capture_output=True, text=True).stdout.strip())\nprint(subprocess.run('exit 4', shell=True).returncode)\npid = os.fork()\nif pid == 0: os._exit(7)\nprint(os.WEXITSTATUS(os.waitpid(pid, 0)[1]))"] },
  { name: "perl: backticks and system", argv: ["/usr/bin/perl", "-e", "my $x = `echo hi`; print \"bt $x\"; system('sh', '-c', 'exit 5'); print 'st ', $? >> 8, \"\\n\""] },
];

describe("shells and languages that start processes, native vs faultline", () => {
  for (const c of SCRIPTS) {
    it(c.name, () => {
      expectSameRun(runFaultline(c.argv, { cwd: dir }, ["--timeout", "120"]), runNative(c.argv, { cwd: dir }), c.name);
    });
  }
});

describe("the toolchain under faultline", () => {
  it("gcc compiles and links a program, which then runs (all inside one faultline run)", () => {
    const src = path.join(dir, "hello.c");
    fs.writeFileSync(src, '#include <stdio.h>\nint main(void) { puts("built and ran"); return 0; }\n');
    const argv = ["/bin/sh", "-c", `gcc -o ${dir}/hello_f ${src} && ${dir}/hello_f`];
    const got = runFaultline(argv, { cwd: dir }, ["--timeout", "300"]);
    const want = runNative(["/bin/sh", "-c", `gcc -o ${dir}/hello_n ${src} && ${dir}/hello_n`], { cwd: dir });
    expectSameRun(got, want, "gcc");
    expect(fs.readFileSync(`${dir}/hello_f`).equals(fs.readFileSync(`${dir}/hello_n`)), "the binary gcc made under faultline is the native one's bytes").toBe(true);
  }, 400_000);
});

describe("probes follow fork", () => {
  const prog = buildC(path.join(REPO, "test", "programs", "fork_probe.c"), "gcc-static", ["-fno-optimize-sibling-calls"]);
  for (const strategy of ["aops", "notifier", "preload", "cow"]) {
    it(`--probe-strategy ${strategy}: work() hits in parent and child (3 + 2)`, () => {
      const got = runFaultline([prog], {}, ["--timeout", "60", "--probe-strategy", strategy, "--probe", `${prog}:work`, "--probe", `ret:${prog}:work`]);
      expectSameRun(got, runNative([prog]), `fork_probe ${strategy}`);
      expect(got.stderr, "entry hits").toContain(`probe ${prog}:work hits 5`);
      expect(got.stderr, "return hits").toContain(`probe ret:${prog}:work hits 5`);
    });
  }
});
