/** A throwaway database for one benchmark run: a PGlite directory, or a new database on the local Postgres. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDb, type DbHandle } from '../src/db/client';

export type BenchDbKind = 'pglite' | 'postgres';

export interface BenchDb {
  handle: DbHandle;
  /** A fresh directory usable as DATA_DIR (holds the PGlite files when kind is pglite). */
  dataDir: string;
  /** Drops the Postgres database / removes the directory. Close the handle (or the services using it) first. */
  dispose(): Promise<void>;
}

/** Postgres figures use BENCH_DATABASE_URL, else DATABASE_URL, else the local server's `postgres` database. */
export async function createBenchDb(kind: BenchDbKind): Promise<BenchDb> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'duely-bench-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (kind === 'pglite') {
    return { handle: await createDb({ dataDir }), dataDir, dispose: async () => removeDir() };
  }
  const base =
    process.env.BENCH_DATABASE_URL ??
    process.env.DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const { default: postgres } = await import('postgres');
  const name = `duely_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    handle: await createDb({ url: url.toString() }),
    dataDir,
    dispose: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
      removeDir();
    },
  };
}
