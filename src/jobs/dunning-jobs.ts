/**
 * Jobs of the dunning engine: planning per tenant (after every scoring run and daily), and one send job per
 * message at its send time. The engine enqueues them through `dunningJobPort` (wired by services.ts), so it does not
 * import this module; handlers import the engine lazily all the same, to keep start-up light.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { tenants } from '../db/schema';
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

const SEND_RETRY_LIMIT = 6;

/**
 * Sends one message (after the pre-send re-check). A retryable provider error is rethrown so pg-boss retries with
 * backoff; the message id is the provider idempotency key, so a retry never sends twice.
 */
export const sendMessageJob = defineJob({
  name: 'dunning-send',
  schema: z.object({ messageId: z.string().min(1) }),
  queue: {
    policy: 'standard',
    retryLimit: SEND_RETRY_LIMIT,
    retryBackoff: true,
    retryDelay: 30,
    expireInSeconds: 300,
  },
  handler: async ({ messageId }, services, job) => {
    const { sendMessage } = await import('../dunning/send-message');
    return sendMessage(services, messageId, { finalAttempt: job.retryCount >= SEND_RETRY_LIMIT });
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
    const rows = await services.db.select({ id: tenants.id }).from(tenants);
    for (const t of rows) await services.queue.send(planTenantJob, { tenantId: t.id, reason: 'daily' });
    return { tenants: rows.length };
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
    async replan(tx, tenantId, reason) {
      await queue.send(planTenantJob, { tenantId, reason }, { tx });
    },
  };
}
