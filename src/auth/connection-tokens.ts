/**
 * Access tokens of connections, refreshed so that concurrency cannot lose a rotated refresh token:
 * - refresh ahead of expiry (5 minutes), or once when the provider answers 401;
 * - single-flight per connection inside a process, and a database lock across processes;
 * - under the lock, re-read the stored tokens: if another process already refreshed, use its result;
 * - persist the new pair before anyone uses the new access token;
 * - `invalid_grant` marks the connection "reconnect needed" (dunning pauses) and never overwrites stored tokens.
 */
import { eq, sql } from 'drizzle-orm';
import { ConnectorError } from '../../connectors/errors';
import type { TokenSet } from '../../connectors/types';
import type { Clock } from '../clock';
import type { DbHandle } from '../db/client';
import { connections } from '../db/schema';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { Vault } from './vault';

export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  /** ISO instants. */
  accessExpiresAt: string;
  refreshExpiresAt: string | null;
  idToken?: string | null;
}

export const REFRESH_AHEAD_MS = 5 * 60_000;

export type RefreshFn = (refreshToken: string) => Promise<TokenSet>;

export class ReconnectNeededError extends AppError {
  constructor(connectionId: string, reason: string) {
    super('reconnect_needed', `connection ${connectionId} needs to be reconnected: ${reason}`, 409, {
      userMessage: 'Access to your accounting system has expired or was revoked. Please reconnect.',
    });
  }
}

/** Token set from a provider → what we store. Refuses empty tokens instead of storing them. */
export function toStoredTokens(t: TokenSet, now: Date, previous?: StoredTokens): StoredTokens {
  if (!t.accessToken) throw new AppError('bad_token_response', 'the provider returned no access token', 502);
  const refreshToken = t.refreshToken || previous?.refreshToken;
  if (!refreshToken) throw new AppError('bad_token_response', 'the provider returned no refresh token', 502);
  return {
    accessToken: t.accessToken,
    refreshToken,
    accessExpiresAt: new Date(now.getTime() + t.expiresIn * 1000).toISOString(),
    refreshExpiresAt:
      t.refreshTokenExpiresIn != null
        ? new Date(now.getTime() + t.refreshTokenExpiresIn * 1000).toISOString()
        : (previous?.refreshExpiresAt ?? null),
    idToken: t.idToken ?? previous?.idToken ?? null,
  };
}

export class ConnectionTokens {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly deps: { dbh: DbHandle; clock: Clock; logger: Logger; vault: Vault },
    private readonly refreshFor: (connectionId: string) => Promise<RefreshFn>,
  ) {}

  /** A valid access token, refreshed first when it expires within REFRESH_AHEAD_MS. */
  async getAccessToken(connectionId: string): Promise<string> {
    const stored = await this.read(connectionId);
    if (Date.parse(stored.accessExpiresAt) - this.deps.clock.now().getTime() > REFRESH_AHEAD_MS) {
      return stored.accessToken;
    }
    return this.refresh(connectionId, stored.accessToken);
  }

  /** After a 401 with `rejected`: refresh once (or pick up a refresh another caller already made). */
  async onUnauthorized(connectionId: string, rejected: string): Promise<string> {
    return this.refresh(connectionId, rejected);
  }

  /** Stores the first token set of a connection (after the OAuth code exchange). */
  async store(connectionId: string, tokens: StoredTokens): Promise<void> {
    await this.deps.dbh.db
      .update(connections)
      .set({
        credentials: this.deps.vault.seal(tokens),
        accessExpiresAt: new Date(tokens.accessExpiresAt),
        refreshExpiresAt: tokens.refreshExpiresAt ? new Date(tokens.refreshExpiresAt) : null,
        credentialsVersion: sql`${connections.credentialsVersion} + 1`,
        status: 'active',
        statusReason: null,
        updatedAt: this.deps.clock.now(),
      })
      .where(eq(connections.id, connectionId));
  }

  async read(connectionId: string): Promise<StoredTokens> {
    const [row] = await this.deps.dbh.db.select().from(connections).where(eq(connections.id, connectionId));
    if (!row) throw new AppError('not_found', `connection ${connectionId} not found`, 404);
    if (row.status !== 'active') throw new ReconnectNeededError(connectionId, row.statusReason ?? row.status);
    if (!row.credentials) throw new ReconnectNeededError(connectionId, 'no stored credentials');
    return this.deps.vault.open<StoredTokens>(row.credentials);
  }

  private refresh(connectionId: string, staleAccessToken: string): Promise<string> {
    let p = this.inFlight.get(connectionId);
    if (!p) {
      p = this.deps.dbh
        .withLock(`refresh:${connectionId}`, () => this.refreshLocked(connectionId, staleAccessToken))
        .finally(() => this.inFlight.delete(connectionId));
      this.inFlight.set(connectionId, p);
    }
    return p;
  }

  private async refreshLocked(connectionId: string, staleAccessToken: string): Promise<string> {
    const now = this.deps.clock.now();
    // Re-read under the lock: another process may have refreshed while we waited for it.
    const current = await this.read(connectionId);
    if (
      current.accessToken !== staleAccessToken &&
      Date.parse(current.accessExpiresAt) - now.getTime() > REFRESH_AHEAD_MS
    ) {
      return current.accessToken;
    }
    const refresh = await this.refreshFor(connectionId);
    let fresh: StoredTokens;
    try {
      fresh = toStoredTokens(await refresh(current.refreshToken), now, current);
    } catch (err) {
      if (err instanceof ConnectorError && err.code === 'invalid_grant') {
        await this.deps.dbh.db
          .update(connections)
          .set({ status: 'reconnect_needed', statusReason: 'refresh token rejected (invalid_grant)', updatedAt: now })
          .where(eq(connections.id, connectionId));
        this.deps.logger.warn({ connectionId }, 'refresh token rejected: connection needs reconnecting');
        throw new ReconnectNeededError(connectionId, 'refresh token rejected (invalid_grant)');
      }
      throw err;
    }
    // Persist the rotated pair before handing out the new access token: losing it would log the company out.
    await this.store(connectionId, fresh);
    this.deps.logger.info({ connectionId }, 'access token refreshed');
    return fresh.accessToken;
  }
}
