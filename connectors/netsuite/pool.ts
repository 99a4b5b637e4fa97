/**
 * The request pool of one NetSuite account. NetSuite limits concurrent requests per account, in one pool shared by
 * SOAP, REST and RESTlets and by every integration of the customer (15 on the default tier; vendor protocol.json
 * `concurrency`): over it a REST call gets HTTP 429 without Retry-After. We keep at most NETSUITE_CONCURRENCY
 * (default 3) of our requests in flight per account, leaving the rest of the pool to the customer's other
 * integrations, and a 429 pauses every request of the account (not only the one that got it).
 *
 * In-process. With Postgres the app may hand the client a limiter shared across processes (the RequestLimiter
 * port); this class is the default.
 */
import type { RequestLimiter } from '../types';
import { abortableSleep, abortError, type Sleep } from '../abortable-sleep';

export const NETSUITE_DEFAULT_CONCURRENCY = 3;

export interface AccountPoolOptions {
  clock?: () => number;
  sleep?: Sleep;
}

export class AccountPool implements RequestLimiter {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  private pausedUntil = 0;
  private pauses = 0;
  private readonly clock: () => number;
  private readonly sleep: Sleep;

  constructor(
    public concurrency = NETSUITE_DEFAULT_CONCURRENCY,
    options: AccountPoolOptions = {},
  ) {
    this.clock = options.clock ?? (() => Date.now());
    this.sleep = options.sleep ?? abortableSleep;
  }

  /** Requests of this account in flight now (tests and the probe's report). */
  get inFlight(): number {
    return this.active;
  }

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

  private async waitPause(signal?: AbortSignal): Promise<void> {
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
      if (this.active < this.concurrency) {
        this.active++;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(abortError(signal as AbortSignal));
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

const pools = new Map<string, AccountPool>();

/** The process-wide pool of one account (realm form key), shared by every client built for it. */
export function poolForAccount(accountId: string, concurrency = NETSUITE_DEFAULT_CONCURRENCY): AccountPool {
  const key = accountId.toUpperCase().replaceAll('-', '_');
  let pool = pools.get(key);
  if (!pool) {
    pool = new AccountPool(concurrency);
    pools.set(key, pool);
  }
  pool.concurrency = concurrency;
  return pool;
}
