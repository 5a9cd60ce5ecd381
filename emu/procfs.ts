/**
 * The few /proc files a guest reads about itself, made from faultline's own
 * state (cf. fs/proc/task_mmu.c show_map_vma): /proc/self/maps (and
 * /proc/<pid>/maps for the guest's pid), /proc/self/exe's target.
 */
import * as path from "node:path";
import { SyntheticFile } from "./files.js";
import type { Process } from "./process.js";

/** The canonical /proc path a guest path names, or null when it is not under /proc/self or /proc/<pid>. */
function procPath(p: Process, name: string, base: string): string | null {
  const abs = path.posix.normalize(name.startsWith("/") ? name : `${base}/${name}`);
  const m = /^\/proc\/(self|thread-self|\d+)(\/.*)?$/.exec(abs);
  if (!m || (m[1] !== "self" && m[1] !== "thread-self" && Number(m[1]) !== p.pid)) return null;
  return m[2] ?? "/";
}

/** The target /proc/self/exe reads as, when `name` is that link; else null. */
export function procLink(p: Process, name: string, base: string): string | null {
  return procPath(p, name, base) === "/exe" ? p.exePath : null;
}

/** A synthetic open file for /proc/self/maps, or null when `name` is not one faultline serves. */
export function procFile(p: Process, name: string, base: string): SyntheticFile | null {
  const rest = procPath(p, name, base);
  if (rest === "/maps") return new SyntheticFile("/proc/self/maps", Buffer.from(mapsText(p), "latin1")); // names are GuestPath bytes
  return null;
}

/** /proc/self/maps text: one line per VMA, as Linux prints it. */
export function mapsText(p: Process): string {
  const hex = (n: number, w = 8) => n.toString(16).padStart(w, "0");
  const lines: string[] = [];
  for (const v of p.mm.vmas.all()) {
    const perms = (v.prot & 1 ? "r" : "-") + (v.prot & 2 ? "w" : "-") + (v.prot & 4 ? "x" : "-") + (v.shared ? "s" : "p");
    let dev = "00:00", ino = 0, name = v.name;
    if (v.file) {
      const [d, i] = v.file.key.split(":").map(Number);
      dev = `${hex(Math.floor(d / 256) & 0xfff, 2)}:${hex(d & 0xff, 2)}`;
      ino = i;
      name = p.fs.guestOf(v.file.path);
    }
    const head = `${hex(v.start)}-${hex(v.end)} ${perms} ${hex(v.file ? v.pgoff * 4096 : 0)} ${dev} ${ino}`;
    lines.push(name ? `${head.padEnd(73)}${name}` : head);
  }
  return lines.join("\n") + "\n";
}
