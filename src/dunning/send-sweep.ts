/**
 * Repairs what lost its job: a 'queued' message past its send time with no send job waiting (a job id that
 * collided, a job deleted or failed for good), and a 'sending' message whose owner's lease ran out (the worker
 * died mid-send). Each gets a fresh send job; sendMessage itself decides what is safe (same key within the
 * provider's 24 h window, else 'unconfirmed'). Run by the dunning-sweep cron job; harmless to run any time, since a
 * duplicate job only finds the message claimed or final.
 */
import { queuedSendingBefore, sendingWithLapsedLease } from '../db/queries/dunning-send';
import { enqueueSend } from './engine';
import type { DunningDeps } from './ports';
import { sweepBatches } from './send-batch';

/** A queued message this late without a waiting job is presumed to have lost it. */
export const SWEEP_GRACE_MS = 10 * 60_000;

export interface SweepResult {
  /** 'sending' rows whose owner's lease had ended. */
  takenOver: string[];
  /** 'queued' rows that had no waiting job. */
  requeued: string[];
  /** Open batches whose owner's lease had ended: a job resumes each (same members, same key). */
  batchesResumed: string[];
  /** Batches in doubt for IDEMPOTENCY_WINDOW_MS: concluded 'unconfirmed' for a person to check, not re-sent. */
  batchesUnconfirmed: string[];
}

export async function sweepStaleMessages(services: DunningDeps): Promise<SweepResult> {
  const { db, clock } = services;
  const now = clock.now();
  // A batch's members are resumed through their batch (one job per batch, below), never one by one.
  const stale = (await sendingWithLapsedLease(db, now)).filter((m) => m.batchId === null);
  const late = await queuedSendingBefore(db, new Date(now.getTime() - SWEEP_GRACE_MS));
  const waiting = await services.dunningJobs.waitingSendJobs(late.map((l) => l.id));
  const orphans = late.filter((l) => !waiting.has(l.id));
  const tag = now.toISOString();
  await db.transaction(async (tx) => {
    for (const m of stale) await enqueueSend(services, tx, m.id, now, `sweep:${tag}`);
    for (const m of orphans) await enqueueSend(services, tx, m.id, now, `sweep:${tag}`);
  });
  const batches = await sweepBatches(services, now);
  if (stale.length + orphans.length + batches.resumed.length + batches.unconfirmed.length > 0) {
    services.logger.warn(
      {
        takenOver: stale.length,
        requeued: orphans.length,
        batchesResumed: batches.resumed.length,
        batchesUnconfirmed: batches.unconfirmed.length,
      },
      'dunning sweep: re-enqueued messages that had lost their send job',
    );
  }
  return {
    takenOver: stale.map((m) => m.id),
    requeued: orphans.map((m) => m.id),
    batchesResumed: batches.resumed,
    batchesUnconfirmed: batches.unconfirmed,
  };
}
