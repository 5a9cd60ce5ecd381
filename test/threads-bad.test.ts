/**
 * Threads asked for wrongly (test/programs/thread_bad.c): clone flag
 * combinations Linux refuses (EINVAL, compared with the native run), a
 * thread whose stack is unmapped (SIGSEGV kills the process, as natively),
 * and more threads than the limit: pthread_create's documented EAGAIN
 * (pthread_create(3), clone(2)) at --max-threads, never a host failure.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { describeCases } from "./support/cases.js";
import { REPO, buildC, runFaultline } from "./support/native.js";

const SRC = path.join(REPO, "test", "programs", "thread_bad.c");

describeCases(SRC, [
  { name: "flags", why: "CLONE_THREAD without CLONE_SIGHAND, CLONE_SIGHAND without CLONE_VM, CLONE_FS|CLONE_NEWNS, CLONE_THREAD|CLONE_NEWPID: EINVAL" },
  { name: "bad_stack", why: "a thread's unmapped stack: its first push faults and SIGSEGV kills the process", status: 139, once: true },
], { cflags: ["-pthread"] });

describe("more threads than --max-threads", () => {
  it("100,000 threads asked for with --max-threads 200: EAGAIN after 199 (the first task counts), all joined, exit 0", () => {
    const prog = buildC(SRC, "gcc-static", ["-pthread"]);
    const r = runFaultline([prog, "many", "100000"], {}, ["--timeout", "120", "--max-threads", "200"]);
    expect(r.status, `status: got ${r.status}, want 0\n${r.stderr}`).toBe(0);
    expect(r.stdout.toString(), "what the program saw").toBe("stopped: EAGAIN\nmade 199\njoined 199\n");
  }, 180_000);
});
