import type { DbOrTx } from '../db/client';
import { connectionStatuses, latestUploadAt } from '../db/queries/dunning-send';
import type { tenants } from '../db/schema';
import { liveStateRefreshers } from './live-invoice-state';
import type { LedgerUpload } from './suppression';

/**
 * A company without a connection: its ledger is its latest upload, however old (nothing reads it live before a
 * send), so a reminder waits while that upload is too old (staleUpload in suppression.ts) and a new upload releases
 * it (releaseUploadHolds). Null when a connection exists (it is read live, or its own state holds the send), when
 * something else stands for a live read (a test's refresher for the tenant's source), or when nothing was ever
 * uploaded (the rows did not come from a file). `connections`: how many the caller already counted.
 */
export async function uploadedLedger(
  db: DbOrTx,
  tenant: Pick<typeof tenants.$inferSelect, 'id' | 'source' | 'timezone'>,
  maxAgeDays: number,
  connections?: number,
): Promise<LedgerUpload | null> {
  const n = connections ?? (await connectionStatuses(db, tenant.id)).length;
  if (n > 0 || liveStateRefreshers[tenant.source]) return null;
  const at = await latestUploadAt(db, tenant.id);
  return at ? { at, maxAgeDays, timeZone: tenant.timezone || 'UTC' } : null;
}
