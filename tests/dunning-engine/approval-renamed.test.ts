/**
 * An approval covers what the debtor reads, their name too: a customer renamed in the ledger after a reviewer
 * approved a reminder is not greeted by the new name nobody approved. The send takes it back to approval, saying why,
 * and shows the reviewer the message as it will now read; approved again, it goes. A message the sync left alone goes
 * as approved. Messages approved before the name was part of the approval (no `debtor` in their snapshot) are not
 * all sent back to approval: they are compared on what they stored. Runs on PGlite and Postgres.
 */
import { and, eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { connections, customers, dunningMessages, syncRuns, tenants } from '../../src/db/schema';
import { approvalVersion, planTenant } from '../../src/dunning/engine';
import { applySendingSwitches } from '../../src/dunning/go-live';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import {
  approveAll,
  customerId,
  messagesOf,
  RecordingTransport,
  setup,
  syncCustomerChange,
  tenantRow,
} from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
  // A ledger that names its customers (the fixture's file names them by account number only).
  await s.db.execute(sql`
    update customers set name = initcap(lower(external_id)) || ' Traders Ltd' where tenant_id = ${tenantId}::uuid`);
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
}, 120_000);

/** A sync page carrying the customer under a new name, as the sync writes it (the connection then removed). */
async function renameInLedger(externalId: string, name: string) {
  const [conn] = await s.db
    .insert(connections)
    .values({ tenantId, provider: 'quickbooks', externalId: `rename-${externalId}` })
    .returning({ id: connections.id });
  const [run] = await s.db
    .insert(syncRuns)
    .values({ tenantId, connectionId: conn!.id, kind: 'incremental' })
    .returning({ id: syncRuns.id });
  const [c] = await s.db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.tenantId, tenantId), eq(customers.externalId, externalId)));
  await syncCustomerChange(s, { tenantId, connectionId: conn!.id, syncRunId: run!.id }, externalId, { name });
  // The company stays a CSV company: its sends read the uploaded rows, not a live ledger.
  await s.db.delete(syncRuns).where(eq(syncRuns.id, run!.id));
  await s.db.delete(connections).where(eq(connections.id, conn!.id));
  const [after] = await s.db.select({ name: customers.name }).from(customers).where(eq(customers.id, c!.id));
  expect(after!.name).toBe(name);
}

/** The customer's approved reminder waiting to go. */
async function approvedOf(externalId: string) {
  const id = await customerId(s, externalId);
  const [m] = (await messagesOf(s, tenantId)).filter(
    (x) => x.customerId === id && x.kind === 'reminder' && x.status === 'queued' && x.requiresApproval,
  );
  expect(m?.decidedAt, `${externalId} has an approved reminder`).toBeTruthy();
  return m!;
}

const rowOf = async (id: string) =>
  (await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, id)))[0]!;

describe('a customer renamed in the ledger after its reminder was approved', () => {
  it('goes back to approval with the reason; approved again, it greets the new name', async () => {
    const m = await approvedOf('SLOW');
    const before = approvalVersion({ ...m, snapshot: m.snapshot as never });
    await renameInLedger('SLOW', 'Slow Traders Group');
    clock.set(m.sendAt);
    const transport = new RecordingTransport();
    const out = await sendMessage(s, m.id, { transport });
    expect(out).toMatchObject({ outcome: 'held', code: 'awaiting_approval' });
    expect(transport.deliveries).toHaveLength(0);
    const held = await rowOf(m.id);
    expect(held).toMatchObject({ status: 'awaiting_approval', decidedAt: null, decidedBy: null });
    expect(held.statusReason).toContain('“Slow Traders Ltd” to “Slow Traders Group”');
    // What the reviewer now approves is the message as it will read: another version than the one approved.
    expect(approvalVersion({ ...held, snapshot: held.snapshot as never })).not.toBe(before);

    await approveAll(s, tenantId);
    expect(await sendMessage(s, m.id, { transport })).toMatchObject({ outcome: 'sent' });
    expect(transport.deliveries).toHaveLength(1);
    expect(transport.deliveries[0]!.text).toContain('Slow Traders Group');
  });

  it('a customer the sync did not rename: sent as approved', async () => {
    const m = await approvedOf('MID');
    await renameInLedger('MID', 'Mid Traders Ltd');
    clock.set(m.sendAt);
    const transport = new RecordingTransport();
    expect(await sendMessage(s, m.id, { transport })).toMatchObject({ outcome: 'sent' });
    expect(transport.deliveries[0]!.text).toContain('Mid Traders Ltd');
  });
});

describe('a reminder approved before the approval covered the name (no debtor in its snapshot)', () => {
  async function switchPaused(paused: boolean) {
    const before = await tenantRow(s, tenantId);
    await s.db.transaction(async (tx) => {
      await tx
        .update(tenants)
        .set({ settings: sql`${tenants.settings} || ${JSON.stringify({ sendingPaused: paused })}::jsonb` })
        .where(eq(tenants.id, tenantId));
      const [after] = await tx.select().from(tenants).where(eq(tenants.id, tenantId));
      await applySendingSwitches(s, tx, before, after!);
    });
  }

  it('keeps its approval when planned again (sending paused and resumed), and is sent, renamed or not', async () => {
    ({ s, clock, tenantId } = await setup());
    await s.db.execute(sql`
      update customers set name = initcap(lower(external_id)) || ' Traders Ltd' where tenant_id = ${tenantId}::uuid`);
    await planTenant(s, tenantId);
    await approveAll(s, tenantId);
    // As stored before this change.
    await s.db.execute(sql`
      update dunning_messages set snapshot = snapshot - 'debtor' where tenant_id = ${tenantId}::uuid`);
    const old = await approvedOf('SLOW');
    await switchPaused(true);
    await switchPaused(false);
    const replanned = await approvedOf('SLOW');
    expect(replanned.id).toBe(old.id);
    expect(replanned.decidedBy).toBe('reviewer');
    // Its approval carried over to the plan, which now stores the name: from here on it is covered.
    expect((replanned.snapshot as { debtor?: { name: string } }).debtor?.name).toBe('Slow Traders Ltd');

    const mid = await approvedOf('MID');
    await s.db.execute(sql`update dunning_messages set snapshot = snapshot - 'debtor' where id = ${mid.id}`);
    await renameInLedger('MID', 'Mid Traders Group');
    clock.set(mid.sendAt);
    const transport = new RecordingTransport();
    expect(await sendMessage(s, mid.id, { transport })).toMatchObject({ outcome: 'sent' });
  });
});
