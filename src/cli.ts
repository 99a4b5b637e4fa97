/**
 * The `duely` command. Every subcommand parses its flags, loads the configuration once and builds services from
 * the composition root.
 */
// First, before any module that loads React: production mode unless NODE_ENV is set (see the module).
import './production-default';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { issueApiToken, listApiTokens, revokeApiToken } from './auth/api-tokens';
import { SessionAuth } from './auth/sessions';
import { countUsers, createUser, findUserByEmail } from './auth/users';
import { parseClockDate } from './clock';
import { ConfigError, loadConfig } from './config';
import { DEMO_PROVIDER, quickbooksSetup } from './demo-company';
import { findTenant, getTenant } from './db/queries/tenants';
import { AppError } from './errors';
import { queueAfterLedgerChange } from './jobs/risk-jobs';
import {
  evaluateCommand,
  formatPredictions,
  formatRetrain,
  predictionRows,
  trainModelCommand,
} from './risk/cli-commands';
import { retrainTenant } from './risk/service';
import { createServices } from './services';
import { type Role, startServer } from './server';
import { CsvImportError, importHistoryCsv } from './sync/csv-import';
import { CliUsageError, demoCommand, syncCommand } from './cli-sync';
import { DunningUsageError, dunningCommand } from './cli-dunning';
import { ConnectUsageError, connectCommand, connectUsage, probeCommand } from './cli-connect';
import { isProvider } from '../connectors';

const USAGE = `Usage: duely <command> [options]

Commands:
  serve [--role web|worker|all] [--port N] [--now DATE]   start Duely (default role: all)
  migrate                                                 apply database migrations and exit
  import FILE.csv [--tenant NAME] [--now DATE]            import a canonical invoice-history CSV
  token [--label TEXT] [--tenant NAME]                    issue a new API token (printed once)
  token list [--tenant NAME] | token revoke ID            list API tokens (never their secrets) / revoke one
  connect PROVIDER --tenant NAME --FIELD VALUE…           connect a ledger with credentials (fields below); also
                                                          spelled \`PROVIDER connect …\`; creates the tenant if needed
  probe [PROVIDER] --tenant NAME                          check the tenant's connection (also \`PROVIDER probe\`)
  sync --tenant NAME [--full]                             sync the tenant's ledger connection now (progress on stderr)
  demo [--advance-every SECONDS] [--port N]               ${DEMO_PROVIDER.name} sandbox + Duely, connected through OAuth
  dunning plan|outbox --tenant NAME [--status S]          plan reminders now / list the outbox and message log
  login [--tenant NAME [--email ADDRESS]]                 print a one-time sign-in link (for that person, with --email)
  predictions [--tenant NAME] [--now DATE] [--format csv|json]   every open invoice, scored as of the clock
  model train [--history FILE.csv] [--out DIR]            rebuild the shipped model (default models/default)
  model evaluate --history FILE.csv [--from DATE] [--every WEEKS] [--model DIR] [--cutoff DATE] [--json]
                                                          weekly replay vs the heuristic (--model: score with that
                                                          model instead of retraining; --cutoff: one split)
  model retrain --tenant NAME [--now DATE]                train the tenant's own model; promote only if better

${connectUsage()}
Global: --now YYYY-MM-DD runs as of that date (same as DUELY_NOW).
Configuration comes from the environment; see .env.example.`;

class UsageError extends Error {}

type Flags = Record<string, string | boolean | undefined>;

function parse<O extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { now: { type: 'string' as const }, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function configFor(flags: Flags, extra: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  if (typeof flags.now === 'string') {
    parseClockDate(flags.now);
    env.DUELY_NOW = flags.now;
  }
  return loadConfig(env);
}

async function serve(args: string[]) {
  const { values } = parse(args, { role: { type: 'string' }, port: { type: 'string' } });
  const role = (values.role ?? process.env.DUELY_ROLE ?? 'all') as Role;
  if (!['web', 'worker', 'all'].includes(role)) throw new UsageError(`--role must be web, worker or all`);
  const config = configFor(values, { DUELY_ROLE: role, ...(values.port ? { PORT: values.port } : {}) });
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
    const link = await new SessionAuth(services.db, config.APP_SECRET).issueLoginToken({
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

async function migrate(args: string[]) {
  const { values } = parse(args, {});
  const services = await createServices(configFor(values), { queue: false });
  await services.close();
  process.stdout.write('Migrations applied.\n');
}

async function importCmd(args: string[]) {
  const { values, positionals } = parse(args, { tenant: { type: 'string' } });
  const file = positionals[0];
  if (!file) throw new UsageError('import needs a file: duely import FILE.csv [--tenant NAME]');
  const content = readFileSync(file);
  const config = configFor(values);
  const services = await createServices(config);
  try {
    const tenantName = values.tenant ?? 'default';
    const result = await importHistoryCsv(services.db, content, {
      tenantName,
      tenantId: (await findTenant(services.db, tenantName))?.id,
      fileName: path.basename(file),
      now: services.clock.now(),
      afterWrite: (tx, r, changed) =>
        queueAfterLedgerChange(services, tx, {
          tenantId: r.tenant.id,
          changedInvoices: changed.length,
          reason: 'import',
        }),
    });
    process.stdout.write(
      `Imported ${result.rows} invoices of ${result.customers} customers into tenant "${result.tenant.slug}": ` +
        `${result.invoices.inserted} new, ${result.invoices.updated} updated, ${result.invoices.open} open, ` +
        `${result.invoices.paid} paid (${result.payments.reversed} payments reversed)` +
        `${result.creditNotes ? `; ${result.creditNotes} credit notes` : ''}.\n`,
    );
    if (result.warningCount > 0) {
      const shown = result.warnings.slice(0, 10);
      process.stdout.write(
        `${result.warningCount} warning(s):\n${shown.map((w) => `  line ${w.line}${w.column ? `, ${w.column}` : ''}: ${w.message}\n`).join('')}` +
          `${result.warningCount > shown.length ? `  … and ${result.warningCount - shown.length} more\n` : ''}`,
      );
    }
  } finally {
    await services.close();
  }
}

async function tokenCmd(args: string[]) {
  const { values, positionals } = parse(args, { label: { type: 'string' }, tenant: { type: 'string' } });
  const [sub, id] = positionals;
  if (sub !== undefined && sub !== 'list' && sub !== 'revoke')
    throw new UsageError(`unknown token command ${sub}`);
  if (sub === 'revoke' && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id ?? ''))
    throw new UsageError('token revoke needs the token id (from `duely token list`)');
  const services = await createServices(configFor(values), { queue: false });
  try {
    let tenantId: string | null = null;
    if (values.tenant) {
      const t = await findTenant(services.db, values.tenant);
      if (!t) throw new AppError('not_found', `tenant ${values.tenant} not found`, 404);
      tenantId = t.id;
    }
    if (sub === 'list') {
      const rows = await listApiTokens(services.db, tenantId);
      process.stdout.write(
        rows
          .map(
            (t) =>
              `${t.id}  ${t.revokedAt ? 'revoked' : 'active '}  ${t.tenantId ?? 'operator'}  ` +
              `last used ${t.lastUsedAt?.toISOString() ?? 'never'}  ${t.label}\n`,
          )
          .join('') || 'no API tokens\n',
      );
      return;
    }
    if (sub === 'revoke') {
      const t = await revokeApiToken(services.db, id!, null, services.clock.now());
      if (!t) throw new AppError('not_found', `token ${id} not found`, 404);
      process.stdout.write(`revoked ${t.id} (${t.label})\n`);
      return;
    }
    const { token } = await issueApiToken(services.db, values.label ?? 'cli', tenantId);
    process.stdout.write(`${token}\n`);
  } finally {
    await services.close();
  }
}

async function predictionsCmd(args: string[]) {
  const { values } = parse(args, { tenant: { type: 'string' }, format: { type: 'string' } });
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'json') throw new UsageError('--format must be csv or json');
  const services = await createServices(configFor(values), { queue: false });
  try {
    const tenant = await getTenant(services.db, values.tenant ?? 'default');
    const rows = await predictionRows(services, tenant.id, tenant.settings);
    process.stdout.write(formatPredictions(rows, format));
  } finally {
    await services.close();
  }
}

async function modelCmd(args: string[]) {
  const [sub, ...rest] = args;
  if (sub === 'train') {
    const { values } = parse(rest, {
      history: { type: 'string', multiple: true },
      out: { type: 'string' },
      'created-at': { type: 'string' },
    });
    const m = trainModelCommand({
      history: values.history === undefined ? undefined : [values.history].flat(),
      out: values.out,
      createdAt: values['created-at'],
    });
    const v = m.validation;
    process.stdout.write(
      `Trained ${m.version} on ${m.training.rows} invoices (data sha256 ${m.training.dataSha256.slice(0, 12)}…)` +
        (v ? `; time-ordered validation AUC ${v.auc.toFixed(3)}, Brier ${v.brier.toFixed(3)}` : '') +
        `
Written to ${values.out ?? 'models/default'}
`,
    );
    return;
  }
  if (sub === 'evaluate') {
    const { values } = parse(rest, {
      history: { type: 'string' },
      cutoff: { type: 'string' },
      from: { type: 'string' },
      every: { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean' },
      bootstrap: { type: 'string' },
    });
    if (!values.history) throw new UsageError('model evaluate needs --history FILE.csv');
    process.stdout.write(
      `${await evaluateCommand({
        history: values.history,
        cutoff: values.cutoff ? parseClockDate(values.cutoff) : undefined,
        from: values.from ? parseClockDate(values.from) : undefined,
        everyWeeks: values.every ? Math.max(1, Number(values.every)) : undefined,
        modelDir: values.model,
        json: values.json ?? false,
        bootstrap: values.bootstrap ? Number(values.bootstrap) : undefined,
      })}
`,
    );
    return;
  }
  if (sub === 'retrain') {
    const { values } = parse(rest, { tenant: { type: 'string' } });
    if (!values.tenant) throw new UsageError('model retrain needs --tenant NAME');
    const services = await createServices(configFor(values), { queue: false });
    try {
      const tenant = await getTenant(services.db, values.tenant);
      const result = await retrainTenant(services, tenant.id);
      process.stdout.write(`${formatRetrain(tenant.slug, result)}\n`);
    } finally {
      await services.close();
    }
    return;
  }
  throw new UsageError('model needs a subcommand: train, evaluate or retrain');
}

/** A one-time sign-in link: the operator's, or with --tenant one limited to that tenant. */
async function loginCmd(args: string[]) {
  const { values } = parse(args, { tenant: { type: 'string' }, email: { type: 'string' } });
  if (values.email && !values.tenant) throw new UsageError('login --email needs --tenant NAME');
  const config = configFor(values);
  const services = await createServices(config, { queue: false });
  try {
    let tenantId: string | null = null;
    if (values.tenant) {
      const t = await findTenant(services.db, values.tenant);
      if (!t) throw new AppError('not_found', `tenant ${values.tenant} not found`, 404);
      tenantId = t.id;
    }
    let userId: string | null = null;
    if (values.email && tenantId) {
      // The tenant's first person becomes its admin; anyone else must have been invited (Settings → People).
      const found = await findUserByEmail(services.db, tenantId, values.email);
      const first = (await countUsers(services.db, tenantId)) === 0;
      if (!found && !first) {
        throw new AppError(
          'not_found',
          `${values.email} is not a user of ${values.tenant}: invite them in Settings → People first`,
          404,
        );
      }
      const person =
        found ??
        (await createUser(services.db, {
          tenantId,
          email: values.email,
          role: 'admin',
          status: 'invited',
          invitedBy: 'duely login (the install)',
        }));
      if (person.status === 'disabled') throw new AppError('forbidden', `${values.email} is disabled`, 403);
      userId = person.id;
    }
    const token = await new SessionAuth(services.db, config.APP_SECRET).issueLoginToken({
      tenantId,
      userId,
      label: 'duely login',
      now: services.clock.now(),
    });
    process.stdout.write(`${config.PUBLIC_URL}/login?token=${token}\n`);
  } finally {
    await services.close();
  }
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  login: loginCmd,
  predictions: predictionsCmd,
  model: modelCmd,
  serve,
  migrate,
  import: importCmd,
  token: tokenCmd,
  sync: syncCommand,
  demo: demoCommand,
  dunning: dunningCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  // `duely <provider> connect|probe …` = `duely connect|probe <provider> …` for every registered provider.
  const [sub, ...subRest] = rest;
  const run: ((args: string[]) => Promise<void>) | undefined =
    command === 'connect'
      ? (a) => connectCommand(a[0], a.slice(1))
      : command === 'probe'
        ? (a) => (a[0] && !a[0].startsWith('-') ? probeCommand(a[0], a.slice(1)) : probeCommand(undefined, a))
        : isProvider(command) && (sub === 'connect' || sub === 'probe')
          ? () => (sub === 'connect' ? connectCommand(command, subRest) : probeCommand(command, subRest))
          : commands[command];
  if (!run) {
    process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof CliUsageError ||
      err instanceof DunningUsageError ||
      err instanceof ConnectUsageError
    ) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof CsvImportError) {
      process.stderr.write(`${err.message}\n`);
      for (const i of err.issues.slice(0, 50)) {
        process.stderr.write(`  line ${i.line}${i.column ? `, column ${i.column}` : ''}: ${i.message}\n`);
      }
      if (err.issues.length > 50) process.stderr.write(`  … and ${err.issues.length - 50} more\n`);
      return 1;
    }
    if (err instanceof ConfigError || err instanceof AppError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

// Long-running commands (serve) keep the process alive through their server; others exit with their code.
const isMain =
  process.argv[1] &&
  path.resolve(process.argv[1]).replace(/\.ts$/, '') ===
    path.resolve(import.meta.filename).replace(/\.ts$/, '');
if (isMain) {
  main(process.argv.slice(2)).then((code) => {
    if (code !== 0 || !['serve', 'demo'].includes(process.argv[2] ?? '')) process.exit(code);
  });
}
