/**
 * Embedded PGlite keeps the whole database (ledger, sessions, sealed QuickBooks tokens) in files under DATA_DIR:
 * owner-only, directories 0700 and files 0600, however permissive the umask.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createDb } from '../../src/db/client';

function modes(dir: string, out: { path: string; dir: boolean; mode: number }[] = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    out.push({ path: p, dir: entry.isDirectory(), mode: statSync(p).mode & 0o777 });
    if (entry.isDirectory()) modes(p, out);
  }
  return out;
}

describe('PGlite data directory', () => {
  it('is 0700 with 0600 files', async () => {
    const previous = process.umask(0o022);
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'duely-perm-')), 'data');
    try {
      const h = await createDb({ dataDir });
      try {
        await h.migrate();
      } finally {
        await h.close();
      }
    } finally {
      process.umask(previous);
    }
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const pgliteDir = path.join(dataDir, 'pglite');
    expect(statSync(pgliteDir).mode & 0o777).toBe(0o700);
    const entries = modes(pgliteDir);
    expect(entries.filter((e) => !e.dir).length).toBeGreaterThan(10);
    expect(entries.filter((e) => e.dir && e.mode !== 0o700)).toEqual([]);
    expect(entries.filter((e) => !e.dir && e.mode !== 0o600)).toEqual([]);
  }, 120_000); // initdb of a file-backed PGlite, slow on a busy machine

  it('DATA_DIR created for the generated secret is 0700, the secret 0600', () => {
    const previous = process.umask(0o022);
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'duely-perm-')), 'fresh');
    try {
      loadConfig({ DATA_DIR: dataDir });
    } finally {
      process.umask(previous);
    }
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  });
});
