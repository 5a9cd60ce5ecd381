/**
 * Names are bytes and open files are objects, native against faultline:
 * test/programs/names.c case by case (calls on descriptors whose names were
 * unlinked, renamed or rmdir'ed; directory order and d_off cookies; xattrs;
 * times; links; truncate; names that are not UTF-8), then real programs:
 * Python's TemporaryFile and sqlite on a removed database, tar -x of an
 * archive with symbolic and hard links, ln / ln -s / cp -a, busybox touch,
 * find / du / ls -U on a fixed tree, mkdir / ls of non-UTF-8 names, the
 * guest path of a program under a root directory whose name starts with
 * `..`, and readlink where the host answers EACCES (as an unprivileged uid).
 *
 * Ground truth is always the same program run natively; trees written by a
 * program are compared by `find -printf` run natively on both, and by bytes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_ENV, buildC, CLI, expectSameRun, runFaultline, runNative, scratch, type RunResult } from "./support/native.js";

const NAMES_C = path.join(__dirname, "programs", "names.c");
const work = scratch("faultline-names-");
const BUSYBOX = "/bin/busybox";

type Who = "native" | "faultline";
const WHO: Who[] = ["native", "faultline"];

/** Runs argv natively or under faultline. */
function run(who: Who, argv: string[], cwd?: string): RunResult {
  return who === "native" ? runNative(argv, { cwd }) : runFaultline(argv, { cwd });
}

/** A fresh directory per side of case `name`. */
function sides(name: string): Record<Who, string> {
  const out = {} as Record<Who, string>;
  for (const who of WHO) {
    out[who] = path.join(work, `${name}-${who}`);
    fs.rmSync(out[who], { recursive: true, force: true });
    fs.mkdirSync(out[who]);
  }
  return out;
}

/** What a tree holds, as `find` prints it natively: type, path, link target, link count, mode, size, and mtime unless told not; sorted. */
function treeOf(dir: string, o: { times: boolean }): string {
  const format = `%y %p %l %n %m %s${o.times ? " %T@" : ""}\\n`;
  return execFileSync("/bin/sh", ["-c", `find . -printf '${format}' | LC_ALL=C sort`], { cwd: dir, env: BASE_ENV }).toString("latin1");
}

/** A file `t` with fixed bytes and times in `dir`. */
function fixedFile(dir: string): void {
  fs.writeFileSync(path.join(dir, "t"), "fixed\n");
  fs.utimesSync(path.join(dir, "t"), 1e9, 1e9);
}

/** The bytes of every regular file under `dir`, by relative path (names as latin1). */
function bytesOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: Buffer) => {
    const abs = Buffer.concat([Buffer.from(dir + "/"), rel]);
    for (const e of fs.readdirSync(abs, { encoding: "buffer", withFileTypes: true })) {
      const r = rel.length ? Buffer.concat([rel, Buffer.from("/"), e.name as unknown as Buffer]) : (e.name as unknown as Buffer);
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.set(r.toString("latin1"), fs.readFileSync(Buffer.concat([Buffer.from(dir + "/"), r])).toString("base64"));
    }
  };
  walk(Buffer.alloc(0));
  return out;
}

/** Expects the trees written by both sides to be the same, listing first, then bytes. */
function expectSameTree(d: Record<Who, string>, label: string, o = { times: true }): void {
  const got = treeOf(d.faultline, o), want = treeOf(d.native, o);
  expect(got, `${label}: tree (find -printf) under faultline, want native's`).toBe(want);
  expect(want.trim().split("\n").length, `${label}: the native tree is not empty`).toBeGreaterThan(1);
  expect([...bytesOf(d.faultline)], `${label}: file bytes`).toEqual([...bytesOf(d.native)]);
}

/** A fixed tree with links, a non-UTF-8 name and a few sizes; mtimes fixed so archives and copies carry them. */
function makeTree(root: string): void {
  fs.mkdirSync(path.join(root, "a/b"), { recursive: true });
  fs.mkdirSync(path.join(root, "c"));
  fs.writeFileSync(path.join(root, "a/f1"), "one\n");
  fs.writeFileSync(path.join(root, "a/b/f2"), Buffer.alloc(70_000, 7));
  fs.writeFileSync(Buffer.from(`${root}/caf\xe9`, "latin1"), "latin-1 name\n");
  fs.mkdirSync(Buffer.from(`${root}/\xff`, "latin1"));
  fs.symlinkSync("../a/f1", path.join(root, "c/rel"));
  fs.symlinkSync("/nonexistent/abs", path.join(root, "c/dangling"));
  fs.linkSync(path.join(root, "a/f1"), path.join(root, "c/hard"));
  for (let k = 0; k < 30; k++) fs.writeFileSync(path.join(root, "a", `n${k}`), "x".repeat(k * 100));
  execFileSync("/bin/sh", ["-c", "find . -exec touch -h -d @1700000000 {} +"], { cwd: root });
}

const tree = path.join(work, "tree");
const archive = path.join(work, "tree.tar");


beforeAll(() => {
  makeTree(tree);
  execFileSync("/bin/tar", ["-cf", archive, "-C", work, "tree"]);
});

describe("names.c: calls on names and on open files, native vs faultline", () => {
  /**
   * `pending`: lines that need the lseek path to return a 64-bit result
   * exactly (the syscall layer's bigint results, another branch of this
   * issue); every other line must match.
   */
  it.each([
    { name: "unlinked", what: "fstat, fstatfs, ftruncate, fchmod, fchown, mmap, pread/pwrite after unlink" },
    { name: "tmpfile", what: "O_TMPFILE, written, then named by linkat(AT_EMPTY_PATH)" },
    { name: "renamed", what: "an open file and a directory fd renamed; openat and fchdir through the dirfd" },
    { name: "rmdired", what: "getdents64 (ENOENT), fstat, fstatfs, fchmod, openat on an rmdir'ed directory" },
    { name: "dirseek", what: "host order, d_off cookies, lseek back to one, rewind" },
    { name: "fds", what: "fstatfs of fds 0-2, /proc/self/maps and a pipe" },
    { name: "xattrs", what: "set/get/list/remove xattr and their l*/f* forms, flags and errors" },
    { name: "times", what: "utimensat (UTIME_NOW, UTIME_OMIT, AT_SYMLINK_NOFOLLOW), futimens after write, utimes, utime, futimesat" },
    { name: "truncate", what: "truncate -1, /dev/null, a directory" },
    { name: "links", what: "symlinkat, link, linkat flags, renameat2 flags, chmod/chown forms" },
    { name: "bytes", what: "non-UTF-8 names and link targets, getcwd, a long multibyte path" },
  ])("$name: $what", ({ name, pending }) => {
    const bin = buildC(NAMES_C, "gcc-static");
    const d = sides(`names-${name}`);
    const [want, got] = WHO.map((who) => run(who, [bin, name, d[who]]));
    if (pending) {
      const drop = (r: RunResult): RunResult => ({ ...r, stdout: Buffer.from(r.stdout.toString("latin1").split("\n").filter((l) => !pending.test(l)).join("\n"), "latin1") });
      expectSameRun(drop(got), drop(want), name);
    } else {
      expectSameRun(got, want, name);
    }
    expect(want.stdout.length, "native output is not empty").toBeGreaterThan(0);
  });
});

describe("real programs on names and open files, native vs faultline", () => {
  it.each([
    {
      name: "python TemporaryFile and sqlite on a removed database",
      script: [
        "import tempfile, os, sqlite3, sys",
        "f = tempfile.TemporaryFile(); f.write(b'hello world'); f.flush()",
        "st = os.fstat(f.fileno()); print('temp', st.st_nlink, st.st_size); f.seek(0); print(f.read())",
        "db = os.path.join(sys.argv[1], 'x.db'); c = sqlite3.connect(db)",
        "c.execute('create table t(a)'); c.execute('insert into t values (1),(2)'); c.commit()",
        "os.remove(db); print('removed', os.path.exists(db))",
        "print('sum', c.execute('select sum(a) from t').fetchone())",
        "try:\n    c.execute('insert into t values (3)'); c.commit(); print('write ok')\nexcept sqlite3.Error as e:\n    print('write refused:', e)",
        "print('sum', c.execute('select sum(a) from t').fetchone())",
      ].join("\n"),
    },
  ])("$name", ({ name, script }) => {
    const py = path.join(work, "case.py");
    fs.writeFileSync(py, script + "\n");
    const d = sides("python");
    const [want, got] = WHO.map((who) => run(who, ["/usr/bin/python3", py, d[who]]));
    expectSameRun(got, want, name);
  });

  it.each([
    { name: "tar -x of an archive with symbolic and hard links", argv: ["/bin/tar", "-xf", archive] },
    { name: "cp -a of the tree", argv: ["/bin/cp", "-a", tree, "copy"] },
    // busybox tar and cp do not restore the times of directories and links (natively neither): those are now.
    { name: "busybox tar -x", argv: [BUSYBOX, "tar", "-xf", archive], untimed: true },
    { name: "busybox cp -a", argv: [BUSYBOX, "cp", "-a", tree, "copy"], untimed: true },
    { name: "ln, a hard link", argv: ["/bin/ln", "t", "hard"], pre: fixedFile },
    { name: "ln -s, a symbolic link (made now: times not compared)", argv: ["/bin/ln", "-s", "some/target", "soft"], untimed: true },
    { name: "busybox ln -s (made now)", argv: [BUSYBOX, "ln", "-s", "../x", "soft"], untimed: true },
    { name: "busybox touch creates a file (times are now: not compared)", argv: [BUSYBOX, "touch", "newfile"], untimed: true },
    { name: "touch -d sets the times", argv: ["/bin/touch", "-d", "@1234567890.5", "newfile"] },
    { name: "touch -d on an existing file", argv: [BUSYBOX, "touch", "-d", "2001-02-03 04:05:06", "t"], pre: fixedFile },
    { name: "touch -h -d on a link", argv: ["/bin/touch", "-h", "-d", "@1000000000", "l"], pre: (dir: string) => fs.symlinkSync("nowhere", path.join(dir, "l")) },
  ])("$name", ({ name, argv, pre, untimed }) => {
    const d = sides(name.replace(/\W+/g, "-"));
    for (const who of WHO) {
      pre?.(d[who]);
      const r = run(who, argv, d[who]);
      expect(r.status, `${who} ${argv.join(" ")}: exit status ${r.status}, stderr ${r.stderr}`).toBe(0);
    }
    // The side directory's own mtime (it was made for the run) is not the program's doing.
    for (const who of WHO) fs.utimesSync(d[who], 1e9, 1e9);
    expectSameTree(d, name, { times: !untimed });
  });

  it.each([
    { argv: ["/usr/bin/find", "."] },
    { argv: ["/usr/bin/find", ".", "-printf", "%y %p %l %n %s\\n"] },
    { argv: ["/usr/bin/du", "-a", "."] },
    { argv: ["/usr/bin/du", "-s", "--apparent-size", "."] },
    { argv: ["/bin/ls", "-U", "a"] },
    { argv: ["/bin/ls", "-laU", "--time-style=+%s", "c"] },
    { argv: ["/bin/ls", "-R"] },
    { argv: [BUSYBOX, "find", "."] },
    { argv: [BUSYBOX, "ls", "-laR", "--full-time"] },
    { argv: [BUSYBOX, "du", "-a", "."] },
  ])("$argv.0 $argv.1 $argv.2 on a fixed tree", ({ argv }) => {
    const [want, got] = WHO.map((who) => run(who, argv, tree));
    expectSameRun(got, want, argv.join(" "));
    expect(want.stdout.length).toBeGreaterThan(0);
  });
});

describe("non-UTF-8 names through the command line", () => {
  /** Runs `words` (latin1 strings: one char per byte) through sh, so the program's argv has those exact bytes. */
  function runBytes(who: Who, words: string[], cwd: string): RunResult {
    const quote = (w: string) => `"$(printf '${[...Buffer.from(w, "latin1")].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("")}')"`;
    const prefix = who === "native" ? "" : `'${process.execPath}' '${CLI}' run --timeout 60 `;
    return runNative(["/bin/sh", "-c", `exec ${prefix}${words.map(quote).join(" ")}`], { cwd });
  }

  it.each([
    { name: "busybox mkdir of two non-UTF-8 names", words: [BUSYBOX, "mkdir", "\xff", "\xfe"] },
    { name: "busybox touch caf\\xe9 then cat it", words: [BUSYBOX, "touch", "caf\xe9"], then: [BUSYBOX, "cat", "caf\xe9"] },
    { name: "mkdir -p of a nested non-UTF-8 path", words: ["/bin/mkdir", "-p", "\xe9t\xe9/\xff\xfe/d"] },
    { name: "ln -s with a non-UTF-8 target", words: ["/bin/ln", "-s", "\xe9\x80", "l\xe9"], then: ["/bin/readlink", "l\xe9"] },
    { name: "mv to a non-UTF-8 name", words: [BUSYBOX, "mkdir", "x"], then: ["/bin/mv", "x", "\xa0\xa1"] },
    { name: "a program whose name is not UTF-8", words: ["/bin/cp", BUSYBOX, "b\xe9"], then: ["./b\xe9", "basename", "./b\xe9"] },
  ])("$name", ({ name, words, then }) => {
    const d = sides(name.replace(/\W+/g, "-"));
    for (const step of [words, ...(then ? [then] : [])]) {
      const [want, got] = WHO.map((who) => runBytes(who, step, d[who]));
      expectSameRun(got, want, `${name}: ${step.join(" ")}`);
    }
    expectSameTree(d, name, { times: false }); // made now: their times differ by the runs' start
    for (const argv of [["/bin/ls", "-U"], ["/usr/bin/find", "."], [BUSYBOX, "ls"]]) {
      const [want, got] = WHO.map((who) => run(who, argv, d.native));
      expectSameRun(got, want, `${name}: ${argv.join(" ")}`);
    }
  });
});

describe("non-UTF-8 bytes in the environment", () => {
  it.each([
    { name: "a value", assign: "V=caf\xe9" },
    { name: "a name and a value", assign: "\xe9\xff=\xfe" },
  ])("busybox env shows $name as the bytes it was given", ({ assign }) => {
    const octal = [...Buffer.from(assign, "latin1")].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
    const run = (who: Who) => {
      const prefix = who === "native" ? "" : `'${process.execPath}' '${CLI}' run --timeout 60 `;
      return runNative(["/bin/sh", "-c", `exec /usr/bin/env -i "$(printf '${octal}')" ${prefix}${BUSYBOX} env`]);
    };
    const [want, got] = WHO.map(run);
    expectSameRun(got, want, `env -i ${JSON.stringify(assign)} busybox env`);
    expect(want.stdout.includes(Buffer.from(assign, "latin1")), "natively the bytes are there").toBe(true);
  });
});

describe("the guest path of a program under a root directory whose name starts with ..", () => {
  const root = path.join(work, "dotroot");
  beforeAll(() => {
    fs.mkdirSync(path.join(root, "..x"), { recursive: true });
    fs.mkdirSync(path.join(root, "proc"));
    fs.copyFileSync(BUSYBOX, path.join(root, "..x", "busybox"));
    fs.copyFileSync(buildC(NAMES_C, "gcc-static"), path.join(root, "..x", "names"));
    // Ground truth: the same program chrooted, with a /proc to read its own links from.
    execFileSync("mount", ["-t", "proc", "proc", path.join(root, "proc")]);
  });
  afterAll(() => {
    spawnSync("umount", [path.join(root, "proc")]);
  });

  it.each([
    { what: "/proc/self/exe", argv: ["/..x/busybox", "readlink", "/proc/self/exe"] },
    { what: "the program's names in /proc/self/maps", argv: ["/..x/busybox", "awk", "/busybox/ { print $6 }", "/proc/self/maps"], mention: "/..x/busybox" },
    { what: "fstatfs of fds 0-2 and /proc/self/maps under the root", argv: ["/..x/names", "fds", "/"], mention: "fstatfs /proc/self/maps: type 9fa0" },
  ])("$what", ({ argv, mention = "/..x/busybox" }) => {
    const want = runNative(["/usr/sbin/chroot", root, ...argv]);
    const got = runFaultline(argv, {}, ["--timeout", "60", "--root", root]);
    const uniq = (r: RunResult): RunResult => ({ ...r, stdout: Buffer.from([...new Set(r.stdout.toString("latin1").split("\n"))].join("\n"), "latin1") });
    expectSameRun(uniq(got), uniq(want), argv.join(" "));
    expect(want.stdout.toString(), "native output").toContain(mention);
  });
});

describe("readlink where the host answers EACCES, as an unprivileged uid", () => {
  const denied = path.join(work, "denied");
  beforeAll(() => {
    fs.mkdirSync(denied);
    fs.symlinkSync("target", path.join(denied, "link"));
    fs.chmodSync(denied, 0);
    fs.chmodSync(work, 0o755);
  });

  /** `argv` run as uid/gid 65534 (nobody), natively or under faultline. */
  function asNobody(who: Who, argv: string[]): RunResult {
    const drop = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
    return runNative(who === "native" ? [...drop, ...argv] : [...drop, process.execPath, CLI, "run", "--timeout", "60", ...argv], { cwd: "/" });
  }

  // (/proc/1/root is not among them: other processes' /proc entries are ENOENT under
  // faultline by design, as the guest sees only its own process; see emu/procfs.ts.)
  it.each([
    { argv: ["/bin/readlink", "-v", path.join(denied, "link")] },
    { argv: ["/bin/cat", path.join(denied, "link")] },
    { argv: ["/bin/ls", denied] },
  ])("$argv.0 $argv.1 $argv.2", ({ argv }) => {
    const [want, got] = WHO.map((who) => asNobody(who, argv));
    expectSameRun(got, want, argv.join(" "), { sameStderr: true });
    expect(want.status, "natively a failure").not.toBe(0);
  });
});
