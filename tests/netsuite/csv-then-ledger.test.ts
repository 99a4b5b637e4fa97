/**
 * A CSV company that connects its NetSuite account (tests/sync/csv-then-ledger.test.ts for QuickBooks): after the
 * first full sync its invoices are NetSuite's alone, to the minor unit; the upload's copies (under the file's ids)
 * and an invoice only the file had are no longer open. Runs on PGlite and Postgres.
 */
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { ManualClock } from '../../src/clock';
import { createTenant } from '../../src/db/queries/tenants';
import { tenants } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { runSync } from '../../src/sync/run-sync';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';
import { ACCOUNT, ledgerBalances, storedInvoices } from './fixtures';

const clock = new ManualClock('2026-04-01T08:00:00Z');
let sandbox: NetsuiteSandbox;
let s: Services;

const t = suiteTestApp(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 37, customers: 6 }) });
  await sandbox.start();
  return { clock, env: { ...sandbox.env() }, token: 'test admin', sandbox };
});
beforeAll(() => {
  s = t.services;
});

describe('a CSV company that connected its NetSuite account, after the first full sync', () => {
  it("holds NetSuite's invoices alone, to the minor unit", async () => {
    const co = sandbox.company;
    const rows: (string | number)[][] = [];
    for (const x of co.txns.values()) {
      if (x.type !== 'CustInvc' || x.currency !== 'USD' || x.voided || x.approval) continue;
      const unpaid = co.unpaid(x);
      rows.push([
        `CSV-${x.entity}`,
        `DOC-${x.tranid}`,
        x.trandate,
        x.duedate ?? x.trandate,
        (x.totalMinor / 100).toFixed(2),
        'USD',
        unpaid === 0 ? x.trandate : '',
        'email',
        'US',
      ]);
    }
    rows.push(['CSV-ONLY', 'OLD-1', '2026-01-05', '2026-02-04', '500.00', 'USD', '', 'email', 'US']);
    rows.push(['CSV-ONLY', 'CN-1', '2026-01-20', '2026-01-20', '-40.00', 'USD', '', 'email', 'US']);
    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    // Uploaded an hour before connecting, by Duely's clock (UTC): NetSuite's times are the account's wall time, which
    // for a US account (UTC−8) reads 8 hours behind; the listing's start is an hour further back (its overlap).
    const accountNow = Date.parse(`${co.clock.replace(' ', 'T')}Z`);
    const uploadedAt = new Date(accountNow + 7 * 3_600_000);
    await importHistoryCsv(s.db, csv(rows), { tenantName: 'ignored', tenantId: tenant.id, now: uploadedAt });

    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenant.slug}/connections`,
      headers: { authorization: `Bearer ${t.token}` },
      payload: {
        provider: 'netsuite',
        accountId: ACCOUNT,
        auth: { type: 'tba', tokenId: 'sandbox-token-id', tokenSecret: 'sandbox-token-secret' },
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const [row] = await s.db.select().from(tenants).where(eq(tenants.id, tenant.id));
    expect(row?.source).toBe('netsuite');

    const result = await runSync(s, { connectionId: res.json().id, reason: 'connect', pageSize: 7 });
    expect(result.status, result.error ?? '').toBe('succeeded');
    expect(await storedInvoices(s.db, tenant.id)).toEqual(co.openBalances());
    // Every customer's balance (open invoices less unapplied payments and credits), the file's credit gone too.
    expect(await ledgerBalances(s.db, tenant.id)).toEqual(co.customerBalances());
  });
});
