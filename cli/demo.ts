/**
 * `faultline demo` (the README's main job), and building the freestanding
 * guest programs of guest/ for tests and benchmarks.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../emu/unicorn.js";
import { DEFAULT_RUN } from "./options.js";
import { runProgram } from "./main.js";

/**
 * Compiles guest/NAME.c (which includes guest/nolibc.h) into dist/guest/NAME
 * when missing or older than either; returns the binary's path.
 */
export function buildGuest(name: string): string {
  const root = projectRoot();
  const src = path.join(root, "guest", `${name}.c`);
  const out = path.join(root, "dist", "guest", name);
  const newest = Math.max(...[src, path.join(root, "guest", "nolibc.h")].map((f) => fs.statSync(f).mtimeMs));
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < newest) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    execFileSync("gcc", ["-O2", "-static", "-nostdlib", "-fno-builtin", "-fno-stack-protector",
      "-fno-asynchronous-unwind-tables", "-o", out, src]);
  }
  return out;
}

/**
 * The demo: real binaries over the memory manager, with their counters.
 * busybox (static) hashes a 16 MiB file it reads through the page cache,
 * then /bin/ls (dynamically linked: ld.so and libc come through readahead
 * and fault-around too) lists the repository.
 */
export async function runDemo(): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-demo-"));
  try {
    const data = path.join(dir, "data.bin");
    fs.writeFileSync(data, crypto.randomBytes(16 * 1024 * 1024));
    const runs = [["/bin/busybox", "sha256sum", data], ["/bin/ls", "-la", projectRoot()]];
    for (const argv of runs) {
      fs.writeSync(1, `\n$ faultline run --stats ${argv.join(" ")}\n`);
      const status = await runProgram(argv[0], argv, { ...DEFAULT_RUN, stats: true });
      if (status !== 0) return status;
    }
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
