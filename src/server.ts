/** Runs the web role (HTTP API), the worker role (pg-boss workers), or both, with graceful shutdown. */
import type { FastifyInstance } from 'fastify';
import { countActiveAdminTokens } from './auth/api-tokens';
import { buildApp } from './http/app';
import { ensureWebBuild, webDistOf } from './http/web';
import { startIdleTrim } from './idle-trim';
import type { Services } from './services';

export type Role = 'web' | 'worker' | 'all';

export interface RunningServer {
  url: string | null;
  app: FastifyInstance | null;
  /** The admin token when it was created by this start (first start), else null. */
  firstToken: string | null;
  stop(): Promise<void>;
}

export async function startServer(services: Services, role: Role): Promise<RunningServer> {
  const { config, logger } = services;
  let app: FastifyInstance | null = null;
  let url: string | null = null;
  let firstToken: string | null = null;
  if (role === 'web' || role === 'all') {
    if ((await countActiveAdminTokens(services.db)) === 0) {
      firstToken = (await services.auth.issueApiToken('admin (first start)')).token;
    }
    // The settings app is built on first start (and after src/web changes), so a fresh clone needs no build step.
    await ensureWebBuild(logger, webDistOf(config));
    app = await buildApp(services);
    await app.listen({ host: config.HOST, port: config.PORT });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    url = config.PUBLIC_URL.replace(/:\d+$/, `:${port}`);
  }
  if (role === 'worker' || role === 'all') {
    await services.queue.work(services, config.WORKER_CONCURRENCY);
    logger.info({ role }, 'workers started');
  }
  // Memory the start (or any burst of work) left behind goes back to the OS once the process is quiet.
  const stopTrim = startIdleTrim({
    onTrim: (before, after) =>
      logger.debug(
        { rssMiB: Math.round(before / 2 ** 20), afterMiB: Math.round(after / 2 ** 20) },
        'idle: memory trimmed',
      ),
  });
  let stopping: Promise<void> | null = null;
  return {
    url,
    app,
    firstToken,
    stop: () => {
      stopping ??= (async () => {
        stopTrim();
        // Stop taking requests first, then let in-flight jobs finish, then close the database.
        if (app) await app.close();
        await services.close();
      })();
      return stopping;
    },
  };
}
