/**
 * Access tokens of connections, refreshed so that concurrency cannot lose a rotated refresh token:
 * - refresh ahead of expiry (5 minutes), or once when the provider answers 401;
 * - single-flight per connection inside a process, and a database lock across processes;
 * - under the lock, re-read the stored tokens: if another process already refreshed, use its result;
 * - persist the new pair before anyone uses the new access token;
 * - `invalid_grant` marks the connection "reconnect needed" (dunning pauses) and never overwrites stored tokens;
 * - every write after the token call is conditional on the credentials version read before it and on the
 *   connection still being active: a user who disconnected (or reconnected) while the call was in flight wins, and
 *   a refresh that lost to a disconnect revokes the pair it got instead of resurrecting the connection.
 */
import { ConnectorError } from '../../connectors/errors';
import type { TokenSet } from '../../connectors/types';
import type { Clock } from '../clock';
import type { DbHandle } from '../db/client';
import { markReconnectNeededIfCurrent, storeRefreshedCredentials } from '../db/queries/connections';
import { connectionById, connectionStatus } from '../db/queries/sync-runs';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { Vault } from '../keys';

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
export type RevokeFn = (refreshToken: string) => Promise<void>;

export class ReconnectNeededError extends AppError {
  constructor(connectionId: string, reason: string) {
    super('reconnect_needed', `connection ${connectionId} needs to be reconnected: ${reason}`, 409, {
      userMessage: 'Access to your accounting system has expired or was revoked. Please reconnect.',
    });
  }
}

/** The connection was disconnected (by the user) while we worked: stop, write nothing, do not retry. */
export class ConnectionInactiveError extends AppError {
  constructor(connectionId: string, status: string) {
    super('connection_inactive', `connection ${connectionId} is ${status}`, 409, {
      userMessage: 'The connection was disconnected.',
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
    /** Revokes a pair a refresh obtained but could not keep (the connection was disconnected meanwhile). */
    private readonly revokeFor?: (connectionId: string) => Promise<RevokeFn>,
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

  async read(connectionId: string): Promise<StoredTokens> {
    return (await this.readVersioned(connectionId)).tokens;
  }

  private async readVersioned(connectionId: string): Promise<{ tokens: StoredTokens; version: number }> {
    const row = await connectionById(this.deps.dbh.db, connectionId);
    if (!row) throw new AppError('not_found', `connection ${connectionId} not found`, 404);
    if (row.status === 'disconnected') throw new ConnectionInactiveError(connectionId, row.status);
    if (row.status !== 'active') throw new ReconnectNeededError(connectionId, row.statusReason ?? row.status);
    if (!row.credentials) throw new ReconnectNeededError(connectionId, 'no stored credentials');
    return { tokens: this.deps.vault.open<StoredTokens>(row.credentials), version: row.credentialsVersion };
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
    const { tokens: current, version } = await this.readVersioned(connectionId);
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
        // Only the connection as we read it: a disconnect or a reconnect meanwhile is not overwritten.
        const marked = await markReconnectNeededIfCurrent(
          this.deps.dbh.db,
          connectionId,
          version,
          'refresh token rejected (invalid_grant)',
          now,
        );
        if (!marked) return this.afterLostRace(connectionId, null);
        this.deps.logger.warn({ connectionId }, 'refresh token rejected: connection needs reconnecting');
        throw new ReconnectNeededError(connectionId, 'refresh token rejected (invalid_grant)');
      }
      throw err;
    }
    // Persist the rotated pair before handing out the new access token: losing it would log the company out.
    const stored = await storeRefreshedCredentials(this.deps.dbh.db, connectionId, version, {
      credentials: this.deps.vault.seal(fresh),
      accessExpiresAt: new Date(fresh.accessExpiresAt),
      refreshExpiresAt: fresh.refreshExpiresAt ? new Date(fresh.refreshExpiresAt) : null,
      updatedAt: this.deps.clock.now(),
    });
    if (!stored) return this.afterLostRace(connectionId, fresh);
    this.deps.logger.info({ connectionId }, 'access token refreshed');
    return fresh.accessToken;
  }

  /**
   * The connection changed while the token call was in flight. Disconnected: what we got must not outlive the
   * user's decision, so it is revoked, and the caller stops. Reconnected (new credentials): theirs win; use them.
   */
  private async afterLostRace(connectionId: string, fresh: StoredTokens | null): Promise<string> {
    const status = await connectionStatus(this.deps.dbh.db, connectionId);
    if (status === 'active') {
      this.deps.logger.info({ connectionId }, 'refresh lost to a reconnect; using the new credentials');
      return (await this.read(connectionId)).accessToken;
    }
    if (fresh && this.revokeFor) {
      try {
        await (await this.revokeFor(connectionId))(fresh.refreshToken);
      } catch (err) {
        this.deps.logger.warn(
          { connectionId, err },
          'revoking the tokens of a disconnected connection failed',
        );
      }
    }
    this.deps.logger.warn(
      { connectionId, status: status ?? 'gone' },
      'refresh lost to a disconnect; the new tokens were revoked',
    );
    if (status === 'reconnect_needed') throw new ReconnectNeededError(connectionId, 'changed meanwhile');
    throw new ConnectionInactiveError(connectionId, status ?? 'gone');
  }
}
