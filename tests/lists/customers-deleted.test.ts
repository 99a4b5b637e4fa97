/**
 * A customer deleted in the ledger (deleted_at set: deleted or made inactive there, or a CSV company's file debtor
 * released when it connected its ledger) is not one of the company's customers any more: the Customers list, its
 * count and totals line, its CSV export and a bulk action on "all matching" leave it out. Before, it was listed with a
 * 0 balance beside the live ones (a released file debtor beside the ledger's customer of the same name). Its own page
 * stays reachable by its link, for its history and messages.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { customerId, suiteSetup } from '../dunning-engine/fixtures';
import { parseCsv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;
const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, tenantId: tenant, auth } = suite);
  // MID is deleted in the ledger, as a listing that no longer finds it marks it: the customer and its invoices.
  await s.db.execute(
    sql`update customers set deleted_at = now() where tenant_id = ${tenant}::uuid and external_id = 'MID'`,
  );
  await s.db.execute(sql`
    update invoices set status = 'deleted', balance_minor = 0, paid_date = null
    where customer_id = (select id from customers where tenant_id = ${tenant}::uuid and external_id = 'MID')`);
}, 120_000);

const get = (path: string) => app.inject({ url: `/api/v1/tenants/${tenant}/${path}`, headers: auth });
const json = async (path: string) => {
  const r = await get(path);
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};
const ids = (items: { externalId: string }[]) => items.map((c) => c.externalId).sort();

describe('the Customers list leaves out a customer deleted in the ledger', () => {
  it('is not listed, counted or found by search; the live ones are', async () => {
    const all = await json('customers?limit=100');
    expect(ids(all.items)).toEqual(['FUT', 'RELY', 'SLOW']);
    expect(all.total).toBe(3);
    // Filters that a 0 balance matches (no open invoices, not paused or excluded) leave it out too.
    const nothingOpen = await json('customers?open=false&limit=100');
    expect(ids(nothingOpen.items)).not.toContain('MID');
    expect(nothingOpen.total).toBe(nothingOpen.items.length);
    const active = await json('customers?dunning=active&limit=100');
    expect(ids(active.items)).toEqual(['FUT', 'RELY', 'SLOW']);
    expect(active.total).toBe(3);
    const search = await json('customers?q=mid');
    expect(search.items).toEqual([]);
    expect(search.total).toBe(0);
  });

  it('is not in the CSV export', async () => {
    const r = await get('customers?format=csv');
    expect(r.statusCode, r.body).toBe(200);
    const [header, ...rows] = parseCsv(r.body);
    const idColumn = header!.indexOf('Customer ID');
    expect(rows.map((row) => row[idColumn]).sort()).toEqual(['FUT', 'RELY', 'SLOW']);
  });

  it('is not among "all matching" of a bulk action', async () => {
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenant}/customers/bulk`,
      headers: auth,
      payload: { action: 'exclude', filter: { dunning: 'active' } },
    });
    expect(r.statusCode, r.body).toBe(200);
    const mid = await customerId(s, 'MID');
    expect(r.json()).toMatchObject({ requested: 3, applied: 3 });
    expect(r.json().appliedIds).not.toContain(mid);
    const [row] = rowsOf<{ n: number }>(
      await s.db.execute(
        sql`select count(*)::int as n from dunning_overrides where customer_id = ${mid}::uuid and excluded`,
      ),
    );
    expect(Number(row!.n)).toBe(0);
  });

  it('keeps its own page, reachable by its link', async () => {
    const page = await json(`customers/${await customerId(s, 'MID')}`);
    expect(page.customer).toMatchObject({ externalId: 'MID' });
  });

  it('keeps one the ledger deleted while it still owes: the list adds up with the Dashboard', async () => {
    // Neither QuickBooks nor NetSuite deletes a customer with an open balance, but a row can get there (a listing
    // that stopped finding it before its invoices were read again): while its invoices count as open on the
    // Dashboard and in the Invoices list, the Customers list shows who owes them.
    await s.db.execute(
      sql`update customers set deleted_at = now() where tenant_id = ${tenant}::uuid and external_id = 'SLOW'`,
    );
    const all = await json('customers?limit=100');
    expect(ids(all.items)).toEqual(['FUT', 'RELY', 'SLOW']);
    const slow = all.items.find((c: { externalId: string }) => c.externalId === 'SLOW');
    expect(slow.openInvoices).toBeGreaterThan(0);
    expect(slow.openBalanceMinor).toBeGreaterThan(0);
  });
});
