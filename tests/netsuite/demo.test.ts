/**
 * `npm run demo -- --provider netsuite`: Duely runs on the stand-in account's clock, as the QuickBooks demo runs on
 * its sandbox's, so an invoice due last week in NetSuite is a week overdue in Duely (not months, measured from the
 * machine's date), and days that pass in NetSuite pass for Duely too. Runs on PGlite and Postgres.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq, gt, isNotNull } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { creditMemos, invoices } from '../../src/db/schema';
import { providerDemos } from '../../src/demo';
import { createTestDatabase } from '../helpers/db';

/** The NetSuite demo on a fresh database (a new Postgres database when the suite runs on Postgres). */
async function startDemo(env: Record<string, string>, opts: { advanceEverySeconds?: number } = {}) {
  const db = await createTestDatabase();
  const demo = await providerDemos.netsuite!({
    env: {
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'duely-nsdemo-')),
      APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
      LOG_LEVEL: 'silent',
      PORT: '0',
      ...env,
      ...(db.url ? { DATABASE_URL: db.url } : {}),
    },
    customers: 8,
    ...opts,
  });
  return {
    demo,
    async stop() {
      await demo.stop();
      await db.drop();
    },
  };
}

it('the NetSuite demo runs on the account clock: nothing is months overdue, and days pass for both', async () => {
  const { demo, stop } = await startDemo({}, { advanceEverySeconds: 1 });
  try {
    const accountDay = () => demo.sandboxClock().slice(0, 10);
    const duelyDay = () => demo.services.clock.now().toISOString().slice(0, 10);
    expect(duelyDay()).toBe(accountDay());
    // The stand-in's history is 20 business days of invoices due in 15-45 days: none is a month overdue.
    const monthAgo = new Date(demo.services.clock.now().getTime() - 30 * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const open = await demo.services.db
      .select({ dueDate: invoices.dueDate })
      .from(invoices)
      .where(and(eq(invoices.status, 'open'), gt(invoices.balanceMinor, 0)));
    expect(open.length).toBeGreaterThan(0);
    expect(open.filter((i) => String(i.dueDate) < monthAgo)).toEqual([]);
    // The account's journal entries to A/R are there: an opening balance partly paid, a credit on account.
    const journals = await demo.services.db
      .select({ total: creditMemos.totalMinor, remaining: creditMemos.remainingMinor })
      .from(creditMemos)
      .where(and(isNotNull(creditMemos.journalEntryId), eq(creditMemos.status, 'active')));
    expect(journals).toEqual(
      expect.arrayContaining([
        { total: -150_000, remaining: -110_000 },
        { total: 25_000, remaining: 25_000 },
      ]),
    );
    const before = accountDay();
    await new Promise((r) => setTimeout(r, 2500));
    expect(accountDay()).not.toBe(before);
    expect(duelyDay()).toBe(accountDay());
  } finally {
    await stop();
  }
}, 120_000);

it('with --now (DUELY_NOW) the account history ends that day and Duely runs on it', async () => {
  const { demo, stop } = await startDemo({ DUELY_NOW: '2025-01-15' });
  try {
    expect(demo.sandboxClock().slice(0, 10)).toBe('2025-01-15');
    expect(demo.services.clock.now().toISOString().slice(0, 10)).toBe('2025-01-15');
  } finally {
    await stop();
  }
}, 120_000);
