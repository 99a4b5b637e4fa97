/**
 * Conformance against real (or clearly marked reconstructed) QuickBooks payloads in ../shared/vendor/qbo, read in
 * place (never copied into the repo). Every file in the directory must be claimed by a check below, or listed in
 * NOT_APPLICABLE with the reason, so new vendor files cannot be silently ignored.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import type { CanonicalPayment } from '../../connectors/canonical';
import { numberToMinor } from '../../connectors/money';
import { QboClient } from '../../connectors/quickbooks/client';
import { faultToError, parseFault } from '../../connectors/quickbooks/faults';
import { mapCreditMemo, mapCustomer, mapInvoice, mapPayment } from '../../connectors/quickbooks/map';
import { QUICKBOOKS_SCOPES, quickbooksEndpoints, refreshTokens } from '../../connectors/quickbooks/oauth';
import { RealmLimiter } from '../../connectors/quickbooks/realm-limiter';
import { type QboCursor, quickbooksPages } from '../../connectors/quickbooks/resources';
import { parseWebhook, verifyWebhook } from '../../connectors/quickbooks/webhooks';
import type { SyncPage } from '../../connectors/types';

const DIR = path.resolve(process.cwd(), '../shared/vendor/qbo');
const present = existsSync(DIR);
const API = 'https://quickbooks.api.intuit.com';
const REALM = '9341457021722202';

const NOT_APPLICABLE: Record<string, string> = {
  'batch.java-sdk.response.json': 'batch API (Deposit items) is not used by the connector',
  'cdc-with-deleted.response.xml': 'XML CDC; the client requests JSON (its JSON rendition is checked)',
  'create-invoice.request.json': 'request body, the connector does not write',
  'create-payment.request.json': 'request body, the connector does not write',
};

const claimed = new Set<string>();
const files = present ? readdirSync(DIR).sort() : [];
const text = (f: string) => {
  claimed.add(f);
  return readFileSync(path.join(DIR, f), 'utf8');
};
/** Annotations (`_note`, `_reconstructed`) are not vendor fields. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !k.startsWith('_'))
      .map(([k, v]) => [k, strip(v)]),
  );
}
// biome-ignore lint/suspicious/noExplicitAny: vendor payloads are raw JSON; the mappers validate what they read.
type Raw = any;
const json = (f: string) => strip(JSON.parse(text(f))) as Record<string, Raw>;
const matching = (re: RegExp) => files.filter((f) => re.test(f));

const MAPPERS = {
  Invoice: mapInvoice,
  Payment: mapPayment,
  Customer: mapCustomer,
  CreditMemo: mapCreditMemo,
} as const;
type Entity = keyof typeof MAPPERS;

function checkInvoice(raw: Raw) {
  const inv = mapInvoice(raw);
  expect(inv.balanceMinor, `invoice ${raw.Id}`).toBe(
    numberToMinor(raw.Balance, raw.CurrencyRef?.value ?? 'USD'),
  );
  expect(inv.totalMinor).toBe(numberToMinor(raw.TotalAmt, raw.CurrencyRef?.value ?? 'USD'));
  expect(inv.status).toBe(raw.Balance === 0 ? 'paid' : 'open');
}

function checkPayment(raw: Raw) {
  const p = mapPayment(raw);
  const lines = (raw.Line ?? []) as Array<{ Amount: number; LinkedTxn: Array<{ TxnType: string }> }>;
  const invoiceLines = lines
    .filter((l) => l.LinkedTxn.some((t) => t.TxnType === 'Invoice'))
    .reduce((n, l) => n + numberToMinor(l.Amount, 'USD'), 0);
  expect(
    p.allocations.reduce((n, a) => n + a.amountMinor, 0),
    `payment ${raw.Id}`,
  ).toBe(invoiceLines);
  const cash = p.allocations.filter((a) => !a.creditMemoExternalId).reduce((n, a) => n + a.amountMinor, 0);
  expect(cash).toBe(p.amountMinor - p.unappliedMinor);
}

afterEach(() => {
  nock.cleanAll();
});

describe.skipIf(!present)('QuickBooks vendor payloads (../shared/vendor/qbo)', () => {
  it('maps every queried and read entity, with exact invoice balances', () => {
    let invoices = 0;
    for (const f of matching(/^(query|read|create|send)-.*\.response\.json$/)) {
      const body = json(f);
      const rows: Array<[Entity, Raw]> = [];
      for (const entity of Object.keys(MAPPERS) as Entity[]) {
        const list = body.QueryResponse?.[entity];
        if (Array.isArray(list)) rows.push(...list.map((r: unknown) => [entity, r] as [Entity, Raw]));
        if (body[entity]) rows.push([entity, body[entity]]);
      }
      if (f !== 'query-payment-page-past-end.response.json') expect(rows.length, f).toBeGreaterThan(0);
      for (const [entity, raw] of rows) {
        if (entity === 'Invoice') {
          checkInvoice(raw);
          invoices++;
        } else if (entity === 'Payment') checkPayment(raw);
        else MAPPERS[entity](raw);
      }
    }
    expect(invoices).toBeGreaterThanOrEqual(37);
  });

  it('keeps the captured special cases: credit application, partial payments, unapplied payment, InvoiceLink', () => {
    const payments: CanonicalPayment[] = json('query-payment.response.json').QueryResponse.Payment.map(
      (p: unknown) => mapPayment(p),
    );
    const byId = new Map(payments.map((p) => [p.externalId, p]));
    expect(byId.get('74')).toMatchObject({
      amountMinor: 0,
      allocations: [{ invoiceExternalId: '71', amountMinor: 10000, creditMemoExternalId: '73' }],
    });
    expect([byId.get('61'), byId.get('120')].map((p) => p?.allocations[0])).toEqual([
      { invoiceExternalId: '12', amountMinor: 69400, creditMemoExternalId: null },
      { invoiceExternalId: '12', amountMinor: 167552, creditMemoExternalId: null },
    ]);
    expect(mapPayment(json('read-payment-170-unapplied.response.json').Payment)).toMatchObject({
      allocations: [],
      unappliedMinor: 10000,
    });
    const multi = mapPayment(json('payment-multi-invoice.reconstructed.json').Payment);
    expect(multi).toMatchObject({ amountMinor: 25000, unappliedMinor: 2500 });
    expect(multi.allocations.map((a) => [a.invoiceExternalId, a.amountMinor])).toEqual([
      ['9101', 15000],
      ['9102', 7500],
    ]);
    checkPayment(json('payment-multi-invoice.reconstructed.json').Payment);
    expect(mapInvoice(json('read-invoice-130.response.json').Invoice).payLink).toMatch(/^https:\/\//);
    expect(
      mapCreditMemo(
        json('query-creditmemo.response.json').QueryResponse.CreditMemo.find((m: Raw) => m.Id === '73'),
      ),
    ).toMatchObject({ remainingMinor: 0 });
  });

  it('ends a full-sync entity on the empty QueryResponse past the end', async () => {
    const pastEnd = json('query-payment-page-past-end.response.json');
    nock(API).get(`/v3/company/${REALM}/query`).query(true).reply(200, pastEnd);
    const pages = await collect({
      mode: 'full',
      entity: 'Payment',
      afterId: '170',
      changedSince: '2026-05-01T00:00:00.000Z',
    });
    expect(pages.flatMap((p) => [...p.customers, ...p.invoices, ...p.payments, ...p.creditMemos])).toEqual(
      [],
    );
    expect(pages.at(-1)?.cursor).toEqual({ mode: 'cdc', changedSince: '2026-05-01T00:00:00.000Z' });
  });

  it('turns the CDC deleted row into a deletion and tolerates empty or foreign CDC answers', async () => {
    const changedSince = new Date(Date.now() - 86_400_000).toISOString();
    const cdc = (f: string) => nock(API).get(`/v3/company/${REALM}/cdc`).query(true).reply(200, json(f));
    cdc('cdc-with-deleted.reconstructed.json');
    const [page] = await collect({ mode: 'cdc', changedSince });
    expect(page?.deletions.invoices).toEqual([
      { externalId: '65', sourceUpdatedAt: '2016-04-13T07:34:31-07:00' },
    ]);
    expect(page?.invoices).toMatchObject([{ externalId: '103', balanceMinor: 0, status: 'paid' }]);
    expect(page?.payments).toMatchObject([
      { externalId: '147', allocations: [{ invoiceExternalId: '103', amountMinor: 62910 }] },
    ]);
    for (const f of ['cdc-empty.python-quickbooks.response.json', 'cdc-deposit.java-sdk.response.json']) {
      cdc(f);
      const pages = await collect({ mode: 'cdc', changedSince });
      expect(
        pages.flatMap((p) => [...p.invoices, ...p.payments, ...p.deletions.invoices]),
        f,
      ).toEqual([]);
    }
  });

  it('classifies every fault file from its status and fault code', () => {
    const expected: Record<string, [string, string]> = {
      'fault-400-duplicate-name.response.xml': ['duplicate', '6240'],
      'fault-400-query-validation.response.xml': ['invalid_query', '4001'],
      'fault-400-unsupported-operation.response.xml': ['validation', '500'],
      'fault-400-validation-6190.java-sdk.json': ['subscription_lapsed', '6190'],
      'fault-400-validation-object-not-found.response.json': ['not_found', '610'],
      'fault-401-authentication-general.response.xml': ['unauthorized', '100'],
      'fault-401-authentication.response.json': ['unauthorized', '3200'],
      'fault-403-authorization.response.json': ['forbidden', '3100'],
      'fault-403-throttle-legacy.response.xml': ['rate_limited', '3001'],
      'fault-429-throttle.response.xml': ['rate_limited', '3001'],
    };
    const faultFiles = matching(/^fault-/);
    expect(faultFiles.sort()).toEqual(Object.keys(expected).sort());
    for (const f of faultFiles) {
      const status = Number(/^fault-(\d{3})-/.exec(f)?.[1]);
      const body = f.endsWith('.json') ? JSON.stringify(json(f)) : text(f);
      const error = faultToError(status, parseFault(body));
      expect([error.code, error.providerCode], f).toEqual(expected[f]);
    }
  });

  it('retries the real XML 429 body through the client', async () => {
    const xml = text('fault-429-throttle.response.xml');
    nock(API)
      .get(`/v3/company/${REALM}/query`)
      .query(true)
      .reply(429, xml, { 'content-type': 'application/xml' });
    nock(API)
      .get(`/v3/company/${REALM}/query`)
      .query(true)
      .reply(200, json('query-payment-page-past-end.response.json'));
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    const client = new QboClient({
      apiBaseUrl: API,
      realmId: REALM,
      getAccessToken: async () => 't',
      onUnauthorized: async () => 't',
      // The realm's pause is waited out in its limiter.
      limiter: new RealmLimiter(undefined, { clock: () => 0, sleep }),
      sleep,
    });
    await client.query('SELECT * FROM Payment STARTPOSITION 101 MAXRESULTS 100');
    expect(waits).toEqual([60_000]);
  });

  it('verifies the signature vectors (and rejects the negative one)', () => {
    const { vectors } = json('webhook-signature.vectors.json') as {
      vectors: Array<{
        name: string;
        verifierToken: string;
        rawBodyFile: string;
        intuitSignatureHeader: string;
        expected: string;
      }>;
    };
    expect(vectors.length).toBeGreaterThanOrEqual(3);
    for (const v of vectors) {
      claimed.add(v.rawBodyFile);
      const raw = readFileSync(path.join(DIR, v.rawBodyFile));
      expect(
        verifyWebhook(raw, { 'intuit-signature': v.intuitSignatureHeader }, v.verifierToken),
        v.name,
      ).toBe(v.expected === 'valid');
    }
  });

  it('parses every webhook body, legacy and CloudEvents', () => {
    for (const f of matching(/^webhook-(legacy|cloudevents)\./)) {
      const raw = text(f);
      const events = parseWebhook(f.endsWith('.json') ? JSON.stringify(json(f)) : raw);
      expect(events.length, f).toBeGreaterThan(0);
      for (const e of events) expect(e.externalId && e.entity && e.id && e.operation, f).toBeTruthy();
    }
    expect(
      parseWebhook(text('webhook-legacy.dotnet-sdk.body.txt')).map(
        (e) => `${e.entity}:${e.id}:${e.operation}`,
      ),
    ).toEqual(['Vendor:40:Update', 'Customer:43:Create']);
    expect(parseWebhook(text('webhook-cloudevents.dotnet-sdk.body.txt'))).toEqual([
      {
        externalId: '310687',
        entity: 'Class',
        id: '1234',
        operation: 'Create',
        lastUpdated: '2025-10-07T19:59:07.034Z',
      },
    ]);
  });

  it('matches Intuit OAuth endpoints and token answers', async () => {
    const discovery = json('oauth-discovery.production.json');
    const production = quickbooksEndpoints({ QUICKBOOKS_ENVIRONMENT: 'production' });
    expect([production.authorizeUrl, production.tokenUrl, production.revokeUrl]).toEqual([
      discovery.authorization_endpoint,
      discovery.token_endpoint,
      discovery.revocation_endpoint,
    ]);
    const protocol = json('protocol.json');
    expect(production.apiBaseUrl).toBe(protocol.apiBaseUrls.production);
    expect(quickbooksEndpoints({ QUICKBOOKS_ENVIRONMENT: 'sandbox' }).apiBaseUrl).toBe(
      protocol.apiBaseUrls.sandbox,
    );
    for (const scope of QUICKBOOKS_SCOPES) expect(Object.values(protocol.oauth2.scopes)).toContain(scope);

    const tokenUrl = discovery.token_endpoint as string;
    const { origin, pathname } = new URL(tokenUrl);
    for (const f of matching(/^oauth-(token|refresh)/)) {
      const body = json(f);
      nock(origin).post(pathname).reply(200, body);
      await expect(
        refreshTokens({ tokenUrl, clientId: 'c', clientSecret: 's', refreshToken: 'r' }),
        f,
      ).resolves.toMatchObject({ accessToken: body.access_token, refreshToken: body.refresh_token });
    }
    for (const f of matching(/^oauth-invalid-grant/)) {
      nock(origin).post(pathname).reply(400, json(f));
      await expect(
        refreshTokens({ tokenUrl, clientId: 'c', clientSecret: 's', refreshToken: 'r' }),
        f,
      ).rejects.toMatchObject({ code: 'invalid_grant', retryable: false });
    }
  });

  it('claims every vendor file', () => {
    const unclaimed = files.filter((f) => !claimed.has(f) && !(f in NOT_APPLICABLE));
    expect(unclaimed).toEqual([]);
  });
});

describe.skipIf(present)('QuickBooks vendor payloads', () => {
  it.skip(`skipped: ${DIR} is not present`, () => {});
});

async function collect(cursor: QboCursor): Promise<SyncPage<QboCursor>[]> {
  const client = new QboClient({
    apiBaseUrl: API,
    realmId: REALM,
    getAccessToken: async () => 't',
    onUnauthorized: async () => 't',
    limiter: new RealmLimiter(),
  });
  const ctx = {
    client,
    externalId: REALM,
    logger: { info() {}, warn() {}, error() {} },
    signal: new AbortController().signal,
  };
  const pages: SyncPage<QboCursor>[] = [];
  for await (const page of quickbooksPages(ctx, cursor, { now: () => new Date() })) pages.push(page);
  return pages;
}
