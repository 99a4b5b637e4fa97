/**
 * Red team of the NetSuite client's fault handling: a request that hangs past the timeout, a 200 whose body is cut
 * off, a 5xx without a body, and a storm of 429s without Retry-After are retried (each attempt signed anew), and
 * what gives up does so with a typed, retryable error.
 */
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { NetsuiteClient, type NetsuiteClientOptions } from '../../connectors/netsuite/client';
import { AccountPool } from '../../connectors/netsuite/pool';
import { ACCOUNT, REST, SUITEQL, suiteqlPage, TBA } from './fixtures';

function makeClient(overrides: Partial<NetsuiteClientOptions> = {}) {
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  const client = new NetsuiteClient({
    restUrl: REST,
    accountId: ACCOUNT,
    auth: TBA,
    limiter: new AccountPool(3, { sleep }),
    sleep,
    random: () => 0.5,
    ...overrides,
  });
  return { client, waits };
}

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

const page = suiteqlPage([{ id: '7', companyname: 'Acme' }]);

describe('NetSuite client under faults', () => {
  it('a request hanging past the timeout is abandoned and retried; the retry answers', async () => {
    let calls = 0;
    // NetSuite accepts the connection and never answers: only the client's own timeout ends the wait.
    const hangingOnce: typeof fetch = (url, init) => {
      calls++;
      if (calls > 1) return fetch(url, init);
      return new Promise((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true }),
      );
    };
    nock(REST).post(SUITEQL).query(true).reply(200, page);
    const { client, waits } = makeClient({ requestTimeoutMs: 100, fetch: hangingOnce });
    const started = Date.now();
    expect((await client.suiteql('SELECT id FROM customer')).items).toEqual([
      { id: '7', companyname: 'Acme' },
    ]);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(calls).toBe(2);
    expect(waits).toHaveLength(1);
  });

  it('a 200 whose JSON is cut off, then a bodiless 502: both retried, the third answer is used', async () => {
    nock(REST).post(SUITEQL).query(true).reply(200, '{"items":[{"id":"7"');
    nock(REST).post(SUITEQL).query(true).reply(502, '');
    nock(REST).post(SUITEQL).query(true).reply(200, page);
    const { client, waits } = makeClient();
    expect((await client.suiteql('SELECT id FROM customer')).items).toHaveLength(1);
    expect(waits).toHaveLength(2);
  });

  it('a 200 without items is not read as an empty page (no silent end of a listing)', async () => {
    nock(REST).post(SUITEQL).query(true).times(5).reply(200, { hasMore: false });
    const { client } = makeClient({ maxServerRetries: 0 });
    await expect(client.suiteql('SELECT id FROM customer')).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
    nock.cleanAll();
  });

  it('a 429 storm without Retry-After longer than the retries: typed rate_limited, retryable, after backing off', async () => {
    nock(REST).post(SUITEQL).query(true).times(4).reply(429, '');
    const { client, waits } = makeClient({ maxThrottleRetries: 3 });
    await expect(client.suiteql('SELECT id FROM customer')).rejects.toMatchObject({
      code: 'rate_limited',
      retryable: true,
    });
    expect(waits.length).toBeGreaterThanOrEqual(3);
    expect(waits[2]!).toBeGreaterThan(waits[0]!);
  });
});
