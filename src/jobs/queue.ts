/**
 * pg-boss on the app's own database (PGlite in-process through `fromPglite`, or Postgres), driven by typed job
 * definitions. Enqueue inside a drizzle transaction with `{ tx }` so a job exists only if the writes it depends on
 * were committed.
 */
import { sql } from 'drizzle-orm';
import { type DrizzleTransactionLike, fromDrizzle, fromPglite, PgBoss } from 'pg-boss';
import type { z } from 'zod';
import type { DbHandle } from '../db/client';
import type { Logger } from '../logger';
import type { EnqueueOptions, JobDefinition, JobServices } from './define';

export type { EnqueueOptions };

export interface QueueHealth {
  ok: boolean;
  started: boolean;
  error?: string;
}

export class JobQueue {
  private started = false;
  private readonly definitions = new Map<string, JobDefinition>();

  private constructor(
    private readonly boss: PgBoss,
    private readonly logger: Logger,
    /** Whether this process owns cron schedules (workers do; web processes and one-shot commands don't). */
    private readonly schedules: boolean,
  ) {
    boss.on('error', (err: Error) => logger.error({ err }, 'job queue error'));
  }

  static create(handle: DbHandle, logger: Logger, opts: { schedule?: boolean } = {}): JobQueue {
    const common = {
      schema: 'pgboss',
      schedule: opts.schedule ?? false,
      supervise: opts.schedule ?? false,
      migrate: true,
    };
    const boss = handle.pglite
      ? new PgBoss({ ...common, db: fromPglite(handle.pglite), backend: 'pglite' })
      : new PgBoss({ ...common, connectionString: handle.url, max: 4, application_name: 'duely-queue' });
    return new JobQueue(boss, logger.child({ module: 'queue' }), opts.schedule ?? false);
  }

  /**
   * Services built without the queue (`queue: false`) never started pg-boss: refused at once, saying so. pg-boss itself
   * asserts on Postgres, but on PGlite an enqueue inside a transaction waited for ever for the one connection that
   * transaction held.
   */
  private assertStarted(what: string): void {
    if (!this.started)
      throw new Error(`The job queue is not started (services created with queue: false): ${what}`);
  }

  /** Starts pg-boss (installing or migrating its schema) and makes sure every declared queue exists. */
  async start(definitions: readonly JobDefinition[]): Promise<void> {
    await this.boss.start();
    this.started = true;
    for (const def of definitions) {
      this.definitions.set(def.name, def);
      const existing = await this.boss.getQueue(def.name);
      if (!existing) await this.boss.createQueue(def.name, def.queue ?? {});
      if (def.cron && this.schedules) {
        await this.boss.schedule(def.name, def.cron, (def.cronData ?? {}) as object, { tz: 'UTC' });
      }
    }
  }

  async send<S extends z.ZodType>(
    def: JobDefinition<S>,
    data: z.input<S>,
    opts: EnqueueOptions = {},
  ): Promise<string | null> {
    this.assertStarted(`${def.name} cannot be enqueued`);
    const payload = def.schema.parse(data) as object;
    const singletonKey = opts.singletonKey ?? def.singletonKey?.(payload as z.infer<S>);
    return this.boss.send(def.name, payload, {
      // The generic PgQueryResultHKT types execute() as unknown; at run time both drivers return rows.
      ...(opts.tx ? { db: fromDrizzle(opts.tx as unknown as DrizzleTransactionLike, sql) } : {}),
      ...(opts.startAfter !== undefined ? { startAfter: opts.startAfter } : {}),
      ...(singletonKey ? { singletonKey } : {}),
      ...(opts.id ? { id: opts.id } : {}),
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      // Per job too: a queue created before the definition asked for heartbeats cannot be given them later.
      ...(def.queue?.heartbeatSeconds ? { heartbeatSeconds: def.queue.heartbeatSeconds } : {}),
    });
  }

  /** One supervisor pass now (fails jobs whose heartbeat or expiry lapsed); workers run it every minute. */
  async supervise(name?: string): Promise<void> {
    await this.boss.supervise(name);
  }

  /** Registers a worker for each definition; failures are logged and left to pg-boss's retry policy. */
  async work(services: JobServices, defaultConcurrency: number): Promise<void> {
    for (const def of this.definitions.values()) {
      await this.boss.work(
        def.name,
        {
          batchSize: 1,
          localConcurrency: def.concurrency ?? defaultConcurrency,
          pollingIntervalSeconds: 0.5,
        },
        async ([job]) => {
          if (!job) return;
          const log = this.logger.child({ job: def.name, jobId: job.id });
          try {
            const data = def.schema.parse(job.data);
            return await def.handler(data, services, {
              id: job.id,
              retryCount: job.retryCount ?? 0,
              signal: job.signal,
            });
          } catch (err) {
            log.error({ err }, 'job failed');
            throw err;
          }
        },
      );
    }
  }

  /** Jobs of a queue (optionally by payload, or only those still waiting); used by the API, the sweeper and tests. */
  async findJobs(name: string, opts: { data?: object; queued?: boolean } = {}) {
    this.assertStarted(`${name}'s jobs cannot be read`);
    return this.boss.findJobs(name, opts);
  }

  async health(): Promise<QueueHealth> {
    if (!this.started) return { ok: false, started: false, error: 'not started' };
    try {
      await this.boss.getQueues();
      return { ok: true, started: true };
    } catch (err) {
      return { ok: false, started: true, error: (err as Error).message };
    }
  }

  /**
   * Graceful: workers stop fetching, in-flight jobs get `timeoutMs` to finish; a job cut off is retried by pg-boss
   * after its expiry, so nothing is lost.
   */
  // 60 s: longer than one dunning send can take (SEND_BUDGET_MS, 40 s), so a SIGTERM never cuts a send short.
  async stop(timeoutMs = 60_000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, timeout: timeoutMs, close: true });
  }
}
