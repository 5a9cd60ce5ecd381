/** Sockets: faultline gives guests no network; socket() answers as a kernel without the family would. */
import { fail } from "../../lib/errno.js";
import type { SyscallTable } from "./types.js";

export function registerNet(t: SyscallTable): void {
  t.set(41, { name: "socket", fn: () => fail("EAFNOSUPPORT", "socket: no networking in faultline guests") });
}
