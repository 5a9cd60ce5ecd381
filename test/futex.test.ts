/**
 * futex(2) called directly, native vs faultline (issue 11):
 * test/programs/futex.c, one `futex CASE` run per test, built with -pthread
 * by gcc (static and dynamic) and musl (test/support/cases.ts). Every
 * operation glibc and musl use (WAIT, WAKE, WAIT_BITSET, WAKE_BITSET,
 * REQUEUE, CMP_REQUEUE, WAKE_OP), private and shared (across threads,
 * fork, two mappings of one file), relative and absolute timeouts on both
 * clocks, EAGAIN, EINTR and the restart rules, robust mutexes whose owner
 * dies (the kernel's robust-list walk), the clear-and-wake of
 * CLONE_CHILD_CLEARTID, and the errno of bad operations and addresses.
 * Wake counts are exact: before a wake the program asks the kernel how many
 * wait (a CMP_REQUEUE of the word onto itself; the `count` case checks it).
 * No PI futexes: nothing in the corpus needs them.
 */
import * as path from "node:path";
import { REPO } from "./support/native.js";
import { describeCases } from "./support/cases.js";

describeCases(path.join(REPO, "test", "programs", "futex.c"), [
  { name: "count", why: "CMP_REQUEUE onto the same word counts its waiters and moves nobody (what the other cases rely on)" },
  { name: "wait_eagain", why: "WAIT, WAIT_PRIVATE, WAIT_BITSET with a differing value: EAGAIN (compared as u32)" },
  { name: "wait_timeout_rel", why: "WAIT with a 20 ms relative timeout: ETIMEDOUT after at least 20 ms; zero timeout; bad timespecs EINVAL" },
  { name: "wait_bitset_abs", why: "WAIT_BITSET absolute deadlines on CLOCK_MONOTONIC and with FUTEX_CLOCK_REALTIME: ETIMEDOUT; past deadlines" },
  { name: "wake_none", why: "WAKE with nobody waiting: 0, whatever the count; the word untouched" },
  { name: "wait_wake", why: "a thread waits, main wakes: 1, the wait returns 0; WAKE 0 wakes one; a waiter with a timeout" },
  { name: "wake_n", why: "5 waiters: WAKE 2 wakes 2, WAKE INT_MAX the other 3" },
  { name: "bitset", why: "WAKE_BITSET wakes the waiters whose bitset intersects: disjoint 0, matching 1; bitset 0 EINVAL; plain WAIT is all ones" },
  { name: "requeue", why: "3 waiters on A: REQUEUE wake 1, requeue 2 to B returns 3; A has 0, B 2; WAKE B wakes 2" },
  { name: "cmp_requeue", why: "CMP_REQUEUE: EAGAIN when *A != val3 (nobody moves); negative counts EINVAL; wake 1 + requeue 1" },
  { name: "wake_op", why: "WAKE_OP: ADD/SET/OR/ANDN/XOR (and OPARG_SHIFT) on B, the 6 comparisons of its old value decide B's wake; bad op/cmp ENOSYS" },
  { name: "einval", why: "bad op ENOSYS; bitset 0 EINVAL; misaligned EINVAL; NULL, unmapped, PROT_NONE, kernel addresses EFAULT; read-only anon page" },
  { name: "private_vs_shared", why: "a private wake does not reach a shared waiter, nor a shared wake a private one" },
  { name: "shared_fork", why: "shared futexes across fork on MAP_SHARED anon, across two mappings of one file, and a child's own mapping" },
  { name: "eintr", why: "a handler without SA_RESTART: EINTR; SA_RESTART restarts an untimed wait but not a timed one; an ignored signal does nothing" },
  { name: "robust", why: "a robust mutex's owner thread (or child process, exiting or SIGKILLed) dies: EOWNERDEAD, FUTEX_OWNER_DIED, consistent / ENOTRECOVERABLE" },
  { name: "clear_child_tid", why: "raw clone threads: PARENT_SETTID, CHILD_SETTID, CHILD_CLEARTID's shared wake at exit (not private), set_tid_address" },
], { cflags: ["-pthread"] });
