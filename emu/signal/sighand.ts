/**
 * Signal dispositions (cf. struct sighand_struct, kernel/signal.c
 * do_sigaction): one action per signal, shared by the tasks of a thread
 * group (CLONE_SIGHAND), copied by fork.
 */
import { NSIG, SIG_DFL, SIG_IGN, UNBLOCKABLE, defaultAction } from "./constants.js";

/** One signal's action, as the kernel's struct sigaction holds it. */
export interface SigAction {
  /** sa_handler / sa_sigaction: SIG_DFL (0), SIG_IGN (1) or the handler's address. */
  readonly handler: bigint;
  /** sa_flags (SA_*), the low 32 bits the kernel keeps meaningful, as an unsigned number. */
  readonly flags: number;
  /** sa_restorer: the code the handler returns to (glibc's and musl's __restore_rt). */
  readonly restorer: bigint;
  /** sa_mask: signals blocked while the handler runs (never SIGKILL or SIGSTOP). */
  readonly mask: bigint;
}

/** sizeof(struct sigaction) as rt_sigaction takes it (kernel layout: handler, flags, restorer, mask). */
export const SIGACTION_SIZE = 32;

/** The action every signal starts with. */
export const DEFAULT_ACTION: SigAction = { handler: SIG_DFL, flags: 0, restorer: 0n, mask: 0n };

/** A struct sigaction from the guest's 32 bytes (sa_mask loses SIGKILL and SIGSTOP, cf. sigdelsetmask). */
export function decodeSigAction(b: Uint8Array): SigAction {
  const v = new DataView(b.buffer, b.byteOffset, SIGACTION_SIZE);
  return {
    handler: v.getBigUint64(0, true), flags: Number(v.getBigUint64(8, true) & 0xffffffffn),
    restorer: v.getBigUint64(16, true), mask: v.getBigUint64(24, true) & ~UNBLOCKABLE,
  };
}

/** The 32 bytes of `a` as rt_sigaction writes the old action back. */
export function encodeSigAction(a: SigAction): Uint8Array {
  const b = new Uint8Array(SIGACTION_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, a.handler, true);
  v.setBigUint64(8, BigInt(a.flags >>> 0), true);
  v.setBigUint64(16, a.restorer, true);
  v.setBigUint64(24, a.mask, true);
  return b;
}

/** The dispositions of a thread group. */
export class SigHand {
  /** action[sig] for sig 1..64; index 0 unused. */
  private readonly actions: SigAction[] = new Array(NSIG + 1).fill(DEFAULT_ACTION);
  /** Processes using these dispositions (cf. sighand_struct.count): 1 at creation, +1 per share(), -1 per unshare from exec. */
  private users = 1;

  /** These dispositions for one more process (clone with CLONE_SIGHAND). */
  share(): this {
    this.users++;
    return this;
  }

  /**
   * The dispositions a process keeps for itself at execve (cf. de_thread's
   * unshare_sighand): this object when no one else uses it, else a copy
   * (and this one has one user fewer).
   */
  unshare(): SigHand {
    if (this.users === 1) return this;
    this.users--;
    return this.clone();
  }

  /** A process stops using these (exit). */
  put(): void {
    this.users--;
  }

  /** The action of `sig`. Precondition: 1 <= sig <= 64. */
  get(sig: number): SigAction {
    return this.actions[sig];
  }

  /** Sets the action of `sig`. Precondition: 1 <= sig <= 64, not SIGKILL/SIGSTOP. */
  set(sig: number, a: SigAction): void {
    this.actions[sig] = a;
  }

  /**
   * Whether `sig` would be discarded at once (cf. sig_task_ignored): its
   * handler is SIG_IGN, or SIG_DFL with an action that ignores.
   */
  ignores(sig: number): boolean {
    const h = this.actions[sig].handler;
    return h === SIG_IGN || (h === SIG_DFL && defaultAction(sig) === "ignore");
  }

  /**
   * Starts the signals of `set` ignored, as a program exec'd by a parent
   * that ignored them finds them (cf. flush_signal_handlers keeping SIG_IGN).
   * SIGKILL and SIGSTOP are never ignored.
   */
  ignoreInherited(set: bigint): void {
    for (let sig = 1; sig <= NSIG; sig++) {
      if ((set >> BigInt(sig - 1)) & 1n && !((UNBLOCKABLE >> BigInt(sig - 1)) & 1n)) this.actions[sig] = { ...DEFAULT_ACTION, handler: SIG_IGN };
    }
  }

  /** A copy, for fork without CLONE_SIGHAND (cf. copy_sighand). */
  clone(): SigHand {
    const c = new SigHand();
    for (let sig = 1; sig <= NSIG; sig++) c.actions[sig] = this.actions[sig];
    return c;
  }

  /**
   * What execve leaves (cf. flush_signal_handlers(t, force_default=0)):
   * caught signals go back to SIG_DFL, ignored ones stay ignored; every
   * action's flags, restorer and mask are cleared.
   */
  flushForExec(): void {
    for (let sig = 1; sig <= NSIG; sig++) {
      const a = this.actions[sig];
      this.actions[sig] = a.handler === SIG_IGN ? { ...DEFAULT_ACTION, handler: SIG_IGN } : DEFAULT_ACTION;
    }
  }

  /** Every signal whose handler is SIG_IGN, and every one caught by a handler (for /proc/PID/status). */
  summary(): { ignored: bigint; caught: bigint } {
    let ignored = 0n, caught = 0n;
    for (let sig = 1; sig <= NSIG; sig++) {
      const h = this.actions[sig].handler;
      if (h === SIG_IGN) ignored |= 1n << BigInt(sig - 1);
      else if (h !== SIG_DFL) caught |= 1n << BigInt(sig - 1);
    }
    return { ignored, caught };
  }
}
