import { z } from 'zod';
import { errorResponses, uuid } from './common';

const role = z.enum(['viewer', 'collector', 'admin']);

/** GET /api/v1/session: who is signed in, and the CSRF token the app sends back in x-csrf-token. */
export const sessionInfo = z.object({
  kind: z.enum(['session', 'api_token']),
  operator: z.boolean(),
  tenant: z.object({ id: uuid, slug: z.string(), name: z.string(), timezone: z.string() }).nullable(),
  csrfToken: z.string().nullable(),
  /** How this browser signed in and who (id null: an admin sign-in link). */
  user: z
    .object({
      id: uuid.nullable(),
      method: z.string().meta({ examples: ['login_link', 'intuit_openid', 'email_link'] }),
      email: z.string().nullable(),
      name: z.string().nullable(),
    })
    .nullable(),
  /** What this principal may do. */
  role,
  signInMethods: z.array(z.string()),
});

export const getSession = { response: { 200: sessionInfo, ...errorResponses } } as const;
export const logout = {
  response: { 200: z.object({ signedOut: z.boolean() }), ...errorResponses },
} as const;
export const logoutAll = {
  response: {
    200: z.object({ signedOut: z.boolean(), sessionsEnded: z.number().int() }),
    ...errorResponses,
  },
} as const;

/**
 * POST /api/v1/session/email: the first admin of a tenant a signed-out OAuth connect created (no provider identity,
 * a placeholder `…@users.invalid` address) gives their email; it becomes theirs only once the link sent to it is opened.
 */
export const setOwnEmail = {
  body: z.object({ email: z.string().max(254) }),
  response: { 202: z.object({ sent: z.boolean(), email: z.string() }), ...errorResponses },
} as const;
