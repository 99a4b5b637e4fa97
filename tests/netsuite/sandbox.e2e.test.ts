/**
 * End to end against the local NetSuite stand-in, at the connector level: connect with TBA (probe), full sync,
 * then days of changes (partial and multi-invoice payments, credit memos, voids, deletions, un-applied payments)
 * polled through the connector's pages into an in-memory ledger. Every invoice's open balance must equal the
 * stand-in's ledger to the minor unit, in every currency.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectWithM2m,
  connectWithTba,
  createPkce,
  NetsuiteClient,
  type NetsuiteCursor,
  netsuite,
  netsuiteEndpoints,
  netsuitePages,
  parseNetsuiteConfig,
  readInvoices,
} from '../../connectors/netsuite';
import {
  buildAuthorizeUrl,
  exchangeCode,
  parseCallback,
  refreshTokens,
} from '../../connectors/netsuite/oauth2';
import type { ConnectorContext } from '../../connectors/types';
import { NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { TestLedger } from './ledger';

const logger = { info() {}, warn() {}, error() {} };
let sandbox: NetsuiteSandbox;

beforeAll(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 7, customers: 16 }) });
  await sandbox.start();
});
afterAll(async () => {
  await sandbox?.stop();
});

const config = () => parseNetsuiteConfig({ ...sandbox.env(), NETSUITE_CONCURRENCY: '3' });

async function tbaClient() {
  const conn = await connectWithTba({
    config: config(),
    accountId: '1234567-sb1',
    tokenId: 'sandbox-token-id',
    tokenSecret: 'sandbox-token-secret',
  });
  const client = netsuite.createClient({
    config: config(),
    externalId: conn.externalId,
    getAccessToken: async () => conn.secret,
    onUnauthorized: async () => conn.secret,
    logger,
  });
  return { conn, client };
}

async function run(ledger: TestLedger<NetsuiteCursor>, client: NetsuiteClient, pageSize: number) {
  const ctx: ConnectorContext<NetsuiteClient> = {
    client,
    externalId: client.accountId,
    logger,
    signal: new AbortController().signal,
  };
  for await (const page of netsuitePages(ctx, ledger.cursor, { now: () => new Date(), pageSize }))
    ledger.apply(page);
}

function expectLedgerMatches(ledger: TestLedger<NetsuiteCursor>) {
  const truth = sandbox.company.openBalances();
  const ours = new Map(
    [...ledger.invoices].map(([id, inv]) => [
      id,
      { currency: inv.currency, balanceMinor: inv.balanceMinor, status: inv.status },
    ]),
  );
  expect(ours).toEqual(truth);
}

describe('NetSuite connector against the local stand-in', () => {
  it('connects with TBA: probe names the tenant after the parent subsidiary and finds no missing permission', async () => {
    const { conn } = await tbaClient();
    expect(conn).toMatchObject({
      externalId: '1234567_SB1',
      companyName: 'Duely Demo Holdings Inc.',
      missingPermissions: [],
      authType: 'tba',
      expiresIn: null,
    });
    expect(conn.subsidiaries.map((s) => s.currency)).toEqual(['USD', 'CAD', 'EUR', 'JPY']);
  });

  it('bad TBA credentials: typed unauthorized saying INVALID_LOGIN and the Login Audit Trail', async () => {
    const err = await connectWithTba({
      config: config(),
      accountId: '1234567_SB1',
      tokenId: 'sandbox-token-id',
      tokenSecret: 'wrong',
    }).catch((e) => e);
    expect(err).toMatchObject({ code: 'unauthorized', providerCode: 'INVALID_LOGIN' });
    expect(err.userMessage).toMatch(/Login Audit Trail/);
  });

  it('full sync then ten days of changes: every balance equals the stand-in ledger to the minor unit', async () => {
    const { client } = await tbaClient();
    const ledger = new TestLedger<NetsuiteCursor>();
    await run(ledger, client, 7);
    expect(ledger.cursor).toMatchObject({ mode: 'incremental' });
    expect(ledger.stores.customers.size).toBe(16);
    expectLedgerMatches(ledger);
    const currencies = new Set([...ledger.invoices.values()].map((i) => i.currency));
    expect(currencies).toEqual(new Set(['USD', 'CAD', 'EUR', 'JPY']));
    // A JPY invoice: minor units are yen.
    const jpy = [...ledger.invoices.values()].find((i) => i.currency === 'JPY');
    expect(jpy && jpy.totalMinor % 100).toBe(0);

    const deletedBefore = sandbox.company.deleted.length;
    for (let day = 0; day < 10; day++) {
      sandbox.company.simulateDay();
      await run(ledger, client, 7);
      expectLedgerMatches(ledger);
    }
    // The days did what they promise: deletions happened and partial balances exist.
    expect(sandbox.company.deleted.length).toBeGreaterThan(deletedBefore);
    const balances = [...ledger.invoices.values()];
    expect(balances.some((i) => i.status === 'open' && i.balanceMinor < i.totalMinor)).toBe(true);
    expect(balances.some((i) => i.status === 'void')).toBe(true);
    // Payments carry their applications.
    const multi = [...ledger.stores.payments.values()].some(
      (p) => 'allocations' in p && p.allocations.length > 1,
    );
    expect(multi).toBe(true);
  });

  it('a deleted payment reopens its invoice without touching it: the poll still sees the new balance', async () => {
    const { client } = await tbaClient();
    const ledger = new TestLedger<NetsuiteCursor>();
    await run(ledger, client, 1000);
    const c = sandbox.company;
    const cust = [...c.customers.values()][0]!;
    const inv = c.addInvoice(cust, 10_000);
    const pay = c.addPayment(cust, 10_000, [{ invoice: inv.id, amountMinor: 10_000 }]);
    c.advance(15);
    await run(ledger, client, 1000);
    expect(ledger.invoices.get(String(inv.id))).toMatchObject({ status: 'paid', balanceMinor: 0 });
    const before = inv.lastmodified;
    // Another customer's invoice two hours later: that poll moves the cursor past this invoice's lastmodifieddate
    // (beyond the overlap; a poll starts no later than the newest change it read, minus the overlap).
    c.advance(120);
    c.addInvoice([...c.customers.values()][1]!, 500);
    c.advance(15);
    await run(ledger, client, 1000);
    expect((ledger.cursor as { since: string }).since > before).toBe(true);
    c.delete(pay.id);
    c.advance(15);
    expect(inv.lastmodified).toBe(before);
    await run(ledger, client, 1000);
    expect(ledger.invoices.get(String(inv.id))).toMatchObject({ status: 'open', balanceMinor: 10_000 });
    expect(ledger.stores.payments.has(String(pay.id))).toBe(false);
    expectLedgerMatches(ledger);
  });

  it('readInvoices re-reads live balances and reports deleted ids as missing', async () => {
    const { client } = await tbaClient();
    const open = [...sandbox.company.txns.values()].filter((t) => t.type === 'CustInvc').slice(0, 3);
    const { invoices, missing } = await readInvoices(client, [...open.map((t) => String(t.id)), '999999']);
    expect(invoices.map((i) => i.balanceMinor)).toEqual(open.map((t) => sandbox.company.unpaid(t)));
    expect(missing).toEqual(['999999']);
  });

  it('a 429 storm and a 503 are waited out; at most 3 requests of the account are in flight', async () => {
    const { conn } = await tbaClient();
    sandbox.failures.push(429, 429, 429, 503);
    sandbox.peakInFlight = 0;
    sandbox.options.latencyMs = 20;
    // Both clients share the account's pool, as the app's root hands one pool per account to every client.
    const pool = netsuite.createLimiter(config());
    const make = () =>
      new NetsuiteClient({
        restUrl: netsuiteEndpoints(config(), conn.externalId).restUrl,
        accountId: conn.externalId,
        auth: {
          type: 'stored',
          consumerKey: 'sandbox-consumer-key',
          consumerSecret: 'sandbox-consumer-secret',
          getAccessToken: async () => conn.secret,
          onUnauthorized: async () => conn.secret,
        },
        limiter: pool,
        backoffBaseMs: 5,
        backoffMaxMs: 20,
      });
    const [a, b] = [make(), make()];
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? a : b).suiteql('SELECT id FROM customer', { limit: 5 }),
        ),
      );
      expect(results.every((r) => r.items.length === 5)).toBe(true);
      expect(sandbox.failures).toEqual([]);
      expect(sandbox.peakInFlight).toBeLessThanOrEqual(3);
    } finally {
      sandbox.options.latencyMs = 0;
    }
  });

  it('connects with OAuth 2.0 code + PKCE and refreshes', async () => {
    const cfg = config();
    const pkce = createPkce();
    const redirectUri = 'http://127.0.0.1:9/connect/netsuite/callback';
    const authorize = buildAuthorizeUrl({
      authorizeUrl: netsuiteEndpoints(cfg, '1234567_SB1').authorizeUrl,
      clientId: 'sandbox-client-id',
      redirectUri,
      state: 'a'.repeat(32),
      codeChallenge: pkce.challenge,
    });
    const res = await fetch(authorize, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const cb = parseCallback(Object.fromEntries(new URL(res.headers.get('location') ?? '').searchParams));
    expect(cb).toMatchObject({ ok: true, state: 'a'.repeat(32), externalId: '1234567_SB1' });
    if (!cb.ok) throw new Error('callback failed');
    const endpoints = netsuiteEndpoints(cfg, cb.externalId ?? '');
    const creds = {
      clientId: 'sandbox-client-id',
      clientSecret: 'sandbox-client-secret',
      tokenUrl: endpoints.tokenUrl,
    };
    const tokens = await exchangeCode({ ...creds, code: cb.code, redirectUri, codeVerifier: pkce.verifier });
    expect(tokens.refreshTokenExpiresIn).toBe(7 * 86400);
    const client = netsuite.createClient({
      config: cfg,
      externalId: '1234567_SB1',
      getAccessToken: async () => tokens.accessToken,
      onUnauthorized: async () =>
        (await refreshTokens({ ...creds, refreshToken: tokens.refreshToken })).accessToken,
    });
    expect((await client.suiteql('SELECT id FROM customer', { limit: 1 })).items).toHaveLength(1);
    // A second exchange of the same code fails as invalid_grant.
    await expect(
      exchangeCode({ ...creds, code: cb.code, redirectUri, codeVerifier: pkce.verifier }),
    ).rejects.toMatchObject({
      code: 'invalid_grant',
    });
  });

  it('connects with client credentials (M2M)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cfg = parseNetsuiteConfig({
      ...sandbox.env(),
      NETSUITE_M2M_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    const conn = await connectWithM2m({
      config: cfg,
      accountId: '1234567_SB1',
      certificateId: 'sandbox-certificate',
    });
    expect(conn).toMatchObject({ authType: 'm2m', expiresIn: 3600, companyName: 'Duely Demo Holdings Inc.' });
    await expect(
      connectWithM2m({ config: cfg, accountId: '1234567_SB1', certificateId: 'unknown-cert' }),
    ).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('a revoked TBA token mid-life: the sync fails typed unauthorized (the app marks reconnect_needed)', async () => {
    const { client } = await tbaClient();
    const tokens = sandbox.options.tokens;
    sandbox.options.tokens = {};
    try {
      const ledger = new TestLedger<NetsuiteCursor>();
      await expect(run(ledger, client, 1000)).rejects.toMatchObject({
        code: 'unauthorized',
        providerCode: 'INVALID_LOGIN',
      });
    } finally {
      sandbox.options.tokens = tokens;
    }
  });

  it('an expired or revoked refresh token is invalid_grant', async () => {
    const creds = {
      clientId: 'sandbox-client-id',
      clientSecret: 'sandbox-client-secret',
      tokenUrl: netsuiteEndpoints(config(), '1234567_SB1').tokenUrl,
    };
    await expect(refreshTokens({ ...creds, refreshToken: 'ns-rt-lapsed' })).rejects.toMatchObject({
      code: 'invalid_grant',
    });
  });
});

describe('NetSuite full sync beyond one SuiteQL page', () => {
  it('reads 2,500 invoices in pages of at most 1,000 by id, exact to the minor unit', async () => {
    const company = NetsuiteCompany.generate({ seed: 5, customers: 8 });
    const customers = [...company.customers.values()];
    for (let i = 0; i < 2500; i++) {
      const cust = customers[i % customers.length]!;
      company.addInvoice(cust, cust.currency === 'JPY' ? 1000 + i : 100_001 + i * 7);
    }
    const big = new NetsuiteSandbox({ company });
    await big.start();
    try {
      const cfg = parseNetsuiteConfig(big.env());
      const conn = await connectWithTba({
        config: cfg,
        accountId: big.accountId,
        tokenId: 'sandbox-token-id',
        tokenSecret: 'sandbox-token-secret',
      });
      const client = netsuite.createClient({
        config: cfg,
        externalId: conn.externalId,
        getAccessToken: async () => conn.secret,
        onUnauthorized: async () => conn.secret,
      });
      const ledger = new TestLedger<NetsuiteCursor>();
      const ctx = { client, externalId: conn.externalId, logger, signal: new AbortController().signal };
      for await (const page of netsuitePages(ctx, null, { now: () => new Date() })) {
        expect(page.invoices.length).toBeLessThanOrEqual(1000);
        ledger.apply(page);
      }
      const truth = company.openBalances();
      expect(truth.size).toBeGreaterThan(2500);
      expect(
        new Map(
          [...ledger.invoices].map(([id, i]) => [
            id,
            { currency: i.currency, balanceMinor: i.balanceMinor, status: i.status },
          ]),
        ),
      ).toEqual(truth);
      const invoiceQueries = big.queries.filter((q) => q.includes("t.type IN ('CustInvc')"));
      expect(invoiceQueries.length).toBeGreaterThanOrEqual(3);
    } finally {
      await big.stop();
    }
  });
});
