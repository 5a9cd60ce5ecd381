/** Signal numbers and names (x86-64 Linux). */
export const SIG = { SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9, SIGSEGV: 11 } as const;

/** "SIGSEGV" for 11, and so on; "SIG<n>" when unnamed. */
export function signalName(signo: number): string {
  for (const [name, n] of Object.entries(SIG)) if (n === signo) return name;
  return `SIG${signo}`;
}
