/**
 * The sync module wired with only what it uses: a database, a clock, the vault, a token refresher and request
 * limiters built from those deps, and a recording `onSynced` port in place of the job workflow. No pg-boss queue
 * and no risk model: a QuickBooks sandbox company is synced, its balances land, and a payment made afterwards is
 * picked up by the live re-read dunning uses before a send.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandboxes/quickbooks';
import { loadConfig } from '../../src/config';
import { type DbHandle, rowsOf } from '../../src/db/client';
import { invoices } from '../../src/db/schema';
import { Vault } from '../../src/keys';
import { createLogger } from '../../src/logger';
import { createSync } from '../../src/sync';
import { createConnectionTokens, ProcessLimiters } from '../../src/sync/connections';
import type { OnSynced } from '../../src/sync/ports';
import { createTestDb } from '../helpers/db';
import { balanceMismatches, dbBalances, QB_ENV, sandboxTokens, seedConnection } from '../sync/helpers';

let sandbox: Sandbox;
let dbh: DbHandle;
let sync: ReturnType<typeof createSync>;
let conn: { id: string; tenantId: string; provider: string; externalId: string };
const synced: { tenantId: string; changedInvoiceIds: string[] }[] = [];
const onSynced: OnSynced = async (_tx, e) => {
  synced.push(e);
};
// The test helpers read only `db` and `config` from what they are given.
let helperServices: never;

beforeAll(async () => {
  sandbox = await startSandbox({
    seed: 11,
    now: new Date('2026-11-27T18:00:00.000Z'),
    customers: 8,
    invoices: 60,
    verifierToken: QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
  });
  dbh = await createTestDb();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    ...QB_ENV,
    ...sandbox.config,
  });
  const infra = {
    db: dbh.db,
    dbh,
    clock: { now: () => sandbox.now() },
    logger: createLogger('silent'),
    config,
    vault: new Vault(config.APP_SECRET),
  };
  sync = createSync({ ...infra, tokens: createConnectionTokens(infra), limiters: new ProcessLimiters() });
  helperServices = { db: dbh.db, config } as never;
  const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
  const seeded = await seedConnection(helperServices, { realmId, tokens });
  conn = seeded.connection;
}, 120_000);
afterAll(async () => {
  await dbh?.close();
  await sandbox?.stop();
});

describe('createSync without a job queue or a model', () => {
  it('syncs the company: every balance as in QuickBooks, the changed invoices handed to the onSynced port', async () => {
    const r = await sync.run({ connectionId: conn.id, reason: 'test', onSynced });
    expect(r.status).toBe('succeeded');
    const balances = await dbBalances(helperServices, conn.tenantId);
    expect(balances.size).toBeGreaterThan(0);
    expect(balanceMismatches(sandbox.company.balances(), balances)).toEqual([]);
    const changed = new Set(synced.flatMap((e) => e.changedInvoiceIds));
    expect(synced.every((e) => e.tenantId === conn.tenantId)).toBe(true);
    // A first sync changes every invoice of the company: each one was handed to the port (inside its page).
    const ids = await dbh.db
      .select({ id: invoices.id })
      .from(invoices)
      .where(eq(invoices.tenantId, conn.tenantId));
    expect([...changed].sort()).toEqual(ids.map((i) => i.id).sort());
    // Nothing created pg-boss's schema: no queue was needed.
    const schemas = rowsOf<{ n: number }>(
      await dbh.db.execute(
        sql`select count(*)::int as n from information_schema.schemata where schema_name = 'pgboss'`,
      ),
    );
    expect(schemas[0]!.n).toBe(0);
  });

  it('refreshInvoices (the LedgerRefresh port dunning uses) picks up a payment made after the sync', async () => {
    const [open] = await dbh.db
      .select()
      .from(invoices)
      .where(
        and(
          eq(invoices.tenantId, conn.tenantId),
          eq(invoices.status, 'open'),
          eq(invoices.balanceMinor, invoices.totalMinor),
        ),
      )
      .limit(1);
    expect(open).toBeDefined();
    await sandbox.recordPayment(open!.externalId);
    expect(sync.hasLiveRead(conn.provider)).toBe(true);
    await sync.refreshInvoices(conn, [open!.id]);
    const [p] = await dbh.db.select().from(invoices).where(eq(invoices.id, open!.id));
    expect(p).toMatchObject({ status: 'paid', balanceMinor: 0 });
  });
});
