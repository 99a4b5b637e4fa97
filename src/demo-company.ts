/**
 * The built-in demo company: the local QuickBooks sandbox (sandboxes/quickbooks) started in-process, with
 * an Intuit app of its own (generated client id/secret and webhook verifier), and the configuration that points
 * Duely's QuickBooks connector at it. `duely serve` starts it when the configuration asks for it
 * (quickbooksSetup(): QUICKBOOKS_DEMO=auto without credentials, or on); `duely demo` always does.
 *
 * Everything lives in memory: after a restart the sandbox issues new tokens, so a demo connection made before
 * asks to be reconnected (the same generated company, same realm id, comes back).
 */
import { randomBytes } from 'node:crypto';
import { type Sandbox, startSandbox } from '../sandboxes/quickbooks';
import { type Config, type QuickbooksMode, quickbooksSetup } from './config';

export interface DemoCompanyOptions {
  /** Defaults: 150 customers, 5,000 invoices (generation takes well under a second). */
  customers?: number;
  invoices?: number;
  seed?: number;
}

export interface DemoCompany {
  sandbox: Sandbox;
  customers: number;
  invoices: number;
  /** `config` with the QuickBooks connector pointed at the sandbox (and QUICKBOOKS_DEMO=on). */
  config: Config;
  stop(): Promise<void>;
}

export const DEMO_SEED = 20261127;

/**
 * The demo's consent page, as the browser sees it: served by Duely itself (src/http/routes/quickbooks.ts forwards it
 * to the sandbox), because the sandbox listens on this machine's loopback, which a browser elsewhere cannot reach.
 * Token, API and webhook calls are server to server and go to the sandbox directly.
 */
export const DEMO_AUTHORIZE_PATH = '/connect/quickbooks/demo/authorize';

/** Starts the sandbox company as of `now` and derives the configuration that uses it. */
export async function startDemoCompany(
  config: Config,
  opts: DemoCompanyOptions & { now: Date },
): Promise<DemoCompany> {
  const customers = opts.customers ?? 150;
  const invoices = opts.invoices ?? 5000;
  const clientId = `demo-${randomBytes(6).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const verifierToken = randomBytes(24).toString('base64url');
  const sandbox = await startSandbox({
    seed: opts.seed ?? DEMO_SEED,
    now: opts.now,
    customers,
    invoices,
    verifierToken,
    webhookUrl: `${config.PUBLIC_URL}/webhooks/quickbooks`,
    clientId,
    clientSecret,
    // The connect callback (src/http/routes/quickbooks.ts quickbooksCallbackUrl), the only registered redirect.
    redirectUris: [`${config.PUBLIC_URL}/connect/quickbooks/callback`],
  });
  return {
    sandbox,
    customers,
    invoices,
    config: {
      ...config,
      QUICKBOOKS_DEMO: 'on',
      QUICKBOOKS_CLIENT_ID: clientId,
      QUICKBOOKS_CLIENT_SECRET: clientSecret,
      QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN: verifierToken,
      QUICKBOOKS_ENVIRONMENT: 'sandbox',
      ...sandbox.config,
      QUICKBOOKS_AUTHORIZE_URL: `${config.PUBLIC_URL}${DEMO_AUTHORIZE_PATH}`,
    },
    stop: () => sandbox.stop(),
  };
}

/** What GET /api/v1/integrations tells the settings app about QuickBooks. */
export interface QuickbooksAvailability {
  mode: QuickbooksMode;
  /** Where the browser starts connecting (open it top-level: OAuth pages refuse to be framed). */
  connectUrl: string | null;
  demo: { realmId: string; customers: number; invoices: number } | null;
  note: string | null;
}

/**
 * What this process can actually connect: the demo only when its company is running here (a configuration that
 * asks for it in a process that did not start it, e.g. `duely sync`, cannot connect anything).
 */
export function quickbooksAvailability(config: Config, demo: DemoCompany | null): QuickbooksAvailability {
  if (demo) {
    return {
      mode: 'demo',
      connectUrl: '/connect/quickbooks',
      demo: { realmId: demo.sandbox.realmId, customers: demo.customers, invoices: demo.invoices },
      note: null,
    };
  }
  const setup = quickbooksSetup(config);
  if (setup.mode === 'live')
    return { mode: 'live', connectUrl: '/connect/quickbooks', demo: null, note: null };
  return {
    mode: 'unconfigured',
    connectUrl: null,
    demo: null,
    note:
      setup.mode === 'demo'
        ? 'The demo company runs inside `duely serve`; this process did not start it.'
        : setup.note,
  };
}
