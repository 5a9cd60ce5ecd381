/**
 * The guest's file-system view: --root confines every path (.., absolute
 * and relative symbolic links), /proc/self/maps and /proc/self/exe come from
 * faultline's own state, and --strace shows each call.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { textPath, Vfs } from "../emu/vfs.js";
import { scratchDir } from "./support/guest.js";

const root = path.join(scratchDir(), "root");
fs.mkdirSync(path.join(root, "bin"), { recursive: true });
fs.mkdirSync(path.join(root, "etc"));
fs.mkdirSync(path.join(root, "home/user"), { recursive: true });
fs.copyFileSync("/bin/busybox", path.join(root, "bin/busybox"));
fs.writeFileSync(path.join(root, "etc/passwd"), "guest:x:0:0::/:/bin/sh\n");
fs.symlinkSync("/etc", path.join(root, "abs-etc")); // absolute: the guest's /etc
fs.symlinkSync("../../../../../../../..", path.join(root, "home/user/up")); // climbs past the root
fs.symlinkSync("loop-b", path.join(root, "loop-a"));
fs.symlinkSync("loop-a", path.join(root, "loop-b"));
fs.symlinkSync("/etc/passwd", path.join(root, "home/user/pw"));

const cli = path.resolve(__dirname, "..", "bin", "faultline.mjs");
function faultline(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("path resolution stays inside the root", () => {
  const vfs = new Vfs(root, "/home/user");
  it.each([
    { p: "/etc/passwd", guest: "/etc/passwd" },
    { p: "/../../../etc/passwd", guest: "/etc/passwd" },
    { p: "../../../../etc/passwd", guest: "/etc/passwd" },
    { p: "/abs-etc/passwd", guest: "/etc/passwd" },
    { p: "up/etc/passwd", guest: "/etc/passwd" },
    { p: "pw", guest: "/etc/passwd" },
    { p: "./.././user/../../bin/busybox", guest: "/bin/busybox" },
  ])("$p -> $guest", ({ p, guest }) => {
    const r = vfs.resolve(textPath(p));
    expect(r.guest, `guest path: got ${r.guest}, want ${guest}`).toBe(guest);
    expect(r.host.toString(), "host path").toBe(path.join(root, guest));
  });

  it.each([
    { p: "/loop-a", code: "ELOOP" },
    { p: "/nope/passwd", code: "ENOENT" },
    { p: "/etc/passwd/x", code: "ENOTDIR" },
  ])("$p fails with $code", ({ p, code }) => {
    expect(() => vfs.resolve(textPath(p))).toThrow(expect.objectContaining({ code }));
  });

  it("a guest reading through links and .. sees the root's files, never the host's", () => {
    for (const p of ["/etc/passwd", "/../../etc/passwd", "/abs-etc/passwd", "/home/user/up/etc/passwd", "/home/user/pw"]) {
      const r = faultline("run", "--root", root, "/bin/busybox", "cat", p);
      expect(r.stdout, `cat ${p}: got ${JSON.stringify(r.stdout)}`).toBe("guest:x:0:0::/:/bin/sh\n");
      expect(r.status).toBe(0);
    }
  });

  it("a bare program name is found through PATH inside the root", () => {
    fs.symlinkSync("busybox", path.join(root, "bin/echo"));
    const r = faultline("run", "--root", root, "echo", "found");
    expect(r.stdout).toBe("found\n");
  });
});

describe("/proc/self", () => {
  it("maps lists the guest's own mappings in Linux's format", () => {
    const r = faultline("run", "--root", root, "/bin/busybox", "cat", "/proc/self/maps");
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    for (const l of lines) expect(l, `line: ${l}`).toMatch(/^[0-9a-f]{8,}-[0-9a-f]{8,} [r-][w-][x-][ps] [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \d+( +\S.*)?$/);
    expect(lines.some((l) => / r-xp .*\/bin\/busybox$/.test(l)), "text of /bin/busybox").toBe(true);
    expect(lines.some((l) => /\[stack\]$/.test(l)), "[stack]").toBe(true);
  });

  it("exe names the running program by its guest path", () => {
    const r = faultline("run", "--root", root, "/bin/busybox", "readlink", "/proc/self/exe");
    expect(r.stdout).toBe("/bin/busybox\n");
  });
});

describe("--strace", () => {
  it("prints each system call with its arguments and result", () => {
    const r = faultline("run", "--strace", "--root", root, "/bin/busybox", "echo", "hi");
    expect(r.stdout).toBe("hi\n");
    expect(r.stderr).toMatch(/^write\(1, "hi\\n", 3\) += 3$/m);
    expect(r.stderr).toMatch(/^exit_group\(0\) += \?$/m);
    expect(r.stderr).toMatch(/^arch_prctl\(ARCH_SET_FS, 0x[0-9a-f]+\) += 0$/m);
  });

  it("shows failed calls with their errno name", () => {
    const r = faultline("run", "--strace", "--root", root, "/bin/busybox", "cat", "/missing");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^open(at)?\(.*"\/missing".*\) += -1 ENOENT \(No such file or directory\)$/m);
  });
});
