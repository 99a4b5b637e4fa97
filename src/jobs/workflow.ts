/**
 * THE pipeline, in one place: what follows what once the ledger changes.
 *
 *   ledgerChanged {tenantId, invoiceIds?, reason}          (sync page, end of a sync, CSV import, API/CLI import)
 *     → risk-score  {tenantId, invoiceIds?, reason}        (+ risk-retrain when the change is large)
 *   scored {tenantId, invoiceIds?}
 *     → dunning-plan {tenantId, invoiceIds?, reason}
 *   creditChanged {tenantId}                               (a sync page that moved only credit on account)
 *     → dunning-plan {tenantId, reason: 'credit'}
 *   addressesChanged {tenantId, customerIds}               (a sync page that changed customers' addresses)
 *     → their waiting reminders taken back and planned again, in the page's transaction
 *   planned messages (the engine, through `dunningJobPort`)
 *     → dunning-send {messageId} at each message's send time; `replan` → dunning-plan
 *   retrain promoted a model → risk-score (every open invoice is scored with the new model)
 *
 * Crons feed the same stages (risk-daily → risk-score, dunning-daily → dunning-plan, dunning-sweep → dunning-send,
 * sync.poll → sync.connection); they live beside their stage in risk-jobs.ts / dunning-jobs.ts / sync-jobs.ts and
 * import the stage jobs from here, so this file imports no other job module (no import circle).
 *
 * The changed invoice ids travel in the payloads (`invoiceIds`, optional: jobs queued before this field existed
 * still validate). Today no stage narrows its work on them: scoring scores every open invoice of the tenant and
 * planning plans the whole tenant, and they must, because the score and plan queues are `stately` per tenant: a
 * change arriving while a run is queued coalesces into that queued job and its ids are dropped. So the ids are a
 * hint ("at least these changed"), useful for logs and for a stage that later merges ids on coalescing; absent means
 * "the whole tenant". Events larger than `MAX_CARRIED_IDS` carry no ids (a full sync would bloat the queue rows).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../db/client';
import type { DunningJobPort } from '../dunning/job-port';
import { defineJob, type JobServices } from './define';
import type { JobQueue } from './queue';

/** A change this large (a first import, a full sync) is new history worth a retraining attempt. */
export const LARGE_CHANGE_INVOICES = 500;

/** Above this many changed invoices an event carries no ids (= the whole tenant). */
export const MAX_CARRIED_IDS = 200;

/** Optional in every payload: queue rows written before a deploy have no `invoiceIds`. */
const invoiceIdsField = z.array(z.string().min(1)).max(MAX_CARRIED_IDS).optional();

/** A ledger change of one tenant, as its writer knows it. */
export interface LedgerChanged {
  tenantId: string;
  reason: string;
  /** The invoices that changed, when the writer knows them (dropped above MAX_CARRIED_IDS). */
  invoiceIds?: readonly string[];
  /**
   * How many invoices the whole change touched. Set by writers that see the whole change (an import, the end of a
   * sync): a large one also queues retraining. Absent for a partial event (one sync page): score only.
   */
  changedInvoices?: number;
}

/** The ids to carry: absent when unknown, empty or too many. */
export function carriedIds(ids: readonly string[] | undefined): string[] | undefined {
  if (!ids || ids.length === 0 || ids.length > MAX_CARRIED_IDS) return undefined;
  return [...new Set(ids)];
}

// ---------------------------------------------------------------------------------------------------------------
// Stage jobs (names, payloads and queue policies are the deployed ones: do not rename).
// ---------------------------------------------------------------------------------------------------------------

/** Scores every open invoice and customer of a tenant as of now. One queued + one running per tenant. */
export const scoreTenantJob = defineJob({
  name: 'risk-score',
  schema: z.object({
    tenantId: z.uuid(),
    reason: z.string().default('changed'),
    invoiceIds: invoiceIdsField,
  }),
  queue: { policy: 'stately', retryLimit: 3, retryBackoff: true, retryDelay: 5 },
  singletonKey: (d) => d.tenantId,
  concurrency: 1,
  handler: async ({ tenantId, invoiceIds }, services) => {
    const result = await services.risk.score(tenantId);
    await scored(services, { tenantId, invoiceIds });
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
    const result = await services.risk.retrain(tenantId);
    if (result.promoted) await modelPromoted(services, tenantId);
    return { promoted: result.promoted, version: result.version, reason: result.reason };
  },
});

/** Plans a tenant's reminders and receipts now. One queued + one running per tenant. */
export const planTenantJob = defineJob({
  name: 'dunning-plan',
  schema: z.object({
    tenantId: z.uuid(),
    reason: z.string().default('changed'),
    invoiceIds: invoiceIdsField,
  }),
  queue: { policy: 'stately', retryLimit: 3, retryBackoff: true, retryDelay: 5 },
  singletonKey: (d) => d.tenantId,
  concurrency: 1,
  handler: async ({ tenantId }, services) => {
    const r = await services.dunning.plan(tenantId);
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
    return services.dunning.send(messageId, { owner: job.id });
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Transitions: every edge of the pipeline is one of these; handlers and writers call them, not queue.send.
// ---------------------------------------------------------------------------------------------------------------

/**
 * ledgerChanged → score (and retrain after a large whole change). In the writer's transaction when it passes one,
 * so the follow-up is queued exactly when the change commits. The retrain job itself decides whether the tenant
 * has enough history and whether the challenger is better.
 */
export async function ledgerChanged(
  services: JobServices,
  tx: Tx | undefined,
  e: LedgerChanged,
): Promise<void> {
  const invoiceIds = carriedIds(e.invoiceIds);
  await services.queue.send(
    scoreTenantJob,
    { tenantId: e.tenantId, reason: e.reason, ...(invoiceIds ? { invoiceIds } : {}) },
    { tx },
  );
  if (e.changedInvoices !== undefined && e.changedInvoices >= LARGE_CHANGE_INVOICES) {
    await services.queue.send(
      retrainTenantJob,
      { tenantId: e.tenantId, reason: `large ${e.reason}` },
      { tx },
    );
  }
}

/**
 * An import's `afterWrite` (HTTP upload and `duely import`): ledgerChanged for what it inserted or changed, in the
 * import's transaction. Only a complete list of ids narrows the re-score (a capped one would leave invoices unscored).
 * The upload is the company's new ledger: reminders held while the last one was too old are re-checked now.
 */
export function importWritten(services: JobServices) {
  return async (tx: Tx, result: { tenant: { id: string } }, changed: { count: number; ids: string[] }) => {
    await ledgerChanged(services, tx, {
      tenantId: result.tenant.id,
      changedInvoices: changed.count,
      invoiceIds: changed.ids.length === changed.count ? changed.ids : undefined,
      reason: 'import',
    });
    await services.dunning.uploadArrived(tx, result.tenant.id);
  };
}

/** scored → plan: the dunning plan follows the new scores. */
export async function scored(
  services: JobServices,
  e: { tenantId: string; invoiceIds?: readonly string[] },
): Promise<void> {
  const invoiceIds = carriedIds(e.invoiceIds);
  await services.queue.send(planTenantJob, {
    tenantId: e.tenantId,
    reason: 'scored',
    ...(invoiceIds ? { invoiceIds } : {}),
  });
}

/**
 * creditChanged → plan: credit on account moved with no invoice changing (a payment applied to nothing, a credit
 * memo, a journal entry): no score depends on it, but the plan does (credit covering a debtor withdraws its
 * reminders and opens the credit-review task). In the page's transaction, like ledgerChanged.
 */
export async function creditChanged(
  services: JobServices,
  tx: Tx | undefined,
  tenantId: string,
): Promise<void> {
  await services.queue.send(planTenantJob, { tenantId, reason: 'credit' }, { tx });
}

/**
 * addressesChanged → re-address: a page changed these customers' addresses (the debtor's email edited in the
 * ledger). The planner never revisits a queued message whose key is unchanged, and a plan job coalesces per tenant
 * (the ids would be lost), so their reminders already waiting are taken back and planned again right here, in the
 * page's transaction, as an override naming another contact does (DunningModule.replanPending scoped to them).
 */
export async function addressesChanged(
  services: JobServices,
  tx: Tx,
  tenantId: string,
  customerIds: readonly string[],
): Promise<void> {
  if (customerIds.length === 0) return;
  await services.dunning.replanPending(tx, tenantId, [...new Set(customerIds)]);
}

/** A promoted model changes every score: re-score the whole tenant (which plans after it). */
export async function modelPromoted(services: JobServices, tenantId: string): Promise<void> {
  await services.queue.send(scoreTenantJob, { tenantId, reason: 'model promoted' });
}

/**
 * planned → send: the engine's view of the pipeline (src/dunning/job-port.ts), wired by services.ts so the engine
 * imports no job module. A send job per message at its send time (idempotent per message and purpose), and a
 * re-plan when the engine's own state changed (approval, resume, go-live).
 */
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

/**
 * A pg-boss job id (uuid) derived from a message id and a purpose, so enqueueing the same send twice (two planner
 * runs, an approval clicked twice) creates one job.
 */
export function sendJobId(messageId: string, purpose = 'send'): string {
  const h = createHash('sha256').update(`${purpose}:${messageId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
