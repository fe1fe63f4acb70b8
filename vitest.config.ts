import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Sandboxes, HTTP servers and CLI processes are real: keep parallelism modest on 2 cores.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
