/**
 * The scoring path as it was before the batch rewrite (commit 55f09ca), kept as the reference the optimized one must
 * reproduce exactly (scoring-reference.test.ts): the per-customer comparison sorts of the ledger index, the id → row
 * map, per-invoice forecasts with arrays, reasons ranked and worded one invoice at a time, and customer scores from
 * their own grouping of the ledger. Features, the ONNX call, the overdue calibration and the wording's topics are
 * shared with src (they are not what the rewrite changed). A change to the wording of reasons belongs in both.
 * Updated at the merge with s22-model: the forecast keeps the P50 date as predicted (the mode shift may move it past
 * a quantile head) and spans P10–P90 as the lowest..highest of the three, as src/risk/risk-model.ts does since.
 */

import { applyOffsets, collectionOffsets } from '../../src/risk/collection-calibration';
import {
  type CustomerRisk,
  lateness,
  SEVERE_DAYS_LATE,
  survivalFromQuantiles,
} from '../../src/risk/customer-risk';
import {
  buildLedgerIndex,
  deliveryCode,
  F,
  FEATURE_COUNT,
  type FeatureName,
  type FeatureQuery,
  featureMatrix,
  type LedgerIndex,
  recentSettled,
  type SettledOutcome,
} from '../../src/risk/features';
import { dayNumber, dayOfInstant, isoFromDay, type LedgerInvoice } from '../../src/risk/ledger';
import type { LogisticModel } from '../../src/risk/logreg';
import { sigmoid } from '../../src/risk/logreg';
import type { LoadedModel, ModelManifest } from '../../src/risk/model-store';
import { explainHeuristic, pastDueText, TOPIC_OF_FEATURE, TOPICS } from '../../src/risk/reasons';
import { type Forecast, type RawPredictions, survivalQuantile } from '../../src/risk/risk-model';
import {
  type InvoiceScore,
  invoiceRisk,
  predictFor,
  type RiskBand,
  type ScoreOptions,
} from '../../src/risk/score';

const UNPAID = -2_147_483_648;
const RELIABLE_MIN_SETTLED = 4;
const RELIABLE_MAX_LATE_SHARE = 0.25;
const SLOWING_SCORE_RISE = 15;
const major = (minor: number) => minor / 100;

interface ReasonContext {
  row: ArrayLike<number>;
  recent: readonly SettledOutcome[];
  pLate: number;
  baseRate: number;
}

export function referenceLedgerIndex(history: readonly LedgerInvoice[]) {
  // Dates are converted once into flat arrays; rows are then grouped by customer with a counting sort, and each
  // customer sorts small index arrays by number and fills its typed arrays in plain loops (no per-customer
  // closures or intermediate arrays: this runs over the whole ledger on every scoring run).
  const n = history.length;
  const issueOf = new Int32Array(n);
  const dueOf = new Int32Array(n);
  const paidOf = new Int32Array(n);
  const amountOf = new Float64Array(n);
  const rowOf = new Map<string, number>();
  const customerOf: string[] = new Array(n);
  const groupOf = new Int32Array(n);
  const groupIndex = new Map<string, number>();
  const groupIds: string[] = [];
  let sizes = new Int32Array(64);
  let lastCustomer: string | undefined;
  let lastGroup: number | undefined;
  for (let i = 0; i < n; i++) {
    const inv = history[i]!;
    rowOf.set(inv.invoiceId, i);
    customerOf[i] = inv.customerId;
    issueOf[i] = dayNumber(inv.invoiceDate);
    dueOf[i] = dayNumber(inv.dueDate);
    paidOf[i] = inv.paidDate === null ? UNPAID : dayNumber(inv.paidDate);
    amountOf[i] = major(inv.amountMinor);
    // Ledgers usually list a customer's invoices together: the previous row's group saves a map lookup.
    let g = inv.customerId === lastCustomer ? lastGroup : groupIndex.get(inv.customerId);
    if (g === undefined) {
      g = groupIds.length;
      groupIndex.set(inv.customerId, g);
      groupIds.push(inv.customerId);
      if (g === sizes.length) {
        const grown = new Int32Array(sizes.length * 2);
        grown.set(sizes);
        sizes = grown;
      }
    }
    groupOf[i] = g;
    sizes[g]!++;
    lastCustomer = inv.customerId;
    lastGroup = g;
  }
  // Rows of each customer contiguous, in ledger order (what the per-customer sorts below start from).
  const groups = groupIds.length;
  const start = new Int32Array(groups + 1);
  for (let g = 0; g < groups; g++) start[g + 1] = start[g]! + sizes[g]!;
  const fill = start.slice(0, groups);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[fill[groupOf[i]!]!++] = i;

  const byIssueCmp = (a: number, b: number) => issueOf[a]! - issueOf[b]!;
  const byDueCmp = (a: number, b: number) => dueOf[a]! - dueOf[b]!;
  const byPaidCmp = (a: number, b: number) => paidOf[a]! - paidOf[b]! || issueOf[a]! - issueOf[b]!;
  const closeOf = (i: number) => Math.max(paidOf[i]!, dueOf[i]!);
  const byCloseCmp = (a: number, b: number) => closeOf(a) - closeOf(b);
  const customers = new Map<string, Record<string, unknown>>();
  for (let g = 0; g < groups; g++) {
    const from = start[g]!;
    const size = start[g + 1]! - from;
    const rows: number[] = new Array(size);
    let settledCount = 0;
    for (let k = 0; k < size; k++) {
      const i = order[from + k]!;
      rows[k] = i;
      if (paidOf[i] !== UNPAID) settledCount++;
    }
    const settled: number[] = new Array(settledCount);
    for (let k = 0, j = 0; k < size; k++) if (paidOf[rows[k]!] !== UNPAID) settled[j++] = rows[k]!;
    const byIssue = rows.slice().sort(byIssueCmp);
    const byDue = rows.sort(byDueCmp);
    const byPaid = settled.slice().sort(byPaidCmp);
    const byClose = settled.sort(byCloseCmp);

    const issueDay = new Int32Array(size);
    const cumAmount = new Float64Array(size + 1);
    const cumLogAmount = new Float64Array(size + 1);
    const cumTerms = new Float64Array(size + 1);
    const dueDay = new Int32Array(size);
    const cumDueAmount = new Float64Array(size + 1);
    for (let k = 0; k < size; k++) {
      const i = byIssue[k]!;
      issueDay[k] = issueOf[i]!;
      cumAmount[k + 1] = cumAmount[k]! + amountOf[i]!;
      cumLogAmount[k + 1] = cumLogAmount[k]! + Math.log1p(amountOf[i]!);
      cumTerms[k + 1] = cumTerms[k]! + (dueOf[i]! - issueOf[i]!);
      const j = byDue[k]!;
      dueDay[k] = dueOf[j]!;
      cumDueAmount[k + 1] = cumDueAmount[k]! + amountOf[j]!;
    }
    const m = settledCount;
    const paidDay = new Int32Array(m);
    const paidId: string[] = new Array(m);
    const paidDaysToPay = new Int32Array(m);
    const paidDaysLate = new Int32Array(m);
    const paidDelivery = new Uint8Array(m);
    const cumPaidAmount = new Float64Array(m + 1);
    const cumLate = new Float64Array(m + 1);
    const cumDaysToPay = new Float64Array(m + 1);
    const cumDaysLate = new Float64Array(m + 1);
    // A settled invoice leaves "due before D and still open" on max(paid, due): counting every settled invoice
    // here keeps (due before D) minus (closed before D) equal to "overdue and still open at D".
    const closeDay = new Int32Array(m);
    const cumCloseAmount = new Float64Array(m + 1);
    for (let k = 0; k < m; k++) {
      const i = byPaid[k]!;
      const paid = paidOf[i]!;
      const toPay = paid - issueOf[i]!;
      const daysLate = paid - dueOf[i]!;
      paidDay[k] = paid;
      paidId[k] = history[i]!.invoiceId;
      paidDaysToPay[k] = toPay;
      paidDaysLate[k] = daysLate;
      paidDelivery[k] = deliveryCode(history[i]!.delivery);
      cumPaidAmount[k + 1] = cumPaidAmount[k]! + amountOf[i]!;
      cumLate[k + 1] = cumLate[k]! + (paid > dueOf[i]! ? 1 : 0);
      cumDaysToPay[k + 1] = cumDaysToPay[k]! + toPay;
      cumDaysLate[k + 1] = cumDaysLate[k]! + daysLate;
      const j = byClose[k]!;
      closeDay[k] = closeOf(j);
      cumCloseAmount[k + 1] = cumCloseAmount[k]! + amountOf[j]!;
    }
    customers.set(groupIds[g]!, {
      issueDay,
      cumAmount,
      cumLogAmount,
      cumTerms,
      dueDay,
      cumDueAmount,
      paidDay,
      paidId,
      paidDaysToPay,
      paidDaysLate,
      paidDelivery,
      cumPaidAmount,
      cumLate,
      cumDaysToPay,
      cumDaysLate,
      closeDay,
      cumCloseAmount,
    });
  }
  return { customers, rowOf, customerOf, issueOf, dueOf, paidOf, amountOf };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const span = (values: number[]) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? plural(lo, 'day') : `${lo}–${hi} days`;
};

function word(topic: string, up: boolean, { row, recent }: ReasonContext): string | null {
  const x = (f: FeatureName) => row[F[f]]!;
  switch (topic) {
    case 'history': {
      if (x('cold_start') === 1) return 'new customer: no payment history yet';
      const late = recent.filter((r) => r.daysLate > 0);
      if (up && late.length > 0) {
        return late.length === recent.length
          ? `paid the last ${plural(recent.length, 'invoice')} ${span(late.map((r) => r.daysLate))} late`
          : `paid ${late.length} of the last ${plural(recent.length, 'invoice')} late (by ${span(late.map((r) => r.daysLate))})`;
      }
      if (!up && late.length === 0) return `paid the last ${plural(recent.length, 'invoice')} on time`;
      return up
        ? `usually pays about ${plural(Math.round(x('mean_days_late')), 'day')} after the due date`
        : `usually pays on time (${Math.round((1 - x('late_rate')) * 100)}% of invoices)`;
    }
    case 'recent': {
      const last = recent.slice(-3);
      if (last.length === 0) return null;
      const avg = Math.round(last.reduce((s, r) => s + r.daysLate, 0) / last.length);
      return up
        ? `recent payments are slower: the last ${plural(last.length, 'invoice')} averaged ${avg > 0 ? `${plural(avg, 'day')} late` : `${plural(-avg, 'day')} early`}`
        : `recent payments are faster than usual (last ${plural(last.length, 'invoice')} averaged ${avg > 0 ? `${plural(avg, 'day')} late` : `${plural(-avg, 'day')} early`})`;
    }
    case 'overdue': {
      const overdue = Math.round(Math.expm1(x('log_overdue_count')));
      const open = Math.round(Math.expm1(x('log_open_count')));
      if (up)
        return overdue > 0
          ? `has ${plural(overdue, 'other invoice')} already overdue`
          : `has ${plural(open, 'other open invoice')}`;
      return overdue === 0 ? 'no other invoices overdue' : null;
    }
    case 'amount': {
      const ratio = Math.exp(x('amount_vs_usual'));
      if (ratio >= 1.5) return `invoice is ${ratio.toFixed(1)}× this customer's usual amount`;
      if (ratio <= 0.67) return `invoice is smaller than this customer's usual (${ratio.toFixed(1)}×)`;
      return up ? 'larger invoice amount than most customers' : 'small invoice amount';
    }
    case 'delivery':
      if (x('delivery_print') === 1) return 'invoice is sent on paper';
      if (x('delivery_email') === 1) return 'invoice is sent by email';
      return null;
    case 'timing': {
      const toDue = x('days_to_due');
      if (toDue < 0) return pastDueText(-toDue);
      return up
        ? `due in ${plural(toDue, 'day')} and still unpaid`
        : `${plural(x('terms_days'), 'day')} payment terms`;
    }
    case 'tenure': {
      const days = Math.round(Math.expm1(x('log_tenure_days')));
      return days < 90
        ? `recent customer (${plural(days, 'day')})`
        : `customer for ${plural(Math.round(days / 30), 'month')}`;
    }
    case 'calendar':
      return up
        ? 'issued in a period when payments tend to be slower'
        : 'issued in a period when payments tend to be faster';
  }
  return null;
}

/**
 * Up to `k` reasons, strongest first. Reasons that push the way the score went (up when P(late) is above the
 * population rate, down when below) come before those that pull against it; a past-due invoice always leads with how late
 * it already is.
 */
export function referenceExplain(
  logistic: Pick<LogisticModel, 'coef' | 'mean' | 'scale'>,
  ctx: ReasonContext,
  k = 3,
): string[] {
  const pulls = new Float64Array(TOPICS.length);
  for (let j = 0; j < logistic.coef.length; j++) {
    pulls[TOPIC_OF_FEATURE[j]!]! +=
      (logistic.coef[j]! * (ctx.row[j]! - logistic.mean[j]!)) / logistic.scale[j]!;
  }
  if (ctx.row[F.days_to_due]! < 0) pulls[TOPICS.indexOf('timing')] = Number.POSITIVE_INFINITY;
  const direction = ctx.pLate >= ctx.baseRate ? 1 : -1;
  const ranked = TOPICS.map((_, t) => t).sort((a, b) => {
    const aligned = Number(pulls[b]! * direction > 0) - Number(pulls[a]! * direction > 0);
    return aligned !== 0 ? aligned : Math.abs(pulls[b]!) - Math.abs(pulls[a]!);
  });
  const out: string[] = [];
  for (const t of ranked) {
    const text = word(TOPICS[t]!, pulls[t]! > 0, ctx);
    if (text && !out.includes(text)) out.push(text);
    if (out.length === k) break;
  }
  return out;
}

export function referenceForecast(raw: RawPredictions, i: number, day: number, dueDay: number): Forecast {
  const p30 = raw.pCollect[i * 2]!;
  const p90 = raw.pCollect[i * 2 + 1]!;
  const hasCollect = Number.isFinite(p30) && Number.isFinite(p90);
  const overdue = dueDay < day;
  const q = [raw.remaining[i * 3]!, raw.remaining[i * 3 + 1]!, raw.remaining[i * 3 + 2]!].map((v, k) => {
    const level = [0.1, 0.5, 0.9][k]!;
    // The pay-date heads answer "when, if paid soon"; past due, beyond the 30-day collection chance, the
    // survival curve answers.
    const fromSurvival = overdue && hasCollect && p30 < level;
    return Math.max(0, Math.round(fromSurvival ? Math.max(v, survivalQuantile(p30, p90, level)) : v));
  });
  // The P50 date stands (the mode shift may move it past a quantile head); the interval spans all three.
  const lowest = Math.min(q[0]!, q[1]!, q[2]!);
  q[2] = Math.max(q[0]!, q[1]!, q[2]!);
  q[0] = lowest;
  const payDay = day + q[1]!;
  return {
    pLate: overdue ? 1 : raw.pLate[i]!,
    pCollect30: hasCollect ? p30 : null,
    pCollect90: hasCollect ? Math.max(p30, p90) : null,
    payDayP10: day + q[0]!,
    payDay,
    payDayP90: day + q[2]!,
    expectedDaysLate: Math.max(0, payDay - dueDay),
  };
}

const logit = (p: number) => Math.log(p / (1 - p));

export function referenceRiskBand(
  pLate: number,
  thresholds: ModelManifest['thresholds'],
  sensitivity = 0,
): RiskBand {
  const cut = (t: number) => sigmoid(logit(Math.min(0.999, Math.max(0.001, t))) - sensitivity);
  if (pLate >= cut(thresholds.late)) return 'high';
  return pLate >= cut(thresholds.medium) ? 'medium' : 'low';
}

export async function referenceScoreInvoices(
  model: LoadedModel,
  history: readonly LedgerInvoice[],
  openInvoiceIds: readonly string[],
  asOf: Date,
  options: ScoreOptions = {},
): Promise<InvoiceScore[]> {
  const { manifest } = model;
  const index = buildLedgerIndex(history);
  const rowOf = new Map(history.map((r, i) => [r.invoiceId, i]));
  const asOfDay = dayOfInstant(asOf);
  const queries: FeatureQuery[] = [];
  const dueDays: number[] = [];
  let overdue = false;
  for (const id of openInvoiceIds) {
    const row = rowOf.get(id);
    if (row === undefined) continue;
    const day = Math.max(asOfDay, index.issueOf[row]!);
    queries.push({ invoice: history[row]!, day });
    dueDays.push(index.dueOf[row]!);
    if (index.dueOf[row]! < day) overdue = true;
  }
  const X = featureMatrix(index, queries, manifest.priors);
  const raw = await predictFor(model, index, queries, X);
  if (overdue) {
    const offsets = await collectionOffsets(model, history, index, asOfDay);
    for (let i = 0; i < queries.length; i++) {
      applyOffsets(raw.pCollect, i, queries[i]!.day - dueDays[i]!, offsets);
    }
  }
  return queries.map(({ invoice, day }, i) => {
    const dueDay = dueDays[i]!;
    const f = referenceForecast(raw, i, day, dueDay);
    const row = X.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);
    const risk = invoiceRisk(f, day, dueDay);
    return {
      invoiceId: invoice.invoiceId,
      customerId: invoice.customerId,
      pLate: f.pLate,
      pCollect30: f.pCollect30,
      pCollect90: f.pCollect90,
      risk,
      predictedPayDate: isoFromDay(f.payDay),
      payDateP10: isoFromDay(f.payDayP10),
      payDateP90: isoFromDay(f.payDayP90),
      expectedDaysLate: f.expectedDaysLate,
      riskBand: referenceRiskBand(risk, manifest.thresholds, options.sensitivity),
      modelVersion: manifest.version,
      reasons:
        manifest.scoring === 'heuristic'
          ? explainHeuristic({
              row,
              recent: recentSettled(index, invoice.customerId, day, 6, invoice.invoiceId),
              priors: manifest.priors,
            })
          : referenceExplain(manifest.logistic, {
              row,
              recent: recentSettled(index, invoice.customerId, day, 6, invoice.invoiceId),
              pLate: f.pLate,
              baseRate: manifest.priors.lateRate,
            }),
    };
  });
}

function probe(customer: LedgerInvoice[], day: number): LedgerInvoice | null {
  const before = customer.filter((r) => dayNumber(r.invoiceDate) < day);
  const last = before.reduce<LedgerInvoice | null>(
    (a, r) => (!a || r.invoiceDate >= a.invoiceDate ? r : a),
    null,
  );
  if (!last) return null;
  const amounts = before.map((r) => r.amountMinor).sort((a, b) => a - b);
  const terms = dayNumber(last.dueDate) - dayNumber(last.invoiceDate);
  return {
    ...last,
    invoiceId: `probe:${last.customerId}:${day}`,
    invoiceDate: isoFromDay(day),
    dueDate: isoFromDay(day + terms),
    amountMinor: amounts[amounts.length >> 1]!,
    paidDate: null,
  };
}

function slowing(index: LedgerIndex, customerId: string, day: number, trend90: number | null): string | null {
  const then = recentSettled(index, customerId, day - 90, Number.POSITIVE_INFINITY);
  const lateThen = then.filter((r) => r.daysLate > 0).length;
  if (then.length < RELIABLE_MIN_SETTLED || lateThen / then.length > RELIABLE_MAX_LATE_SHARE) return null;
  const last3 = recentSettled(index, customerId, day, 3);
  const late = last3.filter((r) => r.daysLate > 0);
  const lateRecently = last3.length === 3 && late.length >= 2;
  if (!lateRecently && !(trend90 !== null && trend90 >= SLOWING_SCORE_RISE)) return null;
  const detail = lateRecently
    ? `${late.length} of the last 3 invoices paid late (by ${late.map((r) => r.daysLate).join(', ')} days)`
    : `risk score up ${trend90} points in 90 days`;
  return `a typically reliable customer showing signs of payment delays: ${detail}; on time on ${then.length - lateThen} of ${then.length} invoices before`;
}

export async function referenceCustomerRisk(
  model: LoadedModel,
  history: readonly LedgerInvoice[],
  asOf: Date,
  customerIds?: readonly string[],
): Promise<CustomerRisk[]> {
  const day = dayOfInstant(asOf);
  const byCustomer = new Map<string, LedgerInvoice[]>();
  for (const r of history) {
    const list = byCustomer.get(r.customerId);
    if (list) list.push(r);
    else byCustomer.set(r.customerId, [r]);
  }
  const ids = (customerIds ?? [...byCustomer.keys()]).filter((id) => byCustomer.has(id));
  const offsets = [0, 30, 90];
  const queries: FeatureQuery[] = [];
  const slot = new Map<string, number>();
  for (const id of ids) {
    offsets.forEach((off, k) => {
      const invoice = probe(byCustomer.get(id)!, day - off);
      if (invoice) {
        slot.set(`${id}:${k}`, queries.length);
        queries.push({ invoice, day: day - off });
      }
    });
  }
  const index = buildLedgerIndex(history);
  const raw = await predictFor(model, index, queries, featureMatrix(index, queries, model.manifest.priors));
  const severity = queries.map(({ invoice, day }, i) => {
    const due = dayNumber(invoice.dueDate);
    const f = referenceForecast(raw, i, day, due);
    // Late by more than SEVERE_DAYS_LATE can be no likelier than late at all.
    const pSevere = Math.min(
      f.pLate,
      survivalFromQuantiles(
        f.payDayP10 - day,
        f.payDay - day,
        f.payDayP90 - day,
        due + SEVERE_DAYS_LATE - day,
      ),
    );
    const late = lateness(f.pLate, f.payDayP10 - day, f.payDay - day, f.payDayP90 - day, due - day);
    return { pLate: f.pLate, pSevere, expectedDaysLate: f.expectedDaysLate, late };
  });
  const scoreAt = (id: string, k: number) => {
    const i = slot.get(`${id}:${k}`);
    return i === undefined ? null : Math.round(100 * severity[i]!.late);
  };
  return ids.flatMap((customerId) => {
    const score = scoreAt(customerId, 0);
    if (score === null) return [];
    const now = severity[slot.get(`${customerId}:0`)!]!;
    const s30 = scoreAt(customerId, 1);
    const s90 = scoreAt(customerId, 2);
    const trend90 = s90 === null ? null : score - s90;
    const message = slowing(index, customerId, day, trend90);
    return [
      {
        customerId,
        score,
        habitScore: score,
        openDebtScore: null,
        openDebtReason: null,
        pLate: Math.round(now.pLate * 1000) / 1000,
        pSevere: Math.round(now.pSevere * 1000) / 1000,
        expectedDaysLate: now.expectedDaysLate,
        trend30: s30 === null ? null : score - s30,
        trend90,
        slowingAlert: message !== null,
        message,
      },
    ];
  });
}
