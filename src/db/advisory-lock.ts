/**
 * The one way to take a Postgres advisory lock inside a transaction: `key` (e.g. `dunning-plan:<tenant>`) is hashed
 * with `hashtextextended(key, 0)`, the same 64-bit key `DbHandle.withLock` (client.ts) uses for its session locks,
 * and the lock is released when the transaction ends. Works on PGlite too (one connection: it never waits there).
 * (Not in lock.ts: that file locks PGlite's data directory and client.ts imports it; this one imports client.ts.)
 */
import { sql } from 'drizzle-orm';
import type { Tx } from './client';

export async function advisoryXactLock(tx: Tx, key: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
}
