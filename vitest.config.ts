import { defineConfig } from 'vitest/config';

// The TimescaleDB compatibility suite runs a WASM build of PostgreSQL + TimescaleDB (a low-trust,
// test-only package, ~730 MB per instance): it is its own command, `npm run test:timescale`.
const timescale = process.env.JOULEHUB_TEST_TIMESCALE === '1';

export default defineConfig({
  test: {
    include: timescale ? ['core/test/timescale/**/*.test.ts'] : ['core/test/**/*.test.ts', 'integrations/*/test/**/*.test.ts', 'automations/*/test/**/*.test.ts', 'frontend/test/**/*.test.ts'],
    exclude: timescale ? [] : ['core/test/timescale/**', '**/node_modules/**'],
    // Starts one embedded PostgreSQL server per run (and checks JOULEHUB_TEST_DATABASE_URL) for storage suites.
    // Builds frontend/dist when stale, for the end-to-end suites (frontend/test/e2e).
    globalSetup: ['core/test/support/global-setup.ts', 'frontend/test/e2e/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
