import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import { findTenant } from '../../src/db/queries/tenants';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let admin: string;
const auth = () => ({ authorization: `Bearer ${admin}` });

const rows = [
  ['ACME', 'A1', '2013-05-02', '2013-06-01', '100.00', 'USD', '2013-05-30', 'email', 'US'],
  ['ACME', 'A2', '2013-05-10', '2013-06-09', '250.10', 'USD', '', 'email', 'US'],
  ['ACME', 'A3', '2013-06-20', '2013-07-20', '40', 'USD', '', 'email', 'US'],
  ['BETA', 'B1', '2013-05-01', '2013-05-31', '75.5', 'USD', '', 'print', 'DE'],
];

const testApp = suiteTestApp({ token: 'test admin' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  admin = testApp.token;
});

async function upload(tenant: string, body: string, token = admin) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenant}/imports`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    payload: body,
  });
}

describe('API', () => {
  it('reports health of the database and the queue', async () => {
    const r = await app.inject('/health');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'ok', database: { ok: true }, queue: { ok: true } });
  });

  it('requires a valid token', async () => {
    expect((await app.inject('/api/v1/tenants')).statusCode).toBe(401);
    const bad = await app.inject({ url: '/api/v1/tenants', headers: { authorization: 'Bearer duely_nope' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.code).toBe('unauthorized');
  });

  it('imports an uploaded CSV (raw body) and lists its invoices with filters and pages', async () => {
    const up = await upload('acme', csv(rows));
    expect(up.statusCode).toBe(201);
    expect(up.json()).toMatchObject({ rows: 4, customers: 2, invoices: { open: 3, paid: 1 } });
    // The ledger is "as of" the file's latest date (A3's invoice date), with its open invoices' total.
    expect(up.json()).toMatchObject({ asOf: '2013-06-20', openBalance: { USD: 25_010 + 4_000 + 7_550 } });

    const all = await app.inject({ url: '/api/v1/tenants/acme/invoices?limit=2', headers: auth() });
    expect(all.statusCode).toBe(200);
    const page1 = all.json();
    expect(page1.items.map((i: { externalId: string }) => i.externalId)).toEqual(['B1', 'A1']);
    const page2 = (
      await app.inject({
        url: `/api/v1/tenants/acme/invoices?limit=2&cursor=${page1.nextCursor}`,
        headers: auth(),
      })
    ).json();
    expect(page2.items.map((i: { externalId: string }) => i.externalId)).toEqual(['A2', 'A3']);
    expect(page2.nextCursor).toBeNull();

    // The clock says 2013-07-01: B1 (due 05-31) and A2 (due 06-09) are overdue, A3 is not yet due.
    const overdue = (
      await app.inject({ url: '/api/v1/tenants/acme/invoices?overdue=true', headers: auth() })
    ).json();
    expect(
      overdue.items.map((i: { externalId: string; daysOverdue: number }) => [i.externalId, i.daysOverdue]),
    ).toEqual([
      ['B1', 31],
      ['A2', 22],
    ]);
    const open = (
      await app.inject({ url: '/api/v1/tenants/acme/invoices?status=open&customer=ACME', headers: auth() })
    ).json();
    expect(open.items.map((i: { externalId: string; balance: string }) => [i.externalId, i.balance])).toEqual(
      [
        ['A2', '250.10'],
        ['A3', '40.00'],
      ],
    );
  });

  it('shows one customer with its invoices, payments and open balance', async () => {
    const r = await app.inject({ url: '/api/v1/tenants/acme/customers/ACME', headers: auth() });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.customer.externalId).toBe('ACME');
    expect(body.asOf).toBe('2013-07-01'); // the app clock's day, not the machine's
    expect(body.openBalance).toEqual([{ currency: 'USD', balanceMinor: 29010, balance: '290.10' }]);
    expect(body.invoices).toHaveLength(3);
    expect(body.payments).toHaveLength(1);
    expect(body.payments[0].allocations).toEqual([
      expect.objectContaining({ amountMinor: 10000, amount: '100.00', date: '2013-05-30' }),
    ]);
    expect(
      (await app.inject({ url: '/api/v1/tenants/acme/customers/NOPE', headers: auth() })).statusCode,
    ).toBe(404);
  });

  it('validates query input and names the field', async () => {
    const r = await app.inject({ url: '/api/v1/tenants/acme/invoices?status=late&limit=0', headers: auth() });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/status/);
    expect(r.json().error.message).toMatch(/limit/);
    const c = await app.inject({ url: '/api/v1/tenants/acme/invoices?cursor=garbage', headers: auth() });
    expect(c.statusCode).toBe(400);
  });

  it('answers a broken upload with 422 and every bad line, importing nothing', async () => {
    const bad = csv([
      ['NEW', 'N1', '2013-05-02', '2013-06-01', '1', 'USD', '', '', ''],
      ['NEW', 'N2', 'yesterday', '2013-06-01', '1', 'USD', '', '', ''],
    ]);
    const r = await upload('newco', bad);
    expect(r.statusCode).toBe(422);
    expect(r.json().error).toMatchObject({
      code: 'invalid_csv',
      details: [{ line: 3, column: 'invoice_date' }],
    });
    expect(await findTenant(s.db, 'newco')).toBeNull();
  });

  it('accepts a multipart upload', async () => {
    const boundary = '----duely';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="ledger.csv"\r\nContent-Type: text/csv\r\n\r\n${csv(rows.slice(0, 1))}\r\n--${boundary}--\r\n`;
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/tenants/multi/imports',
      headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    expect(r.statusCode).toBe(201);
    expect(r.json().rows).toBe(1);
    const runs = (await app.inject({ url: '/api/v1/tenants/multi/sync-runs', headers: auth() })).json();
    expect(runs.items[0].source.fileName).toBe('ledger.csv');
  });

  it('keeps a tenant token inside its tenant', async () => {
    await upload('other', csv([['Z', 'Z1', '2013-05-02', '2013-06-01', '1', 'USD', '', '', '']]));
    const other = await findTenant(s.db, 'other');
    const { token } = await issueApiToken(s.db, 'other only', other!.id);
    const h = { authorization: `Bearer ${token}` };
    expect((await app.inject({ url: '/api/v1/tenants/other/invoices', headers: h })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/tenants/acme/invoices', headers: h })).statusCode).toBe(403);
    const list = (await app.inject({ url: '/api/v1/tenants', headers: h })).json();
    expect(list.items.map((t: { slug: string }) => t.slug)).toEqual(['other']);
    expect((await upload('brand-new', csv(rows), token)).statusCode).toBe(403);
  });

  it('answers a hostile upload with a 4xx naming line and column, never a 500 or SQL', async () => {
    const huge = 'z'.repeat(2 * 1024 * 1024);
    const r = await upload('hostile', csv([['H', huge, '2013-05-02', '2013-06-01', '1', 'USD', '', '', '']]));
    expect(r.statusCode).toBe(422);
    const body = r.body;
    expect(body.length).toBeLessThan(2_000);
    expect(body).toContain('line 2, column invoice_id');
    expect(body).not.toMatch(/insert|select|index row|sql/i);
    const nul = await upload(
      'hostile',
      csv([['H', 'A\u00001', '2013-05-02', '2013-06-01', '1', 'USD', '', '', '']]),
    );
    expect(nul.statusCode).toBe(422);
    expect(nul.body).toContain('line 2, column invoice_id');
  });
});

describe('API tokens under the lookup memo', () => {
  it('a token revoked through the API is refused on its very next request, though it was just used', async () => {
    const { token, id } = await issueApiToken(s.db, 'to revoke');
    const bearer = { authorization: `Bearer ${token}` };
    // Used twice in a row: the second answer comes from the memoized lookup.
    expect((await app.inject({ url: '/api/v1/tenants', headers: bearer })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/tenants', headers: bearer })).statusCode).toBe(200);
    const revoked = await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: auth() });
    expect(revoked.statusCode).toBe(200);
    const after = await app.inject({ url: '/api/v1/tenants', headers: bearer });
    expect(after.statusCode).toBe(401);
    // The admin token that revoked it still works.
    expect((await app.inject({ url: '/api/v1/tenants', headers: auth() })).statusCode).toBe(200);
  });

  it('a token that revokes itself is refused on its next request', async () => {
    const { token, id } = await issueApiToken(s.db, 'self-revoking');
    const bearer = { authorization: `Bearer ${token}` };
    expect((await app.inject({ url: '/api/v1/tokens', headers: bearer })).statusCode).toBe(200);
    const r = await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: bearer });
    expect(r.statusCode).toBe(200);
    expect((await app.inject({ url: '/api/v1/tokens', headers: bearer })).statusCode).toBe(401);
  });
});
