/**
 * The payment-delay model's crons. Its pipeline stages (risk-score after a ledger change, risk-retrain after a large
 * one) are declared in workflow.ts with the rest of the pipeline; re-exported here for existing importers.
 */
import { z } from 'zod';
import { allTenantIds } from '../db/queries/tenants';
import type { Tx } from '../db/client';
import { defineJob, type JobServices } from './define';
import { ledgerChanged, retrainTenantJob, scoreTenantJob } from './workflow';

export { LARGE_CHANGE_INVOICES, retrainTenantJob, scoreTenantJob } from './workflow';

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

/**
 * After a ledger change, in the writer's transaction: queue scoring, and after a large change also retraining.
 * @deprecated the pipeline's entry is `ledgerChanged` in workflow.ts (which also carries the changed ids).
 */
export async function queueAfterLedgerChange(
  services: JobServices,
  tx: Tx | undefined,
  e: { tenantId: string; changedInvoices: number; reason: string; invoiceIds?: readonly string[] },
): Promise<void> {
  await ledgerChanged(services, tx, e);
}
