/**
 * The dunning engine's crons (daily plan, send sweeper). Its pipeline stages (dunning-plan after scoring, one
 * dunning-send per message at its send time, and `dunningJobPort` through which the engine enqueues them) are
 * declared in workflow.ts with the rest of the pipeline; re-exported here for existing importers.
 */
import { z } from 'zod';
import { allTenantIds } from '../db/queries/tenants';
import { defineJob } from './define';
import { planTenantJob } from './workflow';

export { dunningJobPort, planTenantJob, sendJobId, sendMessageJob } from './workflow';

/** Every 5 minutes: re-enqueue messages that lost their send job (src/dunning/send-sweep.ts). */
export const sweepSendsJob = defineJob({
  name: 'dunning-sweep',
  schema: z.object({}),
  cron: '*/5 * * * *',
  cronData: {},
  queue: { policy: 'singleton', retryLimit: 1 },
  handler: async (_data, services) => {
    const r = await services.dunning.sweep();
    return {
      takenOver: r.takenOver.length,
      requeued: r.requeued.length,
      batchesResumed: r.batchesResumed.length,
      batchesUnconfirmed: r.batchesUnconfirmed.length,
    };
  },
});

/** Daily, after risk-daily has re-scored: plan every tenant (steps fall due as days pass). */
export const dailyDunningJob = defineJob({
  name: 'dunning-daily',
  schema: z.object({}),
  cron: '45 5 * * *',
  cronData: {},
  queue: { policy: 'singleton', retryLimit: 2 },
  handler: async (_data, services) => {
    const ids = await allTenantIds(services.db);
    for (const id of ids) await services.queue.send(planTenantJob, { tenantId: id, reason: 'daily' });
    return { tenants: ids.length };
  },
});
