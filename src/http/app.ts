/**
 * Fastify app factory: plugins, error handling, routes. Built from Services so tests drive it through `inject`
 * without a port.
 */
import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { AppError } from '../errors';
import type { Services } from '../services';
import { assertEveryRouteDeclaresAuth, registerAuth, requireAuth, type RouteAuth } from './auth';
import { dunningRoutes } from './routes/dunning';
import { resendWebhookRoutes, unsubscribeRoutes } from './routes/dunning-public';
import { healthRoutes } from './routes/health';
import { integrationRoutes } from './routes/integrations';
import { importRoutes } from './routes/imports';
import { analyticsRoutes } from './routes/analytics';
import { ledgerRoutes } from './routes/ledger';
import { listRoutes } from './routes/lists';
import { sessionRoutes } from './routes/session';
import { webRoutes } from './web';
import { riskRoutes } from './routes/risk';
import { connectionRoutes } from './routes/connections';
import { quickbooksRoutes } from './routes/quickbooks';
import { apiTokenRoutes } from './routes/api-tokens';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with its declared auth mode (filled when the app is ready). */
    routeAuth: RouteAuth[];
  }
}

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger.child({ module: 'http' }) as FastifyBaseLogger,
    bodyLimit: 50 * 1024 * 1024,
    trustProxy: true,
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof AppError) {
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      const body: Record<string, unknown> = {
        code: err.code,
        message: err.status >= 500 ? 'internal error' : err.userMessage,
      };
      if (err.status < 500 && err.options.details !== undefined) body.details = err.options.details;
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

  // CSV uploads arrive as raw text/csv bodies; keep them as Buffers so the importer hashes the exact bytes.
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );

  await app.register(fastifyCookie);
  app.decorate('routeAuth', assertEveryRouteDeclaresAuth(app));
  registerAuth(app, services);
  // Public routes each say so on the route (config: PUBLIC).
  await app.register(healthRoutes(services));
  await app.register(sessionRoutes(services));
  await app.register(webRoutes(services));
  await app.register(quickbooksRoutes(services));
  await app.register(resendWebhookRoutes(services));
  await app.register(unsubscribeRoutes(services));
  // Everything under /api/v1 needs a signed-in principal unless a route declares otherwise.
  await app.register(
    async (api) => {
      requireAuth(api);
      await api.register(ledgerRoutes(services));
      await api.register(listRoutes(services));
      await api.register(importRoutes(services));
      await api.register(riskRoutes(services));
      await api.register(analyticsRoutes(services));
      await api.register(connectionRoutes(services));
      await api.register(integrationRoutes(services));
      await api.register(dunningRoutes(services));
      await api.register(apiTokenRoutes(services));
    },
    { prefix: '/api/v1' },
  );
  return app;
}
