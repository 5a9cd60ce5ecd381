/**
 * make under faultline (issue 10, "How it is checked"): Debian's make runs a
 * small Makefile (test/programs/make/: two C files compiled by gcc into
 * objects, linked, the binary run), the whole toolchain (make, sh, gcc, cc1,
 * as, collect2, ld) inside one faultline run. Ground truth: the same
 * Makefile run natively in a scratch copy of its own: make's stdout, stderr
 * and exit status, the objects' and the binary's bytes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, expectSameRun, runFaultline, runNative, scratch } from "./support/native.js";

const SRC = path.join(REPO, "test", "programs", "make");
const MAKE = "/usr/bin/make";
const FLAGS = ["--timeout", "240"];

/** A fresh copy of the Makefile's directory. */
function copy(): string {
  const dir = scratch("faultline-make-");
  for (const f of fs.readdirSync(SRC)) fs.copyFileSync(path.join(SRC, f), path.join(dir, f));
  return dir;
}

/** The files make builds, read from `dir`. */
const BUILT = ["main.o", "twice.o", "prog"];

const CASES: { name: string; args: string[]; status: number; builds: boolean }[] = [
  { name: "make (compile two files, link, run)", args: [], status: 0, builds: true },
  { name: "make -j2 (the two compiles at once, through make's jobserver pipe)", args: ["-j2"], status: 0, builds: true },
  { name: "make broken (a recipe exits 3: make says so and exits 2)", args: ["broken"], status: 2, builds: false },
];

describe("make on a small Makefile, native vs faultline", () => {
  it("make is installed (Debian package make; scripts/setup.sh installs it)", () => {
    expect(fs.existsSync(MAKE), `${MAKE} is missing: run scripts/setup.sh as root`).toBe(true);
  });

  for (const c of CASES) {
    it(c.name, () => {
      const nat = copy(), emu = copy();
      const want = runNative([MAKE, ...c.args], { cwd: nat });
      expect(want.status, `native make: got status ${want.status}, want ${c.status}\n${want.stderr}`).toBe(c.status);
      const got = runFaultline([MAKE, ...c.args], { cwd: emu }, FLAGS);
      expectSameRun(got, want, `make ${c.args.join(" ")}`, { sameStderr: true });
      if (!c.builds) return;
      expect(got.stdout.toString(), "the binary built under faultline printed").toContain("twice(3) = 6\n");
      for (const f of BUILT) {
        const mine = fs.readFileSync(path.join(emu, f)), theirs = fs.readFileSync(path.join(nat, f));
        expect(mine.equals(theirs), `${f}: built under faultline (${mine.length} bytes) differs from the native build (${theirs.length} bytes)`).toBe(true);
      }
      const again = runNative([path.join(emu, "prog")]);
      expect(again.stdout.toString(), "the faultline-built binary run natively").toBe("twice(1) = 2\ntwice(2) = 4\ntwice(3) = 6\n");
    }, 300_000);
  }

  it("make with nothing to do (prog up to date): only the run step", () => {
    const nat = copy(), emu = copy();
    runNative([MAKE, "prog"], { cwd: nat });
    runNative([MAKE, "prog"], { cwd: emu });
    expectSameRun(runFaultline([MAKE], { cwd: emu }, FLAGS), runNative([MAKE], { cwd: nat }), "make, up to date", { sameStderr: true });
  }, 120_000);
});
