/**
 * Admin/API bearer tokens. The plaintext is shown once (printed by `duely serve` on first start, or by
 * `duely token`); only its SHA-256 is stored, so a database leak does not leak working tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { DbOrTx } from '../db/client';
import { type ApiToken, insertApiToken, liveApiTokenByHash, touchApiToken } from '../db/queries/api-tokens';

export {
  type ApiToken,
  type ApiTokenInfo,
  countActiveAdminTokens,
  listApiTokens,
  revokeApiToken,
} from '../db/queries/api-tokens';

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

export async function issueApiToken(
  db: DbOrTx,
  label: string,
  tenantId: string | null = null,
): Promise<{ token: string; id: string }> {
  const token = `duely_${randomBytes(32).toString('base64url')}`;
  const id = await insertApiToken(db, { tokenHash: hash(token), label, tenantId });
  return { token, id };
}

/** last_used_at is refreshed at most once a minute, so authenticated reads do not each cost a write. */
const TOUCH_INTERVAL_MS = 60_000;

export async function verifyApiToken(db: DbOrTx, token: string, now: Date): Promise<ApiToken | null> {
  if (!token.startsWith('duely_')) return null;
  const row = await liveApiTokenByHash(db, hash(token));
  if (!row) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
    await touchApiToken(db, row.id, now);
    row.lastUsedAt = now;
  }
  return row;
}
