/**
 * Everything downstream of a NetSuite sync, against the local stand-in: the tenant is scored (predictions for its
 * open invoices in every currency), dunning plans reminders, go-live + approve, a reminder is sent, and a payment
 * applied in NetSuite just before a send (no sync in between) makes that send skip as paid because the pre-send
 * live re-read went through the NetSuite connector; analytics answers per currency (open balances equal the
 * stand-in's, JPY in whole yen); the customer API shows invoices, payments with allocations and credit memo
 * applications of a NetSuite customer.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections, customers, invoicePredictions, invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { approveAll, goLive, messagesOf, RecordingTransport } from '../dunning-engine/fixtures';
import { suiteTestApp } from '../helpers/app';
import { withoutUrls } from '../helpers/email-text';

let sandbox: NetsuiteSandbox;
let clock: ManualClock;
let s: Services;
let app: FastifyInstance;
let admin = '';
let tenantId = '';
let tenantSlug = '';

const t = suiteTestApp(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 12, customers: 12 }) });
  await sandbox.start();
  // The app's clock is the account's: the stand-in's history ends "now".
  clock = new ManualClock(`${sandbox.company.clock.replace(' ', 'T')}Z`);
  return {
    clock,
    env: { ...sandbox.env(), MAIL_FROM: 'Duely Demo <billing@duely-demo.example>' },
    token: 'test admin',
    sandbox,
  };
}, 120_000);
beforeAll(async () => {
  ({ services: s, app, token: admin } = t);
  const tenant = await ensureTenant(s.db, 'NetSuite Co', 'netsuite');
  tenantId = tenant.id;
  tenantSlug = tenant.slug;
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenantSlug}/connections`,
    headers: { authorization: `Bearer ${admin}` },
    payload: {
      provider: 'netsuite',
      accountId: '1234567_SB1',
      auth: { type: 'tba', tokenId: 'sandbox-token-id', tokenSecret: 'sandbox-token-secret' },
    },
  });
  expect(res.statusCode).toBe(201);
  const result = await runSync(s, { connectionId: res.json().id, reason: 'connect', pageSize: 25 });
  expect(result.status).toBe('succeeded');
}, 120_000);

const get = (url: string) =>
  app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${admin}` } });

/** The stand-in's open balance per currency, minor units. */
function truthOpenByCurrency(): Record<string, { minor: number; count: number }> {
  const out: Record<string, { minor: number; count: number }> = {};
  for (const v of sandbox.company.openBalances().values()) {
    if (v.status !== 'open') continue;
    out[v.currency] ??= { minor: 0, count: 0 };
    const o = out[v.currency]!;
    o.minor += v.balanceMinor;
    o.count += 1;
  }
  return out;
}

describe('NetSuite downstream', () => {
  it('scoring: every open invoice has a prediction, in each currency', async () => {
    const r = await scoreTenant(s, tenantId);
    const open = await s.db
      .select({ id: invoices.id, currency: invoices.currency })
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.status, 'open')));
    expect(r.invoices).toBe(open.length);
    const preds = await s.db
      .select({ invoiceId: invoicePredictions.invoiceId })
      .from(invoicePredictions)
      .where(eq(invoicePredictions.tenantId, tenantId));
    expect(new Set(preds.map((p) => p.invoiceId))).toEqual(new Set(open.map((o) => o.id)));
    expect(new Set(open.map((o) => o.currency))).toEqual(new Set(['USD', 'CAD', 'EUR', 'JPY']));
  });

  it('analytics per currency: open balances equal the stand-in, JPY in whole yen', async () => {
    const truth = truthOpenByCurrency();
    expect(Object.keys(truth).sort()).toEqual(['CAD', 'EUR', 'JPY', 'USD']);
    for (const currency of ['USD', 'CAD', 'EUR', 'JPY']) {
      const res = await get(`/api/v1/tenants/${tenantSlug}/analytics?currency=${currency}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.currency).toBe(currency);
      expect({ currency, open: body.receivables.openMinor, count: body.receivables.openCount }).toEqual({
        currency,
        open: truth[currency]!.minor,
        count: truth[currency]!.count,
      });
      // The predictions feed the forecast: scored invoices have risk figures.
      expect(body.revenueAtRisk.highRiskMinor).not.toBeNull();
    }
    // JPY's minor unit is the yen: balances as the stand-in has them, shown without decimals.
    const jpy = await s.db
      .select({ balanceMinor: invoices.balanceMinor, customerId: invoices.customerId })
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.currency, 'JPY'), eq(invoices.status, 'open')));
    expect(jpy.reduce((n, j) => n + j.balanceMinor, 0)).toBe(truth.JPY!.minor);
    const page = (await get(`/api/v1/tenants/${tenantSlug}/customers/${jpy[0]!.customerId}`)).json();
    const jpyOpen = page.openBalance.find((b: { currency: string }) => b.currency === 'JPY');
    expect(jpyOpen.balance).not.toMatch(/[.,]\d\d$/);
    expect(jpyOpen.balance.replace(/\D/g, '')).toBe(String(jpyOpen.balanceMinor));
  });

  it('dunning plans, goes live, sends; a payment applied in NetSuite just before a send skips it as paid (live re-read through the connector)', async () => {
    // Three weeks on, the oldest invoices are overdue.
    clock.advance(21 * 86_400_000);
    await goLive(s, tenantId);
    await planTenant(s, tenantId);
    await approveAll(s, tenantId);
    const queued = (await messagesOf(s, tenantId)).filter((m) => m.status === 'queued');
    expect(queued.length).toBeGreaterThan(1);
    const single = queued.filter((m) => m.invoiceIds.length === 1);
    expect(single.length).toBeGreaterThan(0);
    const transport = new RecordingTransport();

    // A payment lands in NetSuite for the invoice of one reminder; Duely does not sync.
    const target = single[0]!;
    const [inv] = await s.db
      .select({ externalId: invoices.externalId, balanceMinor: invoices.balanceMinor })
      .from(invoices)
      .where(eq(invoices.id, target.invoiceIds[0]!));
    const nsInv = sandbox.company.txns.get(Number(inv!.externalId))!;
    const owed = sandbox.company.unpaid(nsInv);
    expect(inv!.balanceMinor).toBe(owed);
    sandbox.company.addPayment(sandbox.company.customers.get(nsInv.entity)!, owed, [
      { invoice: nsInv.id, amountMinor: owed },
    ]);
    const queriesBefore = sandbox.queries.length;
    if (clock.now() < target.sendAt) clock.set(target.sendAt);
    const skipped = await sendMessage(s, target.id, { transport });
    expect(skipped).toMatchObject({ outcome: 'skipped', code: 'paid' });
    expect(sandbox.queries.slice(queriesBefore).some((q) => q.includes(String(nsInv.id)))).toBe(true);
    expect(transport.calls).toHaveLength(0);
    const [after] = await s.db
      .select({ balanceMinor: invoices.balanceMinor, status: invoices.status })
      .from(invoices)
      .where(eq(invoices.id, target.invoiceIds[0]!));
    expect(after).toEqual({ balanceMinor: 0, status: 'paid' });

    // Another reminder, nothing paid: it goes out, to the NetSuite customer's email.
    const other = queued.find((m) => m.id !== target.id && m.customerId !== target.customerId)!;
    if (clock.now() < other.sendAt) clock.set(other.sendAt);
    const sent = await sendMessage(s, other.id, { transport });
    expect(sent).toMatchObject({ outcome: 'sent' });
    expect(transport.deliveries).toHaveLength(1);
    const [cust] = await s.db
      .select({ externalId: customers.externalId, emails: customers.emails })
      .from(customers)
      .where(eq(customers.id, other.customerId));
    expect(cust!.emails).toEqual([sandbox.company.customers.get(Number(cust!.externalId))!.email]);
    expect(JSON.stringify(transport.deliveries[0])).toContain(cust!.emails[0]!);
    // NETSUITE_PDF_RESTLET is not set: the reminder offers no invoice PDF (NetSuite's REST API renders none).
    expect(transport.deliveries[0]!.html).not.toContain('/invoice-pdf/');
    expect(withoutUrls(transport.deliveries[0]!.html)).not.toMatch(/pdf/i);
  });

  it('with the PDF RESTlet configured, a NetSuite reminder links each invoice PDF, which answers 200 application/pdf', async () => {
    const config = s.config as typeof s.config & {
      NETSUITE_PDF_RESTLET?: { script: string; deploy: string };
    };
    config.NETSUITE_PDF_RESTLET = { ...sandbox.restletDeployment };
    try {
      const transport = new RecordingTransport();
      const next = (await messagesOf(s, tenantId)).find((m) => m.status === 'queued')!;
      expect(next).toBeDefined();
      if (clock.now() < next.sendAt) clock.set(next.sendAt);
      expect(await sendMessage(s, next.id, { transport })).toMatchObject({ outcome: 'sent' });
      const html = transport.deliveries[0]!.html;
      const links = [...html.matchAll(/href="https?:\/\/[^"]*(\/invoice-pdf\/[^"]+)"/g)].map((m) => m[1]!);
      expect(links.length).toBeGreaterThan(0);
      const listed = await s.db
        .select({ externalId: invoices.externalId })
        .from(invoices)
        .where(inArray(invoices.id, next.invoiceIds));
      const callsBefore = sandbox.restletCalls.length;
      // The debtor's click: no credentials, a live read through the RESTlet, the PDF itself.
      const res = await app.inject({ method: 'GET', url: links[0]! });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/pdf/);
      expect(res.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(sandbox.restletCalls.slice(callsBefore)).toHaveLength(1);
      // The RESTlet rendered one of the reminder's invoices, by its NetSuite internal id.
      expect(listed.map((r) => r.externalId)).toContain(sandbox.restletCalls.at(-1));
      // A RESTlet failure is the host's: the link answers a page, never a broken PDF.
      sandbox.restletFailures.push(503);
      const down = await app.inject({ method: 'GET', url: links[0]! });
      expect(down.statusCode).toBeGreaterThanOrEqual(500);
      expect(down.headers['content-type']).toMatch(/^text\/html/);
    } finally {
      delete config.NETSUITE_PDF_RESTLET;
    }
  });

  it('the customer page shows invoices, payments with allocations and credit memo applications', async () => {
    const company = sandbox.company;
    // A customer with a payment across invoices and an applied credit memo.
    const withCredit = [...company.txns.values()].find(
      (t) => t.type === 'CustCred' && !t.voided && company.links.some((l) => l.nextdoc === t.id),
    );
    expect(withCredit).toBeDefined();
    const nsCustomer = company.customers.get(withCredit!.entity)!;
    const [cust] = await s.db
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, String(nsCustomer.id))));
    const res = await get(`/api/v1/tenants/${tenantSlug}/customers/${cust!.id}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const mine = [...company.txns.values()].filter((t) => t.entity === nsCustomer.id);
    const idOf = new Map<string, string>(
      body.invoices.map((i: { id: string; externalId: string }) => [i.id, i.externalId]),
    );
    expect(new Set(body.invoices.map((i: { externalId: string }) => i.externalId))).toEqual(
      new Set(mine.filter((t) => t.type === 'CustInvc').map((t) => String(t.id))),
    );
    for (const i of body.invoices) {
      const t = company.txns.get(Number(i.externalId))!;
      expect([i.externalId, i.balanceMinor]).toEqual([i.externalId, company.unpaid(t)]);
    }
    // Payments, each with its applications to this customer's invoices, as NetSuite has them.
    const nsPayments = mine.filter((t) => t.type === 'CustPymt');
    expect(new Set(body.payments.map((p: { externalId: string }) => p.externalId))).toEqual(
      new Set(nsPayments.map((t) => String(t.id))),
    );
    for (const p of body.payments) {
      const links = company.links.filter((l) => l.nextdoc === Number(p.externalId));
      const got = p.allocations.map((a: { invoiceId: string; amountMinor: number }) => [
        idOf.get(a.invoiceId),
        a.amountMinor,
      ]);
      expect(new Set(got.map(String))).toEqual(
        new Set(links.map((l) => [String(l.previousdoc), l.amountMinor]).map(String)),
      );
    }
    // Credit memos, each with the invoices it was applied to.
    const nsCredits = mine.filter((t) => t.type === 'CustCred');
    expect(new Set(body.creditMemos.map((c: { externalId: string }) => c.externalId))).toEqual(
      new Set(nsCredits.map((t) => String(t.id))),
    );
    const cm = body.creditMemos.find((c: { externalId: string }) => c.externalId === String(withCredit!.id));
    const cmLinks = company.links.filter((l) => l.nextdoc === withCredit!.id);
    expect(
      new Set(
        cm.applications.map((a: { invoiceId: string; amountMinor: number }) =>
          String([idOf.get(a.invoiceId), a.amountMinor]),
        ),
      ),
    ).toEqual(new Set(cmLinks.map((l) => String([String(l.previousdoc), l.amountMinor]))));
    expect(cm.remainingMinor).toBe(company.unused(withCredit!));

    // The credit memo is unapplied in NetSuite: the next incremental sync removes its applications.
    for (const l of cmLinks) company.unapply(withCredit!.id, l.previousdoc);
    const [conn] = await s.db.select().from(connections).where(eq(connections.tenantId, tenantId));
    expect((await runSync(s, { connectionId: conn!.id, reason: 'schedule' })).status).toBe('succeeded');
    const again = (await get(`/api/v1/tenants/${tenantSlug}/customers/${cust!.id}`)).json();
    const cm2 = again.creditMemos.find(
      (c: { externalId: string }) => c.externalId === String(withCredit!.id),
    );
    expect(cm2.applications).toEqual([]);
    expect(cm2.remainingMinor).toBe(withCredit!.totalMinor);
    for (const l of cmLinks) {
      const inv = again.invoices.find((i: { externalId: string }) => i.externalId === String(l.previousdoc));
      expect(inv.balanceMinor).toBe(company.unpaid(company.txns.get(l.previousdoc)!));
    }
  });
});
