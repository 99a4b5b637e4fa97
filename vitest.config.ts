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
    // expect.poll waits for something that will happen (a page switching company after an upload, a row appearing);
    // its 1 s default failed browser tests on a loaded 2-core CI machine. A poll that succeeds returns at once.
    expect: { poll: { timeout: 15_000 } },
    // PGlite boots a WASM Postgres per test file; two cores run two files at a time comfortably.
    maxWorkers: 2,
  },
});
