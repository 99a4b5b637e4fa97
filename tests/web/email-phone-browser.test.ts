/**
 * Phone-friendly emails (issue 14, point 8), checked in real Chromium at 390 px: the reminder fits the screen
 * without sideways scrolling and its invoice table stacks into labelled blocks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromium } from 'playwright-core';
import { renderEmail } from '../../emails/render';
import { Reminder } from '../../emails/reminder';
import { CHROMIUM, hasChromium } from './browser-helpers';

let browser: Browser | null = null;

beforeAll(async () => {
  if (!hasChromium) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
});
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!hasChromium)('a reminder on a 390 px phone', () => {
  it('has no horizontal overflow and stacks the invoice rows', async () => {
    const base = Reminder.PreviewProps;
    const invoices = Array.from({ length: 6 }, (_, i) => ({
      ...base.invoices[0]!,
      number: `INV-2026-LONG-NUMBER-${1000 + i}`,
      dueDate: i < 3 ? '2026-11-13' : '2026-12-10',
      payLink: `https://pay.example/invoices/${1000 + i}/a-rather-long-payment-link-path`,
    }));
    const { html } = await renderEmail('reminder', { ...base, tone: 'firm', invoices });
    const page = await browser!.newPage({ viewport: { width: 390, height: 844 } });
    await page.setContent(html);
    const m = await page.evaluate(() => {
      const td = document.querySelector('table.dataTable tbody td') as HTMLElement;
      const thead = document.querySelector('table.dataTable thead') as HTMLElement;
      return {
        scrollWidth: document.documentElement.scrollWidth,
        cell: getComputedStyle(td).display,
        head: getComputedStyle(thead).display,
        label: getComputedStyle(td, '::before').content,
      };
    });
    expect(m.scrollWidth).toBeLessThanOrEqual(390);
    expect(m.cell).toBe('block');
    expect(m.head).toBe('none');
    expect(m.label).toBe('"Invoice: "');
    await page.close();
  });
});
