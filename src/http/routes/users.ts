/**
 * The team of a tenant: GET/POST /api/v1/tenants/:tenant/users (POST invites: the person gets an email with a
 * one-time link, valid 7 days), PATCH/DELETE …/users/:id (name, role, disable; the last active admin stays).
 * Reading the team needs any role; changing it needs an admin. Every change is logged with who made it.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../app-services';
import { SIGN_IN_EMAILS_PER_WINDOW } from '../../auth/account-mail';
import { createUser, listUsers, normalizeEmail, removeUser, type User, updateUser } from '../../auth/users';
import { countAccountEmailsSince } from '../../db/queries/account-emails';
import { AppError } from '../../errors';
import { actorName, principalOf, tenantOf } from '../auth';
import * as contract from '../contracts/users';

export const INVITATION_TTL_MS = 7 * 86_400_000;
/** Invitations one tenant may send in 24 hours (a team is not invited a hundred at a time; a spammer would be). */
export const INVITATIONS_PER_DAY = 50;

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

export const userRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const auth = services.auth.sessions;

    app.get('/tenants/:tenant/users', { schema: contract.listUsers }, async (req) => {
      const tenant = await tenantOf(req, services);
      return { items: (await listUsers(services.db, tenant.id)).map(userView) };
    });

    app.post('/tenants/:tenant/users', { schema: contract.inviteUser }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const body = req.body;
      const by = actorName(principalOf(req));
      const now = services.clock.now();
      // Invitations go out from Duely's sender with the tenant's text: bounded per address as sign-in links are (an
      // admin removing and inviting again mailed an address without end), and per tenant.
      const to = normalizeEmail(body.email);
      if ((await services.auth.recentInvitations(tenant.id, to, now)) >= SIGN_IN_EMAILS_PER_WINDOW) {
        throw new AppError('rate_limited', 'Too many emails to that address: try again in 15 minutes', 429);
      }
      const since = new Date(now.getTime() - 86_400_000);
      const lastDay = await countAccountEmailsSince(services.db, since, {
        kind: 'invitation',
        tenantId: tenant.id,
      });
      if (lastDay >= INVITATIONS_PER_DAY) {
        throw new AppError(
          'rate_limited',
          `This company sent ${INVITATIONS_PER_DAY} invitations in the last 24 hours: try again tomorrow`,
          429,
        );
      }
      const user = await createUser(services.db, {
        tenantId: tenant.id,
        email: body.email,
        name: body.name,
        role: body.role,
        status: 'invited',
        invitedBy: by,
      });
      const token = await auth.issueLoginToken({
        tenantId: tenant.id,
        userId: user.id,
        label: `invitation by ${by}`,
        now,
        ttlMs: INVITATION_TTL_MS,
      });
      const email = await services.auth.sendAccountEmail({
        tenantId: tenant.id,
        userId: user.id,
        to,
        now,
        props: {
          kind: 'invitation',
          name: user.name,
          invitedBy: by,
          validFor: '7 days',
          companies: [
            { name: tenant.name, url: `${services.config.PUBLIC_URL}/login?token=${token}`, role: user.role },
          ],
        },
      });
      req.log.info(
        { tenant: tenant.slug, userId: user.id, role: user.role, by, email: email.status },
        'user invited',
      );
      return reply.status(201).send({ user: userView(user), invitation: { delivery: email.status } });
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
      const user = await removeUser(services.db, tenant.id, id);
      req.log.info({ tenant: tenant.slug, userId: id, by: actorName(principalOf(req)) }, 'user removed');
      return { removed: userView(user) };
    });
  };
