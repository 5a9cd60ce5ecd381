/**
 * Open files of a process (cf. struct files_struct). Descriptors 0-2 are the
 * host's standard streams; files opened by the guest are page caches with
 * an open mode and a position.
 */
import type { AddressSpace } from "../mm/index.js";

/** One open file description. */
export interface OpenFile {
  /** Host descriptor to pass data through (standard streams), or -1. */
  readonly hostFd: number;
  /** The file's page cache, for regular files; null for streams. */
  readonly mapping: AddressSpace | null;
  readonly readable: boolean;
  readonly writable: boolean;
  /** Current offset (regular files). */
  pos: number;
}

/** Descriptor -> open file. */
export class FdTable {
  private readonly files = new Map<number, OpenFile>();

  constructor() {
    this.files.set(0, { hostFd: 0, mapping: null, readable: true, writable: false, pos: 0 });
    this.files.set(1, { hostFd: 1, mapping: null, readable: false, writable: true, pos: 0 });
    this.files.set(2, { hostFd: 2, mapping: null, readable: false, writable: true, pos: 0 });
  }

  /** The open file at `fd`, if any. */
  get(fd: number): OpenFile | undefined {
    return this.files.get(fd);
  }

  /** Installs `f` at the lowest free descriptor and returns it (cf. get_unused_fd). */
  install(f: OpenFile): number {
    let fd = 0;
    while (this.files.has(fd)) fd++;
    this.files.set(fd, f);
    return fd;
  }

  /** Closes `fd`. @returns false when it was not open */
  close(fd: number): boolean {
    return this.files.delete(fd);
  }
}
