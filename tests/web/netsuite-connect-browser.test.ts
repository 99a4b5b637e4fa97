/**
 * The Connections page in Chromium against the local NetSuite stand-in: an admin of a company opens Connections,
 * fills the token-based authentication form (account ID, token ID, token secret), sees "Connected account …", and
 * the first sync, run by the worker, ends in "Sync finished" on the new connection's row. Then the token is revoked
 * in NetSuite: the row offers Reconnect, which opens the same form for that account; a new token re-activates the
 * same connection. Once the company holds the account, no card offers a connect of another company (the server
 * refuses it), and the Reconnect form's account cannot be changed. Screenshots: tests/artifacts/screenshots/netsuite-connect-*.png.
 */
import { and, eq } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../connectors/money';
import { NetsuiteCompany, NetsuiteSandbox, type Txn } from '../../sandboxes/netsuite';
import { SessionAuth } from '../../src/auth/sessions';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections, customers, invoices } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { createTestServices } from '../helpers/services';
import { type BrowserRig, hasChromium, startBrowserRig } from './browser-helpers';

const ACCOUNT = '1234567_SB1';
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(!hasChromium)('Connections: NetSuite token-based authentication in Chromium', () => {
  let sandbox: NetsuiteSandbox;
  let s: Services;
  let rig: BrowserRig;
  let page: Page;
  let tenantId = '';
  /** A credit memo applied in part to an invoice of the same customer (for the customer page). */
  let credit: { memo: Txn; invoice: Txn };
  const shot = (name: string) => rig.shot(`netsuite-connect-${name}`);
  const row = () => page.getByTestId(`connection-${ACCOUNT}`);
  const form = () => page.getByTestId('connect-netsuite');

  beforeAll(async () => {
    sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 12, customers: 8 }) });
    const company = sandbox.company;
    const buyer = [...company.customers.values()][0]!;
    const invoice = company.addInvoice(buyer, 100_000);
    const memo = company.addCreditMemo(buyer, 30_000);
    company.apply(memo.id, invoice.id, 20_000);
    credit = { memo, invoice };
    await sandbox.start();
    s = await createTestServices({
      clock: new ManualClock(`${sandbox.company.clock.replace(' ', 'T')}Z`),
      env: sandbox.env(),
    });
    tenantId = (await ensureTenant(s.db, 'NetSuite Co', 'netsuite')).id;
    rig = await startBrowserRig(s);
    page = rig.page;
    const token = await new SessionAuth(s.db, s.config.APP_SECRET).issueLoginToken({
      tenantId,
      label: 'browser test',
      now: s.clock.now(),
    });
    await page.goto(`${rig.base}/login?token=${token}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${rig.base}/`);
  }, 180_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
    await sandbox?.stop();
  });

  it('connects through the TBA form and sees the first sync finish', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    await form().waitFor();
    await form().getByLabel('Account ID').fill(ACCOUNT);
    await form().getByLabel('Token ID').fill('sandbox-token-id');
    await form().getByLabel('Token secret').fill('sandbox-token-secret');
    await shot('01-form');
    await form()
      .getByRole('button', { name: /Connect/ })
      .last()
      .click();
    await expect
      .poll(() => form().getByRole('status').textContent(), { timeout: 30_000 })
      .toMatch(new RegExp(`Connected account ${ACCOUNT}; the first sync has started`));
    await row().waitFor({ timeout: 30_000 });

    await s.queue.work(s, 2);
    await expect
      .poll(() => row().getByRole('status').textContent(), { timeout: 90_000 })
      .toMatch(/Sync finished/);
    expect(await row().locator('strong').first().textContent()).toBe(`Oracle NetSuite account ${ACCOUNT}`);
    // The row is in NetSuite's own card (titled by the connector's display name), not in QuickBooks'.
    const card = (name: string) => page.getByRole('region', { name, exact: true });
    expect(await card('Oracle NetSuite').getByTestId(`connection-${ACCOUNT}`).count()).toBe(1);
    expect(await card('Oracle NetSuite').getByRole('heading', { name: 'Oracle NetSuite' }).count()).toBe(1);
    expect(await card('QuickBooks Online').count()).toBe(1);
    expect(await card('QuickBooks Online').getByTestId(`connection-${ACCOUNT}`).count()).toBe(0);
    expect(await card('QuickBooks Online').getByTestId('connections').count()).toBe(0);
    expect(await page.getByTestId('csv-not-offered').textContent()).toContain('comes from Oracle NetSuite:');
    // This company now holds the account's books: no card offers another company (the server would refuse it with
    // tenant_holds_other_books), each says so; the connect's answer stays where it was given.
    expect(await form().getByLabel('Account ID').count()).toBe(0);
    expect(await form().getByRole('link', { name: 'Connect with OAuth 2.0' }).count()).toBe(0);
    expect(await form().getByRole('status').textContent()).toMatch(/Connected account/);
    expect(await card('QuickBooks Online').getByRole('link').count()).toBe(0);
    expect(await card('QuickBooks Online').getByTestId('one-company-note').textContent()).toContain(
      `holds the books of Oracle NetSuite account ${ACCOUNT}`,
    );
    await shot('02-synced');
    // The ledger is in: every open invoice of the stand-in, in its currency.
    const rows = await s.db.select().from(invoices).where(eq(invoices.tenantId, tenantId));
    const truth = sandbox.company.openBalances();
    expect(rows.filter((r) => r.status !== 'deleted').length).toBe(truth.size);
    expect(rig.consoleErrors).toEqual([]);
  });

  it('the customer page lists a credit memo with what remains and the invoice it was applied to', async () => {
    const { memo, invoice } = credit;
    const [buyer] = await s.db
      .select()
      .from(customers)
      .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, String(memo.entity))));
    await page.goto(`${rig.base}/customers/${buyer!.id}`);
    const table = page.getByTestId('credit-memos');
    await table.waitFor({ timeout: 30_000 });
    const row = table.getByRole('row').filter({ hasText: String(memo.id) });
    const cells = await row.locator('th, td').allTextContents();
    expect(cells.slice(0, 4)).toEqual([
      String(memo.id),
      expect.any(String),
      formatMoney(30_000, memo.currency),
      formatMoney(10_000, memo.currency),
    ]);
    expect(cells[4]).toMatch(
      new RegExp(
        `^${invoice.tranid} ${escapeRegExp(formatMoney(20_000, memo.currency))} on \\w+ \\d+, \\d{4}$`,
      ),
    );
    // The timeline has it too, among the money events.
    const entry = page
      .getByTestId('timeline')
      .locator('[data-kind="credit"]')
      .filter({ hasText: String(memo.id) });
    expect(await entry.textContent()).toContain(`Credit memo ${memo.id} issued`);
    expect(await entry.textContent()).toContain(`Applied to ${invoice.tranid}`);
    await shot('05-credit-memo');
    await page.goto(`${rig.base}/connections`);
  });

  it('a revoked token: Reconnect opens the form for the account and a new token re-activates the same connection', async () => {
    const [conn] = await s.db.select().from(connections).where(eq(connections.tenantId, tenantId));
    delete sandbox.options.tokens['sandbox-token-id'];
    expect((await runSync(s, { connectionId: conn!.id, reason: 'schedule' })).status).toBe(
      'reconnect_needed',
    );
    await page.reload();
    await row().getByRole('button', { name: 'Reconnect' }).click();
    await page.getByTestId(`reconnect-form-${ACCOUNT}`).waitFor();
    expect(await form().getByLabel('Account ID').inputValue()).toBe(ACCOUNT);
    // Its own account only: another typed here would be refused as another company's books.
    expect(await form().getByLabel('Account ID').getAttribute('readonly')).not.toBeNull();
    sandbox.options.tokens['new-token-id'] = 'new-token-secret';
    await form().getByLabel('Token ID').fill('new-token-id');
    await form().getByLabel('Token secret').fill('new-token-secret');
    await shot('03-reconnect');
    await form()
      .getByRole('button', { name: /Connect/ })
      .last()
      .click();
    await expect
      .poll(() => form().getByRole('status').textContent(), { timeout: 30_000 })
      .toMatch(new RegExp(`Reconnected account ${ACCOUNT}`));
    const all = await s.db.select().from(connections).where(eq(connections.tenantId, tenantId));
    expect(all.map((c) => [c.id, c.status])).toEqual([[conn!.id, 'active']]);
    await expect.poll(() => row().getByText('active').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await shot('04-reconnected');
  });
});
