/**
 * The serializer drops every key a response schema does not name. The compile-time checks (covers<Row>) catch a
 * query field missing from a contract; this checks the same at runtime on a real ledger: what the API answers
 * holds every field the list queries return, and the customer page every column of the ledger rows.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { isoDay } from '../../src/clock';
import { customerLedger } from '../../src/db/queries/ledger';
import { customerPage, invoicePage } from '../../src/db/queries/lists';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: { id: string; slug: string };

const testApp = suiteTestApp({ token: 'operator' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  auth = testApp.auth;
  const up = await app.inject({
    method: 'POST',
    url: '/api/v1/tenants/acme/imports',
    headers: { ...auth, 'content-type': 'text/csv' },
    payload: csv([
      ['ACME', 'A1', '2013-05-02', '2013-06-01', '100.00', 'USD', '', 'email', 'US'],
      ['ACME', 'A2', '2013-05-10', '2013-06-09', '250.10', 'USD', '2013-06-20', 'email', 'US'],
      ['BETA', 'B1', '2013-06-01', '2013-07-01', '80.00', 'USD', '', 'email', 'US'],
    ]),
  });
  expect(up.statusCode).toBe(201);
  tenant = up.json().tenant;
}, 120_000);

const keys = (o: object) => Object.keys(o).sort();

describe('answers keep every field their queries return', () => {
  it('invoice list', async () => {
    const today = isoDay(s.clock.now());
    const rows = await invoicePage(s.db, tenant.id, { today }, { key: 'dueDate', dir: 'asc' }, 50);
    const r = await app.inject({ url: `/api/v1/tenants/${tenant.slug}/invoices`, headers: auth });
    expect(r.statusCode).toBe(200);
    const item = r.json().items[0];
    expect(rows.items.length).toBeGreaterThan(0);
    expect(keys(item)).toEqual(expect.arrayContaining(keys(rows.items[0]!)));
  });

  it('customer list', async () => {
    const today = isoDay(s.clock.now());
    const rows = await customerPage(
      s.db,
      tenant.id,
      { today, currency: 'USD' },
      { key: 'name', dir: 'asc' },
      50,
    );
    const r = await app.inject({ url: `/api/v1/tenants/${tenant.slug}/customers`, headers: auth });
    expect(r.statusCode).toBe(200);
    expect(keys(r.json().items[0])).toEqual(keys(rows.items[0]!));
  });

  it('customer page: the customer, invoice and payment rows whole', async () => {
    const r = await app.inject({ url: `/api/v1/tenants/${tenant.slug}/customers/ACME`, headers: auth });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    const ledger = await customerLedger(s.db, tenant.id, body.customer.id);
    expect(keys(body.invoices[0])).toEqual(expect.arrayContaining(keys(ledger.invoices[0]!)));
    expect(keys(body.payments[0])).toEqual(expect.arrayContaining(keys(ledger.payments[0]!)));
    // Instants arrive as ISO strings.
    expect(body.customer.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});
