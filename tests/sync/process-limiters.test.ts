/**
 * The composition root owns the connectors' request limiters (issue 11): one limiter per company and process, handed
 * to the sync client, the live re-read, the invoice-PDF read, the probe and the connect of that company, so a 429
 * seen by one pauses them all; a second root in the same process (tests build several) shares none of them.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectorFor } from '../../connectors';
import { AccountPool } from '../../connectors/netsuite/pool';
import { QBO_LIMITS, RealmLimiter } from '../../connectors/quickbooks/realm-limiter';
import type { ClientFactoryOptions, LimiterLookup, RequestLimiter } from '../../connectors/types';
import type { Services } from '../../src/services';
import { SharedRequestLimiter } from '../../src/sync/rate-budget';
import { createTestServices } from '../helpers/services';
import { QB_ENV, seedConnection } from './helpers';

const API = 'https://qbo.limiters.test';
const REALM = '9130350000000001';
const env = { ...QB_ENV, QUICKBOOKS_API_URL: API, NETSUITE_CONCURRENCY: '5' };
const tokens = {
  accessToken: 'access-1',
  refreshToken: 'refresh-1',
  accessExpiresAt: '2030-01-01T00:00:00.000Z',
  refreshExpiresAt: null,
};

let a: Services;
let b: Services;
let connA: { id: string; provider: string; externalId: string };
let connB: { id: string; provider: string; externalId: string };

beforeAll(async () => {
  a = await createTestServices({ env, queue: false });
  b = await createTestServices({ env, queue: false });
  connA = (await seedConnection(a, { realmId: REALM, tokens })).connection;
  connB = (await seedConnection(b, { realmId: REALM, tokens })).connection;
  nock.disableNetConnect();
});
afterEach(() => {
  vi.restoreAllMocks();
  nock.cleanAll();
});
afterAll(async () => {
  nock.enableNetConnect();
  await a?.close();
  await b?.close();
});

/** The limiter each createClient call of the connector receives. */
function captureClientLimiters(provider: 'quickbooks' | 'netsuite'): Array<RequestLimiter | undefined> {
  const connector = connectorFor(provider);
  const original = connector.createClient!.bind(connector);
  const seen: Array<RequestLimiter | undefined> = [];
  vi.spyOn(connector, 'createClient').mockImplementation((o: ClientFactoryOptions<unknown>) => {
    seen.push(o.limiter);
    return original(o);
  });
  return seen;
}

describe('request limiters owned by the composition root', () => {
  it('hands one limiter per company to the sync client and the invoice-PDF read, with the connector limits', async () => {
    const seen = captureClientLimiters('quickbooks');
    a.sync.client(connA);
    a.sync.client(connA);
    const pdf = vi.spyOn(connectorFor('quickbooks'), 'invoicePdf');
    pdf.mockRejectedValue(new Error('not read'));
    await expect(a.sync.invoicePdf(connA, '42')).rejects.toThrow('not read');

    const limiter = a.sync.limiter(connA);
    if (a.dbh.kind === 'postgres') {
      // On Postgres the company's budget is shared by every process (rate_budgets), still one instance per root.
      expect(limiter).toBeInstanceOf(SharedRequestLimiter);
      expect((limiter as SharedRequestLimiter).key).toBe(`quickbooks:${REALM}`);
    } else {
      expect(limiter).toBeInstanceOf(RealmLimiter);
      expect((limiter as unknown as { limits: unknown }).limits).toEqual(QBO_LIMITS);
    }
    expect(seen).toEqual([limiter, limiter]);
    expect(pdf.mock.calls[0]![1].limiter).toBe(limiter);
  });

  it('a 429 seen by the sync client pauses the limiter the invoice-PDF read runs under; not another root', async () => {
    const limiterA = a.sync.limiter(connA)!;
    const limiterB = b.sync.limiter(connB)!;
    const pauseA = vi.spyOn(limiterA, 'pause');
    const pauseB = vi.spyOn(limiterB, 'pause');
    const runA = vi.spyOn(limiterA, 'run');
    const runB = vi.spyOn(limiterB, 'run');
    nock(API)
      .get(`/v3/company/${REALM}/companyinfo/${REALM}`)
      .query(true)
      .reply(429, 'Too Many Requests', { 'Retry-After': '1' })
      .get(`/v3/company/${REALM}/companyinfo/${REALM}`)
      .query(true)
      .reply(200, { CompanyInfo: { Id: REALM, CompanyName: 'Limits Inc' } });
    const { client } = a.sync.client(connA);
    await (client as { read(e: string, id: string): Promise<unknown> }).read('CompanyInfo', REALM);
    expect(pauseA).toHaveBeenCalledWith(1000);

    nock(API)
      .get(`/v3/company/${REALM}/invoice/42/pdf`)
      .query(true)
      .reply(200, Buffer.from('%PDF-1.4'), { 'Content-Type': 'application/pdf' });
    const doc = await a.sync.invoicePdf(connA, '42');
    await doc.body.cancel();
    // The PDF read went through the very limiter the sync client paused (so it waited out that pause too).
    expect(runA.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(pauseB).not.toHaveBeenCalled();
    expect(runB).not.toHaveBeenCalled();
  });

  it('two roots in one process never share a company limiter', () => {
    const seenA = captureClientLimiters('quickbooks');
    a.sync.client(connA);
    b.sync.client(connB);
    expect(a.sync.limiter(connA)).toBe(a.sync.limiter(connA));
    expect(a.sync.limiter(connA)).not.toBe(b.sync.limiter(connB));
    expect(seenA[0]).toBe(a.sync.limiter(connA));
    expect(seenA[1]).toBe(b.sync.limiter(connB));
    const ns = { provider: 'netsuite', externalId: '7654321' };
    expect(a.sync.limiter(ns)).not.toBe(b.sync.limiter(ns));
  });

  it('the NetSuite pool keeps NETSUITE_CONCURRENCY and is the one its connect and sync client use', async () => {
    const ns = { id: 'c-ns', provider: 'netsuite', externalId: '7654321' };
    const pool = a.sync.limiter(ns);
    if (a.dbh.kind === 'postgres') expect(pool).toBeInstanceOf(SharedRequestLimiter);
    else {
      expect(pool).toBeInstanceOf(AccountPool);
      expect((pool as AccountPool).concurrency).toBe(5);
    }
    const seen = captureClientLimiters('netsuite');
    a.sync.client(ns);
    expect(seen).toEqual([pool]);

    const connect = connectorFor('netsuite').connect!;
    let lookup: LimiterLookup | undefined;
    vi.spyOn(connect, 'connectWithCredentials').mockImplementation(async (o) => {
      lookup = o.limiterFor;
      return { ok: false, status: 400, title: 'validation', message: 'stop here' };
    });
    await a.sync.connect.withCredentials(async () => {}, {
      provider: 'netsuite',
      fields: { accountId: '7654321', type: 'tba', tokenId: 't', tokenSecret: 's' },
      tenantId: null,
    });
    expect(lookup?.('7654321')).toBe(pool);
  });
});
