/**
 * A process's resource limits (cf. struct signal_struct's rlim[], kept per
 * thread group, copied at fork, kept across execve). faultline keeps and
 * reports them, got and set by the process itself or another of its world
 * (prlimit64), and enforces none of them: fork's limit is the world's
 * --max-procs, which RLIMIT_NPROC reports until a process sets its own.
 */
import { fail } from "../lib/errno.js";

/** Number of resources (cf. RLIM_NLIMITS). */
export const RLIM_NLIMITS = 16;
export const RLIMIT_STACK = 3, RLIMIT_NPROC = 6, RLIMIT_NOFILE = 7;
/** An unlimited limit (cf. RLIM64_INFINITY). */
export const RLIM_INFINITY = 2n ** 64n - 1n;
/** Most descriptors a process may be allowed (cf. sysctl_nr_open's default). */
const NR_OPEN = 1048576n;

/** One limit (cf. struct rlimit64). Invariant: cur <= max. */
export interface Rlimit {
  readonly cur: bigint;
  readonly max: bigint;
}

/** The limits a first process starts with (Linux's defaults for init, cf. INIT_RLIMITS, with the usual 8 MiB stack). */
function initial(resource: number): Rlimit {
  if (resource === RLIMIT_STACK) return { cur: 8n << 20n, max: RLIM_INFINITY };
  if (resource === RLIMIT_NOFILE) return { cur: 1024n, max: NR_OPEN };
  return { cur: RLIM_INFINITY, max: RLIM_INFINITY };
}

/** One process's limits. RLIMIT_NPROC is absent until set: then it is the world's process limit. */
export class Rlimits {
  /** The limits set so far by resource; absent ones are `initial`'s (NPROC: the world's). */
  private readonly set = new Map<number, Rlimit>();

  /** A copy for a fork child (cf. copy_signal's memcpy of rlim). */
  clone(): Rlimits {
    const c = new Rlimits();
    for (const [k, v] of this.set) c.set.set(k, v);
    return c;
  }

  /**
   * The limit on `resource`; `nproc` is the world's process limit, RLIMIT_NPROC's until set.
   * Precondition: resource < RLIM_NLIMITS.
   */
  get(resource: number, nproc: bigint): Rlimit {
    return this.set.get(resource) ?? (resource === RLIMIT_NPROC ? { cur: nproc, max: nproc } : initial(resource));
  }

  /**
   * Sets the limit on `resource` (cf. do_prlimit): cur above max is EINVAL;
   * raising the hard limit needs CAP_SYS_RESOURCE (EPERM), as does RLIMIT_NOFILE
   * past nr_open.
   * @throws ErrnoError EINVAL, EPERM
   */
  put(resource: number, next: Rlimit, o: { nproc: bigint; privileged: boolean }): void {
    if (next.cur > next.max) fail("EINVAL", "prlimit: rlim_cur above rlim_max");
    if (resource === RLIMIT_NOFILE && next.max > NR_OPEN) fail("EPERM", "prlimit: RLIMIT_NOFILE above nr_open");
    if (next.max > this.get(resource, o.nproc).max && !o.privileged) fail("EPERM", "prlimit: raising a hard limit needs CAP_SYS_RESOURCE");
    this.set.set(resource, next);
  }
}
