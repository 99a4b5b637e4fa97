/**
 * Definite refusals from Resend, answered before anything is queued: the sender's account (401/403: the API key
 * missing, restricted or revoked, the sending domain not verified) and the email itself (422). An account refusal
 * says nothing about the reminder: it must wait for the key or domain to be fixed, not be given up. A refusal of the
 * email must not be retried, and the team must be told.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { dunningTasks } from '../../src/db/schema';
import { sendDue } from '../../src/dunning/send-batch';
import {
  HOLD_RETRY_MS,
  MAX_PROVIDER_ATTEMPTS,
  SENDING_LEASE_MS,
  sendMessage,
} from '../../src/dunning/send-message';
import { sweepStaleMessages } from '../../src/dunning/send-sweep';
import {
  freshPlan,
  noSleep,
  rowOf,
  runUntilSettled,
  sendPathSuite,
  settle,
  singleInvoiceMessage,
} from './helpers';

const env = sendPathSuite();

const ACCOUNT_REFUSALS = [
  { status: 401, name: 'missing_api_key' },
  { status: 401, name: 'restricted_api_key' },
  { status: 403, name: 'invalid_api_key' },
  // "The example.com domain is not verified" / "You can only send testing emails to your own email address".
  { status: 403, name: 'validation_error' },
] as const;

describe("the sender's account refused (401/403): the reminder waits for the fix, it is never given up", () => {
  for (const refusal of ACCOUNT_REFUSALS) {
    it(`${refusal.status} ${refusal.name}: queued again an hour later, the attempt given back; sent once after the fix`, async () => {
      const m = await singleInvoiceMessage(env);
      const { s, standIn, transport, clock } = env;
      // The key stays broken for longer than MAX_PROVIDER_ATTEMPTS hourly retries (an operator away for the night).
      for (let i = 0; i < MAX_PROVIDER_ATTEMPTS + 2; i++) standIn.queue.push({ kind: 'refused', ...refusal });
      const first = await sendMessage(s, m.id, { transport, sleep: noSleep });
      expect(first).toMatchObject({ outcome: 'deferred', code: 'retrying' });
      // Not hammered within the job: a key does not fix itself in a second.
      expect(standIn.requests).toHaveLength(1);
      const waiting = await rowOf(s, m.id);
      expect(waiting.status).toBe('queued');
      expect(waiting.attempts).toBe(0);
      expect(waiting.sendAt.getTime()).toBeGreaterThanOrEqual(clock.now().getTime() + HOLD_RETRY_MS);
      expect(waiting.statusReason).toContain(refusal.name);
      const row = await runUntilSettled(env, m.id);
      expect(row.status).toBe('sent');
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    });
  }

  it('batched (MAIL_BATCH=true): a 403 on the batch call fails no member; each goes once after the fix', async () => {
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    const { s, standIn, clock, transport } = env;
    clock.set(new Date(Math.max(...queued.map((m) => m.sendAt.getTime()))));
    for (let i = 0; i < MAX_PROVIDER_ATTEMPTS + 2; i++)
      standIn.queue.push({ kind: 'refused', status: 403, name: 'invalid_api_key' });
    for (let i = 0; i < 60; i++) {
      const rows = await Promise.all(queued.map((m) => rowOf(s, m.id)));
      expect(rows.filter((r) => r.status === 'failed').map((r) => r.statusReason)).toEqual([]);
      const open = rows.filter((r) => r.status === 'queued' || r.status === 'sending');
      if (open.length === 0) break;
      const next = Math.min(...open.map((r) => (r.leaseUntil ?? r.sendAt).getTime()));
      if (next > clock.now().getTime()) clock.set(new Date(next));
      await sendDue(s, open[0]!.id, { transport, batching: true, sleep: noSleep });
    }
    for (const m of queued) {
      expect((await rowOf(s, m.id)).status).toBe('sent');
      expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
    }
  });
});

describe('the email refused (422): not retried, and the team is told', () => {
  it('failed with the error, one request, and a review task on the call list naming it', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport } = env;
    standIn.queue.push({ kind: 'refused', status: 422, name: 'invalid_parameter' });
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({
      outcome: 'skipped',
      code: 'send_failed',
    });
    expect(standIn.requests).toHaveLength(1);
    expect(await rowOf(s, m.id)).toMatchObject({ status: 'failed' });
    const tasks = await s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, m.id));
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ kind: 'review', status: 'open' });
    expect(tasks[0]!.title).toMatch(/could not be sent/);
  });
});

describe('a worker killed after a refusal, before its next call', () => {
  it('429, killed while waiting to retry: the takeover knows nothing was accepted (a payment since is a plain skip, no review task)', async () => {
    const m = await singleInvoiceMessage(env);
    const { s, standIn, transport, clock } = env;
    standIn.queue.push({ kind: '429', retryAfterSeconds: 1 });
    await expect(
      sendMessage(s, m.id, {
        transport,
        sleep: async () => {
          throw new Error('worker killed');
        },
      }),
    ).rejects.toThrow('worker killed');
    expect(standIn.requests).toHaveLength(1);
    expect(standIn.deliveries).toHaveLength(0);
    // The debtor pays; the dead worker's lease runs out and the sweeper hands the message to a new job.
    await settle(s, m.invoiceIds[0]!, 0);
    clock.advance(SENDING_LEASE_MS + 1_000);
    expect((await sweepStaleMessages(s)).takenOver).toContain(m.id);
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({
      outcome: 'skipped',
      code: 'paid',
    });
    expect(standIn.deliveries).toHaveLength(0);
    const tasks = await s.db.select().from(dunningTasks).where(eq(dunningTasks.messageId, m.id));
    expect(tasks).toEqual([]);
  });
});
