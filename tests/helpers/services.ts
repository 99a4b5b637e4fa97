import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Clock, fixedClock } from '../../src/clock';
import { loadConfig } from '../../src/config';
import type { DemoCompanyOptions } from '../../src/demo-company';
import type { JobDefinition } from '../../src/jobs/define';
import { createLogger, type Logger } from '../../src/logger';
import { createServices, type Services } from '../../src/services';
import { createTestDb } from './db';

export interface TestServiceOptions {
  clock?: Clock;
  env?: Record<string, string>;
  jobs?: readonly JobDefinition[];
  queue?: boolean;
  /** Silent unless given (the log redaction tests capture lines). */
  logger?: Logger;
  /** Run the built-in demo company (its sandbox) as `duely serve` does, when the configuration asks for it. */
  demoCompany?: DemoCompanyOptions;
}

/** Services on a fresh test database, silent logs, a fixed clock (2013-07-01 unless given). */
export async function createTestServices(opts: TestServiceOptions = {}): Promise<Services> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'duely-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    // Every inject() comes from 127.0.0.1: suites that sign in or fail auth hundreds of times (the route sweep)
    // would share one address's budget. tests/security/rate-limits.test.ts sets its own small limits.
    RATE_LIMIT_SIGN_IN: '1000000',
    RATE_LIMIT_AUTH_FAILURES: '1000000',
    RATE_LIMIT_WEBHOOKS: '1000000',
    ...opts.env,
  });
  const dbh = await createTestDb();
  return createServices(config, {
    dbh,
    clock: opts.clock ?? fixedClock('2013-07-01'),
    logger: opts.logger ?? createLogger('silent'),
    jobs: opts.jobs,
    queue: opts.queue,
    demoCompany: opts.demoCompany,
  });
}
