/**
 * The generated part of emu/syscalls/README.md: every x86-64 system call
 * number with what faultline does for it, made from the table (SYSCALLS,
 * their `partial` notes, ENOSYS_ON_PURPOSE) and the header's names
 * (names.ts). `node scripts/syscall-table.mjs` rewrites the section;
 * test/syscall-table.test.ts fails when it is stale.
 */
import { ENOSYS_ON_PURPOSE, SYSCALLS } from "./index.js";
import { SYSCALL_NAMES } from "./names.js";

/** The markers around the generated section. */
export const BEGIN = "<!-- BEGIN generated syscall table (node scripts/syscall-table.mjs) -->";
export const END = "<!-- END generated syscall table -->";

/** Status of one call, as the table shows it. */
function status(nr: number): [string, string] {
  const entry = SYSCALLS.get(nr);
  if (entry) return entry.partial ? ["partial", entry.partial] : ["implemented", ""];
  const why = ENOSYS_ON_PURPOSE.get(nr);
  return why ? ["ENOSYS on purpose", why] : ["ENOSYS", "not implemented yet (a warning names it)"];
}

/**
 * The generated section, markers included: counts, then one row per
 * syscall number the header names, in number order.
 */
export function syscallTableMarkdown(): string {
  const rows: string[] = [];
  const counts = new Map<string, number>();
  for (const [nr, name] of [...SYSCALL_NAMES].sort((a, b) => a[0] - b[0])) {
    const [what, note] = status(nr);
    counts.set(what, (counts.get(what) ?? 0) + 1);
    rows.push(`| ${nr} | \`${name}\` | ${what} | ${note.replace(/\|/g, "\\|")} |`);
  }
  const summary = ["implemented", "partial", "ENOSYS on purpose", "ENOSYS"].map((k) => `${counts.get(k) ?? 0} ${k}`).join(", ");
  return [BEGIN, "", `${SYSCALL_NAMES.size} x86-64 system calls: ${summary}.`, "", "| nr | call | status | what is missing, or why |",
    "|---:|---|---|---|", ...rows, "", END].join("\n");
}

/**
 * `readme` with its generated section replaced by the current one.
 * @throws Error when the markers are missing
 */
export function withTable(readme: string): string {
  const a = readme.indexOf(BEGIN), b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error("emu/syscalls/README.md: the generated-table markers are missing");
  return readme.slice(0, a) + syscallTableMarkdown() + readme.slice(b + END.length);
}
