/**
 * The send path against a QuickBooks company (the sandbox server) and the Resend stand-in: what is recorded in
 * QuickBooks between planning and sending, with no webhook and no sync since, decides what the debtor gets — the
 * live read right before the attempt. A full payment: nothing sent. A partial one: the reminder states the new
 * balance. A void: nothing sent.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../connectors/money';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { dunningMessages, invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { ResendTransport } from '../../src/mail/resend';
import type { Services } from '../../src/services';
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
async function dueSingleInvoiceReminder() {
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
  // Invoices nothing was paid on yet (QuickBooks voids only those in the sandbox).
  const untouched = new Set(
    (
      await s.db
        .select({ id: invoices.id })
        .from(invoices)
        .where(and(eq(invoices.tenantId, tenantId), eq(invoices.balanceMinor, invoices.totalMinor)))
    ).map((r) => r.id),
  );
  const m = (await messagesOf(s, tenantId)).find(
    (x) =>
      x.status === 'queued' &&
      x.kind === 'reminder' &&
      x.invoiceIds.length === 1 &&
      untouched.has(x.invoiceIds[0]!),
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
    // The statement lists the invoice's original amount, and what is open now as the amount asked for.
    expect(d!.text).toContain(`${formatMoney(inv.balanceMinor - part, inv.currency)} in total`);
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
