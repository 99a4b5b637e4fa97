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
import { RealmLimiter, type RealmLimiterOptions } from '../request-limiter';

export const NETSUITE_DEFAULT_CONCURRENCY = 3;

export type AccountPoolOptions = RealmLimiterOptions;

/** The shared per-company limiter with no per-minute budget: NetSuite governs concurrency only. */
export class AccountPool extends RealmLimiter {
  constructor(concurrency = NETSUITE_DEFAULT_CONCURRENCY, options: AccountPoolOptions = {}) {
    super({ concurrency, perMinute: Number.POSITIVE_INFINITY }, options);
  }

  get concurrency(): number {
    return this.limits.concurrency;
  }

  set concurrency(n: number) {
    this.limits = { ...this.limits, concurrency: n };
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
