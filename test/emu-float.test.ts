/**
 * Floating point as the CPU does it, byte for byte against the same program
 * run natively: the exception flags SSE and x87 arithmetic raise
 * (test/programs/fenv.c), results under each rounding mode and x87
 * precision, FTZ/DAZ, the flags a signal frame, sigreturn and fork carry,
 * and long double libm results over fixed inputs (test/programs/ldbl.c),
 * for glibc static, musl static and glibc dynamic builds.
 *
 * Each case names the engine patch it needs (third_party/unicorn/patches:
 * 0007 the x87/SSE exception flags, 0008 the x87 transcendental
 * instructions in 80-bit precision). On an engine without it (the official
 * 2.1.4 wheel, Debian's 2.0.1, which CI also runs this file on) the case is
 * a known difference, reported as skipped with the reason (README, "Known
 * differences"); every other case must pass there too.
 */
import * as path from "node:path";
import { describe, it } from "vitest";
import { loadUnicorn } from "../emu/index.js";
import { describeCases, type ProgramCase } from "./support/cases.js";
import { REPO } from "./support/native.js";

/** A case and the patch of faultline's engine it needs ("" for none). */
interface FloatCase extends ProgramCase {
  patch: "" | "0007" | "0008";
}

/** What an engine without the patch gets wrong. */
const WHY: Record<"0007" | "0008", string> = {
  "0007": "QEMU 5.0 never turns softfloat's exceptions into FSW/MXCSR flags (patch 0007)",
  "0008": "QEMU 5.0 computes F2XM1/FYL2X/FYL2XP1/FPATAN/FPREM through the host's double (patch 0008)",
};

/** Why a few long double results are one ulp off on faultline's build too. */
const LASTBIT = "F2XM1/FYL2X/FYL2XP1/FPATAN round QEMU's 128-bit polynomial once, the CPU's microcode differs in the last bit for ~3% of operands (qemu-x86_64 7.2 prints the same bits as faultline)";

const FENV: FloatCase[] = [
  { name: "sse-flags", why: "each SSE operation's flags (fetestexcept and MXCSR, DE included) and result", patch: "0007" },
  { name: "x87-flags", why: "each x87 operation's flags (fetestexcept and FSW) and result", patch: "0007" },
  { name: "x87-precision", why: "x87 precision control 24/53/64 bits: results and FSW", patch: "0007" },
  { name: "sse-ftz-daz", why: "MXCSR FTZ and DAZ: flushed results, DE and UE/PE", patch: "0007" },
  { name: "flags-across", why: "the flags in a signal frame's fpstate, after sigreturn, and in a forked child", patch: "0007" },
  { name: "x87-insns", why: "F2XM1, FYL2X, FYL2XP1, FPATAN, FSCALE, FPREM, FPREM1, FXTRACT: 64-bit results and flags", patch: "0008" },
  { name: "sse-round", why: "double and float arithmetic, conversions and libm under each rounding mode", patch: "0008" },
  { name: "x87-round", why: "long double arithmetic, conversions and libm under each rounding mode", patch: "0008", lastBit: { fns: ["logl", "expl"], why: LASTBIT } },
];

const LDBL: FloatCase[] = [
  { name: "exp-log", why: "expl exp2l expm1l logl log2l log10l log1pl sqrtl cbrtl powl", patch: "0008", lastBit: { fns: ["logl"], why: LASTBIT } },
  { name: "trig", why: "sinl cosl tanl atanl asinl acosl atan2l", patch: "0008", lastBit: { fns: ["asinl"], why: LASTBIT } },
  { name: "hyper", why: "sinhl coshl tanhl asinhl acoshl atanhl", patch: "0008", lastBit: { fns: ["atanhl"], why: LASTBIT } },
  { name: "special", why: "lgammal tgammal erfl erfcl hypotl fmodl remainderl", patch: "0008" },
  { name: "fma", why: "fmal under each rounding mode, with FE_INEXACT", patch: "0008" },
  { name: "strtold", why: "strtold of hard cases under each rounding mode", patch: "" },
  { name: "printf", why: "%Lg %Le %Lf %La of long doubles", patch: "" },
];

const lib = loadUnicorn();
/** Whether the engine under test has patch `p` (only faultline's own build lists patches). */
const has = (p: string): boolean => p === "" || lib.patches.some((name) => name.startsWith(`${p}-`));
const engine = `${lib.version} (${lib.source})`;

function register(prog: string, cases: FloatCase[]): void {
  const src = path.join(REPO, "test", "programs", prog);
  const run = cases.filter((c) => has(c.patch));
  const known = cases.filter((c) => !has(c.patch));
  if (run.length) describeCases(src, run, { cflags: ["-lm"] });
  if (known.length) {
    describe(`${prog}: known differences on Unicorn ${engine}`, () => {
      for (const c of known) it.skip(`${c.name}: ${c.why} (${WHY[c.patch as "0007" | "0008"]})`, () => {});
    });
  }
}

register("fenv.c", FENV);
register("ldbl.c", LDBL);
