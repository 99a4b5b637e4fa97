/**
 * `npm run demo -- --provider netsuite` printed the app's URL and an admin token but no sign-in link (the QuickBooks
 * demo prints one): a controller trying it had no way into the app in a browser. The banner now carries a one-time
 * link, as `npm start` and the QuickBooks demo do, and the link opens the sign-in page.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { providerDemoBanner } from '../../src/cli-sync';
import { providerDemos } from '../../src/demo';
import { createTestDatabase } from '../helpers/db';

it('the NetSuite demo banner prints a one-time sign-in link that opens the sign-in page', async () => {
  const db = await createTestDatabase();
  const demo = await providerDemos.netsuite!({
    env: {
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'duely-nsdemo-')),
      APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
      LOG_LEVEL: 'silent',
      PORT: '0',
      ...(db.url ? { DATABASE_URL: db.url } : {}),
    },
    customers: 4,
  });
  try {
    const banner = await providerDemoBanner(demo);
    const link = /^ {2}Sign in: +(\S+)$/m.exec(banner)?.[1];
    expect(link).toMatch(new RegExp(`^${demo.url}/login\\?token=dll_`));
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Sign in');
    expect(banner).toContain(`Admin token:  ${demo.adminToken}`);
  } finally {
    await demo.stop();
    await db.drop();
  }
}, 120_000);
