/**
 * In Chromium: a QuickBooks user opens Duely from QuickBooks (the launch URL) with no session, goes through Intuit's
 * consent (the local sandbox, which issues signed ID tokens like Intuit) and lands signed in, in the tenant of their
 * company, named after it; the same launch later goes straight to the app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandboxes/quickbooks';
import { fixedClock } from '../../src/clock';
import type { Services } from '../../src/services';
import { createTestServices } from '../helpers/services';
import { type BrowserRig, hasChromium, startBrowserRig } from './browser-helpers';

const CLIENT = { clientId: 'duely-browser-client', clientSecret: 'duely-browser-secret' };

describe.skipIf(!hasChromium)('Sign in with Intuit in Chromium', () => {
  let sandbox: Sandbox;
  let s: Services;
  let rig: BrowserRig;

  beforeAll(async () => {
    sandbox = await startSandbox({
      seed: 7,
      now: new Date('2026-11-27T12:00:00Z'),
      customers: 5,
      invoices: 20,
      verifierToken: 'browser-verifier',
      companyName: 'Larkspur Landscaping',
      ...CLIENT,
    });
    // Sync jobs are queued but not run here: this test is about who is signed in where.
    s = await createTestServices({
      clock: fixedClock('2026-11-27'),
      env: {
        QUICKBOOKS_CLIENT_ID: CLIENT.clientId,
        QUICKBOOKS_CLIENT_SECRET: CLIENT.clientSecret,
        QUICKBOOKS_DEMO: 'off',
        ...sandbox.config,
      },
    });
    rig = await startBrowserRig(s);
    // Intuit redirects to PUBLIC_URL's callback; point it at this rig.
    (s.config as { PUBLIC_URL: string }).PUBLIC_URL = rig.base;
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
    await s?.close();
    await sandbox?.stop();
  });

  it('the launch URL signs a QuickBooks user in to their company', async () => {
    const { page, base } = rig;
    await page.goto(`${base}/connect/quickbooks/launch`);
    await page.waitForURL((u) => u.pathname === '/connections');
    await page.locator('.signed-in-as').waitFor();
    expect(await page.locator('.tenant-name').textContent()).toBe('Larkspur Landscaping');
    expect(await page.locator('.signed-in-as').textContent()).toBe('Signed in as Sandbox Owner');
    const session = await page.evaluate(() => fetch('/api/v1/session').then((r) => r.json()));
    expect(session).toMatchObject({
      operator: false,
      tenant: { name: 'Larkspur Landscaping' },
      user: { method: 'intuit_openid', email: 'owner@sandbox.example.com' },
    });
    await rig.shot('intuit-signed-in');

    // Launching again from QuickBooks goes straight to the app.
    const again = await page.goto(`${base}/connect/quickbooks/launch`);
    expect(again?.url()).toBe(`${base}/`);
    expect(rig.consoleErrors).toEqual([]);
  });
});
