/**
 * A CSV company's reminder held because its latest upload is too old (ledger_stale) waits for a newer upload, not
 * for the clock: nothing but an upload, a ledger connection or a policy change can end that hold. So no job
 * re-checks it every hour meanwhile, the sweep does not re-enqueue it, and the Dashboard's "Sending today" counts it
 * apart ("held until a new upload", `heldForUpload`), not in "to send" nor "from earlier days still waiting".
 * Before, each held reminder was re-checked hourly for ever (a job, locks, a re-check and a row write an hour per
 * reminder, for weeks when a company stopped uploading) and its send time moved an hour ahead each time, so it
 * counted in "to send" every day although nothing would go out.
 */
import { eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { insertPolicyVersion } from '../../src/db/queries/dunning-settings';
import { connections, dunningSendBatches, invoices, syncRuns } from '../../src/db/schema';
import { defaultSettings } from '../../src/dunning/dunning-config';
import { planTenant } from '../../src/dunning/engine';
import { DEFAULT_POLICY } from '../../src/dunning/policy';
import { sendDue } from '../../src/dunning/send-batch';
import { sendMessage } from '../../src/dunning/send-message';
import { sweepStaleMessages } from '../../src/dunning/send-sweep';
import { sendingToday } from '../../src/dunning/sending-today';
import { importWritten } from '../../src/jobs/workflow';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { ledgerRows, tenantRow } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';
import { freshPlan, noSleep, rowOf, sendPathSuite, singleInvoiceMessage, waitingJobs } from './helpers';

const env = sendPathSuite();
/** Friday Jul 5, 2013, 10:00 UTC: the fixture ledger was uploaded on Monday Jul 1 (00:00 UTC), 4 days before. */
const FRIDAY = '2013-07-05T10:00:00Z';

async function heldOnFriday() {
  await env.s.db.delete(syncRuns).where(eq(syncRuns.tenantId, env.tenantId));
  await env.s.db.delete(connections).where(eq(connections.tenantId, env.tenantId));
  const m = await singleInvoiceMessage(env);
  const sendAt = m.sendAt;
  env.clock.set(FRIDAY);
  // The job that runs this send is used up by it (a worker took it).
  await env.s.db.execute(sql`delete from pgboss.job where name = 'dunning-send'`);
  const r = await sendMessage(env.s, m.id, { transport: env.transport, sleep: noSleep });
  expect(r).toMatchObject({ outcome: 'held', code: 'ledger_stale' });
  return { m, sendAt };
}

const today = async () => sendingToday(env.s, await tenantRow(env.s, env.tenantId));

describe('a reminder held until a newer upload', () => {
  it('has no hourly job, is not swept back, and counts apart on the Dashboard', async () => {
    const { m, sendAt } = await heldOnFriday();
    const held = await rowOf(env.s, m.id);
    expect(held).toMatchObject({ status: 'queued', statusCode: 'ledger_stale' });
    expect(held.sendAt.toISOString(), 'keeps its send time').toBe(sendAt.toISOString());
    expect(await waitingJobs(env.s, m.id), 'no job re-checks it by the clock').toBe(0);

    // Hours pass: the sweep finds it queued past its time with no job, and leaves it.
    env.clock.set('2013-07-05T13:00:00Z');
    const swept = await sweepStaleMessages(env.s);
    expect(swept.requeued).not.toContain(m.id);
    expect(await waitingJobs(env.s, m.id)).toBe(0);

    const t = await today();
    expect(t.heldForUpload).toBeGreaterThanOrEqual(1);
    expect(t.toSend.map((x) => x.id)).not.toContain(m.id);
    const queuedToday = (await env.s.db.query.dunningMessages.findMany()).filter(
      (x) => x.status === 'queued' && x.statusCode !== 'ledger_stale',
    );
    // "To send" and "from earlier days" count only what can go out.
    expect(t.toSendCount + t.overdue).toBeLessThanOrEqual(queuedToday.length);

    // A newer upload releases it at once, with a job.
    await importHistoryCsv(env.s.db, csv(ledgerRows()), {
      tenantName: 'Acme',
      now: env.s.clock.now(),
      afterWrite: importWritten(env.s),
    });
    const released = await rowOf(env.s, m.id);
    expect(released.sendAt.toISOString()).toBe('2013-07-05T13:00:00.000Z');
    expect(await waitingJobs(env.s, m.id)).toBeGreaterThan(0);
    expect((await today()).heldForUpload).toBe(0);
  });

  it('a ledger connected since releases it at the next plan (read live from then on)', async () => {
    const { m } = await heldOnFriday();
    expect(await waitingJobs(env.s, m.id)).toBe(0);
    await env.s.db.insert(connections).values({
      tenantId: env.tenantId,
      provider: 'quickbooks',
      externalId: 'realm-held-for-upload',
      status: 'active',
      credentialsVersion: 1,
    });
    await planTenant(env.s, env.tenantId);
    const released = await rowOf(env.s, m.id);
    expect(released.status).toBe('queued');
    expect(released.sendAt.toISOString()).toBe(env.clock.now().toISOString());
    expect(await waitingJobs(env.s, m.id)).toBeGreaterThan(0);
  });

  it('does not join other messages’ batches (MAIL_BATCH): they go out, it stays held untouched', async () => {
    await env.s.db.delete(syncRuns).where(eq(syncRuns.tenantId, env.tenantId));
    await env.s.db.delete(connections).where(eq(connections.tenantId, env.tenantId));
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    const held = queued.find((m) => m.invoiceIds.length === 1)!;
    const other = queued.find((m) => m.id !== held.id && !m.invoiceIds.includes(held.invoiceIds[0]!))!;
    expect(other).toBeDefined();
    const [inv] = await env.s.db
      .select({ n: invoices.externalId })
      .from(invoices)
      .where(inArray(invoices.id, [held.invoiceIds[0]!]));
    // Friday: an export that leaves out the held reminder's invoice (this week's invoices only): its figures are the
    // Jul 1 upload's, too old; the others are Friday's.
    env.clock.set(FRIDAY);
    await importHistoryCsv(env.s.db, csv(ledgerRows().filter((row) => row[1] !== inv!.n)), {
      tenantName: 'Acme',
      now: env.s.clock.now(),
      afterWrite: importWritten(env.s),
    });
    await env.s.db.execute(sql`delete from pgboss.job where name = 'dunning-send'`);
    expect(await sendMessage(env.s, held.id, { transport: env.transport, sleep: noSleep })).toMatchObject({
      outcome: 'held',
      code: 'ledger_stale',
    });
    const before = await rowOf(env.s, held.id);

    const r = await sendDue(env.s, other.id, { transport: env.transport, batching: true, sleep: noSleep });
    expect(r.outcome, JSON.stringify(r)).toBe('sent');
    expect(env.standIn.deliveriesOf(other.id)).toHaveLength(1);
    const batches = await env.s.db.select().from(dunningSendBatches);
    for (const b of batches) expect(b.memberIds).not.toContain(held.id);
    const after = await rowOf(env.s, held.id);
    expect(after).toMatchObject({ status: 'queued', statusCode: 'ledger_stale', batchId: null });
    expect(after.updatedAt.toISOString(), 'not claimed, re-checked and held again').toBe(
      before.updatedAt.toISOString(),
    );
    expect(env.standIn.deliveriesOf(held.id)).toHaveLength(0);
  });

  it('a higher upload age limit saved with the policy plans it again, with a job (as PUT …/dunning/policy does)', async () => {
    const { m } = await heldOnFriday();
    const { s, tenantId } = env;
    const save = (maxUploadAgeDays: number) =>
      s.db.transaction(async (tx) => {
        await insertPolicyVersion(tx, tenantId, {
          policy: DEFAULT_POLICY as unknown as Record<string, unknown>,
          settings: { ...defaultSettings({ timezone: 'UTC' }), maxUploadAgeDays },
          createdBy: 'test',
        });
        await s.dunning.replanPending(tx, tenantId);
      });
    await save(7);
    try {
      const queued = (await s.db.query.dunningMessages.findMany()).filter(
        (x) => x.status === 'queued' && x.kind === 'reminder',
      );
      // Its invoice is planned again (with whatever else is due for the debtor now), no longer held, with a job.
      const again = queued.find((x) => x.invoiceIds.includes(m.invoiceIds[0]!));
      expect(again, JSON.stringify(queued.map((x) => [x.id, x.invoiceIds, x.statusCode]))).toBeDefined();
      for (const q of queued) {
        expect(q.statusCode, q.id).not.toBe('ledger_stale');
        expect(await waitingJobs(s, q.id), q.id).toBeGreaterThan(0);
      }
      const r = await sendMessage(s, again!.id, { transport: env.transport, sleep: noSleep });
      expect(r, JSON.stringify(r)).not.toMatchObject({ code: 'ledger_stale' });
    } finally {
      await save(3);
    }
  });
});
