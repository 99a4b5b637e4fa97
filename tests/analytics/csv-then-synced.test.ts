/**
 * A CSV company's figures are as of its export's day under the real time (analytics ledgerDay), read from its
 * imports. A company that began with a CSV and connected a ledger later (possible until s36: such companies exist)
 * keeps `source = 'csv'` while its ledger is synced: its dashboard, lists and risk stayed at the old export's day.
 * Once a sync has brought its ledger up to date it is a synced company: the clock's day.
 */

import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock';
import { syncRuns, tenants } from '../../src/db/schema';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const realClockAt = (at: string): Clock => ({ now: () => new Date(at), real: true });

describe('a CSV company synced from a ledger later (real time, December 2026)', () => {
  const t = suiteTestApp({ clock: realClockAt('2026-12-07T09:00:00Z') });

  it("is as of the clock's day once a sync succeeded", async () => {
    const up = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tenants/acme/imports',
      headers: { ...t.auth, 'content-type': 'text/csv' },
      payload: csv([['ACME', 'X2', '2019-02-15', '2019-03-17', '200.00', 'USD', '', 'email', 'US']]),
    });
    expect(up.statusCode, up.body).toBe(201);
    const get = async () =>
      (await t.app.inject({ url: '/api/v1/tenants/acme/analytics', headers: t.auth })).json();
    expect(await get()).toMatchObject({ asOf: '2019-02-15', exportDay: '2019-02-15' });
    const [tenant] = await t.services.db.select().from(tenants).where(eq(tenants.slug, 'acme'));
    // A full sync of the ledger it connected (before s36 a CSV company could connect one).
    await t.services.db.insert(syncRuns).values({
      tenantId: tenant!.id,
      kind: 'full',
      status: 'succeeded',
      startedAt: new Date('2026-12-07T08:00:00Z'),
      finishedAt: new Date('2026-12-07T08:10:00Z'),
    });
    expect(await get()).toMatchObject({ asOf: '2026-12-07', exportDay: null });
  });
});
