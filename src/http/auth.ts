/**
 * API authentication, two ways:
 *  - `Authorization: Bearer duely_…` admin/API tokens (scripts, integrations). A token bound to a tenant only sees
 *    that tenant; an operator token (no tenant) sees all. Exempt from CSRF checks: browsers never attach it on
 *    their own.
 *  - The settings app's session cookie (src/auth/sessions.ts), bound to one tenant or to the operator. Every
 *    state-changing request made with the cookie must carry the session's CSRF token in `x-csrf-token`.
 * A request with an Authorization header is judged by that header alone.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { verifyApiToken } from '../auth/api-tokens';
import { CSRF_HEADER, SESSION_COOKIE, type Session, SessionAuth } from '../auth/sessions';
import { getTenant, type Tenant } from '../db/queries/tenants';
import { AppError, forbidden, unauthorized } from '../errors';
import type { Services } from '../services';

export type Principal =
  | {
      kind: 'api_token';
      tokenId: string;
      /** null: every tenant. */
      tenantId: string | null;
    }
  | {
      kind: 'session';
      sessionId: string;
      /** null: the operator (every tenant). */
      tenantId: string | null;
      /** The cookie value, to derive the CSRF token for GET /api/v1/session. */
      sessionToken: string;
      /** How the session was opened and, for Sign in with Intuit, who (from the session row already read). */
      user: { method: string; email: string | null; name: string | null };
    };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function registerAuth(app: FastifyInstance, services: Services): void {
  const sessionAuth = new SessionAuth(services.db, services.config.APP_SECRET);
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/')) return;
    const header = req.headers.authorization;
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (header === undefined && cookie) {
      const session = await sessionAuth.verifySession(cookie, services.clock.now());
      if (!session) throw unauthorized('your session has ended: sign in again');
      if (!SAFE_METHODS.has(req.method) && !sessionAuth.checkCsrf(cookie, headerValue(req, CSRF_HEADER))) {
        throw new AppError(
          'csrf_failed',
          'missing or invalid CSRF token: reload the page and try again',
          403,
        );
      }
      req.principal = sessionPrincipalOf(session, cookie);
      return;
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) throw unauthorized('send the admin token as "Authorization: Bearer <token>", or sign in');
    const token = await verifyApiToken(services.db, m[1]!, services.clock.now());
    if (!token) throw unauthorized('invalid or revoked token');
    req.principal = { kind: 'api_token', tokenId: token.id, tenantId: token.tenantId };
  });
}

/**
 * The signed-in session of a request outside /api (e.g. /connect/quickbooks, to bind a new connection to the
 * session's tenant), or null. /api routes get `req.principal` from the hook above instead.
 */
export async function sessionPrincipal(req: FastifyRequest, services: Services): Promise<Principal | null> {
  const cookie = req.cookies?.[SESSION_COOKIE];
  if (!cookie) return null;
  const session = await new SessionAuth(services.db, services.config.APP_SECRET).verifySession(
    cookie,
    services.clock.now(),
  );
  return session ? sessionPrincipalOf(session, cookie) : null;
}

function sessionPrincipalOf(session: Session, cookie: string): Principal {
  return {
    kind: 'session',
    sessionId: session.id,
    tenantId: session.tenantId,
    sessionToken: cookie,
    user: { method: session.method, email: session.userEmail, name: session.userName },
  };
}

function headerValue(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Resolves the `:tenant` route parameter (id or slug) and checks the caller may see it. `lookup` lets a hot route
 * memoize the tenant row; the access check always runs.
 */
export async function tenantOf(
  req: FastifyRequest,
  services: Services,
  lookup: (ref: string) => Promise<Tenant> = (ref) => getTenant(services.db, ref),
): Promise<Tenant> {
  const ref = (req.params as { tenant?: string }).tenant ?? '';
  const tenant = await lookup(ref);
  const p = req.principal;
  if (!p) throw unauthorized();
  if (p.tenantId !== null && p.tenantId !== tenant.id) {
    throw forbidden(
      p.kind === 'session' ? 'you are signed in to another tenant' : 'this token belongs to another tenant',
    );
  }
  return tenant;
}
