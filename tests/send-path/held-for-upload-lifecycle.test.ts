/**
 * Outside review of the held-for-upload hold (ledger_stale, no job while held): whatever happens to the company while
 * a reminder waits for a newer upload (sending paused and resumed, weeks passing past the next step), the next upload
 * still sends each invoice's reminder, and no invoice is chased twice for it.
 */
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { connections, dunningMessages, syncRuns, tenants } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { applySendingSwitches } from '../../src/dunning/go-live';
import { sendMessage } from '../../src/dunning/send-message';
import { importWritten } from '../../src/jobs/workflow';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { ledgerRows, tenantRow } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';
import { noSleep, rowOf, runUntilSettled, sendPathSuite, singleInvoiceMessage, waitingJobs } from './helpers';

const env = sendPathSuite();
const FRIDAY = '2013-07-05T10:00:00Z';

async function heldOnFriday() {
  await env.s.db.delete(syncRuns).where(eq(syncRuns.tenantId, env.tenantId));
  await env.s.db.delete(connections).where(eq(connections.tenantId, env.tenantId));
  const m = await singleInvoiceMessage(env);
  env.clock.set(FRIDAY);
  await env.s.db.execute(sql`delete from pgboss.job where name = 'dunning-send'`);
  const r = await sendMessage(env.s, m.id, { transport: env.transport, sleep: noSleep });
  expect(r).toMatchObject({ outcome: 'held', code: 'ledger_stale' });
  return m;
}

/**
 * The company's current export: the fixture ledger plus an invoice issued that day, so the file is as new as its
 * upload (an export whose newest entry is over 30 days old holds reminders however recently it was uploaded).
 */
async function upload() {
  const today = env.s.clock.now().toISOString().slice(0, 10);
  const due = new Date(env.s.clock.now().getTime() + 30 * 86_400_000).toISOString().slice(0, 10);
  const fresh = ['NEWCO', `NEWCO-${today}`, today, due, '10.00', 'USD', '', 'email', 'US'];
  await importHistoryCsv(env.s.db, csv([...ledgerRows(), fresh]), {
    tenantName: 'Acme',
    now: env.s.clock.now(),
    afterWrite: importWritten(env.s),
  });
}

async function switchPaused(paused: boolean) {
  const before = await tenantRow(env.s, env.tenantId);
  await env.s.db.transaction(async (tx) => {
    await tx
      .update(tenants)
      .set({ settings: sql`${tenants.settings} || ${JSON.stringify({ sendingPaused: paused })}::jsonb` })
      .where(eq(tenants.id, env.tenantId));
    const [after] = await tx.select().from(tenants).where(eq(tenants.id, env.tenantId));
    await applySendingSwitches(env.s, tx, before, after!);
  });
}

/** Every unsent reminder covering `invoiceId`. */
async function pendingFor(invoiceId: string) {
  return (await env.s.db.select().from(dunningMessages)).filter(
    (x) =>
      x.kind === 'reminder' &&
      x.invoiceIds.includes(invoiceId) &&
      ['queued', 'planned', 'awaiting_approval', 'sending'].includes(x.status),
  );
}

describe('a reminder held until a newer upload, as the company goes on', () => {
  it('paused and resumed while held: it comes back held or with a job, and the next upload sends it', async () => {
    const m = await heldOnFriday();
    const inv = m.invoiceIds[0]!;
    await switchPaused(true);
    await switchPaused(false);
    for (const p of await pendingFor(inv)) {
      if (p.status !== 'queued') continue;
      if (p.statusCode === 'ledger_stale') continue;
      expect(await waitingJobs(env.s, p.id), `${p.id} queued with no job`).toBeGreaterThan(0);
    }
    // Its resumed send job (if any) runs: held again, no job.
    for (const p of await pendingFor(inv))
      if (p.status === 'queued') await sendMessage(env.s, p.id, { transport: env.transport, sleep: noSleep });
    env.clock.set('2013-07-05T13:00:00Z');
    await upload();
    const pend = await pendingFor(inv);
    expect(pend.length, JSON.stringify(pend.map((p) => [p.id, p.status, p.statusCode]))).toBeGreaterThan(0);
    for (const p of pend) {
      expect(p.statusCode).not.toBe('ledger_stale');
      if (p.status === 'queued') expect(await waitingJobs(env.s, p.id)).toBeGreaterThan(0);
    }
  });

  it('weeks pass while held and the planner runs: the upload then chases each invoice once', async () => {
    const m = await heldOnFriday();
    const inv = m.invoiceIds[0]!;
    // Three weeks without an upload, the planner running every few days.
    for (let d = 8; d <= 26; d += 3) {
      env.clock.set(`2013-07-${String(d).padStart(2, '0')}T10:00:00Z`);
      await planTenant(env.s, env.tenantId);
    }
    const before = await pendingFor(inv);
    expect(before.length, JSON.stringify(before.map((p) => [p.id, p.status, p.statusCode]))).toBe(1);
    await upload();
    const after = await pendingFor(inv);
    expect(after.length, JSON.stringify(after.map((p) => [p.id, p.status, p.statusCode]))).toBe(1);
    for (const p of after) await runUntilSettled(env, p.id);
    const sent = (await env.s.db.select().from(dunningMessages)).filter(
      (x) => x.kind === 'reminder' && x.invoiceIds.includes(inv) && x.status === 'sent' && x.id !== m.id,
    );
    const all = (await env.s.db.select().from(dunningMessages)).filter(
      (x) => x.kind === 'reminder' && x.invoiceIds.includes(inv) && x.status === 'sent',
    );
    expect(all.length, JSON.stringify({ sent: sent.map((x) => x.id) })).toBe(1);
    expect((await rowOf(env.s, all[0]!.id)).status).toBe('sent');
  });
});
