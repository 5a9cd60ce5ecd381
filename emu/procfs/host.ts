/**
 * System-wide /proc and /sys files: faultline's own state where it has one
 * (the guest's CPUs, --cpus, as sched_getaffinity answers; the RAM limit; the mounts seen
 * from the guest's root), the host's files otherwise, in the real files'
 * formats (cf. fs/proc/cpuinfo.c + arch/x86/kernel/cpu/proc.c,
 * fs/proc/meminfo.c, fs/proc/stat.c, fs/proc_namespace.c,
 * drivers/base/cpu.c).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Process } from "../process.js";

/**
 * A host pseudo-file's whole content, read to its end (pseudo-files report
 * size 0). The caller turns a failure into the guest's errno.
 */
export function hostText(file: string): string {
  return fs.readFileSync(file, "latin1");
}

/** The CPU list of /sys/devices/system/cpu/{online,possible,present} for `cpus` CPUs (cf. cpumap_print_to_pagebuf): "0" or "0-N". */
export function cpuListText(cpus: number): string {
  return cpus === 1 ? "0\n" : `0-${cpus - 1}\n`;
}

/**
 * /proc/cpuinfo for `cpus` CPUs: the host's blocks (processor 0 ..), the
 * host's last one repeated, renumbered, when the guest has more CPUs than
 * the host, with the topology lines saying how many there are. Flags are
 * the host CPU's, not the emulated CPU's CPUID.
 */
export function cpuinfoText(cpus: number): string {
  const host = hostText("/proc/cpuinfo").split("\n\n").filter((b) => b.trim() !== "");
  const renumber = (b: string, k: number) => b.replace(/^(processor|core id|apicid|initial apicid)(\s*): \d+$/gm, `$1$2: ${k}`);
  const block = (k: number) => (k < host.length ? host[k] : renumber(host[host.length - 1], k))
    .replace(/^(siblings|cpu cores)(\s*): \d+$/gm, `$1$2: ${cpus}`);
  return Array.from({ length: cpus }, (_, k) => block(k) + "\n\n").join("");
}

/**
 * /proc/meminfo: the host's lines, with the totals faultline decides set from
 * its own state as sysinfo(2) reports them: MemTotal is the RAM limit (the
 * host's RAM without one), MemFree what the guest's pages leave of it,
 * Cached the page cache, AnonPages the anonymous memory, no swap.
 */
export function meminfoText(p: Process): string {
  const sys = p.mm.sys, limit = sys.config.ramLimitPages;
  const kb = (pages: number) => pages * 4;
  const totalKb = limit === Infinity ? Math.floor(os.totalmem() / 1024) : kb(limit);
  const freeKb = Math.max(0, totalKb - kb(sys.filePages + sys.anonPages));
  const own: Record<string, number> = {
    MemTotal: totalKb, MemFree: freeKb, MemAvailable: Math.max(0, totalKb - kb(sys.anonPages)), Buffers: 0,
    Cached: kb(sys.filePages), SwapCached: 0, AnonPages: kb(sys.anonPages), SwapTotal: 0, SwapFree: 0,
    Shmem: 0, KReclaimable: 0, SReclaimable: 0,
  };
  // cf. show_val_kb: the name and colon padded to 16 columns, the value to 8, then " kB".
  return hostText("/proc/meminfo").replace(/^([^:\n]+):(\s*)(\d+) kB$/gm, (line, name: string) =>
    name in own ? `${`${name}:`.padEnd(16)}${String(own[name]).padStart(8)} kB` : line);
}

/** /proc/stat: the host's, with the "cpu" total and per-CPU lines only for the guest's first `cpus` CPUs (at most the host's). */
export function statText(cpus: number): string {
  const lines = hostText("/proc/stat").split("\n");
  const perCpu = lines.filter((l) => /^cpu\d+ /.test(l)).slice(0, cpus);
  const sum = perCpu.map((l) => l.split(/\s+/).slice(1).map(Number)).reduce((a, b) => b.map((v, k) => v + (a[k] ?? 0)), [] as number[]);
  const out: string[] = [];
  for (const l of lines) {
    if (l.startsWith("cpu ")) out.push(`cpu  ${sum.join(" ")}`, ...perCpu);
    else if (!/^cpu\d+ /.test(l)) out.push(l);
  }
  return out.join("\n");
}

/**
 * Mount table lines of the host (`file`: /proc/self/mounts or mountinfo)
 * as seen from the guest's root (cf. show_vfsmnt + seq_path_root): only
 * mounts at or under the root, their mount point (field `field`) relative
 * to it; the others are unreachable and left out.
 */
export function mountsText(p: Process, file: string, field: number): string {
  const root = p.fs.root;
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: string[] = [];
  for (const line of hostText(file).split("\n")) {
    const f = line.split(" ");
    if (f.length <= field) continue;
    const rel = path.relative(root, unescape(f[field]));
    if (rel.split(path.sep)[0] === ".." || path.isAbsolute(rel)) continue;
    f[field] = rel === "" ? "/" : "/" + rel.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
    out.push(f.join(" "));
  }
  return out.map((l) => l + "\n").join("");
}
