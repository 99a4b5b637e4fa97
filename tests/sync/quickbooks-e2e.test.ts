/**
 * End to end through the app against the local QuickBooks sandbox: connect through the real OAuth routes (cookie
 * jar, server-side) → the callback enqueues the initial sync → a pg-boss worker runs it → balances equal the
 * sandbox's to the cent → a payment recorded in QuickBooks sends a signed webhook → an incremental sync job → the
 * invoice is updated.
 */
import { createServer } from 'node:net';
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandboxes/quickbooks';
import { connections, invoices, syncRuns, tenants } from '../../src/db/schema';
import { connectQuickbooksViaOAuth, ledgerSummary, waitForSync } from '../../src/demo';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { balanceMismatches, dbBalances, QB_ENV } from './helpers';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let sandbox: Sandbox;
let s: Services;
let app: FastifyInstance;
let appUrl = '';

let port = 0;
const t = suiteTestApp(async () => {
  port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  sandbox = await startSandbox({
    seed: 20261127,
    now: new Date('2026-11-27T18:00:00.000Z'),
    customers: 60,
    invoices: 1500,
    verifierToken: QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    webhookUrl: `${appUrl}/webhooks/quickbooks`,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
  });
  return {
    clock: { now: () => sandbox.now() },
    env: { ...QB_ENV, ...sandbox.config, PUBLIC_URL: appUrl },
    token: false,
    sandbox,
  };
});
beforeAll(async () => {
  ({ services: s, app } = t);
  await app.listen({ host: '127.0.0.1', port });
  await s.queue.work(s, 2);
});

describe('QuickBooks through the app', () => {
  let connectionId = '';
  let tenantId = '';

  it('connects through OAuth and the queued initial sync matches the sandbox to the cent', async () => {
    await connectQuickbooksViaOAuth(appUrl);
    const [conn] = await s.db
      .select()
      .from(connections)
      .where(and(eq(connections.provider, 'quickbooks'), eq(connections.externalId, sandbox.realmId)));
    expect(conn).toBeDefined();
    connectionId = conn!.id;
    tenantId = conn!.tenantId;
    const [tenant] = await s.db.select().from(tenants).where(eq(tenants.id, tenantId));
    expect(tenant?.source).toBe('quickbooks');

    const run = await waitForSync(s, connectionId, { timeoutMs: 120_000 });
    expect(run).toMatchObject({ status: 'succeeded', kind: 'full', error: null });
    expect(run.source).toMatchObject({ reason: 'connect' });
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
    const summary = await ledgerSummary(s, tenantId);
    expect(summary.customers).toBe(60);
    expect(summary.openInvoices).toBeGreaterThan(0);
    const truthOpen = [...sandbox.company.invoices.values()]
      .filter((i) => !i.deleted && !i.voided && i.balanceMinor > 0)
      .reduce((a, i) => a + i.balanceMinor, 0);
    expect(Object.values(summary.openBalance).reduce((a, b) => a + b, 0)).toBe(truthOpen);
  });

  it('a payment recorded in QuickBooks arrives by webhook → incremental sync job → invoice updated', async () => {
    const target = [...sandbox.company.invoices.values()].find(
      (i) => !i.deleted && !i.voided && i.balanceMinor > 10_000 && i.paymentIds.length === 0,
    );
    if (!target) throw new Error('no open invoice in the sandbox');
    const seen = (await s.db.select({ id: syncRuns.id }).from(syncRuns)).map((r) => r.id);
    const { webhook } = await sandbox.recordPayment(target.id, 2_500);
    expect(webhook?.status).toBe(200);
    const run = await waitForSync(s, connectionId, { exclude: seen, timeoutMs: 60_000 });
    expect(run).toMatchObject({ status: 'succeeded', kind: 'incremental' });
    expect(run.source).toMatchObject({ reason: 'webhook' });
    const [row] = await s.db
      .select()
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.externalId, target.id)));
    expect(row?.balanceMinor).toBe(sandbox.company.invoices.get(target.id)?.balanceMinor);
    expect(row?.balanceMinor).toBe(target.balanceMinor);
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
  });
});
