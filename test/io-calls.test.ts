/**
 * File I/O at the system-call boundary, each case the same program run
 * natively and under faultline (test/programs/iocalls.c prints one line per
 * call: its result or errno): bounded reads and writes with huge lengths
 * and bad buffers, short counts when a later page faults, 64-bit offsets and
 * the host file system's size limit (EFBIG), fcntl edge cases, sleeps,
 * poll/select/epoll, copy_file_range, devices and FIFOs. Then what must
 * never block the host: a FIFO with no writer, an empty stdin, a sleep, all
 * ended by --timeout with 137 and its one line.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildC, CLI, expectSameRun, REPO, runFaultline, runNative, scratch, type RunOptions } from "./support/native.js";

const bin = buildC(path.join(REPO, "test", "programs", "iocalls.c"), "gcc-static");
const dir = scratch("faultline-io-");

/** A copy of `file` in the scratch directory, which any user may read and search. */
function shared(file: string): string {
  fs.chmodSync(dir, 0o755);
  const to = path.join(dir, path.basename(file));
  fs.copyFileSync(file, to);
  fs.chmodSync(to, 0o755);
  return to;
}

/** Makes a UNIX socket file at `file` (a listening socket whose process has exited). */
function socketFile(file: string): void {
  const r = spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(file)}, () => process.exit(0))`]);
  if (!fs.existsSync(file)) throw new Error(`could not make socket ${file}: ${r.stderr}`);
}

/** A fresh FIFO at `file`. */
function fifo(file: string): string {
  fs.rmSync(file, { force: true });
  execFileSync("mkfifo", [file]);
  return file;
}

interface Case {
  name: string;
  /** The iocalls case. */
  arg: string;
  /** The file the case works on, per side (fresh for each). */
  file?: (side: string) => string;
  /** Runs native (and faultline) with a command in front, e.g. setsid or prlimit. */
  wrap?: string[];
  /** Also wrap the faultline run (it is then started as a plain command). */
  wrapBoth?: boolean;
  /** The faultline run's peak host memory must stay under this many MiB. */
  maxRssMiB?: number;
  stdin?: RunOptions["stdin"];
  /** Runs as another user: only when the tests run as root; the program is copied where that user can run it. */
  asOther?: boolean;
}

/** Runs a command as nobody (when the tests run as root). */
const UNPRIVILEGED = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

/** /dev/shm is tmpfs on Linux: a file system whose largest offset is 2^63-1 (ext4's is 2^44-4096). */
const shm = fs.existsSync("/dev/shm") ? "/dev/shm" : dir;

const CASES: Case[] = [
  { name: "huge lengths and bad buffers answer at once (EFAULT, EBADF, ESPIPE)", arg: "bounded", file: (s) => `${dir}/bounded.${s}`, stdin: Buffer.from("in"), maxRssMiB: 400 },
  { name: "a fault after the first page gives a short count", arg: "short", file: (s) => `${dir}/short.${s}` },
  { name: "offsets at the file system's limit: EINVAL, EFBIG, short writes", arg: "offsets", file: (s) => `${dir}/offsets.${s}` },
  { name: "lseek is exact to 2^63-1", arg: "bigoffsets", file: (s) => `${shm}/faultline-io-big.${s}` },
  { name: "fcntl edge cases (RLIMIT_NOFILE 1024 on both sides)", arg: "fcntl", file: (s) => `${dir}/fcntl.${s}`, wrap: ["prlimit", "--nofile=1024"] },
  { name: "nanosleep and clock_nanosleep checks, TIMER_ABSTIME", arg: "sleep" },
  { name: "poll, ppoll, select, pselect6, epoll over files, pipes and /dev/null", arg: "poll", file: (s) => `${dir}/poll.${s}` },
  { name: "poll, select and epoll of host stdin (a pipe): data, then the hang-up", arg: "stdinpoll", stdin: Buffer.from("hello") },
  { name: "copy_file_range through the page cache", arg: "copy", file: (s) => `${dir}/copy.${s}` },
  { name: "reads and writes of buffers across 2 MiB bounds (where host views are cut)", arg: "straddle", file: (s) => `${dir}/straddle.${s}` },
  { name: "devices without a controlling terminal: /dev/tty and a socket are ENXIO", arg: "devices", file: () => `${dir}/sock`, wrap: ["setsid", "-w"], wrapBoth: true },
  { name: "devices as an unprivileged user: /dev/console is the host's EACCES", arg: "devices", file: () => `${dir}/sock`, wrap: UNPRIVILEGED, wrapBoth: true, asOther: true },
  { name: "FIFOs: non-blocking opens and reads, EOF after the writer, O_RDWR", arg: "fifo", file: (s) => fifo(`${dir}/fifo.${s}`) },
];

/** The faultline run of a case, under `wrap` when the case wraps both sides; with its peak RSS when asked. */
function faultlineSide(c: Case, argv: string[]): { run: ReturnType<typeof runNative>; rssMiB?: number } {
  const o = { stdin: c.stdin };
  const front = c.wrapBoth ? c.wrap ?? [] : [];
  if (c.maxRssMiB === undefined && front.length === 0) return { run: runFaultline(argv, o) };
  const rssFile = path.join(dir, `rss.${c.arg}`);
  const time = c.maxRssMiB === undefined ? [] : ["/usr/bin/time", "-o", rssFile, "-f", "%M"];
  const run = runNative([...front, ...time, process.execPath, CLI, "run", "--timeout", "60", ...argv], o);
  return { run, rssMiB: c.maxRssMiB === undefined ? undefined : Number(fs.readFileSync(rssFile, "utf8").trim()) / 1024 };
}

describe("iocalls natively and under faultline", () => {
  socketFile(`${dir}/sock`);
  for (const c of CASES) {
    it.skipIf(c.asOther && process.getuid?.() !== 0)(c.name, () => {
      const prog = c.asOther ? shared(bin) : bin;
      const argv = (side: string) => [prog, c.arg, ...(c.file ? [c.file(side)] : [])];
      const want = runNative([...(c.wrap ?? []), ...argv("native")], { stdin: c.stdin });
      const got = faultlineSide(c, argv("faultline"));
      expect(want.stdout.length, `native run printed nothing: ${want.stderr}`).toBeGreaterThan(0);
      expectSameRun(got.run, want, c.arg);
      if (got.rssMiB !== undefined) expect(got.rssMiB, `faultline peak RSS ${got.rssMiB} MiB, want under ${c.maxRssMiB}`).toBeLessThan(c.maxRssMiB!);
    });
  }
});

describe("no host call blocks: --timeout ends every wait with 137 and one line", () => {
  const timeoutLine = /^faultline: \S+: killed by SIGKILL, rip 0x[0-9a-f]+: killed: timeout after 1000 ms\n$/;
  /** Runs `cmd` (a shell command line; $FL is faultline run --timeout 1) and expects the timeout kill. */
  const expectTimeout = (cmd: string) => {
    const r = runNative(["sh", "-c", cmd], { env: { PATH: "/usr/bin:/bin", FL: `${process.execPath} ${CLI} run --timeout 1` } });
    expect(r.error, `the run was cut off by the harness: ${r.error}`).toBeUndefined();
    expect(r.status, `exit status of ${cmd}: got ${r.status}, want 137; stderr ${r.stderr}`).toBe(137);
    expect(r.stderr).toMatch(timeoutLine);
  };
  it("cat of a FIFO that no writer opens", () => expectTimeout(`$FL /bin/cat ${fifo(`${dir}/never`)}`));
  it("a shell writing to a FIFO that no reader opens", () => expectTimeout(`$FL /bin/sh -c 'echo x > ${fifo(`${dir}/noreader`)}'`));
  it("sleep 30", () => expectTimeout("$FL /bin/sleep 30"));
  it("cat of a stdin pipe that stays empty (a writer holds it open)", () => {
    const f = fifo(`${dir}/held`);
    expectTimeout(`exec 3<>${f}; $FL /bin/cat <&3`);
  });
  it("read of an internal pipe that its own writer never fills", () => expectTimeout(`$FL ${bin} selfpipe`));
});

describe("FIFOs carry data between faultline and a native peer", () => {
  it("a guest cat reads what a native writer sends, then sees EOF", () => {
    const f = fifo(`${dir}/peer`);
    const r = runNative(["sh", "-c", `${process.execPath} ${CLI} run --timeout 30 /bin/cat ${f} & sleep 0.5; echo through > ${f}; wait $!`]);
    expect(r.stderr).toBe("");
    expect(r.stdout.toString()).toBe("through\n");
    expect(r.status).toBe(0);
  });
});

describe("sizes the host file system refuses, by real programs", () => {
  /** stderr without what legitimately differs: the program's spelling (/bin/dd vs dd) and dd's timing line. */
  const messages = (s: string) => s.split("\n").filter((l) => !/ copied, /.test(l)).map((l) => l.replace(/^\/bin\//, "")).join("\n");
  const CMDS: { name: string; argv: (f: string) => string[] }[] = [
    { name: "truncate -s 2^50", argv: (f) => ["/bin/truncate", "-s", String(2 ** 50), f] },
    { name: "truncate -s 2^44", argv: (f) => ["/bin/truncate", "-s", String(2 ** 44), f] },
    { name: "dd seek=2^44", argv: (f) => ["/bin/dd", "if=/dev/zero", `of=${f}`, "bs=1", "count=1", `seek=${2 ** 44}`] },
    { name: "dd seek=2^53", argv: (f) => ["/bin/dd", "if=/dev/zero", `of=${f}`, "bs=1", "count=1", `seek=${2 ** 53}`] },
    { name: "dd seek=2^44-4097 (the last byte ext4 allows)", argv: (f) => ["/bin/dd", "if=/dev/zero", `of=${f}`, "bs=1", "count=1", `seek=${2 ** 44 - 4097}`] },
    { name: "truncate /dev/null", argv: () => ["/bin/truncate", "-s", "5", "/dev/null"] },
  ];
  for (const c of CMDS) {
    it(c.name, () => {
      const side = (who: string) => {
        const f = `${dir}/size`; // one name for both sides (they run one after the other): messages name it
        fs.rmSync(f, { force: true });
        const r = who === "native" ? runNative(c.argv(f)) : runFaultline(c.argv(f));
        return { r, size: fs.existsSync(f) ? fs.statSync(f).size : -1 };
      };
      const want = side("native"), got = side("faultline");
      expectSameRun(got.r, want.r, c.name);
      expect(messages(got.r.stderr), "stderr (errno messages)").toBe(messages(want.r.stderr));
      expect(got.size, "file size after").toBe(want.size);
    });
  }
});

describe("reading untouched anonymous memory charges nothing (cf. the zero page)", () => {
  it("a 96 MiB write() of a fresh mapping under --mem 64M: same result and bytes as natively", () => {
    const want = runNative([bin, "zerowrite", `${dir}/zero.native`]);
    const got = runFaultline([bin, "zerowrite", `${dir}/zero.faultline`], {}, ["--timeout", "120", "--mem", "64M"]);
    expectSameRun(got, want, "zerowrite");
    const a = fs.readFileSync(`${dir}/zero.native`), b = fs.readFileSync(`${dir}/zero.faultline`);
    expect(b.equals(a), `file bytes differ (got ${b.length}, want ${a.length})`).toBe(true);
  });
});
