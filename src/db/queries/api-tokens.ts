/** Admin/API bearer tokens (auth/api-tokens.ts makes and hashes them; this file the SQL). */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { apiTokens } from '../schema';

export type ApiToken = typeof apiTokens.$inferSelect;

/** What may be shown of a token: never its hash. */
export interface ApiTokenInfo {
  id: string;
  label: string;
  tenantId: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const infoColumns = {
  id: apiTokens.id,
  label: apiTokens.label,
  tenantId: apiTokens.tenantId,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
  revokedAt: apiTokens.revokedAt,
};

export async function insertApiToken(
  db: DbOrTx,
  values: { tokenHash: string; label: string; tenantId: string | null },
): Promise<string> {
  const [row] = await db.insert(apiTokens).values(values).returning({ id: apiTokens.id });
  return row!.id;
}

export async function liveApiTokenByHash(db: DbOrTx, tokenHash: string): Promise<ApiToken | null> {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)))
    .limit(1);
  return row ?? null;
}

export async function touchApiToken(db: DbOrTx, id: string, now: Date): Promise<void> {
  await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, id));
}

export async function countActiveAdminTokens(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(apiTokens)
    .where(and(isNull(apiTokens.revokedAt), isNull(apiTokens.tenantId)));
  return row?.n ?? 0;
}

/** Tokens visible to a principal: `scope` null (operator) sees every token, a tenant only its own. */
export async function listApiTokens(db: DbOrTx, scope: string | null): Promise<ApiTokenInfo[]> {
  const q = db.select(infoColumns).from(apiTokens);
  return (scope === null ? q : q.where(eq(apiTokens.tenantId, scope))).orderBy(apiTokens.createdAt);
}

/**
 * Revokes a token the principal may see; the token, or null when there is none in `scope` (a tenant cannot learn
 * whether another tenant's token id exists). Revoking twice keeps the first revocation time.
 */
export async function revokeApiToken(
  db: DbOrTx,
  id: string,
  scope: string | null,
  now: Date,
): Promise<ApiTokenInfo | null> {
  const inScope =
    scope === null ? eq(apiTokens.id, id) : and(eq(apiTokens.id, id), eq(apiTokens.tenantId, scope));
  await db
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(inScope, isNull(apiTokens.revokedAt)));
  const [row] = await db.select(infoColumns).from(apiTokens).where(inScope);
  return row ?? null;
}
