/**
 * Connecting a ledger in the browser, for every registered connector with an OAuth connect (connectors/index.ts):
 * - GET /connect/:provider → the provider's authorize URL with a signed, expiring state bound to a cookie nonce;
 * - GET <signIn.path> (e.g. /login/intuit) → the same, as a sign-in with the provider (OpenID Connect);
 * - GET /connect/:provider/launch → the provider's "Launch URL" (the app opened from inside the provider): straight
 *   to the app when this browser is signed in, else the sign-in (a link that leaves the frame when framed);
 * - GET /connect/:provider/callback → check state + cookie, exchange the code, let the connector prove the company
 *   (and user) from the provider's answer (`oauth.identify`: for Intuit the ID token's signature and `realmid`),
 *   store the tokens sealed, create (named after the company) or re-attach the tenant of (provider, externalId),
 *   enqueue the initial sync, and — for a sign-in, or a browser that had no session — open a session in that
 *   tenant; redirect to '/' (an HTML error page otherwise). A sign-in to a company Duely already has resolves the
 *   person first: a disabled one changes nothing, and only the tenant's admins renew or revive its connection;
 * - GET /connect/:provider/disconnect → the page the provider sends users to after disconnecting there.
 * A provider this server does not know, or one without that page, answers 404.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  type AnyConnector,
  connectorFor,
  isProvider,
  type Provider,
  registeredConnectors,
} from '../../../connectors';
import { ConnectorError } from '../../../connectors/errors';
import type { ConnectIdentity, ConnectRefusal, TokenSet } from '../../../connectors/types';
import type { Services } from '../../app-services';
import { SESSION_COOKIE, sessionCookieOptions } from '../../auth/sessions';
import type { StateSigner } from '../../auth/signed-state';
import { firstAdminOfConnectedTenant, type User, userForIntuitSignIn } from '../../auth/users';
import { connectionByExternalId } from '../../db/queries/connection-lookup';
import { syncConnectionJob } from '../../jobs/sync-jobs';
import { callbackUrl, type EnqueueSync, otherBooksMessage } from '../../sync/connect-flow';
import { connectorCredentials, shortNameOf } from '../../sync/connections';
import { PUBLIC, sessionPrincipal } from '../auth';
import { escapeHtml, htmlPage } from './html-page';

const STATE_TTL_MS = 10 * 60_000;
/** A revoke of a sign-in's unkept grant holds the callback this long at most. */
const REVOKE_TIMEOUT_MS = 5_000;

/** The cookie that binds a provider's OAuth state to this browser. */
export const stateCookieName = (c: AnyConnector): string =>
  c.connect?.stateCookie ?? `duely_${c.provider}_oauth`;

/** The nonce is base64url, so the cookie needs no encoding (and no plugin that might be registered elsewhere). */
function nonceCookie(
  name: string,
  value: string,
  opts: { secure: boolean; path: string; maxAge: number },
): string {
  return [
    `${name}=${value}`,
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

/** The registered connector of a route's `:provider` when it connects through OAuth, else null (404). */
function oauthConnector(provider: string): (AnyConnector & { provider: Provider }) | null {
  if (!isProvider(provider)) return null;
  const c = connectorFor(provider);
  if (!c.oauth?.identify || !c.connect?.methods.includes('oauth')) return null;
  return c as AnyConnector & { provider: Provider };
}

export const connectRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const secure = services.config.PUBLIC_URL.startsWith('https://');
    const sessionAuth = services.auth.sessions;
    const signers = new Map<string, StateSigner>();
    const signerFor = (provider: string) => {
      let signer = signers.get(provider);
      if (!signer) {
        signer = services.auth.stateSigner(`oauth-state:${provider}`);
        signers.set(provider, signer);
      }
      return signer;
    };
    const enqueueSync: EnqueueSync = (connectionId, reason, tx) =>
      services.queue.send(syncConnectionJob, { connectionId, reason }, tx ? { tx } : undefined);

    /** A page saying what happened (plain text), with the way back. */
    const page = (
      reply: FastifyReply,
      c: AnyConnector | null,
      status: number,
      title: string,
      text: string,
    ): FastifyReply =>
      htmlPage(
        reply,
        status,
        title,
        `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>` +
          '<p>' +
          (c ? `<a href="/connect/${c.provider}">Connect ${escapeHtml(shortNameOf(c))} again</a> · ` : '') +
          '<a href="/">Back to Duely</a></p>',
      );
    const notFound = (reply: FastifyReply) =>
      page(reply, null, 404, 'Not found', 'Duely cannot connect this provider.');
    const notAdmin = (reply: FastifyReply, c: AnyConnector, role: string) =>
      page(
        reply,
        null,
        403,
        `${shortNameOf(c)} was not connected`,
        `You are signed in to Duely as a ${role}: only an admin of this company in Duely can connect or reconnect ` +
          `${shortNameOf(c)}. Ask one of its admins.`,
      );

    /** Redirects to the provider's consent page; `signIn` marks the state so the callback opens a session. */
    const startAuthorize = async (
      c: AnyConnector,
      req: FastifyRequest,
      reply: FastifyReply,
      signIn: boolean,
    ) => {
      const oauth = c.oauth!;
      const creds = connectorCredentials(c.provider, services.config);
      // Signed in to a tenant (settings app): the company connects to that tenant rather than a new one. A sign-in
      // binds nothing: the company the user picks at the provider decides the tenant.
      const principal = signIn ? null : await sessionPrincipal(req, services).catch(() => null);
      // Connecting binds the company to the signed-in tenant: an admin's change (a viewer who administers another
      // company at the provider would otherwise attach its books to this tenant).
      if (principal?.tenantId && principal.role !== 'admin') return notAdmin(reply, c, principal.role);
      // The session that binds it too: the callback (which may arrive without the cookie) checks it is still an admin.
      const bind =
        principal?.tenantId && principal.kind === 'session'
          ? { t: principal.tenantId, sid: principal.sessionId }
          : {};
      const { state, nonce } = signerFor(c.provider).sign(
        { p: c.provider, ...bind, ...(signIn ? { s: 1 } : {}) },
        services.clock.now(),
        STATE_TTL_MS,
      );
      // A provider with per-company hosts takes the company id the admin typed (?account=).
      const account = (req.query as Record<string, unknown>).account;
      let authorizeUrl: string;
      try {
        authorizeUrl = oauth.endpoints(
          services.config,
          typeof account === 'string' && account ? account : undefined,
        ).authorizeUrl;
      } catch (err) {
        const message = err instanceof ConnectorError ? err.userMessage : 'That company id is not valid.';
        return page(reply, c, 400, `${shortNameOf(c)} was not connected`, message);
      }
      // PKCE: the verifier stays in this browser's state cookie (base64url, after the nonce), never in the URL.
      const verifier = oauth.pkce ? randomBytes(32).toString('base64url') : null;
      const url = oauth.buildAuthorizeUrl({
        authorizeUrl,
        clientId: creds.clientId,
        redirectUri: callbackUrl(services.config.PUBLIC_URL, c.provider),
        state,
        ...(verifier ? { codeChallenge: createHash('sha256').update(verifier).digest('base64url') } : {}),
      });
      reply.header(
        'set-cookie',
        nonceCookie(stateCookieName(c), verifier ? `${nonce}.${verifier}` : nonce, {
          secure,
          path: `/connect/${c.provider}`,
          maxAge: STATE_TTL_MS / 1000,
        }),
      );
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    };

    app.get('/connect/:provider', { config: PUBLIC }, (req, reply) => {
      const c = oauthConnector((req.params as { provider: string }).provider);
      return c ? startAuthorize(c, req, reply, false) : notFound(reply);
    });

    // Sign in with the provider (e.g. GET /login/intuit): one fixed path per connector that signs users in.
    for (const c of registeredConnectors) {
      const signIn = c.connect?.signIn;
      if (!signIn || !oauthConnector(c.provider)) continue;
      app.get(signIn.path, { config: PUBLIC }, (req, reply) => startAuthorize(c, req, reply, true));
    }

    // The provider's Launch URL. Consent pages (Intuit's) refuse to be framed, so a framed, signed-out launch gets a
    // link that opens the sign-in at the top level instead of a redirect the frame could not show.
    app.get('/connect/:provider/launch', { config: PUBLIC }, async (req, reply) => {
      const c = oauthConnector((req.params as { provider: string }).provider);
      const signIn = c?.connect?.signIn;
      if (!c?.connect?.launch || !signIn) return notFound(reply);
      const principal = await sessionPrincipal(req, services).catch(() => null);
      if (principal) return reply.header('cache-control', 'no-store').redirect('/', 302);
      if (req.headers['sec-fetch-dest'] === 'iframe') {
        return htmlPage(
          reply,
          200,
          'Sign in',
          `<h1>Duely</h1><p>${escapeHtml(signIn.launchText)}</p>` +
            `<p><a class="btn" href="${escapeHtml(signIn.path)}" target="_top">${escapeHtml(signIn.buttonLabel)}</a></p>`,
        );
      }
      return startAuthorize(c, req, reply, true);
    });

    app.get('/connect/:provider/callback', { config: PUBLIC }, async (req, reply) => {
      const c = oauthConnector((req.params as { provider: string }).provider);
      if (!c) return notFound(reply);
      const oauth = c.oauth!;
      const short = shortNameOf(c);
      const notConnected = `${short} was not connected`;
      const log = req.log.child({ route: `${c.provider}-callback` });
      // The nonce cookie is single-use: clear it whatever happens next.
      reply.header(
        'set-cookie',
        nonceCookie(stateCookieName(c), '', { secure, path: `/connect/${c.provider}`, maxAge: 0 }),
      );
      const query = req.query as Record<string, string | string[] | undefined>;
      const callback = oauth.parseCallback(query);
      const now = services.clock.now();
      const payload = callback.state ? signerFor(c.provider).verify(callback.state, now) : null;
      const [nonce, codeVerifier] = (readCookie(req.headers.cookie, stateCookieName(c)) ?? '').split('.');
      if (!payload || payload.p !== c.provider || !nonce || payload.n !== nonce) {
        log.warn({ hasState: Boolean(callback.state), hasCookie: Boolean(nonce) }, 'OAuth state refused');
        return page(
          reply,
          c,
          400,
          'The connection could not be verified',
          `This link has expired or was opened in a different browser. Please start connecting ${short} again.`,
        );
      }
      if (!callback.ok) {
        log.warn({ error: callback.error }, `${short} authorization declined`);
        return page(
          reply,
          c,
          callback.error === 'access_denied' ? 403 : 400,
          notConnected,
          callback.error === 'access_denied'
            ? `Access was declined in ${short}. Nothing was connected.`
            : `${short} answered: ${callback.description ?? callback.error}.`,
        );
      }
      // The company id travels in the redirect for some providers (Intuit's realmId): without it, nothing to do.
      if (c.connect?.externalIdInCallback && !callback.externalId) {
        return page(reply, c, 400, notConnected, `${short} did not say which company.`);
      }
      const boundTenant = typeof payload.t === 'string' ? payload.t : null;
      const existingSession = await sessionPrincipal(req, services).catch(() => null);
      // A connect an admin started attaches to their tenant only while this browser is still that admin (or signed
      // out): not once it is signed in as someone who may not change connections.
      if (
        boundTenant &&
        existingSession &&
        (existingSession.tenantId !== boundTenant || existingSession.role !== 'admin')
      ) {
        log.warn(
          { role: existingSession.role },
          'connect refused: the browser is no longer an admin of the tenant',
        );
        return notAdmin(reply, c, existingSession.role);
      }
      // The same whether or not the cookie came back (a Partitioned one often does not): the session that started
      // the connect must still be that tenant's admin — not signed out, disabled, removed or demoted meanwhile.
      if (
        boundTenant &&
        !(
          typeof payload.sid === 'string' &&
          (await sessionAuth.isLiveAdminSession(payload.sid, boundTenant, now))
        )
      ) {
        log.warn('connect refused: the session that started it is no longer an admin of the tenant');
        return page(
          reply,
          c,
          403,
          notConnected,
          `Whoever started this connect is no longer signed in to Duely as an admin of this company. Sign in and connect ${short} again.`,
        );
      }

      const creds = connectorCredentials(c.provider, services.config);
      let tokens: TokenSet;
      try {
        tokens = await oauth.exchangeCode({
          tokenUrl: oauth.endpoints(services.config, callback.externalId ?? undefined).tokenUrl,
          ...creds,
          ...(codeVerifier ? { codeVerifier } : {}),
          code: callback.code,
          redirectUri: callbackUrl(services.config.PUBLIC_URL, c.provider),
        });
      } catch (err) {
        log.error({ err }, `${short} code exchange failed`);
        const message = err instanceof ConnectorError ? err.userMessage : 'The code exchange failed.';
        return page(reply, c, 502, notConnected, message);
      }
      // Which company (and user), proven by the provider's answer; the redirect's company id alone proves nothing.
      // A state bound to no tenant was started signed out (or by the operator): it finishes under the signed-out
      // rules even if the browser signed in to some tenant meanwhile — that session proves nothing about this
      // company, and treated as "signed in but unbound" it would re-attach the company with any consenting user's
      // grant (tests/security/connect-state-session.test.ts). Only the operator, who may change any tenant, is not
      // a sign-in here.
      const operator = existingSession !== null && existingSession.tenantId === null;
      const signIn = payload.s === 1 || (!boundTenant && !operator);
      const identity: ConnectIdentity | ConnectRefusal = await oauth.identify!({
        config: services.config,
        credentials: creds,
        tokens,
        claimedExternalId: callback.externalId,
        signIn,
        logger: log,
        limiterFor: services.sync.limiterFor(c.provider),
      });
      if (!identity.ok) return page(reply, c, identity.status, identity.title, identity.message);
      const { externalId, user } = identity;
      // Only a new tenant is named after the company: no API call when the company or the tenant is already known.
      const known = boundTenant
        ? undefined
        : await connectionByExternalId(services.db, c.provider, externalId);
      const newTenant = !boundTenant && !known;
      const companyName = newTenant ? await identity.displayName() : null;
      if (signIn && !user && !boundTenant && !newTenant) {
        // A provider that names no person, a signed-out browser, a company Duely already has: the consent proves a
        // role in the company's account, not a place in the team. Such a browser may restore a grant the provider
        // stopped honouring (reconnect needed), but never replace a working one (its role may see less) nor revive
        // a connection the team turned off.
        if (known && known.status !== 'reconnect_needed') {
          return page(
            reply,
            null,
            409,
            `${short} is already connected`,
            `${short} account ${externalId} is already connected to Duely. Sign in to Duely with your sign-in link, then use Reconnect on the Connections page if its credentials need renewing.`,
          );
        }
      }

      /**
       * The tokens of a sign-in Duely does not keep (a person who may not change the connection). The provider
       * connects an app to a company once, and a revoke ends that connection, whichever token it names: while
       * Duely's connection is active, these tokens stand for the very grant it shows and uses, and revoking them
       * would cut it, so they are only dropped. When the connection is disconnected or needs reconnecting, the
       * sign-in re-created a grant nobody in Duely sees (or can end there): it is revoked, with this sign-in's own
       * refresh token (never read from the stored credentials). A failure is logged by code, never with a token;
       * the person is signed in (or refused) all the same.
       */
      const dropSignInGrant = async (conn: { id: string; status: string }) => {
        if (conn.status === 'active') return;
        await revokeGrant({ connectionId: conn.id, status: conn.status });
      };
      /** Revokes the fresh grant of this callback (never a stored one); a failure is logged by code only. */
      const revokeGrant = async (context: Record<string, unknown>) => {
        try {
          await oauth.revoke({
            revokeUrl: oauth.endpoints(services.config, externalId).revokeUrl,
            ...creds,
            token: tokens.refreshToken,
            signal: AbortSignal.timeout(REVOKE_TIMEOUT_MS),
          });
          log.info({ externalId, ...context }, `unkept grant revoked at ${short}`);
        } catch (err) {
          log.warn(
            { externalId, ...context, code: err instanceof ConnectorError ? err.code : 'unknown' },
            `could not revoke an unkept grant at ${short}`,
          );
        }
      };
      const method = c.connect?.signIn?.sessionMethod;
      const refusedSignIn = (why: 'disabled' | 'removed') =>
        page(
          reply,
          c,
          403,
          'You were not signed in',
          why === 'removed'
            ? 'An admin of this company removed your access to it in Duely. One of its admins can invite you again.'
            : 'Your access to this company in Duely was turned off. Ask one of its admins to turn it back on.',
        );
      // A person signing in to a company Duely already has is resolved before anything changes (found, or created
      // as a viewer — never when they will be refused: turned off, or removed by an admin): a sign-in proves who
      // they are and that they are a user of the company's ledger, not that they may change its connection. Only an
      // admin of the tenant (or the tenant's first person, who becomes its admin) renews the grant or revives a
      // connection that was disconnected or needs reconnecting; anyone else is signed in and the connection stays
      // exactly as it was (their role in the ledger may see less, and a refused person's or a viewer's consent must
      // not undo what the team decided). Their fresh tokens are not kept; what becomes of the grant they stand for depends on the
      // connection (dropSignInGrant).
      let person: User | undefined;
      if (signIn && user && method && known) {
        const resolved = await userForIntuitSignIn(services.db, known.tenantId, user, now);
        if ('refused' in resolved) {
          log.warn(
            { externalId, user: user.sub },
            `sign-in refused: the person was ${resolved.refused === 'removed' ? 'removed by an admin' : 'disabled'}`,
          );
          await dropSignInGrant(known);
          return refusedSignIn(resolved.refused);
        }
        person = resolved.user;
      }
      // Not an admin: signed in below, the connection left as it was (no tokens stored, no sync enqueued).
      const leave = known && person && person.role !== 'admin' ? { conn: known, role: person.role } : null;
      if (leave) {
        log.info(
          { externalId, connectionId: leave.conn.id, status: leave.conn.status, role: leave.role },
          `sign-in by a ${leave.role}: the ${short} connection is left as it was`,
        );
        await dropSignInGrant(leave.conn);
      }
      const result = leave
        ? { tenantId: leave.conn.tenantId, tenantSlug: null, connectionId: leave.conn.id, reattached: true }
        : await services.sync.connect.attach(enqueueSync, {
            provider: c.provider,
            externalId,
            tokens,
            boundTenant,
            companyName,
          });
      if (!result) {
        return page(
          reply,
          c,
          409,
          notConnected,
          `This ${short} company is already connected to another Duely account.`,
        );
      }
      if ('refused' in result) {
        // The company is in no Duely tenant: the grant its consent just made is nobody's, so it is revoked.
        log.warn({ externalId, holds: result.holds }, 'connect refused: the tenant holds another company');
        await revokeGrant({ refused: result.refused });
        return page(reply, null, 409, notConnected, otherBooksMessage(result));
      }
      const { tenantId, tenantSlug, connectionId, reattached } = result;
      if (!leave) {
        log.info({ externalId, tenant: tenantSlug, connectionId, reattached }, `${short} connected`);
      }
      if (signIn && user && method) {
        // The person: resolved above for a known company; for a new one, created now (its first user: the admin).
        const resolved = person
          ? { user: person }
          : await userForIntuitSignIn(services.db, tenantId, user, now);
        if ('refused' in resolved) return refusedSignIn(resolved.refused);
        const signedIn = resolved.user;
        const { token } = await sessionAuth.createSession({
          tenantId,
          userId: signedIn.id,
          method,
          now,
          user: { sub: user.sub, email: user.email, name: user.name },
        });
        reply.setCookie(SESSION_COOKIE, token, sessionCookieOptions(services.config.PUBLIC_URL));
        log.info({ tenant: tenantSlug ?? tenantId, user: user.sub }, `signed in through ${c.provider}`);
      }
      if (signIn && !user) {
        // The provider names no person (no OpenID identity): the consent proved a role in the company's account,
        // nothing about who is behind this browser. A company Duely already has is re-attached (its grant renewed)
        // but this browser gets no way into its tenant: its people sign in with their own links.
        if (reattached) {
          return page(
            reply,
            null,
            200,
            `${short} connected`,
            `${short} account ${externalId} is connected again and syncing. Sign in to Duely with your sign-in link (or ask an admin of your company in Duely for one) to see it.`,
          );
        }
        // A company new to Duely: this connect created its tenant, and whoever completed it is its first admin.
        const admin = await firstAdminOfConnectedTenant(
          services.db,
          tenantId,
          { provider: c.provider, externalId },
          now,
        );
        if (admin) {
          const { token } = await sessionAuth.createSession({
            tenantId,
            userId: admin.id,
            method: 'connect',
            now,
          });
          reply.setCookie(SESSION_COOKIE, token, sessionCookieOptions(services.config.PUBLIC_URL));
          log.info(
            { tenant: tenantSlug, user: admin.id },
            `first admin signed in through a ${c.provider} connect`,
          );
        }
      }
      // A connect or reconnect lands on Connections (where it started, and where the sync's progress shows); a sign-in
      // with the provider (/login/…) to a company Duely has returns to the app. Either names the company (?company=): an operator
      // who had another one open would otherwise land on that one, still offered the connect it just made.
      const company = tenantSlug ? `?company=${encodeURIComponent(tenantSlug)}` : '';
      return reply
        .header('cache-control', 'no-store')
        .redirect(`${reattached && payload.s === 1 ? '/' : '/connections'}${company}`, 302);
    });

    // The provider's "Disconnect URL": the user disconnected Duely from inside the provider. The grant is already
    // revoked there; the next sync meets invalid_grant and marks the connection "reconnect needed". This
    // unauthenticated GET changes nothing itself (a guessed company id must not disconnect anyone).
    app.get('/connect/:provider/disconnect', { config: PUBLIC }, async (req, reply) => {
      const provider = (req.params as { provider: string }).provider;
      const c = isProvider(provider) ? connectorFor(provider) : null;
      const landing = c?.connect?.disconnectedPage;
      if (!c || !landing) return notFound(reply);
      return page(reply, c, 200, landing.title, landing.text);
    });
  };
