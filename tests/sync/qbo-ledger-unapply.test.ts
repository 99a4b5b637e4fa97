/**
 * "The ledger never drifts", red-teamed further (s37 review, tests/sync/qbo-ledger-scenarios.test.ts's harness):
 * credit applied and then unapplied, a parent's credit applied to its job's invoice and the job merged into the
 * parent, a throttling storm in the middle of a full sync's listing with rows changed before the resume. Duely's open
 * balance per invoice and per customer must equal QuickBooks' to the cent after every step. And a QuickBooks whose
 * answers' time runs ahead of its saves' LastUpdatedTime: the full sync hands over to CDC with the same overlap as a
 * CDC round.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { balanceMismatches, bookServices, dbBalances, seedConnection, tokensAt } from './helpers';
import type { QboBook } from './qbo-book';

const START = Date.parse('2026-11-02T15:00:00.000Z');
let book: QboBook;
let s: Services;

beforeAll(async () => {
  ({ book, s } = await bookServices(START, { queue: false }));
});
afterAll(async () => {
  await s?.close();
  await book?.stop();
});

let realm = 9000;
async function connect() {
  const { tenant, connection } = await seedConnection(s, {
    realmId: String(++realm),
    tokens: tokensAt(new Date(book.clock), 400 * 86_400_000),
  });
  return { tenantId: tenant.id, connectionId: connection.id };
}

async function sync(connectionId: string, extra: { full?: boolean } = {}) {
  book.tick(90);
  const r = await runSync(s, { connectionId, reason: 'test', ...extra });
  expect(r.status).toBe('succeeded');
  return r;
}

/** Each customer's balance as Duely holds it: open invoices less credit on account (unapplied payments, memos). */
async function duelyCustomerBalances(tenantId: string): Promise<Map<string, number>> {
  const rows = rowsOf<{ ext: string; minor: string }>(
    await s.db.execute(sql`
      select c.external_id as ext,
        coalesce((select sum(i.balance_minor) from invoices i
                  where i.customer_id = c.id and i.status = 'open'), 0)
        - coalesce((select sum(p.unapplied_minor) from payments p
                    where p.customer_id = c.id and p.status = 'active'), 0)
        - coalesce((select sum(m.remaining_minor) from credit_memos m
                    where m.customer_id = c.id and m.status = 'active'), 0) as minor
      from customers c where c.tenant_id = ${tenantId}::uuid`),
  );
  return new Map(rows.map((r) => [r.ext, Number(r.minor)]));
}

async function expectNoDrift(tenantId: string) {
  expect(balanceMismatches(book.invoiceBalances(), await dbBalances(s, tenantId))).toEqual([]);
  const truth = book.customerBalances();
  const got = await duelyCustomerBalances(tenantId);
  const ids = new Set([...truth.keys(), ...got.keys()]);
  const wrong = [...ids]
    .filter((id) => (truth.get(id) ?? 0) !== (got.get(id) ?? 0))
    .map((id) => `customer ${id}: QuickBooks ${truth.get(id) ?? 0}, Duely ${got.get(id) ?? 0}`);
  expect(wrong).toEqual([]);
}

const ref = (value: string) => ({ value });
function customer(id: string, name: string, extra: Record<string, unknown> = {}) {
  return {
    Id: id,
    DisplayName: name,
    Active: true,
    PrimaryEmailAddr: { Address: `ap@${id}.example.com` },
    ...extra,
  };
}
function invoice(
  id: string,
  cust: string,
  total: number,
  balance = total,
  extra: Record<string, unknown> = {},
) {
  return {
    Id: id,
    DocNumber: `INV-${id}`,
    TxnDate: '2026-10-01',
    DueDate: '2026-10-31',
    TotalAmt: total,
    Balance: balance,
    CustomerRef: ref(cust),
    ...extra,
  };
}
type Link = [type: 'Invoice' | 'CreditMemo' | 'JournalEntry', id: string, amount: number];
function payment(id: string, cust: string, total: number, links: Link[], unapplied: number) {
  return {
    Id: id,
    TxnDate: '2026-11-01',
    TotalAmt: total,
    UnappliedAmt: unapplied,
    CustomerRef: ref(cust),
    Line: links.map(([TxnType, TxnId, Amount]) => ({ Amount, LinkedTxn: [{ TxnId, TxnType }] })),
  };
}

describe('credit applied, then unapplied', () => {
  it('a credit memo applied to two invoices through a payment; the payment deleted gives the credit back', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('2001', 'Uma'));
    book.put('Invoice', invoice('2010', '2001', 300));
    book.put('Invoice', invoice('2011', '2001', 200));
    book.put('CreditMemo', {
      Id: '2020',
      TxnDate: '2026-10-05',
      TotalAmt: 150,
      RemainingCredit: 150,
      CustomerRef: ref('2001'),
    });
    await sync(connectionId);
    await expectNoDrift(tenantId);
    book.tick();
    book.put(
      'Payment',
      payment(
        '2030',
        '2001',
        60,
        [
          ['Invoice', '2010', 100],
          ['Invoice', '2011', 110],
          ['CreditMemo', '2020', 150],
        ],
        0,
      ),
    );
    book.edit('CreditMemo', '2020', { RemainingCredit: 0 });
    book.edit('Invoice', '2010', { Balance: 200 });
    book.edit('Invoice', '2011', { Balance: 90 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
    // Unapplied: the payment deleted, the memo's credit and both invoices' balances back.
    book.tick();
    book.remove('Payment', '2030');
    book.edit('CreditMemo', '2020', { RemainingCredit: 150 });
    book.edit('Invoice', '2010', { Balance: 300 });
    book.edit('Invoice', '2011', { Balance: 200 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
    // Applied again to one invoice, then that payment edited to apply less (part of the credit back on account).
    book.tick();
    book.put(
      'Payment',
      payment(
        '2031',
        '2001',
        0,
        [
          ['Invoice', '2011', 150],
          ['CreditMemo', '2020', 150],
        ],
        0,
      ),
    );
    book.edit('CreditMemo', '2020', { RemainingCredit: 0 });
    book.edit('Invoice', '2011', { Balance: 50 });
    await sync(connectionId);
    book.tick();
    book.put(
      'Payment',
      payment(
        '2031',
        '2001',
        0,
        [
          ['Invoice', '2011', 40],
          ['CreditMemo', '2020', 40],
        ],
        0,
      ),
    );
    book.edit('CreditMemo', '2020', { RemainingCredit: 110 });
    book.edit('Invoice', '2011', { Balance: 160 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
    // A full re-sync agrees.
    await sync(connectionId, { full: true });
    await expectNoDrift(tenantId);
  });
});

describe('jobs and merges', () => {
  it("a parent's unapplied payment applied to its job's invoice, then the job merged into the parent", async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('3001', 'Pia Co'));
    book.put('Customer', customer('3002', 'Pia Co:Roof', { ParentRef: ref('3001'), Job: true }));
    book.put('Invoice', invoice('3010', '3002', 700));
    book.put('Invoice', invoice('3011', '3001', 90));
    book.put('Payment', payment('3020', '3001', 500, [], 500));
    await sync(connectionId);
    await expectNoDrift(tenantId);
    book.tick();
    book.put('Payment', payment('3020', '3001', 500, [['Invoice', '3010', 450]], 50));
    book.edit('Invoice', '3010', { Balance: 250 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
    // Merged: QuickBooks moves the job's transactions to the parent (each saved again) and the job goes inactive.
    book.tick();
    book.edit('Invoice', '3010', { CustomerRef: ref('3001') });
    book.edit('Customer', '3002', { Active: false });
    await sync(connectionId);
    await expectNoDrift(tenantId);
    const [row] = rowsOf<{ n: number }>(
      await s.db.execute(sql`
        select count(*)::int as n from invoices i join customers c on c.id = i.customer_id
        where i.tenant_id = ${tenantId}::uuid and i.external_id = '3010' and c.external_id = '3001'`),
    );
    expect(row?.n).toBe(1);
  });
});

describe('throttled in the middle of a full sync', () => {
  it('a 429 storm mid invoice listing, rows changed and deleted before the resume: exact after it', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('4001', 'Rex'));
    for (let i = 0; i < 12; i++) book.put('Invoice', invoice(String(4100 + i), '4001', 10 + i));
    book.put(
      'Payment',
      payment(
        '4200',
        '4001',
        30,
        [
          ['Invoice', '4100', 10],
          ['Invoice', '4111', 20],
        ],
        0,
      ),
    );
    book.edit('Invoice', '4100', { Balance: 0 });
    book.edit('Invoice', '4111', { Balance: 1 });
    let pages = 0;
    book.tick(90);
    const cut = await runSync(s, {
      connectionId,
      pageSize: 3,
      onProgress: () => {
        // After the second invoice page: QuickBooks throttles every request for a while.
        if (++pages === 3) book.fail = { status: 429, left: 1_000 };
      },
    }).catch((e: unknown) => e);
    expect(cut).toMatchObject({ code: 'rate_limited' });
    book.fail = null;
    // Meanwhile: an invoice already read deleted, one not yet read paid, the payment of two invoices deleted.
    book.tick();
    book.remove('Invoice', '4101');
    book.put('Payment', payment('4201', '4001', 19, [['Invoice', '4109', 19]], 0));
    book.edit('Invoice', '4109', { Balance: 0 });
    book.remove('Payment', '4200');
    book.edit('Invoice', '4100', { Balance: 10 });
    book.edit('Invoice', '4111', { Balance: 21 });
    const resumed = await sync(connectionId);
    expect(resumed.kind).toBe('full');
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });
});

describe("answer times ahead of the saves' stamps", () => {
  it('a row already read by the first full sync and changed seconds after it began is read by the first CDC round', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('5001', 'Sid'));
    for (let i = 0; i < 6; i++) book.put('Invoice', invoice(String(5010 + i), '5001', 100 + i));
    // Intuit's answers say a time 30 s ahead of the LastUpdatedTime its saves get at that moment.
    book.timeLeadMs = 30_000;
    try {
      let pages = 0;
      book.tick(90);
      const full = await runSync(s, {
        connectionId,
        pageSize: 2,
        onProgress: () => {
          // Pages: customers, their listing's end, invoices 5010-5011, 5012-5013: 5010 is paid now.
          if (++pages !== 4) return;
          book.tick(5);
          book.put('Payment', payment('5020', '5001', 100, [['Invoice', '5010', 100]], 0));
          book.edit('Invoice', '5010', { Balance: 0 });
        },
      });
      expect(full).toMatchObject({ status: 'succeeded', kind: 'full' });
      await sync(connectionId);
      await expectNoDrift(tenantId);
    } finally {
      book.timeLeadMs = 0;
    }
  });
});
