/**
 * Once per test run, a migrated empty database that every test file's createTestDb starts from instead of running
 * every migration itself (tests/helpers/db.ts):
 * - on PGlite, a data-directory image (a tar in a temporary directory);
 * - on Postgres (DATABASE_URL), a template database on that server, which each test database is created from
 *   (`create database … template …`) and which is dropped at the end of the run.
 * Both are made by the same createDb and migrations as the app's. tests/foundation/migrate-from-scratch.test.ts runs
 * the migrations on an empty database and compares its schema with the one a test database gets from here.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/client';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the migrated PGlite image, or '' when the run has none (Postgres). */
    migratedPgliteImage: string;
    /** Name of the migrated Postgres template database, or '' when the run has none (PGlite). */
    migratedPostgresTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.DATABASE_URL;
  if (url) {
    project.provide('migratedPgliteImage', '');
    const name = `duely_tpl_${randomBytes(6).toString('hex')}`;
    const { default: postgres } = await import('postgres');
    const admin = () => postgres(url, { max: 1, onnotice: () => {} });
    const a = admin();
    await a.unsafe(`create database ${name}`);
    await a.end();
    const target = new URL(url);
    target.pathname = `/${name}`;
    // Closed before any test starts: Postgres copies a template only while nobody is connected to it.
    const drop = async () => {
      const b = admin();
      await b.unsafe(`drop database if exists ${name} with (force)`);
      await b.end();
    };
    const h = await createDb({ url: target.toString(), max: 1 });
    try {
      await h.migrate();
    } catch (err) {
      await h.close();
      await drop();
      throw err;
    }
    await h.close();
    project.provide('migratedPostgresTemplate', name);
    return drop;
  }
  project.provide('migratedPostgresTemplate', '');
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
  return async () => rmSync(dir, { recursive: true, force: true });
}
