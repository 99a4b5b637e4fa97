/**
 * Customer-level risk: how late a typical new invoice from the customer (their usual amount, terms and delivery),
 * issued on the as-of day, is expected to be paid. The score is the expected number of days late, counting at most
 * SCORE_HORIZON_DAYS (an invoice never paid counts the whole horizon), as a share of that horizon: 100 × E[min(days
 * late, 90)] / 90. Equivalently, the chance that the invoice is still unpaid on a day picked at random in the 90
 * days after its due date. So 10 means about 9 days late on average, 33 a month, 100 only a customer certain never
 * to pay within three months; a customer a few days late no longer scores like one months late, and the score can
 * be checked against what customers then did (mean capped days late / 90). Its bands (CUSTOMER_BANDS) are fixed in
 * those days. Computing it again as of 30 and 90 days earlier, each on what was known then and in the same way,
 * gives a trend that later payments cannot rewrite.
 *
 * That is the customer's payment habit (`habitScore`). A controller reads a customer's risk as "how risky is this
 * account", and a habit of paying new invoices on time says nothing of what they already owe: $4,611 overdue for
 * two years, never collected, beside "2/100, low" is wrong to them. So the stored `score` (what lists sort by, what
 * the band is read from) is the worse of the habit and the open debt's collection risk (`openDebtScore`, see
 * `openDebtRisks`): 100 × the share of the open balance not expected to be collected within 90 days. Both are
 * on the same 0–100 scale and the same band cut-offs; each stays calibrated on its own (tests/risk/customer-bands).
 */
import { formatMoney } from '../../connectors/money';
import {
  buildLedgerIndex,
  type CustomerHistory,
  countBefore,
  type FeatureQuery,
  featureMatrix,
  type LedgerIndex,
  recentSettled,
} from './features';
import { dayNumber, dayOfInstant, isoFromDay, type LedgerInvoice } from './ledger';
import type { LoadedModel } from './model-store';
import { toForecast } from './risk-model';
import { type InvoiceScore, predictFor, type RiskBand } from './score';

export interface CustomerRisk {
  customerId: string;
  /** 0–100, the account's: the worse of `habitScore` and `openDebtScore` (see the module comment). */
  score: number;
  /** 0–100: 100 × E[min(days late, 90)] / 90 of a typical new invoice (see the module comment). */
  habitScore: number;
  /** 0–100: the share of the open balance not expected to be collected within 90 days; null: nothing open. */
  openDebtScore: number | null;
  /** The doubtful overdue debt in words (amount, age, chance of collection); null when there is none. */
  openDebtReason: string | null;
  /** P(paid after the due date) of a typical new invoice. */
  pLate: number;
  /** P(paid more than SEVERE_DAYS_LATE days after the due date) of a typical new invoice. */
  pSevere: number;
  /** Days after the due date of its predicted (median) pay date; 0 when predicted on time. */
  expectedDaysLate: number;
  /**
   * Change in the habit score vs 30 / 90 days earlier (null when the customer had no invoices then): the open debt
   * is scored as of today only.
   */
  trend30: number | null;
  trend90: number | null;
  slowingAlert: boolean;
  message: string | null;
}

/** At least this many settled invoices and at most this late share, 90 days ago, make a customer "reliable". */
const RELIABLE_MIN_SETTLED = 4;
const RELIABLE_MAX_LATE_SHARE = 0.25;
/** Slowing: 2 of the last 3 invoices late, or the score up this many points in 90 days. */
const SLOWING_SCORE_RISE = 15;
/** "Very late": paid more than this many days after the due date. */
export const SEVERE_DAYS_LATE = 30;
/** Days after the due date the customer score looks at: lateness beyond it counts as this much. */
export const SCORE_HORIZON_DAYS = 90;

/**
 * Customer band cut-offs on the 0–1 score, in days late: medium from 5 days late on average (under that, paid
 * about on time), high from 30 days (a month late or worse, or often not paid). They are the customer's own
 * scale, not the invoice P(late) thresholds: a customer who is always a week late is "medium", not "high".
 */
export const CUSTOMER_BANDS = { medium: 5 / SCORE_HORIZON_DAYS, high: SEVERE_DAYS_LATE / SCORE_HORIZON_DAYS };

/**
 * A customer's band from its 0–1 score at the tenant's sensitivity (log-odds shift of the cut-offs, as for
 * invoices: +1 flags more customers).
 */
export function customerBand(score: number, sensitivity = 0): RiskBand {
  const logit = (p: number) => Math.log(p / (1 - p));
  const cut = (t: number) => 1 / (1 + Math.exp(-(logit(t) - sensitivity)));
  if (score >= cut(CUSTOMER_BANDS.high)) return 'high';
  return score >= cut(CUSTOMER_BANDS.medium) ? 'medium' : 'low';
}

/**
 * E[min(days late, horizon)] / horizon from P(late) and the pay-date quantiles (days from the as-of day), the
 * due date `dueIn` days from it: the mean over each day t of the horizon of P(still unpaid t days after due),
 * that is min(P(late), survival at dueIn + t).
 */
export function lateness(pLate: number, q10: number, q50: number, q90: number, dueIn: number): number {
  let sum = 0;
  for (let t = 0; t < SCORE_HORIZON_DAYS; t++)
    sum += Math.min(pLate, survivalFromQuantiles(q10, q50, q90, dueIn + t + 0.5));
  return sum / SCORE_HORIZON_DAYS;
}

/**
 * P(payment later than `x` days from the as-of day) from the P10/P50/P90 of the pay date: linear between the
 * quantiles (and from 1 at day 0 to 0.9 at P10), an exponential tail past P90 continuing the P50–P90 decay.
 */
export function survivalFromQuantiles(q10: number, q50: number, q90: number, x: number): number {
  if (x >= q90) return 0.1 * Math.exp((-(x - q90) * Math.log(5)) / Math.max(1, q90 - q50));
  if (x >= q50) return 0.5 - (0.4 * (x - q50)) / Math.max(1e-9, q90 - q50);
  if (x >= q10) return 0.9 - (0.4 * (x - q10)) / Math.max(1e-9, q50 - q10);
  return x <= 0 ? 1 : 1 - (0.1 * x) / Math.max(1e-9, q10);
}

/**
 * A typical new invoice of the customer issued on `day`: the terms and delivery of their last invoice issued before
 * it (the last in ledger order among those of that day), the median amount of all they were issued before it.
 */
function probe(
  history: readonly LedgerInvoice[],
  index: LedgerIndex,
  h: CustomerHistory,
  day: number,
): LedgerInvoice | null {
  const before = countBefore(h.issueDay, day);
  if (before === 0) return null;
  const last = history[h.issueRow[before - 1]!]!;
  const amounts = new Float64Array(before);
  for (let k = 0; k < before; k++) amounts[k] = history[h.issueRow[k]!]!.amountMinor;
  amounts.sort();
  const row = h.issueRow[before - 1]!;
  const terms = index.dueOf[row]! - index.issueOf[row]!;
  return {
    ...last,
    invoiceId: `probe:${last.customerId}:${day}`,
    invoiceDate: isoFromDay(day),
    dueDate: isoFromDay(day + terms),
    amountMinor: amounts[before >> 1]!,
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

export interface CustomerRiskOptions {
  /** `buildLedgerIndex(history)` when the caller already has it (the invoice scores of the same run). */
  index?: LedgerIndex;
}

export async function customerRisk(
  model: LoadedModel,
  history: readonly LedgerInvoice[],
  asOf: Date,
  customerIds?: readonly string[],
  options: CustomerRiskOptions = {},
): Promise<CustomerRisk[]> {
  const day = dayOfInstant(asOf);
  const index = options.index ?? buildLedgerIndex(history);
  const ids = (customerIds ?? [...index.customers.keys()]).filter((id) => index.customers.has(id));
  const offsets = [0, 30, 90];
  const queries: FeatureQuery[] = [];
  /** Query of customer ids[c] as of offsets[k] days earlier at slot[c * 3 + k] (-1: no invoice before then). */
  const slot = new Int32Array(ids.length * offsets.length).fill(-1);
  for (let c = 0; c < ids.length; c++) {
    const h = index.customers.get(ids[c]!)!;
    for (let k = 0; k < offsets.length; k++) {
      const invoice = probe(history, index, h, day - offsets[k]!);
      if (invoice) {
        slot[c * offsets.length + k] = queries.length;
        // The probe is no ledger invoice (row -1): nothing of its own to leave out of its history.
        queries.push({ invoice, day: day - offsets[k]!, row: -1 });
      }
    }
  }
  const raw = await predictFor(model, index, queries, featureMatrix(index, queries, model.manifest.priors));
  const severity = queries.map(({ invoice, day }, i) => {
    const due = dayNumber(invoice.dueDate);
    const f = toForecast(raw, i, day, due);
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
  const scoreAt = (c: number, k: number) => {
    const i = slot[c * offsets.length + k]!;
    return i < 0 ? null : Math.round(100 * severity[i]!.late);
  };
  return ids.flatMap((customerId, c) => {
    const score = scoreAt(c, 0);
    if (score === null) return [];
    const now = severity[slot[c * offsets.length]!]!;
    const s30 = scoreAt(c, 1);
    const s90 = scoreAt(c, 2);
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

/** What the open-debt score reads of one open invoice of a customer. */
export interface OpenInvoiceRisk {
  customerId: string;
  currency: string;
  /** What is still owed on it (minor units of `currency`). */
  balanceMinor: number;
  /** Days past its due date on the scoring day (0 or less: not yet overdue). */
  daysOverdue: number;
  /** P(not collected within COLLECTION_HORIZON_DAYS of the scoring day). */
  pNotCollected: number;
}

/** The open debt's horizon: collected within 90 days of the scoring day, or not. */
export const COLLECTION_HORIZON_DAYS = 90;
/** Overdue debt at most this likely to be collected within the horizon is named in the reason ("doubtful"). */
export const DOUBTFUL_P_COLLECT = 0.5;

/**
 * An open invoice's P(not collected within 90 days of `day`): overdue, 1 − its collection chance (the collection
 * heads set to the ledger's own survival history); not yet overdue, or from a model without collection heads,
 * the chance its pay date lies more than 90 days out (no likelier than late at all while it is due within them).
 * An invoice due after the 90 days is not owed within them: its risk is the chance of its pay date lying more than
 * 90 days after its due date (read from the day, that chance was ≈ 1 for any invoice on long terms, so a customer
 * paying on time with nothing overdue and one invoice due in four months scored high).
 */
export function pNotCollected(
  s: Pick<InvoiceScore, 'pLate' | 'pCollect90' | 'payDateP10' | 'predictedPayDate' | 'payDateP90'>,
  day: number,
  dueDay: number,
): number {
  if (dueDay < day && s.pCollect90 !== null) return 1 - s.pCollect90;
  const dueIn = dueDay - day;
  const beyond = survivalFromQuantiles(
    dayNumber(s.payDateP10) - day,
    dayNumber(s.predictedPayDate) - day,
    dayNumber(s.payDateP90) - day,
    dueIn < COLLECTION_HORIZON_DAYS ? COLLECTION_HORIZON_DAYS : dueIn + COLLECTION_HORIZON_DAYS,
  );
  return Math.min(s.pLate, beyond);
}

export interface OpenDebtRisk {
  /** 0–100: 100 × Σ balance × P(not collected within 90 days) / Σ balance over the customer's open invoices. */
  score: number;
  /** "$4,611 overdue 680+ days, <1% chance of collection within 90 days"; null without doubtful overdue debt. */
  reason: string | null;
}

/** "$4,611": a reason's amount in whole units of its currency. */
const moneyWords = (minor: number, currency: string) =>
  formatMoney(Math.round(minor), currency, 'en-US', { whole: true, lenient: true });

const percentWords = (p: number) => (p < 0.005 ? '<1%' : `${Math.round(p * 100)}%`);

/** A customer's credit on account in one currency: unapplied payments and open credit memos (minor units). */
export interface CustomerCredit {
  customerId: string;
  currency: string;
  creditMinor: number;
}

/**
 * Per customer, the collection risk of what is open (see the module comment): the amount-weighted P(not collected
 * within 90 days) of its open invoices, as a 0–100 score on the same scale and band cut-offs as the habit, and the
 * doubtful part in words: the overdue invoices at most DOUBTFUL_P_COLLECT likely to be collected within 90 days,
 * their amount, the youngest one's days overdue and their amount-weighted chance of collection. Amounts in different
 * currencies are not converted (there are no exchange rates) nor added: each currency's share of the open balance
 * at risk is weighed by its share of the customer's open invoices (₫50,000,000 doubtful beside $20,000 collectable
 * was 96/100 added as minor units, a $20,000 debt beside ₫50,000,000 collectable 4/100); the reason names the
 * currency whose doubtful debt weighs most in the score. A customer with nothing open has no entry.
 *
 * Credit on account (`credits`: unapplied payments and open credit memos) is netted per currency as a controller
 * applies it: to the customer's most overdue invoices first (the riskier first on the same due date), and what it
 * covers counts as collected (the money is already held). The share stays one of the invoices' open balance: $9,000
 * of credit against $10,000 never to be collected is 10/100, not 100 (it was 100, as if all of it were owed). The
 * reason says so: "…, net of $9,000 credit on account", or, when the credit covers all of the doubtful debt, "$9,000
 * credit on account covers the $10,000 overdue 450+ days" (credit to apply, not debt to chase). Credit in a currency
 * the customer owes nothing in offsets nothing. A job billed with its parent (`payerOf`) is netted with its payer, as
 * reminders count it: the parent's credit covers the job's invoices too, and the job's credit the parent's.
 */
export function openDebtRisks(
  invoices: readonly OpenInvoiceRisk[],
  credits: readonly CustomerCredit[] = [],
  /** A job billed with its parent → the customer who pays it: their credit and open invoices are netted together. */
  payerOf: ReadonlyMap<string, string> = new Map(),
): Map<string, OpenDebtRisk> {
  const key = (customerId: string, currency: string) =>
    `${payerOf.get(customerId) ?? customerId}\u0000${currency}`;
  const creditOf = new Map<string, number>();
  for (const c of credits)
    if (c.creditMinor > 0) {
      const k = key(c.customerId, c.currency);
      creditOf.set(k, (creditOf.get(k) ?? 0) + c.creditMinor);
    }
  const open = invoices.filter((inv) => inv.balanceMinor > 0);
  // What is still owed on each invoice once the payer's credit in its currency is applied: most overdue first, then
  // the least likely to be collected.
  const owed = open.map((inv) => inv.balanceMinor);
  const byPayer = Map.groupBy(
    open.map((_, i) => i),
    (i) => key(open[i]!.customerId, open[i]!.currency),
  );
  for (const [k, rows] of byPayer) {
    let credit = creditOf.get(k) ?? 0;
    if (credit <= 0) continue;
    rows.sort(
      (x, y) =>
        open[y]!.daysOverdue - open[x]!.daysOverdue || open[y]!.pNotCollected - open[x]!.pNotCollected,
    );
    for (const i of rows) {
      const offset = Math.min(credit, owed[i]!);
      owed[i]! -= offset;
      credit -= offset;
      if (credit <= 0) break;
    }
  }
  const grouped = Map.groupBy(
    open.map((_, i) => i),
    (i) => open[i]!.customerId,
  );
  const out = new Map<string, OpenDebtRisk>();
  for (const [customerId, rows] of grouped) {
    let share = 0;
    let reason: string | null = null;
    let weightiest = 0;
    let covered: string | null = null;
    let coveredWeight = 0;
    // In currency-code order: on a tie of weights the reason names the same debt whatever order the ledger was read
    // in (it is read unordered).
    const byCurrency = [...Map.groupBy(rows, (i) => open[i]!.currency)].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    for (const [currency, list] of byCurrency) {
      let total = 0;
      let atRisk = 0;
      let applied = 0;
      let doubtful: Doubtful | null = null;
      let doubtfulGross: Doubtful | null = null;
      for (const i of list) {
        const inv = open[i]!;
        const p = Math.min(1, Math.max(0, inv.pNotCollected));
        total += inv.balanceMinor;
        atRisk += owed[i]! * p;
        applied += inv.balanceMinor - owed[i]!;
        if (inv.daysOverdue > 0 && 1 - p <= DOUBTFUL_P_COLLECT) {
          doubtfulGross = addDoubtful(doubtfulGross, inv.balanceMinor, p, inv.daysOverdue);
          if (owed[i]! > 0) doubtful = addDoubtful(doubtful, owed[i]!, p, inv.daysOverdue);
        }
      }
      const weight = list.length / rows.length;
      share += (weight * atRisk) / total;
      if (doubtful && (weight * doubtful.minor) / total > weightiest) {
        weightiest = (weight * doubtful.minor) / total;
        const net = applied > 0 ? `, net of ${moneyWords(applied, currency)} credit on account` : '';
        reason = `${moneyWords(doubtful.minor, currency)} overdue ${daysWords(doubtful.days)}+ days, ${percentWords(doubtful.collect / doubtful.minor)} chance of collection within ${COLLECTION_HORIZON_DAYS} days${net}`;
      } else if (!doubtful && doubtfulGross && (weight * doubtfulGross.minor) / total > coveredWeight) {
        coveredWeight = (weight * doubtfulGross.minor) / total;
        covered = `${moneyWords(applied, currency)} credit on account covers the ${moneyWords(doubtfulGross.minor, currency)} overdue ${daysWords(doubtfulGross.days)}+ days`;
      }
    }
    out.set(customerId, { score: Math.round(100 * share), reason: reason ?? covered });
  }
  return out;
}

/** Overdue debt at most DOUBTFUL_P_COLLECT likely to be collected: amount, expected collection, youngest days overdue. */
interface Doubtful {
  minor: number;
  collect: number;
  days: number;
}

function addDoubtful(d: Doubtful | null, minor: number, p: number, days: number): Doubtful {
  const r = d ?? { minor: 0, collect: 0, days: Number.POSITIVE_INFINITY };
  r.minor += minor;
  r.collect += minor * (1 - p);
  r.days = Math.min(r.days, days);
  return r;
}

/** Days overdue as a reason says them: exact under 20, else rounded down to tens ("450+"). */
const daysWords = (days: number) => (days >= 20 ? Math.floor(days / 10) * 10 : days);

/**
 * The customers' risks with their open debt: the score becomes the worse of the habit and the open debt's collection
 * risk; the habit, the trend and the alert are kept as they were.
 */
export function withOpenDebt(
  risks: readonly CustomerRisk[],
  debts: ReadonlyMap<string, OpenDebtRisk>,
): CustomerRisk[] {
  return risks.map((r) => {
    const d = debts.get(r.customerId);
    if (!d) return { ...r, score: r.habitScore, openDebtScore: null, openDebtReason: null };
    return { ...r, score: Math.max(r.habitScore, d.score), openDebtScore: d.score, openDebtReason: d.reason };
  });
}

/**
 * A scoring run's open invoices as the open-debt score reads them: each scored invoice's due date and currency from
 * its ledger row, what is owed on it (`balances`, else its amount) and its pNotCollected as of `day`.
 */
export function openInvoiceRisks(
  history: readonly LedgerInvoice[],
  scores: readonly InvoiceScore[],
  day: number,
  balances?: ReadonlyMap<string, number>,
): OpenInvoiceRisk[] {
  const scored = new Map(scores.map((s) => [s.invoiceId, s]));
  const out: OpenInvoiceRisk[] = [];
  for (const r of history) {
    const s = scored.get(r.invoiceId);
    if (!s) continue;
    const due = dayNumber(r.dueDate);
    out.push({
      customerId: r.customerId,
      currency: r.currency,
      balanceMinor: balances?.get(r.invoiceId) ?? r.amountMinor,
      daysOverdue: day - due,
      pNotCollected: pNotCollected(s, day, due),
    });
  }
  return out;
}
