/**
 * The page cache holds sparse files at huge offsets: its kernel view is made
 * of windows mapped on demand around the offsets in use, never one host
 * mapping sized from the file size (which failed with "host mmap failed" for
 * a write at 2^44 or 2^53). Ground truth: the same busybox commands run
 * natively, and the bytes of the file itself.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { MemSystem, PAGE_SIZE, filemapRead, filemapWrite, newReadaheadState } from "../mm/index.js";
import { firstDifference, runFaultline, runNative, scratch } from "./support/native.js";

/** The last `n` bytes of a (sparse) file, read at its end. */
function tail(file: string, n: number): Buffer {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, "r");
  try {
    const b = Buffer.alloc(Math.min(n, size));
    fs.readSync(fd, b, 0, b.length, size - b.length);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

describe("sparse files at huge offsets through the page cache", () => {
  const SEEKS: readonly { blocks: number; what: string }[] = [
    { blocks: 2 ** 28, what: "1 TiB" },
    { blocks: 2 ** 31, what: "8 TiB (2^43)" },
    { blocks: 2 ** 32 - 2, what: "just below ext4's 16 TiB limit" },
  ];
  for (const s of SEEKS) {
    it(`busybox dd seek to ${s.what}, then tail -c reads it back: as natively, same file`, () => {
      const dir = scratch("faultline-huge-");
      const src = path.join(dir, "src");
      fs.writeFileSync(src, "faultline\n");
      const results = ["native", "faultline"].map((side) => {
        const out = path.join(dir, side);
        const dd = ["/bin/busybox", "dd", `if=${src}`, `of=${out}`, "bs=4096", `seek=${s.blocks}`];
        const w = side === "native" ? runNative(dd) : runFaultline(dd);
        const rd = ["/bin/busybox", "tail", "-c", "10", out];
        const r = side === "native" ? runNative(rd) : runFaultline(rd);
        const result = { w, r, size: fs.statSync(out).size, end: tail(out, PAGE_SIZE) };
        fs.rmSync(out);
        return result;
      });
      const [want, got] = results;
      expect(got.w.status, `dd exit status: got ${got.w.status}, want ${want.w.status}; stderr ${got.w.stderr.trim()}`).toBe(want.w.status);
      expect(got.size, `file size: got ${got.size}, want ${want.size}`).toBe(want.size);
      if (!got.end.equals(want.end)) expect.fail(`file's last page: ${firstDifference(got.end, want.end)}`);
      expect(got.r.status, `tail exit status: got ${got.r.status}; stderr ${got.r.stderr.trim()}`).toBe(want.r.status);
      expect(got.r.stdout.toString(), "tail -c 10 of the file").toBe(want.r.stdout.toString());
    });
  }

  // Past what the host file system stores (ext4: 16 TiB): the cache alone, no writeback.
  const OFFSETS: readonly { at: number; what: string }[] = [
    { at: 2 ** 44, what: "2^44" },
    { at: 2 ** 52, what: "2^52" },
    { at: 2 ** 53 - 2 * PAGE_SIZE, what: "just below 2^53" },
  ];
  for (const o of OFFSETS) {
    it(`the cache itself holds a page written at ${o.what} and reads it back`, () => {
      const file = path.join(scratch("faultline-huge-"), "f");
      fs.writeFileSync(file, "head");
      const sys = new MemSystem();
      const mapping = sys.openFile(file, true);
      const ra = newReadaheadState();
      const data = Buffer.from(`bytes at ${o.what}`);
      expect(filemapWrite(sys, mapping, ra, o.at + 100, data)).toBe(data.length);
      expect(mapping.size, "file size after the write").toBe(o.at + 100 + data.length);
      const back = Buffer.from(filemapRead(sys, mapping, ra, o.at, 100 + data.length));
      const want = Buffer.concat([Buffer.alloc(100), data]);
      if (!back.equals(want)) expect.fail(`read back: ${firstDifference(back, want)}`);
      expect(Buffer.from(filemapRead(sys, mapping, ra, 0, 4)).toString(), "the head is still there").toBe("head");
      sys.close();
    });
  }
});
