/**
 * Admin/API bearer tokens. The plaintext is shown once (printed by `duely serve` on first start, or by
 * `duely token`); only its SHA-256 is stored, so a database leak does not leak working tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { apiTokens } from '../db/schema';

export type ApiToken = typeof apiTokens.$inferSelect;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export async function issueApiToken(
  db: DbOrTx,
  label: string,
  tenantId: string | null = null,
): Promise<{ token: string; id: string }> {
  const token = `duely_${randomBytes(32).toString('base64url')}`;
  const [row] = await db
    .insert(apiTokens)
    .values({ tokenHash: hash(token), label, tenantId })
    .returning({ id: apiTokens.id });
  return { token, id: row!.id };
}

/** last_used_at is refreshed at most once a minute, so authenticated reads do not each cost a write. */
const TOUCH_INTERVAL_MS = 60_000;

export async function verifyApiToken(db: DbOrTx, token: string, now: Date): Promise<ApiToken | null> {
  if (!token.startsWith('duely_')) return null;
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hash(token)), isNull(apiTokens.revokedAt)))
    .limit(1);
  if (!row) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
    await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
    row.lastUsedAt = now;
  }
  return row;
}

export async function countActiveAdminTokens(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(apiTokens)
    .where(and(isNull(apiTokens.revokedAt), isNull(apiTokens.tenantId)));
  return row?.n ?? 0;
}

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
