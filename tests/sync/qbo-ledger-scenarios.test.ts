/**
 * "The ledger never drifts", red-teamed from outside: a QuickBooks company is built row by row the way QuickBooks
 * leaves it after each user action (tests/sync/qbo-book.ts serves it over HTTP with Intuit's query and CDC
 * semantics), the real sync runs against it, and Duely's open balance per invoice and per customer must equal
 * QuickBooks' to the cent after every step.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { customers } from '../../src/db/schema';
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

/** A payment's allocation lines as Duely holds them: invoice external id and amount, in line order. */
async function allocationsOf(tenantId: string, paymentExternalId: string) {
  return rowsOf<{ invoice: string; minor: number }>(
    await s.db.execute(sql`
      select i.external_id as invoice, a.amount_minor::int as minor
      from payment_allocations a
      join payments p on p.id = a.payment_id
      join invoices i on i.id = a.invoice_id
      where p.tenant_id = ${tenantId}::uuid and p.external_id = ${paymentExternalId}
      order by a.line_no`),
  );
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

describe('payments re-applied, deleted, voided', () => {
  let tenantId = '';
  let connectionId = '';
  beforeAll(async () => {
    ({ tenantId, connectionId } = await connect());
    book.put('Customer', customer('1', 'Amy'));
    book.put('Customer', customer('2', 'Bob'));
    book.put('Invoice', invoice('10', '1', 100));
    book.put('Invoice', invoice('11', '1', 250.5));
    book.put('Invoice', invoice('12', '1', 80));
    book.put('Invoice', invoice('20', '2', 40));
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });

  it('a payment split over two invoices, then edited to pay a third instead', async () => {
    book.tick();
    book.put(
      'Payment',
      payment(
        '30',
        '1',
        200,
        [
          ['Invoice', '10', 100],
          ['Invoice', '11', 100],
        ],
        0,
      ),
    );
    book.edit('Invoice', '10', { Balance: 0 });
    book.edit('Invoice', '11', { Balance: 150.5 });
    await sync(connectionId);
    await expectNoDrift(tenantId);

    book.tick();
    book.put('Payment', payment('30', '1', 200, [['Invoice', '12', 80]], 120));
    book.edit('Invoice', '10', { Balance: 100 });
    book.edit('Invoice', '11', { Balance: 250.5 });
    book.edit('Invoice', '12', { Balance: 0 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });

  it('a payment voided (kept, amounts zeroed, memo "Voided") and another deleted', async () => {
    book.tick();
    book.put('Payment', {
      ...payment('30', '1', 0, [['Invoice', '12', 0]], 0),
      PrivateNote: 'Voided',
    });
    book.edit('Invoice', '12', { Balance: 80 });
    book.put('Payment', payment('31', '2', 40, [['Invoice', '20', 40]], 0));
    book.edit('Invoice', '20', { Balance: 0 });
    await sync(connectionId);
    await expectNoDrift(tenantId);

    book.tick();
    book.remove('Payment', '31');
    book.edit('Invoice', '20', { Balance: 40 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });
});

describe('credit memos', () => {
  let tenantId = '';
  let connectionId = '';
  beforeAll(async () => {
    ({ tenantId, connectionId } = await connect());
    book.put('Customer', customer('101', 'Cora'));
    book.put('Invoice', invoice('110', '101', 300));
    book.put('Invoice', invoice('111', '101', 500));
    await sync(connectionId);
  });

  it('a credit memo applied through a payment line, and a bad-debt memo applied the same way', async () => {
    book.tick();
    book.put('CreditMemo', {
      Id: '120',
      TxnDate: '2026-11-01',
      TotalAmt: 50,
      RemainingCredit: 50,
      CustomerRef: ref('101'),
    });
    await sync(connectionId);
    await expectNoDrift(tenantId);

    book.tick();
    book.put(
      'Payment',
      payment(
        '130',
        '101',
        0,
        [
          ['Invoice', '110', 50],
          ['CreditMemo', '120', 50],
        ],
        0,
      ),
    );
    book.edit('CreditMemo', '120', { RemainingCredit: 0 });
    book.edit('Invoice', '110', { Balance: 250 });
    book.put('CreditMemo', {
      Id: '121',
      TxnDate: '2026-11-01',
      TotalAmt: 500,
      RemainingCredit: 0,
      CustomerRef: ref('101'),
      PrivateNote: 'Bad debt',
    });
    book.put(
      'Payment',
      payment(
        '131',
        '101',
        0,
        [
          ['Invoice', '111', 500],
          ['CreditMemo', '121', 500],
        ],
        0,
      ),
    );
    book.edit('Invoice', '111', { Balance: 0 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });

  it('a credit memo refunded (a refund receipt settles it: its remaining credit drops to zero)', async () => {
    book.tick();
    book.put('CreditMemo', {
      Id: '122',
      TxnDate: '2026-11-02',
      TotalAmt: 75,
      RemainingCredit: 75,
      CustomerRef: ref('101'),
    });
    await sync(connectionId);
    await expectNoDrift(tenantId);
    book.tick();
    book.edit('CreditMemo', '122', { RemainingCredit: 0 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });
});

describe('customers made inactive, merged, and jobs', () => {
  it('a customer already inactive at the first sync arrives with its name, as deleted — not as a live placeholder', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('201', 'Dora'));
    // Made inactive in QuickBooks long ago (its invoices were paid): QuickBooks queries leave it out by default.
    book.put('Customer', customer('202', 'Old Ed (deleted)', { Active: false }));
    book.put('Invoice', invoice('210', '201', 60));
    book.put('Invoice', invoice('211', '202', 70, 0));
    await sync(connectionId);
    await expectNoDrift(tenantId);
    const [ed] = await s.db
      .select()
      .from(customers)
      .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, '202')));
    expect(ed).toMatchObject({ name: 'Old Ed (deleted)' });
    expect(ed?.deletedAt).not.toBeNull();
  });

  it('a customer merged into another: its open invoice and payment move, it becomes inactive', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('301', 'Fay Ltd'));
    book.put('Customer', customer('302', 'Fay Limited'));
    book.put('Invoice', invoice('310', '302', 90));
    book.put('Invoice', invoice('311', '302', 30, 10));
    book.put('Payment', payment('320', '302', 20, [['Invoice', '311', 20]], 0));
    await sync(connectionId);
    await expectNoDrift(tenantId);
    book.tick();
    book.edit('Invoice', '310', { CustomerRef: ref('301') });
    book.edit('Invoice', '311', { CustomerRef: ref('301') });
    book.edit('Payment', '320', { CustomerRef: ref('301') });
    book.edit('Customer', '302', { Active: false, DisplayName: 'Fay Limited (deleted)' });
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });
});

describe('sub-customers', () => {
  it("a job billed with its parent: the parent's payment closes the job's invoice; each keeps its own balance", async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('1001', 'Nora Inc'));
    book.put(
      'Customer',
      customer('1002', 'Kitchen remodel', { ParentRef: ref('1001'), Job: true, BillWithParent: true }),
    );
    book.put('Invoice', invoice('1010', '1002', 800));
    book.put('Invoice', invoice('1011', '1001', 120));
    await sync(connectionId);
    await expectNoDrift(tenantId);
    book.tick();
    book.put(
      'Payment',
      payment(
        '1020',
        '1001',
        900,
        [
          ['Invoice', '1010', 800],
          ['Invoice', '1011', 100],
        ],
        0,
      ),
    );
    book.edit('Invoice', '1010', { Balance: 0 });
    book.edit('Invoice', '1011', { Balance: 20 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });
});

describe('foreign currency, voids', () => {
  it('a EUR invoice in a USD company, edited, is kept in euros to the cent; a voided invoice is edited afterwards', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('401', 'Gunter GmbH', { CurrencyRef: ref('EUR') }));
    book.put(
      'Invoice',
      invoice('410', '401', 1234.56, 1234.56, { CurrencyRef: ref('EUR'), ExchangeRate: 1.08 }),
    );
    book.put('Invoice', invoice('411', '401', 99.99, 99.99, { CurrencyRef: ref('EUR'), ExchangeRate: 1.08 }));
    await sync(connectionId);
    await expectNoDrift(tenantId);
    book.tick();
    book.edit('Invoice', '410', { TotalAmt: 1300.01, Balance: 1300.01, ExchangeRate: 1.1 });
    book.edit('Invoice', '411', { TotalAmt: 0, Balance: 0, PrivateNote: 'Voided' });
    await sync(connectionId);
    await expectNoDrift(tenantId);
    book.tick();
    book.edit('Invoice', '411', { PrivateNote: 'Voided - customer cancelled' });
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });
});

describe('change feed oddities', () => {
  it('a 503 storm in the middle of CDC: the round repeats, nothing lost or counted twice', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('501', 'Hal'));
    book.put('Invoice', invoice('510', '501', 500));
    await sync(connectionId);
    book.tick();
    book.put('Payment', payment('520', '501', 125, [['Invoice', '510', 125]], 0));
    book.edit('Invoice', '510', { Balance: 375 });
    book.fail = { status: 503, left: 50 };
    book.tick(90);
    const failed = await runSync(s, { connectionId, reason: 'test' }).catch((e: unknown) => e);
    expect(failed).not.toMatchObject({ status: 'succeeded' });
    book.fail = null;
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });
});

describe('change feed duplicates and journal entries', () => {
  it('a CDC answer carrying one invoice twice (SyncToken 2 after 3, same second) keeps the newer version', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('601', 'Ida'));
    book.put('Invoice', invoice('610', '601', 400));
    await sync(connectionId);
    book.tick();
    const older = book.edit('Invoice', '610', { Balance: 300 });
    book.edit('Invoice', '610', { Balance: 150 });
    book.cdcExtra.Invoice = [older];
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });

  it('two saves within one second, the newer synced first: the older arriving in a later round changes nothing', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('1101', 'Max'));
    book.put('Invoice', invoice('1110', '1101', 400));
    book.put('Invoice', invoice('1111', '1101', 200));
    await sync(connectionId);
    await expectNoDrift(tenantId);
    book.tick();
    // Within one second: a payment of 100 on invoice 1110, then the same payment edited to settle both invoices; a
    // credit memo entered at 50, then corrected to 80; the customer's billing address changed twice.
    const olderPayment = book.put('Payment', payment('1120', '1101', 100, [['Invoice', '1110', 100]], 0));
    const olderInvoice = book.edit('Invoice', '1110', { Balance: 300 });
    book.put(
      'Payment',
      payment(
        '1120',
        '1101',
        600,
        [
          ['Invoice', '1110', 400],
          ['Invoice', '1111', 200],
        ],
        0,
      ),
    );
    book.edit('Invoice', '1110', { Balance: 0 });
    book.edit('Invoice', '1111', { Balance: 0 });
    const memo = { Id: '1130', TxnDate: '2026-11-01', CustomerRef: ref('1101') };
    const olderMemo = book.put('CreditMemo', { ...memo, TotalAmt: 50, RemainingCredit: 50 });
    book.put('CreditMemo', { ...memo, TotalAmt: 80, RemainingCredit: 80 });
    const olderCustomer = book.edit('Customer', '1101', {
      PrimaryEmailAddr: { Address: 'old@max.example.com' },
    });
    book.edit('Customer', '1101', { PrimaryEmailAddr: { Address: 'ap@max.example.com' } });
    await sync(connectionId);
    await expectNoDrift(tenantId);
    // A later round's answer carries the older versions again (an overlapping window, a replayed read): same
    // LastUpdatedTime as the stored rows, lower SyncToken.
    book.cdcExtra = {
      Invoice: [olderInvoice],
      Payment: [olderPayment],
      CreditMemo: [olderMemo],
      Customer: [olderCustomer],
    };
    await sync(connectionId);
    await expectNoDrift(tenantId);
    expect(await allocationsOf(tenantId, '1120')).toEqual([
      { invoice: '1110', minor: 40000 },
      { invoice: '1111', minor: 20000 },
    ]);
    const [max] = await s.db
      .select({ emails: customers.emails })
      .from(customers)
      .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, '1101')));
    expect(max?.emails).toEqual(['ap@max.example.com']);
  });

  it('a journal-entry credit applied to an invoice through a payment line closes the invoice, nothing else', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('701', 'Jo'));
    book.put('Invoice', invoice('710', '701', 220));
    await sync(connectionId);
    book.tick();
    book.put(
      'Payment',
      payment(
        '720',
        '701',
        0,
        [
          ['Invoice', '710', 220],
          ['JournalEntry', '730', 220],
        ],
        0,
      ),
    );
    book.edit('Invoice', '710', { Balance: 0 });
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });
});

describe('invoices removed under a payment, and changes during a full sync', () => {
  it('an invoice deleted, another voided, while payments were applied to them: the money becomes credit', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('801', 'Kim'));
    book.put('Invoice', invoice('810', '801', 100, 40));
    book.put('Invoice', invoice('811', '801', 70, 0));
    book.put('Payment', payment('820', '801', 60, [['Invoice', '810', 60]], 0));
    book.put('Payment', payment('821', '801', 70, [['Invoice', '811', 70]], 0));
    await sync(connectionId);
    await expectNoDrift(tenantId);
    book.tick();
    // QuickBooks unlinks the payments: their money stays with the customer as unapplied credit.
    book.remove('Invoice', '810');
    book.put('Payment', payment('820', '801', 60, [], 60));
    book.edit('Invoice', '811', { TotalAmt: 0, Balance: 0, PrivateNote: 'Voided' });
    book.put('Payment', payment('821', '801', 70, [], 70));
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });

  it('payments, edits and deletions made while the first full sync is between pages', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('901', 'Lou'));
    for (const id of ['910', '911', '912', '913', '914']) book.put('Invoice', invoice(id, '901', 100));
    let pages = 0;
    book.tick(90);
    const r = await runSync(s, {
      connectionId,
      pageSize: 1,
      onProgress: () => {
        if (++pages !== 3) return;
        // Invoices 910 and 911 are written; 912.. are still to come.
        book.tick();
        book.put(
          'Payment',
          payment(
            '920',
            '901',
            150,
            [
              ['Invoice', '910', 100],
              ['Invoice', '913', 50],
            ],
            0,
          ),
        );
        book.edit('Invoice', '910', { Balance: 0 });
        book.edit('Invoice', '913', { Balance: 50 });
        book.remove('Invoice', '911');
        book.remove('Invoice', '914');
        book.put('Invoice', invoice('915', '901', 30));
        book.tick();
      },
    });
    expect(r.status).toBe('succeeded');
    await sync(connectionId);
    await expectNoDrift(tenantId);
  });
});

describe('deletions against saves that are not newer than them', () => {
  /** A round at the book's current second (sync() moves the clock on first): saves and a deletion share it. */
  async function syncNow(connectionId: string) {
    const r = await runSync(s, { connectionId, reason: 'test' });
    expect(r.status).toBe('succeeded');
  }
  async function statusOf(tenantId: string, table: 'invoices' | 'payments' | 'credit_memos', id: string) {
    const [row] = rowsOf<{ status: string }>(
      await s.db.execute(
        sql`select status from ${sql.raw(table)} where tenant_id = ${tenantId}::uuid and external_id = ${id}`,
      ),
    );
    return row?.status;
  }

  it('an invoice saved twice and deleted within one second: the older save, or the stored one, arriving after the tombstone does not bring it back', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('1201', 'Nia'));
    book.put('Invoice', invoice('1210', '1201', 400));
    await sync(connectionId);
    book.tick();
    const older = book.edit('Invoice', '1210', { DueDate: '2026-11-15' });
    const stored = book.edit('Invoice', '1210', { DueDate: '2026-11-20' });
    await syncNow(connectionId);
    book.remove('Invoice', '1210');
    await sync(connectionId);
    expect(await statusOf(tenantId, 'invoices', '1210')).toBe('deleted');
    // A later round carries the older save again (same LastUpdatedTime as the tombstone, lower SyncToken).
    book.cdcExtra.Invoice = [older];
    await sync(connectionId);
    expect(await statusOf(tenantId, 'invoices', '1210')).toBe('deleted');
    await expectNoDrift(tenantId);
    // And the very save Duely held when the tombstone came.
    book.cdcExtra.Invoice = [stored];
    await sync(connectionId);
    expect(await statusOf(tenantId, 'invoices', '1210')).toBe('deleted');
    await expectNoDrift(tenantId);
  });

  it('an invoice edited and deleted within one second, Duely having seen neither: the edit arriving after the tombstone does not bring it back', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('1202', 'Oren'));
    book.put('Invoice', invoice('1211', '1202', 250));
    await sync(connectionId);
    book.tick();
    // A higher SyncToken than Duely ever stored, but no newer than the deletion.
    const unseen = book.edit('Invoice', '1211', { DueDate: '2026-11-30' });
    book.remove('Invoice', '1211');
    await sync(connectionId);
    expect(await statusOf(tenantId, 'invoices', '1211')).toBe('deleted');
    book.cdcExtra.Invoice = [unseen];
    await sync(connectionId);
    expect(await statusOf(tenantId, 'invoices', '1211')).toBe('deleted');
    await expectNoDrift(tenantId);
  });

  it('a payment deleted in the second it was saved: its older save arriving after the tombstone brings back neither the payment nor its lines', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('1203', 'Pia'));
    book.put('Invoice', invoice('1212', '1203', 300));
    await sync(connectionId);
    book.tick();
    const older = book.put('Payment', payment('1222', '1203', 100, [['Invoice', '1212', 100]], 0));
    book.put('Payment', payment('1222', '1203', 150, [['Invoice', '1212', 150]], 0));
    book.edit('Invoice', '1212', { Balance: 150 });
    await syncNow(connectionId);
    expect(await allocationsOf(tenantId, '1222')).toEqual([{ invoice: '1212', minor: 15000 }]);
    book.remove('Payment', '1222');
    book.edit('Invoice', '1212', { Balance: 300 });
    await sync(connectionId);
    expect(await statusOf(tenantId, 'payments', '1222')).toBe('deleted');
    await expectNoDrift(tenantId);
    book.cdcExtra.Payment = [older];
    await sync(connectionId);
    expect(await statusOf(tenantId, 'payments', '1222')).toBe('deleted');
    expect(await allocationsOf(tenantId, '1222')).toEqual([]);
    await expectNoDrift(tenantId);
  });

  it('a credit memo deleted in the second it was corrected: the older save arriving after the tombstone does not bring its credit back', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('1204', 'Quin'));
    book.put('Invoice', invoice('1213', '1204', 500));
    await sync(connectionId);
    book.tick();
    const memo = { Id: '1230', TxnDate: '2026-11-01', CustomerRef: ref('1204') };
    const older = book.put('CreditMemo', { ...memo, TotalAmt: 50, RemainingCredit: 50 });
    book.put('CreditMemo', { ...memo, TotalAmt: 80, RemainingCredit: 80 });
    await syncNow(connectionId);
    book.remove('CreditMemo', '1230');
    await sync(connectionId);
    expect(await statusOf(tenantId, 'credit_memos', '1230')).toBe('deleted');
    book.cdcExtra.CreditMemo = [older];
    await sync(connectionId);
    expect(await statusOf(tenantId, 'credit_memos', '1230')).toBe('deleted');
    await expectNoDrift(tenantId);
  });

  it('the other order: the older save and the tombstone in one answer, or the save a round before it, leave the invoice deleted', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('1205', 'Rae'));
    book.put('Invoice', invoice('1214', '1205', 120));
    book.put('Invoice', invoice('1215', '1205', 130));
    await sync(connectionId);
    book.tick();
    const older = book.edit('Invoice', '1214', { DueDate: '2026-11-15' });
    book.edit('Invoice', '1214', { DueDate: '2026-11-20' });
    book.remove('Invoice', '1214');
    book.cdcExtra.Invoice = [older];
    await sync(connectionId);
    expect(await statusOf(tenantId, 'invoices', '1214')).toBe('deleted');
    await expectNoDrift(tenantId);

    book.tick();
    const saved = book.edit('Invoice', '1215', { DueDate: '2026-11-15' });
    await syncNow(connectionId);
    book.cdcExtra.Invoice = [saved];
    await syncNow(connectionId);
    book.remove('Invoice', '1215');
    await sync(connectionId);
    expect(await statusOf(tenantId, 'invoices', '1215')).toBe('deleted');
    await expectNoDrift(tenantId);
  });

  it('a voided invoice (not deleted) still takes a later save within the same second', async () => {
    const { tenantId, connectionId } = await connect();
    book.put('Customer', customer('1206', 'Sol'));
    book.put('Invoice', invoice('1216', '1206', 90));
    await sync(connectionId);
    book.tick();
    book.edit('Invoice', '1216', { TotalAmt: 0, Balance: 0, PrivateNote: 'Voided' });
    await syncNow(connectionId);
    expect(await statusOf(tenantId, 'invoices', '1216')).toBe('void');
    book.edit('Invoice', '1216', { PrivateNote: 'Voided - wrong customer' });
    await sync(connectionId);
    expect(await statusOf(tenantId, 'invoices', '1216')).toBe('void');
    await expectNoDrift(tenantId);
  });
});
