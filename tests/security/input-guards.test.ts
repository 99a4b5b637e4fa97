/**
 * Bad input gets a clear error and changes nothing (found by probing a running `npm start` from outside):
 * - a bulk action's `filter` with a field its list does not know (a typo) is refused, not dropped — dropped, "all
 *   matching" silently became every pending reminder of the tenant;
 * - a NUL character anywhere in the path, query or body is a 400 naming the field, never a 500 from PostgreSQL
 *   (which cannot store U+0000), and nothing is written.
 */
import { count, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { bulkActions, disputes, dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { customerId, messagesOf, suiteSetup } from '../dunning-engine/fixtures';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenantId: string;

const suite = suiteSetup({ live: false });
beforeAll(async () => {
  ({ s, app, auth, tenantId } = suite);
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

describe('an edit that names nothing to change', () => {
  it('a dispute PATCH with neither resolved nor until is a 400 saying so, not a 500, and the dispute stays', async () => {
    const list = await app.inject({ url: `/api/v1/tenants/${tenantId}/dunning/disputes`, headers: auth });
    const [d] = list.json().items as { id: string; resolvedAt: string | null }[];
    expect(d).toBeDefined();
    for (const id of [d!.id, '00000000-0000-4000-8000-000000000000']) {
      const r = await app.inject({
        method: 'PATCH',
        url: `/api/v1/tenants/${tenantId}/dunning/disputes/${id}`,
        headers: auth,
        payload: {},
      });
      expect(r.statusCode, r.body).toBe(400);
      expect(r.json().error.code).toBe('invalid_request');
      expect(r.json().error.message).toMatch(/resolved or until/);
    }
    const [row] = await s.db.select().from(disputes).where(eq(disputes.id, d!.id));
    expect(row!.resolvedAt).toBeNull();
  });
});

describe("a list's query string takes only its own parameters", () => {
  it('a misspelt parameter on a list or its CSV export is a 400 naming it, not every row', async () => {
    for (const path of [
      'invoices?stauts=open',
      'invoices?format=csv&custmer=MID',
      'customers?overdeu=true',
      'dunning/messages?tone=firm&sttus=queued',
      'dunning/tasks?knd=call',
    ]) {
      const r = await app.inject({ url: `/api/v1/tenants/${tenantId}/${path}`, headers: auth });
      expect(r.statusCode, `${path} ${r.body}`).toBe(400);
      expect(r.json().error.code).toBe('invalid_request');
      expect(r.json().error.message, path).toMatch(/stauts|custmer|overdeu|sttus|knd/);
    }
  });

  it('the known parameters still answer', async () => {
    for (const path of [
      'invoices?status=open&format=csv',
      'customers?overdue=true&limit=5',
      'dunning/tasks?kind=call',
    ]) {
      const r = await app.inject({ url: `/api/v1/tenants/${tenantId}/${path}`, headers: auth });
      expect(r.statusCode, `${path} ${r.body}`).toBe(200);
    }
  });
});

describe("the dashboard's reads take only their own parameters", () => {
  it('a misspelt parameter on analytics, predictions, today or a rendered message is a 400 naming it', async () => {
    const [m] = await messagesOf(s, tenantId);
    for (const path of [
      'analytics?perod=30',
      'analytics?format=csv&curency=USD',
      'predictions?bnd=high',
      'dunning/today?limt=5',
      `dunning/messages/${m!.id}/rendered?fromat=html`,
    ]) {
      const r = await app.inject({ url: `/api/v1/tenants/${tenantId}/${path}`, headers: auth });
      expect(r.statusCode, `${path} ${r.body}`).toBe(400);
      expect(r.json().error.code).toBe('invalid_request');
      expect(r.json().error.message, path).toMatch(/perod|curency|bnd|limt|fromat/);
    }
  });

  it('the known parameters still answer', async () => {
    const [m] = await messagesOf(s, tenantId);
    for (const path of [
      'analytics?period=30',
      'analytics?format=csv&currency=USD',
      'predictions?band=high',
      'dunning/today?limit=5',
      `dunning/messages/${m!.id}/rendered?format=text`,
    ]) {
      const r = await app.inject({ url: `/api/v1/tenants/${tenantId}/${path}`, headers: auth });
      expect(r.statusCode, `${path} ${r.body}`).toBe(200);
    }
  });
});

describe('a NUL character is a 400 naming the field', () => {
  it('in a query, a path parameter or a JSON body; nothing is written', async () => {
    const base = `/api/v1/tenants/${tenantId}`;
    const [m] = await messagesOf(s, tenantId);
    const disputesBefore = await rowCount(disputes);
    const auditBefore = await rowCount(bulkActions);
    const cases: { url: string; method?: 'POST'; payload?: object; field: string }[] = [
      { url: `${base}/invoices?q=%00`, field: 'q' },
      { url: `${base}/customers?q=a%00b`, field: 'q' },
      { url: `${base}/dunning/messages?q=%00`, field: 'q' },
      { url: `${base}/dunning/tasks?q=%00`, field: 'q' },
      { url: `${base}/customers/%00`, field: 'customer' },
      {
        url: `${base}/dunning/disputes`,
        method: 'POST',
        payload: { invoiceId: m!.invoiceIds[0], reason: 'a\u0000b' },
        field: 'reason',
      },
      {
        url: `${base}/dunning/messages/bulk`,
        method: 'POST',
        payload: { action: 'skip', ids: ['dm_\u0000'] },
        field: 'ids.0',
      },
      {
        url: `${base}/dunning/messages/bulk`,
        method: 'POST',
        payload: { action: 'skip', ids: [m!.id], reason: 'x\u0000' },
        field: 'reason',
      },
    ];
    for (const c of cases) {
      const r = await app.inject({
        method: c.method ?? 'GET',
        url: c.url,
        payload: c.payload,
        headers: auth,
      });
      expect(r.statusCode, `${c.url} ${r.body}`).toBe(400);
      expect(r.json().error).toMatchObject({
        code: 'invalid_request',
        details: [{ field: c.field, message: 'must not contain NUL characters (\\u0000)' }],
      });
    }
    expect(await rowCount(disputes)).toBe(disputesBefore);
    expect(await rowCount(bulkActions)).toBe(auditBefore);
    const [still] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    expect(still!.status).toBe(m!.status);
  });

  it('so is a lone surrogate (\\ud800 in JSON): jsonb cannot hold one either, and text would keep U+FFFD', async () => {
    // Found by fuzzing a running server: these answered 500 (PostgreSQL "invalid input syntax for type json").
    const base = `/api/v1/tenants/${tenantId}`;
    const [m] = await messagesOf(s, tenantId);
    const auditBefore = await rowCount(bulkActions);
    const settingsBefore = (await app.inject({ url: `${base}/settings`, headers: auth })).json();
    const cases: { url: string; method: 'POST' | 'PATCH'; payload: object; field: string }[] = [
      {
        url: `${base}/settings`,
        method: 'PATCH',
        payload: { paymentDetails: { instructions: 'Pay \ud800 by wire' } },
        field: 'paymentDetails.instructions',
      },
      {
        url: `${base}/settings`,
        method: 'PATCH',
        payload: { sender: { companyName: '\udc00Acme', replyTo: 'ar@acme.example' } },
        field: 'sender.companyName',
      },
      {
        url: `${base}/invoices/bulk`,
        method: 'POST',
        payload: { action: 'resolve', filter: { q: '\ud800' } },
        field: 'filter.q',
      },
      {
        url: `${base}/dunning/messages/bulk`,
        method: 'POST',
        payload: { action: 'skip', ids: [m!.id], reason: 'late \ud83d' },
        field: 'reason',
      },
    ];
    for (const c of cases) {
      const r = await app.inject({ method: c.method, url: c.url, payload: c.payload, headers: auth });
      expect(r.statusCode, `${c.url} ${r.body}`).toBe(400);
      expect(r.json().error).toMatchObject({
        code: 'invalid_request',
        details: [
          { field: c.field, message: 'must be valid Unicode text (a lone surrogate, \\ud800–\\udfff)' },
        ],
      });
    }
    // A well-formed pair (an emoji) is text like any other.
    const ok = await app.inject({
      method: 'PATCH',
      url: `${base}/settings`,
      payload: { paymentDetails: { instructions: 'Pay by wire 🏦' } },
      headers: auth,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const restore = await app.inject({
      method: 'PATCH',
      url: `${base}/settings`,
      payload: { paymentDetails: settingsBefore.paymentDetails ?? null },
      headers: auth,
    });
    expect(restore.statusCode, restore.body).toBe(200);
    expect(await rowCount(bulkActions)).toBe(auditBefore);
    const [still] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    expect(still!.status).toBe(m!.status);
  });

  it('the sign-in form too; a stranger still gets 401 first', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/login/email',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=a%00%40b.example',
    });
    expect(r.statusCode, r.body).toBe(400);
    const stranger = await app.inject({ url: `/api/v1/tenants/${tenantId}/invoices?q=%00` });
    expect(stranger.statusCode).toBe(401);
  });
});
