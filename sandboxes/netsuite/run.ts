/**
 * Runs the NetSuite stand-in on its own for a demo or manual testing:
 *   npx tsx sandboxes/netsuite/run.ts [--port 4010] [--seed 7] [--customers 24] [--day-every 60]
 * prints the environment that points Duely at it (and the TBA token an admin would have created), and with
 * --day-every N lets one business day pass every N seconds (payments, credits, voids, deletions).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NetsuiteCompany } from './company';
import { NetsuiteSandbox } from './server';

export async function startNetsuiteSandbox(options: {
  port?: number;
  seed?: number;
  customers?: number;
  dayEverySeconds?: number;
  /** The account clock its 20 days of generated history start from (`YYYY-MM-DD HH:MM:SS`). */
  start?: string;
}): Promise<{ sandbox: NetsuiteSandbox; env: Record<string, string>; stop(): Promise<void> }> {
  const company = NetsuiteCompany.generate({
    seed: options.seed ?? 7,
    customers: options.customers ?? 24,
    start: options.start,
  });
  // The demo account also has journal entries to A/R (an opening balance, credit on account, a transfer).
  company.addJournalHistory();
  const sandbox = new NetsuiteSandbox({ company });
  await sandbox.start(options.port ?? 0);
  const timer =
    options.dayEverySeconds && options.dayEverySeconds > 0
      ? setInterval(() => sandbox.company.simulateDay(), options.dayEverySeconds * 1000)
      : null;
  const { script, deploy } = sandbox.restletDeployment;
  return {
    sandbox,
    // The demo account has Duely's invoice-PDF RESTlet deployed: reminders link each invoice's PDF.
    env: { ...sandbox.env(), NETSUITE_PDF_RESTLET: `script=${script}&deploy=${deploy}` },
    async stop() {
      if (timer) clearInterval(timer);
      await sandbox.stop();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      seed: { type: 'string', default: '7' },
      customers: { type: 'string', default: '24' },
      'day-every': { type: 'string', default: '0' },
    },
  });
  const { sandbox, env, stop } = await startNetsuiteSandbox({
    port: Number(values.port),
    seed: Number(values.seed),
    customers: Number(values.customers),
    dayEverySeconds: Number(values['day-every']),
  });
  const lines = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  process.stdout.write(
    `NetSuite stand-in for account ${sandbox.accountId} at ${sandbox.url}\n${lines.join('\n')}\n` +
      `TBA token: --account ${sandbox.accountId} --token-id sandbox-token-id --token-secret sandbox-token-secret\n` +
      'M2M: --certificate-id sandbox-certificate (any RSA/EC key)\n',
  );
  const shutdown = () => {
    stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
