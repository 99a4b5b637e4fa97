/**
 * QuickBooks in the browser and from Intuit:
 * - GET /connect/quickbooks → Intuit's authorize URL with a signed, expiring state bound to a cookie nonce;
 * - GET /connect/quickbooks/callback → check state + cookie, exchange the code, store the tokens sealed, create or
 *   re-attach the tenant of that realm, enqueue the initial sync, redirect to '/' (an HTML error page otherwise);
 * - GET /connect/quickbooks/disconnect → the landing page Intuit sends users to after disconnecting in QuickBooks;
 * - POST /webhooks/quickbooks → verify `intuit-signature` over the raw body, enqueue one sync per known realm.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { connectors } from '../../../connectors';
import { ConnectorError } from '../../../connectors/errors';
import { toStoredTokens } from '../../auth/connection-tokens';
import { StateSigner } from '../../auth/signed-state';
import { ensureTenant } from '../../db/queries/tenants';
import { connections, tenants } from '../../db/schema';
import { syncConnectionJob } from '../../jobs/sync-jobs';
import type { Services } from '../../services';
import { quickbooksCredentials, vaultFor } from '../../sync/connections';
import { sessionPrincipal } from '../auth';

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

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Duely</title>` +
        '<meta name="viewport" content="width=device-width,initial-scale=1">' +
        '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2937}' +
        'a{color:#2563eb}</style></head>' +
        `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p>` +
        '<p><a href="/connect/quickbooks">Connect QuickBooks again</a> · <a href="/">Back to Duely</a></p></body></html>',
    );
}

export const quickbooksRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const signer = new StateSigner(services.config.APP_SECRET, 'oauth-state:quickbooks');
    const secure = services.config.PUBLIC_URL.startsWith('https://');
    const cookiePath = '/connect/quickbooks';

    app.get('/connect/quickbooks', async (req, reply) => {
      const creds = quickbooksCredentials(services.config);
      // Signed in to a tenant (settings app): the company connects to that tenant rather than a new one.
      const principal = await sessionPrincipal(req, services).catch(() => null);
      const bind = principal?.tenantId ? { t: principal.tenantId } : {};
      const { state, nonce } = signer.sign({ p: 'quickbooks', ...bind }, services.clock.now(), STATE_TTL_MS);
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
    });

    app.get('/connect/quickbooks/callback', async (req, reply) => {
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

      let tokenSet: Awaited<ReturnType<typeof qb.oauth.exchangeCode>>;
      try {
        tokenSet = await qb.oauth.exchangeCode({
          tokenUrl: qb.oauth.endpoints(services.config).tokenUrl,
          ...quickbooksCredentials(services.config),
          code: callback.code,
          redirectUri: quickbooksCallbackUrl(services.config.PUBLIC_URL),
        });
      } catch (err) {
        log.error({ err }, 'QuickBooks code exchange failed');
        const message = err instanceof ConnectorError ? err.userMessage : 'The code exchange failed.';
        return page(reply, 502, 'QuickBooks was not connected', message);
      }
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

      const boundTenant = typeof payload.t === 'string' ? payload.t : null;
      const result = await services.db.transaction(async (tx) => {
        const [existing] = await tx
          .select()
          .from(connections)
          .where(and(eq(connections.provider, 'quickbooks'), eq(connections.externalId, realmId)));
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
          return { tenantSlug: t?.slug ?? '', connectionId: row!.id, reattached: true };
        }
        const [bound] = boundTenant ? await tx.select().from(tenants).where(eq(tenants.id, boundTenant)) : [];
        const tenant = bound ?? (await ensureTenant(tx, `QuickBooks ${realmId}`, 'quickbooks'));
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
        return { tenantSlug: tenant.slug, connectionId: row!.id, reattached: false };
      });
      if (!result) {
        return page(
          reply,
          409,
          'QuickBooks was not connected',
          'This QuickBooks company is already connected to another Duely account.',
        );
      }
      const { tenantSlug, connectionId, reattached } = result;
      log.info({ realmId, tenant: tenantSlug, connectionId, reattached }, 'QuickBooks connected');
      return reply.header('cache-control', 'no-store').redirect('/', 302);
    });

    // Intuit's "Disconnect URL": the user disconnected Duely from inside QuickBooks. The grant is already revoked at
    // Intuit; the next sync meets invalid_grant and marks the connection "reconnect needed". This unauthenticated
    // GET changes nothing itself (a guessed realmId must not disconnect anyone).
    app.get('/connect/quickbooks/disconnect', async (_req, reply) =>
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
      hooks.post('/webhooks/quickbooks', async (req, reply) => {
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
