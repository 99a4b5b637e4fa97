/**
 * The realm's request budget shared through the database: two limiter instances (on Postgres, two processes'
 * connection pools) draw from one window and obey one pause.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/client';
import type { Services } from '../../src/services';
import { connectors } from '../../connectors';
import { budgetOf, SharedRequestLimiter } from '../../src/sync/rate-budget';
import { usingPostgres } from '../helpers/db';
import { createTestServices } from '../helpers/services';

let s: Services;
let other: DbHandle;

beforeAll(async () => {
  s = await createTestServices({ queue: false });
  // Another process: its own pool on the same Postgres database (PGlite can only be opened by one process).
  other = usingPostgres ? await createDb({ url: s.dbh.url, max: 2 }) : s.dbh;
});
afterAll(async () => {
  if (other && other !== s?.dbh) await other.close();
  await s?.close();
});

const limits = { perWindow: 5, windowMs: 60_000, concurrency: 10 };

describe('shared request budget', () => {
  it('keeps a margin below Intuit’s 500 per minute', () => {
    const budget = budgetOf(connectors.quickbooks.requestBudget);
    expect(budget.perWindow).toBeLessThanOrEqual(450);
    expect(budget.windowMs).toBe(60_000);
  });

  it('two processes share one window: together they never start more than the budget', async () => {
    const a = new SharedRequestLimiter(s.db, 'quickbooks:realm-1', limits);
    const b = new SharedRequestLimiter(other.db, 'quickbooks:realm-1', limits);
    const got = [];
    for (const l of [a, b, a, b, a, b, a]) got.push(await l.reserve());
    expect(got.filter((r) => r.ok)).toHaveLength(5);
    const refused = got.slice(5);
    expect(refused.every((r) => !r.ok && r.waitMs > 0 && r.waitMs <= 60_000)).toBe(true);
    // Another realm has its own budget.
    expect(await new SharedRequestLimiter(other.db, 'quickbooks:realm-2', limits).reserve()).toEqual({
      ok: true,
    });
  });

  it('concurrent reservations from both processes never overshoot', async () => {
    const a = new SharedRequestLimiter(s.db, 'quickbooks:realm-3', limits);
    const b = new SharedRequestLimiter(other.db, 'quickbooks:realm-3', limits);
    const got = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).reserve()));
    expect(got.filter((r) => r.ok)).toHaveLength(5);
  });

  it('a 429 seen by one process pauses the realm for the other for its Retry-After', async () => {
    const a = new SharedRequestLimiter(s.db, 'quickbooks:realm-4', limits);
    const b = new SharedRequestLimiter(other.db, 'quickbooks:realm-4', limits);
    expect(await b.reserve()).toEqual({ ok: true });
    await a.pause(30_000);
    const r = await b.reserve();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.waitMs).toBeGreaterThan(29_000);
    // A shorter pause never shortens a longer one in force.
    await b.pause(1_000);
    const again = await a.reserve();
    expect(!again.ok && again.waitMs).toBeGreaterThan(28_000);
  });

  it('run() waits (instead of sending) while the budget is spent', async () => {
    const waits: number[] = [];
    const stop = new Error('stop waiting');
    const one = { ...limits, perWindow: 1 };
    const a = new SharedRequestLimiter(s.db, 'quickbooks:realm-5', one);
    const b = new SharedRequestLimiter(other.db, 'quickbooks:realm-5', one, async (ms) => {
      waits.push(ms);
      throw stop;
    });
    let sent = 0;
    await a.run(async () => sent++);
    await expect(b.run(async () => sent++)).rejects.toBe(stop);
    expect(sent).toBe(1);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
  });
});
