/**
 * A worker killed mid-sync (kill -9: no SIGTERM handler runs) leaves its pg-boss job `active` and its sync run
 * `running`. The job carries a heartbeat, so the supervisor fails it once the heartbeat lapsed and its retry
 * resumes the sync from the last committed page; meanwhile the run is not reported as running.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { rowsOf } from '../../src/db/client';
import { syncRuns } from '../../src/db/schema';
import { SYNC_HEARTBEAT_SECONDS, syncConnectionJob } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { isLive, runSync, SYNC_RUN_STALE_MS } from '../../src/sync/run-sync';
import { balanceMismatches, dbBalances, sandboxServices, sandboxTokens, seedConnection } from './helpers';

let sandbox: Sandbox;
let s: Services;

beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 8101, customers: 20, invoices: 150 }));
});
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

type JobRow = {
  id: string;
  state: string;
  retry_count: number;
  heartbeat_seconds: number | null;
  output: unknown;
};
async function syncJobs(): Promise<JobRow[]> {
  return rowsOf<JobRow>(
    await s.db.execute(
      sql`select id, state, retry_count, heartbeat_seconds, output from pgboss.job where name = 'sync.connection'`,
    ),
  );
}

describe('a sync whose worker died', () => {
  it('is failed by its lapsed heartbeat and resumed by the retry, not left active for an hour', async () => {
    const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
    const { tenant, connection } = await seedConnection(s, { realmId, tokens });

    // The dead worker: it committed a few pages, then vanished without finishing the run or the job.
    let pages = 0;
    await expect(
      runSync(s, {
        connectionId: connection.id,
        pageSize: 20,
        onProgress: () => {
          if (++pages === 4) throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    await s.db
      .update(syncRuns)
      .set({ status: 'running', error: null, finishedAt: null })
      .where(eq(syncRuns.connectionId, connection.id));
    await s.queue.send(syncConnectionJob, { connectionId: connection.id, reason: 'webhook' });
    const [job] = await syncJobs();
    expect(job?.heartbeat_seconds).toBe(SYNC_HEARTBEAT_SECONDS);
    await s.db.execute(sql`
      update pgboss.job set state = 'active', started_on = pgboss.job_now() - interval '10 minutes',
        heartbeat_on = pgboss.job_now() - interval '5 minutes'
      where name = 'sync.connection'`);
    // Webhooks meanwhile coalesce into one queued follow-up, which the stuck active job would hold back.
    expect(
      await s.queue.send(syncConnectionJob, { connectionId: connection.id, reason: 'webhook' }),
    ).not.toBeNull();
    expect(
      await s.queue.send(syncConnectionJob, { connectionId: connection.id, reason: 'webhook' }),
    ).toBeNull();

    // Progress tells the truth: a run whose heartbeat stopped is not running.
    const [run] = await s.db.select().from(syncRuns).where(eq(syncRuns.connectionId, connection.id));
    expect(run?.status).toBe('running');
    expect(isLive(run!, sandbox.now())).toBe(true);
    expect(isLive(run!, new Date(sandbox.now().getTime() + SYNC_RUN_STALE_MS))).toBe(false);

    await s.queue.supervise('sync.connection');
    const failed = (await syncJobs()).find((j) => j.id === job?.id);
    expect(failed?.state).toBe('retry');
    expect(JSON.stringify(failed?.output)).toMatch(/heartbeat/);

    // A live worker takes it over (its retry delay skipped) and finishes from the last committed page.
    await s.db.execute(
      sql`update pgboss.job set start_after = pgboss.job_now() where name = 'sync.connection'`,
    );
    await s.queue.work(s, 1);
    await vi.waitFor(
      async () => {
        const jobs = await syncJobs();
        expect(jobs.filter((j) => j.state === 'completed').length).toBeGreaterThanOrEqual(1);
        expect(jobs.filter((j) => j.state === 'active')).toEqual([]);
      },
      { timeout: 90_000, interval: 200 },
    );
    const runs = await s.db.select().from(syncRuns).where(eq(syncRuns.connectionId, connection.id));
    const resumed = runs.find((r) => r.id === run?.id);
    expect(resumed).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(resumed?.source).toMatchObject({ resumed: true });
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenant.id))).toEqual([]);
  }, 180_000);
});
