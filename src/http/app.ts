/**
 * Fastify app factory: plugins, error handling, routes. Built from Services so tests drive it through `inject`
 * without a port.
 */
import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { AppError } from '../errors';
import type { Services } from '../app-services';
import {
  assertEveryRouteDeclaresAuth,
  checkTenantBeforeValidation,
  registerAuth,
  requireAuth,
  type RouteAuth,
} from './auth';
import { registerApiDocs, registerApiDocsUi } from './api-docs';
import { registerRateLimits } from './rate-limits';
import { rejectNulCharacters } from './validate';
import { dunningRoutes } from './routes/dunning';
import { resendWebhookRoutes, unsubscribeRoutes } from './routes/dunning-public';
import { healthRoutes } from './routes/health';
import { integrationRoutes } from './routes/integrations';
import { invoicePdfRoutes } from './routes/invoice-pdf';
import { importRoutes } from './routes/imports';
import { analyticsRoutes } from './routes/analytics';
import { ledgerRoutes } from './routes/ledger';
import { listRoutes } from './routes/lists';
import { sessionRoutes } from './routes/session';
import { securityHeadersHook, webRoutes } from './web';
import { riskRoutes } from './routes/risk';
import { connectionRoutes } from './routes/connections';
import { apiTokenRoutes } from './routes/api-tokens';
import { userRoutes } from './routes/users';
import { connectRoutes } from './routes/connect';
import { demoAuthorizeRoutes } from './routes/demo-authorize';
import { providerWebhookRoutes } from './routes/webhooks';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with its declared auth mode (filled when the app is ready). */
    routeAuth: RouteAuth[];
  }
}

/** TRUST_PROXY as fastify takes it: a hop count becomes "trust the first n hops" (what fastify does at runtime). */
function trustProxyOption(
  value: boolean | number | string[],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address, hop) => hop < value : value;
}

/** Where a validation failure was found, as the error message names it. */
const VALIDATION_CONTEXT: Record<string, string> = {
  body: 'body',
  querystring: 'querystring',
  params: 'path',
  headers: 'headers',
};

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    loggerInstance: services.logger.child({ module: 'http' }) as FastifyBaseLogger,
    // Small JSON bodies everywhere; only the authenticated CSV upload raises its own limit (routes/imports.ts).
    bodyLimit: config.HTTP_BODY_LIMIT,
    // A slow client cannot hold a socket open: the whole request must arrive within the timeout (Node closes it
    // with 408; it checks deadlines on an interval, so the interval follows the timeout). A socket silent for 10
    // minutes is dropped; not sooner, because a long import or plan is silent while the handler works.
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: Math.max(10 * 60_000, config.HTTP_REQUEST_TIMEOUT_MS),
    keepAliveTimeout: 72_000,
    // Node only enforces requestTimeout when headersTimeout (default 60 s) is not larger.
    http: {
      headersTimeout: Math.min(60_000, config.HTTP_REQUEST_TIMEOUT_MS),
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, config.HTTP_REQUEST_TIMEOUT_MS / 2)),
    },
    // X-Forwarded-* are honoured only from configured proxies (TRUST_PROXY); off by default.
    trustProxy: trustProxyOption(config.TRUST_PROXY),
  });

  app.addHook('onSend', securityHeadersHook(config));
  // An answer given before the body was read (401, 413, 415) closes the connection: otherwise Node keeps the
  // socket open, with no timeout, for a body the client may dribble in forever.
  app.addHook('onSend', async (req, reply) => {
    if (!req.raw.complete) reply.header('connection', 'close');
  });

  // No NUL character reaches a query (PostgreSQL text cannot hold one): a 400 naming the field, not a 500.
  rejectNulCharacters(app);

  // Route contracts (src/http/contracts): zod validates params, query and body before the handler runs, and
  // serialises the answer (unknown keys stripped, a wrong shape is a 500 rather than a leak).
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      // The same answer the handlers' own zod checks gave before the contracts (src/http/validate.ts): 400
      // invalid_request naming each bad field.
      const where = VALIDATION_CONTEXT[err.validationContext ?? ''] ?? 'request';
      const issues = err.validation.map((i) => ({
        field: i.instancePath.split('/').filter(Boolean).join('.') || where,
        message: i.message,
      }));
      return reply.status(400).send({
        error: {
          code: 'invalid_request',
          message: `Invalid ${where}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
          details: issues,
        },
      });
    }
    if (err instanceof AppError) {
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      const body: Record<string, unknown> = {
        code: err.code,
        message: err.status >= 500 ? 'internal error' : err.userMessage,
      };
      if (err.status < 500 && err.options.details !== undefined) {
        body.details = err.options.details;
        if (err.options.total !== undefined) body.total = err.options.total;
      }
      return reply.status(err.status).send({ error: body });
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply
        .status(status)
        .send({
          error: { code: (err as { code?: string }).code ?? 'bad_request', message: (err as Error).message },
        });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'not_found', message: `no route for ${req.method} ${req.url}` } }),
  );

  await app.register(fastifyCookie);
  // Before any route: @fastify/swagger collects the contracts of the routes registered after it.
  await registerApiDocs(app);
  app.decorate('routeAuth', assertEveryRouteDeclaresAuth(app));
  await registerRateLimits(app, config);
  registerAuth(app, services);
  // Public routes each say so on the route (config: PUBLIC).
  await app.register(healthRoutes(services));
  await app.register(sessionRoutes(services));
  await app.register(webRoutes(services));
  await app.register(connectRoutes(services));
  await app.register(demoAuthorizeRoutes(services));
  await app.register(providerWebhookRoutes(services));
  await app.register(resendWebhookRoutes(services));
  await app.register(unsubscribeRoutes(services));
  await app.register(invoicePdfRoutes(services));
  // Everything under /api/v1 needs a signed-in principal unless a route declares otherwise.
  // GET /docs (UI) and /docs/json (OpenAPI 3): signed-in, like the API it describes (src/http/api-docs.ts).
  await app.register(async (docs) => {
    requireAuth(docs);
    await registerApiDocsUi(docs);
  });
  await app.register(
    async (api) => {
      requireAuth(api);
      checkTenantBeforeValidation(api, services);
      await api.register(ledgerRoutes(services));
      await api.register(listRoutes(services));
      await api.register(importRoutes(services));
      await api.register(riskRoutes(services));
      await api.register(analyticsRoutes(services));
      await api.register(connectionRoutes(services));
      await api.register(integrationRoutes(services));
      await api.register(dunningRoutes(services));
      await api.register(apiTokenRoutes(services));
      await api.register(userRoutes(services));
    },
    { prefix: '/api/v1' },
  );
  return app;
}
