/**
 * Sign-in for the settings app.
 *  GET  /login?token=…      a page with a "Sign in" button (link previews and scanners that fetch the URL do not
 *                           use up the one-time token; only the POST redeems it)
 *  POST /login              redeems the token, sets the session cookie, redirects to the app
 *  GET  /api/v1/session     who is signed in, and the CSRF token the app sends back in x-csrf-token
 *  POST /login/email        "email me a sign-in link": one link per company that address belongs to (same answer
 *                           whether or not it does, so the form cannot be used to find out who is a user)
 *  POST /api/v1/session/logout   revokes the session and clears the cookie
 *  POST /api/v1/session/logout-all   "sign out everywhere": every session of this person
 *  GET  /login/intuit       Sign in with Intuit (OpenID Connect), on the generic connect routes (routes/connect.ts)
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../app-services';
import { SESSION_COOKIE, sessionCookieOptions } from '../../auth/sessions';
import {
  findUser,
  findUserByEmail,
  isPlaceholderEmail,
  normalizeEmail,
  setVerifiedEmail,
} from '../../auth/users';
import { findTenant } from '../../db/queries/tenants';
import { signInOptions } from '../../demo-company';
import { AppError } from '../../errors';
import { actorName, PUBLIC, principalOf, sessionPrincipal, VIEWER } from '../auth';
import * as contract from '../contracts/session';
import { setHtmlHeaders } from '../web';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Duely</title>
<style>
  :root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f6f9; color: #1b2430; }
  main { background: #fff; border: 1px solid #dde3ea; border-radius: 12px; padding: 32px; width: min(420px, 90vw);
         box-shadow: 0 4px 16px rgba(20, 30, 50, .06); }
  h1 { font-size: 1.35rem; margin: 0 0 8px; } p { line-height: 1.5; color: #4a5868; }
  .brand { font-weight: 700; color: #1d5bd8; letter-spacing: .02em; margin-bottom: 20px; }
  button { font: inherit; font-weight: 600; background: #1d5bd8; color: #fff; border: 0; border-radius: 8px;
           padding: 10px 18px; cursor: pointer; width: 100%; margin-top: 8px; }
  button:hover { background: #1747ab; } button:focus-visible { outline: 3px solid #9bbcff; outline-offset: 2px; }
  code { background: #eef2f7; padding: 2px 6px; border-radius: 4px; }
  label { display: block; font-weight: 600; margin: 16px 0 4px; }
  input[type=email] { font: inherit; width: 100%; box-sizing: border-box; padding: 9px 10px; border: 1px solid #b8c2cf;
                      border-radius: 8px; }
  input[type=email]:focus-visible { outline: 3px solid #9bbcff; outline-offset: 1px; }
  a.intuit { display: block; text-align: center; font-weight: 600; background: #2ca01c; color: #fff; border-radius: 8px;
             padding: 10px 18px; text-decoration: none; margin: 8px 0 16px; }
  a.intuit:hover { background: #23811a; } a.intuit:focus-visible { outline: 3px solid #9bbcff; outline-offset: 2px; }
</style></head>
<body><main><div class="brand">Duely</div>${body}</main></body></html>`;
}

/** Same-origin check for the login form: a cross-site page must not be able to sign a browser in. */
function sameOrigin(req: FastifyRequest, publicUrl: string): boolean {
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return req.headers['sec-fetch-site'] !== 'cross-site';
  const own = `${req.protocol}://${req.host}`;
  return origin === own || origin === new URL(publicUrl).origin;
}

export const sessionRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const auth = services.auth.sessions;
    const html = (reply: FastifyReply, status: number, title: string, body: string) =>
      setHtmlHeaders(reply, services.config)
        .status(status)
        .type('text/html; charset=utf-8')
        .send(page(title, body));

    // Form posts from the login page; scoped to this plugin unless the app already parses forms.
    if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
      app.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string' },
        (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );
    }

    // Sign in with a provider (Intuit) is offered when this server can connect its ledger (a live app, or the demo).
    const providerSignIns = () => signInOptions(services.config, services.demoCompany);

    /** A sign-in link that no longer works (forged, expired, used, or its person turned off). */
    const linkGone = (reply: FastifyReply) =>
      html(
        reply,
        401,
        'Link expired',
        `<h1>This sign-in link no longer works</h1><p>Links work once and expire after 15 minutes. Create a new
         one with <code>npx duely login</code>.</p>`,
      );
    /** " to <Company>[ as <email>]", or " as the operator" for a principal bound to no tenant (HTML). */
    const whereAndWho = async (tenantId: string | null, email: string | null) => {
      if (tenantId === null) return ' as the operator';
      const name = (await findTenant(services.db, tenantId))?.name ?? 'a company';
      const as = email && !isPlaceholderEmail(email) ? ` as <strong>${escapeHtml(email)}</strong>` : '';
      return ` to <strong>${escapeHtml(name)}</strong>${as}`;
    };

    app.get('/login', { config: PUBLIC }, async (req, reply) => {
      const token = (req.query as { token?: unknown }).token;
      if (typeof token !== 'string' || token === '') {
        // Intuit's pages refuse to be framed, so the button leaves the frame (target=_top).
        const intuit = providerSignIns()
          .map(
            (o) => `<p>${o.intro}</p>
             <a class="intuit" href="${o.path}" target="_top">${o.label}</a>`,
          )
          .join('');
        return html(
          reply,
          200,
          'Sign in',
          `<h1>Sign in</h1>${intuit}
           <form method="post" action="/login/email">
             <label for="email">Email me a sign-in link</label>
             <input id="email" name="email" type="email" autocomplete="email" required maxlength="254">
             <button type="submit">Send the link</button>
           </form>
           <p>Administrators can also open the sign-in link printed by <code>npm start</code>, or create one with
           <code>npx duely login</code>.</p>`,
        );
      }
      // Whom the link signs in, said before the button: a link someone else sent (theirs, to their company) would
      // otherwise sign this browser in to it blind, replacing its own session, and what it then connected or
      // uploaded would land in their company.
      const who = await auth.peekLoginToken(token, services.clock.now());
      if (!who) return linkGone(reply);
      const current = await sessionPrincipal(req, services).catch(() => null);
      const sameSession =
        current?.kind === 'session' &&
        current.tenantId === who.tenantId &&
        current.user.id === (who.person?.id ?? null);
      const replaces =
        current && !sameSession
          ? `<p>This browser is signed in${await whereAndWho(current.tenantId, current.kind === 'session' ? current.user.email : null)}
             now: signing in with this link replaces that. If you did not ask for this link, close this page.</p>`
          : '';
      const as = who.person
        ? ` as <strong>${escapeHtml(isPlaceholderEmail(who.person.email) ? (who.person.name ?? 'its first admin') : who.person.email)}</strong> (${who.person.role})`
        : who.tenantId
          ? ' as an admin'
          : ', with access to every company';
      return html(
        reply,
        200,
        'Sign in',
        `<h1>Sign in to Duely</h1><p>This one-time link signs this browser in${await whereAndWho(who.tenantId, null)}${as}.
         It works once and expires after 15 minutes.</p>${replaces}
         <form method="post" action="/login"><input type="hidden" name="token" value="${escapeHtml(token)}">
         <button type="submit">Sign in</button></form>`,
      );
    });

    app.post('/login', { config: PUBLIC }, async (req, reply) => {
      const token = (req.body as { token?: unknown } | undefined)?.token;
      if (!sameOrigin(req, services.config.PUBLIC_URL)) {
        return html(
          reply,
          403,
          'Sign-in refused',
          '<h1>Sign-in refused</h1><p>The form came from another site.</p>',
        );
      }
      const now = services.clock.now();
      const redeemed = typeof token === 'string' ? await auth.redeemLoginToken(token, now) : null;
      if (!redeemed) return linkGone(reply);
      const { token: sessionToken } = await auth.createSession({
        tenantId: redeemed.tenantId,
        userId: redeemed.userId,
        method: redeemed.userId ? 'email_link' : 'login_link',
        now,
      });
      reply.setCookie(SESSION_COOKIE, sessionToken, sessionCookieOptions(services.config.PUBLIC_URL));
      return reply.redirect('/', 303);
    });

    app.post('/login/email', { config: PUBLIC }, async (req, reply) => {
      if (!sameOrigin(req, services.config.PUBLIC_URL)) {
        return html(reply, 403, 'Refused', '<h1>Refused</h1><p>The form came from another site.</p>');
      }
      const raw = (req.body as { email?: unknown } | undefined)?.email;
      const email = typeof raw === 'string' && raw.length <= 254 ? normalizeEmail(raw) : '';
      const sent = () =>
        html(
          reply,
          200,
          'Check your email',
          `<h1>Check your email</h1><p>If ${escapeHtml(email || 'that address')} belongs to a Duely user, a
           sign-in link is on its way. It works once and expires after 15 minutes.</p>`,
        );
      // The answer first, the same for anyone; the links (if any) are issued and sent after it
      // (auth/account-mail.ts emailSignInLinks): a user's answer took longer than a stranger's and told who is one.
      const answer = sent();
      if (/^[^\s@]+@[^\s@]+$/.test(email)) {
        const now = services.clock.now();
        services.auth.startSignInEmail(email, now);
      }
      return answer;
    });

    // The first admin of a tenant a signed-out connect created has a placeholder address: they give theirs here, and
    // it becomes theirs only when the link mailed to it is opened (nothing else is ever mailed to an unverified one).
    const emailSigner = services.auth.stateSigner('verify-email');
    const VERIFY_TTL_MS = 24 * 3600_000;
    app.post(
      '/api/v1/session/email',
      { config: { auth: 'signed-in', ...VIEWER }, schema: contract.setOwnEmail },
      async (req, reply) => {
        const p = principalOf(req);
        const userId = p.kind === 'session' ? p.user?.id : null;
        if (!userId || !p.tenantId)
          throw new AppError('forbidden', 'Only a signed-in person has an email', 403);
        const me = await findUser(services.db, p.tenantId, userId);
        if (!me || !isPlaceholderEmail(me.email)) {
          throw new AppError(
            'email_set',
            'Your email is already set: an admin of your company can change it',
            409,
          );
        }
        const email = normalizeEmail(req.body.email);
        if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || isPlaceholderEmail(email)) {
          throw new AppError('validation', 'That is not an email address', 400);
        }
        if (await findUserByEmail(services.db, p.tenantId, email)) {
          throw new AppError('user_exists', `${email} is already a user of this company`, 409);
        }
        const now = services.clock.now();
        const { state } = emailSigner.sign({ u: me.id, t: p.tenantId, e: email }, now, VERIFY_TTL_MS);
        const tenant = await findTenant(services.db, p.tenantId);
        await services.auth.sendAccountEmail(
          {
            tenantId: p.tenantId,
            userId: me.id,
            to: email,
            now,
            props: {
              kind: 'sign_in',
              name: me.name,
              companies: [
                {
                  name: tenant?.name ?? 'your company',
                  url: `${services.config.PUBLIC_URL}/verify-email?token=${encodeURIComponent(state)}`,
                  role: me.role,
                },
              ],
              validFor: '24 hours',
            },
          },
          // The address's bound (429 over it), counted atomically with the email's row, so requests sent at once
          // cannot all pass one count; for this company only: every company's count would tell (by the 429)
          // whether the address had sign-in links, i.e. is a user's elsewhere (POST /login/email sends those).
          // And at most OWN_EMAIL_CONFIRMATIONS_PER_DAY a day for this person, whatever the addresses (no mail relay).
          { tenantId: p.tenantId, confirmationsOf: me.id },
        );
        return reply.status(202).send({ sent: true, email });
      },
    );

    // The link in that email. Mail scanners fetch every link, so the GET only shows a button (as /login does); its
    // same-origin POST makes the address the person's (no session is opened).
    const verifyClaims = (token: unknown) => {
      const claims = typeof token === 'string' ? emailSigner.verify(token, services.clock.now()) : null;
      if (
        !claims ||
        typeof claims.u !== 'string' ||
        typeof claims.t !== 'string' ||
        typeof claims.e !== 'string'
      )
        return null;
      return { u: claims.u, t: claims.t, e: claims.e };
    };
    const linkNotValid = (reply: FastifyReply) =>
      html(
        reply,
        400,
        'Link not valid',
        '<h1>Link not valid</h1><p>This link has expired or is not valid. Sign in and enter your email again.</p>',
      );

    app.get('/verify-email', { config: PUBLIC }, async (req, reply) => {
      const token = (req.query as { token?: unknown }).token;
      const claims = verifyClaims(token);
      if (!claims) return linkNotValid(reply);
      return html(
        reply,
        200,
        'Confirm your email',
        `<h1>Confirm your email</h1><p>Make ${escapeHtml(claims.e)} your Duely sign-in address.</p>
         <form method="post" action="/verify-email"><input type="hidden" name="token" value="${escapeHtml(String(token))}">
         <button type="submit">Confirm</button></form>`,
      );
    });

    app.post('/verify-email', { config: PUBLIC }, async (req, reply) => {
      if (!sameOrigin(req, services.config.PUBLIC_URL)) {
        return html(reply, 403, 'Refused', '<h1>Refused</h1><p>The form came from another site.</p>');
      }
      const claims = verifyClaims((req.body as { token?: unknown } | undefined)?.token);
      if (!claims) return linkNotValid(reply);
      const now = services.clock.now();
      const me = await findUser(services.db, claims.t, claims.u);
      if (!me) return linkNotValid(reply);
      if (normalizeEmail(me.email) !== claims.e) {
        if (!isPlaceholderEmail(me.email)) return linkNotValid(reply);
        const set = await setVerifiedEmail(services.db, claims.t, claims.u, claims.e, now);
        if (!set) return linkNotValid(reply);
        req.log.info({ user: me.id }, 'email verified');
      }
      return html(
        reply,
        200,
        'Email confirmed',
        `<h1>Email confirmed</h1><p>${escapeHtml(claims.e)} is your Duely sign-in address from now on: ask for a sign-in link with it at <a href="/login">/login</a>.</p>`,
      );
    });

    app.get(
      '/api/v1/session',
      { config: { auth: 'signed-in' }, schema: contract.getSession },
      async (req) => {
        const p = principalOf(req);
        const tenant = p.tenantId ? await findTenant(services.db, p.tenantId) : null;
        return {
          kind: p.kind,
          operator: p.tenantId === null,
          tenant: tenant
            ? { id: tenant.id, slug: tenant.slug, name: tenant.name, timezone: tenant.timezone }
            : null,
          csrfToken: p.kind === 'session' ? auth.csrfToken(p.sessionToken) : null,
          /** How this browser signed in and who. */
          user: p.kind === 'session' ? p.user : null,
          /** What this principal may do: viewer, collector or admin. */
          role: p.role,
          signInMethods: ['login_link', ...providerSignIns().map((o) => o.method)],
        };
      },
    );

    app.post(
      '/api/v1/session/logout',
      { config: { auth: 'signed-in', ...VIEWER }, schema: contract.logout },
      async (req, reply) => {
        const p = principalOf(req);
        if (p.kind === 'session') await auth.revokeSession(p.sessionId, services.clock.now());
        const { maxAge: _maxAge, ...opts } = sessionCookieOptions(services.config.PUBLIC_URL);
        reply.clearCookie(SESSION_COOKIE, opts);
        return { signedOut: true };
      },
    );

    app.post(
      '/api/v1/session/logout-all',
      { config: { auth: 'signed-in', ...VIEWER }, schema: contract.logoutAll },
      async (req, reply) => {
        const p = principalOf(req);
        if (p.kind !== 'session') {
          throw new AppError(
            'not_a_session',
            'sign out everywhere is for browser sessions; revoke a token instead',
            400,
          );
        }
        const session = await auth.verifySession(p.sessionToken, services.clock.now());
        const ended = session ? await auth.revokeEverywhere(session, services.clock.now()) : 0;
        req.log.info({ ended, by: actorName(p) }, 'signed out everywhere');
        const { maxAge: _maxAge, ...opts } = sessionCookieOptions(services.config.PUBLIC_URL);
        reply.clearCookie(SESSION_COOKIE, opts);
        return { signedOut: true, sessionsEnded: ended };
      },
    );
  };
