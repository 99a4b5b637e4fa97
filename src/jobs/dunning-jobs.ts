/**
 * Jobs of the dunning engine: planning per tenant (after every scoring run and daily), and one send job per
 * message at its send time. The engine enqueues them through `dunningJobPort` (wired by services.ts), so it does not
 * import this module; handlers import the engine lazily all the same, to keep start-up light.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { allTenantIds } from '../db/queries/tenants';
import type { DunningJobPort } from '../dunning/job-port';
import { defineJob } from './define';
import type { JobQueue } from './queue';

/** Plans a tenant's reminders and receipts now. One queued + one running per tenant. */
export const planTenantJob = defineJob({
  name: 'dunning-plan',
  schema: z.object({ tenantId: z.uuid(), reason: z.string().default('changed') }),
  queue: { policy: 'stately', retryLimit: 3, retryBackoff: true, retryDelay: 5 },
  singletonKey: (d) => d.tenantId,
  concurrency: 1,
  handler: async ({ tenantId }, services) => {
    const { planTenant } = await import('../dunning/engine');
    const r = await planTenant(services, tenantId);
    return { planned: r.inserted.length, cancelled: r.cancelled.length, receipts: r.receipts.length };
  },
});

/**
 * Sends one message (after the pre-send re-check). Provider failures do not throw: sendMessage puts the message
 * back to 'queued' with a new job at the retry time (or concludes it), so this job completing never leaves a
 * message without one. A throw (database down, a bug) is retried by pg-boss; the sweeper covers the rest. The
 * job id is the lease owner of the message while it is 'sending'.
 */
export const sendMessageJob = defineJob({
  name: 'dunning-send',
  schema: z.object({ messageId: z.string().min(1) }),
  queue: {
    policy: 'standard',
    retryLimit: 6,
    retryBackoff: true,
    retryDelay: 30,
    // Longer than the message lease (SENDING_LEASE_MS, 2 min), which is longer than one send (SEND_BUDGET_MS).
    expireInSeconds: 300,
  },
  handler: async ({ messageId }, services, job) => {
    const { sendMessage } = await import('../dunning/send-message');
    return sendMessage(services, messageId, { owner: job.id });
  },
});

/** Every 5 minutes: re-enqueue messages that lost their send job (src/dunning/send-sweep.ts). */
export const sweepSendsJob = defineJob({
  name: 'dunning-sweep',
  schema: z.object({}),
  cron: '*/5 * * * *',
  cronData: {},
  queue: { policy: 'singleton', retryLimit: 1 },
  handler: async (_data, services) => {
    const { sweepStaleMessages } = await import('../dunning/send-sweep');
    const r = await sweepStaleMessages(services);
    return { takenOver: r.takenOver.length, requeued: r.requeued.length };
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

/**
 * A pg-boss job id (uuid) derived from a message id and a purpose, so enqueueing the same send twice (two planner
 * runs, an approval clicked twice) creates one job.
 */
export function sendJobId(messageId: string, purpose = 'send'): string {
  const h = createHash('sha256').update(`${purpose}:${messageId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The engine's view of these jobs (src/dunning/job-port.ts) on a queue. */
export function dunningJobPort(queue: JobQueue): DunningJobPort {
  return {
    async scheduleSend(tx, messageId, delayMs, purpose) {
      await queue.send(
        sendMessageJob,
        { messageId },
        { tx, startAfter: new Date(Date.now() + delayMs), id: sendJobId(messageId, purpose) },
      );
    },
    async waitingSendJobs(messageIds) {
      const out = new Set<string>();
      for (const messageId of messageIds) {
        const jobs = await queue.findJobs(sendMessageJob.name, { data: { messageId }, queued: true });
        if (jobs.length > 0) out.add(messageId);
      }
      return out;
    },
    async replan(tx, tenantId, reason) {
      await queue.send(planTenantJob, { tenantId, reason }, { tx });
    },
  };
}
