/**
 * OpenMP (gcc -fopenmp, libgomp), native vs faultline (issue 11):
 * test/programs/openmp.c, one `openmp CASE` run per test, with
 * OMP_NUM_THREADS unset (the team is the CPU count, which faultline takes
 * from --cpus) and set to 4 and 1. A parallel for with reductions (static
 * and dynamic schedules), the team size as a relation to the CPU count,
 * critical/atomic/single/master/barrier, tasks, sections and nested regions.
 * gcc only: Debian's libgomp.a is built against glibc (it needs __sysconf
 * and pthread_attr_setaffinity_np, which musl lacks), so there is no
 * musl-static variant.
 */
import * as path from "node:path";
import { REPO } from "./support/native.js";
import { describeCases, type ProgramCase } from "./support/cases.js";

const CASES: ProgramCase[] = [
  { name: "reduction", why: "parallel for with + and max reductions over 3000000, schedule(static) and schedule(dynamic)" },
  { name: "threads", why: "omp_get_max_threads() is OMP_NUM_THREADS or the CPU count; the team has that many, numbered 0..n-1; more than one (as native)" },
  { name: "critical", why: "critical and atomic counters exact; single and master once; a barrier waits for every thread" },
  { name: "tasks", why: "recursive fib(27) with tasks and taskwait; 64 tasks from a single" },
  { name: "sections", why: "parallel sections; nested parallel regions 2 x 2" },
];

describeCases(path.join(REPO, "test", "programs", "openmp.c"), [
  ...CASES,
  ...CASES.map((c) => ({ ...c, env: { OMP_NUM_THREADS: "4" } })),
  ...CASES.map((c) => ({ ...c, env: { OMP_NUM_THREADS: "1" } })),
], { variants: ["gcc-static", "gcc-dynamic"], cflags: ["-fopenmp"] });
