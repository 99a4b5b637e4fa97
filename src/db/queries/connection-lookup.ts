/**
 * Connections by their identity at the provider: (provider, externalId) is the company's key (a connect re-attaches
 * to it, a webhook is routed by it), and a connection's provider picks its connector.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { connections } from '../schema';

export type ConnectionRow = typeof connections.$inferSelect;

/** The connection of the company `externalId` at `provider`, if Duely has one. */
export async function connectionByExternalId(
  db: DbOrTx,
  provider: string,
  externalId: string,
): Promise<ConnectionRow | undefined> {
  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.provider, provider), eq(connections.externalId, externalId)));
  return row;
}

/** The active connections of these companies at `provider` (webhook routing). */
export async function activeConnectionsByExternalIds(
  db: DbOrTx,
  provider: string,
  externalIds: readonly string[],
): Promise<{ id: string; externalId: string }[]> {
  if (externalIds.length === 0) return [];
  const rows = await db
    .select({ id: connections.id, externalId: connections.externalId, status: connections.status })
    .from(connections)
    .where(and(eq(connections.provider, provider), inArray(connections.externalId, [...externalIds])));
  return rows.filter((r) => r.status === 'active').map(({ id, externalId }) => ({ id, externalId }));
}

/** The provider of a connection (null when it does not exist). */
export async function providerOfConnection(db: DbOrTx, connectionId: string): Promise<string | null> {
  const [row] = await db
    .select({ provider: connections.provider })
    .from(connections)
    .where(eq(connections.id, connectionId));
  return row?.provider ?? null;
}

/** A tenant's active API connections (any provider), oldest first. */
export async function activeConnectionsOfTenant(db: DbOrTx, tenantId: string): Promise<ConnectionRow[]> {
  return db
    .select()
    .from(connections)
    .where(and(eq(connections.tenantId, tenantId), eq(connections.status, 'active')))
    .orderBy(connections.createdAt);
}
