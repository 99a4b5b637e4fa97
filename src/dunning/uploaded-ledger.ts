import type { DbOrTx } from '../db/client';
import { connectionStatuses, latestUpload, latestUploadListing } from '../db/queries/dunning-send';
import type { tenants } from '../db/schema';
import { liveStateRefreshers } from './live-invoice-state';
import type { LedgerUpload } from './suppression';

/**
 * A company without a connection: its ledger is its latest upload, however old (nothing reads it live before a
 * send), so a reminder waits while that upload is too old (staleUpload in suppression.ts) and a new upload releases
 * it (releaseUploadHolds). Null when a connection exists (it is read live, or its own state holds the send), when
 * something else stands for a live read (a test's refresher for the tenant's source), or when nothing was ever
 * uploaded (the rows did not come from a file). `connections`: how many the caller already counted.
 *
 * `invoiceIds` (a message's): an upload upserts the invoices its file lists and leaves the others as they were, so
 * an invoice the latest upload left out is as of the latest upload that listed it (`unlisted`), not as of the latest.
 */
export async function uploadedLedger(
  db: DbOrTx,
  tenant: Pick<typeof tenants.$inferSelect, 'id' | 'source' | 'timezone'>,
  maxAgeDays: number,
  connections?: number,
  invoiceIds?: readonly string[],
): Promise<LedgerUpload | null> {
  const n = connections ?? (await connectionStatuses(db, tenant.id)).length;
  if (n > 0 || liveStateRefreshers[tenant.source]) return null;
  const latest = await latestUpload(db, tenant.id);
  if (!latest) return null;
  const left = latest.notListed;
  const upload: LedgerUpload = {
    at: latest.at,
    maxAgeDays,
    timeZone: tenant.timezone || 'UTC',
    leftOut: left?.count ?? 0,
    exportOn: latest.asOf,
  };
  if (!invoiceIds || !left || left.count === 0) return upload;
  // Left out more than its run kept: any of them may be one of these.
  const all = left.count > left.invoiceIds.length;
  const unlistedIds = all ? [...invoiceIds] : invoiceIds.filter((id) => left.invoiceIds.includes(id));
  if (unlistedIds.length === 0) return upload;
  return {
    ...upload,
    unlisted: {
      invoiceIds: unlistedIds,
      leftOut: all ? left.count : null,
      listedAt: await latestUploadListing(db, tenant.id, invoiceIds),
    },
  };
}
