/**
 * The CSV import's set-based ledger writes (sync/csv-import.ts opens the transaction and calls these in order:
 * stage, customers, invoices, paid invoices, credit notes).
 */
import { sql } from 'drizzle-orm';
import type { HistoryRow } from '../../../connectors/csv/parse';
import { rowsOf, type Tx } from '../client';
import { copyFrom } from '../copy';

/** Rows per COPY data chunk (one string each). */
const CHUNK = 10_000;

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
 * parameters), then every write below is one set-based statement: the database does the joins instead of the app
 * shuttling ids back and forth.
 */
export async function stageCsvRows(tx: Tx, rows: HistoryRow[]): Promise<void> {
  await tx.execute(sql`
    create temp table csv_stage (
      customer_id text not null, invoice_id text not null primary key, invoice_date date not null,
      due_date date not null, amount_minor bigint not null, currency text not null, paid_date date,
      delivery text, country text, line int not null
    ) on commit drop`);
  const chunks: string[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    let chunk = '';
    const end = Math.min(rows.length, i + CHUNK);
    for (let j = i; j < end; j++) {
      const r = rows[j]!;
      // Dates, amounts, currency and delivery are validated by the parser and need no escaping.
      chunk += `${copyText(r.customerId)}\t${copyText(r.invoiceId)}\t${r.invoiceDate}\t${r.dueDate}\t${r.amountMinor}\t${r.currency}\t${r.paidDate ?? '\\N'}\t${r.delivery ?? '\\N'}\t${r.country === null ? '\\N' : copyText(r.country)}\t${r.line}\n`;
    }
    chunks.push(chunk);
  }
  await copyFrom(
    tx,
    'csv_stage (customer_id, invoice_id, invoice_date, due_date, amount_minor, currency, paid_date, delivery, country, line)',
    'format text',
    chunks,
  );
  // Temp tables have no statistics until analyzed; without them the planner nested-loops the joins below.
  await tx.execute(sql`analyze csv_stage`);
}

/**
 * True when the tenant holds no customers, invoices or payments yet: a first import, whose writes can be plain
 * inserts (nothing to conflict with). Takes a transaction lock per tenant first, so two first imports of the same
 * tenant run one after the other and the second sees the first's rows (and upserts).
 */
export async function isEmptyCsvTenant(tx: Tx, tenantId: string): Promise<boolean> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`csv-import:${tenantId}`}, 0))`);
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
      from csv_stage group by customer_id
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

/**
 * Inserts or updates every staged invoice; `changedIds` (the invoices inserted or changed) is only read back when
 * `wantIds`. A row the file leaves as it was is not touched, so re-importing the same export reports nothing
 * updated and hands nothing on to be re-scored. A `fresh` tenant (isEmptyCsvTenant) gets plain inserts: no
 * conflict to handle, and no RETURNING of every row to tell inserts from updates.
 */
export async function upsertCsvInvoices(
  tx: Tx,
  tenantId: string,
  now: Date,
  opts: { fresh?: boolean; wantIds?: boolean } = {},
): Promise<{ inserted: number; updated: number; changedIds: string[] }> {
  // Every staged invoice as an invoices row; a fresh tenant inserts it as is, a re-import upserts it.
  const insertStaged = sql`
    insert into invoices (tenant_id, customer_id, external_id, number, issue_date, due_date, currency, total_minor,
                          balance_minor, status, paid_date, delivery, source_updated_at)
    select ${tenantId}::uuid, c.id, s.invoice_id, s.invoice_id, s.invoice_date, s.due_date, s.currency, s.amount_minor,
           case when s.paid_date is null then s.amount_minor else 0 end,
           case when s.paid_date is null then 'open' else 'paid' end,
           s.paid_date, s.delivery, ${now.toISOString()}::timestamptz
    from csv_stage s join customers c on c.tenant_id = ${tenantId}::uuid and c.external_id = s.customer_id`;
  if (opts.fresh) {
    await tx.execute(insertStaged);
    const [{ n } = { n: 0 }] = rowsOf<{ n: number }>(
      await tx.execute(sql`select count(*)::int as n from csv_stage`),
    );
    const changedIds = opts.wantIds
      ? rowsOf<{ id: string }>(
          await tx.execute(sql`select id from invoices where tenant_id = ${tenantId}::uuid`),
        ).map((r) => r.id)
      : [];
    return { inserted: Number(n), updated: 0, changedIds };
  }
  // xmax = 0 only on a freshly inserted row: tells inserts from updates without a second query.
  const rows = rowsOf<{ id: string; inserted: boolean }>(
    await tx.execute(sql`
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
    returning id, (xmax = 0) as inserted`),
  );
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted, changedIds: rows.map((r) => r.id) };
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
      where s.paid_date is not null
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
    where s.paid_date is not null
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
        and s.paid_date is null and p.status = 'active'
      returning p.id
    ), del as (
      delete from payment_allocations a using gone where a.payment_id = gone.id returning 1
    ) select (select count(*) from gone) as n, (select count(*) from del) as allocations`,
  );
  return { upserted: paid.n ?? 0, reversed: reversed.n ?? 0 };
}

/** Negative amounts of the export: credit memos, their customer created when the ledger has no invoice of it yet. */
export async function upsertCsvCreditNotes(
  tx: Tx,
  tenantId: string,
  credits: HistoryRow[],
  now: Date,
): Promise<number> {
  const notes = credits.filter((r) => r.amountMinor > 0);
  if (notes.length === 0) return 0;
  const part = notes.map((r) => ({
    customer_id: r.customerId,
    external_id: `csv-credit:${r.invoiceId}`,
    date: r.invoiceDate,
    currency: r.currency,
    total_minor: r.amountMinor,
    remaining_minor: r.paidDate ? 0 : r.amountMinor,
  }));
  const rows = sql`jsonb_to_recordset(${JSON.stringify(part)}::jsonb) as r(customer_id text, external_id text,
    date date, currency text, total_minor bigint, remaining_minor bigint)`;
  // A customer who only has credit notes in this file (an invoice in an earlier export, or none at all).
  await tx.execute(sql`
    insert into customers (tenant_id, external_id, name, first_seen)
    select ${tenantId}::uuid, r.customer_id, r.customer_id, min(r.date) from ${rows} group by r.customer_id
    on conflict (tenant_id, external_id) do nothing`);
  const r = await count(
    tx,
    sql`
    with up as (
      insert into credit_memos (tenant_id, customer_id, external_id, date, currency, total_minor, remaining_minor,
                                status, source_updated_at)
      select ${tenantId}::uuid, c.id, r.external_id, r.date, r.currency, r.total_minor, r.remaining_minor, 'active',
             ${now.toISOString()}::timestamptz
      from ${rows}
      join customers c on c.tenant_id = ${tenantId}::uuid and c.external_id = r.customer_id
      on conflict (tenant_id, external_id) do update set
        customer_id = excluded.customer_id, date = excluded.date, currency = excluded.currency,
        total_minor = excluded.total_minor, remaining_minor = excluded.remaining_minor, status = 'active',
        source_updated_at = excluded.source_updated_at, updated_at = now()
      returning 1
    ) select count(*) as n from up`,
  );
  return r.n ?? 0;
}
