import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateBacktest, formatBacktest } from '../../src/risk/evaluate';
import { trainDefaultModel } from '../../src/risk/model-store';
import { compareModels, trainChallenger } from '../../src/risk/retrain';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { InsufficientHistoryError, trainRiskModel } from '../../src/risk/train';
import { CUTOFF, rows, tempDir, trainedModel } from './fixtures';

describe('training', () => {
  it('learns the synthetic customers’ habits (time-ordered validation)', () => {
    const { validation, model, counts } = trainedModel();
    expect(validation).not.toBeNull();
    expect(validation!.auc).toBeGreaterThan(0.75);
    expect(model.classifier.trees.length).toBeGreaterThan(0);
    expect(counts.labelledInvoices).toBeGreaterThan(500);
  });

  it('refuses to train on too little history', () => {
    const tiny = syntheticLedger({ customers: 2, invoicesPerCustomer: 5, seed: 1 });
    expect(() => trainRiskModel(tiny, { cutoff: new Date('2030-01-01') })).toThrow(InsufficientHistoryError);
  });
});

describe('evaluateBacktest', () => {
  it('scores later paid invoices as of their issue day, against the heuristic, with bootstrap CIs', () => {
    const report = evaluateBacktest({
      rows,
      cutoff: CUTOFF,
      bootstrap: 50,
      seed: 2,
      train: { boost: { maxTrees: 60 } },
    });
    const later = rows.filter((r) => r.invoiceDate >= '2023-11-01');
    expect(report.evaluated).toBe(later.filter((r) => r.paidDate !== null).length);
    expect(report.excludedStillOpen).toBe(later.filter((r) => r.paidDate === null).length);
    for (const m of [report.model, report.heuristic]) {
      expect(m.auc.lo).toBeLessThanOrEqual(m.auc.value);
      expect(m.auc.hi).toBeGreaterThanOrEqual(m.auc.value);
      expect(m.calibration.reduce((s, b) => s + b.count, 0)).toBe(report.evaluated);
    }
    expect(report.model.auc.value).toBeGreaterThan(0.75);
    const text = formatBacktest(report);
    expect(text).toMatch(/AUC \(late\)/);
    expect(text).toMatch(/excluded/);
  });
});

describe('retraining', () => {
  it('promotes a challenger only on a big enough recent slice where it beats the heuristic', async () => {
    const now = new Date('2024-03-01T00:00:00Z');
    const challenger = trainChallenger(rows, now, { boost: { maxTrees: 40 } });
    expect(challenger.slice.from < challenger.slice.to).toBe(true);
    const decision = await compareModels({ rows, challenger, current: null });
    expect(decision.metrics).not.toBeNull();
    expect(decision.promote).toBe(
      decision.metrics!.challenger.logLoss.value < decision.metrics!.heuristic.logLoss.value,
    );
    const strict = await compareModels({ rows, challenger, current: null, minInvoices: 100_000 });
    expect(strict.promote).toBe(false);
    expect(strict.reason).toMatch(/too few to test a new model on \(it needs 100000\)/);
  });
});

describe('trainDefaultModel', () => {
  it('writes model.onnx + manifest.json reproducibly from a CSV and a fixed creation date', () => {
    const dir = tempDir();
    const csv = join(dir, 'history.csv');
    const lines = rows.map((r) =>
      [
        r.customerId,
        r.invoiceId,
        r.invoiceDate,
        r.dueDate,
        (r.amountMinor / 100).toFixed(2),
        r.currency,
        r.paidDate ?? '',
        r.delivery ?? '',
        '',
      ].join(','),
    );
    writeFileSync(
      csv,
      `customer_id,invoice_id,invoice_date,due_date,amount,currency,paid_date,delivery,country\n${lines.join('\n')}\n`,
    );
    const now = new Date('2024-06-01T00:00:00Z');
    const a = trainDefaultModel({ historyCsvs: [csv], outDir: join(dir, 'a'), now });
    const b = trainDefaultModel({ historyCsvs: [csv], outDir: join(dir, 'b'), now });
    expect(readFileSync(join(dir, 'a', 'model.onnx'))).toEqual(readFileSync(join(dir, 'b', 'model.onnx')));
    expect(readFileSync(join(dir, 'a', 'manifest.json'), 'utf8')).toBe(
      readFileSync(join(dir, 'b', 'manifest.json'), 'utf8'),
    );
    expect(a.version).toBe(b.version);
    expect(a.createdAt).toBe('2024-06-01T00:00:00.000Z');
    expect(a.training.dataSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.featureNames.length).toBeGreaterThan(20);
    expect(a.thresholds.medium).toBeLessThan(a.thresholds.late);
  });
});
