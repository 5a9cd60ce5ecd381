/** File system calls (the subset guests of the memory-manager demo need; issue 3 widens it). */
import { fail } from "../../lib/errno.js";
import { copyFromUser, stringFromUser } from "../../mm/index.js";
import type { Process } from "../process.js";
import { i32, u64, type SyscallTable } from "./types.js";

const O_ACCMODE = 3, O_WRONLY = 1, O_RDWR = 2;
const AT_FDCWD = -100;

function open(p: Process, pathAddr: number, flags: number): number {
  const path = stringFromUser(p.mm, pathAddr);
  const acc = flags & O_ACCMODE;
  const writable = acc === O_WRONLY || acc === O_RDWR;
  const mapping = p.mm.sys.openFile(path, writable);
  return p.fds.install({ hostFd: -1, mapping, readable: acc !== O_WRONLY, writable, pos: 0 });
}

function write(p: Process, fd: number, buf: number, len: number): number {
  const f = p.fds.get(fd);
  if (!f || !f.writable) fail("EBADF", `write: bad fd ${fd}`);
  const data = copyFromUser(p.mm, buf, len);
  if (f.hostFd >= 0) {
    p.output(f.hostFd, data);
    return len;
  }
  return fail("EINVAL", "write to regular files is not supported yet");
}

export function registerFs(t: SyscallTable): void {
  t.set(1, { name: "write", fn: (p, a) => write(p, i32(a[0]), u64(a[1]), u64(a[2])) });
  t.set(2, { name: "open", fn: (p, a) => open(p, u64(a[0]), i32(a[1])) });
  t.set(257, { name: "openat", fn: (p, a) => {
    if (i32(a[0]) !== AT_FDCWD) fail("EINVAL", "openat: only AT_FDCWD is supported yet");
    return open(p, u64(a[1]), i32(a[2]));
  } });
  t.set(3, { name: "close", fn: (p, a) => (p.fds.close(i32(a[0])) ? 0 : fail("EBADF", "close: bad fd")) });
}

