/**
 * Customer risk is a spread, calibrated score with its own bands: on the demo company no band holds most of the
 * open receivables and the riskiest customers are told apart (not all at 100); on a synthetic ledger whose
 * customers' habits are known, customers banded higher then really paid later, and the score matches the lateness
 * it stands for (E[min(days late, 90)] / 90).
 */
import { describe, expect, it } from 'vitest';
import { predictedForecast } from '../../src/analytics/forecast';
import {
  CUSTOMER_BANDS,
  customerBand,
  customerRisk,
  lateness,
  openDebtRisks,
  openInvoiceRisks,
  SCORE_HORIZON_DAYS,
  withOpenDebt,
} from '../../src/risk/customer-risk';
import { dayNumber, dayOfInstant, isoFromDay, type LedgerInvoice } from '../../src/risk/ledger';
import { ModelRegistry } from '../../src/risk/model-registry';
import { scoreInvoices } from '../../src/risk/score';
import { openAsOf } from '../../src/risk/service';

/** The shipped default model, loaded once for this file (the process's registry, as the root builds it). */
const shipped = new ModelRegistry();
const defaultModel = () => shipped.default();

import { createRng } from '../../src/risk/rng';
import { ledgerAsOf } from '../../src/risk/training-set';
import { demoLedger } from './demo-ledger';

describe('customer bands', () => {
  it('cut-offs are in days late: medium from 5 days on average, high from 30; sensitivity moves them', () => {
    expect(customerBand(0.04)).toBe('low');
    expect(customerBand(0.1)).toBe('medium');
    expect(customerBand(0.34)).toBe('high');
    expect(CUSTOMER_BANDS.high * SCORE_HORIZON_DAYS).toBe(30);
    expect(customerBand(0.3, 1)).toBe('high');
    expect(customerBand(0.34, -1)).toBe('medium');
  });

  it('lateness: always paid 10 days late scores about 10/90; certain never to pay within 90 days scores 1', () => {
    // Due in 0 days, paid 10 days after it for sure (all quantiles at day 10).
    expect(lateness(1, 9.9, 10, 10.1, 0)).toBeCloseTo(10 / 90, 1);
    expect(lateness(0, 9.9, 10, 10.1, 0)).toBe(0);
    expect(lateness(1, 200, 300, 400, 0)).toBeGreaterThan(0.95);
  });
});

describe('risk on the demo company', () => {
  it('spreads scores and bands (no band holds 80 % of open AR, top five not all 100); old debt is not due next week', async () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const { rows, balance } = demoLedger(now);
    const model = await defaultModel();
    const risks = await customerRisk(model, rows, now);
    const open = new Set(openAsOf(rows, now));
    const byCustomer = new Map<string, number>();
    for (const r of rows)
      if (open.has(r.invoiceId))
        byCustomer.set(r.customerId, (byCustomer.get(r.customerId) ?? 0) + (balance.get(r.invoiceId) ?? 0));
    const total = [...byCustomer.values()].reduce((a, b) => a + b, 0);
    const share: Record<string, number> = { low: 0, medium: 0, high: 0 };
    for (const r of risks) share[customerBand(r.score / 100)]! += (byCustomer.get(r.customerId) ?? 0) / total;
    for (const band of ['low', 'medium', 'high']) {
      expect(share[band]).toBeGreaterThan(0.05);
      expect(share[band]).toBeLessThan(0.8);
    }
    const top = risks.map((r) => r.score).sort((a, b) => b - a);
    expect(top[0]).toBeLessThan(100);
    expect(new Set(top.slice(0, 5)).size).toBeGreaterThan(1);
    // Spread over the scale: reliable payers near 0, chronic ones above the high cut.
    expect(top.at(-1)).toBeLessThan(5);
    expect(top.filter((s) => s >= 100 * CUSTOMER_BANDS.high).length).toBeGreaterThan(5);

    // Invoice bands too: no band holds 80 % of open AR.
    const scores = await scoreInvoices(model, rows, [...open], now);
    const inv: Record<string, number> = { low: 0, medium: 0, high: 0 };
    const openTotal = scores.reduce((a, s) => a + (balance.get(s.invoiceId) ?? 0), 0);
    for (const s of scores) inv[s.riskBand]! += (balance.get(s.invoiceId) ?? 0) / openTotal;
    for (const band of ['low', 'medium', 'high']) expect(inv[band]).toBeLessThan(0.8);

    // Debt more than 180 days overdue is not forecast into next week: the 13-week forecast of those invoices alone
    // puts (almost) nothing in week 0, and each carries its collection chances.
    const day = dayOfInstant(now);
    const dueOf = new Map(rows.map((r) => [r.invoiceId, r.dueDate]));
    const old = scores.filter((s) => day - dayNumber(dueOf.get(s.invoiceId)!) > 180);
    expect(old.length).toBeGreaterThan(50);
    const forecast = predictedForecast(
      isoFromDay(day),
      old.map((s) => ({
        id: s.invoiceId,
        dueDate: dueOf.get(s.invoiceId)!,
        balanceMinor: balance.get(s.invoiceId)!,
      })),
      old.map((s) => ({
        invoiceId: s.invoiceId,
        predictedDate: s.predictedPayDate,
        p10Date: s.payDateP10,
        p90Date: s.payDateP90,
        pCollect30: s.pCollect30,
        pCollect90: s.pCollect90,
      })),
    );
    const oldTotal = old.reduce((a, s) => a + balance.get(s.invoiceId)!, 0);
    expect(forecast.weeks[0]!.expectedMinor / oldTotal).toBeLessThan(0.05);
    // No invoice of this company was ever collected once 90 days overdue (the survival history holds hundreds of
    // invoice-quarters of exposure there and no payment): the chances of collection within 90 days are ≈ 0 (0.16 on
    // average while the buckets were shrunk toward the model's mean), and almost nothing is forecast inside the 13
    // weeks, not even at the optimistic edge of the band (its P10 dates; 59 % of the balance before).
    const meanP90 = old.reduce((a, s) => a + s.pCollect90!, 0) / old.length;
    expect(meanP90).toBeLessThan(0.02);
    const in13Weeks = forecast.weeks.reduce((a, w) => a + w.expectedMinor, 0);
    expect(in13Weeks / oldTotal).toBeLessThan(0.02);
    expect(forecast.weeks.at(-1)!.highMinor / oldTotal).toBeLessThan(0.05);
    // What the 13 weeks do not expect is after them, nearly all of it as doubtful debt.
    expect(forecast.laterMinor + in13Weeks).toBe(oldTotal);
    expect(forecast.doubtfulMinor / oldTotal).toBeGreaterThan(0.98);
    for (const s of old) {
      expect(s.pCollect30).not.toBeNull();
      expect(s.pCollect90!).toBeGreaterThanOrEqual(s.pCollect30!);
      expect(s.risk).toBeCloseTo(1 - s.pCollect90!, 9);
    }
  }, 60_000);
});

describe('account risk on the demo company: the habit or the open debt, whichever is worse', () => {
  it('bands open AR apart, leaves no doubtful debt in the low band, and ranks the big doubtful debts high', async () => {
    const now = new Date('2026-12-01T12:00:00Z');
    const day = dayOfInstant(now);
    const { rows, balance } = demoLedger(now);
    const model = await defaultModel();
    const scores = await scoreInvoices(model, rows, openAsOf(rows, now), now);
    const debts = openDebtRisks(openInvoiceRisks(rows, scores, day, balance));
    const risks = withOpenDebt(await customerRisk(model, rows, now), debts);
    const open = new Map<string, number>();
    for (const s of scores) open.set(s.customerId, (open.get(s.customerId) ?? 0) + balance.get(s.invoiceId)!);
    const total = [...open.values()].reduce((a, b) => a + b, 0);
    const share: Record<string, number> = { low: 0, medium: 0, high: 0 };
    for (const r of risks) share[customerBand(r.score / 100)]! += (open.get(r.customerId) ?? 0) / total;
    // Before the open debt counted: low 24 %, medium 50 %, high 27 % of open AR (15 low customers owed debt over 180
    // days overdue, never collected).
    for (const band of ['low', 'medium', 'high']) {
      expect(share[band]).toBeGreaterThan(0.05);
      expect(share[band]).toBeLessThan(0.8);
    }
    for (const r of risks) {
      if (customerBand(r.score / 100) === 'low') expect(r.openDebtReason).toBeNull();
      if (r.openDebtReason) expect(r.openDebtReason).toMatch(/chance of collection within 90 days$/);
    }
    // Every customer owing more than $2,000 of doubtful debt (overdue, at most an even chance of collection within
    // 90 days) is high risk. Not "$2,000 of expected loss": a large account whose recent overdue invoices are each
    // 80–90 % likely to be collected (the demo's 1–60-day debt, as its history says) owes that much in expectation
    // on a low share of its balance, and the score is a share.
    const dueOf = new Map(rows.map((r) => [r.invoiceId, dayNumber(r.dueDate)]));
    const doubtful = new Map<string, number>();
    for (const s of scores) {
      if (dueOf.get(s.invoiceId)! >= day || s.pCollect90 === null || s.pCollect90 > 0.5) continue;
      doubtful.set(s.customerId, (doubtful.get(s.customerId) ?? 0) + balance.get(s.invoiceId)!);
    }
    expect(doubtful.size).toBeGreaterThan(10);
    for (const r of risks) {
      if ((doubtful.get(r.customerId) ?? 0) > 200_000)
        expect(customerBand(r.score / 100), r.customerId).toBe('high');
    }
  }, 60_000);

  it('the open-debt score is calibrated: 90 days later, the share of the open balance still unpaid matches it', async () => {
    // As of 90 days before the demo's today, on what was known then; then what was still unpaid 90 days on.
    const now = new Date('2026-12-01T12:00:00Z');
    const { rows } = demoLedger(now);
    const day = dayOfInstant(now) - 90;
    const asOf = new Date(day * 86_400_000);
    const known = ledgerAsOf(rows, day);
    const scores = await scoreInvoices(await defaultModel(), known, openAsOf(known, asOf), asOf);
    const debts = openDebtRisks(openInvoiceRisks(known, scores, day));
    const paid = new Map(rows.map((r) => [r.invoiceId, r.paidDate]));
    const amount = new Map(rows.map((r) => [r.invoiceId, r.amountMinor]));
    const byBand: Record<string, { predicted: number; unpaid: number; open: number }> = {};
    let predicted = 0;
    let unpaid = 0;
    let open = 0;
    const perCustomer = new Map<string, { unpaid: number; open: number }>();
    for (const s of scores) {
      const p = paid.get(s.invoiceId);
      const still = p === null || p === undefined || dayNumber(p) >= day + 90 ? 1 : 0;
      const c = perCustomer.get(s.customerId) ?? { unpaid: 0, open: 0 };
      c.unpaid += still * amount.get(s.invoiceId)!;
      c.open += amount.get(s.invoiceId)!;
      perCustomer.set(s.customerId, c);
    }
    for (const [id, c] of perCustomer) {
      const d = debts.get(id)!;
      const band = customerBand(d.score / 100);
      const b = byBand[band] ?? { predicted: 0, unpaid: 0, open: 0 };
      // The score is rounded to whole points: the share it stands for, times the customer's open balance.
      b.predicted += (d.score / 100) * c.open;
      b.unpaid += c.unpaid;
      b.open += c.open;
      byBand[band] = b;
      predicted += (d.score / 100) * c.open;
      unpaid += c.unpaid;
      open += c.open;
    }
    // Measured: 29 % predicted, 30 % still unpaid; by band low 0.6 % / 4.2 %, medium 21 % / 23 %, high 48 % / 49 %
    // (26 % / 31 % while the 31–90-day debt was predicted 82 % collected within 90 days; 65 % was).
    expect(Math.abs(predicted / open - unpaid / open)).toBeLessThan(0.06);
    const realised = (band: string) => byBand[band]!.unpaid / byBand[band]!.open;
    expect(realised('low')).toBeLessThan(realised('medium'));
    expect(realised('medium')).toBeLessThan(realised('high'));
    for (const band of ['low', 'medium', 'high'])
      expect(Math.abs(byBand[band]!.predicted / byBand[band]!.open - realised(band))).toBeLessThan(0.08);
  }, 60_000);
});

describe('13-week forecast of the demo company, against what was then collected', () => {
  it('overdue debt: the weekly expected collections follow the actual ones (front-loaded, not spread evenly)', async () => {
    // Four quarterly backtests: as of each day, on what was known then, the forecast of the debt already overdue,
    // week by week, against what of it was actually collected in each of the 13 weeks.
    const now = new Date('2026-12-01T12:00:00Z');
    const { rows } = demoLedger(now);
    const model = await defaultModel();
    const byId = new Map(rows.map((r) => [r.invoiceId, r]));
    let error = 0;
    let collected = 0;
    for (const back of [91, 182, 273, 364]) {
      const day = dayOfInstant(now) - back;
      const asOf = new Date(day * 86_400_000 + 43_200_000);
      const known = ledgerAsOf(rows, day);
      const overdue = (await scoreInvoices(model, known, openAsOf(known, asOf), asOf)).filter(
        (s) => dayNumber(byId.get(s.invoiceId)!.dueDate) < day,
      );
      const f = predictedForecast(
        isoFromDay(day),
        overdue.map((s) => ({
          id: s.invoiceId,
          dueDate: byId.get(s.invoiceId)!.dueDate,
          balanceMinor: byId.get(s.invoiceId)!.amountMinor,
        })),
        overdue.map((s) => ({
          invoiceId: s.invoiceId,
          predictedDate: s.predictedPayDate,
          pCollect30: s.pCollect30,
          pCollect90: s.pCollect90,
        })),
      );
      const actual = new Array<number>(13).fill(0);
      for (const s of overdue) {
        const paid = byId.get(s.invoiceId)!.paidDate;
        const week = paid === null ? -1 : Math.floor((dayNumber(paid) - day) / 7);
        if (week >= 0 && week < 13) actual[week]! += byId.get(s.invoiceId)!.amountMinor;
      }
      f.weeks.forEach((w, i) => {
        error += Math.abs(w.expectedMinor - actual[i]!);
      });
      collected += actual.reduce((a, b) => a + b, 0);
    }
    // Measured: the weekly misses add up to 32 % of what was collected (44 % with the collection chances spread
    // evenly over the first 30 days and over the next 60).
    expect(error / collected).toBeLessThan(0.36);
  }, 60_000);
});

/**
 * 150 customers over two and a half years, a third each: on time (-5 to +2 days), a week or two late (5 to 15),
 * a month or more late (25 to 80, and 1 invoice in 10 never paid); payments after 2022-06-01 not yet known.
 */
function habitLedger(): LedgerInvoice[] {
  const rng = createRng(7);
  const between = (a: number, b: number) => a + Math.floor(rng() * (b - a + 1));
  const start = dayNumber('2020-01-01');
  const snapshot = dayNumber('2022-06-01');
  const out: LedgerInvoice[] = [];
  for (let c = 0; c < 150; c++) {
    const habit = c % 3;
    const terms = [15, 30, 30, 45][c % 4]!;
    for (let k = 0; k < 30; k++) {
      const issue = start + between(0, 870);
      const due = issue + terms;
      const late =
        habit === 0 ? between(-5, 2) : habit === 1 ? between(5, 15) : rng() < 0.1 ? null : between(25, 80);
      const paid = late === null ? null : Math.max(issue + 1, due + late);
      out.push({
        customerId: `C${c}`,
        invoiceId: `I${c}-${k}`,
        invoiceDate: isoFromDay(issue),
        dueDate: isoFromDay(due),
        currency: 'USD',
        amountMinor: between(500, 5000) * 100,
        paidDate: paid !== null && paid < snapshot ? isoFromDay(paid) : null,
        delivery: 'email',
        country: null,
      });
    }
  }
  return out;
}

describe('customer risk on a synthetic ledger with known habits', () => {
  it('realised lateness of later invoices rises band by band, and the score matches it', async () => {
    const all = habitLedger();
    const asOf = new Date('2021-07-01T00:00:00Z');
    const day = dayOfInstant(asOf);
    const known = ledgerAsOf(all, day);
    const risks = await customerRisk(await defaultModel(), known, asOf);
    // What each customer did next: invoices issued after the as-of day whose 90 days have passed by the snapshot.
    const end = dayNumber('2022-06-01');
    const realised = new Map<string, number[]>();
    for (const r of all) {
      const due = dayNumber(r.dueDate);
      if (dayNumber(r.invoiceDate) < day || due + SCORE_HORIZON_DAYS > end) continue;
      const late = r.paidDate === null ? SCORE_HORIZON_DAYS : dayNumber(r.paidDate) - due;
      const list = realised.get(r.customerId) ?? [];
      list.push(Math.min(SCORE_HORIZON_DAYS, Math.max(0, late)) / SCORE_HORIZON_DAYS);
      realised.set(r.customerId, list);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const byBand: Record<string, number[]> = { low: [], medium: [], high: [] };
    const predicted: number[] = [];
    const actual: number[] = [];
    for (const r of risks) {
      const outcomes = realised.get(r.customerId);
      if (!outcomes?.length) continue;
      byBand[customerBand(r.score / 100)]!.push(...outcomes);
      predicted.push(r.score / 100);
      actual.push(mean(outcomes));
    }
    const [low, medium, high] = (['low', 'medium', 'high'] as const).map((b) => {
      expect(byBand[b]!.length).toBeGreaterThan(30);
      return mean(byBand[b]!);
    });
    expect(low).toBeLessThan(medium!);
    expect(medium).toBeLessThan(high!);
    // Calibrated on average, and ranking customers like what they did.
    expect(Math.abs(mean(predicted) - mean(actual))).toBeLessThan(0.05);
    const rank = (xs: number[]) => {
      const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
      const r = new Array<number>(xs.length);
      order.forEach(([, i], k) => {
        r[i] = k;
      });
      return r;
    };
    const [rp, ra] = [rank(predicted), rank(actual)];
    const mp = mean(rp);
    const ma = mean(ra);
    let num = 0;
    let dp = 0;
    let da = 0;
    rp.forEach((v, i) => {
      num += (v - mp) * (ra[i]! - ma);
      dp += (v - mp) ** 2;
      da += (ra[i]! - ma) ** 2;
    });
    expect(num / Math.sqrt(dp * da)).toBeGreaterThan(0.6);
  }, 60_000);
});
