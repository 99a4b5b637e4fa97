/**
 * The node flags the product runs with (bin/duely.js's shebang, package.json's scripts, bench/proc.ts NODE_FLAGS):
 * WebAssembly stays on V8's baseline compiler (Liftoff) except for one function, PGlite's btree key comparison
 * `_bt_compare`, named by its index in pglite.wasm (`--wasm-tier-up-filter`). The index belongs to the installed
 * PGlite build: after an upgrade it may name another function, perhaps the SQL parser whose optimised compile takes
 * ~600 MB (README "Memory"), so this fails until the flag names `_bt_compare` again.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../bench/proc';
import { wasmFunctionExports } from '../../bench/wasm-exports';

const root = path.resolve(import.meta.dirname, '../..');

describe('node flags', () => {
  const flag = NODE_FLAGS.find((f) => f.startsWith('--wasm-tier-up-filter='));

  it("name PGlite's _bt_compare as the one WASM function V8 may optimise", () => {
    const require = createRequire(import.meta.url);
    const wasm = path.join(path.dirname(require.resolve('@electric-sql/pglite')), 'pglite.wasm');
    const index = wasmFunctionExports(readFileSync(wasm)).get('_bt_compare');
    expect(index).toBeTypeOf('number');
    expect(flag).toBe(`--wasm-tier-up-filter=${index}`);
  });

  it('are the same in the shebang, the scripts and the benches', () => {
    const shebang = readFileSync(path.join(root, 'bin/duely.js'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    const scripts = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts as Record<
      string,
      string
    >;
    for (const name of ['start', 'demo', 'duely'])
      expect(scripts[name]).toMatch(new RegExp(`^node ${NODE_FLAGS.join(' ')} --import tsx src/cli\\.ts`));
  });
});
