/**
 * One connector SyncPage into the ledger, in ONE transaction together with the connection's cursor and the sync
 * run's progress, so a crash resumes from the last committed page with nothing lost and nothing duplicated. The
 * writes themselves (set-based upserts, deletions, listing reconciliation) are in db/queries/ledger-write.ts.
 */
import type { SyncPage } from '../../connectors/types';
import type { Db } from '../db/client';
import {
  type InsertOnly,
  type ListingLog,
  type PageResult,
  type PageStats,
  type PreparedPage,
  reconcileListing,
  recordListingIds,
  settlePaidDates,
  writePage,
} from '../db/queries/ledger-write';
import { advanceCursorIfActive, commitWithoutFlushWait, recordPageProgress } from '../db/queries/sync-runs';
import type { SyncProgress } from '../db/schema';
import { ConnectionInactiveError } from './connection-tokens';
import type { OnSynced } from './ports';

export {
  addStats,
  applyListing,
  emptyStats,
  type InsertOnly,
  isUniqueViolation,
  type ListingLog,
  type PageResult,
  type PageStats,
  type PreparedPage,
  preparePage,
  settlePaidDates,
  tenantHasImportedRows,
  tenantLedgerEmpty,
  writePage,
} from '../db/queries/ledger-write';

export interface ApplyPageOptions<Cursor> {
  tenantId: string;
  connectionId: string;
  syncRunId: string;
  page: SyncPage<Cursor>;
  /** preparePage(page), computed ahead by the caller (run-sync prepares the next page while this one is written). */
  prepared?: PreparedPage;
  /**
   * paid_date upkeep: `page` (default) recomputes the invoices this page touched; `deferred` (a full sync's pages)
   * leaves them to the pass that ends the full sync; `final` (the page that ends it) runs that pass, settlePaidDates
   * over the whole tenant, after the page's writes and listing reconciliation, in the page's transaction.
   */
  paidDates?: 'page' | 'deferred' | 'final';
  /**
   * Tables this page inserts into without ON CONFLICT (ledger-write.ts InsertOnly): a row that exists after all
   * fails the page with a unique violation, and the caller writes it again without.
   */
  insertOnly?: InsertOnly;
  /** The run's progress after this page (stored with it). */
  progress: SyncProgress;
  /** The run's cumulative stats after this page, from the page's own stats. */
  stats?: (page: PageStats) => Record<string, number>;
  now: Date;
  /** Runs inside the page's transaction: enqueue follow-up work (scoring, planning) atomically with the writes. */
  onSynced?: OnSynced;
  log?: ListingLog;
}

/** Writes the page, the connection's cursor and the run's progress in ONE transaction. */
export async function applySyncPage<Cursor>(db: Db, opts: ApplyPageOptions<Cursor>): Promise<PageResult> {
  return db.transaction(async (tx) => {
    // Every statement up to the page's writes goes out at once, in this order (postgres-js pipelines them on the
    // transaction's connection, PGlite queues them): one round trip instead of three.
    const relaxed = commitWithoutFlushWait(tx);
    // First, and as the row lock every later writer of this connection waits for: the page was read over the
    // network, so it is written only if the connection is still active (a disconnect meanwhile wins: the writes
    // issued behind the check are rolled back with the transaction).
    const cursor = advanceCursorIfActive(
      tx,
      opts.connectionId,
      opts.page.cursor as Record<string, unknown>,
      opts.now,
    );
    // The seen-ids bookkeeping touches only sync_seen_pages: it goes out now, ahead of the page's writes.
    const seen = recordListingIds(tx, opts);
    const paidDates = opts.paidDates ?? 'page';
    const writes = writePage(tx, opts.tenantId, opts.page, opts.now, opts.prepared, {
      deferPaidDates: paidDates !== 'page',
      ...(opts.insertOnly ? { insertOnly: opts.insertOnly } : {}),
    });
    // All settled before anything is thrown: no statement of this page may still be on its way when the
    // transaction rolls back.
    const [r0, r1, r2, r3] = await Promise.allSettled([relaxed, cursor, seen, writes]);
    // The cursor's answer first: a page refused for a gone connection fails as that, not as what it broke after.
    if (r1.status === 'rejected') throw r1.reason;
    if (!r1.value.active) throw new ConnectionInactiveError(opts.connectionId, r1.value.status ?? 'gone');
    for (const r of [r0, r2]) if (r.status === 'rejected') throw r.reason;
    if (r3.status === 'rejected') throw r3.reason;
    const written = r3.value;
    const listed = await reconcileListing(tx, { ...opts, log: opts.log });
    const settled = paidDates === 'final' ? await settlePaidDates(tx, opts.tenantId) : [];
    const result: PageResult = {
      stats: { ...written.stats, deletions: written.stats.deletions + listed.stats.deletions },
      changedInvoiceIds: [
        ...new Set([...written.changedInvoiceIds, ...listed.changedInvoiceIds, ...settled]),
      ],
      addressChangedCustomerIds: written.addressChangedCustomerIds ?? [],
    };
    await recordPageProgress(tx, opts.syncRunId, {
      progress: opts.progress,
      heartbeatAt: opts.now,
      ...(opts.stats ? { stats: opts.stats(result.stats) } : {}),
    });
    // Credit on account moved (a payment applied to nothing, a credit memo, a journal entry, one deleted): the plan
    // decides on it (credit covering a debtor stops its reminders) even when no invoice changed with it.
    const { deletions } = opts.page;
    const creditChanged =
      result.stats.payments > 0 ||
      result.stats.creditMemos > 0 ||
      deletions.payments.length > 0 ||
      deletions.creditMemos.length > 0 ||
      (opts.page.journalEntries?.length ?? 0) > 0 ||
      listed.stats.deletions > 0;
    // A customer's addresses changed: what waits for it was addressed to the old ones (even with no invoice changed).
    const addressChangedCustomerIds = result.addressChangedCustomerIds ?? [];
    if (
      opts.onSynced &&
      (result.changedInvoiceIds.length > 0 || creditChanged || addressChangedCustomerIds.length > 0)
    ) {
      await opts.onSynced(tx, {
        tenantId: opts.tenantId,
        changedInvoiceIds: result.changedInvoiceIds,
        creditChanged,
        addressChangedCustomerIds,
      });
    }
    return result;
  });
}

/**
 * The end of a full sync whose last page deferred its paid dates without a `final` page (a connector that ends a
 * full sync without a page whose cursor leaves full mode): settlePaidDates in its own transaction, with onSynced.
 */
export async function settleFullSync(
  db: Db,
  opts: Pick<ApplyPageOptions<unknown>, 'tenantId' | 'onSynced'>,
): Promise<string[]> {
  return db.transaction(async (tx) => {
    const changedInvoiceIds = await settlePaidDates(tx, opts.tenantId);
    if (opts.onSynced && changedInvoiceIds.length > 0)
      await opts.onSynced(tx, { tenantId: opts.tenantId, changedInvoiceIds, creditChanged: false });
    return changedInvoiceIds;
  });
}
