/**
 * Point-in-time features for an (invoice, day D) pair. "As of D" means the start of day D: the history is the
 * customer's invoices issued before D and the payments dated before D; an invoice paid on or after D is open.
 * The invoice being scored is always treated as open at D and never counts in its own history. The same code
 * serves training samples, backtests and live scoring, so what the model learns is what it is given later.
 *
 * Speed: `buildLedgerIndex` sorts each customer's invoices once (by issue, due, payment and close day) with
 * prefix sums, so a feature row costs a few binary searches plus a scan of the last few settled invoices.
 */
import { dayNumber, type LedgerInvoice } from './ledger';

export const FEATURE_NAMES = [
  'log_settled_count',
  'cold_start',
  'late_rate',
  'mean_days_to_pay',
  'mean_days_late',
  'recent_median_days_to_pay',
  'recent_median_days_late',
  'last3_mean_days_late',
  'last3_late_share',
  'last_days_late',
  'late_trend',
  'log_tenure_days',
  'log_open_count',
  'log_open_amount',
  'log_overdue_count',
  'log_overdue_amount',
  'log_amount',
  'amount_vs_usual',
  'terms_days',
  'delivery_email',
  'delivery_print',
  'issue_month_sin',
  'issue_month_cos',
  'issue_weekday',
  'age_days',
  'days_to_due',
  'terms_vs_usual',
  'habit_days_late',
  'same_delivery_days_late',
  'same_delivery_late_rate',
  'log_same_delivery_count',
  'delivery_adjusted_days_late',
  'base_remaining',
  'base_remaining_adjusted',
  'habit_mode_offset',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;
/** Column of each feature, so readers never hard-code positions. */
export const F = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])) as Record<FeatureName, number>;

/**
 * Bayesian shrinkage of customer averages toward the training population: a customer with n settled invoices
 * gets (sum + strength * prior) / (n + strength). Cold-start customers get the prior itself.
 */
export interface FeaturePriors {
  lateRate: number;
  daysToPay: number;
  daysLate: number;
  strength: number;
  /**
   * Mean days late of the population per delivery code (unknown, email, print). Absent in older manifests: every
   * code then falls back to `daysLate`.
   */
  daysLateByDelivery?: [number, number, number];
  /**
   * Days late by delivery code within a customer (fixed-effects contrast; only differences matter): what a
   * customer's invoices sent one way say about an invoice sent another way. Absent in older manifests: the
   * population means `daysLateByDelivery` serve instead.
   */
  deliveryShift?: [number, number, number];
}
export const DEFAULT_PRIORS: FeaturePriors = { lateRate: 0.35, daysToPay: 30, daysLate: 0, strength: 4 };

/** Settled invoices in the recent window (median days-to-pay / days-late). */
const RECENT_WINDOW = 6;
/** Settled invoices behind the habit baseline (median days late): long enough to be stable, still recent. */
const HABIT_WINDOW = 24;
const LAST_FEW = 3;
/**
 * Settled invoices sent the same way as the scored one (email / paper / unknown) behind the same-delivery habit,
 * searched among at most SAME_DELIVERY_SCAN recent ones: a customer who moved to paperless billing pays on a
 * different clock from then on, and their older paper invoices describe the old one.
 */
const SAME_DELIVERY_WINDOW = 24;
const SAME_DELIVERY_SCAN = 60;
/** Same-delivery invoices needed before their median replaces the all-invoice habit in the pay-date baseline. */
const SAME_DELIVERY_MIN = 2;

/**
 * Settled invoices (any delivery) behind the delivery-adjusted level, and the share trimmed from each end of their
 * deviations: a trimmed mean is steadier than the median on evenly noisy payers and, unlike the mean, ignores the
 * odd invoice paid months late.
 */
const ADJUSTED_WINDOW = 24;
const TRIM = 0.2;

export const deliveryCode = (d: LedgerInvoice['delivery']) => (d === 'email' ? 1 : d === 'print' ? 2 : 0);

interface CustomerHistory {
  /** Issue days ascending, with prefix sums of amount and log amount (length n+1). */
  issueDay: Int32Array;
  cumAmount: Float64Array;
  cumLogAmount: Float64Array;
  /** Prefix sums of payment terms (due - issue) in issue order. */
  cumTerms: Float64Array;
  /** Due days ascending, with prefix sums of amount. */
  dueDay: Int32Array;
  cumDueAmount: Float64Array;
  /** Settled invoices by payment day ascending: outcome per invoice and prefix sums. */
  paidDay: Int32Array;
  paidId: string[];
  paidDaysToPay: Int32Array;
  paidDaysLate: Int32Array;
  /** Delivery code (0 unknown, 1 email, 2 print) of each settled invoice. */
  paidDelivery: Uint8Array;
  cumPaidAmount: Float64Array;
  cumLate: Float64Array;
  cumDaysToPay: Float64Array;
  cumDaysLate: Float64Array;
  /** Settled invoices by max(paid, due) ascending: an invoice stops being "overdue and open" on that day. */
  closeDay: Int32Array;
  cumCloseAmount: Float64Array;
}

export interface LedgerIndex {
  customers: Map<string, CustomerHistory>;
  /** Row of each invoice id in the flat arrays below: the indexed copy of a scored invoice, removed from its own history. */
  rowOf: Map<string, number>;
  customerOf: string[];
  issueOf: Int32Array;
  dueOf: Int32Array;
  /** UNPAID for open invoices. */
  paidOf: Int32Array;
  amountOf: Float64Array;
}

const UNPAID = -2_147_483_648;

/** Amounts enter features in major units on a log scale; cents would only shift log_amount by a constant. */
const major = (minor: number) => minor / 100;

export function buildLedgerIndex(history: readonly LedgerInvoice[]): LedgerIndex {
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
  const customers = new Map<string, CustomerHistory>();
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

/** Number of entries < day in an ascending array. */
function countBefore(sorted: Int32Array, day: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < day) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Scratch space for the recent window: rows are computed one at a time and synchronously, and scoring 100k
// invoices without per-row arrays keeps the garbage collector out of the profile.
const windowDaysToPay = new Float64Array(RECENT_WINDOW);
const windowDaysLate = new Float64Array(RECENT_WINDOW);
const habitDaysLate = new Float64Array(HABIT_WINDOW);
const sameDaysLate = new Float64Array(SAME_DELIVERY_WINDOW);
const adjustedDaysLate = new Float64Array(ADJUSTED_WINDOW);
const sortScratch = new Float64Array(Math.max(HABIT_WINDOW, SAME_DELIVERY_WINDOW, ADJUSTED_WINDOW));

/** Mean of the first n values without the lowest and highest fifth (sorted into scratch; n <= its length). */
function trimmedMeanOf(values: Float64Array, n: number): number {
  medianOf(values, n);
  const cut = Math.floor(n * TRIM);
  let s = 0;
  for (let i = cut; i < n - cut; i++) s += sortScratch[i]!;
  return s / (n - 2 * cut);
}

/** Half-width of the pay-date window the mode is centred on (the ±3-day share the product reports). */
const MODE_HALF_WIDTH = 3;
/** Share of the habit window the mode's week must hold beyond the median's (chosen on the selection weeks). */
const MODE_GAIN = 0.05;

/**
 * Centre of the 7-day window holding the most of the first n values (a "shorth" mode), the one nearest the median
 * among equally full windows: where a customer pays in bursts (a weekly payment run), the date most often hit
 * within ±3 days, which the median between two bursts is not. Reads the n values `medianOf` just sorted into
 * scratch (no second sort on the scoring path). On the selection weeks of the SAP ledger, due date + this mode put
 * 79.8 % of warm customers' invoices within ±3 days (+ median: 77.7 %) at a slightly lower MAE; on the IBM sample
 * it does worse and the model leaves it out (`modeShift` 0).
 */
function modeOfSorted(n: number, median: number): number {
  let best = 0;
  let centre = median;
  let distance = Infinity;
  for (let i = 0, j = 0; i < n; i++) {
    const lo = sortScratch[i]!;
    while (j < n && sortScratch[j]! <= lo + 2 * MODE_HALF_WIDTH) j++;
    // Values i..j-1 fit in a window starting at lo; every centre in [last - 3, lo + 3] holds exactly them.
    const count = j - i;
    if (count < best) continue;
    const c = Math.min(Math.max(median, sortScratch[j - 1]! - MODE_HALF_WIDTH), lo + MODE_HALF_WIDTH);
    const d = Math.abs(c - median);
    if (count > best || d < distance) {
      best = count;
      centre = c;
      distance = d;
    }
  }
  // The median unless the mode's window clearly holds more (by a twentieth of the history, at least one invoice):
  // a payer spread evenly keeps the median, which the mode would only make noisier.
  const m = Math.round(median);
  let atMedian = 0;
  for (let i = 0; i < n; i++) if (Math.abs(sortScratch[i]! - m) <= MODE_HALF_WIDTH) atMedian++;
  return best - atMedian >= Math.max(1, MODE_GAIN * n) ? centre : median;
}

/** Median of the first n values (insertion sort into scratch; n <= its length). */
function medianOf(values: Float64Array, n: number): number {
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= 0 && sortScratch[j]! > v) {
      sortScratch[j + 1] = sortScratch[j]!;
      j--;
    }
    sortScratch[j + 1] = v;
  }
  const m = n >>> 1;
  return n % 2 ? sortScratch[m]! : (sortScratch[m - 1]! + sortScratch[m]!) / 2;
}

export interface SettledOutcome {
  invoiceId: string;
  paidDay: number;
  daysToPay: number;
  daysLate: number;
}

/** The customer's last `k` invoices settled before `day`, oldest first (used by features and by reasons). */
export function recentSettled(
  index: LedgerIndex,
  customerId: string,
  day: number,
  k: number,
  excludeInvoiceId?: string,
): SettledOutcome[] {
  const h = index.customers.get(customerId);
  if (!h) return [];
  const out: SettledOutcome[] = [];
  for (let i = countBefore(h.paidDay, day) - 1; i >= 0 && out.length < k; i--) {
    if (h.paidId[i] === excludeInvoiceId) continue;
    out.push({
      invoiceId: h.paidId[i]!,
      paidDay: h.paidDay[i]!,
      daysToPay: h.paidDaysToPay[i]!,
      daysLate: h.paidDaysLate[i]!,
    });
  }
  return out.reverse();
}

/**
 * Writes the feature row of `invoice` as of the start of `day` into `out` at `offset`. `invoice` need not be in
 * the index (a draft invoice can be scored); when it is, its own row is excluded from the customer's history.
 */
export function writeFeatures(
  index: LedgerIndex,
  invoice: LedgerInvoice,
  day: number,
  priors: FeaturePriors,
  out: Float32Array,
  offset: number,
): void {
  const issue = dayNumber(invoice.invoiceDate);
  const due = dayNumber(invoice.dueDate);
  const amount = major(invoice.amountMinor);
  const h = index.customers.get(invoice.customerId);

  let issued = 0;
  let issuedAmount = 0;
  let issuedLogAmount = 0;
  let issuedTerms = 0;
  let firstIssue = day;
  let settled = 0;
  let late = 0;
  let sumDaysToPay = 0;
  let sumDaysLate = 0;
  let openCount = 0;
  let openAmount = 0;
  let overdueCount = 0;
  let overdueAmount = 0;
  /** Invoices in the recent window, newest first in windowDaysToPay / windowDaysLate. */
  let recent = 0;
  /** Invoices in the habit window, newest first in habitDaysLate. */
  let habit = 0;
  /** Same-delivery invoices, newest first in sameDaysLate, and how many of them were late. */
  let same = 0;
  let sameLate = 0;
  /** Recent settled invoices' days late, each minus its delivery's population mean (newest first). */
  let adjusted = 0;
  const byDelivery = priors.daysLateByDelivery;
  const shift = priors.deliveryShift ?? byDelivery;
  const delivery = deliveryCode(invoice.delivery);
  if (h) {
    issued = countBefore(h.issueDay, day);
    issuedAmount = h.cumAmount[issued]!;
    issuedLogAmount = h.cumLogAmount[issued]!;
    issuedTerms = h.cumTerms[issued]!;
    if (issued > 0) firstIssue = h.issueDay[0]!;
    settled = countBefore(h.paidDay, day);
    late = h.cumLate[settled]!;
    sumDaysToPay = h.cumDaysToPay[settled]!;
    sumDaysLate = h.cumDaysLate[settled]!;
    openCount = issued - settled;
    openAmount = issuedAmount - h.cumPaidAmount[settled]!;
    const dueBefore = countBefore(h.dueDay, day);
    const closedBefore = countBefore(h.closeDay, day);
    overdueCount = dueBefore - closedBefore;
    overdueAmount = h.cumDueAmount[dueBefore]! - h.cumCloseAmount[closedBefore]!;
    for (
      let i = settled - 1, scanned = 0;
      i >= 0 && scanned < SAME_DELIVERY_SCAN && same < SAME_DELIVERY_WINDOW;
      i--
    ) {
      if (h.paidId[i] === invoice.invoiceId) continue;
      scanned++;
      if (adjusted < ADJUSTED_WINDOW)
        adjustedDaysLate[adjusted++] =
          h.paidDaysLate[i]! - (shift ? shift[h.paidDelivery[i]!]! : priors.daysLate);
      if (h.paidDelivery[i] !== delivery) continue;
      sameDaysLate[same++] = h.paidDaysLate[i]!;
      if (h.paidDaysLate[i]! > 0) sameLate++;
    }
    for (let i = settled - 1; i >= 0 && habit < HABIT_WINDOW; i--) {
      if (h.paidId[i] === invoice.invoiceId) continue;
      habitDaysLate[habit++] = h.paidDaysLate[i]!;
      if (recent < RECENT_WINDOW) {
        windowDaysToPay[recent] = h.paidDaysToPay[i]!;
        windowDaysLate[recent] = h.paidDaysLate[i]!;
        recent++;
      }
    }

    // Remove the scored invoice from its own history, using the copy the index holds.
    const self = index.rowOf.get(invoice.invoiceId);
    if (self !== undefined && index.customerOf[self] === invoice.customerId && index.issueOf[self]! < day) {
      const selfIssue = index.issueOf[self]!;
      const selfDue = index.dueOf[self]!;
      const selfPaid = index.paidOf[self]!;
      const selfAmount = index.amountOf[self]!;
      issued -= 1;
      issuedLogAmount -= Math.log1p(selfAmount);
      issuedTerms -= selfDue - selfIssue;
      if (selfPaid !== UNPAID && selfPaid < day) {
        settled -= 1;
        late -= selfPaid > selfDue ? 1 : 0;
        sumDaysToPay -= selfPaid - selfIssue;
        sumDaysLate -= selfPaid - selfDue;
      } else {
        openCount -= 1;
        openAmount -= selfAmount;
        if (selfDue < day) {
          overdueCount -= 1;
          overdueAmount -= selfAmount;
        }
      }
    }
  }

  const { lateRate, daysToPay, daysLate, strength } = priors;
  const lastFew = Math.min(recent, LAST_FEW);
  let lastFewSumLate = 0;
  let lastFewLate = 0;
  for (let i = 0; i < lastFew; i++) {
    lastFewSumLate += windowDaysLate[i]!;
    if (windowDaysLate[i]! > 0) lastFewLate++;
  }
  const meanDaysLate = (sumDaysLate + strength * daysLate) / (settled + strength);
  const lastFewMeanLate = lastFew ? lastFewSumLate / lastFew : daysLate;
  const month = Number(invoice.invoiceDate.slice(5, 7));
  const weekday = (((issue + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday

  const v = out.subarray(offset, offset + FEATURE_COUNT);
  v[F.log_settled_count] = Math.log1p(settled);
  v[F.cold_start] = settled === 0 ? 1 : 0;
  v[F.late_rate] = (late + strength * lateRate) / (settled + strength);
  v[F.mean_days_to_pay] = (sumDaysToPay + strength * daysToPay) / (settled + strength);
  v[F.mean_days_late] = meanDaysLate;
  v[F.recent_median_days_to_pay] = recent ? medianOf(windowDaysToPay, recent) : daysToPay;
  v[F.recent_median_days_late] = recent ? medianOf(windowDaysLate, recent) : daysLate;
  v[F.last3_mean_days_late] = lastFewMeanLate;
  v[F.last3_late_share] = lastFew ? lastFewLate / lastFew : lateRate;
  v[F.last_days_late] = recent ? windowDaysLate[0]! : daysLate;
  v[F.late_trend] = lastFew ? lastFewMeanLate - meanDaysLate : 0;
  v[F.log_tenure_days] = Math.log1p(Math.max(0, day - firstIssue));
  v[F.log_open_count] = Math.log1p(Math.max(0, openCount));
  v[F.log_open_amount] = Math.log1p(Math.max(0, openAmount));
  v[F.log_overdue_count] = Math.log1p(Math.max(0, overdueCount));
  v[F.log_overdue_amount] = Math.log1p(Math.max(0, overdueAmount));
  v[F.log_amount] = Math.log1p(amount);
  v[F.amount_vs_usual] = issued > 0 ? Math.log1p(amount) - issuedLogAmount / issued : 0;
  v[F.terms_days] = due - issue;
  v[F.delivery_email] = invoice.delivery === 'email' ? 1 : 0;
  v[F.delivery_print] = invoice.delivery === 'print' ? 1 : 0;
  v[F.issue_month_sin] = Math.sin((2 * Math.PI * (month - 1)) / 12);
  v[F.issue_month_cos] = Math.cos((2 * Math.PI * (month - 1)) / 12);
  v[F.issue_weekday] = weekday;
  v[F.age_days] = Math.max(0, day - issue);
  v[F.days_to_due] = due - day;
  v[F.terms_vs_usual] = issued > 0 ? due - issue - issuedTerms / issued : 0;
  // The customer's habit relative to the terms: due date plus their recent median days late (the prior for a
  // new customer). It is the baseline the pay-date heads correct, so term length never has to be learned.
  v[F.habit_days_late] = habit ? medianOf(habitDaysLate, habit) : daysLate;
  // How far the habit window's most crowded week lies from its median (0 for an even payer or a new customer):
  // the model may move its P50 date by it (`modeShift`). Read now, while scratch holds the sorted habit window.
  v[F.habit_mode_offset] = habit ? modeOfSorted(habit, v[F.habit_days_late]!) - v[F.habit_days_late]! : 0;
  v[F.same_delivery_days_late] = same ? medianOf(sameDaysLate, same) : v[F.habit_days_late]!;
  // Shrunk toward the customer's own late rate (itself shrunk toward the population's).
  v[F.same_delivery_late_rate] = (sameLate + strength * v[F.late_rate]!) / (same + strength);
  v[F.log_same_delivery_count] = Math.log1p(same);
  // The customer's level relative to the population, measured on all their recent invoices whatever the delivery
  // (each against its own delivery's mean), put back on the scored invoice's delivery: a customer who just went
  // paperless keeps their level without waiting for new email-invoice history.
  v[F.delivery_adjusted_days_late] = adjusted
    ? (shift ? shift[delivery]! : priors.daysLate) + trimmedMeanOf(adjustedDaysLate, adjusted)
    : byDelivery
      ? byDelivery[delivery]!
      : priors.daysLate;
  const usualLate = same >= SAME_DELIVERY_MIN ? v[F.same_delivery_days_late]! : v[F.habit_days_late]!;
  v[F.base_remaining] = Math.max(0, due + usualLate - day);
  // The same baseline from the delivery-adjusted level; the model mixes the two (`baseMix`, chosen per ledger).
  v[F.base_remaining_adjusted] = Math.max(0, due + v[F.delivery_adjusted_days_late]! - day);
}

export interface FeatureQuery {
  invoice: LedgerInvoice;
  day: number;
}

/** Row-major float32 matrix (queries × FEATURE_COUNT): the exact tensor the ONNX model receives. */
export function featureMatrix(
  index: LedgerIndex,
  queries: readonly FeatureQuery[],
  priors: FeaturePriors,
): Float32Array {
  const out = new Float32Array(queries.length * FEATURE_COUNT);
  queries.forEach((q, i) => {
    writeFeatures(index, q.invoice, q.day, priors, out, i * FEATURE_COUNT);
  });
  return out;
}
