/** Jobs of the payment-delay model: scoring after every sync/import and daily, retraining weekly. */
import { z } from 'zod';
import { allTenantIds } from '../db/queries/tenants';
import { retrainTenant, scoreTenant } from '../risk/service';
import type { Tx } from '../db/client';
import type { Services } from '../services';
import { defineJob } from './define';
import { planTenantJob } from './dunning-jobs';

/** Scores every open invoice and customer of a tenant as of now. One queued + one running per tenant. */
export const scoreTenantJob = defineJob({
  name: 'risk-score',
  schema: z.object({ tenantId: z.uuid(), reason: z.string().default('changed') }),
  queue: { policy: 'stately', retryLimit: 3, retryBackoff: true, retryDelay: 5 },
  singletonKey: (d) => d.tenantId,
  concurrency: 1,
  handler: async ({ tenantId }, services) => {
    const result = await scoreTenant(services, tenantId);
    await services.queue.send(planTenantJob, { tenantId, reason: 'scored' }); // dunning: plan on the new scores
    return result;
  },
});

/** Trains a challenger on the tenant's own history and promotes it only if it beats the current model. */
export const retrainTenantJob = defineJob({
  name: 'risk-retrain',
  schema: z.object({ tenantId: z.uuid(), reason: z.string().default('weekly') }),
  queue: { policy: 'stately', retryLimit: 1, expireInSeconds: 1800 },
  singletonKey: (d) => d.tenantId,
  concurrency: 1,
  handler: async ({ tenantId }, services) => {
    const result = await retrainTenant(services, tenantId);
    if (result.promoted) await services.queue.send(scoreTenantJob, { tenantId, reason: 'model promoted' });
    return { promoted: result.promoted, version: result.version, reason: result.reason };
  },
});

/** Daily: re-score every tenant as time passes (ages and days-to-due move); weekly on Mondays, also retrain. */
export const dailyRiskJob = defineJob({
  name: 'risk-daily',
  schema: z.object({}),
  cron: '15 4 * * *',
  cronData: {},
  queue: { policy: 'singleton', retryLimit: 2 },
  handler: async (_data, services) => {
    const ids = await allTenantIds(services.db);
    const monday = services.clock.now().getUTCDay() === 1;
    for (const id of ids) {
      await services.queue.send(scoreTenantJob, { tenantId: id, reason: 'daily' });
      if (monday) await services.queue.send(retrainTenantJob, { tenantId: id, reason: 'weekly' });
    }
    return { tenants: ids.length, retrain: monday };
  },
});

/** A change this large (a first import, a full sync) is new history worth a retraining attempt. */
export const LARGE_CHANGE_INVOICES = 500;

/**
 * After a ledger change, in the writer's transaction: queue scoring, and after a large change also retraining
 * (the job itself decides whether the tenant has enough history and whether the challenger is better).
 */
export async function queueAfterLedgerChange(
  services: Services,
  tx: Tx | undefined,
  e: { tenantId: string; changedInvoices: number; reason: string },
): Promise<void> {
  await services.queue.send(scoreTenantJob, { tenantId: e.tenantId, reason: e.reason }, { tx });
  if (e.changedInvoices >= LARGE_CHANGE_INVOICES) {
    await services.queue.send(
      retrainTenantJob,
      { tenantId: e.tenantId, reason: `large ${e.reason}` },
      { tx },
    );
  }
}
