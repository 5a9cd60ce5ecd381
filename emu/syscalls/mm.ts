/** Memory system calls: thin argument decoding over mm/ (cf. mm/mmap.c's SYSCALL_DEFINEs). */
import { fail } from "../../lib/errno.js";
import { MAP_ANONYMOUS, doBrk, doMadvise, doMmap, doMprotect, doMremap, doMsync, doMunmap, type MmapFile } from "../../mm/index.js";
import type { Process } from "../process.js";
import { i32, u64, type SyscallTable } from "./types.js";

/** The open file behind `fd` as mmap wants it. @throws EBADF, ENODEV */
function mmapFile(p: Process, fd: number): MmapFile {
  const f = p.fds.get(fd);
  if (!f) fail("EBADF", `mmap: bad fd ${fd}`);
  const mapping = f.mapping;
  if (!mapping) fail("ENODEV", `mmap: fd ${fd} cannot be mapped`);
  return { mapping, readable: f.readable, writable: f.writable };
}

export function registerMm(t: SyscallTable): void {
  t.set(9, { name: "mmap", fn: (p, a) => {
    const flags = i32(a[3]);
    if (u64(a[5]) % 4096 !== 0) fail("EINVAL", "mmap: offset not page-aligned"); // checked before the fd (cf. sys_mmap)
    const file = flags & MAP_ANONYMOUS ? null : mmapFile(p, i32(a[4]));
    return doMmap(p.mm, u64(a[0]), u64(a[1]), i32(a[2]), flags, file, u64(a[5]));
  } });
  t.set(11, { name: "munmap", fn: (p, a) => (doMunmap(p.mm, u64(a[0]), u64(a[1])), 0) });
  t.set(10, { name: "mprotect", fn: (p, a) => (doMprotect(p.mm, u64(a[0]), u64(a[1]), i32(a[2])), 0) });
  t.set(12, { name: "brk", fn: (p, a) => doBrk(p.mm, u64(a[0])) });
  t.set(25, { name: "mremap", fn: (p, a) => doMremap(p.mm, u64(a[0]), u64(a[1]), u64(a[2]), i32(a[3]), u64(a[4])) });
  t.set(28, { name: "madvise", fn: (p, a) => (doMadvise(p.mm, u64(a[0]), u64(a[1]), i32(a[2])), 0) });
  t.set(26, { name: "msync", fn: (p, a) => (doMsync(p.mm, u64(a[0]), u64(a[1]), i32(a[2])), 0) });
}
