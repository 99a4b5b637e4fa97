import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateCommand } from '../../src/risk/cli-commands';
import { dayNumber } from '../../src/risk/ledger';
import { ledgerSnapshotDay } from '../../src/risk/model-store';
import { formatReplay, replayWindow, weeklyReplay } from '../../src/risk/replay';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { ledgerCsv } from '../risk-app/helpers';
import { tempDir } from './fixtures';

// Several payment terms (14/30/60 days) and customer habits: the shape of a real export.
const rows = syntheticLedger({
  customers: 40,
  invoicesPerCustomer: 30,
  seed: 7,
  start: '2023-01-01',
  days: 420,
});

describe('weekly replay', () => {
  it('scores each week’s invoices with a model trained on what was known when the week began, against the heuristic', async () => {
    const from = new Date('2023-09-04T00:00:00Z');
    const r = await weeklyReplay({
      rows,
      from,
      retrainEveryWeeks: 8,
      bootstrap: 50,
      train: { boost: { maxTrees: 30 } },
    });
    const snapshot = ledgerSnapshotDay(rows);
    const scored = rows.filter(
      (r) => r.paidDate !== null && r.invoiceDate >= '2023-09-04' && dayNumber(r.invoiceDate) < snapshot,
    );
    expect(r.evaluated).toBe(scored.length);
    expect(r.weeks).toBe(Math.ceil((snapshot - dayNumber('2023-09-04')) / 7));
    expect(r.retrains).toBe(Math.ceil(r.weeks / 8));
    expect(r.fallbackWeeks).toBe(0);
    // The model reads terms and habits; the customer's median days-to-pay cannot, across term lengths.
    expect(r.model.payDateMae.value).toBeLessThan(r.heuristic.payDateMae.value);
    expect(r.model.auc.value).toBeGreaterThan(0.7);
    expect(r.model.auc.lo).toBeLessThanOrEqual(r.model.auc.value);
    expect(r.model.auc.hi).toBeGreaterThanOrEqual(r.model.auc.value);
    const text = formatReplay(r);
    for (const label of [
      'AUC (late)',
      'Brier',
      'Pay-date MAE (days)',
      'Paid within ±3 days',
      'P10–P90 coverage',
    ])
      expect(text).toContain(label);
  });

  it('falls back to the heuristic in weeks with too little history to train', async () => {
    const r = await weeklyReplay({
      rows,
      from: new Date('2023-01-08T00:00:00Z'),
      to: new Date('2023-03-05T00:00:00Z'),
      retrainEveryWeeks: 8,
      bootstrap: 0,
      train: { boost: { maxTrees: 20 } },
    });
    expect(r.weeks).toBe(8);
    expect(r.to).toBe('2023-03-05');
    expect(r.fallbackWeeks).toBeGreaterThan(0);
  });

  it('`duely model evaluate` replays any canonical CSV', async () => {
    const file = join(tempDir(), 'ledger.csv');
    writeFileSync(file, ledgerCsv(rows));
    const out = await evaluateCommand({
      history: file,
      from: new Date('2023-12-01T00:00:00Z'),
      everyWeeks: 8,
      json: true,
      bootstrap: 20,
    });
    const parsed = JSON.parse(out);
    expect(parsed.from).toBe('2023-12-01');
    expect(parsed.model.payDateMae.value).toBeGreaterThan(0);
    expect(parsed.heuristic.auc.value).toBeGreaterThan(0.5);
  });

  it('`--window selection` replays the weeks between the 20 % and 40 % points, where choices are made', async () => {
    const file = join(tempDir(), 'ledger.csv');
    writeFileSync(file, ledgerCsv(rows));
    const sorted = rows.map((r) => r.invoiceDate).sort();
    const { from, to } = replayWindow(rows, 'selection');
    // The points lie a fifth and two fifths of the way through the ledger's issue dates.
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const near = (q: number, d: string) => {
      const pos = q * (sorted.length - 1);
      expect(d >= sorted[Math.floor(pos)]! && d <= sorted[Math.ceil(pos)]!).toBe(true);
    };
    near(0.2, day(from));
    near(0.4, day(to!));
    expect(day(from) < day(to!)).toBe(true);
    expect(day(replayWindow(rows, 'test').from)).toBe(day(to!));
    const out = await evaluateCommand({
      history: file,
      window: 'selection',
      everyWeeks: 8,
      json: true,
      bootstrap: 0,
    });
    const parsed = JSON.parse(out);
    expect(parsed.from).toBe(day(from));
    expect(parsed.to).toBe(day(to!));
    // The test weeks (the default) start where the selection weeks end.
    const test = JSON.parse(
      await evaluateCommand({ history: file, everyWeeks: 8, json: true, bootstrap: 0 }),
    );
    expect(test.from).toBe(day(to!));
  });
});

describe('weekly replay with a fixed model', () => {
  it('scores every week with the given model, never retraining (the shipped default on a ledger it never saw)', async () => {
    const { trainedModel, CUTOFF } = await import('./fixtures');
    const { writeModel, loadModel } = await import('../../src/risk/model-store');
    const dir = tempDir();
    writeModel(dir, trainedModel(), { dataSha256: 't', rows: 1, cutoff: CUTOFF, createdAt: CUTOFF });
    const model = await loadModel(dir);
    const r = await weeklyReplay({ rows, from: new Date('2024-01-01T00:00:00Z'), bootstrap: 0, model });
    expect(r.retrains).toBe(0);
    expect(r.fixedModel).toBe(model.manifest.version);
    expect(r.evaluated).toBeGreaterThan(50);
    expect(formatReplay(r)).toContain('not retrained');
  });
});

describe('duely model evaluate --history with a broken file', () => {
  it('counts every problem, not only those listed', async () => {
    const lines = ['customer_id,invoice_id,invoice_date,due_date,amount,currency,paid_date'];
    for (let i = 0; i < 300; i++) lines.push(`C1,I${i},2023-01-01,2023-01-31,ten,USD,`);
    const file = join(tempDir(), 'broken.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    await expect(evaluateCommand({ history: file, json: true })).rejects.toThrow(
      `${file}: 300 errors; first: line 2, column amount: "ten" is not a decimal amount in USD`,
    );
  });
});
