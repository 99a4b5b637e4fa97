/**
 * `duely model retrain --tenant NAME`: trains on the tenant's own history, compares on its most recent slice with
 * the current model and the heuristic, prints the comparison, promotes only a better model; `duely predictions`
 * then uses the promoted model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { modelVersions } from '../../src/db/schema';
import { formatRetrain, predictionRows } from '../../src/risk/cli-commands';
import { buildLedgerIndex } from '../../src/risk/features';
import { heuristicPredict } from '../../src/risk/heuristic';
import { dayNumber } from '../../src/risk/ledger';
import { MODEL_FILE, writeModel } from '../../src/risk/model-store';
import { ruleClearlyBetter } from '../../src/risk/retrain';
import { scoreInvoices } from '../../src/risk/score';
import { activeModel, loadLedger, openAsOf, retrainTenant } from '../../src/risk/service';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { trainRiskModel } from '../../src/risk/train';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { createTestServices } from '../helpers/services';
import { ledgerCsv } from './helpers';

const NOW = '2014-03-01';
let s: Services;
let tenantId: string;

beforeAll(async () => {
  s = await createTestServices({ clock: fixedClock(NOW), queue: false });
  // Stable per-customer habits: here the customer-history heuristic is hard to beat, so no challenger may replace
  // the shipped model unless it beats the heuristic on the recent slice.
  const rows = syntheticLedger({
    customers: 40,
    invoicesPerCustomer: 25,
    seed: 23,
    start: '2012-12-01',
    days: 420,
    snapshot: NOW,
  });
  const r = await importHistoryCsv(s.db, ledgerCsv(rows), { tenantName: 'Habits Inc', now: s.clock.now() });
  tenantId = r.tenant.id;
});
afterAll(async () => {
  await s?.close();
});

describe('model retrain for a tenant', () => {
  it('prints challenger vs current vs heuristic, promotes only a winner, and switches the tenant to the rule of thumb when no model beats it', async () => {
    const first = await retrainTenant(s, tenantId);
    expect(first.trained).toBe(true);
    const text = formatRetrain('habits-inc', first);
    expect(text).toMatch(/^Tenant habits-inc: trained payment-delay-/);
    expect(text).toMatch(/challenger\s+current\s+heuristic/);
    expect(text).toMatch(/Pay-date MAE \(days\)/);
    const m = first.comparison!.metrics!;
    // On this ledger the challenger does not beat the heuristic on both log-loss and pay-date MAE on the slice: it
    // is kept as rejected.
    expect(
      m.challenger.logLoss.value >= m.heuristic.logLoss.value ||
        m.challenger.payDateMae.value > m.heuristic.payDateMae.value,
    ).toBe(true);
    expect(first.promoted).toBe(false);
    expect(text).toContain('not promoted');
    expect(first.reason).toMatch(/heuristic/);
    // The current model (the shipped default) is kept unless the rule clearly beats it on the slice.
    const loses = (x: NonNullable<typeof m.current>) => ruleClearlyBetter(x, m.heuristic);
    expect(first.scoring === 'heuristic').toBe(loses(m.current!));
    if (first.scoring !== 'heuristic') {
      expect((await activeModel(s, tenantId)).manifest.version).toBe(
        (await s.models.default()).manifest.version,
      );
      // A weak current model (trained on 100 invoices of another ledger) now stands in for the default.
      const weak = trainRiskModel(
        syntheticLedger({ customers: 20, invoicesPerCustomer: 5, seed: 5, start: '2011-01-01', days: 150 }),
        { cutoff: new Date('2011-09-01'), seed: 1, boost: { maxTrees: 10 } },
      );
      const dir = mkdtempSync(path.join(tmpdir(), 'duely-weak-'));
      const manifest = writeModel(dir, weak, {
        dataSha256: 'weak',
        rows: 100,
        cutoff: new Date('2011-09-01'),
        createdAt: new Date('2011-09-01'),
      });
      await s.db.insert(modelVersions).values({
        tenantId,
        version: 'weak-current',
        status: 'active',
        manifest: manifest as unknown as Record<string, unknown>,
        onnx: readFileSync(path.join(dir, MODEL_FILE)),
        comparison: {},
        reason: 'test: a weak current model',
        promotedAt: new Date('2014-01-01'),
      });
      rmSync(dir, { recursive: true, force: true });
      const again = await retrainTenant(s, tenantId);
      expect(again.promoted).toBe(false);
      expect(loses(again.comparison!.metrics!.current!)).toBe(true);
      expect(again.scoring).toBe('heuristic');
    }
    const active = await activeModel(s, tenantId);
    expect(active.manifest.scoring).toBe('heuristic');
    expect(active.manifest.version).toMatch(/^heuristic-2014-03-01-/);
    const rows = await s.db.select().from(modelVersions).where(eq(modelVersions.tenantId, tenantId));
    expect(rows.find((v) => v.version === active.manifest.version)!.reason).toMatch(
      /switches to the customer-history rule of thumb/,
    );
    const predictions = await predictionRows(s, tenantId, {});
    expect(predictions.length).toBeGreaterThan(0);
    expect(new Set(predictions.map((p) => p.model_version))).toEqual(new Set([active.manifest.version]));
    // Scoring uses the rule: P(late) of an invoice not yet due is the customer's smoothed late rate, its date the
    // customer's median days to pay.
    const ledger = await loadLedger(s.db, tenantId);
    const now = s.clock.now();
    const scores = await scoreInvoices(active, ledger, openAsOf(ledger, now), now);
    const notDue = scores.filter((x) => ledger.find((r) => r.invoiceId === x.invoiceId)!.dueDate >= NOW);
    expect(notDue.length).toBeGreaterThan(0);
    const index = buildLedgerIndex(ledger);
    const queries = notDue.map((x) => {
      const invoice = ledger.find((r) => r.invoiceId === x.invoiceId)!;
      return { invoice, day: Math.max(dayNumber(NOW), dayNumber(invoice.invoiceDate)) };
    });
    const rule = heuristicPredict(index, queries, active.manifest.priors);
    notDue.forEach((x, i) => {
      expect(x.pLate).toBeCloseTo(rule.pLate[i]!, 9);
      expect(dayNumber(x.predictedPayDate)).toBe(queries[i]!.day + Math.round(rule.remaining[i * 3 + 1]!));
    });

    // The same history again: the challenger still loses, and scoring stays on the rule (one active row).
    const second = await retrainTenant(s, tenantId);
    expect(second.promoted).toBe(false);
    expect(second.reason).toMatch(/stays on the customer-history rule of thumb/);
    const versions = await s.db.select().from(modelVersions).where(eq(modelVersions.tenantId, tenantId));
    const activeRows = versions.filter((v) => v.status === 'active');
    expect(activeRows.map((v) => v.version)).toEqual([active.manifest.version]);
  });
});
