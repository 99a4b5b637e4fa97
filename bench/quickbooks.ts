/**
 * Connector-side throughput: a local sandbox company with `n` invoices, then a full sync through the real
 * QuickBooks connector (OAuth code exchange, paged queries of 1,000, mapping). The timer starts after the company
 * is generated; it still includes the sandbox rendering and serving JSON in the same process.
 * Run alone: npx tsx bench/quickbooks.ts 100000
 */
import { fileURLToPath } from 'node:url';
import { connectors } from '../connectors';
import { startSandbox } from '../sandboxes/quickbooks';

export interface QuickbooksFetchBench {
  invoices: number;
  customers: number;
  entities: number;
  pages: number;
  requests: number;
  generationMs: number;
  syncMs: number;
  entitiesPerSecond: number;
}

export async function benchQuickbooksFetch(n: number): Promise<QuickbooksFetchBench> {
  const qb = connectors.quickbooks;
  const credentials = { clientId: 'bench-client', clientSecret: 'bench-secret' };
  const customers = Math.max(150, Math.round(n / 33));
  const generationStarted = performance.now();
  const sandbox = await startSandbox({
    seed: 1,
    now: new Date('2026-11-27T12:00:00.000Z'),
    customers,
    invoices: n,
    verifierToken: 'bench',
    ...credentials,
  });
  const generationMs = performance.now() - generationStarted;
  try {
    const endpoints = qb.oauth.endpoints(sandbox.config);
    const redirectUri = 'http://127.0.0.1/bench/callback';
    const authorize = await fetch(
      qb.oauth.buildAuthorizeUrl({
        authorizeUrl: endpoints.authorizeUrl,
        clientId: credentials.clientId,
        redirectUri,
        state: 'bench',
      }),
      { redirect: 'manual' },
    );
    const callback = qb.oauth.parseCallback(
      Object.fromEntries(new URL(authorize.headers.get('location') ?? '').searchParams),
    );
    if (!callback.ok) throw new Error(`sandbox authorize failed: ${callback.error}`);
    const tokens = await qb.oauth.exchangeCode({
      tokenUrl: endpoints.tokenUrl,
      ...credentials,
      code: callback.code,
      redirectUri,
    });
    const client = qb.createClient({
      config: sandbox.config,
      externalId: sandbox.realmId,
      getAccessToken: async () => tokens.accessToken,
      onUnauthorized: async () => tokens.accessToken,
    });
    const ctx = {
      client,
      externalId: sandbox.realmId,
      logger: { info() {}, warn() {}, error() {} },
      signal: new AbortController().signal,
    };
    const requestsBefore = sandbox.requests();
    let entities = 0;
    let pages = 0;
    const started = performance.now();
    for await (const page of qb.sync.pages(ctx, null, { now: () => sandbox.now() })) {
      pages++;
      entities +=
        page.customers.length + page.invoices.length + page.payments.length + page.creditMemos.length;
    }
    const syncMs = performance.now() - started;
    return {
      invoices: n,
      customers,
      entities,
      pages,
      requests: sandbox.requests() - requestsBefore,
      generationMs: Math.round(generationMs),
      syncMs: Math.round(syncMs),
      entitiesPerSecond: Math.round(entities / (syncMs / 1000)),
    };
  } finally {
    await sandbox.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(
    JSON.stringify({
      bench: 'quickbooks connector',
      ...(await benchQuickbooksFetch(Number(process.argv[2] ?? 100_000))),
    }),
  );
}
