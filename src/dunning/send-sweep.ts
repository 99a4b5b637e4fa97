/**
 * Repairs what lost its job: a 'queued' message past its send time with no send job waiting (a job id that
 * collided, a job deleted or failed for good), and a 'sending' message whose owner's lease ran out (the worker
 * died mid-send). Each gets a fresh send job; sendMessage itself decides what is safe (same key within the
 * provider's 24 h window, else 'unconfirmed'). Run by the dunning-sweep cron job; harmless to run any time, since a
 * duplicate job only finds the message claimed or final.
 */
import { queuedSendingBefore, sendingWithLapsedLease } from '../db/queries/dunning-send';
import type { DunningDeps } from './ports';
import { enqueueSend } from './engine';

/** A queued message this late without a waiting job is presumed to have lost it. */
export const SWEEP_GRACE_MS = 10 * 60_000;

export interface SweepResult {
  /** 'sending' rows whose owner's lease had ended. */
  takenOver: string[];
  /** 'queued' rows that had no waiting job. */
  requeued: string[];
}

export async function sweepStaleMessages(services: DunningDeps): Promise<SweepResult> {
  const { db, clock } = services;
  const now = clock.now();
  const stale = await sendingWithLapsedLease(db, now);
  const late = await queuedSendingBefore(db, new Date(now.getTime() - SWEEP_GRACE_MS));
  const waiting = await services.dunningJobs.waitingSendJobs(late.map((l) => l.id));
  const orphans = late.filter((l) => !waiting.has(l.id));
  const tag = now.toISOString();
  await db.transaction(async (tx) => {
    for (const m of stale) await enqueueSend(services, tx, m.id, now, `sweep:${tag}`);
    for (const m of orphans) await enqueueSend(services, tx, m.id, now, `sweep:${tag}`);
  });
  if (stale.length + orphans.length > 0) {
    services.logger.warn(
      { takenOver: stale.length, requeued: orphans.length },
      'dunning sweep: re-enqueued messages that had lost their send job',
    );
  }
  return { takenOver: stale.map((m) => m.id), requeued: orphans.map((m) => m.id) };
}
