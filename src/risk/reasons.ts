/**
 * Plain-word reasons for a score. Each feature's pull on the logistic log-odds is coef * standardized value;
 * correlated features are summed into one topic (otherwise "late rate", "median days late" and "mean days
 * late" would fill all three slots with the same fact), and the strongest topics are worded from the
 * customer's actual history.
 */
import { F, FEATURE_NAMES, type FeatureName, type SettledOutcome } from './features';
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
};

const TOPICS = [...new Set(Object.values(TOPIC))];
const TOPIC_OF_FEATURE = FEATURE_NAMES.map((f) => TOPICS.indexOf(TOPIC[f]));

export interface ReasonContext {
  /** The feature row of the invoice (FEATURE_NAMES order). */
  row: ArrayLike<number>;
  /** The customer's last settled invoices before the as-of day, oldest first. */
  recent: readonly SettledOutcome[];
  /** The final P(late) and the population late rate: whether the reasons should explain "risky" or "safe". */
  pLate: number;
  baseRate: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const span = (values: number[]) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? `${lo}` : `${lo}–${hi}`;
};

function word(topic: Topic, up: boolean, { row, recent }: ReasonContext): string | null {
  const x = (f: FeatureName) => row[F[f]]!;
  switch (topic) {
    case 'history': {
      if (x('cold_start') === 1) return 'new customer: no payment history yet';
      const late = recent.filter((r) => r.daysLate > 0);
      if (up && late.length > 0) {
        return late.length === recent.length
          ? `paid the last ${plural(recent.length, 'invoice')} ${span(late.map((r) => r.daysLate))} days late`
          : `paid ${late.length} of the last ${plural(recent.length, 'invoice')} late (by ${span(late.map((r) => r.daysLate))} days)`;
      }
      if (!up && late.length === 0) return `paid the last ${plural(recent.length, 'invoice')} on time`;
      return up
        ? `usually pays about ${Math.round(x('mean_days_late'))} days after the due date`
        : `usually pays on time (${Math.round((1 - x('late_rate')) * 100)}% of invoices)`;
    }
    case 'recent': {
      const last = recent.slice(-3);
      if (last.length === 0) return null;
      const avg = Math.round(last.reduce((s, r) => s + r.daysLate, 0) / last.length);
      return up
        ? `recent payments are slower: the last ${plural(last.length, 'invoice')} averaged ${avg > 0 ? `${avg} days late` : `${-avg} days early`}`
        : `recent payments are faster than usual (last ${plural(last.length, 'invoice')} averaged ${avg > 0 ? `${avg} days late` : `${-avg} days early`})`;
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
      if (toDue < 0) return `already ${plural(-toDue, 'day')} past due`;
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
  if (toDue < 0) out.push(`already ${plural(-toDue, 'day')} past due`);
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
