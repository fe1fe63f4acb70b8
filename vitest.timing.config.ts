import { defineConfig } from 'vitest/config';

// Tests whose assertions depend on timing the machine (kernel speedups): one file at a time, with
// nothing else of the test suite running beside them.
export default defineConfig({
  test: {
    include: ['test/**/*.timing.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    maxWorkers: 1,
    minWorkers: 1,
  },
});
