/**
 * One request budget per connected company shared by every process on the Postgres database: a sliding window of
 * request start instants and a pause, both in one `rate_budgets` row that each reservation locks (`for update`),
 * on the database's clock so processes on different hosts agree. Two workers syncing one realm together stay
 * within the budget (the connector's `requestBudget`, e.g. 450 per rolling minute), and a 429 one of them gets pauses
 * both for its Retry-After.
 *
 * The in-flight limit stays per process (an in-process RealmLimiter with no minute budget of its own). Embedded
 * PGlite is opened by one process only, so there the connector's in-process limiter is the whole budget.
 */
import { abortableSleep, type Sleep } from '../../connectors/abortable-sleep';
import { RealmLimiter } from '../../connectors/request-limiter';
import type { RequestLimiter } from '../../connectors/types';
import type { Db } from '../db/client';
import {
  ensureRateBudget,
  lockRateBudget,
  pauseRateBudget,
  setRateBudgetStarts,
} from '../db/queries/rate-budgets';
import { commitWithoutFlushWait } from '../db/queries/sync-runs';

export interface BudgetLimits {
  /** Requests allowed to start within any window of `windowMs`. */
  perWindow: number;
  windowMs: number;
  /** In flight at once, per process. */
  concurrency: number;
}

/** A connector's request budget (Connector.requestBudget) as a shared per-minute window. */
export const budgetOf = (limits: { concurrency: number; perMinute: number }): BudgetLimits => ({
  perWindow: limits.perMinute,
  windowMs: 60_000,
  concurrency: limits.concurrency,
});

export type Reservation = { ok: true } | { ok: false; waitMs: number };

export class SharedRequestLimiter implements RequestLimiter {
  private readonly local: RealmLimiter;

  constructor(
    private readonly db: Db,
    /** `<provider>:<externalId>` */
    readonly key: string,
    private readonly limits: BudgetLimits,
    private readonly sleep: Sleep = abortableSleep,
  ) {
    this.local = new RealmLimiter({ concurrency: limits.concurrency, perMinute: Number.POSITIVE_INFINITY });
  }

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.local.run(async () => {
      for (;;) {
        const r = await this.reserve();
        if (r.ok) break;
        await this.sleep(r.waitMs, signal);
      }
      return task();
    }, signal);
  }

  async pause(ms: number): Promise<void> {
    await pauseRateBudget(this.db, this.key, ms);
  }

  /** Takes one request from the budget now, or says how long to wait before asking again. */
  async reserve(): Promise<Reservation> {
    return this.db.transaction(async (tx) => {
      // Issued together (they run in order on the transaction's connection): one round trip, not three. A
      // reservation's commit need not wait for the disk: a database crash that loses it under-counts the budget
      // by the last moment's requests, which the provider's own 429 (and its pause) still covers.
      const settled = await Promise.allSettled([
        commitWithoutFlushWait(tx),
        ensureRateBudget(tx, this.key),
        lockRateBudget(tx, this.key),
      ]);
      // The first failure is the cause (the later statements then fail because the transaction aborted).
      for (const r of settled) if (r.status === 'rejected') throw r.reason;
      const row = (settled[2] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockRateBudget>>>).value;
      if (!row) return { ok: false, waitMs: 1000 };
      const now = Number(row.now);
      const paused = row.paused === null ? 0 : Number(row.paused);
      if (paused > now) return { ok: false, waitMs: Math.ceil(paused - now) };
      const live = (row.starts ? row.starts.split(',').map(Number) : [])
        .filter((t) => t > now - this.limits.windowMs)
        .sort((a, b) => a - b);
      const ok = live.length < this.limits.perWindow;
      if (ok) live.push(now);
      await setRateBudgetStarts(tx, this.key, live);
      if (ok) return { ok: true };
      return { ok: false, waitMs: Math.max(1, Math.ceil((live[0] ?? now) + this.limits.windowMs - now)) };
    });
  }
}

/**
 * The process's request limiters by (provider, company): one instance, built by the composition root, so every
 * call to one company in this process (sync, live re-read, invoice PDF, probe, connect) shares one limiter and a
 * 429 pauses them all. Two roots in one process (tests build several) share nothing.
 */
export class ProcessLimiters {
  private readonly byKey = new Map<string, RequestLimiter>();
  get(key: string, create: () => RequestLimiter): RequestLimiter {
    let limiter = this.byKey.get(key);
    if (!limiter) {
      limiter = create();
      this.byKey.set(key, limiter);
    }
    return limiter;
  }
}
