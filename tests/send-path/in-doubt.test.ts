/**
 * "A payer is never chased" while a send is in doubt. A 5xx or a timeout leaves the first call "may have been
 * accepted", so every retry is a confirmation under the same key — and, when the first call was not in fact
 * accepted, the first delivery. A payment applied to the invoice meanwhile stops such a retry (unconfirmed, a person
 * checks); an unapplied payment or a credit note (credit on account) must stop it the same way: the invoice
 * balances do not move, so only the credit re-check can see it.
 */
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { customers, dunningMessages, dunningTasks } from '../../src/db/schema';
import { editMessage } from '../../src/dunning/approvals';
import { bulkDecideMessages } from '../../src/dunning/bulk';
import { planTenant } from '../../src/dunning/engine';
import { sendDue } from '../../src/dunning/send-batch';
import { IDEMPOTENCY_WINDOW_MS, sendMessage } from '../../src/dunning/send-message';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { ledgerRows } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';
import { freshPlan, noSleep, rowOf, sendPathSuite } from './helpers';

const env = sendPathSuite();

/** The credit notes a test added go, so the next test plans against the fixture ledger again. */
afterEach(async () => {
  await env.s.db.execute(sql`delete from credit_memos where external_id like 'csv-credit:%'`);
});

/** An unapplied credit note for the customer, as a sync or an export writes it: no invoice balance moves. */
async function creditNoteFor(customerId: string, amount: string) {
  const { s, tenantId } = env;
  const [c] = await s.db.select().from(customers).where(eq(customers.id, customerId));
  await importHistoryCsv(
    s.db,
    csv([
      ...ledgerRows(),
      [
        c!.externalId,
        `${c!.externalId}-CN1`,
        '2013-06-30',
        '2013-06-30',
        `-${amount}`,
        'USD',
        '',
        'email',
        'US',
      ],
    ]),
    { tenantName: 'Acme', tenantId, now: s.clock.now() },
  );
}

async function openBalanceOf(customerId: string): Promise<number> {
  const [r] = rowsOf<{ b: string | number }>(
    await env.s.db.execute(
      sql`select coalesce(sum(balance_minor), 0)::bigint as b from invoices where customer_id = ${customerId}::uuid and status = 'open'`,
    ),
  );
  return Number(r!.b);
}

describe('credit on account arriving while a send is in doubt', () => {
  it('single send: a 503, then a credit note covering the debt; the retry is not delivered, a person checks', async () => {
    const queued = await freshPlan(env);
    const m = queued.find((q) => q.invoiceIds.length === 1)!;
    const { s, standIn, transport, clock } = env;
    clock.set(m.sendAt);
    // Not accepted in fact; Duely cannot know that from a 503.
    standIn.queue.push({ kind: '5xx', status: 503, accepted: false });
    const owed = await openBalanceOf(m.customerId);
    const out = await sendMessage(s, m.id, {
      transport,
      // Between the in-call retries the debtor's payment lands on account, unapplied.
      sleep: async () => creditNoteFor(m.customerId, (owed / 100).toFixed(2)),
    });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(0);
    expect(out).toMatchObject({ outcome: 'unconfirmed' });
    expect((await rowOf(s, m.id)).status).toBe('unconfirmed');
    const tasks = await s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, m.id));
    expect(tasks.map((t) => t.kind)).toEqual(['review']);
  });

  it('batched: a 503 on the batch call, then a credit note for one member; that member is not delivered', async () => {
    const queued = (await freshPlan(env)).filter((q) => q.kind === 'reminder');
    const { s, standIn, transport, clock } = env;
    clock.set(new Date(Math.max(...queued.map((q) => q.sendAt.getTime()))));
    const payer = queued[0]!;
    standIn.queue.push({ kind: '5xx', status: 503, accepted: false });
    const owed = await openBalanceOf(payer.customerId);
    let paid = false;
    for (let i = 0; i < 40; i++) {
      const rows = await Promise.all(queued.map((q) => rowOf(s, q.id)));
      const open = rows.filter((r) => r.status === 'queued' || r.status === 'sending');
      if (open.length === 0) break;
      const next = Math.min(...open.map((r) => (r.leaseUntil ?? r.sendAt).getTime()));
      if (next > clock.now().getTime()) clock.set(new Date(next));
      await sendDue(s, open[0]!.id, {
        transport,
        batching: true,
        sleep: async () => {
          if (paid) return;
          paid = true;
          await creditNoteFor(payer.customerId, (owed / 100).toFixed(2));
        },
      });
    }
    expect(paid).toBe(true);
    expect(standIn.deliveriesOf(payer.id)).toHaveLength(0);
    expect((await rowOf(s, payer.id)).status).toBe('unconfirmed');
  });
});

describe('a reviewer skipping messages in bulk while one is in doubt', () => {
  it('the in-doubt message is not recorded "skipped" (it may have gone out): reported, and its send job resolves it', async () => {
    const queued = await freshPlan(env);
    const m = queued.find((q) => q.invoiceIds.length === 1)!;
    const { s, standIn, transport, clock, tenantId } = env;
    clock.set(m.sendAt);
    // Accepted and delivered, but the answer was lost: Duely has it in doubt, back in the queue for a retry.
    for (let i = 0; i < 3; i++) standIn.queue.push({ kind: '5xx', status: 503, accepted: true });
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ outcome: 'deferred' });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    const inDoubt = await rowOf(s, m.id);
    expect(inDoubt).toMatchObject({ status: 'queued' });
    expect(inDoubt.inDoubtSince).not.toBeNull();

    // "POST …/messages/bulk {action: skip}" over the queue, as the single skip route refuses it (409).
    const out = await bulkDecideMessages(s, 'skip', {
      tenantId,
      actor: 'reviewer@example.com',
      ids: queued.map((q) => q.id),
      request: {},
    });
    expect(out.appliedIds).not.toContain(m.id);
    expect(out.notApplied.map((n) => n.id)).toContain(m.id);
    expect((await rowOf(s, m.id)).status).toBe('queued');
    // Its job confirms it under the same key: recorded sent, delivered once.
    clock.set(new Date(Math.max(clock.now().getTime(), inDoubt.sendAt.getTime())));
    expect(clock.now().getTime() - inDoubt.inDoubtSince!.getTime()).toBeLessThan(IDEMPOTENCY_WINDOW_MS);
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ outcome: 'sent' });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });
});

/** A queued message whose first call was accepted but answered with a 503: in doubt, back in the queue. */
async function inDoubtMessage() {
  const queued = await freshPlan(env);
  const m = queued.find((q) => q.invoiceIds.length === 1)!;
  const { s, standIn, transport, clock } = env;
  clock.set(m.sendAt);
  for (let i = 0; i < 3; i++) standIn.queue.push({ kind: '5xx', status: 503, accepted: true });
  expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ outcome: 'deferred' });
  const row = await rowOf(s, m.id);
  expect(row).toMatchObject({ status: 'queued' });
  expect(row.inDoubtSince).not.toBeNull();
  return row;
}

describe('a reviewer editing a message in doubt', () => {
  it('is refused (409, saying it is in doubt): a new body under the same key would end "unconfirmed"', async () => {
    const m = await inDoubtMessage();
    const { s, standIn, transport, clock, tenantId } = env;
    await expect(
      editMessage(s, tenantId, m.id, 'reviewer@example.com', { intro: 'Changed while in doubt' }),
    ).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/in doubt/) });
    const after = await rowOf(s, m.id);
    expect(after).toMatchObject({ status: 'queued', editedIntro: null, html: m.html, text: m.text });
    // Its job confirms it under the same key, with the same bytes: recorded sent, delivered once.
    clock.set(new Date(Math.max(clock.now().getTime(), m.sendAt.getTime())));
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ outcome: 'sent' });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });
});

describe('approval expiry of a message in doubt', () => {
  it('is not logged "skipped" (it may have gone out): the log says it may have been sent, a person checks', async () => {
    const m = await inDoubtMessage();
    const { s, clock, tenantId } = env;
    // Waiting for a reviewer again while in doubt (as an approval reset leaves it), and nobody acts for 8 days.
    await s.db
      .update(dunningMessages)
      .set({ status: 'awaiting_approval', decidedAt: null, decidedBy: null })
      .where(eq(dunningMessages.id, m.id));
    clock.set(new Date(m.createdAt.getTime() + 8 * 86_400_000));
    await planTenant(s, tenantId);
    const after = await rowOf(s, m.id);
    expect(after.status).toBe('unconfirmed');
    expect(after.statusReason).toMatch(/may have been sent/i);
    expect(after.inDoubtSince).not.toBeNull();
    const tasks = await s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, m.id));
    expect(tasks.map((t) => t.kind)).toEqual(['review']);
  });
});
