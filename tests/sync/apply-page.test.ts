import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CanonicalCreditMemo,
  CanonicalCustomer,
  CanonicalInvoice,
  CanonicalPayment,
} from '../../connectors/canonical';
import type { SyncPage } from '../../connectors/types';
import { fixedClock } from '../../src/clock';
import {
  creditMemos,
  customers,
  invoices,
  paymentAllocations,
  payments,
  syncRuns,
} from '../../src/db/schema';
import type { Services } from '../../src/services';
import { applySyncPage } from '../../src/sync/apply-page';
import { readConnection, seedFullSyncRun } from './helpers';

const NOW = new Date('2026-11-27T10:00:00Z');
let s: Services;

beforeAll(async () => {
  const { createTestServices } = await import('../helpers/services');
  s = await createTestServices({ clock: fixedClock(NOW), queue: false });
});
afterAll(async () => {
  await s?.close();
});

const T1 = '2026-11-01T10:00:00.000Z';
const T2 = '2026-11-02T10:00:00.000Z';
const T0 = '2026-10-31T10:00:00.000Z';

const cust = (id: string, extra: Partial<CanonicalCustomer> = {}): CanonicalCustomer => ({
  externalId: id,
  name: `Customer ${id} Inc`,
  emails: [`ap@${id}.example`, `cfo@${id}.example`],
  timezone: 'America/Chicago',
  country: 'US',
  delivery: 'email',
  currency: 'USD',
  sourceUpdatedAt: T1,
  ...extra,
});
const inv = (
  id: string,
  total: number,
  balance: number,
  extra: Partial<CanonicalInvoice> = {},
): CanonicalInvoice => ({
  externalId: id,
  customerExternalId: 'C1',
  number: `INV-${id}`,
  issueDate: '2026-10-01',
  dueDate: '2026-10-31',
  currency: 'USD',
  totalMinor: total,
  balanceMinor: balance,
  status: balance === 0 ? 'paid' : 'open',
  paidDate: null,
  payLink: null,
  billEmail: `bill@${id}.example`,
  delivery: 'email',
  sourceUpdatedAt: T1,
  ...extra,
});
const pay = (
  id: string,
  date: string,
  amount: number,
  unapplied: number,
  allocations: CanonicalPayment['allocations'],
  extra: Partial<CanonicalPayment> = {},
): CanonicalPayment => ({
  externalId: id,
  customerExternalId: 'C1',
  date,
  currency: 'USD',
  amountMinor: amount,
  unappliedMinor: unapplied,
  status: 'active',
  allocations,
  sourceUpdatedAt: T1,
  ...extra,
});
const memo = (id: string, total: number, remaining: number): CanonicalCreditMemo => ({
  externalId: id,
  customerExternalId: 'C1',
  date: '2026-10-10',
  currency: 'USD',
  totalMinor: total,
  remainingMinor: remaining,
  status: 'active',
  sourceUpdatedAt: T1,
});

type PageInput = Partial<Omit<SyncPage<unknown>, 'deletions'>> & {
  deletions?: Partial<SyncPage<unknown>['deletions']>;
};
function page(p: PageInput): SyncPage<unknown> {
  return {
    customers: p.customers ?? [],
    invoices: p.invoices ?? [],
    payments: p.payments ?? [],
    creditMemos: p.creditMemos ?? [],
    deletions: { customers: [], invoices: [], payments: [], creditMemos: [], ...p.deletions },
    cursor: p.cursor ?? { mode: 'cdc', changedSince: T2 },
  };
}

let tenantId = '';
let connectionId = '';
let runId = '';

async function apply(p: SyncPage<unknown>) {
  return applySyncPage(s.db, {
    tenantId,
    connectionId,
    syncRunId: runId,
    page: p,
    progress: { entities: { invoices: { pages: 1, rows: p.invoices.length, done: false } } },
    stats: (st) => ({ ...st }),
    now: NOW,
  });
}

async function snapshot() {
  const order = { inv: asc(invoices.externalId) };
  return {
    customers: await s.db
      .select()
      .from(customers)
      .where(eq(customers.tenantId, tenantId))
      .orderBy(asc(customers.externalId)),
    invoices: await s.db.select().from(invoices).where(eq(invoices.tenantId, tenantId)).orderBy(order.inv),
    payments: await s.db
      .select()
      .from(payments)
      .where(eq(payments.tenantId, tenantId))
      .orderBy(asc(payments.externalId)),
    memos: await s.db.select().from(creditMemos).where(eq(creditMemos.tenantId, tenantId)),
    allocations: await s.db
      .select()
      .from(paymentAllocations)
      .where(eq(paymentAllocations.tenantId, tenantId))
      .orderBy(asc(paymentAllocations.paymentId), asc(paymentAllocations.lineNo)),
  };
}

async function invoice(ext: string) {
  const [row] = await s.db.select().from(invoices).where(eq(invoices.externalId, ext));
  return row!;
}

async function allocationsOf(paymentExt: string) {
  const [p] = await s.db.select().from(payments).where(eq(payments.externalId, paymentExt));
  if (!p) return [];
  const rows = await s.db
    .select({
      lineNo: paymentAllocations.lineNo,
      amount: paymentAllocations.amountMinor,
      invoice: invoices.externalId,
      creditMemoId: paymentAllocations.creditMemoId,
      date: paymentAllocations.date,
    })
    .from(paymentAllocations)
    .innerJoin(invoices, eq(invoices.id, paymentAllocations.invoiceId))
    .where(eq(paymentAllocations.paymentId, p.id))
    .orderBy(asc(paymentAllocations.lineNo));
  return rows;
}

const ledgerPage = page({
  customers: [cust('C1'), cust('C2', { deleted: true })],
  invoices: [
    inv('I1', 100_00, 70_00), // partial payment
    inv('I2', 50_00, 0), // paid by a multi-invoice payment
    inv('I3', 80_00, 10_00), // part cash, part credit memo
    inv('I4', 0, 0, { status: 'void' }),
    inv('I5', 20_00, 20_00),
    inv('I6', 30_00, 30_00, { customerExternalId: 'C9' }), // unknown customer
  ],
  creditMemos: [memo('M1', 40_00, 0)],
  payments: [
    pay('P1', '2026-10-05', 30_00, 0, [{ invoiceExternalId: 'I1', amountMinor: 30_00 }]),
    pay('P2', '2026-10-20', 80_00, 0, [
      { invoiceExternalId: 'I2', amountMinor: 50_00 },
      { invoiceExternalId: 'I3', amountMinor: 30_00 },
    ]),
    pay('P3', '2026-10-25', 0, 0, [
      { invoiceExternalId: 'I3', amountMinor: 40_00, creditMemoExternalId: 'M1' },
    ]),
    pay('P4', '2026-10-26', 55_00, 55_00, []), // unapplied
  ],
  deletions: { invoices: [{ externalId: 'I5', sourceUpdatedAt: T2 }] },
});

describe('applySyncPage', () => {
  beforeAll(async () => {
    const seeded = await seedFullSyncRun(s, '4620816365000000001');
    tenantId = seeded.tenant.id;
    connectionId = seeded.connection.id;
    runId = seeded.runId;
  });

  it('writes customers, invoices, credit memos, payments and allocations with exact balances', async () => {
    const r = await apply(ledgerPage);
    expect(r.stats).toMatchObject({ customers: 2, invoices: 6, creditMemos: 1, payments: 4, allocations: 4 });
    expect(r.stats.placeholders).toBe(1);
    expect(r.stats.deletions).toBe(1);

    expect(await invoice('I1')).toMatchObject({ balanceMinor: 70_00, status: 'open', paidDate: null });
    expect(await invoice('I2')).toMatchObject({ balanceMinor: 0, status: 'paid', paidDate: '2026-10-20' });
    expect(await invoice('I3')).toMatchObject({ balanceMinor: 10_00, status: 'open', paidDate: null });
    expect(await invoice('I4')).toMatchObject({ status: 'void', balanceMinor: 0, paidDate: null });
    expect(await invoice('I1')).toMatchObject({
      billEmail: 'bill@I1.example',
      number: 'INV-I1',
      totalMinor: 100_00,
    });

    expect(await allocationsOf('P1')).toMatchObject([
      { lineNo: 0, amount: 30_00, invoice: 'I1', creditMemoId: null },
    ]);
    expect(await allocationsOf('P2')).toMatchObject([
      { lineNo: 0, amount: 50_00, invoice: 'I2' },
      { lineNo: 1, amount: 30_00, invoice: 'I3' },
    ]);
    const [m1] = await s.db.select().from(creditMemos).where(eq(creditMemos.externalId, 'M1'));
    expect(await allocationsOf('P3')).toMatchObject([{ amount: 40_00, invoice: 'I3', creditMemoId: m1!.id }]);
    expect(await allocationsOf('P4')).toEqual([]);
    const [p4] = await s.db.select().from(payments).where(eq(payments.externalId, 'P4'));
    expect(p4).toMatchObject({ amountMinor: 55_00, unappliedMinor: 55_00, status: 'active' });

    const snap = await snapshot();
    const c1 = snap.customers.find((c) => c.externalId === 'C1');
    expect(c1).toMatchObject({
      emails: ['ap@C1.example', 'cfo@C1.example'],
      timezone: 'America/Chicago',
      country: 'US',
      firstSeen: '2026-10-01',
      deletedAt: null,
    });
    expect(snap.customers.find((c) => c.externalId === 'C2')?.deletedAt).toEqual(NOW);
    // The invoice of an unknown customer is kept, under a placeholder customer.
    const placeholder = snap.customers.find((c) => c.externalId === 'C9');
    expect(placeholder?.name).toBe('Customer C9');
    expect((await invoice('I6')).customerId).toBe(placeholder?.id);
  });

  it('stores the cursor and the run progress in the same transaction', async () => {
    const conn = await readConnection(s, connectionId);
    expect(conn.syncCursor).toEqual({ mode: 'cdc', changedSince: T2 });
    const [run] = await s.db.select().from(syncRuns).where(eq(syncRuns.id, runId));
    expect(run?.progress).toEqual({ entities: { invoices: { pages: 1, rows: 6, done: false } } });
    expect(run?.stats).toMatchObject({ invoices: 6 });
  });

  it('marks deletions and never forgets the row', async () => {
    expect(await invoice('I5')).toMatchObject({ status: 'deleted', balanceMinor: 0 });
    // An update older than the deletion does not resurrect it.
    await apply(page({ invoices: [inv('I5', 20_00, 20_00, { sourceUpdatedAt: T1 })] }));
    expect(await invoice('I5')).toMatchObject({ status: 'deleted' });
  });

  it('replaying the same page changes nothing', async () => {
    const before = await snapshot();
    const r = await apply(ledgerPage);
    expect(r.changedInvoiceIds).toEqual([]);
    expect(r.stats).toMatchObject({ customers: 0, invoices: 0, payments: 0, allocations: 0, deletions: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('ignores an update older than the stored one and applies a newer one', async () => {
    const older = await apply(page({ invoices: [inv('I1', 100_00, 1_00, { sourceUpdatedAt: T0 })] }));
    expect(older.stats.stale).toBe(1);
    expect((await invoice('I1')).balanceMinor).toBe(70_00);

    const newer = await apply(
      page({
        invoices: [inv('I1', 100_00, 0, { sourceUpdatedAt: T2, payLink: 'https://pay.example/I1' })],
        payments: [
          pay('P5', '2026-11-02', 70_00, 0, [{ invoiceExternalId: 'I1', amountMinor: 70_00 }], {
            sourceUpdatedAt: T2,
          }),
        ],
      }),
    );
    const i1 = await invoice('I1');
    expect(newer.changedInvoiceIds).toContain(i1.id);
    expect(i1).toMatchObject({
      balanceMinor: 0,
      status: 'paid',
      paidDate: '2026-11-02',
      payLink: 'https://pay.example/I1',
    });
    // A later query row without InvoiceLink keeps the stored pay link.
    await apply(page({ invoices: [inv('I1', 100_00, 0, { sourceUpdatedAt: '2026-11-03T00:00:00Z' })] }));
    expect((await invoice('I1')).payLink).toBe('https://pay.example/I1');
  });

  it('upserts payment lines by line number and drops lines the payment no longer has', async () => {
    await apply(
      page({
        invoices: [
          inv('I2', 50_00, 20_00, { sourceUpdatedAt: T2 }),
          inv('I3', 80_00, 40_00, { sourceUpdatedAt: T2 }),
        ],
        payments: [
          pay('P2', '2026-10-20', 30_00, 0, [{ invoiceExternalId: 'I2', amountMinor: 30_00 }], {
            sourceUpdatedAt: T2,
          }),
        ],
      }),
    );
    expect(await allocationsOf('P2')).toMatchObject([{ lineNo: 0, amount: 30_00, invoice: 'I2' }]);
    expect(await invoice('I2')).toMatchObject({ balanceMinor: 20_00, status: 'open', paidDate: null });
    expect((await invoice('I3')).balanceMinor).toBe(40_00);
  });

  it('a voided or deleted payment applies no money any more', async () => {
    await apply(
      page({ payments: [pay('P1', '2026-10-05', 0, 0, [], { status: 'void', sourceUpdatedAt: T2 })] }),
    );
    expect(await allocationsOf('P1')).toEqual([]);
    await apply(page({ deletions: { payments: [{ externalId: 'P3', sourceUpdatedAt: T2 }] } }));
    const [p3] = await s.db.select().from(payments).where(eq(payments.externalId, 'P3'));
    expect(p3?.status).toBe('deleted');
    expect(await allocationsOf('P3')).toEqual([]);
  });

  it('replaces a placeholder customer when the real one arrives', async () => {
    await apply(page({ customers: [cust('C9', { name: 'Nine Ltd' })] }));
    const [c9] = await s.db.select().from(customers).where(eq(customers.externalId, 'C9'));
    expect(c9).toMatchObject({ name: 'Nine Ltd', emails: ['ap@C9.example', 'cfo@C9.example'] });
  });

  it('a NUL character in ledger text is dropped, not a failed page (PostgreSQL cannot store it)', async () => {
    // A ledger takes anything people type; a page with one such value used to fail whole, and every retry again.
    // A backslash written before it stays a backslash.
    await apply(
      page({
        customers: [cust('C10', { name: 'Ten\u0000 Ltd \\u0000 \\' })],
        invoices: [inv('N1', 50_00, 50_00, { customerExternalId: 'C10', number: 'INV-\u0000N1' })],
      }),
    );
    const [c10] = await s.db.select().from(customers).where(eq(customers.externalId, 'C10'));
    expect(c10?.name).toBe('Ten Ltd \\u0000 \\');
    expect(await invoice('N1')).toMatchObject({ number: 'INV-N1', balanceMinor: 50_00 });
  });

  it('text that looks like array syntax or NULL is stored as typed (rows travel as column arrays)', async () => {
    const odd = '{"Q",\\ NULL}';
    await apply(
      page({
        customers: [cust(odd)],
        invoices: [
          inv(`A${odd}`, 70_00, 0, {
            customerExternalId: odd,
            number: 'NULL',
            payLink: 'https://pay.example/a,b"c',
          }),
          inv('A2', 30_00, 30_00, {
            customerExternalId: odd,
            number: '',
            billEmail: null,
            delivery: undefined,
          }),
        ],
        payments: [
          pay(`P${odd}`, '2026-10-20', 70_00, 0, [{ invoiceExternalId: `A${odd}`, amountMinor: 70_00 }], {
            customerExternalId: odd,
          }),
        ],
      }),
    );
    expect(await invoice(`A${odd}`)).toMatchObject({
      number: 'NULL',
      payLink: 'https://pay.example/a,b"c',
      balanceMinor: 0,
      paidDate: '2026-10-20',
    });
    expect(await invoice('A2')).toMatchObject({ number: '', billEmail: null, balanceMinor: 30_00 });
    expect(await allocationsOf(`P${odd}`)).toMatchObject([{ lineNo: 0, amount: 70_00, invoice: `A${odd}` }]);
  });

  it("first_seen is the customer's earliest invoice date, whatever the order within and across pages", async () => {
    const at = (c: string, id: string, issueDate: string) =>
      inv(id, 10_00, 10_00, { customerExternalId: c, issueDate, dueDate: '2026-12-31' });
    await apply(
      page({
        customers: [cust('C20'), cust('C21')],
        invoices: [
          at('C20', 'F1', '2026-09-14'),
          at('C21', 'F2', '2026-08-02'),
          at('C20', 'F3', '2026-09-02'),
          at('C20', 'F4', '2026-09-30'),
          at('C21', 'F5', '2025-12-31'),
        ],
      }),
    );
    const firstSeen = async (c: string) =>
      (await s.db.select().from(customers).where(eq(customers.externalId, c)))[0]?.firstSeen;
    expect(await firstSeen('C20')).toBe('2026-09-02');
    expect(await firstSeen('C21')).toBe('2025-12-31');
    // A later page moves it only earlier.
    await apply(page({ invoices: [at('C20', 'F6', '2026-10-01'), at('C20', 'F7', '2026-08-31')] }));
    expect(await firstSeen('C20')).toBe('2026-08-31');
  });

  it('keeps the newest of duplicates within one page', async () => {
    await apply(
      page({
        invoices: [
          inv('I7', 10_00, 5_00, { sourceUpdatedAt: '2026-11-05T00:00:00Z' }),
          inv('I7', 10_00, 10_00, { sourceUpdatedAt: '2026-11-04T00:00:00Z' }),
        ],
      }),
    );
    expect((await invoice('I7')).balanceMinor).toBe(5_00);
  });

  it('a page whose write fails (statements pipelined behind it) throws that failure and writes nothing of the page', async () => {
    const before = await snapshot();
    const cursorBefore = (await readConnection(s, connectionId)).syncCursor;
    const bad = page({
      customers: [cust('C7')],
      // A negative balance violates invoices_balance_ck; the payment and its allocations are queued behind it.
      invoices: [inv('I90', 10_00, -1, { customerExternalId: 'C7' })],
      payments: [pay('P90', '2026-10-27', 5_00, 0, [{ invoiceExternalId: 'I1', amountMinor: 5_00 }])],
      cursor: { mode: 'cdc', changedSince: '2026-11-03T10:00:00.000Z' },
    });
    const err = (await apply(bad).then(
      () => null,
      (e: unknown) => e,
    )) as (Error & { cause?: Error }) | null;
    // The invoice insert's own failure, not the "transaction is aborted" of a statement queued behind it.
    expect(err?.message).toMatch(/insert into invoices/);
    expect(err?.cause?.message).toMatch(/invoices_balance_ck/);
    expect(await snapshot()).toEqual(before);
    expect((await readConnection(s, connectionId)).syncCursor).toEqual(cursorBefore);
  });
});

describe('a deletion against a save that is not newer than it, at the page writer (NetSuite: no versions, the time rule only)', () => {
  const TD = '2026-11-03T09:30:15.000Z';
  const LATER = '2026-11-03T09:30:16.000Z';
  const statusOf = async (table: typeof invoices | typeof payments | typeof creditMemos, ext: string) => {
    const [row] = await s.db.select({ status: table.status }).from(table).where(eq(table.externalId, ext));
    return row?.status;
  };
  beforeAll(async () => {
    const seeded = await seedFullSyncRun(s, '4620816365000000002');
    tenantId = seeded.tenant.id;
    connectionId = seeded.connection.id;
    runId = seeded.runId;
  });
  const at = (su: string) => ({ sourceUpdatedAt: su, customerExternalId: 'N1' });
  const nsPay = (su: string) =>
    pay('NP1', '2026-11-03', 40_00, 0, [{ invoiceExternalId: 'NI1', amountMinor: 40_00 }], at(su));
  const nsMemo = (su: string) => ({ ...memo('NM1', 25_00, 25_00), ...at(su) });

  it('records deleted in the second of their last save stay deleted when that save arrives again', async () => {
    await apply(
      page({
        customers: [cust('N1')],
        invoices: [inv('NI1', 100_00, 60_00, at(TD)), inv('NI2', 70_00, 70_00, at(TD))],
        payments: [nsPay(TD)],
        creditMemos: [nsMemo(TD)],
      }),
    );
    expect(await allocationsOf('NP1')).toHaveLength(1);
    await apply(
      page({
        invoices: [inv('NI1', 100_00, 100_00, at(TD))],
        deletions: {
          invoices: [{ externalId: 'NI2', sourceUpdatedAt: TD }],
          payments: [{ externalId: 'NP1', sourceUpdatedAt: TD }],
          creditMemos: [{ externalId: 'NM1', sourceUpdatedAt: TD }],
        },
      }),
    );
    // A later poll's overlapping window (or a read made before the deletion, written after it) carries the saves.
    await apply(
      page({
        invoices: [inv('NI2', 70_00, 70_00, at(TD))],
        payments: [nsPay(TD)],
        creditMemos: [nsMemo(TD)],
      }),
    );
    expect(await statusOf(invoices, 'NI2')).toBe('deleted');
    expect(await statusOf(payments, 'NP1')).toBe('deleted');
    expect(await statusOf(creditMemos, 'NM1')).toBe('deleted');
    expect(await allocationsOf('NP1')).toEqual([]);
    expect((await invoice('NI1')).balanceMinor).toBe(100_00);
  });

  it('a credit memo applied directly, deleted in the second of its save: that save arriving late writes no application', async () => {
    const applied = () => ({
      ...nsMemo(TD),
      externalId: 'NM2',
      remainingMinor: 0,
      applications: [{ invoiceExternalId: 'NI1', amountMinor: 25_00 }],
    });
    await apply(page({ creditMemos: [applied()] }));
    const lines = async () =>
      (
        await s.db
          .select({ id: paymentAllocations.id })
          .from(paymentAllocations)
          .innerJoin(creditMemos, eq(creditMemos.id, paymentAllocations.creditMemoId))
          .where(eq(creditMemos.externalId, 'NM2'))
      ).length;
    expect(await lines()).toBe(1);
    await apply(page({ deletions: { creditMemos: [{ externalId: 'NM2', sourceUpdatedAt: TD }] } }));
    expect(await lines()).toBe(0);
    await apply(page({ creditMemos: [applied()] }));
    expect(await statusOf(creditMemos, 'NM2')).toBe('deleted');
    expect(await lines()).toBe(0);
  });

  it('the other order, the save and the deletion of one second in one page: deleted', async () => {
    await apply(
      page({
        invoices: [inv('NI3', 30_00, 30_00, at(TD))],
        deletions: { invoices: [{ externalId: 'NI3', sourceUpdatedAt: TD }] },
      }),
    );
    expect(await statusOf(invoices, 'NI3')).toBe('deleted');
  });

  it('a row found missing by a listing, then its tombstone: a save between the two arriving late stays out', async () => {
    const T0 = '2026-11-03T09:00:00.000Z';
    const BETWEEN = '2026-11-03T09:10:00.000Z';
    await apply(page({ invoices: [inv('NI4', 45_00, 45_00, at(T0))] }));
    // A listing's deletion states no time: the mark keeps the row's last known one (T0).
    await apply(page({ deletions: { invoices: [{ externalId: 'NI4' }] } }));
    await apply(page({ deletions: { invoices: [{ externalId: 'NI4', sourceUpdatedAt: TD }] } }));
    // A save made between T0 and the deletion, which Duely never held.
    await apply(page({ invoices: [inv('NI4', 45_00, 15_00, at(BETWEEN))] }));
    expect(await statusOf(invoices, 'NI4')).toBe('deleted');
  });

  it('with versions, a row found missing by a listing keeps its version: the same save read again brings it back, an older one does not', async () => {
    const v = (sourceVersion: number, balance: number) =>
      inv('NI5', 60_00, balance, { ...at(TD), sourceVersion });
    await apply(page({ invoices: [v(5, 60_00)] }));
    await apply(page({ deletions: { invoices: [{ externalId: 'NI5' }] } }));
    await apply(page({ invoices: [v(4, 30_00)] }));
    expect(await statusOf(invoices, 'NI5')).toBe('deleted');
    await apply(page({ invoices: [v(5, 60_00)] }));
    expect(await statusOf(invoices, 'NI5')).toBe('open');
    // A tombstone of the same second clears the version: nothing of that second brings it back.
    await apply(page({ deletions: { invoices: [{ externalId: 'NI5', sourceUpdatedAt: TD }] } }));
    await apply(page({ invoices: [v(5, 60_00)] }));
    expect(await statusOf(invoices, 'NI5')).toBe('deleted');
  });

  it('without versions, a row a listing found missing comes back when the same save is read again (a listing mistake repairs itself)', async () => {
    const T0 = '2026-11-03T09:00:00.000Z';
    await apply(page({ invoices: [inv('NI6', 45_00, 45_00, at(T0))] }));
    // The listing missed it (a role's view, a listing fault): the mark keeps the row's last known save time.
    await apply(page({ deletions: { invoices: [{ externalId: 'NI6' }] } }));
    expect(await statusOf(invoices, 'NI6')).toBe('deleted');
    // The next full read returns the same, unchanged save: the record exists.
    await apply(page({ invoices: [inv('NI6', 45_00, 45_00, at(T0))] }));
    expect(await statusOf(invoices, 'NI6')).toBe('open');
    expect((await invoice('NI6')).balanceMinor).toBe(45_00);
  });

  it('a tombstone for a record Duely never stored keeps a later-arriving save of its second (or older) out', async () => {
    // The deletion comes first (a poll's DeletedRecord, a CDC answer): Duely has no row to mark. A save made before
    // the deletion then arrives (an overlapping window, a read made before the deletion and written after it).
    const EARLIER = '2026-11-03T09:00:00.000Z';
    await apply(
      page({
        deletions: {
          invoices: [{ externalId: 'NT1', sourceUpdatedAt: TD }],
          payments: [{ externalId: 'NTP1', sourceUpdatedAt: TD }],
          creditMemos: [{ externalId: 'NTM1', sourceUpdatedAt: TD }],
        },
      }),
    );
    await apply(
      page({
        invoices: [inv('NT1', 90_00, 90_00, at(TD)), inv('NI1', 100_00, 100_00, at(TD))],
        payments: [
          {
            ...pay(
              'NTP1',
              '2026-11-03',
              30_00,
              0,
              [{ invoiceExternalId: 'NI1', amountMinor: 30_00 }],
              at(EARLIER),
            ),
            sourceVersion: 3,
          },
        ],
        creditMemos: [{ ...nsMemo(EARLIER), externalId: 'NTM1' }],
      }),
    );
    expect(await statusOf(invoices, 'NT1')).not.toBe('open');
    expect(await statusOf(payments, 'NTP1')).not.toBe('active');
    expect(await statusOf(creditMemos, 'NTM1')).not.toBe('active');
    expect(await allocationsOf('NTP1')).toEqual([]);
    // A save strictly later than the tombstone is the source saying the record exists: taken.
    await apply(page({ invoices: [inv('NT1', 90_00, 40_00, at(LATER))] }));
    expect(await statusOf(invoices, 'NT1')).toBe('open');
    expect((await invoice('NT1')).balanceMinor).toBe(40_00);
  });

  it('a tombstone for a customer Duely never stored: an older save of it arrives deleted, its invoices under it', async () => {
    const EARLIER = '2026-11-03T09:00:00.000Z';
    await apply(page({ deletions: { customers: [{ externalId: 'NC9', sourceUpdatedAt: TD }] } }));
    // The tombstone alone adds no customer (a deleted lead, a record Duely never read stays out of the lists).
    expect(await s.db.select().from(customers).where(eq(customers.externalId, 'NC9'))).toEqual([]);
    await apply(
      page({
        customers: [cust('NC9', { sourceUpdatedAt: EARLIER })],
        invoices: [inv('NT9', 10_00, 10_00, { ...at(EARLIER), customerExternalId: 'NC9' })],
      }),
    );
    const [c] = await s.db.select().from(customers).where(eq(customers.externalId, 'NC9'));
    expect(c?.deletedAt).not.toBeNull();
    expect(c?.name).toBe('Customer NC9 Inc');
    // A placeholder made for a tombstoned customer is deleted too.
    await apply(page({ deletions: { customers: [{ externalId: 'NC8', sourceUpdatedAt: TD }] } }));
    await apply(
      page({ invoices: [inv('NT8', 10_00, 10_00, { ...at(EARLIER), customerExternalId: 'NC8' })] }),
    );
    const [p] = await s.db.select().from(customers).where(eq(customers.externalId, 'NC8'));
    expect(p?.deletedAt).not.toBeNull();
    // Customers can be made active again: a save of the tombstone's second or later is taken.
    await apply(page({ customers: [cust('NC8', { sourceUpdatedAt: LATER })] }));
    const [q] = await s.db.select().from(customers).where(eq(customers.externalId, 'NC8'));
    expect(q?.deletedAt).toBeNull();
  });

  it('a save strictly later than the deletion is taken (the source says the record exists after it)', async () => {
    await apply(page({ invoices: [inv('NI2', 70_00, 50_00, at(LATER))] }));
    expect(await statusOf(invoices, 'NI2')).toBe('open');
    expect((await invoice('NI2')).balanceMinor).toBe(50_00);
  });
});
