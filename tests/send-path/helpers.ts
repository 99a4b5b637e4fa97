import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { dunningMessages, dunningSendBatches, dunningTasks } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { sendMessageJob } from '../../src/jobs/dunning-jobs';
import { ResendTransport } from '../../src/mail/resend';
import type { Services } from '../../src/services';
import { approveAll, importLedger, messagesOf, setup } from '../dunning-engine/fixtures';
import { ResendStandIn } from './resend-stand-in';

export interface SendPathEnv {
  s: Services;
  clock: ManualClock;
  tenantId: string;
  standIn: ResendStandIn;
  transport: ResendTransport;
}

/** Services on a fresh database with the fixture ledger, and a Resend stand-in on the app's clock. */
export async function sendPathEnv(opts: { timeoutMs?: number } = {}): Promise<SendPathEnv> {
  const { s, clock, tenantId } = await setup({ env: { RESEND_API_KEY: 're_test_standin' } });
  const standIn = await new ResendStandIn(() => clock.now().getTime()).start();
  const transport = new ResendTransport({
    apiKey: 're_test_standin',
    baseUrl: standIn.url,
    // Generous: a loaded CI machine must not turn an ordinary answer into a timeout.
    timeoutMs: opts.timeoutMs ?? 3_000,
  });
  return { s, clock, tenantId, standIn, transport };
}

/**
 * A test file's send-path environment: made before its first test, closed after its last. The object is filled in
 * by the file's beforeAll, so read its fields inside tests, not at the top level.
 */
export function sendPathSuite(opts: { timeoutMs?: number } = {}): SendPathEnv {
  const env = {} as SendPathEnv;
  beforeAll(async () => {
    Object.assign(env, await sendPathEnv(opts));
  }, 120_000);
  afterAll(async () => {
    await env.standIn?.stop();
    await env.s?.close();
  });
  return env;
}

/** Ledger back to nothing paid, dunning rows and jobs cleared, planned afresh; the queued messages. */
export async function freshPlan(env: SendPathEnv) {
  const { s, clock, tenantId, standIn } = env;
  clock.set('2013-07-01T00:00:00Z');
  // A slow request an earlier test's client gave up on may still be delivering: its delivery (the same message ids,
  // planned again) must not land in this round.
  await standIn.idle();
  standIn.reset();
  await importLedger(s);
  await s.db.delete(dunningTasks).where(eq(dunningTasks.tenantId, tenantId));
  await s.db.delete(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
  await s.db.delete(dunningSendBatches);
  await s.db.execute(sql`delete from pgboss.job where name like 'dunning-%'`);
  await planTenant(s, tenantId);
  // Day one: the test ledger's old debt is a catch-up a reviewer approves before anything is queued.
  await approveAll(s, tenantId);
  return (await messagesOf(s, tenantId)).filter((m) => m.status === 'queued');
}

/** What a sync or import does when a payment, credit memo or amendment lands: the invoice row changes. */
export async function settle(s: Services, invoiceId: string, balanceMinor: number): Promise<void> {
  await s.db.transaction(async (tx) => {
    await tx.execute(sql`
      update invoices set balance_minor = ${balanceMinor},
        status = case when ${balanceMinor}::bigint <= 0 then 'paid' else 'open' end,
        updated_at = now()
      where id = ${invoiceId}::uuid`);
  });
}

export async function rowOf(s: Services, id: string) {
  const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
  return row!;
}

export async function balanceOf(s: Services, invoiceId: string): Promise<number> {
  const [r] = rowsOf<{ b: number | string }>(
    await s.db.execute(sql`select balance_minor as b from invoices where id = ${invoiceId}::uuid`),
  );
  return Number(r!.b);
}

/** Send jobs still waiting to run for a message. */
export async function waitingJobs(s: Services, messageId: string): Promise<number> {
  return (await s.queue.findJobs(sendMessageJob.name, { data: { messageId }, queued: true })).length;
}

export const noSleep = async () => {};

/** A fresh plan's first single-invoice message, with the clock at its send time. */
export async function singleInvoiceMessage(env: SendPathEnv) {
  const queued = await freshPlan(env);
  const m = queued.find((q) => q.invoiceIds.length === 1)!;
  env.clock.set(m.sendAt);
  return m;
}

/** Runs the message's send job each time it is due, as the queue would, until it leaves 'queued' (or `max` runs). */
export async function runUntilSettled(env: SendPathEnv, id: string, max = 40) {
  const { s, clock, transport } = env;
  for (let i = 0; i < max; i++) {
    const row = await rowOf(s, id);
    if (row.status !== 'queued') return row;
    if (row.sendAt > clock.now()) clock.set(row.sendAt);
    await sendMessage(s, id, { transport, sleep: noSleep });
  }
  return rowOf(s, id);
}
