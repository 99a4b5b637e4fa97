#!/usr/bin/env -S node --wasm-tier-up-filter=923
// WebAssembly (embedded PGlite) stays on V8's baseline compiler (Liftoff) except for one function: optimising
// PGlite's SQL parser (raw_parser) alone takes ~600 MB of compiler memory, which made `duely serve` on PGlite peak at
// ~1 GB while it starts. --wasm-tier-up-filter=N lets only function N of the module be optimised when it gets hot:
// 923 is PGlite's btree key comparison `_bt_compare` (776 bytes of WASM, <1 MB to compile), the engine's busiest
// function in a sync (tests/foundation/node-flags.test.ts checks the index against the installed pglite.wasm).
// Before stop 40 the flag was --liftoff-only (nothing optimised). Postgres is unaffected (no WASM).
// package.json's scripts pass the same flag; see README "Memory".
// Runs the TypeScript CLI through tsx, so `npx duely …` works without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
const code = await main(process.argv.slice(2));
if (code !== 0 || process.argv[2] !== 'serve') process.exit(code);
