/**
 * `duely dunning plan --tenant NAME`: run the planner now and print each customer's decision (the send jobs it
 * enqueues run in `duely serve`'s workers). `duely dunning outbox --tenant NAME [--status S]`: the message log.
 */
import { parseArgs } from 'node:util';
import { parseClockDate } from './clock';
import { loadConfig } from './config';
import { latestMessagesOfTenant } from './db/queries/dunning-admin';
import { getTenant } from './db/queries/tenants';
import { type DunningMessageStatus, dunningMessageStatuses } from './db/schema';
import { createServices } from './services';

export class DunningUsageError extends Error {}

function flags(args: string[]) {
  try {
    return parseArgs({
      args,
      options: { now: { type: 'string' }, tenant: { type: 'string' }, status: { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    throw new DunningUsageError((err as Error).message);
  }
}

export async function dunningCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const f = flags(rest);
  if (sub !== 'plan' && sub !== 'outbox')
    throw new DunningUsageError('usage: duely dunning plan|outbox --tenant NAME');
  if (f.status && !dunningMessageStatuses.includes(f.status as DunningMessageStatus)) {
    throw new DunningUsageError(`--status must be one of ${dunningMessageStatuses.join(', ')}`);
  }
  const env: Record<string, string | undefined> = { ...process.env };
  if (f.now) {
    parseClockDate(f.now);
    env.DUELY_NOW = f.now;
  }
  const services = await createServices(loadConfig(env), { queue: sub === 'plan' });
  try {
    const tenant = await getTenant(services.db, f.tenant ?? 'default');
    if (sub === 'plan') {
      const r = await services.dunning.plan(tenant.id);
      for (const d of r.decisions)
        process.stdout.write(`${d.outcome.padEnd(12)} ${d.code.padEnd(20)} ${d.reason}\n`);
      process.stdout.write(
        `planned ${r.inserted.length}, cancelled ${r.cancelled.length}, receipts ${r.receipts.length}\n`,
      );
      return;
    }
    const rows = await latestMessagesOfTenant(
      services.db,
      tenant.id,
      f.status ? (f.status as DunningMessageStatus) : undefined,
      200,
    );
    for (const m of rows) {
      process.stdout.write(
        `${m.id}  ${m.status.padEnd(17)} ${m.sendAt.toISOString()}  ${m.to.join(',')}  ${m.statusReason ?? m.reason}\n`,
      );
    }
  } finally {
    await services.close();
  }
}
