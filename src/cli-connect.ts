/**
 * Connecting a ledger from the command line, for every registered connector with a credential form
 * (connect.credentialFields + connectWithCredentials):
 *   duely connect <provider> --tenant NAME --<field> VALUE …   (also spelled `duely <provider> connect …`)
 *   duely probe <provider>? --tenant NAME                       (also `duely <provider> probe --tenant NAME`)
 * Field flags are the fields' names in kebab-case (accountId → --account-id); a name ending in "Id" is also
 * accepted without it (--account). The tenant is created when it does not exist; the first sync is enqueued.
 */
import { parseArgs } from 'node:util';
import { type AnyConnector, connectorFor, isProvider, registeredConnectors } from '../connectors';
import type { CredentialField } from '../connectors/types';
import { UsageError } from './cli/errors';
import { parseClockDate } from './clock';
import { loadConfig } from './config';
import { findTenant } from './db/queries/tenants';
import { activeConnectionsOfTenant } from './db/queries/connection-lookup';
import { AppError } from './errors';
import { syncConnectionJob } from './jobs/sync-jobs';
import { createServices } from './services';
import type { EnqueueSync } from './sync/connect-flow';
import { shortNameOf } from './sync/connections';

/** A wrong `connect`/`probe` command line (printed with the usage text, exit code 2). */
export class ConnectUsageError extends UsageError {}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The flags of a field: its kebab-case name, and without a trailing "Id" (accountId → account-id, account). */
export function flagNames(field: CredentialField): string[] {
  const names = [kebab(field.name)];
  if (/[a-z]Id$/.test(field.name)) names.push(kebab(field.name.slice(0, -2)));
  return names;
}

/** Connectors that connect with a credential form. */
export const credentialConnectors = (): AnyConnector[] =>
  registeredConnectors.filter(
    (c) => c.connect?.methods.includes('credentials') && c.connect.credentialFields,
  );

/** One usage line per credential-form connector: its flags. */
export function connectUsage(): string {
  const lines = credentialConnectors().map((c) => {
    const flags = (c.connect?.credentialFields ?? [])
      .filter((f) => !f.choices)
      .map((f) => `--${flagNames(f)[0]} ${f.forTypes ? `(${f.forTypes.join('|')})` : ''}`.trim());
    return `  connect ${c.provider}: --tenant NAME ${flags.join(' ')}`;
  });
  return lines.length ? `Connect fields:\n${lines.join('\n')}\n` : '';
}

function connectorArg(provider: string | undefined): AnyConnector {
  if (!provider || !isProvider(provider)) {
    const known = credentialConnectors().map((c) => c.provider);
    throw new ConnectUsageError(
      `name a provider to connect: ${known.join(', ') || '(none registered)'}\n\n${connectUsage()}`,
    );
  }
  return connectorFor(provider);
}

function env(now: unknown): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = { ...process.env };
  if (typeof now === 'string') {
    parseClockDate(now);
    e.DUELY_NOW = now;
  }
  return e;
}

/** `duely connect <provider> --tenant NAME --field VALUE …` */
export async function connectCommand(provider: string | undefined, args: string[]): Promise<void> {
  const connector = connectorArg(provider);
  const fields = connector.connect?.credentialFields;
  if (!fields || !connector.connect?.methods.includes('credentials')) {
    throw new ConnectUsageError(
      `${shortNameOf(connector)} connects in the browser: open ${'{PUBLIC_URL}'}/connect/${connector.provider}`,
    );
  }
  const options: Record<string, { type: 'string' }> = { tenant: { type: 'string' }, now: { type: 'string' } };
  for (const f of fields) for (const n of flagNames(f)) options[n] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConnectUsageError((err as Error).message);
  }
  if (typeof values.tenant !== 'string') throw new ConnectUsageError('connect needs --tenant NAME');
  const given: Record<string, string> = {};
  for (const f of fields) {
    const v = flagNames(f)
      .map((n) => values[n])
      .find((x) => typeof x === 'string');
    if (typeof v === 'string') given[f.name] = v;
  }
  // A form with a credential `type` (token pair or certificate): inferred from the fields given when omitted.
  const typeField = fields.find((f) => f.name === 'type' && f.choices);
  if (typeField && !given.type) {
    given.type =
      typeField.choices!.find((choice) =>
        fields.filter((f) => f.forTypes?.includes(choice)).every((f) => given[f.name] !== undefined),
      ) ?? typeField.choices![0]!;
  }
  const services = await createServices(loadConfig(env(values.now)));
  try {
    // The tenant is created only once the provider accepted the credentials (named NAME).
    const tenant = await findTenant(services.db, values.tenant);
    const enqueueSync: EnqueueSync = (connectionId, reason, tx) =>
      services.queue.send(syncConnectionJob, { connectionId, reason }, tx ? { tx } : undefined);
    const outcome = await services.sync.connect.withCredentials(enqueueSync, {
      provider: connector.provider,
      fields: given,
      tenantId: tenant?.id ?? null,
      newTenantName: values.tenant,
    });
    if (!outcome.ok) throw new AppError(outcome.code, `${outcome.code}: ${outcome.message}`, outcome.status);
    process.stdout.write(
      `Connected ${shortNameOf(connector)} ${outcome.externalId} to tenant ${outcome.tenantSlug} ` +
        `(connection ${outcome.connectionId}); the first sync is queued (a running worker picks it up, or run ` +
        `\`duely sync --tenant ${outcome.tenantSlug}\`).\n`,
    );
    if (outcome.missingPermissions.length > 0) {
      process.stdout.write(
        `The role lacks: ${outcome.missingPermissions.join('; ')}. Grant them, or those records will not sync.\n`,
      );
    }
  } finally {
    await services.close();
  }
}

/** `duely probe [provider] --tenant NAME`: checks the tenant's stored connection with the provider. */
export async function probeCommand(provider: string | undefined, args: string[]): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: { tenant: { type: 'string' }, now: { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    throw new ConnectUsageError((err as Error).message);
  }
  if (typeof values.tenant !== 'string') throw new ConnectUsageError('probe needs --tenant NAME');
  const services = await createServices(loadConfig(env(values.now)));
  try {
    const tenant = await findTenant(services.db, values.tenant);
    if (!tenant) throw new AppError('not_found', `tenant ${values.tenant} not found`, 404);
    const rows = await activeConnectionsOfTenant(services.db, tenant.id);
    const conn = rows.find((r) => provider === undefined || r.provider === provider);
    if (!conn)
      throw new AppError('not_found', `tenant ${tenant.slug} has no active connection to probe`, 404);
    const { connector, client } = services.sync.client(conn);
    if (!connector.connect?.probe) {
      throw new AppError('unsupported', `${shortNameOf(connector)} connections have no probe`, 400);
    }
    const p = await connector.connect.probe(client);
    process.stdout.write(
      `${JSON.stringify({ provider: conn.provider, tenant: tenant.slug, ...p }, null, 2)}\n`,
    );
  } finally {
    await services.close();
  }
}
