/**
 * Accessibility of every page, checked by axe-core (Deque's WCAG rule engine) inside Chromium, with data on the
 * pages: an imported overdue ledger, scored, planned with a held policy. Serious and critical violations fail the
 * test with the rule, the WCAG tags and the offending elements; moderate and minor ones are printed only.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedgerCsv } from '../../bench/ledger-csv';
import { issueApiToken } from '../../src/auth/api-tokens';
import { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { giveEmails } from '../dunning-engine/fixtures';
import { createTestServices } from '../helpers/services';
import {
  axeViolations,
  type BrowserRig,
  describeViolation,
  hasChromium,
  importCsvOnConnections,
  seriousViolations,
  signIn,
  startBrowserRig,
} from './browser-helpers';

describe.skipIf(!hasChromium)('accessibility (axe-core in Chromium)', () => {
  const clock = new ManualClock('2013-07-01T14:00:00Z');
  let s: Services;
  let rig: BrowserRig;
  let tenantId = '';
  let customerId = '';

  beforeAll(async () => {
    s = await createTestServices({ clock, env: { MAIL_FROM: 'Acme Billing <billing@acme.example>' } });
    rig = await startBrowserRig(s);
    const auth = { authorization: `Bearer ${(await issueApiToken(s.db, 'a11y test')).token}` };
    await signIn(rig.page, s, rig.base);
    await importCsvOnConnections(rig.page, 'Acme Corp', 'acme-invoices.csv', generateLedgerCsv(300, 21));
    tenantId = (await rig.app.inject({ url: '/api/v1/tenants', headers: auth })).json().items[0].id;
    await giveEmails(s, tenantId);
    const policy = {
      defaultSequenceId: 'standard',
      sequences: [
        {
          id: 'standard',
          name: 'Standard',
          steps: [
            { offsetDays: 1, tone: 'friendly', approval: { type: 'always' } },
            { offsetDays: 10, tone: 'neutral' },
          ],
        },
      ],
      rules: [],
    };
    const put = await rig.app.inject({
      method: 'PUT',
      url: `/api/v1/tenants/${tenantId}/dunning/policy`,
      headers: auth,
      payload: { policy },
    });
    expect(put.statusCode).toBe(200);
    await scoreTenant(s, tenantId);
    expect(
      (
        await rig.app.inject({
          method: 'POST',
          url: `/api/v1/tenants/${tenantId}/dunning/plan`,
          headers: auth,
        })
      ).statusCode,
    ).toBe(200);
    const [c] = rowsOf<{ id: string }>(
      await s.db.execute(
        sql`select id from customers where tenant_id = ${tenantId}::uuid order by external_id limit 1`,
      ),
    );
    customerId = c!.id;
  }, 180_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
  });

  const pages: Array<[string, () => string, string]> = [
    ['Dashboard', () => '/', 'Dashboard'],
    ['Invoices', () => '/invoices', 'Invoices'],
    ['Customers', () => '/customers', 'Customers'],
    ['Customer', () => `/customers/${customerId}`, ''],
    ['Connections', () => '/connections', 'Connections'],
    ['Sequences', () => '/sequences', 'Sequences'],
    ['Approvals', () => '/approvals', 'Approvals'],
    ['Messages', () => '/messages', 'Messages'],
    ['Settings', () => '/settings', 'Settings'],
  ];

  it.each(pages)('%s has no serious or critical violations', async (name, path, heading) => {
    const { page, base } = rig;
    await page.goto(`${base}${path()}`);
    if (heading) await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    else await page.getByRole('heading', { level: 1 }).waitFor();
    // Let data-driven sections (charts, tables) settle.
    await page.waitForLoadState('networkidle');
    const violations = await axeViolations(page);
    const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    const other = violations.filter((v) => !blocking.includes(v));
    if (other.length)
      console.info(`${name}: ${other.length} minor/moderate\n${other.map(describeViolation).join('\n')}`);
    expect(blocking.map(describeViolation)).toEqual([]);
  });

  it('the sign-in page has no serious or critical violations', async () => {
    const context = await rig.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${rig.base}/login`);
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});
