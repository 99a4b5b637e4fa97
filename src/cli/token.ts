/** `duely token [list|revoke ID]`: issue, list or revoke API tokens. */
import { listApiTokens, revokeApiToken } from '../auth/api-tokens';
import { findTenant } from '../db/queries/tenants';
import { AppError } from '../errors';
import { createServices } from '../services';
import { configFor, parse, UsageError } from './common';

export async function run(args: string[]) {
  const { values, positionals } = parse(args, { label: { type: 'string' }, tenant: { type: 'string' } });
  const [sub, id] = positionals;
  if (sub !== undefined && sub !== 'list' && sub !== 'revoke')
    throw new UsageError(`unknown token command ${sub}`);
  if (sub === 'revoke' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id ?? ''))
    throw new UsageError('token revoke needs the token id (from `duely token list`)');
  const services = await createServices(configFor(values), { queue: false });
  try {
    let tenantId: string | null = null;
    if (values.tenant) {
      const t = await findTenant(services.db, values.tenant);
      if (!t) throw new AppError('not_found', `tenant ${values.tenant} not found`, 404);
      tenantId = t.id;
    }
    if (sub === 'list') {
      const rows = await listApiTokens(services.db, tenantId);
      process.stdout.write(
        rows
          .map(
            (t) =>
              `${t.id}  ${t.revokedAt ? 'revoked' : 'active '}  ${t.tenantId ?? 'operator'}  ` +
              `last used ${t.lastUsedAt?.toISOString() ?? 'never'}  ${t.label}\n`,
          )
          .join('') || 'no API tokens\n',
      );
      return;
    }
    if (sub === 'revoke') {
      const t = await revokeApiToken(services.db, id!, null, services.clock.now());
      if (!t) throw new AppError('not_found', `token ${id} not found`, 404);
      process.stdout.write(`revoked ${t.id} (${t.label})\n`);
      return;
    }
    const { token } = await services.auth.issueApiToken(values.label ?? 'cli', tenantId);
    process.stdout.write(`${token}\n`);
  } finally {
    await services.close();
  }
}
