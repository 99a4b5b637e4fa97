/**
 * Polling for providers without webhooks: the cron job enqueues a sync of each active connection of a connector
 * that declares `poll`, once its last sync is `everyMinutes` old — never for inactive connections or a connection
 * synced recently. A webhook provider (QuickBooks) is polled too, hourly, as the safety net for missed webhooks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/auth/vault';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections, syncRuns } from '../../src/db/schema';
import { allJobs } from '../../src/jobs/catalogue';
import { pollConnections, pollConnectionsJob, syncConnectionJob } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { createTestServices } from '../helpers/services';
import { QB_ENV, seedConnection, tokensAt } from './helpers';

const clock = new ManualClock('2026-11-27T10:00:00Z');
let s: Services;
const ids: Record<string, string> = {};
const tenantOf: Record<string, string> = {};

async function queued() {
  const jobs = (await s.queue.findJobs(syncConnectionJob.name)) as Array<{
    data: { connectionId: string; reason: string };
    state: string;
  }>;
  return jobs.filter((j) => j.state === 'created').map((j) => j.data);
}

beforeAll(async () => {
  s = await createTestServices({ clock, env: { ...QB_ENV, NETSUITE_POLL_MINUTES: '15' } });
  const vault = new Vault(s.config.APP_SECRET);
  const add = async (name: string, externalId: string, status: 'active' | 'reconnect_needed') => {
    const tenant = await ensureTenant(s.db, name, 'netsuite');
    const tokens = tokensAt(clock.now(), 3600_000, name);
    const [row] = await s.db
      .insert(connections)
      .values({
        tenantId: tenant.id,
        provider: 'netsuite',
        externalId,
        status,
        credentials: vault.seal(tokens),
        accessExpiresAt: new Date(tokens.accessExpiresAt),
        credentialsVersion: 1,
      })
      .returning();
    tenantOf[row!.id] = tenant.id;
    return row!.id;
  };
  ids.fresh = await add('Never synced', '111_SB1', 'active');
  ids.recent = await add('Synced recently', '222_SB1', 'active');
  ids.broken = await add('Needs reconnect', '333_SB1', 'reconnect_needed');
  await s.db.insert(syncRuns).values({
    connectionId: ids.recent,
    tenantId: tenantOf[ids.recent],
    kind: 'incremental',
    status: 'succeeded',
    startedAt: new Date(clock.now().getTime() - 5 * 60_000),
    finishedAt: new Date(clock.now().getTime() - 4 * 60_000),
  } as typeof syncRuns.$inferInsert);
  // A webhook provider's connection, synced 4 minutes ago (by a webhook): polled only as a safety net, hourly.
  const qbo = await seedConnection(s, { realmId: 'Q1', tokens: tokensAt(clock.now(), 3600_000) });
  ids.qbo = qbo.connection.id;
  await s.db.insert(syncRuns).values({
    connectionId: ids.qbo,
    tenantId: qbo.tenant.id,
    kind: 'incremental',
    status: 'succeeded',
    startedAt: new Date(clock.now().getTime() - 5 * 60_000),
    finishedAt: new Date(clock.now().getTime() - 4 * 60_000),
  } as typeof syncRuns.$inferInsert);
});
afterAll(async () => {
  await s?.close();
});

describe('polling connectors without webhooks', () => {
  it('is a cron job in the catalogue', () => {
    expect(allJobs).toContain(pollConnectionsJob);
    expect(pollConnectionsJob.cron).toBe('* * * * *');
  });

  it('enqueues only due, active connections of polled providers', async () => {
    const { enqueued } = await pollConnections(s);
    expect(enqueued).toEqual([ids.fresh]);
    expect(await queued()).toEqual([{ connectionId: ids.fresh, reason: 'poll' }]);
  });

  it('a connection becomes due everyMinutes after its last sync started; a queued one is not doubled', async () => {
    clock.advance(11 * 60_000);
    const { enqueued } = await pollConnections(s);
    expect(enqueued.sort()).toEqual([ids.fresh, ids.recent].sort());
    const q = await queued();
    expect(q.filter((d) => d.connectionId === ids.fresh)).toHaveLength(1);
    expect(q.filter((d) => d.connectionId === ids.recent)).toHaveLength(1);
    expect(q.some((d) => d.connectionId === ids.broken || d.connectionId === ids.qbo)).toBe(false);
  });

  it('a webhook connection with no change notice for an hour gets a safety-net sync (a missed webhook)', async () => {
    // Intuit: "To compensate for the possibility of missed events, make a ChangeDataCapture (CDC) call"
    // (developer.intuit.com/app/developer/qbo/docs/develop/webhooks/best-practices).
    clock.advance(45 * 60_000);
    const { enqueued } = await pollConnections(s);
    expect(enqueued).toContain(ids.qbo);
    expect((await queued()).filter((d) => d.connectionId === ids.qbo)).toEqual([
      { connectionId: ids.qbo, reason: 'poll' },
    ]);
  });
});
