import { z } from 'zod';
import { userRoles } from '../../db/schema/sessions';
import { errorResponses, instant, tenantParams, uuid } from './common';

// Header-bound (an address and a display name in the email): no control characters, bounded before any check.
const safeText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
      message: 'must not contain control characters',
    });

export const userView = z.object({
  id: uuid,
  email: z.string(),
  name: z.string().nullable(),
  role: z.enum(userRoles),
  status: z.enum(['invited', 'active', 'disabled']),
  invitedBy: z.string().nullable(),
  lastSignInAt: instant.nullable(),
  createdAt: instant,
});

/**
 * A person an admin removed, kept out of Sign in with Intuit until an admin invites the address again or allows
 * them again (user_removals). `email` is null when they had only an Intuit account; `intuitAccount` says whether
 * the removal holds one.
 */
export const removedView = z.object({
  id: uuid,
  email: z.string().nullable(),
  name: z.string().nullable(),
  intuitAccount: z.boolean(),
  removedBy: z.string(),
  removedAt: instant,
});

const userParams = tenantParams.extend({ id: uuid });

export const listUsers = {
  params: tenantParams,
  response: {
    200: z.object({ items: z.array(userView), removed: z.array(removedView) }),
    ...errorResponses,
  },
} as const;
export const inviteUser = {
  params: tenantParams,
  body: z.object({
    email: safeText(254).pipe(z.email()),
    name: safeText(120).optional(),
    role: z.enum(userRoles),
  }),
  response: {
    201: z.object({
      user: userView,
      invitation: z.object({ delivery: z.enum(['outbox', 'sent', 'failed']) }),
    }),
    ...errorResponses,
  },
} as const;
export const patchUser = {
  params: userParams,
  body: z
    .object({
      name: safeText(120).nullable().optional(),
      role: z.enum(userRoles).optional(),
      status: z.enum(['active', 'disabled']).optional(),
    })
    .refine((b) => Object.keys(b).length > 0, 'nothing to change'),
  response: { 200: userView, ...errorResponses },
} as const;
export const removeUser = {
  params: userParams,
  response: { 200: z.object({ removed: userView }), ...errorResponses },
} as const;
export const allowRemovedAgain = {
  params: userParams,
  response: { 200: z.object({ allowed: removedView }), ...errorResponses },
} as const;
