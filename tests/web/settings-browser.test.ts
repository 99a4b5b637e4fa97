/**
 * The Settings page editors in real Chromium: reminder sending rules (quiet hours, a holiday, the approval threshold;
 * a rejected save shows the server's field error next to its field and keeps every edit; saved values survive a
 * reload) and the email sender (field error, live preview, saved and shown after a reload); axe-core finds no serious
 * or critical WCAG violation in the open forms. Screenshots settings-* go to tests/artifacts/screenshots/. Skipped
 * without Chromium.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/services';
import { ledgerRows } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';
import { createTestServices } from '../helpers/services';
import {
  type BrowserRig,
  hasChromium,
  importCsvOnConnections,
  seriousViolations,
  signIn,
  startBrowserRig,
} from './browser-helpers';

/** Serious and critical axe-core violations inside the two editors' cards, as they are now. */
const axeOnEditors = (page: Page) => seriousViolations(page, '.settings-card');

describe.skipIf(!hasChromium)('Settings page editors in Chromium', () => {
  let s: Services;
  let rig: BrowserRig;
  let page: Page;
  const getJson = (path: string) =>
    page.evaluate(async (url) => (await fetch(url)).json(), `${rig.base}/api/v1/tenants/acme-corp/${path}`);
  const rulesForm = () => page.getByRole('form', { name: 'Reminder sending rules' });
  const senderForm = () => page.getByRole('form', { name: 'Email sender' });
  // Rendered text, so the <dt>/<dd> cells of a summary read as separate words.
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText, on purpose (see above)
  const text = async (l: Locator) => (await l.innerText()).replace(/\s+/g, ' ').trim();

  beforeAll(async () => {
    s = await createTestServices({ env: { MAIL_FROM: 'Duely Billing <billing@duely.example>' } });
    rig = await startBrowserRig(s);
    page = rig.page;
  }, 120_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
  });

  it('signs in and imports a small ledger', async () => {
    await signIn(page, s, rig.base);
    await importCsvOnConnections(page, 'Acme Corp', 'acme-small.csv', csv(ledgerRows()));
    await expect
      .poll(async () => (await text(page.getByTestId('sync-runs'))).toLowerCase(), { timeout: 30_000 })
      .toContain('succeeded');
  });

  it('shows the reminder sending rules as a summary with the defaults', async () => {
    await page.goto(`${rig.base}/settings`);
    const summary = page.getByTestId('sending-summary');
    await expect.poll(() => text(summary), { timeout: 10_000 }).toContain('UTC (the company time zone)');
    const t = await text(summary);
    expect(t).toContain('Business days Mon–Fri');
    expect(t).toContain('Business hours 08:00–18:00');
    expect(t).toContain('Quiet hours Off');
    expect(t).toContain('Approval needed above $10,000.00');
    // A CSV company: how old an upload reminders may still be sent from.
    expect(t).toContain(
      'Oldest upload reminders go out from 3 days: after that, reminders wait for a newer upload',
    );
    // The risk card's sensitivity and its single Save button are still the only ones on the page.
    expect(await page.getByLabel('Late-payment sensitivity').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Save', exact: true }).count()).toBe(1);
    await rig.shot('settings-01-summary');
  });

  it('rejects quiet hours covering all business hours next to the field, keeping the other edits', async () => {
    await page.getByRole('button', { name: 'Edit reminder sending rules' }).click();
    const form = rulesForm();
    await form.waitFor();
    // Focus moves into the form: its first control, Monday.
    expect(await page.evaluate(() => document.activeElement?.closest('label')?.textContent)).toContain(
      'Monday',
    );

    await form.getByLabel('Holiday date').fill('2013-07-04');
    await form.getByRole('button', { name: 'Add holiday' }).click();
    await form.getByLabel('Holiday date').fill('2013-12-25');
    await form.getByLabel('Holiday date').press('Enter'); // Enter adds, it does not submit
    await form.getByRole('button', { name: 'Remove Dec 25, 2013' }).click();
    await form.getByLabel('Approval needed above (USD)').fill('5,000.00');

    const quiet = form.getByRole('group', { name: 'Quiet hours' });
    await quiet.getByLabel('Keep quiet hours').check();
    await quiet.getByLabel('From').selectOption('6');
    await quiet.getByLabel('Until').selectOption('20');
    await form.getByRole('button', { name: 'Save reminder sending rules' }).click();

    const error = quiet.getByText('quiet hours cover all business hours, so nothing could ever be sent');
    await error.waitFor();
    const errorId = await error.getAttribute('id');
    const from = quiet.getByLabel('From');
    expect(await from.getAttribute('aria-invalid')).toBe('true');
    expect((await from.getAttribute('aria-describedby'))?.split(' ')).toContain(errorId);
    // Focus goes to the first field marked invalid.
    expect(await from.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await text(form.getByRole('status'))).toContain('Nothing was changed');
    // Nothing stored; every unsaved edit still on screen.
    expect((await getJson('dunning/policy')).version).toBe(0);
    expect(await form.getByLabel('Approval needed above (USD)').inputValue()).toBe('5,000.00');
    const holidays = form.getByRole('list', { name: 'Holidays' }).getByRole('listitem');
    expect(await holidays.count()).toBe(1);
    expect(await text(holidays.first())).toContain('Jul 4, 2013');
    expect(await quiet.getByLabel('Until').inputValue()).toBe('20');
    expect(await axeOnEditors(page)).toEqual([]);
    await rig.shot('settings-02-quiet-hours-error');
  });

  it('checks the amount before sending it', async () => {
    const form = rulesForm();
    const amount = form.getByLabel('Approval needed above (USD)');
    await amount.fill('five thousand');
    await form.getByRole('button', { name: 'Save reminder sending rules' }).click();
    await form.getByText('enter an amount such as 5,000.00').waitFor();
    expect(await amount.evaluate((el) => el === document.activeElement)).toBe(true);
    await amount.fill('5,000.00');
  });

  it('saves quiet hours, a holiday and the approval threshold, and shows them after a reload', async () => {
    const form = rulesForm();
    const quiet = form.getByRole('group', { name: 'Quiet hours' });
    await quiet.getByLabel('From').selectOption('12');
    await quiet.getByLabel('Until').selectOption('14');
    await form.getByLabel('Oldest upload reminders go out from (days)').fill('7');
    await form.getByRole('button', { name: 'Save reminder sending rules' }).click();
    await page.getByRole('status').filter({ hasText: 'Reminder settings saved.' }).waitFor();
    // Focus returns to the button that opened the form.
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.textContent), { timeout: 5_000 })
      .toBe('Edit reminder sending rules');

    const stored = await getJson('dunning/policy');
    expect(stored.settings).toMatchObject({
      quietHours: { start: 12, end: 14 },
      holidays: ['2013-07-04'],
      approvalThresholdMinor: 500_000,
      maxUploadAgeDays: 7,
      businessDays: [1, 2, 3, 4, 5],
      timezone: 'UTC',
    });

    await page.reload();
    const summary = page.getByTestId('sending-summary');
    await summary.waitFor();
    const t = await text(summary);
    expect(t).toContain('Quiet hours 12:00–14:00');
    expect(t).toContain('Holidays Jul 4, 2013');
    expect(t).toContain('Approval needed above $5,000.00');
    expect(t).toContain('Oldest upload reminders go out from 7 days');
    await page.getByRole('button', { name: 'Edit reminder sending rules' }).click();
    const form2 = rulesForm();
    expect(await form2.getByLabel('Approval needed above (USD)').inputValue()).toBe('5,000.00');
    expect(
      await form2.getByRole('group', { name: 'Quiet hours' }).getByLabel('Keep quiet hours').isChecked(),
    ).toBe(true);
    await rig.shot('settings-03-rules-saved');
    await form2.getByRole('button', { name: 'Cancel' }).click();
  });

  it('sets the email sender: field error, live preview, saved and shown after a reload', async () => {
    const preview = page.getByTestId('sender-preview');
    expect(await text(preview)).toContain(
      'From: Duely Billing <billing@duely.example> · Reply-to: billing@duely.example',
    );
    expect(await text(preview)).toContain('Signed: Acme Corp');

    await page.getByRole('button', { name: 'Edit email sender' }).click();
    const form = senderForm();
    await form.getByLabel('Company name').fill('Acme Corp Receivables');
    await form.getByLabel('Reply-to email').fill('ar@');
    await form.getByLabel('Postal address (up to 4 lines)').fill('1 Ledger Lane\nSpringfield, IL 62701');
    await form.getByLabel('Phone (optional)').fill('+1 555 010 0200');
    // The preview follows the typing, before anything is saved.
    expect(await text(preview)).toContain('Reply-to: ar@');
    expect(await text(preview)).toContain(
      'Signed: Acme Corp Receivables · 1 Ledger Lane · Springfield, IL 62701',
    );
    await form.getByRole('button', { name: 'Save email sender' }).click();

    const replyTo = form.getByLabel('Reply-to email');
    const error = form.getByText('not a valid email address');
    await error.waitFor();
    expect((await replyTo.getAttribute('aria-describedby'))?.split(' ')).toContain(
      await error.getAttribute('id'),
    );
    expect(await replyTo.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await form.getByLabel('Company name').inputValue()).toBe('Acme Corp Receivables');
    expect((await getJson('settings')).senderCustomised).toBe(false);
    expect(await axeOnEditors(page)).toEqual([]);
    await rig.shot('settings-04-sender-error');

    await replyTo.fill('ar@acme-corp.example');
    expect(await text(preview)).toContain('Reply-to: ar@acme-corp.example');
    await form.getByRole('button', { name: 'Save email sender' }).click();
    await page.getByRole('status').filter({ hasText: 'Email sender saved.' }).waitFor();

    const settings = await getJson('settings');
    expect(settings).toMatchObject({
      senderCustomised: true,
      sender: {
        companyName: 'Acme Corp Receivables',
        replyTo: 'ar@acme-corp.example',
        address: ['1 Ledger Lane', 'Springfield, IL 62701'],
        phone: '+1 555 010 0200',
      },
    });
    await page.reload();
    await page.getByTestId('sender-preview').waitFor();
    const after = await text(page.getByTestId('sender-preview'));
    expect(after).toContain('Reply-to: ar@acme-corp.example');
    expect(after).toContain(
      'Signed: Acme Corp Receivables · 1 Ledger Lane · Springfield, IL 62701 · +1 555 010 0200',
    );
    await rig.shot('settings-05-sender-saved');
  });

  it('fits a phone-sized screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Edit reminder sending rules' }).click();
    await rulesForm().waitFor();
    await page.getByRole('button', { name: 'Edit email sender' }).click();
    await senderForm().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await axeOnEditors(page)).toEqual([]);
    await rig.shot('settings-06-mobile');
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(rig.consoleErrors.filter((e) => !e.includes('400'))).toEqual([]);
  });
});
