import { defineConfig } from 'vitest/config';
import { SLOW } from './vitest.slow.config.js';

// Most tests run two files at a time. The chaos suites (vitest.slow.config.ts) and tests that measure
// speed (`*.timing.test.ts`: kernel timings that use both cores) run afterwards, alone, with their own
// configs — see `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.timing.test.ts', ...SLOW, '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Sandboxes, HTTP servers and CLI processes are real: keep parallelism modest on 2 cores.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
