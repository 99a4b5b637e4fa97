/**
 * The first-run checklist's pay links on a ledger read live: a synced ledger gives each invoice's pay link on a read of
 * its own, made after connecting. Invoices not asked yet are not invoices without a link: the checklist said "129
 * invoices have no pay link" and that fell to 9 as the reads came in. It now says it is still checking (and has the
 * reads made), then counts only the invoices the ledger has no link for.
 */
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoices } from '../../src/db/schema';
import { liveStateRefreshers } from '../../src/dunning/live-invoice-state';
import type { Services } from '../../src/services';
import { suiteSetup } from './fixtures';

let s: Services;
let tenantId: string;
const t = suiteSetup({ live: false });
beforeAll(async () => {
  ({ s, tenantId } = t);
}, 120_000);
afterAll(() => {
  liveStateRefreshers.csv = undefined;
});

const payment = async () => {
  const r = await t.app.inject({
    method: 'GET',
    url: `/api/v1/tenants/${tenantId}/dunning/go-live`,
    headers: t.auth,
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().items.find((i: { key: string }) => i.key === 'payment') as {
    done: boolean;
    detail: string;
  };
};

describe('pay links of a ledger read live', () => {
  it('says it is still checking while the reads run, then counts only the invoices the ledger has no link for', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const asked: string[][] = [];
    // The ledger has a link for every invoice but one (the first asked).
    liveStateRefreshers.csv = async (_deps, _tenant, ids) => {
      asked.push([...ids]);
      await gate;
      await s.db
        .update(invoices)
        .set({ payLink: 'https://pay.example.test/inv' })
        .where(inArray(invoices.id, ids.slice(1)));
    };
    const checking = await payment();
    expect(checking.done).toBe(false);
    expect(checking.detail).toMatch(/^Still checking the ledger for pay links \(\d+ invoices? to go\)/);
    expect(checking.detail).not.toMatch(/have no pay link/);
    // Asked once, however often the checklist is read meanwhile.
    await payment();
    expect(asked).toHaveLength(1);
    const none = asked[0]![0]!;
    release();
    await expect
      .poll(async () => (await payment()).detail)
      .toBe('1 invoice has no pay link: add payment details (bank details or a payment page) in Settings');
    const [row] = await s.db
      .select({ payLink: invoices.payLink })
      .from(invoices)
      .where(eq(invoices.id, none));
    expect(row?.payLink ?? null).toBeNull();
    expect((await payment()).done).toBe(false);
  });
});
