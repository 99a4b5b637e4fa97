/**
 * The request pool of one NetSuite account. NetSuite limits concurrent requests per account, in one pool shared by
 * SOAP, REST and RESTlets and by every integration of the customer (15 on the default tier; vendor protocol.json
 * `concurrency`): over it a REST call gets HTTP 429 without Retry-After. We keep at most NETSUITE_CONCURRENCY
 * (default 3) of our requests in flight per account, leaving the rest of the pool to the customer's other
 * integrations, and a 429 pauses every request of the account (not only the one that got it).
 *
 * In-process. The connector keeps none: the composition root builds one per account and process (the connector's
 * `createLimiter`) and passes it to every client, probe and invoice-PDF read of the account; with Postgres it passes
 * a limiter shared across processes instead (the RequestLimiter port).
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
