/**
 * The faultline command as a user meets it: version, demo guest, exit
 * statuses, and one clear line for every kind of bad input.
 * Runs the built CLI (dist/, made by scripts/setup.sh) in a child process.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildGuest } from "../cli/demo.js";
import { scratchDir } from "./support/guest.js";

const root = path.resolve(__dirname, "..");
const dir = scratchDir();

function faultline(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, "bin", "faultline.mjs"), ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("faultline", () => {
  it("--version names the engine library and its version", () => {
    const r = faultline("--version");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^faultline \S+, Unicorn 2\.\d+\.\d+ \((env|build|wheel|system): .*libunicorn\.so\.2(, patches: .+)?\)\n$/);
  });

  it("runs the touch guest with the same output shape and status as natively", () => {
    const touch = buildGuest("touch");
    const native = JSON.parse(execFileSync(touch, ["anon", "64"], { encoding: "utf8" }));
    const r = faultline("run", "--stats", touch, "anon", "64");
    expect(r.status, r.stderr).toBe(0);
    const ours = JSON.parse(r.stdout);
    expect(ours.sum, `sum: got ${ours.sum}, want ${native.sum}`).toBe(native.sum);
    expect(r.stderr).toMatch(/^minorFaults\s+\d+$/m);
    expect(r.stderr).toMatch(/^readpagesHistogram\s+/m);
  });

  it("--stats-json writes the counters", () => {
    const out = path.join(dir, "stats.json");
    const r = faultline("run", "--stats-json", out, buildGuest("touch"), "anon", "8");
    expect(r.status, r.stderr).toBe(0);
    const stats = JSON.parse(fs.readFileSync(out, "utf8"));
    expect(stats.anonPages, `anonPages: got ${stats.anonPages}`).toBeGreaterThanOrEqual(8);
  });

  it("a guest killed by SIGSEGV exits 139 with one line naming signal, address and rip", () => {
    const src = path.join(dir, "null.c");
    fs.writeFileSync(src, "void _start(void) { *(volatile long *)8 = 1; for (;;); }\n");
    const bin = path.join(dir, "null");
    execFileSync("gcc", ["-O1", "-static", "-nostdlib", "-o", bin, src]);
    const r = faultline("run", bin);
    expect(r.status).toBe(139);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/killed by SIGSEGV at 0x8 \(write\), rip 0x[0-9a-f]+ \(mov qword ptr \[8\], 1\): SEGV_MAPERR: no mapping$/m);
  });

  it("runs a static-PIE program (self-relocating, loaded at the PIE base)", () => {
    const src = path.join(dir, "spie.c");
    fs.writeFileSync(src, '#include <stdio.h>\nint main(int c, char **v) { printf("%d %s\\n", c, v[c - 1]); return 7; }\n');
    const bin = path.join(dir, "spie");
    execFileSync("gcc", ["-static-pie", "-O1", "-o", bin, src]);
    const r = faultline("run", bin, "a", "b");
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 7, stdout: "3 b\n" });
  });

  it("a program whose interpreter is missing: exit 127 and one line naming it", () => {
    const bytes = Buffer.from(fs.readFileSync("/bin/ls"));
    const at = bytes.indexOf("/lib64/ld-linux-x86-64.so.2");
    expect(at, "PT_INTERP string in /bin/ls").toBeGreaterThan(0);
    bytes.write("/lib64/ld-missing-x86-64.so", at, "latin1");
    const p = path.join(dir, "ls-no-interp");
    fs.writeFileSync(p, bytes, { mode: 0o755 });
    const r = faultline("run", p);
    expect(r.status).toBe(127);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/interpreter \/lib64\/ld-missing-x86-64\.so not found/);
  });

  const elf = () => fs.readFileSync(buildGuest("touch"));
  const badInputs: { name: string; make: () => Buffer | null; status: number; message: RegExp }[] = [
    { name: "a missing program", make: () => null, status: 127, message: /no such file/ },
    { name: "a text file", make: () => Buffer.from("echo hi\n"), status: 126, message: /not an ELF file \[ENOEXEC\]/ },
    { name: "a truncated ELF", make: () => elf().subarray(0, 40), status: 126, message: /corrupt program headers \(e_phentsize 0.*\[ENOEXEC\]/ },
    { name: "an i386 ELF", make: () => { const b = Buffer.from(elf()); b.writeUInt16LE(3, 18); return b; }, status: 126, message: /another machine.*i386/ },
    { name: "an aarch64 ELF", make: () => { const b = Buffer.from(elf()); b.writeUInt16LE(183, 18); return b; }, status: 126, message: /another machine.*aarch64/ },
    { name: "corrupt program headers", make: () => { const b = Buffer.from(elf()); b.writeUInt16LE(60000, 56); return b; }, status: 126, message: /corrupt program headers/ },
  ];
  it.each(badInputs)("$name: exit $status and one line", ({ make, status, message }) => {
    const bytes = make();
    const p = path.join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    if (bytes) fs.writeFileSync(p, bytes, { mode: 0o755 });
    const r = faultline("run", p);
    expect(r.status, `status: got ${r.status}, want ${status}; stderr ${r.stderr}`).toBe(status);
    expect(r.stderr.trim().split("\n"), "one line").toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no JavaScript stack trace
  });

  it.each([
    { args: ["run"], message: /missing PROGRAM/ },
    { args: ["run", "--mem", "lots", "x"], message: /not a size/ },
    { args: ["run", "--frobnicate", "x"], message: /unknown option --frobnicate/ },
    { args: ["run", "--time-slice", "5", "x"], message: /--time-slice: "5" is not a whole number of microseconds from 10 to 1000000/ },
    { args: ["run", "--max-threads", "0", "x"], message: /--max-threads: "0" is not a whole number from 1 to 65536/ },
    { args: ["dance"], message: /unknown command/ },
  ])("usage error $args: exit 2 and one line", ({ args, message }) => {
    const r = faultline(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
