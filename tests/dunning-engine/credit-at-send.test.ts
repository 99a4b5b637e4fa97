/**
 * "A payer is never chased", for a payer whose money is not applied to an invoice yet. A reminder approved with
 * the figures of its planning day, then an unapplied payment or a credit note arrives (as a sync writes it): no
 * invoice balance moves, so the live invoice re-check before the send saw nothing and the approved email went out
 * asking for the full amount (s27-day1's open gap). Now the send re-checks the customer's credit on account: grown
 * since planning, the message is not sent and is planned again with it (held for a reviewer with the credit named,
 * or not written at all when the credit covers what is open).
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { csv } from '../helpers/csv';
import { approveAll, customerId, ledgerRows, messagesOf, RecordingTransport, setup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
}, 120_000);
afterAll(async () => {
  await s?.close();
});

async function queuedOf(externalId: string) {
  const id = await customerId(s, externalId);
  const [m] = (await messagesOf(s, tenantId)).filter((x) => x.customerId === id && x.status === 'queued');
  expect(m, `a queued message for ${externalId}`).toBeDefined();
  return m!;
}

/** Credit notes as the ledger (here a CSV export; a sync writes the same rows) carries them: unapplied. */
async function creditNote(externalId: string, id: string, amount: string) {
  await importHistoryCsv(
    s.db,
    csv([
      ...ledgerRows(),
      [externalId, id, '2013-06-30', '2013-06-30', `-${amount}`, 'USD', '', 'email', 'US'],
    ]),
    { tenantName: 'Acme', tenantId, now: s.clock.now() },
  );
}

async function sendNow(messageId: string, transport: RecordingTransport) {
  await s.db
    .update(dunningMessages)
    .set({ status: 'queued', sendAt: clock.now() })
    .where(eq(dunningMessages.id, messageId));
  return sendMessage(s, messageId, { transport });
}

describe('credit on account that arrives after approval', () => {
  it('an approved reminder is not sent with the old figures; planned again with the credit, then sent once approved', async () => {
    clock.set('2013-07-01T10:00:00Z');
    const m = await queuedOf('SLOW');
    expect(m.decidedAt).not.toBeNull();
    expect((m.snapshot as { credits?: unknown }).credits).toBeUndefined();

    await creditNote('SLOW', 'SLOW-CN1', '500.00');
    const transport = new RecordingTransport();
    expect(await sendNow(m.id, transport)).toMatchObject({ outcome: 'skipped', code: 'credit_on_account' });
    expect(transport.calls).toEqual([]);
    const [skipped] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect(skipped!.statusReason).toContain('$500.00');

    // Planned again: the earlier approval does not carry over (the email now states the credit); the reviewer sees
    // the credit, and the email says what it leaves to pay.
    await planTenant(s, tenantId);
    const again = (await messagesOf(s, tenantId)).filter(
      (x) => x.customerId === m.customerId && x.status === 'awaiting_approval',
    );
    expect(again).toHaveLength(1);
    expect(again[0]!.approvalReason).toContain('$500.00 of unapplied payments and credits on account');
    expect((again[0]!.snapshot as { credits?: unknown }).credits).toEqual([
      { currency: 'USD', creditMinor: 50_000 },
    ]);

    // Approved with the credit in view, nothing new since: it goes, once.
    await approveAll(s, tenantId);
    const approved = await queuedOf('SLOW');
    expect(await sendNow(approved.id, transport)).toMatchObject({ outcome: 'sent' });
    expect(transport.deliveries).toHaveLength(1);
    expect(transport.deliveries[0]!.text).toContain('$500.00');
  });

  it('credit that covers everything open: the approved reminder is not sent and nothing is planned instead', async () => {
    clock.set('2013-07-01T10:00:00Z');
    const m = await queuedOf('MID');
    await creditNote('MID', 'MID-CN1', '100000.00');
    const transport = new RecordingTransport();
    expect(await sendNow(m.id, transport)).toMatchObject({ outcome: 'skipped', code: 'credit_on_account' });
    expect(transport.calls).toEqual([]);
    const r = await planTenant(s, tenantId);
    expect(r.decisions.find((d) => d.customerId === m.customerId)).toMatchObject({
      code: 'credit_on_account',
    });
    const pending = (await messagesOf(s, tenantId)).filter(
      (x) => x.customerId === m.customerId && ['queued', 'awaiting_approval', 'planned'].includes(x.status),
    );
    expect(pending).toEqual([]);
  });
});
