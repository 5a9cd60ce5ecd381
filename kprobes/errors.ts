/**
 * Errors of the probes engine. Codes: ENOSYM (no such symbol), EBADSPEC
 * (malformed probe spec), ENOEXEC (not a usable ELF file), ERANGE (offset
 * past a symbol's end), EFAULT (offset outside the file's loaded bytes),
 * ENOTBOUNDARY (not an instruction's first byte), ENOTPROBEABLE (an
 * instruction that cannot be probed, with the reason).
 */
import { FaultlineError } from "../lib/errors.js";

export class ProbeError extends FaultlineError {}
