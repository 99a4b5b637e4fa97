/**
 * `duely import` and the upload endpoint: the canonical invoice-history CSV into canonical rows. All or nothing:
 * any line that cannot be understood rejects the whole file, and the writes run in one transaction. What real
 * exports contain (prepayments, credit notes, several currencies) is imported with warnings naming the line;
 * negative amounts become credit memos (external id `csv-credit:<invoice_id>`). Re-importing a newer export of the
 * same ledger is an idempotent upsert keyed by (tenant, invoice_id): balances move, and an invoice whose paid_date
 * appears is settled by a payment (external id `csv-paid:<invoice_id>`) allocated to it in full.
 */
import { createHash } from 'node:crypto';
import {
  type CsvIssue,
  type HistoryRow,
  type ParsedHistory,
  parseHistoryCsv,
} from '../../connectors/csv/parse';
import type { Db, Tx } from '../db/client';
import {
  isEmptyCsvTenant,
  settleCsvPaidInvoices,
  stageCsvRows,
  upsertCsvCreditNotes,
  upsertCsvCustomers,
  upsertCsvInvoices,
} from '../db/queries/csv-import';
import { insertSyncRun, updateSyncRun } from '../db/queries/sync-runs';
import { ensureTenant, getTenant, type Tenant } from '../db/queries/tenants';
import { AppError } from '../errors';
import { type CsvLedgerSummary, csvLedgerSummary } from './csv-summary';

export interface ImportResult {
  tenant: Pick<Tenant, 'id' | 'slug' | 'name'>;
  syncRunId: string;
  sha256: string;
  rows: number;
  customers: number;
  /** `updated`: invoices the file changed; `unchanged`: invoices already exactly as the file has them. */
  invoices: { inserted: number; updated: number; unchanged: number; open: number; paid: number };
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
    const runId = await insertSyncRun(tx, {
      tenantId: tenant.id,
      kind: 'import',
      source: { fileName: opts.fileName ?? null, sha256, rows: rows.length },
      startedAt: opts.now,
    });

    const fresh = await isEmptyCsvTenant(tx, tenant.id);
    await stageCsvRows(tx, rows);
    const customerCount = await upsertCsvCustomers(tx, tenant.id, fresh);
    const { inserted, updated, changedIds } = await upsertCsvInvoices(tx, tenant.id, opts.now, {
      fresh,
      wantIds: opts.afterWrite !== undefined,
    });
    const paymentStats = await settleCsvPaidInvoices(tx, tenant.id, opts.now, fresh);
    const creditNotes = await upsertCsvCreditNotes(tx, tenant.id, parsed.credits, opts.now);

    const open = rows.filter((r) => !r.paidDate).length;
    const result: ImportResult = {
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      syncRunId: runId,
      sha256,
      rows: rows.length,
      customers: customerCount,
      invoices: {
        inserted,
        updated,
        unchanged: rows.length - inserted - updated,
        open,
        paid: rows.length - open,
      },
      ...csvLedgerSummary(rows, parsed.credits),
      payments: paymentStats,
      creditNotes,
      warnings: parsed.warnings,
      warningCount: parsed.warningCount,
    };
    await updateSyncRun(tx, runId, {
      status: 'succeeded',
      finishedAt: opts.now,
      stats: {
        rows: result.rows,
        customers: result.customers,
        invoicesInserted: inserted,
        invoicesUpdated: updated,
        invoicesUnchanged: result.invoices.unchanged,
        paymentsUpserted: paymentStats.upserted,
        paymentsReversed: paymentStats.reversed,
        creditNotes,
        warnings: parsed.warningCount,
      },
      progress: { entities: { invoices: { pages: 1, rows: rows.length, done: true } } },
    });
    await opts.afterWrite?.(tx, result, changedIds);
    return result;
  });
}
