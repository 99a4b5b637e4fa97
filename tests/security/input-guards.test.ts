/**
 * Bad input gets a clear error and changes nothing (found by probing a running `npm start` from outside):
 * - a bulk action's `filter` with a field its list does not know (a typo) is refused, not dropped — dropped, "all
 *   matching" silently became every pending reminder of the tenant.
 */
import { count } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { type bulkActions, disputes } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { customerId, messagesOf, setup } from '../dunning-engine/fixtures';
import { suiteTestApp } from '../helpers/app';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenantId: string;

let fixture: Awaited<ReturnType<typeof setup>>;
const testApp = suiteTestApp({
  services: async () => {
    fixture = await setup({ live: false });
    return fixture.s;
  },
});
beforeAll(async () => {
  ({ services: s, app, auth } = testApp);
  ({ tenantId } = fixture);
  await planTenant(s, tenantId);
}, 120_000);

const statuses = async () => (await messagesOf(s, tenantId)).map((m) => `${m.id}:${m.status}`).sort();
const rowCount = async (table: typeof disputes | typeof bulkActions) =>
  (await s.db.select({ n: count() }).from(table))[0]!.n;

describe('a bulk filter names only fields its list knows', () => {
  it('a misspelt or paging field is a 400 naming it, and no reminder changes', async () => {
    const before = await statuses();
    expect(before.some((m) => !m.endsWith(':skipped'))).toBe(true);
    const slow = await customerId(s, 'SLOW');
    for (const filter of [{ custmer: slow }, { status: 'planned', limit: 1 }, { cursor: 'x' }]) {
      const r = await app.inject({
        method: 'POST',
        url: `/api/v1/tenants/${tenantId}/dunning/messages/bulk`,
        headers: auth,
        payload: { action: 'skip', filter },
      });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error.code).toBe('invalid_request');
      expect(r.json().error.message).toMatch(/^Invalid filter: .*(custmer|limit|cursor)/);
    }
    expect(await statuses()).toEqual(before);
  });

  it('the same holds for customers and invoices', async () => {
    for (const [path, body] of [
      ['customers/bulk', { action: 'exclude', filter: { overdeu: 'true' } }],
      ['customers/bulk', { action: 'exclude', filter: { offset: 10 } }],
      ['invoices/bulk', { action: 'dispute', filter: { statuss: 'open' } }],
    ] as const) {
      const r = await app.inject({
        method: 'POST',
        url: `/api/v1/tenants/${tenantId}/${path}`,
        headers: auth,
        payload: body,
      });
      expect(r.statusCode, `${path} ${r.body}`).toBe(400);
      expect(r.json().error.message).toMatch(/^Invalid filter: /);
    }
    expect(await rowCount(disputes)).toBe(0);
  });

  it('a known filter still acts on exactly its rows', async () => {
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenantId}/invoices/bulk`,
      headers: auth,
      payload: { action: 'dispute', filter: { customer: 'MID', status: 'open' }, reason: 'checking' },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().applied).toBe(1);
  });
});
