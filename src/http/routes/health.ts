import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import * as contract from '../contracts/health';
import { pingDatabase } from '../../db/queries/health';
import type { Services } from '../../app-services';
import { PUBLIC } from '../auth';

export const healthRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    /** Liveness and readiness: the database answers and the queue is running. 503 when either is down. */
    app.get('/health', { config: PUBLIC, schema: contract.health }, async (_req, reply) => {
      const started = performance.now();
      let database: { ok: boolean; kind: 'pglite' | 'postgres'; latencyMs?: number; error?: string };
      try {
        await pingDatabase(services.db);
        database = {
          ok: true,
          kind: services.dbh.kind,
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
        };
      } catch (err) {
        database = { ok: false, kind: services.dbh.kind, error: (err as Error).message };
      }
      const queue = await services.queue.health();
      const ok = database.ok && queue.ok;
      return reply.status(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'degraded',
        role: services.config.DUELY_ROLE,
        now: services.clock.now().toISOString(),
        database,
        queue,
      });
    });
  };
