#!/usr/bin/env -S node --liftoff-only
// --liftoff-only keeps WebAssembly (embedded PGlite) on V8's baseline compiler: optimising PGlite's SQL parser
// (raw_parser) alone takes ~600 MB of compiler memory, which made `duely serve` on PGlite peak at ~1 GB while it
// starts (363 MiB with the flag). The price is ~15-20 % of PGlite's throughput; Postgres is unaffected (no WASM).
// package.json's scripts pass the same flag; see README "Memory".
// Runs the TypeScript CLI through tsx, so `npx duely …` works without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
const code = await main(process.argv.slice(2));
if (code !== 0 || process.argv[2] !== 'serve') process.exit(code);
