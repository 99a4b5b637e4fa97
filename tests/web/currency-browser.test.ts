/**
 * A company billing in two currencies (the highradius SAP export: USD and CAD, CA$1.06M of $11M open and half of
 * what is overdue). The Dashboard showed the USD figures alone, with "31 open invoices in other currencies are not
 * included in these figures." at the foot of the page, and no way to see the CAD ones (the API took `?currency=`,
 * the page never sent it). It now offers a Currency choice beside the period, the note names each currency with a
 * link to its figures, and the period choice keeps the currency.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/services';
import { csv } from '../helpers/csv';
import { createTestServices } from '../helpers/services';
import {
  type BrowserRig,
  hasChromium,
  importCsvOnConnections,
  signIn,
  startBrowserRig,
} from './browser-helpers';

const rows = [
  ['GROC1', 'U1', '2026-10-01', '2026-10-31', '1000.00', 'USD', '', 'email', 'US'],
  ['GROC1', 'U2', '2026-11-01', '2026-12-01', '500.00', 'USD', '', 'email', 'US'],
  ['GROC1', 'U3', '2026-09-01', '2026-10-01', '250.00', 'USD', '2026-10-05', 'email', 'US'],
  ['TORONTO1', 'C1', '2026-10-15', '2026-11-14', '1000000.00', 'CAD', '', 'email', 'CA'],
  ['TORONTO1', 'C2', '2026-11-20', '2026-12-20', '300000.00', 'CAD', '', 'email', 'CA'],
];

describe.skipIf(!hasChromium)('the Dashboard of a company with USD and CAD invoices', () => {
  let s: Services;
  let rig: BrowserRig;
  let page: Page;

  beforeAll(async () => {
    s = await createTestServices({ clock: { now: () => new Date('2026-12-07T09:00:00Z'), real: true } });
    rig = await startBrowserRig(s);
    page = rig.page;
    await page.setViewportSize({ width: 1280, height: 800 });
    await signIn(page, s, rig.base);
    await importCsvOnConnections(page, 'Two Currencies', 'two-currencies.csv', csv(rows));
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
  });

  it('names each other currency with a link to its figures, and shows them', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const note = page.getByTestId('other-currencies');
    await note.waitFor();
    expect(await note.textContent()).toContain('Figures in USD only. Not included: 2 open invoices in CAD');
    const cad = note.getByRole('link', { name: '2 open invoices in CAD' });
    expect(await cad.getAttribute('href')).toBe('/?currency=CAD');
    // Followed as a person would. Under a loaded CI (browser suites side by side) one click was lost once — the URL
    // never changed in 30 s — so the click is tried again if the page has not moved within 5 s; what is asserted is
    // where the link goes (above) and what the page then shows (below).
    for (let attempt = 0; ; attempt++) {
      await cad.click();
      const moved = await page
        .waitForURL(`${rig.base}/?currency=CAD`, { timeout: 5_000 })
        .then(() => true)
        .catch(() => false);
      if (moved) break;
      if (attempt === 3) throw new Error(`the CAD link did not navigate: still at ${page.url()}`);
    }
    await page.getByText(/· CAD$/).waitFor();
    const open = page.locator('.kpi', { hasText: 'Open receivables' });
    expect(await open.textContent()).toContain('CA$1,300,000.00');
    expect(await page.getByTestId('other-currencies').textContent()).toContain(
      'Figures in CAD only. Not included: 2 open invoices in USD',
    );
    await rig.shot('currency-dashboard-cad');
  });

  it('a Currency choice beside the period; the period keeps the currency', async () => {
    const currency = page.getByLabel('Currency');
    expect(await currency.locator('option').allTextContents()).toEqual(['CAD', 'USD']);
    await currency.selectOption('USD');
    await page.waitForURL(`${rig.base}/?currency=USD`);
    await page.locator('.kpi', { hasText: '$1,500.00' }).first().waitFor();
    await page.getByLabel('Period').selectOption('30');
    await page.waitForURL(`${rig.base}/?period=30&currency=USD`);
    await currency.selectOption('CAD');
    await page.waitForURL(`${rig.base}/?period=30&currency=CAD`);
    await page.locator('.kpi', { hasText: 'CA$1,300,000.00' }).first().waitFor();
  });

  it('on a phone the CAD figures fit the screen (the charts’ hidden data tables scrolled it sideways)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${rig.base}/?currency=CAD`);
    await page.locator('.kpi', { hasText: 'CA$1,300,000.00' }).first().waitFor();
    await page.locator('figure.chart table').first().waitFor({ state: 'attached' });
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
    ).toBeLessThanOrEqual(0);
    await rig.shot('currency-dashboard-cad-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
