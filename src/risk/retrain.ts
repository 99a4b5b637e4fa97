/**
 * Per-tenant retraining decisions, pure apart from running ONNX sessions. A challenger is judged on the most
 * recent slice of invoices whose outcome is known, by a version of it fitted only on what was known before the
 * slice; it is promoted only if it beats the heuristic and, when there is one, the current model.
 */

import { type Estimate, issueDayQueries, type MethodMetrics, modelPredict, scoreMethod } from './evaluate';
import { buildLedgerIndex, featureMatrix } from './features';
import { heuristicPredict } from './heuristic';
import { dayOfInstant, instantFromDay, isoFromDay, type LedgerInvoice } from './ledger';
import { quantile } from './metrics';
import type { LoadedModel } from './model-store';
import { predictFor } from './score';
import { InsufficientHistoryError, type TrainOptions, type TrainResult, trainRiskModel } from './train';
import { labelledInvoices, ledgerAsOf, maturityDays } from './training-set';

export interface Challenger {
  /** Fitted on everything known at `now`: what gets deployed if promoted. */
  trained: TrainResult;
  /** Fitted on what was known before the slice: what the comparison scores. */
  holdout: TrainResult;
  slice: { from: string; to: string };
  now: string;
}

export interface ChallengerOptions extends Omit<TrainOptions, 'cutoff'> {
  /** Length of the comparison slice (default 90 days). */
  sliceDays?: number;
}

/**
 * The slice ends a maturity window before `now` (so its invoices have had time to be paid and fast payers
 * are not over-represented) and spans `sliceDays` before that.
 */
export function trainChallenger(
  rows: readonly LedgerInvoice[],
  now: Date,
  options: ChallengerOptions = {},
): Challenger {
  const nowDay = dayOfInstant(now);
  const known = ledgerAsOf(rows, nowDay);
  const maturity = maturityDays(known, nowDay);
  const to = nowDay - maturity;
  const from = to - (options.sliceDays ?? 90);
  let trained: TrainResult;
  try {
    trained = trainRiskModel(known, { ...options, cutoff: now });
  } catch (err) {
    if (!(err instanceof InsufficientHistoryError)) throw err;
    throw tooLittleToLearn(known, nowDay, maturity, err);
  }
  let holdout: TrainResult;
  try {
    holdout = trainRiskModel(known, { ...options, cutoff: instantFromDay(from) });
  } catch (err) {
    if (!(err instanceof InsufficientHistoryError)) throw err;
    // The ledger may hold hundreds of settled invoices and still too few before the slice: say that, in the
    // slice's own dates, rather than a bare "have 0" about "the cutoff".
    throw new InsufficientHistoryError(
      `the history is too short to judge a tenant model: a challenger is compared on the invoices issued ` +
        `${isoFromDay(from)} … ${isoFromDay(to)} (ending ${maturity} days before ${isoFromDay(nowDay)}, so that ` +
        `their payments are known), scored by a version trained only on what was known before ${isoFromDay(from)}: ` +
        `${err.message.replace('before the cutoff', `before ${isoFromDay(from)}`)}. The model in use stays`,
    );
  }
  return {
    trained,
    holdout,
    slice: { from: isoFromDay(from), to: isoFromDay(to) },
    now: isoFromDay(nowDay),
  };
}

/** Why no model can be trained on what was settled before `day`, in the ledger's own terms. */
function tooLittleToLearn(
  known: readonly LedgerInvoice[],
  day: number,
  maturity: number,
  err: InsufficientHistoryError,
): InsufficientHistoryError {
  const labelled = labelledInvoices(known, day, maturity);
  const late = labelled.filter((r) => r.paidDate! > r.dueDate).length;
  if (labelled.length >= 30 && (late === 0 || late === labelled.length)) {
    return new InsufficientHistoryError(
      `all ${labelled.length} invoices settled before ${isoFromDay(day)} were paid ${late ? 'late' : 'on time'}: ` +
        `nothing to learn lateness from (a tenant model needs at least 30, both late and on time). The model in use stays`,
    );
  }
  return new InsufficientHistoryError(
    `${err.message.replace('before the cutoff', `before ${isoFromDay(day)}`)}. The model in use stays`,
  );
}

export type SliceMetrics = Omit<MethodMetrics, 'calibration'>;

export interface ModelComparison {
  promote: boolean;
  /**
   * The challenger does not beat the customer-history rule of thumb on the slice and the rule clearly beats the
   * current model (`ruleClearlyBetter`): the tenant should score with the rule (banded at `heuristicThresholds`, its 80th / 50th P(late) percentiles on the slice).
   */
  useHeuristic?: boolean;
  heuristicThresholds?: { late: number; medium: number };
  reason: string;
  metrics: {
    invoices: number;
    /** Issue dates of the slice's invoices, [from, to). */
    slice?: { from: string; to: string };
    challenger: SliceMetrics;
    current: SliceMetrics | null;
    heuristic: SliceMetrics;
  } | null;
}

export interface CompareOptions {
  rows: readonly LedgerInvoice[];
  challenger: Challenger;
  current: LoadedModel | null;
  /** Fewer settled invoices in the slice than this: keep the current model. */
  minInvoices?: number;
  /** Log-loss improvement over the current model required to switch (default 0.005). */
  margin?: number;
}

const drop = ({ calibration: _, ...rest }: MethodMetrics): SliceMetrics => rest;

/** AUC a model may exceed the rule of thumb's by and still be replaced by it (the promotion rule's AUC tolerance). */
const RULE_AUC_TOLERANCE = 0.02;
/** Pay-date MAE, in days, by which the rule of thumb must beat a model to replace it on dates alone. */
const RULE_MAE_MARGIN = 0.25;

/**
 * Whether the rule of thumb clearly beats model `m` on the slice, so that a tenant should switch to it: better by
 * `margin` in log-loss or by RULE_MAE_MARGIN days in pay-date MAE, and never while ranking payers clearly worse
 * (AUC more than RULE_AUC_TOLERANCE below the model's). A rule that wins by a hair in log-loss with an AUC of 0.33
 * against 0.60 is not a better predictor; the model in use then stays. An AUC that cannot be computed (every slice
 * invoice on time, or every one late) does not count against the rule.
 */
export function ruleClearlyBetter(m: SliceMetrics, rule: SliceMetrics, margin = 0.005): boolean {
  if (rule.auc.value < m.auc.value - RULE_AUC_TOLERANCE) return false;
  return (
    rule.logLoss.value <= m.logLoss.value - margin ||
    rule.payDateMae.value <= m.payDateMae.value - RULE_MAE_MARGIN
  );
}
const v = (e: Estimate) => e.value.toFixed(3);

export async function compareModels(options: CompareOptions): Promise<ModelComparison> {
  const { challenger, current, minInvoices = 30, margin = 0.005 } = options;
  const nowDay = dayOfInstant(new Date(`${challenger.now}T00:00:00Z`));
  const known = ledgerAsOf(options.rows, nowDay);
  const fromDay = dayOfInstant(new Date(`${challenger.slice.from}T00:00:00Z`));
  const toDay = dayOfInstant(new Date(`${challenger.slice.to}T00:00:00Z`));
  const { queries, outcomes } = issueDayQueries(known, fromDay, toDay);
  if (queries.length < minInvoices) {
    return {
      promote: false,
      reason: `kept the current predictions: only ${queries.length} of the invoices issued from ${challenger.slice.from} to ${challenger.slice.to} are paid, too few to test a new model on (it needs ${minInvoices})`,
      metrics: null,
    };
  }
  const index = buildLedgerIndex(known);
  const score = (raw: Parameters<typeof scoreMethod>[0]) => drop(scoreMethod(raw, queries, outcomes, 0, 1));
  const mChallenger = score(modelPredict(challenger.holdout.model, index, queries));
  const rule = heuristicPredict(index, queries, challenger.holdout.model.priors);
  const mHeuristic = score(rule);
  const mCurrent = current
    ? score(await predictFor(current, index, queries, featureMatrix(index, queries, current.manifest.priors)))
    : null;
  const metrics = {
    invoices: queries.length,
    slice: challenger.slice,
    challenger: mChallenger,
    current: mCurrent,
    heuristic: mHeuristic,
  };

  // The model must beat the rule on both questions: whether (log-loss) and when (pay-date MAE).
  const losesToRule = (m: SliceMetrics) =>
    m.logLoss.value >= mHeuristic.logLoss.value || m.payDateMae.value > mHeuristic.payDateMae.value;
  if (losesToRule(mChallenger)) {
    const why =
      mChallenger.logLoss.value >= mHeuristic.logLoss.value
        ? `challenger log-loss ${v(mChallenger.logLoss)} does not beat the heuristic's ${v(mHeuristic.logLoss)}`
        : `challenger pay-date MAE ${mChallenger.payDateMae.value.toFixed(2)} d does not beat the heuristic's ${mHeuristic.payDateMae.value.toFixed(2)} d`;
    const currentIsRule = current?.manifest.scoring === 'heuristic';
    const ruleWins = (m: SliceMetrics) => ruleClearlyBetter(m, mHeuristic, margin);
    if (!currentIsRule && (!mCurrent || ruleWins(mCurrent))) {
      const round = (x: number) => Math.round(x * 1000) / 1000;
      return {
        promote: false,
        useHeuristic: true,
        heuristicThresholds: {
          late: round(quantile(rule.pLate, 0.8)),
          medium: round(quantile(rule.pLate, 0.5)),
        },
        reason: `${why}${mCurrent ? `, and it clearly beats the current model (log-loss ${v(mCurrent.logLoss)}, pay-date MAE ${mCurrent.payDateMae.value.toFixed(2)} d, AUC ${v(mCurrent.auc)} against the rule's ${v(mHeuristic.logLoss)}, ${mHeuristic.payDateMae.value.toFixed(2)} d, ${v(mHeuristic.auc)})` : ''}: scoring switches to the customer-history rule of thumb`,
        metrics,
      };
    }
    return {
      promote: false,
      reason: currentIsRule
        ? `${why}; scoring stays on the customer-history rule of thumb`
        : `${why}; the rule of thumb does not clearly beat the current model (by ${margin} in log-loss or ${RULE_MAE_MARGIN} d in pay-date MAE, with an AUC at most ${RULE_AUC_TOLERANCE} lower), which stays`,
      metrics,
    };
  }
  if (!mCurrent || !current)
    return { promote: true, reason: 'no current model; challenger beats the heuristic', metrics };
  // A current model trained past the slice start has seen some of the slice: its numbers flatter it, so
  // the challenger must still win against them.
  const seen =
    current.manifest.training.cutoff > challenger.slice.from
      ? ' (current model trained on part of this slice)'
      : '';
  if (mChallenger.auc.value < mCurrent.auc.value - 0.02) {
    return {
      promote: false,
      reason: `challenger AUC ${v(mChallenger.auc)} is below the current ${v(mCurrent.auc)}${seen}`,
      metrics,
    };
  }
  if (mChallenger.logLoss.value > mCurrent.logLoss.value - margin) {
    return {
      promote: false,
      reason: `challenger log-loss ${v(mChallenger.logLoss)} is not ${margin} better than the current ${v(mCurrent.logLoss)}${seen}`,
      metrics,
    };
  }
  return {
    promote: true,
    reason: `challenger log-loss ${v(mChallenger.logLoss)} vs current ${v(mCurrent.logLoss)}, heuristic ${v(mHeuristic.logLoss)}${seen}`,
    metrics,
  };
}
