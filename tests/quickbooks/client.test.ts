import nock from 'nock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectorError } from '../../connectors/errors';
import { QboClient, type QboClientOptions } from '../../connectors/quickbooks/client';
import { QBO_LIMITS, QBO_PROVIDER_LIMITS, RealmLimiter } from '../../connectors/quickbooks/realm-limiter';
import { API, gatewayAuthFault, queryPage, REALM, validationFault, xmlThrottle } from './fixtures';

const PATH = `/v3/company/${REALM}/query`;

function makeClient(overrides: Partial<QboClientOptions> = {}) {
  const waits: number[] = [];
  const refresh = vi.fn(async () => 'fresh-token');
  // Record the waits instead of sleeping them (time moves by what was waited): the policy is what we test.
  let t = 0;
  const sleep = async (ms: number) => {
    waits.push(ms);
    t += ms;
  };
  const client = new QboClient({
    apiBaseUrl: API,
    realmId: REALM,
    getAccessToken: async () => 'old-token',
    onUnauthorized: refresh,
    limiter: new RealmLimiter(undefined, { clock: () => t, sleep }),
    sleep,
    random: () => 0.5,
    ...overrides,
  });
  return { client, waits, refresh };
}

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('QboClient', () => {
  it('sends the query with minorversion 75 and a bearer token', async () => {
    nock(API, { reqheaders: { authorization: 'Bearer old-token', accept: 'application/json' } })
      .get(PATH)
      .query({ query: 'SELECT * FROM Invoice STARTPOSITION 1 MAXRESULTS 10', minorversion: '75' })
      .reply(200, queryPage('Invoice', [{ Id: '1' }]));
    const { client } = makeClient();
    const res = await client.query('SELECT * FROM Invoice STARTPOSITION 1 MAXRESULTS 10');
    expect(res.QueryResponse.Invoice).toEqual([{ Id: '1' }]);
  });

  it('percent-encodes the query text', async () => {
    let rawPath = '';
    nock(API)
      .get((uri) => {
        rawPath = uri;
        return uri.startsWith(PATH);
      })
      .reply(200, queryPage('Invoice', []));
    const { client } = makeClient();
    await client.query("SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '2026-05-01T00:00:00+00:00'");
    expect(rawPath).toBe(
      `${PATH}?query=SELECT%20*%20FROM%20Invoice%20WHERE%20MetaData.LastUpdatedTime%20%3E%3D%20%272026-05-01T00%3A00%3A00%2B00%3A00%27&minorversion=75`,
    );
  });

  it('waits as Intuit asks after a 429 (XML body), then succeeds', async () => {
    nock(API)
      .get(PATH)
      .query(true)
      .reply(429, xmlThrottle, { 'content-type': 'application/xml', 'retry-after': '2' });
    nock(API).get(PATH).query(true).reply(429, xmlThrottle, { 'content-type': 'application/xml' });
    nock(API).get(PATH).query(true).reply(200, queryPage('Invoice', []));
    const { client, waits } = makeClient({ throttleWaitMs: 7 });
    await expect(client.query('SELECT * FROM Invoice')).resolves.toMatchObject({ QueryResponse: {} });
    expect(waits).toEqual([2000, 7]);
  });

  it('really sleeps the injected default wait (tiny) when no sleep is injected', async () => {
    nock(API).get(PATH).query(true).reply(429, xmlThrottle);
    nock(API).get(PATH).query(true).reply(200, queryPage('Invoice', []));
    const client = new QboClient({
      apiBaseUrl: API,
      realmId: REALM,
      getAccessToken: async () => 't',
      onUnauthorized: async () => 't',
      throttleWaitMs: 5,
    });
    const started = Date.now();
    await client.query('SELECT * FROM Invoice');
    expect(Date.now() - started).toBeGreaterThanOrEqual(4);
  });

  it('gives up after the bounded number of throttle retries with a retryable rate_limited error', async () => {
    nock(API).get(PATH).query(true).times(4).reply(429, xmlThrottle);
    const { client } = makeClient({ throttleWaitMs: 1, maxThrottleRetries: 3 });
    await expect(client.query('SELECT * FROM Invoice')).rejects.toMatchObject({
      code: 'rate_limited',
      retryable: true,
      providerCode: '3001',
    });
  });

  it('retries 5xx with exponential backoff and jitter', async () => {
    nock(API).get(PATH).query(true).reply(503, '');
    nock(API)
      .get(PATH)
      .query(true)
      .reply(500, { Fault: { Error: [{ Message: 'Internal', code: '10000' }], type: 'SystemFault' } });
    nock(API).get(PATH).query(true).reply(502, '<html>bad gateway</html>');
    nock(API).get(PATH).query(true).reply(200, queryPage('Invoice', []));
    const { client, waits } = makeClient({ backoffBaseMs: 100 });
    await client.query('SELECT * FROM Invoice');
    // random() = 0.5 -> 75% of the cap: 100, 200, 400 ms caps.
    expect(waits).toEqual([75, 150, 300]);
  });

  it('stops retrying 5xx after maxServerRetries', async () => {
    nock(API).get(PATH).query(true).times(3).reply(503, '');
    const { client, waits } = makeClient({ maxServerRetries: 2 });
    await expect(client.query('SELECT * FROM Invoice')).rejects.toMatchObject({
      code: 'provider_unavailable',
      status: 503,
      retryable: true,
    });
    expect(waits).toHaveLength(2);
  });

  it('refreshes once on 401 and retries with the new token', async () => {
    nock(API, { reqheaders: { authorization: 'Bearer old-token' } })
      .get(PATH)
      .query(true)
      .reply(401, gatewayAuthFault);
    nock(API, { reqheaders: { authorization: 'Bearer fresh-token' } })
      .get(PATH)
      .query(true)
      .reply(200, queryPage('Invoice', []));
    const { client, refresh } = makeClient();
    await client.query('SELECT * FROM Invoice');
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('shares one refresh between concurrent 401s and reuses a token refreshed meanwhile', async () => {
    nock(API, { reqheaders: { authorization: 'Bearer old-token' } })
      .get(PATH)
      .query(true)
      .times(3)
      .reply(401, gatewayAuthFault);
    nock(API, { reqheaders: { authorization: 'Bearer fresh-token' } })
      .get(PATH)
      .query(true)
      .times(3)
      .reply(200, queryPage('Invoice', []));
    let stored = 'old-token';
    const refresh = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 20));
      stored = 'fresh-token';
      return stored;
    });
    const { client } = makeClient({ getAccessToken: async () => stored, onUnauthorized: refresh });
    await Promise.all([1, 2, 3].map(() => client.query('SELECT * FROM Invoice')));
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('fails with unauthorized when the refreshed token is rejected too (no refresh loop)', async () => {
    nock(API).get(PATH).query(true).times(2).reply(401, gatewayAuthFault);
    const { client, refresh } = makeClient();
    await expect(client.query('SELECT * FROM Invoice')).rejects.toMatchObject({
      code: 'unauthorized',
      providerCode: '3200',
      retryable: false,
    });
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('propagates a refresh failure (e.g. invalid_grant) unchanged', async () => {
    nock(API).get(PATH).query(true).reply(401, gatewayAuthFault);
    const { client } = makeClient({
      onUnauthorized: async () => {
        throw new ConnectorError({ code: 'invalid_grant', status: 400, message: 'invalid_grant' });
      },
    });
    await expect(client.query('SELECT * FROM Invoice')).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('does not retry validation faults', async () => {
    nock(API).get(PATH).query(true).reply(400, validationFault('4001', 'Invalid query'));
    const { client, waits } = makeClient();
    await expect(client.query('SELECT * FROM Invoice MAXRESULTS 1500')).rejects.toMatchObject({
      code: 'invalid_query',
      providerCode: '4001',
    });
    expect(waits).toEqual([]);
  });

  it('reads one entity, asking invoices for their payment link', async () => {
    nock(API)
      .get(`/v3/company/${REALM}/invoice/130`)
      .query({ include: 'invoiceLink', minorversion: '75' })
      .reply(200, { Invoice: { Id: '130', InvoiceLink: 'https://pay/x' }, time: 't' });
    const { client } = makeClient();
    await expect(client.read('Invoice', '130')).resolves.toMatchObject({ InvoiceLink: 'https://pay/x' });
  });

  it('calls CDC with the entity list and changedSince', async () => {
    nock(API)
      .get(`/v3/company/${REALM}/cdc`)
      .query({ entities: 'Invoice,Payment', changedSince: '2026-05-01T00:00:00.000Z', minorversion: '75' })
      .reply(200, { CDCResponse: [{ QueryResponse: [{}, {}] }], time: 't' });
    const { client } = makeClient();
    await expect(client.cdc(['Invoice', 'Payment'], '2026-05-01T00:00:00.000Z')).resolves.toMatchObject({
      CDCResponse: [{}],
    });
  });

  it('honours the AbortSignal, also while waiting out a throttle', async () => {
    nock(API).get(PATH).query(true).reply(429, xmlThrottle);
    const controller = new AbortController();
    const client = new QboClient({
      apiBaseUrl: API,
      realmId: REALM,
      getAccessToken: async () => 't',
      onUnauthorized: async () => 't',
      throttleWaitMs: 60_000,
      limiter: new RealmLimiter(),
    });
    const pending = client.query('SELECT * FROM Invoice', controller.signal);
    setTimeout(() => controller.abort(), 30);
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
  });

  it('turns network failures into retryable network errors after bounded retries', async () => {
    nock(API).get(PATH).query(true).times(2).replyWithError('socket hang up');
    const { client } = makeClient({ maxServerRetries: 1 });
    await expect(client.query('SELECT * FROM Invoice')).rejects.toMatchObject({
      code: 'network',
      retryable: true,
    });
  });
});

describe('a 429 pauses the whole realm', () => {
  it('a request of another client of the realm, started during the pause, waits it out too', async () => {
    let t = 0;
    const waits: number[] = [];
    let b: Promise<unknown> | null = null;
    const limiter = new RealmLimiter(undefined, {
      clock: () => t,
      sleep: async (ms) => {
        const at = t;
        waits.push(ms);
        // While a waits out its 429, another sync of the same realm wants to send.
        b ??= client('b').query('SELECT * FROM Invoice');
        await new Promise((r) => setImmediate(r));
        t = Math.max(t, at + ms);
      },
    });
    const client = (token: string) =>
      new QboClient({
        apiBaseUrl: API,
        realmId: REALM,
        getAccessToken: async () => token,
        onUnauthorized: async () => token,
        limiter,
      });
    const sent: string[] = [];
    const as = (who: string) =>
      nock(API, { reqheaders: { authorization: `Bearer ${who}` } })
        .get(PATH)
        .query(true);
    as('a').reply(
      429,
      () => {
        sent.push(`a at ${t}`);
        return xmlThrottle;
      },
      { 'content-type': 'application/xml', 'retry-after': '10' },
    );
    for (const who of ['a', 'b'])
      as(who).reply(200, () => {
        sent.push(`${who} at ${t}`);
        return queryPage('Invoice', []);
      });
    await client('a').query('SELECT * FROM Invoice');
    await b;
    // b was never sent into the throttled window: both waited for the 10 s Intuit asked for.
    expect(sent.sort()).toEqual(['a at 0', 'a at 10000', 'b at 10000']);
    expect(waits).toEqual([10_000, 10_000]);
  });

  it('b, already waiting when a is throttled, holds too', async () => {
    let t = 0;
    const limiter = new RealmLimiter(undefined, {
      clock: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    });
    await limiter.pause(5_000);
    let ran = -1;
    await limiter.run(async () => {
      ran = t;
    });
    expect(ran).toBe(5_000);
  });
});

describe('RealmLimiter', () => {
  it("budgets a margin below Intuit's 500 requests per minute", () => {
    expect(QBO_LIMITS.perMinute).toBeLessThan(QBO_PROVIDER_LIMITS.perMinute);
    expect(QBO_LIMITS.perMinute).toBeLessThanOrEqual(450);
  });

  it('never runs more than the concurrency limit at once', async () => {
    const limiter = new RealmLimiter({ concurrency: 3, perMinute: 500 });
    let active = 0;
    let peak = 0;
    const task = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
    };
    await Promise.all(Array.from({ length: 12 }, () => limiter.run(task)));
    expect(peak).toBe(3);
  });

  it('holds requests beyond the per-minute budget until the window moves', async () => {
    vi.useFakeTimers();
    try {
      const limiter = new RealmLimiter({ concurrency: 10, perMinute: 2 });
      await limiter.run(async () => {});
      await limiter.run(async () => {});
      let third = false;
      const pending = limiter.run(async () => {
        third = true;
      });
      await vi.advanceTimersByTimeAsync(59_000);
      expect(third).toBe(false);
      await vi.advanceTimersByTimeAsync(1_100);
      await pending;
      expect(third).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
