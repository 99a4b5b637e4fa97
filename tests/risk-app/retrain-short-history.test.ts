/**
 * `duely model retrain` on a ledger with plenty of settled invoices but a short history: the comparison slice and
 * the maturity window before it leave too little for the version the challenger is judged by. The message says so
 * in those terms, not "have 0" about a ledger with hundreds of settled invoices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { formatRetrain } from '../../src/risk/cli-commands';
import { retrainTenant } from '../../src/risk/service';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { HEADER } from '../helpers/csv';
import { createTestServices } from '../helpers/services';
import { ledgerCsv } from './helpers';

const NOW = '2014-03-01';
let s: Services;
let tenantId: string;

beforeAll(async () => {
  s = await createTestServices({ clock: fixedClock(NOW), queue: false });
  // ~120 days of history: well over 300 settled invoices, but the 90-day slice and the maturity window before
  // now reach back to (nearly) its start.
  const rows = syntheticLedger({
    customers: 40,
    invoicesPerCustomer: 14,
    seed: 5,
    start: '2013-11-01',
    days: 120,
    snapshot: NOW,
  });
  tenantId = (await importHistoryCsv(s.db, ledgerCsv(rows), { tenantName: 'Short Co', now: s.clock.now() }))
    .tenant.id;
});
afterAll(async () => {
  await s?.close();
});

describe('model retrain on a short history', () => {
  it('says the history is too short for the comparison, naming the slice, instead of "have 0" settled invoices', async () => {
    const r = await retrainTenant(s, tenantId);
    expect(r.trained).toBe(false);
    const text = formatRetrain('short-co', r);
    expect(text).toMatch(
      /^Tenant short-co: no model trained: the history is too short to judge a tenant model/,
    );
    expect(text).toMatch(/invoices issued \d{4}-\d{2}-\d{2} … \d{4}-\d{2}-\d{2}/);
    expect(text).toMatch(/The model in use stays$/);
    expect(text).not.toContain('before the cutoff');
  });

  it('a ledger where every invoice was paid on time says there is no lateness to learn from', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 400; i++) {
      const day = new Date(Date.UTC(2013, 0, 1 + Math.floor(i / 2)));
      const iso = (d: Date) => d.toISOString().slice(0, 10);
      const due = new Date(day.getTime() + 30 * 86_400_000);
      const paid = new Date(due.getTime() - (i % 7) * 86_400_000);
      lines.push(`C${i % 9},P${i},${iso(day)},${iso(due)},100.00,USD,${iso(paid)},,`);
    }
    const t = await importHistoryCsv(s.db, `${lines.join('\n')}\n`, {
      tenantName: 'Punctual',
      now: s.clock.now(),
    });
    const r = await retrainTenant(s, t.tenant.id);
    expect(r.trained).toBe(false);
    expect(formatRetrain('punctual', r)).toBe(
      'Tenant punctual: no model trained: all 400 invoices settled before 2014-03-01 were paid on time: ' +
        'nothing to learn lateness from (a tenant model needs at least 30, both late and on time). The model in use stays',
    );
  });
});
