import type { Queue } from 'pg-boss';
import type { z } from 'zod';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Db, Tx } from '../db/client';
import type { DunningModule } from '../dunning';
import type { Logger } from '../logger';
import type { RiskModule } from '../risk';
import type { SyncModule } from '../sync';

export interface EnqueueOptions {
  tx?: Tx;
  startAfter?: Date | number;
  singletonKey?: string;
  /** A job id chosen by the caller (uuid): enqueueing the same id twice creates one job. */
  id?: string;
  priority?: number;
}

/** The queue as handlers and pipeline transitions see it: enqueue only (JobQueue in queue.ts implements it). */
export interface JobSender {
  send<S extends z.ZodType>(
    def: JobDefinition<S>,
    data: z.input<S>,
    opts?: EnqueueOptions,
  ): Promise<string | null>;
}

/**
 * What a job handler is handed (documenso's narrow `io`, not the app): infrastructure, the queue, and the module
 * operations the pipeline drives. The composition root's services satisfy it; jobs never import the root.
 */
export interface JobServices {
  config: Config;
  clock: Clock;
  logger: Logger;
  db: Db;
  queue: JobSender;
  risk: Pick<RiskModule, 'score' | 'retrain'>;
  dunning: Pick<DunningModule, 'plan' | 'send' | 'sweep' | 'replanPending' | 'uploadArrived'>;
  sync: Pick<SyncModule, 'run'>;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  /** Queue name in pg-boss. */
  name: string;
  /** The payload, validated when enqueued and again when worked (a queue row may outlive a deploy). */
  schema: S;
  /** pg-boss queue policy and retry settings. */
  queue?: Omit<Queue, 'name'>;
  /** Default singleton key for a payload, e.g. one sync per connection. */
  singletonKey?: (data: z.infer<S>) => string;
  /** A cron schedule (UTC) on which pg-boss enqueues this job with `cronData`; run by worker processes. */
  cron?: string;
  cronData?: z.input<S>;
  /** How many of these a worker process runs at once. */
  concurrency?: number;
  handler: (
    data: z.infer<S>,
    services: JobServices,
    job: { id: string; retryCount: number; signal?: AbortSignal },
  ) => Promise<unknown>;
}

/** Declares a job once: name, payload schema, policy and handler; everything else derives from it. */
export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}
