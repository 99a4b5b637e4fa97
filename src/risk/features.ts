/**
 * Point-in-time features for an (invoice, day D) pair. "As of D" means the start of day D: the history is the
 * customer's invoices issued before D and the payments dated before D; an invoice paid on or after D is open.
 * The invoice being scored is always treated as open at D and never counts in its own history. The same code
 * serves training samples, backtests and live scoring, so what the model learns is what it is given later.
 *
 * Speed: `buildLedgerIndex` sorts each customer's invoices once (by issue, due, payment and close day, counting
 * sorts over the whole ledger) with prefix sums, so a feature row costs a few binary searches plus a scan of the
 * last few settled invoices.
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
  'heuristic_p_late',
  'heuristic_days_late',
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
  /**
   * The same averages per segment (`segmentKey`: the customer's country), for segments with enough settled
   * invoices, each shrunk toward the ledger-wide figures by its count: a customer's averages are shrunk toward
   * their segment's (a new customer starts from it). Absent in older manifests, for a customer without a country
   * and for a segment not listed: the ledger-wide figures serve.
   */
  segments?: Record<string, SegmentPrior>;
}
export interface SegmentPrior {
  lateRate: number;
  daysToPay: number;
  daysLate: number;
  /** Settled invoices behind the figures. */
  count: number;
}
/**
 * The segment of similar payers an invoice belongs to: its customer's country (null: none). On the selection weeks
 * the IBM sample's countries separate payers (late rate 0.26 to 0.50 by country) and segment priors raised its AUC;
 * the SAP export's currencies (USD / CAD, late rate 0.40 / 0.78) as segments lowered its AUC and raised its Brier,
 * so currency is not a segment.
 */
export const segmentKey = (invoice: Pick<LedgerInvoice, 'country'>): string | null => invoice.country;
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
 * A customer whose last HABIT_WINDOW settled invoices had other payment terms too: the median days late of those on
 * the scored invoice's terms replaces the habit in the pay-date baseline when it lies more than this many days from
 * it (a customer paying cash-on-delivery invoices on their net-30 schedule is 30 days "late" on those and on time on
 * the rest; within the ±3-day window the all-invoice habit, on more invoices, stands). On the SAP export's selection
 * weeks: pay-date MAE −0.24 d, ±3 d +0.7 point; without the margin −0.17 d but −0.3 point; with 7 days −0.19 d,
 * +0.5 point; requiring two invoices on the terms −0.05 d (README, weekly replay).
 */
const SAME_TERMS_MARGIN = 3;

/**
 * Settled invoices (any delivery) behind the delivery-adjusted level, and the share trimmed from each end of their
 * deviations: a trimmed mean is steadier than the median on evenly noisy payers and, unlike the mean, ignores the
 * odd invoice paid months late.
 */
const ADJUSTED_WINDOW = 24;
const TRIM = 0.2;

export const deliveryCode = (d: LedgerInvoice['delivery']) => (d === 'email' ? 1 : d === 'print' ? 2 : 0);

export interface CustomerHistory {
  /** Issue days ascending, with prefix sums of amount and log amount (length n+1). */
  issueDay: Int32Array;
  /** Ledger row of each entry of issueDay (ties in ledger order). */
  issueRow: Int32Array;
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

/**
 * A ledger's rows by customer, sorted for point-in-time reads. Invoice ids are unique in a ledger (the CSV import
 * rejects repeats; the database's are keys): a feature row finds the scored invoice's own copy among its customer's
 * rows, so no ledger-wide id → row map is built.
 */
export interface LedgerIndex {
  customers: Map<string, CustomerHistory>;
  /** Per ledger row (history order): the invoice id, customer, day numbers (UNPAID: open) and amount. */
  idOf: string[];
  customerOf: string[];
  issueOf: Int32Array;
  dueOf: Int32Array;
  /** UNPAID for open invoices. */
  paidOf: Int32Array;
  amountOf: Float64Array;
  /**
   * Per ledger row, its customer's entry in `histories` (the same object `customers` maps the customer id to): a
   * caller that knows an invoice's row reads its customer's history without a lookup by id.
   */
  groupOf: Int32Array;
  histories: CustomerHistory[];
}

/** `paidOf` of an open invoice (no payment date). */
export const UNPAID = -2_147_483_648;

/** Amounts enter features in major units on a log scale; cents would only shift log_amount by a constant. */
const major = (minor: number) => minor / 100;

/** Widest day range sorted by counting (4 MiB of counts); a wider one (dates centuries apart) sorts by comparison. */
const COUNTING_SPAN = 1 << 20;

/**
 * `rows` stably sorted by key[row] into `out` (a counting sort over the days from `min`, `counts` of the span's
 * length; ties keep their order in `rows`, as Array.prototype.sort would).
 */
function sortByDay(
  rows: Int32Array,
  key: Int32Array,
  min: number,
  counts: Int32Array | null,
  out: Int32Array,
): void {
  if (counts === null) {
    out.set(Array.from(rows).sort((a, b) => key[a]! - key[b]!));
    return;
  }
  counts.fill(0);
  for (let k = 0; k < rows.length; k++) counts[key[rows[k]!]! - min]!++;
  for (let v = 0, sum = 0; v < counts.length; v++) {
    const c = counts[v]!;
    counts[v] = sum;
    sum += c;
  }
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    out[counts[key[r]! - min]!++] = r;
  }
}

/** `rows` grouped by customer into `out` (group g from start[g]), keeping their order within each group. */
function groupRows(rows: Int32Array, groupOf: Int32Array, start: Int32Array, out: Int32Array): void {
  const fill = start.slice(0, start.length - 1);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    out[fill[groupOf[r]!]!++] = r;
  }
}

export function buildLedgerIndex(history: readonly LedgerInvoice[]): LedgerIndex {
  // Dates are converted once into flat arrays. Each of the four per-customer orders (issue, due, payment, close
  // day) is one stable counting sort of the whole ledger by day followed by a stable grouping by customer: the
  // same order a stable per-customer sort of the ledger rows gives, in linear time and without comparator calls.
  // Each customer's typed arrays are then filled in plain loops.
  const n = history.length;
  const idOf: string[] = new Array(n);
  const issueOf = new Int32Array(n);
  const dueOf = new Int32Array(n);
  const paidOf = new Int32Array(n);
  const closeOf = new Int32Array(n);
  const amountOf = new Float64Array(n);
  const deliveryOf = new Uint8Array(n);
  const customerOf: string[] = new Array(n);
  const groupOf = new Int32Array(n);
  const groupIndex = new Map<string, number>();
  const groupIds: string[] = [];
  let sizes = new Int32Array(64);
  let settledSizes = new Int32Array(64);
  let settledCount = 0;
  let minDay = Number.POSITIVE_INFINITY;
  let maxDay = Number.NEGATIVE_INFINITY;
  let lastCustomer: string | undefined;
  let lastGroup: number | undefined;
  for (let i = 0; i < n; i++) {
    const inv = history[i]!;
    idOf[i] = inv.invoiceId;
    customerOf[i] = inv.customerId;
    // Read back from the typed arrays: the bounds must be those of the stored (int32) values.
    issueOf[i] = dayNumber(inv.invoiceDate);
    dueOf[i] = dayNumber(inv.dueDate);
    const issue = issueOf[i]!;
    const due = dueOf[i]!;
    amountOf[i] = major(inv.amountMinor);
    deliveryOf[i] = deliveryCode(inv.delivery);
    if (issue < minDay) minDay = issue;
    if (issue > maxDay) maxDay = issue;
    if (due < minDay) minDay = due;
    if (due > maxDay) maxDay = due;
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
        const grownSettled = new Int32Array(sizes.length);
        grownSettled.set(settledSizes);
        settledSizes = grownSettled;
      }
    }
    groupOf[i] = g;
    sizes[g]!++;
    if (inv.paidDate === null) paidOf[i] = UNPAID;
    else {
      paidOf[i] = dayNumber(inv.paidDate);
      const paid = paidOf[i]!;
      closeOf[i] = Math.max(paid, due);
      if (paid < minDay) minDay = paid;
      if (paid > maxDay) maxDay = paid;
      settledSizes[g]!++;
      settledCount++;
    }
    lastCustomer = inv.customerId;
    lastGroup = g;
  }
  const groups = groupIds.length;
  const start = new Int32Array(groups + 1);
  const settledStart = new Int32Array(groups + 1);
  for (let g = 0; g < groups; g++) {
    start[g + 1] = start[g]! + sizes[g]!;
    settledStart[g + 1] = settledStart[g]! + settledSizes[g]!;
  }
  const all = new Int32Array(n);
  const settledRows = new Int32Array(settledCount);
  for (let i = 0, j = 0; i < n; i++) {
    all[i] = i;
    if (paidOf[i] !== UNPAID) settledRows[j++] = i;
  }
  const span = n === 0 ? 0 : maxDay - minDay + 1;
  const counts = span <= COUNTING_SPAN ? new Int32Array(span) : null;
  const scratch = new Int32Array(n);
  const scratchSettled = new Int32Array(settledCount);
  const byIssue = new Int32Array(n);
  const byDue = new Int32Array(n);
  const byPaid = new Int32Array(settledCount);
  const byClose = new Int32Array(settledCount);
  sortByDay(all, issueOf, minDay, counts, scratch);
  groupRows(scratch, groupOf, start, byIssue);
  sortByDay(all, dueOf, minDay, counts, scratch);
  groupRows(scratch, groupOf, start, byDue);
  // By payment day, then issue day: sorted by issue first, then stably by payment.
  sortByDay(settledRows, issueOf, minDay, counts, byPaid);
  sortByDay(byPaid, paidOf, minDay, counts, scratchSettled);
  groupRows(scratchSettled, groupOf, settledStart, byPaid);
  sortByDay(settledRows, closeOf, minDay, counts, scratchSettled);
  groupRows(scratchSettled, groupOf, settledStart, byClose);

  // Every customer's arrays are views of ledger-wide ones (thousands of small typed arrays of their own cost more
  // to allocate than the rest of the index): customer g's rows from start[g], its prefix sums (one longer, from 0)
  // from start[g] + g, and the same for its settled invoices.
  const issueDays = new Int32Array(n);
  const dueDays = new Int32Array(n);
  const cumAmounts = new Float64Array(n + groups);
  const cumLogAmounts = new Float64Array(n + groups);
  const cumTermsAll = new Float64Array(n + groups);
  const cumDueAmounts = new Float64Array(n + groups);
  const paidDays = new Int32Array(settledCount);
  const daysToPay = new Int32Array(settledCount);
  const daysLate = new Int32Array(settledCount);
  const deliveries = new Uint8Array(settledCount);
  const closeDays = new Int32Array(settledCount);
  const cumPaidAmounts = new Float64Array(settledCount + groups);
  const cumLates = new Float64Array(settledCount + groups);
  const cumDaysToPayAll = new Float64Array(settledCount + groups);
  const cumDaysLateAll = new Float64Array(settledCount + groups);
  const cumCloseAmounts = new Float64Array(settledCount + groups);
  const customers = new Map<string, CustomerHistory>();
  const histories: CustomerHistory[] = new Array(groups);
  for (let g = 0; g < groups; g++) {
    const from = start[g]!;
    const to = start[g + 1]!;
    for (let k = from, c = from + g; k < to; k++, c++) {
      const i = byIssue[k]!;
      issueDays[k] = issueOf[i]!;
      cumAmounts[c + 1] = cumAmounts[c]! + amountOf[i]!;
      cumLogAmounts[c + 1] = cumLogAmounts[c]! + Math.log1p(amountOf[i]!);
      cumTermsAll[c + 1] = cumTermsAll[c]! + (dueOf[i]! - issueOf[i]!);
      const j = byDue[k]!;
      dueDays[k] = dueOf[j]!;
      cumDueAmounts[c + 1] = cumDueAmounts[c]! + amountOf[j]!;
    }
    const settledFrom = settledStart[g]!;
    const settledTo = settledStart[g + 1]!;
    const paidId: string[] = new Array(settledTo - settledFrom);
    // A settled invoice leaves "due before D and still open" on max(paid, due): counting every settled invoice
    // here keeps (due before D) minus (closed before D) equal to "overdue and still open at D".
    for (let k = settledFrom, c = settledFrom + g; k < settledTo; k++, c++) {
      const i = byPaid[k]!;
      const paid = paidOf[i]!;
      const toPay = paid - issueOf[i]!;
      const late = paid - dueOf[i]!;
      paidDays[k] = paid;
      paidId[k - settledFrom] = idOf[i]!;
      daysToPay[k] = toPay;
      daysLate[k] = late;
      deliveries[k] = deliveryOf[i]!;
      cumPaidAmounts[c + 1] = cumPaidAmounts[c]! + amountOf[i]!;
      cumLates[c + 1] = cumLates[c]! + (paid > dueOf[i]! ? 1 : 0);
      cumDaysToPayAll[c + 1] = cumDaysToPayAll[c]! + toPay;
      cumDaysLateAll[c + 1] = cumDaysLateAll[c]! + late;
      const j = byClose[k]!;
      closeDays[k] = closeOf[j]!;
      cumCloseAmounts[c + 1] = cumCloseAmounts[c]! + amountOf[j]!;
    }
    const cumFrom = from + g;
    const cumTo = to + g + 1;
    const settledCumFrom = settledFrom + g;
    const settledCumTo = settledTo + g + 1;
    const entry: CustomerHistory = {
      issueDay: issueDays.subarray(from, to),
      issueRow: byIssue.subarray(from, to),
      cumAmount: cumAmounts.subarray(cumFrom, cumTo),
      cumLogAmount: cumLogAmounts.subarray(cumFrom, cumTo),
      cumTerms: cumTermsAll.subarray(cumFrom, cumTo),
      dueDay: dueDays.subarray(from, to),
      cumDueAmount: cumDueAmounts.subarray(cumFrom, cumTo),
      paidDay: paidDays.subarray(settledFrom, settledTo),
      paidId,
      paidDaysToPay: daysToPay.subarray(settledFrom, settledTo),
      paidDaysLate: daysLate.subarray(settledFrom, settledTo),
      paidDelivery: deliveries.subarray(settledFrom, settledTo),
      cumPaidAmount: cumPaidAmounts.subarray(settledCumFrom, settledCumTo),
      cumLate: cumLates.subarray(settledCumFrom, settledCumTo),
      cumDaysToPay: cumDaysToPayAll.subarray(settledCumFrom, settledCumTo),
      cumDaysLate: cumDaysLateAll.subarray(settledCumFrom, settledCumTo),
      closeDay: closeDays.subarray(settledFrom, settledTo),
      cumCloseAmount: cumCloseAmounts.subarray(settledCumFrom, settledCumTo),
    };
    histories[g] = entry;
    customers.set(groupIds[g]!, entry);
  }
  return { customers, idOf, customerOf, issueOf, dueOf, paidOf, amountOf, groupOf, histories };
}

/** Number of entries < day in an ascending array. */
export function countBefore(sorted: Int32Array, day: number): number {
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
const termsDaysLate = new Float64Array(HABIT_WINDOW);
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

/**
 * The window arrays' last sorts: a batch's rows of one customer as of one day reuse the same windows (the scans'
 * reuse in writeFeatures), so each window is sorted once and later copied back into scratch. `windowsFilled` moves
 * whenever the scans write the windows; a memo is valid only for the fill it was taken from.
 */
let windowsFilled = 0;
const WINDOWS: Float64Array[] = [
  windowDaysToPay,
  windowDaysLate,
  habitDaysLate,
  sameDaysLate,
  adjustedDaysLate,
];
const sortedMemo = WINDOWS.map(() => new Float64Array(sortScratch.length));
const memoFill = WINDOWS.map(() => -1);
const memoN = WINDOWS.map(() => -1);

/** Median of the first n values (insertion sort into scratch; n <= its length). */
function medianOf(values: Float64Array, n: number): number {
  const w = WINDOWS.indexOf(values);
  if (w >= 0 && memoFill[w] === windowsFilled && memoN[w] === n) {
    const sorted = sortedMemo[w]!;
    for (let i = 0; i < n; i++) sortScratch[i] = sorted[i]!;
  } else {
    sortInto(values, n);
    if (w >= 0) {
      const sorted = sortedMemo[w]!;
      for (let i = 0; i < n; i++) sorted[i] = sortScratch[i]!;
      memoFill[w] = windowsFilled;
      memoN[w] = n;
    }
  }
  const m = n >>> 1;
  return n % 2 ? sortScratch[m]! : (sortScratch[m - 1]! + sortScratch[m]!) / 2;
}

/** The first n values sorted into scratch (insertion sort). */
function sortInto(values: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= 0 && sortScratch[j]! > v) {
      sortScratch[j + 1] = sortScratch[j]!;
      j--;
    }
    sortScratch[j + 1] = v;
  }
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
 * The last row's window scans, reused by the next row of the same customer, day and delivery while `featureMatrix`
 * runs (on: only there, and cleared after, so no index outlives its batch here).
 */
const scans = {
  on: false,
  /** The previous row's customer and day, and its four counts (binary searches) as of that day. */
  countsH: null as CustomerHistory | null,
  countsDay: 0,
  issued: 0,
  settled: 0,
  dueBefore: 0,
  closedBefore: 0,
  h: null as CustomerHistory | null,
  day: 0,
  delivery: 0,
  priors: null as FeaturePriors | null,
  skipId: null as string | null,
  same: 0,
  sameLate: 0,
  adjusted: 0,
  habit: 0,
  recent: 0,
  /** The rows' window statistics are known for these scans (they depend on the windows alone). */
  statsKnown: false,
  medianDaysToPay: 0,
  medianDaysLate: 0,
  medianHabit: 0,
  modeHabit: 0,
  medianSame: 0,
  trimmedAdjusted: 0,
  /** The last same-terms habit read for these scans: its terms and `usual` (Object.is), and what it gave. */
  termsKnown: false,
  terms: 0,
  termsUsual: 0,
  termsHabit: 0,
};

/** The scans' window statistics are unknown (new windows). */
function forgetStats(): void {
  scans.statsKnown = false;
  scans.termsKnown = false;
}

/** Month (1–12) of a YYYY-MM-DD date: its digits, or Number() of the text when they are not two digits. */
function monthOf(isoDate: string): number {
  const a = isoDate.charCodeAt(5) - 48;
  const b = isoDate.charCodeAt(6) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 && isoDate.length >= 7
    ? a * 10 + b
    : Number(isoDate.slice(5, 7));
}

/**
 * The ledger row of invoice `id` among the customer's rows (-1: not there). Its own issue day is looked at first
 * (a binary search and usually one comparison); an invoice whose dates differ from its indexed copy, or one not in
 * the ledger, costs a scan of the customer's rows.
 */
function rowIn(index: LedgerIndex, h: CustomerHistory, id: string, issue: number): number {
  const rows = h.issueRow;
  for (let k = countBefore(h.issueDay, issue); k < rows.length && h.issueDay[k] === issue; k++) {
    if (index.idOf[rows[k]!] === id) return rows[k]!;
  }
  for (let k = 0; k < rows.length; k++) if (index.idOf[rows[k]!] === id) return rows[k]!;
  return -1;
}

/**
 * Writes the feature row of `invoice` as of the start of `day` into `out` at `offset`. `invoice` need not be in
 * the index (a draft invoice can be scored); when it is, its own row is excluded from the customer's history.
 * `row`, when the caller knows it, is the invoice's row in the index (-1: not in it; the row's dates are the
 * invoice's), saving the search for it and the date conversions.
 */
export function writeFeatures(
  index: LedgerIndex,
  invoice: LedgerInvoice,
  day: number,
  priors: FeaturePriors,
  out: Float32Array,
  offset: number,
  row?: number,
): void {
  // The indexed copy's day numbers when the caller gave its row (the same dates, already converted).
  const issue = row !== undefined && row >= 0 ? index.issueOf[row]! : dayNumber(invoice.invoiceDate);
  const due = row !== undefined && row >= 0 ? index.dueOf[row]! : dayNumber(invoice.dueDate);
  const amount = major(invoice.amountMinor);
  // The row's customer entry when the caller gave the row (and the invoice's customer is the indexed copy's).
  const h =
    row !== undefined && row >= 0 && index.customerOf[row] === invoice.customerId
      ? index.histories[index.groupOf[row]!]
      : index.customers.get(invoice.customerId);

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
  /** The scored invoice's id when it is among its customer's settled invoices before `day` (skipped in scans). */
  let selfSettledId: string | null = null;
  /** Settled invoices before `day`, the scored one included (where the scans start). */
  let settledBefore = 0;
  /** The window statistics may be read from `scans` (this row reuses the previous row's scans). */
  let reused = false;
  const byDelivery = priors.daysLateByDelivery;
  const shift = priors.deliveryShift ?? byDelivery;
  const delivery = deliveryCode(invoice.delivery);
  if (h) {
    // Rows of one customer as of one day share their counts.
    let dueBefore: number;
    let closedBefore: number;
    if (scans.on && scans.countsH === h && scans.countsDay === day) {
      issued = scans.issued;
      settled = scans.settled;
      dueBefore = scans.dueBefore;
      closedBefore = scans.closedBefore;
    } else {
      issued = countBefore(h.issueDay, day);
      settled = countBefore(h.paidDay, day);
      dueBefore = countBefore(h.dueDay, day);
      closedBefore = countBefore(h.closeDay, day);
      if (scans.on) {
        scans.countsH = h;
        scans.countsDay = day;
        scans.issued = issued;
        scans.settled = settled;
        scans.dueBefore = dueBefore;
        scans.closedBefore = closedBefore;
      }
    }
    issuedAmount = h.cumAmount[issued]!;
    issuedLogAmount = h.cumLogAmount[issued]!;
    issuedTerms = h.cumTerms[issued]!;
    if (issued > 0) firstIssue = h.issueDay[0]!;
    settledBefore = settled;
    late = h.cumLate[settled]!;
    sumDaysToPay = h.cumDaysToPay[settled]!;
    sumDaysLate = h.cumDaysLate[settled]!;
    openCount = issued - settled;
    openAmount = issuedAmount - h.cumPaidAmount[settled]!;
    overdueCount = dueBefore - closedBefore;
    overdueAmount = h.cumDueAmount[dueBefore]! - h.cumCloseAmount[closedBefore]!;
    // The settled list holds the invoice itself only if it was paid before `day` (ids are unique): only then do
    // the scans compare ids.
    const self = row ?? rowIn(index, h, invoice.invoiceId, issue);
    const skipId =
      self >= 0 && index.paidOf[self] !== UNPAID && index.paidOf[self]! < day ? invoice.invoiceId : null;
    selfSettledId = skipId;
    if (
      scans.on &&
      scans.h === h &&
      scans.day === day &&
      scans.delivery === delivery &&
      scans.priors === priors &&
      scans.skipId === null &&
      skipId === null
    ) {
      // The same scans as the previous row's (a batch scores all of a customer's open invoices as of one day): the
      // window scratch arrays still hold their values.
      same = scans.same;
      sameLate = scans.sameLate;
      adjusted = scans.adjusted;
      habit = scans.habit;
      recent = scans.recent;
      reused = true;
    } else {
      windowsFilled++;
      if (scans.on) forgetStats();
      for (
        let i = settled - 1, scanned = 0;
        i >= 0 && scanned < SAME_DELIVERY_SCAN && same < SAME_DELIVERY_WINDOW;
        i--
      ) {
        if (skipId !== null && h.paidId[i] === skipId) continue;
        scanned++;
        if (adjusted < ADJUSTED_WINDOW)
          adjustedDaysLate[adjusted++] =
            h.paidDaysLate[i]! - (shift ? shift[h.paidDelivery[i]!]! : priors.daysLate);
        if (h.paidDelivery[i] !== delivery) continue;
        sameDaysLate[same++] = h.paidDaysLate[i]!;
        if (h.paidDaysLate[i]! > 0) sameLate++;
      }
      for (let i = settled - 1; i >= 0 && habit < HABIT_WINDOW; i--) {
        if (skipId !== null && h.paidId[i] === skipId) continue;
        habitDaysLate[habit++] = h.paidDaysLate[i]!;
        if (recent < RECENT_WINDOW) {
          windowDaysToPay[recent] = h.paidDaysToPay[i]!;
          windowDaysLate[recent] = h.paidDaysLate[i]!;
          recent++;
        }
      }
      if (scans.on) {
        scans.h = h;
        scans.day = day;
        scans.delivery = delivery;
        scans.priors = priors;
        scans.skipId = skipId;
        scans.same = same;
        scans.sameLate = sameLate;
        scans.adjusted = adjusted;
        scans.habit = habit;
        scans.recent = recent;
      }
    }

    // Remove the scored invoice from its own history, using the copy the index holds.
    if (self >= 0 && index.customerOf[self] === invoice.customerId && index.issueOf[self]! < day) {
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

  // The shrinkage target: the invoice's segment when the priors know it, else the whole ledger.
  // Own keys only: a country code is tenant data, and "constructor" must not find Object's.
  const segments = priors.segments;
  const segment = segments ? segmentKey(invoice) : null;
  const target =
    segment !== null && segments && Object.hasOwn(segments, segment) ? segments[segment]! : priors;
  const { lateRate, daysToPay, daysLate } = target;
  const { strength } = priors;
  const lastFew = Math.min(recent, LAST_FEW);
  let lastFewSumLate = 0;
  let lastFewLate = 0;
  for (let i = 0; i < lastFew; i++) {
    lastFewSumLate += windowDaysLate[i]!;
    if (windowDaysLate[i]! > 0) lastFewLate++;
  }
  const meanDaysLate = (sumDaysLate + strength * daysLate) / (settled + strength);
  const lastFewMeanLate = lastFew ? lastFewSumLate / lastFew : daysLate;
  const month = monthOf(invoice.invoiceDate);
  const weekday = (((issue + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday

  // The window statistics: the previous row's when this row shares its scans, else computed (and kept for the
  // next rows of the batch that share them).
  let medianDaysToPay = 0;
  let medianDaysLate = 0;
  let medianHabit = 0;
  let modeHabit = 0;
  let medianSame = 0;
  let trimmedAdjusted = 0;
  if (reused && scans.statsKnown) {
    medianDaysToPay = scans.medianDaysToPay;
    medianDaysLate = scans.medianDaysLate;
    medianHabit = scans.medianHabit;
    modeHabit = scans.modeHabit;
    medianSame = scans.medianSame;
    trimmedAdjusted = scans.trimmedAdjusted;
  } else {
    if (recent) {
      medianDaysToPay = medianOf(windowDaysToPay, recent);
      medianDaysLate = medianOf(windowDaysLate, recent);
    }
    if (habit) {
      medianHabit = medianOf(habitDaysLate, habit);
      // Read now, while scratch holds the sorted habit window; centred on the median as the row stores it (float32).
      modeHabit = modeOfSorted(habit, Math.fround(medianHabit));
    }
    if (same) medianSame = medianOf(sameDaysLate, same);
    if (adjusted) trimmedAdjusted = trimmedMeanOf(adjustedDaysLate, adjusted);
    if (h && scans.on && scans.h === h) {
      scans.statsKnown = true;
      scans.medianDaysToPay = medianDaysToPay;
      scans.medianDaysLate = medianDaysLate;
      scans.medianHabit = medianHabit;
      scans.modeHabit = modeHabit;
      scans.medianSame = medianSame;
      scans.trimmedAdjusted = trimmedAdjusted;
    }
  }
  // Written straight into the matrix (no view per row); values read back from it are the stored float32 ones.
  const v = out;
  const o = offset;
  v[o + F.log_settled_count] = Math.log1p(settled);
  v[o + F.cold_start] = settled === 0 ? 1 : 0;
  v[o + F.late_rate] = (late + strength * lateRate) / (settled + strength);
  v[o + F.mean_days_to_pay] = (sumDaysToPay + strength * daysToPay) / (settled + strength);
  v[o + F.mean_days_late] = meanDaysLate;
  v[o + F.recent_median_days_to_pay] = recent ? medianDaysToPay : daysToPay;
  v[o + F.recent_median_days_late] = recent ? medianDaysLate : daysLate;
  v[o + F.last3_mean_days_late] = lastFewMeanLate;
  v[o + F.last3_late_share] = lastFew ? lastFewLate / lastFew : lateRate;
  v[o + F.last_days_late] = recent ? windowDaysLate[0]! : daysLate;
  v[o + F.late_trend] = lastFew ? lastFewMeanLate - meanDaysLate : 0;
  v[o + F.log_tenure_days] = Math.log1p(Math.max(0, day - firstIssue));
  v[o + F.log_open_count] = Math.log1p(Math.max(0, openCount));
  v[o + F.log_open_amount] = Math.log1p(Math.max(0, openAmount));
  v[o + F.log_overdue_count] = Math.log1p(Math.max(0, overdueCount));
  v[o + F.log_overdue_amount] = Math.log1p(Math.max(0, overdueAmount));
  v[o + F.log_amount] = Math.log1p(amount);
  v[o + F.amount_vs_usual] = issued > 0 ? Math.log1p(amount) - issuedLogAmount / issued : 0;
  v[o + F.terms_days] = due - issue;
  v[o + F.delivery_email] = invoice.delivery === 'email' ? 1 : 0;
  v[o + F.delivery_print] = invoice.delivery === 'print' ? 1 : 0;
  v[o + F.issue_month_sin] = Math.sin((2 * Math.PI * (month - 1)) / 12);
  v[o + F.issue_month_cos] = Math.cos((2 * Math.PI * (month - 1)) / 12);
  v[o + F.issue_weekday] = weekday;
  v[o + F.age_days] = Math.max(0, day - issue);
  v[o + F.days_to_due] = due - day;
  v[o + F.terms_vs_usual] = issued > 0 ? due - issue - issuedTerms / issued : 0;
  // The customer's habit relative to the terms: due date plus their recent median days late (the prior for a
  // new customer). It is the baseline the pay-date heads correct, so term length never has to be learned.
  v[o + F.habit_days_late] = habit ? medianHabit : daysLate;
  // How far the habit window's most crowded week lies from its median (0 for an even payer or a new customer):
  // the model may move its P50 date by it (`modeShift`).
  v[o + F.habit_mode_offset] = habit ? modeHabit - v[o + F.habit_days_late]! : 0;
  v[o + F.same_delivery_days_late] = same ? medianSame : v[o + F.habit_days_late]!;
  // Shrunk toward the customer's own late rate (itself shrunk toward the population's).
  v[o + F.same_delivery_late_rate] = (sameLate + strength * v[o + F.late_rate]!) / (same + strength);
  v[o + F.log_same_delivery_count] = Math.log1p(same);
  // The customer's level relative to the population, measured on all their recent invoices whatever the delivery
  // (each against its own delivery's mean), put back on the scored invoice's delivery: a customer who just went
  // paperless keeps their level without waiting for new email-invoice history. A new customer gets their delivery's
  // population mean moved by their segment's offset from the whole ledger.
  v[o + F.delivery_adjusted_days_late] = adjusted
    ? (shift ? shift[delivery]! : priors.daysLate) + trimmedAdjusted
    : (byDelivery ? byDelivery[delivery]! : priors.daysLate) + (daysLate - priors.daysLate);
  let usualLate = same >= SAME_DELIVERY_MIN ? v[o + F.same_delivery_days_late]! : v[o + F.habit_days_late]!;
  if (h) {
    const terms = due - issue;
    if (reused && scans.termsKnown && scans.terms === terms && Object.is(scans.termsUsual, usualLate)) {
      usualLate = scans.termsHabit;
    } else {
      const usual = usualLate;
      usualLate = sameTermsHabit(h, settledBefore, terms, selfSettledId, usual);
      if (scans.on && scans.h === h) {
        scans.termsKnown = true;
        scans.terms = terms;
        scans.termsUsual = usual;
        scans.termsHabit = usualLate;
      }
    }
  }
  v[o + F.base_remaining] = Math.max(0, due + usualLate - day);
  // The same baseline from the delivery-adjusted level; the model mixes the two (`baseMix`, chosen per ledger).
  v[o + F.base_remaining_adjusted] = Math.max(0, due + v[o + F.delivery_adjusted_days_late]! - day);
  // The customer-history heuristic's own P(late) and P50 date (src/risk/heuristic.ts), as the lateness classifiers'
  // inputs (stacking; the pay-date heads never see them): its late rate shrinks toward the whole ledger, not the
  // segment, and its date is the recent median days to pay (the whole ledger's for a new customer), here relative
  // to the due date.
  v[o + F.heuristic_p_late] = (late + strength * priors.lateRate) / (settled + strength);
  v[o + F.heuristic_days_late] =
    (recent ? v[o + F.recent_median_days_to_pay]! : priors.daysToPay) + issue - due;
}

/**
 * The pay-date habit on the scored invoice's terms (see SAME_TERMS_MARGIN): among the customer's last HABIT_WINDOW
 * settled invoices (newest first from `settledBefore`), the median days late of those with the same terms, when
 * others had other terms and that median lies more than the margin from `usual`; else `usual`.
 */
function sameTermsHabit(
  h: CustomerHistory,
  settledBefore: number,
  terms: number,
  skipId: string | null,
  usual: number,
): number {
  let sameTerms = 0;
  let otherTerms = 0;
  for (let i = settledBefore - 1, seen = 0; i >= 0 && seen < HABIT_WINDOW; i--) {
    if (skipId !== null && h.paidId[i] === skipId) continue;
    seen++;
    // Days to pay less days late is the invoice's terms (due − issue).
    if (h.paidDaysToPay[i]! - h.paidDaysLate[i]! === terms) termsDaysLate[sameTerms++] = h.paidDaysLate[i]!;
    else otherTerms++;
  }
  if (otherTerms === 0 || sameTerms === 0) return usual;
  const m = medianOf(termsDaysLate, sameTerms);
  return Math.abs(m - usual) > SAME_TERMS_MARGIN ? m : usual;
}

export interface FeatureQuery {
  invoice: LedgerInvoice;
  day: number;
  /** The invoice's row in the index when the caller knows it (-1: not in the ledger); see `writeFeatures`. */
  row?: number;
}

/** Row-major float32 matrix (queries × FEATURE_COUNT): the exact tensor the ONNX model receives. */
export function featureMatrix(
  index: LedgerIndex,
  queries: readonly FeatureQuery[],
  priors: FeaturePriors,
): Float32Array {
  const out = new Float32Array(queries.length * FEATURE_COUNT);
  scans.on = true;
  try {
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i]!;
      writeFeatures(index, q.invoice, q.day, priors, out, i * FEATURE_COUNT, q.row);
    }
  } finally {
    scans.on = false;
    scans.h = null;
    scans.countsH = null;
    scans.priors = null;
    forgetStats();
  }
  return out;
}
