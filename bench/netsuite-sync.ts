/**
 * NetSuite sync throughput: a full sync of an n-invoice stand-in account (sandboxes/netsuite: SuiteQL, TBA-signed
 * requests) into a fresh database through run-sync, against NetSuite's ceiling per account, and against the
 * connector alone (its full-sync iterator, no database). The stand-in runs in a child process
 * (bench/netsuite-standin.ts): NetSuite is remote, so its JSON rendering is not counted on our CPU. The company is
 * connected the way POST /api/v1/tenants/:tenant/connections does (connect-flow.connectWithCredentials), outside
 * the timing.
 *
 * NetSuite's ceiling per account, in entities/s = concurrency × rows per page ÷ seconds per page:
 *  - concurrency: NetSuite governs concurrent requests per account, in one pool shared by SOAP, REST and RESTlets
 *    and every integration of the account; no per-minute rate for REST (Oracle, "Web Services and RESTlet
 *    Concurrency Governance", "Concurrency Governance Limits Based on Service Tiers and SuiteCloud Plus Licenses",
 *    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1525253248.html and
 *    subsect_1559222360.html). Base limit by service tier: Standard 5, Premium 15, Enterprise 20, Ultimate 20; each
 *    SuiteCloud Plus licence adds 10 (up to 1 / 3 / 6 / 12 licences: 15 / 45 / 80 / 140; the tier table read in
 *    copies of Oracle's pages: netsuitechangelog.com/articles/concurrency-governance-limits-netsuite-suitecloud,
 *    support.jcurvesolutions.com "SuiteCloud Plus Settings"; Oracle's own sample: Standard + 1 licence = 15).
 *    Default here: 15, a Premium (formerly Tier 1) account without SuiteCloud Plus (`--account-concurrency`). Duely
 *    itself keeps
 *    NETSUITE_CONCURRENCY (default 3) of them, leaving the rest to the account's other integrations: the bench also
 *    prints the ceiling at that share.
 *  - rows per page: 1,000, SuiteQL's largest `limit` (Oracle, "Collection Paging", section_156414087576.html; a
 *    query yields at most 100,000 rows, section_157909186990.html: the connector reads by id range, offset 0).
 *  - seconds per page: not documented by Oracle (no service level for SuiteQL latency). Default 1.0 s for a
 *    1,000-row page of the connector's transaction query (a join of transaction, its main line and currency, ~0.4 MB
 *    of JSON): our assumption, not a measurement; `--page-seconds` replays another. Every ceiling scales with
 *    1 ÷ this figure.
 * QuickBooks' analogue is 500 requests/min × 1,000 rows (bench/run.ts QBO_CEILING).
 *
 * The bench also runs the connector alone with the stand-in answering each SuiteQL page after `page seconds`:
 * throughput at that latency against the ceiling at NETSUITE_CONCURRENCY, and the peak of requests in flight,
 * show the connector keeps NETSUITE_CONCURRENCY pages in flight (its id-range reads, connectors/netsuite
 * resources.ts). Extra requests (the clock, one id-span query per kind, a payment page's applications) carry no
 * entities, so that ratio stays below 1 on a small account. Last, the whole sync again (`full`, into the same
 * tenant) at that latency, against the connector alone at it: writes overlap the pages in flight.
 *
 * `tsx bench/netsuite-sync.ts pglite|postgres [n] [--page-seconds 1] [--account-concurrency 15] [--no-latency]`
 * prints one JSON line; `--no-latency` stops after the full sync and the connector alone (interleaved A/B rounds).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { netsuite, parseNetsuiteConfig } from '../connectors/netsuite';
import { NETSUITE_DEFAULT_CONCURRENCY } from '../connectors/netsuite/pool';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { connectWithCredentials } from '../src/sync/connect-flow';
import { runSync } from '../src/sync/run-sync';
import { backendCpu, createBenchDb } from './bench-db';
import { startProfile } from './proc';

const silent = { info() {}, warn() {}, error() {} };

/** Oracle: a Premium-tier account's base concurrency, without SuiteCloud Plus. */
export const NETSUITE_ACCOUNT_CONCURRENCY = 15;
/** SuiteQL's largest page. */
export const NETSUITE_ROWS_PER_PAGE = 1_000;
/** Seconds NetSuite takes per 1,000-row SuiteQL page: undocumented; our assumption (see the header). */
export const NETSUITE_PAGE_SECONDS = 1.0;

interface StandIn {
  child: ChildProcess;
  url: string;
  accountId: string;
  env: Record<string, string>;
  invoices: number;
  entities: number;
  ask(message: object): Promise<Record<string, number | boolean>>;
}

async function startStandIn(n: number): Promise<StandIn> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'netsuite-standin.ts'), String(n), '15'],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  const first = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.on('exit', (code) => reject(new Error(`stand-in exited (${code})`)));
  });
  const info = JSON.parse(first) as Omit<StandIn, 'child' | 'ask'>;
  const ask = (message: object) =>
    new Promise<Record<string, number | boolean>>((resolve) => {
      child.once('message', (m) => resolve(m as Record<string, number | boolean>));
      child.send(message);
    });
  return { ...info, child, ask };
}

export async function benchNetsuiteSync(
  kind: 'pglite' | 'postgres',
  n = 5_000,
  params: { pageSeconds?: number; accountConcurrency?: number; latencyRuns?: boolean } = {},
): Promise<Record<string, number | string>> {
  const pageSeconds = params.pageSeconds ?? NETSUITE_PAGE_SECONDS;
  const accountConcurrency = params.accountConcurrency ?? NETSUITE_ACCOUNT_CONCURRENCY;
  const standIn = await startStandIn(n);
  const { handle, dataDir, dispose: dropDb } = await createBenchDb(kind);
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    APP_SECRET: randomBytes(32).toString('base64url'),
    ...standIn.env,
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
        accountId: standIn.accountId,
        type: 'tba',
        tokenId: 'sandbox-token-id',
        tokenSecret: 'sandbox-token-secret',
      },
      tenantId: null,
    });
    if (!outcome.ok) throw new Error(`connect refused: ${outcome.message}`);

    // The connector alone: its full-sync pages, nothing written.
    const nsConfig = parseNetsuiteConfig(standIn.env);
    const concurrency = nsConfig.NETSUITE_CONCURRENCY ?? NETSUITE_DEFAULT_CONCURRENCY;
    const token = `netsuite-tba:${JSON.stringify({ tokenId: 'sandbox-token-id', tokenSecret: 'sandbox-token-secret' })}`;
    const connectorAlone = async () => {
      const client = netsuite.createClient({
        config: nsConfig,
        externalId: standIn.accountId,
        getAccessToken: async () => token,
        onUnauthorized: async () => token,
        logger: silent,
      });
      const c0 = performance.now();
      const cpu0 = process.cpuUsage();
      let fetched = 0;
      for await (const page of netsuite.sync.pages(
        { client, externalId: standIn.accountId, logger: silent, signal: new AbortController().signal },
        null,
        { now: () => new Date() },
      )) {
        fetched +=
          page.customers.length + page.invoices.length + page.payments.length + page.creditMemos.length;
        if ('mode' in page.cursor && page.cursor.mode === 'incremental') break;
      }
      const cpu = process.cpuUsage(cpu0);
      return { seconds: (performance.now() - c0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, fetched };
    };
    const alone = await connectorAlone();

    const profile = await startProfile();
    const backends0 = kind === 'postgres' ? await backendCpu(services.db) : null;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const first = await runSync(services, { connectionId: outcome.connectionId, reason: 'bench' });
    const firstS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const backends = backends0 ? await backendCpu(services.db, backends0) : null;
    await profile?.stop();
    if (first.status !== 'succeeded') throw new Error(`sync ${first.status}: ${first.error}`);

    const entities = standIn.entities;
    const ceiling = (accountConcurrency * NETSUITE_ROWS_PER_PAGE) / pageSeconds;
    const shareCeiling = (concurrency * NETSUITE_ROWS_PER_PAGE) / pageSeconds;
    const rate = entities / firstS;
    const figures = {
      bench: `netsuite-sync ${kind}`,
      invoices: standIn.invoices,
      entities,
      'page seconds (assumed)': pageSeconds,
      'account concurrency': accountConcurrency,
      NETSUITE_CONCURRENCY: concurrency,
      'ceiling entities/s': Math.round(ceiling),
      'ceiling at NETSUITE_CONCURRENCY entities/s': Math.round(shareCeiling),
      'full sync s': Math.round(firstS * 100) / 100,
      // This process's CPU during it (PGlite's engine runs here too; Postgres's backend does not).
      'full sync CPU s (this process)': Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
      // On a loaded machine CPU seconds say more than the rate: the database's share on Postgres.
      ...(backends ? { 'full sync CPU s (postgres backends)': Math.round(backends.total * 100) / 100 } : {}),
      'entities/s': Math.round(rate),
      'vs ceiling': `${(rate / ceiling).toFixed(2)}x`,
      'connector alone s': Math.round(alone.seconds * 100) / 100,
      'connector alone CPU s': Math.round(alone.cpuSeconds * 100) / 100,
      'connector entities/s': Math.round(alone.fetched / alone.seconds),
      'vs connector alone': `${(alone.seconds / firstS).toFixed(2)}x`,
    };
    if (params.latencyRuns === false)
      return { ...figures, 'peak RSS MiB': Math.round(process.resourceUsage().maxRSS / 1024) };

    // The connector alone again, NetSuite answering each page after `pageSeconds`.
    await standIn.ask({ stats: true });
    await standIn.ask({ latencyMs: Math.round(pageSeconds * 1000) });
    const slow = await connectorAlone();
    const slowStats = await standIn.ask({ stats: true });
    // The whole sync at that latency (everything read again into the same tenant): pages stay in flight while
    // earlier ones are written, so it should come close to the connector alone.
    const t1 = performance.now();
    const again = await runSync(services, {
      connectionId: outcome.connectionId,
      reason: 'bench',
      full: true,
    });
    const againS = (performance.now() - t1) / 1000;
    if (again.status !== 'succeeded') throw new Error(`sync ${again.status}: ${again.error}`);
    await standIn.ask({ latencyMs: 0 });

    const slowRate = slow.fetched / slow.seconds;
    return {
      ...figures,
      'connector at page latency s': Math.round(slow.seconds * 100) / 100,
      'connector at page latency entities/s': Math.round(slowRate),
      'requests at page latency': Number(slowStats.requests),
      'requests/s at page latency': Math.round((Number(slowStats.requests) / slow.seconds) * 100) / 100,
      'requests/s ceiling (NETSUITE_CONCURRENCY ÷ page seconds)':
        Math.round((concurrency / pageSeconds) * 100) / 100,
      'peak requests in flight': Number(slowStats.peakInFlight),
      'full sync at page latency s': Math.round(againS * 100) / 100,
      'full sync at page latency entities/s': Math.round(entities / againS),
      'vs connector at page latency': `${(slow.seconds / againS).toFixed(2)}x`,
      'peak RSS MiB': Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await services.close();
    standIn.child.disconnect();
    await dropDb();
  }
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'page-seconds': { type: 'string' },
      'account-concurrency': { type: 'string' },
      'no-latency': { type: 'boolean' },
    },
  });
  const kind = (positionals[0] ?? 'pglite') as 'pglite' | 'postgres';
  const n = Number(positionals[1] ?? 5_000);
  benchNetsuiteSync(kind, n, {
    ...(values['page-seconds'] ? { pageSeconds: Number(values['page-seconds']) } : {}),
    ...(values['account-concurrency'] ? { accountConcurrency: Number(values['account-concurrency']) } : {}),
    ...(values['no-latency'] ? { latencyRuns: false } : {}),
  }).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
