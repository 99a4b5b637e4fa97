/**
 * The team of a tenant: GET/POST /api/v1/tenants/:tenant/users (GET also lists the people removed, still kept out of
 * Sign in with Intuit; POST invites: the person gets an email with a one-time link, valid 7 days, and lifts a
 * removal of the address), PATCH/DELETE …/users/:id (name, role, disable; the last active admin stays), DELETE
 * …/users/removed/:id ("Allow again": forgets a removal, the way back for a person removed without an email).
 * Reading the team needs any role; changing it needs an admin. Every change is logged with who made it.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../app-services';
import {
  allowAgain,
  listUserRemovals,
  listUsers,
  removeUser,
  type User,
  type UserRemoval,
  updateUser,
} from '../../auth/users';
import { actorName, principalOf, tenantOf } from '../auth';
import * as contract from '../contracts/users';

/** The bounds live with the invitation (auth/account-mail.ts); named here too for the route's readers and tests. */
export { INVITATION_TTL_MS, INVITATIONS_PER_DAY } from '../../auth/account-mail';

function userView(u: User) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    status: u.status,
    invitedBy: u.invitedBy,
    lastSignInAt: u.lastSignInAt,
    createdAt: u.createdAt,
  };
}

function removedView(r: UserRemoval) {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    intuitAccount: r.intuitSub !== null,
    removedBy: r.removedBy,
    removedAt: r.removedAt,
  };
}

export const userRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/tenants/:tenant/users', { schema: contract.listUsers }, async (req) => {
      const tenant = await tenantOf(req, services);
      return {
        items: (await listUsers(services.db, tenant.id)).map(userView),
        removed: (await listUserRemovals(services.db, tenant.id)).map(removedView),
      };
    });

    app.post('/tenants/:tenant/users', { schema: contract.inviteUser }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const body = req.body;
      const by = actorName(principalOf(req));
      const { user, delivery } = await services.auth.inviteUser({
        tenant,
        email: body.email,
        name: body.name,
        role: body.role,
        by,
        now: services.clock.now(),
      });
      req.log.info(
        { tenant: tenant.slug, userId: user.id, role: user.role, by, email: delivery },
        'user invited',
      );
      return reply.status(201).send({ user: userView(user), invitation: { delivery } });
    });

    app.patch('/tenants/:tenant/users/:id', { schema: contract.patchUser }, async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = req.params;
      const patch = req.body;
      const user = await updateUser(services.db, tenant.id, id, patch, services.clock.now());
      req.log.info(
        { tenant: tenant.slug, userId: id, patch, by: actorName(principalOf(req)) },
        'user changed',
      );
      return userView(user);
    });

    app.delete('/tenants/:tenant/users/:id', { schema: contract.removeUser }, async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = req.params;
      const by = actorName(principalOf(req));
      const user = await removeUser(services.db, tenant.id, id, { name: by, now: services.clock.now() });
      req.log.info({ tenant: tenant.slug, userId: id, by }, 'user removed');
      return { removed: userView(user) };
    });

    app.delete('/tenants/:tenant/users/removed/:id', { schema: contract.allowRemovedAgain }, async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = req.params;
      const by = actorName(principalOf(req));
      const row = await allowAgain(services.db, tenant.id, id);
      req.log.info({ tenant: tenant.slug, removalId: id, by }, 'removed person allowed again');
      return { allowed: removedView(row) };
    });
  };
