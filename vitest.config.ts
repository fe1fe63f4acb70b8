import { defineConfig } from 'vitest/config';

// Most tests run two files at a time. Tests that measure speed (`*.timing.test.ts`: kernel timings
// that use both cores) run afterwards, alone, with vitest.timing.config.ts — see `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.timing.test.ts', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Sandboxes, HTTP servers and CLI processes are real: keep parallelism modest on 2 cores.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
