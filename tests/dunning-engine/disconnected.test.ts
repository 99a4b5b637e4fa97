/**
 * A company disconnected from its accounting system (Disconnect in Duely, or in QuickBooks) has a frozen ledger: a
 * payment made since would never show, so nothing is planned and a queued reminder is skipped, not sent. A
 * connection that only needs reconnecting holds instead (tests/dunning/suppression.test.ts).
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { connections, dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, messagesOf, RecordingTransport, setup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
}, 120_000);
afterAll(async () => {
  await s?.close();
});

const setConnection = (status: 'active' | 'disconnected') =>
  s.db.update(connections).set({ status }).where(eq(connections.tenantId, tenantId));

describe('a disconnected company', () => {
  it('a queued reminder is skipped with the reason, and nothing reaches the debtor', async () => {
    await s.db.insert(connections).values({
      tenantId,
      provider: 'quickbooks',
      externalId: 'realm-disconnected',
      status: 'active',
      credentialsVersion: 1,
    });
    await planTenant(s, tenantId);
    await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
    const [m] = (await messagesOf(s, tenantId)).filter((x) => x.status === 'queued');
    expect(m).toBeDefined();

    await setConnection('disconnected');
    clock.set(m!.sendAt);
    const transport = new RecordingTransport();
    const r = await sendMessage(s, m!.id, { transport });
    expect(r).toMatchObject({ outcome: 'skipped', code: 'connection_disconnected' });
    expect(transport.calls).toEqual([]);
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    expect(row).toMatchObject({ status: 'skipped', statusCode: 'connection_disconnected' });
  });

  it('plans nothing while every connection is disconnected, and plans again once connected', async () => {
    await s.db.delete(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
    const off = await planTenant(s, tenantId);
    expect(off.inserted).toEqual([]);
    expect(await messagesOf(s, tenantId)).toEqual([]);

    await setConnection('active');
    const on = await planTenant(s, tenantId);
    expect(on.inserted.length).toBeGreaterThan(0);
  });
});
