/**
 * The team of a tenant: GET/POST /api/v1/tenants/:tenant/users (POST invites: the person gets an email with a
 * one-time link, valid 7 days), PATCH/DELETE …/users/:id (name, role, disable; the last active admin stays).
 * Reading the team needs any role; changing it needs an admin. Every change is logged with who made it.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { sendAccountEmail } from '../../auth/account-mail';
import { SessionAuth } from '../../auth/sessions';
import { createUser, listUsers, removeUser, updateUser, type User } from '../../auth/users';
import { userRoles } from '../../db/schema';
import type { Services } from '../../services';
import { actorName, principalOf, tenantOf } from '../auth';
import { parseInput } from '../validate';

export const INVITATION_TTL_MS = 7 * 86_400_000;

// Header-bound (an address and a display name in the email): no control characters, bounded before any check.
const safeText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
      message: 'must not contain control characters',
    });
const inviteBody = z.object({
  email: safeText(254).pipe(z.email()),
  name: safeText(120).optional(),
  role: z.enum(userRoles),
});
const patchBody = z
  .object({
    name: safeText(120).nullable().optional(),
    role: z.enum(userRoles).optional(),
    status: z.enum(['active', 'disabled']).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');
const idParam = z.object({ id: z.uuid() });

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
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const auth = new SessionAuth(services.db, services.config.APP_SECRET);

    app.get('/tenants/:tenant/users', async (req) => {
      const tenant = await tenantOf(req, services);
      return { items: (await listUsers(services.db, tenant.id)).map(userView) };
    });

    app.post('/tenants/:tenant/users', async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const body = parseInput(inviteBody, req.body, 'body');
      const by = actorName(principalOf(req));
      const now = services.clock.now();
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
      const email = await sendAccountEmail(services, {
        tenantId: tenant.id,
        userId: user.id,
        to: user.email,
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

    app.patch('/tenants/:tenant/users/:id', async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = parseInput(idParam, req.params, 'path');
      const patch = parseInput(patchBody, req.body, 'body');
      const user = await updateUser(services.db, tenant.id, id, patch, services.clock.now());
      req.log.info(
        { tenant: tenant.slug, userId: id, patch, by: actorName(principalOf(req)) },
        'user changed',
      );
      return userView(user);
    });

    app.delete('/tenants/:tenant/users/:id', async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = parseInput(idParam, req.params, 'path');
      const user = await removeUser(services.db, tenant.id, id);
      req.log.info({ tenant: tenant.slug, userId: id, by: actorName(principalOf(req)) }, 'user removed');
      return { removed: userView(user) };
    });
  };
