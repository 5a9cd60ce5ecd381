/**
 * Parking a call (cf. wait_event with -ERESTARTNOINTR): when a guest call
 * must wait and another process could run, the call throws ParkError; the
 * syscall hook rewinds the guest to the syscall instruction and stops the
 * engine, and the scheduler runs others, retrying the parked call later.
 * A call parks only before it has changed anything, so running it again
 * from the start is exact.
 */
import { FaultlineError } from "../lib/errors.js";
import type { HostWait } from "./syscalls/poll.js";

export class ParkError extends FaultlineError {
  /**
   * @param host the host descriptors whose readiness may end the wait
   * @param untilNs the call's own deadline (monotonic ns), kept for its re-run
   * @param wake whether what the call waits for may have come (cheap, no side effects): when given, the
   *   scheduler re-runs the call only once it holds, or once a signal, the deadline or --timeout may end
   *   the wait (a futex waiter is not run again each turn); without it, the call is re-run every turn
   */
  constructor(readonly host: HostWait, readonly untilNs?: bigint, readonly wake?: () => boolean) {
    super("PARK", "the call waits; the scheduler runs others");
  }
}
