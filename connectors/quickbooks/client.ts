/**
 * QuickBooks Online Accounting API client on fetch.
 *
 * Why not node-quickbooks: its callback API hides the HTTP status and headers we need (Retry-After, 429 vs 403
 * throttles, XML faults), it owns token refresh itself (and treats `invalid_grant` as success, mcohen01/
 * node-quickbooks#171), it has no AbortSignal support and its constructor uses eval. The protocol surface we use
 * (query, read, cdc) is three GET forms, so a small fetch client is simpler and fully testable with nock.
 * https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features
 */
import type { Instant } from '../canonical';
import { ConnectorError } from '../errors';
import type { ConnectorLogger, RequestLimiter } from '../types';
import { abortError, abortableSleep, type Sleep } from '../abortable-sleep';
import { faultFromJson, faultToError, parseFault } from './faults';
import { RealmLimiter } from './realm-limiter';

export const QBO_MINOR_VERSION = 75;
/** Intuit: "wait 60 seconds before retrying" after a 429 without Retry-After. */
export const QBO_THROTTLE_WAIT_MS = 60_000;

export interface QboClientOptions {
  /** API root for the environment, e.g. https://quickbooks.api.intuit.com (see oauth.ts `quickbooksEndpoints`). */
  apiBaseUrl: string;
  realmId: string;
  getAccessToken(): Promise<string>;
  /** Refreshes (under the caller's per-realm lock) and returns the new access token; called at most once per request. */
  onUnauthorized(): Promise<string>;
  minorVersion?: number;
  throttleWaitMs?: number;
  maxThrottleRetries?: number;
  /** Retries after a 5xx or network failure (so attempts = retries + 1). */
  maxServerRetries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Intuit times requests out at 120 s; we give up a little later. */
  requestTimeoutMs?: number;
  /** The realm's request budget (in-process by default); a 429 pauses it, so every request of the realm waits. */
  limiter?: RequestLimiter;
  sleep?: Sleep;
  random?: () => number;
  fetch?: typeof fetch;
  logger?: ConnectorLogger;
}

/** `{"QueryResponse":{"Invoice":[...],"startPosition":1,"maxResults":n},"time":"..."}`; `{}` past the end. */
export interface QueryEnvelope {
  QueryResponse: Record<string, unknown>;
  time?: string;
}

/** `{"CDCResponse":[{"QueryResponse":[{<Entity>:[...]} | {}, ...]}],"time":"..."}` */
export interface CdcEnvelope {
  CDCResponse: Array<{ QueryResponse?: Array<Record<string, unknown>> }>;
  time?: string;
}

export class QboClient {
  readonly realmId: string;
  private readonly o: Required<Omit<QboClientOptions, 'logger' | 'limiter'>> &
    Pick<QboClientOptions, 'logger'>;
  private readonly limiter: RequestLimiter;
  private refreshing: Promise<string> | null = null;

  constructor(options: QboClientOptions) {
    this.realmId = options.realmId;
    // Standalone use (tests, benches): a limiter of this client alone; the app passes the realm's process limiter.
    this.limiter = options.limiter ?? new RealmLimiter();
    this.o = {
      minorVersion: QBO_MINOR_VERSION,
      throttleWaitMs: QBO_THROTTLE_WAIT_MS,
      maxThrottleRetries: 3,
      maxServerRetries: 4,
      backoffBaseMs: 500,
      backoffMaxMs: 15_000,
      requestTimeoutMs: 130_000,
      sleep: abortableSleep,
      random: Math.random,
      fetch: (...args) => fetch(...args),
      // An explicit `undefined` must not erase a default.
      ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as QboClientOptions),
      apiBaseUrl: options.apiBaseUrl.replace(/\/+$/, ''),
    };
  }

  /** GET /v3/company/{realmId}/query?query=<SELECT ...> (https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries) */
  async query(sql: string, signal?: AbortSignal): Promise<QueryEnvelope> {
    const body = await this.get('query', { query: sql }, signal);
    const envelope = body as Partial<QueryEnvelope>;
    if (!envelope || typeof envelope.QueryResponse !== 'object' || envelope.QueryResponse === null) {
      throw badResponse('query answer without QueryResponse');
    }
    return envelope as QueryEnvelope;
  }

  /**
   * GET /v3/company/{realmId}/{entity}/{id}; `include=invoiceLink` asks for the customer payment link on invoices
   * (https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice#read-an-invoice).
   */
  async read(entity: string, id: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const params: Record<string, string> = entity === 'Invoice' ? { include: 'invoiceLink' } : {};
    const body = (await this.get(
      `${entity.toLowerCase()}/${encodeURIComponent(id)}`,
      params,
      signal,
    )) as Record<string, unknown>;
    const row = body?.[entity];
    if (typeof row !== 'object' || row === null) throw badResponse(`read answer without ${entity}`);
    return row as Record<string, unknown>;
  }

  /** GET /v3/company/{realmId}/cdc?entities=A,B&changedSince=<ISO> (https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture) */
  async cdc(entities: readonly string[], changedSince: Instant, signal?: AbortSignal): Promise<CdcEnvelope> {
    const body = (await this.get(
      'cdc',
      { entities: entities.join(','), changedSince },
      signal,
    )) as Partial<CdcEnvelope>;
    if (!body || !Array.isArray(body.CDCResponse)) throw badResponse('cdc answer without CDCResponse');
    return body as CdcEnvelope;
  }

  /** One GET with the full retry policy: 401 -> one refresh + retry; 429/3001 -> wait as asked; 5xx -> backoff. */
  async get(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<unknown> {
    // Percent-encoding (%20, not URLSearchParams' "+") as Intuit's own SDKs send the query text.
    const search = Object.entries({ ...params, minorversion: String(this.o.minorVersion) })
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    const url = new URL(
      `${this.o.apiBaseUrl}/v3/company/${encodeURIComponent(this.realmId)}/${path}?${search}`,
    );

    let token = await this.o.getAccessToken();
    let refreshed = false;
    let throttles = 0;
    let failures = 0;
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      let error: ConnectorError;
      try {
        return await this.limiter.run(() => this.once(url, token, signal), signal);
      } catch (e) {
        if (!(e instanceof ConnectorError)) throw e;
        error = e;
      }
      if (error.code === 'unauthorized' && error.status === 401 && !refreshed) {
        refreshed = true;
        // Another request may already have refreshed: retry with the stored token before refreshing ourselves.
        const latest = await this.o.getAccessToken();
        token = latest !== token ? latest : await this.refresh();
        continue;
      }
      if (error.code === 'rate_limited' && throttles < this.o.maxThrottleRetries) {
        throttles++;
        const wait = error.retryAfterMs ?? this.o.throttleWaitMs;
        this.o.logger?.warn(
          { realmId: this.realmId, path, wait, attempt: throttles },
          'QuickBooks throttled; pausing the realm',
        );
        // The whole realm is throttled, not this request: every request of it (every process, when the budget
        // is shared) holds until Retry-After has passed; this one waits in the limiter like the others.
        await this.limiter.pause(wait);
        continue;
      }
      if (
        (error.code === 'provider_unavailable' || error.code === 'network') &&
        failures < this.o.maxServerRetries
      ) {
        const cap = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** failures);
        failures++;
        // Full jitter: spreads retries of many workers hitting the same outage.
        const wait = Math.round(cap / 2 + (this.o.random() * cap) / 2);
        this.o.logger?.warn(
          { realmId: this.realmId, path, wait, attempt: failures, status: error.status },
          'QuickBooks unavailable; backing off',
        );
        await this.o.sleep(wait, signal);
        continue;
      }
      throw error;
    }
  }

  /** Single flight: concurrent 401s of this client share one refresh. */
  private refresh(): Promise<string> {
    this.refreshing ??= this.o.onUnauthorized().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async once(url: URL, token: string, signal?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.o.requestTimeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.o.fetch(url, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      throw new ConnectorError({
        code: 'network',
        message: `QuickBooks unreachable: ${(e as Error).message}`,
        cause: e,
      });
    }
    if (!res.ok)
      throw faultToError(res.status, parseFault(text), retryAfterMs(res.headers.get('retry-after')));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw badResponse(`non-JSON answer (HTTP ${res.status})`, e);
    }
    // Some faults arrive with HTTP 200 (e.g. inside batch items); a top-level one still means failure.
    const fault = faultFromJson(json);
    if (fault) throw faultToError(400, fault);
    return json;
  }
}

function badResponse(message: string, cause?: unknown): ConnectorError {
  return new ConnectorError({ code: 'provider_unavailable', message: `QuickBooks: ${message}`, cause });
}

/** Retry-After is delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
