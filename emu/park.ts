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
   */
  constructor(readonly host: HostWait, readonly untilNs?: bigint) {
    super("PARK", "the call waits; the scheduler runs others");
  }
}
