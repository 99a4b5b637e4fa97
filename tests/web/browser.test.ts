/**
 * The settings app in real Chromium (Debian's /usr/bin/chromium through playwright-core): sign in with the
 * one-time link, import a CSV on Connections, then Dashboard, Invoices (filtered), a Customer, Settings, sign-out,
 * and the app inside a cross-origin iframe. Screenshots go to tests/artifacts/screenshots/.
 * Skipped, with a message, when Chromium is not installed (CI: `apt-get install -y chromium`).
 */
import { createServer, type Server } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedgerCsv } from '../../bench/ledger-csv';
import type { Services } from '../../src/services';
import { HEADER } from '../helpers/csv';
import { createTestServices } from '../helpers/services';
import { type BrowserRig, hasChromium, loginLink, startBrowserRig } from './browser-helpers';

describe.skipIf(!hasChromium)('settings app in Chromium', () => {
  let s: Services;
  let rig: BrowserRig;
  let base: string;
  let page: Page;
  let framer: Server | undefined;
  let consoleErrors: string[];

  const shot = (name: string) => rig.shot(name);

  beforeAll(async () => {
    s = await createTestServices({ env: { FRAME_ANCESTORS: "'self' http://127.0.0.1:*" } });
    rig = await startBrowserRig(s);
    ({ base, page, consoleErrors } = rig);
  });

  afterAll(async () => {
    await rig?.close();
    await s?.close();
    await new Promise<void>((r) => (framer ? framer.close(() => r()) : r()));
  });

  it('signs in with the one-time admin link', async () => {
    const res = await page.goto(await loginLink(s, base));
    expect(res?.headers()['content-security-policy']).toContain('frame-ancestors');
    await shot('01-login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/`);
    await expect.poll(() => page.getByText('No company yet').isVisible()).toBe(true);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'duely_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
  });

  it('a broken first file: says how many problems it has, lists the first 20 and how many more, creates nothing', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByLabel('Company name').fill('Acme Corp');
    const rows = Array.from({ length: 250 }, (_, i) => `C1,B${i},2013-01-01,2013-01-31,ten,USD,,,`);
    await page.getByLabel('CSV file').setInputFiles({
      name: 'broken.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${[HEADER, ...rows].join('\n')}\n`),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    const problems = page.getByTestId('import-problems');
    await problems.waitFor();
    const text = (await problems.textContent()) ?? '';
    expect(text).toContain('The file was not imported: 250 problems. The first 20:');
    expect(await problems.locator('li').count()).toBe(20);
    expect(text).toContain('Line 2, amount: "ten" is not a decimal amount in USD');
    expect(text).toContain('… and 230 more.');
    await shot('02-first-import-broken');
    // Still no company: the same form, ready for the fixed file.
    expect(await page.getByLabel('Company name').inputValue()).toBe('Acme Corp');
    // The browser logs the refused upload once (the 422); the last test asserts no other console error.
    expect(consoleErrors.filter((e) => e.includes('422'))).toHaveLength(1);
    consoleErrors.splice(
      consoleErrors.findIndex((e) => e.includes('422')),
      1,
    );
  });

  it('uploads a CSV on Connections and shows the import', async () => {
    await page.getByRole('link', { name: 'Connections' }).click();
    await page.getByLabel('Company name').fill('Acme Corp');
    await page.getByLabel('CSV file').setInputFiles({
      name: 'acme-invoices.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(generateLedgerCsv(600, 14)),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    const runs = page.getByTestId('sync-runs');
    await runs.waitFor();
    await expect.poll(async () => (await runs.textContent()) ?? '').toContain('acme-invoices.csv');
    expect(await runs.textContent()).toContain('succeeded');
    await expect.poll(() => page.getByText('Acme Corp').first().isVisible()).toBe(true);
    await shot('02-connections');
  });

  it('shows the dashboard KPIs and charts', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const dso = page.getByTestId('kpi-dso');
    await dso.waitFor();
    expect(await dso.textContent()).toMatch(/DSO\s*\d+(\.\d)? days/);
    expect(await page.getByTestId('kpi-cei').textContent()).toMatch(/\d+(\.\d)?%/);
    expect(await page.getByTestId('kpi-add').textContent()).toMatch(/\d+(\.\d)? days/);
    await page.locator('.recharts-bar-rectangle').first().waitFor();
    expect(await page.getByRole('heading', { name: '13-week cash forecast' }).isVisible()).toBe(true);
    expect(await page.title()).toBe('Dashboard · Duely');
    await shot('03-dashboard');
  });

  it('filters invoices', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Invoices' }).click();
    await page.locator('table tbody tr').first().waitFor();
    expect(await page.getByLabel('Status').inputValue()).toBe('open');
    await page.getByLabel('Status').selectOption('all');
    await page.waitForURL(/status=all/);
    await page.getByLabel('Status').selectOption('open');
    await page.waitForURL(/status=open/);
    await page.getByLabel('Overdue').selectOption('true');
    await page.waitForURL(/overdue=true/);
    // The previous filter's rows stay on screen until the new answer arrives: wait for the overdue-only table.
    const statuses = () => page.locator('table tbody tr td[data-col="status"]').allTextContents();
    await expect
      .poll(async () => {
        const s = await statuses();
        return s.length > 0 && s.every((t) => t.trim().toLowerCase() === 'overdue');
      })
      .toBe(true);
    await shot('04-invoices-overdue');
  });

  it('opens a customer with invoices, payments and open balance', async () => {
    const link = page.locator('table tbody tr td[data-col="customer"] a').first();
    const name = ((await link.textContent()) ?? '').trim();
    await link.click();
    await page.getByRole('heading', { level: 1, name }).waitFor();
    expect(await page.getByTestId('customer-open-balance').textContent()).toMatch(/\$[\d,]+\.\d\d/);
    await page.getByRole('heading', { name: 'Payments' }).waitFor();
    await shot('05-customer');
  });

  it('works from the keyboard: skip link, then the menu', async () => {
    // The built app loads under its own CSP (scripts from 'self' only), with no CSP violation on the console.
    const res = await page.goto(`${base}/`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(res?.headers()['x-content-type-options']).toBe('nosniff');
    await page.getByTestId('kpi-dso').waitFor();
    expect(consoleErrors.filter((e) => /Content.Security.Policy/i.test(e))).toEqual([]);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Dashboard');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/invoices`);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  });

  it('is usable on a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByTestId('kpi-dso').waitFor();
    await page.locator('.recharts-bar-rectangle').first().waitFor();
    await shot('06-dashboard-mobile');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  // Another port is another origin but the same site, so the Lax cookie of plain http still flows; over https the
  // cookie is SameSite=None; Secure; Partitioned for QuickBooks' cross-site frame (see session.test.ts).
  it('works inside an iframe of an allowed ancestor (CSP frame-ancestors)', async () => {
    framer = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>Host</title><body style="margin:0;background:#eee">
        <div style="padding:8px;font-family:sans-serif">Host page (like QuickBooks)</div>
        <iframe src="${base}/invoices" style="width:100%;height:760px;border:0" title="Duely"></iframe></body>`);
    });
    await new Promise<void>((r) => framer!.listen(0, '127.0.0.1', () => r()));
    const a = framer.address();
    await page.goto(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/`);
    const frame = page.frameLocator('iframe[title="Duely"]');
    await frame.locator('table tbody tr').first().waitFor();
    await shot('07-embedded');
  });

  it('changes the late-payment sensitivity, shows the model in use, and signs out from Settings', async () => {
    await page.goto(`${base}/settings`);
    await page.getByRole('heading', { name: 'Company' }).waitFor();
    // The company facts render once the tenant list has loaded, possibly after the model's facts: wait for them.
    await page.locator('.facts', { hasText: 'Acme Corp' }).waitFor();
    await page.getByText('payment-delay-').first().waitFor();
    await page.getByLabel('Late-payment sensitivity').selectOption('1');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const settings = await page.evaluate(
      async (url) => (await fetch(url)).json(),
      `${base}/api/v1/tenants/acme-corp/settings`,
    );
    expect(settings.sensitivity).toBe(1);
    await shot('08-settings');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${base}/login`);
    const r = await page.goto(`${base}/`);
    expect(r?.status()).toBe(200);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(consoleErrors.filter((e) => !e.includes('401'))).toEqual([]);
  });
});
