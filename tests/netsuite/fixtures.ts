/** Our own NetSuite fixtures in the real shapes (SuiteQL envelope, o:errorDetails); values invented. */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type DbOrTx, rowsOf } from '../../src/db/client';
import { ensureTenant } from '../../src/db/queries/tenants';
import { invoices } from '../../src/db/schema';

export const ACCOUNT = '1234567_SB1';
export const REST = 'https://1234567-sb1.suitetalk.api.netsuite.com';
export const SUITEQL = '/services/rest/query/v1/suiteql';

export const TBA = {
  type: 'tba' as const,
  consumerKey: 'ck',
  consumerSecret: 'cs',
  tokenId: 'tid',
  tokenSecret: 'ts',
};

/** A SuiteQL answer: every value a string, `links: []` on every row. */
export function suiteqlPage(items: Array<Record<string, string>>, hasMore = false, offset = 0) {
  return {
    links: [{ rel: 'self', href: `${REST}${SUITEQL}` }],
    count: items.length,
    hasMore,
    items: items.map((i) => ({ links: [], ...i })),
    offset,
    totalResults: offset + items.length + (hasMore ? 1 : 0),
  };
}

export function errorBody(status: number, code: string, detail: string, title = 'Error') {
  return {
    type: 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html',
    title,
    status,
    'o:errorDetails': [{ detail, 'o:errorCode': code }],
  };
}

export const invalidLogin = () =>
  errorBody(
    401,
    'INVALID_LOGIN',
    'Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.',
    'Unauthorized',
  );
export const concurrencyExceeded = () =>
  errorBody(
    429,
    'CONCURRENCY_LIMIT_EXCEEDED',
    'Concurrent request limit exceeded. Request blocked.',
    'Too Many Requests',
  );
export const badQuery = () =>
  errorBody(
    400,
    'INVALID_PARAMETER',
    'Invalid search query. Detailed unprocessed description follows. Search error occurred: Field foreignamountremaining for record transaction was not found.',
    'Bad Request',
  );

/**
 * A tenant connected to the NetSuite stand-in with token-based auth, through the API as a team admin does it
 * (`POST …/connections`, expecting 201). Returns the tenant's id and the connection's.
 */
export async function connectSandboxTenant(
  app: FastifyInstance,
  db: DbOrTx,
  token: string,
  name: string,
  slug: string,
): Promise<{ tenantId: string; connectionId: string }> {
  const tenant = await ensureTenant(db, name, slug);
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenant.slug}/connections`,
    headers: { authorization: `Bearer ${token}` },
    payload: {
      provider: 'netsuite',
      accountId: ACCOUNT,
      auth: { type: 'tba', tokenId: 'sandbox-token-id', tokenSecret: 'sandbox-token-secret' },
    },
  });
  if (res.statusCode !== 201) throw new Error(`connect failed: ${res.statusCode} ${res.body}`);
  return { tenantId: tenant.id, connectionId: res.json().id };
}

/** The tenant's stored invoices that are not deleted, by NetSuite id: currency, open balance (minor units), status. */
export async function storedInvoices(
  db: DbOrTx,
  tenantId: string,
): Promise<Map<string, { currency: string; balanceMinor: number; status: string }>> {
  const rows = await db
    .select({
      id: invoices.externalId,
      currency: invoices.currency,
      balanceMinor: invoices.balanceMinor,
      status: invoices.status,
    })
    .from(invoices)
    .where(eq(invoices.tenantId, tenantId));
  return new Map(
    rows
      .filter((r) => r.status !== 'deleted')
      .map((r) => [r.id, { currency: r.currency, balanceMinor: r.balanceMinor, status: r.status }]),
  );
}

/**
 * Every customer's balance in Duely, by `<NetSuite id>:<currency>`, zeros left out, as NetsuiteCompany.customerBalances
 * states NetSuite's: open invoices, less unapplied payments and what remains of credits (journal debits count as
 * negative credits).
 */
export async function ledgerBalances(db: DbOrTx, tenantId: string): Promise<Map<string, number>> {
  const rows = rowsOf<{ k: string; minor: string }>(
    await db.execute(sql`
      select k, sum(minor)::bigint as minor from (
        select c.external_id || ':' || i.currency as k, i.balance_minor as minor
        from invoices i join customers c on c.id = i.customer_id
        where i.tenant_id = ${tenantId}::uuid and i.status = 'open'
        union all
        select c.external_id || ':' || p.currency, -p.unapplied_minor
        from payments p join customers c on c.id = p.customer_id
        where p.tenant_id = ${tenantId}::uuid and p.status = 'active'
        union all
        select c.external_id || ':' || m.currency, -m.remaining_minor
        from credit_memos m join customers c on c.id = m.customer_id
        where m.tenant_id = ${tenantId}::uuid and m.status = 'active'
      ) x group by k`),
  );
  return new Map(rows.map((r) => [r.k, Number(r.minor)]).filter(([, v]) => v !== 0) as [string, number][]);
}
