/**
 * The analytics module: the dashboard (KPIs, aging, collection rates, revenue at risk, 13-week forecast) and the
 * tenant's change marker its cache keys on. Built once by the composition root from its deps (ports.ts).
 */
import { analyticsVersion, csvLedgerDay, openInvoicePredictions } from '../db/queries/analytics';
import { modelChangeOf } from '../db/queries/risk';
import { type Analytics, computeAnalytics } from './dashboard';
import type { AnalyticsDeps } from './ports';

export type { AnalyticsDeps } from './ports';

export interface DashboardQuery {
  tenantId: string;
  currency: string;
  /** The business day (ISO). */
  today: string;
  periodDays: number;
  /** 'due_date' forces the naive due-date forecast even when the tenant is scored. */
  forecast?: 'due_date';
  /** A CSV company's export day (LedgerDay.exportDay), named in the answer. */
  exportDay?: string | null;
}

/** The day a company's figures are as of, and for a CSV company the day of its export. */
export interface LedgerDay {
  day: string;
  /** A CSV company's latest export's date (its latest invoice, payment or credit date); null for a synced one. */
  exportDay: string | null;
}

export function createAnalytics(deps: AnalyticsDeps) {
  return {
    /** Moves when the ledger or the predictions change (a sync run or import; a scoring run). */
    version: (tenantId: string): Promise<string> => analyticsVersion(deps.db, tenantId),
    /**
     * The day the company's figures are as of, given the clock's day. A synced ledger is live: the clock's day. A
     * CSV company's ledger is its export, a ledger of the export's day: an invoice paid since is still open in it,
     * so aging it to today called a 2019 export 7 years overdue and found no sales in any recent period. Its day is
     * the export's latest date (never after the clock's day: a file dated ahead is not read as the future). Under
     * a clock someone set (DUELY_NOW / --now, tests) everything is as of that day, an export's figures too.
     */
    async ledgerDay(tenant: { id: string; source: string }, clockDay: string): Promise<LedgerDay> {
      if (tenant.source !== 'csv' || !deps.clock.real) return { day: clockDay, exportDay: null };
      const exportDay = await csvLedgerDay(deps.db, tenant.id);
      return { day: exportDay && exportDay < clockDay ? exportDay : clockDay, exportDay };
    },
    async dashboard(q: DashboardQuery): Promise<Analytics> {
      const scope = { tenantId: q.tenantId, currency: q.currency };
      const predictions = q.forecast === 'due_date' ? [] : await openInvoicePredictions(deps.db, scope);
      const modelChange = predictions.length > 0 ? await modelChangeOf(deps.db, q.tenantId) : null;
      return computeAnalytics(deps.db, {
        ...scope,
        today: q.today,
        exportDay: q.exportDay ?? null,
        periodDays: q.periodDays,
        modelChange,
        // Until the tenant is scored there are no predictions: the naive due-date forecast.
        predictions:
          predictions.length > 0
            ? predictions.map((p) => ({ ...p, highRisk: p.riskBand === 'high' }))
            : undefined,
      });
    },
  };
}

export type AnalyticsModule = ReturnType<typeof createAnalytics>;
