/**
 * End to end against the local QuickBooks sandbox, through the real connector: OAuth connect, full sync, clock
 * advance with a signed webhook, CDC, and the failure paths (429, expired access token, rotated refresh token).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalInvoice } from '../../connectors/canonical';
import { connectors } from '../../connectors';
import { QboClient } from '../../connectors/quickbooks/client';
import { mapInvoice } from '../../connectors/quickbooks/map';
import { type QboCursor, quickbooksPages } from '../../connectors/quickbooks/resources';
import { type Sandbox, startSandbox } from '../../sandboxes/quickbooks';
import type { SyncPage, TokenSet } from '../../connectors/types';
import { silentLogger } from './fixtures';

const qb = connectors.quickbooks;
const CLIENT = { clientId: 'duely-test-client', clientSecret: 'duely-test-secret' };
const VERIFIER = 'sandbox-verifier-token';
const REDIRECT = 'http://127.0.0.1:9/oauth/callback';

let sandbox: Sandbox;
let receiver: Server;
const deliveries: Array<{ body: Buffer; headers: Record<string, string | string[] | undefined> }> = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ body: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const { port } = receiver.address() as AddressInfo;
  sandbox = await startSandbox({
    seed: 20261127,
    now: new Date('2026-11-27T18:00:00.000Z'),
    customers: 150,
    invoices: 5000,
    verifierToken: VERIFIER,
    webhookUrl: `http://127.0.0.1:${port}/webhooks/quickbooks`,
    ...CLIENT,
  });
});

afterAll(async () => {
  await sandbox?.stop();
  await new Promise((r) => receiver?.close(r));
});

/** What the sync engine would do: apply pages to a store keyed by external id. */
class Ledger {
  invoices = new Map<string, CanonicalInvoice>();
  counts = { customers: 0, invoices: 0, payments: 0, creditMemos: 0, deletions: 0 };
  allocationsFromCredit = 0;
  unappliedPayments = 0;
  apply(page: SyncPage<QboCursor>) {
    for (const i of page.invoices) this.invoices.set(i.externalId, i);
    for (const d of page.deletions.invoices) this.invoices.delete(d.externalId);
    this.counts.customers += page.customers.length;
    this.counts.invoices += page.invoices.length;
    this.counts.payments += page.payments.length;
    this.counts.creditMemos += page.creditMemos.length;
    this.counts.deletions += page.deletions.invoices.length;
    this.allocationsFromCredit += page.payments
      .flatMap((p) => p.allocations)
      .filter((a) => a.creditMemoExternalId).length;
    this.unappliedPayments += page.payments.filter(
      (p) => p.allocations.length === 0 && p.unappliedMinor > 0,
    ).length;
  }
  mismatches(truth: Map<string, number>): string[] {
    const bad = [...truth]
      .filter(([id, minor]) => this.invoices.get(id)?.balanceMinor !== minor)
      .map(([id]) => id);
    const extra = [...this.invoices.keys()].filter((id) => !truth.has(id));
    return [...bad, ...extra];
  }
}

describe('QuickBooks sandbox end to end', () => {
  let tokens: TokenSet;
  let realmId: string;
  let client: QboClient;
  let cursor: QboCursor | null = null;
  const ledger = new Ledger();
  const config = () => sandbox.config;
  const endpoints = () => qb.oauth.endpoints(config());
  let refreshes = 0;

  async function sync(from: QboCursor | null) {
    const ctx = { client, externalId: realmId, logger: silentLogger, signal: new AbortController().signal };
    for await (const page of qb.sync.pages(ctx, from, { now: () => sandbox.now() })) {
      ledger.apply(page);
      cursor = page.cursor;
    }
  }

  it('connects through authorize -> callback -> code exchange', async () => {
    const url = qb.oauth.buildAuthorizeUrl({
      authorizeUrl: endpoints().authorizeUrl,
      clientId: CLIENT.clientId,
      redirectUri: REDIRECT,
      state: 'state-123',
    });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const callback = qb.oauth.parseCallback(
      Object.fromEntries(new URL(res.headers.get('location') ?? '').searchParams),
    );
    if (!callback.ok) throw new Error('callback failed');
    expect(callback).toMatchObject({ state: 'state-123', externalId: sandbox.realmId });
    realmId = callback.externalId ?? '';
    tokens = await qb.oauth.exchangeCode({
      tokenUrl: endpoints().tokenUrl,
      ...CLIENT,
      code: callback.code,
      redirectUri: REDIRECT,
    });
    expect(tokens).toMatchObject({ tokenType: 'bearer', expiresIn: 3600 });
    // A code is single-use.
    await expect(
      qb.oauth.exchangeCode({
        tokenUrl: endpoints().tokenUrl,
        ...CLIENT,
        code: callback.code,
        redirectUri: REDIRECT,
      }),
    ).rejects.toMatchObject({ code: 'invalid_grant' });

    client = qb.createClient({
      config: config(),
      externalId: realmId,
      getAccessToken: async () => tokens.accessToken,
      onUnauthorized: async () => {
        refreshes++;
        tokens = await qb.oauth.refresh({
          tokenUrl: endpoints().tokenUrl,
          ...CLIENT,
          refreshToken: tokens.refreshToken,
        });
        return tokens.accessToken;
      },
    });
  });

  it('full-syncs the company with balances equal to the ledger to the cent', async () => {
    await sync(null);
    const truth = sandbox.company.balances();
    expect(truth.size).toBe(4999);
    expect(ledger.mismatches(truth)).toEqual([]);
    expect(cursor).toEqual({ mode: 'cdc', changedSince: expect.any(String) });
    expect(ledger.counts.customers).toBe(150);
    expect(ledger.counts.payments).toBe(sandbox.company.payments.size);
    expect(ledger.counts.creditMemos).toBe(sandbox.company.creditMemos.size);
    // The generated company has every case the brief lists.
    const statuses = [...ledger.invoices.values()].map((i) => i.status);
    expect(statuses).toContain('void');
    expect(statuses).toContain('open');
    expect(
      [...ledger.invoices.values()].some((i) => i.balanceMinor > 0 && i.balanceMinor < i.totalMinor),
    ).toBe(true);
    expect(ledger.allocationsFromCredit).toBeGreaterThan(0);
    expect(ledger.unappliedPayments).toBeGreaterThan(0);
    const multi = [...sandbox.company.payments.values()].filter(
      (p) => p.lines.filter((l) => l.txnType === 'Invoice').length > 1,
    );
    expect(multi.length).toBeGreaterThan(0);
  });

  it('advances the clock: signed webhook, then CDC brings the changes (after a token refresh)', async () => {
    const before = refreshes;
    const { changes, webhook } = await sandbox.advance(3);
    expect(changes.length).toBeGreaterThan(0);
    expect(webhook).toMatchObject({ status: 200 });
    const delivery = deliveries.at(-1);
    if (!delivery) throw new Error('no webhook');
    expect(qb.webhooks.verify(delivery.body, delivery.headers, VERIFIER)).toBe(true);
    expect(qb.webhooks.verify(delivery.body, delivery.headers, 'wrong')).toBe(false);
    const events = qb.webhooks.parse(delivery.body);
    expect(events.every((e) => e.externalId === realmId)).toBe(true);
    expect(events.some((e) => e.entity === 'Invoice' && e.operation === 'Create')).toBe(true);

    await sync(cursor);
    // Three days passed on the sandbox clock: the one-hour access token expired -> 401 -> one refresh.
    expect(refreshes).toBe(before + 1);
    expect(ledger.mismatches(sandbox.company.balances())).toEqual([]);
  });

  it('sees a recorded payment, a void and a delete through CDC', async () => {
    const open = [...sandbox.company.invoices.values()].filter(
      (i) => !i.deleted && !i.voided && i.balanceMinor > 5000 && i.paymentIds.length === 0,
    );
    const [partial, toVoid, toDelete] = open;
    if (!partial || !toVoid || !toDelete) throw new Error('no open invoices');
    await sandbox.recordPayment(partial.id, 1234);
    await sandbox.voidInvoice(toVoid.id);
    await sandbox.deleteInvoice(toDelete.id);
    const deletionsBefore = ledger.counts.deletions;
    await sync(cursor);
    expect(ledger.invoices.get(partial.id)?.balanceMinor).toBe(partial.balanceMinor);
    expect(ledger.invoices.get(toVoid.id)?.status).toBe('void');
    expect(ledger.invoices.has(toDelete.id)).toBe(false);
    expect(ledger.counts.deletions).toBeGreaterThan(deletionsBefore);
    expect(ledger.mismatches(sandbox.company.balances())).toEqual([]);
  });

  it('splits saturated CDC answers and still converges to the ledger', async () => {
    await sandbox.advance(10);
    const ctx = { client, externalId: realmId, logger: silentLogger, signal: new AbortController().signal };
    let pages = 0;
    for await (const page of quickbooksPages(ctx, cursor, {
      now: () => sandbox.now(),
      cdcLimit: 25,
      pageSize: 20,
    })) {
      ledger.apply(page);
      cursor = page.cursor;
      pages++;
    }
    expect(pages).toBeGreaterThan(3);
    expect(ledger.mismatches(sandbox.company.balances())).toEqual([]);
  });

  it('asks for a full sync once the cursor is older than 30 days, and the resync converges', async () => {
    await sandbox.advance(31);
    await expect(sync(cursor)).rejects.toMatchObject({ code: 'resync_required' });
    await sync(null);
    expect(ledger.mismatches(sandbox.company.balances())).toEqual([]);
  });

  it('reads one invoice with its payment link', async () => {
    const id = [...ledger.invoices.keys()][0] ?? '';
    const row = await client.read('Invoice', id);
    expect(mapInvoice(row).payLink).toBe(`${sandbox.url}/pay/${realmId}/${id}`);
  });

  it('rides out an injected 429 and 503', async () => {
    const throttled = new QboClient({
      apiBaseUrl: sandbox.url,
      realmId,
      getAccessToken: async () => tokens.accessToken,
      onUnauthorized: async () => tokens.accessToken,
      throttleWaitMs: 5,
      backoffBaseMs: 5,
    });
    sandbox.throttle(2);
    await expect(throttled.query('SELECT COUNT(*) FROM Customer')).resolves.toMatchObject({
      QueryResponse: { totalCount: 150 },
    });
    sandbox.failNext(1, 503);
    await expect(
      throttled.query('SELECT * FROM Customer STARTPOSITION 1 MAXRESULTS 1'),
    ).resolves.toMatchObject({ QueryResponse: { maxResults: 1 } });
    await expect(throttled.query('SELECT * FROM Invoice MAXRESULTS 1500')).rejects.toMatchObject({
      code: 'invalid_query',
      providerCode: '4001',
    });
  });

  it('rotates refresh tokens: the previous one then fails with invalid_grant; revoke ends the grant', async () => {
    const old = tokens.refreshToken;
    tokens = await qb.oauth.refresh({ tokenUrl: endpoints().tokenUrl, ...CLIENT, refreshToken: old });
    expect(tokens.refreshToken).not.toBe(old);
    await expect(
      qb.oauth.refresh({ tokenUrl: endpoints().tokenUrl, ...CLIENT, refreshToken: old }),
    ).rejects.toMatchObject({ code: 'invalid_grant', retryable: false });
    await qb.oauth.revoke({ revokeUrl: endpoints().revokeUrl, ...CLIENT, token: tokens.refreshToken });
    await expect(
      qb.oauth.refresh({ tokenUrl: endpoints().tokenUrl, ...CLIENT, refreshToken: tokens.refreshToken }),
    ).rejects.toMatchObject({ code: 'invalid_grant' });
    await expect(client.query('SELECT * FROM Customer')).rejects.toMatchObject({ code: 'invalid_grant' });
  });
});
