/**
 * `duely import` and the upload endpoint: the canonical invoice-history CSV into canonical rows. All or nothing:
 * any line that cannot be understood rejects the whole file, and the writes run in one transaction. What real
 * exports contain (prepayments, credit notes, several currencies) is imported with warnings naming the line;
 * negative amounts become credit memos (external id `csv-credit:<invoice_id>`). Re-importing a newer export of the
 * same ledger is an idempotent upsert keyed by (tenant, invoice_id): balances move, and an invoice whose paid_date
 * appears is settled by a payment (external id `csv-paid:<invoice_id>`) allocated to it in full.
 */
import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { type CsvIssue, type HistoryRow, type ParsedHistory, parseHistoryCsv } from '../../connectors/csv/parse';
import { type Db, rowsOf, type Tx } from '../db/client';
import { ensureTenant, getTenant, type Tenant } from '../db/queries/tenants';
import { syncRuns } from '../db/schema';
import { AppError } from '../errors';
import { type CsvLedgerSummary, csvLedgerSummary } from './csv-summary';

export interface ImportResult {
  tenant: Pick<Tenant, 'id' | 'slug' | 'name'>;
  syncRunId: string;
  sha256: string;
  rows: number;
  customers: number;
  invoices: { inserted: number; updated: number; open: number; paid: number };
  /** The file's latest date and its open invoices' total per currency (csv-summary.ts). */
  asOf: CsvLedgerSummary['asOf'];
  openBalance: CsvLedgerSummary['openBalance'];
  payments: { upserted: number; reversed: number };
  /** Credit notes (negative amounts) upserted as credit memos. */
  creditNotes: number;
  /** Lines accepted with a remark (the first 200; `warningCount` counts them all). */
  warnings: CsvIssue[];
  warningCount: number;
}

export class CsvImportError extends AppError {
  constructor(readonly issues: CsvIssue[]) {
    const first = issues
      .slice(0, 5)
      .map((i) => `line ${i.line}${i.column ? `, column ${i.column}` : ''}: ${i.message}`)
      .join('; ');
    super(
      'invalid_csv',
      `The file was not imported: ${issues.length} error${issues.length === 1 ? '' : 's'} (${first}${issues.length > 5 ? '; …' : ''})`,
      422,
      { details: issues },
    );
  }
}

export interface ImportOptions {
  /** The CSV tenant's address: found by its slug, created (source csv) when missing. */
  tenantName: string;
  /** When set, import into exactly this tenant (a CSV tenant), whatever its name or slug. */
  tenantId?: string;
  fileName?: string;
  now: Date;
  /** Called inside the import transaction, e.g. to enqueue scoring of the changed invoices. */
  afterWrite?: (tx: Tx, result: ImportResult, changedInvoiceIds: string[]) => Promise<void>;
}

/** The currency most invoices are in: a new tenant's home currency (a few CAD lines do not make a USD ledger CAD). */
function mainCurrency(rows: HistoryRow[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.currency, (counts.get(r.currency) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
}

/** Rows per staging INSERT; each chunk is one JSON parameter, so the bind-parameter limit never applies. */
const CHUNK = 10_000;

export async function importHistoryCsv(
  db: Db,
  content: Buffer | string,
  opts: ImportOptions,
): Promise<ImportResult> {
  const parsed = parseHistoryCsv(content);
  if (parsed.errors.length > 0) throw new CsvImportError(parsed.errors);
  if (parsed.rows.length === 0)
    throw new CsvImportError([{ line: 2, column: null, message: 'the file has no rows' }]);
  const sha256 = createHash('sha256').update(content).digest('hex');

  try {
    return await writeImport(db, parsed, sha256, opts);
  } catch (err) {
    // The parser bounds and checks every value, so the database should refuse none; if it still does (a data or
    // size limit), the user gets a refusal of the file, never the SQL error.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^(22|54)/.test(code)) {
      throw new AppError(
        'invalid_csv',
        'The file was not imported: a value in it could not be stored (too large or not valid text).',
        422,
        { cause: err },
      );
    }
    throw err;
  }
}

async function writeImport(
  db: Db,
  parsed: ParsedHistory,
  sha256: string,
  opts: ImportOptions,
): Promise<ImportResult> {
  const rows = parsed.rows;
  return db.transaction(async (tx) => {
    const tenant = opts.tenantId
      ? await getTenant(tx, opts.tenantId)
      : await ensureTenant(tx, opts.tenantName, 'csv', { currency: mainCurrency(rows) });
    if (tenant.source !== 'csv') {
      throw new AppError(
        'tenant_source_mismatch',
        `Tenant ${tenant.slug} is synced from ${tenant.source}; CSV imports are only for CSV tenants`,
        409,
      );
    }
    const [run] = await tx
      .insert(syncRuns)
      .values({
        tenantId: tenant.id,
        kind: 'import',
        source: { fileName: opts.fileName ?? null, sha256, rows: rows.length },
        startedAt: opts.now,
      })
      .returning({ id: syncRuns.id });

    await stageRows(tx, rows);
    const customerCount = await upsertCustomers(tx, tenant.id);
    const { inserted, changedIds } = await upsertInvoices(tx, tenant.id, opts.now);
    const paymentStats = await settlePaidInvoices(tx, tenant.id, opts.now);
    const creditNotes = await upsertCreditNotes(tx, tenant.id, parsed.credits, opts.now);

    const open = rows.filter((r) => !r.paidDate).length;
    const result: ImportResult = {
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      syncRunId: run!.id,
      sha256,
      rows: rows.length,
      customers: customerCount,
      invoices: { inserted, updated: rows.length - inserted, open, paid: rows.length - open },
      ...csvLedgerSummary(rows, parsed.credits),
      payments: paymentStats,
      creditNotes,
      warnings: parsed.warnings,
      warningCount: parsed.warningCount,
    };
    await tx
      .update(syncRuns)
      .set({
        status: 'succeeded',
        finishedAt: opts.now,
        stats: {
          rows: result.rows,
          customers: result.customers,
          invoicesInserted: inserted,
          invoicesUpdated: result.invoices.updated,
          paymentsUpserted: paymentStats.upserted,
          paymentsReversed: paymentStats.reversed,
          creditNotes,
          warnings: parsed.warningCount,
        },
        progress: { entities: { invoices: { pages: 1, rows: rows.length, done: true } } },
      })
      .where(eq(syncRuns.id, run!.id));
    await opts.afterWrite?.(tx, result, changedIds);
    return result;
  });
}

/**
 * The file goes into a temporary staging table first (one JSON parameter per chunk), then every write below is
 * one set-based statement: the database does the joins instead of the app shuttling ids back and forth.
 */
async function stageRows(tx: Tx, rows: HistoryRow[]): Promise<void> {
  await tx.execute(sql`
    create temp table csv_stage (
      customer_id text not null, invoice_id text not null primary key, invoice_date date not null,
      due_date date not null, amount_minor bigint not null, currency text not null, paid_date date,
      delivery text, country text, line int not null
    ) on commit drop`);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK).map((r) => ({
      customer_id: r.customerId,
      invoice_id: r.invoiceId,
      invoice_date: r.invoiceDate,
      due_date: r.dueDate,
      amount_minor: r.amountMinor,
      currency: r.currency,
      paid_date: r.paidDate,
      delivery: r.delivery,
      country: r.country,
      line: r.line,
    }));
    await tx.execute(sql`
      insert into csv_stage
      select * from jsonb_to_recordset(${JSON.stringify(part)}::jsonb) as r(
        customer_id text, invoice_id text, invoice_date date, due_date date, amount_minor bigint, currency text,
        paid_date date, delivery text, country text, line int)`);
  }
  // Temp tables have no statistics until analyzed; without them the planner nested-loops the joins below.
  await tx.execute(sql`analyze csv_stage`);
}

async function count(tx: Tx, query: ReturnType<typeof sql>): Promise<Record<string, number>> {
  const [row] = rowsOf<Record<string, unknown>>(await tx.execute(query));
  return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v ?? 0)]));
}

async function upsertCustomers(tx: Tx, tenantId: string): Promise<number> {
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
      on conflict (tenant_id, external_id) do update set
        first_seen = least(customers.first_seen, excluded.first_seen),
        delivery = coalesce(excluded.delivery, customers.delivery),
        country = coalesce(excluded.country, customers.country),
        deleted_at = null,
        updated_at = now()
      returning 1
    ) select count(*) as n from up`,
  );
  return r.n ?? 0;
}

async function upsertInvoices(
  tx: Tx,
  tenantId: string,
  now: Date,
): Promise<{ inserted: number; changedIds: string[] }> {
  // xmax = 0 only on a freshly inserted row: tells inserts from updates without a second query.
  const rows = rowsOf<{ id: string; inserted: boolean }>(
    await tx.execute(sql`
    insert into invoices (tenant_id, customer_id, external_id, number, issue_date, due_date, currency, total_minor,
                          balance_minor, status, paid_date, delivery, source_updated_at)
    select ${tenantId}::uuid, c.id, s.invoice_id, s.invoice_id, s.invoice_date, s.due_date, s.currency, s.amount_minor,
           case when s.paid_date is null then s.amount_minor else 0 end,
           case when s.paid_date is null then 'open' else 'paid' end,
           s.paid_date, s.delivery, ${now.toISOString()}::timestamptz
    from csv_stage s join customers c on c.tenant_id = ${tenantId}::uuid and c.external_id = s.customer_id
    on conflict (tenant_id, external_id) do update set
      customer_id = excluded.customer_id, issue_date = excluded.issue_date, due_date = excluded.due_date,
      currency = excluded.currency, total_minor = excluded.total_minor, balance_minor = excluded.balance_minor,
      status = excluded.status, paid_date = excluded.paid_date,
      delivery = coalesce(excluded.delivery, invoices.delivery),
      source_updated_at = excluded.source_updated_at, updated_at = now()
    returning id, (xmax = 0) as inserted`),
  );
  return { inserted: rows.filter((r) => r.inserted).length, changedIds: rows.map((r) => r.id) };
}

const PAID_PREFIX = 'csv-paid:';

async function settlePaidInvoices(
  tx: Tx,
  tenantId: string,
  now: Date,
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
      on conflict (tenant_id, external_id) do update set
        customer_id = excluded.customer_id, date = excluded.date, currency = excluded.currency,
        amount_minor = excluded.amount_minor, status = 'active', source_updated_at = excluded.source_updated_at,
        updated_at = now()
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
    on conflict (payment_id, line_no) do update set
      invoice_id = excluded.invoice_id, amount_minor = excluded.amount_minor, date = excluded.date`);
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

/** Negative amounts of the export: credit memos of customers the file also invoices (others are skipped). */
async function upsertCreditNotes(
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
  const r = await count(
    tx,
    sql`
    with up as (
      insert into credit_memos (tenant_id, customer_id, external_id, date, currency, total_minor, remaining_minor,
                                status, source_updated_at)
      select ${tenantId}::uuid, c.id, r.external_id, r.date, r.currency, r.total_minor, r.remaining_minor, 'active',
             ${now.toISOString()}::timestamptz
      from jsonb_to_recordset(${JSON.stringify(part)}::jsonb) as r(customer_id text, external_id text, date date,
        currency text, total_minor bigint, remaining_minor bigint)
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
