import { countUsers, createUser, findUserByEmail } from '../auth/users';
import { findTenant } from '../db/queries/tenants';
import { AppError } from '../errors';
import { createServices } from '../services';
import { configFor, parse, UsageError } from './common';

export async function run(args: string[]) {
  const { values } = parse(args, { tenant: { type: 'string' }, email: { type: 'string' } });
  if (values.email && !values.tenant) throw new UsageError('login --email needs --tenant NAME');
  const config = configFor(values);
  const services = await createServices(config, { queue: false });
  try {
    let tenantId: string | null = null;
    if (values.tenant) {
      const t = await findTenant(services.db, values.tenant);
      if (!t) throw new AppError('not_found', `tenant ${values.tenant} not found`, 404);
      tenantId = t.id;
    }
    let userId: string | null = null;
    if (values.email && tenantId) {
      // The tenant's first person becomes its admin; anyone else must have been invited (Settings → People).
      const found = await findUserByEmail(services.db, tenantId, values.email);
      const first = (await countUsers(services.db, tenantId)) === 0;
      if (!found && !first) {
        throw new AppError(
          'not_found',
          `${values.email} is not a user of ${values.tenant}: invite them in Settings → People first`,
          404,
        );
      }
      const person =
        found ??
        (await createUser(services.db, {
          tenantId,
          email: values.email,
          role: 'admin',
          status: 'invited',
          invitedBy: 'duely login (the install)',
        }));
      if (person.status === 'disabled') throw new AppError('forbidden', `${values.email} is disabled`, 403);
      userId = person.id;
    }
    const token = await services.auth.sessions.issueLoginToken({
      tenantId,
      userId,
      label: 'duely login',
      now: services.clock.now(),
    });
    process.stdout.write(`${config.PUBLIC_URL}/login?token=${token}\n`);
  } finally {
    await services.close();
  }
}
