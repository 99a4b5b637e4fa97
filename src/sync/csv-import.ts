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
  type HistoryBatch,
  HistoryCsvReader,
  MAX_ERRORS,
  piecesOf,
  withDuplicates,
} from '../../connectors/csv/parse';
import { isoDay } from '../../connectors/dates';
import type { Db, Tx } from '../db/client';
import {
  createCsvStage,
  csvStageDuplicates,
  finishCsvStage,
  isEmptyCsvTenant,
  lockCsvImports,
  openInvoicesNotStaged,
  settleCsvPaidInvoices,
  stageCsvRows,
  upsertCsvCreditNotes,
  upsertCsvCustomers,
  upsertCsvInvoices,
} from '../db/queries/csv-import';
import { insertSyncRun, updateSyncRun } from '../db/queries/sync-runs';
import { ensureTenant, getTenant, type Tenant } from '../db/queries/tenants';
import { AppError } from '../errors';
import { sourceShortName } from './connections';
import { type CsvLedgerSummary, CsvLedgerTally } from './csv-summary';

/** A whole file, or its bytes as they arrive (a file stream, an upload): read a chunk at a time either way. */
export type CsvInput = Buffer | string | AsyncIterable<Buffer | string>;

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
  /** Every warning counted by column (its kind: amount = credit notes and zero amounts, paid_date = prepayments…). */
  warningsByColumn: Record<string, number>;
}

export class CsvImportError extends AppError {
  /** `issues`: the first errors (at most about MAX_ERRORS, by line); `total`: how many the file has in all. */
  constructor(
    readonly issues: CsvIssue[],
    readonly total = issues.length,
  ) {
    const first = issues
      .slice(0, 5)
      .map((i) => `line ${i.line}${i.column ? `, column ${i.column}` : ''}: ${i.message}`)
      .join('; ');
    const listed = total > issues.length ? `; the first ${issues.length} are listed` : '';
    super(
      'invalid_csv',
      `The file was not imported: ${total.toLocaleString('en-US')} error${total === 1 ? '' : 's'}${listed} (${first}${total > 5 ? '; …' : ''})`,
      422,
      { details: issues, total },
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
  /** Characters of the file read (and staged) at once: CHUNK_CHARS (1 Mi) unless a test reads in smaller chunks. */
  chunkChars?: number;
  /** Called inside the import transaction, e.g. to enqueue scoring of the changed invoices. */
  afterWrite?: (tx: Tx, result: ImportResult, changed: ChangedInvoices) => Promise<void>;
}

/** The invoices an import inserted or changed: how many, and the ids of the first 1,000 of them (all when fewer). */
export interface ChangedInvoices {
  count: number;
  ids: string[];
}

/** The currency most invoices are in: a new tenant's home currency (a few CAD lines do not make a USD ledger CAD). */
function mainCurrency(counts: Map<string, number>): string {
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
}

/** Ids of open invoices a file left out kept on its run (sync_runs.source.notListed); more count as all unlisted. */
const NOT_LISTED_KEPT = 200;

export async function importHistoryCsv(db: Db, input: CsvInput, opts: ImportOptions): Promise<ImportResult> {
  try {
    return await writeImport(db, input, opts);
  } catch (err) {
    // The parser bounds and checks every value, so the database should refuse none; if it still does (a data or
    // size limit), the user gets a refusal of the file, never the SQL error.
    // The query builder wraps the driver's error: its SQLSTATE is on the cause.
    const e = err as { code?: unknown; cause?: { code?: unknown } };
    const code = typeof e.code === 'string' ? e.code : e.cause?.code;
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

/**
 * Reads the file into the staging table a chunk at a time (the next chunk is parsed while the database takes the
 * last one), so memory holds about one chunk whatever the file's size; nothing is written to the ledger unless the
 * whole file was understood, and the writes and the staging share one transaction.
 */
async function writeImport(db: Db, input: CsvInput, opts: ImportOptions): Promise<ImportResult> {
  return db.transaction(async (tx) => {
    await createCsvStage(tx);
    const hash = createHash('sha256');
    const reader = new HistoryCsvReader({ duplicates: 'caller', chunkChars: opts.chunkChars });
    const tally = new CsvLedgerTally(isoDay(opts.now));
    let staging: Promise<void> = Promise.resolve();
    const stage = async (batches: HistoryBatch[]) => {
      for (const batch of batches) {
        tally.add(batch.rows, batch.credits);
        await staging;
        staging = stageCsvRows(tx, batch);
        staging.catch(() => {}); // awaited before the next batch and at the end
      }
    };
    // A string is hashed whole (its pieces may split a surrogate pair); bytes as they come.
    if (typeof input === 'string') hash.update(input);
    const pieces = typeof input === 'string' || Buffer.isBuffer(input) ? piecesOf(input) : input;
    let end: ReturnType<HistoryCsvReader['end']>;
    try {
      for await (const piece of pieces) {
        if (typeof input !== 'string') hash.update(piece);
        await stage(reader.push(piece));
      }
      end = reader.end();
      await stage(end.batches);
    } catch (err) {
      // A failed read (a broken stream) leaves no COPY running under the rollback.
      await staging.catch(() => {});
      throw err;
    }
    await staging;
    const read = end.result;
    let errors: CsvIssue[] = read.errors;
    let errorCount = read.errorCount;
    if (!read.fatal) {
      const duplicates =
        errors.length > 0 ? await csvStageDuplicates(tx, MAX_ERRORS) : await finishCsvStage(tx, MAX_ERRORS);
      errors = withDuplicates(errors, duplicates.lines);
      errorCount += duplicates.total;
    }
    errors = [...read.fileErrors, ...errors];
    if (errors.length > 0) throw new CsvImportError(errors, errorCount);
    if (read.rows === 0)
      throw new CsvImportError([{ line: 2, column: null, message: 'the file has no rows' }]);
    const sha256 = hash.digest('hex');
    const rows = read.rows;

    const named = opts.tenantId
      ? await getTenant(tx, opts.tenantId)
      : await ensureTenant(tx, opts.tenantName, 'csv', { currency: mainCurrency(read.invoiceCurrencies) });
    // Whether it is still a CSV company is read under the lock a connect of its ledger takes too: read before it, a
    // connect committing meanwhile (the company now synced, its imported rows released) let this file's rows in under
    // ids the ledger's records would land on.
    await lockCsvImports(tx, named.id);
    const tenant = await getTenant(tx, named.id);
    if (tenant.source !== 'csv') {
      throw new AppError(
        'tenant_source_mismatch',
        `Nothing was imported: ${tenant.name} is connected to ${sourceShortName(tenant.source)}, and its invoices and payments come from there. Uploading a file is only for a company whose ledger comes from files.`,
        409,
      );
    }
    const fresh = await isEmptyCsvTenant(tx, tenant.id);
    // Open invoices of an earlier upload this file leaves out (a file of this week's invoices, an export of open
    // invoices a paid one dropped out of): their rows stay as they were, so this upload does not renew their figures
    // for dunning's upload-age hold (dunning/uploaded-ledger.ts). Read before the writes: a row the file does not
    // list is not written, so the answer is the same after them.
    const notListed = fresh
      ? { count: 0, invoiceIds: [] }
      : await openInvoicesNotStaged(tx, tenant.id, NOT_LISTED_KEPT);
    const runId = await insertSyncRun(tx, {
      tenantId: tenant.id,
      kind: 'import',
      // asOf: the file's latest date up to today, the day the company's figures are as of (analytics csvLedgerDay).
      source: { fileName: opts.fileName ?? null, sha256, rows, asOf: tally.asOf, notListed },
      startedAt: opts.now,
    });

    const customerCount = await upsertCsvCustomers(tx, tenant.id, fresh);
    const { inserted, updated, changed, changedIds } = await upsertCsvInvoices(tx, tenant.id, opts.now, {
      fresh,
      wantIds: opts.afterWrite !== undefined,
    });
    const paymentStats = await settleCsvPaidInvoices(tx, tenant.id, opts.now, fresh);
    const creditNotes = await upsertCsvCreditNotes(tx, tenant.id, read.creditNotes, opts.now);

    const open = tally.open;
    const result: ImportResult = {
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      syncRunId: runId,
      sha256,
      rows,
      customers: customerCount,
      invoices: {
        inserted,
        updated,
        unchanged: rows - inserted - updated,
        open,
        paid: rows - open,
      },
      ...tally.summary(),
      payments: paymentStats,
      creditNotes,
      warnings: read.warnings,
      warningCount: read.warningCount,
      warningsByColumn: read.warningsByColumn,
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
        warnings: read.warningCount,
      },
      progress: { entities: { invoices: { pages: 1, rows, done: true } } },
    });
    await opts.afterWrite?.(tx, result, { count: changed, ids: changedIds });
    return result;
  });
}
