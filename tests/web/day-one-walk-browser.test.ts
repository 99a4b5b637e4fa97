/**
 * A finance controller's first hour, in real Chromium at the laptop size they use (1280×800) and on a phone (390×844),
 * with two companies (an operator's switcher in the top bar): what session 36's walk through the app found.
 * - The top bar: "Call list" broke onto two lines and the company switcher was pushed past the right edge (every page
 *   scrolled sideways, 1,413 px).
 * - Messages: the visually hidden labels of the "Open" buttons widened the page (1,290 px at 1280, 1,262 px on a
 *   phone), and the "Open" button itself sat off screen to the right of the table.
 * - Customers: 1,807 px wide at 1280 (an address took 446 px): risk, last contact and next reminder off screen.
 * - Dashboard: "24.5% / 66.0%" broke onto two lines in its card.
 * - Badges: "capitalize" made "1 Day Overdue", "Awaiting Approval", "High · 0% Paid In 90 D".
 * - Settings → Sending: each checkbox sat above its words, indented.
 * - The first-run checklist says to mark the sequences reviewed on Sequences, which had no way to do it.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedgerCsv } from '../../bench/ledger-csv';
import { issueApiToken } from '../../src/auth/api-tokens';
import { ManualClock } from '../../src/clock';
import { syncRuns } from '../../src/db/schema';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { giveEmails } from '../dunning-engine/fixtures';
import { createTestServices } from '../helpers/services';
import {
  type BrowserRig,
  hasChromium,
  importCsvOnConnections,
  signIn,
  startBrowserRig,
} from './browser-helpers';

const policy = {
  defaultSequenceId: 'standard',
  sequences: [
    {
      id: 'standard',
      name: 'Standard',
      steps: [
        { offsetDays: 1, tone: 'friendly', approval: { type: 'always' } },
        { offsetDays: 10, tone: 'neutral', approval: { type: 'always' } },
      ],
    },
  ],
  rules: [],
};

/** How far the page scrolls sideways (0 when it fits the window). */
const sideways = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe.skipIf(!hasChromium)('day one at 1280×800 and on a phone', () => {
  // Monday 2013-07-01, 14:00 UTC: inside the default business hours.
  const clock = new ManualClock('2013-07-01T14:00:00Z');
  let s: Services;
  let rig: BrowserRig;
  let page: Page;
  let auth: { authorization: string };
  let tenantId = '';

  beforeAll(async () => {
    s = await createTestServices({ clock, env: { MAIL_FROM: 'Acme Billing <billing@acme.example>' } });
    rig = await startBrowserRig(s);
    page = rig.page;
    await page.setViewportSize({ width: 1280, height: 800 });
    // As signInAndPlan, but the company stays as a new one is: sending off, the first-run checklist on the Dashboard.
    auth = { authorization: `Bearer ${(await issueApiToken(s.db, 'day one walk')).token}` };
    await signIn(page, s, rig.base);
    await importCsvOnConnections(page, 'Acme Corp', 'acme-invoices.csv', generateLedgerCsv(600, 14));
    tenantId = (await rig.app.inject({ url: '/api/v1/tenants', headers: auth })).json().items[0].id;
    await giveEmails(s, tenantId);
    const call = (method: 'PUT' | 'POST', url: string, payload?: object) =>
      rig.app.inject({ method, url: `/api/v1/tenants/${tenantId}/dunning${url}`, headers: auth, payload });
    expect((await call('PUT', '/policy', { policy })).statusCode).toBe(200);
    await scoreTenant(s, tenantId);
    expect((await call('POST', '/plan')).statusCode).toBe(200);
    // A second company, as an operator has after trying a CSV: the top bar shows the company switcher.
    const second = await rig.app.inject({
      method: 'POST',
      url: '/api/v1/tenants/Northwind%20Distribution%20Partners/imports',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: generateLedgerCsv(40, 3),
    });
    expect(second.statusCode, second.body).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
  });

  it('the top bar fits (every link on one line, the company switcher on screen, no sideways scrolling), KPI figures on one line', async () => {
    await page.goto(`${rig.base}/`);
    const switcher = page.getByLabel('Company');
    await switcher.waitFor();
    await switcher.selectOption({ label: 'Acme Corp' });
    await page.getByTestId('go-live-checklist').waitFor();
    const links = await page
      .locator('.nav-link')
      .evaluateAll((as) =>
        as.map((a) => ({ text: a.textContent, height: a.getBoundingClientRect().height })),
      );
    const oneLine = Math.min(...links.map((l) => l.height));
    expect(links.filter((l) => l.height > oneLine * 1.5)).toEqual([]);
    const box = (await switcher.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(1280);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    // Each KPI figure on one line, inside its card ("24.5% / 66.0%" broke after the slash).
    const figures = await page.locator('.kpi-value').evaluateAll((els) =>
      els.map((e) => ({
        text: e.textContent,
        lines: Math.round(
          e.getBoundingClientRect().height / Number.parseFloat(getComputedStyle(e).lineHeight || '0'),
        ),
        overflows: e.scrollWidth > e.clientWidth,
      })),
    );
    expect(figures.length).toBeGreaterThan(0);
    expect(figures.filter((f) => f.lines !== 1 || f.overflows)).toEqual([]);
    await rig.shot('day-one-walk-01-topbar');
  });

  it('Messages: no sideways scrolling at 1280 or on a phone, and the first row’s "Open" is on screen', async () => {
    await page.getByRole('link', { name: 'Messages' }).click();
    const open = page.getByRole('button', { name: /^Open message to / }).first();
    await open.waitFor();
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    const box = (await open.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(1280);
    // Status badges in sentence case, as the app writes them.
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text (CSS text-transform) is what is asserted
    expect(await page.locator('[data-testid="messages-table"] .badge').first().innerText()).toBe(
      'Awaiting approval',
    );
    // The status filter names statuses as the badges do ("planned" is "Would send" everywhere else).
    expect(await page.getByLabel('Status').locator('option').allTextContents()).toEqual([
      'All',
      'Would send',
      'Awaiting approval',
      'Queued',
      'Sending',
      'Sent',
      'Skipped',
      'Failed',
    ]);
    await rig.shot('day-one-walk-02-messages');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page
      .getByRole('button', { name: /^Open message to / })
      .first()
      .waitFor();
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await rig.shot('day-one-walk-03-messages-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('Customers at 1280: risk, last contact and next reminder on screen, not past the right edge', async () => {
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByTestId('customer-list').waitFor();
    for (const name of [/^Risk/, /^Last contact/, /^Next reminder/]) {
      const box = (await page.getByRole('columnheader', { name }).boundingBox())!;
      expect(box.x + box.width, String(name)).toBeLessThanOrEqual(1280);
    }
  });

  /** How far `table` runs past the right edge of its scrolling wrapper (0 or less when every column shows). */
  const clipped = (table: string) =>
    page.locator(table).evaluate((t) => {
      const wrap = t.closest('.table-wrap') ?? t.parentElement!;
      return t.getBoundingClientRect().right - wrap.getBoundingClientRect().right;
    });

  it('Invoices at 1280 (open invoices): the risk column shows, not clipped at the right edge', async () => {
    await page.getByRole('link', { name: 'Invoices' }).click();
    await page.getByTestId('invoice-list').waitFor();
    await page.getByTestId('invoice-list').locator('.badge').first().waitFor();
    // Reminders waiting for a reviewer say so under their day, and the table still fits.
    await page.getByTestId('next-reminder-waits').first().waitFor();
    expect(await page.getByTestId('next-reminder-waits').first().textContent()).toBe('needs approval');
    expect(await clipped('[data-testid="invoice-list"]')).toBeLessThanOrEqual(0);
    const risk = (await page.getByRole('columnheader', { name: /^Risk/ }).boundingBox())!;
    expect(risk.x + risk.width).toBeLessThanOrEqual(1280);
    // Open invoices have no paid date: the column is left out.
    expect(await page.getByRole('columnheader', { name: /^Paid/ }).count()).toBe(0);
    await rig.shot('day-one-walk-invoices');
  });

  it('Connections at 1280: the sync runs table shows its "Finished" column (the "What" cell wraps)', async () => {
    // A synced company's run, as the demo company's first sync lists it (a long "What").
    await s.db.insert(syncRuns).values({
      tenantId,
      kind: 'full',
      status: 'succeeded',
      source: { provider: 'quickbooks' },
      stats: { customers: 150, invoices: 4999, creditMemos: 120, payments: 3702, deletions: 12 },
      startedAt: new Date('2013-07-01T13:00:00Z'),
      finishedAt: new Date('2013-07-01T13:01:00Z'),
    });
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByTestId('sync-runs').waitFor();
    expect(await clipped('[data-testid="sync-runs"]')).toBeLessThanOrEqual(0);
  });

  it('Settings → Sending: each checkbox beside its words', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    for (const name of ['Send reminders to customers (go live)', 'Pause all sending']) {
      const box = (await page.getByRole('checkbox', { name }).boundingBox())!;
      const label = (await page.locator('.switches label', { hasText: name }).boundingBox())!;
      // One line: the label is no taller than a line of text with its box, and the box is centred in it.
      expect(label.height, name).toBeLessThan(32);
      expect(Math.abs(box.y + box.height / 2 - (label.y + label.height / 2)), name).toBeLessThan(3);
    }
  });

  it('Settings → Sending: while a switch is being saved the card says so (go live re-plans first: seconds)', async () => {
    // Hold the PATCH until the page has been looked at, then let it through.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    await page.route('**/settings', async (route) => {
      if (route.request().method() !== 'PATCH') return route.continue();
      await held;
      return route.continue();
    });
    await page.getByTestId('sending-paused').click();
    await page.getByTestId('sending-saving').waitFor();
    expect(await page.getByTestId('sending-saving').textContent()).toContain('Saving…');
    release();
    await page.getByTestId('sending-saving').waitFor({ state: 'detached' });
    expect(await page.getByTestId('sending-paused').isChecked()).toBe(true);
    await page.unroute('**/settings');
    await page.getByTestId('sending-paused').click();
    await expect.poll(() => page.getByTestId('sending-paused').isChecked()).toBe(false);
  });

  it('Sequences: "Mark sequences reviewed" ticks the checklist item that sends people there', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const item = page.getByTestId('checklist-sequences');
    await item.waitFor();
    expect(await item.textContent()).toContain('Mark sequences reviewed');
    expect(await item.getAttribute('data-done')).toBe('false');
    await item.getByRole('link', { name: 'Review the reminder sequences' }).click();
    const mark = page.getByRole('button', { name: 'Mark sequences reviewed' });
    await mark.waitFor();
    // What is reviewed is the saved policy: not while an edit is unsaved.
    const days = page.getByLabel('Days from due date (step 1)');
    await days.fill('2');
    await expect.poll(() => mark.isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await expect.poll(() => mark.isDisabled()).toBe(false);
    await mark.click();
    await page.getByTestId('sequences-reviewed-note').waitFor();
    const settings = await rig.app.inject({ url: `/api/v1/tenants/${tenantId}/settings`, headers: auth });
    expect(settings.json().sequencesReviewed).toBe(true);
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await expect.poll(() => page.getByTestId('checklist-sequences').getAttribute('data-done')).toBe('true');
    await rig.shot('day-one-walk-04-sequences-reviewed');
    expect(rig.consoleErrors).toEqual([]);
  });
});
