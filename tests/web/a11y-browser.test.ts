/**
 * Accessibility of every page, checked by axe-core (Deque's WCAG rule engine) inside Chromium, with data on the
 * pages: an imported overdue ledger, scored, planned with a held policy. Serious and critical violations fail the
 * test with the rule, the WCAG tags and the offending elements; moderate and minor ones are printed only.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { createTestServices } from '../helpers/services';
import {
  axeViolations,
  type BrowserRig,
  describeViolation,
  hasChromium,
  seriousViolations,
  signInAndPlan,
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
    ({ tenantId } = await signInAndPlan(rig, s, { policy, invoices: 300, customers: 21 }));
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
    ['Call list', () => '/calls', 'Call list'],
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
