/**
 * The `duely` command: a dispatch table of per-command modules (src/cli/*.ts), each loaded with a dynamic import
 * only when its command runs, so `duely help` loads no database, React, onnxruntime or pg-boss code. Every
 * subcommand parses its flags, loads the configuration once and builds services from the composition root.
 */
// First, before any module that loads React: production mode unless NODE_ENV is set (see the module).
import './production-default';
import path from 'node:path';
import { ReportedFailure, UsageError } from './cli/errors';

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
  demo [--advance-every SECONDS] [--port N]               the demo company's sandbox + Duely, connected through OAuth
  dunning plan|outbox --tenant NAME [--status S]          plan reminders now / list the outbox and message log
  login [--tenant NAME [--email ADDRESS]]                 print a one-time sign-in link (for that person, with --email)
  predictions [--tenant NAME] [--now DATE] [--format csv|json]   every open invoice, scored as of the clock
  model train [--history FILE.csv] [--out DIR]            rebuild the shipped model (default models/default)
  model evaluate --history FILE.csv [--window selection|test] [--from DATE] [--to DATE] [--every WEEKS] [--model DIR] [--cutoff DATE] [--overdue] [--json]
                                                          weekly replay vs the heuristic (--model: score with that
                                                          model instead of retraining; --cutoff: one split;
                                                          --overdue: collection chances of the invoices overdue on
                                                          --cutoff, default 90 days before the data end, vs what
                                                          was collected)
  model retrain --tenant NAME [--now DATE]                train the tenant's own model; promote only if better

Connect flags: \`duely connect help\` lists each provider's credential fields.

Global: --now YYYY-MM-DD runs as of that date (same as DUELY_NOW).
Configuration comes from the environment; see .env.example.`;

type Command = (args: string[]) => Promise<void>;

/** Command name → its module, loaded on use. Add a command here (one line) and in USAGE. */
const commands: Record<string, () => Promise<Command>> = {
  login: async () => (await import('./cli/login')).run,
  predictions: async () => (await import('./cli/predictions')).run,
  model: async () => (await import('./cli/model')).run,
  serve: async () => (await import('./cli/serve')).run,
  migrate: async () => (await import('./cli/migrate')).run,
  import: async () => (await import('./cli/import')).run,
  token: async () => (await import('./cli/token')).run,
  sync: async () => (await import('./cli/sync')).sync,
  demo: async () => (await import('./cli/sync')).demo,
  dunning: async () => (await import('./cli/dunning')).run,
  connect: async () => {
    const { connectCommand } = await import('./cli-connect');
    return (a) => connectCommand(a[0], a.slice(1));
  },
  probe: async () => {
    const { probeCommand } = await import('./cli-connect');
    return (a) =>
      a[0] && !a[0].startsWith('-') ? probeCommand(a[0], a.slice(1)) : probeCommand(undefined, a);
  },
};

/** `duely <provider> connect|probe …` = `duely connect|probe <provider> …` for every registered provider. */
async function providerCommand(
  command: string,
  rest: string[],
): Promise<(() => Promise<Command>) | undefined> {
  const [sub, ...subRest] = rest;
  if (sub !== 'connect' && sub !== 'probe') return undefined;
  const { isProvider } = await import('../connectors');
  if (!isProvider(command)) return undefined;
  const { connectCommand, probeCommand } = await import('./cli-connect');
  return async () => () =>
    sub === 'connect' ? connectCommand(command, subRest) : probeCommand(command, subRest);
}

/** File-system error codes of a path given on the command line, in words. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'it is a directory, not a file',
  EACCES: 'permission denied',
  ENOTDIR: 'a part of the path is not a directory',
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const load = Object.hasOwn(commands, command) ? commands[command] : await providerCommand(command, rest);
  if (!load) {
    process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const run = await load();
    await run(rest);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof ReportedFailure) return err.code;
    // A path the user typed that cannot be read (no such file, a directory, no permission): say which, no stack.
    const fsError = err as { code?: unknown; path?: unknown; syscall?: unknown };
    if (typeof fsError.path === 'string' && typeof fsError.code === 'string' && fsError.code in FILE_ERRORS) {
      process.stderr.write(`cannot read ${fsError.path}: ${FILE_ERRORS[fsError.code]}\n`);
      return 1;
    }
    // The command loaded these modules already (cached imports); classifying an error never loads a command.
    const [{ ConfigError }, { AppError }] = await Promise.all([import('./config'), import('./errors')]);
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
