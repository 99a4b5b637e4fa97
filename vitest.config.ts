import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.{ts,tsx}'],
    setupFiles: ['tests/helpers/setup.ts'],
    // One migrated PGlite image per run, which each test file's database starts from.
    globalSetup: ['tests/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite boots a WASM Postgres per test file; two cores run two files at a time comfortably.
    maxWorkers: 2,
  },
});
