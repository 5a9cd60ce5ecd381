/**
 * One address space, several engines: a thread changes the mapping of a
 * page another thread reads in a loop (test/programs/thread_shootdown.c);
 * once the reader sees the change's flag, its engine must see the change
 * (cf. flush_tlb_mm_range reaching every CPU that runs the mm). Native runs
 * are the ground truth: "stale 0", and a fault where the page went away.
 */
import * as path from "node:path";
import { describeCases } from "./support/cases.js";
import { REPO } from "./support/native.js";

describeCases(path.join(REPO, "test", "programs", "thread_shootdown.c"), [
  { name: "remap", why: "mmap MAP_FIXED over the page, other bytes written: no read after the flag sees the old page" },
  { name: "mprotect", why: "PROT_NONE: the reader's next read faults with SEGV_ACCERR" },
  { name: "munmap", why: "munmap: the reader's next read faults with SEGV_MAPERR" },
  { name: "dontneed", why: "MADV_DONTNEED: reads after the flag see zeros" },
  { name: "cow", why: "a fork, then the writer's copy-on-write break: the reader sees the new page" },
], { cflags: ["-pthread"] });
