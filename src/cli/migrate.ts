/** `duely migrate`: apply database migrations and exit. */
import { createServices } from '../services';
import { configFor, parse } from './common';

export async function run(args: string[]) {
  const { values } = parse(args, {});
  const services = await createServices(configFor(values), { queue: false });
  await services.close();
  process.stdout.write('Migrations applied.\n');
}
