/**
 * POSIX threads as programs use them, native vs faultline (issue 11):
 * test/programs/threads.c, one `threads CASE` run per test, built with
 * -pthread by gcc (static and dynamic) and musl (test/support/cases.ts).
 * Mutexes (and their types), condition variables, barriers, rwlocks,
 * __thread variables, cancellation, detached threads, the ways a process
 * ends while threads run (exit from a thread, exit or return from main,
 * pthread_exit in main, a fault in a thread), atomics and spinlocks that
 * need preemption, thread ids, thread-directed and process-directed
 * signals, many threads created and joined, semaphores, pthread_once, keys
 * with destructors, thread stacks, sched_yield and the CPU count, fork and
 * exec from a thread, and the clone flag combinations Linux refuses. Every
 * case prints from the main thread after its joins: counts and relations,
 * never ids or times, so the output does not depend on interleaving.
 */
import * as path from "node:path";
import { REPO } from "./support/native.js";
import { describeCases } from "./support/cases.js";

describeCases(path.join(REPO, "test", "programs", "threads.c"), [
  { name: "mutex", why: "4 threads x 100000 increments under a pthread_mutex: 400000" },
  { name: "mutex_types", why: "trylock EBUSY across threads; errorcheck EDEADLK/EPERM; recursive lock 5 deep" },
  { name: "condvar", why: "bounded queue, 2 producers and 2 consumers: every item consumed once, sum exact" },
  { name: "broadcast", why: "one pthread_cond_broadcast releases all 4 waiters" },
  { name: "cond_timedwait", why: "pthread_cond_timedwait ETIMEDOUT on CLOCK_MONOTONIC and CLOCK_REALTIME, deadline in the past, mutex re-held" },
  { name: "barrier", why: "pthread_barrier, 4 threads x 200 rounds: one serial thread per round, no stale reads" },
  { name: "rwlock", why: "2 writers, 4 readers: no torn pair; readers share, a writer excludes (tryrdlock/trywrlock)" },
  { name: "tls", why: "__thread initialised, zeroed and 64-byte aligned in every thread; one copy each; main's untouched" },
  { name: "cancel", why: "pthread_cancel in read, pthread_cond_wait and sleep: PTHREAD_CANCELED, cleanup handlers; deferred while disabled" },
  { name: "detached", why: "32 detached threads (attr and pthread_detach) signal completion through a semaphore" },
  { name: "exit_while_running", why: "a thread calls exit(3) while others spin, sleep, wait and read: status 3, atexit in that thread", status: 3 },
  { name: "main_exit_running", why: "main calls exit(5) while 5 threads run: status 5", status: 5 },
  { name: "main_returns", why: "main returns while 5 threads run: status 0" },
  { name: "main_pthread_exit", why: "main calls pthread_exit; the other thread prints after it, the last thread's end is exit(0)" },
  { name: "thread_segv", why: "a NULL write in a thread kills the whole process: 139", status: 139 },
  { name: "atomics", why: "4 threads: __atomic_fetch_add 4000000, CAS loop, cmpxchg16b, an xchg spinlock (progress needs preemption), pthread_spin_lock" },
  { name: "ids", why: "getpid and getppid the same in all threads; gettid distinct, the pid only in main; pthread_self" },
  { name: "tgkill", why: "pthread_kill, tgkill and tkill run the handler in the named thread; wrong tgid ESRCH, bad signal EINVAL" },
  { name: "sigmask", why: "a thread-directed signal the thread blocks stays pending in it (not in main) until it unblocks" },
  { name: "sigroute", why: "kill(getpid()) goes to the one thread that does not block it; pending for the process until a thread unblocks" },
  { name: "join_many", why: "200 threads created and joined in turn, then 32 alive at once joined in reverse" },
  { name: "sem", why: "sem_post/sem_wait ping-pong 10000 times in step; trywait and timedwait EAGAIN/ETIMEDOUT" },
  { name: "once", why: "pthread_once from 8 threads runs the routine once and every caller waits for it" },
  { name: "key", why: "pthread_key_create: per-thread values, destructors for the non-NULL ones at thread exit" },
  { name: "stack", why: "pthread_getattr_np finds main's and a thread's stack; 1 MiB stacksize; pthread_attr_setstack" },
  { name: "yield", why: "sched_yield in 4 threads; affinity count, _SC_NPROCESSORS_ONLN and get_nprocs agree; sched_getcpu in the mask" },
  { name: "fork_in_thread", why: "a thread forks: the child is one thread whose tid is its pid; main forks while threads spin" },
  { name: "exec_in_thread", why: "a non-main thread execs /bin/sh while others run: the pid stays" },
  { name: "clone_einval", why: "clone and clone3 flag combinations Linux refuses: EINVAL" },
], { cflags: ["-pthread"] });
