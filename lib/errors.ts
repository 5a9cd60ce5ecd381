/**
 * The one error hierarchy of faultline. Every error the project throws is a
 * subclass of {@link FaultlineError} and carries a machine-readable `code`,
 * so callers switch on codes, never on message text.
 */

/** Base of every faultline error. `code` is stable and machine-readable. */
export class FaultlineError extends Error {
  /** Machine-readable code, e.g. `"UC_ERR_MAP"`, `"EINVAL"`, `"SIGSEGV"`. */
  readonly code: string;

  /**
   * @param code machine-readable code (see subclasses for their vocabularies)
   * @param message one human-readable line
   */
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A Unicorn call failed. `ucErr` is the `uc_err` number, `code` its name. */
export class UnicornError extends FaultlineError {
  /** The numeric `uc_err` the library returned. */
  readonly ucErr: number;
  /** The function that returned it, e.g. `"uc_mem_map_ptr"`. */
  readonly fn: string;

  /**
   * @param fn the failing Unicorn function
   * @param ucErr its `uc_err` result (non-zero)
   * @param name the constant's name, e.g. `UC_ERR_MAP`
   * @param text the library's `uc_strerror` text
   */
  constructor(fn: string, ucErr: number, name: string, text: string) {
    super(name, text.includes(name) ? `${fn}: ${text}` : `${fn}: ${text} (${name})`);
    this.ucErr = ucErr;
    this.fn = fn;
  }
}

/** The engine library could not be loaded or behaves in a way we cannot work around. */
export class EngineError extends FaultlineError {}

/**
 * A Linux errno result. `code` is the errno name (`"EINVAL"`), `errno` its
 * x86-64 number. System-call code returns `-errno` to the guest.
 */
export class ErrnoError extends FaultlineError {
  /** Positive x86-64 Linux errno number. */
  readonly errno: number;

  constructor(errno: number, name: string, message: string) {
    super(name, message);
    this.errno = errno;
  }
}

/**
 * The guest did something that Linux answers with a signal (SIGSEGV, SIGBUS,
 * SIGILL, ...). Raised on the fault path and ends the guest, never the host.
 */
export class GuestSignal extends FaultlineError {
  /** Signal number (SIGSEGV = 11, SIGBUS = 7, ...). */
  readonly signo: number;
  /** Faulting address (CR2 for page faults), or undefined when none applies. */
  readonly addr: number | undefined;
  /** Guest RIP of the faulting instruction. */
  readonly rip: number;
  /** What the guest was doing: "read", "write", "exec", or another short word. */
  readonly access: string;
  /** The si_code-style reason, e.g. "SEGV_MAPERR: no mapping". */
  readonly why: string;
  /** The si_code the guest's handler sees (SEGV_MAPERR = 1, BUS_ADRERR = 2, SI_KERNEL = 0x80, ...). */
  readonly siCode: number;

  /** @param siCode the si_code (default SI_KERNEL, as force_sig reports a signal without one) */
  constructor(code: string, signo: number, rip: number, access: string, addr: number | undefined, why: string, siCode = 0x80) {
    const at = addr === undefined ? "" : ` at 0x${addr.toString(16)}`;
    super(code, `${code} (${why}): ${access}${at}, rip 0x${rip.toString(16)}`);
    this.signo = signo;
    this.addr = addr;
    this.rip = rip;
    this.access = access;
    this.why = why;
    this.siCode = siCode;
  }
}

/** Anonymous memory exceeds the RAM limit and nothing can be reclaimed. */
export class OutOfMemoryError extends FaultlineError {
  constructor(message: string) {
    super("ENOMEM", message);
  }
}
