/**
 * Bulk data through pipes between processes (issue 10): random bytes sent
 * through `cat | cat`, `cat | sha256sum` and `cat | md5sum` under faultline
 * must come out as the host file's real bytes, and hash to what node:crypto
 * computes from that file (the ground truth), with the CPU view on (the
 * default) and off (FAULTLINE_NO_CPU_VIEW: every register through the
 * engine's API). The consumers compute between reads, so the scheduler
 * switches engines in the middle of their work: a lost store, a stale
 * register or a re-run call shows as a wrong hash or a crashed process.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BASE_ENV, firstDifference, runFaultline, scratch } from "./support/native.js";

const dir = scratch("faultline-pipes-");

/** A file of `size` random bytes in the scratch directory (its bytes are the ground truth). */
function randomFile(size: number): string {
  const file = path.join(dir, `rand-${size}.bin`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(size));
  return file;
}

/** The hex digest of a host file by node:crypto. */
function digest(algo: "sha256" | "md5", file: string): string {
  return crypto.createHash(algo).update(fs.readFileSync(file)).digest("hex");
}

const MODES: { name: string; env: Record<string, string> }[] = [
  { name: "CPU view", env: BASE_ENV },
  { name: "FAULTLINE_NO_CPU_VIEW", env: { ...BASE_ENV, FAULTLINE_NO_CPU_VIEW: "1" } },
];

const SIZES = [1 << 20, 12 << 20];

for (const mode of MODES) {
  describe(`pipes between processes carry every byte (${mode.name})`, () => {
    for (const size of SIZES) {
      const mib = `${size >> 20} MiB`;
      it(`cat | cat > out, ${mib}: the same bytes`, () => {
        const file = randomFile(size);
        const out = path.join(dir, `out-${size}-${mode.env.FAULTLINE_NO_CPU_VIEW ?? 0}.bin`);
        const r = runFaultline(["/bin/sh", "-c", `cat ${file} | cat > ${out}`], { env: mode.env }, ["--timeout", "120"]);
        expect(r.status, `status ${r.status}, stderr: ${r.stderr}`).toBe(0);
        const got = fs.readFileSync(out), want = fs.readFileSync(file);
        expect(got.equals(want), `cat | cat: ${firstDifference(got, want)}`).toBe(true);
      });
      for (const algo of ["sha256", "md5"] as const) {
        it(`cat | ${algo}sum, ${mib}: the host file's ${algo}`, () => {
          const file = randomFile(size);
          const r = runFaultline(["/bin/sh", "-c", `cat ${file} | ${algo}sum`], { env: mode.env }, ["--timeout", "120"]);
          const want = `${digest(algo, file)}  -\n`;
          expect(r.status, `status ${r.status}, stderr: ${r.stderr}`).toBe(0);
          expect(r.stdout.toString(), `got ${r.stdout.toString().trim()}, want ${want.trim()}`).toBe(want);
        });
      }
    }
  });
}
