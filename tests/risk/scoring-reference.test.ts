/**
 * The optimized scoring path (counting-sorted ledger index, no id → row map, batch reasons, one index shared with
 * the customer scores) gives exactly what the per-invoice path before it gave (scoring-reference.ts): every score,
 * date, interval, band, reason and customer figure, compared with toEqual (numbers by Object.is, so bit for bit).
 */
import { describe, expect, it } from 'vitest';
import { customerRisk } from '../../src/risk/customer-risk';
import { buildLedgerIndex, FEATURE_COUNT, featureMatrix, writeFeatures } from '../../src/risk/features';
import { dayNumber, instantFromDay, isoFromDay, type LedgerInvoice } from '../../src/risk/ledger';
import { type LoadedModel, loadModel, writeModel } from '../../src/risk/model-store';
import { createRng } from '../../src/risk/rng';
import { scoreInvoices } from '../../src/risk/score';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { CUTOFF, rows, tempDir, trainedModel } from './fixtures';
import { referenceCustomerRisk, referenceLedgerIndex, referenceScoreInvoices } from './scoring-reference';

const AS_OF = '2024-03-01';
const asOfDay = dayNumber(AS_OF);

/**
 * 80 customers (a fifth with bad debt, so old overdue invoices and the overdue calibration), rows shuffled so
 * customers interleave, plus same-day ties, a one-invoice customer, an invoice paid before the as-of day that the
 * caller still lists as open, and one issued after it.
 */
function ledger(): LedgerInvoice[] {
  const base = syntheticLedger({
    customers: 80,
    invoicesPerCustomer: 25,
    seed: 21,
    start: '2022-09-01',
    days: 540,
    snapshot: AS_OF,
    badDebtShare: 0.2,
  });
  const rng = createRng(5);
  for (let i = base.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [base[i], base[j]] = [base[j]!, base[i]!];
  }
  const tie = (id: string, issue: number, paid: number | null, amountMinor: number): LedgerInvoice => ({
    customerId: 'C00003',
    invoiceId: id,
    invoiceDate: isoFromDay(issue),
    dueDate: isoFromDay(issue + 30),
    currency: 'USD',
    amountMinor,
    paidDate: paid === null ? null : isoFromDay(paid),
    delivery: 'email',
    country: null,
  });
  // Same issue, due and payment days, different amounts: the order among ties must be the ledger's.
  base.splice(7, 0, tie('TIE-1', asOfDay - 200, asOfDay - 150, 1_000));
  base.splice(400, 0, tie('TIE-2', asOfDay - 200, asOfDay - 150, 7_777));
  base.splice(900, 0, tie('TIE-3', asOfDay - 200, asOfDay - 150, 123_456));
  base.push({ ...tie('SOLO-1', asOfDay - 20, null, 50_000), customerId: 'SOLO' });
  base.push(tie('PAID-EARLY', asOfDay - 90, asOfDay - 10, 4_000));
  base.push(tie('LATER', asOfDay + 3, null, 9_000));
  return base;
}

/** The fixture model, or the same with another weight of the mode offset on the P50 date (baked into the ONNX). */
async function model(modeShift?: number): Promise<LoadedModel> {
  const dir = tempDir();
  const trained = trainedModel();
  const result = modeShift === undefined ? trained : { ...trained, model: { ...trained.model, modeShift } };
  writeModel(dir, result, {
    dataSha256: 'test',
    rows: rows.length,
    cutoff: CUTOFF,
    createdAt: CUTOFF,
  });
  return loadModel(dir);
}

const openIds = (history: readonly LedgerInvoice[]) =>
  history.filter((r) => r.paidDate === null || dayNumber(r.paidDate) >= asOfDay).map((r) => r.invoiceId);

describe('scoring path against the per-invoice reference', () => {
  it('builds the same per-customer index as per-customer comparison sorts', () => {
    const history = ledger();
    const index = buildLedgerIndex(history);
    const reference = referenceLedgerIndex(history);
    expect([...index.customers.keys()]).toEqual([...reference.customers.keys()]);
    for (const [id, expected] of reference.customers) {
      const h = index.customers.get(id)! as unknown as Record<string, ArrayLike<unknown>>;
      for (const [field, values] of Object.entries(expected)) {
        expect(Array.from(h[field]!), `${id}.${field}`).toEqual(Array.from(values as ArrayLike<unknown>));
      }
    }
    expect(Array.from(index.issueOf)).toEqual(Array.from(reference.issueOf));
    expect(Array.from(index.paidOf)).toEqual(Array.from(reference.paidOf));
    expect(index.customerOf).toEqual(reference.customerOf);
  });

  it('gives the same feature rows with and without the rows of the queries', () => {
    const history = ledger();
    const index = buildLedgerIndex(history);
    const queries = history.map((invoice, row) => ({ invoice, day: asOfDay - (row % 200), row }));
    const withRows = featureMatrix(index, queries, trainedModel().model.priors);
    const byId = featureMatrix(
      index,
      queries.map(({ invoice, day }) => ({ invoice, day })),
      trainedModel().model.priors,
    );
    expect(withRows).toEqual(byId);
  });

  it('gives the same rows in a batch as one row at a time (the batch reuses a customer’s window scans)', () => {
    const history = ledger();
    const index = buildLedgerIndex(history);
    // A within-customer delivery shift unlike the population means, so the adjusted window depends on it.
    const priors = {
      ...trainedModel().model.priors,
      deliveryShift: [1.5, -2.25, 6] as [number, number, number],
    };
    // Grouped by customer, each of its invoices as of a few shared days: consecutive rows share customer and day,
    // some invoices paid before that day (their own payment left out of the scans), deliveries alternating.
    const grouped = [...history].sort((a, b) => a.customerId.localeCompare(b.customerId));
    const queries = [asOfDay - 300, asOfDay - 60, asOfDay]
      .flatMap((day) => grouped.map((invoice) => ({ invoice, day, row: history.indexOf(invoice) })))
      .map((q, k) => (k % 7 === 3 ? { ...q, invoice: { ...q.invoice, delivery: 'print' as const } } : q));
    const batch = featureMatrix(index, queries, priors);
    const single = new Float32Array(batch.length);
    queries.forEach((q, i) => {
      writeFeatures(index, q.invoice, q.day, priors, single, i * FEATURE_COUNT, q.row);
    });
    expect(queries.some((q) => q.invoice.paidDate !== null && dayNumber(q.invoice.paidDate) < q.day)).toBe(
      true,
    );
    expect(batch).toEqual(single);
  });

  it('scores open invoices exactly as before: model, sensitivity, ids out of ledger order and unknown ids', async () => {
    const m = await model();
    const history = ledger();
    const ids = openIds(history);
    const asOf = instantFromDay(asOfDay);
    const inOrder = await scoreInvoices(m, history, ids, asOf);
    expect(inOrder.length).toBe(ids.length);
    expect(inOrder.some((s) => s.riskBand === 'high') && inOrder.some((s) => s.pLate === 1)).toBe(true);
    expect(inOrder).toEqual(await referenceScoreInvoices(m, history, ids, asOf));
    // Reversed, with an unknown id and a repeat: the lookup leaves the forward walk for the map.
    const shuffled = [...ids.slice(0, 40).reverse(), 'NO-SUCH-INVOICE', ids[3]!, ...ids.slice(40)];
    expect(await scoreInvoices(m, history, shuffled, asOf, { sensitivity: 1 })).toEqual(
      await referenceScoreInvoices(m, history, shuffled, asOf, { sensitivity: 1 }),
    );
    // The paid-early invoice listed as open, and a later as-of day.
    const later = instantFromDay(asOfDay + 45);
    const withPaid = [...ids, 'PAID-EARLY'];
    expect(await scoreInvoices(m, history, withPaid, later, { sensitivity: -0.5 })).toEqual(
      await referenceScoreInvoices(m, history, withPaid, later, { sensitivity: -0.5 }),
    );
  });

  it('keeps the P50 date where a large mode shift moves it past a quantile head, as the reference does', async () => {
    // A weight well beyond the 0, 0.5 or 1 training chooses, so that many P50 dates leave the P10–P90 heads'
    // order: the forecast must keep them and span the interval as the lowest..highest of the three.
    const m = await model(6);
    const history = ledger();
    const ids = openIds(history);
    const asOf = instantFromDay(asOfDay);
    const scores = await scoreInvoices(m, history, ids, asOf);
    expect(
      scores.every((s) => s.payDateP10 <= s.predictedPayDate && s.predictedPayDate <= s.payDateP90),
    ).toBe(true);
    expect(scores).toEqual(await referenceScoreInvoices(m, history, ids, asOf));
    expect(await customerRisk(m, history, asOf)).toEqual(await referenceCustomerRisk(m, history, asOf));
  });

  it('scores exactly as before when the tenant scores with the rule of thumb', async () => {
    const m = await model();
    const heuristic: LoadedModel = { ...m, manifest: { ...m.manifest, scoring: 'heuristic' } };
    const history = ledger();
    const ids = openIds(history);
    const asOf = instantFromDay(asOfDay);
    expect(await scoreInvoices(heuristic, history, ids, asOf)).toEqual(
      await referenceScoreInvoices(heuristic, history, ids, asOf),
    );
  });

  it('gives the same customer scores, trends and alerts, alone or sharing the invoice scores’ index', async () => {
    const m = await model();
    const history = ledger();
    const asOf = instantFromDay(asOfDay);
    const expected = await referenceCustomerRisk(m, history, asOf);
    expect(expected.length).toBe(81);
    expect(expected.some((c) => c.slowingAlert)).toBe(true);
    expect(await customerRisk(m, history, asOf)).toEqual(expected);
    const some = ['C00010', 'SOLO', 'NOBODY', 'C00003', 'C00010'];
    const index = buildLedgerIndex(history);
    expect(await customerRisk(m, history, asOf, some, { index })).toEqual(
      await referenceCustomerRisk(m, history, asOf, some),
    );
  });

  it('shares window statistics only between rows of the same scans, whatever the terms of each row', () => {
    // A customer on two kinds of terms (every other invoice due on issue), so the same-terms habit differs by row.
    let k = 0;
    const history = ledger().map((r) =>
      r.customerId === 'C00003' && k++ % 2 ? { ...r, dueDate: r.invoiceDate } : r,
    );
    const index = buildLedgerIndex(history);
    const priors = trainedModel().model.priors;
    // Draft invoices of that customer as of one day (not in the ledger: they share the window scans), on either
    // terms in turn, then the customer's ledger rows (some paid before the day: scans of their own), with a row of
    // another customer now and then.
    const mine = history.filter((r) => r.customerId === 'C00003');
    const other = history.find((r) => r.customerId !== 'C00003')!;
    const drafts = Array.from({ length: 8 }, (_, j) => ({
      ...mine[0]!,
      invoiceId: `DRAFT-${j}`,
      invoiceDate: isoFromDay(asOfDay - 5),
      dueDate: isoFromDay(asOfDay - 5 + (j % 2 ? 0 : 30) + (j % 4 === 2 ? 15 : 0)),
      paidDate: null,
    }));
    const queries = [...drafts, ...mine].flatMap((invoice, j) => {
      const q = { invoice, day: asOfDay };
      return j % 5 === 4 ? [q, { invoice: other, day: asOfDay }] : [q];
    });
    const batch = featureMatrix(index, queries, priors);
    const single = new Float32Array(batch.length);
    queries.forEach((q, i) => {
      writeFeatures(index, q.invoice, q.day, priors, single, i * FEATURE_COUNT);
    });
    expect(batch).toEqual(single);
  });

  it('scores a ledger after a payment is added exactly as a fresh index does (nothing kept from the last run)', async () => {
    const m = await model();
    const history = ledger();
    const asOf = instantFromDay(asOfDay);
    const ids = openIds(history);
    const before = await scoreInvoices(m, history, ids, asOf);
    // A payment arrives for an open invoice, dated before the as-of day.
    const paidId = ids.find((id) => !id.startsWith('SOLO') && id !== 'LATER')!;
    const paid = history.map((r) =>
      r.invoiceId === paidId ? { ...r, paidDate: isoFromDay(asOfDay - 2) } : r,
    );
    const stillOpen = ids.filter((id) => id !== paidId);
    const after = await scoreInvoices(m, paid, stillOpen, asOf);
    expect(after).toEqual(await referenceScoreInvoices(m, paid, stillOpen, asOf));
    expect(after).toEqual(await scoreInvoices(m, paid, stillOpen, asOf, { index: buildLedgerIndex(paid) }));
    // Not vacuous: the payment moved the scores of the customer's other open invoices.
    const customer = history.find((r) => r.invoiceId === paidId)!.customerId;
    const was = new Map(before.map((s) => [s.invoiceId, s]));
    expect(
      after.some((s) => s.customerId === customer && !Object.is(s.pLate, was.get(s.invoiceId)!.pLate)),
    ).toBe(true);
    // And the first ledger scores as before again.
    expect(await scoreInvoices(m, history, ids, asOf)).toEqual(before);
  });
});
