/**
 * NetSuite REST client on fetch, for SuiteQL (and any other /services/rest path).
 *
 * SuiteQL: POST {rest}/services/rest/query/v1/suiteql?limit=<=1000&offset=N, header `Prefer: transient`, body
 * {"q": "..."}; answer {links, count, hasMore, items[{links: [], <lower-case columns>: "<string>"}], offset,
 * totalResults} (vendor suiteql-*.json; Oracle help section_157909186990). Values are strings (or absent when
 * NULL); a query yields at most 100,000 rows however it is paged, so callers page by id (see queries.ts).
 *
 * Retry policy, every attempt re-authorized (TBA: fresh nonce + timestamp, a replay is INVALID_LOGIN):
 *  - 429 (no Retry-After): pause the account's pool with exponential backoff and full jitter, then retry;
 *  - 5xx / network: backoff with jitter, retry;
 *  - 401 with a bearer token: refresh once (single flight) and retry; with TBA: re-sign once (a 401 can be a
 *    concurrency overflow or a clock blip, pitfall 10), then the typed `unauthorized` (INVALID_LOGIN, Login Audit
 *    Trail) reaches the caller, which marks the connection reconnect_needed;
 *  - anything else: typed ConnectorError at once. The abort signal is honoured while queued, sleeping and in flight.
 */

import { abortableSleep, abortError, type Sleep } from '../abortable-sleep';
import { ConnectorError } from '../errors';
import type { ConnectorLogger, RequestLimiter } from '../types';
import { realmAccountId } from './config';
import { errorFromResponse } from './faults';
import { AccountPool, NETSUITE_DEFAULT_CONCURRENCY } from './pool';
import { authorizeTba, type TbaCredentials } from './tba';

export type NetsuiteAuth =
  | ({ type: 'tba' } & TbaCredentials)
  /**
   * What the connector contract hands over (getAccessToken/onUnauthorized from the vault): a bearer token, or a
   * TBA token pair stored in the same slot as `encodeTbaSecret` wrote it, signed with Duely's consumer key.
   */
  | {
      type: 'stored';
      consumerKey?: string;
      consumerSecret?: string;
      getAccessToken(): Promise<string>;
      onUnauthorized(): Promise<string>;
    }
  | {
      type: 'bearer';
      getAccessToken(): Promise<string>;
      /** Refreshes (OAuth 2.0 code: refresh token; M2M: a new client-credentials grant) under the caller's lock. */
      onUnauthorized(): Promise<string>;
    };

export interface NetsuiteClientOptions {
  /** Base of `/services/rest/...` for the account (config.ts `netsuiteEndpoints`). */
  restUrl: string;
  accountId: string;
  auth: NetsuiteAuth;
  /** The account's process limiter (the app passes it); standalone use (tests, benches) gets a pool of its own. */
  limiter?: RequestLimiter;
  concurrency?: number;
  maxThrottleRetries?: number;
  /** Retries after a 5xx or network failure (attempts = retries + 1). */
  maxServerRetries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** NetSuite times REST requests out at 15 minutes; a SuiteQL page should take seconds. */
  requestTimeoutMs?: number;
  sleep?: Sleep;
  random?: () => number;
  /** Clock for TBA timestamps. */
  now?: () => number;
  fetch?: typeof fetch;
  logger?: ConnectorLogger;
  /** NETSUITE_PAY_LINK_FIELD: the invoices' custom body field with their pay link (unset: not read). */
  payLinkField?: string;
}

/** One SuiteQL row: lower-case column names, string values; NULL columns are absent. */
export type SuiteqlRow = Record<string, string | undefined>;

export interface SuiteqlPage {
  items: SuiteqlRow[];
  hasMore: boolean;
  count: number;
  offset: number;
  totalResults: number | null;
}

export const SUITEQL_MAX_LIMIT = 1000;
/** Column names as SuiteQL prints them (lower case): kept as they are. */
const LOWER_CASE = /^[a-z0-9_]+$/;

const TBA_PREFIX = 'netsuite-tba:';

/** A TBA token pair as one opaque string, for the vault slot that holds access tokens of other connections. */
export function encodeTbaSecret(token: { tokenId: string; tokenSecret: string }): string {
  return `${TBA_PREFIX}${JSON.stringify({ tokenId: token.tokenId, tokenSecret: token.tokenSecret })}`;
}

export function decodeTbaSecret(secret: string): { tokenId: string; tokenSecret: string } | null {
  if (!secret.startsWith(TBA_PREFIX)) return null;
  try {
    const v = JSON.parse(secret.slice(TBA_PREFIX.length)) as { tokenId?: unknown; tokenSecret?: unknown };
    return typeof v.tokenId === 'string' && typeof v.tokenSecret === 'string'
      ? { tokenId: v.tokenId, tokenSecret: v.tokenSecret }
      : null;
  } catch {
    return null;
  }
}
export const SUITEQL_MAX_ROWS = 100_000;

export class NetsuiteClient {
  readonly accountId: string;
  readonly restUrl: string;
  /** NETSUITE_PAY_LINK_FIELD, read with every invoice (resources.ts). */
  readonly payLinkField: string | undefined;
  /** Requests of this account in flight at most (NETSUITE_CONCURRENCY): how many pages a full sync reads ahead. */
  readonly concurrency: number;
  private readonly limiter: RequestLimiter;
  private readonly o: Required<
    Pick<
      NetsuiteClientOptions,
      | 'maxThrottleRetries'
      | 'maxServerRetries'
      | 'backoffBaseMs'
      | 'backoffMaxMs'
      | 'requestTimeoutMs'
      | 'sleep'
      | 'random'
      | 'now'
      | 'fetch'
    >
  > &
    Pick<NetsuiteClientOptions, 'logger' | 'auth'>;
  private refreshing: Promise<string> | null = null;

  constructor(options: NetsuiteClientOptions) {
    this.accountId = realmAccountId(options.accountId);
    this.restUrl = options.restUrl.replace(/\/+$/, '');
    this.payLinkField = options.payLinkField;
    this.concurrency = options.concurrency ?? NETSUITE_DEFAULT_CONCURRENCY;
    this.limiter = options.limiter ?? new AccountPool(this.concurrency);
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.o = {
      maxThrottleRetries: 8,
      maxServerRetries: 4,
      backoffBaseMs: 1000,
      backoffMaxMs: 60_000,
      requestTimeoutMs: 300_000,
      sleep: abortableSleep,
      random: Math.random,
      now: () => Date.now(),
      fetch: (...args) => fetch(...args),
      ...(defined as Partial<NetsuiteClientOptions>),
      auth: options.auth,
    };
  }

  /** One SuiteQL page. `limit` ≤ 1000; `offset` must be a multiple of `limit` (NetSuite's rule). */
  async suiteql(
    q: string,
    page: { limit: number; offset?: number } = { limit: SUITEQL_MAX_LIMIT },
    signal?: AbortSignal,
  ): Promise<SuiteqlPage> {
    const limit = Math.min(Math.max(1, Math.floor(page.limit)), SUITEQL_MAX_LIMIT);
    const offset = page.offset ?? 0;
    const body = (await this.request(
      'POST',
      '/services/rest/query/v1/suiteql',
      { limit: String(limit), offset: String(offset) },
      { q },
      signal,
      { query: true },
    )) as Partial<{
      items: unknown;
      hasMore: unknown;
      count: unknown;
      offset: unknown;
      totalResults: unknown;
    }>;
    if (!body || !Array.isArray(body.items) || typeof body.hasMore !== 'boolean') {
      throw new ConnectorError({
        code: 'provider_unavailable',
        message: 'NetSuite SuiteQL answer without items/hasMore',
      });
    }
    const items = body.items.map((raw) => {
      const row: SuiteqlRow = {};
      const fields = (raw ?? {}) as Record<string, unknown>;
      for (const k in fields) {
        if (k === 'links' || !Object.hasOwn(fields, k)) continue;
        const v = fields[k];
        if (v === null || v === undefined) continue;
        // Documented as strings; tolerate numbers and booleans from stand-ins without losing exactness.
        row[LOWER_CASE.test(k) ? k : k.toLowerCase()] = typeof v === 'string' ? v : String(v);
      }
      return row;
    });
    return {
      items,
      hasMore: body.hasMore,
      count: typeof body.count === 'number' ? body.count : items.length,
      offset: typeof body.offset === 'number' ? body.offset : offset,
      totalResults: typeof body.totalResults === 'number' ? body.totalResults : null,
    };
  }

  /** Every row of a (small) query by limit/offset: for bounded answers only (< 100,000 rows). */
  async suiteqlAll(q: string, signal?: AbortSignal, limit = SUITEQL_MAX_LIMIT): Promise<SuiteqlRow[]> {
    const rows: SuiteqlRow[] = [];
    for (let offset = 0; ; offset += limit) {
      const page = await this.suiteql(q, { limit, offset }, signal);
      rows.push(...page.items);
      if (!page.hasMore || page.items.length === 0) return rows;
      if (offset + limit >= SUITEQL_MAX_ROWS) {
        throw new ConnectorError({
          code: 'invalid_query',
          message: 'NetSuite SuiteQL query exceeds 100,000 rows; page it by id',
        });
      }
    }
  }

  /** One request with the full retry policy. */
  async request(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
    signal?: AbortSignal,
    kind: { query?: boolean; restlet?: boolean } = {},
  ): Promise<unknown> {
    const search = new URLSearchParams(query).toString();
    const url = `${this.restUrl}${path}${search ? `?${search}` : ''}`;
    const auth = this.o.auth;
    let token: string | null = auth.type === 'tba' ? null : await auth.getAccessToken();
    let reauthorized = false;
    let throttles = 0;
    let failures = 0;
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      let error: ConnectorError;
      try {
        return await this.limiter.run(() => this.once(method, url, token, body, signal, kind), signal);
      } catch (e) {
        if (!(e instanceof ConnectorError)) throw e;
        error = e;
      }
      if (error.code === 'unauthorized' && error.status === 401 && !reauthorized) {
        reauthorized = true;
        if (auth.type !== 'tba' && !(token && decodeTbaSecret(token))) {
          const latest = await auth.getAccessToken();
          token = latest !== token ? latest : await this.refresh();
        }
        this.o.logger?.warn({ accountId: this.accountId, path }, 'NetSuite 401; re-authorizing once');
        continue;
      }
      if (error.code === 'rate_limited' && throttles < this.o.maxThrottleRetries) {
        const wait = this.backoff(throttles++);
        this.o.logger?.warn(
          { accountId: this.accountId, path, wait, attempt: throttles },
          'NetSuite concurrency limit (429); pausing the account',
        );
        await this.limiter.pause(wait);
        continue;
      }
      if (
        (error.code === 'provider_unavailable' || error.code === 'network') &&
        failures < this.o.maxServerRetries
      ) {
        const wait = this.backoff(failures++);
        this.o.logger?.warn(
          { accountId: this.accountId, path, wait, attempt: failures, status: error.status },
          'NetSuite unavailable; backing off',
        );
        await this.o.sleep(wait, signal);
        continue;
      }
      throw error;
    }
  }

  /** Exponential backoff with jitter in [cap/2, cap): many workers hitting one account spread out. */
  private backoff(attempt: number): number {
    const cap = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** attempt);
    return Math.round(cap / 2 + (this.o.random() * cap) / 2);
  }

  private refresh(): Promise<string> {
    const auth = this.o.auth;
    if (!auth || auth.type === 'tba') return Promise.reject(new Error('not a bearer client'));
    this.refreshing ??= auth.onUnauthorized().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private authorization(method: string, url: string, token: string | null): string {
    const auth = this.o.auth;
    if (auth.type === 'tba')
      return authorizeTba({ ...auth, realm: this.accountId }, { method, url }, this.o.now);
    const tba = token ? decodeTbaSecret(token) : null;
    if (tba) {
      if (auth.type !== 'stored' || !auth.consumerKey || !auth.consumerSecret) {
        throw new ConnectorError({
          code: 'unauthorized',
          message: 'NetSuite TBA connection but NETSUITE_CONSUMER_KEY/SECRET are not configured',
        });
      }
      const credentials = { consumerKey: auth.consumerKey, consumerSecret: auth.consumerSecret, ...tba };
      return authorizeTba({ ...credentials, realm: this.accountId }, { method, url }, this.o.now);
    }
    return `Bearer ${token}`;
  }

  private async once(
    method: string,
    url: string,
    token: string | null,
    body: unknown,
    signal: AbortSignal | undefined,
    kind: { query?: boolean; restlet?: boolean },
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.o.requestTimeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.o.fetch(url, {
        method,
        headers: {
          // Signed now, inside the pool slot: the timestamp is fresh when the request leaves.
          Authorization: this.authorization(method, url, token),
          Accept: 'application/json',
          // A RESTlet reads the request's Content-Type to pick its answer's format, on a GET too.
          ...(body === undefined && !kind.restlet ? {} : { 'Content-Type': 'application/json' }),
          ...(kind.query ? { Prefer: 'transient' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw new ConnectorError({
        code: 'network',
        message: `NetSuite unreachable: ${(e as Error).message}`,
        cause: e,
      });
    }
    if (!res.ok) throw errorFromResponse(res.status, text, kind);
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ConnectorError({
        code: 'provider_unavailable',
        message: `NetSuite: non-JSON answer (HTTP ${res.status})`,
        cause: e,
      });
    }
  }
}
