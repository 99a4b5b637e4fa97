/**
 * Names sort the way a person reads them, in every list that sorts by customer: accents and case do not move a name
 * to the end (byte order put "Émile" and "Öztürk" after "Zulu", and "zoë" after "Zulu"). The order is the one a
 * browser's Intl.Collator gives for the same names, so the API and the app agree, and keyset pages follow it.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { customers, dunningTasks } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { suiteSetup } from '../dunning-engine/fixtures';
import { allPages } from './pages';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;

const suite = suiteSetup();

/** What a person (and the app's browser) expects: accent- and case-insensitive first. */
const collator = new Intl.Collator('en', { sensitivity: 'base' });
const byName = (names: string[]) => [...names].sort(collator.compare);

/** Customers with no invoices: only the customers list shows them. */
const EXTRA = ['ábel Kft', 'Öztürk Ltd', 'oscar & Sons', 'Zulu Trading', 'Ångström AB', 'bravo GmbH'];

beforeAll(async () => {
  ({ s, app, tenantId: tenant, auth } = suite);
  await s.db.execute(sql`update customers set name = case external_id
      when 'RELY' then 'Émile Supplies' when 'SLOW' then 'zoë Widgets' when 'MID' then 'Adam Co'
      else 'Zeta Corp' end where tenant_id = ${tenant}::uuid`);
  await s.db.execute(
    sql`update customers set emails = '{}' where external_id = 'FUT' and tenant_id = ${tenant}::uuid`,
  );
  const extra = EXTRA.map((name) => ({
    id: randomUUID(),
    tenantId: tenant,
    externalId: `X-${name}`,
    name,
    emails: [],
  }));
  await s.db.insert(customers).values(extra);
  // A call task on three of them, so the call list has names to order.
  await s.db.insert(dunningTasks).values(
    extra.slice(0, 3).map((c) => ({
      tenantId: tenant,
      customerId: c.id,
      kind: 'call' as const,
      title: `Call ${c.name}`,
      dedupeKey: `test:${c.id}`,
    })),
  );
  await planTenant(s, tenant);
}, 120_000);

const json = async (path: string) => {
  const r = await app.inject({ url: `/api/v1/tenants/${tenant}/${path}`, headers: auth });
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};

/** Consecutive duplicates collapsed: the customers in the order a list shows them. */
const runs = (names: string[]) => names.filter((n, i) => i === 0 || names[i - 1] !== n);

describe('sorting by customer name', () => {
  it('the customers list sorts names accent- and case-insensitively, both ways and across keyset pages', async () => {
    const names = (await json('customers?sort=name&limit=100')).items.map((c: { name: string }) => c.name);
    expect(names).toHaveLength(10);
    expect(names).toEqual(byName(names));
    expect(names.slice(0, 4)).toEqual(['ábel Kft', 'Adam Co', 'Ångström AB', 'bravo GmbH']);
    expect(names.slice(-3)).toEqual(['Zeta Corp', 'zoë Widgets', 'Zulu Trading']);
    const paged = (await allPages<{ name: string }>(json, 'customers?sort=name', 3)).map((c) => c.name);
    expect(paged).toEqual(names);
    const desc = (await allPages<{ name: string }>(json, 'customers?sort=-name', 4)).map((c) => c.name);
    expect(desc).toEqual([...names].reverse());
  });

  it('invoices, messages and tasks sorted by customer follow the same order', async () => {
    const inv = runs(
      (await allPages<{ customerName: string }>(json, 'invoices?sort=customer', 7)).map(
        (i) => i.customerName,
      ),
    );
    expect(inv).toEqual(['Adam Co', 'Émile Supplies', 'Zeta Corp', 'zoë Widgets']);
    const msgs = runs(
      (await json('dunning/messages?sort=customer&limit=500')).items.map(
        (m: { customerName: string }) => m.customerName,
      ),
    );
    expect(msgs.length).toBeGreaterThan(1);
    expect(msgs).toEqual(byName(msgs));
    expect(new Set(msgs).size).toBe(msgs.length);
    const tasks = (await json('dunning/tasks?sort=customer')).items.map(
      (t: { customer: { name: string } }) => t.customer.name,
    );
    expect(tasks).toEqual(['ábel Kft', 'oscar & Sons', 'Öztürk Ltd', 'Zeta Corp']);
  });
});
