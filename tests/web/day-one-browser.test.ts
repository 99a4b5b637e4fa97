/**
 * Day one of a finance user, in real Chromium: the first CSV upload creates the company and the app switches to it
 * — the page it lands on must still say what was imported and which lines were taken with a remark (it showed
 * nothing: the summary belonged to the form the switch threw away) —, and the first-run checklist sends a company
 * whose debtors have no address to the Call list, where that is fixed, not to an empty Approvals page.
 */
import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedgerCsv } from '../../bench/ledger-csv';
import { issueApiToken } from '../../src/auth/api-tokens';
import { rowsOf } from '../../src/db/client';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { createTestServices } from '../helpers/services';
import { type BrowserRig, hasChromium, signIn, startBrowserRig } from './browser-helpers';

describe.skipIf(!hasChromium)('day one in Chromium', () => {
  let s: Services;
  let rig: BrowserRig;
  let page: Page;
  let auth: { authorization: string };
  let tenantId: string;

  beforeAll(async () => {
    s = await createTestServices();
    rig = await startBrowserRig(s);
    ({ page } = rig);
    auth = { authorization: `Bearer ${(await issueApiToken(s.db, 'day one test')).token}` };
    await signIn(page, s, rig.base);
  });

  afterAll(async () => {
    await rig?.close();
    await s?.close();
  });

  it('the first upload: the page after the switch to the new company shows what was imported and the warnings by line', async () => {
    const lines = generateLedgerCsv(300, 8).trimEnd().split('\n');
    // One line the importer takes with a remark: a due date before its invoice date.
    const cells = lines[5]!.split(',');
    cells[3] = '2012-01-01';
    lines[5] = cells.join(',');
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByLabel('Company name').fill('Day One Ltd');
    await page.getByLabel('CSV file').setInputFiles({
      name: 'day-one.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${lines.join('\n')}\n`),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    // The app switched to the new company: its Connections page, with the run listed…
    const runs = page.getByTestId('sync-runs');
    await runs.waitFor();
    await expect.poll(async () => (await runs.textContent()) ?? '').toContain('day-one.csv');
    expect(await page.locator('.tenant-name, .tenant-switch').first().textContent()).toContain('Day One Ltd');
    // … and the summary of that import.
    const summary = page.getByTestId('import-summary');
    await summary.waitFor();
    const text = (await summary.textContent()) ?? '';
    expect(text).toContain('Imported 300 invoices');
    expect(text).toContain('1 line imported with a remark');
    expect(text).toContain(`Line 6, due_date: due date 2012-01-01 is before the invoice date ${cells[2]}`);
    await rig.shot('day-one-01-first-import');
    tenantId = (await rig.app.inject({ url: '/api/v1/tenants', headers: auth })).json().items[0].id;
  });

  it('nobody reachable: "Review the first batch" links to the Call list, where the addresses are added', async () => {
    await scoreTenant(s, tenantId);
    const plan = await rig.app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenantId}/dunning/plan`,
      headers: auth,
    });
    expect(plan.statusCode, plan.body).toBe(200);
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const item = page.getByTestId('checklist-first_batch');
    await item.waitFor();
    expect(await item.textContent()).toContain('no email address: add one on the Call list');
    // Not live yet: the day's card says nothing is sent, not "Sending today · N to send".
    const today = page.getByTestId('sending-today');
    await today.getByRole('heading', { name: 'Would send today' }).waitFor();
    expect(await today.getByTestId('today-not-sending').textContent()).toContain(
      'Sending is off: nothing is sent until you go live',
    );
    expect(await today.getByTestId('today-to-send').textContent()).toMatch(/^\d+ would send/);
    await item.getByRole('link', { name: 'Review the first batch' }).click();
    await page.waitForURL(`${rig.base}/calls?kind=find_contact`);
    await expect
      .poll(async () => (await page.locator('main').textContent()) ?? '')
      .toContain('has no email address');
    await rig.shot('day-one-02-first-batch-to-calls');
  });

  it('"Customers at risk" lists only customers who owe something and score above 0', async () => {
    // The riskiest customer pays everything; another scores 0 (as the NetSuite demo listed "0/100 · $0.00 open").
    const ranked = rowsOf<{ customer_id: string; name: string }>(
      await s.db.execute(sql`
        select r.customer_id, c.name from customer_risk r join customers c on c.id = r.customer_id
        where r.tenant_id = ${tenantId}::uuid order by r.score desc, c.name`),
    );
    const [paidUp, zero] = ranked;
    await s.db.execute(sql`
      update invoices set balance_minor = 0, status = 'paid', paid_date = due_date
      where customer_id = ${paidUp!.customer_id}::uuid`);
    await s.db.execute(
      sql`update customer_risk set score = 0 where customer_id = ${zero!.customer_id}::uuid`,
    );
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const list = page.getByTestId('customers-at-risk');
    await list.waitFor();
    const text = (await list.textContent()) ?? '';
    expect(text).not.toContain(paidUp!.name);
    expect(text).not.toContain(zero!.name);
    expect(text).not.toContain('$0.00 open');
    expect(await list.locator('li').count()).toBeGreaterThan(0);
  });

  it('an empty outbox says why there are no messages yet, and where the customers without an address are', async () => {
    await page.getByRole('link', { name: 'Messages' }).click();
    const main = page.locator('main');
    await expect.poll(async () => (await main.textContent()) ?? '').toContain('No messages yet.');
    expect(await main.textContent()).not.toContain('No messages match');
    await main.getByRole('link', { name: 'Call list' }).click();
    await page.waitForURL(`${rig.base}/calls?kind=find_contact`);
    // With a filter set, the old wording is the right one.
    await page.goto(`${rig.base}/messages?status=sent`);
    await expect
      .poll(async () => (await main.textContent()) ?? '')
      .toContain('No messages with status sent match.');
  });
});
