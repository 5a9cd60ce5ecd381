/**
 * Vitest setup for every test file: after each test, let the event loop
 * turn once. Most tests run programs synchronously (spawnSync); without a
 * turn, a file's tests run back to back without the worker reading its
 * replies from vitest, and a stretch past vitest's 60 s RPC timeout ends the
 * run with `Timeout calling "onTaskUpdate"` although every test passed.
 */
import { afterEach } from "vitest";

afterEach(() => new Promise<void>((done) => setImmediate(done)));
