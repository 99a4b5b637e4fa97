/**
 * Journal entries crediting Accounts Receivable for a customer are credits on account (map.ts mapJournalEntry), and a
 * payment line linking a journal entry applies that credit. Checked on payloads written for Duely in the shape of
 * Intuit's JournalEntry and Payment references (tests/quickbooks/payloads/*.json, not vendor files), and on small
 * hand-built entries for each rule.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { QboClient } from '../../connectors/quickbooks/client';
import { journalCreditId, mapJournalEntry, mapPayment } from '../../connectors/quickbooks/map';
import { RealmLimiter } from '../../connectors/quickbooks/realm-limiter';
import { type QboCursor, quickbooksPages } from '../../connectors/quickbooks/resources';
import { parseWebhook } from '../../connectors/quickbooks/webhooks';
import type { SyncPage } from '../../connectors/types';
import {
  API,
  cdcAnswer,
  deleted,
  journalEntry,
  payment,
  queryPage,
  REALM,
  silentLogger,
  validationFault,
} from './fixtures';

const payload = (name: string) =>
  JSON.parse(readFileSync(path.join(__dirname, 'payloads', name), 'utf8')) as Record<string, unknown>;
const AR = new Set(['84']);

const entry = journalEntry;

describe('mapJournalEntry', () => {
  it("reads the written payload: each customer's A/R credits less its A/R debits, other accounts ignored", () => {
    const credits = mapJournalEntry(payload('journal-entry.read.json').JournalEntry, AR);
    expect(credits).toEqual([
      {
        externalId: 'JE:227:1',
        customerExternalId: '1',
        date: '2026-05-04',
        currency: 'USD',
        totalMinor: 12540,
        remainingMinor: 12540,
        status: 'active',
        journalEntry: { externalId: '227', number: 'WO-17' },
        sourceUpdatedAt: '2026-05-05T08:30:12-07:00',
        sourceVersion: 2,
      },
      expect.objectContaining({
        externalId: 'JE:227:3',
        customerExternalId: '3',
        totalMinor: 30000,
        journalEntry: { externalId: '227', number: 'WO-17' },
      }),
    ]);
  });

  it('ignores credit lines to accounts that are not Accounts Receivable, even when they name a customer', () => {
    const je = entry('5', [
      ['Debit', '90', 100],
      ['Credit', '40', 100, '7'],
    ]);
    expect(mapJournalEntry(je, AR)).toEqual([]);
    // The same entry once account 40 is known as A/R (an inactive or second A/R account).
    expect(mapJournalEntry(je, new Set(['84', '40']))).toMatchObject([
      { customerExternalId: '7', totalMinor: 10000 },
    ]);
  });

  it('keeps a debit to A/R as a negative row (owed, on no invoice, not credit): an opening balance booked by journal entry', () => {
    const opening = entry('6', [
      ['Debit', '84', 500, '7'],
      ['Credit', '39', 500],
    ]);
    expect(
      mapJournalEntry(opening, AR).map((c) => [
        c.externalId,
        c.customerExternalId,
        c.totalMinor,
        c.remainingMinor,
      ]),
    ).toEqual([['JE:6:7', '7', -50000, -50000]]);
    // A customer debited more than credited in one entry: the net debit.
    const net = entry('7', [
      ['Debit', '84', 80, '7'],
      ['Credit', '84', 50, '7'],
      ['Credit', '39', 30],
    ]);
    expect(mapJournalEntry(net, AR).map((c) => c.totalMinor)).toEqual([-3000]);
    // Debited and credited alike: nothing.
    const even = entry('9', [
      ['Debit', '84', 50, '7'],
      ['Credit', '84', 50, '7'],
    ]);
    expect(mapJournalEntry(even, AR)).toEqual([]);
  });

  it('gives each customer of one entry its own credit, with ids apart from credit memo ids', () => {
    const je = entry('8', [
      ['Credit', '84', 10, '1'],
      ['Credit', '84', 20, '2'],
      ['Credit', '84', 5, '1'],
      ['Debit', '90', 35],
    ]);
    const credits = mapJournalEntry(je, AR);
    expect(credits.map((c) => [c.externalId, c.customerExternalId, c.totalMinor])).toEqual([
      ['JE:8:1', '1', 1500],
      ['JE:8:2', '2', 2000],
    ]);
    // QuickBooks ids are digit strings: a credit memo's id can never look like this.
    expect(credits.every((c) => !/^\d+$/.test(c.externalId))).toBe(true);
    expect(credits[0]?.journalEntry).toEqual({ externalId: '8', number: null });
  });

  it("uses the entry's currency (exponent-aware), else the company's home currency", () => {
    const yen = entry('9', [['Credit', '84', 1200, '4']], { CurrencyRef: { value: 'JPY' } });
    expect(mapJournalEntry(yen, AR)).toMatchObject([{ currency: 'JPY', totalMinor: 1200 }]);
    const euro = entry('10', [['Credit', '84', 19.99, '4']], { CurrencyRef: { value: 'eur' } });
    expect(mapJournalEntry(euro, AR)).toMatchObject([{ currency: 'EUR', totalMinor: 1999 }]);
    const home = entry('11', [['Credit', '84', 19.99, '4']]);
    expect(mapJournalEntry(home, AR, { homeCurrency: 'CAD' })).toMatchObject([{ currency: 'CAD' }]);
  });

  it('ignores lines to A/R that name no customer, or another kind of entity', () => {
    const je = entry('12', [['Credit', '84', 10]]);
    expect(mapJournalEntry(je, AR)).toEqual([]);
    const vendor = entry('13', [['Credit', '84', 10, '5']]);
    const line = vendor.Line[0]?.JournalEntryLineDetail as { Entity: { Type: string } };
    line.Entity.Type = 'Vendor';
    expect(mapJournalEntry(vendor, AR)).toEqual([]);
  });
});

describe('a payment line linking a journal entry', () => {
  it("applies the journal credit of the payment's customer (the written payload)", () => {
    const p = mapPayment(payload('payment-journal-credit.read.json').Payment);
    expect(p).toMatchObject({ externalId: '231', amountMinor: 0, unappliedMinor: 0 });
    // Before: the JournalEntry line was dropped and the invoice line counted as cash from a $0 payment.
    expect(p.allocations).toEqual([
      { invoiceExternalId: '130', amountMinor: 12540, creditMemoExternalId: journalCreditId('227', '1') },
    ]);
  });

  it('covers invoice lines with credit memos and journal credits in order, the rest is cash', () => {
    const p = mapPayment(
      payment('81', 20, 0, [
        ['1', 'Invoice', 100],
        ['3', 'CreditMemo', 50],
        ['9', 'JournalEntry', 30],
      ]),
    );
    expect(p.allocations).toEqual([
      { invoiceExternalId: '1', amountMinor: 5000, creditMemoExternalId: '3' },
      { invoiceExternalId: '1', amountMinor: 3000, creditMemoExternalId: 'JE:9:1' },
      { invoiceExternalId: '1', amountMinor: 2000, creditMemoExternalId: null },
    ]);
    expect(p.journalApplications).toEqual([{ journalExternalId: 'JE:9:1', amountMinor: 3000 }]);
  });

  it("says what its lines applied to (or paid of) each of the customer's journal rows, summed; none when void", () => {
    // A payment of an opening balance booked by journal entry 9 (two lines linking it) and of invoice 1.
    const p = mapPayment(
      payment('82', 160.2, 0, [
        ['1', 'Invoice', 100],
        ['9', 'JournalEntry', 50.1],
        ['9', 'JournalEntry', 10.1],
        ['3', 'CreditMemo', 0],
      ]),
    );
    expect(p.journalApplications).toEqual([{ journalExternalId: 'JE:9:1', amountMinor: 6020 }]);
    const voided = mapPayment(payment('83', 0, 0, [['9', 'JournalEntry', 0]], { PrivateNote: 'Voided' }));
    expect(voided).toMatchObject({ status: 'void', journalApplications: [] });
    expect(mapPayment(payment('84', 10, 0, [['1', 'Invoice', 10]])).journalApplications).toEqual([]);
  });
});

describe('journal entries in the sync pages', () => {
  afterEach(() => nock.cleanAll());
  const client = () =>
    new QboClient({
      apiBaseUrl: API,
      realmId: REALM,
      getAccessToken: async () => 'at',
      onUnauthorized: async () => 'at',
      limiter: new RealmLimiter(),
    });
  const ctx = () => ({
    client: client(),
    externalId: REALM,
    logger: silentLogger,
    signal: new AbortController().signal,
  });
  const collect = async (cursor: QboCursor | null) => {
    const pages: SyncPage<QboCursor>[] = [];
    for await (const page of quickbooksPages(ctx(), cursor, { now: () => new Date('2026-05-07T17:00:00Z') }))
      pages.push(page);
    return pages;
  };
  const queried: string[] = [];
  const api = () =>
    nock(API)
      .get(`/v3/company/${REALM}/query`)
      .query((q) => {
        queried.push(String(q.query));
        return true;
      });

  it('full sync: reads JournalEntry after CreditMemo and before Payment, A/R accounts once, as a listing', async () => {
    queried.length = 0;
    const je = payload('journal-entry.read.json').JournalEntry;
    const answers: Record<string, unknown[][]> = {
      Customer: [[]],
      Invoice: [[]],
      CreditMemo: [[]],
      JournalEntry: [[je, entry('300', [['Credit', '84', 10, '1']])], []],
      Account: [[{ Id: '84' }, { Id: '86' }], []],
      Payment: [[]],
    };
    api()
      .times(12)
      .reply(() => {
        const entity = /FROM (\w+)/.exec(queried.at(-1) ?? '')?.[1] ?? '';
        return [200, queryPage(entity, answers[entity]?.shift() ?? [])];
      });
    const pages = await collect(null);
    const order = queried.map((q) => /FROM (\w+)/.exec(q)?.[1]);
    expect(order).toEqual([
      'Customer',
      'Invoice',
      'CreditMemo',
      'JournalEntry',
      'Account',
      'Account',
      'JournalEntry',
      'Payment',
    ]);
    expect(queried[4]).toBe(
      "SELECT Id FROM Account WHERE AccountType = 'Accounts Receivable' AND Active IN (true, false) ORDERBY Id MAXRESULTS 1000",
    );
    const jePage = pages.find((p) => p.journalEntries?.length);
    expect(jePage?.creditMemos.map((c) => c.externalId)).toEqual(['JE:227:1', 'JE:227:3', 'JE:300:1']);
    expect(jePage?.journalEntries?.map((e) => [e.externalId, e.sourceVersion])).toEqual([
      ['227', 2],
      ['300', 0],
    ]);
    expect(jePage).toMatchObject({
      listingStarts: ['journalEntries'],
      seen: { journalEntries: ['227', '300'] },
    });
    expect(pages.find((p) => p.listingComplete?.kinds.includes('journalEntries'))).toBeTruthy();
    // The credit memo listing is its own: it never lists journal entries.
    expect(pages.find((p) => p.listingComplete?.kinds.includes('creditMemos'))?.seen).toBeUndefined();
  });

  it('a company that refuses the inactive-accounts filter still gets its journal credits (active A/R accounts)', async () => {
    queried.length = 0;
    const answers: Record<string, unknown[][]> = {
      JournalEntry: [[entry('300', [['Credit', '84', 10, '1']])], []],
      Account: [[{ Id: '84' }], []],
    };
    api()
      .times(10)
      .reply(() => {
        const q = queried.at(-1) ?? '';
        const entity = /FROM (\w+)/.exec(q)?.[1] ?? '';
        if (entity === 'Account' && q.includes('Active IN'))
          return [400, validationFault('4000', 'Error parsing query')];
        return [200, queryPage(entity, answers[entity]?.shift() ?? [])];
      });
    const pages = await collect(null);
    expect(queried.filter((q) => q.includes('FROM Account'))).toEqual([
      "SELECT Id FROM Account WHERE AccountType = 'Accounts Receivable' AND Active IN (true, false) ORDERBY Id MAXRESULTS 1000",
      "SELECT Id FROM Account WHERE AccountType = 'Accounts Receivable' ORDERBY Id MAXRESULTS 1000",
      "SELECT Id FROM Account WHERE AccountType = 'Accounts Receivable' AND Id > '84' ORDERBY Id MAXRESULTS 1000",
    ]);
    expect(pages.flatMap((p) => p.creditMemos.map((c) => [c.externalId, c.totalMinor]))).toEqual([
      ['JE:300:1', 1000],
    ]);
  });

  it('does not read the accounts when the company has no journal entries', async () => {
    queried.length = 0;
    api()
      .times(5)
      .reply(() => [200, queryPage(/FROM (\w+)/.exec(queried.at(-1) ?? '')?.[1] ?? '', [])]);
    await collect(null);
    expect(queried.some((q) => q.includes('FROM Account'))).toBe(false);
    expect(queried.filter((q) => q.includes('FROM JournalEntry'))).toHaveLength(1);
  });

  it('CDC asks for JournalEntry; a tombstone says the entry gives no credit any more', async () => {
    queried.length = 0;
    nock(API)
      .get(`/v3/company/${REALM}/cdc`)
      .query((q) => {
        expect(String(q.entities)).toBe('Customer,Invoice,CreditMemo,JournalEntry,Payment');
        return true;
      })
      .reply(200, cdcAnswer([{}, {}, {}, { JournalEntry: [deleted('227')] }, {}]));
    const pages = await collect({ mode: 'cdc', changedSince: '2026-05-06T17:00:00.000Z' });
    const page = pages.at(-1);
    expect(page?.creditMemos).toEqual([]);
    expect(page?.deletions.creditMemos).toEqual([]);
    expect(page?.journalEntries).toEqual([
      { externalId: '227', sourceUpdatedAt: '2026-05-06T09:00:00-07:00', sourceVersion: null },
    ]);
    // A tombstone needs no accounts.
    expect(queried).toEqual([]);
  });
});

describe('journal entry webhooks', () => {
  it('are events of entity JournalEntry in both formats (each starts a sync, whose CDC asks for JournalEntry)', () => {
    const legacy = JSON.stringify({
      eventNotifications: [
        {
          realmId: REALM,
          dataChangeEvent: {
            entities: [
              { name: 'JournalEntry', id: '227', operation: 'Create', lastUpdated: '2026-05-05T10:11:12Z' },
            ],
          },
        },
      ],
    });
    expect(parseWebhook(legacy)).toMatchObject([{ externalId: REALM, entity: 'JournalEntry', id: '227' }]);
    const cloud = JSON.stringify([
      {
        specversion: '1.0',
        id: 'e-1',
        source: 'intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=',
        type: 'qbo.journalentry.deleted.v1',
        time: '2026-05-05T10:11:12Z',
        intuitentityid: '227',
        intuitaccountid: REALM,
        data: {},
      },
    ]);
    expect(parseWebhook(cloud)).toMatchObject([
      { externalId: REALM, entity: 'JournalEntry', id: '227', operation: 'Delete' },
    ]);
  });
});
