/**
 * The tenant model's own chronological check, in plain words for Settings: how the model trained only on what
 * came before did on the tenant's most recent invoices, next to the customer-history rule of thumb.
 */
interface Estimate {
  value: number;
}
interface SliceFigures {
  auc: Estimate;
  payDateMae: Estimate;
  within3Days: Estimate;
  intervalCoverage: Estimate;
}
export interface ComparisonFigures {
  promote?: boolean;
  /** Neither this model nor the one in use beat the rule of thumb: the tenant now predicts with the rule. */
  useHeuristic?: boolean;
  metrics?: {
    invoices: number;
    slice?: { from: string; to: string };
    challenger: SliceFigures;
    heuristic: SliceFigures;
  } | null;
}

const pct = (v: number) => `${Math.round(v * 100)}%`;
const days = (v: number) => `${v.toFixed(1)} days`;

export function comparisonInWords(c: ComparisonFigures | null | undefined): string | null {
  const m = c?.metrics;
  if (!m) return null;
  const { challenger: model, heuristic: rule } = m;
  const when = m.slice ? `issued ${m.slice.from} to ${m.slice.to}` : 'most recent';
  return (
    `Checked on your ${m.invoices} paid invoices ${when}, each predicted on the day it was issued by a model trained ` +
    `only on what came before: it told late payers from punctual ones correctly ${Math.round(model.auc.value * 100)} ` +
    `times in 100 (rule of thumb from each customer's history: ${Math.round(rule.auc.value * 100)}); its pay dates were ` +
    `off by ${days(model.payDateMae.value)} on average (rule of thumb: ${days(rule.payDateMae.value)}), ` +
    `${pct(model.within3Days.value)} within 3 days (${pct(rule.within3Days.value)}); ` +
    `${pct(model.intervalCoverage.value)} of payments fell inside the predicted range.` +
    (c?.useHeuristic
      ? ' Neither this model nor the one in use did better than the rule of thumb, so Duely now predicts late payment ' +
        'and pay dates with the rule of thumb (the model still estimates when overdue invoices will be collected).'
      : '')
  );
}

/** The model in use's own time-ordered validation figures (manifest `validation`). */
export interface ValidationFigures {
  invoices: number;
  auc: number;
  brier: number;
  intervalCoverage: number;
}

/** The validation line of Settings in plain words (no AUC/Brier jargon; the numbers stay). */
export function validationInWords(v: ValidationFigures, shipped: boolean): string {
  const whose = shipped ? 'invoices of the ledgers it was built from' : 'of your invoices';
  return (
    `Checked on ${v.invoices} ${whose} issued after the ones it learnt from: it told late payers from punctual ones ` +
    `correctly ${Math.round(v.auc * 100)} times in 100; its late-payment probabilities scored ${v.brier.toFixed(3)} ` +
    `(squared error: 0 is perfect, 0.25 is a coin toss); ${pct(v.intervalCoverage)} of payments fell inside the ` +
    'predicted range.'
  );
}

/**
 * The "how well it predicted" line for the model in use. A tenant switched to the customer-history rule of thumb
 * carries the shipped model's manifest (its graph still estimates collection of overdue invoices), so its
 * `validation` is the shipped model's check on the development ledgers: never shown as the tenant's own.
 */
export function modelInUseInWords(
  active: { scoring?: 'model' | 'heuristic'; validation: ValidationFigures | null },
  isTenantModel: boolean,
): string | null {
  if (active.scoring === 'heuristic') {
    return (
      "The customer-history rule of thumb (each customer's own late rate and days to pay): no trained model beat it " +
      'on your most recent paid invoices (the check is below the model it was compared with).'
    );
  }
  return active.validation ? validationInWords(active.validation, !isTenantModel) : null;
}

/** Whose figures Settings words: the version in use when it is the tenant's own, else the newest one trained. */
export function versionToDescribe<T extends { status: string }>(versions: readonly T[]): T | null {
  return versions.find((v) => v.status === 'active') ?? versions[0] ?? null;
}

const VERSION_STATUS: Record<string, string> = {
  active: 'in use',
  retired: 'replaced by a later one',
  rejected: 'not used',
};

/**
 * One trained version in a controller's words: when it was trained, whether predictions use it, and why — not its
 * content hash and status code ("…-06c66e25 — rejected: …"; the hash stays in the row's title).
 */
export function versionInWords(
  v: { status: string; reason: string; createdAt: string },
  formatDate: (day: string) => string,
  /** Given when another version was trained the same day: the time tells them apart ("Dec 7, 9:41 AM"). */
  formatInstant?: (iso: string) => string,
): string {
  const when = formatInstant ? formatInstant(v.createdAt) : formatDate(v.createdAt.slice(0, 10));
  return `Trained ${when} — ${VERSION_STATUS[v.status] ?? v.status}: ${decisionInWords(v.status, v.reason)}`;
}

const RECENT = 'your most recent paid invoices';

/**
 * Why a version is used or not, in a controller's words. The registry's reason is the retrain's decision in
 * figures ("challenger log-loss 0.512 is not 0.005 better than the current 0.509"): Settings shows it on hover and
 * says here what it means. A reason of a shape not known here is shown as it is.
 */
export function decisionInWords(status: string, reason: string): string {
  if (reason.startsWith('kept the current predictions')) return reason;
  if (reason.includes('scoring switches to the customer-history rule of thumb'))
    return `it did not predict ${RECENT} better than the customer-history rule of thumb, which also beat the model before it: predictions now use the rule`;
  if (reason.includes('scoring stays on the customer-history rule of thumb'))
    return `it did not predict ${RECENT} better than the customer-history rule of thumb, which predictions keep using`;
  if (reason.includes('the rule of thumb does not clearly beat the current model'))
    return `it did not predict ${RECENT} better than the customer-history rule of thumb; the model in use stays`;
  if (reason.startsWith('challenger AUC'))
    return `it told late payers from punctual ones less well than the model in use on ${RECENT}`;
  if (
    reason.startsWith('challenger log-loss') &&
    status !== 'active' &&
    reason.includes('better than the current')
  )
    return `its late-payment chances were not clearly better than the model in use's on ${RECENT}`;
  if (status === 'active' || status === 'retired') {
    if (reason.startsWith('no current model'))
      return `it predicted ${RECENT} better than the customer-history rule of thumb`;
    if (reason.startsWith('challenger log-loss'))
      return `it predicted ${RECENT} better than the customer-history rule of thumb and than the model before it`;
  }
  return reason;
}

/** GET …/models `change`: the last switch of models and the open invoices by band under each. */
export interface ModelChangeFigures {
  at: string;
  from: string;
  to: string;
  before: { low: number; medium: number; high: number };
  after: { low: number; medium: number; high: number };
}

/**
 * Why the high-risk count moved when the model changed, in a controller's words: each model sets its own band cuts
 * (the riskiest fifth of its validation slice is "high"), so a new model can flag half as many invoices, or twice as
 * many, with no invoice changing ("277 → 141" on the Dashboard with nothing said).
 */
export function modelChangeInWords(c: ModelChangeFigures, formatDate: (day: string) => string): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const to = c.to.startsWith('heuristic-') ? 'the customer-history rule of thumb' : 'a new model';
  return (
    `Predictions switched to ${to} on ${formatDate(c.at.slice(0, 10))}: open invoices at high risk ` +
    `${n(c.before.high)} → ${n(c.after.high)}, medium ${n(c.before.medium)} → ${n(c.after.medium)}, low ` +
    `${n(c.before.low)} → ${n(c.after.low)} (the previous model's last scoring, the new one's first). Each model ` +
    'sets its own risk bands from the invoices it was checked on, so the counts move when the model changes even ' +
    'if no invoice did.'
  );
}
