import type { Queue } from 'pg-boss';
import type { z } from 'zod';
import type { Services } from '../services';

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
    services: Services,
    job: { id: string; retryCount: number; signal?: AbortSignal },
  ) => Promise<unknown>;
}

/** Declares a job once: name, payload schema, policy and handler; everything else derives from it. */
export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}
