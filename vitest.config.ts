import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // bench/'s own tests live with it: test/ may not import bench/, which reuses test/support.
    include: ["test/**/*.test.ts", "bench/test/**/*.test.ts"],
    // One PostgreSQL cluster for the run; tests make their own databases in it.
    globalSetup: ["./test/support/postgres-global.ts"],
    // Process-level tests spawn real daemons; 2 cores, so keep parallelism modest.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
