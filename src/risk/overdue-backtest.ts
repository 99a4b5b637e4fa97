/**
 * Backtest of the collection chances of overdue invoices: the ledger as it stood on an earlier day (payments from
 * that day on unknown), its open overdue invoices scored as live scoring scores them (the per-tenant overdue
 * correction included), then by days overdue the mean predicted P(collected within 30 / 90 days) against the share
 * that was collected in the data.
 */
import { dayNumber, isoFromDay, type LedgerInvoice } from './ledger';
import type { LoadedModel } from './model-store';
import { COLLECT_HORIZONS } from './risk-model';
import { scoreInvoices } from './score';
import { ledgerAsOf } from './training-set';

/** Days-overdue groups reported (inclusive bounds). */
export const OVERDUE_GROUPS: [number, number][] = [
  [1, 30],
  [31, 90],
  [91, 180],
  [181, 365],
  [366, Number.POSITIVE_INFINITY],
];

export interface OverdueGroupResult {
  /** "31–90". */
  label: string;
  invoices: number;
  /** Per horizon (30, 90 days): mean predicted chance and the share collected (null: the data end before it). */
  predicted: number[];
  realised: (number | null)[];
}

export interface OverdueBacktest {
  /** The scoring day (YYYY-MM-DD): the ledger as known at its start. */
  asOf: string;
  /** The day after the last date in the data. */
  end: string;
  groups: OverdueGroupResult[];
}

/** The day after the latest issue or payment date of the ledger. */
export function ledgerEnd(rows: readonly LedgerInvoice[]): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    last = Math.max(last, dayNumber(r.invoiceDate));
    if (r.paidDate !== null) last = Math.max(last, dayNumber(r.paidDate));
  }
  return last + 1;
}

export async function overdueBacktest(
  model: LoadedModel,
  rows: readonly LedgerInvoice[],
  asOfDay: number,
): Promise<OverdueBacktest> {
  const end = ledgerEnd(rows);
  const known = ledgerAsOf(rows, asOfDay);
  // Open overdue at the start of the as-of day: issued and due before it, not paid before it.
  const open = known.filter((r) => r.paidDate === null && dayNumber(r.dueDate) < asOfDay);
  const scores = await scoreInvoices(
    model,
    known,
    open.map((r) => r.invoiceId),
    new Date(asOfDay * 86_400_000),
  );
  const byId = new Map(rows.map((r) => [r.invoiceId, r]));
  const groups = OVERDUE_GROUPS.map(([from, to]) => ({
    label: Number.isFinite(to) ? `${from}–${to}` : `${from}+`,
    invoices: 0,
    predicted: COLLECT_HORIZONS.map(() => 0),
    realised: COLLECT_HORIZONS.map(() => 0) as (number | null)[],
  }));
  for (const s of scores) {
    if (s.pCollect30 === null || s.pCollect90 === null) continue;
    const r = byId.get(s.invoiceId)!;
    const overdue = asOfDay - dayNumber(r.dueDate);
    const g = groups[OVERDUE_GROUPS.findIndex(([from, to]) => overdue >= from && overdue <= to)]!;
    g.invoices++;
    const paid = r.paidDate === null ? null : dayNumber(r.paidDate);
    COLLECT_HORIZONS.forEach((h, k) => {
      g.predicted[k]! += k === 0 ? s.pCollect30! : s.pCollect90!;
      if (paid !== null && paid < asOfDay + h) g.realised[k] = g.realised[k]! + 1;
    });
  }
  for (const g of groups) {
    COLLECT_HORIZONS.forEach((h, k) => {
      g.predicted[k] = g.invoices ? g.predicted[k]! / g.invoices : Number.NaN;
      g.realised[k] = asOfDay + h > end ? null : g.invoices ? g.realised[k]! / g.invoices : Number.NaN;
    });
  }
  return { asOf: isoFromDay(asOfDay), end: isoFromDay(end), groups };
}

export function formatOverdueBacktest(b: OverdueBacktest): string {
  const pct = (x: number | null) =>
    x === null ? 'n/a' : Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–';
  const lines = [
    `Overdue invoices open on ${b.asOf}, scored on the ledger as known then (data to ${b.end}):`,
    'P(collected within 30 / 90 days | unpaid then), mean predicted vs share collected',
    '',
    `${'days overdue'.padEnd(14)}${'invoices'.padStart(9)}  ${'30 d: predicted'.padStart(16)}${'collected'.padStart(11)}  ${'90 d: predicted'.padStart(16)}${'collected'.padStart(11)}`,
  ];
  for (const g of b.groups) {
    lines.push(
      `${g.label.padEnd(14)}${String(g.invoices).padStart(9)}  ${pct(g.invoices ? g.predicted[0]! : Number.NaN).padStart(16)}${pct(g.realised[0]!).padStart(11)}  ${pct(g.invoices ? g.predicted[1]! : Number.NaN).padStart(16)}${pct(g.realised[1]!).padStart(11)}`,
    );
  }
  if (b.groups.some((g) => g.realised.includes(null))) {
    lines.push('', 'n/a: the data end before that horizon; choose an earlier --cutoff.');
  }
  return lines.join('\n');
}
