/** Ledger sync jobs: one sync per connection at a time; webhook bursts coalesce into one queued run. */
import { z } from 'zod';
import { registeredConnectors } from '../../connectors';
import { activeConnectionsLastSynced, connectionTenantId } from '../db/queries/sync-runs';
import type { OnSynced } from '../sync/run-sync';
import { defineJob, type JobServices } from './define';
import { addressesChanged, creditChanged, LARGE_CHANGE_INVOICES, ledgerChanged } from './workflow';

/**
 * After every page that changed invoices, in that page's transaction: the pipeline's ledgerChanged (workflow.ts)
 * with the page's invoice ids, i.e. scoring of the tenant (stately per tenant, so a long sync leaves one run
 * queued, and the dunning plan follows the scores). A page is a partial change: retraining is decided at the end.
 * A page that changed only credit on account: creditChanged, the plan without scoring. A page that changed customers'
 * addresses: addressesChanged first, their waiting reminders re-addressed in the page's transaction.
 */
export const scoreAfterSync =
  (services: JobServices): OnSynced =>
  async (tx, { tenantId, changedInvoiceIds, creditChanged: credit, addressChangedCustomerIds }) => {
    // Reminders waiting for a customer whose addresses changed are re-addressed now (workflow.addressesChanged).
    await addressesChanged(services, tx, tenantId, addressChangedCustomerIds ?? []);
    // Changed invoices are scored, and planned after; credit alone changes no score, only the plan; addresses alone
    // were handled above.
    const addressesOnly =
      changedInvoiceIds.length === 0 && !credit && (addressChangedCustomerIds?.length ?? 0) > 0;
    if (credit && changedInvoiceIds.length === 0) await creditChanged(services, tx, tenantId);
    else if (!addressesOnly)
      await ledgerChanged(services, tx, { tenantId, reason: 'sync', invoiceIds: changedInvoiceIds });
  };

/**
 * `stately` + singletonKey = connectionId: at most one queued and one active sync per connection, so a burst of
 * webhooks while a sync runs leaves exactly one follow-up queued. Retryable failures (throttling, 5xx, network,
 * interruption) retry with exponential backoff and continue from the last committed page.
 *
 * A worker that dies (kill -9, OOM, a container stopped after its grace period) stops heart-beating: pg-boss's
 * supervisor (every minute, in worker processes) fails the job once its heartbeat is `SYNC_HEARTBEAT_SECONDS` old
 * and the retry resumes from the last committed page, so a company's sync is stuck for minutes, not for the hour
 * `expireInSeconds` allows a live one.
 */
export const SYNC_HEARTBEAT_SECONDS = 60;

export const syncConnectionJob = defineJob({
  name: 'sync.connection',
  schema: z.object({
    connectionId: z.uuid(),
    reason: z.string().default('manual'),
    full: z.boolean().optional(),
  }),
  queue: {
    policy: 'stately',
    retryLimit: 8,
    retryDelay: 15,
    retryBackoff: true,
    retryDelayMax: 900,
    expireInSeconds: 3600,
    heartbeatSeconds: SYNC_HEARTBEAT_SECONDS,
  },
  singletonKey: (d) => d.connectionId,
  concurrency: 2,
  handler: async ({ connectionId, reason, full }, services, job) => {
    const result = await services.sync.run({
      connectionId,
      reason,
      full,
      // A retry (the worker died, or a retryable error) continues the full sync this job started, if it got that far.
      resumeFull: job.retryCount > 0,
      signal: job.signal,
      onSynced: scoreAfterSync(services),
    });
    if (result.changedInvoices >= LARGE_CHANGE_INVOICES) {
      const tenantId = await connectionTenantId(services.db, connectionId);
      if (tenantId) {
        await ledgerChanged(services, undefined, {
          tenantId,
          changedInvoices: result.changedInvoices,
          reason: `${result.kind} sync`,
        });
      }
    }
    return { status: result.status, syncRunId: result.syncRunId, kind: result.kind, stats: result.stats };
  },
});

/**
 * Every minute: a sync of each active connection of every polled provider (a connector with `poll`, i.e. no
 * webhooks) whose last sync started at least `poll.everyMinutes(config)` ago. The sync queue's stately policy
 * keeps it to one queued sync per connection whatever else enqueued one.
 */
export const pollConnectionsJob = defineJob({
  name: 'sync.poll',
  schema: z.object({}),
  cron: '* * * * *',
  cronData: {},
  queue: { policy: 'singleton', retryLimit: 1 },
  handler: async (_data, services) => pollConnections(services),
});

export async function pollConnections(services: JobServices): Promise<{ enqueued: string[] }> {
  const now = services.clock.now().getTime();
  const enqueued: string[] = [];
  for (const connector of registeredConnectors) {
    if (!connector.poll) continue;
    const everyMs = connector.poll.everyMinutes(services.config) * 60_000;
    const rows = await activeConnectionsLastSynced(services.db, connector.provider);
    for (const row of rows) {
      const last = Math.max(
        row.lastSyncAt ? row.lastSyncAt.getTime() : 0,
        row.lastStarted ? row.lastStarted.getTime() : 0,
      );
      if (now - last < everyMs) continue;
      await services.queue.send(syncConnectionJob, { connectionId: row.id, reason: 'poll' });
      enqueued.push(row.id);
    }
  }
  return { enqueued };
}
