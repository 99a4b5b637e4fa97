/**
 * Composition root: builds the infrastructure once (database, queue, clock, logger, mail transport, vault, the
 * connection-token refresher, the shared request limiters, the model registry), then the modules (createAuth,
 * createAnalytics, createRisk, createSync, createDunning) wired through the ports each declares in its ports.ts, and
 * hands them to the server, the workers and the CLI. Imported only by the entry points and test helpers; http and
 * jobs take the `Services` type from src/app-services.ts (types only). Nothing else constructs these.
 */
export type { Services } from './app-services';

import { createAnalytics } from './analytics';
import type { Services } from './app-services';
import { createAuth } from './auth';
import { type Clock, offsetClock, systemClock } from './clock';
import type { Config } from './config';
import { createDb, type DbHandle } from './db/client';
import { markCompanyReconnectNeeded } from './db/queries/connections';
import {
  DEMO_PROVIDER,
  DEMO_RESTARTED,
  type DemoCompany,
  type DemoCompanyOptions,
  quickbooksSetup,
  startDemoCompany,
} from './demo-company';
import { createDunning } from './dunning';
import type { Infra } from './infra';
import { allJobs } from './jobs/catalogue';
import type { JobDefinition } from './jobs/define';
import { dunningJobPort } from './jobs/dunning-jobs';
import { JobQueue } from './jobs/queue';
import { Vault } from './keys';
import { createLogger, type Logger } from './logger';
import { mailTransportFromConfig } from './mail/resend';
import { createRisk, ModelRegistry } from './risk';
import { createSync } from './sync';
import { createConnectionTokens, ProcessLimiters } from './sync/connections';

export interface ServicesOptions {
  clock?: Clock;
  logger?: Logger;
  /** Override the database (tests pass an in-memory PGlite or a per-test Postgres database). */
  dbh?: DbHandle;
  /** Start pg-boss (default true). The CLI's one-shot commands that never enqueue can skip it. */
  queue?: boolean;
  /** Run pg-boss maintenance and cron schedules in this process (workers). */
  schedule?: boolean;
  jobs?: readonly JobDefinition[];
  /**
   * Run the demo company in this process when the configuration asks for it (quickbooksSetup() says demo):
   * `duely serve` and `duely demo` pass this; one-shot commands do not. `useSandboxClock` makes the sandbox's
   * clock Duely's (`duely demo` advances days in both at once).
   */
  demoCompany?: DemoCompanyOptions & { useSandboxClock?: boolean };
}

export async function createServices(config: Config, opts: ServicesOptions = {}): Promise<Services> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  let clock = opts.clock ?? (config.DUELY_NOW ? offsetClock(config.DUELY_NOW) : systemClock);
  const dbh =
    opts.dbh ??
    (await createDb({
      url: config.DATABASE_URL,
      dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR,
    }));
  let demoCompany: DemoCompany | null = null;
  try {
    await dbh.migrate();
    if (opts.demoCompany && quickbooksSetup(config).mode === 'demo') {
      const { useSandboxClock, ...sizes } = opts.demoCompany;
      demoCompany = await startDemoCompany(config, { ...sizes, now: clock.now() });
      config = demoCompany.config;
      const sandbox = demoCompany.sandbox;
      if (useSandboxClock) clock = { now: () => sandbox.now() };
      logger.info(
        {
          url: sandbox.url,
          realmId: sandbox.realmId,
          customers: demoCompany.customers,
          invoices: demoCompany.invoices,
        },
        'demo company started',
      );
      // The sandbox is new: a demo connection made before the restart holds tokens it never issued. Say so now, on
      // Connections, rather than "Active" until the next sync fails.
      const stale = await markCompanyReconnectNeeded(
        dbh.db,
        DEMO_PROVIDER.provider,
        sandbox.realmId,
        DEMO_RESTARTED,
        clock.now(),
      );
      if (stale > 0)
        logger.info({ connections: stale }, 'demo company restarted: its connection asks to reconnect');
    }
  } catch (err) {
    await demoCompany?.stop();
    await dbh.close();
    throw err;
  }
  const queue = JobQueue.create(dbh, logger, { schedule: opts.schedule });
  if (opts.queue !== false) await queue.start(opts.jobs ?? allJobs);
  let closed = false;
  const infra: Infra = {
    config,
    clock,
    logger,
    dbh,
    db: dbh.db,
    mailer: mailTransportFromConfig(config),
    vault: new Vault(config.APP_SECRET),
  };
  const syncDeps = { ...infra, tokens: createConnectionTokens(infra), limiters: new ProcessLimiters() };
  const models = new ModelRegistry();
  const risk = createRisk({ ...infra, models });
  const sync = createSync(syncDeps);
  const dunningJobs = dunningJobPort(queue);
  const payLinkChecks = new Map<string, number>();
  const dunning = createDunning({ ...infra, dunningJobs, risk, sync, payLinkChecks });
  const auth = createAuth(infra);
  return {
    ...syncDeps,
    queue,
    auth,
    analytics: createAnalytics(infra),
    risk,
    sync,
    dunning,
    models,
    payLinkChecks,
    dunningJobs,
    demoCompany,
    async close() {
      if (closed) return;
      closed = true;
      await auth.signInEmailsSettled();
      await queue.stop();
      await dbh.close();
      await demoCompany?.stop();
    },
  };
}
