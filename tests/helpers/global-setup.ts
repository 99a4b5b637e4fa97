/**
 * Once per test run on PGlite: a migrated empty database as a data-directory image (a tar in a temporary
 * directory), which every test file's createTestDb starts from instead of migrating its own (tests/helpers/db.ts).
 * The image is made by the same createDb and migrations as the app's; on Postgres (DATABASE_URL) there is none.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/client';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the migrated PGlite image, or '' when the run has none (Postgres). */
    migratedPgliteImage: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  if (process.env.DATABASE_URL) {
    project.provide('migratedPgliteImage', '');
    return () => {};
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'duely-test-image-'));
  const file = path.join(dir, 'migrated.tar');
  const h = await createDb({ dataDir: 'memory://' });
  try {
    await h.migrate();
    writeFileSync(file, Buffer.from(await (await h.pglite!.dumpDataDir('none')).arrayBuffer()));
  } finally {
    await h.close();
  }
  project.provide('migratedPgliteImage', file);
  return () => rmSync(dir, { recursive: true, force: true });
}
