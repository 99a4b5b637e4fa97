/** A throwaway database for one benchmark run: a PGlite directory, or a new database on the local Postgres. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { createDb, type Db, type DbHandle, keyedMutex, migrationsFolder, rowsOf } from '../src/db/client';
import { lockAndInit, PGLITE_SETTINGS, pgliteDir } from '../src/db/pglite-dir';
import * as schema from '../src/db/schema';
import { PgliteProxy } from './pglite-worker';
import { cpuSecondsOf } from './proc';

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
    const handle =
      process.env.BENCH_PGLITE_WORKER === '1' ? await pgliteOnWorker(dataDir) : await createDb({ dataDir });
    return { handle, dataDir, dispose: async () => removeDir() };
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

/**
 * The experiment behind BENCH_PGLITE_WORKER=1 (README "PGlite on a worker thread"): createDb's PGlite handle with
 * the engine on a worker thread (bench/pglite-worker.ts). Not the app's: measured, not worth its risk.
 */
async function pgliteOnWorker(dataDir: string): Promise<DbHandle> {
  const release = await lockAndInit(dataDir);
  let proxy: PgliteProxy;
  try {
    proxy = await PgliteProxy.create(pgliteDir(dataDir), PGLITE_SETTINGS);
  } catch (err) {
    release();
    throw err;
  }
  const db = drizzle(proxy as unknown as PGlite, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    pglite: proxy as unknown as PGlite,
    migrate: () => migrate(db as never, { migrationsFolder }),
    withLock: keyedMutex(),
    close: async () => {
      try {
        await proxy.close();
      } finally {
        release();
      }
    },
  };
}

/** The same on an in-memory database, for running test files on it (TEST_PGLITE_WORKER=1, tests/helpers/db.ts). */
export async function pgliteOnWorkerInMemory(): Promise<DbHandle> {
  const proxy = await PgliteProxy.create('memory://', PGLITE_SETTINGS);
  const db = drizzle(proxy as unknown as PGlite, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    pglite: proxy as unknown as PGlite,
    migrate: () => migrate(db as never, { migrationsFolder }),
    withLock: keyedMutex(),
    close: () => proxy.close(),
  };
}

/**
 * CPU seconds so far of the local Postgres backends serving this database (read from /proc; the bench runs on the
 * database's machine), minus `since`.
 */
export async function backendCpu(
  db: Db,
  since?: { byPid: Map<number, number> },
): Promise<{ byPid: Map<number, number>; total: number }> {
  const byPid = new Map<number, number>();
  const rows = rowsOf<{ pid: number }>(
    await db.execute(sql`select pid from pg_stat_activity where datname = current_database()`),
  );
  let total = 0;
  for (const { pid } of rows) {
    const s = cpuSecondsOf(pid);
    if (s === null) continue;
    byPid.set(pid, s);
    total += s - (since?.byPid.get(pid) ?? 0);
  }
  return { byPid, total };
}
