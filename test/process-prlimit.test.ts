/**
 * prlimit64 of another guest process (issue 10): get and set a child's limits (it sees them), inheritance at fork, EINVAL / EPERM, ESRCH for a reaped or missing pid.
 * test/programs/procbits.c prlimit runs natively (the ground truth) and under faultline.
 */
import * as path from "node:path";
import { describeCases } from "./support/cases.js";
import { REPO } from "./support/native.js";

describeCases(path.join(REPO, "test", "programs", "procbits.c"), [
  { name: "prlimit", why: "a parent reads and sets its child's RLIMIT_NOFILE and RLIMIT_CORE; the child sees them" },
]);
