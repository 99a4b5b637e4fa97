/**
 * GET /api/v1/tenants/:tenant/analytics?period=90&currency=USD[&forecast=due_date] — the dashboard's KPIs, aging,
 * collection rates, revenue at risk and 13-week forecast as of the clock. Once the risk model has scored the
 * tenant, the forecast uses predicted pay dates with a P10–P90 band and revenue at risk includes the high-risk
 * band. Results are cached per (tenant, day, query) until the ledger or the predictions change (a sync run or
 * import starts or finishes; a scoring run) or for at most 60 s; concurrent identical requests share one
 * computation. The change marker is read at most once a second per tenant, so an import shows within a second.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { dayInZone } from '../../../connectors/dates';
import { fromMinor } from '../../../connectors/money';
import { createAnalyticsCache } from '../../analytics/cache';
import type { Analytics } from '../../analytics/dashboard';
import type { Services } from '../../app-services';
import { getTenant, type Tenant } from '../../db/queries/tenants';
import { tenantOf } from '../auth';
import * as contract from '../contracts/analytics';
import { type CsvColumn, sendCsv, toCsv } from '../csv-export';

/** The dashboard as CSV rows: KPIs, receivables, aging buckets, collection rates and forecast weeks. */
export function analyticsCsv(a: Analytics): string {
  type R = { section: string; item: string; value: string | number | null; count?: number | null };
  const m = (minor: number) => fromMinor(minor, a.currency);
  const rows: R[] = [
    {
      section: 'period',
      item: `as of ${a.asOf}${a.exportDay ? ' (the CSV export)' : ''}, last ${a.periodDays} days`,
      value: a.currency,
    },
    { section: 'kpi', item: 'DSO (days)', value: a.kpis.dso },
    { section: 'kpi', item: 'DSO countback (days)', value: a.kpis.dsoCountback },
    { section: 'kpi', item: 'CEI (%)', value: a.kpis.cei },
    { section: 'kpi', item: 'Average days delinquent', value: a.kpis.averageDaysDelinquent },
    { section: 'kpi', item: 'Overdue invoices, weighted days late', value: a.kpis.weightedDaysOverdue },
    {
      section: 'receivables',
      item: 'Open',
      value: m(a.receivables.openMinor),
      count: a.receivables.openCount,
    },
    {
      section: 'receivables',
      item: 'Overdue',
      value: m(a.receivables.overdueMinor),
      count: a.receivables.overdueCount,
    },
    { section: 'receivables', item: 'Credit sales in period', value: m(a.receivables.creditSalesMinor) },
    {
      section: 'receivables',
      item: 'Unapplied payments and credits',
      value: m(a.receivables.unappliedCreditMinor),
    },
    ...a.aging.map((b) => ({ section: 'aging', item: b.label, value: m(b.amountMinor), count: b.count })),
    { section: 'collected', item: 'Within 30 days (amount share)', value: a.collected.within30.amountShare },
    { section: 'collected', item: 'Within 60 days (amount share)', value: a.collected.within60.amountShare },
    { section: 'revenue at risk', item: 'Overdue', value: m(a.revenueAtRisk.overdueMinor) },
    {
      section: 'revenue at risk',
      item: 'High risk',
      value: a.revenueAtRisk.highRiskMinor === null ? null : m(a.revenueAtRisk.highRiskMinor),
      count: a.revenueAtRisk.highRiskCount,
    },
    { section: 'forecast', item: 'Past due', value: m(a.forecast.pastDueMinor) },
    ...a.forecast.weeks.map((w) => ({
      section: 'forecast',
      item: `${w.start} to ${w.end}`,
      value: m(w.expectedMinor),
    })),
    { section: 'forecast', item: 'Later', value: m(a.forecast.laterMinor) },
    {
      section: 'forecast',
      item: 'Of which not expected within 90 days (overdue)',
      value: m(a.forecast.doubtfulMinor),
    },
  ];
  const cols: CsvColumn<R>[] = [
    { header: 'Section', value: (r) => r.section },
    { header: 'Item', value: (r) => r.item },
    { header: 'Value', kind: 'number', value: (r) => r.value },
    { header: 'Invoices', kind: 'number', value: (r) => r.count ?? null },
  ];
  return toCsv(cols, rows);
}

export const analyticsRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const cache = createAnalyticsCache();
    /** Tenant rows by reference, re-read at most once a second (settings changes show within a second). */
    const lookupTenant = (ref: string): Promise<Tenant> =>
      cache.tenant(ref, () => getTenant(services.db, ref));

    app.get(
      '/tenants/:tenant/analytics',
      { schema: contract.analytics, config: { tenantLookup: lookupTenant } },
      async (req, reply) => {
        const tenant = await tenantOf(req, services, lookupTenant);
        const q = req.query;
        // As of the company's calendar day of the clock (its timezone), the day dunning counts credit on account by;
        // a CSV company's as of its export's day (analytics ledgerDay), when that is earlier.
        const { day: today, exportDay } = await services.analytics.ledgerDay(
          tenant,
          dayInZone(services.clock.now(), tenant.timezone || 'UTC'),
        );
        const currency = q.currency ?? tenant.currency;
        const key = `${tenant.id}|${today}|${q.period}|${currency}|${q.forecast ?? ''}`;
        // The version is re-read at most once a second per tenant: under load, cached answers cost no query for it.
        const version = await cache.version(tenant.id, () => services.analytics.version(tenant.id));
        const body = await cache.answer(key, version, async () => {
          const result: Analytics = await services.analytics.dashboard({
            tenantId: tenant.id,
            currency,
            today,
            exportDay,
            periodDays: q.period,
            forecast: q.forecast === 'due_date' ? 'due_date' : undefined,
          });
          // Serialised here, once per cache entry, through the contract (cached hits skip serialisation).
          return JSON.stringify(contract.analyticsBody.encode(result));
        });
        if (q.format === 'csv') {
          return sendCsv(
            reply,
            `${tenant.slug}-dashboard`,
            today,
            analyticsCsv(JSON.parse(body) as Analytics),
          );
        }
        return reply
          .header('cache-control', 'private, max-age=0')
          .type('application/json; charset=utf-8')
          .send(body);
      },
    );
  };
