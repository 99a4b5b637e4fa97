import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayAuthFault, queryPage, customer } from '../quickbooks/fixtures';
import type { TokenSet } from '../../connectors/types';
import {
  ConnectionInactiveError,
  ConnectionTokens,
  REFRESH_AHEAD_MS,
} from '../../src/sync/connection-tokens';
import { ConnectorError } from '../../connectors/errors';
import { connections } from '../../src/db/schema';
import { eq } from 'drizzle-orm';
import { Vault } from '../../src/auth/vault';
import { ManualClock } from '../../src/clock';
import { createDb, type DbHandle } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import type { Services } from '../../src/services';
import { connectionClient, connectionTokens } from '../../src/sync/connections';
import { usingPostgres } from '../helpers/db';
import { createTestServices } from '../helpers/services';
import { QB_ENV, readConnection, seedConnection, tokensAt } from '../sync/helpers';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const API = 'https://sandbox-quickbooks.api.intuit.com';
const START = new Date('2026-11-27T10:00:00Z');

let s: Services;
const clock = new ManualClock(START);
let realmSeq = 0;
const realm = () => `9130000000000${String(++realmSeq).padStart(4, '0')}`;

beforeAll(async () => {
  s = await createTestServices({ clock, env: QB_ENV, queue: false });
});
afterAll(async () => {
  await s?.close();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

const tokenReply = (suffix: string) => ({
  token_type: 'bearer',
  access_token: `at-${suffix}`,
  refresh_token: `rt-${suffix}`,
  expires_in: 3600,
  x_refresh_token_expires_in: 8_726_400,
});

function counting(delayMs = 0) {
  const calls: string[] = [];
  let n = 0;
  const refresh = async (refreshToken: string): Promise<TokenSet> => {
    calls.push(refreshToken);
    await new Promise((r) => setTimeout(r, delayMs));
    n++;
    return {
      accessToken: `at-new-${n}`,
      refreshToken: `rt-new-${n}`,
      tokenType: 'bearer',
      expiresIn: 3600,
      refreshTokenExpiresIn: 8_726_400,
      idToken: null,
    };
  };
  return { calls, refresh };
}

function tokensOn(dbh: DbHandle, refresh: (rt: string) => Promise<TokenSet>) {
  return new ConnectionTokens(
    { dbh, clock, logger: createLogger('silent'), vault: new Vault(s.config.APP_SECRET) },
    async () => refresh,
  );
}

describe('ConnectionTokens', () => {
  it('uses the stored token while it is fresh and refreshes ahead of expiry, persisting the rotated pair', async () => {
    const { connection } = await seedConnection(s, {
      realmId: realm(),
      tokens: tokensAt(clock.now(), 10 * 60_000),
    });
    const { calls, refresh } = counting();
    const t = tokensOn(s.dbh, refresh);
    expect(await t.getAccessToken(connection.id)).toBe('at-1');
    expect(calls).toEqual([]);

    clock.advance(10 * 60_000 - REFRESH_AHEAD_MS + 1000); // now within the refresh-ahead window
    expect(await t.getAccessToken(connection.id)).toBe('at-new-1');
    expect(calls).toEqual(['rt-1']);
    const row = await readConnection(s, connection.id);
    expect(row.credentialsVersion).toBe(2);
    expect(new Vault(s.config.APP_SECRET).open(row.credentials!)).toMatchObject({
      accessToken: 'at-new-1',
      refreshToken: 'rt-new-1',
    });
    // Fresh again: no second refresh.
    expect(await t.getAccessToken(connection.id)).toBe('at-new-1');
    expect(calls).toHaveLength(1);
  });

  it('single-flights concurrent refreshes inside one process', async () => {
    const { connection } = await seedConnection(s, {
      realmId: realm(),
      tokens: tokensAt(clock.now(), 60_000),
    });
    const { calls, refresh } = counting(50);
    const t = tokensOn(s.dbh, refresh);
    const got = await Promise.all(Array.from({ length: 5 }, () => t.getAccessToken(connection.id)));
    expect(new Set(got)).toEqual(new Set(['at-new-1']));
    expect(calls).toHaveLength(1);
  });

  it('two processes refreshing at once make exactly ONE token call (the second re-reads under the lock)', async () => {
    const { connection } = await seedConnection(s, {
      realmId: realm(),
      tokens: tokensAt(clock.now(), 60_000),
    });
    // On Postgres each "process" has its own pool, so only the advisory lock can serialize them; PGlite can only
    // be opened by one process, where the in-process lock is what serializes.
    const other = usingPostgres ? await createDb({ url: s.dbh.url, max: 3 }) : s.dbh;
    try {
      const { calls, refresh } = counting(150);
      const a = tokensOn(s.dbh, refresh);
      const b = tokensOn(other, refresh);
      const [ta, tb] = await Promise.all([a.getAccessToken(connection.id), b.getAccessToken(connection.id)]);
      expect(calls).toEqual(['rt-1']);
      expect(ta).toBe('at-new-1');
      expect(tb).toBe('at-new-1');
      // And after a 401 with the stale token, the other process picks up the refreshed one without a call.
      expect(await b.onUnauthorized(connection.id, 'at-1')).toBe('at-new-1');
      expect(calls).toHaveLength(1);
    } finally {
      if (other !== s.dbh) await other.close();
    }
  });

  it('on 401 refreshes once and retries the request with the new token', async () => {
    const realmId = realm();
    const { connection } = await seedConnection(s, {
      realmId,
      tokens: tokensAt(clock.now(), 30 * 60_000, 'old'),
    });
    nock(API)
      .get(`/v3/company/${realmId}/query`)
      .query(true)
      .matchHeader('authorization', 'Bearer at-old')
      .reply(401, gatewayAuthFault);
    nock(TOKEN_HOST)
      .post(TOKEN_PATH, (body: Record<string, string>) => body.refresh_token === 'rt-old')
      .reply(200, tokenReply('fresh'));
    nock(API)
      .get(`/v3/company/${realmId}/query`)
      .query(true)
      .matchHeader('authorization', 'Bearer at-fresh')
      .reply(200, queryPage('Customer', [customer('1')]));
    const { client } = connectionClient(s, connection);
    const res = await client.query('SELECT * FROM Customer');
    expect(res.QueryResponse).toMatchObject({ Customer: [{ Id: '1' }] });
    const stored = new Vault(s.config.APP_SECRET).open<{ refreshToken: string }>(
      (await readConnection(s, connection.id)).credentials!,
    );
    expect(stored.refreshToken).toBe('rt-fresh');
  });

  it('invalid_grant marks the connection reconnect_needed and leaves the stored tokens untouched', async () => {
    const { connection } = await seedConnection(s, {
      realmId: realm(),
      tokens: tokensAt(clock.now(), 60_000),
    });
    const before = await readConnection(s, connection.id);
    nock(TOKEN_HOST).post(TOKEN_PATH).reply(400, { error: 'invalid_grant' });
    const t = connectionTokens(s, { fresh: true });
    await expect(t.getAccessToken(connection.id)).rejects.toMatchObject({ code: 'reconnect_needed' });
    const after = await readConnection(s, connection.id);
    expect(after.status).toBe('reconnect_needed');
    expect(after.statusReason).toMatch(/invalid_grant/);
    expect(after.credentials).toBe(before.credentials);
    expect(after.credentialsVersion).toBe(before.credentialsVersion);
    // No further token calls: the connection stays parked until the user reconnects.
    await expect(t.getAccessToken(connection.id)).rejects.toMatchObject({ code: 'reconnect_needed' });
  });

  it('a transient token-endpoint failure is not a reconnect', async () => {
    const { connection } = await seedConnection(s, {
      realmId: realm(),
      tokens: tokensAt(clock.now(), 60_000),
    });
    nock(TOKEN_HOST).post(TOKEN_PATH).reply(503, 'down');
    const t = connectionTokens(s, { fresh: true });
    await expect(t.getAccessToken(connection.id)).rejects.toMatchObject({ retryable: true });
    expect((await readConnection(s, connection.id)).status).toBe('active');
  });

  describe('a disconnect or reconnect racing an in-flight refresh', () => {
    /** A token call that waits for `release()`, so the test can change the connection while it is in flight. */
    function gated() {
      let release = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let entered = () => {};
      const started = new Promise<void>((r) => {
        entered = r;
      });
      const { calls, refresh } = counting();
      return {
        calls,
        release,
        started,
        refresh: async (rt: string) => {
          entered();
          await gate;
          return refresh(rt);
        },
      };
    }
    const disconnect = (id: string, version: number) =>
      s.db
        .update(connections)
        .set({
          status: 'disconnected',
          statusReason: 'disconnected by user',
          credentials: null,
          accessExpiresAt: null,
          credentialsVersion: version + 1,
        })
        .where(eq(connections.id, id));

    it('the disconnect wins: the connection stays disconnected and the pair the refresh got is revoked', async () => {
      const { connection } = await seedConnection(s, {
        realmId: realm(),
        tokens: tokensAt(clock.now(), 60_000),
      });
      const g = gated();
      const revoked: string[] = [];
      const t = new ConnectionTokens(
        { dbh: s.dbh, clock, logger: createLogger('silent'), vault: new Vault(s.config.APP_SECRET) },
        async () => g.refresh,
        async () => async (token) => {
          revoked.push(token);
        },
      );
      const pending = t.getAccessToken(connection.id);
      await g.started;
      await disconnect(connection.id, connection.credentialsVersion);
      g.release();
      await expect(pending).rejects.toBeInstanceOf(ConnectionInactiveError);
      expect(g.calls).toEqual(['rt-1']);
      expect(revoked).toEqual(['rt-new-1']);
      const after = await readConnection(s, connection.id);
      expect(after).toMatchObject({ status: 'disconnected', credentials: null });
      // And no later call brings it back.
      await expect(t.getAccessToken(connection.id)).rejects.toBeInstanceOf(ConnectionInactiveError);
      expect(g.calls).toHaveLength(1);
    });

    it('an invalid_grant answered after a disconnect does not turn it into "reconnect needed"', async () => {
      const { connection } = await seedConnection(s, {
        realmId: realm(),
        tokens: tokensAt(clock.now(), 60_000),
      });
      let entered = () => {};
      const started = new Promise<void>((r) => {
        entered = r;
      });
      let release = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const t = tokensOn(s.dbh, async () => {
        entered();
        await gate;
        throw new ConnectorError({ code: 'invalid_grant', message: 'revoked' });
      });
      const pending = t.getAccessToken(connection.id);
      await started;
      await disconnect(connection.id, connection.credentialsVersion);
      release();
      await expect(pending).rejects.toBeInstanceOf(ConnectionInactiveError);
      expect((await readConnection(s, connection.id)).status).toBe('disconnected');
    });

    it('a reconnect wins: its new credentials are kept and used, nothing is revoked', async () => {
      const { connection } = await seedConnection(s, {
        realmId: realm(),
        tokens: tokensAt(clock.now(), 60_000),
      });
      const g = gated();
      const revoked: string[] = [];
      const vault = new Vault(s.config.APP_SECRET);
      const t = new ConnectionTokens(
        { dbh: s.dbh, clock, logger: createLogger('silent'), vault },
        async () => g.refresh,
        async () => async (token) => {
          revoked.push(token);
        },
      );
      const pending = t.getAccessToken(connection.id);
      await g.started;
      const reconnected = tokensAt(clock.now(), 3_600_000, 'reconnect');
      await s.db
        .update(connections)
        .set({ credentials: vault.seal(reconnected), credentialsVersion: connection.credentialsVersion + 1 })
        .where(eq(connections.id, connection.id));
      g.release();
      expect(await pending).toBe('at-reconnect');
      expect(revoked).toEqual([]);
      const after = await readConnection(s, connection.id);
      expect(vault.open(after.credentials!)).toMatchObject({ refreshToken: 'rt-reconnect' });
      expect(after.credentialsVersion).toBe(connection.credentialsVersion + 1);
    });
  });
});
