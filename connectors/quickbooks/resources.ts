/**
 * Sync iterators: a resumable full sync by paged queries, then incremental sync by Change Data Capture.
 *  - Query paging: https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
 *    (MAXRESULTS at most 1000, a page past the end is `{"QueryResponse":{}}`). Pages are keyed by Id
 *    (`WHERE Id > '<last>' ORDERBY Id`), never by STARTPOSITION: a row deleted between two positional pages shifts
 *    every later row one place back, and the row that slides across the page boundary is never read.
 *  - Deletions: a full read lists every id of each entity (see SyncPage `listingStarts`/`listingComplete`), so a
 *    row deleted while no change feed was watching (expired cursor, `full` re-sync) is found missing.
 *  - CDC: https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture
 *    (changedSince within 30 days; at most 1000 objects per answer across all requested entities).
 *  - Journal entries become credits on account (map.ts mapJournalEntry) by their lines to Accounts Receivable: the
 *    company's A/R accounts are read once per run, when the first journal entry needs them.
 */
import type { Instant } from '../canonical';
import { ConnectorError } from '../errors';
import type {
  CanonicalRecords,
  ConnectorContext,
  EntityKind,
  ListingKind,
  SyncOptions,
  SyncPage,
} from '../types';
import type { QboClient } from './client';
import {
  DEFAULT_MAP_OPTIONS,
  isDeletedRow,
  type MapOptions,
  mapCreditMemo,
  mapCustomer,
  mapDeletion,
  mapInvoice,
  mapJournalEntry,
  mapJournalEntryRead,
  mapPayment,
  syncTokenOf,
} from './map';

/** Synced in this order so payments arrive after the invoices and credits (memos, journal entries) they reference. */
export const QBO_SYNC_ENTITIES = ['Customer', 'Invoice', 'CreditMemo', 'JournalEntry', 'Payment'] as const;
export type QboEntity = (typeof QBO_SYNC_ENTITIES)[number];

export type QboCursor =
  /**
   * Full sync in progress: the rows of `entity` with Id above `afterId` (null: from the first) are next;
   * `changedSince` is where CDC takes over afterwards.
   */
  | { mode: 'full'; entity: QboEntity; afterId: string | null; changedSince: Instant }
  | { mode: 'cdc'; changedSince: Instant };

export interface QboSyncOptions extends SyncOptions {
  /** MAXRESULTS of full-sync pages (Intuit caps it at 1000). */
  pageSize?: number;
  /** Objects per CDC answer at which we assume it was cut (Intuit: 1000). */
  cdcLimit?: number;
  /** MAXRESULTS of the id listing that finds deletions after a cut CDC answer (Intuit caps it at 1000). */
  idPageSize?: number;
  map?: MapOptions;
}

export const QBO_MAX_PAGE_SIZE = 1000;
export const QBO_CDC_LIMIT = 1000;
export const QBO_CDC_MAX_AGE_MS = 30 * 24 * 3600 * 1000;
/** Re-read a minute behind the server's clock so a change committed while it answered is not missed. */
const CDC_OVERLAP_MS = 60_000;

/** The canonical kind of each entity's records (a journal entry's are credits on account). */
const KIND: Record<QboEntity, EntityKind> = {
  Customer: 'customers',
  Invoice: 'invoices',
  CreditMemo: 'creditMemos',
  JournalEntry: 'creditMemos',
  Payment: 'payments',
};
/** What a listing of each entity's ids lists (journal entries: the entries, not the credits they produce). */
const LISTING: Record<QboEntity, ListingKind> = { ...KIND, JournalEntry: 'journalEntries' };

/** The context of one run of the iterators, with what the run reads once (the company's A/R accounts). */
type QboContext = ConnectorContext<QboClient> & { receivables?: Promise<ReadonlySet<string>> | undefined };

/**
 * Ids of the company's Accounts Receivable accounts, inactive ones included (a journal entry may post to an account
 * made inactive since): https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/account
 * (AccountType "Accounts Receivable"). Read once per run, on the first journal entry, and kept for the run.
 */
function receivableAccounts(ctx: QboContext): Promise<ReadonlySet<string>> {
  if (ctx.receivables) return ctx.receivables;
  const readAll = async (withInactive: boolean) => {
    const ids = new Set<string>();
    for (let afterId: string | null = null; ; ) {
      const where = [
        "AccountType = 'Accounts Receivable'",
        ...(withInactive ? ['Active IN (true, false)'] : []),
        ...(afterId === null ? [] : [`Id > '${afterId}'`]),
      ];
      const envelope = await ctx.client.query(
        `SELECT Id FROM Account WHERE ${where.join(' AND ')} ORDERBY Id MAXRESULTS ${QBO_MAX_PAGE_SIZE}`,
        ctx.signal,
      );
      const rows = rowsOf(envelope.QueryResponse, 'Account');
      if (rows.length === 0) return ids;
      for (const row of rows) ids.add(idOf(row));
      afterId = lastId(rows);
    }
  };
  const read = (async () => {
    try {
      return await readAll(true);
    } catch (err) {
      // A company whose query service refuses the Active filter on accounts (not verified against every Intuit
      // release) still syncs: active A/R accounts only, and a warning, rather than every journal page failing.
      if (!(err instanceof ConnectorError) || err.code !== 'invalid_query') throw err;
      ctx.logger.warn(
        { realmId: ctx.externalId, err: err.message },
        'QuickBooks refused the inactive-accounts filter; reading active A/R accounts only',
      );
      return readAll(false);
    }
  })();
  ctx.receivables = read;
  // A failed read is not kept: the run's retry reads again.
  read.catch(() => {
    if (ctx.receivables === read) ctx.receivables = undefined;
  });
  return read;
}

function emptyPage(cursor: QboCursor): SyncPage<QboCursor> {
  return {
    customers: [],
    invoices: [],
    payments: [],
    creditMemos: [],
    deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
    journalEntries: [],
    cursor,
  };
}

/**
 * One version per Id: the highest SyncToken. LastUpdatedTime has whole seconds, so two saves in one second look
 * equally new by time, and an answer that carries an entity twice could otherwise leave the older version stored
 * (the ledger writer orders stored and incoming rows by the same version, see CanonicalInvoice.sourceVersion).
 * Tombstones (no SyncToken) are kept as they are.
 */
function newestVersions(rows: unknown[]): unknown[] {
  const token = (row: unknown) => syncTokenOf(row) ?? -1;
  const best = new Map<string, unknown>();
  for (const row of rows) {
    if (isDeletedRow(row)) continue;
    const id = idOf(row);
    const prev = best.get(id);
    if (prev === undefined || token(row) >= token(prev)) best.set(id, row);
  }
  return rows.filter((row) => isDeletedRow(row) || best.get(idOf(row)) === row);
}

/** Maps raw rows of one entity into `page` (tombstones become deletions). */
async function addRows(
  ctx: QboContext,
  page: SyncPage<QboCursor>,
  entity: QboEntity,
  rows: unknown[],
  map: MapOptions,
): Promise<void> {
  const kind = KIND[entity];
  if (entity === 'JournalEntry') {
    const newest = newestVersions(rows);
    const live = newest.some((row) => !isDeletedRow(row));
    const receivables = live ? await receivableAccounts(ctx) : new Set<string>();
    const read = page.journalEntries ?? [];
    page.journalEntries = read;
    for (const row of newest) {
      read.push(mapJournalEntryRead(row));
      if (!isDeletedRow(row)) page.creditMemos.push(...mapJournalEntry(row, receivables, map));
    }
    return;
  }
  for (const row of newestVersions(rows)) {
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

/** Where the first CDC round after a full sync starts: the first page's answer time (else ours) less the overlap. */
function handoverSince(time: string | undefined, now: Date): Instant {
  const at = Date.parse(toIso(time) ?? now.toISOString());
  return new Date(at - CDC_OVERLAP_MS).toISOString();
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
  caller: ConnectorContext<QboClient>,
  cursor: QboCursor | null,
  options: QboSyncOptions,
): AsyncGenerator<SyncPage<QboCursor>> {
  // This run's own context: what it reads once (A/R accounts) is kept for the run only.
  const ctx: QboContext = { ...caller, receivables: undefined };
  if (cursor?.mode === 'cdc') {
    yield* cdcPages(ctx, cursor, options);
    return;
  }
  yield* fullSyncPages(ctx, cursor, options);
}

/** Order of QuickBooks Ids (digit strings, compared as numbers as Intuit's ORDERBY Id does). */
export function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

function idOf(row: unknown): string {
  const id = (row as { Id?: unknown } | null)?.Id;
  if (typeof id !== 'string' || id === '' || id.includes("'")) {
    throw new ConnectorError({ code: 'bad_payload', message: 'QuickBooks row without a usable Id' });
  }
  return id;
}

/** The largest Id of `rows`: the keyset position after them (whatever order the answer used). */
function lastId(rows: unknown[]): string {
  return rows.map(idOf).reduce((max, id) => (compareIds(id, max) > 0 ? id : max));
}

/**
 * Name lists answer only their active rows unless asked (https://developer.intuit.com/hub/blog/2017/02/08/deep-dive-sql-queries/:
 * `SELECT * FROM Customer` "retrieves all active customers"): inactive customers are read too, so one made inactive
 * before the first sync arrives with its name, as deleted, instead of as a live placeholder its invoices created.
 */
const ALL_ROWS: Partial<Record<QboEntity, string>> = { Customer: 'Active IN (true, false)' };

/** `SELECT <what> FROM <entity> WHERE <conditions> AND Id > '<afterId>' ORDERBY Id MAXRESULTS n` */
function keysetQuery(
  what: string,
  entity: QboEntity,
  afterId: string | null,
  pageSize: number,
  conditions: string[] = [],
): string {
  const all = ALL_ROWS[entity];
  const where = [...(all ? [all] : []), ...conditions, ...(afterId === null ? [] : [`Id > '${afterId}'`])];
  return `SELECT ${what} FROM ${entity}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDERBY Id MAXRESULTS ${pageSize}`;
}

/**
 * Full sync, one entity after the other; each page's cursor points at the next page. Each entity is a listing:
 * its first page starts it and the empty page past its end completes it, so the caller marks the rows of that
 * entity the read did not see (and that did not change since the read began) as deleted.
 */
async function* fullSyncPages(
  ctx: QboContext,
  from: QboCursor | null,
  options: QboSyncOptions,
): AsyncGenerator<SyncPage<QboCursor>> {
  const pageSize = Math.min(options.pageSize ?? QBO_MAX_PAGE_SIZE, QBO_MAX_PAGE_SIZE);
  const map = options.map ?? DEFAULT_MAP_OPTIONS;
  // A positional cursor stored by an older version cannot be trusted (rows may have shifted): start over.
  let cursor = from?.mode === 'full' && 'afterId' in from ? from : null;
  for (;;) {
    const entity = cursor?.entity ?? QBO_SYNC_ENTITIES[0];
    const afterId = cursor?.afterId ?? null;
    const kind = LISTING[entity];
    const envelope = await ctx.client.query(keysetQuery('*', entity, afterId, pageSize), ctx.signal);
    // Changes made after the first page are picked up by CDC from the server's own clock at that moment, less the
    // overlap a CDC round keeps (cdcPages): a save stamped just before the answer's time may not be in the answer, and
    // without it a row read early in the full sync and changed within seconds of its start (saves stamped behind the
    // answers' time) was never read again (tests/sync/qbo-ledger-unapply.test.ts, answer times ahead).
    const changedSince = cursor?.changedSince ?? handoverSince(envelope.time, options.now());
    const rows = rowsOf(envelope.QueryResponse, entity);
    const starts = afterId === null ? { listingStarts: [kind] } : {};
    if (rows.length > 0) {
      cursor = { mode: 'full', entity, afterId: lastId(rows), changedSince };
      const page = { ...emptyPage(cursor), ...starts, seen: { [kind]: rows.map(idOf) } };
      await addRows(ctx, page, entity, rows, map);
      ctx.logger.info(
        { realmId: ctx.externalId, entity, afterId, rows: rows.length },
        'QuickBooks full-sync page',
      );
      yield page;
      continue;
    }
    const next = QBO_SYNC_ENTITIES[QBO_SYNC_ENTITIES.indexOf(entity) + 1];
    cursor = next ? { mode: 'full', entity: next, afterId: null, changedSince } : null;
    yield {
      ...emptyPage(cursor ?? { mode: 'cdc', changedSince }),
      ...starts,
      listingComplete: { kinds: [kind], asOf: changedSince },
    };
    if (!cursor) return;
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
 * rows are paged by query on MetaData.LastUpdatedTime instead (CDC has no upper time bound to shrink). A query
 * never returns deleted rows, so the entity's ids are then listed: the rows we hold that are missing were deleted.
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
    for (const [entity, rows] of perEntity) await addRows(ctx, page, entity, rows, map);
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
  // Tombstones are only visible through CDC and this answer was cut: keep the ones it carried, read the changed
  // rows by query, then list every id of the entity so the tombstones beyond the cut are found as missing ids.
  const tombstones = emptyPage(cursor);
  await addRows(ctx, tombstones, entity, (perEntity.get(entity) ?? []).filter(isDeletedRow), map);
  yield tombstones;
  yield* changedByQuery(ctx, entity, cursor, options);
  yield* listIds(ctx, entity, cursor, round.serverTime ?? options.now().toISOString(), options);
}

/** SELECT * FROM X WHERE MetaData.LastUpdatedTime >= '<since>', paged by Id like a full sync. */
async function* changedByQuery(
  ctx: QboContext,
  entity: QboEntity,
  cursor: { mode: 'cdc'; changedSince: Instant },
  options: QboSyncOptions,
): AsyncGenerator<SyncPage<QboCursor>> {
  const pageSize = Math.min(options.pageSize ?? QBO_MAX_PAGE_SIZE, QBO_MAX_PAGE_SIZE);
  const map = options.map ?? DEFAULT_MAP_OPTIONS;
  const since = [`MetaData.LastUpdatedTime >= '${cursor.changedSince}'`];
  for (let afterId: string | null = null; ; ) {
    const envelope = await ctx.client.query(keysetQuery('*', entity, afterId, pageSize, since), ctx.signal);
    const rows = rowsOf(envelope.QueryResponse, entity);
    if (rows.length === 0) return;
    const page = emptyPage(cursor);
    await addRows(ctx, page, entity, rows, map);
    yield page;
    afterId = lastId(rows);
  }
}

/** Every Id of `entity` (SELECT Id FROM X, paged by Id) as one listing, complete as of `asOf`. */
async function* listIds(
  ctx: QboContext,
  entity: QboEntity,
  cursor: { mode: 'cdc'; changedSince: Instant },
  asOf: Instant,
  options: QboSyncOptions,
): AsyncGenerator<SyncPage<QboCursor>> {
  const kind = LISTING[entity];
  const pageSize = Math.min(options.idPageSize ?? QBO_MAX_PAGE_SIZE, QBO_MAX_PAGE_SIZE);
  let listed = 0;
  for (let afterId: string | null = null; ; ) {
    const envelope = await ctx.client.query(keysetQuery('Id', entity, afterId, pageSize), ctx.signal);
    const ids = rowsOf(envelope.QueryResponse, entity).map(idOf);
    const page: SyncPage<QboCursor> = {
      ...emptyPage(cursor),
      ...(afterId === null ? { listingStarts: [kind] } : {}),
      seen: { [kind]: ids },
    };
    listed += ids.length;
    if (ids.length === 0) {
      ctx.logger.info({ realmId: ctx.externalId, entity, listed }, 'QuickBooks ids listed to find deletions');
      yield { ...page, listingComplete: { kinds: [kind], asOf: toIso(asOf) ?? asOf } };
      return;
    }
    yield page;
    afterId = ids.reduce((max, id) => (compareIds(id, max) > 0 ? id : max));
  }
}
