/**
 * `#!` scripts as programs, as Linux's binfmt_script runs them: each script
 * is executed natively by a bare execve(2) (test/programs/execve.c) and
 * under `faultline run`; exit status and stdout must be the same, and a
 * refused script names the same errno. The interpreter is mostly a small
 * program printing its argv, so the parse of the `#!` line is what is
 * compared; /bin/sh scripts show a real interpreter.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { writeProgram } from "./support/elf.js";
import { expectSameExec } from "./support/exec.js";
import { buildC, scratch } from "./support/native.js";

const dir = scratch("fl-sc-");
const ARGS = buildC(
  '#include "nolibc.h"\nNOLIBC_START;\nint main(int argc, char **argv) {\n  for (int k = 0; k < argc; k++) { put(1, "["); put(1, argv[k]); put(1, "]\\n"); }\n  return argc;\n}\n',
  "nolibc");

let serial = 0;
/** A script file with exactly `text` (a string or bytes) and `mode`. */
function script(text: string | Buffer, mode = 0o755): string {
  return writeProgram(path.join(dir, `s${serial++}`), Buffer.from(text), mode);
}

describe("the #! line is parsed as load_script parses it", () => {
  const long = "x".repeat(300);
  it.each([
    { name: "interpreter alone", text: () => `#!${ARGS}\n` },
    { name: "one argument", text: () => `#!${ARGS} -e\n` },
    { name: "the argument keeps inner blanks, loses trailing ones", text: () => `#!${ARGS}  one  two\tthree \t \n` },
    { name: "blanks and tabs before the name", text: () => `#! \t ${ARGS} x\n` },
    { name: "no newline, shorter than the buffer", text: () => `#!${ARGS}` },
    { name: "no newline, a trailing blank (an empty argument)", text: () => `#!${ARGS} ` },
    { name: "a NUL ends the argument", text: () => Buffer.from(`#!${ARGS} a\0b\n`) },
    { name: "a NUL right after the name: no argument", text: () => Buffer.from(`#!${ARGS}\0 a\n`) },
    { name: "a line past 256 bytes cuts the argument", text: () => `#!${ARGS} ${long}\n` },
    { name: "a name cut by the 256-byte buffer: ENOEXEC", text: () => `#!/${long}\n` },
    { name: "no interpreter: ENOEXEC", text: () => "#!\n" },
    { name: "only blanks: ENOEXEC", text: () => "#!  \t \n" },
    { name: "a missing interpreter: ENOENT", text: () => "#!/nonexistent/interp\n" },
    { name: "a directory as interpreter: EACCES", text: () => `#!${dir}\n` },
    { name: "not a script, not ELF: ENOEXEC", text: () => "# !/bin/sh\necho hi\n" },
  ])("$name", ({ name, text }) => expectSameExec([script(text()), "arg1", "arg 2"], name));

  it("a script without execute permission: EACCES", () => {
    expectSameExec([script(`#!${ARGS}\n`, 0o644)], "mode 0644 script");
  });

  it("an interpreter without execute permission: EACCES", () => {
    const interp = path.join(dir, "noexec-args");
    fs.copyFileSync(ARGS, interp);
    fs.chmodSync(interp, 0o644);
    expectSameExec([script(`#!${interp}\n`)], "mode 0644 interpreter");
  });

  it("an interpreter that is a plain text file: ENOEXEC", () => {
    expectSameExec([script(`#!${script("just text\n")}\n`)], "text interpreter");
  });
});

describe("nested scripts, up to Linux's depth", () => {
  /** A chain of `n` scripts, each the interpreter of the next, ending at the argv printer; returns the outermost. */
  function chain(n: number): string {
    let interp = ARGS;
    for (let k = 0; k < n; k++) interp = script(`#!${interp} level${k}\n`);
    return interp;
  }
  it.each([1, 2, 5, 6, 7])("%i scripts deep", (n) => expectSameExec([chain(n), "x"], `${n} scripts`));
});

describe("real interpreters", () => {
  it.each([
    { name: "/bin/sh with arguments", text: '#!/bin/sh\necho "$0" "$#" "$@"\nexit 4\n' },
    { name: "/bin/sh -e stops at a failure", text: "#!/bin/sh -e\necho before\nfalse\necho after\n" },
    { name: "busybox sh", text: '#!/bin/busybox sh\necho "$1-$2"\n' },
  ])("$name", ({ name, text }) => expectSameExec([script(text), "a", "b c"], name));
});
