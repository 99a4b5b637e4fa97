/**
 * Client-side throttle per connected company (a QuickBooks realm, a NetSuite account) so a connector stays under
 * its provider's limits instead of collecting 429s: at most `concurrency` requests in flight and `perMinute` per
 * rolling minute, and a 429 pauses every request of the company for its Retry-After, not only the one that got it.
 * Each connector declares its limits (`requestBudget`; QuickBooks: connectors/quickbooks/limits.ts).
 *
 * This limiter is in-process: right for embedded PGlite (one process). With Postgres the sync gives the client a
 * budget shared by every process (src/sync/rate-budget.ts), which reuses this class for the in-flight limit only.
 */
import { abortError, abortableSleep, type Sleep } from './abortable-sleep';
import type { RequestLimiter } from './types';

export interface RealmLimits {
  concurrency: number;
  perMinute: number;
}

const MINUTE_MS = 60_000;

export interface RealmLimiterOptions {
  clock?: () => number;
  /** How a pause is waited out (tests record it instead). */
  sleep?: Sleep;
}

export class RealmLimiter implements RequestLimiter {
  private active = 0;
  private readonly starts: number[] = [];
  private readonly waiters: Array<() => void> = [];
  private pausedUntil = 0;
  /** Bumped by every pause, so a waiter knows whether the pause it slept through was extended meanwhile. */
  private pauses = 0;
  private readonly clock: () => number;
  private readonly sleep: Sleep;

  constructor(
    protected limits: RealmLimits,
    options: RealmLimiterOptions = {},
  ) {
    this.clock = options.clock ?? (() => Date.now());
    this.sleep = options.sleep ?? abortableSleep;
  }

  /** Requests of this company in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Runs `task` once a slot is free under both limits and no pause is in force. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.active--;
      this.waiters.shift()?.();
    }
  }

  async pause(ms: number): Promise<void> {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock() + ms);
    this.pauses++;
  }

  /** Waits out the pause in force, if any (a pause extended meanwhile is waited out too). */
  async waitPause(signal?: AbortSignal): Promise<void> {
    let slept = -1;
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const left = this.pausedUntil - this.clock();
      if (left <= 0 || slept === this.pauses) return;
      slept = this.pauses;
      await this.sleep(left, signal);
    }
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      await this.waitPause(signal);
      if (signal?.aborted) throw abortError(signal);
      const now = this.clock();
      while (this.starts.length > 0 && (this.starts[0] ?? 0) <= now - MINUTE_MS) this.starts.shift();
      if (this.active < this.limits.concurrency && this.starts.length < this.limits.perMinute) {
        this.active++;
        this.starts.push(now);
        return;
      }
      // Wait for a finishing request, or for the oldest start to leave the rolling minute.
      const windowWait =
        this.starts.length >= this.limits.perMinute ? (this.starts[0] ?? now) + MINUTE_MS - now : null;
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          cleanup();
          resolve();
        };
        const onAbort = () => {
          cleanup();
          reject(abortError(signal as AbortSignal));
        };
        const timer = windowWait === null ? null : setTimeout(wake, Math.max(windowWait, 1));
        const cleanup = () => {
          if (timer) clearTimeout(timer);
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          signal?.removeEventListener('abort', onAbort);
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}
