/**
 * The timers of a thread group (cf. signal_struct's real_timer and
 * posix_timers). Until alarm/setitimer/timer_create land, a group has none
 * armed: nothing is ever due.
 */
import type { SigInfo } from "./siginfo.js";

export class ProcessTimers {
  /** @param send queues a timer's signal on the group (returns whether it was queued) */
  constructor(readonly send: (info: SigInfo) => boolean) {}

  /** Monotonic ns by which expire() must next run; undefined when no timer is armed. */
  nextDeadlineNs(): bigint | undefined {
    return undefined;
  }

  /** Fires every timer due at `nowNs` (none is armed). */
  expire(_nowNs: bigint): void {}

  /** What execve does to timers (cf. exit_itimers): POSIX timers deleted, ITIMER_* kept. */
  onExec(): void {}
}
