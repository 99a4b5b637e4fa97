/** `duely predictions`: every open invoice, scored as of the clock. */
import { getTenant } from '../db/queries/tenants';
import { formatPredictions } from '../risk/cli-commands';
import { createServices } from '../services';
import { configFor, parse, UsageError } from './common';

export async function run(args: string[]) {
  const { values } = parse(args, { tenant: { type: 'string' }, format: { type: 'string' } });
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw new UsageError('--format must be csv or json');
  const services = await createServices(configFor(values), { queue: false });
  try {
    const tenant = await getTenant(services.db, values.tenant ?? 'default');
    const rows = await services.risk.predictions(tenant.id, tenant.settings);
    process.stdout.write(formatPredictions(rows, format));
  } finally {
    await services.close();
  }
}
