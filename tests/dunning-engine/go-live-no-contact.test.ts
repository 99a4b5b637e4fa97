/**
 * Day one of a CSV-imported company: the canonical CSV carries no email addresses, so no debtor can be written to and
 * the first plan writes nothing but "find a contact" tasks. The first-run checklist says so, and leaves the first
 * batch unticked, instead of "0 messages would go out; none waits for approval" with a tick and no word of why.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { suiteSetup } from './fixtures';

let s: Services;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };

const suite = suiteSetup({ live: false });
beforeAll(async () => {
  ({ s, app, tenantId, auth } = suite);
}, 120_000);

const goLive = async () => {
  const r = await app.inject({ url: `/api/v1/tenants/${tenantId}/dunning/go-live`, headers: auth });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as {
    wouldSend: number;
    awaitingApproval: number;
    items: { key: string; done: boolean; detail: string; href: string }[];
  };
};

describe('the first-run checklist when no debtor has an email address', () => {
  it('says how many customers cannot be written to and where to add their addresses', async () => {
    await s.db.execute(sql`update customers set emails = '{}' where tenant_id = ${tenantId}::uuid`);
    await planTenant(s, tenantId);
    const tasks = await app.inject({
      url: `/api/v1/tenants/${tenantId}/dunning/tasks?kind=find_contact`,
      headers: auth,
    });
    const open = tasks.json().total as number;
    expect(open).toBeGreaterThan(1);
    const status = await goLive();
    expect(status.wouldSend).toBe(0);
    const batch = status.items.find((i) => i.key === 'first_batch')!;
    expect(batch.detail).toBe(
      `No message can go out yet: ${open} customers have no email address: add one on the Call list`,
    );
    // Nothing was planned, so nothing was reviewed: no tick (it read "✓ Review the first batch (done)").
    expect(batch.done).toBe(false);
    // The fix is on the Call list (its find-a-contact tasks), not on Approvals, which is empty.
    expect(batch.href).toBe('/calls?kind=find_contact');
  });

  it('says nothing of it when every debtor can be written to', async () => {
    await s.db.execute(
      sql`update customers set emails = array[lower(external_id) || '@debtor.example'] where tenant_id = ${tenantId}::uuid`,
    );
    await planTenant(s, tenantId);
    const status = await goLive();
    const batch = status.items.find((i) => i.key === 'first_batch')!;
    expect(batch.detail).not.toContain('no email address');
    expect(batch.href).toBe('/approvals');
    // The checklist's count is every send day's; the Dashboard's "Sending today" beside it counts today's only.
    expect(status.awaitingApproval).toBeGreaterThan(0);
    expect(batch.detail).toBe(
      `${status.awaitingApproval} message${status.awaitingApproval === 1 ? '' : 's'} wait for approval on Approvals, of all send days`,
    );
  });

  it('"Sending today" says whether anything goes out: off before go-live, paused while paused, else live', async () => {
    const sending = async () => {
      const r = await app.inject({ url: `/api/v1/tenants/${tenantId}/dunning/today`, headers: auth });
      expect(r.statusCode, r.body).toBe(200);
      return r.json().sending as string;
    };
    expect(await sending()).toBe('off');
    await s.db.execute(
      sql`update tenants set settings = settings || '{"sendingEnabled": true, "sendingPaused": true}'::jsonb where id = ${tenantId}::uuid`,
    );
    expect(await sending()).toBe('paused');
    await s.db.execute(
      sql`update tenants set settings = settings || '{"sendingPaused": false}'::jsonb where id = ${tenantId}::uuid`,
    );
    expect(await sending()).toBe('live');
  });
});
