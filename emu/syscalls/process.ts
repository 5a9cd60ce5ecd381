/** Process-lifetime and time system calls. */
import { copyToUser } from "../../mm/index.js";
import type { Process } from "../process.js";
import { i32, u64, type SyscallTable } from "./types.js";

export function registerProcess(t: SyscallTable): void {
  t.set(60, { name: "exit", fn: (p, a) => p.exit(i32(a[0]) & 0xff) });
  t.set(231, { name: "exit_group", fn: (p, a) => p.exit(i32(a[0]) & 0xff) });
  t.set(228, { name: "clock_gettime", fn: (p, a) => {
    const ns = process.hrtime.bigint();
    const ts = new DataView(new ArrayBuffer(16));
    ts.setBigInt64(0, ns / 1_000_000_000n, true);
    ts.setBigInt64(8, ns % 1_000_000_000n, true);
    copyToUser(p.mm, u64(a[1]), new Uint8Array(ts.buffer));
    return 0;
  } });
}
