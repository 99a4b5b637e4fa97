/**
 * Composition root: builds the database, queue, clock and logger once, and hands them to the server, the workers
 * and the CLI. Nothing else constructs these.
 */
import { type Clock, offsetClock, systemClock } from './clock';
import type { Config } from './config';
import { createDb, type Db, type DbHandle } from './db/client';
import { allJobs } from './jobs/catalogue';
import type { JobDefinition } from './jobs/define';
import { JobQueue } from './jobs/queue';
import { createLogger, type Logger } from './logger';

export interface Services {
  config: Config;
  clock: Clock;
  logger: Logger;
  dbh: DbHandle;
  db: Db;
  queue: JobQueue;
  close(): Promise<void>;
}

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
}

export async function createServices(config: Config, opts: ServicesOptions = {}): Promise<Services> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const clock = opts.clock ?? (config.DUELY_NOW ? offsetClock(config.DUELY_NOW) : systemClock);
  const dbh =
    opts.dbh ??
    (await createDb({
      url: config.DATABASE_URL,
      dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR,
    }));
  try {
    await dbh.migrate();
  } catch (err) {
    await dbh.close();
    throw err;
  }
  const queue = JobQueue.create(dbh, logger, { schedule: opts.schedule });
  if (opts.queue !== false) await queue.start(opts.jobs ?? allJobs);
  let closed = false;
  return {
    config,
    clock,
    logger,
    dbh,
    db: dbh.db,
    queue,
    async close() {
      if (closed) return;
      closed = true;
      await queue.stop();
      await dbh.close();
    },
  };
}
