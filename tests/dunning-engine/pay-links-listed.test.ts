/**
 * Pay links for invoices no step covers yet (issue 14, point 4): a statement lists every due and overdue invoice of
 * the debtor, a receipt lists what is still open, and the customer page shows all open invoices. QuickBooks returns
 * an invoice's InvoiceLink only on a single read, so each of these reads the missing links (once) instead of
 * showing only the links of invoices a planned step happened to cover.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandboxes/quickbooks';
import { customers, dunningMessages, invoices } from '../../src/db/schema';
import { composeEmail } from '../../src/dunning/compose-email';
import { planTenant } from '../../src/dunning/engine';
import { listedInvoiceIds } from '../../src/dunning/payment-details';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { QB_ENV, syncedSandboxTenant } from '../sync/helpers';
import { messagesOf, tenantRow } from './fixtures';

let sandbox: Sandbox;
let s: Services;
let app: FastifyInstance;
let tenantId = '';
let auth: { authorization: string };

const t = suiteTestApp(async () => {
  sandbox = await startSandbox({
    seed: 11,
    now: new Date('2026-11-27T18:00:00.000Z'),
    customers: 6,
    invoices: 90,
    verifierToken: QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
  });
  return {
    clock: { now: () => sandbox.now() },
    env: { ...QB_ENV, ...sandbox.config },
    queue: false,
    sandbox,
  };
}, 120_000);
beforeAll(async () => {
  ({ services: s, app, auth } = t);
  ({ tenantId } = await syncedSandboxTenant(s, sandbox));
}, 120_000);

const linkOf = (externalId: string) => new RegExp(`/pay/[^/]+/${externalId}$`);

async function openInvoicesOutsideMessages() {
  const listed = new Set((await messagesOf(s, tenantId)).flatMap(listedInvoiceIds));
  const open = await s.db
    .select()
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), eq(invoices.status, 'open')));
  return open.filter((i) => !listed.has(i.id) && i.balanceMinor > 0);
}

describe('pay links beyond the planned steps', () => {
  it('planning reads the link of every invoice a pending message lists, not only the stepped ones', async () => {
    await planTenant(s, tenantId);
    const msgs = (await messagesOf(s, tenantId)).filter((m) => m.kind === 'reminder');
    expect(msgs.length).toBeGreaterThan(0);
    const listed = [...new Set(msgs.flatMap(listedInvoiceIds))];
    const rows = await s.db.select().from(invoices).where(inArray(invoices.id, listed));
    for (const inv of rows.filter((i) => i.status === 'open'))
      expect(inv.payLink).toMatch(linkOf(inv.externalId));
    // What no message lists was not read by planning (it is read when something shows it, below).
    expect((await openInvoicesOutsideMessages()).length).toBeGreaterThan(0);
  });

  it('a statement listing an invoice no step covers links it too', async () => {
    const [extra] = await openInvoicesOutsideMessages();
    expect(extra!.payLink).toBeNull();
    const m =
      (await messagesOf(s, tenantId)).find(
        (x) => x.kind === 'reminder' && x.customerId === extra!.customerId,
      ) ?? (await messagesOf(s, tenantId)).find((x) => x.kind === 'reminder')!;
    // The message now also lists `extra` (as a statement lists the debtor's other invoices), without a step for it.
    const snapshot = m.snapshot as { invoices: Record<string, unknown>[] };
    const listedRow = {
      invoiceId: extra!.id,
      number: extra!.number ?? extra!.externalId,
      issueDate: extra!.issueDate,
      dueDate: extra!.dueDate,
      currency: extra!.currency,
      totalMinor: extra!.totalMinor,
      openBalanceMinor: extra!.balanceMinor,
      payLink: null,
      stepKey: null,
    };
    const row = { ...m, snapshot: { ...snapshot, invoices: [...snapshot.invoices, listedRow] } };
    const [customer] = await s.db.select().from(customers).where(eq(customers.id, m.customerId));
    const email = await composeEmail(s, row, await tenantRow(s, tenantId), customer!, s.clock.now());
    const [stored] = await s.db.select().from(invoices).where(eq(invoices.id, extra!.id));
    expect(stored!.payLink).toMatch(linkOf(extra!.externalId));
    expect(email.html).toContain(`href="${stored!.payLink}"`);
  });

  it('the customer API shows the pay link of every open invoice', async () => {
    const outside = await openInvoicesOutsideMessages();
    const withoutLink = outside.filter((i) => !i.payLink);
    expect(withoutLink.length).toBeGreaterThan(0);
    const customerId = withoutLink[0]!.customerId;
    const res = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${tenantId}/customers/${customerId}`,
      headers: auth,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      invoices: { externalId: string; status: string; balanceMinor: number; payLink: string | null }[];
    };
    const open = body.invoices.filter((i) => i.status === 'open' && i.balanceMinor > 0);
    expect(open.length).toBeGreaterThan(0);
    for (const inv of open) expect(inv.payLink).toMatch(linkOf(inv.externalId));
  });

  it("a receipt's still-open list links each invoice", async () => {
    const [m] = await s.db
      .select()
      .from(dunningMessages)
      .where(and(eq(dunningMessages.tenantId, tenantId), eq(dunningMessages.kind, 'reminder')))
      .limit(1);
    // Forget the stored links of this customer's open invoices: the receipt reads them again.
    await s.db.execute(sql`update invoices set pay_link = null where customer_id = ${m!.customerId}::uuid`);
    const receipt = {
      ...m!,
      id: 'dr_000000000000000000000001',
      kind: 'receipt' as const,
      invoiceIds: [],
      snapshot: {
        payment: { date: '2026-11-27', amountMinor: 100, currency: 'USD' },
        invoices: [],
      },
    };
    const [customer] = await s.db.select().from(customers).where(eq(customers.id, m!.customerId));
    const email = await composeEmail(s, receipt, await tenantRow(s, tenantId), customer!, s.clock.now());
    const open = await s.db
      .select()
      .from(invoices)
      .where(and(eq(invoices.customerId, m!.customerId), eq(invoices.status, 'open')));
    for (const inv of open.filter((i) => i.balanceMinor > 0)) {
      expect(inv.payLink).toMatch(linkOf(inv.externalId));
      expect(email.html).toContain(`href="${inv.payLink}"`);
    }
  });
});
