import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { dunningMessageSteps, dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { approveAll, customerId, importLedger, messagesOf, setup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup());
  await scoreTenant(s, tenantId);
}, 120_000);
afterAll(async () => {
  await s?.close();
});

async function sendJobs() {
  return rowsOf<{ id: string; data: { messageId: string }; start_after: Date }>(
    await s.db.execute(sql`select id, data, start_after from pgboss.job where name = 'dunning-send'`),
  );
}

describe('planTenant on a CSV tenant', () => {
  it('plans one email per overdue customer with the reason, leaves a reliable payer alone', async () => {
    const r = await planTenant(s, tenantId);
    const msgs = await messagesOf(s, tenantId);
    const byCustomer = new Map(msgs.map((m) => [m.customerId, m]));
    const slow = byCustomer.get(await customerId(s, 'SLOW'));
    const mid = byCustomer.get(await customerId(s, 'MID'));
    expect(slow).toBeDefined();
    expect(mid).toBeDefined();
    expect(slow!.to).toEqual(['ap@slow.example']);
    expect(slow!.reason).toContain('SLOW-O');
    expect(slow!.reason).toMatch(/overdue/);
    expect(mid!.reason).toContain('MID-O');
    // One email per overdue customer, never two.
    expect(new Set(msgs.map((m) => m.customerId)).size).toBe(msgs.length);
    // The reliable payer (due in 2 days, low risk) gets no pre-due nudge: only when the model predicts lateness.
    const rely = await customerId(s, 'RELY');
    expect(byCustomer.has(rely)).toBe(false);
    const relyDecision = r.decisions.find((d) => d.customerId === rely)!;
    expect(relyDecision.outcome).toBe('nothing_due');
    // The not-yet-due customer is not chased.
    expect(byCustomer.has(await customerId(s, 'FUT'))).toBe(false);
    // Snapshot: "why this message, now".
    const snap = slow!.snapshot as {
      invoices: { number: string; openBalanceMinor: number }[];
      sequence: { id: string };
    };
    expect(snap.invoices[0]).toMatchObject({ number: 'SLOW-O', openBalanceMinor: 250000 });
    expect(snap.sequence.id).toBeTruthy();
    // Queued messages have a send job at their send time; held ones have none.
    const jobs = await sendJobs();
    const queued = msgs.filter((m) => m.status === 'queued');
    expect(jobs.map((j) => j.data.messageId).sort()).toEqual(queued.map((m) => m.id).sort());
    for (const m of msgs.filter((x) => x.status === 'awaiting_approval')) {
      expect(jobs.some((j) => j.data.messageId === m.id)).toBe(false);
    }
  });

  it('never twice: planning again adds no message, no step, no job', async () => {
    const before = await messagesOf(s, tenantId);
    const jobsBefore = await sendJobs();
    const again = await planTenant(s, tenantId);
    expect(again.inserted).toEqual([]);
    expect((await messagesOf(s, tenantId)).length).toBe(before.length);
    expect((await sendJobs()).length).toBe(jobsBefore.length);
    // The unique (tenant, invoice, step) key itself refuses a second row for the same step.
    const [step] = await s.db.select().from(dunningMessageSteps).limit(1);
    await expect(
      s.db.insert(dunningMessageSteps).values({ ...step!, messageId: step!.messageId }),
    ).rejects.toThrow();
  });

  it('sends to the local outbox at the send time: stored, provider id outbox:<id>', async () => {
    await approveAll(s, tenantId);
    const msgs = (await messagesOf(s, tenantId)).filter((m) => m.status === 'queued');
    const m = msgs[0]!;
    clock.set(m.sendAt);
    const out = await sendMessage(s, m.id);
    expect(out).toEqual({ outcome: 'sent', providerId: `outbox:${m.id}` });
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(row!.status).toBe('sent');
    expect(row!.subject).toBeTruthy();
    expect(row!.html).toContain('/u/');
    const snap = row!.snapshot as { invoices: { number: string }[] };
    expect(row!.text).toContain(snap.invoices[0]!.number);
    expect(row!.templateVersion).toMatch(/@/);
    // Sent is final: the job running again does nothing.
    expect(await sendMessage(s, m.id)).toEqual({ outcome: 'noop', status: 'sent' });
  });

  it('a payment cancels what was pending: the send job skips with reason paid', async () => {
    const pending = (await messagesOf(s, tenantId)).filter((m) => m.status === 'queued');
    expect(pending.length).toBeGreaterThan(0);
    const m = pending[0]!;
    const [inv] = rowsOf<{ external_id: string }>(
      await s.db.execute(sql`select external_id from invoices where id = ${m.invoiceIds[0]!}::uuid`),
    );
    await importLedger(s, { [inv!.external_id]: '2013-06-30' });
    clock.set(m.sendAt);
    const out = await sendMessage(s, m.id);
    expect(out).toMatchObject({ outcome: 'skipped', code: 'paid' });
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(row).toMatchObject({ status: 'skipped', statusCode: 'paid' });
    expect(row!.statusReason).toMatch(/is paid/);
  });
});
