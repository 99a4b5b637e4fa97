/**
 * The Customer page in real Chromium: sign in, import an overdue ledger, score and plan (services and POST
 * dunning/plan, as dunning-browser.test.ts), open a customer with a planned reminder, and see the timeline (with
 * the message and its "why") and the risk chart; then pause reminders until a date (a bad address first: its error
 * shows next to the field), record a promise to pay and see it in the timeline, open and resolve a dispute. Phone
 * width without sideways scrolling. Screenshots customer-*.png go to tests/artifacts/screenshots/.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock';
import type { Services } from '../../src/services';
import { createTestServices } from '../helpers/services';
import {
  type BrowserRig,
  hasChromium,
  SHOTS,
  seriousViolations,
  signInAndPlan,
  startBrowserRig,
} from './browser-helpers';

/** The page is long (every invoice and payment): one part of it as its own picture, besides rig.shot's full page. */
const part = (page: Page, testId: string, name: string) =>
  page.getByTestId(testId).screenshot({ path: path.join(SHOTS, `${name}.png`) });

/** Every step waits for a reviewer, so planning leaves messages in awaiting_approval; two sequences to force. */
const policy = {
  defaultSequenceId: 'standard',
  sequences: [
    {
      id: 'standard',
      name: 'Standard',
      steps: [
        { offsetDays: 1, tone: 'friendly', approval: { type: 'always' } },
        { offsetDays: 30, tone: 'firm', approval: { type: 'always' } },
      ],
    },
    {
      id: 'gentle',
      name: 'Gentle',
      steps: [{ offsetDays: 7, tone: 'friendly', approval: { type: 'always' } }],
    },
  ],
  rules: [],
};

interface Msg {
  id: string;
  customerId: string;
  customerExternalId: string;
  status: string;
}

describe.skipIf(!hasChromium)('Customer page in Chromium', () => {
  // Monday 2013-07-01, 14:00 UTC.
  const clock = new ManualClock('2013-07-01T14:00:00Z');
  let s: Services;
  let rig: BrowserRig;
  let page: Page;
  let auth: { authorization: string };
  let tenantId = '';
  let customerId = '';
  const api = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) =>
    rig.app.inject({
      method,
      url: `/api/v1/tenants/${tenantId}${url}`,
      headers: auth,
      payload: payload as object,
    });

  beforeAll(async () => {
    s = await createTestServices({ clock, env: { MAIL_FROM: 'Acme Billing <billing@acme.example>' } });
    rig = await startBrowserRig(s);
    page = rig.page;
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
  });

  it('signs in, imports an overdue ledger, scores and plans', async () => {
    ({ tenantId, auth } = await signInAndPlan(rig, s, { policy }));
    const held = (await api('GET', '/dunning/messages?status=awaiting_approval')).json().items as Msg[];
    expect(held.length).toBeGreaterThan(0);
    // The same customer on every run: by its ledger id (message ids are random, and messages planned together share
    // created_at, the list's order).
    customerId = [...held].sort((a, b) => (a.customerExternalId < b.customerExternalId ? -1 : 1))[0]!
      .customerId;
  }, 120_000);

  it('opens a customer: the timeline with its held reminder and the risk chart', async () => {
    const detail = (await api('GET', `/customers/${customerId}`)).json();
    const name = detail.customer.name as string;
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { level: 1, name: 'Customers' }).waitFor();
    // Open it from the list when it is on the first page, else by its address (the list pages by 100).
    const link = page.getByRole('link', { name, exact: true });
    if (await link.count()) await link.first().click();
    else await page.goto(`${rig.base}/customers/${customerId}`);
    await page.getByRole('heading', { level: 1, name }).waitFor();

    const timeline = page.getByTestId('timeline');
    const messages = timeline.locator('li[data-kind="message"]');
    await expect.poll(() => messages.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const first = messages.first();
    expect(await first.textContent()).toContain('held for approval');
    expect(await first.textContent()).toContain('reminder for ap@');
    // 50 entries at a time; "Show more" lists the rest.
    const more = timeline.getByRole('button', { name: /^Show \d+ more/ });
    while (await more.count()) await more.click();
    expect(await timeline.locator('li[data-kind="invoice"]').count()).toBe(detail.invoices.length);
    // Newest first: the dates of the entries never go up.
    const days = await timeline
      .locator('li time')
      .evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime') ?? ''));
    expect(days).toEqual([...days].sort().reverse());
    // "Why this message" opens in place, from the keyboard too.
    await first.locator('summary').focus();
    await page.keyboard.press('Enter');
    await first.getByText('Needs approval', { exact: true }).waitFor();
    expect(await first.textContent()).toContain('Standard');

    const chart = page.getByTestId('risk-chart');
    // A customer whose score did not move draws a flat line: a path with a zero-height box, which Playwright counts
    // as hidden. So wait for the line to be drawn (attached) and for its points, which have a size.
    await chart.locator('.recharts-line-curve').waitFor({ state: 'attached' });
    await chart.locator('.recharts-line-dots circle').first().waitFor();
    expect(await chart.locator('.recharts-line-dots circle').count()).toBeGreaterThanOrEqual(2);
    const risk = (await api('GET', `/customers/${customerId}/risk`)).json();
    expect(await page.getByTestId('risk-summary').textContent()).toContain(
      `Risk score ${risk.score} of 100 (${risk.band} risk)`,
    );
    expect(await chart.locator('table.sr-only tbody tr').count()).toBe(risk.history.length);
    await rig.shot('customer-timeline');
    await part(page, 'risk-card', 'customer-risk-card');
    await page.screenshot({ path: path.join(SHOTS, 'customer-page-top.png') });
  });

  it('pauses reminders until a date; a bad address is refused next to its field', async () => {
    const controls = page.getByTestId('overrides');
    await controls.getByLabel('Pause reminders until').fill('2013-07-20');
    await controls.getByLabel('Sequence').selectOption('gentle');
    const to = controls.getByLabel('Send reminders to');
    await to.fill('billing@customer.example, not-an-address');
    await controls.getByRole('button', { name: 'Save reminder settings' }).click();
    await expect.poll(() => to.getAttribute('aria-invalid')).toBe('true');
    const describedBy = ((await to.getAttribute('aria-describedby')) ?? '').split(' ');
    const errId = describedBy.find((d) => d.endsWith('-err'))!;
    expect(await page.locator(`[id="${errId}"]`).textContent()).toBe('Not an email address: not-an-address.');
    expect(await seriousViolations(page)).toEqual([]);
    expect(((await api('GET', '/dunning/overrides')).json().items as unknown[]).length).toBe(0);

    await to.fill('billing@customer.example');
    await controls.getByRole('button', { name: 'Save reminder settings' }).click();
    await controls.getByText('Saved. Reminders paused until Jul 20, 2013.').waitFor();
    const summary = page.getByTestId('override-summary');
    await expect.poll(() => summary.textContent()).toContain('Reminders paused until Jul 20, 2013');
    expect(await summary.textContent()).toContain('Sequence forced: Gentle');
    expect(await summary.textContent()).toContain('Reminders go to billing@customer.example');
    const stored = (await api('GET', '/dunning/overrides')).json().items;
    expect(stored).toEqual([
      expect.objectContaining({
        customerId,
        pausedUntil: '2013-07-20',
        excluded: false,
        sequenceId: 'gentle',
        contactEmails: ['billing@customer.example'],
      }),
    ]);
    // The form shows what is stored after the reload.
    expect(await controls.getByLabel('Pause reminders until').inputValue()).toBe('2013-07-20');
  });

  it('records a promise to pay and sees it in the timeline', async () => {
    const controls = page.getByTestId('overrides');
    const date = controls.getByLabel('Promised payment date');
    // Empty date: refused in place.
    await controls.getByRole('button', { name: 'Record promise' }).click();
    await expect.poll(() => date.getAttribute('aria-invalid')).toBe('true');
    await date.fill('2013-07-15');
    await controls.getByLabel(/^Amount in USD/).fill('250.00');
    await controls.getByRole('button', { name: 'Record promise' }).click();
    await controls.getByText(/^Promise recorded: pay by Jul 15, 2013/).waitFor();
    const entry = page.getByTestId('timeline').locator('li[data-kind="promise"]');
    await entry.waitFor();
    expect(await entry.textContent()).toContain('Promised to pay by Jul 15, 2013');
    expect(await entry.textContent()).toContain('$250.00');
    expect(await entry.textContent()).toContain('promised');
    const promises = (await api('GET', '/dunning/promises')).json().items;
    expect(promises).toEqual([
      expect.objectContaining({ customerId, promisedDate: '2013-07-15', amountMinor: 25_000 }),
    ]);
    expect(promises[0].invoiceIds.length).toBeGreaterThan(0);
    await rig.shot('customer-overrides');
    await part(page, 'overrides', 'customer-overrides-card');
  });

  it('opens a dispute on an invoice and resolves it', async () => {
    const controls = page.getByTestId('overrides');
    const invoice = controls.getByLabel('Disputed invoice');
    const option = await invoice.locator('option').nth(1).getAttribute('value');
    await invoice.selectOption(option!);
    await controls.getByLabel('What is disputed').fill('Goods arrived damaged');
    await controls.getByRole('button', { name: 'Open dispute' }).click();
    await controls.getByText(/^Dispute opened on /).waitFor();
    const entry = page.getByTestId('timeline').locator('li[data-kind="dispute"]');
    await entry.first().waitFor();
    expect(await entry.first().textContent()).toContain('Goods arrived damaged');
    expect(await entry.first().textContent()).toContain('open dispute');
    const disputes = (await api('GET', '/dunning/disputes')).json().items;
    expect(disputes).toEqual([
      expect.objectContaining({ invoiceId: option, reason: 'Goods arrived damaged', resolvedAt: null }),
    ]);
    await rig.shot('customer-dispute');
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 1400 });
    await page.getByTestId('timeline').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'customer-timeline-view.png') });
    await page.setViewportSize({ width: 1280, height: 860 });

    await controls.getByRole('button', { name: /^Resolve/ }).click();
    await controls.getByText(/resolved\. Reminders may resume\./).waitFor();
    await expect.poll(() => entry.count()).toBe(2);
    // The Resolve button went away with the open dispute: the focus moved to the form's button, not to <body>.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Open dispute');
    expect(await entry.first().textContent()).toContain('resolved');
    expect((await api('GET', '/dunning/disputes')).json().items[0].resolvedAt).not.toBeNull();
    expect(rig.consoleErrors).toEqual([]);
  });

  it('fits a phone-sized screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('risk-chart').locator('.recharts-line-dots circle').first().waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await rig.shot('customer-mobile');
    await part(page, 'overrides', 'customer-overrides-mobile');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('links a reminder on the timeline to its full record in Messages', async () => {
    await page.goto(`${rig.base}/customers/${customerId}`);
    const first = page.getByTestId('timeline').locator('li[data-kind="message"]').first();
    await first.waitFor();
    await first.locator('summary').click();
    await first.getByRole('link', { name: /Open in Messages/ }).click();
    await page.waitForURL(/\/messages\?message=/);
    const id = new URL(page.url()).searchParams.get('message')!;
    const detail = page.getByTestId('message-detail');
    await detail.waitFor();
    const m = (await api('GET', `/dunning/messages/${id}`)).json();
    expect(m.customerId).toBe(customerId);
    expect(await detail.textContent()).toContain(m.to[0]);
    expect(rig.consoleErrors).toEqual([]);
  });
});
