import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.{ts,tsx}'],
    setupFiles: ['tests/helpers/setup.ts'],
    // One migrated PGlite image per run, which each test file's database starts from.
    globalSetup: ['tests/helpers/global-setup.ts'],
    pool: 'forks',
    // Each test file is a new process that compiles PGlite's WebAssembly anew; V8's optimising tier-up of it (TurboFan)
    // costs more CPU than a file of a few seconds gains back. --liftoff-only (the product's flag until stop 40; bin/duely.js
    // now lets V8 optimise one function, which pays in a long sync) cut the CPU of 14 sampled PGlite files by 18–30 %
    // (README "Start", the tests/CI paragraph). The race suite
    // (`npm run test:races`, one long file) is faster optimised: it sets TEST_WASM_TIERUP=1.
    execArgv: process.env.TEST_WASM_TIERUP === '1' ? [] : ['--liftoff-only'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll waits for something that will happen (a page switching company after an upload, a row appearing);
    // its 1 s default failed browser tests on a loaded 2-core CI machine. A poll that succeeds returns at once.
    expect: { poll: { timeout: 15_000 } },
    // PGlite boots a WASM Postgres per test file; two cores run two files at a time comfortably.
    maxWorkers: 2,
  },
});
