/** Ledger sync jobs: one sync per connection at a time; webhook bursts coalesce into one queued run. */
import { z } from 'zod';
import { type OnSynced, runSync } from '../sync/run-sync';
import { defineJob } from './define';

/** Optional per-process hook passed to every job-driven sync (e.g. enqueue scoring of the changed invoices). */
export const syncHooks: { onSynced?: OnSynced } = {};

/**
 * `stately` + singletonKey = connectionId: at most one queued and one active sync per connection, so a burst of
 * webhooks while a sync runs leaves exactly one follow-up queued. Retryable failures (throttling, 5xx, network,
 * interruption) retry with exponential backoff and continue from the last committed page.
 */
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
  },
  singletonKey: (d) => d.connectionId,
  concurrency: 2,
  handler: async ({ connectionId, reason, full }, services, job) => {
    const result = await runSync(services, {
      connectionId,
      reason,
      full,
      signal: job.signal,
      onSynced: syncHooks.onSynced,
    });
    return { status: result.status, syncRunId: result.syncRunId, kind: result.kind, stats: result.stats };
  },
});
