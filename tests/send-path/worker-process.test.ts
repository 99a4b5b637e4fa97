/**
 * A real worker process (`duely serve --role worker`) sending through the Resend stand-in (in this process), killed
 * with SIGTERM or SIGKILL while a provider call is in flight. SIGTERM: the graceful stop lets the send finish.
 * SIGKILL: the message is left 'sending' under a dead owner's lease; the sweeper re-enqueues it and a new worker
 * finishes it under the same key — delivered once. Runs on both databases (PGlite: the data directory is handed
 * between this process and the worker, never open in both at once).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import { createDb } from '../../src/db/client';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { SENDING_LEASE_MS } from '../../src/dunning/send-message';
import { sweepStaleMessages } from '../../src/dunning/send-sweep';
import { sendMessageJob } from '../../src/jobs/dunning-jobs';
import { createLogger } from '../../src/logger';
import { createServices, type Services } from '../../src/services';
import { approveAll, giveEmails, goLive, importLedger, NOW } from '../dunning-engine/fixtures';
import { createTestDb } from '../helpers/db';
import { ResendStandIn } from './resend-stand-in';

/** What the workers' clock starts at (`--now 2013-07-01`). */
const START = new Date('2013-07-01T00:00:00Z');
const APP_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz';
let standIn: ResendStandIn;
let dataDir: string;
let pgUrl: string | undefined;
let dropPg: (() => Promise<void>) | undefined;
const started: ChildProcess[] = [];

beforeAll(async () => {
  standIn = await new ResendStandIn().start();
  dataDir = mkdtempSync(path.join(tmpdir(), 'duely-worker-'));
  if (process.env.DATABASE_URL) {
    const h = await createTestDb();
    pgUrl = h.url;
    dropPg = h.close;
  }
}, 420_000);
afterAll(async () => {
  // A failed assertion must not leave a worker behind: stop the ones this file started, by their handle.
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await standIn?.stop();
  await dropPg?.();
});

function env(): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    APP_SECRET,
    MAIL_FROM: 'Acme Billing <billing@acme.example>',
    RESEND_API_KEY: 're_test_worker',
    RESEND_BASE_URL: standIn.url,
    DATA_DIR: dataDir,
    QUICKBOOKS_DEMO: 'off',
    WORKER_CONCURRENCY: '2',
    ...(pgUrl ? { DATABASE_URL: pgUrl } : {}),
  };
}

/** This process's services on the shared database (closed again before a PGlite worker starts). */
async function open(clock: ManualClock): Promise<Services> {
  const config = loadConfig(env());
  const dbh = await createDb(pgUrl ? { url: pgUrl, max: 3 } : { dataDir });
  return createServices(config, { dbh, clock, logger: createLogger('silent') });
}

function startWorker(extra: Record<string, string> = {}): {
  proc: ChildProcess;
  exited: Promise<number | null>;
  log: string[];
} {
  const log: string[] = [];
  const proc = spawn(
    process.execPath,
    ['bin/duely.js', 'serve', '--role', 'worker', '--now', START.toISOString().slice(0, 10)],
    { env: { ...process.env, ...env(), ...extra }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.push(proc);
  proc.stdout!.on('data', (d) => log.push(String(d)));
  proc.stderr!.on('data', (d) => log.push(String(d)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, exited, log };
}

/** A due message with its send job (due now in real time), ready for a worker. */
async function prepare(): Promise<{ id: string }> {
  const s = await open(new ManualClock(NOW));
  try {
    const r = await importLedger(s);
    await giveEmails(s, r.tenant.id);
    await goLive(s, r.tenant.id);
    await s.db.delete(dunningMessages);
    await s.db.execute(sql`delete from pgboss.job where name like 'dunning-%'`);
    await planTenant(s, r.tenant.id);
    await approveAll(s, r.tenant.id); // day one: the old debt is a reviewed catch-up
    const [m] = await s.db
      .select()
      .from(dunningMessages)
      .where(eq(dunningMessages.status, 'queued'))
      .limit(1);
    // The worker's clock (--now takes a date) starts at midnight UTC: make the message due then, for a debtor
    // whose business hours it is (09:00 in Tokyo), and give it the only job, due at once in real time.
    await s.db.update(dunningMessages).set({ sendAt: START }).where(eq(dunningMessages.id, m!.id));
    await s.db.execute(sql`update customers set timezone = 'Asia/Tokyo' where id = ${m!.customerId}::uuid`);
    await s.db.execute(sql`delete from pgboss.job where name = 'dunning-send'`);
    await s.queue.send(sendMessageJob, { messageId: m!.id });
    return { id: m!.id };
  } finally {
    await s.close();
  }
}

async function rowOf(id: string) {
  const s = await open(new ManualClock(NOW));
  try {
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
    return row!;
  } finally {
    await s.close();
  }
}

describe('a real worker process under signals', () => {
  it('SIGTERM while the provider call is in flight: the send finishes, recorded sent, delivered once', async () => {
    standIn.reset();
    const { id } = await prepare();
    standIn.queue.push({ kind: 'slow', ms: 3_000 });
    const w = startWorker();
    await vi.waitFor(() => expect(standIn.requests.length).toBeGreaterThan(0), {
      timeout: 240_000,
      interval: 100,
    });
    w.proc.kill('SIGTERM');
    expect(await w.exited, w.log.join('')).toBe(0);
    expect(standIn.deliveriesOf(id)).toHaveLength(1);
    expect(await rowOf(id)).toMatchObject({
      status: 'sent',
      providerId: standIn.deliveriesOf(id)[0]!.id,
      leaseOwner: null,
    });
  }, 420_000);

  it('kill -9 while the provider call is in flight: taken over after the lease, same key, delivered once', async () => {
    standIn.reset();
    const { id } = await prepare();
    standIn.queue.push({ kind: 'slow', ms: 2_000 });
    const w = startWorker();
    await vi.waitFor(() => expect(standIn.requests.length).toBeGreaterThan(0), {
      timeout: 240_000,
      interval: 100,
    });
    w.proc.kill('SIGKILL');
    await w.exited;
    // The provider still accepts what the dead worker sent.
    await vi.waitFor(() => expect(standIn.deliveriesOf(id)).toHaveLength(1), {
      timeout: 240_000,
      interval: 100,
    });

    const s = await open(new ManualClock(START));
    try {
      const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
      expect(row!.status).toBe('sending');
      expect(row!.attemptStartedAt).not.toBeNull();
      // Nobody takes over a live lease.
      expect((await sweepStaleMessages(s)).takenOver).toEqual([]);
      // The lease runs out (moved back instead of waiting two real minutes), and the sweeper takes over.
      const expired = new Date(START.getTime() - SENDING_LEASE_MS);
      await s.db.update(dunningMessages).set({ leaseUntil: expired }).where(eq(dunningMessages.id, id));
      expect((await sweepStaleMessages(s)).takenOver).toEqual([id]);
    } finally {
      await s.close();
    }
    const w2 = startWorker();
    // Its request (same key) gets the first id back; the graceful stop lets it record that.
    await vi.waitFor(() => expect(standIn.requests.length).toBe(2), { timeout: 240_000, interval: 100 });
    w2.proc.kill('SIGTERM');
    expect(await w2.exited, w2.log.join('')).toBe(0);

    expect(standIn.deliveriesOf(id)).toHaveLength(1);
    expect(standIn.requests.map((r) => r.key)).toEqual([id, id]);
    const row = await rowOf(id);
    expect(row.status).toBe('sent');
    expect(row.providerId).toBe(standIn.deliveriesOf(id)[0]!.id);
    // The dead worker's attempt was in doubt; the retry under the same key confirmed it.
    expect(row.inDoubtSince).not.toBeNull();
  }, 600_000);
});

/** Every queued reminder due at the workers' start, each with two send jobs (its own and a duplicate, as a sweeper's). */
async function prepareAll(): Promise<string[]> {
  const s = await open(new ManualClock(NOW));
  try {
    const r = await importLedger(s);
    await giveEmails(s, r.tenant.id);
    await goLive(s, r.tenant.id);
    await s.db.delete(dunningMessages);
    await s.db.execute(sql`delete from pgboss.job where name like 'dunning-%'`);
    await planTenant(s, r.tenant.id);
    await approveAll(s, r.tenant.id);
    const queued = await s.db.select().from(dunningMessages).where(eq(dunningMessages.status, 'queued'));
    await s.db.update(dunningMessages).set({ sendAt: START }).where(eq(dunningMessages.status, 'queued'));
    await s.db.execute(
      sql`update customers set timezone = 'Asia/Tokyo' where tenant_id = ${r.tenant.id}::uuid`,
    );
    await s.db.execute(sql`delete from pgboss.job where name = 'dunning-send'`);
    for (const m of queued) {
      await s.queue.send(sendMessageJob, { messageId: m.id });
      await s.queue.send(sendMessageJob, { messageId: m.id }, { singletonKey: `dup:${m.id}` });
    }
    return queued.map((m) => m.id);
  } finally {
    await s.close();
  }
}

// Two processes on one database: Postgres only (a PGlite data directory is open in one process at a time).
describe.skipIf(!process.env.DATABASE_URL)(
  'two real worker processes racing on the same due messages',
  () => {
    for (const batch of ['false', 'true']) {
      it(`MAIL_BATCH=${batch}: every message delivered exactly once, recorded sent, nothing left sending`, async () => {
        standIn.reset();
        // Slow answers widen the window in which both workers hold jobs for the same messages.
        standIn.faultFor = () => ({ kind: 'slow', ms: 200 });
        const ids = await prepareAll();
        expect(ids.length).toBeGreaterThanOrEqual(2);
        const workers = [startWorker({ MAIL_BATCH: batch }), startWorker({ MAIL_BATCH: batch })];
        try {
          await vi.waitFor(
            async () => {
              for (const id of ids) expect((await rowOf(id)).status).toBe('sent');
            },
            { timeout: 240_000, interval: 500 },
          );
        } finally {
          for (const w of workers) w.proc.kill('SIGTERM');
          for (const w of workers) expect(await w.exited, w.log.join('')).toBe(0);
        }
        expect(standIn.requests.some((r) => Boolean(r.batch))).toBe(batch === 'true');
        for (const id of ids) {
          expect(standIn.deliveriesOf(id)).toHaveLength(1);
          const row = await rowOf(id);
          expect(row).toMatchObject({ status: 'sent', leaseOwner: null });
          expect(row.providerId).toBe(standIn.deliveriesOf(id)[0]!.id);
        }
      }, 420_000);
    }
  },
);
