import { sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../../services';
import { PUBLIC } from '../auth';

export const healthRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    /** Liveness and readiness: the database answers and the queue is running. 503 when either is down. */
    app.get('/health', { config: PUBLIC }, async (_req, reply) => {
      const started = performance.now();
      let database: Record<string, unknown>;
      try {
        await services.db.execute(sql`select 1`);
        database = {
          ok: true,
          kind: services.dbh.kind,
          latencyMs: Math.round((performance.now() - started) * 10) / 10,
        };
      } catch (err) {
        database = { ok: false, kind: services.dbh.kind, error: (err as Error).message };
      }
      const queue = await services.queue.health();
      const ok = database.ok === true && queue.ok;
      return reply.status(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'degraded',
        role: services.config.DUELY_ROLE,
        now: services.clock.now().toISOString(),
        database,
        queue,
      });
    });
  };
