/**
 * The dashboard's numbers for one tenant as of one day: KPIs, aging, collection rates, revenue at risk and the
 * 13-week forecast. Money is integer minor units of `currency`.
 *
 * Predictions: pass `predictions` (per open invoice: predicted date, P10/P90, p_late) once the risk model stores
 * them, and the forecast switches to predicted dates with a band and revenue at risk gains the high-risk figure.
 */

import { addDays } from '../../connectors/dates';
import type { DbOrTx } from '../db/client';
import {
  arAtPeriodStart,
  arTotals,
  dailySales,
  openByDueDate,
  openInvoiceBalances,
  otherCurrencyCounts,
} from '../db/queries/analytics';
import { creditOnAccountTotal } from '../db/queries/credit-on-account';
import {
  averageDaysDelinquent,
  COUNTBACK_MAX_DAYS,
  cei,
  countbackDso,
  share,
  standardDso,
} from './ar-metrics';
import { type CashForecast, dueDateForecast, type InvoicePrediction, predictedForecast } from './forecast';

export interface AnalyticsInput {
  tenantId: string;
  currency: string;
  today: string;
  /** A CSV company's export day (analytics ledgerDay), named in the answer; null or absent for a synced ledger. */
  exportDay?: string | null;
  periodDays?: number;
  predictions?: InvoicePrediction[];
  /** p_late at or above which an open invoice counts as high risk. */
  highRiskThreshold?: number;
  /** The tenant's last switch of models (tenants.model_change), shown when it is recent (MODEL_CHANGE_DAYS). */
  modelChange?: { at: string; before: { high: number }; after: { high: number } } | null;
}

/** A switch of models this many days before the dashboard's day or later is named beside the high-risk count. */
export const MODEL_CHANGE_DAYS = 30;

export interface AgingBucket {
  key: 'current' | '1-30' | '31-60' | '61-90' | '90+';
  label: string;
  count: number;
  amountMinor: number;
}

export interface Analytics {
  asOf: string;
  /**
   * A CSV company's figures are as of its export: the export's latest date (then `asOf` unless that is after the
   * clock's day). Null for a synced company, whose figures are as of the clock's day.
   */
  exportDay: string | null;
  currency: string;
  periodDays: number;
  kpis: {
    dso: number | null;
    dsoCountback: number | null;
    dsoCountbackCapped: boolean;
    cei: number | null;
    averageDaysDelinquent: number | null;
    /** Balance-weighted mean days past due of the overdue open invoices. */
    weightedDaysOverdue: number | null;
  };
  receivables: {
    openMinor: number;
    openCount: number;
    currentMinor: number;
    overdueMinor: number;
    overdueCount: number;
    periodStartMinor: number;
    creditSalesMinor: number;
    /**
     * Credit on account (not in openMinor): unapplied payments and what remains of credit memos dated on or before
     * today, in this currency — the credit dunning counts (db/queries/credit-on-account.ts). openMinor − this = the
     * ledger's A/R balance.
     */
    unappliedCreditMinor: number;
  };
  aging: AgingBucket[];
  collected: {
    within30: { amountShare: number | null; countShare: number | null; cohortCount: number };
    within60: { amountShare: number | null; countShare: number | null; cohortCount: number };
  };
  revenueAtRisk: {
    overdueMinor: number;
    /** null until predictions are available. */
    highRiskMinor: number | null;
    highRiskCount: number | null;
    highRiskThreshold: number;
    /**
     * A recent switch of models (at most MODEL_CHANGE_DAYS before the day): its day and the open invoices at high
     * risk, all currencies, under the previous model's last scoring and the new one's first. null: none recent.
     */
    modelChange: { on: string; highBefore: number; highAfter: number } | null;
  };
  forecast: CashForecast;
  /** Open invoices in other currencies, left out of every figure above. */
  otherCurrencyOpenInvoices: number;
  /** The other currencies with open invoices, and how many each (most first). */
  otherCurrencies: { currency: string; openInvoices: number }[];
}

export async function computeAnalytics(db: DbOrTx, input: AnalyticsInput): Promise<Analytics> {
  const scope = {
    tenantId: input.tenantId,
    currency: input.currency,
    today: input.today,
    periodDays: input.periodDays ?? 90,
  };
  const threshold = input.highRiskThreshold ?? 0.5;
  const withPredictions = input.predictions !== undefined;
  // Sequential on purpose: PGlite serves one query at a time anyway, and on Postgres this holds one connection.
  const t = await arTotals(db, scope);
  const begin = await arAtPeriodStart(db, scope);
  const sales = await dailySales(db, scope, COUNTBACK_MAX_DAYS);
  const open = withPredictions ? await openInvoiceBalances(db, scope) : null;
  const dueRows = open ? null : await openByDueDate(db, scope);
  const others = await otherCurrencyCounts(db, scope.tenantId, scope.currency);
  // Credit on account as dunning counts it (one query): dated on or before today, in this currency only.
  const credit = await creditOnAccountTotal(db, {
    tenantId: scope.tenantId,
    currency: scope.currency,
    asOf: scope.today,
  });

  const overdueMinor = t.arMinor - t.currentMinor;
  const overdueCount = t.openCount - t.currentCount;
  const countback = countbackDso(scope.today, t.arMinor, sales);

  let highRiskMinor: number | null = null;
  let highRiskCount: number | null = null;
  if (open && input.predictions) {
    const risky = new Set(
      input.predictions.filter((p) => p.highRisk ?? (p.pLate ?? 0) >= threshold).map((p) => p.invoiceId),
    );
    highRiskMinor = 0;
    highRiskCount = 0;
    for (const inv of open) {
      if (risky.has(inv.id)) {
        highRiskMinor += inv.balanceMinor;
        highRiskCount += 1;
      }
    }
  }

  return {
    asOf: scope.today,
    exportDay: input.exportDay ?? null,
    currency: scope.currency,
    periodDays: scope.periodDays,
    kpis: {
      dso: standardDso(t.arMinor, t.salesMinor, scope.periodDays),
      dsoCountback: countback.days,
      dsoCountbackCapped: countback.capped,
      cei: cei(begin, t.salesMinor, t.arMinor, t.currentMinor),
      averageDaysDelinquent: averageDaysDelinquent(t.arMinor, t.currentMinor, t.salesMinor, scope.periodDays),
      weightedDaysOverdue:
        overdueMinor > 0 ? Math.round((t.overdueDaysWeighted / overdueMinor) * 10) / 10 : null,
    },
    receivables: {
      openMinor: t.arMinor,
      openCount: t.openCount,
      currentMinor: t.currentMinor,
      overdueMinor,
      overdueCount,
      periodStartMinor: begin,
      creditSalesMinor: t.salesMinor,
      unappliedCreditMinor: credit,
    },
    aging: [
      { key: 'current', label: 'Current', count: t.currentCount, amountMinor: t.currentMinor },
      { key: '1-30', label: '1–30 days', count: t.d1to30Count, amountMinor: t.d1to30Minor },
      { key: '31-60', label: '31–60 days', count: t.d31to60Count, amountMinor: t.d31to60Minor },
      { key: '61-90', label: '61–90 days', count: t.d61to90Count, amountMinor: t.d61to90Minor },
      { key: '90+', label: '90+ days', count: t.d90plusCount, amountMinor: t.d90plusMinor },
    ],
    collected: {
      within30: {
        amountShare: share(t.paid30Minor, t.cohort30Minor),
        countShare: share(t.paid30Count, t.cohort30Count),
        cohortCount: t.cohort30Count,
      },
      within60: {
        amountShare: share(t.paid60Minor, t.cohort60Minor),
        countShare: share(t.paid60Count, t.cohort60Count),
        cohortCount: t.cohort60Count,
      },
    },
    revenueAtRisk: {
      overdueMinor,
      highRiskMinor,
      highRiskCount,
      highRiskThreshold: threshold,
      modelChange: recentModelChange(input.modelChange ?? null, scope.today),
    },
    forecast:
      open && input.predictions
        ? predictedForecast(scope.today, open, input.predictions)
        : dueDateForecast(scope.today, dueRows ?? []),
    otherCurrencyOpenInvoices: others.reduce((n, o) => n + o.openInvoices, 0),
    otherCurrencies: others,
  };
}

function recentModelChange(
  c: AnalyticsInput['modelChange'] | null,
  today: string,
): Analytics['revenueAtRisk']['modelChange'] {
  if (!c) return null;
  const on = c.at.slice(0, 10);
  if (on < addDays(today, -MODEL_CHANGE_DAYS)) return null;
  return { on, highBefore: c.before.high, highAfter: c.after.high };
}
