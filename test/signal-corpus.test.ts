/**
 * Signals in real programs, native vs faultline (issue 9): shell traps
 * (bash, busybox sh), Python's signal module, perl's %SIG, and SIGPIPE at
 * the end of a pipeline: `faultline run /bin/busybox yes | head -1` must end
 * 141 as natively (bash -o pipefail shows yes's own status), and with
 * SIGPIPE ignored by the shell, as natively too. Same argv, environment and
 * stdin on both sides; stdout and exit status must be identical. Cases
 * marked [needs alarm] use alarm(2), which the timers work brings.
 */
import { describe, expect, it } from "vitest";
import { LAUNCHER, expectSameRun, runNative, runFaultline } from "./support/native.js";

const PY = "/usr/bin/python3.11";

interface CorpusCase {
  name: string;
  argv: string[];
  /** The status the native run must have (default 0). */
  status?: number;
  needs?: string;
}

const PY_HANDLER = `
import os, signal
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print("handled", got)
signal.raise_signal(signal.SIGUSR1)
print("raise_signal", got)
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
os.kill(os.getpid(), signal.SIGUSR1)
print("ignored, alive", signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN)
`;

const PY_MASK = `
import os, signal
got = []
signal.signal(signal.SIGUSR2, lambda s, f: got.append(s))
old = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
print("old mask", sorted(int(s) for s in old))
os.kill(os.getpid(), signal.SIGUSR2)
print("blocked", got, sorted(int(s) for s in signal.sigpending()))
now = signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR2])
print("mask while blocked", sorted(int(s) for s in now))
print("unblocked", got, sorted(int(s) for s in signal.sigpending()))
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
os.kill(os.getpid(), signal.SIGUSR1)
print("sigwait", int(signal.sigwait([signal.SIGUSR1])))
`;

const cases: CorpusCase[] = [
  { name: "bash trap USR1 + kill -USR1 $$", argv: ["/bin/bash", "-c", 'trap "echo got" USR1; kill -USR1 $$; echo after'] },
  { name: "bash trap with SIGTERM ignored, then kill -TERM $$", argv: ["/bin/bash", "-c", 'trap "" TERM; kill -TERM $$; echo alive; trap - TERM; kill -TERM $$; echo not reached'], status: 143 },
  { name: "bash kill -USR2 $$ with no trap: 140", argv: ["/bin/bash", "-c", "echo before; kill -USR2 $$; echo not reached"], status: 140 },
  { name: "busybox sh trap EXIT", argv: ["/bin/busybox", "sh", "-c", 'trap "echo t" EXIT; echo x'] },
  { name: "busybox sh trap USR1 + kill -USR1 $$", argv: ["/bin/busybox", "sh", "-c", 'trap "echo got" USR1; kill -USR1 $$; echo after'] },
  { name: "python3 signal.signal + os.kill + raise_signal + SIG_IGN", argv: [PY, "-I", "-c", PY_HANDLER] },
  { name: "python3 signal.pthread_sigmask, sigpending, sigwait", argv: [PY, "-I", "-c", PY_MASK] },
  { name: "python3 os.kill(self, SIGTERM): 143", argv: [PY, "-I", "-c", "import os, signal\nprint('x', flush=True)\nos.kill(os.getpid(), signal.SIGTERM)"], status: 143 },
  { name: "python3 os.abort(): 134", argv: [PY, "-I", "-c", "import os\nprint('x', flush=True)\nos.abort()"], status: 134 },
  { name: "perl $SIG{USR1} + kill USR1 => $$", argv: ["/usr/bin/perl", "-e", '$SIG{USR1} = sub { print "got $_[0]\\n" }; kill USR1 => $$; print "after\\n"; $SIG{USR1} = "IGNORE"; kill USR1 => $$; print "ignored\\n"'] },
  { name: "perl kill 0 => $$ and signal 65", argv: ["/usr/bin/perl", "-e", 'print kill(0, $$), "\\n"; print((kill(65, $$) ? "sent" : "refused: $!"), "\\n")'] },
  { name: "python3 signal.alarm", argv: [PY, "-I", "-c", "import signal, time\nsignal.signal(signal.SIGALRM, lambda s, f: print('alarm', s))\nsignal.alarm(1)\ntime.sleep(3)\nprint('slept')"], needs: "alarm" },
  { name: "perl alarm + $SIG{ALRM}", argv: ["/usr/bin/perl", "-e", '$SIG{ALRM} = sub { print "alarm\\n"; exit 3 }; alarm 1; sleep 5; print "not reached\\n"'], status: 3, needs: "alarm" },
];

describe("signals in shells, python and perl, native vs faultline", () => {
  for (const c of cases) {
    it(`${c.needs ? `[needs ${c.needs}] ` : ""}${c.name}`, () => {
      const want = runNative(c.argv);
      expect(want.status, `native exit status: got ${want.status}, want ${c.status ?? 0}\n${want.stderr}`).toBe(c.status ?? 0);
      expectSameRun(runFaultline(c.argv), want, c.name);
    });
  }
});

/**
 * `PROG | head -1` under bash -o pipefail, PROG native or through the
 * faultline command (the launcher, which hands on the ignored signals it
 * inherited; FAULTLINE_NODE names this Node); `prefix` is shell run first.
 */
function pipeline(who: "native" | "faultline", prefix: string): string[] {
  const prog = who === "native" ? "/bin/busybox yes" : `FAULTLINE_NODE='${process.execPath}' '${LAUNCHER}' run --timeout 30 /bin/busybox yes`;
  return ["/bin/bash", "-o", "pipefail", "-c", `${prefix}${prog} | head -1`];
}

describe("SIGPIPE at the end of a pipeline, native vs faultline", () => {
  const rows = [
    { name: "busybox yes | head -1: yes is killed by SIGPIPE (141)", prefix: "", status: 141 },
    { name: "trap '' PIPE; busybox yes | head -1: yes gets EPIPE and exits as natively", prefix: "trap '' PIPE; ", status: 1 },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const want = runNative(pipeline("native", r.prefix));
      expect(want.status, `native pipeline status: got ${want.status}, want ${r.status}`).toBe(r.status);
      expectSameRun(runNative(pipeline("faultline", r.prefix)), want, r.name);
    });
  }
});

describe("a disposition ignored by the parent is inherited (as execve keeps SIG_IGN), native vs faultline", () => {
  const inner = "/bin/busybox sh -c 'kill -USR1 $$; echo alive after USR1'";
  const run = (who: "native" | "faultline") => ["/bin/bash", "-c",
    `trap '' USR1; ${who === "native" ? "" : `FAULTLINE_NODE='${process.execPath}' '${LAUNCHER}' run --timeout 30 `}${inner}`];
  it("trap '' USR1 in bash, then busybox sh kills itself with SIGUSR1: still alive", () => {
    const want = runNative(run("native"));
    expect(want.status, `native status: got ${want.status}, want 0`).toBe(0);
    expectSameRun(runNative(run("faultline")), want, "inherited SIG_IGN of SIGUSR1");
  });
});
