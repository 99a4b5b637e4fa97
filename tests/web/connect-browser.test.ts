/**
 * The Connections page in Chromium against the built-in demo company (what `npm start` offers without QuickBooks
 * credentials): an operator with no company signs in with the one-time link, clicks "Try the demo company", goes
 * through the sandbox's OAuth and back still signed in, watches the initial sync's progress bar (the sync is held
 * at invoices so the bar is seen mid-way) and "Sync finished", sees the Dashboard's KPIs; then a grant revoked in
 * QuickBooks leads to the reconnect prompt, Reconnect restores it, and Disconnect (with its confirm step) ends it.
 * Screenshots: tests/artifacts/screenshots/connections-*.png.
 */

import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedgerCsv } from '../../bench/ledger-csv';
import { fixedClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { rowsOf } from '../../src/db/client';
import { connections, syncRuns, tenants } from '../../src/db/schema';
import { waitForSync } from '../../src/demo';
import { createLogger } from '../../src/logger';
import { createServices, type Services } from '../../src/services';
import type { StoredTokens } from '../../src/sync/connection-tokens';
import { vaultFor } from '../../src/sync/connections';
import { createTestDb } from '../helpers/db';
import { type BrowserRig, hasChromium, signIn, startBrowserRig } from './browser-helpers';

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

/**
 * Holds the connector's invoice query until release(): the run has read customers and waits on invoices, so the
 * page can be seen mid-sync. The connector calls the global fetch at call time (connectors/quickbooks/client.ts).
 */
function holdInvoiceQueries(sandboxUrl: string) {
  const original = globalThis.fetch;
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let held = 0;
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = decodeURIComponent(String(input instanceof Request ? input.url : input));
    if (url.startsWith(`${sandboxUrl}/v3/company/`) && /from invoice/i.test(url)) {
      held++;
      await gate;
    }
    return original(input, init);
  }) as typeof fetch;
  return {
    held: () => held,
    release: () => {
      release();
      globalThis.fetch = original;
    },
  };
}

/** Waits until no job is queued (due now), retrying or running, in any queue. */
async function queueIdle(s: Services, timeoutMs = 30_000): Promise<void> {
  await expect
    .poll(
      async () =>
        rowsOf<{ n: number }>(
          await s.db.execute(sql`
            select count(*)::int as n from pgboss.job
            where state in ('created', 'retry', 'active') and start_after <= pgboss.job_now()`),
        )[0]?.n,
      { timeout: timeoutMs, interval: 100 },
    )
    .toBe(0);
}

describe.skipIf(!hasChromium)('Connections: the demo company in Chromium', () => {
  let s: Services;
  let rig: BrowserRig;
  let base: string;
  let page: Page;
  let hold: ReturnType<typeof holdInvoiceQueries> | null = null;
  const shot = (name: string) => rig.shot(`connections-${name}`);
  const connectionRow = () => page.getByTestId(`connection-${s.demoCompany!.sandbox.realmId}`);
  const demoConnection = async () =>
    (
      await s.db.select().from(connections).where(eq(connections.externalId, s.demoCompany!.sandbox.realmId))
    )[0];

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // No QuickBooks credentials: QUICKBOOKS_DEMO=auto gives the demo company, as `npm start` does.
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'duely-connect-')),
      APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
      PUBLIC_URL: base,
    });
    s = await createServices(config, {
      dbh: await createTestDb(),
      clock: fixedClock('2026-11-27'),
      logger: createLogger('silent'),
      demoCompany: { customers: 20, invoices: 200 },
    });
    expect(s.demoCompany).not.toBeNull();
    rig = await startBrowserRig(s, { port });
    page = rig.page;
  });

  afterAll(async () => {
    hold?.release();
    await rig?.close();
    await s?.close();
  });

  it('offers the demo company to a new operator and connects it through the sandbox OAuth', async () => {
    await signIn(page, s, base);
    await page.getByRole('link', { name: 'Connections' }).click();
    const offer = page.getByTestId('demo-offer');
    await offer.waitFor();
    expect(await offer.textContent()).toContain('20 customers and 200 invoices');
    expect(await page.getByRole('link', { name: 'Connect to QuickBooks' }).count()).toBe(0);
    await shot('01-demo-offer');

    await page.getByRole('link', { name: 'Try the demo company' }).click();
    // A new company lands on Connections, where its first sync's progress shows.
    await page.waitForURL((u) => u.pathname === '/connections');
    // Back from QuickBooks still signed in: the session cookie made the round trip (same site, SameSite=Lax).
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect((await page.context().cookies()).some((c) => c.name === 'duely_session')).toBe(true);
    const session = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    expect(session).toBe(200);
    const conn = await demoConnection();
    expect(conn).toMatchObject({ status: 'active' });
  });

  it('shows the queued sync, a progress bar while it runs, then "Sync finished"', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    const row = connectionRow();
    await row.waitFor();
    expect(await row.locator('strong').first().textContent()).toBe('Demo company');
    // A QuickBooks company is synced: a CSV upload into it (refused) is not offered; an operator may upload one as
    // another company (the last test).
    await page.getByTestId('csv-not-offered').waitFor();
    expect(await page.getByRole('button', { name: 'Import', exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Import as a new company' }).count()).toBe(1);
    // No worker yet: the initial sync is queued, and the bar says so (indeterminate).
    const bar = row.getByRole('progressbar', { name: 'Sync of Demo company' });
    await bar.waitFor();
    expect(await bar.getAttribute('aria-valuenow')).toBeNull();
    expect(await bar.getAttribute('aria-valuetext')).toMatch(/Waiting/);
    // The runs card under it: a sync about to start, not "Nothing imported or synced yet."
    const runsCard = page.getByRole('region', { name: 'Sync runs and imports' });
    await expect.poll(async () => (await runsCard.textContent()) ?? '').toContain('A sync is about to start');
    await shot('02-queued');

    hold = holdInvoiceQueries(s.demoCompany!.sandbox.url);
    await s.queue.work(s, 2);
    // Customers read, invoices held: one of four kinds done, with the rows so far.
    await expect.poll(() => bar.getAttribute('aria-valuenow'), { timeout: 30_000 }).toBe('1');
    expect(await bar.getAttribute('aria-valuemax')).toBe('4');
    expect(await bar.getAttribute('aria-valuetext')).toBe(
      '1 of 4 kinds done, reading invoices: 20 customers',
    );
    expect(hold.held()).toBeGreaterThan(0);
    expect(await page.getByTestId('demo-offer').count()).toBe(0);
    // While it runs, the runs card lists it (it said "Nothing imported or synced yet." under the running sync).
    await expect
      .poll(async () => (await page.getByTestId('sync-runs').textContent()) ?? '')
      .toContain('QuickBooks full sync · in progress');
    await page.waitForTimeout(500); // the bar's width transition
    await shot('03-syncing');

    hold.release();
    hold = null;
    const status = row.getByRole('status');
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/Sync finished/);
    expect(await status.textContent()).toMatch(
      /^Sync finished: 20 customers, \d{3} invoices, \d+ credit memos, \d+ payments\.$/,
    );
    expect(await row.getByRole('progressbar').count()).toBe(0);
    await page.getByTestId('sync-runs').getByText('succeeded').first().waitFor();
    await shot('04-finished');
  });

  it('the Dashboard shows the synced ledger', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const dso = page.getByTestId('kpi-dso');
    await dso.waitFor();
    const days = Number(/DSO\s*([\d.]+) days/.exec((await dso.textContent()) ?? '')?.[1]);
    expect(days).toBeGreaterThan(0);
    expect(await page.getByTestId('kpi-cei').textContent()).toMatch(/[1-9][\d.]*%/);
    // Every time in the app is in the company's zone, named once above the page.
    const [tenant] = await s.db.select({ timezone: tenants.timezone }).from(tenants);
    expect(await page.getByTestId('time-zone').textContent()).toBe(`Times in ${tenant!.timezone}`);
    await shot('05-dashboard');
  });

  it('"Sync now" overtaken by a background job that met a revoked grant: the click is answered on the row', async () => {
    // Stop 26's CI (Postgres): the sync was accepted, a follow-up job marked the connection before the worker took the
    // sync, the worker skipped it without a run, and the row said nothing. Made deterministic here: the POST is
    // answered as accepted without queueing anything, then the connection is marked the way the job marks it.
    await queueIdle(s);
    const conn = await demoConnection();
    expect(conn?.status).toBe('active');
    await page.getByRole('link', { name: 'Connections' }).click();
    const row = connectionRow();
    await page.route('**/connections/*/sync', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({
            status: 202,
            contentType: 'application/json',
            body: '{"queued":true,"jobId":null}',
          })
        : route.continue(),
    );
    try {
      await row.getByRole('button', { name: 'Sync now' }).click();
      await s.db
        .update(connections)
        .set({ status: 'reconnect_needed', statusReason: 'invalid_grant (test)' })
        .where(eq(connections.id, conn!.id));
      await expect
        .poll(() => row.getByRole('status').textContent(), { timeout: 20_000 })
        .toMatch(/Sync failed: .*no longer accepts Duely.s access/);
      await row.getByRole('link', { name: 'Reconnect' }).waitFor();
    } finally {
      await page.unroute('**/connections/*/sync');
      await s.db
        .update(connections)
        .set({ status: 'active', statusReason: null })
        .where(eq(connections.id, conn!.id));
    }
    await page.reload();
    await connectionRow().getByRole('button', { name: 'Sync now' }).waitFor();
  });

  it('a grant revoked in QuickBooks: the sync fails into the reconnect prompt; Reconnect restores it', async () => {
    // The first sync's follow-up jobs (scoring → planning → reading pay links from QuickBooks) finish first: one
    // of them meeting the revoked grant would mark the connection before "Sync now" is pressed (seen on Postgres;
    // the page then offers Reconnect at once, or says why "Sync now" was refused: connections-progress.test.tsx).
    await queueIdle(s);
    const conn = await demoConnection();
    const { refreshToken } = vaultFor(s.config).open<StoredTokens>(conn!.credentials!);
    // Revoke at the sandbox the way a user disconnecting inside QuickBooks would end the grant.
    const revoked = await fetch(s.config.QUICKBOOKS_REVOKE_URL!, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${s.config.QUICKBOOKS_CLIENT_ID}:${s.config.QUICKBOOKS_CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ token: refreshToken }),
    });
    expect(revoked.status).toBe(200);

    await page.getByRole('link', { name: 'Connections' }).click();
    const row = connectionRow();
    // A background job may still meet the revoked grant first (under CI load a follow-up can be enqueued after
    // queueIdle returned) and mark the connection: the page then offers Reconnect with no "Sync now" button, and a
    // click would wait for that button until the test's timeout (stop 24's CI, Postgres). Either way the end of the
    // grant must end in the reconnect prompt; the sync's own failure is checked when the sync is what met it.
    let synced = false;
    if ((await demoConnection())?.status === 'active') {
      synced = await row
        .getByRole('button', { name: 'Sync now' })
        .click({ timeout: 15_000 })
        .then(() => true)
        .catch(async (err: unknown) => {
          if ((await demoConnection())?.status === 'active') throw err;
          return false;
        });
    }
    if (synced) {
      await expect
        .poll(() => row.getByRole('status').textContent(), { timeout: 45_000 })
        .toMatch(/Sync failed/);
    } else {
      await page.reload();
    }
    await expect
      .poll(
        async () =>
          (await row.getByRole('link', { name: 'Reconnect' }).count()) > 0
            ? 'reconnect prompt'
            : `no prompt yet; row says: ${await row.textContent()}`,
        { timeout: 45_000 },
      )
      .toBe('reconnect prompt');
    if (synced) expect(await row.getByRole('note').textContent()).toMatch(/no longer accepts Duely's access/);
    expect(await row.textContent()).toContain('reconnect needed');
    await shot('06-reconnect-needed');

    const seen = (await s.db.select({ id: syncRuns.id }).from(syncRuns)).map((r) => r.id);
    await row.getByRole('link', { name: 'Reconnect' }).click();
    await page.waitForURL((u) => u.pathname === '/connections');
    const run = await waitForSync(s, conn!.id, { exclude: seen, timeoutMs: 60_000 });
    expect(run.status).toBe('succeeded');
    await page.getByRole('link', { name: 'Connections' }).click();
    await connectionRow().getByText('active', { exact: true }).waitFor();
    expect(await connectionRow().getByRole('link', { name: 'Reconnect' }).count()).toBe(0);
  }, 150_000);

  it('disconnects after a confirm step and shows the result', async () => {
    const row = connectionRow();
    await row.getByRole('button', { name: 'Disconnect' }).click();
    const confirm = row.getByRole('group', { name: 'Disconnect Demo company?' });
    await confirm.waitFor();
    await shot('07-disconnect-confirm');
    // Cancel keeps it connected.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await confirm.count()).toBe(0);
    expect((await demoConnection())?.status).toBe('active');

    await row.getByRole('button', { name: 'Disconnect' }).click();
    await row.getByRole('button', { name: 'Yes, disconnect' }).click();
    await expect
      .poll(() => row.getByRole('status').textContent())
      .toMatch(/Demo company is disconnected: Duely's access was revoked at QuickBooks/);
    await row.getByText('disconnected', { exact: true }).waitFor();
    expect(await row.getByRole('button', { name: 'Sync now' }).count()).toBe(0);
    expect(await row.getByRole('button', { name: 'Disconnect' }).count()).toBe(0);
    const after = await demoConnection();
    expect(after).toMatchObject({ status: 'disconnected', credentials: null });
    // The demo company can be connected again.
    await page.getByRole('link', { name: 'Try the demo company' }).waitFor();
    await shot('08-disconnected');
    expect(rig.consoleErrors).toEqual([]);
  });

  it('after the demo, a CSV ledger is uploaded as a new company from Connections', async () => {
    // The synced company takes no upload; an operator is offered one as another company (before, nowhere in the app).
    const card = page.getByRole('region', { name: 'Upload a CSV' });
    await card.getByTestId('csv-not-offered').waitFor();
    await card.getByLabel('Company name').fill('Acme Corp');
    await card.getByLabel('CSV file').setInputFiles({
      name: 'acme.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(generateLedgerCsv(60, 5)),
    });
    await card.getByRole('button', { name: 'Import as a new company' }).click();
    // The app switches to the new company and shows its import on its Connections page.
    await expect
      .poll(() => page.getByLabel('Company').locator('option:checked').textContent())
      .toBe('Acme Corp');
    const runs = page.getByTestId('sync-runs');
    await expect.poll(async () => (await runs.textContent()) ?? '').toContain('acme.csv');
    expect(await page.getByText('QuickBooks full sync').count()).toBe(0);
    await shot('09-csv-new-company');
    const [acme] = await s.db
      .select({ source: tenants.source })
      .from(tenants)
      .where(eq(tenants.name, 'Acme Corp'));
    expect(acme?.source).toBe('csv');
    expect(rig.consoleErrors).toEqual([]);
  });

  it('connecting from another company lands on the connected company, not on the one that was open', async () => {
    // Acme Corp (CSV) is open; the demo company, disconnected above, is connected again from its page.
    await page.getByRole('link', { name: 'Connections' }).click();
    expect(await page.getByLabel('Company').locator('option:checked').textContent()).toBe('Acme Corp');
    await page.getByRole('link', { name: 'Try the demo company' }).click();
    await page.waitForURL((u) => u.pathname === '/connections' && !u.search.includes('company='));
    // The app shows the company just connected (it stayed on Acme Corp, still offering the demo).
    const demo = (
      await s.db
        .select()
        .from(tenants)
        .where(eq(tenants.id, (await demoConnection())!.tenantId))
    )[0]!;
    await expect
      .poll(() => page.getByLabel('Company').locator('option:checked').textContent())
      .toBe(demo.name);
    expect(rig.consoleErrors).toEqual([]);
  });
});
