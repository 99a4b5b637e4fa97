/**
 * API authentication, two ways:
 *  - `Authorization: Bearer duely_…` admin/API tokens (scripts, integrations). A token bound to a tenant only sees
 *    that tenant; an operator token (no tenant) sees all. Exempt from CSRF checks: browsers never attach it on
 *    their own.
 *  - The settings app's session cookie (src/auth/sessions.ts), bound to one tenant or to the operator. Every
 *    state-changing request made with the cookie must carry the session's CSRF token in `x-csrf-token`.
 * A request with an Authorization header is judged by that header alone. Which routes need which is declared per
 * route (see AuthMode); nothing here looks at the URL.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../app-services';
import { memoizedApiTokenLookup } from '../auth/api-tokens';
import { CSRF_HEADER, SESSION_COOKIE, type SessionWithUser } from '../auth/sessions';
import { auditName } from '../auth/users';
import { getTenant, type Tenant } from '../db/queries/tenants';
import { AppError, forbidden, unauthorized } from '../errors';

export type Principal =
  | {
      kind: 'api_token';
      tokenId: string;
      label: string;
      /** null: every tenant. */
      tenantId: string | null;
      role: Role;
    }
  | {
      kind: 'session';
      sessionId: string;
      /** null: the operator (every tenant). */
      tenantId: string | null;
      /** The cookie value, to derive the CSRF token for GET /api/v1/session. */
      sessionToken: string;
      /** How the session was opened and who (the users row read with the session; null id: an admin link). */
      user: { id: string | null; method: string; email: string | null; name: string | null };
      role: Role;
    };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The `:tenant` of the route, resolved and access-checked before validation (checkTenantBeforeValidation). */
    checkedTenant?: Tenant;
    /** The request's session cookie was a session Duely issued that has ended (not a guess). */
    endedSession?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who may call a route. Declared per route (`config: PUBLIC`) or for a plugin scope (`requireAuth(scope)`), never
 * derived from the URL text:
 *  - 'public': no credentials (webhooks and unsubscribe links authenticate themselves; sign-in pages; the SPA shell);
 *  - 'signed-in': a session or an API token; tenant routes then check the tenant with `tenantOf`;
 *  - 'operator': a session or token bound to no tenant.
 * `buildApp` refuses to start when a route declares none (`assertEveryRouteDeclaresAuth`).
 */
export type AuthMode = 'public' | 'signed-in' | 'operator';
const AUTH_MODES: ReadonlySet<string> = new Set<AuthMode>(['public', 'signed-in', 'operator']);

/**
 * What a signed-in person may do in their tenant, lowest first: a viewer reads; a collector also works the
 * receivables (approve/skip/edit reminders, tasks, overrides, promises, disputes, plan); an admin also changes
 * settings, connections, users and tokens. API tokens and the operator act as admins.
 */
export const ROLES = ['viewer', 'collector', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const roleAtLeast = (has: Role, needs: Role) => ROLES.indexOf(has) >= ROLES.indexOf(needs);

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
    /**
     * The least role a signed-in route needs. Undeclared: 'viewer' for GET/HEAD, 'admin' for anything that
     * changes state (deny by default: a write route open to collectors says so).
     */
    role?: Role;
    /** How a hot tenant route reads its tenant row (memoized); the access check always runs. */
    tenantLookup?: (ref: string) => Promise<Tenant>;
    /** The handler checks `:tenant` itself (an upload that creates the tenant it names). */
    tenantCheckedByHandler?: true;
  }
}

/** Route config of a write route that collectors (and admins) may call. */
export const COLLECTOR = { role: 'collector' } as const satisfies { role: Role };
/** Route config of a GET route only admins may call (it shows a secret). */
export const ADMIN = { role: 'admin' } as const satisfies { role: Role };
/** Route config of a non-GET route that only reads (previews, sign-out): every role may call it. */
export const VIEWER = { role: 'viewer' } as const satisfies { role: Role };

/** Route config of a route anyone may call: written on the route itself, so every exception is visible. */
export const PUBLIC = { auth: 'public' } as const satisfies { auth: AuthMode };

/**
 * Routes registered in `scope` (and its children) need `mode` unless they declare their own. A scope can only
 * tighten: 'public' is never a scope default.
 */
export function requireAuth(scope: FastifyInstance, mode: Exclude<AuthMode, 'public'> = 'signed-in'): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, auth: route.config?.auth ?? mode };
  });
}

/**
 * Collects every route as it is added and, once the app is ready, fails start-up when one declares no auth mode:
 * a route added without a decision is a bug found at boot, not a hole found by an attacker. Returns the table
 * (method, url, auth), which the security tests sweep.
 */
export function assertEveryRouteDeclaresAuth(app: FastifyInstance): RouteAuth[] {
  const routes: RouteOptionsLike[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  const table: RouteAuth[] = [];
  app.addHook('onReady', async () => {
    const missing: string[] = [];
    for (const r of routes) {
      const auth = r.config?.auth;
      for (const method of [r.method].flat()) {
        if (!auth || !AUTH_MODES.has(auth)) missing.push(`${method} ${r.url}`);
        else {
          const role = r.config?.role ?? (SAFE_METHODS.has(String(method)) ? 'viewer' : 'admin');
          table.push({ method: String(method), url: r.url, auth, role });
        }
      }
    }
    if (missing.length > 0) {
      throw new Error(
        `routes without an auth declaration (config.auth or requireAuth): ${missing.join(', ')}`,
      );
    }
  });
  return table;
}

export interface RouteAuth {
  method: string;
  url: string;
  auth: AuthMode;
  /** The least role a signed-in caller needs (meaningless for public routes). */
  role: Role;
}
interface RouteOptionsLike {
  method: string | string[];
  url: string;
  config?: { auth?: AuthMode; role?: Role };
}

export function registerAuth(app: FastifyInstance, services: Services): void {
  const sessionAuth = services.auth.sessions;
  // Bearer tokens are read from the database at most once a second each; any state-changing request (a revoke
  // among them) clears the memo before its answer is sent.
  const tokenLookup = memoizedApiTokenLookup();
  app.addHook('onSend', async (req, _reply, payload) => {
    if (!SAFE_METHODS.has(req.method)) tokenLookup.clear();
    return payload;
  });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('endedSession', false);
  app.addHook('onRequest', async (req) => {
    // Unmatched requests (404) carry no auth mode and reach no handler.
    const mode = req.routeOptions.config?.auth;
    if (mode === undefined || mode === 'public') return;
    const principal = await authenticate(req);
    if (mode === 'operator' && principal.tenantId !== null) {
      throw forbidden('only the operator (a token or sign-in link not bound to a tenant) may do this');
    }
    const needs = req.routeOptions.config.role ?? (SAFE_METHODS.has(req.method) ? 'viewer' : 'admin');
    if (!roleAtLeast(principal.role, needs)) {
      throw forbidden(`this needs the ${needs} role; you are signed in as ${principal.role}`);
    }
    req.principal = principal;
  });

  async function authenticate(req: FastifyRequest): Promise<Principal> {
    const header = req.headers.authorization;
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (header === undefined && cookie) {
      const checked = await sessionAuth.checkSession(cookie, services.clock.now());
      if (!('session' in checked)) {
        // A session that ended is not a guess: it does not count against the address (rate-limits.ts).
        if (checked.ended) req.endedSession = true;
        throw unauthorized('your session has ended: sign in again');
      }
      const { session } = checked;
      if (!SAFE_METHODS.has(req.method) && !sessionAuth.checkCsrf(cookie, headerValue(req, CSRF_HEADER))) {
        throw new AppError(
          'csrf_failed',
          'missing or invalid CSRF token: reload the page and try again',
          403,
        );
      }
      return sessionPrincipalOf(session, cookie);
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) throw unauthorized('send the admin token as "Authorization: Bearer <token>", or sign in');
    const token = await services.auth.verifyApiToken(m[1]!, services.clock.now(), tokenLookup);
    if (!token) throw unauthorized('invalid or revoked token');
    return {
      kind: 'api_token',
      tokenId: token.id,
      label: token.label,
      tenantId: token.tenantId,
      role: 'admin',
    };
  }
}

/** The principal of a route that requires one; a missing principal is never read as "operator". */
export function principalOf(req: FastifyRequest): Principal {
  const p = req.principal;
  if (!p) throw unauthorized();
  return p;
}

/**
 * The signed-in session of a request outside /api (e.g. /connect/:provider, to bind a new connection to the
 * session's tenant), or null. /api routes get `req.principal` from the hook above instead.
 */
export async function sessionPrincipal(req: FastifyRequest, services: Services): Promise<Principal | null> {
  const cookie = req.cookies?.[SESSION_COOKIE];
  if (!cookie) return null;
  const session = await services.auth.sessions.verifySession(cookie, services.clock.now());
  return session ? sessionPrincipalOf(session, cookie) : null;
}

function sessionPrincipalOf(session: SessionWithUser, cookie: string): Principal {
  const p = session.person;
  return {
    kind: 'session',
    sessionId: session.id,
    tenantId: session.tenantId,
    sessionToken: cookie,
    user: {
      id: p?.id ?? null,
      method: session.method,
      email: p?.email ?? session.userEmail,
      name: p?.name ?? session.userName,
    },
    // A session without a person was opened by the operator's admin link (or before people existed): an admin.
    role: p?.role ?? 'admin',
  };
}

/** How the audit trail names whoever made a request: the person, else the token or link it came through. */
export function actorName(p: Principal): string {
  if (p.kind === 'api_token') return `API token "${p.label}"`;
  if (p.user.email) return auditName({ name: p.user.name, email: p.user.email });
  return p.tenantId === null ? 'Operator (admin sign-in link)' : 'Admin (sign-in link)';
}

function headerValue(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The answer a tenant-bound principal gets for any tenant but its own, whether that tenant exists or not: slugs are
 * company names, and a 404 for free ones would tell any customer of Duely which other companies use it.
 */
export function otherTenant(p: Principal): AppError {
  return forbidden(
    p.kind === 'session' ? 'you are signed in to another tenant' : 'this token belongs to another tenant',
  );
}

/**
 * Resolves the `:tenant` route parameter (id or slug) and checks the caller may see it. `lookup` lets a hot route
 * memoize the tenant row; the access check always runs. A tenant principal gets the same 403 for another tenant
 * and for one that does not exist; only the operator learns 404.
 */
export async function tenantOf(
  req: FastifyRequest,
  services: Services,
  lookup: (ref: string) => Promise<Tenant> = (ref) => getTenant(services.db, ref),
): Promise<Tenant> {
  if (req.checkedTenant) return req.checkedTenant;
  const ref = (req.params as { tenant?: string }).tenant ?? '';
  const p = principalOf(req);
  let tenant: Tenant;
  try {
    tenant = await lookup(ref);
  } catch (err) {
    if (p.tenantId !== null && err instanceof AppError && err.status === 404) throw otherTenant(p);
    throw err;
  }
  if (p.tenantId !== null && p.tenantId !== tenant.id) throw otherTenant(p);
  return tenant;
}

/**
 * Tenant routes of `scope` resolve `:tenant` and check the caller may see it before their contract validates the
 * request: a stranger to the tenant learns 403/404, never which of their fields were wrong (the route sweep sends
 * empty bodies with another tenant's credentials). The handler's `tenantOf` then reuses the checked row.
 */
export function checkTenantBeforeValidation(scope: FastifyInstance, services: Services): void {
  scope.addHook('preValidation', async (req) => {
    if (req.routeOptions.url?.includes(':tenant') && !req.routeOptions.config.tenantCheckedByHandler) {
      req.checkedTenant = await tenantOf(req, services, req.routeOptions.config.tenantLookup);
    }
  });
}
