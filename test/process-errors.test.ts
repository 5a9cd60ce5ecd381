/**
 * Bad input to the process calls (issue 10, "Bad input"), in the shape
 * test/exec-syscall.test.ts does not cover: execve of bad files made by a
 * forked child (the errno in the exec'ing process, the status its parent
 * sees), waits with no child to wait for (ECHILD: none at all, the parent,
 * itself, a grandchild, a reaped child, a group that does not exist), and
 * kills of processes and groups that do not exist (ESRCH), with a zombie
 * still signalable. Ground truth: test/programs/procerr.c run natively.
 */
import * as path from "node:path";
import { describeCases } from "./support/cases.js";
import { REPO } from "./support/native.js";

describeCases(path.join(REPO, "test", "programs", "procerr.c"), [
  { name: "exec-child", why: "a forked child execs a missing file, a directory, a file without x, cut ELFs, ELFs for ARM and i386" },
  { name: "wait", why: "wait4/waitid with nothing to wait for are ECHILD, a grandchild and a reaped child included" },
  { name: "kill", why: "kill of a missing pid, a missing group and INT_MIN is ESRCH, a bad signal EINVAL, a zombie takes signals" },
], { variants: ["gcc-static", "musl-static"] });
