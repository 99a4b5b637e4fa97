/**
 * The dunning module wired with only what it uses (architecture: module tests wire their ports): a database, a
 * clock, fakes for the job port, the risk bands and the live ledger re-read, and a recording mail transport. No
 * pg-boss queue is created or started and no ONNX model is loaded: what dunning needs from jobs, risk and sync it
 * gets through src/dunning/ports.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import type { DbHandle, Tx } from '../../src/db/client';
import { createDunning } from '../../src/dunning';
import type { DunningJobPort, LedgerRefresh, RiskBands } from '../../src/dunning/ports';
import { createLogger } from '../../src/logger';
import { importHistoryCsv } from '../../src/sync/csv-import';
import {
  customerId,
  giveEmails,
  goLive,
  ledgerRows,
  messagesOf,
  NOW,
  RecordingTransport,
} from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';
import { createTestDb } from '../helpers/db';

let dbh: DbHandle;
let tenantId: string;
const clock = new ManualClock(NOW);
const transport = new RecordingTransport();
const scheduled: { messageId: string; delayMs: number; purpose: string }[] = [];
const replans: string[] = [];
const jobs: DunningJobPort = {
  async scheduleSend(_tx: Tx, messageId, delayMs, purpose) {
    scheduled.push({ messageId, delayMs, purpose });
  },
  async waitingSendJobs(ids) {
    return new Set(scheduled.map((s) => s.messageId).filter((id) => ids.includes(id)));
  },
  async replan(_tx: Tx, id) {
    replans.push(id);
  },
};
const bandCalls: string[] = [];
const risk: RiskBands = {
  async bandsFor(tenant) {
    bandCalls.push(tenant.id);
    return () => 'medium';
  },
};
const liveReads: string[][] = [];
const sync: LedgerRefresh = {
  hasLiveRead: () => false,
  async refreshInvoices(_conn, ids) {
    liveReads.push(ids);
    return [];
  },
  invoicePdfProviders: () => [],
};

let dunning: ReturnType<typeof createDunning>;
// The fixtures read only `db` (and `clock` for the import) from what they are given.
const fixtureServices = () => ({ db: dbh.db, clock }) as never;

beforeAll(async () => {
  dbh = await createTestDb();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    MAIL_FROM: 'Acme Billing <billing@acme.example>',
  });
  const r = await importHistoryCsv(dbh.db, csv(ledgerRows()), { tenantName: 'Acme', now: clock.now() });
  tenantId = r.tenant.id;
  await giveEmails(fixtureServices(), tenantId);
  await goLive(fixtureServices(), tenantId);
  dunning = createDunning({
    db: dbh.db,
    dbh,
    clock,
    config,
    logger: createLogger('silent'),
    mailer: transport,
    dunningJobs: jobs,
    risk,
    sync,
    payLinkChecks: new Map(),
  });
}, 120_000);
afterAll(async () => {
  await dbh?.close();
});

describe('createDunning with fake ports and no job queue', () => {
  it('plans one email per overdue customer, asks the risk port for the bands, and schedules through the job port', async () => {
    const r = await dunning.plan(tenantId);
    expect(bandCalls).toEqual([tenantId]);
    const msgs = await messagesOf(fixtureServices(), tenantId);
    const customers = new Set(msgs.map((m) => m.customerId));
    expect(customers.has(await customerId(fixtureServices(), 'SLOW'))).toBe(true);
    expect(customers.has(await customerId(fixtureServices(), 'MID'))).toBe(true);
    // Not yet due, and due in two days without a predicted delay: nobody chases them.
    expect(customers.has(await customerId(fixtureServices(), 'FUT'))).toBe(false);
    expect(customers.has(await customerId(fixtureServices(), 'RELY'))).toBe(false);
    expect(customers.size).toBe(msgs.length);
    expect(r.inserted.length).toBe(msgs.length);
    // Exactly the queued messages got a send job, through the port (there is no pg-boss here).
    expect(scheduled.map((j) => j.messageId).sort()).toEqual(
      msgs
        .filter((m) => m.status === 'queued')
        .map((m) => m.id)
        .sort(),
    );
  });

  it('an approved message is scheduled through the port and sent at its time through the deps mailer', async () => {
    for (const m of await messagesOf(fixtureServices(), tenantId)) {
      if (m.status === 'awaiting_approval') await dunning.approve(tenantId, m.id, 'reviewer');
    }
    const slowId = await customerId(fixtureServices(), 'SLOW');
    const slow = (await messagesOf(fixtureServices(), tenantId)).find((m) => m.customerId === slowId)!;
    expect(slow.status).toBe('queued');
    expect(scheduled.some((j) => j.messageId === slow.id)).toBe(true);
    clock.set(slow.sendAt);
    const outcome = await dunning.send(slow.id);
    expect(outcome).toMatchObject({ outcome: 'sent' });
    expect(transport.deliveries.map((d) => d.to)).toEqual([['ap@slow.example']]);
    // A CSV tenant has no live ledger: the sync port was not asked to re-read anything.
    expect(liveReads).toEqual([]);
  });
});
