/**
 * Every migration, run from scratch on an empty database (as a first start does), on PGlite and on Postgres. The other
 * test files start from the run's migrated database (tests/helpers/global-setup.ts: a PGlite image, a Postgres template
 * database) and find nothing to migrate: here the schema they get is compared with the one the migrations make.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle, migrationsFolder, rowsOf } from '../../src/db/client';
import { createTestDatabase, createTestDb, usingPostgres } from '../helpers/db';

const ours = `not in ('pg_catalog', 'information_schema', 'pg_toast')`;

/** Tables, columns, indexes, constraints, sequences, functions, triggers and applied migrations, in a stable order. */
async function schemaOf(h: DbHandle) {
  const q = async (text: string) => rowsOf<Record<string, unknown>>(await h.db.execute(sql.raw(text)));
  return {
    columns: await q(
      `select table_schema, table_name, column_name, ordinal_position, data_type, udt_name, is_nullable,
              column_default, collation_name
         from information_schema.columns where table_schema ${ours}
        order by table_schema, table_name, ordinal_position`,
    ),
    indexes: await q(
      `select schemaname, tablename, indexname, indexdef from pg_indexes where schemaname ${ours}
        order by schemaname, tablename, indexname`,
    ),
    constraints: await q(
      `select n.nspname, c.conrelid::regclass::text as rel, c.conname, pg_get_constraintdef(c.oid) as def
         from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname ${ours}
        order by 1, 2, 3`,
    ),
    sequences: await q(
      `select schemaname, sequencename, data_type, start_value, increment_by from pg_sequences
        where schemaname ${ours} order by 1, 2`,
    ),
    functions: await q(
      `select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) as args, p.prosrc
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname ${ours}
        order by 1, 2, 3`,
    ),
    triggers: await q(
      `select tgrelid::regclass::text as rel, tgname, pg_get_triggerdef(oid) as def from pg_trigger
        where not tgisinternal order by 1, 2`,
    ),
    migrations: await q(`select hash, created_at from drizzle.__drizzle_migrations order by id`),
  };
}

const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as {
  entries: { tag: string }[];
};

describe(`migrations from scratch (${usingPostgres ? 'Postgres' : 'PGlite'})`, () => {
  let scratch: DbHandle;
  let drop = async () => {};
  let testDb: DbHandle;

  beforeAll(async () => {
    const empty = await createTestDatabase();
    drop = empty.drop;
    // An empty database: on PGlite the stored initdb directory, not the run's migrated image.
    scratch = await createDb(empty.url ? { url: empty.url, max: 2 } : { dataDir: 'memory://' });
    testDb = await createTestDb();
  });
  afterAll(async () => {
    await scratch?.close();
    await drop();
    await testDb?.close();
  });

  it('apply every migration of the journal, and leave the schema a test database starts with', async () => {
    const tables = await scratch.db.execute(
      sql.raw(`select table_name from information_schema.tables where table_schema ${ours}`),
    );
    expect(rowsOf(tables)).toEqual([]);
    await scratch.migrate();
    const fromScratch = await schemaOf(scratch);
    expect(fromScratch.migrations).toHaveLength(journal.entries.length);
    expect(fromScratch.columns.length).toBeGreaterThan(100);
    expect(await schemaOf(testDb)).toEqual(fromScratch);
    // A second run finds nothing to do.
    await scratch.migrate();
    expect(await schemaOf(scratch)).toEqual(fromScratch);
  });
});
