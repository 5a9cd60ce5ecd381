/**
 * Synchronous signals from CPU exceptions, native vs faultline (issue 9):
 * SIGSEGV handled by mprotect-and-retry (faults counted: native and faultline
 * must count the same, with si_code, si_addr, the error code, trapno and CR2
 * in the ucontext), userfault-style mmap on demand over 64 MiB (PROT_NONE and
 * unmapped), SIGFPE and SIGILL skipped by editing RIP, SIGTRAP from the
 * program's own int3, SIGBUS past the end of a file mapping, siglongjmp out
 * of a handler (the mask as sigsetjmp saved it), a stack overflow caught on a
 * sigaltstack; the guest in ring 3 (its selectors after start, fork, exec
 * and sigreturn, the privileged instructions' #GP, user accesses to kernel
 * addresses); and the synchronous signals that kill although a handler is
 * installed (blocked, ignored, raised inside their own handler, no altstack).
 * One `sigfaults CASE` run per test, built three ways (test/support/cases.ts).
 */
import * as path from "node:path";
import { REPO } from "./support/native.js";
import { describeCases } from "./support/cases.js";

describeCases(path.join(REPO, "test", "programs", "sigfaults.c"), [
  { name: "mprotect", why: "SIGSEGV handler mprotects the page and returns: faults, SEGV_ACCERR, err, trapno, CR2" },
  { name: "userfault-none", why: "64 MiB PROT_NONE, each page mmapped by the handler: 16384 faults, checksum" },
  { name: "userfault-unmapped", why: "64 MiB unmapped, each page mmapped by the handler: SEGV_MAPERR, checksum" },
  { name: "exec-fault", why: "a JIT's pattern: executing a RW page faults (SEGV_ACCERR, err 0x15), the handler makes it RX, the call retried" },
  { name: "gp", why: "a non-canonical load: #GP, SIGSEGV SI_KERNEL, si_addr 0, trapno 13, skipped by RIP" },
  { name: "patch-text", why: "a write to the program's own text faults, the handler makes it writable; the patched code is what runs" },
  { name: "privileged", why: "ring 3: cli, sti, hlt, mov cr/dr, rdmsr/wrmsr, lgdt/lidt/ltr/lldt, clts, invlpg, wbinvd, swapgs, sysretq and int through DPL-0 gates are #GP: SIGSEGV SI_KERNEL, trapno 13, err" },
  {
    name: "ia32", why: "as a kernel without IA32 emulation: no 0x23 code segment (lar fails), int $0x80 is #GP (err 0x402)",
    hostKind: { nativeShows: /int \$0x80 \(no IA32 emulation\): faults=0/, why: "a host kernel with IA32 emulation runs int $0x80 as a 32-bit system call; faultline has none" },
  },
  { name: "segments", why: "cs 0x33, ss 0x2b, ds/es/fs/gs 0; lar/lsl/verr/verw of Linux's selectors; loading 0x2b into ds works; bad ds/ss loads and a far return to a data segment are #GP with the selector as err" },
  { name: "kernel-addr", why: "reads and writes of kernel addresses (and where faultline keeps its GDT): SEGV_MAPERR, err with the user bit, the protection bit as Linux sanitizes it" },
  { name: "segments-fork", why: "a fork child and the program it execs run in ring 3 too (cs 0x33, ss 0x2b)" },
  { name: "sigreturn-segments", why: "the frame's cs/ss are 0x33/0x2b; sigreturn with their RPL bits cleared puts them back to 3" },
  { name: "sigreturn-bad-cs", why: "a handler that makes the frame's cs a data segment: the return fails, SIGSEGV kills (139)", status: 139 },
  { name: "fpe", why: "SIGFPE FPE_INTDIV at the idiv, skipped by RIP += 2, rax edited" },
  { name: "ill", why: "SIGILL ILL_ILLOPN at the ud2, skipped by RIP += 2" },
  { name: "trap", why: "int3: SIGTRAP as native gives it (si_code, RIP after), then the default kills (133)", status: 133 },
  { name: "bus", why: "SIGBUS BUS_ADRERR past EOF of a file mapping, si_addr exact; gone after ftruncate" },
  { name: "longjmp", why: "siglongjmp out of a SIGSEGV handler restores sigsetjmp's mask; longjmp with savemask 0 does not" },
  { name: "overflow", why: "infinite recursion caught on a sigaltstack (SA_ONSTACK)" },
  { name: "overflow-noalt", why: "the same overflow with no altstack: SIGSEGV kills (139)", status: 139 },
  { name: "blocked-segv", why: "a fault with SIGSEGV blocked kills (139) despite the handler", status: 139 },
  { name: "ignored-fpe", why: "a divide by zero with SIGFPE ignored kills (136)", status: 136 },
  { name: "segv-in-handler", why: "a fault inside the SIGSEGV handler kills (139)", status: 139 },
  { name: "segv-default", why: "a NULL write with no handler kills (139)", status: 139 },
], { flags: ["--timeout", "60"] });
