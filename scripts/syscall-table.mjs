#!/usr/bin/env node
// Rewrites the generated syscall table in emu/syscalls/README.md from the
// built table (run `npx tsc -p tsconfig.json` first). See emu/syscalls/table-doc.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { withTable } = await import(path.join(repo, "dist", "emu", "syscalls", "table-doc.js"));
const readme = path.join(repo, "emu", "syscalls", "README.md");
fs.writeFileSync(readme, withTable(fs.readFileSync(readme, "utf8")));
console.log(`wrote ${path.relative(repo, readme)}`);
