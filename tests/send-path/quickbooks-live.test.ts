/**
 * The send path against a QuickBooks company (the sandbox server) and the Resend stand-in: what is recorded in
 * QuickBooks between planning and sending, with no webhook and no sync since, decides what the debtor gets — the
 * live read right before the attempt. A full payment: nothing sent. A partial one: the reminder states the new
 * balance. A void: nothing sent.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalInvoice } from '../../connectors/canonical';
import { formatMoney } from '../../connectors/money';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { customers, dunningMessages, invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendDue } from '../../src/dunning/send-batch';
import { sendMessage } from '../../src/dunning/send-message';
import { ResendTransport } from '../../src/mail/resend';
import type { Services } from '../../src/services';
import { writePage } from '../../src/sync/apply-page';
import { approveAll, giveEmails, goLive, messagesOf } from '../dunning-engine/fixtures';
import { createTestServices } from '../helpers/services';
import { QB_ENV, syncedSandboxTenant } from '../sync/helpers';
import { noSleep } from './helpers';
import { ResendStandIn } from './resend-stand-in';

let sandbox: Sandbox;
let s: Services;
let standIn: ResendStandIn;
let transport: ResendTransport;
let tenantId = '';

beforeAll(async () => {
  const { startSandbox } = await import('../../sandboxes/quickbooks');
  sandbox = await startSandbox({
    seed: 11,
    now: new Date('2026-11-27T18:00:00.000Z'),
    customers: 24,
    invoices: 200,
    verifierToken: QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
  });
  s = await createTestServices({
    clock: { now: () => sandbox.now() },
    env: { ...QB_ENV, ...sandbox.config, MAIL_FROM: 'Acme Billing <billing@acme.example>' },
  });
  ({ tenantId } = await syncedSandboxTenant(s, sandbox));
  await giveEmails(s, tenantId);
  await goLive(s, tenantId);
  standIn = await new ResendStandIn(() => sandbox.now().getTime()).start();
  transport = new ResendTransport({ apiKey: 're_test', baseUrl: standIn.url, timeoutMs: 3_000 });
}, 240_000);
afterAll(async () => {
  await standIn?.stop();
  await s?.close();
  await sandbox?.stop();
});

/** A queued reminder for one invoice, due now, for a debtor in business hours (13:00 in New York on a Friday). */
async function dueSingleInvoiceReminder(opts: { untouched?: boolean } = {}) {
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
  const rows = await s.db
    .select({
      id: invoices.id,
      externalId: invoices.externalId,
      balanceMinor: invoices.balanceMinor,
      totalMinor: invoices.totalMinor,
    })
    .from(invoices)
    .where(eq(invoices.tenantId, tenantId));
  // Invoices nothing was paid on yet (QuickBooks voids only those in the sandbox).
  const untouched = new Set(rows.filter((r) => r.balanceMinor === r.totalMinor).map((r) => r.id));
  // Invoices an earlier test paid in QuickBooks without Duely reading it (its message is still queued): the live
  // read would find them paid, whatever this test records.
  const books = sandbox.company.balances();
  const moved = new Set(
    rows.filter((r) => (books.get(r.externalId) ?? r.balanceMinor) !== r.balanceMinor).map((r) => r.id),
  );
  const all = await messagesOf(s, tenantId);
  // The customer's only reminder: a customer an earlier test emailed, or one with a second message to another
  // recipient (an invoice's own BillEmail) planned the same day, is within its message gap, so a re-plan after a
  // partial payment would not list the invoice again until the gap has passed.
  const perCustomer = Map.groupBy(all, (x) => x.customerId);
  const emailed = new Set([...perCustomer].filter(([, ms]) => ms.length > 1).map(([c]) => c));
  const m = all.find(
    (x) =>
      x.status === 'queued' &&
      !emailed.has(x.customerId) &&
      x.kind === 'reminder' &&
      x.invoiceIds.length === 1 &&
      !moved.has(x.invoiceIds[0]!) &&
      (opts.untouched === false || untouched.has(x.invoiceIds[0]!)),
  );
  expect(m, 'the sandbox company has a single-invoice reminder').toBeDefined();
  await s.db.update(dunningMessages).set({ sendAt: sandbox.now() }).where(eq(dunningMessages.id, m!.id));
  await s.db.execute(
    sql`update customers set timezone = 'America/New_York' where id = ${m!.customerId}::uuid`,
  );
  const [inv] = await s.db.select().from(invoices).where(eq(invoices.id, m!.invoiceIds[0]!));
  return { m: m!, inv: inv! };
}

describe('recorded in QuickBooks between planning and sending (no webhook, no sync)', () => {
  it('paid in full: skipped as paid, nothing requested', async () => {
    standIn.reset();
    const { m, inv } = await dueSingleInvoiceReminder();
    await sandbox.recordPayment(inv.externalId);
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({
      outcome: 'skipped',
      code: 'paid',
    });
    expect(standIn.requests).toHaveLength(0);
  });

  it('paid in part: the reminder that goes states the new balance, once', async () => {
    standIn.reset();
    const { m, inv } = await dueSingleInvoiceReminder();
    const part = Math.floor(inv.balanceMinor / 2);
    await sandbox.recordPayment(inv.externalId, part);
    const first = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(first.outcome).toBe('skipped');
    expect(standIn.requests).toHaveLength(0);
    // Re-planned with what is still open (other figures: a reviewer approves again); sent at its time.
    await planTenant(s, tenantId);
    await approveAll(s, tenantId);
    const again = (await messagesOf(s, tenantId)).filter(
      (x) => x.status === 'queued' && x.invoiceIds.includes(inv.id),
    );
    expect(again).toHaveLength(1);
    await s.db
      .update(dunningMessages)
      .set({ sendAt: sandbox.now() })
      .where(and(eq(dunningMessages.id, again[0]!.id)));
    expect(await sendMessage(s, again[0]!.id, { transport, sleep: noSleep })).toMatchObject({
      outcome: 'sent',
    });
    const [d] = standIn.deliveries;
    expect(standIn.deliveries).toHaveLength(1);
    // What is open now is the amount asked for (a first-contact statement says "… in total", a reminder "an open
    // balance of …"; which one the picked customer gets depends on its history).
    expect(d!.text).toMatch(
      new RegExp(
        `(open balance of |)${formatMoney(inv.balanceMinor - part, inv.currency).replace(/[$.]/g, '\\$&')}( in total|\\.)`,
      ),
    );
  });

  it('voided: skipped, nothing requested', async () => {
    standIn.reset();
    const { m, inv } = await dueSingleInvoiceReminder();
    await sandbox.voidInvoice(inv.externalId);
    const out = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(out).toMatchObject({ outcome: 'skipped', code: 'void_or_deleted' });
    const [after] = await s.db.select().from(invoices).where(eq(invoices.id, inv.id));
    expect(after!.status).toBe('void');
    expect(standIn.requests).toHaveLength(0);
  });
});

/**
 * The window between the live re-read and the locked final check: a sync page fetched before the payment is written
 * in between. The page writer ignores a row older than the stored one (source_updated_at), but QuickBooks'
 * LastUpdatedTime counts whole seconds: a change made in the same second as the page's (here, the last of two
 * payments recorded within one second) carries the same timestamp, and the older page won the tie.
 */
describe('a stale sync page written between the live re-read and the final check', () => {
  /** The invoice as a page fetched now would carry it (the stored row is what the last read said). */
  async function pageOf(invoiceId: string, opts: { version?: boolean } = {}): Promise<CanonicalInvoice> {
    const [r] = await s.db
      .select({ inv: invoices, customerExternalId: customers.externalId })
      .from(invoices)
      .innerJoin(customers, eq(customers.id, invoices.customerId))
      .where(eq(invoices.id, invoiceId));
    const inv = r!.inv;
    return {
      externalId: inv.externalId,
      customerExternalId: r!.customerExternalId,
      number: inv.number,
      issueDate: inv.issueDate,
      dueDate: inv.dueDate,
      currency: inv.currency,
      totalMinor: inv.totalMinor,
      balanceMinor: inv.balanceMinor,
      status: inv.status,
      sourceUpdatedAt: inv.sourceUpdatedAt?.toISOString() ?? null,
      // Without it the page is one of a source that keeps no versions: the writer goes by time alone.
      ...(opts.version ? { sourceVersion: inv.sourceVersion } : {}),
    };
  }

  /** Runs `between` right after each live re-read of the send path has written what the ledger said. */
  async function withPageAfterLiveRead<T>(between: () => Promise<void>, run: () => Promise<T>): Promise<T> {
    const real = s.sync.refreshInvoices;
    s.sync.refreshInvoices = async (conn, ids) => {
      const out = await real(conn, ids);
      await between();
      return out;
    };
    try {
      return await run();
    } finally {
      s.sync.refreshInvoices = real;
    }
  }

  const stalePage = (inv: CanonicalInvoice) => () =>
    s.db.transaction(async (tx) => {
      await writePage(
        tx,
        tenantId,
        {
          customers: [],
          invoices: [inv],
          payments: [],
          creditMemos: [],
          deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
        },
        sandbox.now(),
      );
    });

  /** A reminder planned for what is open after a first payment, read live so the row has its timestamp. */
  async function partlyPaidReminder(opts: { untouched?: boolean } = {}) {
    const { m: first, inv } = await dueSingleInvoiceReminder(opts);
    await sandbox.recordPayment(inv.externalId, Math.floor(inv.balanceMinor / 3));
    // The send's live read finds the first payment: not sent, planned again with what is open.
    expect(await sendMessage(s, first.id, { transport, sleep: noSleep })).toMatchObject({
      code: 'balance_changed',
    });
    await planTenant(s, tenantId);
    await approveAll(s, tenantId);
    const [m] = (await messagesOf(s, tenantId)).filter(
      (x) => x.status === 'queued' && x.invoiceIds.includes(inv.id),
    );
    expect(m, 'the partly paid invoice is planned again').toBeDefined();
    await s.db.update(dunningMessages).set({ sendAt: sandbox.now() }).where(eq(dunningMessages.id, m!.id));
    return { m: m!, inv };
  }

  it('a page older than the payment: the payer is not emailed', async () => {
    standIn.reset();
    const { m, inv } = await dueSingleInvoiceReminder();
    const page = await pageOf(inv.id);
    await sandbox.recordPayment(inv.externalId);
    const out = await withPageAfterLiveRead(stalePage(page), () =>
      sendMessage(s, m.id, { transport, sleep: noSleep }),
    );
    expect(out).toMatchObject({ outcome: 'skipped', code: 'paid' });
    expect(standIn.requests).toHaveLength(0);
  });

  it('paid in the same second as the page: the payer is not emailed, the invoice ends paid', async () => {
    standIn.reset();
    const { m, inv } = await partlyPaidReminder();
    // Fetched by a sync before the rest was paid, in the same second (QuickBooks' clock has not moved), and
    // written once, right after the send's first live read.
    const page = await pageOf(inv.id);
    await sandbox.recordPayment(inv.externalId);
    let pages = 0;
    const once = async () => {
      if (pages++ === 0) await stalePage(page)();
    };
    const out = await withPageAfterLiveRead(once, () => sendMessage(s, m.id, { transport, sleep: noSleep }));
    expect(standIn.requests).toHaveLength(0);
    expect(out).toMatchObject({ outcome: 'skipped', code: 'paid' });
    const [after] = await s.db.select().from(invoices).where(eq(invoices.id, inv.id));
    expect(after).toMatchObject({ status: 'paid', balanceMinor: 0 });
  });

  it('batched (MAIL_BATCH): the page lands between the read before the call and the check; the payer is not emailed', async () => {
    standIn.reset();
    const { m, inv } = await partlyPaidReminder();
    const page = await pageOf(inv.id);
    await sandbox.recordPayment(inv.externalId);
    const batched = { transport, sleep: noSleep, batching: true, batchSize: 1 };
    // The batch path reads live before storing the batch and again right before its call: the page lands after
    // the second.
    let reads = 0;
    const second = async () => {
      if (++reads === 2) await stalePage(page)();
    };
    await withPageAfterLiveRead(second, () => sendDue(s, m.id, batched));
    expect(reads).toBe(2);
    expect(standIn.requests).toHaveLength(0);
    // Its job runs again: the ledger is read afresh and says paid.
    expect(await sendDue(s, m.id, batched)).toMatchObject({ outcome: 'skipped', code: 'paid' });
    expect(standIn.requests).toHaveLength(0);
  });

  it('the page keeps coming back: the payer is still not emailed, the message waits for a later read', async () => {
    standIn.reset();
    const { m, inv } = await partlyPaidReminder({ untouched: false });
    const page = await pageOf(inv.id);
    await sandbox.recordPayment(inv.externalId);
    const out = await withPageAfterLiveRead(stalePage(page), () =>
      sendMessage(s, m.id, { transport, sleep: noSleep }),
    );
    expect(standIn.requests).toHaveLength(0);
    expect(out).toMatchObject({ outcome: 'deferred', code: 'retrying' });
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(row).toMatchObject({ status: 'queued', attemptStartedAt: null, inDoubtSince: null });
  });

  it('the page carries its SyncToken, as QuickBooks pages do: it loses to the live read, which sees the payment', async () => {
    standIn.reset();
    const { m, inv } = await partlyPaidReminder({ untouched: false });
    const page = await pageOf(inv.id, { version: true });
    expect(page.sourceVersion).toEqual(expect.any(Number));
    await sandbox.recordPayment(inv.externalId);
    const out = await withPageAfterLiveRead(stalePage(page), () =>
      sendMessage(s, m.id, { transport, sleep: noSleep }),
    );
    expect(standIn.requests).toHaveLength(0);
    // Not deferred: the locked check agrees with the live read (the same-second page was ignored).
    expect(out).toMatchObject({ outcome: 'skipped', code: 'paid' });
    const [after] = await s.db.select().from(invoices).where(eq(invoices.id, inv.id));
    expect(after).toMatchObject({ status: 'paid', balanceMinor: 0 });
  });

  it('paid in the ledger and since re-opened (the payment deleted): the reminder still goes, once', async () => {
    standIn.reset();
    // Any open invoice will do (paid in part before or not).
    const { m, inv } = await dueSingleInvoiceReminder({ untouched: false });
    // A sync had stored the payment the bookkeeper later deleted in QuickBooks (which moved the invoice's
    // LastUpdatedTime past the page's).
    const page = await pageOf(inv.id);
    const earlier = new Date(Date.parse(page.sourceUpdatedAt!) - 3_600_000).toISOString();
    await stalePage({ ...page, balanceMinor: 0, status: 'paid', sourceUpdatedAt: earlier })();
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ outcome: 'sent' });
    expect(standIn.deliveries).toHaveLength(1);
    const [after] = await s.db.select().from(invoices).where(eq(invoices.id, inv.id));
    expect(after).toMatchObject({ status: 'open', balanceMinor: inv.balanceMinor });
  });
});
