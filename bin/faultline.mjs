#!/usr/bin/env node
// The faultline command: runs the compiled CLI. `npm run build` (which
// scripts/setup.sh runs) compiles dist/ with tsc and bundles it into one
// module, dist/faultline.mjs: Node's ES module loader spends ~60 ms
// resolving and compiling a hundred separate files at every start-up. The
// bundle is used when it is at least as new as dist/cli/main.js (a bare
// `tsc` after it leaves it stale: then the separate files run).
import * as fs from "node:fs";

const dist = new URL("../dist/", import.meta.url);
const bundle = new URL("faultline.mjs", dist), entry = new URL("cli/main.js", dist);
const mtime = (u) => { try { return fs.statSync(u).mtimeMs; } catch { return -1; } };
const { main } = await import(mtime(bundle) >= mtime(entry) ? bundle.href : entry.href);
process.exitCode = await main(process.argv.slice(2));
