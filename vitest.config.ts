import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/test/**/*.test.ts', 'integrations/*/test/**/*.test.ts'],
    // Starts one embedded PostgreSQL server per run (and checks JOULEHUB_TEST_DATABASE_URL) for storage suites.
    globalSetup: ['core/test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
