/** Shared set-up for sync and auth tests: a tenant with a QuickBooks connection holding sealed tokens. */
import { eq } from 'drizzle-orm';
import type { TokenSet } from '../../connectors/types';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { qboDate } from '../../sandboxes/quickbooks/render';
import { Vault } from '../../src/auth/vault';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections, syncRuns } from '../../src/db/schema';
import type { Services } from '../../src/services';
import type { StoredTokens } from '../../src/sync/connection-tokens';
import { csv } from '../helpers/csv';
import type { QboBook } from './qbo-book';

export const QB_ENV = {
  QUICKBOOKS_CLIENT_ID: 'duely-test-client',
  QUICKBOOKS_CLIENT_SECRET: 'duely-test-secret',
  QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN: 'test-verifier-token',
};

export async function seedConnection(
  s: Services,
  opts: { name?: string; realmId: string; tokens: StoredTokens | null; currency?: string },
) {
  const tenant = await ensureTenant(s.db, opts.name ?? `QuickBooks ${opts.realmId}`, 'quickbooks', {
    currency: opts.currency ?? 'USD',
  });
  const vault = new Vault(s.config.APP_SECRET);
  const [conn] = await s.db
    .insert(connections)
    .values({
      tenantId: tenant.id,
      provider: 'quickbooks',
      externalId: opts.realmId,
      credentials: opts.tokens ? vault.seal(opts.tokens) : null,
      accessExpiresAt: opts.tokens ? new Date(opts.tokens.accessExpiresAt) : null,
      credentialsVersion: 1,
    })
    .returning();
  return { tenant, connection: conn! };
}

/** A connection without tokens (seedConnection) and a full sync run of it, for writing pages with applySyncPage. */
export async function seedFullSyncRun(s: Services, realmId: string) {
  const { tenant, connection } = await seedConnection(s, { realmId, tokens: null });
  const [run] = await s.db
    .insert(syncRuns)
    .values({ tenantId: tenant.id, connectionId: connection.id, kind: 'full' })
    .returning({ id: syncRuns.id });
  return { tenant, connection, runId: run!.id };
}

export async function readConnection(s: Services, id: string) {
  const [row] = await s.db.select().from(connections).where(eq(connections.id, id));
  return row!;
}

export function tokensAt(now: Date, accessTtlMs: number, suffix = '1'): StoredTokens {
  return {
    accessToken: `at-${suffix}`,
    refreshToken: `rt-${suffix}`,
    accessExpiresAt: new Date(now.getTime() + accessTtlMs).toISOString(),
    refreshExpiresAt: new Date(now.getTime() + 100 * 86_400_000).toISOString(),
  };
}

/** Connects to a local sandbox the way Intuit's consent screen would, returning the stored token shape. */
export async function sandboxTokens(
  sandbox: { config: { QUICKBOOKS_AUTHORIZE_URL: string; QUICKBOOKS_TOKEN_URL: string } },
  now: Date,
): Promise<{ realmId: string; tokens: StoredTokens }> {
  const { connectors } = await import('../../connectors');
  const { toStoredTokens } = await import('../../src/sync/connection-tokens');
  const qb = connectors.quickbooks;
  const redirectUri = 'http://127.0.0.1:9/callback';
  const url = qb.oauth.buildAuthorizeUrl({
    authorizeUrl: sandbox.config.QUICKBOOKS_AUTHORIZE_URL,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    redirectUri,
    state: 'x',
  });
  const res = await fetch(url, { redirect: 'manual' });
  const cb = qb.oauth.parseCallback(
    Object.fromEntries(new URL(res.headers.get('location') ?? '').searchParams),
  );
  if (!cb.ok || !cb.externalId) throw new Error('sandbox authorize failed');
  const set = await qb.oauth.exchangeCode({
    tokenUrl: sandbox.config.QUICKBOOKS_TOKEN_URL,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
    code: cb.code,
    redirectUri,
  });
  return { realmId: cb.externalId, tokens: toStoredTokens(set, now) };
}

/**
 * A QuickBooks sandbox company (its clock at 2026-11-27 18:00 UTC unless `now` says otherwise) and test services
 * pointed at it, on the sandbox's clock: the set-up of every suite that syncs from the sandbox.
 */
export async function sandboxServices(
  company: { seed: number; customers: number; invoices: number; now?: Date },
  opts: { queue?: false } = {},
): Promise<{ sandbox: Sandbox; s: Services }> {
  const { startSandbox } = await import('../../sandboxes/quickbooks');
  const { createTestServices } = await import('../helpers/services');
  const sandbox = await startSandbox({
    seed: company.seed,
    now: company.now ?? new Date('2026-11-27T18:00:00.000Z'),
    customers: company.customers,
    invoices: company.invoices,
    verifierToken: QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
  });
  const s = await createTestServices({
    clock: { now: () => sandbox.now() },
    env: { ...QB_ENV, ...sandbox.config },
    ...opts,
  });
  return { sandbox, s };
}

/**
 * A started QboBook (the scripted QuickBooks of tests/sync/qbo-book.ts) at `start`, and test services on the book's
 * clock with its URL as QUICKBOOKS_API_URL (QB_ENV plus `env`): sandboxServices' twin for scripted ledgers. The
 * caller closes both.
 */
export async function bookServices(
  start: number,
  opts: { env?: Record<string, string>; queue?: false } = {},
): Promise<{ book: QboBook; s: Services }> {
  const { QboBook } = await import('./qbo-book');
  const { createTestServices } = await import('../helpers/services');
  const book = new QboBook(start);
  const url = await book.start();
  const s = await createTestServices({
    clock: { now: () => new Date(book.clock) },
    env: { ...QB_ENV, QUICKBOOKS_API_URL: url, ...opts.env },
    ...(opts.queue === false ? { queue: false } : {}),
  });
  return { book, s };
}

/** A tenant connected to a running sandbox as Intuit's consent screen would leave it (sandboxTokens, then seedConnection). */
export async function connectedSandboxTenant(
  s: Services,
  sandbox: Parameters<typeof sandboxTokens>[0] & { now(): Date },
): Promise<{ tenantId: string; connectionId: string }> {
  const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
  const { tenant, connection } = await seedConnection(s, { realmId, tokens });
  return { tenantId: tenant.id, connectionId: connection.id };
}

/** connectedSandboxTenant with its first sync done: throws unless that sync succeeded. */
export async function syncedSandboxTenant(
  s: Services,
  sandbox: Parameters<typeof sandboxTokens>[0] & { now(): Date },
): Promise<{ tenantId: string; connectionId: string }> {
  const { runSync } = await import('../../src/sync/run-sync');
  const connected = await connectedSandboxTenant(s, sandbox);
  const result = await runSync(s, { connectionId: connected.connectionId, reason: 'test' });
  if (result.status !== 'succeeded') throw new Error(`the sandbox's first sync ended ${result.status}`);
  return connected;
}

/** Non-deleted invoice balances of a tenant, keyed by external id (compare with sandbox.company.balances()). */
export async function dbBalances(s: Services, tenantId: string): Promise<Map<string, number>> {
  const { invoices } = await import('../../src/db/schema');
  const { and, ne } = await import('drizzle-orm');
  const rows = await s.db
    .select({ id: invoices.externalId, balance: invoices.balanceMinor })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), ne(invoices.status, 'deleted')));
  return new Map(rows.map((r) => [r.id, r.balance]));
}

export function balanceMismatches(truth: Map<string, number>, got: Map<string, number>): string[] {
  const bad = [...truth]
    .filter(([id, minor]) => got.get(id) !== minor)
    .map(([id]) => `${id}:${truth.get(id)}!=${got.get(id)}`);
  const extra = [...got.keys()].filter((id) => !truth.has(id)).map((id) => `extra ${id}`);
  return [...bad, ...extra];
}

/**
 * A CSV company `tenantId` connects the stand-in's company through the connect flow (attachCompany, bound to that
 * tenant; no sync yet): the answer (tenantId, connectionId) or the refusal.
 */
export async function attachSandboxTo(s: Services, sandbox: Sandbox, tenantId: string) {
  const now = sandbox.now();
  const { realmId, tokens } = await sandboxTokens(sandbox, now);
  const set: TokenSet = {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    tokenType: 'bearer',
    expiresIn: Math.round((Date.parse(tokens.accessExpiresAt) - now.getTime()) / 1000),
    refreshTokenExpiresIn: null,
    idToken: null,
  };
  return s.sync.connect.attach(async () => null, {
    provider: 'quickbooks',
    externalId: realmId,
    tokens: set,
    boundTenant: tenantId,
    companyName: null,
  });
}

/** As attachSandboxTo, for a connect that must succeed: the connection's id. */
export async function connectSandboxTo(s: Services, sandbox: Sandbox, tenantId: string): Promise<string> {
  return ((await attachSandboxTo(s, sandbox, tenantId)) as { connectionId: string }).connectionId;
}

/** The company's own export of the stand-in's ledger: its live invoices under the file's ids (CSV-…, DOC-…), paid ones
 * dated paid on their issue day, then `extra` rows. */
export function sandboxLedgerExport(sandbox: Sandbox, extra: (string | number)[][] = []): string {
  const rows: (string | number)[][] = [];
  for (const inv of sandbox.company.invoices.values()) {
    if (inv.deleted || inv.voided) continue;
    rows.push([
      `CSV-${inv.customerId}`,
      `DOC-${inv.docNumber}`,
      qboDate(inv.txnDay),
      qboDate(inv.dueDay),
      (inv.totalMinor / 100).toFixed(2),
      'USD',
      inv.balanceMinor === 0 ? qboDate(inv.txnDay) : '',
      'email',
      'US',
    ]);
  }
  return csv([...rows, ...extra]);
}
