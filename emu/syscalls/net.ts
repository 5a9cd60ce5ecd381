/** Sockets: faultline gives guests no network; socket() answers as a kernel without the family would. */
import { fail } from "../../lib/errno.js";
import type { Process } from "../process.js";
import { i32, type SyscallTable } from "./types.js";

/** A call on a socket descriptor: no guest descriptor is one (ENOTSOCK, cf. sockfd_lookup), EBADF when not open. */
function notSocket(name: string) {
  return {
    name, fn: (p: Process, a: readonly number[]) => {
      p.fds.must(i32(a[0]));
      return fail("ENOTSOCK", `${name}: not a socket`);
    },
  };
}

export function registerNet(t: SyscallTable): void {
  t.set(41, { name: "socket", fn: () => fail("EAFNOSUPPORT", "socket: no networking in faultline guests") });
  // bash asks getpeername of stdin whether it runs under a remote shell daemon (then it reads ~/.bashrc).
  for (const [nr, name] of [[48, "shutdown"], [51, "getsockname"], [52, "getpeername"], [54, "setsockopt"], [55, "getsockopt"]] as const) t.set(nr, notSocket(name));
}
