import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { NetsuiteClient } from '../../connectors/netsuite/client';
import { AccountPool } from '../../connectors/netsuite/pool';
import {
  accountClock,
  type NetsuiteCursor,
  netsuitePages,
  nextSince,
  readInvoices,
} from '../../connectors/netsuite/resources';
import type { SyncPage } from '../../connectors/types';
import { ACCOUNT, badQuery, errorBody, REST, SUITEQL, suiteqlPage, TBA } from './fixtures';
import { creditMemoRow, customerRow, invoiceRow, paymentRow } from './rows';

type Answer =
  | { items: Array<Record<string, string | undefined>>; hasMore?: boolean; status?: undefined }
  | { status: number; body: unknown };

/** The open-balance checksum query (drift): refused, and not recorded, unless a test asks for it. */
const isSums = (q: string) => q.includes('AS weighted');

/** Answers SuiteQL by the query's shape; records every query with its paging. */
function route(handler: (q: string, limit: number, offset: number) => Answer, opts: { sums?: boolean } = {}) {
  const sent: Array<{ q: string; limit: number; offset: number }> = [];
  // Queries in the order their requests were matched, answered in the same order (a full sync has several
  // requests in flight).
  const matched: string[] = [];
  nock(REST)
    .persist()
    .post(SUITEQL, (body: { q: string }) => {
      matched.push(body.q);
      return true;
    })
    .query(true)
    .reply((uri: string) => {
      const q = matched.shift() ?? '';
      const url = new URL(uri, REST);
      const limit = Number(url.searchParams.get('limit'));
      const offset = Number(url.searchParams.get('offset'));
      if (isSums(q) && !opts.sums) return [400, badQuery()];
      sent.push({ q, limit, offset });
      const a = handler(q, limit, offset);
      if (a.status !== undefined) return [a.status, a.body];
      return [200, suiteqlPage(a.items as Array<Record<string, string>>, a.hasMore ?? false, offset)];
    });
  return sent;
}

/** The id-span query a full sync plans its parallel id ranges with. */
const isSpan = (q: string) => q.startsWith('SELECT COUNT(*) AS n');

const client = () =>
  new NetsuiteClient({
    restUrl: REST,
    accountId: ACCOUNT,
    auth: TBA,
    limiter: new AccountPool(3),
    sleep: async () => {},
  });
const ctx = () => ({
  client: client(),
  externalId: ACCOUNT,
  logger: { info() {}, warn() {}, error() {} },
  signal: new AbortController().signal,
});

async function collect(cursor: NetsuiteCursor | null, pageSize = 2) {
  const pages: SyncPage<NetsuiteCursor>[] = [];
  for await (const p of netsuitePages(ctx(), cursor, { now: () => new Date(), pageSize })) pages.push(p);
  return pages;
}

afterEach(() => {
  nock.cleanAll();
});

const afterOf = (q: string) => /\.id > (\d+)/.exec(q)?.[1] ?? null;

describe('NetSuite full sync', () => {
  it('pages each kind by id (offset always 0), as listings, payments with their applications', async () => {
    const customers = [customerRow('1'), customerRow('2'), customerRow('3')];
    const sent = route((q) => {
      if (q.includes('FROM DUAL')) return { items: [{ now: '2026-04-15 10:00:00' }] };
      // An account that rejects the span query gets the plain keyset, one page after another.
      if (isSpan(q)) return { status: 400, body: badQuery() };
      if (q.includes('FROM customer c')) {
        const a = Number(afterOf(q) ?? 0);
        const rows = customers.filter((c) => Number(c.id) > a);
        return { items: rows.slice(0, 2), hasMore: rows.length > 2 };
      }
      if (q.includes("t.type IN ('CustInvc')")) return { items: afterOf(q) ? [] : [invoiceRow('5001')] };
      if (q.includes("t.type IN ('CustCred')")) return { items: afterOf(q) ? [] : [creditMemoRow('7001')] };
      if (q.includes("t.type IN ('CustPymt')")) return { items: afterOf(q) ? [] : [paymentRow('6001')] };
      if (q.includes('FROM NextTransactionLineLink l WHERE l.nextdoc IN (7001)')) {
        return { items: [{ payment: '7001', invoice: '5001', foreignamount: '-10.00' }] };
      }
      if (q.includes('FROM NextTransactionLineLink l WHERE l.nextdoc IN (6001)')) {
        return { items: [{ payment: '6001', invoice: '5001', foreignamount: '75.00' }] };
      }
      return { status: 400, body: badQuery() };
    });
    const pages = await collect(null);
    expect(sent.every((s) => s.offset === 0)).toBe(true);
    expect(sent[0]?.q).toContain('SYSDATE');
    // Cursor of every page points after it; since = clock - 65 minutes. A kind's last page completes its listing
    // and moves the cursor on to the next kind (the last one's to polling).
    expect(pages.map((p) => p.cursor)).toEqual([
      { mode: 'full', kind: 'customers', afterId: '2', since: '2026-04-15 08:55:00' },
      { mode: 'full', kind: 'invoices', afterId: null, since: '2026-04-15 08:55:00' },
      { mode: 'full', kind: 'creditMemos', afterId: null, since: '2026-04-15 08:55:00' },
      { mode: 'full', kind: 'payments', afterId: null, since: '2026-04-15 08:55:00' },
      { mode: 'full', kind: 'journalEntries', afterId: null, since: '2026-04-15 08:55:00' },
      { mode: 'incremental', since: '2026-04-15 08:55:00' },
    ]);
    // This account refuses the journal-entry queries: they are not read, and no journal listing starts or completes
    // (nothing stored would be found missing by it).
    expect(pages.at(-1)?.listingStarts).toBeUndefined();
    expect(pages.at(-1)?.listingComplete).toBeUndefined();
    expect(pages[0]?.listingStarts).toEqual(['customers']);
    expect(pages[0]?.listingComplete).toBeUndefined();
    expect(pages[1]?.listingStarts).toBeUndefined();
    expect(pages[1]?.seen).toEqual({ customers: ['3'] });
    expect(pages[1]?.listingComplete).toEqual({ kinds: ['customers'], asOf: '2026-04-15T08:55:00Z' });
    expect(pages[2]?.listingStarts).toEqual(['invoices']);
    expect(pages[2]?.listingComplete).toEqual({ kinds: ['invoices'], asOf: '2026-04-15T08:55:00Z' });
    expect(pages.flatMap((p) => p.customers.map((c) => c.externalId))).toEqual(['1', '2', '3']);
    expect(pages[4]?.payments[0]?.allocations).toEqual([{ invoiceExternalId: '5001', amountMinor: 7500 }]);
    // A credit memo applied directly to an invoice carries that application.
    expect(pages[3]?.creditMemos[0]?.applications).toEqual([
      { invoiceExternalId: '5001', amountMinor: 1000 },
    ]);
    // The second customers page asked for ids after 2; no query ever pages by offset.
    const reads = sent.filter((s) => !isSpan(s.q));
    expect(reads.filter((s) => s.q.includes('FROM customer c')).map((s) => afterOf(s.q))).toEqual([
      null,
      '2',
    ]);
  });

  it('resumes from a stored cursor without reading the clock again', async () => {
    const sent = route((q) => {
      if (isSpan(q) && q.includes("t.type = 'CustPymt' AND t.id > 6000")) return { items: [{ n: '0' }] };
      if (q.includes("t.type IN ('CustPymt')")) return { items: [] };
      return { status: 400, body: badQuery() };
    });
    const pages = await collect({
      mode: 'full',
      kind: 'payments',
      afterId: '6000',
      since: '2026-04-15 08:55:00',
    });
    // The span query finds nothing after 6000: no page of payments is read (journal entries, refused here, follow).
    const payments = sent.filter((s) => !s.q.includes("'Journal'"));
    expect(payments.map((s) => afterOf(s.q))).toEqual(['6000']);
    expect(payments.filter((s) => isSpan(s.q))).toHaveLength(1);
    expect(pages).toHaveLength(2);
    // Resumed mid-listing: it does not start it again, it completes it.
    expect(pages[0]?.listingStarts).toBeUndefined();
    expect(pages[0]?.listingComplete?.kinds).toEqual(['payments']);
    expect(pages[0]?.cursor).toEqual({
      mode: 'full',
      kind: 'journalEntries',
      afterId: null,
      since: '2026-04-15 08:55:00',
    });
    expect(pages[1]?.cursor).toEqual({ mode: 'incremental', since: '2026-04-15 08:55:00' });
  });
});

describe('where polling starts after a full sync', () => {
  /** The hand-over a full sync of an empty account ends with, given what the clock and high-water queries answer. */
  async function handOver(clock: string, highWater: Answer) {
    nock.cleanAll();
    route((q) => {
      if (q.includes('FROM DUAL')) return { items: [{ now: clock }] };
      if (q.includes('MAX(t.lastmodifieddate)')) return highWater;
      if (isSpan(q)) return { items: [{ n: '0' }] };
      return { status: 400, body: badQuery() };
    });
    return (await collect(null)).at(-1)?.cursor;
  }
  it('the newest change minus the overlap when SYSDATE runs ahead of it', async () => {
    expect(await handOver('2026-04-15 13:00:00', { items: [{ now: '2026-04-15 10:00:00' }] })).toEqual({
      mode: 'incremental',
      since: '2026-04-15 08:55:00',
    });
  });
  it('the clock minus the overlap when it is the earlier', async () => {
    expect(await handOver('2026-04-15 10:00:00', { items: [{ now: '2026-04-15 10:30:00' }] })).toEqual({
      mode: 'incremental',
      since: '2026-04-15 08:55:00',
    });
  });
  it('the start of time for an account without transactions; the clock alone if the account refuses MAX', async () => {
    expect(await handOver('2026-04-15 13:00:00', { items: [{}] })).toEqual({
      mode: 'incremental',
      since: '1970-01-01 00:00:00',
    });
    expect(await handOver('2026-04-15 10:00:00', { status: 400, body: badQuery() })).toEqual({
      mode: 'incremental',
      since: '2026-04-15 08:55:00',
    });
  });
});

describe('NetSuite polling round', () => {
  const since = '2026-04-15 08:55:00';

  it('asks for changes since the cursor, invoices whose applications changed, open invoices when money moved, deletions', async () => {
    const sent = route((q) => {
      if (q.includes('FROM DUAL')) return { items: [{ now: '2026-04-15 10:15:00' }] };
      if (q.includes("t.type IN ('CustPymt')") && q.includes('t.lastmodifieddate >='))
        return { items: afterOf(q) ? [] : [paymentRow('6001')] };
      if (q.includes('FROM NextTransactionLineLink l WHERE l.nextdoc IN'))
        return { items: [{ payment: '6001', invoice: '5001', foreignamount: '45.00' }] };
      if (q.includes('p.lastmodifieddate >='))
        return { items: afterOf(q) ? [] : [invoiceRow('5001', { foreignamountunpaid: '0' })] };
      if (q.includes('t.foreignamountunpaid <> 0')) return { items: afterOf(q) ? [] : [invoiceRow('5002')] };
      if (q.includes('FROM DeletedRecord'))
        return {
          items: [
            { recordid: '5003', recordtypeid: 'invoice', deleteddate: '2026-04-15 09:00:00' },
            { recordid: '9', recordtypeid: 'journalentry' },
          ],
        };
      if (q.includes('FROM customer c') || q.includes('t.type IN')) return { items: [] };
      return { status: 400, body: badQuery() };
    });
    const pages = await collect({ mode: 'incremental', since });
    const qs = sent.map((s) => s.q);
    for (const q of qs.filter(
      (x) => x.includes('lastmodifieddate >=') && !x.includes('p.lastmodifieddate'),
    )) {
      expect(q).toContain(`>= TO_TIMESTAMP('${since}', 'YYYY-MM-DD HH24:MI:SS')`);
    }
    expect(qs.some((q) => q.includes('NextTransactionLineLink l JOIN transaction p'))).toBe(true);
    // The open-invoice sweep is scoped to the customer whose payment changed.
    expect(
      qs
        .filter((q) => q.includes('t.foreignamountunpaid <> 0'))
        .every((q) => q.includes('t.entity IN (100)')),
    ).toBe(true);
    expect(qs.some((q) => q.includes('t.foreignamountunpaid <> 0'))).toBe(true);
    expect(qs.some((q) => q.includes('foreignamountremaining'))).toBe(false);
    expect(qs.some((q) => q.includes('t.subsidiary'))).toBe(false);
    // Lookahead: only the last page carries the new cursor (clock - 65 min).
    expect(pages.slice(0, -1).every((p) => (p.cursor as { since: string }).since === since)).toBe(true);
    expect(pages.at(-1)?.cursor).toEqual({ mode: 'incremental', since: '2026-04-15 09:10:00' });
    const invoices = pages.flatMap((p) => p.invoices);
    expect(invoices.map((i) => [i.externalId, i.status])).toEqual([
      ['5001', 'paid'],
      ['5002', 'open'],
    ]);
    expect(pages.flatMap((p) => p.deletions.invoices)).toEqual([
      { externalId: '5003', sourceUpdatedAt: '2026-04-15T09:00:00Z' },
    ]);
    expect(pages.flatMap((p) => p.payments)[0]?.allocations).toEqual([
      { invoiceExternalId: '5001', amountMinor: 4500 },
    ]);
  });

  it('skips the open-invoice sweep when no money moved', async () => {
    const sent = route((q) => {
      if (q.includes('FROM DUAL')) return { items: [{ now: '2026-04-15 10:15:00' }] };
      if (q.includes('FROM customer c') || q.includes('t.type IN') || q.includes('FROM DeletedRecord'))
        return { items: [] };
      return { status: 400, body: badQuery() };
    });
    await collect({ mode: 'incremental', since });
    expect(sent.some((s) => s.q.includes('t.foreignamountunpaid <> 0'))).toBe(false);
  });

  it("a changed deposit application sweeps its customer's open invoices (an un-apply leaves no link)", async () => {
    const sent = route((q) => {
      if (q.includes('FROM DUAL')) return { items: [{ now: '2026-04-15 10:15:00' }] };
      if (q.includes("t.type IN ('DepAppl')")) return { items: [{ entity: '321' }] };
      if (q.includes('FROM customer c') || q.includes('t.type IN') || q.includes('FROM DeletedRecord'))
        return { items: [] };
      return { status: 400, body: badQuery() };
    });
    await collect({ mode: 'incremental', since });
    const deposits = sent.find((s) => s.q.includes("t.type IN ('DepAppl')"));
    expect(deposits?.q).toContain(`t.lastmodifieddate >= TO_TIMESTAMP('${since}'`);
    const sweeps = sent.filter((s) => s.q.includes('t.foreignamountunpaid <> 0'));
    expect(sweeps.length).toBeGreaterThan(0);
    expect(sweeps.every((s) => s.q.includes('t.entity IN (321)'))).toBe(true);
  });

  it('a deleted payment (customer unknown) sweeps every open invoice; a deleted journal does not', async () => {
    let deleted = [{ recordid: '6009', recordtypeid: 'customerpayment', deleteddate: '2026-04-15 09:00:00' }];
    const sent = route((q) => {
      if (q.includes('FROM DUAL')) return { items: [{ now: '2026-04-15 10:15:00' }] };
      if (q.includes('FROM DeletedRecord')) return { items: deleted };
      return { items: [] };
    });
    const pages = await collect({ mode: 'incremental', since });
    const sweeps = sent.filter((s) => s.q.includes('t.foreignamountunpaid <> 0'));
    expect(sweeps).toHaveLength(1);
    expect(sweeps[0]?.q).not.toContain('t.entity IN');
    expect(pages.flatMap((p) => p.deletions.payments.map((d) => d.externalId))).toEqual(['6009']);
    deleted = [{ recordid: '12', recordtypeid: 'journalentry', deleteddate: '2026-04-15 09:00:00' }];
    sent.length = 0;
    await collect({ mode: 'incremental', since });
    expect(sent.some((s) => s.q.includes('t.foreignamountunpaid <> 0'))).toBe(false);
  });

  it('never moves the cursor backwards and refuses an unreadable one', async () => {
    route((q) => {
      if (q.includes('FROM DUAL')) return { items: [{ now: '2026-04-15 09:00:00' }] };
      return { items: [] };
    });
    const pages = await collect({ mode: 'incremental', since });
    expect(pages.at(-1)?.cursor).toEqual({ mode: 'incremental', since });
    await expect(collect({ mode: 'incremental', since: "x' OR 1=1" })).rejects.toMatchObject({
      code: 'resync_required',
    });
  });

  it('re-reads the customers whose open balances moved with no change to name them (the checksum drifted)', async () => {
    // Bucket 3 moved (a payment moved to another customer leaves only the invoice's amount unpaid to show it), bucket
    // 5 did not, bucket 7 emptied.
    const stored = { mode: 'incremental' as const, since };
    let sums = [
      { bucket: '3', n: '2', unpaid: '100.00', weighted: '300.00' },
      { bucket: '5', n: '1', unpaid: '20.00', weighted: '100.00' },
      { bucket: '7', n: '1', unpaid: '1.00', weighted: '7.00' },
    ];
    const sent = route(
      (q) => {
        if (q.includes('FROM DUAL')) return { items: [{ now: '2026-04-15 10:15:00' }] };
        if (isSums(q)) return { items: sums };
        if (q.includes('MOD(t.entity, 256) IN')) return { items: afterOf(q) ? [] : [invoiceRow('5003')] };
        return { items: [] };
      },
      { sums: true },
    );
    const first = await collect(stored);
    // No checksum stored yet: this round only records it.
    expect(sent.some((s) => s.q.includes('MOD(t.entity, 256) IN'))).toBe(false);
    const cursor = first.at(-1)?.cursor as NetsuiteCursor;
    expect(cursor).toMatchObject({ mode: 'incremental', drift: { 3: expect.any(String) } });
    sums = [
      { bucket: '3', n: '2', unpaid: '103.21', weighted: '303.21' },
      { bucket: '5', n: '1', unpaid: '20.00', weighted: '100.00' },
    ];
    sent.length = 0;
    const pages = await collect(cursor);
    const rereads = sent.filter((s) => s.q.includes('MOD(t.entity, 256) IN'));
    expect(rereads).toHaveLength(1);
    expect(rereads[0]?.q).toContain('MOD(t.entity, 256) IN (3, 7)');
    // Open, or closed since the cursor's day (an invoice a moved balance closed leaves the open set).
    expect(rereads[0]?.q).toContain("t.closedate >= TO_DATE('2026-04-15', 'YYYY-MM-DD')");
    expect(pages.flatMap((p) => p.invoices.map((i) => i.externalId))).toEqual(['5003']);
    // Read again with nothing moved: nothing re-read.
    sent.length = 0;
    await collect(pages.at(-1)?.cursor as NetsuiteCursor);
    expect(sent.some((s) => s.q.includes('MOD(t.entity, 256) IN'))).toBe(false);
  });

  it('a permission error mid-round surfaces typed (no silent partial round)', async () => {
    route((q) => {
      if (q.includes('FROM DUAL')) return { items: [{ now: '2026-04-15 10:15:00' }] };
      if (q.includes('FROM DeletedRecord'))
        return { status: 403, body: errorBody(403, 'INSUFFICIENT_PERMISSION', 'Permission Violation') };
      return { items: [] };
    });
    await expect(collect({ mode: 'incremental', since })).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('account clock and live read', () => {
  it('falls back to the transactions high-water mark when the clock query is rejected', async () => {
    route((q) => {
      if (q.includes('FROM DUAL')) return { status: 400, body: badQuery() };
      if (q.includes('MAX(t.lastmodifieddate)')) return { items: [{ now: '2026-04-15 07:00:00' }] };
      return { status: 400, body: badQuery() };
    });
    expect(await accountClock(client())).toBe('2026-04-15 07:00:00');
  });

  it('readInvoices asks by id and reports the missing ones', async () => {
    const sent = route((q) => ({ items: q.includes('t.id IN (5001, 5002)') ? [invoiceRow('5001')] : [] }));
    const r = await readInvoices(client(), ['5001', '5002', '5001']);
    expect(r.invoices.map((i) => i.balanceMinor)).toEqual([4500]);
    expect(r.missing).toEqual(['5002']);
    expect(sent).toHaveLength(1);
    await expect(readInvoices(client(), ['1 OR 1=1'])).rejects.toMatchObject({ code: 'bad_payload' });
  });
});

describe('where the next poll round starts', () => {
  const prev = '2026-04-01 08:00:00';
  it('the clock minus the overlap when the changes read are as new as the clock', () => {
    expect(nextSince(prev, '2026-04-01 10:00:00', '2026-04-01 10:00:00', 65)).toBe('2026-04-01 08:55:00');
  });
  it('the newest change minus the overlap when the clock runs ahead of the changes (an undocumented zone)', () => {
    expect(nextSince(prev, '2026-04-01 13:00:00', '2026-04-01 10:00:00', 65)).toBe('2026-04-01 08:55:00');
  });
  it('a round that read nothing keeps its position; no round moves backwards', () => {
    expect(nextSince(prev, '2026-04-01 13:00:00', null, 65)).toBe(prev);
    expect(nextSince(prev, '2026-04-01 08:30:00', '2026-04-01 08:30:00', 65)).toBe(prev);
  });
});
