/**
 * PR_SET_PDEATHSIG / PR_GET_PDEATHSIG (issue 10: exit, orphans): a child gets its signal when its parent exits (caught, and SIGTERM's default action), a fork child starts without it, EINVAL past the last signal.
 * test/programs/procbits.c pdeathsig runs natively (the ground truth) and under faultline.
 */
import * as path from "node:path";
import { describeCases } from "./support/cases.js";
import { REPO } from "./support/native.js";

describeCases(path.join(REPO, "test", "programs", "procbits.c"), [
  { name: "pdeathsig", why: "the child gets SIGUSR1 / SIGTERM from the dead parent (SI_USER), cleared on fork, EINVAL for 65" },
]);
