import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { customerRisk, survivalFromQuantiles } from '../../src/risk/customer-risk';
import { dayNumber, isoFromDay, type LedgerInvoice } from '../../src/risk/ledger';
import { loadModel, writeModel } from '../../src/risk/model-store';
import { riskBand, scoreInvoices } from '../../src/risk/score';
import { CUTOFF, rows, tempDir, trainedModel } from './fixtures';

async function shippedLikeModel() {
  const dir = tempDir();
  writeModel(dir, trainedModel(), {
    dataSha256: 'test',
    rows: rows.length,
    cutoff: CUTOFF,
    createdAt: new Date('2024-01-01'),
  });
  return { dir, model: await loadModel(dir) };
}

const invoice = (
  customerId: string,
  id: string,
  issue: number,
  paid: number | null,
  amountMinor = 10_000,
): LedgerInvoice => ({
  customerId,
  invoiceId: id,
  invoiceDate: isoFromDay(issue),
  dueDate: isoFromDay(issue + 30),
  currency: 'USD',
  amountMinor,
  paidDate: paid === null ? null : isoFromDay(paid),
  delivery: 'email',
  country: null,
});

describe('scoreInvoices', () => {
  it('scores open invoices with dates, bands, version and reasons, conditioned on being unpaid at t', async () => {
    const { model } = await shippedLikeModel();
    const asOf = new Date('2023-12-15T00:00:00Z');
    const asOfDay = dayNumber('2023-12-15');
    const open = rows.filter(
      (r) => r.invoiceDate < '2023-12-15' && (r.paidDate === null || r.paidDate >= '2023-12-15'),
    );
    const scores = await scoreInvoices(
      model,
      rows,
      [...open.map((r) => r.invoiceId), 'no-such-invoice'],
      asOf,
    );
    expect(scores).toHaveLength(open.length);
    for (const s of scores) {
      const inv = open.find((r) => r.invoiceId === s.invoiceId)!;
      expect(s.customerId).toBe(inv.customerId);
      expect(s.pLate).toBeGreaterThanOrEqual(0);
      expect(s.pLate).toBeLessThanOrEqual(1);
      expect(dayNumber(s.payDateP10)).toBeGreaterThanOrEqual(asOfDay);
      expect(s.payDateP10 <= s.predictedPayDate && s.predictedPayDate <= s.payDateP90).toBe(true);
      expect(s.expectedDaysLate).toBe(Math.max(0, dayNumber(s.predictedPayDate) - dayNumber(inv.dueDate)));
      if (inv.dueDate < '2023-12-15') {
        expect(s.pLate).toBe(1);
        expect(s.reasons[0]).toMatch(/past due/);
      }
      expect(s.reasons.length).toBeGreaterThan(0);
      expect(s.reasons.length).toBeLessThanOrEqual(3);
      expect(s.modelVersion).toBe(model.manifest.version);
    }
    // Re-scoring later: still unpaid, so the predicted payment moves to or after the new as-of day.
    const later = await scoreInvoices(
      model,
      rows,
      open.map((r) => r.invoiceId),
      new Date('2024-01-20T00:00:00Z'),
    );
    for (const s of later) expect(s.payDateP10 >= '2024-01-20').toBe(true);
  });

  it('explains a first invoice as a new customer', async () => {
    const { model } = await shippedLikeModel();
    const day = dayNumber('2023-12-01');
    const history = [...rows, invoice('NEWCO', 'new-1', day, null)];
    const [s] = await scoreInvoices(model, history, ['new-1'], new Date('2023-12-01T00:00:00Z'));
    expect(s!.reasons).toContain('new customer: no payment history yet');
  });

  it('keeps pay dates on the calendar when an export says "no due date" with 9999-12-31', async () => {
    const { model } = await shippedLikeModel();
    const day = dayNumber('2023-12-01');
    const forever = { ...invoice('C1', 'forever', day, null), dueDate: '9999-12-31' };
    const [s] = await scoreInvoices(model, [...rows, forever], ['forever'], new Date('2023-12-01T00:00:00Z'));
    for (const d of [s!.predictedPayDate, s!.payDateP10, s!.payDateP90]) {
      expect(d).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(d <= '9999-12-31').toBe(true);
    }
  });

  it('bands follow the thresholds and the sensitivity shifts them', () => {
    const t = { late: 0.4, medium: 0.2 };
    expect(riskBand(0.5, t)).toBe('high');
    expect(riskBand(0.3, t)).toBe('medium');
    expect(riskBand(0.1, t)).toBe('low');
    expect(riskBand(0.3, t, 1)).toBe('high');
    expect(riskBand(0.5, t, -1)).toBe('medium');
  });

  it('refuses a model whose bytes do not match the manifest', async () => {
    const { dir } = await shippedLikeModel();
    writeFileSync(join(dir, 'model.onnx'), Buffer.from('not a model'));
    await expect(loadModel(dir)).rejects.toThrow(/does not match/);
  });
});

describe('customerRisk', () => {
  it('scores customers 0–100 with point-in-time trends and flags a reliable payer who is slowing down', async () => {
    const { model } = await shippedLikeModel();
    const asOf = dayNumber('2023-12-15');
    const slow: LedgerInvoice[] = [];
    // On time for a year (paid 25 days after issue, 5 early), then the last three paid 12–20 days late.
    for (let k = 0; k < 10; k++)
      slow.push(invoice('SLOWING', `s${k}`, asOf - 400 + k * 30, asOf - 400 + k * 30 + 25));
    [12, 16, 20].forEach((late, k) => {
      slow.push(invoice('SLOWING', `s-late${k}`, asOf - 110 + k * 20, asOf - 110 + k * 20 + 30 + late));
    });
    const result = await customerRisk(model, [...rows, ...slow], new Date('2023-12-15T00:00:00Z'));
    expect(result.length).toBe(41);
    for (const c of result) {
      expect(c.score).toBeGreaterThanOrEqual(0);
      expect(c.score).toBeLessThanOrEqual(100);
    }
    const s = result.find((c) => c.customerId === 'SLOWING')!;
    expect(s.slowingAlert).toBe(true);
    expect(s.message).toMatch(/a typically reliable customer showing signs of payment delays/);
    expect(s.trend90).not.toBeNull();
  });

  it('reflects how late, not only whether: a customer months late outranks one a few days late', async () => {
    const { model } = await shippedLikeModel();
    const asOf = dayNumber('2023-12-15');
    const history: LedgerInvoice[] = [];
    // Both pay every invoice late; A by 3 days, B by 75 days (terms are 30 days).
    for (let k = 0; k < 12; k++) {
      const issue = asOf - 420 + k * 30;
      history.push(invoice('A-FEW-DAYS', `a${k}`, issue, issue + 33));
      history.push(invoice('B-MONTHS', `b${k}`, issue, issue + 105));
    }
    const result = await customerRisk(model, [...rows, ...history], new Date('2023-12-15T00:00:00Z'), [
      'A-FEW-DAYS',
      'B-MONTHS',
    ]);
    const a = result.find((c) => c.customerId === 'A-FEW-DAYS')!;
    const b = result.find((c) => c.customerId === 'B-MONTHS')!;
    expect(b.expectedDaysLate).toBeGreaterThan(30);
    expect(a.expectedDaysLate).toBeLessThan(15);
    expect(b.pSevere).toBeGreaterThan(a.pSevere + 0.3);
    expect(b.score).toBeGreaterThan(a.score + 40);
    expect(a.score).toBeLessThan(15);
    for (const c of [a, b]) {
      expect(c.pSevere).toBeLessThanOrEqual(c.pLate);
      // 100 × E[min(days late, 90)] / 90: never above P(late), at least a third of P(more than 30 days late).
      expect(c.score).toBeLessThanOrEqual(100 * c.pLate + 0.5);
      expect(c.score).toBeGreaterThanOrEqual((100 * c.pSevere) / 3 - 0.5);
    }
  });
});

describe('survivalFromQuantiles', () => {
  it('passes through the quantiles and decays past P90', () => {
    expect(survivalFromQuantiles(10, 20, 40, 0)).toBe(1);
    expect(survivalFromQuantiles(10, 20, 40, 10)).toBeCloseTo(0.9);
    expect(survivalFromQuantiles(10, 20, 40, 20)).toBeCloseTo(0.5);
    expect(survivalFromQuantiles(10, 20, 40, 40)).toBeCloseTo(0.1);
    expect(survivalFromQuantiles(10, 20, 40, 60)).toBeCloseTo(0.02);
    expect(survivalFromQuantiles(0, 0, 0, 5)).toBeLessThan(0.01);
  });
});
