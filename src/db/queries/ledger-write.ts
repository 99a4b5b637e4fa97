/**
 * One connector SyncPage into canonical rows. Every statement is set-based, so a 1,000-row page is a handful of round
 * trips: the large kinds (invoices, payments and their allocation lines) travel as one array parameter per column,
 * unpacked with unnest (pgArray); the small ones as one JSON parameter unpacked with json_to_recordset. `json`,
 * not `jsonb`: each parameter is read once, row by row, and building the jsonb value first cost Postgres more
 * (1,000 invoice rows: ~5.9 ms of backend CPU for jsonb_in + jsonb_to_recordset against ~3.5 ms for json).
 *
 * Rules:
 * - upserts keyed by (tenant, external id); an update older than the stored row is ignored, and a row whose values
 *   did not change is not rewritten (CDC may deliver a change twice: replaying a page changes nothing). "Older":
 *   when both the stored and the incoming row carry a source_version (a ledger's own row version, e.g. a SyncToken),
 *   a lower version; else an earlier source_updated_at. A ledger whose times have whole seconds ties two saves
 *   within one second on time; only the version tells them apart (a lower version never overwrites, an equal one is
 *   the same save);
 * - invoice balance is the provider's Balance exactly; pay links survive query rows that do not carry them;
 * - a record referencing an unknown customer gets a placeholder customer (replaced when the real one arrives);
 * - a payment's allocations are upserted by (payment_id, line_no), lines it no longer has are removed; credit
 *   applications carry credit_memo_id;
 * - deletions are marks (status 'deleted', deleted_at), never row deletes; they carry no version (a CDC tombstone
 *   has none), go by source_updated_at and clear the stored version, so the row after them is judged by time. A
 *   deleted invoice, payment or credit memo comes back only with a save strictly later than its deletion: a deleted
 *   transaction cannot be restored at the source, so a save of the deletion's second, whatever its version, was made
 *   before it (a customer can be made active again, and keeps the `>=` time rule). A listing's deletion (no time)
 *   keeps the row's version and time, a later tombstone moves a mark to its own time (writeDeletions);
 * - paid_date of a fully paid invoice is the date of its latest allocation (the ledger may not state it);
 * - a journal entry's credits on account (credit_memos rows with journal_entry_id) are replaced whole when the entry
 *   is read (or deleted), and their remaining_minor is derived here: total less the payment lines applying them,
 *   recomputed for every journal row of the tenant after a page with journal entries or payments. An entry that
 *   debits a customer's A/R is a row with a negative total, never credit and never applied as credit: what remains
 *   owed is total plus what the payment lines linking it paid (payments.journal_applied). A source that states what
 *   remains of each row (remaining_at_source) is taken at its word instead;
 *
 * sync/apply-page.ts `applySyncPage` wraps the writes in one transaction together with the connection's cursor and the sync run's
 * progress, so a crash resumes from the last committed page with nothing lost and nothing duplicated.
 */
import { randomFillSync } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import type {
  CanonicalCreditMemo,
  CanonicalCustomer,
  CanonicalDeletion,
  CanonicalInvoice,
  CanonicalPayment,
} from '../../../connectors/canonical';
import { isIsoDate } from '../../../connectors/dates';
import { addressListText, isHeaderSafeAddress } from '../../../connectors/email-address';
import type { EntityKind, ListingKind, SyncPage } from '../../../connectors/types';
import { type Db, executeNamed, rowsOf, type Tx } from '../client';

export interface PageStats {
  customers: number;
  invoices: number;
  creditMemos: number;
  payments: number;
  allocations: number;
  deletions: number;
  placeholders: number;
  /** Allocation lines whose invoice is unknown to us (kept out; counted so they are never silent). */
  allocationsSkipped: number;
  /** Records ignored because the stored row is newer. */
  stale: number;
}

export interface PageResult {
  stats: PageStats;
  /** Invoices whose balance, status, dates or allocations changed in this page. */
  changedInvoiceIds: string[];
  /** Customers that had addresses and whose addresses changed in this page (their waiting reminders are re-addressed). */
  addressChangedCustomerIds?: string[];
}

export function emptyStats(): PageStats {
  return {
    customers: 0,
    invoices: 0,
    creditMemos: 0,
    payments: 0,
    allocations: 0,
    deletions: 0,
    placeholders: 0,
    allocationsSkipped: 0,
    stale: 0,
  };
}

export function addStats(into: Record<string, number>, add: PageStats): Record<string, number> {
  for (const [k, v] of Object.entries(add)) into[k] = (into[k] ?? 0) + v;
  return into;
}

/**
 * JSON text for a statement parameter. PostgreSQL text cannot hold NUL (U+0000): a ledger takes anything people type,
 * and one such character used to fail its whole page, on every retry. It is dropped here, from the JSON text: the
 * six-character escape JSON.stringify writes for it goes, unless its backslash is itself escaped (a typed backslash
 * followed by "u0000" is kept as typed).
 */
function jsonParam(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\u0000') ? text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1') : text;
}

const json = (value: unknown) => sql`${jsonParam(value)}::json`;
/** A parameter already serialized by preparePage. */
const jsonText = (text: string) => sql`${text}::json`;

/**
 * Column-wise rows for `unnest($1::t1[], $2::t2[], …)`: one PostgreSQL array literal per column, every element quoted
 * (or NULL), so its text goes to the column type's input function exactly as json_to_recordset would hand it over.
 * Parsing arrays costs PGlite's engine about 60 % of what the same rows as JSON objects cost (a 1,000-invoice page:
 * ~10 ms against ~17 ms; json_to_recordset looks every key up per row). NUL is dropped from text as in jsonParam, a
 * number that is not finite is NULL as JSON.stringify writes it, undefined is NULL as a missing key is.
 */
type Cell = string | number | boolean | null | undefined;
/** Characters a quoted array element escapes with a backslash. */
const ARRAY_QUOTED = /["\\]/;
function pgArray(values: readonly Cell[]): string {
  let out = '{';
  for (let k = 0; k < values.length; k++) {
    if (k > 0) out += ',';
    const v = values[k];
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) out += 'NULL';
    else if (typeof v !== 'string') out += String(v);
    else {
      const text = v.includes('\0') ? v.replaceAll('\0', '') : v;
      out += ARRAY_QUOTED.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : `"${text}"`;
    }
  }
  return `${out}}`;
}

/** `unnest(…) as r(…)` over columns made by pgArray, in `columns` order with their SQL types. */
function unnestRows(
  columns: readonly (readonly [name: string, type: string])[],
  arrays: readonly string[],
): SQL {
  const args = sql.join(
    columns.map(([, type], k) => sql`${arrays[k]}::${sql.raw(type)}[]`),
    sql`, `,
  );
  return sql`unnest(${args}) as r(${sql.raw(columns.map(([name]) => name).join(', '))})`;
}

/** The columns of rows (objects) as pgArray literals, in `columns` order. */
function columnArrays<T>(
  rows: readonly T[],
  columns: readonly (readonly [keyof T & string, string])[],
): string[] {
  return columns.map(([name]) => pgArray(rows.map((r) => r[name] as Cell)));
}

async function exec<T>(tx: Tx, query: SQL): Promise<T[]> {
  return rowsOf<T>(await tx.execute(query));
}

type Versioned = { sourceUpdatedAt?: string | null; sourceVersion?: number | null };

/** Whether `incoming` may replace `stored`: the writers' rule (notOlder), in node. */
function mayReplace(incoming: Versioned, stored: Versioned): boolean {
  const a = incoming.sourceVersion;
  const b = stored.sourceVersion;
  if (a !== null && a !== undefined && b !== null && b !== undefined) return a >= b;
  return ts(incoming.sourceUpdatedAt) >= ts(stored.sourceUpdatedAt);
}

/**
 * Within one page the same record may appear twice (overlapping CDC windows): keep the newest (by version when both
 * carry one, else by time), last wins a tie.
 */
function latest<T extends { externalId: string } & Versioned>(rows: readonly T[]): T[] {
  const byId = new Map<string, T>();
  for (const r of rows) {
    const prev = byId.get(r.externalId);
    if (!prev || mayReplace(r, prev)) byId.set(r.externalId, r);
  }
  return [...byId.values()];
}

function ts(v: string | null | undefined): number {
  const ms = v ? Date.parse(v) : Number.NaN;
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

const iso = (v: string | null | undefined) =>
  v && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : null;

const UPSERTED = { version: 'excluded.source_version', time: 'excluded.source_updated_at' };

/**
 * The version a listing's deletion mark stores on a row that had none (a source without versions, or a row stored
 * before they were kept). A listing states no time of its own, so such a mark is no proof the record went after its
 * last save: unlike a tombstone's mark (version cleared, only a strictly later save undoes it), it gives way to the
 * same save read again (the time rule, `>=`), so a listing that missed a record (a role's view, a listing fault) is
 * repaired by the next read. Below any real version, so a versioned save always passes it.
 */
const LISTING_MARK = -1;

/**
 * `stored` may be replaced by `incoming` unless the stored row is known to be newer: by version when both carry one
 * (two saves within one second tie on a whole-second time), else by source_updated_at. The incoming row is an
 * upsert's `excluded` unless its version and time columns are named (a recordset's).
 *
 * `deletable`: the table's rows are transactions (status 'deleted'), which a deletion marks with no version
 * (writeDeletions, or a journal entry's tombstone). Such a mark gives way only to a save strictly later than it: a
 * deleted transaction cannot be restored at the source, so a save of the same second (an older one, one never seen,
 * or the one stored before the deletion, arriving late) was made before the deletion, whatever its version. A voided
 * transaction is a save with a version and keeps the version rule, as does a journal credit an edit removed.
 */
const notOlder = (table: string, incoming = UPSERTED, opts: { deletable?: boolean } = {}) =>
  sql.raw(
    `(case ${
      opts.deletable
        ? `when ${table}.status = 'deleted' and ${table}.source_version is null
       then (${table}.source_updated_at is null or ${incoming.time} is null
             or ${incoming.time} > ${table}.source_updated_at)
       `
        : ''
    }when ${incoming.version} is not null and ${table}.source_version is not null
       then ${incoming.version} >= ${table}.source_version
       else (${table}.source_updated_at is null or ${incoming.time} is null
             or ${incoming.time} >= ${table}.source_updated_at) end)`,
  );

/**
 * The upsert's rows `r` that a deletion reported before Duely stored the record does not turn away (ledger_tombstones,
 * written by writeDeletions): as against a stored deletion mark, only a save strictly later than the deletion, or one
 * without a time, is taken; a deleted transaction cannot be restored at the source, so a save of the deletion's second
 * or before was made before it. One anti-join probe per row into a table that is empty for most tenants.
 */
type TombstoneKind = 'invoices' | 'payments' | 'credit_memos' | 'customers';
const notTombstoned = (t: SQL, kind: Exclude<TombstoneKind, 'customers'>) => sql`
  not exists (select 1 from ledger_tombstones d
              where d.tenant_id = ${t} and d.kind = ${kind} and d.external_id = r.external_id
                and r.source_updated_at <= d.source_updated_at)`;

/**
 * Whether the stored row `table` is the version the incoming lines `r` (their record's `su` time and `sv` version)
 * came with: the lines of a payment (or a credit memo's direct applications) follow its upsert's decision. Both
 * carry a version: the versions are equal; else the times are. Written without CASE: as a CASE in writePayments'
 * `r` it made PGlite's payments statement ~40 % dearer (4.9 vs 9.5 s per 20k full sync; the planner cannot see
 * through it), with the same result in a WHERE clause (a NULL comparison is false).
 */
const sameVersion = (table: string) =>
  sql.raw(
    `(r.su is null or ${table}.source_updated_at is not distinct from r.su
       or (r.sv is not null and ${table}.source_version = r.sv))
     and (r.sv is null or ${table}.source_version is null or ${table}.source_version = r.sv)`,
  );

/**
 * Statements issued without waiting for each other's answers, awaited together. They run in issue order (postgres-js
 * queues them on the transaction's connection, PGlite too), so a later one sees an earlier one's writes; what saves
 * time is node not waiting between them. Only statements whose SQL does not depend on an earlier one's answer go into
 * the same batch. On postgres-js an unnamed statement with parameters still costs two round trips before the next one
 * goes out (executeNamed): the named ones do not.
 */
class Batch {
  private pending: Promise<unknown>[] = [];
  constructor(private readonly tx: Tx) {}
  /** `named`: a statement whose plan cannot depend on its values (executeNamed), sent without a describe. */
  run<T>(query: SQL, named = false): Promise<T[]> {
    const p = named ? executeNamed<T>(this.tx, query) : exec<T>(this.tx, query);
    // Awaited in done(); until then a failure must not count as unhandled (the first failure is what done() throws).
    p.catch(() => {});
    this.pending.push(p);
    return p;
  }
  async done(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    await Promise.all(all);
  }
}

/** `insert … returning 1` counted in the database: the count is all a caller needs, not a thousand ids. */
const counted = (statement: SQL) =>
  sql`with w as (${statement} returning 1) select count(*)::int as n from w`;
const countOf = (rows: Promise<{ n: number }[]>) => quiet(rows.then((r) => r[0]?.n ?? 0));

/**
 * A promise derived from a batch statement's answer is awaited only after Batch.done(); when done() throws first, it
 * is never awaited, so its rejection (the same failure) must not count as unhandled.
 */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

const ID_BATCH = 256;
let idBytes = Buffer.alloc(0);
let idNext = ID_BATCH;

/**
 * A random (version 4) UUID as 32 hex digits, which uuid input takes without hyphens: one random read per 256 ids.
 * Made and stringified with a page's rows it costs node about half what crypto.randomUUID() does (60k rows: ~15 ms
 * against ~35 ms), which matters on Postgres, where the database's own gen_random_uuid() was cheap.
 */
function newId(): string {
  if (idNext === ID_BATCH) {
    idBytes = randomFillSync(Buffer.allocUnsafe(16 * ID_BATCH));
    idNext = 0;
  }
  const o = 16 * idNext++;
  idBytes[o + 6] = ((idBytes[o + 6] ?? 0) & 0x0f) | 0x40;
  idBytes[o + 8] = ((idBytes[o + 8] ?? 0) & 0x3f) | 0x80;
  return idBytes.toString('hex', o, o + 16);
}

/**
 * A page's records as the JSON parameters of its batched writes: the node-side work of writing a page (dedupe,
 * row shaping, JSON.stringify of ~1,000 rows), which depends on nothing but the page. Pure (no database, no clock),
 * so sync/run-sync.ts prepares page N+1 while page N's statements are in the database, and the database does not
 * wait for node between pages.
 *
 * Each row carries the id it gets if the page inserts it (newId; an upsert that updates keeps the stored id): PGlite's
 * gen_random_uuid() opens, reads and closes its /dev/urandom for every row, ~3 % of a PGlite full sync.
 */
export interface PreparedPage {
  customers: string | null;
  /** Customer external ids the page's invoices, credit memos and payments reference (placeholders). */
  referenced: string | null;
  /** The invoice rows as column arrays (INVOICE_COLUMNS). */
  invoices: { rows: string[]; count: number; firstSeen: string } | null;
  creditMemos: { rows: string; applications: string | null } | null;
  /**
   * Journal entries read by the page with the credits they keep (writeJournalEntries); present whenever the page
   * holds a journal entry, a journal credit or a payment, i.e. when the remaining credits are recomputed.
   */
  journals: { entries: string | null } | null;
  /** The payment rows and their allocation lines as column arrays (PAYMENT_COLUMNS, ALLOCATION_COLUMNS). */
  payments: { rows: string[]; allocations: string[] } | null;
}

export function preparePage(
  page: Pick<SyncPage<unknown>, 'customers' | 'invoices' | 'payments' | 'creditMemos' | 'journalEntries'>,
): PreparedPage {
  const customers = latest(page.customers);
  const invoices = latest(page.invoices);
  const creditMemos = latest(page.creditMemos);
  const payments = latest(page.payments);
  const referenced = new Set<string>();
  for (const i of invoices) referenced.add(i.customerExternalId);
  for (const m of creditMemos) referenced.add(m.customerExternalId);
  for (const p of payments) referenced.add(p.customerExternalId);
  const direct = creditMemos.filter((m) => m.applications !== undefined);
  // The id each payment gets if this page inserts it; its allocation lines carry it too, so the allocation statement
  // tells a payment this page created (which cannot have lines yet) from one stored before.
  const paymentIds = new Map(payments.map((p) => [p.externalId, newId()]));
  return {
    customers: customers.length > 0 ? jsonParam(customerRows(customers)) : null,
    referenced: referenced.size > 0 ? jsonParam([...referenced]) : null,
    invoices:
      invoices.length > 0
        ? {
            rows: columnArrays(invoiceRows(invoices), INVOICE_COLUMNS),
            count: invoices.length,
            firstSeen: jsonParam(firstSeenRows(invoices)),
          }
        : null,
    creditMemos:
      creditMemos.length > 0
        ? {
            rows: jsonParam(creditMemoRows(creditMemos)),
            applications: direct.length > 0 ? jsonParam(creditApplicationRows(direct)) : null,
          }
        : null,
    payments:
      payments.length > 0
        ? {
            rows: columnArrays(paymentRows(payments, paymentIds), PAYMENT_COLUMNS),
            allocations: columnArrays(allocationRows(payments, paymentIds), ALLOCATION_COLUMNS),
          }
        : null,
    journals: journalParams(page.journalEntries ?? [], creditMemos, payments),
  };
}

/** preparePage's `journals`: null when the page has no journal entry, journal credit or payment. */
function journalParams(
  entries: NonNullable<SyncPage<unknown>['journalEntries']>,
  creditMemos: CanonicalCreditMemo[],
  payments: CanonicalPayment[],
): PreparedPage['journals'] {
  const journalCredits = creditMemos.filter((m) => m.journalEntry);
  if (entries.length === 0 && journalCredits.length === 0 && payments.length === 0) return null;
  const keep = Map.groupBy(journalCredits, (m) => m.journalEntry?.externalId ?? '');
  const read = latest(entries).map((e) => ({
    je: e.externalId,
    su: iso(e.sourceUpdatedAt),
    sv: e.sourceVersion ?? null,
    keep: (keep.get(e.externalId) ?? []).map((m) => m.externalId),
  }));
  return { entries: read.length > 0 ? jsonParam(read) : null };
}

/**
 * Tables whose rows a page inserts without ON CONFLICT: set by a full sync into a ledger that held none of them for
 * the tenant when the run began (tenantLedgerEmpty), where every row is new. A plain insert costs the database less
 * than an upsert's speculative insertion (PGlite: 10–15 % per invoice row). For a row that does not exist the outcome
 * is the upsert's; one that exists after all (a record read twice across pages, another writer) fails the statement
 * with a unique violation (23505), which rolls the page back: the caller writes it again without insertOnly
 * (sync/run-sync.ts). `payments` covers their allocation lines (a new payment has none yet).
 */
export interface InsertOnly {
  invoices?: boolean;
  payments?: boolean;
  /**
   * Check the inserted rows' foreign keys once per page instead of once per row (keysPerPage): set for PGlite only,
   * where the session is a superuser's (and the only one).
   */
  keysPerPage?: boolean;
}

/**
 * keysPerPage: an insert-only statement runs with `session_replication_role = replica`, which skips the per-row
 * foreign-key triggers (an SPI `select … for key share` per inserted row: ~16 % of a PGlite full sync's CPU). The
 * guarantee stays, as a set: every key such a statement writes comes from a row it joined in its own snapshot
 * (customers, invoices, payments, credit memos), and on PGlite no other session exists to delete that row before
 * the commit; what is left is this transaction deleting one while the triggers are off (no code updates these
 * tables' ids), and the statement that turns them back on (keysOn) reads whether it did
 * (pg_stat_get_xact_tuples_deleted, counted from the transaction's start).
 * If it did, or if the counters are off, checkInvoiceKeys / checkPaymentKeys check the page's rows as one set: they
 * lock every referenced row `for key share` and, for a row whose referenced row is missing, fire the real check (a
 * no-op update of a row inserted by the same transaction runs its foreign-key triggers), so the page fails with the
 * constraint's own foreign_key_violation (23503) and rolls back whole. Replica mode also skips ordinary triggers and
 * rules: invoices, payments and payment_allocations have none (tests/sync/insert-only-keys.test.ts holds the schema
 * to that), and the mode is on only for the insert statements (set_config … is_local, back to origin after). Postgres
 * keeps the per-row checks: other sessions can delete there, and setting the role needs a superuser.
 */
const keysOff = sql`select set_config('session_replication_role', 'replica', true)`;
const keysOn = sql`
  select set_config('session_replication_role', 'origin', true) as role,
         current_setting('track_counts') <> 'on'
         or pg_stat_get_xact_tuples_deleted('customers'::regclass) + pg_stat_get_xact_tuples_deleted('invoices'::regclass)
            + pg_stat_get_xact_tuples_deleted('payments'::regclass)
            + pg_stat_get_xact_tuples_deleted('credit_memos'::regclass) > 0 as deleted`;

/** The page's new invoices (by the ids preparePage gave them): customer_id (keysPerPage). */
function checkInvoiceKeys(ids: string): SQL {
  // Every lookup by key (= any(array(…))): joined as sets, the planner without statistics on a just-filled table
  // scanned the whole table on every page.
  return sql`
    with n as materialized (select i.id, i.customer_id from invoices i where i.id = any(${ids}::uuid[])),
    kc as materialized (select c.id from customers c where c.id = any(array(select n.customer_id from n))
                        for key share of c)
    update invoices i set customer_id = i.customer_id
    where i.id = any(array(select n.id from n where n.customer_id not in (select kc.id from kc)))`;
}

/**
 * The page's new payments and allocation lines (by the ids preparePage gave them): payments.customer_id and the
 * lines' payment_id, invoice_id and credit_memo_id (keysPerPage).
 */
function checkPaymentKeys(paymentIds: string, lineIds: string): SQL {
  const locked = (table: string, key: string, from: string) =>
    sql.raw(
      `select x.id from ${table} x where x.id = any(array(select ${key} from ${from})) for key share of x`,
    );
  return sql`
    with p as materialized (select p.id, p.customer_id from payments p where p.id = any(${paymentIds}::uuid[])),
    a as materialized (select a.id, a.payment_id, a.invoice_id, a.credit_memo_id from payment_allocations a
                       where a.id = any(${lineIds}::uuid[])),
    kc as materialized (${locked('customers', 'p.customer_id', 'p')}),
    kp as materialized (${locked('payments', 'a.payment_id', 'a')}),
    ki as materialized (${locked('invoices', 'a.invoice_id', 'a')}),
    km as materialized (${locked('credit_memos', 'a.credit_memo_id', 'a')}),
    xp as (update payments x set customer_id = x.customer_id
           where x.id = any(array(select p.id from p where p.customer_id not in (select kc.id from kc)))
           returning 1),
    xa as (update payment_allocations x
           set payment_id = x.payment_id, invoice_id = x.invoice_id, credit_memo_id = x.credit_memo_id
           where x.id = any(array(
             select a.id from a
             where a.payment_id not in (select kp.id from kp)
                or (a.invoice_id is not null and a.invoice_id not in (select ki.id from ki))
                or (a.credit_memo_id is not null and a.credit_memo_id not in (select km.id from km))))
           returning 1)
    select (select count(*) from xp) + (select count(*) from xa) as n`;
}

/** Whether an error is a unique violation (as the drivers report it, or wrapped by drizzle). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  return (e?.code ?? e?.cause?.code) === '23505';
}

/** Which of the tenant's invoices and payments tables hold no row of it (insertOnly's precondition). */
export async function tenantLedgerEmpty(
  db: Tx | Db,
  tenantId: string,
): Promise<Required<Omit<InsertOnly, 'keysPerPage'>>> {
  const t = sql`${tenantId}::uuid`;
  const [row] = rowsOf<{ invoices: boolean; payments: boolean }>(
    await db.execute(sql`
      select not exists (select 1 from invoices where tenant_id = ${t}) as invoices,
             not exists (select 1 from payments where tenant_id = ${t}) as payments`),
  );
  return { invoices: row?.invoices === true, payments: row?.payments === true };
}

/**
 * Writes one page for `tenantId` inside `tx`. Idempotent and tolerant of out-of-order pages. `prepared` is
 * preparePage(page), when the caller computed it ahead. `insertOnly`: see InsertOnly.
 */
export async function writePage(
  tx: Tx,
  tenantId: string,
  page: Pick<
    SyncPage<unknown>,
    'customers' | 'invoices' | 'payments' | 'creditMemos' | 'deletions' | 'journalEntries'
  >,
  now: Date,
  prepared: PreparedPage = preparePage(page),
  options: { deferPaidDates?: boolean; insertOnly?: InsertOnly } = {},
): Promise<PageResult> {
  const stats = emptyStats();
  const changed = new Set<string>();
  /** Invoices whose paid_date must be recomputed from their allocations (not the ones just inserted). */
  const recompute = new Set<string>();
  const t = sql`${tenantId}::uuid`;
  const nowIso = now.toISOString();
  const { customers, referenced, invoices, creditMemos, payments } = prepared;

  // Every write of the page up to the deletions, in the order they depend on each other, as one batch.
  const batch = new Batch(tx);
  const customerWrite = customers
    ? quiet(
        batch
          .run<{ n: number; changed: string[] }>(upsertCustomers(t, customers, nowIso))
          .then((r) => r[0] ?? { n: 0, changed: [] }),
      )
    : null;

  // Placeholders for customers referenced before (or without) their own record.
  const placeholderCount = referenced
    ? countOf(
        batch.run(
          counted(sql`
      insert into customers (tenant_id, external_id, name, deleted_at)
      select ${t}, x, 'Customer ' || x,
             -- Named by a record while the ledger reported it deleted: a deleted placeholder, never a live one.
             case when exists (select 1 from ledger_tombstones d
                               where d.tenant_id = ${t} and d.kind = 'customers' and d.external_id = x)
                  then ${nowIso}::timestamptz end
      from json_array_elements_text(${jsonText(referenced)}) as x
      where not exists (select 1 from customers c where c.tenant_id = ${t} and c.external_id = x)
      on conflict (tenant_id, external_id) do nothing`),
        ),
      )
    : null;

  /** keysPerPage: each insert-only statement's keysOn answer, and the check it needs if rows were deleted. */
  const keyChecks: { deleted: Promise<{ deleted: boolean }[]>; check: SQL }[] = [];
  let upsertedInvoices: Promise<
    { id: string; inserted: boolean; customer_id: string; rerouted: boolean }[]
  > | null = null;
  if (invoices) {
    const insertOnly = options.insertOnly?.invoices === true;
    const perPage = insertOnly && options.insertOnly?.keysPerPage === true;
    if (perPage) batch.run(keysOff);
    upsertedInvoices = batch.run(upsertInvoices(t, invoices.rows, insertOnly));
    if (perPage)
      keyChecks.push({ deleted: batch.run(keysOn), check: checkInvoiceKeys(invoices.rows[0] ?? '{}') });
    // first_seen: a customer's earliest invoice.
    batch.run(sql`
      update customers c set first_seen = s.first_seen
      from (select r.c, min(r.d) as first_seen
            from json_to_recordset(${jsonText(invoices.firstSeen)}) as r(c text, d date)
            group by r.c) s
      where c.tenant_id = ${t} and c.external_id = s.c
        and (c.first_seen is null or c.first_seen > s.first_seen)`);
  }

  let memoCount: Promise<number> | null = null;
  let creditAlloc: Promise<AllocationResult> | null = null;
  if (creditMemos) {
    memoCount = countOf(batch.run(upsertCreditMemos(t, creditMemos.rows)));
    if (creditMemos.applications)
      creditAlloc = allocationResult(batch.run(writeCreditApplications(t, creditMemos.applications)));
  }

  let paymentAlloc: Promise<AllocationResult> | null = null;
  if (payments) {
    const insertOnly = options.insertOnly?.payments === true;
    const perPage = insertOnly && options.insertOnly?.keysPerPage === true;
    if (perPage) batch.run(keysOff);
    paymentAlloc = allocationResult(
      batch.run(writePayments(t, payments.rows, payments.allocations, insertOnly)),
    );
    if (perPage)
      keyChecks.push({
        deleted: batch.run(keysOn),
        check: checkPaymentKeys(payments.rows[0] ?? '{}', payments.allocations[0] ?? '{}'),
      });
  }
  await batch.done();
  for (const k of keyChecks) if ((await k.deleted)[0]?.deleted !== false) await exec(tx, k.check);

  let addressChanged: string[] = [];
  if (customerWrite) {
    const w = await customerWrite;
    stats.customers = w.n;
    addressChanged = w.changed;
  }
  if (placeholderCount) stats.placeholders = await placeholderCount;
  if (upsertedInvoices) {
    const rows = await upsertedInvoices;
    stats.invoices = rows.length;
    stats.stale += (invoices?.count ?? 0) - rows.length;
    const rerouted = new Set<string>();
    for (const r of rows) {
      changed.add(r.id);
      if (!r.inserted) recompute.add(r.id);
      // A stored invoice sent elsewhere in the ledger (its BillEmail changed): the reminders waiting for it were
      // addressed by the old one, so they are re-addressed as for a customer's changed email (addressesChanged; a
      // job's invoice takes back the parent's messages that carry it, deletePendingReminders).
      if (!r.inserted && r.rerouted) rerouted.add(r.customer_id);
    }
    if (rerouted.size > 0) addressChanged = [...new Set([...addressChanged, ...rerouted])];
  }
  if (memoCount) stats.creditMemos = await memoCount;
  if (creditAlloc) {
    const alloc = await creditAlloc;
    stats.allocations += alloc.written;
    stats.allocationsSkipped += alloc.skipped;
    for (const id of alloc.invoiceIds) {
      changed.add(id);
      recompute.add(id);
    }
  }
  if (paymentAlloc) {
    const alloc = await paymentAlloc;
    stats.payments = alloc.payments;
    stats.allocations = alloc.written;
    stats.allocationsSkipped = alloc.skipped;
    for (const id of alloc.invoiceIds) {
      changed.add(id);
      recompute.add(id);
    }
  }

  const del = await writeDeletions(tx, t, page.deletions, nowIso);
  stats.deletions = del.count;
  for (const id of del.invoiceIds) {
    changed.add(id);
    recompute.add(id);
  }

  const { journals } = prepared;
  if (journals?.entries) stats.deletions += await writeJournalEntries(tx, t, journals.entries);
  if (journals || page.deletions.payments.length > 0) await recomputeJournalCredits(tx, t);

  // A full sync's pages leave paid_date to the one tenant-wide pass that ends it (settlePaidDates).
  if (recompute.size > 0 && !options.deferPaidDates) {
    // paid_date follows the allocations: the latest one's date once the balance is zero, else null. The latest date
    // is looked up per invoice (an index probe, LATERAL keeps it one): joined as a set, the planner without
    // statistics on a just-filled table read every allocation of the database for each page.
    const rows = await exec<{ id: string }>(
      tx,
      sql`
      with ids as (select value::uuid as id from json_array_elements_text(${json([...recompute])}))
      update invoices i set paid_date = x.pd, updated_at = now()
      from (
        select i2.id,
               case when i2.status = 'paid' and i2.balance_minor = 0 then
                 coalesce(a.last_date, i2.paid_date, (i2.source_updated_at at time zone 'UTC')::date)
               end as pd
        from ids
        join invoices i2 on i2.id = ids.id
        left join lateral (select max(al.date) as last_date
                           from payment_allocations al where al.invoice_id = i2.id) a on true
      ) x
      where i.id = x.id and i.paid_date is distinct from x.pd
      returning i.id`,
    );
    for (const r of rows) changed.add(r.id);
  }

  return { stats, changedInvoiceIds: [...changed], addressChangedCustomerIds: addressChanged };
}

/**
 * paid_date of every invoice of the tenant recomputed from its allocations, as writePage does for the invoices a page
 * touched: the latest allocation's date once the balance is zero, else null; an invoice with no allocations keeps
 * its paid_date (or takes its last change's date). A full sync's pages defer their recompute to this one pass,
 * written in the transaction of the page that ends the full sync (sync/run-sync.ts), so a resumed sync cannot lose
 * it: per page it was one statement with ~1,000 index probes into invoices and allocations (~8 % of a PGlite full
 * sync); here the latest dates are one aggregate over the tenant's allocations. Rows already right are not written.
 * Returns the ids of the invoices it changed.
 */
export async function settlePaidDates(tx: Tx, tenantId: string): Promise<string[]> {
  const t = sql`${tenantId}::uuid`;
  const rows = await exec<{ id: string }>(
    tx,
    sql`
    with x as materialized (
      select i2.id,
             case when i2.status = 'paid' and i2.balance_minor = 0 then
               coalesce(a.last_date, i2.paid_date, (i2.source_updated_at at time zone 'UTC')::date)
             end as pd,
             i2.paid_date
      from invoices i2
      -- Through the tenant's invoices (payment_allocations_invoice_idx): no index on payment_allocations starts
      -- with tenant_id, so on a shared Postgres a filter on it would read every tenant's lines. Lines of payments
      -- and of credit memos applied directly (no payment) alike.
      left join (select al.invoice_id, max(al.date) as last_date
                 from invoices i3 join payment_allocations al on al.invoice_id = i3.id
                 where i3.tenant_id = ${t}
                 group by al.invoice_id) a on a.invoice_id = i2.id
      where i2.tenant_id = ${t} and (i2.paid_date is not null or (i2.status = 'paid' and i2.balance_minor = 0))
    )
    -- Compared before the join (materialized): only the rows that change are looked up again as the target.
    update invoices i set paid_date = x.pd, updated_at = now()
    from x
    where x.paid_date is distinct from x.pd and i.id = x.id
    returning i.id`,
  );
  return rows.map((r) => r.id);
}

/**
 * The (customer, issue date) pairs the first_seen update takes its minimum over, thinned in node: per customer, the
 * earliest calendar date in YYYY-MM-DD form (their text order is their date order) and every other value, so the
 * minimum the database takes is the same while it parses and groups ~400 rows a page instead of ~1,000.
 */
function firstSeenRows(invoices: CanonicalInvoice[]): { c: string; d: string }[] {
  const earliest = new Map<string, string>();
  const other: { c: string; d: string }[] = [];
  for (const i of invoices) {
    const c = i.customerExternalId;
    const d = i.issueDate;
    if (!isIsoDate(d)) other.push({ c, d });
    else {
      const prev = earliest.get(c);
      if (prev === undefined || d < prev) earliest.set(c, d);
    }
  }
  return [...[...earliest].map(([c, d]) => ({ c, d })), ...other];
}

function customerRows(rows: CanonicalCustomer[]) {
  return rows.map((c) => ({
    id: newId(),
    external_id: c.externalId,
    name: c.name,
    // Connector data is typed by people (ledgers take anything in an email field): an entry that is not a
    // plain address, e.g. one carrying "\r\nBcc: …", never becomes a recipient.
    emails: (c.emails ?? []).filter(isHeaderSafeAddress),
    timezone: c.timezone ?? null,
    country: c.country ?? null,
    locale: c.locale ?? null,
    delivery: c.delivery ?? null,
    currency: c.currency ?? null,
    parent_external_id: c.parentExternalId ?? null,
    bill_with_parent: c.billWithParent === true,
    deleted: c.deleted === true,
    source_updated_at: iso(c.sourceUpdatedAt),
    source_version: c.sourceVersion ?? null,
  }));
}

/**
 * The customers of a page, upserted; answers one row: how many were written, and which existing customers' addresses
 * changed (`prev` reads the rows as they were before the insert: every part of one statement sees the same
 * snapshot). An address the customer no longer has joins its former_emails, an address it has again leaves them.
 * A placeholder getting its first addresses is not a change (nothing was addressed to it), nor is the same addresses
 * in another order or case (the same mailboxes: no re-plan per page when a ledger re-sends them differently). A job
 * billed with its parent brings its parent along (the job's reminders are planned as the parent's messages).
 */
function upsertCustomers(t: SQL, data: string, nowIso: string): SQL {
  return sql`
    with j as (
      select * from json_to_recordset(${jsonText(data)}) as r(id uuid, external_id text, name text, emails text[],
           timezone text, country text, locale text, delivery text, currency text, parent_external_id text,
           bill_with_parent boolean, deleted boolean, source_updated_at timestamptz, source_version bigint)
    ),
    -- A save older than a deletion reported before Duely held the customer (ledger_tombstones; a stored row, but for
    -- a placeholder, carries its own marks) stores it deleted at the deletion's time: a later save of that second or
    -- after makes it active again, as for a stored customer.
    r as (
      select j.id, j.external_id, j.name, j.emails, j.timezone, j.country, j.locale, j.delivery, j.currency,
             j.parent_external_id, j.bill_with_parent, j.deleted or d.source_updated_at is not null as deleted,
             coalesce(d.source_updated_at, j.source_updated_at) as source_updated_at,
             case when d.source_updated_at is null then j.source_version end as source_version
      from j left join ledger_tombstones d
        on d.tenant_id = ${t} and d.kind = 'customers' and d.external_id = j.external_id
       and j.source_updated_at < d.source_updated_at
       and not exists (select 1 from customers x where x.tenant_id = ${t} and x.external_id = j.external_id
                         and x.source_updated_at is not null)
    ),
    prev as (
      select c.id, c.emails from customers c join r on r.external_id = c.external_id where c.tenant_id = ${t}
    ),
    w as (
    insert into customers as c (id, tenant_id, external_id, name, emails, timezone, country, locale, delivery, currency,
                                parent_external_id, bill_with_parent, deleted_at, source_updated_at, source_version)
    select r.id, ${t}, r.external_id, r.name, coalesce(r.emails, '{}'), r.timezone, r.country, r.locale, r.delivery,
           r.currency, r.parent_external_id, r.bill_with_parent, case when r.deleted then ${nowIso}::timestamptz end,
           r.source_updated_at, r.source_version
    from r
    on conflict (tenant_id, external_id) do update set
      name = excluded.name, emails = excluded.emails, timezone = excluded.timezone, country = excluded.country,
      locale = coalesce(excluded.locale, c.locale), delivery = excluded.delivery, currency = excluded.currency,
      parent_external_id = excluded.parent_external_id, bill_with_parent = excluded.bill_with_parent,
      deleted_at = case when excluded.deleted_at is null then null else coalesce(c.deleted_at, excluded.deleted_at) end,
      source_updated_at = coalesce(excluded.source_updated_at, c.source_updated_at),
      source_version = excluded.source_version, updated_at = now(),
      former_emails = case when c.emails is distinct from excluded.emails then
          array(select min(a) from unnest(c.former_emails || c.emails) as a
                where lower(a) <> all (select lower(e) from unnest(excluded.emails) as e)
                group by lower(a) order by lower(a))
        else c.former_emails end
    where ${notOlder('c')}
      and (c.name, c.emails, c.timezone, c.country, c.delivery, c.currency, c.parent_external_id, c.bill_with_parent,
           c.deleted_at is null, c.source_updated_at, c.source_version)
          is distinct from
          (excluded.name, excluded.emails, excluded.timezone, excluded.country, excluded.delivery, excluded.currency,
           excluded.parent_external_id, excluded.bill_with_parent, excluded.deleted_at is null,
           coalesce(excluded.source_updated_at, c.source_updated_at), excluded.source_version)
    returning c.id, c.emails, c.parent_external_id, c.bill_with_parent
    ),
    moved as (
      select w.* from w join prev p on p.id = w.id
      where cardinality(p.emails) > 0
        and array(select distinct lower(x) from unnest(p.emails) as x order by 1)
            is distinct from array(select distinct lower(x) from unnest(w.emails) as x order by 1)
    )
    select (select count(*)::int from w) as n,
           coalesce((select json_agg(distinct x.id) from (
                       select id from moved
                       -- A job billed with its parent: its reminders are the parent's messages.
                       union all
                       select p.id from moved m join customers p
                         on p.tenant_id = ${t} and p.external_id = m.parent_external_id
                       where m.bill_with_parent) x),
                    '[]'::json) as changed
`;
}

function invoiceRows(rows: CanonicalInvoice[]) {
  return rows.map((i) => ({
    id: newId(),
    external_id: i.externalId,
    customer_external_id: i.customerExternalId,
    number: i.number ?? null,
    issue_date: i.issueDate,
    due_date: i.dueDate,
    currency: i.currency,
    total_minor: i.totalMinor,
    balance_minor: i.balanceMinor,
    status: i.status,
    pay_link: i.payLink ?? null,
    bill_email: addressListText(i.billEmail),
    delivery: i.delivery ?? null,
    source_updated_at: iso(i.sourceUpdatedAt),
    source_version: i.sourceVersion ?? null,
  }));
}

type InvoiceRow = ReturnType<typeof invoiceRows>[number];
const INVOICE_COLUMNS: readonly (readonly [keyof InvoiceRow, string])[] = [
  ['id', 'uuid'],
  ['external_id', 'text'],
  ['customer_external_id', 'text'],
  ['number', 'text'],
  ['issue_date', 'date'],
  ['due_date', 'date'],
  ['currency', 'text'],
  ['total_minor', 'bigint'],
  ['balance_minor', 'bigint'],
  ['status', 'text'],
  ['pay_link', 'text'],
  ['bill_email', 'text'],
  ['delivery', 'text'],
  ['source_updated_at', 'timestamptz'],
  ['source_version', 'bigint'],
];

/**
 * The page's invoices, upserted: each written row's id, whether it is new, its customer, and whether its BillEmail
 * changed (`rerouted`: `prev` reads the stored rows as they were before the statement, as upsertCustomers does;
 * compared case-insensitively). An insert-only write changes no stored row.
 */
function upsertInvoices(t: SQL, columns: string[], insertOnly: boolean): SQL {
  const prev = insertOnly
    ? sql``
    : sql`with prev as (select p.id, p.bill_email from invoices p
                        where p.tenant_id = ${t} and p.external_id = any(${columns[1]}::text[])) `;
  const rerouted = insertOnly
    ? sql`false`
    : sql`(select lower(p.bill_email) from prev p where p.id = i.id) is distinct from lower(i.bill_email)`;
  return sql`
    ${prev}insert into invoices as i (id, tenant_id, customer_id, external_id, number, issue_date, due_date, currency,
                               total_minor, balance_minor, status, pay_link, bill_email, delivery, source_updated_at,
                               source_version, paid_date)
    select r.id, ${t}, cu.id, r.external_id, r.number, r.issue_date, r.due_date, r.currency, r.total_minor,
           r.balance_minor, r.status, r.pay_link, r.bill_email, r.delivery, r.source_updated_at, r.source_version,
           -- A new invoice has no allocations yet: paid_date falls back to its last change until they arrive.
           case when r.status = 'paid' and r.balance_minor = 0 then (r.source_updated_at at time zone 'UTC')::date end
    from ${unnestRows(INVOICE_COLUMNS, columns)}
    join customers cu on cu.tenant_id = ${t} and cu.external_id = r.customer_external_id
    where ${notTombstoned(t, 'invoices')}
    ${insertOnly ? sql`` : invoiceConflict}
    returning i.id, (i.xmax = 0) as inserted, i.customer_id, ${rerouted} as rerouted`;
}

/** upsertInvoices' ON CONFLICT: the stored row is updated unless it is newer or equal in every column. */
const invoiceConflict = sql`
    on conflict (tenant_id, external_id) do update set
      customer_id = excluded.customer_id, number = excluded.number, issue_date = excluded.issue_date,
      due_date = excluded.due_date, currency = excluded.currency, total_minor = excluded.total_minor,
      balance_minor = excluded.balance_minor, status = excluded.status,
      pay_link = coalesce(excluded.pay_link, i.pay_link), bill_email = excluded.bill_email,
      delivery = coalesce(excluded.delivery, i.delivery),
      source_updated_at = coalesce(excluded.source_updated_at, i.source_updated_at),
      source_version = excluded.source_version, updated_at = now()
    where ${notOlder('i', UPSERTED, { deletable: true })}
      and (i.customer_id, i.number, i.issue_date, i.due_date, i.currency, i.total_minor, i.balance_minor, i.status,
           i.pay_link, i.bill_email, i.delivery, i.source_updated_at, i.source_version)
          is distinct from
          (excluded.customer_id, excluded.number, excluded.issue_date, excluded.due_date, excluded.currency,
           excluded.total_minor, excluded.balance_minor, excluded.status, coalesce(excluded.pay_link, i.pay_link),
           excluded.bill_email, coalesce(excluded.delivery, i.delivery),
           coalesce(excluded.source_updated_at, i.source_updated_at), excluded.source_version)`;

function creditMemoRows(rows: CanonicalCreditMemo[]) {
  return rows.map((m) => ({
    id: newId(),
    external_id: m.externalId,
    customer_external_id: m.customerExternalId,
    date: m.date,
    currency: m.currency,
    total_minor: m.totalMinor,
    remaining_minor: m.remainingMinor,
    status: m.status,
    journal_entry_id: m.journalEntry?.externalId ?? null,
    number: m.journalEntry?.number ?? null,
    remaining_at_source: m.journalEntry?.remainingAtSource === true,
    source_updated_at: iso(m.sourceUpdatedAt),
    source_version: m.sourceVersion ?? null,
  }));
}

/**
 * The page's credit memos and journal rows. A stored journal row keeps its remaining_minor when the source states
 * none (recomputeJournalCredits derives it after the page's payments; a new one starts at its total); one whose
 * source states it (remaining_at_source: an amount unpaid or unused per A/R line) takes the source's.
 */
function upsertCreditMemos(t: SQL, data: string): SQL {
  const remaining = sql.raw(
    'case when excluded.journal_entry_id is null or excluded.remaining_at_source then excluded.remaining_minor ' +
      'else m.remaining_minor end',
  );
  return counted(sql`
    insert into credit_memos as m (id, tenant_id, customer_id, external_id, date, currency, total_minor, remaining_minor,
                                   status, journal_entry_id, number, remaining_at_source, source_updated_at,
                                   source_version)
    select r.id, ${t}, cu.id, r.external_id, r.date, r.currency, r.total_minor, r.remaining_minor, r.status,
           r.journal_entry_id, r.number, r.remaining_at_source, r.source_updated_at, r.source_version
    from json_to_recordset(${jsonText(data)}) as r(id uuid, external_id text, customer_external_id text, date date,
         currency text, total_minor bigint, remaining_minor bigint, status text, journal_entry_id text, number text,
         remaining_at_source boolean, source_updated_at timestamptz, source_version bigint)
    join customers cu on cu.tenant_id = ${t} and cu.external_id = r.customer_external_id
    where ${notTombstoned(t, 'credit_memos')}
    on conflict (tenant_id, external_id) do update set
      customer_id = excluded.customer_id, date = excluded.date, currency = excluded.currency,
      total_minor = excluded.total_minor, remaining_minor = ${remaining}, status = excluded.status,
      journal_entry_id = excluded.journal_entry_id, number = excluded.number,
      remaining_at_source = excluded.remaining_at_source,
      source_updated_at = coalesce(excluded.source_updated_at, m.source_updated_at),
      source_version = excluded.source_version, updated_at = now()
    where ${notOlder('m', UPSERTED, { deletable: true })}
      and (m.customer_id, m.date, m.currency, m.total_minor, m.remaining_minor, m.status, m.journal_entry_id,
           m.number, m.remaining_at_source, m.source_updated_at, m.source_version)
          is distinct from
          (excluded.customer_id, excluded.date, excluded.currency, excluded.total_minor, ${remaining},
           excluded.status, excluded.journal_entry_id, excluded.number, excluded.remaining_at_source,
           coalesce(excluded.source_updated_at, m.source_updated_at), excluded.source_version)
`);
}

/**
 * Journal entries read whole (or deleted) by the page: their stored credits the page does not keep are marked
 * deleted (a customer's A/R lines removed from the entry, the entry deleted), unless the stored credit is newer: by
 * version when both carry one, else by time, as the upserts judge. A credit removed by an edit keeps the entry's
 * version (a later edit of the same second may add the line again; an older save may not); one removed by the
 * entry's tombstone has none, and comes back only with a later save (notOlder's deletion marks). Returns how many
 * it deleted.
 */
async function writeJournalEntries(tx: Tx, t: SQL, entries: string): Promise<number> {
  const rows = await exec<{ id: string }>(
    tx,
    sql`
    update credit_memos m set status = 'deleted', remaining_minor = 0,
      source_updated_at = coalesce(r.su, m.source_updated_at), source_version = r.sv, updated_at = now()
    from json_to_recordset(${jsonText(entries)}) as r(je text, su timestamptz, sv bigint, keep json)
    where m.tenant_id = ${t} and m.journal_entry_id = r.je and m.status <> 'deleted'
      and m.external_id not in (select json_array_elements_text(r.keep))
      and ${notOlder('m', { version: 'r.sv', time: 'r.su' })}
    returning m.id`,
  );
  return rows.length;
}

/**
 * remaining_minor of journal rows whose source keeps no remaining amount (a row with remaining_at_source keeps the
 * source's, as the upsert wrote it): a credit's total less what payment lines applied from it, never below zero; a debit's (negative) total plus what payment lines linking it
 * paid, never above zero. Per payment, what its lines applied is payments.journal_applied, or its allocations naming
 * the credit when more (a payment stored before journal_applied was kept; a debit is never an allocation's credit).
 * Every active journal row of the tenant, after any page with a journal entry, a journal credit or a payment, or a
 * payment deleted: a payment edited, deleted or moved to another customer may have stopped applying a row of a
 * customer the page does not name (its old lines are gone, and with them which row they applied), and a payment
 * read before the entry it links is counted once the entry arrives. Through credit_memos_journal_idx, the
 * allocations' partial credit-memo index and payments_journal_idx: a tenant without journal rows costs one empty
 * index probe, one with n rows about 2n.
 */
async function recomputeJournalCredits(tx: Tx, t: SQL): Promise<void> {
  await tx.execute(sql`
    with j as materialized (
      select m.id, m.customer_id, m.external_id, m.total_minor, m.remaining_minor from credit_memos m
      where m.tenant_id = ${t} and m.journal_entry_id is not null and m.status = 'active'
        and not m.remaining_at_source
    ),
    applied as (
      select j.id, j.total_minor, j.remaining_minor, coalesce(
               (select sum(greatest(coalesce(l.amt, 0), coalesce(a.amt, 0)))
                from (select p.id as pid, (p.journal_applied ->> j.external_id)::bigint as amt
                      from payments p
                      where p.customer_id = j.customer_id and p.journal_applied is not null
                        and p.status = 'active' and p.journal_applied ? j.external_id) l
                full join (select al.payment_id as pid, sum(al.amount_minor) as amt from payment_allocations al
                           where al.credit_memo_id = j.id group by al.payment_id) a on a.pid = l.pid), 0) as amt
      from j
    ),
    x as (
      select id, remaining_minor,
             case when total_minor < 0 then least(0, total_minor + amt) else greatest(0, total_minor - amt) end as rem
      from applied
    )
    update credit_memos cm set remaining_minor = x.rem, updated_at = now()
    from x where cm.id = x.id and x.remaining_minor <> x.rem`);
}

function paymentRows(rows: CanonicalPayment[], ids: Map<string, string>) {
  return rows.map((p) => ({
    id: ids.get(p.externalId),
    external_id: p.externalId,
    customer_external_id: p.customerExternalId,
    date: p.date,
    currency: p.currency,
    amount_minor: p.amountMinor,
    unapplied_minor: p.unappliedMinor,
    status: p.status,
    journal_applied: journalApplied(p),
    source_updated_at: iso(p.sourceUpdatedAt),
    source_version: p.sourceVersion ?? null,
  }));
}

/** payments.journal_applied of a payment: `{"<journal row external id>": minor}`, null when it links no entry. */
function journalApplied(p: CanonicalPayment): string | null {
  const lines = p.status === 'active' ? (p.journalApplications ?? []) : [];
  if (lines.length === 0) return null;
  const applied: Record<string, number> = {};
  for (const l of lines) applied[l.journalExternalId] = (applied[l.journalExternalId] ?? 0) + l.amountMinor;
  return JSON.stringify(applied);
}

type PaymentRow = ReturnType<typeof paymentRows>[number];
const PAYMENT_COLUMNS: readonly (readonly [keyof PaymentRow, string])[] = [
  ['id', 'uuid'],
  ['external_id', 'text'],
  ['customer_external_id', 'text'],
  ['date', 'date'],
  ['currency', 'text'],
  ['amount_minor', 'bigint'],
  ['unapplied_minor', 'bigint'],
  ['status', 'text'],
  ['journal_applied', 'jsonb'],
  ['source_updated_at', 'timestamptz'],
  ['source_version', 'bigint'],
];

/** The payments upsert, returning what the allocation lines need of each payment it wrote. */
function upsertPayments(t: SQL, columns: string[], insertOnly: boolean): SQL {
  return sql`
    insert into payments as p (id, tenant_id, customer_id, external_id, date, currency, amount_minor, unapplied_minor,
                               status, journal_applied, source_updated_at, source_version)
    select r.id, ${t}, cu.id, r.external_id, r.date, r.currency, r.amount_minor, r.unapplied_minor, r.status,
           r.journal_applied, r.source_updated_at, r.source_version
    from ${unnestRows(PAYMENT_COLUMNS, columns)}
    join customers cu on cu.tenant_id = ${t} and cu.external_id = r.customer_external_id
    where ${notTombstoned(t, 'payments')}
    ${insertOnly ? sql`` : paymentConflict}
    returning p.id, p.external_id, p.date, p.status, p.source_updated_at, p.source_version`;
}

/** upsertPayments' ON CONFLICT: the stored row is updated unless it is newer or equal in every column. */
const paymentConflict = sql`
    on conflict (tenant_id, external_id) do update set
      customer_id = excluded.customer_id, date = excluded.date, currency = excluded.currency,
      amount_minor = excluded.amount_minor, unapplied_minor = excluded.unapplied_minor, status = excluded.status,
      journal_applied = excluded.journal_applied,
      source_updated_at = coalesce(excluded.source_updated_at, p.source_updated_at),
      source_version = excluded.source_version, updated_at = now()
    where ${notOlder('p', UPSERTED, { deletable: true })}
      and (p.customer_id, p.date, p.currency, p.amount_minor, p.unapplied_minor, p.status, p.journal_applied,
           p.source_updated_at, p.source_version)
          is distinct from
          (excluded.customer_id, excluded.date, excluded.currency, excluded.amount_minor, excluded.unapplied_minor,
           excluded.status, excluded.journal_applied, coalesce(excluded.source_updated_at, p.source_updated_at),
           excluded.source_version)`;

interface AllocationResult {
  /** Payments inserted or updated (writePayments only). */
  payments: number;
  written: number;
  skipped: number;
  invoiceIds: string[];
}

/**
 * Rows of an allocation statement: `u` a line written, `d` a line removed, `s` a line whose invoice is unknown, `p` a
 * payment written.
 */
type AllocationRow = { k: 'u' | 'd' | 's' | 'p'; invoice_id: string | null };

function allocationResult(rows: Promise<AllocationRow[]>): Promise<AllocationResult> {
  return quiet(
    rows.then((all) => {
      const result: AllocationResult = { payments: 0, written: 0, skipped: 0, invoiceIds: [] };
      for (const r of all) {
        if (r.k === 'p') result.payments++;
        else if (r.k === 's') result.skipped++;
        else {
          if (r.k === 'u') result.written++;
          if (r.invoice_id) result.invoiceIds.push(r.invoice_id);
        }
      }
      return result;
    }),
  );
}

/**
 * Credit memos applied to invoices directly (no payment): rows with credit_memo_id and no payment_id, replaced whole
 * for every memo of the page stored at this version (not a newer one), dated on the memo. One statement: the lines
 * resolve to our ids, the memos' old lines go and the new ones are inserted (both against the statement's snapshot,
 * so the delete never sees the inserted lines).
 */
function creditApplicationRows(rows: CanonicalCreditMemo[]) {
  type Line = {
    id: string | null;
    me: string;
    su: string | null;
    sv: number | null;
    inv: string | null;
    amt: number | null;
  };
  return rows.flatMap((m): Line[] => {
    const su = iso(m.sourceUpdatedAt);
    const sv = m.sourceVersion ?? null;
    const apps = m.applications ?? [];
    if (apps.length === 0) return [{ id: null, me: m.externalId, su, sv, inv: null, amt: null }];
    return apps.map((a) => ({
      id: newId(),
      me: m.externalId,
      su,
      sv,
      inv: a.invoiceExternalId,
      amt: a.amountMinor,
    }));
  });
}

function writeCreditApplications(t: SQL, data: string): SQL {
  return sql`
    with r as materialized (
      select r.id, m.id as m, i.id as inv, r.amt, m.date as d, r.inv is not null as line, r.ord
      from rows from (json_to_recordset(${jsonText(data)})
                      as (id uuid, me text, su timestamptz, sv bigint, inv text, amt bigint))
           with ordinality as r(id, me, su, sv, inv, amt, ord)
      join credit_memos m on m.tenant_id = ${t} and m.external_id = r.me
      left join invoices i on i.tenant_id = ${t} and i.external_id = r.inv
      where m.status <> 'deleted' and ${sameVersion('m')}
    ),
    removed as (
      delete from payment_allocations pa
      where pa.payment_id is null and pa.credit_memo_id in (select r.m from r)
      returning pa.invoice_id
    ),
    inserted as (
      insert into payment_allocations (id, tenant_id, payment_id, credit_memo_id, invoice_id, line_no, amount_minor,
                                       date)
      select g.id, ${t}, null, g.m, g.inv, (row_number() over (order by g.ord))::int - 1, g.amt, g.d
      from r g where g.line and g.inv is not null
      returning invoice_id
    )
    select 'd' as k, invoice_id from removed
    union all select 'u', invoice_id from inserted
    union all select 's', null from r where r.line and r.inv is null`;
}

/**
 * Allocation lines of the page's payments whose stored row is this version (not a newer one that made this update
 * stale). Line numbers are the positions in the payment's allocation list. One statement: the lines resolve to our
 * ids, the lines a payment no longer has (or whose invoice we cannot resolve) go, the others are upserted; the two
 * touch disjoint (payment, line) keys. A payment this page inserted (its stored id is the one preparePage proposed
 * for it, `fresh`) has no lines yet: the lookup for lines to remove is skipped for it (in a first full sync, every
 * payment; the lookup was a bitmap index probe per payment).
 */
function allocationRows(rows: CanonicalPayment[], ids: Map<string, string>) {
  // Flat rows, one per line (a payment without lines is one row with n = null, so its old lines get trimmed).
  type Line = {
    id: string | null;
    pe: string;
    pid: string | undefined;
    su: string | null;
    sv: number | null;
    n: number | null;
    inv: string | null;
    amt: number | null;
    cm: string | null;
  };
  const data: Line[] = [];
  for (const p of rows) {
    const su = iso(p.sourceUpdatedAt);
    const sv = p.sourceVersion ?? null;
    const pid = ids.get(p.externalId);
    if (p.allocations.length === 0)
      data.push({ id: null, pe: p.externalId, pid, su, sv, n: null, inv: null, amt: null, cm: null });
    p.allocations.forEach((a, n) => {
      data.push({
        id: newId(),
        pe: p.externalId,
        pid,
        su,
        sv,
        n,
        inv: a.invoiceExternalId,
        amt: a.amountMinor,
        cm: a.creditMemoExternalId ?? null,
      });
    });
  }
  return data;
}

const ALLOCATION_COLUMNS: readonly (readonly [keyof ReturnType<typeof allocationRows>[number], string])[] = [
  ['id', 'uuid'],
  ['pe', 'text'],
  ['pid', 'uuid'],
  ['su', 'timestamptz'],
  ['sv', 'bigint'],
  ['n', 'int'],
  ['inv', 'text'],
  ['amt', 'bigint'],
  ['cm', 'text'],
];

/**
 * The page's payments and their allocation lines in one statement: the payments upsert (`up`) and the lines. A line's
 * payment is the row `up` returned for it (inserted or changed by this statement) or else the stored one, which this
 * statement did not touch (unchanged, or newer than the page): what the lines saw when they were a second statement.
 * The allocation rows' payment keys are checked at the end of the statement, when the payments it inserted exist.
 */
function writePayments(t: SQL, payments: string[], lines: string[], insertOnly: boolean): SQL {
  return sql`
    with up as (${upsertPayments(t, payments, insertOnly)}),
    r as materialized (
      select r.id, p.id as payment_id, p.id = r.pid as fresh, r.n, i.id as invoice_id, r.amt,
             m.id as credit_memo_id, p.date
      from ${unnestRows(ALLOCATION_COLUMNS, lines)}
      left join up on up.external_id = r.pe
      -- A payment the upsert did not return: one index probe per line, skipped (one-time filter) when it did. LIMIT 1
      -- keeps the subquery from being flattened into a join (the key is unique): joined as a set, the planner,
      -- without statistics on a just-filled table, hashed every payment of the tenant on every page.
      left join lateral (select p.id, p.date, p.status, p.source_updated_at, p.source_version from payments p
                         where up.id is null and p.tenant_id = ${t} and p.external_id = r.pe limit 1) old on true
      cross join lateral (select coalesce(up.id, old.id) as id, coalesce(up.date, old.date) as date,
                                 coalesce(up.status, old.status) as status,
                                 case when up.id is null then old.source_updated_at else up.source_updated_at end
                                   as source_updated_at,
                                 case when up.id is null then old.source_version else up.source_version end
                                   as source_version) p
      left join invoices i on i.tenant_id = ${t} and i.external_id = r.inv
      -- A journal entry's debit (total below zero) is not credit: a line paying it covers no invoice with credit.
      left join credit_memos m on m.tenant_id = ${t} and m.external_id = r.cm and m.total_minor > 0
      -- A deleted payment applies no money: a save its deletion mark turned away brings no lines either.
      where p.id is not null and p.status <> 'deleted' and ${sameVersion('p')}
    ),
    good as materialized (select * from r where r.n is not null and r.invoice_id is not null),
    removed as (
      delete from payment_allocations pa
      where pa.payment_id in (select r.payment_id from r where not r.fresh)
        and (pa.payment_id, pa.line_no) not in (select g.payment_id, g.n from good g)
      returning pa.invoice_id
    ),
    upserted as (
      insert into payment_allocations as pa (id, tenant_id, payment_id, credit_memo_id, invoice_id, line_no,
                                             amount_minor, date)
      select g.id, ${t}, g.payment_id, g.credit_memo_id, g.invoice_id, g.n, g.amt, g.date from good g
      -- Inserted payments only (insertOnly): their lines are new as well.
      ${
        insertOnly
          ? sql``
          : sql`on conflict (payment_id, line_no) do update set
        invoice_id = excluded.invoice_id, credit_memo_id = excluded.credit_memo_id,
        amount_minor = excluded.amount_minor, date = excluded.date
      where (pa.invoice_id, pa.credit_memo_id, pa.amount_minor, pa.date)
            is distinct from (excluded.invoice_id, excluded.credit_memo_id, excluded.amount_minor, excluded.date)`
      }
      returning pa.invoice_id
    )
    select 'd' as k, invoice_id from removed
    union all select 'u', invoice_id from upserted
    union all select 's', null from r where r.n is not null and r.invoice_id is null
    union all select 'p', null from up`;
}

async function writeDeletions(
  tx: Tx,
  t: SQL,
  deletions: SyncPage<unknown>['deletions'],
  nowIso: string,
): Promise<{ count: number; invoiceIds: string[] }> {
  const data = (rows: CanonicalDeletion[]) =>
    json(latest(rows).map((d) => ({ external_id: d.externalId, source_updated_at: iso(d.sourceUpdatedAt) })));
  const src = (rows: CanonicalDeletion[]) =>
    sql`json_to_recordset(${data(rows)}) as r(external_id text, source_updated_at timestamptz)`;
  const notOlderThan = (alias: string) =>
    sql.raw(
      `(${alias}.source_updated_at is null or r.source_updated_at is null or r.source_updated_at >= ${alias}.source_updated_at)`,
    );
  // A tombstone clears the stored version: its mark then gives way only to a later save (notOlder). A deletion with
  // no time of its own (a listing found the row missing) keeps it: the same save read again means the row exists
  // after all and brings it back, an older one does not. Rows without versions: both go by time.
  const markVersion = (alias: string) =>
    sql.raw(
      `case when r.source_updated_at is null then coalesce(${alias}.source_version, ${LISTING_MARK}) end`,
    );
  // A row already marked deleted takes a later deletion's time (a listing's mark keeps only the row's last known
  // save; a tombstone then says when it went): a save made between the two, arriving late, must not bring it back.
  const later = (table: string, rows: CanonicalDeletion[]) =>
    exec(
      tx,
      sql`
      update ${sql.raw(table)} x set source_updated_at = r.source_updated_at, source_version = null, updated_at = now()
      from ${src(rows)}
      where x.tenant_id = ${t} and x.external_id = r.external_id and x.status = 'deleted'
        and r.source_updated_at is not null
        and (x.source_updated_at is null or r.source_updated_at > x.source_updated_at
             or (x.source_version is not null and r.source_updated_at >= x.source_updated_at))`,
    );
  // A tombstone for a record Duely never stored has no row to mark: its time is kept in ledger_tombstones, so a save
  // of that second or before arriving later does not create the transaction live (notTombstoned), and stores the
  // customer deleted (upsertCustomers, and a placeholder made for it).
  const remember = (table: TombstoneKind, rows: CanonicalDeletion[]) =>
    exec(
      tx,
      sql`
      insert into ledger_tombstones as d (tenant_id, kind, external_id, source_updated_at)
      select ${t}, ${table}, r.external_id, r.source_updated_at from ${src(rows)}
      where r.source_updated_at is not null
        and not exists (select 1 from ${sql.raw(table)} x where x.tenant_id = ${t} and x.external_id = r.external_id)
      on conflict (tenant_id, kind, external_id) do update
        set source_updated_at = greatest(d.source_updated_at, excluded.source_updated_at)`,
    );
  let count = 0;
  const invoiceIds: string[] = [];
  if (deletions.invoices.length > 0) {
    await remember('invoices', deletions.invoices);
    await later('invoices', deletions.invoices);
    const rows = await exec<{ id: string }>(
      tx,
      sql`
      update invoices i set status = 'deleted', balance_minor = 0, paid_date = null,
        source_updated_at = coalesce(r.source_updated_at, i.source_updated_at),
        source_version = ${markVersion('i')},
        updated_at = now()
      from ${src(deletions.invoices)}
      where i.tenant_id = ${t} and i.external_id = r.external_id and i.status <> 'deleted' and ${notOlderThan('i')}
      returning i.id`,
    );
    count += rows.length;
    invoiceIds.push(...rows.map((r) => r.id));
  }
  if (deletions.payments.length > 0) {
    await remember('payments', deletions.payments);
    await later('payments', deletions.payments);
    const rows = await exec<{ id: string }>(
      tx,
      sql`
      update payments p set status = 'deleted',
        source_updated_at = coalesce(r.source_updated_at, p.source_updated_at),
        source_version = ${markVersion('p')},
        updated_at = now()
      from ${src(deletions.payments)}
      where p.tenant_id = ${t} and p.external_id = r.external_id and p.status <> 'deleted' and ${notOlderThan('p')}
      returning p.id`,
    );
    count += rows.length;
    if (rows.length > 0) {
      // A deleted payment applies no money any more.
      const gone = await exec<{ invoice_id: string }>(
        tx,
        sql`delete from payment_allocations a
            where a.payment_id in (select value::uuid from json_array_elements_text(${json(rows.map((r) => r.id))}))
            returning a.invoice_id`,
      );
      invoiceIds.push(...gone.map((g) => g.invoice_id));
    }
  }
  if (deletions.creditMemos.length > 0) {
    await remember('credit_memos', deletions.creditMemos);
    await later('credit_memos', deletions.creditMemos);
    const rows = await exec<{ id: string }>(
      tx,
      sql`
      update credit_memos m set status = 'deleted', remaining_minor = 0,
        source_updated_at = coalesce(r.source_updated_at, m.source_updated_at),
        source_version = ${markVersion('m')},
        updated_at = now()
      from ${src(deletions.creditMemos)}
      where m.tenant_id = ${t} and m.external_id = r.external_id and m.status <> 'deleted' and ${notOlderThan('m')}
      returning m.id`,
    );
    count += rows.length;
    if (rows.length > 0) {
      // A deleted credit memo credits no invoice any more (its direct applications go).
      const gone = await exec<{ invoice_id: string }>(
        tx,
        sql`delete from payment_allocations a
            where a.payment_id is null
              and a.credit_memo_id in (select value::uuid from json_array_elements_text(${json(rows.map((r) => r.id))}))
            returning a.invoice_id`,
      );
      invoiceIds.push(...gone.map((g) => g.invoice_id));
    }
  }
  if (deletions.customers.length > 0) {
    const rows = await exec<{ id: string }>(
      tx,
      sql`
      update customers c set deleted_at = ${nowIso}::timestamptz,
        source_updated_at = coalesce(r.source_updated_at, c.source_updated_at), source_version = null,
        updated_at = now()
      from ${src(deletions.customers)}
      where c.tenant_id = ${t} and c.external_id = r.external_id and c.deleted_at is null and ${notOlderThan('c')}
      returning c.id`,
    );
    count += rows.length;
    await remember('customers', deletions.customers);
  }
  return { count, invoiceIds };
}

/**
 * What each listing compares with the ids it saw: the rows of `table` that are `alive`, by `id` (their external id,
 * or for journal entries the entry behind each journal credit); the rows found missing go to the deletion writer
 * as `kind`. Credit memos and journal entries are listed apart: each listing leaves the other's rows alone.
 */
const LISTED_TABLE: Record<ListingKind, { table: string; alive: string; id: string; kind: EntityKind }> = {
  customers: { table: 'customers', alive: 'x.deleted_at is null', id: 'x.external_id', kind: 'customers' },
  invoices: { table: 'invoices', alive: "x.status <> 'deleted'", id: 'x.external_id', kind: 'invoices' },
  creditMemos: {
    table: 'credit_memos',
    alive: "x.status <> 'deleted' and x.journal_entry_id is null",
    id: 'x.external_id',
    kind: 'creditMemos',
  },
  journalEntries: {
    table: 'credit_memos',
    alive: "x.status <> 'deleted' and x.journal_entry_id is not null",
    id: 'x.journal_entry_id',
    kind: 'creditMemos',
  },
  payments: { table: 'payments', alive: "x.status <> 'deleted'", id: 'x.external_id', kind: 'payments' },
};

/**
 * The page's listing bookkeeping (connectors/types.ts SyncPage): forget the ids of restarted listings, record the
 * ids this page saw, and for each completed listing mark what we hold of that kind but the source no longer has
 * (not seen, and unchanged at the source since the listing's `asOf`) as deleted, through the same deletion writer
 * CDC tombstones use (a deleted payment's allocations go, invoices get recomputed).
 */
export async function applyListing(
  tx: Tx,
  opts: { tenantId: string; connectionId: string; page: SyncPage<unknown>; now: Date; log?: ListingLog },
): Promise<PageResult> {
  await recordListingIds(tx, opts);
  return reconcileListing(tx, opts);
}

/**
 * The first half of applyListing: forgets the ids of restarted listings and records the ids this page saw. Both
 * statements are issued at once (the second behind the first), so a caller may issue the page's writes behind them
 * before awaiting: they touch only sync_seen_pages.
 */
export function recordListingIds(
  tx: Tx,
  opts: { connectionId: string; page: SyncPage<unknown> },
): Promise<unknown> {
  const { page } = opts;
  const c = sql`${opts.connectionId}::uuid`;
  const batch = new Batch(tx);
  // Both named (executeNamed): by the connection's key, and rows from the parameters alone.
  if (page.listingStarts?.length) {
    batch.run(
      sql`
      delete from sync_seen_pages where connection_id = ${c}
        and kind in (select json_array_elements_text(${json(page.listingStarts)}))`,
      true,
    );
  }
  // One row per kind: the page's ids as an array (a duplicate id, seen twice across pages, is harmless).
  const seen = Object.entries(page.seen ?? {})
    .map(([k, ids]) => ({ k, ids: ids ?? [] }))
    .filter((r) => r.ids.length > 0);
  if (seen.length > 0) {
    batch.run(
      sql`
      insert into sync_seen_pages (connection_id, kind, external_ids)
      select ${c}, r.k, array(select json_array_elements_text(r.ids))
      from json_to_recordset(${json(seen)}) as r(k text, ids json)`,
      true,
    );
  }
  return batch.done();
}

/** The second half of applyListing: reconciles the listings this page completes (after recordListingIds). */
export async function reconcileListing(
  tx: Tx,
  opts: { tenantId: string; connectionId: string; page: SyncPage<unknown>; now: Date; log?: ListingLog },
): Promise<PageResult> {
  const { page } = opts;
  const t = sql`${opts.tenantId}::uuid`;
  const c = sql`${opts.connectionId}::uuid`;
  const result: PageResult = { stats: emptyStats(), changedInvoiceIds: [] };
  const done = page.listingComplete;
  if (!done || done.kinds.length === 0) return result;
  // Ledger rows belong to the tenant, not to one connection: with another connection feeding the same tenant, or
  // rows imported from a CSV file (a tenant that began with CSV and connected its ledger later), a row this
  // connection did not list may be the other source's. Reconcile only a tenant whose sole source is this connection
  // (its deletions still arrive through the change feed and webhooks).
  const [others] = await exec<{ n: number; imports: boolean }>(
    tx,
    sql`select (select count(*)::int from connections where tenant_id = ${t} and id <> ${c}) as n,
               ${tenantHasImportsSql(t)} as imports`,
  );
  if ((others?.n ?? 0) > 0 || others?.imports) {
    opts.log?.warn(
      { kinds: done.kinds },
      others?.imports
        ? 'listing not reconciled: the tenant also holds rows imported from CSV'
        : 'listing not reconciled: the tenant has several connections',
    );
  } else {
    const gone: SyncPage<unknown>['deletions'] = {
      customers: [],
      invoices: [],
      creditMemos: [],
      payments: [],
    };
    for (const kind of done.kinds) {
      const { table, alive, id } = LISTED_TABLE[kind];
      const missing = sql`
        select ${sql.raw(id)} from ${sql.raw(table)} x
        where x.tenant_id = ${t} and ${sql.raw(alive)}
          and (x.source_updated_at is null or x.source_updated_at < ${done.asOf}::timestamptz)
          -- EXCEPT, not NOT IN / NOT EXISTS: without fresh statistics (a just-filled table, PGlite has no
          -- autovacuum) the planner estimated one row on each side and chose a nested-loop anti join, quadratic in
          -- the listing (5,000 invoices: 12 M comparisons, 5 s); a hashed NOT IN subplan falls back to the same
          -- when the seen ids outgrow work_mem. A set operation is hashed or sorted, never quadratic. External ids
          -- are unique per tenant, so EXCEPT's duplicate removal changes nothing.
        except
        select s.id from sync_seen_pages p cross join unnest(p.external_ids) as s(id)
        where p.connection_id = ${c} and p.kind = ${kind}`;
      const rows = await exec<{ external_id: string }>(
        tx,
        id === 'x.external_id'
          ? missing
          : // Journal entries: the credits of every entry found missing (entries are few; a tenant's journal credits
            // are read through credit_memos_journal_idx).
            sql`select x.external_id from ${sql.raw(table)} x
                where x.tenant_id = ${t} and ${sql.raw(alive)}
                  and x.journal_entry_id in (${missing})`,
      );
      const target = LISTED_TABLE[kind].kind;
      gone[target] = [...gone[target], ...rows.map((r) => ({ externalId: r.external_id }))];
      if (rows.length > 0) {
        opts.log?.info(
          { kind, missing: rows.length, sample: rows.slice(0, 5).map((r) => r.external_id) },
          'listing complete: rows missing at the source marked deleted',
        );
      }
    }
    const del = await writeDeletions(tx, t, gone, opts.now.toISOString());
    result.stats.deletions = del.count;
    result.changedInvoiceIds = del.invoiceIds;
    if (gone.payments.length > 0) {
      // A payment found deleted applies no journal credit any more.
      await recomputeJournalCredits(tx, t);
    }
  }
  await tx.execute(sql`
    delete from sync_seen_pages where connection_id = ${c}
      and kind in (select json_array_elements_text(${json(done.kinds)}))`);
  return result;
}

/**
 * Whether the tenant's ledger holds rows imported from a CSV file (a succeeded import run) that are still its own:
 * while it is a CSV company (source `csv`, which still takes uploads). A CSV company that connected its ledger became
 * a synced one (attachCompany sets its source to the provider) and takes no more uploads: its imported rows, under
 * the file's ids, are copies of the ledger's records or records the ledger lacks, which no upload will ever update
 * again. Kept, they counted every balance twice and reminders chased them for ever; its ledger's listings now
 * reconcile them like any row the ledger did not list (tests/sync/csv-then-ledger.test.ts).
 */
function tenantHasImportsSql(t: SQL): SQL {
  return sql`(exists (select 1 from sync_runs r where r.tenant_id = ${t} and r.kind = 'import' and r.status = 'succeeded')
    and exists (select 1 from tenants tn where tn.id = ${t} and tn.source = 'csv'))`;
}

export async function tenantHasImportedRows(db: Tx | Db, tenantId: string): Promise<boolean> {
  const [row] = rowsOf<{ imports: boolean }>(
    await db.execute(sql`select ${tenantHasImportsSql(sql`${tenantId}::uuid`)} as imports`),
  );
  return row?.imports === true;
}

export interface ListingLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}
