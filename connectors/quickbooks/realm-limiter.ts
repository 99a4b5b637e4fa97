/**
 * Intuit's limits, per realm and app: at most 10 requests in flight and 500 per rolling minute. We budget 450 (a 10%
 * margin: clock skew between our count and Intuit's, and requests of the app made elsewhere).
 * https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features#limits-and-throttles
 * The limiter itself is generic (connectors/request-limiter.ts).
 */
import {
  RealmLimiter as CompanyLimiter,
  type RealmLimiterOptions,
  type RealmLimits,
} from '../request-limiter';

export type { RealmLimiterOptions, RealmLimits };

/** Intuit's documented limits. */
export const QBO_PROVIDER_LIMITS: RealmLimits = { concurrency: 10, perMinute: 500 };
/** What we allow ourselves: a margin below the per-minute limit. */
export const QBO_LIMITS: RealmLimits = { concurrency: 10, perMinute: 450 };

/**
 * The generic per-company limiter with Intuit's budget by default. The connector keeps none: the composition root
 * builds one per realm and process (`createLimiter`) and passes it to every client and invoice-PDF read of the realm.
 */
export class RealmLimiter extends CompanyLimiter {
  constructor(limits: RealmLimits = QBO_LIMITS, options: RealmLimiterOptions = {}) {
    super(limits, options);
  }
}
