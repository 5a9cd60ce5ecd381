#!/usr/bin/env node
// The faultline command: runs the compiled CLI (npm run build, or scripts/setup.sh, makes dist/).
import { main } from "../dist/cli/main.js";
process.exitCode = await main(process.argv.slice(2));
