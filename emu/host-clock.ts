/**
 * The host's clocks, read with clock_gettime(2) and clock_getres(2) through
 * koffi. The guest's clocks are the host's: the coarse clocks tick as the
 * host kernel's tick (so time(2) and the times the host file system stamps
 * agree, as they do natively), and CLOCK_REALTIME has the host's resolution.
 */
import koffi from "koffi";
import { errnoName, fail } from "../lib/errno.js";

const libc = koffi.load("libc.so.6");
const c_clock_gettime = libc.func("int clock_gettime(int clock, _Out_ uint8_t *ts)");
const c_clock_getres = libc.func("int clock_getres(int clock, _Out_ uint8_t *ts)");

/** Clock ids (cf. include/uapi/linux/time.h). */
export const CLOCK_REALTIME = 0, CLOCK_REALTIME_COARSE = 5;

/** The static clock ids Linux knows (cf. posix_clocks[]): 0-9 and CLOCK_TAI (11); 10 is unused. */
function isStaticClock(clock: number): boolean {
  return Number.isInteger(clock) && clock >= 0 && clock <= 11 && clock !== 10;
}

/** Reads one host clock call's timespec as nanoseconds; throws the host's errno. */
function call(fn: (clock: number, ts: Uint8Array) => number, what: string, clock: number): bigint {
  if (!isStaticClock(clock)) return fail("EINVAL", `${what}: clock ${clock} is not one of Linux's static clocks`);
  const ts = new Uint8Array(16);
  if (fn(clock, ts) !== 0) return fail(errnoName(koffi.errno()) ?? "EINVAL", `${what}(${clock}) failed on the host`);
  const v = new DataView(ts.buffer);
  return v.getBigInt64(0, true) * 1_000_000_000n + v.getBigInt64(8, true);
}

/**
 * The host clock `clock` now, in nanoseconds since its epoch (cf.
 * posix_get_*_timespec). Dynamic clocks (negative ids: another process's
 * CPU clock, a clock fd) are not offered.
 * @throws the guest's EINVAL for a clock id that is not a static one.
 */
export function hostClockNs(clock: number): bigint {
  return call(c_clock_gettime, "clock_gettime", clock);
}

/**
 * The resolution of host clock `clock` in nanoseconds (cf. posix_get_hrtimer_res,
 * posix_get_coarse_res: one tick for the coarse clocks).
 * @throws the guest's EINVAL for a clock id that is not a static one.
 */
export function hostClockResNs(clock: number): bigint {
  return call(c_clock_getres, "clock_getres", clock);
}
