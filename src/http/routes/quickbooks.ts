/**
 * QuickBooks in the browser and from Intuit:
 * - GET /connect/quickbooks → Intuit's authorize URL with a signed, expiring state bound to a cookie nonce;
 * - GET /login/intuit → the same, as "Sign in with Intuit" (OpenID Connect: scopes openid, profile, email);
 * - GET /connect/quickbooks/launch → Intuit's "Launch URL" (the app opened from QuickBooks): straight to the app
 *   when this browser is signed in, else Sign in with Intuit (a link that leaves the frame when framed);
 * - GET /connect/quickbooks/callback → check state + cookie, exchange the code, verify the ID token (issuer,
 *   audience, expiry, RS256 signature via intuit-oauth) and that its `realmid` is the company in the callback, store
 *   the tokens sealed, create (named from CompanyInfo) or re-attach the tenant of that realm, enqueue the initial
 *   sync, and — for a sign-in, or a browser that had no session — open a session in that tenant; redirect to '/'
 *   (an HTML error page otherwise);
 * - GET /connect/quickbooks/disconnect → the landing page Intuit sends users to after disconnecting in QuickBooks;
 * - POST /webhooks/quickbooks → verify `intuit-signature` over the raw body, enqueue one sync per known realm.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { connectors } from '../../../connectors';
import { ConnectorError } from '../../../connectors/errors';
import { QboClient } from '../../../connectors/quickbooks';
import {
  fetchUserInfo,
  type IdTokenClaims,
  type IntuitUser,
  verifyIdToken,
} from '../../../connectors/quickbooks/openid';
import { toStoredTokens } from '../../auth/connection-tokens';
import { userForIntuitSignIn } from '../../auth/users';
import { SESSION_COOKIE, SessionAuth, sessionCookieOptions } from '../../auth/sessions';
import { StateSigner } from '../../auth/signed-state';
import type { DbOrTx } from '../../db/client';
import { createTenant } from '../../db/queries/tenants';
import { connections, tenants } from '../../db/schema';
import { DEMO_AUTHORIZE_PATH } from '../../demo-company';
import { syncConnectionJob } from '../../jobs/sync-jobs';
import type { Services } from '../../services';
import { quickbooksCredentials, vaultFor } from '../../sync/connections';
import { PUBLIC, sessionPrincipal } from '../auth';

export const OAUTH_COOKIE = 'duely_qbo_oauth';
const STATE_TTL_MS = 10 * 60_000;
const qb = connectors.quickbooks;

/** The nonce is base64url, so the cookie needs no encoding (and no plugin that might be registered elsewhere). */
function nonceCookie(value: string, opts: { secure: boolean; path: string; maxAge: number }): string {
  return [
    `${OAUTH_COOKIE}=${value}`,
    `Path=${opts.path}`,
    `Max-Age=${opts.maxAge}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(opts.secure ? ['Secure'] : []),
  ].join('; ');
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export const quickbooksCallbackUrl = (publicUrl: string) => `${publicUrl}/connect/quickbooks/callback`;

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** The HTML shell of this module's pages (errors, the framed launch); `body` is trusted markup. */
function htmlPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Duely</title>` +
        '<meta name="viewport" content="width=device-width,initial-scale=1">' +
        '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2937}' +
        'a{color:#2563eb}a.btn{display:inline-block;background:#2ca01c;color:#fff;padding:.6rem 1rem;' +
        'border-radius:6px;text-decoration:none;font-weight:600}</style></head>' +
        `<body>${body}</body></html>`,
    );
}

/** A page saying what happened (plain text), with the way back. */
/** Whether `location` is the callback itself (same origin and path; the query carries code and state). */
function isCallback(location: string, callback: string): boolean {
  try {
    const a = new URL(location);
    const b = new URL(callback);
    return a.origin === b.origin && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

function page(reply: FastifyReply, status: number, title: string, text: string): FastifyReply {
  return htmlPage(
    reply,
    status,
    title,
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>` +
      '<p><a href="/connect/quickbooks">Connect QuickBooks again</a> · <a href="/">Back to Duely</a></p>',
  );
}

/** The QuickBooks connection of a company (realm), if Duely has one. */
async function realmConnection(db: DbOrTx, realmId: string) {
  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.provider, 'quickbooks'), eq(connections.externalId, realmId)));
  return row;
}

export const quickbooksRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const signer = new StateSigner(services.config.APP_SECRET, 'oauth-state:quickbooks');
    const secure = services.config.PUBLIC_URL.startsWith('https://');
    const cookiePath = '/connect/quickbooks';
    const sessionAuth = new SessionAuth(services.db, services.config.APP_SECRET);

    /** CompanyInfo.CompanyName with the new access token (names a new tenant after the company, not its id). */
    const readCompanyName = async (realmId: string, accessToken: string): Promise<string | null> => {
      // A sign-in must not wait out throttles or retries: one attempt, a few seconds, else the realm id names it.
      const client = new QboClient({
        apiBaseUrl: qb.oauth.endpoints(services.config).apiBaseUrl,
        realmId,
        getAccessToken: async () => accessToken,
        onUnauthorized: async () => {
          throw new ConnectorError({ code: 'unauthorized', message: 'the new access token was refused' });
        },
        maxServerRetries: 0,
        maxThrottleRetries: 0,
        requestTimeoutMs: 5_000,
      });
      const info = await client.read('CompanyInfo', realmId);
      const name = typeof info.CompanyName === 'string' ? info.CompanyName.trim() : '';
      return name || null;
    };

    /** Redirects to Intuit's consent page; `signIn` marks the state so the callback opens a session. */
    const startAuthorize = async (req: FastifyRequest, reply: FastifyReply, signIn: boolean) => {
      const creds = quickbooksCredentials(services.config);
      // Signed in to a tenant (settings app): the company connects to that tenant rather than a new one. A sign-in
      // binds nothing: the company the user picks at Intuit decides the tenant.
      const principal = signIn ? null : await sessionPrincipal(req, services).catch(() => null);
      const bind = principal?.tenantId ? { t: principal.tenantId } : {};
      const { state, nonce } = signer.sign(
        { p: 'quickbooks', ...bind, ...(signIn ? { s: 1 } : {}) },
        services.clock.now(),
        STATE_TTL_MS,
      );
      const url = qb.oauth.buildAuthorizeUrl({
        authorizeUrl: qb.oauth.endpoints(services.config).authorizeUrl,
        clientId: creds.clientId,
        redirectUri: quickbooksCallbackUrl(services.config.PUBLIC_URL),
        state,
      });
      reply.header(
        'set-cookie',
        nonceCookie(nonce, { secure, path: cookiePath, maxAge: STATE_TTL_MS / 1000 }),
      );
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    };

    app.get('/connect/quickbooks', { config: PUBLIC }, (req, reply) => startAuthorize(req, reply, false));

    // The demo company's consent page (src/demo-company.ts): the sandbox approves at once and answers with the
    // redirect to our callback, which we pass on to the browser.
    app.get(DEMO_AUTHORIZE_PATH, { config: PUBLIC }, async (req, reply) => {
      const demo = services.demoCompany;
      if (!demo)
        return page(reply, 404, 'No demo company here', 'This server does not run the demo company.');
      // Like Intuit, only the registered callback may receive a code: anything else would make this page an open
      // redirect that hands codes to whoever wrote the link.
      const callback = quickbooksCallbackUrl(services.config.PUBLIC_URL);
      const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
      if (query.getAll('redirect_uri').length !== 1 || query.get('redirect_uri') !== callback) {
        return page(reply, 400, 'Not a Duely sign-in link', 'This link does not lead back to Duely.');
      }
      const res = await fetch(`${demo.sandbox.url}/connect/oauth2?${query.toString()}`, {
        redirect: 'manual',
      });
      const location = res.headers.get('location');
      if (res.status !== 302 || !location || !isCallback(location, callback)) {
        return page(reply, 502, 'The demo company did not answer', `The sandbox answered ${res.status}.`);
      }
      return reply.header('cache-control', 'no-store').redirect(location, 302);
    });
    app.get('/login/intuit', { config: PUBLIC }, (req, reply) => startAuthorize(req, reply, true));

    // Intuit's Launch URL. Intuit's consent pages refuse to be framed, so a framed, signed-out launch gets a link
    // that opens the sign-in at the top level instead of a redirect the frame could not show.
    app.get('/connect/quickbooks/launch', { config: PUBLIC }, async (req, reply) => {
      const principal = await sessionPrincipal(req, services).catch(() => null);
      if (principal) return reply.header('cache-control', 'no-store').redirect('/', 302);
      if (req.headers['sec-fetch-dest'] === 'iframe') {
        return htmlPage(
          reply,
          200,
          'Sign in',
          '<h1>Duely</h1><p>Sign in with your Intuit account to open Duely for this company.</p>' +
            '<p><a class="btn" href="/login/intuit" target="_top">Sign in with Intuit</a></p>',
        );
      }
      return startAuthorize(req, reply, true);
    });

    app.get('/connect/quickbooks/callback', { config: PUBLIC }, async (req, reply) => {
      const log = req.log.child({ route: 'quickbooks-callback' });
      // The nonce cookie is single-use: clear it whatever happens next.
      reply.header('set-cookie', nonceCookie('', { secure, path: cookiePath, maxAge: 0 }));
      const query = req.query as Record<string, string | string[] | undefined>;
      const callback = qb.oauth.parseCallback(query);
      const now = services.clock.now();
      const payload = callback.state ? signer.verify(callback.state, now) : null;
      const nonce = readCookie(req.headers.cookie, OAUTH_COOKIE);
      if (!payload || !nonce || payload.n !== nonce) {
        log.warn({ hasState: Boolean(callback.state), hasCookie: Boolean(nonce) }, 'OAuth state refused');
        return page(
          reply,
          400,
          'The connection could not be verified',
          'This link has expired or was opened in a different browser. Please start connecting QuickBooks again.',
        );
      }
      if (!callback.ok) {
        log.warn({ error: callback.error }, 'QuickBooks authorization declined');
        return page(
          reply,
          callback.error === 'access_denied' ? 403 : 400,
          'QuickBooks was not connected',
          callback.error === 'access_denied'
            ? 'Access was declined in QuickBooks. Nothing was connected.'
            : `QuickBooks answered: ${callback.description ?? callback.error}.`,
        );
      }
      const realmId = callback.externalId;
      if (!realmId)
        return page(reply, 400, 'QuickBooks was not connected', 'QuickBooks did not say which company.');

      const creds = quickbooksCredentials(services.config);
      const endpoints = qb.oauth.endpoints(services.config);
      let tokenSet: Awaited<ReturnType<typeof qb.oauth.exchangeCode>>;
      try {
        tokenSet = await qb.oauth.exchangeCode({
          tokenUrl: endpoints.tokenUrl,
          ...creds,
          code: callback.code,
          redirectUri: quickbooksCallbackUrl(services.config.PUBLIC_URL),
        });
      } catch (err) {
        log.error({ err }, 'QuickBooks code exchange failed');
        const message = err instanceof ConnectorError ? err.userMessage : 'The code exchange failed.';
        return page(reply, 502, 'QuickBooks was not connected', message);
      }
      // Which company, proven by Intuit: every callback needs a verified ID token (we always ask for `openid`) whose
      // realmid is the realm in the callback. The realmId query parameter alone proves nothing — an attacker could
      // strip `openid` from the authorize URL and swap realmId to file another company under their tenant.
      const boundTenant = typeof payload.t === 'string' ? payload.t : null;
      const existingSession = await sessionPrincipal(req, services).catch(() => null);
      const signIn = payload.s === 1 || (!existingSession && !boundTenant);
      let claims: IdTokenClaims;
      let user: IntuitUser | null = null;
      if (!tokenSet.idToken) {
        log.warn({ realmId, signIn }, 'callback without an ID token refused');
        return page(
          reply,
          400,
          signIn ? 'You were not signed in' : 'QuickBooks was not connected',
          'Intuit did not confirm who you are and which company you chose (no ID token). Please start again.',
        );
      }
      try {
        claims = await verifyIdToken({
          idToken: tokenSet.idToken,
          ...creds,
          environment: services.config.QUICKBOOKS_ENVIRONMENT,
          jwksUrl: endpoints.jwksUrl,
        });
      } catch (err) {
        log.warn({ err, realmId }, 'ID token refused');
        const retry = err instanceof ConnectorError && err.retryable;
        return page(
          reply,
          retry ? 502 : 401,
          'You were not signed in',
          retry
            ? 'Intuit could not be reached to confirm who you are. Please try again in a minute.'
            : 'Intuit could not confirm who you are. Please sign in with Intuit again.',
        );
      }
      if (claims.realmId !== realmId) {
        log.warn({ realmId, tokenRealm: claims.realmId }, 'ID token is for another company');
        return page(
          reply,
          400,
          'QuickBooks was not connected',
          'The company in the answer from Intuit does not match the company you signed in to.',
        );
      }
      if (signIn) {
        try {
          user = await fetchUserInfo({
            userInfoUrl: endpoints.userInfoUrl,
            accessToken: tokenSet.accessToken,
          });
        } catch (err) {
          // The ID token already proved who this is; the profile only adds a name and email.
          log.warn({ err }, 'Intuit userinfo failed; signing in without a profile');
          user = { sub: claims.sub, email: null, emailVerified: false, name: null };
        }
        if (user.sub !== claims.sub) {
          log.warn('userinfo is about another user than the ID token');
          return page(
            reply,
            401,
            'You were not signed in',
            'Intuit answered about a different user. Please try again.',
          );
        }
      }
      // Only a new tenant is named after the company: no API call when the realm or the tenant is already known.
      const newTenant = !boundTenant && (await realmConnection(services.db, realmId)) === undefined;
      const companyName = newTenant
        ? await readCompanyName(realmId, tokenSet.accessToken).catch((err: unknown) => {
            log.warn({ err, realmId }, 'CompanyInfo read failed; naming the tenant after the realm');
            return null;
          })
        : null;

      const stored = toStoredTokens(tokenSet, now);
      const sealed = vaultFor(services.config).seal(stored);
      const tokenColumns = {
        credentials: sealed,
        accessExpiresAt: new Date(stored.accessExpiresAt),
        refreshExpiresAt: stored.refreshExpiresAt ? new Date(stored.refreshExpiresAt) : null,
        status: 'active' as const,
        statusReason: null,
        updatedAt: now,
      };

      const result = await services.db.transaction(async (tx) => {
        const existing = await realmConnection(tx, realmId);
        if (existing && boundTenant && existing.tenantId !== boundTenant) return null;
        if (existing) {
          const [row] = await tx
            .update(connections)
            .set({ ...tokenColumns, credentialsVersion: existing.credentialsVersion + 1 })
            .where(eq(connections.id, existing.id))
            .returning({ id: connections.id });
          const [t] = await tx
            .select({ slug: tenants.slug })
            .from(tenants)
            .where(eq(tenants.id, existing.tenantId));
          await services.queue.send(
            syncConnectionJob,
            { connectionId: row!.id, reason: 'reconnect' },
            { tx },
          );
          return {
            tenantId: existing.tenantId,
            tenantSlug: t?.slug ?? '',
            connectionId: row!.id,
            reattached: true,
          };
        }
        const [bound] = boundTenant ? await tx.select().from(tenants).where(eq(tenants.id, boundTenant)) : [];
        // The company's identity is (quickbooks, realmId), looked up above; its name only labels a new tenant.
        const tenant =
          bound ?? (await createTenant(tx, companyName ?? `QuickBooks ${realmId}`, 'quickbooks'));
        const [row] = await tx
          .insert(connections)
          .values({
            tenantId: tenant.id,
            provider: 'quickbooks',
            externalId: realmId,
            ...tokenColumns,
            credentialsVersion: 1,
          })
          .returning({ id: connections.id });
        await services.queue.send(syncConnectionJob, { connectionId: row!.id, reason: 'connect' }, { tx });
        return { tenantId: tenant.id, tenantSlug: tenant.slug, connectionId: row!.id, reattached: false };
      });
      if (!result) {
        return page(
          reply,
          409,
          'QuickBooks was not connected',
          'This QuickBooks company is already connected to another Duely account.',
        );
      }
      const { tenantId, tenantSlug, connectionId, reattached } = result;
      log.info({ realmId, tenant: tenantSlug, connectionId, reattached }, 'QuickBooks connected');
      if (signIn && user) {
        // The person: found by Intuit subject or email, else created (the install's first user is the admin).
        const person = await userForIntuitSignIn(services.db, tenantId, user, now);
        if (!person) {
          return page(
            reply,
            403,
            'You were not signed in',
            'Your access to this company in Duely was turned off. Ask one of its admins to turn it back on.',
          );
        }
        const { token } = await sessionAuth.createSession({
          tenantId,
          userId: person.id,
          method: 'intuit_openid',
          now,
          user: { sub: user.sub, email: user.email, name: user.name },
        });
        reply.setCookie(SESSION_COOKIE, token, sessionCookieOptions(services.config.PUBLIC_URL));
        log.info({ tenant: tenantSlug, user: user.sub }, 'signed in with Intuit');
      }
      // A newly connected company lands where its first sync's progress shows; a reconnect goes back to the app.
      return reply.header('cache-control', 'no-store').redirect(reattached ? '/' : '/connections', 302);
    });

    // Intuit's "Disconnect URL": the user disconnected Duely from inside QuickBooks. The grant is already revoked at
    // Intuit; the next sync meets invalid_grant and marks the connection "reconnect needed". This unauthenticated
    // GET changes nothing itself (a guessed realmId must not disconnect anyone).
    app.get('/connect/quickbooks/disconnect', { config: PUBLIC }, async (_req, reply) =>
      page(
        reply,
        200,
        'Duely is disconnected from QuickBooks',
        'Duely no longer reads your QuickBooks company and pauses reminders for it. Connect again at any time.',
      ),
    );

    await app.register(async (hooks) => {
      // Signatures cover the exact bytes received: keep the body raw in this route's own context.
      hooks.addContentTypeParser(
        ['application/json', 'application/cloudevents-batch+json', 'application/cloudevents+json'],
        { parseAs: 'buffer' },
        (_req, body, done) => done(null, body),
      );
      hooks.post('/webhooks/quickbooks', { config: PUBLIC }, async (req, reply) => {
        const raw = Buffer.isBuffer(req.body)
          ? req.body
          : Buffer.from(typeof req.body === 'string' ? req.body : '');
        const verifier = services.config.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN;
        if (!verifier)
          req.log.warn('QuickBooks webhook refused: QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN is not set');
        if (!verifier || !qb.webhooks.verify(raw, req.headers, verifier)) {
          return reply
            .status(401)
            .send({ error: { code: 'bad_signature', message: 'invalid intuit-signature' } });
        }
        let events: ReturnType<typeof qb.webhooks.parse>;
        try {
          events = qb.webhooks.parse(raw);
        } catch (err) {
          req.log.warn({ err }, 'QuickBooks webhook body not understood');
          return reply
            .status(400)
            .send({ error: { code: 'bad_payload', message: 'unknown notification format' } });
        }
        const realms = [...new Set(events.map((e) => e.externalId))];
        const known =
          realms.length === 0
            ? []
            : await services.db
                .select({
                  id: connections.id,
                  externalId: connections.externalId,
                  status: connections.status,
                })
                .from(connections)
                .where(and(eq(connections.provider, 'quickbooks'), inArray(connections.externalId, realms)))
                .then((rows) => rows.filter((r) => r.status === 'active'));
        const unknown = realms.filter((r) => !known.some((k) => k.externalId === r));
        if (unknown.length > 0)
          req.log.info({ realms: unknown }, 'QuickBooks webhook for unknown or inactive realms ignored');
        // Enqueue only (Intuit wants an answer within 3 s); the stately queue coalesces bursts and duplicates.
        await Promise.all(
          known.map((k) => services.queue.send(syncConnectionJob, { connectionId: k.id, reason: 'webhook' })),
        );
        return reply
          .status(200)
          .send({ events: events.length, enqueued: known.length, ignored: unknown.length });
      });
    });
  };
