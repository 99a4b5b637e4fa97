import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { customerRisk, invoicePredictions, invoices, modelVersions } from '../../src/db/schema';
import { predictionRows } from '../../src/risk/cli-commands';
import {
  activeManifest,
  activeModel,
  loadLedger,
  openAsOf,
  retrainTenant,
  scoreTenant,
} from '../../src/risk/service';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { suiteTestApp } from '../helpers/app';
import { ledgerCsv, synthetic } from './helpers';

const NOW = '2013-06-01';
let s: Services;
let app: FastifyInstance;
let token: string;
let tenantId: string;
const rows = synthetic(20, 20, NOW);

const testApp = suiteTestApp({ clock: fixedClock(NOW), token: 't' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  token = testApp.token;
  const r = await importHistoryCsv(s.db, ledgerCsv(rows), { tenantName: 'Risky', now: s.clock.now() });
  tenantId = r.tenant.id;
});

describe('scoring inside the app', () => {
  it('stores a prediction for every open invoice, with its model version and reasons, and a risk per customer', async () => {
    const open = rows.filter((r) => r.paidDate === null);
    expect(open.length).toBeGreaterThan(5);
    const result = await scoreTenant(s, tenantId);
    expect(result.invoices).toBe(open.length);
    const stored = await s.db
      .select()
      .from(invoicePredictions)
      .where(eq(invoicePredictions.tenantId, tenantId));
    expect(stored).toHaveLength(open.length);
    for (const p of stored) {
      expect(p.pLate).toBeGreaterThanOrEqual(0);
      expect(p.pLate).toBeLessThanOrEqual(1);
      expect(p.payDateP10 <= p.predictedPayDate && p.predictedPayDate <= p.payDateP90).toBe(true);
      // Conditioned on being unpaid now: no predicted payment before the as-of date.
      expect(p.predictedPayDate >= NOW).toBe(true);
      expect(p.reasons.length).toBeGreaterThan(0);
      expect(p.reasons.length).toBeLessThanOrEqual(3);
      expect(p.modelVersion).toBe(result.modelVersion);
      // Collection chances (given unpaid now) and the figure the band was read from are stored too.
      expect(p.pCollect30).not.toBeNull();
      expect(p.pCollect90!).toBeGreaterThanOrEqual(p.pCollect30!);
      expect(p.risk).not.toBeNull();
    }
    // `risk` is what the band was read from: P(late) before the due date (these invoices are not yet overdue).
    for (const p of stored) expect(p.risk).toBeCloseTo(p.pLate, 9);
    const risks = await s.db.select().from(customerRisk).where(eq(customerRisk.tenantId, tenantId));
    expect(risks).toHaveLength(20);
    expect(risks.every((r) => r.score >= 0 && r.score <= 100)).toBe(true);
    // The score's inputs are stored beside it: P(late) ≥ P(more than 30 days late), and the score never above P(late).
    for (const r of risks) {
      expect(r.pSevere!).toBeLessThanOrEqual(r.pLate!);
      expect(r.score).toBeLessThanOrEqual(100 * r.pLate! + 0.5);
      expect(r.expectedDaysLate).not.toBeNull();
    }
    const api = await app.inject({
      url: `/api/v1/tenants/risky/customers/${risks[0]!.customerId}/risk`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(api.json()).toMatchObject({ pLate: risks[0]!.pLate, pSevere: risks[0]!.pSevere });
  });

  it('drops the prediction of an invoice that got paid, on the next scoring', async () => {
    const target = rows.find((r) => r.paidDate === null)!;
    const paid = rows.map((r) => (r === target ? { ...r, paidDate: NOW } : r));
    await importHistoryCsv(s.db, ledgerCsv(paid), { tenantName: 'Risky', now: s.clock.now() });
    await scoreTenant(s, tenantId);
    const [inv] = await s.db.select().from(invoices).where(eq(invoices.externalId, target.invoiceId));
    expect(
      await s.db.select().from(invoicePredictions).where(eq(invoicePredictions.invoiceId, inv!.id)),
    ).toHaveLength(0);
  });

  it('serves predictions through the API, and a sensitivity change re-scores with more invoices flagged', async () => {
    const h = { authorization: `Bearer ${token}` };
    const list = (await app.inject({ url: '/api/v1/tenants/risky/predictions', headers: h })).json();
    expect(list.items.length).toBeGreaterThan(0);
    const pl = list.items.map((i: { pLate: number }) => i.pLate);
    expect([...pl].sort((a, b) => b - a)).toEqual(pl);
    const one = list.items[0];
    const single = await app.inject({
      url: `/api/v1/tenants/risky/invoices/${one.invoiceExternalId}/prediction`,
      headers: h,
    });
    expect(single.json()).toMatchObject({
      pLate: one.pLate,
      riskBand: one.riskBand,
      pCollect30: one.pCollect30,
      pCollect90: one.pCollect90,
    });
    expect(typeof one.pCollect90).toBe('number');
    const invoicesPage = (
      await app.inject({ url: '/api/v1/tenants/risky/invoices?status=open&limit=500', headers: h })
    ).json();
    expect(invoicesPage.items.every((i: { prediction: unknown }) => i.prediction !== null)).toBe(true);

    const countHigh = async () =>
      (await app.inject({ url: '/api/v1/tenants/risky/predictions?band=high&limit=1000', headers: h })).json()
        .items.length;
    const before = await countHigh();
    const patch = await app.inject({
      method: 'PATCH',
      url: '/api/v1/tenants/risky/settings',
      headers: h,
      payload: { sensitivity: 3 },
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json().sensitivity).toBe(3);
    const jobs = await s.queue.findJobs('risk-score');
    expect(jobs.some((j) => (j.data as { reason: string }).reason === 'sensitivity changed')).toBe(true);
    await scoreTenant(s, tenantId);
    expect(await countHigh()).toBeGreaterThan(before);
    const bad = await app.inject({
      method: 'PATCH',
      url: '/api/v1/tenants/risky/settings',
      headers: h,
      payload: { sensitivity: 9 },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('exports predictions as of an earlier date: invoices paid later count as open then', async () => {
    const earlier = '2013-03-01';
    const svc = { ...s, clock: fixedClock(earlier) };
    const tenant = { settings: {} };
    const out = await predictionRows(svc, tenantId, tenant.settings);
    const expected = openAsOf(await loadLedger(s.db, tenantId), new Date(`${earlier}T00:00:00Z`));
    const openNow = (await s.db.select().from(invoices).where(eq(invoices.status, 'open'))).length;
    expect(expected.length).toBeGreaterThan(openNow);
    expect(out).toHaveLength(expected.length);
    expect(out.every((r) => String(r.predicted_pay_date) >= earlier)).toBe(true);
  });

  it('scores with the default model while the active version was built for other features (until a retrain)', async () => {
    const other = await importHistoryCsv(s.db, ledgerCsv(synthetic(3, 10, NOW)), {
      tenantName: 'Outdated',
      now: s.clock.now(),
    });
    const shipped = await s.models.default();
    const stale = {
      ...shipped.manifest,
      version: 'payment-delay-old',
      featureNames: shipped.manifest.featureNames.slice(0, -2),
    };
    await s.db.insert(modelVersions).values({
      tenantId: other.tenant.id,
      version: 'payment-delay-old',
      status: 'active',
      manifest: stale as unknown as Record<string, unknown>,
      onnx: Buffer.from([0]),
      comparison: {},
      reason: 'promoted before the feature set changed',
      promotedAt: s.clock.now(),
    });
    expect((await activeModel(s, other.tenant.id)).manifest.version).toBe(shipped.manifest.version);
    expect((await activeManifest(s, other.tenant.id)).version).toBe(shipped.manifest.version);
    // The same row with today's features is the tenant's model (the check above is not vacuous).
    await s.db
      .update(modelVersions)
      .set({ manifest: { ...stale, featureNames: shipped.manifest.featureNames } })
      .where(eq(modelVersions.tenantId, other.tenant.id));
    expect((await activeManifest(s, other.tenant.id)).version).toBe('payment-delay-old');
  });

  it('keeps the default model when a tenant has too little history for its own', async () => {
    const small = await importHistoryCsv(s.db, ledgerCsv(synthetic(3, 10, NOW)), {
      tenantName: 'Small',
      now: s.clock.now(),
    });
    const r = await retrainTenant(s, small.tenant.id);
    expect(r.trained).toBe(false);
    expect(r.reason).toMatch(/settled invoices; 300 needed/);
    expect((await activeModel(s, small.tenant.id)).manifest.version).toBe(
      (await s.models.default()).manifest.version,
    );
  });

  it('trains a challenger on enough history, records it in the registry, and uses it only if promoted', async () => {
    const r = await retrainTenant(s, tenantId);
    expect(r.trained).toBe(true);
    expect(r.comparison?.metrics?.heuristic).toBeDefined();
    const versions = await s.db.select().from(modelVersions).where(eq(modelVersions.tenantId, tenantId));
    const challenger = versions.find((v) => v.version === r.version)!;
    expect(challenger.status).toBe(r.promoted ? 'active' : 'rejected');
    expect(challenger.reason).toBe(r.reason);
    // A second row only when no model beat the rule of thumb: the tenant then scores with the rule.
    expect(versions).toHaveLength(r.scoring === 'heuristic' ? 2 : 1);
    const active = await activeModel(s, tenantId);
    if (r.promoted) {
      expect(active.manifest.version).toBe(r.version);
      const scored = await scoreTenant(s, tenantId);
      expect(scored.modelVersion).toBe(r.version);
    } else if (r.scoring === 'heuristic') {
      expect(active.manifest.scoring).toBe('heuristic');
      const scored = await scoreTenant(s, tenantId);
      expect(scored.modelVersion).toBe(active.manifest.version);
    } else {
      expect(active.manifest.version).toBe((await s.models.default()).manifest.version);
    }
  });
});

describe('scoring after a sync', () => {
  it('queues one scoring run for the tenant inside the page transaction, and none when it rolls back', async () => {
    const { scoreAfterSync } = await import('../../src/jobs/sync-jobs');
    const hook = scoreAfterSync(s);
    const fresh = await importHistoryCsv(s.db, ledgerCsv(synthetic(2, 5, NOW)), {
      tenantName: 'Hooked',
      now: s.clock.now(),
    });
    const tenantId = fresh.tenant.id;
    const queued = async () =>
      (await s.queue.findJobs('risk-score')).filter(
        (j) => (j.data as { tenantId: string }).tenantId === tenantId,
      ).length;
    await expect(
      s.db.transaction(async (tx) => {
        await hook(tx, { tenantId, changedInvoiceIds: [], creditChanged: false });
        throw new Error('page failed');
      }),
    ).rejects.toThrow('page failed');
    expect(await queued()).toBe(0);
    await s.db.transaction((tx) => hook(tx, { tenantId, changedInvoiceIds: [], creditChanged: false }));
    expect(await queued()).toBe(1);
  });
});

describe('after a ledger change', () => {
  it('queues scoring always, and retraining only after a large change', async () => {
    const { queueAfterLedgerChange } = await import('../../src/jobs/risk-jobs');
    const t1 = (
      await importHistoryCsv(s.db, ledgerCsv(synthetic(2, 3, NOW)), {
        tenantName: 'Tiny change',
        now: s.clock.now(),
      })
    ).tenant.id;
    const t2 = (
      await importHistoryCsv(s.db, ledgerCsv(synthetic(2, 3, NOW)), {
        tenantName: 'Big change',
        now: s.clock.now(),
      })
    ).tenant.id;
    await queueAfterLedgerChange(s, undefined, { tenantId: t1, changedInvoices: 10, reason: 'import' });
    await queueAfterLedgerChange(s, undefined, { tenantId: t2, changedInvoices: 5000, reason: 'import' });
    const forTenant = async (queue: string, id: string) =>
      (await s.queue.findJobs(queue)).filter((j) => (j.data as { tenantId: string }).tenantId === id).length;
    expect(await forTenant('risk-score', t1)).toBe(1);
    expect(await forTenant('risk-retrain', t1)).toBe(0);
    expect(await forTenant('risk-score', t2)).toBe(1);
    expect(await forTenant('risk-retrain', t2)).toBe(1);
  });

  it('an upload through the API queues scoring of its tenant in the import transaction', async () => {
    const h = { authorization: `Bearer ${token}`, 'content-type': 'text/csv' };
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/tenants/uploaded/imports',
      headers: h,
      payload: ledgerCsv(synthetic(2, 3, NOW)),
    });
    expect(r.statusCode).toBe(201);
    const jobs = await s.queue.findJobs('risk-score');
    expect(jobs.some((j) => (j.data as { tenantId: string }).tenantId === r.json().tenant.id)).toBe(true);
  });
});
