/**
 * The lists in real Chromium: search invoices by customer as you type, sort on the server from a column header
 * (both ways), export exactly the filtered set, drill down from the dashboard's aging to the invoice list, and
 * approve several held reminders in one bulk action. Skipped without Chromium.
 */

import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock';
import type { Services } from '../../src/services';
import { createTestServices } from '../helpers/services';
import { type BrowserRig, hasChromium, signInAndPlan, startBrowserRig } from './browser-helpers';

const heldPolicy = {
  defaultSequenceId: 'standard',
  sequences: [
    {
      id: 'standard',
      name: 'Standard',
      steps: [
        { offsetDays: 1, tone: 'friendly', approval: { type: 'always' } },
        { offsetDays: 10, tone: 'neutral', approval: { type: 'always' } },
        { offsetDays: 30, tone: 'firm', approval: { type: 'always' } },
      ],
    },
  ],
  rules: [],
};

/** Waits as long as a slow shared machine may need (expect.poll's default is 1 s). */
const slow = { timeout: 15_000 };

/** "$1,234.50" → 123450 */
const cents = (text: string) => Math.round(Number(text.replace(/[^\d.-]/g, '')) * 100);

describe.skipIf(!hasChromium)('lists in Chromium', () => {
  const clock = new ManualClock('2013-07-01T14:00:00Z');
  let s: Services;
  let rig: BrowserRig;
  let page: Page;
  let auth: { authorization: string };
  let tenantId = '';
  const api = (url: string) => rig.app.inject({ url: `/api/v1/tenants/${tenantId}/${url}`, headers: auth });

  beforeAll(async () => {
    s = await createTestServices({ clock, env: { MAIL_FROM: 'Acme Billing <billing@acme.example>' } });
    rig = await startBrowserRig(s);
    page = rig.page;
    ({ tenantId, auth } = await signInAndPlan(rig, s, { policy: heldPolicy, invoices: 400, customers: 14 }));
  }, 180_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
  });

  it('Invoices: search by customer as you type, sort by open balance both ways, export the filtered set', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Invoices' }).click();
    await page.getByTestId('invoice-list').waitFor();
    await page.getByLabel('Status').selectOption('all');
    await page.waitForURL(/status=all/);
    await page.getByLabel('Search').fill('c12');
    await page.waitForURL(/q=c12/);
    const expected = (await api('invoices?status=all&q=c12')).json().total as number;
    expect(expected).toBeGreaterThan(0);
    await expect
      .poll(() => page.getByTestId('list-totals').textContent(), slow)
      .toContain(`${expected} invoices`);
    // The Open column (6th: select, invoice, customer, due, amount, open), and the same values in order.
    const balances = async () =>
      (await page.locator('tbody tr td:nth-child(6)').allTextContents()).map(cents);
    const all = await balances();
    expect(all.length).toBe(expected);
    const sorted = (dir: 1 | -1) => [...all].sort((a, b) => dir * (a - b));
    expect(all).not.toEqual(sorted(-1));
    const customers = await page.locator('td[data-col="customer"]').allTextContents();
    expect(new Set(customers)).toEqual(new Set(['C12']));

    await page.getByRole('button', { name: /^Open/ }).click();
    await page.waitForURL(/sort=-balance/);
    await expect
      .poll(async () => page.locator('th[aria-sort="descending"]').textContent(), slow)
      .toContain('Open');
    await expect.poll(() => balances(), slow).toEqual(sorted(-1));
    await page.getByRole('button', { name: /^Open/ }).click();
    await page.waitForURL(/sort=balance/);
    await expect
      .poll(async () => page.locator('th[aria-sort="ascending"]').textContent(), slow)
      .toContain('Open');
    await expect.poll(() => balances(), slow).toEqual(sorted(1));
    await rig.shot('lists-invoices');

    const href = (await page.getByTestId('export-csv').getAttribute('href')) ?? '';
    expect(href).toContain('format=csv');
    expect(href).toContain('q=c12');
    const res = await page.request.get(`${rig.base}${href}`);
    expect(res.status()).toBe(200);
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]).toContain('Original amount');
    expect(lines.length - 1).toBe(expected);
  });

  it('Dashboard: an aging bucket opens the invoice list filtered to it', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Dashboard' }).click();
    const links = page.getByTestId('aging-drill').getByRole('link');
    await links.first().waitFor();
    const counts = (await links.allTextContents()).map((t) => Number(/\((\d+)\)$/.exec(t.trim())?.[1] ?? 0));
    const i = counts.indexOf(Math.max(...counts));
    const count = counts[i]!;
    expect(count).toBeGreaterThan(0);
    const key = new URL(`${rig.base}${await links.nth(i).getAttribute('href')}`).searchParams.get('aging');
    await links.nth(i).click();
    await page.waitForURL((u) => u.searchParams.get('aging') === key);
    await expect
      .poll(() => page.getByTestId('list-totals').textContent(), slow)
      .toContain(`${count} invoices`);
  });

  it('Approvals: select two held reminders, approve them in one action; the summary says so', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Approvals' }).click();
    const cards = page.getByTestId('approval');
    await cards.first().waitFor();
    const before = (await api('dunning/messages?status=awaiting_approval&limit=500')).json();
    expect(before.total).toBeGreaterThan(2);
    // Cards are titled by customer.
    expect(await cards.first().locator('h3').textContent()).toMatch(/^C\d+/);
    await cards.nth(0).getByRole('checkbox').check();
    await cards.nth(1).getByRole('checkbox').check();
    await page.getByTestId('bulk-bar').getByText('2 messages selected').waitFor();
    await page.getByRole('button', { name: 'Approve selected' }).click();
    await expect
      .poll(() => page.getByTestId('bulk-result').textContent(), slow)
      .toContain('2 approved and queued');
    const after = (await api('dunning/messages?status=awaiting_approval&limit=500')).json();
    expect(after.total).toBe(before.total - 2);
    const queued = (await api('dunning/messages?status=queued&limit=500')).json();
    expect(queued.total).toBe(2);
    await expect.poll(() => cards.count(), slow).toBe(Math.min(100, before.total - 2));
    await rig.shot('lists-approvals-bulk');
    expect(rig.consoleErrors).toEqual([]);
  });

  // Table cells never wrapped (white-space: nowrap): one customer with a long name pushed every amount of every row
  // off the right edge of the screen, on Customers and Invoices alike.
  it('a very long customer name wraps in its cell: the amounts stay on screen', async () => {
    const long =
      'Northern Territories Agricultural Equipment Leasing and Financial Services Cooperative Holdings International Limited';
    await s.db.execute(
      sql`update customers set name = ${long} where tenant_id = ${tenantId}::uuid and external_id = 'C1'`,
    );
    const width = page.viewportSize()!.width;
    const rightEdge = async (header: string) => {
      const box = await page.getByRole('columnheader', { name: header, exact: true }).boundingBox();
      return box ? box.x + box.width : Number.POSITIVE_INFINITY;
    };
    await page.goto(`${rig.base}/customers?q=C1`);
    await page.getByRole('link', { name: long }).waitFor();
    expect(await rightEdge('Open balance')).toBeLessThanOrEqual(width);
    await page.goto(`${rig.base}/invoices?q=C1`);
    await page.getByRole('link', { name: long }).first().waitFor();
    expect(await rightEdge('Open')).toBeLessThanOrEqual(width);
    await rig.shot('lists-long-name');
    expect(rig.consoleErrors).toEqual([]);
  });
});
