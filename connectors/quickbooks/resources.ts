/**
 * Sync iterators: a resumable full sync by paged queries, then incremental sync by Change Data Capture.
 *  - Query paging: https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
 *    (STARTPOSITION is 1-based, MAXRESULTS at most 1000, a page past the end is `{"QueryResponse":{}}`).
 *  - CDC: https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture
 *    (changedSince within 30 days; at most 1000 objects per answer across all requested entities).
 */
import type { Instant } from '../canonical';
import { ConnectorError } from '../errors';
import type { CanonicalRecords, ConnectorContext, EntityKind, SyncOptions, SyncPage } from '../types';
import type { QboClient } from './client';
import {
  DEFAULT_MAP_OPTIONS,
  isDeletedRow,
  type MapOptions,
  mapCreditMemo,
  mapCustomer,
  mapDeletion,
  mapInvoice,
  mapPayment,
} from './map';

/** Synced in this order so payments arrive after the invoices and credit memos they reference. */
export const QBO_SYNC_ENTITIES = ['Customer', 'Invoice', 'CreditMemo', 'Payment'] as const;
export type QboEntity = (typeof QBO_SYNC_ENTITIES)[number];

export type QboCursor =
  /** Full sync in progress: next page of `entity`; `changedSince` is where CDC takes over afterwards. */
  | { mode: 'full'; entity: QboEntity; startPosition: number; changedSince: Instant }
  | { mode: 'cdc'; changedSince: Instant };

export interface QboSyncOptions extends SyncOptions {
  /** MAXRESULTS of full-sync pages (Intuit caps it at 1000). */
  pageSize?: number;
  /** Objects per CDC answer at which we assume it was cut (Intuit: 1000). */
  cdcLimit?: number;
  map?: MapOptions;
}

export const QBO_MAX_PAGE_SIZE = 1000;
export const QBO_CDC_LIMIT = 1000;
export const QBO_CDC_MAX_AGE_MS = 30 * 24 * 3600 * 1000;
/** Re-read a minute behind the server's clock so a change committed while it answered is not missed. */
const CDC_OVERLAP_MS = 60_000;

const KIND: Record<QboEntity, EntityKind> = {
  Customer: 'customers',
  Invoice: 'invoices',
  CreditMemo: 'creditMemos',
  Payment: 'payments',
};

type QboContext = ConnectorContext<QboClient>;

function emptyPage(cursor: QboCursor): SyncPage<QboCursor> {
  return {
    customers: [],
    invoices: [],
    payments: [],
    creditMemos: [],
    deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
    cursor,
  };
}

/** Maps raw rows of one entity into `page` (tombstones become deletions). */
function addRows(page: SyncPage<QboCursor>, entity: QboEntity, rows: unknown[], map: MapOptions): void {
  const kind = KIND[entity];
  for (const row of rows) {
    if (isDeletedRow(row)) {
      page.deletions[kind].push(mapDeletion(row));
      continue;
    }
    const records: CanonicalRecords = page;
    if (entity === 'Customer') records.customers.push(mapCustomer(row, map));
    else if (entity === 'Invoice') records.invoices.push(mapInvoice(row, map));
    else if (entity === 'CreditMemo') records.creditMemos.push(mapCreditMemo(row, map));
    else records.payments.push(mapPayment(row, map));
  }
}

function toIso(time: string | undefined): Instant | null {
  const ms = time ? Date.parse(time) : Number.NaN;
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function rowsOf(response: Record<string, unknown>, entity: string): unknown[] {
  const rows = response[entity];
  return Array.isArray(rows) ? rows : [];
}

export async function* quickbooksPages(
  ctx: QboContext,
  cursor: QboCursor | null,
  options: QboSyncOptions,
): AsyncGenerator<SyncPage<QboCursor>> {
  if (cursor?.mode === 'cdc') {
    yield* cdcPages(ctx, cursor, options);
    return;
  }
  yield* fullSyncPages(ctx, cursor, options);
}

/** Full sync, one entity after the other; each page's cursor points at the next page. */
async function* fullSyncPages(
  ctx: QboContext,
  from: QboCursor | null,
  options: QboSyncOptions,
): AsyncGenerator<SyncPage<QboCursor>> {
  const pageSize = Math.min(options.pageSize ?? QBO_MAX_PAGE_SIZE, QBO_MAX_PAGE_SIZE);
  const map = options.map ?? DEFAULT_MAP_OPTIONS;
  let cursor = from?.mode === 'full' ? from : null;
  for (;;) {
    const entity = cursor?.entity ?? QBO_SYNC_ENTITIES[0];
    const startPosition = cursor?.startPosition ?? 1;
    const envelope = await ctx.client.query(
      `SELECT * FROM ${entity} STARTPOSITION ${startPosition} MAXRESULTS ${pageSize}`,
      ctx.signal,
    );
    // Changes made after the first page are picked up by CDC from the server's own clock at that moment.
    const changedSince = cursor?.changedSince ?? toIso(envelope.time) ?? options.now().toISOString();
    const rows = rowsOf(envelope.QueryResponse, entity);
    if (rows.length > 0) {
      cursor = { mode: 'full', entity, startPosition: startPosition + rows.length, changedSince };
      const page = emptyPage(cursor);
      addRows(page, entity, rows, map);
      ctx.logger.info(
        { realmId: ctx.externalId, entity, startPosition, rows: rows.length },
        'QuickBooks full-sync page',
      );
      yield page;
      continue;
    }
    const next = QBO_SYNC_ENTITIES[QBO_SYNC_ENTITIES.indexOf(entity) + 1];
    if (!next) {
      yield emptyPage({ mode: 'cdc', changedSince });
      return;
    }
    cursor = { mode: 'full', entity: next, startPosition: 1, changedSince };
    yield emptyPage(cursor);
  }
}

/**
 * One incremental round, streamed with a one-page lookahead: every page but the last repeats the old cursor (a
 * crash mid-round repeats the round, never skips it); the last carries the new one.
 */
async function* cdcPages(
  ctx: QboContext,
  cursor: { mode: 'cdc'; changedSince: Instant },
  options: QboSyncOptions,
): AsyncGenerator<SyncPage<QboCursor>> {
  const since = Date.parse(cursor.changedSince);
  if (!(options.now().getTime() - since < QBO_CDC_MAX_AGE_MS)) {
    throw new ConnectorError({
      code: 'resync_required',
      message: `QuickBooks CDC cursor ${cursor.changedSince} is older than 30 days (or unreadable)`,
    });
  }
  const round: CdcRound = { serverTime: null };
  let pending: SyncPage<QboCursor> | null = null;
  for await (const page of cdcRound(ctx, [...QBO_SYNC_ENTITIES], cursor, options, round)) {
    if (pending) yield pending;
    pending = page;
  }
  const time = round.serverTime ? Date.parse(round.serverTime) : options.now().getTime();
  const next: QboCursor = {
    mode: 'cdc',
    changedSince: new Date(Math.max(since, time - CDC_OVERLAP_MS)).toISOString(),
  };
  yield { ...(pending ?? emptyPage(cursor)), cursor: next };
}

interface CdcRound {
  /** Server time of the round's first answer: the next changedSince. */
  serverTime: string | null;
}

/**
 * Asks CDC for `entities`. A saturated answer (cdcLimit objects in total) may have been cut anywhere, so it is
 * discarded and the request is split: the entity set in halves, and for a single saturated entity the changed
 * rows are paged by query on MetaData.LastUpdatedTime instead (CDC has no upper time bound to shrink).
 */
async function* cdcRound(
  ctx: QboContext,
  entities: QboEntity[],
  cursor: { mode: 'cdc'; changedSince: Instant },
  options: QboSyncOptions,
  round: CdcRound,
): AsyncGenerator<SyncPage<QboCursor>> {
  const limit = options.cdcLimit ?? QBO_CDC_LIMIT;
  const map = options.map ?? DEFAULT_MAP_OPTIONS;
  const envelope = await ctx.client.cdc(entities, cursor.changedSince, ctx.signal);
  round.serverTime ??= envelope.time ?? null;
  const perEntity = new Map<QboEntity, unknown[]>();
  for (const block of envelope.CDCResponse.flatMap((r) => r.QueryResponse ?? [])) {
    for (const entity of entities) {
      const rows = rowsOf(block, entity);
      if (rows.length > 0) perEntity.set(entity, [...(perEntity.get(entity) ?? []), ...rows]);
    }
  }
  const total = [...perEntity.values()].reduce((n, rows) => n + rows.length, 0);
  const log = { realmId: ctx.externalId, entities, since: cursor.changedSince, rows: total };
  if (total < limit) {
    const page = emptyPage(cursor);
    for (const [entity, rows] of perEntity) addRows(page, entity, rows, map);
    ctx.logger.info(log, 'QuickBooks CDC');
    yield page;
    return;
  }
  ctx.logger.warn(log, 'QuickBooks CDC saturated; splitting');
  if (entities.length > 1) {
    const half = Math.ceil(entities.length / 2);
    yield* cdcRound(ctx, entities.slice(0, half), cursor, options, round);
    yield* cdcRound(ctx, entities.slice(half), cursor, options, round);
    return;
  }
  const [entity] = entities as [QboEntity];
  // Tombstones are only visible through CDC: keep the ones this (cut) answer carried.
  const tombstones = emptyPage(cursor);
  tombstones.deletions[KIND[entity]].push(
    ...(perEntity.get(entity) ?? []).filter(isDeletedRow).map(mapDeletion),
  );
  yield tombstones;
  yield* changedByQuery(ctx, entity, cursor, options);
}

/** SELECT * FROM X WHERE MetaData.LastUpdatedTime >= '<since>', paged like a full sync. */
async function* changedByQuery(
  ctx: QboContext,
  entity: QboEntity,
  cursor: { mode: 'cdc'; changedSince: Instant },
  options: QboSyncOptions,
): AsyncGenerator<SyncPage<QboCursor>> {
  const pageSize = Math.min(options.pageSize ?? QBO_MAX_PAGE_SIZE, QBO_MAX_PAGE_SIZE);
  const map = options.map ?? DEFAULT_MAP_OPTIONS;
  for (let position = 1; ; ) {
    const envelope = await ctx.client.query(
      `SELECT * FROM ${entity} WHERE MetaData.LastUpdatedTime >= '${cursor.changedSince}' STARTPOSITION ${position} MAXRESULTS ${pageSize}`,
      ctx.signal,
    );
    const rows = rowsOf(envelope.QueryResponse, entity);
    if (rows.length === 0) return;
    const page = emptyPage(cursor);
    addRows(page, entity, rows, map);
    yield page;
    position += rows.length;
  }
}
