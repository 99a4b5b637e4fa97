/**
 * `duely import` and the upload endpoint: the canonical invoice-history CSV into canonical rows. All or nothing:
 * any invalid line rejects the whole file, and the writes run in one transaction. Re-importing a newer export of the
 * same ledger is an idempotent upsert keyed by (tenant, invoice_id): balances move, and an invoice whose paid_date
 * appears is settled by a payment (external id `csv-paid:<invoice_id>`) allocated to it in full.
 */
import { createHash } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type CsvIssue, type HistoryRow, parseHistoryCsv } from '../../connectors/csv/parse';
import type { Db, Tx } from '../db/client';
import { ensureTenant, type Tenant } from '../db/queries/tenants';
import { customers, invoices, paymentAllocations, payments, syncRuns } from '../db/schema';
import { AppError } from '../errors';

export interface ImportResult {
  tenant: Pick<Tenant, 'id' | 'slug' | 'name'>;
  syncRunId: string;
  sha256: string;
  rows: number;
  customers: number;
  invoices: { inserted: number; updated: number; open: number; paid: number };
  payments: { upserted: number; reversed: number };
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
  tenantName: string;
  fileName?: string;
  now: Date;
  /** Called inside the import transaction, e.g. to enqueue scoring of the changed invoices. */
  afterWrite?: (tx: Tx, result: ImportResult, changedInvoiceIds: string[]) => Promise<void>;
}

/** Rows per INSERT: keeps statements well under Postgres' 65,535 bind parameters. */
const CHUNK = 2000;

const chunks = <T>(items: T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

export async function importHistoryCsv(db: Db, content: Buffer | string, opts: ImportOptions): Promise<ImportResult> {
  const parsed = parseHistoryCsv(content);
  if (parsed.errors.length > 0) throw new CsvImportError(parsed.errors);
  if (parsed.rows.length === 0) throw new CsvImportError([{ line: 2, column: null, message: 'the file has no rows' }]);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const rows = parsed.rows;

  return db.transaction(async (tx) => {
    const tenant = await ensureTenant(tx, opts.tenantName, 'csv', { currency: rows[0]!.currency });
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

    const customerIds = await upsertCustomers(tx, tenant.id, rows);
    const { idByExternal, inserted } = await upsertInvoices(tx, tenant.id, rows, customerIds, opts.now);
    const paymentStats = await settlePaidInvoices(tx, tenant.id, rows, customerIds, idByExternal, opts.now);

    const open = rows.filter((r) => !r.paidDate).length;
    const result: ImportResult = {
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      syncRunId: run!.id,
      sha256,
      rows: rows.length,
      customers: customerIds.size,
      invoices: { inserted, updated: rows.length - inserted, open, paid: rows.length - open },
      payments: paymentStats,
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
        },
        progress: { entities: { invoices: { pages: 1, rows: rows.length, done: true } } },
      })
      .where(eq(syncRuns.id, run!.id));
    await opts.afterWrite?.(tx, result, [...idByExternal.values()]);
    return result;
  });
}

async function upsertCustomers(tx: Tx, tenantId: string, rows: HistoryRow[]): Promise<Map<string, string>> {
  // The latest row of a customer carries its current delivery preference and country.
  const byCustomer = new Map<string, { firstSeen: string; delivery: HistoryRow['delivery']; country: string | null }>();
  for (const r of rows) {
    const c = byCustomer.get(r.customerId);
    if (!c) byCustomer.set(r.customerId, { firstSeen: r.invoiceDate, delivery: r.delivery, country: r.country });
    else {
      if (r.invoiceDate < c.firstSeen) c.firstSeen = r.invoiceDate;
      else {
        c.delivery = r.delivery ?? c.delivery;
        c.country = r.country ?? c.country;
      }
    }
  }
  const ids = new Map<string, string>();
  for (const part of chunks([...byCustomer.entries()])) {
    const returned = await tx
      .insert(customers)
      .values(
        part.map(([externalId, c]) => ({
          tenantId,
          externalId,
          name: externalId,
          firstSeen: c.firstSeen,
          delivery: c.delivery,
          country: c.country,
        })),
      )
      .onConflictDoUpdate({
        target: [customers.tenantId, customers.externalId],
        set: {
          firstSeen: sql`least(${customers.firstSeen}, excluded.first_seen)`,
          delivery: sql`coalesce(excluded.delivery, ${customers.delivery})`,
          country: sql`coalesce(excluded.country, ${customers.country})`,
          deletedAt: sql`null`,
          updatedAt: sql`now()`,
        },
      })
      .returning({ id: customers.id, externalId: customers.externalId });
    for (const r of returned) ids.set(r.externalId, r.id);
  }
  return ids;
}

async function upsertInvoices(
  tx: Tx,
  tenantId: string,
  rows: HistoryRow[],
  customerIds: Map<string, string>,
  now: Date,
): Promise<{ idByExternal: Map<string, string>; inserted: number }> {
  const idByExternal = new Map<string, string>();
  let inserted = 0;
  for (const part of chunks(rows)) {
    const returned = await tx
      .insert(invoices)
      .values(
        part.map((r) => ({
          tenantId,
          customerId: customerIds.get(r.customerId)!,
          externalId: r.invoiceId,
          number: r.invoiceId,
          issueDate: r.invoiceDate,
          dueDate: r.dueDate,
          currency: r.currency,
          totalMinor: r.amountMinor,
          balanceMinor: r.paidDate ? 0 : r.amountMinor,
          status: r.paidDate ? ('paid' as const) : ('open' as const),
          paidDate: r.paidDate,
          delivery: r.delivery,
          sourceUpdatedAt: now,
        })),
      )
      .onConflictDoUpdate({
        target: [invoices.tenantId, invoices.externalId],
        set: {
          customerId: sql`excluded.customer_id`,
          issueDate: sql`excluded.issue_date`,
          dueDate: sql`excluded.due_date`,
          currency: sql`excluded.currency`,
          totalMinor: sql`excluded.total_minor`,
          balanceMinor: sql`excluded.balance_minor`,
          status: sql`excluded.status`,
          paidDate: sql`excluded.paid_date`,
          delivery: sql`coalesce(excluded.delivery, ${invoices.delivery})`,
          sourceUpdatedAt: sql`excluded.source_updated_at`,
          updatedAt: sql`now()`,
        },
      })
      // xmax = 0 only on a freshly inserted row: tells inserts from updates without a second query.
      .returning({ id: invoices.id, externalId: invoices.externalId, inserted: sql<boolean>`(xmax = 0)` });
    for (const r of returned) {
      idByExternal.set(r.externalId, r.id);
      if (r.inserted) inserted++;
    }
  }
  return { idByExternal, inserted };
}

const PAID_PREFIX = 'csv-paid:';

async function settlePaidInvoices(
  tx: Tx,
  tenantId: string,
  rows: HistoryRow[],
  customerIds: Map<string, string>,
  invoiceIds: Map<string, string>,
  now: Date,
): Promise<{ upserted: number; reversed: number }> {
  const paid = rows.filter((r) => r.paidDate);
  let upserted = 0;
  for (const part of chunks(paid)) {
    const returned = await tx
      .insert(payments)
      .values(
        part.map((r) => ({
          tenantId,
          customerId: customerIds.get(r.customerId)!,
          externalId: PAID_PREFIX + r.invoiceId,
          date: r.paidDate!,
          currency: r.currency,
          amountMinor: r.amountMinor,
          unappliedMinor: 0,
          status: 'active' as const,
          sourceUpdatedAt: now,
        })),
      )
      .onConflictDoUpdate({
        target: [payments.tenantId, payments.externalId],
        set: {
          customerId: sql`excluded.customer_id`,
          date: sql`excluded.date`,
          currency: sql`excluded.currency`,
          amountMinor: sql`excluded.amount_minor`,
          status: sql`'active'`,
          sourceUpdatedAt: sql`excluded.source_updated_at`,
          updatedAt: sql`now()`,
        },
      })
      .returning({ id: payments.id, externalId: payments.externalId });
    upserted += returned.length;
    const paymentIds = returned.map((p) => p.id);
    // A payment's allocations are replaced whole, so a re-import never duplicates them.
    await tx.delete(paymentAllocations).where(inArray(paymentAllocations.paymentId, paymentIds));
    const byExternal = new Map(part.map((r) => [PAID_PREFIX + r.invoiceId, r]));
    await tx.insert(paymentAllocations).values(
      returned.map((p) => {
        const r = byExternal.get(p.externalId)!;
        return {
          tenantId,
          paymentId: p.id,
          invoiceId: invoiceIds.get(r.invoiceId)!,
          amountMinor: r.amountMinor,
          date: r.paidDate!,
        };
      }),
    );
  }

  // An invoice that a newer export shows open again (a reversed payment) loses its synthetic payment.
  let reversed = 0;
  const reopened = rows.filter((r) => !r.paidDate).map((r) => PAID_PREFIX + r.invoiceId);
  for (const part of chunks(reopened)) {
    const gone = await tx
      .update(payments)
      .set({ status: 'deleted', updatedAt: now })
      .where(and(eq(payments.tenantId, tenantId), inArray(payments.externalId, part), eq(payments.status, 'active')))
      .returning({ id: payments.id });
    if (gone.length > 0) {
      await tx.delete(paymentAllocations).where(
        inArray(
          paymentAllocations.paymentId,
          gone.map((g) => g.id),
        ),
      );
      reversed += gone.length;
    }
  }
  return { upserted, reversed };
}
