/**
 * A CSV company has no live ledger: every reminder is checked against its latest upload. Sent from an upload days
 * old, a reminder chases a debtor who paid after the export was made. So a reminder waits (held, queued, not
 * skipped) while the upload is more than maxUploadAgeDays (3 by default) calendar days old, with the reason on the
 * row; a newer upload re-checks the held reminders at once, against the new rows.
 */
import { eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { insertPolicyVersion } from '../../src/db/queries/dunning-settings';
import { dunningSendBatches, invoices, syncRuns } from '../../src/db/schema';
import { defaultSettings } from '../../src/dunning/dunning-config';
import { DEFAULT_POLICY } from '../../src/dunning/policy';
import { sendDue } from '../../src/dunning/send-batch';
import { sendMessage } from '../../src/dunning/send-message';
import { importWritten } from '../../src/jobs/workflow';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { ledgerRows } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';
import { freshPlan, noSleep, rowOf, sendPathSuite, singleInvoiceMessage, waitingJobs } from './helpers';

const env = sendPathSuite();
/** Friday Jul 5, 2013, 10:00 UTC: the fixture ledger was uploaded on Monday Jul 1 (00:00 UTC), 4 days before. */
const FRIDAY = '2013-07-05T10:00:00Z';

/**
 * A newer export uploaded now, through the upload's own follow-up (importWritten), with `paid` invoices paid; `keep`
 * picks the rows the file lists (all of them unless given).
 */
async function upload(paid: Record<string, string> = {}, keep: (row: string[]) => boolean = () => true) {
  const { s } = env;
  return importHistoryCsv(s.db, csv(ledgerRows(paid).filter(keep)), {
    tenantName: 'Acme',
    now: s.clock.now(),
    afterWrite: importWritten(s),
  });
}

/** The fixture's plan after an upload on Jul 1 only (an earlier test's later upload forgotten). */
async function messageUploadedJul1() {
  await env.s.db.delete(syncRuns).where(eq(syncRuns.tenantId, env.tenantId));
  return singleInvoiceMessage(env);
}

async function numberOf(invoiceId: string): Promise<string> {
  const [r] = await env.s.db
    .select({ n: invoices.externalId })
    .from(invoices)
    .where(inArray(invoices.id, [invoiceId]));
  return r!.n;
}

describe('a CSV company whose latest upload is too old', () => {
  it('holds the reminder with the upload’s day and age; a newer upload showing the payment skips it', async () => {
    const m = await messageUploadedJul1();
    const { s, clock, transport, standIn } = env;
    clock.set(FRIDAY);
    const r = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(r).toMatchObject({ outcome: 'held', code: 'ledger_stale' });
    const held = await rowOf(s, m.id);
    expect(held.status).toBe('queued');
    expect(held.statusReason).toBe(
      'The ledger is the upload of Jul 1, 4 days old (reminders wait once it is over 3 days old): upload a newer export to send',
    );
    expect(standIn.deliveriesOf(m.id)).toHaveLength(0);

    // The debtor paid on Jul 3; the export uploaded now says so. The held reminder is due again at once.
    clock.set('2013-07-05T11:00:00Z');
    await upload({ [await numberOf(m.invoiceIds[0]!)]: '2013-07-03' });
    const released = await rowOf(s, m.id);
    expect(released.sendAt.toISOString()).toBe('2013-07-05T11:00:00.000Z');
    expect(await waitingJobs(s, m.id)).toBeGreaterThan(0);
    const after = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(after).toMatchObject({ outcome: 'skipped', code: 'paid' });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(0);
  });

  it('an old export uploaded today is held too: the file’s newest invoice or payment dates it, not the upload', async () => {
    const m = await messageUploadedJul1();
    const { s, clock, transport, standIn } = env;
    // Monday Sep 2: the same June export uploaded again this morning. The upload is fresh; its figures are not (its
    // newest entry is over 30 days old). It sent: a debtor who paid in July read that they still owe.
    clock.set('2013-09-02T09:00:00Z');
    await upload();
    clock.set('2013-09-02T10:00:00Z');
    const r = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(r).toMatchObject({ outcome: 'held', code: 'ledger_stale' });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(0);
    const held = await rowOf(s, m.id);
    expect(held.status).toBe('queued');
    expect(held.statusReason).toMatch(
      /^The ledger is the upload of Sep 2, an export whose newest invoice or payment is dated Jun \d+, \d+ days ago \(reminders wait while it has nothing in the last 30 days: a debtor may have paid since\): upload a current export to send$/,
    );
  });

  it('a newer upload in which the debt is still open sends the held reminder', async () => {
    const m = await messageUploadedJul1();
    const { s, clock, transport, standIn } = env;
    clock.set(FRIDAY);
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ code: 'ledger_stale' });
    await upload();
    const r = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(r.outcome).toBe('sent');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it('the limit is a dunning setting: with 7 days, a 4-day-old upload sends', async () => {
    const m = await messageUploadedJul1();
    const { s, clock, transport, tenantId } = env;
    await s.db.transaction((tx) =>
      insertPolicyVersion(tx, tenantId, {
        policy: DEFAULT_POLICY as unknown as Record<string, unknown>,
        settings: { ...defaultSettings({ timezone: 'UTC' }), maxUploadAgeDays: 7 },
        createdBy: 'test',
      }),
    );
    try {
      clock.set(FRIDAY);
      const r = await sendMessage(s, m.id, { transport, sleep: noSleep });
      expect(r.outcome).toBe('sent');
    } finally {
      await s.db.transaction((tx) =>
        insertPolicyVersion(tx, tenantId, {
          policy: DEFAULT_POLICY as unknown as Record<string, unknown>,
          settings: defaultSettings({ timezone: 'UTC' }),
          createdBy: 'test',
        }),
      );
    }
  });

  it('an upload within the limit sends as before (Jul 4: 3 days old)', async () => {
    const m = await messageUploadedJul1();
    const { s, clock, transport } = env;
    clock.set('2013-07-04T10:00:00Z');
    expect((await sendMessage(s, m.id, { transport, sleep: noSleep })).outcome).toBe('sent');
    // Nothing else waits on an upload.
    expect((await rowOf(s, m.id)).statusCode).toBe('ok');
  });

  it('an upload that does not list the reminder’s invoice leaves it held (its figures are still the old upload’s)', async () => {
    const m = await messageUploadedJul1();
    const { s, clock, transport, standIn } = env;
    clock.set(FRIDAY);
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ code: 'ledger_stale' });
    // This week's new invoices only, or an export of open invoices from which the paid one dropped out: the file says
    // nothing about the chased invoice, whose row stays as the Jul 1 upload left it.
    const number = await numberOf(m.invoiceIds[0]!);
    await upload({}, (row) => row[1] !== number);
    const r = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(r).toMatchObject({ outcome: 'held', code: 'ledger_stale' });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(0);
    const held = await rowOf(s, m.id);
    expect(held.statusReason).toContain(`the upload of Jul 5 did not list invoice ${number}`);

    // A later file that lists it (alone) is its newer figures: the reminder goes.
    await upload({}, (row) => row[1] === number);
    expect((await sendMessage(s, m.id, { transport, sleep: noSleep })).outcome).toBe('sent');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it('an attempt in doubt is confirmed under its key though the upload aged past the limit since (not held)', async () => {
    const m = await messageUploadedJul1();
    const { s, clock, transport, standIn } = env;
    // Thursday Jul 4, 15:00: the Jul 1 upload is 3 days old, within the limit. Resend took the email, the answer
    // was lost (a 5xx), and the in-call retries failed too: may have been sent.
    clock.set('2013-07-04T15:00:00Z');
    standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendMessage(s, m.id, { transport, sleep: noSleep });
    const waiting = await rowOf(s, m.id);
    expect(waiting.status).toBe('queued');
    expect(waiting.inDoubtSince).not.toBeNull();

    // Friday 09:00, inside the key's 24 hours: the upload is now 4 days old. The retry sends the same bytes under the
    // same key — a confirmation, checked against the very rows the first attempt was checked against (no upload
    // since). Held, it would wait out the key's window and end 'may have been sent' with a task for a person.
    clock.set('2013-07-05T09:00:00Z');
    const r = await sendMessage(s, m.id, { transport, sleep: noSleep });
    expect(r.outcome).toBe('sent');
    expect((await rowOf(s, m.id)).status).toBe('sent');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it('held through stored batches hour after hour: no provider call, so no attempt counted and never failed; an upload sends it', async () => {
    await env.s.db.delete(syncRuns).where(eq(syncRuns.tenantId, env.tenantId));
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    const { s, clock, transport, standIn } = env;
    clock.set(FRIDAY);
    const m = queued[0]!;
    // A held reminder has no hourly job of its own (only an upload releases it), but a send job that still runs for it
    // (one enqueued before the hold, a retry) must not wear it out: each forms a batch whose pre-send check holds every
    // member (ledger_stale), dropped before any call.
    for (let hour = 0; hour < 10; hour++) {
      const r = await sendDue(s, m.id, { transport, batching: true, sleep: noSleep });
      expect(r, `hour ${hour}`).toMatchObject({ outcome: 'held', code: 'ledger_stale' });
      const row = await rowOf(s, m.id);
      expect(row, `hour ${hour}`).toMatchObject({
        status: 'queued',
        statusCode: 'ledger_stale',
        batchId: null,
      });
      clock.set(new Date(clock.now().getTime() + 3_600_000));
    }
    expect(standIn.requests).toHaveLength(0);
    expect((await rowOf(s, m.id)).attempts).toBe(0);
    // Monday's export, in business hours: the reminder goes.
    clock.set('2013-07-08T10:00:00Z');
    await upload();
    expect((await sendDue(s, m.id, { transport, batching: true, sleep: noSleep })).outcome).toBe('sent');
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it('a batch call in doubt is confirmed under its key though the upload aged past the limit since', async () => {
    await env.s.db.delete(syncRuns).where(eq(syncRuns.tenantId, env.tenantId));
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    expect(queued.length).toBeGreaterThanOrEqual(2);
    const { s, clock, transport, standIn } = env;
    clock.set('2013-07-04T15:00:00Z');
    standIn.queue.push({ kind: '5xx', accepted: true }, { kind: '5xx' }, { kind: '5xx' });
    await sendDue(s, queued[0]!.id, { transport, batching: true, sleep: noSleep });
    const [b] = await s.db.select().from(dunningSendBatches);
    expect(b!.inDoubtSince).not.toBeNull();
    expect(b!.status).toBe('open');

    clock.set('2013-07-05T09:00:00Z');
    await sendDue(s, queued[0]!.id, { transport, batching: true, sleep: noSleep });
    const [after] = await s.db.select().from(dunningSendBatches).where(eq(dunningSendBatches.id, b!.id));
    expect(after!.status).toBe('sent');
    for (const id of b!.memberIds) {
      expect((await rowOf(s, id)).status).toBe('sent');
      expect(standIn.deliveriesOf(id)).toHaveLength(1);
    }
  });
});
