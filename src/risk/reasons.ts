/**
 * Plain-word reasons for a score. Each feature's pull on the logistic log-odds is coef * standardized value;
 * correlated features are summed into one topic (otherwise "late rate", "median days late" and "mean days
 * late" would fill all three slots with the same fact), and the strongest topics are worded from the
 * customer's actual history.
 */
import { roughSpan } from '../../connectors/dates';
import {
  countBefore,
  F,
  FEATURE_COUNT,
  FEATURE_NAMES,
  type FeatureName,
  type LedgerIndex,
  type SettledOutcome,
} from './features';
import type { LogisticModel } from './logreg';

type Topic = 'history' | 'recent' | 'overdue' | 'amount' | 'delivery' | 'timing' | 'tenure' | 'calendar';

const TOPIC: Record<FeatureName, Topic> = {
  log_settled_count: 'history',
  cold_start: 'history',
  late_rate: 'history',
  mean_days_to_pay: 'history',
  mean_days_late: 'history',
  recent_median_days_to_pay: 'history',
  recent_median_days_late: 'history',
  last3_mean_days_late: 'recent',
  last3_late_share: 'recent',
  last_days_late: 'recent',
  late_trend: 'recent',
  log_tenure_days: 'tenure',
  log_open_count: 'overdue',
  log_open_amount: 'overdue',
  log_overdue_count: 'overdue',
  log_overdue_amount: 'overdue',
  log_amount: 'amount',
  amount_vs_usual: 'amount',
  terms_days: 'timing',
  delivery_email: 'delivery',
  delivery_print: 'delivery',
  issue_month_sin: 'calendar',
  issue_month_cos: 'calendar',
  issue_weekday: 'calendar',
  age_days: 'timing',
  days_to_due: 'timing',
  terms_vs_usual: 'timing',
  habit_days_late: 'history',
  same_delivery_days_late: 'history',
  same_delivery_late_rate: 'history',
  log_same_delivery_count: 'history',
  delivery_adjusted_days_late: 'history',
  base_remaining: 'history',
  base_remaining_adjusted: 'history',
  habit_mode_offset: 'history',
  heuristic_p_late: 'history',
  heuristic_days_late: 'history',
};

/** The topics in order of first appearance, and each feature's topic (its index in TOPICS). */
export const TOPICS = [...new Set(Object.values(TOPIC))];
export const TOPIC_OF_FEATURE = FEATURE_NAMES.map((f) => TOPICS.indexOf(TOPIC[f]));
const TIMING = TOPICS.indexOf('timing');

export interface ReasonContext {
  /** The feature row of the invoice (FEATURE_NAMES order). */
  row: ArrayLike<number>;
  /** The customer's last settled invoices before the as-of day, oldest first. */
  recent: readonly SettledOutcome[];
  /** The final P(late) and the population late rate: whether the reasons should explain "risky" or "safe". */
  pLate: number;
  baseRate: number;
}

/**
 * Where `word` reads the days late of the customer's recent settled invoices (oldest first; all the reasons quote of
 * them): a list given up front (`explain`), or read from the ledger index the first time a reason needs it
 * (`explainScored`: into scratch, no outcome objects per invoice).
 */
interface RecentSource {
  late: Float64Array;
  /** How many of `late` hold values (-1: not read yet). */
  count: number;
  index: LedgerIndex | null;
  customerId: string;
  /** The scored invoice's ledger row when known (-1: not known): its customer's history without a lookup by id. */
  row: number;
  day: number;
  excludeInvoiceId: string | undefined;
}

/** Settled invoices the reasons quote ("paid the last 6 invoices on time"). */
export const RECENT_REASONS = 6;

/**
 * Fills `source.late` if not yet read and returns how many: the days late of recentSettled(index, customerId, day,
 * RECENT_REASONS, excludeInvoiceId), oldest first, read the same way without building its objects.
 */
function recentOf(source: RecentSource): number {
  if (source.count >= 0) return source.count;
  const index = source.index!;
  const h =
    source.row >= 0 && index.customerOf[source.row] === source.customerId
      ? index.histories[index.groupOf[source.row]!]
      : index.customers.get(source.customerId);
  let n = 0;
  if (h) {
    for (let i = countBefore(h.paidDay, source.day) - 1; i >= 0 && n < RECENT_REASONS; i--) {
      if (h.paidId[i] === source.excludeInvoiceId) continue;
      newestFirst[n++] = h.paidDaysLate[i]!;
    }
  }
  for (let k = 0; k < n; k++) source.late[k] = newestFirst[n - 1 - k]!;
  source.count = n;
  return n;
}
const newestFirst = new Float64Array(RECENT_REASONS);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "already 12 days past due"; a year or more also in months or years: "already 1077 days past due (about 3 years)". */
export function pastDueText(days: number): string {
  const span = roughSpan(days);
  return `already ${plural(days, 'day')} past due${span ? ` (${span})` : ''}`;
}

/** The days of a reason worded by pastDueText, else null: a customer's reasons keep only its oldest invoice's. */
export function pastDueDays(reason: string): number | null {
  const m = /^already (\d+) days? past due/.exec(reason);
  return m ? Number(m[1]) : null;
}

/**
 * Reason texts already worded, by what they are worded from: the same handful of texts serve 100k invoices, so
 * a batch keeps one copy of each instead of building (and the collector copying) three new strings per invoice.
 * A text depends on nothing but its key, so a cache can never be stale; each is emptied when it grows past CACHE_MAX
 * (keys such as days late are unbounded on a hostile ledger).
 */
const CACHE_MAX = 4096;
const texts = {
  paidLate: new Map<number, string>(),
  onTime: new Map<number, string>(),
  usuallyLate: new Map<number, string>(),
  usuallyOnTime: new Map<number, string>(),
  recent: new Map<number, string>(),
  overdue: new Map<number, string>(),
  open: new Map<number, string>(),
  larger: new Map<string, string>(),
  smaller: new Map<string, string>(),
  pastDue: new Map<number, string>(),
  dueIn: new Map<number, string>(),
  terms: new Map<number, string>(),
  recentCustomer: new Map<number, string>(),
  months: new Map<number, string>(),
};
/** Largest days late the paid-late key packs (2^21 days; a larger one is worded without the cache). */
const PACK = 2_097_152;

function remember<K>(cache: Map<K, string>, key: K, text: string): string {
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, text);
  return text;
}

function word(
  topic: Topic,
  up: boolean,
  row: ArrayLike<number>,
  at: number,
  source: RecentSource,
): string | null {
  switch (topic) {
    case 'history': {
      if (row[at + F.cold_start]! === 1) return 'new customer: no payment history yet';
      const n = recentOf(source);
      let late = 0;
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < n; k++) {
        const d = source.late[k]!;
        if (d > 0) {
          late++;
          if (d < lo) lo = d;
          if (d > hi) hi = d;
        }
      }
      if (up && late > 0) {
        // n, late <= RECENT_REASONS < 8; lo and hi are whole days late, >= 1.
        const packable = Number.isInteger(lo) && Number.isInteger(hi) && hi < PACK;
        const key = packable ? ((hi * PACK + lo) * 8 + n) * 8 + late : -1;
        const known = packable ? texts.paidLate.get(key) : undefined;
        if (known !== undefined) return known;
        const span = lo === hi ? plural(lo, 'day') : `${lo}–${hi} days`;
        const text =
          late === n
            ? `paid the last ${plural(n, 'invoice')} ${span} late`
            : `paid ${late} of the last ${plural(n, 'invoice')} late (by ${span})`;
        return packable ? remember(texts.paidLate, key, text) : text;
      }
      if (!up && late === 0)
        return (
          texts.onTime.get(n) ?? remember(texts.onTime, n, `paid the last ${plural(n, 'invoice')} on time`)
        );
      if (up) {
        const days = Math.round(row[at + F.mean_days_late]!);
        return (
          texts.usuallyLate.get(days) ??
          remember(texts.usuallyLate, days, `usually pays about ${plural(days, 'day')} after the due date`)
        );
      }
      const share = Math.round((1 - row[at + F.late_rate]!) * 100);
      return (
        texts.usuallyOnTime.get(share) ??
        remember(texts.usuallyOnTime, share, `usually pays on time (${share}% of invoices)`)
      );
    }
    case 'recent': {
      const n = recentOf(source);
      const from = Math.max(0, n - 3);
      const count = n - from;
      if (count === 0) return null;
      let sum = 0;
      for (let k = from; k < n; k++) sum += source.late[k]!;
      const avg = Math.round(sum / count);
      // count <= 3, so (count, up) fits below 16; a non-integer average (not whole days) is worded uncached.
      const key = Number.isInteger(avg) ? avg * 16 + count * 2 + (up ? 1 : 0) : Number.NaN;
      const known = texts.recent.get(key);
      if (known !== undefined) return known;
      const text = up
        ? `recent payments are slower: the last ${plural(count, 'invoice')} averaged ${avg > 0 ? `${plural(avg, 'day')} late` : `${plural(-avg, 'day')} early`}`
        : `recent payments are faster than usual (last ${plural(count, 'invoice')} averaged ${avg > 0 ? `${plural(avg, 'day')} late` : `${plural(-avg, 'day')} early`})`;
      return Number.isInteger(avg) ? remember(texts.recent, key, text) : text;
    }
    case 'overdue': {
      const overdue = Math.round(Math.expm1(row[at + F.log_overdue_count]!));
      const open = Math.round(Math.expm1(row[at + F.log_open_count]!));
      if (up)
        return overdue > 0
          ? (texts.overdue.get(overdue) ??
              remember(texts.overdue, overdue, `has ${plural(overdue, 'other invoice')} already overdue`))
          : (texts.open.get(open) ?? remember(texts.open, open, `has ${plural(open, 'other open invoice')}`));
      return overdue === 0 ? 'no other invoices overdue' : null;
    }
    case 'amount': {
      const ratio = Math.exp(row[at + F.amount_vs_usual]!);
      if (ratio >= 1.5) {
        const r = ratio.toFixed(1);
        return (
          texts.larger.get(r) ?? remember(texts.larger, r, `invoice is ${r}× this customer's usual amount`)
        );
      }
      if (ratio <= 0.67) {
        const r = ratio.toFixed(1);
        return (
          texts.smaller.get(r) ??
          remember(texts.smaller, r, `invoice is smaller than this customer's usual (${r}×)`)
        );
      }
      return up ? 'larger invoice amount than most customers' : 'small invoice amount';
    }
    case 'delivery':
      if (row[at + F.delivery_print]! === 1) return 'invoice is sent on paper';
      if (row[at + F.delivery_email]! === 1) return 'invoice is sent by email';
      return null;
    case 'timing': {
      const toDue = row[at + F.days_to_due]!;
      if (toDue < 0) return texts.pastDue.get(toDue) ?? remember(texts.pastDue, toDue, pastDueText(-toDue));
      if (up)
        return (
          texts.dueIn.get(toDue) ??
          remember(texts.dueIn, toDue, `due in ${plural(toDue, 'day')} and still unpaid`)
        );
      const terms = row[at + F.terms_days]!;
      return texts.terms.get(terms) ?? remember(texts.terms, terms, `${plural(terms, 'day')} payment terms`);
    }
    case 'tenure': {
      const days = Math.round(Math.expm1(row[at + F.log_tenure_days]!));
      if (days < 90)
        return (
          texts.recentCustomer.get(days) ??
          remember(texts.recentCustomer, days, `recent customer (${plural(days, 'day')})`)
        );
      const months = Math.round(days / 30);
      return (
        texts.months.get(months) ?? remember(texts.months, months, `customer for ${plural(months, 'month')}`)
      );
    }
    case 'calendar':
      return up
        ? 'issued in a period when payments tend to be slower'
        : 'issued in a period when payments tend to be faster';
  }
}

/**
 * Up to `k` reasons, strongest first. Reasons that push the way the score went (up when P(late) is above the
 * population rate, down when below) come before those that pull against it; a past-due invoice always leads with how late
 * it already is.
 */
export function explain(
  logistic: Pick<LogisticModel, 'coef' | 'mean' | 'scale'>,
  ctx: ReasonContext,
  k = 3,
): string[] {
  const source: RecentSource = {
    late: Float64Array.from(ctx.recent, (r) => r.daysLate),
    count: ctx.recent.length,
    index: null,
    customerId: '',
    row: -1,
    day: 0,
    excludeInvoiceId: undefined,
  };
  return reasonsAt(logistic, ctx.row, 0, ctx.pLate >= ctx.baseRate ? 1 : -1, source, k);
}

/**
 * `explain` for row `i` of a scoring batch's feature matrix X, its recent settled invoices read from `index` only
 * if a reason quotes them: the same reasons as explain({ row: that row, recent: recentSettled(index, customerId,
 * day, RECENT_REASONS, invoiceId), pLate, baseRate }) without a row view or the recent list per invoice. `row`: the
 * invoice's ledger row in `index` when the caller knows it (its customer's history is then read without a lookup).
 */
export function explainScored(
  logistic: Pick<LogisticModel, 'coef' | 'mean' | 'scale'>,
  X: Float32Array,
  i: number,
  pLate: number,
  baseRate: number,
  index: LedgerIndex,
  invoice: { invoiceId: string; customerId: string },
  day: number,
  row = -1,
  k = 3,
): string[] {
  scored.count = -1;
  scored.index = index;
  scored.customerId = invoice.customerId;
  scored.row = row;
  scored.day = day;
  scored.excludeInvoiceId = invoice.invoiceId;
  const out = reasonsAt(logistic, X, i * FEATURE_COUNT, pLate >= baseRate ? 1 : -1, scored, k);
  scored.index = null;
  return out;
}

const scored: RecentSource = {
  late: new Float64Array(RECENT_REASONS),
  count: -1,
  index: null,
  customerId: '',
  row: -1,
  day: 0,
  excludeInvoiceId: undefined,
};

// Scratch of the ranking (reasons are worded one invoice at a time, synchronously): the topics' pulls, and the
// order Array.prototype.sort ranks them in, started from topic order each time as `TOPICS.map((_, t) => t)` would.
const pulls = new Float64Array(TOPICS.length);
const ranked = TOPICS.map((_, t) => t);
let direction = 1;
/** Aligned with the direction first, then the strongest pull (a module function: no comparator per invoice). */
function byPull(a: number, b: number): number {
  const aligned = Number(pulls[b]! * direction > 0) - Number(pulls[a]! * direction > 0);
  return aligned !== 0 ? aligned : Math.abs(pulls[b]!) - Math.abs(pulls[a]!);
}

/**
 * Sorts `ranked` by `byPull`, stably: a plain insertion sort over the eight topics (what Array.prototype.sort
 * returns for a consistent comparator, without its set-up per invoice). A NaN pull, or a second infinite one (a
 * feature that is not a finite number), makes the comparator inconsistent: the built-in sort then decides, as before.
 */
function rank(): void {
  let infinite = 0;
  for (let t = 0; t < pulls.length; t++) {
    if (Number.isNaN(pulls[t]!)) infinite = 2;
    else if (!Number.isFinite(pulls[t]!)) infinite++;
  }
  if (infinite > 1) {
    ranked.sort(byPull);
    return;
  }
  for (let i = 1; i < ranked.length; i++) {
    const topic = ranked[i]!;
    let j = i - 1;
    while (j >= 0 && byPull(ranked[j]!, topic) > 0) {
      ranked[j + 1] = ranked[j]!;
      j--;
    }
    ranked[j + 1] = topic;
  }
}

function reasonsAt(
  logistic: Pick<LogisticModel, 'coef' | 'mean' | 'scale'>,
  row: ArrayLike<number>,
  at: number,
  sign: number,
  source: RecentSource,
  k: number,
): string[] {
  pulls.fill(0);
  const { coef, mean, scale } = logistic;
  for (let j = 0; j < coef.length; j++) {
    pulls[TOPIC_OF_FEATURE[j]!]! += (coef[j]! * (row[at + j]! - mean[j]!)) / scale[j]!;
  }
  if (row[at + F.days_to_due]! < 0) pulls[TIMING] = Number.POSITIVE_INFINITY;
  direction = sign;
  for (let t = 0; t < ranked.length; t++) ranked[t] = t;
  rank();
  // Picked into scratch and returned as an exact-size copy (an array grown by push keeps spare slots, and 100k
  // results keep theirs).
  let count = 0;
  for (let r = 0; r < ranked.length; r++) {
    const t = ranked[r]!;
    const text = word(TOPICS[t]!, pulls[t]! > 0, row, at, source);
    if (text) {
      let repeated = false;
      for (let c = 0; c < count; c++) if (picked[c] === text) repeated = true;
      if (!repeated) picked[count++] = text;
    }
    if (count === k) break;
  }
  return picked.slice(0, count);
}
const picked: string[] = [];

export interface HeuristicReasonContext {
  /** The invoice's feature row: the rule reads the smoothed late rate and the recent median days to pay. */
  row: ArrayLike<number>;
  /** The customer's last settled invoices before the as-of day (the rule's median window), oldest first. */
  recent: readonly SettledOutcome[];
  /** Population rates used for a customer without history. */
  priors: { lateRate: number; daysToPay: number };
}

/**
 * Reasons when the tenant scores with the customer-history rule of thumb (manifest `scoring: 'heuristic'`): what
 * that rule actually read, with its numbers: the customer's late rate and median days to pay (or, for a customer
 * without history, the all-customer rates), after how late the invoice already is. No model coefficients: the rule
 * has none.
 */
export function explainHeuristic({ row, recent, priors }: HeuristicReasonContext): string[] {
  const x = (f: FeatureName) => row[F[f]]!;
  const pct = (p: number) => `${Math.round(p * 100)}%`;
  const out: string[] = [];
  const toDue = x('days_to_due');
  if (toDue < 0) out.push(pastDueText(-toDue));
  if (x('cold_start') === 1 || recent.length === 0) {
    out.push(
      `new customer: no payment history yet, so the all-customer figures are used (${pct(priors.lateRate)} of invoices paid late, paid ${plural(Math.round(priors.daysToPay), 'day')} after the invoice date on average)`,
    );
    return out;
  }
  const settled = Math.round(Math.expm1(x('log_settled_count')));
  const late = recent.filter((r) => r.daysLate > 0).length;
  out.push(
    `${pct(x('late_rate'))} chance of paying late from its history (${late} of the last ${recent.length} paid late; ${plural(settled, 'paid invoice')} in all)`,
  );
  out.push(
    `usually pays ${plural(Math.round(x('recent_median_days_to_pay')), 'day')} after the invoice date (median of the last ${plural(recent.length, 'invoice')}; ${plural(x('terms_days'), 'day')} terms on this one)`,
  );
  return out;
}
