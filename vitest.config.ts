import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests spawn real processes and read /proc; keep them from fighting for 2 cores.
    poolOptions: { forks: { maxForks: 2 } },
    pool: "forks",
  },
});
