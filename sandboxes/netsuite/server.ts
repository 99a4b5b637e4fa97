/**
 * A local NetSuite stand-in on node:http, for the demo and end-to-end tests: SuiteQL over a generated OneWorld
 * company (./company.ts), TBA verification (HMAC-SHA256 recomputed, replayed nonces refused with INVALID_LOGIN as
 * NetSuite does), OAuth 2.0 authorize/token/revoke (code + PKCE S256, refresh, client credentials), the
 * per-account concurrency limit (429 without Retry-After over the limit) and injectable failures, and Duely's
 * invoice-PDF RESTlet as deployed in an account (GET /app/site/hosting/restlet.nl?script=…&deploy=…&id=…, answering
 * the base64 PDF as connectors/netsuite/suitescript/duely_invoice_pdf.js does).
 * Point the connector at it with NETSUITE_REST_URL / _AUTHORIZE_URL / _TOKEN_URL / _REVOKE_URL / _RESTLET_URL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { signTba } from '../../connectors/netsuite/tba';
import { invoicePdfBytes } from '../invoice-pdf';
import { NetsuiteCompany } from './company';
import { runSuiteql, SuiteqlError } from './suiteql';

const RESTLET_PATH = '/app/site/hosting/restlet.nl';

export interface SandboxOptions {
  company?: NetsuiteCompany;
  accountId?: string;
  consumerKey?: string;
  consumerSecret?: string;
  /** TBA tokens the admin "created": tokenId -> tokenSecret. */
  tokens?: Record<string, string>;
  clientId?: string;
  clientSecret?: string;
  /** M2M certificate ids accepted as `kid`. */
  certificateIds?: string[];
  /** Requests served at once before answering 429 (NetSuite's account pool). */
  concurrencyLimit?: number;
  /** Answer time of each SuiteQL request, so concurrency is observable (and NetSuite's page time replayed). */
  latencyMs?: number;
  /** Rows a SuiteQL query yields at most however it is paged (NetSuite: 100,000); past it, 400. */
  maxResults?: number;
}

function errorBody(status: number, code: string, detail: string) {
  return {
    type: 'https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html',
    title: String(status),
    status,
    'o:errorDetails': [{ detail, 'o:errorCode': code }],
  };
}

const INVALID_LOGIN =
  'Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.';

export class NetsuiteSandbox {
  readonly company: NetsuiteCompany;
  readonly accountId: string;
  readonly options: Required<Omit<SandboxOptions, 'company' | 'accountId'>>;
  private server: Server | null = null;
  private readonly nonces = new Set<string>();
  private readonly codes = new Map<string, { challenge: string; redirectUri: string }>();
  private readonly accessTokens = new Set<string>();
  private readonly refreshTokens = new Set<string>();
  private inFlight = 0;
  /** Statuses to answer the next SuiteQL requests with (429, 500, 401...), first in first out. */
  readonly failures: number[] = [];
  /** Every SuiteQL query received, for assertions. */
  readonly queries: string[] = [];
  /**
   * Failures of the next queries that `match` (the query text): each answers `status` (429: NetSuite's concurrency
   * refusal; else an unexpected error) `times` times over, then the query is served. Tests fail a sync mid-round.
   */
  readonly queryFailures: Array<{ match: (q: string) => boolean; status: number; times: number }> = [];
  /** The invoice-PDF RESTlet as deployed in this account (NETSUITE_PDF_RESTLET names it). */
  readonly restletDeployment = { script: 'customscript_duely_pdf', deploy: 'customdeploy_duely_pdf' };
  /** Statuses to answer the next RESTlet requests with, first in first out. */
  readonly restletFailures: number[] = [];
  /** Invoice ids the PDF RESTlet rendered, for assertions. */
  readonly restletCalls: string[] = [];
  /**
   * Called with each SuiteQL query as it arrives (after authentication): 'hold' leaves it unanswered until the client
   * goes away (tests hold a request of a sync process, then kill that process: the kill lands at a known point).
   */
  onQuery: ((q: string) => 'hold' | undefined) | null = null;
  peakInFlight = 0;
  /** SuiteQL requests refused for paging past `maxResults`. */
  overLimit = 0;
  url = '';

  constructor(options: SandboxOptions = {}) {
    this.company = options.company ?? NetsuiteCompany.generate();
    this.accountId = options.accountId ?? '1234567_SB1';
    this.options = {
      consumerKey: options.consumerKey ?? 'sandbox-consumer-key',
      consumerSecret: options.consumerSecret ?? 'sandbox-consumer-secret',
      tokens: options.tokens ?? { 'sandbox-token-id': 'sandbox-token-secret' },
      clientId: options.clientId ?? 'sandbox-client-id',
      clientSecret: options.clientSecret ?? 'sandbox-client-secret',
      certificateIds: options.certificateIds ?? ['sandbox-certificate'],
      concurrencyLimit: options.concurrencyLimit ?? 5,
      latencyMs: options.latencyMs ?? 0,
      maxResults: options.maxResults ?? 100_000,
    };
  }

  /** Environment for the connector's config (every URL on this server). */
  env(): Record<string, string> {
    return {
      NETSUITE_CONSUMER_KEY: this.options.consumerKey,
      NETSUITE_CONSUMER_SECRET: this.options.consumerSecret,
      NETSUITE_CLIENT_ID: this.options.clientId,
      NETSUITE_CLIENT_SECRET: this.options.clientSecret,
      NETSUITE_REST_URL: this.url,
      NETSUITE_AUTHORIZE_URL: `${this.url}/app/login/oauth2/authorize.nl`,
      NETSUITE_TOKEN_URL: `${this.url}/services/rest/auth/oauth2/v1/token`,
      NETSUITE_REVOKE_URL: `${this.url}/services/rest/auth/oauth2/v1/revoke`,
      NETSUITE_RESTLET_URL: this.url,
    };
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => this.json(res, 500, errorBody(500, 'UNEXPECTED_ERROR', String(e))));
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  }

  private async body(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    if (req.method === 'POST' && path === '/services/rest/query/v1/suiteql')
      return this.suiteql(req, res, url);
    if (req.method === 'GET' && path === '/app/login/oauth2/authorize.nl') return this.authorize(res, url);
    if (path === RESTLET_PATH) return this.restlet(req, res, url);
    if (req.method === 'POST' && path === '/services/rest/auth/oauth2/v1/token') return this.token(req, res);
    if (req.method === 'POST' && path === '/services/rest/auth/oauth2/v1/revoke') {
      const form = new URLSearchParams(await this.body(req));
      this.refreshTokens.delete(form.get('token') ?? '');
      this.accessTokens.delete(form.get('token') ?? '');
      return this.json(res, 200, {});
    }
    this.json(res, 404, errorBody(404, 'NONEXISTENT_ID', `No resource ${path}`));
  }

  /**
   * Duely's invoice-PDF RESTlet, deployed as `restlet` (script and deployment ids): GET with `id` answers
   * {contentType, fileName, base64} of the invoice's printed PDF; SuiteScript error bodies otherwise.
   */
  private async restlet(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const { script, deploy } = this.restletDeployment;
    if (url.searchParams.get('script') !== script || url.searchParams.get('deploy') !== deploy) {
      return this.json(res, 400, {
        error: {
          code: 'SSS_INVALID_SCRIPTLET_ID',
          message: 'That Suitelet is invalid, disabled, or no longer exists.',
        },
      });
    }
    if (!this.authenticated(req)) {
      return this.json(res, 401, {
        error: { code: 'INVALID_LOGIN_ATTEMPT', message: 'Invalid login attempt.' },
      });
    }
    const failure = this.restletFailures.shift();
    if (failure) {
      return this.json(res, failure, { error: { code: 'UNEXPECTED_ERROR', message: 'Injected failure' } });
    }
    if (req.method !== 'GET' || req.headers['content-type'] !== 'application/json') {
      return this.json(res, 400, {
        error: {
          code: 'INVALID_RETURN_DATA_FORMAT',
          message: 'Invalid data format. You should return TEXT.',
        },
      });
    }
    const id = url.searchParams.get('id') ?? '';
    if (!id) {
      return this.json(res, 400, {
        error: { code: 'SSS_MISSING_REQD_ARGUMENT', message: 'Missing a required argument: id' },
      });
    }
    const t = this.company.txns.get(Number(id));
    if (t?.type !== 'CustInvc') {
      return this.json(res, 400, {
        error: { code: 'DUELY_INVOICE_NOT_FOUND', message: `No invoice with internal id ${id}` },
      });
    }
    const pdf = invoicePdfBytes([
      `Invoice ${t.tranid}`,
      `Date ${t.trandate}   Due ${t.duedate ?? '-'}`,
      `Amount due ${this.company.money(this.company.unpaid(t), t.currency)} ${t.currency}`,
    ]);
    this.restletCalls.push(id);
    return this.json(res, 200, {
      contentType: 'application/pdf',
      fileName: `${t.tranid}.pdf`,
      base64: pdf.toString('base64'),
    });
  }

  /** TBA: recompute the signature over the URL as the client addressed it; bearer: a token we issued. */
  private authenticated(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Bearer ')) return this.accessTokens.has(header.slice(7));
    if (!header.startsWith('OAuth ')) return false;
    const params = Object.fromEntries(
      [...header.slice(6).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], decodeURIComponent(m[2] ?? '')]),
    );
    const tokenSecret = this.options.tokens[params.oauth_token ?? ''];
    if (
      !tokenSecret ||
      params.oauth_consumer_key !== this.options.consumerKey ||
      params.oauth_signature_method !== 'HMAC-SHA256' ||
      params.realm !== this.accountId
    ) {
      return false;
    }
    const timestamp = Number(params.oauth_timestamp);
    if (!(Math.abs(Date.now() / 1000 - timestamp) < 300)) return false;
    const nonceKey = `${params.oauth_nonce}:${params.oauth_timestamp}`;
    if (this.nonces.has(nonceKey)) return false;
    const expected = signTba({
      method: req.method ?? 'POST',
      url: `http://${req.headers.host}${req.url}`,
      realm: this.accountId,
      consumerKey: this.options.consumerKey,
      consumerSecret: this.options.consumerSecret,
      tokenId: params.oauth_token ?? '',
      tokenSecret,
      nonce: params.oauth_nonce ?? '',
      timestamp: params.oauth_timestamp ?? '',
    });
    if (expected.signature !== params.oauth_signature) return false;
    this.nonces.add(nonceKey);
    return true;
  }

  private async suiteql(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const text = await this.body(req);
    if (!this.authenticated(req)) return this.json(res, 401, errorBody(401, 'INVALID_LOGIN', INVALID_LOGIN));
    const failure = this.failures.shift();
    if (failure === 429)
      return this.json(
        res,
        429,
        errorBody(429, 'CONCURRENCY_LIMIT_EXCEEDED', 'Concurrent request limit exceeded. Request blocked.'),
      );
    if (failure) return this.json(res, failure, errorBody(failure, 'UNEXPECTED_ERROR', 'Injected failure'));
    if (this.inFlight >= this.options.concurrencyLimit) {
      return this.json(
        res,
        429,
        errorBody(429, 'CONCURRENCY_LIMIT_EXCEEDED', 'Concurrent request limit exceeded. Request blocked.'),
      );
    }
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      if (req.headers.prefer !== 'transient') {
        return this.json(res, 400, errorBody(400, 'INVALID_HEADER', 'SuiteQL requires Prefer: transient'));
      }
      let q = '';
      try {
        q = String((JSON.parse(text) as { q?: unknown }).q ?? '');
      } catch {
        return this.json(res, 400, errorBody(400, 'INVALID_CONTENT', 'Body is not JSON'));
      }
      this.queries.push(q);
      if (this.onQuery?.(q) === 'hold') {
        await new Promise<void>((resolve) => res.once('close', () => resolve()));
        return;
      }
      const failing = this.queryFailures.find((f) => f.times > 0 && f.match(q));
      if (failing) {
        failing.times--;
        return failing.status === 429
          ? this.json(
              res,
              429,
              errorBody(
                429,
                'CONCURRENCY_LIMIT_EXCEEDED',
                'Concurrent request limit exceeded. Request blocked.',
              ),
            )
          : this.json(res, failing.status, errorBody(failing.status, 'UNEXPECTED_ERROR', 'Injected failure'));
      }
      const limit = Number(url.searchParams.get('limit') ?? '1000');
      const offset = Number(url.searchParams.get('offset') ?? '0');
      if (!(limit >= 1 && limit <= 1000) || offset % limit !== 0) {
        return this.json(res, 400, errorBody(400, 'INVALID_PARAMETER', 'Invalid limit/offset'));
      }
      let rows: Record<string, string>[];
      try {
        rows = runSuiteql(this.company, q);
      } catch (e) {
        if (e instanceof SuiteqlError)
          return this.json(res, 400, errorBody(400, 'INVALID_PARAMETER', e.message));
        throw e;
      }
      if (offset + limit > this.options.maxResults) {
        this.overLimit++;
        return this.json(
          res,
          400,
          errorBody(400, 'INVALID_PARAMETER', `The query exceeds ${this.options.maxResults} results`),
        );
      }
      if (this.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.options.latencyMs));
      const items = rows.slice(offset, offset + limit);
      this.json(res, 200, {
        links: [{ rel: 'self', href: `${this.url}/services/rest/query/v1/suiteql` }],
        count: items.length,
        hasMore: offset + items.length < rows.length,
        items: items.map((r) => ({ links: [], ...r })),
        offset,
        totalResults: rows.length,
      });
    } finally {
      this.inFlight--;
    }
  }

  /** Consent is automatic: straight back to the redirect URI with a code, the state and the account. */
  private authorize(res: ServerResponse, url: URL): void {
    const p = url.searchParams;
    const state = p.get('state') ?? '';
    if (
      p.get('client_id') !== this.options.clientId ||
      p.get('code_challenge_method') !== 'S256' ||
      state.length < 22
    ) {
      this.json(res, 400, { error: 'invalid_request' });
      return;
    }
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, {
      challenge: p.get('code_challenge') ?? '',
      redirectUri: p.get('redirect_uri') ?? '',
    });
    const back = new URL(p.get('redirect_uri') ?? '');
    back.searchParams.set('code', code);
    back.searchParams.set('state', state);
    back.searchParams.set('role', '3');
    back.searchParams.set('entity', '-5');
    back.searchParams.set('company', this.accountId);
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  private issue(withRefresh: boolean) {
    const access = `ns-at-${randomBytes(12).toString('hex')}`;
    this.accessTokens.add(access);
    const body: Record<string, string> = { access_token: access, expires_in: '3600', token_type: 'Bearer' };
    if (withRefresh) {
      const refresh = `ns-rt-${randomBytes(12).toString('hex')}`;
      this.refreshTokens.add(refresh);
      body.refresh_token = refresh;
    }
    return body;
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await this.body(req));
    const grant = form.get('grant_type');
    const basic = `Basic ${Buffer.from(`${this.options.clientId}:${this.options.clientSecret}`).toString('base64')}`;
    if (grant === 'client_credentials') {
      try {
        const assertion = form.get('client_assertion') ?? '';
        const header = decodeProtectedHeader(assertion);
        const claims = decodeJwt(assertion);
        const ok =
          form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' &&
          this.options.certificateIds.includes(String(header.kid)) &&
          String(header.alg).match(/^(PS|ES)(256|384|512)$/) &&
          claims.iss === this.options.clientId &&
          String(claims.scope).split(',').includes('rest_webservices');
        if (!ok) return this.json(res, 400, { error: 'invalid_client' });
      } catch {
        return this.json(res, 400, { error: 'invalid_request' });
      }
      return this.json(res, 200, this.issue(false));
    }
    if (req.headers.authorization !== basic) return this.json(res, 401, { error: 'invalid_client' });
    if (grant === 'authorization_code') {
      const entry = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      const challenge = createHash('sha256')
        .update(form.get('code_verifier') ?? '')
        .digest('base64url');
      if (!entry || entry.challenge !== challenge || entry.redirectUri !== form.get('redirect_uri')) {
        return this.json(res, 400, { error: 'invalid_grant' });
      }
      return this.json(res, 200, this.issue(true));
    }
    if (grant === 'refresh_token') {
      if (!this.refreshTokens.has(form.get('refresh_token') ?? ''))
        return this.json(res, 400, { error: 'invalid_grant' });
      return this.json(res, 200, this.issue(false));
    }
    this.json(res, 400, { error: 'unsupported_grant_type' });
  }
}
