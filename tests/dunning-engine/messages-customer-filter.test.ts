/**
 * GET dunning/messages?customer=<uuid>: the Customer page's timeline reads one customer's messages through this
 * filter. Only that customer's messages, only within the tenant in the path; a malformed id is a 400.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import { customers } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { csv } from '../helpers/csv';
import { giveEmails, goLive, ledgerRows, messagesOf, suiteSetup } from './fixtures';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenantA: string;
let tenantB: string;

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, tenantId: tenantA, auth } = suite);
  // A second company with the same ledger (same external ids), planned too.
  tenantB = (await importHistoryCsv(s.db, csv(ledgerRows()), { tenantName: 'Other', now: s.clock.now() }))
    .tenant.id;
  await giveEmails(s, tenantB);
  await goLive(s, tenantB);
  await planTenant(s, tenantA);
  await planTenant(s, tenantB);
}, 120_000);

async function customer(tenantId: string, externalId: string) {
  const [c] = await s.db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, externalId)));
  return c!.id;
}

const list = (tenantId: string, query: string) =>
  app.inject({ url: `/api/v1/tenants/${tenantId}/dunning/messages?${query}`, headers: auth });

describe('GET dunning/messages?customer=', () => {
  it("lists only that customer's messages", async () => {
    const all = await messagesOf(s, tenantA);
    const slow = await customer(tenantA, 'SLOW');
    const expected = all.filter((m) => m.customerId === slow).map((m) => m.id);
    expect(expected.length).toBeGreaterThan(0);
    // Other customers have messages too, so an ignored filter would show.
    expect(all.length).toBeGreaterThan(expected.length);
    const r = await list(tenantA, `customer=${slow}&limit=500`);
    expect(r.statusCode).toBe(200);
    const items = r.json().items as { id: string; customerId: string; why: { reason: string } }[];
    expect(items.map((m) => m.id).sort()).toEqual([...expected].sort());
    expect(items.every((m) => m.customerId === slow && m.why.reason.length > 0)).toBe(true);
  });

  it("never lists another tenant's messages: a customer of tenant B under tenant A is an empty list", async () => {
    const slowB = await customer(tenantB, 'SLOW');
    expect((await messagesOf(s, tenantB)).some((m) => m.customerId === slowB)).toBe(true);
    const r = await list(tenantA, `customer=${slowB}`);
    expect(r.statusCode).toBe(200);
    expect(r.json().items).toEqual([]);
    const own = await list(tenantB, `customer=${slowB}`);
    expect((own.json().items as unknown[]).length).toBeGreaterThan(0);
    const tokenA = { authorization: `Bearer ${(await issueApiToken(s.db, 'A only', tenantA)).token}` };
    const forbidden = await app.inject({
      url: `/api/v1/tenants/${tenantB}/dunning/messages?customer=${slowB}`,
      headers: tokenA,
    });
    expect(forbidden.statusCode).toBe(403);
  });

  it('rejects a customer that is not a uuid', async () => {
    const r = await list(tenantA, 'customer=SLOW');
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details).toContainEqual(expect.objectContaining({ field: 'customer' }));
  });
});
