/**
 * Whose credit nets a job's debt (db/queries/credit-on-account.ts payersOfJobs), on parent chains a ledger should not
 * hold but a sync can store: a job whose parent is itself a job (the payer is at the top), a customer that is its own
 * parent, two jobs each the other's parent (each nets its own credit), a parent that was deleted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { payersOfJobs } from '../../src/db/queries/credit-on-account';
import { customers, tenants } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';

let s: Services;
let tenantId: string;
const ids = new Map<string, string>();

const testApp = suiteTestApp({ clock: fixedClock('2026-12-01T12:00:00Z'), token: 'operator' });
beforeAll(async () => {
  ({ services: s } = testApp);
  const [t] = await s.db
    .insert(tenants)
    .values({ slug: 'payers-of-jobs', name: 'Payers', source: 'csv' })
    .returning();
  tenantId = t!.id;
  const rows: [string, string | null, boolean, boolean?][] = [
    ['TOP', null, false],
    ['MID', 'TOP', true],
    ['LEAF', 'MID', true],
    ['SELF', 'SELF', true],
    ['A', 'B', true],
    ['B', 'A', true],
    ['GONE', null, false, true],
    ['ORPHAN', 'GONE', true],
    ['NOTJOB', 'TOP', false],
  ];
  for (const [externalId, parent, billWithParent, deleted] of rows) {
    const [c] = await s.db
      .insert(customers)
      .values({
        tenantId,
        externalId,
        name: externalId,
        parentExternalId: parent,
        billWithParent,
        ...(deleted ? { deletedAt: new Date('2026-11-01T00:00:00Z') } : {}),
      })
      .returning({ id: customers.id });
    ids.set(externalId, c!.id);
  }
});

describe('payersOfJobs on odd parent chains', () => {
  it('resolves chains to the top; a self-parent, a deleted parent and a non-job have no payer', async () => {
    const payers = await payersOfJobs(s.db, tenantId);
    const named = new Map([...ids].map(([k, v]) => [v, k]));
    const byName = Object.fromEntries([...payers].map(([job, payer]) => [named.get(job), named.get(payer)]));
    expect(byName.MID).toBe('TOP');
    expect(byName.LEAF).toBe('TOP');
    expect(byName.SELF).toBeUndefined();
    expect(byName.ORPHAN).toBeUndefined();
    expect(byName.NOTJOB).toBeUndefined();
    expect(byName.TOP).toBeUndefined();
    // Two jobs each the other's parent: each is the other's payer, as reminders' billedThrough resolves them, so each
    // pool (a payer's key) still holds one customer's invoices and credit: nothing is netted across the cycle.
    expect(byName.A).toBe('B');
    expect(byName.B).toBe('A');
  });
});
