import nock from 'nock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NetsuiteClient, type NetsuiteClientOptions } from '../../connectors/netsuite/client';
import { AccountPool } from '../../connectors/netsuite/pool';
import {
  ACCOUNT,
  badQuery,
  concurrencyExceeded,
  errorBody,
  invalidLogin,
  REST,
  SUITEQL,
  suiteqlPage,
  TBA,
} from './fixtures';

function makeClient(overrides: Partial<NetsuiteClientOptions> = {}) {
  const waits: number[] = [];
  let t = 0;
  const sleep = async (ms: number) => {
    waits.push(ms);
    t += ms;
  };
  const pool = new AccountPool(3, { clock: () => t, sleep });
  const client = new NetsuiteClient({
    restUrl: REST,
    accountId: ACCOUNT,
    auth: TBA,
    limiter: pool,
    sleep,
    random: () => 0.5,
    now: () => 1_765_000_000_000 + t,
    ...overrides,
  });
  return { client, waits, pool };
}

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('NetsuiteClient.suiteql', () => {
  it('POSTs the query with limit/offset, Prefer: transient and a TBA header for realm 1234567_SB1', async () => {
    let auth = '';
    nock(REST, {
      reqheaders: {
        prefer: 'transient',
        'content-type': 'application/json',
        authorization: (v: string | null) => {
          auth = v ?? '';
          return true;
        },
      },
    })
      .post(SUITEQL, { q: 'SELECT id FROM customer' })
      .query({ limit: '1000', offset: '0' })
      .reply(200, suiteqlPage([{ id: '7', companyname: 'Acme' }]));
    const { client } = makeClient();
    const page = await client.suiteql('SELECT id FROM customer');
    expect(page.items).toEqual([{ id: '7', companyname: 'Acme' }]);
    expect(page.hasMore).toBe(false);
    expect(auth).toMatch(
      /^OAuth realm="1234567_SB1",oauth_consumer_key="ck",oauth_token="tid",oauth_signature_method="HMAC-SHA256"/,
    );
  });

  it('caps limit at 1000', async () => {
    nock(REST).post(SUITEQL).query({ limit: '1000', offset: '2000' }).reply(200, suiteqlPage([]));
    await makeClient().client.suiteql('SELECT id FROM customer', { limit: 5000, offset: 2000 });
  });

  it('a 429 storm pauses the account with growing jittered waits and a fresh signature each attempt', async () => {
    const nonces: string[] = [];
    const scope = {
      reqheaders: {
        authorization: (v: string | null) => {
          nonces.push(/oauth_nonce="([^"]+)"/.exec(v ?? '')?.[1] ?? '');
          return true;
        },
      },
    };
    nock(REST, scope).post(SUITEQL).query(true).times(4).reply(429, concurrencyExceeded());
    nock(REST, scope)
      .post(SUITEQL)
      .query(true)
      .reply(200, suiteqlPage([{ id: '1' }]));
    const { client, waits } = makeClient();
    const page = await client.suiteql('SELECT id FROM customer');
    expect(page.items).toHaveLength(1);
    // base 1 s doubling, jitter 0.5 -> 3/4 of the cap.
    expect(waits).toEqual([750, 1500, 3000, 6000]);
    expect(new Set(nonces).size).toBe(5);
  });

  it('gives up after maxThrottleRetries with a retryable rate_limited error', async () => {
    nock(REST).post(SUITEQL).query(true).times(3).reply(429, concurrencyExceeded());
    const err = await makeClient({ maxThrottleRetries: 2 })
      .client.suiteql('SELECT 1')
      .catch((e) => e);
    expect(err).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      status: 429,
      providerCode: 'CONCURRENCY_LIMIT_EXCEEDED',
    });
  });

  it('a 429 with no body is still throttling', async () => {
    nock(REST).post(SUITEQL).query(true).reply(429, '').post(SUITEQL).query(true).reply(200, suiteqlPage([]));
    const { client, waits } = makeClient();
    await client.suiteql('SELECT 1');
    expect(waits).toHaveLength(1);
  });

  it('retries 5xx with backoff, then surfaces provider_unavailable', async () => {
    nock(REST)
      .post(SUITEQL)
      .query(true)
      .reply(503, 'busy')
      .post(SUITEQL)
      .query(true)
      .reply(200, suiteqlPage([]));
    const ok = makeClient();
    await ok.client.suiteql('SELECT 1');
    expect(ok.waits).toEqual([750]);
    nock(REST)
      .post(SUITEQL)
      .query(true)
      .times(3)
      .reply(500, errorBody(500, 'UNEXPECTED_ERROR', 'oops'));
    const err = await makeClient({ maxServerRetries: 2 })
      .client.suiteql('SELECT 1')
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'provider_unavailable', retryable: true, status: 500 });
  });

  it('TBA 401 INVALID_LOGIN: re-signs once, then a typed unauthorized naming the Login Audit Trail', async () => {
    nock(REST).post(SUITEQL).query(true).times(2).reply(401, invalidLogin());
    const err = await makeClient()
      .client.suiteql('SELECT 1')
      .catch((e) => e);
    expect(err).toMatchObject({
      code: 'unauthorized',
      status: 401,
      providerCode: 'INVALID_LOGIN',
      retryable: false,
    });
    expect(err.userMessage).toMatch(/INVALID_LOGIN/);
    expect(err.userMessage).toMatch(/Login Audit Trail/);
  });

  it('bearer 401: refreshes once (single flight) and retries with the new token', async () => {
    const onUnauthorized = vi.fn(async () => 'new');
    nock(REST, { reqheaders: { authorization: 'Bearer old' } })
      .post(SUITEQL)
      .query(true)
      .reply(401, invalidLogin());
    nock(REST, { reqheaders: { authorization: 'Bearer new' } })
      .post(SUITEQL)
      .query(true)
      .reply(200, suiteqlPage([]));
    const { client } = makeClient({
      auth: { type: 'bearer', getAccessToken: async () => 'old', onUnauthorized },
    });
    await client.suiteql('SELECT 1');
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('bearer 401 twice: unauthorized after one refresh', async () => {
    const onUnauthorized = vi.fn(async () => 'new');
    nock(REST).post(SUITEQL).query(true).times(2).reply(401, invalidLogin());
    const { client } = makeClient({
      auth: { type: 'bearer', getAccessToken: async () => 'old', onUnauthorized },
    });
    await expect(client.suiteql('SELECT 1')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('a rejected query is invalid_query at once (no retry)', async () => {
    nock(REST).post(SUITEQL).query(true).reply(400, badQuery());
    const err = await makeClient()
      .client.suiteql('SELECT foreignamountremaining FROM transaction')
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'invalid_query', retryable: false, providerCode: 'INVALID_PARAMETER' });
    expect(err.message).toMatch(/foreignamountremaining/);
  });

  it('403 INSUFFICIENT_PERMISSION is forbidden', async () => {
    nock(REST)
      .post(SUITEQL)
      .query(true)
      .reply(403, errorBody(403, 'INSUFFICIENT_PERMISSION', 'Permission Violation'));
    await expect(makeClient().client.suiteql('SELECT 1')).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('an answer without items is provider_unavailable', async () => {
    nock(REST).post(SUITEQL).query(true).times(5).reply(200, { hello: 'world' });
    await expect(makeClient({ maxServerRetries: 0 }).client.suiteql('SELECT 1')).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
    nock.cleanAll();
  });

  it('honours the abort signal while the account is paused after a 429', async () => {
    nock(REST).post(SUITEQL).query(true).reply(429, concurrencyExceeded());
    const controller = new AbortController();
    const client = new NetsuiteClient({
      restUrl: REST,
      accountId: ACCOUNT,
      auth: TBA,
      limiter: new AccountPool(3),
      backoffBaseMs: 60_000,
    });
    const pending = client.suiteql('SELECT 1', { limit: 10 }, controller.signal);
    setTimeout(() => controller.abort(), 30);
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
  });

  it('an aborted signal stops before any request', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      makeClient().client.suiteql('SELECT 1', { limit: 1 }, controller.signal),
    ).rejects.toMatchObject({
      code: 'aborted',
    });
  });

  it('keeps at most 3 requests of one account in flight across clients sharing its pool', async () => {
    // The app's root builds one pool per account (tests/sync/process-limiters.test.ts) and hands it to every client.
    const pool = new AccountPool(3);
    let inFlight = 0;
    let peak = 0;
    nock(REST)
      .post(SUITEQL)
      .query(true)
      .times(10)
      .reply(async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 15));
        inFlight--;
        return [200, suiteqlPage([])];
      });
    const a = new NetsuiteClient({ restUrl: REST, accountId: '7654321', auth: TBA, limiter: pool });
    const b = new NetsuiteClient({ restUrl: REST, accountId: '7654321', auth: TBA, limiter: pool });
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).suiteql('SELECT 1')));
    expect(peak).toBe(3);
  });

  it('suiteqlAll follows hasMore by offset', async () => {
    nock(REST)
      .post(SUITEQL)
      .query({ limit: '2', offset: '0' })
      .reply(200, suiteqlPage([{ id: '1' }, { id: '2' }], true))
      .post(SUITEQL)
      .query({ limit: '2', offset: '2' })
      .reply(200, suiteqlPage([{ id: '3' }], false, 2));
    const rows = await makeClient().client.suiteqlAll('SELECT id FROM x', undefined, 2);
    expect(rows.map((r) => r.id)).toEqual(['1', '2', '3']);
  });
});
