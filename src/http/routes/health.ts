import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../app-services';
import { pingDatabase } from '../../db/queries/health';
import { PUBLIC } from '../auth';
import * as contract from '../contracts/health';

const NOT_ANSWERING = 'not answering (the server log says why)';

export const healthRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    /**
     * Liveness and readiness: the database answers and the queue is running. 503 when either is down, in words of
     * its own: the route is public, and a driver's message names the database, its host, port or user.
     */
    app.get('/health', { config: PUBLIC, schema: contract.health }, async (req, reply) => {
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
        req.log.warn({ err }, 'health: the database did not answer');
        database = { ok: false, kind: services.dbh.kind, error: NOT_ANSWERING };
      }
      const checked = await services.queue.health();
      // A queue that never started says so itself ('not started'); a running one's failure is the driver's.
      const failed = checked.started && checked.error !== undefined;
      if (failed) req.log.warn({ error: checked.error }, 'health: the job queue did not answer');
      const queue = failed ? { ...checked, error: NOT_ANSWERING } : checked;
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
