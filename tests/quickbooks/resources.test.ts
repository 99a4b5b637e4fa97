import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { QboClient } from '../../connectors/quickbooks/client';
import { RealmLimiter } from '../../connectors/quickbooks/realm-limiter';
import { type QboCursor, quickbooksPages } from '../../connectors/quickbooks/resources';
import type { SyncPage } from '../../connectors/types';
import {
  API,
  cdcAnswer,
  customer,
  deleted,
  invoice,
  payment,
  queryPage,
  REALM,
  silentLogger,
} from './fixtures';

const QUERY = `/v3/company/${REALM}/query`;
const CDC = `/v3/company/${REALM}/cdc`;
const NOW = new Date('2026-05-07T17:00:00.000Z');

function context() {
  const client = new QboClient({
    apiBaseUrl: API,
    realmId: REALM,
    getAccessToken: async () => 't',
    onUnauthorized: async () => 't',
    limiter: new RealmLimiter(),
  });
  return { client, externalId: REALM, logger: silentLogger, signal: new AbortController().signal };
}

async function collect(cursor: QboCursor | null, options: { pageSize?: number; cdcLimit?: number } = {}) {
  const pages: SyncPage<QboCursor>[] = [];
  for await (const page of quickbooksPages(context(), cursor, { now: () => NOW, ...options }))
    pages.push(page);
  return pages;
}

const expectQuery = (sql: string, body: object) =>
  nock(API)
    .get(QUERY)
    .query((q) => q.query === sql && q.minorversion === '75')
    .reply(200, body);

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('full sync', () => {
  it('pages every entity by Id (keyset) until the empty QueryResponse past the end, as one listing each', async () => {
    expectQuery(
      'SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id MAXRESULTS 2',
      queryPage('Customer', [customer('1'), customer('2')]),
    );
    expectQuery(
      "SELECT * FROM Customer WHERE Active IN (true, false) AND Id > '2' ORDERBY Id MAXRESULTS 2",
      queryPage('Customer', [customer('10')], 3),
    );
    expectQuery(
      "SELECT * FROM Customer WHERE Active IN (true, false) AND Id > '10' ORDERBY Id MAXRESULTS 2",
      queryPage('Customer', []),
    );
    expectQuery(
      'SELECT * FROM Invoice ORDERBY Id MAXRESULTS 2',
      queryPage('Invoice', [invoice('10', 100, 40)]),
    );
    expectQuery("SELECT * FROM Invoice WHERE Id > '10' ORDERBY Id MAXRESULTS 2", queryPage('Invoice', []));
    expectQuery('SELECT * FROM CreditMemo ORDERBY Id MAXRESULTS 2', queryPage('CreditMemo', []));
    expectQuery('SELECT * FROM JournalEntry ORDERBY Id MAXRESULTS 2', queryPage('JournalEntry', []));
    expectQuery(
      'SELECT * FROM Payment ORDERBY Id MAXRESULTS 2',
      queryPage('Payment', [payment('20', 60, 0, [['10', 'Invoice', 60]])]),
    );
    expectQuery("SELECT * FROM Payment WHERE Id > '20' ORDERBY Id MAXRESULTS 2", queryPage('Payment', []));

    const pages = await collect(null, { pageSize: 2 });
    // The first answer's time (17:00) less the minute a CDC round overlaps by: where CDC takes over.
    const since = '2026-05-06T16:59:00.000Z';
    expect(pages.map((p) => p.cursor)).toEqual([
      { mode: 'full', entity: 'Customer', afterId: '2', changedSince: since },
      // '10' > '2' as Intuit orders Ids: numerically.
      { mode: 'full', entity: 'Customer', afterId: '10', changedSince: since },
      { mode: 'full', entity: 'Invoice', afterId: null, changedSince: since },
      { mode: 'full', entity: 'Invoice', afterId: '10', changedSince: since },
      { mode: 'full', entity: 'CreditMemo', afterId: null, changedSince: since },
      { mode: 'full', entity: 'JournalEntry', afterId: null, changedSince: since },
      { mode: 'full', entity: 'Payment', afterId: null, changedSince: since },
      { mode: 'full', entity: 'Payment', afterId: '20', changedSince: since },
      { mode: 'cdc', changedSince: since },
    ]);
    expect(pages.map((p) => [p.listingStarts ?? [], p.seen ?? {}, p.listingComplete ?? null])).toEqual([
      [['customers'], { customers: ['1', '2'] }, null],
      [[], { customers: ['10'] }, null],
      [[], {}, { kinds: ['customers'], asOf: since }],
      [['invoices'], { invoices: ['10'] }, null],
      [[], {}, { kinds: ['invoices'], asOf: since }],
      // An entity with no rows at all starts and completes its listing in one page: everything we hold is gone.
      [['creditMemos'], {}, { kinds: ['creditMemos'], asOf: since }],
      // Journal entries are listed as entries (their credits are creditMemos rows of their own).
      [['journalEntries'], {}, { kinds: ['journalEntries'], asOf: since }],
      [['payments'], { payments: ['20'] }, null],
      [[], {}, { kinds: ['payments'], asOf: since }],
    ]);
    expect(pages.flatMap((p) => p.customers.map((c) => c.externalId))).toEqual(['1', '2', '10']);
    expect(pages.flatMap((p) => p.invoices)).toMatchObject([{ externalId: '10', balanceMinor: 4000 }]);
    expect(pages.flatMap((p) => p.payments)).toMatchObject([
      { externalId: '20', allocations: [{ invoiceExternalId: '10', amountMinor: 6000 }] },
    ]);
  });

  it('resumes from a persisted keyset cursor without re-reading committed pages', async () => {
    expectQuery(
      "SELECT * FROM Payment WHERE Id > '1500' ORDERBY Id MAXRESULTS 1000",
      queryPage('Payment', []),
    );
    const pages = await collect({
      mode: 'full',
      entity: 'Payment',
      afterId: '1500',
      changedSince: '2026-05-01T00:00:00.000Z',
    });
    expect(pages.map((p) => p.cursor)).toEqual([{ mode: 'cdc', changedSince: '2026-05-01T00:00:00.000Z' }]);
    expect(pages[0]?.listingStarts).toBeUndefined();
    expect(pages[0]?.listingComplete).toEqual({ kinds: ['payments'], asOf: '2026-05-01T00:00:00.000Z' });
  });

  it('starts over when the stored cursor is a positional one from an older version', async () => {
    expectQuery(
      'SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id MAXRESULTS 1000',
      queryPage('Customer', []),
    );
    for (const e of ['Invoice', 'CreditMemo', 'JournalEntry', 'Payment'])
      expectQuery(`SELECT * FROM ${e} ORDERBY Id MAXRESULTS 1000`, queryPage(e, []));
    const legacy = {
      mode: 'full',
      entity: 'Payment',
      startPosition: 1001,
      changedSince: '2026-05-01T00:00:00.000Z',
    };
    const pages = await collect(legacy as unknown as QboCursor);
    expect(pages[0]?.listingStarts).toEqual(['customers']);
    expect(pages.at(-1)?.cursor).toEqual({ mode: 'cdc', changedSince: '2026-05-06T16:59:00.000Z' });
  });
});

describe('incremental sync (CDC)', () => {
  const since = '2026-05-06T00:00:00.000Z';
  const cdcFor = (entities: string) =>
    nock(API)
      .get(CDC)
      .query((q) => q.entities === entities && q.changedSince === since);

  it('maps changed rows, turns Deleted rows into deletions and moves the cursor to the server time', async () => {
    cdcFor('Customer,Invoice,CreditMemo,JournalEntry,Payment').reply(
      200,
      cdcAnswer([
        {},
        { Invoice: [invoice('103', 629.1, 0), deleted('65')] },
        {},
        { Payment: [payment('147', 629.1, 0, [['103', 'Invoice', 629.1]])] },
      ]),
    );
    const pages = await collect({ mode: 'cdc', changedSince: since });
    expect(pages).toHaveLength(1);
    const [page] = pages;
    expect(page?.invoices).toMatchObject([{ externalId: '103', status: 'paid', balanceMinor: 0 }]);
    expect(page?.deletions.invoices).toEqual([
      { externalId: '65', sourceUpdatedAt: '2026-05-06T09:00:00-07:00' },
    ]);
    expect(page?.payments[0]?.allocations).toEqual([
      { invoiceExternalId: '103', amountMinor: 62910, creditMemoExternalId: null },
    ]);
    // Server said 10:00 -07:00 = 17:00Z; we re-read from a minute earlier.
    expect(page?.cursor).toEqual({ mode: 'cdc', changedSince: '2026-05-07T16:59:00.000Z' });
  });

  it('keeps the highest SyncToken of an entity the answer carries twice (saves within one second)', async () => {
    const v = (token: string, balance: number) => ({ ...invoice('103', 629.1, balance), SyncToken: token });
    cdcFor('Customer,Invoice,CreditMemo,JournalEntry,Payment').reply(
      200,
      cdcAnswer([{}, { Invoice: [v('3', 100), v('2', 300), deleted('65')] }, {}, {}]),
    );
    const [page] = await collect({ mode: 'cdc', changedSince: since });
    expect(page?.invoices).toMatchObject([{ externalId: '103', balanceMinor: 10000 }]);
    expect(page?.deletions.invoices).toMatchObject([{ externalId: '65' }]);
  });

  it('yields one empty page with the moved cursor when nothing changed', async () => {
    cdcFor('Customer,Invoice,CreditMemo,JournalEntry,Payment').reply(200, {
      CDCResponse: [{ QueryResponse: [{}] }],
      time: '2026-05-07T10:00:00.000-07:00',
    });
    const pages = await collect({ mode: 'cdc', changedSince: since });
    expect(pages).toHaveLength(1);
    expect(pages[0]?.invoices).toEqual([]);
    expect(pages[0]?.cursor).toEqual({ mode: 'cdc', changedSince: '2026-05-07T16:59:00.000Z' });
  });

  it('splits a saturated answer by entity and falls back to a LastUpdatedTime query for a saturated entity', async () => {
    const many = (n: number, start: number) =>
      Array.from({ length: n }, (_, i) => invoice(String(start + i), 10, 10));
    // limit 3: five entities -> saturated; halves -> [Customer,Invoice,CreditMemo] saturated, [JournalEntry,Payment]
    // fine; [Customer,Invoice,CreditMemo] -> [Customer,Invoice] saturated, [CreditMemo] fine.
    cdcFor('Customer,Invoice,CreditMemo,JournalEntry,Payment').reply(
      200,
      cdcAnswer([{ Customer: [customer('1')] }, { Invoice: many(2, 1) }, {}, {}]),
    );
    cdcFor('Customer,Invoice,CreditMemo').reply(
      200,
      cdcAnswer([{ Customer: [customer('1')] }, { Invoice: many(2, 1) }, {}]),
    );
    cdcFor('CreditMemo').reply(200, cdcAnswer([{}]));
    cdcFor('Customer,Invoice').reply(
      200,
      cdcAnswer([{ Customer: [customer('1')] }, { Invoice: many(2, 1) }]),
    );
    cdcFor('JournalEntry,Payment').reply(200, cdcAnswer([{}, { Payment: [payment('50', 5, 5, [])] }]));
    cdcFor('Customer').reply(200, cdcAnswer([{ Customer: [customer('1')] }]));
    cdcFor('Invoice').reply(200, cdcAnswer([{ Invoice: [...many(2, 1), deleted('99')] }]));
    expectQuery(
      `SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '${since}' ORDERBY Id MAXRESULTS 2`,
      queryPage('Invoice', many(2, 1)),
    );
    expectQuery(
      `SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '${since}' AND Id > '2' ORDERBY Id MAXRESULTS 2`,
      queryPage('Invoice', many(2, 3), 3),
    );
    expectQuery(
      `SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime >= '${since}' AND Id > '4' ORDERBY Id MAXRESULTS 2`,
      queryPage('Invoice', []),
    );
    // The cut answer may have dropped tombstones (only 99 arrived): every Invoice id is listed.
    const ids = (...list: string[]) => list.map((Id) => ({ Id }));
    expectQuery(
      'SELECT Id FROM Invoice ORDERBY Id MAXRESULTS 1000',
      queryPage('Invoice', ids('1', '2', '3', '4', '7')),
    );
    expectQuery("SELECT Id FROM Invoice WHERE Id > '7' ORDERBY Id MAXRESULTS 1000", queryPage('Invoice', []));

    const pages = await collect({ mode: 'cdc', changedSince: since }, { cdcLimit: 3, pageSize: 2 });
    expect(pages.flatMap((p) => p.customers.map((c) => c.externalId))).toEqual(['1']);
    expect(pages.flatMap((p) => p.invoices.map((i) => i.externalId))).toEqual(['1', '2', '3', '4']);
    expect(pages.flatMap((p) => p.deletions.invoices.map((d) => d.externalId))).toEqual(['99']);
    expect(pages.flatMap((p) => p.payments.map((x) => x.externalId))).toEqual(['50']);
    expect(pages.flatMap((p) => p.listingStarts ?? [])).toEqual(['invoices']);
    expect(pages.flatMap((p) => p.seen?.invoices ?? [])).toEqual(['1', '2', '3', '4', '7']);
    // Complete as of the round's server time: rows changed since are the next round's business.
    expect(pages.flatMap((p) => (p.listingComplete ? [p.listingComplete] : []))).toEqual([
      { kinds: ['invoices'], asOf: '2026-05-07T17:00:00.000Z' },
    ]);
    // Only the last page moves the cursor: a crash mid-round repeats the round, never skips it.
    expect(pages.slice(0, -1).every((p) => p.cursor.mode === 'cdc' && p.cursor.changedSince === since)).toBe(
      true,
    );
    expect(pages.at(-1)?.cursor).toEqual({ mode: 'cdc', changedSince: '2026-05-07T16:59:00.000Z' });
  });

  it('asks for a full sync when the cursor is older than 30 days', async () => {
    await expect(collect({ mode: 'cdc', changedSince: '2026-04-01T00:00:00.000Z' })).rejects.toMatchObject({
      code: 'resync_required',
      retryable: false,
    });
  });
});
