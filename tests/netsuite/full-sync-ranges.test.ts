/**
 * A full sync against the stand-in (sandboxes/netsuite) reads each kind in id ranges, several at once: every row
 * once, in id order, never paging a query past the rows SuiteQL yields (100,000 in NetSuite; lowered here so a
 * small company crosses it), at most NETSUITE_CONCURRENCY requests in flight, and a resumed sync reads only the
 * rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetsuiteClient } from '../../connectors/netsuite/client';
import { type NetsuiteCursor, netsuitePages } from '../../connectors/netsuite/resources';
import type { SyncPage } from '../../connectors/types';
import { NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { AR_ACCOUNT } from '../../sandboxes/netsuite/company';

const INVOICES = 3_200;
/** The stand-in refuses any page past a query's first 1,500 rows (NetSuite: 100,000). */
const MAX_RESULTS = 1_500;

function company(): NetsuiteCompany {
  const c = NetsuiteCompany.generate({ seed: 11, customers: 30 });
  const customers = [...c.customers.values()];
  for (let i = 0; i < INVOICES; i++) {
    const cust = customers[i % customers.length]!;
    const inv = c.addInvoice(cust, 10_000 + i, 30);
    if (i % 4 === 0) c.addPayment(cust, inv.totalMinor, [{ invoice: inv.id, amountMinor: inv.totalMinor }]);
  }
  // Journal entries to A/R (credits on account), read as the last kind.
  for (const cust of customers.slice(0, 3))
    c.addJournal(cust.currency, [
      { account: AR_ACCOUNT, customer: cust, credit: 500 },
      { account: 600, debit: 500 },
    ]);
  return c;
}

let sandbox: NetsuiteSandbox;

beforeAll(async () => {
  sandbox = new NetsuiteSandbox({ company: company(), concurrencyLimit: 5, maxResults: MAX_RESULTS });
  await sandbox.start();
});
afterAll(async () => {
  await sandbox.stop();
});

const client = () =>
  new NetsuiteClient({
    restUrl: sandbox.url,
    accountId: sandbox.accountId,
    auth: {
      type: 'tba',
      consumerKey: 'sandbox-consumer-key',
      consumerSecret: 'sandbox-consumer-secret',
      tokenId: 'sandbox-token-id',
      tokenSecret: 'sandbox-token-secret',
    },
    concurrency: 3,
    maxThrottleRetries: 0,
  });

async function sync(cursor: NetsuiteCursor | null, stopAfter = Number.POSITIVE_INFINITY) {
  const pages: SyncPage<NetsuiteCursor>[] = [];
  const ctx = {
    client: client(),
    externalId: sandbox.accountId,
    logger: { info() {}, warn() {}, error() {} },
    signal: new AbortController().signal,
  };
  for await (const p of netsuitePages(ctx, cursor, { now: () => new Date() })) {
    pages.push(p);
    if (pages.length >= stopAfter) break;
  }
  return pages;
}

const idsOf = (type: string) =>
  [...sandbox.company.txns.values()]
    .filter((t) => t.type === type)
    .map((t) => String(t.id))
    .sort((a, b) => Number(a) - Number(b));

describe('NetSuite full sync in id ranges', () => {
  it('reads every row once in id order, past the per-query row cap, 3 requests in flight at most', async () => {
    sandbox.peakInFlight = 0;
    sandbox.overLimit = 0;
    sandbox.queries.length = 0;
    sandbox.options.latencyMs = 15;
    let pages: SyncPage<NetsuiteCursor>[];
    try {
      pages = await sync(null);
    } finally {
      sandbox.options.latencyMs = 0;
    }
    const invoices = pages.flatMap((p) => p.invoices.map((i) => i.externalId));
    expect(invoices).toEqual(idsOf('CustInvc'));
    expect(invoices.length).toBeGreaterThan(2 * MAX_RESULTS);
    expect(pages.flatMap((p) => p.payments.map((x) => x.externalId))).toEqual(idsOf('CustPymt'));
    // Every payment comes with its applications (one allocation per paid invoice).
    const payments = new Set(idsOf('CustPymt').map(Number));
    const applied = new Set(
      sandbox.company.links
        .filter((l) => payments.has(l.nextdoc))
        .map((l) => `${l.nextdoc}>${l.previousdoc}`),
    );
    expect(
      pages.flatMap((p) =>
        p.payments.flatMap((x) => x.allocations.map((a) => `${x.externalId}>${a.invoiceExternalId}`)),
      ),
    ).toHaveLength(applied.size);
    expect(pages.flatMap((p) => p.customers)).toHaveLength(sandbox.company.customers.size);
    // No query was paged past the cap: every listing reads by id range with offset 0.
    expect(sandbox.overLimit).toBe(0);
    expect(sandbox.queries.some((q) => /t\.id > \d+ AND t\.id <= \d+/.test(q))).toBe(true);
    // Ranges are read at once, within the account's share.
    expect(sandbox.peakInFlight).toBeGreaterThan(1);
    expect(sandbox.peakInFlight).toBeLessThanOrEqual(3);
    // Each listing starts once and completes once; cursors only move forward.
    expect(pages.filter((p) => p.listingStarts).map((p) => p.listingStarts)).toEqual([
      ['customers'],
      ['invoices'],
      ['creditMemos'],
      ['payments'],
      ['journalEntries'],
    ]);
    expect(pages.at(-1)?.cursor.mode).toBe('incremental');
    const invoicePages = pages.filter((p) => p.invoices.length > 0);
    const invoiceCursors = invoicePages
      .slice(0, -1)
      .map((p) => Number((p.cursor as { afterId: string }).afterId));
    expect(invoiceCursors).toEqual([...invoiceCursors].sort((a, b) => a - b));
    // A kind's last page completes its listing and hands the cursor to the next kind: no empty page of its own.
    expect(invoicePages.at(-1)?.listingComplete?.kinds).toEqual(['invoices']);
    expect(invoicePages.at(-1)?.cursor).toMatchObject({ mode: 'full', kind: 'creditMemos', afterId: null });
    expect(pages.filter((p) => p.listingComplete).map((p) => p.listingComplete?.kinds)).toEqual([
      ['customers'],
      ['invoices'],
      ['creditMemos'],
      ['payments'],
      ['journalEntries'],
    ]);
    const rows = (p: SyncPage<NetsuiteCursor>) =>
      p.customers.length + p.invoices.length + p.creditMemos.length + p.payments.length;
    expect(pages.filter((p) => rows(p) === 0)).toHaveLength(0);
  });

  it('resumed from a mid-listing cursor, reads only the invoices after it', async () => {
    const first = await sync(null, 4);
    const cursor = first.at(-1)?.cursor as Extract<NetsuiteCursor, { mode: 'full' }>;
    expect(cursor).toMatchObject({ mode: 'full', kind: 'invoices' });
    const rest = await sync(cursor);
    const before = first.flatMap((p) => p.invoices.map((i) => i.externalId));
    const after = rest.flatMap((p) => p.invoices.map((i) => i.externalId));
    expect([...before, ...after]).toEqual(idsOf('CustInvc'));
    expect(rest[0]?.listingStarts).toBeUndefined();
  });
});
