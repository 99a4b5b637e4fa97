/**
 * The analytics module: the dashboard (KPIs, aging, collection rates, revenue at risk, 13-week forecast) and the
 * tenant's change marker its cache keys on. Built once by the composition root from its deps (ports.ts).
 */
import { analyticsVersion, openInvoicePredictions } from '../db/queries/analytics';
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
}

export function createAnalytics(deps: AnalyticsDeps) {
  return {
    /** Moves when the ledger or the predictions change (a sync run or import; a scoring run). */
    version: (tenantId: string): Promise<string> => analyticsVersion(deps.db, tenantId),
    async dashboard(q: DashboardQuery): Promise<Analytics> {
      const scope = { tenantId: q.tenantId, currency: q.currency };
      const predictions = q.forecast === 'due_date' ? [] : await openInvoicePredictions(deps.db, scope);
      return computeAnalytics(deps.db, {
        ...scope,
        today: q.today,
        periodDays: q.periodDays,
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
