/**
 * Descriptor table of a process (cf. struct files_struct): descriptor ->
 * open file description, plus the close-on-exec bit. dup() shares a
 * description; the last close releases it.
 */
import { fail } from "../lib/errno.js";
import type { OpenFile } from "./files.js";

/** Most descriptors a process may have (cf. RLIMIT_NOFILE's soft default). */
export const NOFILE = 1024;

/** Descriptor -> open file. */
export class FdTable {
  private readonly fds = new Map<number, { file: OpenFile; cloexec: boolean }>();
  /** Processes using this table (cf. files_struct.count): 1 at creation, +1 per share(); its files close when the last one puts it. */
  private users = 1;

  /** This table for one more process (clone with CLONE_FILES, cf. copy_files). */
  share(): this {
    this.users++;
    return this;
  }

  /** Whether another process uses this table too (execve then takes a copy: unshare_files). */
  get shared(): boolean {
    return this.users > 1;
  }

  /** A process stops using this table (exit, or execve's unshare); the last one closes every descriptor (cf. put_files_struct). */
  release(): void {
    if (--this.users === 0) this.closeAll();
  }

  /** The open file at `fd`, if any. */
  get(fd: number): OpenFile | undefined {
    return this.fds.get(fd)?.file;
  }

  /** The open file at `fd`. @throws ErrnoError EBADF */
  must(fd: number): OpenFile {
    const f = this.fds.get(fd)?.file;
    return f ?? fail("EBADF", `bad file descriptor ${fd}`);
  }

  /**
   * Installs `file` at the lowest free descriptor at or above `min` (cf. get_unused_fd_flags).
   * @throws ErrnoError EMFILE when the table is full
   */
  install(file: OpenFile, cloexec = false, min = 0): number {
    let fd = min;
    while (this.fds.has(fd)) fd++;
    if (fd >= NOFILE) fail("EMFILE", "too many open files");
    this.put(fd, file, cloexec);
    return fd;
  }

  /** Puts `file` at `fd`, closing what was there (cf. dup2). */
  put(fd: number, file: OpenFile, cloexec: boolean): void {
    if (fd < 0 || fd >= NOFILE) fail("EBADF", `descriptor ${fd} out of range`);
    file.refs++;
    if (this.fds.has(fd)) this.close(fd);
    this.fds.set(fd, { file, cloexec });
  }

  /** Closes `fd`. @throws ErrnoError EBADF */
  close(fd: number): void {
    const e = this.fds.get(fd);
    if (!e) fail("EBADF", `close: bad file descriptor ${fd}`);
    this.fds.delete(fd);
    if (--e.file.refs === 0) e.file.release();
  }

  /** The close-on-exec bit of `fd`. */
  cloexec(fd: number): boolean {
    return this.fds.get(fd)?.cloexec ?? fail("EBADF", `bad file descriptor ${fd}`);
  }

  /** Sets the close-on-exec bit of `fd`. */
  setCloexec(fd: number, on: boolean): void {
    const e = this.fds.get(fd) ?? fail("EBADF", `bad file descriptor ${fd}`);
    e.cloexec = on;
  }

  /**
   * fork's copy (cf. dup_fd): the same open file descriptions at the same
   * numbers, so offsets and status flags are shared, with their close-on-exec bits.
   */
  clone(): FdTable {
    const t = new FdTable();
    for (const [fd, e] of this.fds) t.put(fd, e.file, e.cloexec);
    return t;
  }

  /** Closes every descriptor whose close-on-exec bit is set (cf. do_close_on_exec); the others stay as they are. */
  closeOnExec(): void {
    for (const [fd, e] of [...this.fds]) if (e.cloexec) this.close(fd);
  }

  /** Closes every descriptor (process exit). */
  closeAll(): void {
    for (const fd of [...this.fds.keys()]) this.close(fd);
  }
}
