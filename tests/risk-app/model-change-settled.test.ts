/**
 * A switch of models explains how the bands moved (tenants.model_change): "before" is what the previous model said of
 * the invoices still open, as the Dashboard's high-risk count showed them, not of invoices paid since its last run
 * (their predictions are dropped only by the run that switches): a high-risk invoice paid between the two runs was
 * counted in "before" and not in "after", a move blamed on the model that no model made.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { invoicePredictions, invoices, modelVersions, tenants } from '../../src/db/schema';
import { DEFAULT_MODEL_DIR } from '../../src/risk/model-registry';
import { MODEL_FILE } from '../../src/risk/model-store';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { suiteTestApp } from '../helpers/app';
import { ledgerCsv, synthetic } from './helpers';

const NOW = '2013-06-01T12:00:00Z';
let s: Services;
let tenantId: string;

const testApp = suiteTestApp({ clock: fixedClock(NOW), token: 'operator' });
beforeAll(async () => {
  ({ services: s } = testApp);
  const r = await importHistoryCsv(s.db, ledgerCsv(synthetic(20, 20, NOW)), {
    tenantName: 'Settling',
    now: s.clock.now(),
  });
  tenantId = r.tenant.id;
}, 120_000);

async function openBands() {
  const rows = await s.db
    .select({ band: invoicePredictions.riskBand, n: sql<number>`count(*)::int` })
    .from(invoicePredictions)
    .innerJoin(invoices, eq(invoices.id, invoicePredictions.invoiceId))
    .where(and(eq(invoicePredictions.tenantId, tenantId), eq(invoices.status, 'open')))
    .groupBy(invoicePredictions.riskBand);
  const b = { low: 0, medium: 0, high: 0 };
  for (const r of rows) b[r.band as keyof typeof b] = Number(r.n);
  return b;
}

describe('a switch of models after invoices were paid', () => {
  it('"before" counts the invoices still open under the previous model, not the ones paid since', async () => {
    await scoreTenant(s, tenantId);
    // A high-risk invoice is paid before the next run (a sync, an import).
    const [paid] = await s.db
      .select({ id: invoicePredictions.invoiceId })
      .from(invoicePredictions)
      .where(and(eq(invoicePredictions.tenantId, tenantId), eq(invoicePredictions.riskBand, 'high')))
      .orderBy(invoicePredictions.invoiceId)
      .limit(1);
    expect(paid).toBeDefined();
    await s.db
      .update(invoices)
      .set({ status: 'paid', balanceMinor: 0, paidDate: '2013-05-31' })
      .where(eq(invoices.id, paid!.id));
    // What the Dashboard shows just before the switch.
    const shown = await openBands();

    const shipped = await s.models.default();
    const version = 'payment-delay-tenant-settled';
    await s.db.insert(modelVersions).values({
      tenantId,
      version,
      status: 'active',
      manifest: { ...shipped.manifest, version } as unknown as Record<string, unknown>,
      onnx: readFileSync(path.join(DEFAULT_MODEL_DIR, MODEL_FILE)),
      comparison: {},
      reason: 'test',
      promotedAt: s.clock.now(),
    });
    await scoreTenant(s, tenantId);
    const [row] = await s.db.select({ c: tenants.modelChange }).from(tenants).where(eq(tenants.id, tenantId));
    const change = row!.c!;
    expect(change).toMatchObject({ from: shipped.manifest.version, to: version });
    expect(change.before).toEqual(shown);
    // The same invoices on both sides (the paid one counts on neither; its payment may move its customer's others).
    const sum = (b: { low: number; medium: number; high: number }) => b.low + b.medium + b.high;
    expect(sum(change.after)).toBe(sum(change.before));
  }, 120_000);
});

describe('two scoring runs racing over a switch of models', () => {
  it('both end, and the switch is recorded once: from the previous model, with its bands, to the new one', async () => {
    const r = await importHistoryCsv(s.db, ledgerCsv(synthetic(20, 20, NOW)), {
      tenantName: 'Racing',
      now: s.clock.now(),
    });
    const racing = r.tenant.id;
    await scoreTenant(s, racing);
    const shipped = await s.models.default();
    const before = await s.db
      .select({ band: invoicePredictions.riskBand, n: sql<number>`count(*)::int` })
      .from(invoicePredictions)
      .where(eq(invoicePredictions.tenantId, racing))
      .groupBy(invoicePredictions.riskBand);
    const version = 'payment-delay-tenant-racing';
    await s.db.insert(modelVersions).values({
      tenantId: racing,
      version,
      status: 'active',
      manifest: {
        ...shipped.manifest,
        version,
        thresholds: {
          ...shipped.manifest.thresholds,
          late: Math.min(0.99, shipped.manifest.thresholds.late * 1.5),
        },
      } as unknown as Record<string, unknown>,
      onnx: readFileSync(path.join(DEFAULT_MODEL_DIR, MODEL_FILE)),
      comparison: {},
      reason: 'test',
      promotedAt: s.clock.now(),
    });
    // Two runs at once (a worker and `duely` by hand; on Postgres their transactions interleave).
    await Promise.all([scoreTenant(s, racing), scoreTenant(s, racing)]);
    const [row] = await s.db.select({ c: tenants.modelChange }).from(tenants).where(eq(tenants.id, racing));
    const change = row!.c!;
    expect(change).toMatchObject({ from: shipped.manifest.version, to: version });
    const b = { low: 0, medium: 0, high: 0 };
    for (const x of before) b[x.band as keyof typeof b] = Number(x.n);
    expect(change.before).toEqual(b);
    const versions = await s.db
      .selectDistinct({ v: invoicePredictions.modelVersion })
      .from(invoicePredictions)
      .where(eq(invoicePredictions.tenantId, racing));
    expect(versions).toEqual([{ v: version }]);
  }, 120_000);
});
