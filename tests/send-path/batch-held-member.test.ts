/**
 * Outside review: a batch formed while the company's upload was fresh, refused (429), and retried after a newer
 * upload that leaves out one member's invoice (its figures are now too old: ledger_stale). The retry drops the batch;
 * the payable member goes out once, the held one waits with no job — and the next full upload sends it, once.
 */
import { eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { connections, dunningSendBatches, invoices, syncRuns } from '../../src/db/schema';
import { sendDue } from '../../src/dunning/send-batch';
import { importWritten } from '../../src/jobs/workflow';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { ledgerRows } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';
import { freshPlan, noSleep, rowOf, runUntilSettled, sendPathSuite, waitingJobs } from './helpers';

const env = sendPathSuite();
const opts = () => ({ transport: env.transport, batching: true, sleep: noSleep });

describe('a refused batch retried once a member is held for an old upload', () => {
  it('the payable member goes out once; the held one waits with no job, and the next upload sends it once', async () => {
    const { s, clock, standIn } = env;
    await s.db.delete(syncRuns).where(eq(syncRuns.tenantId, env.tenantId));
    await s.db.delete(connections).where(eq(connections.tenantId, env.tenantId));
    const queued = (await freshPlan(env)).filter((m) => m.kind === 'reminder');
    const held = queued.find((m) => m.invoiceIds.length === 1)!;
    const other = queued.find((m) => m.id !== held.id && !m.invoiceIds.includes(held.invoiceIds[0]!))!;
    expect(other).toBeDefined();
    const [inv] = await s.db
      .select({ n: invoices.externalId })
      .from(invoices)
      .where(inArray(invoices.id, [held.invoiceIds[0]!]));
    clock.set(new Date(Math.max(held.sendAt.getTime(), other.sendAt.getTime())));
    standIn.faultFor = () => ({ kind: '429', retryAfterSeconds: 1 });
    await sendDue(s, other.id, opts());
    const [b] = await s.db.select().from(dunningSendBatches);
    expect(b!.status).toBe('open');
    expect(b!.memberIds).toEqual(expect.arrayContaining([held.id, other.id]));
    standIn.faultFor = () => ({ kind: 'ok' });

    // Friday: an export that leaves out the held member's invoice.
    clock.set('2013-07-05T10:00:00Z');
    await importHistoryCsv(s.db, csv(ledgerRows().filter((row) => row[1] !== inv!.n)), {
      tenantName: 'Acme',
      now: s.clock.now(),
      afterWrite: importWritten(s),
    });
    await sendDue(s, b!.memberIds[0]!, opts());
    // The batch is dropped (written for an earlier day, or the held member failing the re-check): the held member's
    // own job, if it got one, re-checks it and holds it.
    if ((await rowOf(s, held.id)).statusCode !== 'ledger_stale') await sendDue(s, held.id, opts());
    const h = await rowOf(s, held.id);
    expect(h, JSON.stringify(h)).toMatchObject({
      status: 'queued',
      statusCode: 'ledger_stale',
      batchId: null,
    });
    await s.db.execute(
      sql`delete from pgboss.job where name = 'dunning-send' and data->>'messageId' = ${held.id}`,
    );
    await runUntilSettled(env, other.id);
    expect((await rowOf(s, other.id)).status).toBe('sent');
    expect(standIn.deliveriesOf(other.id)).toHaveLength(1);
    expect(standIn.deliveriesOf(held.id)).toHaveLength(0);
    expect((await rowOf(s, held.id)).statusCode).toBe('ledger_stale');
    expect(await waitingJobs(s, held.id)).toBe(0);

    clock.set('2013-07-05T11:00:00Z');
    await importHistoryCsv(s.db, csv(ledgerRows()), {
      tenantName: 'Acme',
      now: s.clock.now(),
      afterWrite: importWritten(s),
    });
    expect(await waitingJobs(s, held.id)).toBeGreaterThan(0);
    await runUntilSettled(env, held.id);
    const after = await rowOf(s, held.id);
    expect(after.status, JSON.stringify(after)).toBe('sent');
    expect(standIn.deliveriesOf(held.id)).toHaveLength(1);
    expect(standIn.deliveriesOf(other.id)).toHaveLength(1);
  }, 60_000);
});
