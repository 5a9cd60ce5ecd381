/**
 * /proc/PID files of a process that has been reaped (issue 10): made at the first read as Linux's seq files, so a file opened earlier reads ESRCH (environ 0 bytes, auxv its copy), a zombie's stat says Z.
 * test/programs/procbits.c procreaped runs natively (the ground truth) and under faultline.
 */
import * as path from "node:path";
import { describeCases } from "./support/cases.js";
import { REPO } from "./support/native.js";

describeCases(path.join(REPO, "test", "programs", "procbits.c"), [
  { name: "procreaped", why: "files opened while the child lived, read after it was reaped; a stat read by a zombie" },
]);
