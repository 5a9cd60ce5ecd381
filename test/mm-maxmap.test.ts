/**
 * Mappings at scale and vm.max_map_count, against Linux itself:
 * guest/maxmap.c fills the address space with one-page mappings until mmap
 * fails, then probes mmap, munmap, mprotect and mremap at the limit and just
 * below it (splits that add one or two areas, trims, whole-area changes,
 * moves); the native run on this host is the reference, line by line
 * (each call's result, and the number of areas after each round).
 * Correctness only: the speed of it is bench/mappings.ts's business.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_MAP_COUNT } from "../mm/index.js";
import { REPO, buildC, runFaultline, runNative } from "./support/native.js";

const SOURCE = path.join(REPO, "guest", "maxmap.c");

/** `<case> <result>` lines as [case, rest] pairs, in order. */
function lines(out: Buffer): [string, string][] {
  return out.toString("utf8").split("\n").filter((l) => l !== "").map((l) => {
    const sp = l.indexOf(" ");
    return [l.slice(0, sp), l.slice(sp + 1)];
  });
}

describe("vm.max_map_count: 65,530 mappings, then ENOMEM where Linux answers it", () => {
  const hostLimit = Number(fs.readFileSync("/proc/sys/vm/max_map_count", "utf8"));

  it(`this host's vm.max_map_count is Linux's default, ${MAX_MAP_COUNT} (the native run is the reference only then)`, () => {
    expect(hostLimit, `host vm.max_map_count: got ${hostLimit}, want ${MAX_MAP_COUNT}`).toBe(MAX_MAP_COUNT);
  });

  it("every probe answers as natively, and the area counts agree", () => {
    const bin = buildC(SOURCE, "nolibc");
    const want = runNative([bin, "limit"]);
    expect(want.status, `native run: ${want.stderr}`).toBe(0);
    const got = runFaultline([bin, "limit"], { timeoutMs: 240_000 }, ["--timeout", "200"]);
    expect(got.status, `faultline exit status: got ${got.status}, want 0; stderr: ${got.stderr.trim()}`).toBe(0);
    const w = lines(want.stdout), g = lines(got.stdout);
    expect(w[0], "the native run filled up to the limit").toEqual(["mmap-until-error", `-12 maps=${MAX_MAP_COUNT + 1}`]);
    for (let k = 0; k < w.length; k++) {
      const [name, wantResult] = w[k];
      const gotResult = g[k]?.[0] === name ? g[k][1] : `<missing; faultline line ${k}: ${JSON.stringify(g[k])}>`;
      expect(gotResult, `${name}: got ${gotResult}, want ${wantResult}`).toBe(wantResult);
    }
    expect(g.length, "no extra lines").toBe(w.length);
  }, 300_000);
});
