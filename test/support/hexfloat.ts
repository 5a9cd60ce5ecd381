/**
 * Test support: hexadecimal floating-point text (printf's %a / %La, as glibc
 * and musl print it) read exactly, and the distance between two such values
 * in units in the last place of a 64-bit significand (x87 long double).
 */

/** A finite value as printed: sig * 2^exp, sig >= 0. */
export interface HexFloat {
  readonly negative: boolean;
  readonly sig: bigint;
  readonly exp: number;
}

/** Parses `[-]0xH.HHHp[+-]E`; undefined for anything else (inf, nan, decimal). */
export function parseHexFloat(text: string): HexFloat | undefined {
  const m = /^(-?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]\d+)$/i.exec(text);
  if (!m) return undefined;
  const frac = m[3] ?? "";
  return { negative: m[1] === "-", sig: BigInt(`0x${m[2]}${frac}`), exp: Number(m[4]) - 4 * frac.length };
}

/**
 * How many units in the last place of a 64-bit significand lie between `a`
 * and `b` (the larger one's ulp), or undefined when either is not a finite
 * hex float or their signs differ.
 */
export function ulps64(a: string, b: string): bigint | undefined {
  const x = parseHexFloat(a), y = parseHexFloat(b);
  if (!x || !y || x.negative !== y.negative) return undefined;
  const e = Math.min(x.exp, y.exp);
  let p = x.sig << BigInt(x.exp - e), q = y.sig << BigInt(y.exp - e);
  const bits = (p > q ? p : q).toString(2).length;
  if (bits < 64) { p <<= BigInt(64 - bits); q <<= BigInt(64 - bits); }
  const unit = 1n << BigInt(Math.max(bits, 64) - 64);
  const d = p > q ? p - q : q - p;
  return d / unit;
}
