/**
 * Runs one connection's sync: pages from the stored cursor (null → full sync), each page written with the cursor
 * and the run's progress in one transaction (apply-page.ts), recorded as a sync_runs row.
 *
 * - one sync per connection at a time across processes (database lock), besides the job's singleton policy;
 * - `resync_required` (incremental cursor too old) restarts as a full sync in the same run;
 * - a rejected grant marks the connection `reconnect_needed` and stops without retrying;
 * - retryable connector errors (throttling, 5xx, network) and interruptions are rethrown for the job to retry; the
 *   next attempt continues from the last committed page;
 * - other connector errors fail the run with the connector's user-facing message.
 */
import { ConnectorError } from '../../connectors/errors';
import type { EntityKind, SyncPage } from '../../connectors/types';
import {
  connectionById,
  failRunningSyncRuns,
  heartbeatSyncRun,
  insertSyncRun,
  latestSyncRun,
  markConnectionSynced,
  markReconnectNeeded,
  updateSyncRun,
} from '../db/queries/sync-runs';
import { tenantById } from '../db/queries/tenants';
import type { SyncProgress, SyncRunKind } from '../db/schema';
import { AppError } from '../errors';
import {
  addStats,
  applySyncPage,
  type InsertOnly,
  isUniqueViolation,
  type PageResult,
  type PreparedPage,
  preparePage,
  settleFullSync,
  tenantLedgerEmpty,
} from './apply-page';
import { ConnectionInactiveError } from './connection-tokens';
import { connectionClient } from './connections';
import type { OnSynced, SyncDeps } from './ports';

export type { OnSynced };

export interface RunSyncOptions {
  connectionId: string;
  /** Why it runs (webhook, manual, connect, schedule): stored in the run's source. */
  reason?: string;
  /** Ignore the stored cursor and read everything again. */
  full?: boolean;
  /**
   * With `full`: a full sync left unfinished (the stored cursor still in full mode) is continued from its last
   * committed page instead of started over. A sync job's retry sets it: its data keeps `full`, so a full re-sync cut
   * off by a dead worker or a retryable error started over at every attempt, and a long one might never end.
   */
  resumeFull?: boolean;
  signal?: AbortSignal;
  /**
   * Called inside each page's transaction with the invoices that page changed: enqueue scoring there so the job
   * exists exactly when the writes it depends on were committed.
   */
  onSynced?: OnSynced;
  /** After each committed page (CLI progress bar). Throwing here stops the run (tests simulate crashes). */
  onProgress?: (p: SyncProgressEvent) => void;
  /** Connector page size (tests, benchmarks). */
  pageSize?: number;
  /** Objects per change-feed answer at which the connector assumes it was cut (tests: a small sandbox limit). */
  cdcLimit?: number;
}

export interface SyncProgressEvent {
  syncRunId: string;
  kind: SyncRunKind;
  progress: SyncProgress;
  stats: Record<string, number>;
}

export type SyncOutcome = 'succeeded' | 'failed' | 'reconnect_needed' | 'skipped';

export interface SyncResult {
  status: SyncOutcome;
  syncRunId: string | null;
  kind: SyncRunKind | null;
  progress: SyncProgress | null;
  stats: Record<string, number>;
  /** Invoices changed by the whole run. */
  changedInvoices: number;
  error: string | null;
}

/**
 * Pages read ahead of the one being written (see the loop in runHeartbeating). With one, the next page's whole chain
 * (limiter and token reads, the provider's answer, parsing, mapping) had to fit in one page's write, and on a busy
 * machine it often did not, so the database waited for it. Four, not two: the pages that end one entity's listing and
 * start the next (an empty completion page, a few credit memos, journal entries) are written in a few milliseconds
 * each, so two pages ahead ran dry at every change of entity and the database waited for the next entity's first
 * page (the 20k-invoice sandbox company's full sync on Postgres at load 12–20: a median 121 ms of such waits in 13 runs with two, 64 ms in
 * 8 runs with four). Reads are still one at a time (a connector's iterator), so the provider sees no more concurrent
 * requests; a crash drops at most four pages read ahead, which the resumed run reads again.
 */
export const PAGES_AHEAD = 4;

/** The entity kinds in the order connectors deliver them in a full sync. */
export const SYNC_KINDS: readonly EntityKind[] = ['customers', 'invoices', 'creditMemos', 'payments'];
const ENTITY_KIND: Record<string, EntityKind> = {
  Customer: 'customers',
  Invoice: 'invoices',
  CreditMemo: 'creditMemos',
  // A journal entry's records are credits on account.
  JournalEntry: 'creditMemos',
  Payment: 'payments',
};

function emptyProgress(): SyncProgress {
  return { entities: Object.fromEntries(SYNC_KINDS.map((k) => [k, { pages: 0, rows: 0, done: false }])) };
}

/**
 * What run-sync reads of a connector's cursor: its mode, and in a full sync where it is, as the provider's entity
 * name (`entity`) or as the kind itself (`kind`).
 */
type CursorLike = { mode?: string; entity?: string; kind?: string } | null | undefined;

/** The kind a full-sync cursor is at, if it says. */
function kindAt(cursor: CursorLike): EntityKind | undefined {
  if (cursor?.mode !== 'full') return undefined;
  const kind = SYNC_KINDS.find((k) => k === cursor.kind);
  return kind ?? (cursor.entity ? ENTITY_KIND[cursor.entity] : undefined);
}

function kindOf(cursor: CursorLike): SyncRunKind {
  return !cursor || cursor.mode === 'full' ? 'full' : 'incremental';
}

/** Counts a page into the progress; marks entities done once the cursor moved past them. */
export function advanceProgress(progress: SyncProgress, page: SyncPage<unknown>): SyncProgress {
  const next: SyncProgress = { entities: { ...progress.entities } };
  for (const kind of SYNC_KINDS) {
    const rows = page[kind].length + page.deletions[kind].length;
    const cur = next.entities[kind] ?? { pages: 0, rows: 0, done: false };
    next.entities[kind] = rows > 0 ? { ...cur, pages: cur.pages + 1, rows: cur.rows + rows } : cur;
  }
  const cursor = page.cursor as CursorLike;
  const at = kindAt(cursor);
  // A full-sync cursor at a kind of the connector's own, read after the canonical kinds (a connector's journal
  // entries, its last listing), has passed them all; before, it read as 'at customers' and the running sync showed the
  // payments listing unfinished for as long as the journal entries were read.
  let doneBefore = SYNC_KINDS.length;
  if (cursor?.mode === 'full') doneBefore = at ? SYNC_KINDS.indexOf(at) : cursor.kind ? SYNC_KINDS.length : 0;
  SYNC_KINDS.forEach((kind, i) => {
    const cur = next.entities[kind];
    if (cur && i < doneBefore && !cur.done) next.entities[kind] = { ...cur, done: true };
  });
  return next;
}

/**
 * Whether a full sync's run wrote its last page: the stored cursor left full mode and the run's progress (written with
 * each page, in its transaction) has every kind done. The cursor alone does not say: a full re-sync (`full`) leaves
 * the previous incremental cursor stored until its first page, and a listing of the connector's own read after the
 * canonical kinds (journal entries) has every kind done while its cursor is still in full mode.
 */
function fullSyncWritten(
  run: { kind: SyncRunKind; progress: SyncProgress | null },
  stored: CursorLike,
): boolean {
  if (run.kind !== 'full' || !stored || stored.mode === 'full') return false;
  return SYNC_KINDS.every((k) => run.progress?.entities[k]?.done === true);
}

function isReconnect(err: unknown): boolean {
  if (err instanceof ConnectorError) return err.code === 'invalid_grant' || err.code === 'unauthorized';
  return err instanceof AppError && err.code === 'reconnect_needed';
}

function userMessage(err: unknown): string {
  if (err instanceof ConnectorError || err instanceof AppError) return err.userMessage;
  return 'The sync failed unexpectedly; it will be retried.';
}

/** Runs the sync of one connection to the end (or to the first error); see the module comment. */
export async function runSync(services: SyncDeps, opts: RunSyncOptions): Promise<SyncResult> {
  return services.dbh.withLock(`sync:${opts.connectionId}`, () => runLocked(services, opts));
}

async function runLocked(services: SyncDeps, opts: RunSyncOptions): Promise<SyncResult> {
  const heartbeat: { timer: ReturnType<typeof setInterval> | null } = { timer: null };
  try {
    return await runHeartbeating(services, opts, heartbeat);
  } finally {
    if (heartbeat.timer) clearInterval(heartbeat.timer);
  }
}

/** A run's heartbeat is refreshed this often while it lives (pages refresh it too). */
export const SYNC_RUN_HEARTBEAT_MS = 20_000;
/** A `running` run whose heartbeat is older than this belongs to a worker that died. */
export const SYNC_RUN_STALE_MS = 3 * 60_000;

/** Whether `run` is really running: `running` and heart-beating (a dead worker's run stays `running`). */
export function isLive(
  run: { status: string; heartbeatAt: Date | null; startedAt: Date },
  now: Date,
): boolean {
  const beat = run.heartbeatAt ?? run.startedAt;
  return run.status === 'running' && now.getTime() - beat.getTime() < SYNC_RUN_STALE_MS;
}

async function runHeartbeating(
  services: SyncDeps,
  opts: RunSyncOptions,
  heartbeat: { timer: ReturnType<typeof setInterval> | null },
): Promise<SyncResult> {
  const { db, clock } = services;
  const log = services.logger.child({ module: 'sync', connectionId: opts.connectionId });
  const conn = await connectionById(db, opts.connectionId);
  if (!conn) throw new AppError('not_found', `connection ${opts.connectionId} not found`, 404);
  const skipped: SyncResult = {
    status: conn.status === 'reconnect_needed' ? 'reconnect_needed' : 'skipped',
    syncRunId: null,
    kind: null,
    progress: null,
    stats: {},
    changedInvoices: 0,
    error: conn.statusReason,
  };
  if (conn.status !== 'active') {
    log.info({ status: conn.status }, 'sync skipped: connection not active');
    return skipped;
  }
  const tenant = await tenantById(db, conn.tenantId);
  if (!tenant) throw new AppError('not_found', `tenant of connection ${conn.id} not found`, 404);

  const stored = conn.syncCursor as CursorLike;
  const continueFull = opts.resumeFull === true && stored?.mode === 'full';
  let cursor: CursorLike = opts.full && !continueFull ? null : stored;
  let kind = kindOf(cursor);

  // A run left 'running' belongs to a process that died (we hold the lock): a full sync resumes in it.
  const previous = await latestSyncRun(db, conn.id);
  const resuming = cursor?.mode === 'full' && previous?.kind === 'full' && previous.status !== 'succeeded';
  let progress = resuming && previous ? previous.progress : emptyProgress();
  let stats: Record<string, number> = resuming && previous ? { ...previous.stats } : {};
  let runId: string;
  const source = { reason: opts.reason ?? 'manual', provider: conn.provider, externalId: conn.externalId };
  if (previous?.status === 'running' && resuming) {
    runId = previous.id;
    await updateSyncRun(db, runId, { source: { ...source, resumed: true }, heartbeatAt: clock.now() });
  } else {
    if (previous?.status === 'running' && fullSyncWritten(previous, stored)) {
      // Its process died between the page that ended the full sync and the run's `succeeded` mark (kill -9, OOM): that
      // page committed its cursor out of full mode and its progress with every kind done, so nothing is left to do
      // for it. It ends succeeded as of its last page, not as interrupted (the sync history showed the company's
      // completed first sync as failed).
      const at = previous.heartbeatAt ?? previous.startedAt;
      await updateSyncRun(db, previous.id, { status: 'succeeded', error: null, finishedAt: at });
      await markConnectionSynced(db, conn.id, at);
    }
    await failRunningSyncRuns(db, conn.id, clock.now());
    // A run starts after the one before it even when the clock reads the same instant (a clock that does not move,
    // a coarse one): the latest run is the one started last (latestSyncRun), and on a tie Postgres returns either.
    const startedAt = new Date(Math.max(clock.now().getTime(), (previous?.startedAt.getTime() ?? 0) + 1));
    runId = await insertSyncRun(db, {
      tenantId: conn.tenantId,
      connectionId: conn.id,
      kind,
      source: { ...source, resumed: resuming },
      progress,
      stats,
      startedAt,
      heartbeatAt: clock.now(),
    });
  }

  // Between pages (long throttle waits, slow answers) the run still says it is alive.
  heartbeat.timer = setInterval(() => {
    heartbeatSyncRun(db, runId, clock.now()).catch((err: unknown) =>
      log.warn({ err }, 'sync heartbeat failed'),
    );
  }, SYNC_RUN_HEARTBEAT_MS);
  heartbeat.timer.unref?.();

  const { connector, client } = connectionClient(services, conn);
  const signal = opts.signal ?? new AbortController().signal;
  const ctx = { client, externalId: conn.externalId, logger: log, signal };
  let changedInvoices = 0;
  let restarted = false;
  // A full sync's pages leave paid_date to one tenant-wide pass written with the page that ends it (its cursor leaves
  // full mode): pending while a full sync's pages were written without it, including by an earlier, interrupted run
  // of this sync (a stored cursor still in full mode), so a resumed full sync still ends with the pass.
  let paidDatesPending = cursor?.mode === 'full';
  const settle = async () => {
    if (!paidDatesPending) return;
    changedInvoices += (await settleFullSync(db, { tenantId: conn.tenantId, onSynced: opts.onSynced }))
      .length;
    paidDatesPending = false;
  };

  const finish = async (status: 'succeeded' | 'failed', error: string | null) => {
    const now = clock.now();
    await updateSyncRun(db, runId, { status, error, finishedAt: now, progress, stats, kind });
    if (status === 'succeeded') await markConnectionSynced(db, conn.id, now);
  };
  const result = (status: SyncOutcome, error: string | null): SyncResult => ({
    status,
    syncRunId: runId,
    kind,
    progress,
    stats,
    changedInvoices,
    error,
  });

  for (;;) {
    try {
      // A full sync into a ledger that holds none of the tenant's invoices (payments) inserts them without ON
      // CONFLICT (ledger-write.ts InsertOnly): cheaper for the database, and every row is new. A page that meets a
      // stored row after all (a record read twice, another writer) fails with a unique violation, is rolled back
      // whole and written again as upserts, as is the rest of the run.
      let insertOnly: InsertOnly | null = null;
      if (kind === 'full') {
        const empty = await tenantLedgerEmpty(db, conn.tenantId);
        // PGlite: the inserted rows' foreign keys are checked once per page, not per row (ledger-write.ts keysOff).
        if (empty.invoices || empty.payments)
          insertOnly = { ...empty, keysPerPage: services.dbh.kind === 'pglite' };
      }
      const pages = connector.sync.pages(ctx, cursor as never, {
        now: () => clock.now(),
        ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
        ...(opts.cdcLimit ? { cdcLimit: opts.cdcLimit } : {}),
        map: { homeCurrency: tenant.currency },
      });
      // Pages of lookahead: the next PAGES_AHEAD pages are fetched, and their statements' parameters prepared
      // (preparePage), while this one is written, so the connector's chain (request limit and token reads, the
      // provider's answer, parsing, mapping) and node's share of a page overlap the database's instead of
      // alternating with it. Pages are still written one at a time, in order, each with its own cursor.
      const iterator = pages[Symbol.asyncIterator]();
      const next = (): Promise<{
        step: IteratorResult<SyncPage<unknown>>;
        prepared: PreparedPage | null;
      }> => {
        const p = iterator
          .next()
          .then((step) => ({ step, prepared: step.done ? null : preparePage(step.value) }));
        p.catch(() => {});
        return p;
      };
      const ahead = Array.from({ length: PAGES_AHEAD }, next);
      for (;;) {
        const { step, prepared } = await ahead.shift()!;
        if (step.done) break;
        const page = step.value;
        ahead.push(next());
        if (signal.aborted) {
          await iterator.return?.(undefined).catch(() => {});
          throw new AppError('aborted', 'sync interrupted', 503, { retryable: true });
        }
        progress = advanceProgress(progress, page);
        stats = { ...stats, pages: (stats.pages ?? 0) + 1 };
        const inFull = kind === 'full' && (page.cursor as CursorLike)?.mode === 'full';
        const paidDates = inFull ? 'deferred' : kind === 'full' && paidDatesPending ? 'final' : 'page';
        const apply = () =>
          applySyncPage(db, {
            tenantId: conn.tenantId,
            connectionId: conn.id,
            syncRunId: runId,
            page,
            ...(prepared ? { prepared } : {}),
            ...(insertOnly ? { insertOnly } : {}),
            paidDates,
            progress,
            stats: (pageStats) => addStats({ ...stats }, pageStats),
            now: clock.now(),
            onSynced: opts.onSynced,
            log,
          });
        let pageResult: PageResult;
        try {
          pageResult = await apply();
        } catch (err) {
          if (!insertOnly || !isUniqueViolation(err)) throw err;
          // Nothing of the page was written (its transaction rolled back): it and the rest go as upserts.
          log.info(
            { err: err instanceof Error ? err.message : String(err) },
            'sync: stored rows met, upserting',
          );
          insertOnly = null;
          pageResult = await apply();
        }
        if (paidDates !== 'page') paidDatesPending = paidDates === 'deferred';
        stats = addStats(stats, pageResult.stats);
        changedInvoices += pageResult.changedInvoiceIds.length;
        cursor = page.cursor as CursorLike;
        opts.onProgress?.({ syncRunId: runId, kind, progress, stats });
      }
      // A connector that ended the full sync without a page leaving full mode: the pass in its own transaction.
      await settle();
      for (const k of SYNC_KINDS) {
        const e = progress.entities[k];
        if (e && !e.done) progress.entities[k] = { ...e, done: true };
      }
      await finish('succeeded', null);
      log.info({ kind, stats }, 'sync succeeded');
      return result('succeeded', null);
    } catch (err) {
      if (err instanceof ConnectorError && err.code === 'resync_required' && !restarted) {
        log.warn({ err: err.message }, 'incremental cursor expired: restarting as a full sync');
        restarted = true;
        cursor = null;
        kind = 'full';
        progress = emptyProgress();
        await updateSyncRun(db, runId, { kind, progress });
        continue;
      }
      if (err instanceof ConnectionInactiveError) {
        // Disconnected while we read: nothing of the interrupted page was written; do not retry. The pages written
        // before it keep consistent paid dates.
        await settle().catch((e: unknown) => log.warn({ err: e }, 'paid dates not settled'));
        await finish('failed', err.userMessage);
        log.info({ err: err.message }, 'sync stopped: the connection was disconnected');
        return result('skipped', err.userMessage);
      }
      if (isReconnect(err)) {
        const reason = err instanceof Error ? err.message : String(err);
        await markReconnectNeeded(db, conn.id, reason.slice(0, 500), clock.now());
        const message = userMessage(err);
        await finish('failed', message);
        log.warn({ err }, 'sync stopped: connection needs reconnecting');
        return result('reconnect_needed', message);
      }
      const aborted =
        signal.aborted ||
        (err instanceof ConnectorError && err.code === 'aborted') ||
        (err instanceof AppError && err.code === 'aborted');
      if (aborted) {
        await finish('failed', 'The sync was interrupted; it will continue where it stopped.');
        throw err;
      }
      const message = userMessage(err);
      await finish('failed', message);
      if (err instanceof ConnectorError && !err.retryable) {
        log.error({ err }, 'sync failed');
        return result('failed', message);
      }
      // Retryable (throttling, 5xx, network) or unexpected: the job retries from the last committed page.
      throw err;
    }
  }
}
