/**
 * A fresh database per test file: in-memory PGlite by default; with DATABASE_URL, a new Postgres database created
 * from it (and dropped afterwards), so test files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { createDb, type DbHandle } from '../../src/db/client';

export const usingPostgres = Boolean(process.env.DATABASE_URL);

export async function createTestDb(): Promise<DbHandle> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const h = await createDb({ dataDir: 'memory://' });
    await h.migrate();
    return h;
  }
  const { default: postgres } = await import('postgres');
  const name = `duely_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  const h = await createDb({ url: dbUrl.toString(), max: 5 });
  const close = h.close;
  h.close = async () => {
    await close();
    const a = postgres(url, { max: 1, onnotice: () => {} });
    await a.unsafe(`drop database if exists ${name} with (force)`);
    await a.end();
  };
  try {
    await h.migrate();
  } catch (err) {
    await h.close();
    throw err;
  }
  return h;
}
