import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Lets each worker answer vitest between its synchronous tests (see the file).
    setupFiles: ["test/support/setup.ts"],
    // Each test file gets its own process: engines and host mappings are native state.
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
