/**
 * .ci/check-import-cycles.mjs (npm run check:cycles) on small throwaway trees: it fails on a cycle, whichever kind
 * of import closes it and passes without one.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '../../.ci/check-import-cycles.mjs');
const roots: string[] = [];

function check(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'duely-cycles-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout };
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('check-import-cycles', () => {
  it('fails on a two-file cycle and prints it as a chain', () => {
    const r = check({
      'src/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'src/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/a.ts → src/b.ts → src/a.ts');
  });

  it('passes the same files without the cycle', () => {
    const r = check({
      'src/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'src/b.ts': "// import { a } from './a';\n/* import('./a') */\nexport const b = 1;\n",
    });
    expect(r.code).toBe(0);
    expect(r.out).toContain('2 files, 0 cycles');
  });

  it('counts type imports, re-exports, dynamic imports and index/.js resolution, across the scanned folders', () => {
    const cycles = {
      type: { 'src/a.ts': "import type { B } from './b';\n", 'src/b.ts': "export type { A } from './a';\n" },
      dynamic: { 'src/a.ts': "export * from './dir';\n", 'src/dir/index.ts': "await import('../a.js');\n" },
      folders: {
        'src/a.ts': "import { c } from '../connectors/c';\n",
        'connectors/c.tsx': "import { e } from '../emails/e';\n",
        'emails/e.tsx': "import { s } from '../sandboxes/s';\n",
        'sandboxes/s.ts': "import '../src/a';\n",
      },
    };
    for (const files of Object.values(cycles)) expect(check(files).code).toBe(1);
  });

  it('allows no cycle, not even one closed by type imports (the allowed list is empty since the module factories)', () => {
    const typeCycle = {
      'src/services.ts': "import { allJobs } from './jobs/catalogue';\n",
      'src/jobs/catalogue.ts': "import { define } from './define';\n",
      'src/jobs/define.ts': "import type { Services } from '../services';\n",
    };
    const r = check(typeCycle);
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/jobs/define.ts');
    // Without the type import back, no cycle.
    expect(check({ ...typeCycle, 'src/jobs/define.ts': 'export const define = 1;\n' }).code).toBe(0);
  });
});
