/**
 * The tenant's own history sets the collection chances of overdue invoices by how long they have been overdue.
 * The shipped model learnt P(paid within 30 / 90 days | unpaid now) from ledgers where very old debt is rare, so it
 * cannot know how a given company's 180-day-old invoices end; the company's ledger can.
 *
 * Survival by days overdue: every invoice known before the as-of day is at risk from its first overdue day until it
 * was paid (an event) or, still open, until the day before the as-of day (right-censored: it counts as exposure, not
 * as a failure to pay). For a bucket's probe day s and a horizon h, the hazard over [s, s + h) is payments / invoice-
 * days at risk there (the piecewise-constant Kaplan–Meier estimate, pooled over the window), and P(collected within h
 * | unpaid at s) = 1 − exp(−h · hazard). That figure is weighed against a prior as n invoices against PRIOR_INVOICES,
 * n = invoice-days / h: a bucket with a long history and no payment says ≈ 0, one with no history keeps the prior.
 * The prior is the next younger bucket's figure (debt is assumed to be collected no faster as it ages, unless its own
 * history says so) or the model's mean for the bucket where that is lower or the younger bucket has no figure.
 *
 * The model still tells invoices apart inside a bucket: past (invoice, probe day) pairs of the bucket are scored as
 * of that day, and the bucket's log-odds offset makes the mean of their shifted probabilities equal the survival
 * figure. Only what was known before the as-of day is used.
 */
import type { FeatureQuery, LedgerIndex } from './features';
import { featureMatrix, UNPAID } from './features';
import type { LedgerInvoice } from './ledger';
import type { LoadedModel } from './model-store';
import { COLLECT_HORIZONS } from './risk-model';
import { runModel } from './run-model';

/** Lower bounds (days past due) of the buckets, and the days past due at which past invoices are sampled. */
export const OVERDUE_BUCKETS: { from: number; probes: number[] }[] = [
  { from: 1, probes: [1, 15] },
  { from: 30, probes: [30, 45] },
  { from: 60, probes: [60, 75] },
  { from: 90, probes: [90, 120, 150] },
  { from: 180, probes: [180, 240, 300] },
  { from: 365, probes: [365, 450, 540, 730] },
];
/** Weight of the model's view of a bucket's hazard, in invoices followed over the whole horizon. */
export const PRIOR_INVOICES = 5;
/** Samples scored per bucket at most (evenly thinned). */
const MAX_PER_BUCKET = 1500;

export function bucketOf(daysOverdue: number): number {
  let b = -1;
  for (let k = 0; k < OVERDUE_BUCKETS.length; k++) if (daysOverdue >= OVERDUE_BUCKETS[k]!.from) b = k;
  return b;
}

export interface CollectionOffsets {
  /** offsets[bucket][horizon] in log-odds (0: no correction). */
  offsets: number[][];
  /**
   * Evidence behind each offset: invoice-days at risk in the bucket's windows over the horizon, that is invoices
   * followed over the whole horizon (averaged over the bucket's probe days).
   */
  counts: number[][];
  /** P(collected within the horizon | unpaid at the bucket's probe days): survival, shrunk toward the model. */
  targets: number[][];
}

/**
 * Payments and exposure by days overdue: `events[t]` invoices paid on their t-th day past due, `atRisk[t]` invoices
 * still unpaid at the start of that day and observed on it (t ≥ 1; the last cell gathers everything older).
 */
export interface OverdueSurvival {
  events: Float64Array;
  atRisk: Float64Array;
}

const MAX_PROBE = Math.max(...OVERDUE_BUCKETS.flatMap((b) => b.probes));
/** Days overdue tracked one by one: the last probe plus the longest horizon. */
export const SURVIVAL_DAYS = MAX_PROBE + Math.max(...COLLECT_HORIZONS);

/** Invoice i's payment day if known at the start of `asOfDay`; null while open or paid on or after that day. */
function knownPaidDay(paidOf: LedgerIndex['paidOf'], i: number, asOfDay: number): number | null {
  const paid = paidOf[i]!;
  return paid !== UNPAID && paid < asOfDay ? paid : null;
}

/** The ledger's survival by days overdue as known at the start of `asOfDay` (payments on or after it unknown). */
export function overdueSurvival(
  history: readonly LedgerInvoice[],
  index: LedgerIndex,
  asOfDay: number,
): OverdueSurvival {
  // Counted in integers (whole invoices; no float boxing while the loop warms up), returned as floats.
  const paidOn = new Int32Array(SURVIVAL_DAYS + 1);
  const diff = new Int32Array(SURVIVAL_DAYS + 2);
  for (let i = 0; i < history.length; i++) {
    if (index.issueOf[i]! >= asOfDay) continue;
    const due = index.dueOf[i]!;
    // The index's payment day, not the row's text: the ledger rows are not read again.
    const paid = knownPaidDay(index.paidOf, i, asOfDay);
    const paidKnown = paid !== null;
    // Last day overdue the invoice was seen unpaid at its start: its payment day, or (open) the day before asOfDay.
    const last = paidKnown ? paid - due : asOfDay - 1 - due;
    if (last < 1) continue;
    const end = Math.min(last, SURVIVAL_DAYS);
    diff[1]! += 1;
    diff[end + 1]! -= 1;
    if (paidKnown && last <= SURVIVAL_DAYS) paidOn[last]! += 1;
  }
  const events = new Float64Array(paidOn);
  const atRisk = new Float64Array(SURVIVAL_DAYS + 1);
  let run = 0;
  for (let t = 1; t <= SURVIVAL_DAYS; t++) {
    run += diff[t]!;
    atRisk[t] = run;
  }
  return { events, atRisk };
}

/**
 * Events and invoice-days at risk over the window [s, s + h) of days overdue. Beyond SURVIVAL_DAYS nothing is
 * tracked day by day: the window is moved back to end there (very old debt is read from the oldest tracked days).
 */
export function windowExposure(
  sv: OverdueSurvival,
  s: number,
  h: number,
): { events: number; exposure: number } {
  const from = Math.max(1, Math.min(s, SURVIVAL_DAYS + 1 - h));
  let events = 0;
  let exposure = 0;
  for (let t = from; t < from + h; t++) {
    events += sv.events[t]!;
    exposure += sv.atRisk[t]!;
  }
  return { events, exposure };
}

/**
 * P(collected within h days | unpaid at s days overdue): from the window's pooled hazard, 1 − exp(−h · events /
 * invoice-days), weighed against `priorP` as if the prior were `priorInvoices` more invoices followed over the whole
 * window: (n · empirical + k · prior) / (n + k) with n = invoice-days / h. No exposure: the prior.
 */
export function collectionChance(
  sv: OverdueSurvival,
  s: number,
  h: number,
  priorP: number,
  priorInvoices = PRIOR_INVOICES,
): number {
  const { events, exposure } = windowExposure(sv, s, h);
  if (exposure <= 0) return priorP;
  const empirical = 1 - Math.exp((-h * events) / exposure);
  const n = exposure / h;
  return (n * empirical + priorInvoices * priorP) / (n + priorInvoices);
}

const logit = (p: number) => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};

/**
 * The log-odds shift δ after which the bucket's mean probability, mean(sigmoid(logit(p) + δ)), equals `target`
 * (bisection; the mean is increasing in δ). Matching the mean of the shifted probabilities, not logit(target) −
 * logit(mean p): when some samples sit near certainty (the shipped model sure a 600-day-old invoice is paid within
 * 90 days), the simpler difference leaves them near certainty and the bucket far above what happened.
 */
export function meanMatchingOffset(logits: Float64Array, target: number): number {
  const t = Math.min(1 - 1e-6, Math.max(1e-6, target));
  const meanAt = (d: number) => {
    let m = 0;
    for (let i = 0; i < logits.length; i++) m += 1 / (1 + Math.exp(-(logits[i]! + d)));
    return m / logits.length;
  };
  let lo = -30;
  let hi = 30;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (meanAt(mid) < t) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

interface ProbeSample {
  q: FeatureQuery;
  probe: number;
}

/** Every bucket's probe days past due, flat, and where each bucket's start (PROBE_START[b] .. PROBE_START[b + 1]). */
const PROBE_DAYS = OVERDUE_BUCKETS.flatMap((b) => b.probes);
const PROBE_START = [0];
for (const b of OVERDUE_BUCKETS) PROBE_START.push(PROBE_START[PROBE_START.length - 1]! + b.probes.length);

/**
 * Walks every past (invoice, probe day) with the invoice unpaid at the start of that day and the day known (before
 * `asOfDay`), in ledger order then bucket and probe order. Without `thinned` it counts them per bucket into
 * `counts`; with it, it keeps about MAX_PER_BUCKET evenly spaced ones of each bucket (of counts[b]) in thinned[b].
 * One loop for both passes, with no callback per probe.
 */
function visitProbes(
  index: LedgerIndex,
  history: readonly LedgerInvoice[],
  asOfDay: number,
  counts: number[],
  thinned: ProbeSample[][] | null,
): void {
  const seen = OVERDUE_BUCKETS.map(() => 0);
  const buckets = OVERDUE_BUCKETS.length;
  const { issueOf, dueOf, paidOf } = index;
  const n = history.length;
  for (let i = 0; i < n; i++) {
    if (issueOf[i]! >= asOfDay) continue;
    const due = dueOf[i]!;
    const paid = knownPaidDay(paidOf, i, asOfDay);
    probes: for (let b = 0; b < buckets; b++) {
      for (let p = PROBE_START[b]!; p < PROBE_START[b + 1]!; p++) {
        const od = PROBE_DAYS[p]!;
        const day = due + od;
        // Unpaid at the start of `day`, and that day known.
        if (day >= asOfDay || (paid !== null && paid <= day)) break probes;
        if (thinned === null) {
          counts[b]!++;
          continue;
        }
        const m = counts[b]!;
        const j = seen[b]!++;
        // Keeps about MAX_PER_BUCKET evenly spaced samples: j is kept when it crosses a multiple of the stride.
        if (
          m <= MAX_PER_BUCKET ||
          Math.floor((j * MAX_PER_BUCKET) / m) !== Math.floor(((j - 1) * MAX_PER_BUCKET) / m)
        ) {
          // As ledgerAsOf shows it: a payment on or after asOfDay is not known yet.
          const r = history[i]!;
          const invoice = paid === null && paidOf[i] !== UNPAID ? { ...r, paidDate: null } : r;
          thinned[b]!.push({ q: { invoice, day }, probe: od });
        }
      }
    }
  }
}

export async function collectionOffsets(
  model: LoadedModel,
  history: readonly LedgerInvoice[],
  index: LedgerIndex,
  asOfDay: number,
): Promise<CollectionOffsets> {
  const sv = overdueSurvival(history, index, asOfDay);
  // The model's side: every past (invoice, probe day) with the invoice still unpaid that day, read from the index's
  // day arrays (the ledger as ledgerAsOf shows it: no copy, a query object only for the samples kept). Counted
  // first, then every stride-th kept: a large ledger never materializes millions of samples.
  const counts = OVERDUE_BUCKETS.map(() => 0);
  visitProbes(index, history, asOfDay, counts, null);
  const offsets = OVERDUE_BUCKETS.map(() => COLLECT_HORIZONS.map(() => 0));
  const evidence = OVERDUE_BUCKETS.map(() => COLLECT_HORIZONS.map(() => 0));
  const targets = OVERDUE_BUCKETS.map(() => COLLECT_HORIZONS.map(() => Number.NaN));
  const thinned = OVERDUE_BUCKETS.map(() => [] as ProbeSample[]);
  visitProbes(index, history, asOfDay, counts, thinned);
  const all = thinned.flat();
  if (all.length === 0) return { offsets, counts: evidence, targets };
  const X = featureMatrix(
    index,
    all.map((s) => s.q),
    model.manifest.priors,
  );
  const raw = await runModel(model.session, X, all.length);
  if (!Number.isFinite(raw.pCollect[0])) return { offsets, counts: evidence, targets };
  let first = 0;
  /** Per horizon, the figure of the nearest younger bucket that had samples. */
  const younger = COLLECT_HORIZONS.map(() => Number.NaN);
  thinned.forEach((samples, b) => {
    if (samples.length === 0) return;
    COLLECT_HORIZONS.forEach((h, k) => {
      const logits = new Float64Array(samples.length);
      let mean = 0;
      for (let j = 0; j < samples.length; j++) {
        const p = raw.pCollect[(first + j) * 2 + k]!;
        logits[j] = logit(p);
        mean += p;
      }
      mean /= samples.length;
      // The prior: the next younger bucket's figure (debt is assumed collected no faster as it ages, unless this
      // bucket's own history says otherwise), the model's mean where lower or where no younger bucket has one.
      const prior = Number.isFinite(younger[k]!) ? Math.min(younger[k]!, mean) : mean;
      // The survival figure at each sample's probe day (a handful of distinct days), averaged like the samples.
      const byProbe = new Map<number, { p: number; invoices: number }>();
      let target = 0;
      let exposure = 0;
      for (const { probe } of samples) {
        let at = byProbe.get(probe);
        if (at === undefined) {
          at = {
            p: collectionChance(sv, probe, h, prior),
            invoices: windowExposure(sv, probe, h).exposure / h,
          };
          byProbe.set(probe, at);
        }
        target += at.p;
        exposure += at.invoices;
      }
      targets[b]![k] = target / samples.length;
      younger[k] = targets[b]![k]!;
      evidence[b]![k] = exposure / samples.length;
      offsets[b]![k] = meanMatchingOffset(logits, targets[b]![k]!);
    });
    first += samples.length;
  });
  return { offsets, counts: evidence, targets };
}

/** Applies the offsets to row i of pCollect (in place) for an invoice `daysOverdue` past due. */
export function applyOffsets(pCollect: Float64Array, i: number, daysOverdue: number, o: CollectionOffsets) {
  const b = bucketOf(daysOverdue);
  if (b < 0) return;
  for (let k = 0; k < COLLECT_HORIZONS.length; k++) {
    const p = pCollect[i * 2 + k]!;
    if (!Number.isFinite(p)) continue;
    pCollect[i * 2 + k] = 1 / (1 + Math.exp(-(logit(p) + o.offsets[b]![k]!)));
  }
}
