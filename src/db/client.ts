/**
 * One Db type over two drivers: embedded PGlite in DATA_DIR when no DATABASE_URL is set (zero-config default),
 * postgres-js otherwise. Everything else in the app sees only `Db`.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { entityKind, type SQL } from 'drizzle-orm';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { lockAndInit, PGLITE_SETTINGS, pgliteDir } from './pglite-dir';
import { pgliteTemplate } from './pglite-template.mjs';
import * as schema from './schema';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle has the same query surface as Db. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface DbHandle {
  kind: 'pglite' | 'postgres';
  db: Db;
  /** Set for the embedded database: pg-boss shares the same single connection. */
  pglite?: PGlite;
  url?: string;
  migrate(): Promise<void>;
  /**
   * Runs `fn` while holding a lock named `key` across every process on this database (a session advisory lock
   * on Postgres; an in-process mutex on PGlite, which only one process can open). Holds no transaction open, so
   * `fn` may make slow network calls without stalling other writers.
   */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Serializes async work per key inside one process. */
export function keyedMutex() {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Arbitrary constant: the advisory-lock key that serializes migrations across processes. */
const MIGRATION_LOCK_KEY = 7_402_117_031;

export interface DbOptions {
  /** postgres:// URL; when absent, embedded PGlite is used. */
  url?: string;
  /** Data directory for PGlite (a `pglite/` folder is created inside), or 'memory://' for an in-memory db. */
  dataDir?: string;
  /**
   * For 'memory://': the data directory to start from, as a tar (PGlite's dumpDataDir), instead of the stored
   * initdb directory. The tests make one migrated image per run (tests/helpers/global-setup.ts).
   */
  memoryImage?: Blob;
  max?: number;
}

export async function createDb(opts: DbOptions): Promise<DbHandle> {
  if (opts.url) return createPostgres(opts.url, opts);
  return createPglite(opts.dataDir ?? 'memory://', opts.memoryImage);
}

async function createPostgres(url: string, opts: DbOptions): Promise<DbHandle> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const client = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
  });
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    url,
    // Web and worker processes may start together: a session advisory lock makes one of them migrate while
    // the others wait, then find nothing left to do.
    migrate: async () => {
      // A one-connection client of its own: the advisory lock is per session.
      const conn = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migrate(drizzle(conn) as never, { migrationsFolder });
      } finally {
        await conn.end({ timeout: 5 });
      }
    },
    withLock: async (key, fn) => {
      const conn = await client.reserve();
      try {
        await conn`select pg_advisory_lock(hashtextextended(${key}, 0))`;
        try {
          return await fn();
        } finally {
          await conn`select pg_advisory_unlock(hashtextextended(${key}, 0))`;
        }
      } finally {
        conn.release();
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** chmod a directory tree to owner-only: directories 0700, files 0600 (symlinks left alone). */
export function ownerOnly(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) ownerOnly(p);
    else if (entry.isFile() && (lstatSync(p).mode & 0o777) !== 0o600) chmodSync(p, 0o600);
  }
}

/** PGlite's options for a new in-memory database: the stored initdb directory, or nothing (initdb) with a warning. */
function inMemoryTemplate(): { loadDataDir?: Blob } {
  const template = pgliteTemplate();
  if ('blob' in template) return { loadDataDir: template.blob };
  process.emitWarning(`${template.reason}; running initdb instead`, { code: 'DUELY_PGLITE_TEMPLATE' });
  return {};
}

async function createPglite(dataDir: string, memoryImage?: Blob): Promise<DbHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  let release = () => {};
  let target = dataDir;
  const onDisk = !dataDir.startsWith('memory://');
  if (onDisk) {
    release = await lockAndInit(dataDir);
    target = pgliteDir(dataDir);
  }
  let pglite: PGlite;
  try {
    if (onDisk) mkdirSync(target, { recursive: true, mode: 0o700 });
    pglite = await PGlite.create(target, {
      startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS],
      // An in-memory database (tests, throwaway runs) starts from the stored initdb directory too (~1 s instead
      // of initdb's ~4 s and 540–660 MiB); an on-disk one was made by lockAndInit above.
      ...(onDisk ? {} : memoryImage ? { loadDataDir: memoryImage } : inMemoryTemplate()),
    });
    // The ledger, sessions and sealed tokens live in these files: owner only. Files PGlite adds while open
    // sit behind the 0700 directories whatever the umask, and are tightened on close.
    if (onDisk) ownerOnly(target);
  } catch (err) {
    release();
    throw err;
  }
  const db = drizzle(pglite, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    pglite,
    migrate: () => migrate(db as never, { migrationsFolder }),
    withLock: keyedMutex(),
    close: async () => {
      try {
        await pglite.close();
        // Files PGlite created while open (WAL segments, …) get the same owner-only modes at rest.
        if (onDisk) ownerOnly(target);
      } finally {
        release();
      }
    },
  };
}

/** Rows of `db.execute(sql...)`: PGlite returns `{ rows }`, postgres-js an array-like RowList. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

const dialect = new PgDialect();

/** Whether `db` talks to a Postgres server (postgres-js), not to the embedded PGlite of this very process. */
export function onPostgresServer(db: DbOrTx): boolean {
  return (db._.session.constructor as unknown as Record<symbol, unknown>)[entityKind] === 'PostgresJsSession';
}

/**
 * `query` as a named (prepared) statement on postgres-js: its answer's rows, as `tx.execute` gives them. postgres-js
 * sends an unnamed statement with parameters (every drizzle query) in two round trips, parse + describe and then bind
 * + execute once the parameter types are back, and holds every statement issued behind it on the connection until it
 * has completed: statements issued together do not overlap, and each costs two turns of node's event loop. A named
 * statement is described once per connection; after that it goes out at once, behind the statements before it.
 *
 * Only for statements whose plan cannot depend on their parameters' values (a row by its key, rows from the
 * parameters alone): after five executions Postgres may keep one generic plan for a named statement, made without
 * the values (`plan_cache_mode` auto). Forcing custom plans instead (`force_custom_plan`) also re-plans every
 * foreign-key check of the transaction, row by row (measured: +40 % backend CPU for a full sync), and a generic plan
 * of the page writers was 2× slower: those stay unnamed. The text must be one of a fixed set (values as parameters):
 * a connection keeps each text it prepared. PGlite has no round trips: there this is `tx.execute`.
 *
 * Statements reach the connection in the order their execution starts; this one starts as `await tx.execute(…)`
 * does (one turn after the call: drizzle's query is a thenable), so it keeps its place among statements issued so.
 */
export async function executeNamed<T>(db: DbOrTx, query: SQL): Promise<T[]> {
  const { session } = db._;
  if (!onPostgresServer(db)) return rowsOf<T>(await db.execute(query));
  // One turn first, as `await tx.execute(…)` takes before its statement starts (see above).
  await null;
  return rowsOf<T>(
    await session.prepareQuery(dialect.sqlToQuery(query), undefined, 'named', false).execute(),
  );
}
