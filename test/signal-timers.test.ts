/**
 * The timers of issue 9 (alarm, setitimer/getitimer, the POSIX timer_*
 * calls) answer and fire as Linux's: test/programs/sigtimers.c prints, part
 * by part, counts of signals, their siginfo, values rounded as the kernel
 * rounds them, timer ids and every bad input's errno, never a duration; the
 * native run is the ground truth, for each libc build. Then the same
 * through real interpreters: perl's alarm and $SIG{ALRM}, python's
 * signal.alarm and signal.setitimer.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "vitest";
import { REPO, buildC, expectSameRun, runFaultline, runNative, type Variant } from "./support/native.js";

const SRC = path.join(REPO, "test", "programs", "sigtimers.c");
const VARIANTS: Variant[] = ["gcc-static", "musl-static", "gcc-dynamic"];

/** The program's parts and what each covers. */
const PARTS: ReadonlyArray<[part: string, covers: string]> = [
  ["alarm", "alarm's rounded remaining seconds; SIGALRM (SI_KERNEL) interrupting a pipe read and pause() with EINTR; SA_RESTART; alarm(0) cancels"],
  ["itimer", "ITIMER_REAL firing 5 times; getitimer and setitimer's old values; a NULL new value; alarm and ITIMER_REAL are one timer"],
  ["cpu", "ITIMER_VIRTUAL and ITIMER_PROF while the guest spins; a CLOCK_PROCESS_CPUTIME_ID timer"],
  ["posix", "timer_create on MONOTONIC, REALTIME, BOOTTIME; relative and TIMER_ABSTIME; SIGEV_NONE; SIGEV_THREAD_ID; NULL sigevent; si_code/si_value/si_timerid; ids; timer_delete"],
  ["overrun", "si_overrun and timer_getoverrun after the signal was blocked for several periods; an ignored SIGALRM; SIGALRM's default action (142)"],
  ["stale", "a timer's signal queued when the timer is set again or deleted is dropped at delivery and by sigtimedwait (Linux 6.13+); an ignored interval timer signals once a handler replaces SIG_IGN; one flushed by SIG_IGN does not stop the timer"],
  ["errors", "every bad clock, sigevent, timespec, timeval, id and pointer: EINVAL, EOPNOTSUPP, EFAULT, and the ids failures use up"],
  ["clocks", "clock_getres of every id (the coarse clocks' tick, the ALARM clocks as the host has them) and clock_gettime's errno; REALTIME and MONOTONIC never go back; time() is the tick's, as the file system's stamps are"],
];

describe("timers, native vs faultline", () => {
  for (const [part, covers] of PARTS) {
    for (const variant of VARIANTS) {
      it(`${part} (${variant}): ${covers}`, () => {
        const prog = buildC(SRC, variant);
        expectSameRun(runFaultline([prog, part]), runNative([prog, part]), `sigtimers ${part} (${variant})`);
      });
    }
  }
});

/** Interpreters' own alarm and timer calls: [label, argv]. */
const SCRIPTS: ReadonlyArray<[string, string[]]> = [
  ["perl alarm ends a sleep through $SIG{ALRM}", ["/usr/bin/perl", "-e", '$SIG{ALRM}=sub{print "alarm\\n"; exit 3}; alarm 1; sleep 10']],
  ["perl alarm with the default action kills (142)", ["/usr/bin/perl", "-e", '$|=1; print "armed\\n"; alarm 1; sleep 10; print "not reached\\n"']],
  ["python signal.alarm", ["/usr/bin/python3", "-c",
    "import signal, time\n" +
    "def h(s, f):\n    print('alarm', s == signal.SIGALRM); raise SystemExit(3)\n" +
    "signal.signal(signal.SIGALRM, h)\nprint(signal.alarm(1), signal.alarm(1))\ntime.sleep(10)\n"]],
  ["python signal.setitimer firing 3 times", ["/usr/bin/python3", "-c",
    "import signal\nn = 0\n" +
    "def h(s, f):\n    global n\n    if n < 3: n += 1\n    if n == 3: signal.setitimer(signal.ITIMER_REAL, 0)\n" +
    "signal.signal(signal.SIGALRM, h)\nsignal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)\n" +
    "while n < 3: signal.pause()\n" +
    "print('fired', n, signal.getitimer(signal.ITIMER_REAL))\n"]],
];

describe("interpreters' alarm and timers, native vs faultline", () => {
  for (const [label, argv] of SCRIPTS) {
    it.skipIf(!fs.existsSync(argv[0]))(label, () => {
      expectSameRun(runFaultline(argv), runNative(argv), label);
    });
  }
});
