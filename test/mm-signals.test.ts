/**
 * Every fault path that ends in a guest signal, and the host surviving it:
 * the exit status is 128 + signal, the report names address, access and rip.
 */
import { describe, expect, it } from "vitest";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, STACK_LIMIT, doMmap } from "../mm/index.js";
import { loadGuest } from "./support/guest.js";
import { shellStatus } from "../emu/process.js";

const RW = PROT_READ | PROT_WRITE;

describe("guest signals", () => {
  const cases = [
    { name: "NULL write (SEGV_MAPERR)", code: "mov qword ptr [0], 1", signo: 11, addr: 0, detail: /SEGV_MAPERR.*write/ },
    // Unicorn 2.1 raises #GP as a CPU does; 2.0.1 reports the access as unmapped: SIGSEGV either way.
    { name: "read of a non-canonical address", code: "mov rax, 0x8000000000000000\nmov rax, [rax]", signo: 11, detail: /general protection|UNMAPPED/ },
    { name: "ud2 (SIGILL)", code: "ud2", signo: 4, detail: /ILL/ },
    { name: "divide by zero (SIGFPE)", code: "xor ecx, ecx\nmov eax, 1\ncdq\nidiv ecx", signo: 8, detail: /FPE_INTDIV/ },
    { name: "int3 (SIGTRAP)", code: "int3", signo: 5, detail: /SI_KERNEL: breakpoint/ }, // si_code as Linux sends it for int3 (do_int3_user: force_sig),
    { name: "jump to unmapped memory (exec fault)", code: "mov rax, 0x7000000\njmp rax", signo: 11, addr: 0x7000000, detail: /SEGV_MAPERR.*exec/ },
  ];
  it.each(cases)("$name", ({ code, signo, addr, detail }) => {
    const g = loadGuest(code);
    const st = g.run();
    expect(st.kind, `got ${JSON.stringify(st)}`).toBe("signaled");
    if (st.kind !== "signaled") return;
    expect(st.signo, `signal: got ${st.signo}, want ${signo}`).toBe(signo);
    expect(shellStatus(st), "shell status").toBe(128 + signo);
    if (addr !== undefined) expect(st.addr, `address: got ${st.addr}, want ${addr}`).toBe(addr);
    expect(`${st.detail} ${st.access ?? ""}`).toMatch(detail);
  });

  it("executing a non-executable page is SIGSEGV where the engine has NX", () => {
    const g = loadGuest("jmp rbx");
    const data = doMmap(g.proc.mm, 0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
    const st = g.run({ rbx: data });
    if (!g.proc.mm.nx) {
      // Unicorn 2.0.1 cannot set EFER.NXE: the page executes (zeros decode as `add [rax], al`, faulting at 0).
      expect(st.kind).toBe("signaled");
      return;
    }
    expect(st.kind === "signaled" && st.signo, `got ${JSON.stringify(st)}`).toBe(11);
    if (st.kind === "signaled") {
      expect(st.detail).toMatch(/SEGV_ACCERR/);
      expect(st.access).toBe("exec");
      expect(st.addr).toBe(data);
    }
  });

  it("the stack grows on faults below it, up to the stack limit, then SIGSEGV", () => {
    const g = loadGuest({
      grow: "sub rsp, rbx\nmov qword ptr [rsp], 1\nmov edi, 0\nmov eax, 231\nsyscall",
    });
    expect(g.run({ rbx: 1024 * 1024 }), "1 MiB below").toEqual({ kind: "exited", code: 0 });
    const st = g.run({ rbx: STACK_LIMIT + 64 * 1024 });
    expect(st.kind === "signaled" && st.signo, `past the limit: got ${JSON.stringify(st)}`).toBe(11);
  });

  it("a runaway guest is stopped by the timeout", () => {
    const g = loadGuest("1: jmp 1b");
    g.proc.options.timeoutMs = 200;
    const st = g.run();
    expect(st.kind === "signaled" && st.signo, `got ${JSON.stringify(st)}`).toBe(9);
    if (st.kind === "signaled") expect(st.detail).toMatch(/timeout/);
  });
});
