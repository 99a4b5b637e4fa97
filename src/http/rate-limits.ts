/**
 * Rate limits (@fastify/rate-limit, in-process store) where guessing or flooding pays: sign-in, credentials that
 * fail, and the public webhooks. Routes are picked by the pattern the router matched (never by URL text, so an
 * encoded path is the same route) and clients by address (req.ip: the socket's, or the forwarded one from a
 * TRUST_PROXY proxy).
 *  - sign-in: RATE_LIMIT_SIGN_IN requests a minute per address to the sign-in and connect routes;
 *  - failed credentials: after RATE_LIMIT_AUTH_FAILURES answers of 401 to requests that carried a bearer token or a
 *    session cookie within 15 minutes, that address's credentialed requests get 429 until the window ends, so a
 *    token or session cannot be guessed at speed; requests without credentials (public pages) are not held, and a
 *    session cookie Duely issued that has since ended is not a guess and does not count;
 *  - webhooks: RATE_LIMIT_WEBHOOKS requests a minute per address (the providers retry a 429).
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../auth/sessions';
import type { Config } from '../config';
import { DEMO_AUTHORIZE_PATH } from '../demo-company';
import { AppError } from '../errors';

const MINUTE = 60_000;
const FAILURE_WINDOW = 15 * MINUTE;

/** Method and route pattern of the sign-in and connect entry points. */
const SIGN_IN_ROUTES = new Set([
  'GET /login',
  'POST /login',
  'POST /login/email',
  'GET /login/intuit',
  'GET /connect/:provider',
  'GET /connect/:provider/launch',
  'GET /connect/:provider/callback',
  `GET ${DEMO_AUTHORIZE_PATH}`,
]);
const WEBHOOK_ROUTES = new Set(['POST /webhooks/resend', 'POST /webhooks/:provider']);

const routeOf = (req: FastifyRequest) => `${req.method} ${req.routeOptions.url ?? ''}`;
const hasCredentials = (req: FastifyRequest) =>
  req.headers.authorization !== undefined || Boolean(req.cookies?.[SESSION_COOKIE]);

/** Must be registered before the auth hook, so a held address is refused before its token is even looked up. */
export async function registerRateLimits(
  app: FastifyInstance,
  config: Pick<Config, 'RATE_LIMIT_SIGN_IN' | 'RATE_LIMIT_AUTH_FAILURES' | 'RATE_LIMIT_WEBHOOKS'>,
): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) =>
      new AppError('rate_limited', `too many requests: try again in ${ctx.after}`, ctx.statusCode),
  });

  const signIn = app.rateLimit({
    max: config.RATE_LIMIT_SIGN_IN,
    timeWindow: MINUTE,
    keyGenerator: (req) => `sign-in:${req.ip}`,
  });
  const webhooks = app.rateLimit({
    max: config.RATE_LIMIT_WEBHOOKS,
    timeWindow: MINUTE,
    keyGenerator: (req) => `webhook:${req.ip}`,
  });
  const failures = app.createRateLimit({
    max: config.RATE_LIMIT_AUTH_FAILURES,
    timeWindow: FAILURE_WINDOW,
    keyGenerator: (req) => `auth-failure:${req.ip}`,
  });

  app.addHook('onRequest', async (req, reply) => {
    const route = routeOf(req);
    if (SIGN_IN_ROUTES.has(route)) await signIn.call(app, req, reply);
    else if (WEBHOOK_ROUTES.has(route)) await webhooks.call(app, req, reply);
    if (hasCredentials(req)) {
      const seen = await failures(req, { increment: false });
      if (!seen.isAllowed && seen.remaining === 0) {
        reply.header('retry-after', seen.ttlInSeconds);
        throw new AppError(
          'rate_limited',
          'too many failed sign-in attempts from this address: try again later',
          429,
        );
      }
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    // A session Duely issued that has ended (a tab still polling after sign-out, expiry or a disabled person) is not
    // a guess: counted, one such tab held every colleague behind the same address within 30 seconds.
    if (reply.statusCode === 401 && hasCredentials(req) && !req.endedSession) await failures(req);
  });
}
