/**
 * The tenant's own history sets the collection chances of overdue invoices by how long they have been overdue.
 * The shipped model learnt P(paid within 30 / 90 days | unpaid now) from ledgers where very old debt is rare, so it
 * cannot know how a given company's 180-day-old invoices end; the company's ledger can.
 *
 * Survival by days overdue: every invoice known before the as-of day is at risk from its first overdue day until it
 * was paid (an event) or, still open, until the day before the as-of day (right-censored: it counts as exposure, not
 * as a failure to pay). P(collected within h | unpaid at s days overdue) is the Kaplan–Meier product over [s, s + h),
 * 1 − Π (1 − payments / at risk), not a constant hazard pooled over the window (which spreads the payers' early
 * payments over the never-payers' later days and overstates collection). That figure is weighed against a prior as n
 * invoices against PRIOR_INVOICES, n = invoice-days at risk / h: a bucket with a long history and no payment says
 * ≈ 0, one with no history keeps the prior. The prior is the next younger bucket's figure (debt is assumed to be
 * collected no faster as it ages, unless its own history says so) or the model's mean for the bucket where that is
 * lower or the younger bucket has no figure.
 *
 * Every invoice is corrected to the figure of its own day overdue (a bucket's figure can fall steeply across it).
 * The model still tells invoices of one age apart: past (invoice, probe day) pairs, spread over each bucket, are
 * scored as of that day; an invoice's log-odds are taken relative to the samples' mean at its age (the model's view
 * of age is left to the survival figure), scaled by how far that ranking held on this ledger's samples with a known
 * outcome (a slope in [0, 1]), and shifted so the bucket's samples would average the day's figure. Only what was known
 * before the as-of day is used.
 */
import type { FeatureQuery, LedgerIndex } from './features';
import { featureMatrix, UNPAID } from './features';
import type { LedgerInvoice } from './ledger';
import type { LoadedModel } from './model-store';
import { COLLECT_HORIZONS } from './risk-model';
import { runModel } from './run-model';

/**
 * Lower bounds (days past due) of the buckets, and the days past due at which past invoices are sampled: spread
 * evenly over the bucket, so its samples hold its ages as the invoices scored in it do (probes at the bucket's young
 * end read a falling curve too high: the demo's 31–90-day debt was predicted 83 % collected within 90 days, 63 % was).
 */
export const OVERDUE_BUCKETS: { from: number; probes: number[] }[] = [
  { from: 1, probes: [1, 5, 10, 15, 20, 25] },
  { from: 30, probes: [30, 35, 40, 45, 50, 55] },
  { from: 60, probes: [60, 65, 70, 75, 80, 85] },
  { from: 90, probes: [90, 105, 120, 135, 150, 165] },
  { from: 180, probes: [180, 210, 240, 270, 300, 330, 360] },
  { from: 365, probes: [365, 450, 540, 630, 730] },
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
  /** offsets[bucket][horizon] in log-odds at the bucket's mean figure (0: no correction); for reports. */
  offsets: number[][];
  /**
   * Evidence behind each offset: invoice-days at risk in the bucket's windows over the horizon, that is invoices
   * followed over the whole horizon (averaged over the bucket's probe days).
   */
  counts: number[][];
  /** P(collected within the horizon | unpaid at the bucket's probe days): survival, shrunk toward the model. */
  targets: number[][];
  /**
   * byDay[horizon][d]: P(collected within the horizon | unpaid at d days overdue), d = 1 … SURVIVAL_DAYS (older
   * debt: the last), shrunk toward its bucket's prior; NaN in a bucket with no past samples (no correction there).
   */
  byDay: Float64Array[];
  /**
   * curves[bucket][horizon]: logit of the mean shifted probability of the bucket's samples at each log-odds shift of
   * OFFSET_GRID (increasing), read back to the shift that gives an invoice its own day's figure; null: no samples.
   */
  curves: (Float64Array | null)[][];
  /**
   * centres[bucket][horizon]: the mean log-odds of the bucket's samples at each probe day that had samples (days
   * increasing); an invoice's log-odds are taken relative to them, interpolated at its day overdue.
   */
  centres: ({ days: number[]; logits: number[] } | null)[][];
  /** slopes[bucket][horizon]: those relative log-odds are scaled by it before the shift (rankingSlope; 1: as is). */
  slopes: number[][];
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
 * P(collected within h days | unpaid at s days overdue) from the history alone: the Kaplan–Meier product over the
 * window, 1 − Π (1 − payments[t] / at risk[t]) for t in [s, s + h) (moved back like windowExposure; a day nobody
 * was observed on counts as no payment). Not 1 − exp(−h · payments / invoice-days): a pooled constant hazard spreads
 * the payments of the window's first days over the never-payers' days at risk after them, which overstates
 * collection where payers and never-payers mix (most of a bucket's payments early, the rest never).
 */
export function survivalCollected(sv: OverdueSurvival, s: number, h: number): number {
  const from = Math.max(1, Math.min(s, SURVIVAL_DAYS + 1 - h));
  let unpaid = 1;
  for (let t = from; t < from + h; t++) {
    const n = sv.atRisk[t]!;
    if (n > 0) unpaid *= 1 - sv.events[t]! / n;
  }
  return 1 - unpaid;
}

/**
 * P(collected within h days | unpaid at s days overdue): the history's figure (survivalCollected), weighed against
 * `priorP` as if the prior were `priorInvoices` more invoices followed over the whole window: (n · empirical + k ·
 * prior) / (n + k) with n = invoice-days at risk in the window / h. No exposure: the prior.
 */
export function collectionChance(
  sv: OverdueSurvival,
  s: number,
  h: number,
  priorP: number,
  priorInvoices = PRIOR_INVOICES,
): number {
  const { exposure } = windowExposure(sv, s, h);
  if (exposure <= 0) return priorP;
  const empirical = survivalCollected(sv, s, h);
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
  /** The payment day if known before the as-of day, else null. */
  paid: number | null;
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
          thinned[b]!.push({ q: { invoice, day }, probe: od, paid });
        }
      }
    }
  }
}

/** Weight pulling the ranking slope toward 1 (the model's ranking as it is), in log-likelihood units. */
const SLOPE_RIDGE = 5;

/**
 * How far the model's ranking inside a bucket holds on this ledger: the slope a of P(collected) = sigmoid(a ·
 * logit(p) + c), fitted on the bucket's samples whose outcome over the horizon is known (probe day + h before the
 * as-of day), pulled toward 1 by SLOPE_RIDGE, kept within [0, 1]. A model that cannot tell this ledger's payers from
 * its never-payers (a ≈ 0) would otherwise carry its view of features that drifted since the samples (customers
 * whose unpaid debt piled up) into today's invoices, below or above what the survival history says.
 */
export function rankingSlope(logits: Float64Array, outcomes: Int8Array): number {
  let a = 1;
  let c = 0;
  let known = 0;
  for (let i = 0; i < outcomes.length; i++) if (outcomes[i]! >= 0) known++;
  if (known === 0) return 1;
  for (let it = 0; it < 30; it++) {
    // Gradient and Hessian of the penalised log-likelihood in (a, c).
    let ga = -SLOPE_RIDGE * (a - 1);
    let gc = 0;
    let haa = -SLOPE_RIDGE;
    let hac = 0;
    let hcc = -1e-6;
    for (let i = 0; i < logits.length; i++) {
      const y = outcomes[i]!;
      if (y < 0) continue;
      const x = logits[i]!;
      const p = 1 / (1 + Math.exp(-(a * x + c)));
      const w = p * (1 - p);
      ga += (y - p) * x;
      gc += y - p;
      haa -= w * x * x;
      hac -= w * x;
      hcc -= w;
    }
    const det = haa * hcc - hac * hac;
    if (!(det > 0)) break;
    const da = Math.max(-5, Math.min(5, (hcc * ga - hac * gc) / det));
    const dc = Math.max(-5, Math.min(5, (haa * gc - hac * ga) / det));
    a -= da;
    c -= dc;
    if (Math.abs(da) < 1e-9 && Math.abs(dc) < 1e-9) break;
  }
  return Number.isFinite(a) ? Math.min(1, Math.max(0, a)) : 1;
}

/** Log-odds shifts at which each bucket's mean shifted probability is tabulated: −30 … 30 in steps of 0.5. */
const OFFSET_STEP = 0.5;
const OFFSET_GRID = Array.from({ length: 121 }, (_, j) => -30 + j * OFFSET_STEP);

/** logit(mean(sigmoid(logits + δ))) for every δ of OFFSET_GRID: nearly linear in δ, so read back by interpolation. */
function offsetCurve(logits: Float64Array): Float64Array {
  const curve = new Float64Array(OFFSET_GRID.length);
  for (let j = 0; j < OFFSET_GRID.length; j++) {
    const d = OFFSET_GRID[j]!;
    let m = 0;
    for (let i = 0; i < logits.length; i++) m += 1 / (1 + Math.exp(-(logits[i]! + d)));
    curve[j] = logit(m / logits.length);
  }
  return curve;
}

/** The shift δ at which the curve's bucket has mean probability `target` (interpolated; clamped to the grid). */
export function offsetFor(curve: Float64Array, target: number): number {
  const t = logit(target);
  if (t <= curve[0]!) return OFFSET_GRID[0]!;
  const last = curve.length - 1;
  if (t >= curve[last]!) return OFFSET_GRID[last]!;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (curve[mid]! <= t) lo = mid;
    else hi = mid;
  }
  const span = curve[hi]! - curve[lo]!;
  return OFFSET_GRID[lo]! + (span > 0 ? ((t - curve[lo]!) / span) * OFFSET_STEP : 0);
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
  const byDay = COLLECT_HORIZONS.map(() => new Float64Array(SURVIVAL_DAYS + 1).fill(Number.NaN));
  const curves: (Float64Array | null)[][] = OVERDUE_BUCKETS.map(() => COLLECT_HORIZONS.map(() => null));
  const slopes = OVERDUE_BUCKETS.map(() => COLLECT_HORIZONS.map(() => 1));
  const centres: ({ days: number[]; logits: number[] } | null)[][] = OVERDUE_BUCKETS.map(() =>
    COLLECT_HORIZONS.map(() => null),
  );
  const none = { offsets, counts: evidence, targets, byDay, curves, slopes, centres };
  const thinned = OVERDUE_BUCKETS.map(() => [] as ProbeSample[]);
  visitProbes(index, history, asOfDay, counts, thinned);
  const all = thinned.flat();
  if (all.length === 0) return none;
  const X = featureMatrix(
    index,
    all.map((s) => s.q),
    model.manifest.priors,
  );
  const raw = await runModel(model.session, X, all.length);
  if (!Number.isFinite(raw.pCollect[0])) return none;
  let first = 0;
  /** Per horizon, the figure of the nearest younger bucket that had samples. */
  const younger = COLLECT_HORIZONS.map(() => Number.NaN);
  thinned.forEach((samples, b) => {
    if (samples.length === 0) return;
    const fromDay = OVERDUE_BUCKETS[b]!.from;
    const toDay = Math.min(SURVIVAL_DAYS + 1, OVERDUE_BUCKETS[b + 1]?.from ?? SURVIVAL_DAYS + 1);
    COLLECT_HORIZONS.forEach((h, k) => {
      const logits = new Float64Array(samples.length);
      // Collected within h of the probe day (1), not (0), not known yet (-1).
      const outcomes = new Int8Array(samples.length);
      let mean = 0;
      for (let j = 0; j < samples.length; j++) {
        const p = raw.pCollect[(first + j) * 2 + k]!;
        logits[j] = logit(p);
        mean += p;
        const { q, paid } = samples[j]!;
        outcomes[j] = q.day + h > asOfDay ? -1 : paid !== null && paid < q.day + h ? 1 : 0;
      }
      mean /= samples.length;
      // The model's log-odds less their mean at the sample's probe day: its view of age is left to the survival
      // figures, and only how it tells invoices of one age apart is kept (at the slope this ledger bears out).
      const sums = new Map<number, { sum: number; n: number }>();
      for (let j = 0; j < samples.length; j++) {
        const at = sums.get(samples[j]!.probe) ?? { sum: 0, n: 0 };
        at.sum += logits[j]!;
        at.n++;
        sums.set(samples[j]!.probe, at);
      }
      const days = [...sums.keys()].sort((x, y) => x - y);
      centres[b]![k] = { days, logits: days.map((d) => sums.get(d)!.sum / sums.get(d)!.n) };
      for (let j = 0; j < samples.length; j++) {
        const at = sums.get(samples[j]!.probe)!;
        logits[j] = logits[j]! - at.sum / at.n;
      }
      const slope = rankingSlope(logits, outcomes);
      slopes[b]![k] = slope;
      for (let j = 0; j < samples.length; j++) logits[j] = slope * logits[j]!;
      // The prior: the next younger bucket's figure (debt is assumed collected no faster as it ages, unless this
      // bucket's own history says otherwise), the model's mean where lower or where no younger bucket has one.
      const prior = Number.isFinite(younger[k]!) ? Math.min(younger[k]!, mean) : mean;
      // The survival figure at every day of the bucket (what its invoices are corrected to, each at its own day).
      for (let d = fromDay; d < toDay; d++) byDay[k]![d] = collectionChance(sv, d, h, prior);
      // The bucket's figure: the survival figure at each sample's probe day, averaged like the samples.
      let target = 0;
      let exposure = 0;
      const invoicesAt = new Map<number, number>();
      for (const { probe } of samples) {
        let invoices = invoicesAt.get(probe);
        if (invoices === undefined) {
          invoices = windowExposure(sv, probe, h).exposure / h;
          invoicesAt.set(probe, invoices);
        }
        target += byDay[k]![Math.min(probe, SURVIVAL_DAYS)]!;
        exposure += invoices;
      }
      targets[b]![k] = target / samples.length;
      younger[k] = targets[b]![k]!;
      evidence[b]![k] = exposure / samples.length;
      offsets[b]![k] = meanMatchingOffset(logits, targets[b]![k]!);
      curves[b]![k] = offsetCurve(logits);
    });
    first += samples.length;
  });
  return none;
}

/**
 * Applies the correction to row i of pCollect (in place) for an invoice `daysOverdue` past due: the log-odds shift
 * after which its bucket's samples average the survival figure of its own day overdue (not the bucket's mean: a
 * bucket's figure can fall steeply across it, as where payments stop at some age).
 */
export function applyOffsets(pCollect: Float64Array, i: number, daysOverdue: number, o: CollectionOffsets) {
  const b = bucketOf(daysOverdue);
  if (b < 0) return;
  const d = Math.min(daysOverdue, SURVIVAL_DAYS);
  for (let k = 0; k < COLLECT_HORIZONS.length; k++) {
    const p = pCollect[i * 2 + k]!;
    const curve = o.curves[b]![k]!;
    const centre = o.centres[b]![k]!;
    const target = o.byDay[k]![d]!;
    if (!Number.isFinite(p) || curve === null || centre === null || !Number.isFinite(target)) continue;
    const z = o.slopes[b]![k]! * (logit(p) - centreAt(centre, daysOverdue));
    pCollect[i * 2 + k] = 1 / (1 + Math.exp(-(z + offsetFor(curve, target))));
  }
}

/** The samples' mean log-odds at day d: linear between the probe days around it, the nearest one outside them. */
function centreAt(c: { days: number[]; logits: number[] }, d: number): number {
  const { days, logits } = c;
  if (d <= days[0]!) return logits[0]!;
  const last = days.length - 1;
  if (d >= days[last]!) return logits[last]!;
  let j = 1;
  while (days[j]! < d) j++;
  const w = (d - days[j - 1]!) / (days[j]! - days[j - 1]!);
  return logits[j - 1]! + w * (logits[j]! - logits[j - 1]!);
}
