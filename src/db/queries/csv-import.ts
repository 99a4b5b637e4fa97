/**
 * The CSV import's set-based ledger writes (sync/csv-import.ts opens the transaction and calls these in order:
 * stage, customers, invoices, paid invoices, credit notes).
 */
import { type SQL, sql } from 'drizzle-orm';
import type { HistoryRow } from '../../../connectors/csv/parse';
import { rowsOf, type Tx } from '../client';
import { copyFrom } from '../copy';

/** A text value in COPY's text format: backslash, tab, newline and carriage return escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : value;
}

/**
 * The file goes into a temporary staging table first (COPY: the database's bulk path, no JSON and no bind
 * parameters), a chunk of rows at a time as the file is read, then every write below is one set-based statement:
 * the database does the joins instead of the app shuttling ids back and forth. Credit notes are staged beside the
 * invoices (`credit`); a refused line only by its invoice_id and line (its file is not imported, but a later line
 * repeating the id is named as a duplicate), which is why every other column may be null.
 */
export async function createCsvStage(tx: Tx): Promise<void> {
  await tx.execute(sql`
    create temp table csv_stage (
      customer_id text, invoice_id text not null, invoice_date date, due_date date, amount_minor bigint,
      currency text, paid_date date, delivery text, country text, line int not null, credit boolean
    ) on commit drop`);
}

const STAGE_COLUMNS =
  'csv_stage (customer_id, invoice_id, invoice_date, due_date, amount_minor, currency, paid_date, delivery, country, line, credit)';

/** One chunk of the file's rows into csv_stage (one COPY). */
export async function stageCsvRows(
  tx: Tx,
  batch: {
    rows: readonly HistoryRow[];
    credits: readonly HistoryRow[];
    refusedIds: readonly { line: number; invoiceId: string }[];
  },
): Promise<void> {
  let data = '';
  const add = (rows: readonly HistoryRow[], credit: string) => {
    for (const r of rows) {
      // Dates, amounts, currency and delivery are validated by the parser and need no escaping.
      data += `${copyText(r.customerId)}\t${copyText(r.invoiceId)}\t${r.invoiceDate}\t${r.dueDate}\t${r.amountMinor}\t${r.currency}\t${r.paidDate ?? '\\N'}\t${r.delivery ?? '\\N'}\t${r.country === null ? '\\N' : copyText(r.country)}\t${r.line}\t${credit}\n`;
    }
  };
  add(batch.rows, 'f');
  add(batch.credits, 't');
  for (const r of batch.refusedIds) {
    data += `\\N\t${copyText(r.invoiceId)}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t${r.line}\t\\N\n`;
  }
  if (data === '') return;
  await copyFrom(tx, STAGE_COLUMNS, 'format text', [data]);
}

/**
 * After the last chunk: the invoice ids the file repeats (each later line with the line the id first appears on, the
 * first `limit` by line), or none, and then the staging table is keyed and analyzed for the writes.
 */
export async function finishCsvStage(tx: Tx, limit: number): Promise<CsvStageDuplicates> {
  // The key is built once over the loaded rows (cheaper than upkeep per row). It refuses a repeated id: the attempt
  // is rolled back (a savepoint) and the repeats are looked for.
  const keyed = await tx
    .transaction(async (sp) => {
      await sp.execute(sql`alter table csv_stage add primary key (invoice_id)`);
      return true;
    })
    .catch((err: unknown) => {
      const e = err as { code?: unknown; cause?: { code?: unknown } };
      if ((e.code ?? e.cause?.code) === '23505') return false;
      throw err;
    });
  if (!keyed) return csvStageDuplicates(tx, limit);
  // Temp tables have no statistics until analyzed; without them the planner nested-loops the joins below.
  await tx.execute(sql`analyze csv_stage`);
  return { lines: [], total: 0 };
}

/** Lines repeating an invoice id of an earlier line: the first `limit` by line (with that line), and how many in all. */
export interface CsvStageDuplicates {
  lines: { line: number; invoiceId: string; firstLine: number }[];
  total: number;
}

/** The lines repeating an invoice id of an earlier line (csv_stage). */
export async function csvStageDuplicates(tx: Tx, limit: number): Promise<CsvStageDuplicates> {
  const rows = rowsOf<{ line: number; invoice_id: string; first_line: number; total: number | string }>(
    await tx.execute(sql`
      select line, invoice_id, first_line, count(*) over () as total from (
        select line, invoice_id, min(line) over (partition by invoice_id) as first_line
        from csv_stage
        where invoice_id in (select invoice_id from csv_stage group by invoice_id having count(*) > 1)
      ) d where line > first_line order by line limit ${limit}`),
  );
  return {
    lines: rows.map((r) => ({
      line: Number(r.line),
      invoiceId: r.invoice_id,
      firstLine: Number(r.first_line),
    })),
    total: Number(rows[0]?.total ?? 0),
  };
}

/**
 * The tenant's CSV imports one at a time, and a connect of its ledger (attachCompany) between them: an import checks
 * the tenant is still a CSV company under this lock, and a connect releases the imported rows under it, so no upload
 * writes rows under the file's ids into a company that has just become a synced one (their ids would meet the
 * ledger's: tests/security/csv-ids-meet-ledger.test.ts). Held until the transaction ends.
 */
export async function lockCsvImports(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`csv-import:${tenantId}`}, 0))`);
}

/**
 * True when the tenant holds no customers, invoices or payments yet: a first import, whose writes can be plain
 * inserts (nothing to conflict with). Takes a transaction lock per tenant first, so two first imports of the same
 * tenant run one after the other and the second sees the first's rows (and upserts).
 */
export async function isEmptyCsvTenant(tx: Tx, tenantId: string): Promise<boolean> {
  await lockCsvImports(tx, tenantId);
  const [row] = rowsOf<{ empty: boolean }>(
    await tx.execute(sql`
      select not exists (select 1 from customers where tenant_id = ${tenantId}::uuid)
         and not exists (select 1 from invoices where tenant_id = ${tenantId}::uuid)
         and not exists (select 1 from payments where tenant_id = ${tenantId}::uuid) as empty`),
  );
  return row?.empty === true;
}

async function count(tx: Tx, query: ReturnType<typeof sql>): Promise<Record<string, number>> {
  const [row] = rowsOf<Record<string, unknown>>(await tx.execute(query));
  return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v ?? 0)]));
}

export async function upsertCsvCustomers(tx: Tx, tenantId: string, fresh = false): Promise<number> {
  // A customer's latest row (by line) carries its current delivery preference and country.
  const r = await count(
    tx,
    sql`
    with src as (
      select customer_id, min(invoice_date) as first_seen,
             (array_agg(delivery order by line desc) filter (where delivery is not null))[1] as delivery,
             (array_agg(country order by line desc) filter (where country is not null))[1] as country
      from csv_stage where not credit group by customer_id
    ), up as (
      insert into customers (tenant_id, external_id, name, first_seen, delivery, country)
      select ${tenantId}::uuid, customer_id, customer_id, first_seen, delivery, country from src
      ${
        fresh
          ? sql``
          : sql`on conflict (tenant_id, external_id) do update set
        first_seen = least(customers.first_seen, excluded.first_seen),
        delivery = coalesce(excluded.delivery, customers.delivery),
        country = coalesce(excluded.country, customers.country),
        deleted_at = null,
        updated_at = now()`
      }
      returning 1
    ) select count(*) as n from up`,
  );
  return r.n ?? 0;
}

/** At most this many changed invoice ids are read back (the follow-up jobs carry at most 200). */
export const CHANGED_IDS_KEPT = 1_000;

/**
 * Inserts or updates every staged invoice; `changedIds` (the first CHANGED_IDS_KEPT of the invoices inserted or
 * changed; `changed` counts them all) is only read back when `wantIds`. A row the file leaves as it was is not
 * touched, so re-importing the same export reports nothing updated and hands nothing on to be re-scored. A `fresh`
 * tenant (isEmptyCsvTenant) gets plain inserts: no conflict to handle, and no RETURNING of every row to tell
 * inserts from updates.
 */
export async function upsertCsvInvoices(
  tx: Tx,
  tenantId: string,
  now: Date,
  opts: { fresh?: boolean; wantIds?: boolean } = {},
): Promise<{ inserted: number; updated: number; changed: number; changedIds: string[] }> {
  // Every staged invoice as an invoices row; a fresh tenant inserts it as is, a re-import upserts it.
  const insertStaged = sql`
    insert into invoices (tenant_id, customer_id, external_id, number, issue_date, due_date, currency, total_minor,
                          balance_minor, status, paid_date, delivery, source_updated_at)
    select ${tenantId}::uuid, c.id, s.invoice_id, s.invoice_id, s.invoice_date, s.due_date, s.currency, s.amount_minor,
           case when s.paid_date is null then s.amount_minor else 0 end,
           case when s.paid_date is null then 'open' else 'paid' end,
           s.paid_date, s.delivery, ${now.toISOString()}::timestamptz
    from csv_stage s join customers c on c.tenant_id = ${tenantId}::uuid and c.external_id = s.customer_id
    where not s.credit`;
  if (opts.fresh) {
    await tx.execute(insertStaged);
    const [{ n } = { n: 0 }] = rowsOf<{ n: number }>(
      await tx.execute(sql`select count(*)::int as n from csv_stage where not credit`),
    );
    const changedIds = opts.wantIds
      ? rowsOf<{ id: string }>(
          await tx.execute(
            sql`select id from invoices where tenant_id = ${tenantId}::uuid limit ${CHANGED_IDS_KEPT}`,
          ),
        ).map((r) => r.id)
      : [];
    return { inserted: Number(n), updated: 0, changed: Number(n), changedIds };
  }
  // xmax = 0 only on a freshly inserted row: tells inserts from updates without a second query. Counted in the
  // database: a large re-import reads back a few ids, not one row per invoice.
  const [row] = rowsOf<{ inserted: number; changed: number; ids: string[] | null }>(
    await tx.execute(sql`
    with up as (
    ${insertStaged}
    on conflict (tenant_id, external_id) do update set
      customer_id = excluded.customer_id, issue_date = excluded.issue_date, due_date = excluded.due_date,
      currency = excluded.currency, total_minor = excluded.total_minor, balance_minor = excluded.balance_minor,
      status = excluded.status, paid_date = excluded.paid_date,
      delivery = coalesce(excluded.delivery, invoices.delivery),
      source_updated_at = excluded.source_updated_at, updated_at = now()
    where (invoices.customer_id, invoices.issue_date, invoices.due_date, invoices.currency, invoices.total_minor,
           invoices.balance_minor, invoices.status, invoices.paid_date, invoices.delivery)
          is distinct from
          (excluded.customer_id, excluded.issue_date, excluded.due_date, excluded.currency, excluded.total_minor,
           excluded.balance_minor, excluded.status, excluded.paid_date,
           coalesce(excluded.delivery, invoices.delivery))
    returning id, (xmax = 0) as inserted
    )
    select count(*) filter (where inserted)::int as inserted, count(*)::int as changed,
           ${opts.wantIds ? sql`(select array_agg(id) from (select id from up limit ${CHANGED_IDS_KEPT}) k)` : sql`null`} as ids
    from up`),
  );
  const inserted = Number(row?.inserted ?? 0);
  const changed = Number(row?.changed ?? 0);
  return { inserted, updated: changed - inserted, changed, changedIds: row?.ids ?? [] };
}

const PAID_PREFIX = 'csv-paid:';

export async function settleCsvPaidInvoices(
  tx: Tx,
  tenantId: string,
  now: Date,
  fresh = false,
): Promise<{ upserted: number; reversed: number }> {
  const paid = await count(
    tx,
    sql`
    with up as (
      insert into payments (tenant_id, customer_id, external_id, date, currency, amount_minor, unapplied_minor, status,
                            source_updated_at)
      select ${tenantId}::uuid, c.id, ${PAID_PREFIX} || s.invoice_id, s.paid_date, s.currency, s.amount_minor, 0, 'active',
             ${now.toISOString()}::timestamptz
      from csv_stage s join customers c on c.tenant_id = ${tenantId}::uuid and c.external_id = s.customer_id
      where s.paid_date is not null and not s.credit
      ${
        fresh
          ? sql``
          : sql`on conflict (tenant_id, external_id) do update set
        customer_id = excluded.customer_id, date = excluded.date, currency = excluded.currency,
        amount_minor = excluded.amount_minor, status = 'active', source_updated_at = excluded.source_updated_at,
        updated_at = now()`
      }
      returning 1
    ) select count(*) as n from up`,
  );
  // One allocation (line 0) per synthetic payment, upserted: a re-import never duplicates it.
  await tx.execute(sql`
    insert into payment_allocations (tenant_id, payment_id, line_no, invoice_id, amount_minor, date)
    select ${tenantId}::uuid, p.id, 0, i.id, s.amount_minor, s.paid_date
    from csv_stage s
    join payments p on p.tenant_id = ${tenantId}::uuid and p.external_id = ${PAID_PREFIX} || s.invoice_id
    join invoices i on i.tenant_id = ${tenantId}::uuid and i.external_id = s.invoice_id
    where s.paid_date is not null and not s.credit
    ${
      fresh
        ? sql``
        : sql`on conflict (payment_id, line_no) do update set
      invoice_id = excluded.invoice_id, amount_minor = excluded.amount_minor, date = excluded.date`
    }`);
  // A first import has no earlier payment to reverse.
  if (fresh) return { upserted: paid.n ?? 0, reversed: 0 };
  // An invoice that a newer export shows open again (a reversed payment) loses its synthetic payment.
  const reversed = await count(
    tx,
    sql`
    with gone as (
      update payments p set status = 'deleted', updated_at = now()
      from csv_stage s
      where p.tenant_id = ${tenantId}::uuid and p.external_id = ${PAID_PREFIX} || s.invoice_id
        and s.paid_date is null and not s.credit and p.status = 'active'
      returning p.id
    ), del as (
      delete from payment_allocations a using gone where a.payment_id = gone.id returning 1
    ) select (select count(*) from gone) as n, (select count(*) from del) as allocations`,
  );
  return { upserted: paid.n ?? 0, reversed: reversed.n ?? 0 };
}

/**
 * Negative amounts of the export (staged with `credit`; `count` of them with a non-zero amount): credit memos, their
 * customer created when the ledger has no invoice of it yet.
 */
export async function upsertCsvCreditNotes(
  tx: Tx,
  tenantId: string,
  count: number,
  now: Date,
): Promise<number> {
  if (count === 0) return 0;
  // A customer who only has credit notes in this file (an invoice in an earlier export, or none at all).
  await tx.execute(sql`
    insert into customers (tenant_id, external_id, name, first_seen)
    select ${tenantId}::uuid, customer_id, customer_id, min(invoice_date) from csv_stage
    where credit and amount_minor > 0 group by customer_id
    on conflict (tenant_id, external_id) do nothing`);
  const [row] = rowsOf<{ n: number }>(
    await tx.execute(sql`
    with up as (
      insert into credit_memos (tenant_id, customer_id, external_id, date, currency, total_minor, remaining_minor,
                                status, source_updated_at)
      select ${tenantId}::uuid, c.id, 'csv-credit:' || s.invoice_id, s.invoice_date, s.currency, s.amount_minor,
             case when s.paid_date is null then s.amount_minor else 0 end, 'active', ${now.toISOString()}::timestamptz
      from csv_stage s
      join customers c on c.tenant_id = ${tenantId}::uuid and c.external_id = s.customer_id
      where s.credit and s.amount_minor > 0
      on conflict (tenant_id, external_id) do update set
        customer_id = excluded.customer_id, date = excluded.date, currency = excluded.currency,
        total_minor = excluded.total_minor, remaining_minor = excluded.remaining_minor, status = 'active',
        source_updated_at = excluded.source_updated_at, updated_at = now()
      returning 1
    ) select count(*)::int as n from up`),
  );
  return Number(row?.n ?? 0);
}

/**
 * The tenant's open invoices the staged file does not list (its invoice ids, credit rows aside): how many, and the
 * ids of the first `limit` of them. An upload upserts what it lists and leaves the rest as an earlier upload wrote
 * them, so these invoices' figures are not as of this upload (dunning's upload-age hold, uploaded-ledger.ts).
 */
export async function openInvoicesNotStaged(
  tx: Tx,
  tenantId: string,
  limit: number,
): Promise<{ count: number; invoiceIds: string[] }> {
  const [row] = rowsOf<{ n: number; ids: string[] | null }>(
    await tx.execute(sql`
    with gone as (
      select i.id from invoices i
      where i.tenant_id = ${tenantId}::uuid and i.status = 'open'
        and not exists (select 1 from csv_stage s where s.invoice_id = i.external_id and not s.credit)
    )
    select (select count(*)::int from gone) as n,
           (select array_agg(id::text) from (select id from gone order by id limit ${limit}) k) as ids`),
  );
  return { count: Number(row?.n ?? 0), invoiceIds: row?.ids ?? [] };
}

/**
 * What a CSV company's imported rows' ids begin with once it connected its ledger (releaseImportedRows). No
 * connector's id begins so (they are the ledger's internal numbers), so no ledger record is ever stored under one.
 */
export const RELEASED_ID_PREFIX = 'csv:';

/** Whether an external id is a released CSV row's (never the connected ledger's). */
export const isReleasedImportId = (externalId: string) => externalId.startsWith(RELEASED_ID_PREFIX);

/**
 * A CSV company connecting its ledger (attachCompany): its imported rows step out of the ledger's id space and out of
 * its books. The file's ids are its own (customer and invoice numbers), the ledger's the provider's (small counters:
 * 1, 2, 3…), and the same text in both names two different records more often than not: left in place, a ledger
 * record under an id the file also used landed on the file's row, and with it on everything Duely held for the file's
 * debtor — its contact addresses (the ledger customer's invoices were then mailed to the file debtor), a pause or
 * exclusion, promises, disputes and its message history (tests/security/csv-ids-meet-ledger.test.ts). Prefixed, the
 * ledger's records are rows of their own (the file's rows lose their upload times and versions too: no upload will
 * update them again).
 *
 * And they are marked deleted here, as the ledger's first full listing would (invoices, payments and credit memos
 * `deleted` with nothing open or remaining, customers `deleted_at`, the payments' and credit memos' applications
 * gone): the company's books are the ledger's from this moment (its source is the provider, it takes no more uploads),
 * and the file's rows are copies of the ledger's records or records it lacks. Left open until a first full sync
 * *succeeded*, they counted beside the ledger's rows a cut-off sync had already written — the grant revoked part way,
 * a provider's 5xx storm, a killed worker, a disconnect before it ended — and every figure (Dashboard, Invoices,
 * Customers, risk) counted the same debts twice (tests/sync/csv-first-sync-cut.test.ts). Nothing needs them open
 * meanwhile: the send path never asks the ledger for them and refuses their reminders (live-refresh), and until the
 * ledger's rows arrive the company's figures are simply the ledger's so far. The rows themselves stay, for history:
 * their messages, and the addresses their debtors opted out with (dunning-plan.releasedOptOutEmails). Names and
 * numbers, what people see, stay the file's.
 */
export async function releaseImportedRows(tx: Tx, tenantId: string, now: Date): Promise<void> {
  const t = sql`${tenantId}::uuid`;
  // Out of the books, as reconcileListing's deletion writer marks a row the listing did not see.
  const deleted: Record<string, SQL> = {
    customers: sql`deleted_at = coalesce(deleted_at, ${now.toISOString()}::timestamptz)`,
    invoices: sql`status = 'deleted', balance_minor = 0, paid_date = null`,
    payments: sql`status = 'deleted'`,
    credit_memos: sql`status = 'deleted', remaining_minor = 0`,
  };
  for (const [table, mark] of Object.entries(deleted)) {
    // In two steps, each free of collisions: a file's id may itself be `csv:1` beside `1`, and a unique index is
    // checked row by row. First a control character no CSV id holds (the parser refuses them) goes in front of every
    // id, then it gives way to the prefix. A company is released once: its source is the provider from then on.
    await tx.execute(sql`
      update ${sql.raw(table)} set external_id = chr(31) || external_id, source_updated_at = null, source_version = null
      where tenant_id = ${t}`);
    await tx.execute(sql`
      update ${sql.raw(table)} set external_id = ${RELEASED_ID_PREFIX} || substr(external_id, 2), ${mark},
        updated_at = ${now.toISOString()}::timestamptz
      where tenant_id = ${t} and left(external_id, 1) = chr(31)`);
  }
  // A deleted payment or credit memo applies nothing any more (every application of the tenant's is the file's).
  await tx.execute(sql`
    delete from payment_allocations a
    where a.tenant_id = ${t}
      and (a.payment_id in (select p.id from payments p where p.tenant_id = ${t} and p.status = 'deleted')
           or a.credit_memo_id in (select m.id from credit_memos m where m.tenant_id = ${t} and m.status = 'deleted'))`);
}
