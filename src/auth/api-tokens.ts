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

/** How verifyApiToken reads a live token by hash: the database, or a short memo of it (src/http/auth.ts). */
export type ApiTokenLookup = (db: DbOrTx, tokenHash: string) => Promise<ApiToken | null>;

export async function verifyApiToken(
  db: DbOrTx,
  token: string,
  now: Date,
  lookup: ApiTokenLookup = liveApiTokenByHash,
): Promise<ApiToken | null> {
  if (!token.startsWith('duely_')) return null;
  const row = await lookup(db, hash(token));
  if (!row) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
    // Set before the write, so concurrent requests sharing a memoized row do not each touch it.
    row.lastUsedAt = now;
    await touchApiToken(db, row.id, now);
  }
  return { ...row };
}

/**
 * A memo of live-token lookups for `ttlMs` of elapsed time (at most `maxEntries` tokens; a missing token is not
 * kept, so a token issued by another process works at once). Under load a token's requests then share one read
 * a second instead of one each; `clear()` forgets everything (the API calls it after every state-changing
 * request, so a token revoked through this process stops at once; through another process, within `ttlMs`).
 */
export function memoizedApiTokenLookup(ttlMs = 1_000, maxEntries = 1_000) {
  const memo = new Map<string, { at: number; row: Promise<ApiToken | null> }>();
  const lookup: ApiTokenLookup = (db, tokenHash) => {
    const t = performance.now();
    const hit = memo.get(tokenHash);
    if (hit && t - hit.at < ttlMs) return hit.row;
    const row = liveApiTokenByHash(db, tokenHash);
    const entry = { at: t, row };
    memo.set(tokenHash, entry);
    if (memo.size > maxEntries) memo.delete(memo.keys().next().value!);
    const forget = () => {
      if (memo.get(tokenHash) === entry) memo.delete(tokenHash);
    };
    row.then((r) => r ?? forget(), forget);
    return row;
  };
  return Object.assign(lookup, { clear: () => memo.clear() });
}
