/**
 * GET /api/v1/tenants/:tenant/analytics?period=90&currency=USD[&forecast=due_date] — the dashboard's KPIs, aging,
 * collection rates, revenue at risk and 13-week forecast as of the clock. Once the risk model has scored the
 * tenant, the forecast uses predicted pay dates with a P10–P90 band and revenue at risk includes the high-risk
 * band. Results are cached per (tenant, day, query) until the ledger or the predictions change (a sync run or
 * import starts or finishes; a scoring run) or for at most 60 s; concurrent identical requests share one
 * computation.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { type Analytics, computeAnalytics } from '../../analytics/dashboard';
import { isoDay } from '../../clock';
import { analyticsVersion, openInvoicePredictions } from '../../db/queries/analytics';
import type { Services } from '../../services';
import { tenantOf } from '../auth';
import { parseInput } from '../validate';

const query = z.object({
  period: z.coerce.number().int().min(7).max(365).default(90),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  /** Force the naive due-date forecast even when predictions exist. */
  forecast: z.enum(['due_date']).optional(),
});

const TTL_MS = 60_000;

interface Entry {
  version: string;
  at: number;
  value: Promise<Analytics>;
}

export const analyticsRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const cache = new Map<string, Entry>();

    app.get('/tenants/:tenant/analytics', async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(query, req.query, 'querystring');
      const today = isoDay(services.clock.now());
      const currency = q.currency ?? tenant.currency;
      const key = `${tenant.id}|${today}|${q.period}|${currency}|${q.forecast ?? ''}`;
      const version = await analyticsVersion(services.db, tenant.id);
      const now = Date.now();
      let entry = cache.get(key);
      if (!entry || entry.version !== version || now - entry.at > TTL_MS) {
        entry = {
          version,
          at: now,
          value: (async () => {
            const scope = { tenantId: tenant.id, currency };
            const predictions = q.forecast === 'due_date' ? [] : await openInvoicePredictions(services.db, scope);
            return computeAnalytics(services.db, {
              ...scope,
              today,
              periodDays: q.period,
              // Until the tenant is scored there are no predictions: the naive due-date forecast.
              predictions: predictions.length > 0 ? predictions.map((p) => ({ ...p, highRisk: p.riskBand === 'high' })) : undefined,
            });
          })(),
        };
        cache.set(key, entry);
        if (cache.size > 1000) cache.delete(cache.keys().next().value!);
        // A failed computation is not cached.
        entry.value.catch(() => cache.delete(key));
      }
      reply.header('cache-control', 'private, max-age=0');
      return entry.value;
    });
  };
