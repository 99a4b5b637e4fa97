/**
 * A debtor whose credit on account covers everything open is not written to (decision credit_on_account), and the
 * reason said "apply them in the ledger" — in a decision nobody reads. Nothing told the team, so the credit stayed
 * unapplied and the invoices open. Now the team gets a review task on the call list naming the credit and the
 * invoices it can settle: one per customer and credit state, not one per planning run; no email to the debtor.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { customers, dunningTasks, invoices, payments } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { completeTask } from '../../src/dunning/tasks';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { csv } from '../helpers/csv';
import { customerId, ledgerRows, messagesOf, setup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let mid: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
  // MID owes 800.00 (MID-O, 15 days overdue) and holds an 800.00 credit note, unapplied.
  await importHistoryCsv(
    s.db,
    csv([
      ...ledgerRows(),
      ['MID', 'MID-CN', '2013-06-20', '2013-06-20', '-800.00', 'USD', '', 'email', 'US'],
    ]),
    { tenantName: 'Acme', tenantId, now: s.clock.now() },
  );
  mid = await customerId(s, 'MID');
}, 120_000);
afterAll(async () => {
  await s?.close();
});

const tasksOf = (customer: string) =>
  s.db
    .select()
    .from(dunningTasks)
    .where(and(eq(dunningTasks.tenantId, tenantId), eq(dunningTasks.customerId, customer)));

describe('credit on account covering a debtor: the team is asked to apply it', () => {
  it('one review task naming the credit and the invoices; a re-plan opens no second one; no email', async () => {
    const r = await planTenant(s, tenantId);
    expect(r.decisions.find((d) => d.customerId === mid)?.code).toBe('credit_on_account');
    const tasks = await tasksOf(mid);
    expect(tasks).toHaveLength(1);
    const t = tasks[0]!;
    expect(t).toMatchObject({ kind: 'review', status: 'open', dueOn: '2013-07-01' });
    expect(t.title).toContain("Apply MID's credit on account in the ledger: $800.00");
    expect(t.title).toContain('MID-O ($800.00)');
    const [inv] = await s.db
      .select({ id: invoices.id })
      .from(invoices)
      .where(eq(invoices.externalId, 'MID-O'));
    expect(t.invoiceIds).toEqual([inv!.id]);
    expect(t.talkingPoints.creditOnAccount).toMatchObject({
      credits: [{ currency: 'USD', creditMinor: 80_000 }],
      invoices: [{ number: 'MID-O', openBalanceMinor: 80_000 }],
    });

    clock.set('2013-07-02T09:00:00Z');
    await planTenant(s, tenantId);
    clock.set('2013-07-03T09:00:00Z');
    await planTenant(s, tenantId);
    expect(await tasksOf(mid)).toHaveLength(1);
    expect((await messagesOf(s, tenantId)).filter((m) => m.customerId === mid)).toEqual([]);
  });

  it('a changed credit replaces the task; a task done for a state is not opened again for it', async () => {
    // A further unapplied payment: the credit is now 900.00.
    await s.db.insert(payments).values({
      tenantId,
      customerId: mid,
      externalId: 'P-MID-9',
      date: '2013-07-02',
      currency: 'USD',
      amountMinor: 10_000,
      unappliedMinor: 10_000,
    });
    await planTenant(s, tenantId);
    const tasks = await tasksOf(mid);
    const open = tasks.filter((t) => t.status === 'open');
    expect(open).toHaveLength(1);
    expect(open[0]!.title).toContain('$900.00');
    expect(tasks.filter((t) => t.status === 'done')).toMatchObject([{ doneBy: 'duely' }]);

    expect(
      await completeTask(s.db, tenantId, open[0]!.id, 'ana', 'will apply at month end', clock.now()),
    ).toBe(true);
    await planTenant(s, tenantId);
    expect((await tasksOf(mid)).filter((t) => t.status === 'open')).toEqual([]);
    expect((await messagesOf(s, tenantId)).filter((m) => m.customerId === mid)).toEqual([]);
  });

  it('a covered debtor without an address gets the credit task, not "find a contact"; an uncovered one still does', async () => {
    // MID loses its address and gains more credit (a new credit state); SLOW (owes, no credit) loses its address too.
    await s.db.update(customers).set({ emails: [] }).where(eq(customers.id, mid));
    const slow = await customerId(s, 'SLOW');
    await s.db.update(customers).set({ emails: [] }).where(eq(customers.id, slow));
    await s.db.insert(payments).values({
      tenantId,
      customerId: mid,
      externalId: 'P-MID-10',
      date: '2013-07-03',
      currency: 'USD',
      amountMinor: 5_000,
      unappliedMinor: 5_000,
    });
    const r = await planTenant(s, tenantId);
    expect(r.decisions.find((d) => d.customerId === mid)?.code).toBe('credit_on_account');
    const midOpen = (await tasksOf(mid)).filter((t) => t.status === 'open');
    expect(midOpen.map((t) => t.kind)).toEqual(['review']);
    expect(midOpen[0]!.title).toContain('$950.00');
    expect(r.decisions.find((d) => d.customerId === slow)?.code).toBe('no_contact');
    expect((await tasksOf(slow)).filter((t) => t.status === 'open').map((t) => t.kind)).toEqual([
      'find_contact',
    ]);
  });
});
