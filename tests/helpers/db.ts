/**
 * A fresh database per test file: in-memory PGlite by default; with DATABASE_URL, a new Postgres database created
 * from it (and dropped afterwards), so test files never see each other's rows. Both start from the run's migrated
 * database (tests/helpers/global-setup.ts), so no test file runs the migrations itself.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/client';

export const usingPostgres = Boolean(process.env.DATABASE_URL);

/**
 * A new, empty Postgres database created from DATABASE_URL (for code that opens its own connection from a URL, such
 * as the demo, and migrates it): its URL and how to drop it. Without DATABASE_URL there is none (`url` undefined,
 * drop a no-op). With `template`, a copy of that database instead of an empty one.
 */
export async function createTestDatabase(
  template?: string,
): Promise<{ url?: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) return { drop: async () => {} };
  const { default: postgres } = await import('postgres');
  const name = `duely_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}${template ? ` template ${template}` : ''}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** The run's migrated PGlite image (tests/helpers/global-setup.ts), when there is one. */
function migratedImage(): Blob | undefined {
  const file = inject('migratedPgliteImage');
  return file ? new Blob([readFileSync(file)]) : undefined;
}

export async function createTestDb(): Promise<DbHandle> {
  // On Postgres, a copy of the run's migrated template database ('' when the run made none).
  const database = await createTestDatabase(inject('migratedPostgresTemplate') || undefined);
  if (!database.url) {
    // TEST_PGLITE_WORKER=1: the bench's PGlite-on-a-worker-thread experiment instead (README "PGlite on a worker").
    const h =
      process.env.TEST_PGLITE_WORKER === '1'
        ? await (await import('../../bench/bench-db')).pgliteOnWorkerInMemory()
        : await createDb({ dataDir: 'memory://', memoryImage: migratedImage() });
    // Finds nothing to do when the run's migrated image was loaded.
    await h.migrate();
    return h;
  }
  const h = await createDb({ url: database.url, max: 5 });
  const close = h.close;
  h.close = async () => {
    await close();
    await database.drop();
  };
  try {
    // Finds nothing to do in a copy of the run's template.
    await h.migrate();
  } catch (err) {
    await h.close();
    throw err;
  }
  return h;
}
