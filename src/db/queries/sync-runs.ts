/**
 * Sync runs and the sync-side state of a connection (cursor, last sync, reconnect mark): the statements of
 * sync/run-sync.ts, sync/apply-page.ts and sync/csv-import.ts. (Connections' lifecycle — create, tokens,
 * disconnect — is elsewhere.)
 */
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { type DbOrTx, executeNamed, onPostgresServer, type Tx } from '../client';
import { connections, syncRuns } from '../schema';

export type SyncRun = typeof syncRuns.$inferSelect;
export type NewSyncRun = typeof syncRuns.$inferInsert;
export type SyncRunPatch = Partial<Omit<NewSyncRun, 'id'>>;
type Connection = typeof connections.$inferSelect;

export async function connectionById(db: DbOrTx, id: string): Promise<Connection | null> {
  const [row] = await db.select().from(connections).where(eq(connections.id, id));
  return row ?? null;
}

/**
 * Stores the connection's cursor if it is still active: null then, else the status it has instead (null status:
 * the connection is gone). One statement, so a caller may issue the page's writes behind it before reading the
 * answer (and roll back when it is not active). Also the row lock every later writer of this connection waits for.
 */
export async function advanceCursorIfActive(
  tx: Tx,
  connectionId: string,
  cursor: Record<string, unknown>,
  now: Date,
): Promise<{ active: true } | { active: false; status: string | null }> {
  // Named (a row by its key): the page's writes go out behind it without waiting for a describe (executeNamed).
  const [row] = await executeNamed<{ updated: number; status: string | null }>(
    tx,
    sql`
      with u as (
        update connections set sync_cursor = ${JSON.stringify(cursor)}::jsonb, updated_at = ${now.toISOString()}::timestamptz
        where id = ${connectionId}::uuid and status = 'active'
        returning 1
      )
      select (select count(*)::int from u) as updated,
             (select status from connections where id = ${connectionId}::uuid) as status`,
  );
  return row && row.updated > 0 ? { active: true } : { active: false, status: row?.status ?? null };
}

/**
 * On a Postgres server, the rest of this transaction commits without waiting for its write-ahead log to reach the
 * disk (synchronous_commit off, for this transaction only). For a sync page this loses nothing: the page's rows and
 * the cursor naming it commit together, so if the database server itself crashes within the next moments (~3 ×
 * wal_writer_delay) and loses the commit, it loses the cursor with it and the next sync reads that page again.
 * Consistency is unchanged; only a commit's wait for the disk (one fsync per page) goes.
 *
 * Not on PGlite: there the database dies with the process (a kill -9 of `duely sync` or of the worker is a crash of
 * the database), and single-user Postgres has no WAL writer, so an asynchronous commit stayed in memory until a later
 * synchronous one wrote it out: a killed full sync lost every page committed since, and its resume started over
 * (the kill -9 test of a sync process). PGlite runs with fsync off, so a synchronous commit costs a write to the WAL
 * file, not a wait for the disk.
 */
export async function commitWithoutFlushWait(db: DbOrTx): Promise<void> {
  if (!onPostgresServer(db)) return;
  await db.execute(sql`set local synchronous_commit = off`);
}

export async function connectionStatus(
  db: DbOrTx,
  connectionId: string,
): Promise<Connection['status'] | null> {
  const [row] = await db
    .select({ status: connections.status })
    .from(connections)
    .where(eq(connections.id, connectionId));
  return row?.status ?? null;
}

/** A finished successful sync: the connection's lastSyncAt. */
export async function markConnectionSynced(db: DbOrTx, connectionId: string, now: Date): Promise<void> {
  await db
    .update(connections)
    .set({ lastSyncAt: now, updatedAt: now })
    .where(eq(connections.id, connectionId));
}

/** An active connection whose credentials stopped working: reconnect_needed with the reason. */
export async function markReconnectNeeded(
  db: DbOrTx,
  connectionId: string,
  reason: string,
  now: Date,
): Promise<void> {
  await db
    .update(connections)
    .set({ status: 'reconnect_needed', statusReason: reason, updatedAt: now })
    .where(and(eq(connections.id, connectionId), eq(connections.status, 'active')));
}

/** The connection's most recent run (by start), or null. */
export async function latestSyncRun(db: DbOrTx, connectionId: string): Promise<SyncRun | null> {
  const [row] = await db
    .select()
    .from(syncRuns)
    .where(eq(syncRuns.connectionId, connectionId))
    .orderBy(desc(syncRuns.startedAt))
    .limit(1);
  return row ?? null;
}

export async function insertSyncRun(db: DbOrTx, values: NewSyncRun): Promise<string> {
  const [run] = await db.insert(syncRuns).values(values).returning({ id: syncRuns.id });
  return run!.id;
}

export async function updateSyncRun(db: DbOrTx, runId: string, patch: SyncRunPatch): Promise<void> {
  await db.update(syncRuns).set(patch).where(eq(syncRuns.id, runId));
}

/** Runs of this connection still `running` (a dead process's) end as failed, 'interrupted'. */
export async function failRunningSyncRuns(db: DbOrTx, connectionId: string, now: Date): Promise<void> {
  await db
    .update(syncRuns)
    .set({ status: 'failed', error: 'interrupted', finishedAt: now })
    .where(and(eq(syncRuns.connectionId, connectionId), eq(syncRuns.status, 'running')));
}

/** The run's heartbeat, only while it is running. */
export async function heartbeatSyncRun(db: DbOrTx, runId: string, now: Date): Promise<void> {
  await db
    .update(syncRuns)
    .set({ heartbeatAt: now })
    .where(and(eq(syncRuns.id, runId), eq(syncRuns.status, 'running')));
}

/**
 * A page's progress (and cumulative stats) on its run, in the page's transaction. Named (a row by its key): on
 * postgres-js described once per connection instead of on every page, one round trip instead of two (executeNamed).
 */
export async function recordPageProgress(
  db: DbOrTx,
  runId: string,
  patch: Pick<SyncRunPatch, 'progress' | 'heartbeatAt' | 'stats'>,
): Promise<void> {
  await db.update(syncRuns).set(patch).where(eq(syncRuns.id, runId)).prepare('recordPageProgress').execute();
}

/** The tenant a connection feeds, or null when the connection is gone. */
export async function connectionTenantId(db: DbOrTx, connectionId: string): Promise<string | null> {
  const [conn] = await db
    .select({ tenantId: connections.tenantId })
    .from(connections)
    .where(eq(connections.id, connectionId));
  return conn?.tenantId ?? null;
}

/** A tenant's latest sync runs and imports, newest first. */
export async function recentSyncRuns(db: DbOrTx, tenantId: string, limit = 50) {
  return db
    .select()
    .from(syncRuns)
    .where(eq(syncRuns.tenantId, tenantId))
    .orderBy(desc(syncRuns.startedAt))
    .limit(limit);
}

/** A provider's active connections with their last finished sync and the start of their latest run (polling). */
export async function activeConnectionsLastSynced(db: DbOrTx, provider: string) {
  return db
    .select({
      id: connections.id,
      lastSyncAt: connections.lastSyncAt,
      lastStarted:
        sql<Date | null>`(select max("sync_runs"."started_at") from "sync_runs" where "sync_runs"."connection_id" = "connections"."id")`.mapWith(
          syncRuns.startedAt,
        ),
    })
    .from(connections)
    .where(and(eq(connections.provider, provider), eq(connections.status, 'active')));
}

/** The tenant's CSV uploads that succeeded (sync_runs of kind 'import'): the where clause their readers share. */
export function succeededImportsOf(tenantId: string): SQL {
  return and(eq(syncRuns.tenantId, tenantId), eq(syncRuns.kind, 'import'), eq(syncRuns.status, 'succeeded'))!;
}
