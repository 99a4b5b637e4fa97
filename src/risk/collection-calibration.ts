/**
 * The tenant's own history corrects the collection heads by how long an invoice has been overdue. The shipped
 * model learnt P(paid within 30 / 90 days | unpaid now) from ledgers where very old debt is rare, so it cannot
 * know how a given company's 180-day-old invoices end; the company's ledger can. Before scoring, every invoice
 * the ledger held at an earlier day in the same overdue bucket (and whose 30 or 90 days have since passed) is
 * scored as of that day; the bucket's log-odds offset makes the mean of the shifted probabilities match what
 * happened, shrunk toward no correction by PSEUDO_COUNT invoices. Only what was known before the as-of day is used.
 */
import type { FeatureQuery, LedgerIndex } from './features';
import { featureMatrix } from './features';
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
const PSEUDO_COUNT = 20;
/** Samples scored per bucket and horizon at most (evenly thinned). */
const MAX_PER_BUCKET = 1500;

export function bucketOf(daysOverdue: number): number {
  let b = -1;
  for (let k = 0; k < OVERDUE_BUCKETS.length; k++) if (daysOverdue >= OVERDUE_BUCKETS[k]!.from) b = k;
  return b;
}

export interface CollectionOffsets {
  /** offsets[bucket][horizon] in log-odds (0: no correction). */
  offsets: number[][];
  /** Past invoices behind each offset. */
  counts: number[][];
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
    for (const z of logits) m += 1 / (1 + Math.exp(-(z + d)));
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

export async function collectionOffsets(
  model: LoadedModel,
  history: readonly LedgerInvoice[],
  index: LedgerIndex,
  asOfDay: number,
): Promise<CollectionOffsets> {
  // The ledger as it stood at the start of asOfDay (what ledgerAsOf returns), read from the index's day arrays: no
  // copy of the ledger, and a query object only for the samples kept.
  const n = history.length;
  /** Calls `visit(bucket, horizon, row, day, paid)` for every past (invoice, day) of every bucket and horizon. */
  const each = (visit: (b: number, k: number, row: number, day: number, paid: 0 | 1) => void) => {
    for (let i = 0; i < n; i++) {
      if (index.issueOf[i]! >= asOfDay) continue;
      const due = index.dueOf[i]!;
      const paid = history[i]!.paidDate !== null && index.paidOf[i]! < asOfDay ? index.paidOf[i]! : null;
      for (let b = 0; b < OVERDUE_BUCKETS.length; b++) {
        for (const od of OVERDUE_BUCKETS[b]!.probes) {
          const day = due + od;
          if (paid !== null && paid < day) break;
          for (let k = 0; k < COLLECT_HORIZONS.length; k++) {
            const h = COLLECT_HORIZONS[k]!;
            if (day + h <= asOfDay) visit(b, k, i, day, paid !== null && paid < day + h ? 1 : 0);
          }
        }
      }
    }
  };
  // Counted first, then every stride-th kept: a large ledger never materializes millions of samples.
  const counts = OVERDUE_BUCKETS.map(() => COLLECT_HORIZONS.map(() => 0));
  each((b, k) => {
    counts[b]![k]!++;
  });
  const offsets = counts.map((g) => g.map(() => 0));
  const thinned = counts.map((g) => g.map(() => [] as { q: FeatureQuery; paid: number }[]));
  const seen = counts.map((g) => g.map(() => 0));
  each((b, k, row, day, paid) => {
    const n = counts[b]![k]!;
    const j = seen[b]![k]!++;
    // Keeps about MAX_PER_BUCKET evenly spaced samples: j is kept when it crosses a multiple of the stride.
    if (
      n <= MAX_PER_BUCKET ||
      Math.floor((j * MAX_PER_BUCKET) / n) !== Math.floor(((j - 1) * MAX_PER_BUCKET) / n)
    ) {
      // As ledgerAsOf shows it: a payment on or after asOfDay is not known yet.
      const r = history[row]!;
      const invoice = r.paidDate !== null && index.paidOf[row]! >= asOfDay ? { ...r, paidDate: null } : r;
      thinned[b]![k]!.push({ q: { invoice, day }, paid });
    }
  });
  const all = thinned.flatMap((g) => g.flat());
  if (all.length === 0) return { offsets, counts };
  const X = featureMatrix(
    index,
    all.map((s) => s.q),
    model.manifest.priors,
  );
  const raw = await runModel(model.session, X, all.length);
  if (!Number.isFinite(raw.pCollect[0])) return { offsets, counts };
  let row = 0;
  thinned.forEach((g, b) => {
    g.forEach((samples, k) => {
      if (samples.length === 0) return;
      let mean = 0;
      let paid = 0;
      const logits = new Float64Array(samples.length);
      for (let j = 0; j < samples.length; j++) {
        const p = raw.pCollect[row * 2 + k]!;
        logits[j] = logit(p);
        mean += p;
        paid += samples[j]!.paid;
        row++;
      }
      mean /= samples.length;
      const observed = (paid + PSEUDO_COUNT * mean) / (samples.length + PSEUDO_COUNT);
      offsets[b]![k] = meanMatchingOffset(logits, observed);
    });
  });
  return { offsets, counts };
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
