/**
 * Connections' lifecycle: listing, connect/reconnect, stored tokens (refresh), disconnect, and the reads the CLI,
 * the demo, the live re-check and the send path make of them. (Sync-side state — cursor, last sync, reconnect mark
 * by a sync — is in sync-runs.ts; lookups by provider identity in connection-lookup.ts.) Transactions stay with
 * the caller: pass `tx`.
 */
import { and, desc, eq, inArray, ne, notInArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { connections, syncRuns } from '../schema';

export type ConnectionRow = typeof connections.$inferSelect;
type SyncRunRow = typeof syncRuns.$inferSelect;

/** The tenant's connection `id`, if it is this tenant's. */
export async function connectionOfTenant(
  db: DbOrTx,
  tenantId: string,
  id: string,
): Promise<ConnectionRow | undefined> {
  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.id, id), eq(connections.tenantId, tenantId)));
  return row;
}

/** Every connection of the tenant, whatever its status. */
export async function connectionsOfTenant(db: DbOrTx, tenantId: string): Promise<ConnectionRow[]> {
  return db.select().from(connections).where(eq(connections.tenantId, tenantId));
}

/** The connection's latest sync runs, newest first. */
export async function latestRunsOfConnection(
  db: DbOrTx,
  connectionId: string,
  limit: number,
): Promise<SyncRunRow[]> {
  return db
    .select()
    .from(syncRuns)
    .where(eq(syncRuns.connectionId, connectionId))
    .orderBy(desc(syncRuns.startedAt))
    .limit(limit);
}

/** The connection's newest sync run other than `exclude`, if any. */
export async function newestRunExcept(
  db: DbOrTx,
  connectionId: string,
  exclude: readonly string[] | undefined,
): Promise<SyncRunRow | undefined> {
  const [run] = await db
    .select()
    .from(syncRuns)
    .where(
      and(
        eq(syncRuns.connectionId, connectionId),
        exclude?.length ? notInArray(syncRuns.id, [...exclude]) : sql`true`,
      ),
    )
    .orderBy(desc(syncRuns.startedAt))
    .limit(1);
  return run;
}

/** Disconnected by the user: the credentials are forgotten and their version moves on. */
export async function markDisconnected(
  db: DbOrTx,
  conn: Pick<ConnectionRow, 'id' | 'credentialsVersion'>,
  now: Date,
): Promise<void> {
  await db
    .update(connections)
    .set({
      status: 'disconnected',
      statusReason: 'disconnected by user',
      credentials: null,
      accessExpiresAt: null,
      refreshExpiresAt: null,
      credentialsVersion: conn.credentialsVersion + 1,
      updatedAt: now,
    })
    .where(eq(connections.id, conn.id));
}

/** The row is still the one read at `version`: same credentials, still active. */
function stillCurrent(connectionId: string, version: number) {
  return and(
    eq(connections.id, connectionId),
    eq(connections.credentialsVersion, version),
    eq(connections.status, 'active'),
  );
}

/** Marks the connection (as read at `version`) reconnect_needed; false when it changed meanwhile. */
export async function markReconnectNeededIfCurrent(
  db: DbOrTx,
  connectionId: string,
  version: number,
  statusReason: string,
  now: Date,
): Promise<boolean> {
  const marked = await db
    .update(connections)
    .set({ status: 'reconnect_needed', statusReason, updatedAt: now })
    .where(stillCurrent(connectionId, version))
    .returning({ id: connections.id });
  return marked.length > 0;
}

/**
 * Every active connection of one provider company whose tokens can no longer work (the built-in demo company started
 * afresh: its sandbox forgot them): reconnect_needed with `statusReason`. Returns how many were marked.
 */
export async function markCompanyReconnectNeeded(
  db: DbOrTx,
  provider: string,
  externalId: string,
  statusReason: string,
  now: Date,
): Promise<number> {
  const marked = await db
    .update(connections)
    .set({ status: 'reconnect_needed', statusReason, updatedAt: now })
    .where(
      and(
        eq(connections.provider, provider),
        eq(connections.externalId, externalId),
        eq(connections.status, 'active'),
      ),
    )
    .returning({ id: connections.id });
  return marked.length;
}

/** Stores a refreshed credential (sealed) on the connection as read at `version`; false when it changed meanwhile. */
export async function storeRefreshedCredentials(
  db: DbOrTx,
  connectionId: string,
  version: number,
  values: { credentials: string; accessExpiresAt: Date; refreshExpiresAt: Date | null; updatedAt: Date },
): Promise<boolean> {
  const stored = await db
    .update(connections)
    .set({ ...values, credentialsVersion: sql`${connections.credentialsVersion} + 1` })
    .where(stillCurrent(connectionId, version))
    .returning({ id: connections.id });
  return stored.length > 0;
}

/** Which connector and company a connection is. */
export async function connectionIdentity(
  db: DbOrTx,
  connectionId: string,
): Promise<{ provider: string; externalId: string } | undefined> {
  const [row] = await db
    .select({ provider: connections.provider, externalId: connections.externalId })
    .from(connections)
    .where(eq(connections.id, connectionId));
  return row;
}

/** A reconnect: new credentials on the existing connection. Returns its id. */
export async function reattachConnection(
  tx: DbOrTx,
  connectionId: string,
  columns: Partial<typeof connections.$inferInsert>,
  credentialsVersion: number,
): Promise<string> {
  const [row] = await tx
    .update(connections)
    .set({ ...columns, credentialsVersion })
    .where(eq(connections.id, connectionId))
    .returning({ id: connections.id });
  return row!.id;
}

/** A new connection. Returns its id. */
export async function insertConnection(tx: DbOrTx, values: typeof connections.$inferInsert): Promise<string> {
  const [row] = await tx.insert(connections).values(values).returning({ id: connections.id });
  return row!.id;
}

/** Locks the connection's row if it is still active (a disconnect meanwhile wins); false when it is not. */
export async function lockActiveConnection(tx: DbOrTx, connectionId: string): Promise<boolean> {
  const [still] = await tx
    .select({ id: connections.id })
    .from(connections)
    .where(and(eq(connections.id, connectionId), eq(connections.status, 'active')))
    .for('update');
  return still !== undefined;
}

/** A connection of the tenant to one of these providers that is not disconnected, if any. */
export async function liveConnectionOfProviders(
  db: DbOrTx,
  tenantId: string,
  providers: readonly string[],
): Promise<{ id: string } | undefined> {
  const [conn] = await db
    .select({ id: connections.id })
    .from(connections)
    .where(
      and(
        eq(connections.tenantId, tenantId),
        inArray(connections.provider, [...providers]),
        ne(connections.status, 'disconnected'),
      ),
    )
    .limit(1);
  return conn;
}
