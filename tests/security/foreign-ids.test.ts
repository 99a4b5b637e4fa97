/**
 * The route sweep (route-sweep.test.ts) proves another tenant's principal cannot open a tenant's routes; this one
 * proves the principal of tenant A, on A's own routes, gets nothing of tenant B by naming B's real ids — B's
 * customer, invoice, message, task, promise, dispute, override, person, removed person, connection — in the path, the query or
 * the body: every route of the table (so a route added tomorrow is covered), nothing of B's in any answer, and
 * none of B's rows changed. (A black-box pass over a running server found no such hole; this keeps it so.)
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import { createUser, listUserRemovals, removeUser } from '../../src/auth/users';
import { rowsOf } from '../../src/db/client';
import { connections } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { openTask } from '../../src/dunning/tasks';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { ledgerRows, messagesOf, suiteSetup } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let operator: { authorization: string };
let victim: string;
let attacker: string;
let attackerAuth: { authorization: string };
/** The victim's ids by kind (several spellings where a route takes a ledger id too). */
const ids: Record<string, string[]> = {};

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, auth: operator, tenantId: victim } = suite);
  await planTenant(s, victim);
  const other = await importHistoryCsv(s.db, csv(ledgerRows()), {
    tenantName: 'Attacker Co',
    now: s.clock.now(),
  });
  attacker = other.tenant.id;
  await planTenant(s, attacker);
  attackerAuth = { authorization: `Bearer ${(await issueApiToken(s.db, 'attacker', attacker)).token}` };

  const base = `/api/v1/tenants/${victim}`;
  const get = async (path: string) =>
    (await app.inject({ url: `${base}/${path}`, headers: operator })).json() as {
      items: Record<string, string>[];
    };
  const customers = (await get('customers')).items;
  const invoices = (await get('invoices?status=open')).items;
  const messages = await messagesOf(s, victim);
  const post = async (method: 'POST' | 'PUT', path: string, payload: object) => {
    const r = await app.inject({ method, url: `${base}/${path}`, headers: operator, payload });
    expect(r.statusCode, `${path} ${r.body}`).toBeLessThan(300);
    return r.json() as { id: string };
  };
  const inv = invoices.find((i) => i.customerId === customers[0]!.id) ?? invoices[0]!;
  const promise = await post('POST', 'dunning/promises', {
    customerId: inv.customerId,
    invoiceIds: [inv.id],
    promisedDate: '2013-07-20',
  });
  const dispute = await post('POST', 'dunning/disputes', {
    invoiceId: invoices.at(-1)!.id,
    reason: 'victim',
  });
  const override = await post('PUT', 'dunning/overrides', { customerId: customers[1]!.id, note: 'victim' });
  const task = await openTask(s.db, {
    tenantId: victim,
    customerId: customers[0]!.id!,
    kind: 'call',
    title: 'Call the victim',
    invoiceIds: [inv.id!],
    dedupeKey: 'foreign-ids',
    today: '2013-07-01',
  });
  const person = await createUser(s.db, {
    tenantId: victim,
    email: 'person@victim.example',
    role: 'viewer',
    status: 'active',
  });
  // A person the victim's admin removed ("Allow again" is DELETE …/users/removed/:id).
  const gone = await createUser(s.db, {
    tenantId: victim,
    email: 'removed@victim.example',
    role: 'viewer',
    status: 'active',
  });
  await removeUser(s.db, victim, gone.id, { name: 'victim admin', now: s.clock.now() });
  const [removal] = await listUserRemovals(s.db, victim);
  const [conn] = await s.db
    .insert(connections)
    .values({
      tenantId: victim,
      provider: 'quickbooks',
      externalId: '9999000011112222',
      credentialsVersion: 1,
    })
    .returning();
  ids.customer = [customers[0]!.id!, customers[0]!.externalId!];
  ids.invoice = [inv.id!, inv.externalId!];
  ids.id = [
    messages[0]!.id,
    task!,
    promise.id,
    dispute.id,
    override.id,
    person.id,
    removal!.id,
    conn!.id,
    customers[0]!.id!,
    inv.id!,
  ];
  ids.message = messages.slice(0, 3).map((m) => m.id);
}, 180_000);

/** Every id of the victim's rows (the uuid `id` of each table with a tenant_id column), the tenant's own too. */
async function victimUuids(): Promise<string[]> {
  const tables = rowsOf<{ t: string }>(
    await s.db.execute(
      sql`select quote_ident(c.table_name) as t from information_schema.columns c
          join information_schema.columns i on i.table_name = c.table_name and i.table_schema = c.table_schema
            and i.column_name = 'id' and i.data_type = 'uuid'
          where c.table_schema = 'public' and c.column_name = 'tenant_id'
          order by 1`,
    ),
  );
  const out = new Set<string>([victim]);
  for (const { t } of tables) {
    const r = await s.db.execute(sql.raw(`select id::text as id from ${t} where tenant_id = '${victim}'`));
    for (const { id } of rowsOf<{ id: string }>(r)) out.add(id);
  }
  return [...out];
}

/** A digest of every row of the victim (tables with a tenant_id column, plus the tenant row itself). */
async function victimDigest(): Promise<string> {
  const tables = rowsOf<{ t: string }>(
    await s.db.execute(
      sql`select quote_ident(c.table_name) as t from information_schema.columns c
          join information_schema.tables t on t.table_name = c.table_name and t.table_schema = c.table_schema
          where c.table_schema = 'public' and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'
          order by 1`,
    ),
  );
  const h = createHash('sha256');
  for (const { t } of tables) {
    // Tokens and sessions move on use by design (last_used_at), and the bulk audit rows are the attacker's own.
    if (t === 'api_tokens' || t === 'sessions' || t === 'bulk_actions') continue;
    const r = await s.db.execute(
      sql.raw(
        `select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as d from ${t} x where x.tenant_id = '${victim}'`,
      ),
    );
    h.update(`${t}:${rowsOf<{ d: string }>(r)[0]?.d}`);
  }
  const tenant = await s.db.execute(sql`select t::text as d from tenants t where t.id = ${victim}`);
  h.update(rowsOf<{ d: string }>(tenant)[0]!.d);
  return h.digest('hex');
}

/** A body each write route with an id in its path takes, so the request reaches its handler's ownership check. */
const BODIES: [RegExp, object][] = [
  [/disputes\/:id$/, { resolved: true }],
  [/messages\/:id$/, { subject: 'attacker' }],
  [/users\/:id$/, { role: 'admin' }],
  [/skip$/, { reason: 'attacker' }],
  [/done$/, { note: 'attacker' }],
  [/contact$/, { email: 'attacker@evil.example' }],
];
const bodyFor = (url: string) => BODIES.find(([re]) => re.test(url))?.[1] ?? {};

/** Every way to name a victim's object in a request to `url` (a route pattern of the table). */
function attempts(method: string, url: string): InjectOptions[] {
  const params = [...url.matchAll(/:([a-zA-Z]+)/g)].map((m) => m[1]!).filter((p) => p !== 'tenant');
  const out: InjectOptions[] = [];
  const path = (values: Record<string, string>) =>
    `/api/v1${url.replace(':tenant', attacker).replace(/:([a-zA-Z]+)/g, (_, p: string) => encodeURIComponent(values[p] ?? ''))}`;
  const m = method as 'GET';
  const hasBody = method !== 'GET' && method !== 'DELETE';
  if (params.length > 0) {
    for (const p of params) {
      for (const v of ids[p] ?? ids.id!) {
        const values = Object.fromEntries(params.map((q) => [q, q === p ? v : (ids[q]?.[0] ?? v)]));
        out.push({ method: m, url: path(values), ...(hasBody ? { payload: bodyFor(url) } : {}) });
      }
    }
    return out;
  }
  const plain = path({});
  if (method === 'GET') {
    for (const v of [...ids.customer!, ...ids.invoice!]) {
      for (const q of ['customer', 'invoice', 'q'])
        out.push({ method: m, url: `${plain}?${q}=${encodeURIComponent(v)}` });
    }
    out.push({ method: m, url: `${plain}?invoice=${ids.invoice![0]}&sequence=standard&step=0` });
    return out;
  }
  if (!hasBody) return out;
  const [customer] = ids.customer!;
  const [invoice] = ids.invoice!;
  for (const payload of [
    { customerId: customer },
    { invoiceId: invoice },
    { customerId: customer, invoiceIds: [invoice], promisedDate: '2013-07-20' },
    { invoiceId: invoice, reason: 'attacker' },
    { customerId: customer, excluded: true },
    { invoiceId: invoice, excluded: true },
    { action: 'skip', ids: ids.message },
    { action: 'approve', ids: ids.message },
    { action: 'pause', ids: [customer], until: '2013-08-01' },
    { action: 'send_statement', ids: [customer] },
    { action: 'dispute', ids: [invoice] },
    { action: 'resolve', ids: ids.invoice!.slice(0, 1) },
    {
      invoice,
      sequence: 'standard',
      step: 0,
      draft: { offsetDays: 1, tone: 'friendly', template: 'reminder', channel: 'email' },
    },
  ]) {
    out.push({ method: m, url: plain, payload });
  }
  return out;
}

describe("tenant A naming tenant B's ids on its own routes", () => {
  it('gets nothing of B and changes nothing of B, on every route of the table', async () => {
    const before = await victimDigest();
    const routes = app.routeAuth.filter(
      (r) => r.auth === 'signed-in' && r.url.includes('/:tenant') && r.method !== 'HEAD',
    );
    expect(routes.length).toBeGreaterThan(40);
    const leaks: string[] = [];
    const victimIds = await victimUuids();
    expect(victimIds.length).toBeGreaterThan(100);
    let sent = 0;
    for (const r of routes) {
      for (const a of attempts(r.method, r.url.replace(/^\/api\/v1/, ''))) {
        const res = await app.inject({ ...a, headers: attackerAuth });
        sent++;
        const label = `${a.method} ${a.url} ${JSON.stringify(a.payload ?? '')}`.slice(0, 200);
        // B's tenant id never appears; a 2xx naming one of B's ids in its path is an object of B's served to A.
        if (res.body.includes(victim)) leaks.push(`${label}: ${res.statusCode} names tenant B`);
        // Nor any other id of B's rows that the request did not name itself (a 404 may echo the id it was given).
        const asked = `${a.url} ${JSON.stringify(a.payload ?? '')}`;
        const named = victimIds.filter((id) => res.body.includes(id) && !asked.includes(id));
        if (named.length > 0)
          leaks.push(`${label}: ${res.statusCode} names B's ${named.slice(0, 3).join(', ')}`);
        // (B's ledger ids, such as its customer "SLOW", may name A's own objects of the same ledger id.)
        const uuidInPath = ids.id!.some((id) => String(a.url).split('?')[0]!.includes(id));
        if (res.statusCode < 300 && uuidInPath && r.method !== 'POST' && r.method !== 'PUT')
          leaks.push(`${label}: ${res.statusCode} ${res.body.slice(0, 120)}`);
      }
    }
    expect(sent).toBeGreaterThan(150);
    expect(leaks).toEqual([]);
    expect(await victimDigest()).toBe(before);
  }, 180_000);
});
