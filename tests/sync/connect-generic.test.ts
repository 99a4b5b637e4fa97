/**
 * The generic provider paths: /connect/:provider/*, /webhooks/:provider and disconnect pick everything from the
 * connection's own connector. A second, fake provider is registered for the duration of this file.
 */
import type { FastifyInstance } from 'fastify';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectors } from '../../connectors';
import type { WebhookEvent } from '../../connectors/types';
import { Vault } from '../../src/auth/vault';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections } from '../../src/db/schema';
import { syncConnectionJob } from '../../src/jobs/sync-jobs';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { QB_ENV, readConnection, seedConnection, tokensAt } from './helpers';

const clock = new ManualClock('2026-11-27T10:00:00Z');
const registry = connectors as unknown as Record<string, unknown>;
const revoked: string[] = [];
const fake = {
  provider: 'fakeledger',
  displayName: 'Fake Ledger',
  sync: {
    async *pages() {},
  },
  disconnect: async (o: { refreshToken: string }) => {
    revoked.push(o.refreshToken);
  },
  webhooks: {
    verify: (_raw: Buffer | string, headers: Record<string, unknown>) => headers['x-fake-signature'] === 'ok',
    parse: (raw: Buffer | string): WebhookEvent[] =>
      (JSON.parse(raw.toString()) as string[]).map((externalId) => ({
        externalId,
        entity: 'Invoice',
        id: '1',
        operation: 'Update',
        lastUpdated: null,
      })),
    secret: () => 'fake-secret',
  },
};

let s: Services;
let app: FastifyInstance;
let admin: string;
let fakeConn = { id: '', tenantSlug: '' };
let qbConnId = '';

async function syncJobs(connectionId: string) {
  const jobs = (await s.queue.findJobs(syncConnectionJob.name)) as Array<{ data: { connectionId: string } }>;
  return jobs.filter((j) => j.data.connectionId === connectionId);
}

// The fake provider is registered before the app is built (suiteTestApp's beforeAll runs after this one).
beforeAll(() => {
  registry.fakeledger = fake;
});
const testApp = suiteTestApp({
  clock,
  env: { ...QB_ENV, PUBLIC_URL: 'https://duely.example' },
  token: 'test admin',
});
beforeAll(async () => {
  ({ services: s, app } = testApp);
  admin = testApp.token;
  const tenant = await ensureTenant(s.db, 'Fake Co', 'csv');
  const tokens = tokensAt(clock.now(), 3600_000, 'fake');
  const [row] = await s.db
    .insert(connections)
    .values({
      tenantId: tenant.id,
      provider: 'fakeledger',
      externalId: 'F1',
      credentials: new Vault(s.config.APP_SECRET).seal(tokens),
      accessExpiresAt: new Date(tokens.accessExpiresAt),
      credentialsVersion: 1,
    })
    .returning();
  fakeConn = { id: row!.id, tenantSlug: tenant.slug };
  // A QuickBooks company with the same external id: a fake ledger's webhook must not reach it.
  qbConnId = (await seedConnection(s, { realmId: 'F1', tokens: tokensAt(clock.now(), 3600_000) })).connection
    .id;
});
afterAll(() => {
  delete registry.fakeledger;
});

describe('generic provider routes', () => {
  it('answer 404 for a provider this server does not know, or one without that part', async () => {
    for (const url of [
      '/connect/nope',
      '/connect/nope/callback?code=x&state=y',
      '/connect/nope/launch',
      '/connect/nope/disconnect',
      // The fake ledger has no OAuth connect and no pages.
      '/connect/fakeledger',
      '/connect/fakeledger/callback?code=x&state=y',
      '/connect/fakeledger/disconnect',
    ]) {
      expect((await app.inject(url)).statusCode, url).toBe(404);
    }
    const hook = await app.inject({
      method: 'POST',
      url: '/webhooks/nope',
      headers: { 'content-type': 'application/json' },
      payload: '[]',
    });
    expect(hook.statusCode).toBe(404);
  });

  it('routes a webhook to the connections of (provider, company) only', async () => {
    const post = (signature: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/fakeledger',
        headers: { 'content-type': 'application/json', 'x-fake-signature': signature },
        payload: JSON.stringify(['F1', 'unknown-company']),
      });
    expect((await post('bad')).statusCode).toBe(401);
    const res = await post('ok');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ events: 2, enqueued: 1, ignored: 1 });
    expect(await syncJobs(fakeConn.id)).toHaveLength(1);
    expect(await syncJobs(qbConnId)).toHaveLength(0);
  });

  it("disconnect revokes with the connection's own connector, never QuickBooks' credentials", async () => {
    // Nothing may be sent to Intuit for a fake-ledger connection.
    nock.disableNetConnect();
    const res = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tenants/${fakeConn.tenantSlug}/connections/${fakeConn.id}`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'disconnected', revoked: true });
    expect(revoked).toEqual(['rt-fake']);
    expect(await readConnection(s, fakeConn.id)).toMatchObject({ status: 'disconnected', credentials: null });
    expect(nock.pendingMocks()).toEqual([]);
  });
});
