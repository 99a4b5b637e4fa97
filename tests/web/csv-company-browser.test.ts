/**
 * A CSV company's day one in Chromium, under the real time (no --now): an old export imported today shows its
 * figures as of the export's date and says so, with a link to upload a newer one (it said "As of <today>" and aged
 * the 2019 ledger by seven years); and the operator, on that CSV company's Connections page, uploads another ledger
 * as a new company, as a synced company's page offers (it was offered nowhere on a CSV company's page). Skipped
 * without Chromium.
 */
import { eq } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedgerCsv } from '../../bench/ledger-csv';
import { tenants } from '../../src/db/schema';
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
  ['ACME', 'X1', '2019-01-10', '2019-02-09', '100.00', 'USD', '2019-02-20', 'email', 'US'],
  ['ACME', 'X2', '2019-02-15', '2019-03-17', '200.00', 'USD', '', 'email', 'US'],
  ['BETA', 'X3', '2019-03-01', '2019-03-31', '300.00', 'USD', '', 'email', 'US'],
  ['BETA', 'X4', '2018-11-01', '2018-12-01', '400.00', 'USD', '', 'email', 'US'],
  ['CORP', 'X5', '2019-03-10', '2019-04-09', '50.00', 'USD', '2019-03-31', 'email', 'US'],
];

describe.skipIf(!hasChromium)('a CSV company in Chromium, under the real time', () => {
  let s: Services;
  let rig: BrowserRig;
  let page: Page;

  beforeAll(async () => {
    // The real clock, stood in at a known instant (a test's fixed clock is a chosen "now", like --now).
    s = await createTestServices({ clock: { now: () => new Date('2026-12-07T09:00:00Z'), real: true } });
    rig = await startBrowserRig(s);
    page = rig.page;
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
  });

  it('an old export: the dashboard is as of its date, says so and links to a newer upload', async () => {
    await signIn(page, s, rig.base);
    await importCsvOnConnections(page, 'Old Books', 'old-books.csv', csv(rows));
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const note = page.getByTestId('export-day-note');
    await note.waitFor();
    expect(await note.textContent()).toContain(
      'These figures are as of Mar 31, 2019, the date of the CSV export',
    );
    expect(await page.locator('.page-header').textContent()).toContain('As of Mar 31, 2019 (the CSV export)');
    expect(await page.locator('.page-header').textContent()).not.toContain('Dec 7, 2026');
    // Aged to the export's day: DSO has sales in the period (as of 2026 it had none).
    expect(await page.getByTestId('kpi-dso').textContent()).toMatch(/DSO\s*124\.6 days/);
    await rig.shot('csv-company-01-export-day');
    await note.getByRole('link', { name: 'Upload a newer export' }).click();
    await page.waitForURL((u) => u.pathname === '/connections');
  });

  it("the operator uploads another company's ledger from the CSV company's Connections page", async () => {
    const card = page.getByRole('region', { name: 'Another company from a CSV' });
    await card.waitFor();
    await card.getByLabel('Company name').fill('New Books');
    await card.getByLabel('CSV file').setInputFiles({
      name: 'new-books.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(generateLedgerCsv(40, 4)),
    });
    await card.getByRole('button', { name: 'Import as a new company' }).click();
    await expect
      .poll(() => page.getByLabel('Company').locator('option:checked').textContent())
      .toBe('New Books');
    const runs = page.getByTestId('sync-runs');
    await expect.poll(async () => (await runs.textContent()) ?? '').toContain('new-books.csv');
    expect(await runs.textContent()).not.toContain('old-books.csv');
    await rig.shot('csv-company-02-another-company');
    const made = await s.db.select().from(tenants).where(eq(tenants.name, 'New Books'));
    expect(made.map((t) => t.source)).toEqual(['csv']);
    expect(rig.consoleErrors).toEqual([]);
  });
});
