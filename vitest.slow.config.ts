import { defineConfig } from 'vitest/config';

// Suites that kill real runners at moments aimed to the millisecond (chaos, orphans) and keep both
// cores busy doing it: they run after the fast ones, one file at a time, with nothing beside them
// (DESIGN.md: slow suites after the fast ones), so neither their aims nor other files' CPU-time
// checks (the kernels' thread rule) depend on what else happens to run. Excluded from vitest.config.ts.
// `*.slow.test.ts`: the external agent CLIs' end-to-end tests (real CLIs installed from the npm
// registry into the install cache, one real run each).
export const SLOW = ['test/e2e/chaos.test.ts', 'test/e2e/orphans.test.ts', 'test/**/*.slow.test.ts'];

export default defineConfig({
  test: {
    include: SLOW,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
    minWorkers: 1,
  },
});
