/**
 * A local, QuickBooks-compatible HTTP server for the demo, end-to-end tests and benchmarks. It speaks the same
 * protocol as Intuit (OAuth 2.0 authorize/token/revoke/userinfo; v3 query, read and CDC; signed legacy webhooks)
 * over a deterministic generated company (company.ts). Everything is in memory.
 */
import { createSign, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QuickbooksConfig } from '../../connectors/quickbooks/oauth';
import { INTUIT_ISSUER } from '../../connectors/quickbooks/openid';
import { SIGNATURE_HEADER, signWebhook } from '../../connectors/quickbooks/webhooks';
import { invoicePdfBytes } from '../invoice-pdf';
import { type Change, Company, type EntityName, type Row, type SbInvoice } from './company';
import { compareSandboxIds, parseQuery, QueryError } from './query';
import {
  qboDate,
  qboInstant,
  renderAccount,
  renderCreditMemo,
  renderCustomer,
  renderDeleted,
  renderInvoice,
  renderJournalEntry,
  renderPayment,
} from './render';

export interface SandboxOptions {
  port?: number;
  host?: string;
  seed: number;
  /** The sandbox clock's starting instant; history ends here. */
  now: Date;
  customers?: number;
  invoices?: number;
  verifierToken: string;
  webhookUrl?: string;
  clientId: string;
  clientSecret: string;
  /** The app's registered redirect URIs: like Intuit, any other redirect_uri is refused. Absent: any URL. */
  redirectUris?: string[];
  realmId?: string;
  /** CompanyInfo.CompanyName (default "Sandbox Company US <last 4 of the realm>"). */
  companyName?: string;
  /** Objects per CDC answer before it is cut (Intuit: 1000); tests make it small to saturate it. */
  cdcLimit?: number;
  /** Access tokens expire on the sandbox clock, so advance() past it forces the 401 -> refresh path. */
  accessTokenTtlSeconds?: number;
  /**
   * Where an invoice's InvoiceLink points: `<payLinkBase>/<realm id>/<invoice id>` (default `<sandbox url>/pay`,
   * a path the sandbox does not serve). The demo company points it at a page Duely serves (src/demo-company.ts).
   */
  payLinkBase?: string;
}

export interface ApiRequest {
  /** e.g. `query`, `cdc`, `invoice` */
  resource: string;
  /** The query text of a query request. */
  query: string | null;
  /** 1-based count of API requests so far, this one included. */
  n: number;
}

export interface WebhookDelivery {
  status: number | null;
  error: string | null;
  entities: number;
}

export interface AdvanceResult {
  changes: Change[];
  webhook: WebhookDelivery | null;
}

export interface Sandbox {
  url: string;
  realmId: string;
  /** Config values that point the QuickBooks connector at this sandbox. */
  config: Required<
    Pick<
      QuickbooksConfig,
      | 'QUICKBOOKS_AUTHORIZE_URL'
      | 'QUICKBOOKS_TOKEN_URL'
      | 'QUICKBOOKS_REVOKE_URL'
      | 'QUICKBOOKS_USERINFO_URL'
      | 'QUICKBOOKS_API_URL'
      | 'QUICKBOOKS_JWKS_URL'
    >
  >;
  /** Ground truth: the generated company (balances(), invoices, payments, ...). */
  company: Company;
  now(): Date;
  advance(days: number): Promise<AdvanceResult>;
  recordPayment(
    invoiceId: string,
    amountMinor?: number,
  ): Promise<AdvanceResult & { paymentId: string | null }>;
  voidInvoice(invoiceId: string): Promise<AdvanceResult>;
  deleteInvoice(invoiceId: string): Promise<AdvanceResult>;
  /** The next `count` API requests answer 429 (XML body, like Intuit), with Retry-After when given. */
  throttle(count: number, retryAfterSeconds?: number): void;
  /** The next `count` API requests answer `status` with an empty body. */
  failNext(count: number, status?: number): void;
  /** Number of v3 API requests served (including injected failures). */
  requests(): number;
  /**
   * Called before each v3 API request is answered (tests script changes between pages: a delete after the first
   * invoice page, a crash in the middle). `null` removes the hook.
   */
  onApiRequest(hook: ((request: ApiRequest) => void | Promise<void>) | null): void;
  stop(): Promise<void>;
}

const ENTITY_PATHS: Record<string, EntityName> = {
  customer: 'Customer',
  invoice: 'Invoice',
  payment: 'Payment',
  creditmemo: 'CreditMemo',
  journalentry: 'JournalEntry',
  account: 'Account',
};
const CDC_LIMIT = 1000;

interface AccessToken {
  realmId: string;
  expiresAt: number;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const company = new Company({
    seed: options.seed,
    now: options.now,
    customers: options.customers ?? 150,
    invoices: options.invoices ?? 5000,
  });
  const realmId = options.realmId ?? `91303${String(options.seed >>> 0).padStart(11, '0')}`;
  const ttlMs = (options.accessTokenTtlSeconds ?? 3600) * 1000;
  const companyName = options.companyName ?? `Sandbox Company US ${realmId.slice(-4)}`;
  const codes = new Map<string, { redirectUri: string; openid: boolean }>();
  // ID tokens are RS256 JWTs like Intuit's, signed by a key made for this sandbox and published at /op/v1/jwks.
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `sbx-${randomBytes(6).toString('hex')}`;
  const accessTokens = new Map<string, AccessToken>();
  /**
   * refresh token -> still usable (false once rotated away or revoked). Intuit may rotate on any refresh; the
   * sandbox always does, so stale-token races show up as invalid_grant.
   */
  const refreshTokens = new Map<string, boolean>();
  let throttled = { count: 0, retryAfter: undefined as number | undefined };
  let failing = { count: 0, status: 503 };
  let served = 0;
  let url = '';
  let apiHook: ((request: ApiRequest) => void | Promise<void>) | null = null;

  const userSub = `sandbox-user-${realmId}`;
  const token = (prefix: string) => `${prefix}-${randomBytes(18).toString('base64url')}`;

  /** ID tokens live on the wall clock, not the sandbox clock: their verifiers check `exp` against the real time. */
  function idToken(): string {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(signingKey.privateKey, kid, {
      iss: INTUIT_ISSUER,
      aud: [options.clientId],
      sub: userSub,
      realmid: realmId,
      auth_time: now,
      iat: now,
      exp: now + 3600,
    });
  }

  function issueTokens(withIdToken = false) {
    const accessToken = token('sbx-at');
    const refreshToken = token('sbx-rt');
    accessTokens.set(accessToken, { realmId, expiresAt: company.now() + ttlMs });
    refreshTokens.set(refreshToken, true);
    return {
      token_type: 'bearer',
      access_token: accessToken,
      refresh_token: refreshToken,
      expires_in: ttlMs / 1000,
      x_refresh_token_expires_in: 8_726_400,
      ...(withIdToken ? { id_token: idToken() } : {}),
    };
  }

  const customerOf = (id: string) => company.customers.get(id);
  const docNumberOf = (id: string) =>
    company.invoices.get(id)?.docNumber ??
    company.creditMemos.get(id)?.docNumber ??
    company.journalEntries.get(id)?.docNumber ??
    '';

  function render(entity: EntityName, row: Row, withLink = false): object {
    switch (entity) {
      case 'Customer':
        return renderCustomer(company.customers.get(row.id) as NonNullable<ReturnType<typeof customerOf>>);
      case 'Invoice': {
        const inv = company.invoices.get(row.id);
        if (!inv) throw new Error(`no invoice ${row.id}`);
        if (inv.deleted) return renderDeleted(inv);
        return renderInvoice(
          inv,
          customerOf(inv.customerId),
          withLink ? `${options.payLinkBase ?? `${url}/pay`}/${realmId}/${inv.id}` : undefined,
        );
      }
      case 'Payment': {
        const p = company.payments.get(row.id);
        if (!p) throw new Error(`no payment ${row.id}`);
        return renderPayment(p, customerOf(p.customerId), docNumberOf);
      }
      case 'CreditMemo': {
        const m = company.creditMemos.get(row.id);
        if (!m) throw new Error(`no credit memo ${row.id}`);
        return renderCreditMemo(m, customerOf(m.customerId));
      }
      case 'JournalEntry': {
        const je = company.journalEntries.get(row.id);
        if (!je) throw new Error(`no journal entry ${row.id}`);
        if (je.deleted) return renderDeleted(je);
        return renderJournalEntry(
          je,
          (id) => company.accounts.get(id)?.name ?? id,
          (id) => customerOf(id)?.name ?? id,
        );
      }
      case 'Account': {
        const a = company.accounts.get(row.id);
        if (!a) throw new Error(`no account ${row.id}`);
        return renderAccount(a);
      }
    }
  }

  let filtered = { revision: -1, lists: new Map<string, Row[]>() };
  const isDeleted = (entity: EntityName, row: Row) =>
    (entity === 'Invoice' && company.invoices.get(row.id)?.deleted === true) ||
    (entity === 'JournalEntry' && company.journalEntries.get(row.id)?.deleted === true);

  async function deliver(changes: Change[]): Promise<WebhookDelivery | null> {
    if (!options.webhookUrl || changes.length === 0) return null;
    const latest = new Map<string, Change>();
    for (const c of changes) {
      const key = `${c.name}:${c.id}`;
      const prev = latest.get(key);
      latest.set(
        key,
        prev?.operation === 'Create' && c.operation === 'Update' ? { ...c, operation: 'Create' } : c,
      );
    }
    const entities = [...latest.values()].map((c) => ({
      name: c.name,
      id: c.id,
      operation: c.operation,
      lastUpdated: new Date(c.at).toISOString(),
    }));
    // Legacy format (https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks), signed over these bytes.
    const body = JSON.stringify({ eventNotifications: [{ realmId, dataChangeEvent: { entities } }] });
    try {
      const res = await fetch(options.webhookUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(body, options.verifierToken),
        },
        body,
      });
      await res.arrayBuffer();
      return { status: res.status, error: null, entities: entities.length };
    } catch (e) {
      return { status: null, error: (e as Error).message, entities: entities.length };
    }
  }

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type':
        typeof body === 'string' && text.startsWith('<')
          ? 'application/xml'
          : 'application/json;charset=UTF-8',
      intuit_tid: randomBytes(8).toString('hex'),
      ...headers,
    });
    res.end(text);
  }

  const time = () => qboInstant(company.now(), true);
  const fault = (code: string, message: string, detail: string, type = 'ValidationFault') => ({
    Fault: { Error: [{ Message: message, Detail: detail, code, element: '' }], type },
    time: time(),
  });
  /** Gateway authentication fault: lower-case envelope, epoch-ms time (vendor fault-401-authentication). */
  const authFault = (code: string, message: string, detail: string) => ({
    warnings: null,
    intuitObject: null,
    fault: { error: [{ message, detail, code, element: null }], type: 'AUTHENTICATION' },
    report: null,
    queryResponse: null,
    batchItemResponse: [],
    attachableResponse: [],
    syncErrorResponse: null,
    requestId: null,
    time: company.now(),
    status: null,
    cdcresponse: [],
  });
  const throttleXml = () =>
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<IntuitResponse time="${time()}" xmlns="http://schema.intuit.com/finance/v3">\n  <Fault type="SERVICE">\n    <Error code="3001">\n      <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>\n      <Detail>The request limit was reached.  Try again later</Detail>\n    </Error>\n  </Fault>\n</IntuitResponse>`;

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function clientAuthorized(req: IncomingMessage): boolean {
    const expected = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
    return req.headers.authorization === expected;
  }

  function bearer(req: IncomingMessage): AccessToken | null {
    const header = req.headers.authorization ?? '';
    const t = header.startsWith('Bearer ') ? accessTokens.get(header.slice(7)) : undefined;
    return t && t.expiresAt > company.now() ? t : null;
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    if (!clientAuthorized(req)) return send(res, 401, { error: 'invalid_client' });
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!code || code.redirectUri !== form.get('redirect_uri'))
        return send(res, 400, { error: 'invalid_grant' });
      return send(res, 200, issueTokens(code.openid));
    }
    if (grant === 'refresh_token') {
      const old = form.get('refresh_token') ?? '';
      if (refreshTokens.get(old) !== true) return send(res, 400, { error: 'invalid_grant' });
      refreshTokens.set(old, false);
      return send(res, 200, issueTokens());
    }
    return send(res, 400, { error: 'unsupported_grant_type' });
  }

  async function handleRevoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (!clientAuthorized(req)) return send(res, 401, { error: 'invalid_client' });
    let tokenValue = '';
    try {
      tokenValue = String((JSON.parse(body) as { token?: unknown }).token ?? '');
    } catch {
      return send(res, 400, { error: 'invalid_request' });
    }
    // Revoking either token ends the whole grant: every token of this connection stops working.
    if (refreshTokens.has(tokenValue) || accessTokens.has(tokenValue)) {
      for (const key of refreshTokens.keys()) refreshTokens.set(key, false);
      accessTokens.clear();
    }
    res.writeHead(200).end();
  }

  function handleAuthorize(query: URLSearchParams, res: ServerResponse) {
    const redirectUri = query.get('redirect_uri');
    if (
      query.get('client_id') !== options.clientId ||
      !redirectUri ||
      !URL.canParse(redirectUri) ||
      (options.redirectUris !== undefined && !options.redirectUris.includes(redirectUri)) ||
      query.get('response_type') !== 'code'
    ) {
      return send(res, 400, { error: 'invalid_request' });
    }
    const target = new URL(redirectUri);
    target.searchParams.set('state', query.get('state') ?? '');
    // Without the accounting scope Intuit sends the user back with an error instead of a code.
    if (!(query.get('scope') ?? '').split(' ').includes('com.intuit.quickbooks.accounting')) {
      target.searchParams.set('error', 'invalid_scope');
      res.writeHead(302, { location: target.toString() }).end();
      return;
    }
    // Auto-approve: the user "connects" the sandbox company at once.
    const code = token('sbx-code');
    codes.set(code, { redirectUri, openid: (query.get('scope') ?? '').split(' ').includes('openid') });
    target.searchParams.set('code', code);
    target.searchParams.set('realmId', realmId);
    res.writeHead(302, { location: target.toString() }).end();
  }

  function handleQuery(sql: string, res: ServerResponse) {
    let q: ReturnType<typeof parseQuery>;
    try {
      q = parseQuery(sql);
    } catch (e) {
      if (e instanceof QueryError)
        return send(
          res,
          400,
          fault(
            e.code,
            e.code === '4000' ? 'Error parsing query' : 'Invalid query',
            e.message,
            'ValidationFault',
          ),
        );
      throw e;
    }
    const entity = ENTITY_PATHS[q.entity.toLowerCase()];
    if (!entity)
      return send(
        res,
        400,
        fault('4000', 'Error parsing query', `QueryParserError: Invalid entity ${q.entity}`),
      );
    const since = q.updatedSince;
    // Paging re-runs the same filter for every page: cache it until the company changes.
    // Name lists answer their active rows only, unless the query asks for inactive ones too (as Intuit does).
    const active = q.active ?? (entity === 'Customer' ? true : 'all');
    const key = `${entity}|${since?.at}|${since?.inclusive}|${q.id}|${q.orderById}|${active}|${q.accountType}`;
    let rows = filtered.revision === company.revision ? filtered.lists.get(key) : undefined;
    if (!rows) {
      rows = company.order[entity].filter(
        (row) =>
          !isDeleted(entity, row) &&
          (active === 'all' || (row as { active?: boolean }).active !== !active) &&
          (q.id === null || row.id === q.id) &&
          (q.accountType === null || (row as { accountType?: string }).accountType === q.accountType) &&
          (since === null || (since.inclusive ? row.updatedAt >= since.at : row.updatedAt > since.at)),
      );
      if (q.orderById) rows = [...rows].sort((a, b) => compareSandboxIds(a.id, b.id));
      if (filtered.revision !== company.revision) filtered = { revision: company.revision, lists: new Map() };
      filtered.lists.set(key, rows);
    }
    const afterId = q.afterId;
    if (afterId !== null) rows = rows.filter((row) => compareSandboxIds(row.id, afterId) > 0);
    if (q.count) return send(res, 200, { QueryResponse: { totalCount: rows.length }, time: time() });
    const page = rows.slice(q.startPosition - 1, q.startPosition - 1 + q.maxResults);
    // Past the end Intuit answers an empty QueryResponse with no entity key and no counts.
    if (page.length === 0) return send(res, 200, { QueryResponse: {}, time: time() });
    send(res, 200, {
      QueryResponse: {
        [entity]: page.map((row) => (q.idsOnly ? { Id: row.id } : render(entity, row))),
        startPosition: q.startPosition,
        maxResults: page.length,
      },
      time: time(),
    });
  }

  function handleCdc(query: URLSearchParams, res: ServerResponse) {
    const names = (query.get('entities') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const since = Date.parse(query.get('changedSince') ?? '');
    if (names.length === 0 || Number.isNaN(since)) {
      return send(
        res,
        400,
        fault(
          '2020',
          'Required param missing, need to supply the required value for the API',
          'Required parameter entities/changedSince is missing',
        ),
      );
    }
    let budget = options.cdcLimit ?? CDC_LIMIT;
    const blocks: object[] = [];
    for (const name of names) {
      const entity = ENTITY_PATHS[name.toLowerCase()];
      if (!entity) return send(res, 400, fault('4000', 'Error parsing query', `Invalid entity ${name}`));
      // At most 1000 objects across all entities: later ones are cut, as Intuit documents.
      const rows = company.order[entity]
        .filter((row) => row.updatedAt >= since)
        .slice(0, Math.max(0, budget));
      budget -= rows.length;
      blocks.push(
        rows.length === 0
          ? {}
          : { [entity]: rows.map((row) => render(entity, row)), startPosition: 1, maxResults: rows.length },
      );
    }
    send(res, 200, { CDCResponse: [{ QueryResponse: blocks }], time: time() });
  }

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    parts: string[],
    query: URLSearchParams,
  ): Promise<void> {
    served++;
    if (apiHook) {
      await apiHook({
        resource: parts[3] ?? '',
        query: parts[3] === 'query' && req.method === 'GET' ? query.get('query') : null,
        n: served,
      });
    }
    if (throttled.count > 0) {
      throttled.count--;
      return send(
        res,
        429,
        throttleXml(),
        throttled.retryAfter === undefined ? {} : { 'retry-after': String(throttled.retryAfter) },
      );
    }
    if (failing.count > 0) {
      failing.count--;
      res.writeHead(failing.status).end();
      return;
    }
    const auth = bearer(req);
    if (!auth)
      return send(
        res,
        401,
        authFault(
          '3200',
          'message=AuthenticationFailed; errorCode=003200; statusCode=401',
          'Token expired or invalid',
        ),
      );
    const [, , realm, resource, id] = parts;
    if (realm !== auth.realmId)
      return send(
        res,
        403,
        authFault(
          '3100',
          'message=AuthorizationFailed; errorCode=003100; statusCode=403',
          'Not authorized for this company',
        ),
      );
    if (resource === 'query') {
      return handleQuery(req.method === 'POST' ? await readBody(req) : (query.get('query') ?? ''), res);
    }
    if (resource === 'cdc') return handleCdc(query, res);
    if (resource === 'companyinfo' && id === realmId && req.method === 'GET') {
      return send(res, 200, {
        CompanyInfo: {
          Id: realmId,
          CompanyName: companyName,
          LegalName: companyName,
          Country: 'US',
          SyncToken: '0',
          MetaData: { CreateTime: qboInstant(company.now() - 400 * 86_400_000) },
        },
        time: time(),
      });
    }
    const entity = ENTITY_PATHS[resource ?? ''];
    if (entity && id && req.method === 'GET') {
      const row = company.order[entity].find((r) => r.id === id);
      if (!row || isDeleted(entity, row)) {
        return send(
          res,
          400,
          fault(
            '610',
            'Object Not Found',
            "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, invoices, items, vendors or employees.",
          ),
        );
      }
      if (entity === 'Invoice' && parts[5] === 'pdf') {
        // "Get an invoice as PDF": the document itself, Content-Type application/pdf.
        const inv = row as SbInvoice;
        const pdf = invoicePdfBytes([
          `${companyName} - Invoice ${inv.docNumber}`,
          `Invoice date: ${qboDate(inv.txnDay)}`,
          `Due date: ${qboDate(inv.dueDay)}`,
          `Total: ${(inv.totalMinor / 100).toFixed(2)}`,
          `Balance due: ${(inv.balanceMinor / 100).toFixed(2)}`,
        ]);
        res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(pdf.length) });
        res.end(pdf);
        return;
      }
      return send(res, 200, {
        [entity]: render(entity, row, query.get('include') === 'invoiceLink'),
        time: time(),
      });
    }
    send(
      res,
      400,
      fault('500', 'Unsupported Operation', `Operation ${req.method} ${parts.join('/')} is not supported.`),
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://sandbox');
    const parts = u.pathname.split('/').filter(Boolean);
    if (req.method === 'GET' && u.pathname === '/connect/oauth2') return handleAuthorize(u.searchParams, res);
    if (req.method === 'POST' && u.pathname === '/oauth2/v1/tokens/bearer') return handleToken(req, res);
    if (req.method === 'POST' && u.pathname === '/v2/oauth2/tokens/revoke') return handleRevoke(req, res);
    if (req.method === 'GET' && u.pathname === '/op/v1/jwks') {
      const jwk = signingKey.publicKey.export({ format: 'jwk' });
      return send(res, 200, { keys: [{ kty: 'RSA', use: 'sig', alg: 'RS256', kid, n: jwk.n, e: jwk.e }] });
    }
    if (req.method === 'GET' && u.pathname === '/v1/openid_connect/userinfo') {
      if (!bearer(req)) return send(res, 401, { error: 'invalid_token' });
      return send(res, 200, {
        sub: userSub,
        email: 'owner@sandbox.example.com',
        emailVerified: true,
        givenName: 'Sandbox',
        familyName: 'Owner',
      });
    }
    if (parts[0] === 'v3' && parts[1] === 'company') return handleApi(req, res, parts, u.searchParams);
    send(res, 404, { error: 'not_found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: 'sandbox_error', message: (e as Error).message });
      else res.end();
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  url = `http://${options.host ?? '127.0.0.1'}:${port}`;

  const withWebhook = async (changes: Change[]): Promise<AdvanceResult> => ({
    changes,
    webhook: await deliver(changes),
  });

  return {
    url,
    realmId,
    config: {
      QUICKBOOKS_AUTHORIZE_URL: `${url}/connect/oauth2`,
      QUICKBOOKS_TOKEN_URL: `${url}/oauth2/v1/tokens/bearer`,
      QUICKBOOKS_REVOKE_URL: `${url}/v2/oauth2/tokens/revoke`,
      QUICKBOOKS_USERINFO_URL: `${url}/v1/openid_connect/userinfo`,
      QUICKBOOKS_API_URL: url,
      QUICKBOOKS_JWKS_URL: `${url}/op/v1/jwks`,
    },
    company,
    now: () => new Date(company.now()),
    advance: (days) => withWebhook(company.advance(days)),
    async recordPayment(invoiceId, amountMinor) {
      const { payment, changes } = company.recordPayment(invoiceId, amountMinor);
      return { ...(await withWebhook(changes)), paymentId: payment?.id ?? null };
    },
    voidInvoice: (invoiceId) => withWebhook(company.mutate((c) => c.voidInvoice(invoiceId))),
    deleteInvoice: (invoiceId) => withWebhook(company.mutate((c) => c.deleteInvoice(invoiceId))),
    throttle(count, retryAfterSeconds) {
      throttled = { count, retryAfter: retryAfterSeconds };
    },
    failNext(count, status = 503) {
      failing = { count, status };
    },
    requests: () => served,
    onApiRequest(hook) {
      apiHook = hook;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** A compact RS256 JWS (RFC 7515), as Intuit's ID tokens are. */
function signJwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'RS256', kid, typ: 'JWT' })}.${part(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}
