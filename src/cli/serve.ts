import { prepareDataDir } from '../db/pglite-dir';
import type { Role } from '../server';
import { configFor, parse, UsageError } from './common';

export async function run(args: string[]) {
  const { values } = parse(args, { role: { type: 'string' }, port: { type: 'string' } });
  const role = (values.role ?? process.env.DUELY_ROLE ?? 'all') as Role;
  if (!['web', 'worker', 'all'].includes(role)) throw new UsageError(`--role must be web, worker or all`);
  const config = configFor(values, { DUELY_ROLE: role, ...(values.port ? { PORT: values.port } : {}) });
  // A first start on the embedded database makes it before the app is loaded: the initdb child's peak then
  // overlaps ~100 MiB of this process instead of ~250 (README "Memory").
  if (!config.DATABASE_URL) await prepareDataDir(config.DATA_DIR);
  const [{ DEMO_PROVIDER, quickbooksSetup }, { startServer }, { createServices }] = await Promise.all([
    import('../demo-company'),
    import('../server'),
    import('../services'),
  ]);
  // The demo company (QUICKBOOKS_DEMO, src/demo-company.ts) starts only where it is usable: role all.
  const services = await createServices(config, { schedule: role !== 'web', demoCompany: {} });
  const server = await startServer(services, role);
  const qb = quickbooksSetup(config);
  if (qb.note) services.logger.warn({ role, QUICKBOOKS_DEMO: config.QUICKBOOKS_DEMO }, qb.note);
  const lines = [
    `Duely (${role}) on ${services.dbh.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'Postgres'}`,
  ];
  if (server.url) {
    lines.push(`  App:   ${server.url}`);
    lines.push(`  API:   ${server.url}/api/v1   Health: ${server.url}/health`);
    lines.push(
      server.firstToken
        ? `  Admin token (shown once, keep it): ${server.firstToken}`
        : '  Admin token: printed on first start; `duely token` issues a new one.',
    );
    const link = await services.auth.sessions.issueLoginToken({
      tenantId: null,
      label: 'duely serve',
      now: services.clock.now(),
    });
    lines.push(`  Sign in (one-time link, 15 min): ${server.url}/login?token=${link}`);
    const demo = services.demoCompany;
    lines.push(
      demo
        ? `  ${DEMO_PROVIDER.name}: demo company (${demo.customers} customers, ${demo.invoices.toLocaleString('en-US')} invoices, ` +
            'generated): Connections → Try the demo company'
        : qb.mode === 'live'
          ? `  ${DEMO_PROVIDER.name}: ${config.QUICKBOOKS_ENVIRONMENT} app ${config.QUICKBOOKS_CLIENT_ID}`
          : `  ${DEMO_PROVIDER.name}: not available. ${qb.note ?? ''}`.trimEnd(),
    );
  }
  if (config.DUELY_NOW) lines.push(`  Clock: as of ${config.DUELY_NOW}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const shutdown = (signal: string) => {
    services.logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err) => {
        services.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
