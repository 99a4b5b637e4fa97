/**
 * What the dunning engine asks of the job queue. src/jobs/dunning-jobs.ts implements it over pg-boss and
 * services.ts wires it in, so dunning never imports src/jobs (jobs → dunning, never back).
 */
import type { Tx } from '../db/client';

export interface DunningJobPort {
  /**
   * The message's send job, due after `delayMs` of real time, inside `tx`. Idempotent per (message, purpose):
   * enqueueing the same purpose twice (two planner runs, an approval clicked twice) makes one job.
   */
  scheduleSend(tx: Tx, messageId: string, delayMs: number, purpose: string): Promise<void>;
  /** Of these messages, those with a send job waiting to run (created or retrying); the sweeper's question. */
  waitingSendJobs(messageIds: string[]): Promise<Set<string>>;
  /** Plan the tenant again soon, inside `tx` (coalesces with a plan already queued). */
  replan(tx: Tx, tenantId: string, reason: string): Promise<void>;
}
