/**
 * The send path's own rate, without Resend's limit: N due reminders (one per customer) sent through the real send
 * path (claim, render once, live re-check under locks, store, call, record) against an in-process transport that
 * answers at once, one request per message (sendMessage) and in stored batches (sendDue, batches of up to 100),
 * interleaved over rounds on the same database. The real sending rate is the smaller of this and Resend's ceiling
 * (2 requests/s × messages per request): it shows whether the database work keeps up with 200 emails/s.
 *
 *   tsx bench/dunning-send.ts <pglite|postgres> [customers=300] [rounds=1]
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { ManualClock } from '../src/clock';
import { loadConfig } from '../src/config';
import { approveMessage } from '../src/dunning/approvals';
import { planTenant } from '../src/dunning/engine';
import { sendDue } from '../src/dunning/send-batch';
import { sendMessage } from '../src/dunning/send-message';
import { createLogger } from '../src/logger';
import type { BatchMailTransport, OutboundEmail } from '../src/mail/transport';
import { createServices, type Services } from '../src/services';
import { importHistoryCsv } from '../src/sync/csv-import';
import { type BenchDbKind, createBenchDb } from './bench-db';

const RESEND_REQUESTS_PER_SECOND = 2;
/** BENCH_SEND_MODES=batch (or single) runs one mode only, e.g. under a CPU profile. */
const MODES = (process.env.BENCH_SEND_MODES ?? 'batch,single').split(',') as ('batch' | 'single')[];
const BATCH = 100;

/** Answers at once with fresh ids: only Duely's own work is timed. */
class InstantTransport implements BatchMailTransport {
  readonly maxBatchSize = BATCH;
  requests = 0;
  async send(_msg: OutboundEmail) {
    this.requests++;
    return { providerId: randomUUID() };
  }
  async sendBatch(msgs: OutboundEmail[]) {
    this.requests++;
    return msgs.map(() => ({ providerId: randomUUID() }));
  }
  async sendBatchAttempt(msgs: OutboundEmail[]) {
    return this.sendBatch(msgs);
  }
}

function csvOf(rows: string[][]): string {
  const header = 'customer_id,invoice_id,invoice_date,due_date,amount,currency,paid_date,delivery,country';
  return `${header}\n${rows.map((r) => r.join(',')).join('\n')}\n`;
}

function ledger(customers: number): string[][] {
  const rows: string[][] = [];
  for (let c = 0; c < customers; c++) {
    for (let m = 0; m < 6; m++) {
      const issue = new Date(Date.UTC(2012, 6 + m, 1)).toISOString().slice(0, 10);
      const due = new Date(Date.UTC(2012, 7 + m, 1)).toISOString().slice(0, 10);
      rows.push([`B${c}`, `B${c}-H${m}`, issue, due, '700.00', 'USD', due, 'email', 'US']);
    }
    const due = `2013-06-${String(10 + (c % 15)).padStart(2, '0')}`;
    rows.push([`B${c}`, `B${c}-O`, '2013-05-01', due, `${900 + c}.50`, 'USD', '', 'email', 'US']);
  }
  return rows;
}

/** Messages and jobs cleared, planned and approved afresh; the ids of the due reminders, clock at the last one. */
async function freshPlan(s: Services, clock: ManualClock, tenantId: string): Promise<string[]> {
  clock.set('2013-07-01T00:00:00Z');
  await s.db.execute(sql`delete from dunning_tasks`);
  await s.db.execute(sql`delete from dunning_messages`);
  await s.db.execute(sql`delete from dunning_send_batches`);
  await s.db.execute(sql`delete from pgboss.job where name like 'dunning-%'`);
  await planTenant(s, tenantId);
  const pending = await s.db.execute(
    sql`select id from dunning_messages where status = 'awaiting_approval' and tenant_id = ${tenantId}::uuid`,
  );
  for (const r of rowsOf(pending)) await approveMessage(s, tenantId, r.id as string, 'bench');
  const queued = rowsOf(
    await s.db.execute(
      sql`select id, send_at from dunning_messages where status = 'queued' and kind = 'reminder' order by send_at, id`,
    ),
  );
  clock.set(new Date(Math.max(...queued.map((q) => new Date(q.send_at as string).getTime()))));
  return queued.map((q) => q.id as string);
}

function rowsOf(r: unknown): Record<string, unknown>[] {
  return (Array.isArray(r) ? r : (r as { rows: Record<string, unknown>[] }).rows) as Record<
    string,
    unknown
  >[];
}

async function sentCount(s: Services): Promise<number> {
  const [r] = rowsOf(
    await s.db.execute(sql`select count(*)::int as n from dunning_messages where status = 'sent'`),
  );
  return Number(r!.n);
}

export async function benchDunningSend(kind: BenchDbKind, customers = 300, rounds = 1) {
  const db = await createBenchDb(kind);
  const clock = new ManualClock('2013-07-01T00:00:00Z');
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    DATA_DIR: db.dataDir,
    APP_SECRET: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    MAIL_FROM: 'Acme Billing <billing@acme.example>',
    MAIL_DAILY_CAP: '1000000',
  });
  const s = await createServices(config, { dbh: db.handle, clock, logger: createLogger('silent') });
  try {
    const r = await importHistoryCsv(s.db, csvOf(ledger(customers)), {
      tenantName: 'Bench',
      now: clock.now(),
    });
    const tenantId = r.tenant.id;
    await s.db.execute(
      sql`update customers set emails = array['ap@' || lower(external_id) || '.example'] where tenant_id = ${tenantId}::uuid`,
    );
    await s.db.execute(
      sql`update tenants set settings = settings || '{"sendingEnabled": true}'::jsonb where id = ${tenantId}::uuid`,
    );
    const single: number[] = [];
    const batched: number[] = [];
    let messages = 0;
    for (let round = 0; round < rounds; round++) {
      // Alternate which mode goes first (JIT and caches warm up over the first one).
      for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) {
        const ids = await freshPlan(s, clock, tenantId);
        messages = ids.length;
        const transport = new InstantTransport();
        const t0 = performance.now();
        if (mode === 'single') {
          for (const id of ids) await sendMessage(s, id, { transport });
        } else {
          for (const id of ids) await sendDue(s, id, { transport, batching: true });
        }
        const ms = performance.now() - t0;
        const sent = await sentCount(s);
        if (sent !== ids.length) throw new Error(`${mode}: ${sent} of ${ids.length} sent`);
        (mode === 'single' ? single : batched).push((sent / ms) * 1000);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const singlePath = single.length ? median(single) : 0;
    const batchPath = batched.length ? median(batched) : 0;
    const perRequest = Math.min(BATCH, messages);
    const singleCeiling = RESEND_REQUESTS_PER_SECOND;
    const batchCeiling = RESEND_REQUESTS_PER_SECOND * perRequest;
    const realSingle = Math.min(singlePath, singleCeiling);
    const realBatch = Math.min(batchPath, batchCeiling);
    const label = kind === 'pglite' ? 'PGlite' : 'Postgres';
    return {
      db: kind,
      messages,
      rounds,
      send_path_single_messages_per_s: round2(singlePath),
      send_path_batched_messages_per_s: round2(batchPath),
      resend_ceiling_single: singleCeiling,
      resend_ceiling_batched: batchCeiling,
      real_rate_single_emails_per_s: round2(realSingle),
      real_rate_batched_emails_per_s: round2(realBatch),
      figures: [
        {
          figure: `dunning send path, stored batches of ${perRequest}, ${label}`,
          value: round2(batchPath),
          unit: 'messages/s',
          reference: `Resend's ceiling ${RESEND_REQUESTS_PER_SECOND} requests/s × ${perRequest} (ratio < 1: our database work is the bottleneck)`,
          referenceValue: batchCeiling,
          ratio: batchPath / batchCeiling,
        },
        {
          figure: `dunning send path, one request per message, ${label}`,
          value: round2(singlePath),
          unit: 'messages/s',
          reference: `Resend's ceiling ${RESEND_REQUESTS_PER_SECOND} requests/s × 1`,
          referenceValue: singleCeiling,
          ratio: singlePath / singleCeiling,
        },
      ],
    };
  } finally {
    await s.close();
    await db.dispose();
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const kind = (process.argv[2] ?? 'pglite') as BenchDbKind;
  console.log(
    JSON.stringify(
      await benchDunningSend(kind, Number(process.argv[3] ?? 300), Number(process.argv[4] ?? 1)),
    ),
  );
}
