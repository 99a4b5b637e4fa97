/**
 * Sync iterators: a resumable full sync paged by id, then incremental rounds polled from the account's clock.
 *
 * Full sync: customers, invoices, credit memos, payments (payments after the invoices they apply to), each a
 * listing (SyncPage listingStarts/listingComplete) so records deleted while nobody watched are found missing.
 *
 * Incremental round (NetSuite has no webhooks; the app polls every NETSUITE_POLL_MINUTES), from `since` (account
 * clock minus an overlap):
 *  1. customers and transactions with lastmodifieddate >= since;
 *  2. invoices linked (NextTransactionLineLink) to payments or credit memos modified since: an invoice's own
 *     lastmodifieddate does not reliably move when a payment is applied to it;
 *  3. when any payment, credit memo or deposit application changed or was deleted: the open invoices of its
 *     customer (every open invoice when the customer is unknown). A payment deleted, voided or un-applied leaves no
 *     link behind, but the invoice it paid is open again, so reading the open ones finds it; an invoice that became
 *     less open is found by (2). A deleted customer (a merge moves its transactions to another) has every open
 *     invoice read too;
 *  4. DeletedRecord rows since;
 *  5. the invoices (open, or closed since) of customers whose open-balance checksum moved since the last round
 *     (queries.ts OPEN_SUMS_QUERY): balances that moved with no change above to name them (a payment moved to
 *     another customer, a journal applied to an invoice).
 * The overlap (default 65 minutes) absorbs commits in flight when the clock was read and the hour a daylight-saving
 * fall-back repeats (NetSuite's times are account-local wall time). Re-reading is idempotent.
 */
import { createHash } from 'node:crypto';
import type { CanonicalInvoice } from '../canonical';
import { ConnectorError } from '../errors';
import type { ConnectorContext, EntityKind, ListingKind, SyncOptions, SyncPage } from '../types';
import type { NetsuiteClient, SuiteqlPage, SuiteqlRow } from './client';
import {
  clockMinus,
  clockToInstant,
  mapApplications,
  mapCreditMemo,
  mapCustomer,
  mapDeletion,
  mapInvoice,
  mapJournalDeletion,
  mapJournalEntry,
  mapPayment,
} from './map';
import {
  ACCOUNT_CLOCK_QUERY,
  applicationsQuery,
  checkClock,
  customersQuery,
  deletionsQuery,
  depositApplicationCustomersQuery,
  HIGH_WATER_QUERY,
  idSpanQuery,
  isClock,
  type JournalFilter,
  journalEntriesQuery,
  journalLinesQuery,
  journalSpanQuery,
  type KeysetFilter,
  OPEN_SUMS_QUERY,
  type TransactionKind,
  transactionsQuery,
} from './queries';

/** What a full sync reads, in this order: the four record kinds, then journal entries' A/R lines. */
export type NetsuiteSyncKind = EntityKind | 'journalEntries';

export const NETSUITE_SYNC_KINDS: readonly NetsuiteSyncKind[] = [
  'customers',
  'invoices',
  'creditMemos',
  'payments',
  'journalEntries',
];

export type NetsuiteCursor =
  /** Full sync in progress: rows of `kind` with id above `afterId` are next; `since` is where polling starts. */
  | { mode: 'full'; kind: NetsuiteSyncKind; afterId: string | null; since: string; drift?: OpenSums }
  /** Polling: changes at or after `since` (account clock, `YYYY-MM-DD HH:MM:SS`). */
  | { mode: 'incremental'; since: string; drift?: OpenSums };

/**
 * The open-balance checksum as last read (queries.ts OPEN_SUMS_QUERY): a short hash per bucket of customers with
 * open invoices. Absent: not read yet, or the account refuses the query (then drift is not looked for).
 */
export type OpenSums = Record<string, string>;

export interface NetsuiteSyncOptions extends SyncOptions {
  /** Rows per SuiteQL page (NetSuite caps it at 1000). */
  pageSize?: number;
  /** Minutes re-read behind the account clock each round. */
  overlapMinutes?: number;
}

export const NETSUITE_PAGE_SIZE = 1000;
export const NETSUITE_OVERLAP_MINUTES = 65;
/** Ids per `IN (...)` list. */
const ID_CHUNK = 500;

type Ctx = ConnectorContext<NetsuiteClient>;

function emptyPage(cursor: NetsuiteCursor): SyncPage<NetsuiteCursor> {
  return {
    customers: [],
    invoices: [],
    payments: [],
    creditMemos: [],
    deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
    cursor,
  };
}

/**
 * A query the account refuses (SuiteQL's 400, faults.ts `invalid_query`): a clause or table it does not support
 * (DUAL, MOD/GROUP BY, the id span), answered with the fallback, never a failed sync; anything else is re-thrown.
 */
const refusedQuery = (e: unknown): boolean => e instanceof ConnectorError && e.code === 'invalid_query';

/** The account's clock now (`YYYY-MM-DD HH:MM:SS`, account time zone). */
export async function accountClock(client: NetsuiteClient, signal?: AbortSignal): Promise<string> {
  let page: SuiteqlPage;
  try {
    page = await client.suiteql(ACCOUNT_CLOCK_QUERY, { limit: 1 }, signal);
  } catch (e) {
    if (!refusedQuery(e)) throw e;
    page = await client.suiteql(HIGH_WATER_QUERY, { limit: 1 }, signal);
    if (page.items.length > 0 && !page.items[0]?.now) return '1970-01-01 00:00:00';
  }
  const now = page.items[0]?.now;
  if (!now)
    throw new ConnectorError({
      code: 'provider_unavailable',
      message: 'NetSuite clock query returned nothing',
    });
  return checkClock(now);
}

/** The open-balance checksum now; null when the account refuses the query (drift is then not looked for). */
async function openSums(ctx: Ctx): Promise<OpenSums | null> {
  let rows: SuiteqlRow[];
  try {
    rows = await ctx.client.suiteqlAll(OPEN_SUMS_QUERY, ctx.signal);
  } catch (e) {
    if (refusedQuery(e)) return null;
    throw e;
  }
  const sums: OpenSums = {};
  for (const r of rows) {
    if (!r.bucket || !/^\d+$/.test(r.bucket)) continue;
    sums[r.bucket] = createHash('sha256')
      .update(`${r.n ?? ''}|${r.unpaid ?? ''}|${r.weighted ?? ''}`)
      .digest('base64url')
      .slice(0, 10);
  }
  return sums;
}

/** Buckets whose checksum differs between two readings (one that appeared or emptied counts). */
function driftedBuckets(before: OpenSums | undefined, now: OpenSums | null): number[] {
  if (!before || !now) return [];
  const keys = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...keys]
    .filter((k) => before[k] !== now[k])
    .map(Number)
    .filter((b) => Number.isInteger(b))
    .sort((a, b) => a - b);
}

/** A keyset query's filter: the record kinds' (KeysetFilter) or journal entries' (JournalFilter). */
type AnyFilter = KeysetFilter & JournalFilter;

function queryFor(client: NetsuiteClient, kind: NetsuiteSyncKind, filter: AnyFilter): string {
  if (kind === 'journalEntries') return journalEntriesQuery(filter);
  return kind === 'customers'
    ? customersQuery(filter)
    : transactionsQuery([kind as TransactionKind], filter, { payLinkField: client.payLinkField });
}

/** Numeric ids compared as numbers (as ORDER BY id does), without floats: longer is larger, else by text. */
const idGreater = (a: string, b: string) => a.length > b.length || (a.length === b.length && a > b);
const maxId = (rows: SuiteqlRow[]) =>
  rows.map((r) => r.id ?? '').reduce((max, id) => (idGreater(id, max) ? id : max));

/** Rows of one keyset query, page by page (`id > last ORDER BY id`, offset 0: never near the 100k cap). */
async function* keyset(
  ctx: Ctx,
  kind: NetsuiteSyncKind,
  filter: Omit<AnyFilter, 'afterId'>,
  afterId: string | null,
  pageSize: number,
): AsyncGenerator<{ rows: SuiteqlRow[]; lastId: string }> {
  for (let after = afterId; ; ) {
    const page = await ctx.client.suiteql(
      queryFor(ctx.client, kind, { ...filter, afterId: after }),
      { limit: pageSize },
      ctx.signal,
    );
    if (page.items.length === 0) return;
    for (const row of page.items)
      if (!row.id) throw new ConnectorError({ code: 'bad_payload', message: 'NetSuite row without id' });
    after = maxId(page.items);
    yield { rows: page.items, lastId: after };
    if (!page.hasMore) return;
  }
}

/**
 * Maps rows of `kind` into `page`; payments get their applications (one more query per page), journal entries their
 * A/R lines (one more query per page): each entry is read whole (`journalEntries`), so the rows of customers its
 * lines no longer name are removed.
 */
async function addRows(
  ctx: Ctx,
  page: SyncPage<NetsuiteCursor>,
  kind: NetsuiteSyncKind,
  rows: SuiteqlRow[],
): Promise<void> {
  if (kind === 'journalEntries') {
    const lines: SuiteqlRow[] = [];
    for (const ids of chunks(
      rows.map((r) => r.id ?? ''),
      ID_CHUNK,
    ))
      lines.push(...(await ctx.client.suiteqlAll(journalLinesQuery(ids), ctx.signal)));
    const byEntry = Map.groupBy(lines, (l) => l.entry ?? '');
    page.journalEntries ??= [];
    for (const r of rows) {
      const { read, credits } = mapJournalEntry(r, byEntry.get(r.id ?? '') ?? []);
      page.journalEntries.push(read);
      page.creditMemos.push(...credits);
    }
  } else if (kind === 'customers') page.customers.push(...rows.map(mapCustomer));
  else if (kind === 'invoices') page.invoices.push(...rows.map(mapInvoice));
  else {
    // Payments and credit memos both apply to invoices through NextTransactionLineLink (a credit memo directly).
    const currency = new Map(rows.map((r) => [r.id ?? '', r.currency ?? '']));
    const links: SuiteqlRow[] = [];
    for (let i = 0; i < rows.length; i += ID_CHUNK) {
      const ids = rows.slice(i, i + ID_CHUNK).map((r) => r.id ?? '');
      links.push(...(await ctx.client.suiteqlAll(applicationsQuery(ids), ctx.signal)));
    }
    const applications = mapApplications(links, (id) => currency.get(id) ?? 'USD');
    if (kind === 'creditMemos')
      page.creditMemos.push(...rows.map((r) => mapCreditMemo(r, applications.get(r.id ?? '') ?? [])));
    else page.payments.push(...rows.map((r) => mapPayment(r, applications.get(r.id ?? '') ?? [])));
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Deleted record types whose deletion can reopen invoices (their applications vanish with them), and the journal
 * debits a payment paid. A deleted journal entry is not one: its own rows go with its DeletedRecord row, and an invoice
 * it had paid down shows through the open-balance checksum (drift), as before journal entries were read.
 */
const RELEASING = new Set([
  'customerpayment',
  'custpymt',
  'creditmemo',
  'custcred',
  'depositapplication',
  'depappl',
]);
/**
 * A deleted customer may have been merged into another (duplicate resolution moves its transactions to the kept
 * customer, and nothing says the moved invoices' lastmodifieddate moves): its open invoices are read again, wherever
 * they went.
 */
const MOVING = new Set(['customer']);
function releasesInvoices(raw: SuiteqlRow): boolean {
  const norm = (v: string | undefined) => (v ?? '').toLowerCase().replace(/\s+/g, '');
  const types = [norm(raw.recordtypeid), norm(raw.type)];
  return types.some((t) => RELEASING.has(t) || MOVING.has(t));
}
/** A deleted customer (a merge moves its payments and credit memos too: what they left unapplied follows them). */
function movesTransactions(raw: SuiteqlRow): boolean {
  const norm = (v: string | undefined) => (v ?? '').toLowerCase().replace(/\s+/g, '');
  return [norm(raw.recordtypeid), norm(raw.type)].some((t) => MOVING.has(t));
}

export async function* netsuitePages(
  ctx: Ctx,
  cursor: NetsuiteCursor | null,
  options: NetsuiteSyncOptions,
): AsyncGenerator<SyncPage<NetsuiteCursor>> {
  if (cursor?.mode === 'incremental') {
    yield* incrementalRound(ctx, cursor, options);
    return;
  }
  yield* fullSync(ctx, cursor?.mode === 'full' ? cursor : null, options);
}

/** One id range of a kind, read by keyset: ids above `after` up to `upTo` (inclusive; null: no upper bound). */
interface IdRange {
  kind: NetsuiteSyncKind;
  after: string | null;
  upTo: string | null;
}

/**
 * The id ranges a full sync reads `kind` in, in id order: the span after `after` cut into ranges of about 90 % of
 * a page each (from one COUNT/MIN/MAX query), the last one open above (rows created since are read with it).
 * Ranges are exact (a row is in one range whatever changes meanwhile) and can be read at once, where keyset pages
 * can only follow one another. A kind that fits one page, or an account that rejects the span query, gets one
 * open range: the plain keyset; a kind with no rows, none.
 */
async function idRanges(
  ctx: Ctx,
  kind: NetsuiteSyncKind,
  after: string | null,
  pageSize: number,
): Promise<IdRange[]> {
  const open: IdRange[] = [{ kind, after, upTo: null }];
  let span: SuiteqlRow | undefined;
  const query = kind === 'journalEntries' ? journalSpanQuery(after) : idSpanQuery(kind, after);
  try {
    span = (await ctx.client.suiteql(query, { limit: 1 }, ctx.signal)).items[0];
  } catch (e) {
    if (refusedQuery(e)) return open;
    throw e;
  }
  const n = Number(span?.n ?? 0);
  // None yet: nothing to read (a row created since has lastmodifieddate after the polling start, read then).
  if (span && n === 0) return [];
  const lo = Number(span?.lo);
  const hi = Number(span?.hi);
  if (!(n > pageSize) || !Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) return open;
  const from = lo - 1;
  const parts = Math.min(Math.ceil(n / Math.max(1, Math.floor(pageSize * 0.9))), hi - from);
  const ranges: IdRange[] = [];
  let prev = after;
  for (let k = 1; k < parts; k++) {
    const upTo = Math.floor(from + ((hi - from) * k) / parts);
    if (prev !== null && upTo <= Number(prev)) continue;
    ranges.push({ kind, after: prev, upTo: String(upTo) });
    prev = String(upTo);
  }
  ranges.push({ kind, after: prev, upTo: null });
  return ranges;
}

interface RangePage {
  rows: SuiteqlRow[];
  lastId: string;
  hasMore: boolean;
  mapped: SyncPage<NetsuiteCursor>;
}

/**
 * The first page of an id range, mapped (payments and credit memos with their applications, journal entries with
 * their A/R lines). 'refused': the account refuses the journal-entry queries (a role without access to journal
 * entries or accounting lines): journal entries are then not read (see fullSync), never a failed sync.
 */
async function readRange(ctx: Ctx, range: IdRange, pageSize: number): Promise<RangePage | null | 'refused'> {
  const filter: AnyFilter = {
    afterId: range.after,
    ...(range.upTo === null ? {} : { upToId: range.upTo }),
    ...(range.kind === 'journalEntries' ? { receivableOnly: true } : {}),
  };
  if (range.kind === 'journalEntries') {
    try {
      return await readPage(ctx, range, filter, pageSize);
    } catch (e) {
      if (refusedQuery(e)) return 'refused';
      throw e;
    }
  }
  return readPage(ctx, range, filter, pageSize);
}

async function readPage(
  ctx: Ctx,
  range: IdRange,
  filter: AnyFilter,
  pageSize: number,
): Promise<RangePage | null> {
  const page = await ctx.client.suiteql(
    queryFor(ctx.client, range.kind, filter),
    { limit: pageSize },
    ctx.signal,
  );
  if (page.items.length === 0) return null;
  for (const row of page.items)
    if (!row.id) throw new ConnectorError({ code: 'bad_payload', message: 'NetSuite row without id' });
  const mapped = emptyPage({ mode: 'incremental', since: '' });
  await addRows(ctx, mapped, range.kind, page.items);
  return { rows: page.items, lastId: maxId(page.items), hasMore: page.hasMore, mapped };
}

type Step =
  | { range: IdRange; read?: Promise<RangePage | null | 'refused'> }
  | { complete: NetsuiteSyncKind }
  /** A kind's ranges, known once its id-span query answers (`ranges` set then). */
  | { plan: Promise<IdRange[]>; ranges?: IdRange[] };

/**
 * Where polling starts after a full sync, read as it begins: the earlier of the account clock and the newest
 * transaction change the account holds (MAX(lastmodifieddate)), each minus the overlap, the rule a poll round
 * follows (`nextSince`). The clock alone is not trusted: a SYSDATE hours ahead of the zone changes are stamped in
 * would start polling after changes made while the full sync read, on records it had read already. Nor is the
 * newest change the full sync itself reads: a sync that runs for over an hour reads, at its end, changes stamped
 * long after an earlier one made to a record it had passed. The newest change as the read begins is stamped no later
 * than anything made after it. An account without transactions polls from the start of time (nothing to re-read);
 * one that refuses the high-water query keeps the clock's answer.
 */
async function handOver(ctx: Ctx, overlap: number, signal: AbortSignal): Promise<string> {
  const clock = accountClock(ctx.client, signal);
  clock.catch(() => {});
  const highWater = ctx.client.suiteql(HIGH_WATER_QUERY, { limit: 1 }, signal).then(
    (page) => page.items[0]?.now ?? EPOCH,
    (e) => {
      if (refusedQuery(e)) return null;
      throw e;
    },
  );
  highWater.catch(() => {});
  const byClock = clockMinus(await clock, overlap);
  const newest = await highWater;
  if (newest === null) return byClock;
  const byChanges = newest === EPOCH ? EPOCH : clockMinus(checkClock(newest), overlap);
  const [earlier] = [byChanges, byClock].sort() as [string, string];
  return earlier;
}
const EPOCH = '1970-01-01 00:00:00';

/**
 * Full sync: every kind's id ranges in id order, kind after kind, with up to NETSUITE_CONCURRENCY ranges read (and
 * mapped) ahead of the page being yielded, so NetSuite keeps that many pages in flight while the caller writes.
 * Pages are still yielded strictly in id order, each with the cursor after it, so a resumed sync skips nothing.
 */
async function* fullSync(
  ctx: Ctx,
  from: Extract<NetsuiteCursor, { mode: 'full' }> | null,
  options: NetsuiteSyncOptions,
): AsyncGenerator<SyncPage<NetsuiteCursor>> {
  const pageSize = Math.min(options.pageSize ?? NETSUITE_PAGE_SIZE, NETSUITE_PAGE_SIZE);
  const overlap = options.overlapMinutes ?? NETSUITE_OVERLAP_MINUTES;
  const first = from ? NETSUITE_SYNC_KINDS.indexOf(from.kind) : 0;
  const kinds = NETSUITE_SYNC_KINDS.slice(first);
  // Reads ahead stop with the sync (an early return or a failed page aborts the others).
  const ahead = new AbortController();
  const signal = AbortSignal.any([ctx.signal, ahead.signal]);
  const rctx: Ctx = { ...ctx, signal };
  try {
    // Polling starts from before the full read began: whatever changes during the read is read again.
    const sinceRead = from?.since ? Promise.resolve(from.since) : handOver(ctx, overlap, signal);
    sinceRead.catch(() => {});
    // The open-balance checksum as the read begins: the first poll compares against it (drift meanwhile is found).
    const driftRead: Promise<OpenSums | null> = from?.since
      ? Promise.resolve(from.drift ?? null)
      : openSums(rctx);
    driftRead.catch(() => {});
    let drift: { drift?: OpenSums } = {};
    let since: string | null = null;
    // Each kind's span query goes out at once; a kind's ranges are read as soon as its own span is known.
    const steps: Step[] = kinds.flatMap((kind, i): Step[] => {
      const plan: Extract<Step, { plan: unknown }> = {
        plan: idRanges(rctx, kind, i === 0 ? (from?.afterId ?? null) : null, pageSize),
      };
      plan.plan.then(
        (ranges) => {
          plan.ranges = ranges;
        },
        () => {},
      );
      return [plan, { complete: kind }];
    });
    const expand = (at: number, ranges: IdRange[]) =>
      steps.splice(at, 1, ...ranges.map((range) => ({ range })));
    // One more than the account's share: the page the caller holds (run-sync reads one page ahead while it writes)
    // is read already, so NETSUITE_CONCURRENCY stay in flight behind it; the account's pool caps the rest.
    const window = Math.max(1, ctx.client.concurrency) + 1;
    // A kind's listing starts with its first page unless this sync resumed in the middle of it.
    const started = new Set<NetsuiteSyncKind>(from?.afterId ? [from.kind] : []);
    // Journal entries the account refuses to list: no listing completes for them (nothing stored is removed).
    const refused = new Set<NetsuiteSyncKind>();
    // A kind's listing completes with the cursor moved on to the next kind (or to polling after the last).
    const completion = (kind: NetsuiteSyncKind, at: string) => {
      const next = NETSUITE_SYNC_KINDS[NETSUITE_SYNC_KINDS.indexOf(kind) + 1];
      const cursor: NetsuiteCursor = next
        ? { mode: 'full', kind: next, afterId: null, since: at, ...drift }
        : { mode: 'incremental', since: at, ...drift };
      if (refused.has(kind)) return { cursor };
      const kinds: ListingKind[] = [kind];
      return { cursor, listingComplete: { kinds, asOf: clockToInstant(at) as string } };
    };
    for (let i = 0; i < steps.length; i++) {
      for (let j = i, reading = 0; j < steps.length && reading < window; j++) {
        const step = steps[j] as Step;
        if ('plan' in step) {
          if (!step.ranges) break;
          expand(j--, step.ranges);
          continue;
        }
        if ('complete' in step) continue;
        if (!step.read) {
          step.read = readRange(rctx, step.range, pageSize);
          step.read.catch(() => {});
        }
        reading++;
      }
      const current = steps[i] as Step;
      if ('plan' in current) {
        expand(i--, await current.plan);
        continue;
      }
      if (since === null) {
        since = await sinceRead;
        const sums = await driftRead;
        drift = sums ? { drift: sums } : {};
      }
      const step = current;
      if ('complete' in step) {
        const kind = step.complete;
        yield {
          ...emptyPage({ mode: 'incremental', since }),
          ...(started.has(kind) || refused.has(kind) ? {} : { listingStarts: [kind] }),
          ...completion(kind, since),
        };
        continue;
      }
      const { range } = step;
      const read = await step.read;
      if (read === 'refused') {
        if (!refused.has(range.kind))
          ctx.logger.warn(
            { accountId: ctx.externalId },
            'NetSuite refuses the journal-entry queries: journal entries to A/R are not read',
          );
        refused.add(range.kind);
        continue;
      }
      if (!read) continue;
      // More rows in this range than a page (ids denser than the average): the rest of it comes next.
      if (read.hasMore) steps.splice(i + 1, 0, { range: { ...range, after: read.lastId } });
      // The kind's last page also completes its listing and moves the cursor on to the next kind: one transaction
      // fewer per kind than an empty page of its own (the page's ids are recorded before the listing is reconciled).
      const following = steps[i + 1];
      const completes = following && 'complete' in following && following.complete === range.kind;
      if (completes) i++;
      const page: SyncPage<NetsuiteCursor> = {
        ...read.mapped,
        cursor: { mode: 'full', kind: range.kind, afterId: read.lastId, since, ...drift },
        ...(started.has(range.kind) ? {} : { listingStarts: [range.kind] }),
        seen: { [range.kind]: read.rows.map((r) => r.id as string) },
        ...(completes ? completion(range.kind, since) : {}),
      };
      started.add(range.kind);
      ctx.logger.info(
        { accountId: ctx.externalId, kind: range.kind, afterId: range.after, rows: read.rows.length },
        'NetSuite full-sync page',
      );
      yield page;
    }
  } finally {
    ahead.abort();
  }
}

/**
 * One polling round, streamed with a one-page lookahead: every page but the last repeats the old cursor (a crash
 * mid-round repeats the round), the last carries the new `since`.
 */
async function* incrementalRound(
  ctx: Ctx,
  cursor: Extract<NetsuiteCursor, { mode: 'incremental' }>,
  options: NetsuiteSyncOptions,
): AsyncGenerator<SyncPage<NetsuiteCursor>> {
  try {
    checkClock(cursor.since);
  } catch (e) {
    throw new ConnectorError({
      code: 'resync_required',
      message: `NetSuite cursor unreadable: ${cursor.since}`,
      cause: e,
    });
  }
  const pageSize = Math.min(options.pageSize ?? NETSUITE_PAGE_SIZE, NETSUITE_PAGE_SIZE);
  const overlap = options.overlapMinutes ?? NETSUITE_OVERLAP_MINUTES;
  const clock = await accountClock(ctx.client, ctx.signal);
  // Read before anything else this round: whatever moves after it differs at the next round's reading.
  const sums = await openSums(ctx);
  const drifted = driftedBuckets(cursor.drift, sums);
  const seen: Newest = { at: null };
  let pending: SyncPage<NetsuiteCursor> | null = null;
  for await (const page of roundPages(ctx, cursor, pageSize, seen, drifted)) {
    if (pending) yield pending;
    pending = page;
  }
  const since = nextSince(cursor.since, clock, seen.at, overlap);
  ctx.logger.info(
    {
      accountId: ctx.externalId,
      since: cursor.since,
      clock,
      newestChange: seen.at,
      next: since,
      driftedBuckets: drifted.length,
    },
    'NetSuite poll round',
  );
  yield {
    ...(pending ?? emptyPage(cursor)),
    cursor: { mode: 'incremental', since, ...(sums ? { drift: sums } : {}) },
  };
}

/** The newest lastmodifieddate / deleteddate a round read, as the account prints them. */
interface Newest {
  at: string | null;
}

function noteNewest(seen: Newest, value: string | undefined): void {
  if (value && isClock(value) && (seen.at === null || value > seen.at)) seen.at = value;
}

/**
 * Where the next round starts: the earlier of the account clock and the newest change this round read, each minus
 * the overlap, and never before the previous position. The clock alone is not trusted: whether SYSDATE and
 * lastmodifieddate print in the same zone is not documented (see README, "Not yet verified"), and a SYSDATE hours
 * ahead of the zone the changes are stamped in would start every round after changes it never read. The newest
 * change read is stamped the way the next round's filter compares, so a round never starts past what it has seen;
 * a round that read nothing keeps its position (the same changes are asked for again, which is cheap and harmless).
 */
export function nextSince(previous: string, clock: string, newest: string | null, overlap: number): string {
  const byClock = clockMinus(clock, overlap);
  const byChanges = newest === null ? previous : clockMinus(newest, overlap);
  const [proposed] = [byChanges, byClock].sort() as [string, string];
  return proposed > previous ? proposed : previous;
}

async function* roundPages(
  ctx: Ctx,
  cursor: Extract<NetsuiteCursor, { mode: 'incremental' }>,
  pageSize: number,
  seen: Newest,
  drifted: readonly number[],
): AsyncGenerator<SyncPage<NetsuiteCursor>> {
  // Customers whose payments or credit memos changed (an un-apply or void may have reopened their invoices), and
  // whether money left the books without a customer we can name (a deleted payment, credit or deposit application).
  const moved = new Set<string>();
  let movedUnknown = false;
  let customerDeleted = false;
  for (const kind of NETSUITE_SYNC_KINDS) {
    if (kind === 'journalEntries') continue;
    for await (const { rows } of keyset(ctx, kind, { modifiedSince: cursor.since }, null, pageSize)) {
      for (const r of rows) noteNewest(seen, r.lastmodified);
      const page = emptyPage(cursor);
      await addRows(ctx, page, kind, rows);
      if (kind === 'payments' || kind === 'creditMemos')
        for (const r of rows) if (r.entity) moved.add(r.entity);
      yield page;
    }
  }
  // Deposit applications changed (one edited to un-apply an invoice leaves no link behind): their customers too.
  for (const raw of await ctx.client.suiteqlAll(depositApplicationCustomersQuery(cursor.since), ctx.signal))
    if (raw.entity && /^\d+$/.test(raw.entity)) moved.add(raw.entity);
  // Invoices whose applications changed, whatever their own lastmodifieddate says.
  for await (const { rows } of keyset(
    ctx,
    'invoices',
    { applicationsChangedSince: cursor.since },
    null,
    pageSize,
  )) {
    const page = emptyPage(cursor);
    await addRows(ctx, page, 'invoices', rows);
    yield page;
  }
  const deleted = emptyPage(cursor);
  for (const raw of await ctx.client.suiteqlAll(deletionsQuery(cursor.since), ctx.signal)) {
    noteNewest(seen, raw.deleteddate);
    if (releasesInvoices(raw)) movedUnknown = true;
    if (movesTransactions(raw)) customerDeleted = true;
    const d = mapDeletion(raw);
    if (d) deleted.deletions[d.kind].push(d.deletion);
    const entry = mapJournalDeletion(raw);
    if (entry) deleted.journalEntries = [...(deleted.journalEntries ?? []), entry];
  }
  // Applications that vanished (payment deleted, voided or un-applied) leave their invoices open again, with no
  // link left to find them by: read the open invoices of the customers concerned (all of them after a deletion of a
  // payment, credit memo, deposit application or customer).
  if (movedUnknown || moved.size > 0) {
    const customers = movedUnknown ? [null] : chunks([...moved].sort(), ID_CHUNK);
    for (const entities of customers) {
      const filter = entities ? { openOnly: true, entities } : { openOnly: true };
      for await (const { rows } of keyset(ctx, 'invoices', filter, null, pageSize)) {
        const page = emptyPage(cursor);
        await addRows(ctx, page, 'invoices', rows);
        yield page;
      }
    }
  }
  // A customer deleted may have been merged into another: what it had left unapplied (payments, credit memos) is the
  // kept customer's credit now, and neither record's lastmodifieddate says so. Read every payment and credit memo with
  // something unapplied again, wherever it went (fully applied ones move no balance and stay where they were).
  if (customerDeleted) {
    for (const kind of ['creditMemos', 'payments'] as const) {
      for await (const { rows } of keyset(ctx, kind, { unappliedOnly: true }, null, pageSize)) {
        const page = emptyPage(cursor);
        await addRows(ctx, page, kind, rows);
        yield page;
      }
    }
  }
  // Open balances that moved in customers no change above names (a payment moved to another customer, a journal
  // applied: only the invoice's amount unpaid shows it): those customers' invoices open now or closed since (read
  // even after a sweep of every open invoice above, which does not see an invoice the move closed).
  if (drifted.length > 0) {
    const closedSince = cursor.since.slice(0, 10);
    for (const buckets of chunks([...drifted], ID_CHUNK)) {
      for await (const { rows } of keyset(
        ctx,
        'invoices',
        { drift: { buckets, closedSince } },
        null,
        pageSize,
      )) {
        const page = emptyPage(cursor);
        await addRows(ctx, page, 'invoices', rows);
        yield page;
      }
    }
  }
  yield* journalRound(ctx, cursor, pageSize, seen, movedUnknown || moved.size > 0);
  yield deleted;
}

/**
 * A round's journal entries, each read whole with its A/R lines (what remains of each line is NetSuite's own figure):
 *  - entries changed since (edited, voided, approved; an entry no longer on A/R keeps no row);
 *  - entries whose lines a payment or credit changed since applied to or paid (NextTransactionLineLink previoustype
 *    'Journal'): a payment of a journal's debit, or a journal's credit applied to an invoice through a payment, moves
 *    the line's amount unpaid or unused, not the entry's lastmodifieddate;
 *  - when any payment, credit memo or deposit application changed or was deleted (`moneyMoved`): every entry with a
 *    line still open. A payment deleted, un-applied or moved to another customer leaves no link to the line it had
 *    paid, which is open again, and the customer it was moved from is named by nothing the round reads (open entries
 *    to A/R are few next to invoices: opening balances, credits on account, so all of them rather than a guess).
 * Deleted entries come with the round's DeletedRecord page. An account that refuses the journal-entry queries (see
 * fullSync) is polled without them, with a warning.
 */
async function* journalRound(
  ctx: Ctx,
  cursor: Extract<NetsuiteCursor, { mode: 'incremental' }>,
  pageSize: number,
  seen: Newest,
  moneyMoved: boolean,
): AsyncGenerator<SyncPage<NetsuiteCursor>> {
  const filters: Array<Omit<JournalFilter, 'afterId'>> = [
    { modifiedSince: cursor.since },
    { linkedSince: cursor.since },
    ...(moneyMoved ? [{ openOnly: true }] : []),
  ];
  try {
    for (const filter of filters) {
      for await (const { rows } of keyset(ctx, 'journalEntries', filter, null, pageSize)) {
        if (filter.modifiedSince) for (const r of rows) noteNewest(seen, r.lastmodified);
        const page = emptyPage(cursor);
        await addRows(ctx, page, 'journalEntries', rows);
        yield page;
      }
    }
  } catch (e) {
    if (!refusedQuery(e)) throw e;
    ctx.logger.warn(
      { accountId: ctx.externalId },
      'NetSuite refuses the journal-entry queries: journal entries to A/R are not read',
    );
  }
}

/**
 * Live read of invoices by id (the dunning engine's re-read before a send): current balances straight from
 * NetSuite. Ids NetSuite no longer has (deleted) come back in `missing`.
 */
export async function readInvoices(
  client: NetsuiteClient,
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<{ invoices: CanonicalInvoice[]; missing: string[] }> {
  const unique = [...new Set(ids)];
  const invoices: CanonicalInvoice[] = [];
  for (let i = 0; i < unique.length; i += ID_CHUNK) {
    const chunk = unique.slice(i, i + ID_CHUNK);
    const rows = await client.suiteqlAll(
      transactionsQuery(['invoices'], { afterId: null, ids: chunk }, { payLinkField: client.payLinkField }),
      signal,
    );
    invoices.push(...rows.map(mapInvoice));
  }
  const found = new Set(invoices.map((inv) => inv.externalId));
  return { invoices, missing: unique.filter((id) => !found.has(id)) };
}
