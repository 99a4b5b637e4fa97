import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { dunningMessageSteps, dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, importLedger, messagesOf, RecordingTransport, setup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
}, 120_000);
afterAll(async () => {
  await s?.close();
});

/** Resets the ledger (nothing paid), clears dunning rows and plans afresh; returns the queued messages. */
async function freshPlan() {
  clock.set('2013-07-01T00:00:00Z');
  await importLedger(s);
  await s.db.delete(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
  await planTenant(s, tenantId);
  await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
  return (await messagesOf(s, tenantId)).filter((m) => m.status === 'queued');
}

async function externalIdOf(invoiceId: string) {
  const [r] = rowsOf<{ external_id: string }>(
    await s.db.execute(sql`select external_id from invoices where id = ${invoiceId}::uuid`),
  );
  return r!.external_id;
}

describe('never twice', () => {
  it('a crash between the provider call and the DB update: the rerun does not deliver twice', async () => {
    const [m] = await freshPlan();
    clock.set(m!.sendAt);
    const transport = new RecordingTransport();
    await expect(
      sendMessage(s, m!.id, {
        transport,
        afterProviderCall: () => {
          throw new Error('worker killed');
        },
      }),
    ).rejects.toThrow('worker killed');
    const [mid] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    expect(mid!.status).toBe('sending');

    // A concurrent job inside the claimant's lease does not send, and does not end silently either: it leaves a
    // job for when the lease runs out.
    expect(await sendMessage(s, m!.id, { transport })).toEqual({ outcome: 'busy', until: mid!.leaseUntil });
    expect(transport.calls).toHaveLength(1);
    // After the lease (the job expired), pg-boss retries it: the message is re-claimed and handed over again under the same idempotency key.
    clock.advance(5 * 60_000);
    const again = await sendMessage(s, m!.id, { transport });
    expect(again).toEqual({ outcome: 'sent', providerId: 're_1' });
    expect(transport.calls.map((c) => c.id)).toEqual([m!.id, m!.id]);
    expect(transport.deliveries).toHaveLength(1);
    // And once sent, nothing reaches the transport again.
    expect(await sendMessage(s, m!.id, { transport })).toEqual({ outcome: 'noop', status: 'sent' });
    expect(transport.calls).toHaveLength(2);
  });

  it('a message stuck in sending beyond the provider idempotency window is not re-sent blindly', async () => {
    const [m] = await freshPlan();
    clock.set(m!.sendAt);
    const transport = new RecordingTransport();
    await expect(
      sendMessage(s, m!.id, {
        transport,
        afterProviderCall: () => {
          throw new Error('worker killed');
        },
      }),
    ).rejects.toThrow('worker killed');
    clock.advance(25 * 3_600_000);
    expect(await sendMessage(s, m!.id, { transport })).toMatchObject({
      outcome: 'unconfirmed',
      code: 'send_unknown',
    });
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    // Not 'failed': the provider may well have delivered it. A person checks.
    expect(row!.status).toBe('unconfirmed');
    expect(transport.calls).toHaveLength(1);
  });

  it('two send jobs for one message at once: exactly one delivery', async () => {
    const [m] = await freshPlan();
    clock.set(m!.sendAt);
    const transport = new RecordingTransport();
    const results = await Promise.all([
      sendMessage(s, m!.id, { transport }),
      sendMessage(s, m!.id, { transport }),
      sendMessage(s, m!.id, { transport }),
    ]);
    expect(results.filter((r) => r.outcome === 'sent')).toHaveLength(1);
    expect(transport.deliveries).toHaveLength(1);
  });
});

describe('race: a payment arriving while the send is due', () => {
  it('never emails about an invoice that was paid before the re-check committed (30 random interleavings)', async () => {
    let sentCount = 0;
    let skippedCount = 0;
    for (let round = 0; round < 30; round++) {
      const queued = await freshPlan();
      // A single-invoice message, so "paid" means nothing is owed.
      const m = queued.find((q) => q.invoiceIds.length === 1)!;
      clock.set(m.sendAt);
      const ext = await externalIdOf(m.invoiceIds[0]!);
      let paidCommittedAt = 0;
      let providerCalledAt = 0;
      let claimCommittedAt = 0;
      const transport = new RecordingTransport();
      const orig = transport.send.bind(transport);
      transport.send = async (msg) => {
        providerCalledAt = performance.now();
        return orig(msg);
      };
      const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const pay = (async () => {
        await delay(Math.random() * 15);
        await importLedger(s, { [ext]: '2013-07-01' });
        paidCommittedAt = performance.now();
      })();
      const send = (async () => {
        // The import takes longer than a send: spread the send's start across the import's duration.
        await delay(Math.random() * (s.dbh.kind === 'pglite' ? 15 : 60));
        return sendMessage(s, m.id, {
          transport,
          afterClaim: () => {
            claimCommittedAt = performance.now();
          },
        });
      })();
      const [, result] = await Promise.all([pay, send]);
      const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
      if (result.outcome === 'sent') {
        sentCount++;
        // Sent only if the payment committed after the send had claimed the message (the provider call follows
        // the claim's commit, and the import waited on the invoice row lock until then).
        expect(transport.deliveries).toHaveLength(1);
        expect(row!.status).toBe('sent');
        expect(claimCommittedAt).toBeGreaterThan(0);
        expect(paidCommittedAt).toBeGreaterThan(claimCommittedAt);
      } else {
        skippedCount++;
        expect(result).toMatchObject({ outcome: 'skipped', code: 'paid' });
        expect(transport.calls).toHaveLength(0);
        expect(row!.status).toBe('skipped');
        expect(providerCalledAt).toBe(0);
      }
    }
    expect(sentCount + skippedCount).toBe(30);
    console.log(`race: ${sentCount} sent (payment after the claim), ${skippedCount} skipped as paid`);
  }, 240_000);

  it('the import waits for a send that holds the invoice lock, and a send waits for an import in flight', async () => {
    const queued = await freshPlan();
    const m = queued.find((q) => q.invoiceIds.length === 1)!;
    clock.set(m.sendAt);
    const ext = await externalIdOf(m.invoiceIds[0]!);
    // Payment committed first → the send's locked re-read sees it, always.
    await importLedger(s, { [ext]: '2013-07-01' });
    const transport = new RecordingTransport();
    expect(await sendMessage(s, m.id, { transport })).toMatchObject({ outcome: 'skipped', code: 'paid' });
    expect(transport.calls).toHaveLength(0);
    // The step stays taken: planning again does not re-create the reminder for the paid invoice.
    await planTenant(s, tenantId);
    await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
    const steps = await s.db
      .select()
      .from(dunningMessageSteps)
      .where(eq(dunningMessageSteps.invoiceId, m.invoiceIds[0]!));
    expect(steps.every((st) => st.messageId === m.id || st.stepKey === 'receipt')).toBe(true);
  });
});
