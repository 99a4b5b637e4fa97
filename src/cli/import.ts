/** `duely import FILE.csv`: import a canonical invoice-history CSV. */
import path from 'node:path';
import { findTenant } from '../db/queries/tenants';
import { importWritten } from '../jobs/workflow';
import { createServices, type Services } from '../services';
import { CsvImportError, type CsvInput } from '../sync/csv-import';
import { configFor, parse, ReportedFailure, streamInput, UsageError } from './common';

export async function run(args: string[]) {
  const { values, positionals } = parse(args, { tenant: { type: 'string' } });
  const file = positionals[0];
  if (!file) throw new UsageError('import needs a file: duely import FILE.csv [--tenant NAME]');
  const content = streamInput(file);
  const config = configFor(values);
  const services = await createServices(config);
  try {
    await importFile(services, file, content, values.tenant);
  } catch (err) {
    if (!(err instanceof CsvImportError)) throw err;
    process.stderr.write(`${err.message}\n`);
    for (const i of err.issues.slice(0, 50)) {
      process.stderr.write(`  line ${i.line}${i.column ? `, column ${i.column}` : ''}: ${i.message}\n`);
    }
    const shown = Math.min(err.issues.length, 50);
    if (err.total > shown)
      process.stderr.write(`  … and ${(err.total - shown).toLocaleString('en-US')} more\n`);
    throw new ReportedFailure(err.message, 1);
  } finally {
    content.destroy();
    await services.close();
  }
}

async function importFile(services: Services, file: string, content: CsvInput, tenant: string | undefined) {
  const tenantName = tenant ?? 'default';
  const result = await services.sync.importCsv(content, {
    tenantName,
    tenantId: (await findTenant(services.db, tenantName))?.id,
    fileName: path.basename(file),
    now: services.clock.now(),
    afterWrite: importWritten(services),
  });
  process.stdout.write(
    `Imported ${result.rows} invoices of ${result.customers} customers into tenant "${result.tenant.slug}": ` +
      `${result.invoices.inserted} new, ${result.invoices.updated} updated, ` +
      `${result.invoices.unchanged ? `${result.invoices.unchanged} unchanged, ` : ''}${result.invoices.open} open, ` +
      `${result.invoices.paid} paid (${result.payments.reversed} payments reversed)` +
      `${result.creditNotes ? `; ${result.creditNotes} credit notes` : ''}.\n`,
  );
  if (result.warningCount > 0) {
    const shown = result.warnings.slice(0, 10);
    const kinds = Object.entries(result.warningsByColumn)
      .sort((a, b) => b[1] - a[1])
      .map(([column, n]) => `${n} ${column}`)
      .join(', ');
    process.stdout.write(
      `${result.warningCount} warning(s) (${kinds}):\n${shown.map((w) => `  line ${w.line}${w.column ? `, ${w.column}` : ''}: ${w.message}\n`).join('')}` +
        `${result.warningCount > shown.length ? `  … and ${result.warningCount - shown.length} more\n` : ''}`,
    );
  }
}
