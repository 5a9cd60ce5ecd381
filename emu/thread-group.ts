/**
 * A thread group: the process that CLONE_THREAD tasks share (cf. the
 * signal_struct and the thread_group list of Linux's task_struct, and
 * gVisor's ThreadGroup). Its tasks share the address space, the files, the
 * fs context and the dispositions (clone requires CLONE_VM | CLONE_SIGHAND
 * for CLONE_THREAD), the shared pending signals, timers and job-control
 * state (SignalStruct), and the resource limits; each keeps its own engine,
 * mask, pending set, altstack and probe state.
 *
 *   leader (tgid = its tid) ── threads: every task of the group not yet ended
 *     sys_exit of a task:     it leaves `threads`; the last one ends the group
 *     exit_group / a fatal signal: every other task ends at once (cf. zap_other_threads)
 *     the group ends:          the leader becomes the zombie its parent reaps,
 *                              with the group's status
 *
 * A leader that ends before the others stays in the process table (its tid
 * is the group's id) until the last thread ends (cf. delay_group_leader);
 * non-leaders are released as they end (cf. release_task of a thread,
 * which no one waits for).
 */
import type { Process } from "./process.js";

export class ThreadGroup {
  /** The tasks of the group that have not ended, the leader first while it lives. Invariant: non-empty until the group ends. */
  readonly threads = new Set<Process>();
  /** The code the leader passed to exit(2) when it ended before the group (cf. the leader's exit_code), reported if no exit_group follows. */
  leaderCode = 0;

  /**
   * @param leader the group's first task; its tid is the group's id (tgid). execve by another
   *   thread makes that thread the leader (cf. de_thread), hence not readonly.
   */
  constructor(public leader: Process) {
    this.threads.add(leader);
  }

  /** The group's id: its leader's tid (cf. task_tgid_nr). */
  get tgid(): number {
    return this.leader.pid;
  }
}
