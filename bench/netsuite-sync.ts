/**
 * NetSuite sync throughput: a full sync of an n-invoice stand-in company (sandboxes/netsuite, SuiteQL over
 * loopback, TBA-signed requests, NETSUITE_CONCURRENCY in flight) into a fresh database through run-sync, and the
 * connector alone (its full-sync iterator, no database) for the ratio. The company is connected the way
 * POST /api/v1/tenants/:tenant/connections does (connect-flow.connectWithCredentials), outside the timing.
 * `tsx bench/netsuite-sync.ts pglite|postgres [n]` prints one JSON line.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { netsuite, parseNetsuiteConfig } from '../connectors/netsuite';
import { NetsuiteCompany, NetsuiteSandbox } from '../sandboxes/netsuite';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { connectWithCredentials } from '../src/sync/connect-flow';
import { runSync } from '../src/sync/run-sync';
import { createBenchDb } from './bench-db';

const silent = { info() {}, warn() {}, error() {} };

/** A stand-in company with n invoices, a third of them paid (partly) by one payment each. */
function company(n: number): NetsuiteCompany {
  const c = NetsuiteCompany.generate({ seed: 7, customers: Math.max(12, Math.round(n / 40)) });
  const customers = [...c.customers.values()];
  for (let i = 0; i < n; i++) {
    const cust = customers[i % customers.length]!;
    const inv = c.addInvoice(cust, 10_000 + ((i * 7919) % 500_000), 30);
    if (i % 3 === 0)
      c.addPayment(cust, inv.totalMinor, [
        { invoice: inv.id, amountMinor: Math.ceil(inv.totalMinor / (1 + (i % 2))) },
      ]);
  }
  return c;
}

export async function benchNetsuiteSync(
  kind: 'pglite' | 'postgres',
  n = 5_000,
): Promise<Record<string, number | string>> {
  const sandbox = new NetsuiteSandbox({ company: company(n), concurrencyLimit: 5 });
  await sandbox.start();
  const { handle, dataDir, dispose: dropDb } = await createBenchDb(kind);
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    APP_SECRET: randomBytes(32).toString('base64url'),
    ...sandbox.env(),
  });
  const services = await createServices(config, {
    dbh: handle,
    queue: false,
    logger: createLogger('silent'),
  });
  try {
    const outcome = await connectWithCredentials(services, async () => null, {
      provider: 'netsuite',
      fields: {
        accountId: sandbox.accountId,
        type: 'tba',
        tokenId: 'sandbox-token-id',
        tokenSecret: 'sandbox-token-secret',
      },
      tenantId: null,
    });
    if (!outcome.ok) throw new Error(`connect refused: ${outcome.message}`);

    // The connector alone: its full-sync pages, nothing written.
    const nsConfig = parseNetsuiteConfig(sandbox.env());
    const [tokens] = [
      `netsuite-tba:${JSON.stringify({ tokenId: 'sandbox-token-id', tokenSecret: 'sandbox-token-secret' })}`,
    ];
    const client = netsuite.createClient({
      config: nsConfig,
      externalId: sandbox.accountId,
      getAccessToken: async () => tokens,
      onUnauthorized: async () => tokens,
      logger: silent,
    });
    const c0 = performance.now();
    let fetched = 0;
    for await (const page of netsuite.sync.pages(
      { client, externalId: sandbox.accountId, logger: silent, signal: new AbortController().signal },
      null,
      { now: () => new Date() },
    )) {
      fetched +=
        page.customers.length + page.invoices.length + page.payments.length + page.creditMemos.length;
      if ('mode' in page.cursor && page.cursor.mode === 'incremental') break;
    }
    const connectorS = (performance.now() - c0) / 1000;

    const t0 = performance.now();
    const first = await runSync(services, { connectionId: outcome.connectionId, reason: 'bench' });
    const firstS = (performance.now() - t0) / 1000;
    if (first.status !== 'succeeded') throw new Error(`sync ${first.status}: ${first.error}`);
    const invoices = [...sandbox.company.txns.values()].filter((t) => t.type === 'CustInvc').length;
    const entities = sandbox.company.customers.size + sandbox.company.txns.size;
    return {
      bench: `netsuite-sync ${kind}`,
      invoices,
      entities,
      'connector alone s': Math.round(connectorS * 100) / 100,
      'connector entities/s': Math.round(fetched / connectorS),
      'full sync s': Math.round(firstS * 100) / 100,
      'entities/s': Math.round(entities / firstS),
      'vs connector alone': `${(connectorS / firstS).toFixed(2)}x`,
      'peak RSS MiB': Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await services.close();
    await sandbox.stop();
    await dropDb();
  }
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const kind = (process.argv[2] ?? 'pglite') as 'pglite' | 'postgres';
  const n = Number(process.argv[3] ?? 5_000);
  benchNetsuiteSync(kind, n).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
