/**
 * /proc and /sys as the guest sees them. Ground truth: the same program run
 * natively where the content is the host's (or a fact that holds on any
 * Linux, such as "cmdline is argv"), faultline's own state where the file
 * describes it (the guest's argv and auxv, its --cpus CPUs, the --mem limit).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, buildC, expectSameRun, firstDifference, runFaultline, runNative, scratch, type RunResult, type Variant } from "./support/native.js";

const BUSYBOX = "/bin/busybox";
const PROCSELF = path.join(REPO, "test", "programs", "procself.c");

/** stdout as text, after checking the run succeeded. */
function out(r: RunResult, what: string): string {
  expect(r.status, `${what}: exit status ${r.status}, stderr ${r.stderr}`).toBe(0);
  return r.stdout.toString("latin1");
}

describe("/proc/self as a program reads it (test/programs/procself.c), native vs faultline", () => {
  for (const variant of ["gcc-static", "musl-static", "gcc-dynamic"] as Variant[]) {
    it(variant, () => {
      const prog = buildC(PROCSELF, variant);
      expectSameRun(runFaultline([prog, "one", "two words"]), runNative([prog, "one", "two words"]), `procself ${variant}`);
    });
  }
});

describe("files whose content is faultline's: the guest's own state", () => {
  it("cmdline is the guest's argv and environ its environment, byte for byte", () => {
    const argv = [BUSYBOX, "cat", "/proc/self/cmdline", "/proc/self/environ"];
    const env = { PATH: "/usr/bin:/bin", LC_ALL: "C", TZ: "UTC", X: "a b\tc" };
    const want = Buffer.from(argv.join("\0") + "\0" + Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\0") + "\0");
    const got = runFaultline(argv, { env });
    expect(got.status, got.stderr).toBe(0);
    if (!got.stdout.equals(want)) expect.fail(`cmdline+environ: ${firstDifference(got.stdout, want)}`);
    expectSameRun(got, runNative(argv, { env }), "busybox cat cmdline environ");
  });

  it("the same CPU count everywhere a program counts them: affinity, /sys online and possible, cpuinfo, sysconf; by default the host's", () => {
    const counts = (run: (argv: string[]) => RunResult) => ({
      nproc: out(run(["/usr/bin/nproc"]), "nproc").trim(), // sched_getaffinity
      online: out(run(["/usr/bin/getconf", "_NPROCESSORS_ONLN"]), "getconf ONLN").trim(), // /sys/devices/system/cpu/online
      conf: out(run(["/usr/bin/getconf", "_NPROCESSORS_CONF"]), "getconf CONF").trim(), // the cpuN entries of /sys/devices/system/cpu
      cpuinfo: out(run([BUSYBOX, "grep", "-c", "^processor", "/proc/cpuinfo"]), "grep cpuinfo").trim(),
    });
    const native = counts((a) => runNative(a));
    // Natively these four agree on the host's count: the commands do read what the names say.
    expect(new Set(Object.values(native)).size, `native counts ${JSON.stringify(native)}`).toBe(1);
    const got = counts((a) => runFaultline(a));
    expect(got, "faultline's counts without --cpus: the host's, as native").toEqual(native);
    for (const cpus of ["1", "3", "64", "65"]) {
      const flags = ["--timeout", "60", "--cpus", cpus];
      const n = counts((a) => runFaultline(a, {}, flags));
      expect(n, `--cpus ${cpus}: every count`).toEqual({ nproc: cpus, online: cpus, conf: cpus, cpuinfo: cpus });
      for (const f of ["online", "possible", "present"]) {
        const r = runFaultline([BUSYBOX, "cat", `/sys/devices/system/cpu/${f}`], {}, flags);
        const want = cpus === "1" ? "0\n" : `0-${Number(cpus) - 1}\n`;
        expect(out(r, f), `--cpus ${cpus}: /sys/devices/system/cpu/${f}, the whole file`).toBe(want);
      }
    }
  });

  it("--cpus outside 1..1024: a usage error, exit 2, one line", () => {
    for (const bad of ["0", "1025", "two", "-1"]) {
      const r = runFaultline(["/usr/bin/nproc"], {}, ["--cpus", bad]);
      expect(r.status, `--cpus ${bad}: status`).toBe(2);
      expect(r.stderr.trim().split("\n"), `--cpus ${bad}: stderr`).toEqual([`faultline: --cpus: "${bad}" is not a whole number from 1 to 1024`]);
    }
  });

  it("python3's os.cpu_count and sysconf see the same CPUs as nproc", () => {
    const py = "/usr/bin/python3";
    if (!fs.existsSync(py)) return expect.fail(`${py} is not installed`);
    const code = "import os; print(os.cpu_count(), os.sysconf('SC_NPROCESSORS_ONLN'), len(os.sched_getaffinity(0)))";
    const nproc = out(runFaultline(["/usr/bin/nproc"]), "nproc").trim();
    expect(out(runFaultline([py, "-c", code]), "python3").trim()).toBe(`${nproc} ${nproc} ${nproc}`);
  });

  it("meminfo's MemTotal is the --mem limit, and free(1) reports it", () => {
    const meminfo = out(runFaultline([BUSYBOX, "cat", "/proc/meminfo"], {}, ["--timeout", "60", "--mem", "64M"]), "meminfo");
    expect(meminfo.split("\n")[0]).toBe("MemTotal:          65536 kB");
    const free = out(runFaultline(["/usr/bin/free", "-k"], {}, ["--timeout", "60", "--mem", "64M"]), "free").split("\n")[1];
    expect(free.split(/\s+/).slice(0, 2), `free -k's Mem: line ${free}`).toEqual(["Mem:", "65536"]);
  });

  it("what faultline does not provide is ENOENT: a pid no guest process has, host processes, Node's descriptors, unknown files", () => {
    const dir = scratch();
    for (const name of ["/proc/2/status", `/proc/${process.pid}/status`, "/proc/self/fd/9", "/proc/self/oom_score", "/proc/kcore", "/sys/kernel/notes"]) {
      const r = runFaultline([BUSYBOX, "cat", name], { cwd: dir });
      expect(r.status, `${name}: ${r.stdout}`).toBe(1);
      expect(r.stderr, name).toContain("No such file or directory");
    }
  });
});

describe("files whose content is the host's, read to their end, native vs faultline", () => {
  // Files whose bytes do not change between two runs.
  for (const name of ["/proc/version", "/proc/sys/kernel/osrelease", "/proc/sys/kernel/ostype", "/proc/sys/kernel/pid_max",
    "/proc/sys/vm/overcommit_memory", "/proc/sys/fs/nr_open", "/proc/self/mounts", "/proc/mounts", "/sys/devices/system/cpu/kernel_max"]) {
    it(name, () => {
      expectSameRun(runFaultline([BUSYBOX, "cat", name]), runNative([BUSYBOX, "cat", name]), name);
    });
  }

  it("/proc/self/mountinfo (mount ids and all)", () => {
    expectSameRun(runFaultline([BUSYBOX, "cat", "/proc/self/mountinfo"]), runNative([BUSYBOX, "cat", "/proc/self/mountinfo"]), "mountinfo");
  });

  it("/proc/cpuinfo: the host's own by default; with --cpus 1 the host's first processor, its topology lines saying one CPU", () => {
    const shown = (t: string) => t.split("\n").filter((l) => !l.startsWith("cpu MHz")).join("\n");
    const native = out(runNative([BUSYBOX, "cat", "/proc/cpuinfo"]), "native cpuinfo");
    expect(shown(out(runFaultline([BUSYBOX, "cat", "/proc/cpuinfo"]), "faultline cpuinfo"))).toBe(shown(native));
    const want = (native.split("\n\n")[0] + "\n\n").replace(/^(siblings|cpu cores)(\s*): \d+$/gm, "$1$2: 1");
    const got = out(runFaultline([BUSYBOX, "cat", "/proc/cpuinfo"], {}, ["--timeout", "60", "--cpus", "1"]), "faultline --cpus 1 cpuinfo");
    expect(shown(got)).toBe(shown(want));
  });

  it("/proc/meminfo without --mem: the host's lines in the host's order and format; MemTotal the host's", () => {
    const native = out(runNative([BUSYBOX, "cat", "/proc/meminfo"]), "native meminfo").split("\n");
    const got = out(runFaultline([BUSYBOX, "cat", "/proc/meminfo"]), "faultline meminfo").split("\n");
    const shape = (l: string) => l.replace(/\d+/g, "N").replace(/ +N/, " N");
    expect(got.map((l) => l.split(":")[0])).toEqual(native.map((l) => l.split(":")[0]));
    expect(got.map(shape)).toEqual(native.map(shape));
    expect(got[0]).toBe(native[0]);
  });

  it("/proc/stat, /proc/uptime, /proc/loadavg: the host's lines and number formats (values move)", () => {
    const shape = (t: string) => t.split("\n").filter((l) => !/^cpu\d+ /.test(l)).map((l) => l.replace(/\d+/g, "N"));
    for (const name of ["/proc/stat", "/proc/uptime", "/proc/loadavg"]) {
      const native = out(runNative([BUSYBOX, "cat", name]), name), got = out(runFaultline([BUSYBOX, "cat", name]), name);
      expect(shape(got), name).toEqual(shape(native));
    }
    const cpuLines = (r: RunResult) => out(r, "stat").split("\n").filter((l) => /^cpu\d+ /.test(l)).map((l) => l.split(" ")[0]);
    const host = cpuLines(runNative([BUSYBOX, "cat", "/proc/stat"]));
    expect(cpuLines(runFaultline([BUSYBOX, "cat", "/proc/stat"])), "/proc/stat per-CPU lines without --cpus: the host's").toEqual(host);
    expect(cpuLines(runFaultline([BUSYBOX, "cat", "/proc/stat"], {}, ["--timeout", "60", "--cpus", "1"])), "/proc/stat per-CPU lines, --cpus 1").toEqual(["cpu0"]);
  });

  it("the mounts seen from --root: only those inside it", () => {
    const root = scratch();
    fs.mkdirSync(path.join(root, "bin"));
    fs.copyFileSync(BUSYBOX, path.join(root, "bin", "busybox"));
    fs.chmodSync(path.join(root, "bin", "busybox"), 0o755);
    const mounts = fs.readFileSync("/proc/self/mounts", "utf8").split("\n").map((l) => l.split(" ")[1]);
    const inside = mounts.filter((m) => m && (m === root || m.startsWith(root + "/")));
    const r = runFaultline(["/bin/busybox", "cat", "/proc/self/mounts"], {}, ["--timeout", "60", "--root", root]);
    expect(out(r, "cat under --root").split("\n").filter((l) => l).length, `mounts inside ${root}`).toBe(inside.length);
  });
});

describe("commands that read these files, native vs faultline", () => {
  it("head -n 5 /proc/cpuinfo (the identification lines of processor 0)", () => {
    const argv = [BUSYBOX, "head", "-n", "5", "/proc/cpuinfo"];
    expectSameRun(runFaultline(argv), runNative(argv), "head cpuinfo");
  });

  it("uptime(1) prints its line from /proc/uptime and /proc/loadavg", () => {
    const shape = /^ \d\d:\d\d:\d\d up .*load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d\n$/;
    for (const r of [runNative(["/usr/bin/uptime"]), runFaultline(["/usr/bin/uptime"])]) expect(out(r, "uptime")).toMatch(shape);
  });

  it("access(2) (test -e/-r/-w/-x) answers as natively", () => {
    for (const name of ["/proc/self/status", "/proc/self/fd/1", "/proc/self/fd/77", "/proc/self/no-such", "/proc/self/fd",
      "/sys/devices/system/cpu/online", "/proc/sys/kernel/osrelease", "/proc/cpuinfo"]) {
      for (const op of ["-e", "-r", "-w", "-x"]) {
        const argv = [BUSYBOX, "test", op, name];
        expectSameRun(runFaultline(argv), runNative(argv), `test ${op} ${name}`);
      }
    }
  });
});

describe("/proc/self/fd names the guest's files", () => {
  it("paths through links and dot-dot: /proc/self/cwd/., /proc/self/cwd/../, /proc/../etc, /sys/../proc", () => {
    const dir = scratch();
    fs.mkdirSync(path.join(dir, "sub"));
    fs.writeFileSync(path.join(dir, "data"), "in the parent\n");
    const cases = [[BUSYBOX, "cat", "/proc/self/cwd/./../data"], [BUSYBOX, "cat", "/proc/../etc/hostname"],
      [BUSYBOX, "cat", "/sys/../proc/self/comm"], [BUSYBOX, "cat", "/proc/self/../self/comm"], [BUSYBOX, "test", "-d", "/proc/self/cwd/."],
      [BUSYBOX, "readlink", "/proc/self/cwd/."], [BUSYBOX, "readlink", "/proc/self/cwd"], [BUSYBOX, "cat", "/proc/self/fd/0/x"],
      [BUSYBOX, "cat", "/proc/sys/kernel/random/../../../self/comm"], [BUSYBOX, "cat", "/proc/sys/kernel/random/../osrelease"]];
    for (const argv of cases) expectSameRun(runFaultline(argv, { cwd: path.join(dir, "sub") }), runNative(argv, { cwd: path.join(dir, "sub") }), argv.join(" "));
  });

  // (A listing of fd/ is in procself.c, below fd 10: the test runner leaks descriptors to native children.)
  it("fd 0 from a file: readlink and cat of /proc/self/fd/0 and /dev/stdin", () => {
    const dir = scratch();
    fs.writeFileSync(path.join(dir, "data"), "some bytes\n");
    for (const argv of [[BUSYBOX, "readlink", "/proc/self/fd/0"], [BUSYBOX, "cat", "/proc/self/fd/0"], [BUSYBOX, "cat", "/dev/stdin"]]) {
      const o = { cwd: dir, stdin: { file: path.join(dir, "data") } };
      expectSameRun(runFaultline(argv, o), runNative(argv, o), argv.join(" "));
    }
  });
});
