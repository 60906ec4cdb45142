import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e suites each start a local host on a free port; files run in parallel forks.
    pool: "forks",
    // Most of a file's time is spent waiting on sockets, not the CPU: two forks keep two
    // cores busy (vitest's default on a two-core machine is one, which leaves one idle).
    maxWorkers: 2,
  },
});
