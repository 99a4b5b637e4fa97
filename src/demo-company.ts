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
import { type AnyConnector, connectors, registeredConnectors } from '../connectors';
import type { CredentialField } from '../connectors/types';
import { type Sandbox, startSandbox } from '../sandboxes/quickbooks';
import type { Config } from './config';

export type QuickbooksMode = 'live' | 'demo' | 'unconfigured';

export interface QuickbooksSetup {
  /** live: a real Intuit app; demo: the built-in sandbox company; unconfigured: neither can be used. */
  mode: QuickbooksMode;
  /** Why, for unconfigured (and a warning for a `demo` that ignores credentials); null when nothing to say. */
  note: string | null;
}

/** Whether `url` is this machine's own (localhost, 127.0.0.0/8, [::1]): a browser elsewhere cannot open it. */
function isLocalUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Which QuickBooks this configuration asks for (QUICKBOOKS_DEMO resolved against the credentials and the role).
 * Pure: whether a demo company is actually running is the process's business (src/demo-company.ts).
 */
export function quickbooksSetup(
  config: Pick<
    Config,
    'QUICKBOOKS_DEMO' | 'QUICKBOOKS_CLIENT_ID' | 'QUICKBOOKS_CLIENT_SECRET' | 'DUELY_ROLE' | 'PUBLIC_URL'
  >,
): QuickbooksSetup {
  const hasId = Boolean(config.QUICKBOOKS_CLIENT_ID);
  // Whoever tries the demo signs in as the sandbox's one user, the demo tenant's admin: `auto` offers it only where
  // the visitors are this machine's (a local PUBLIC_URL), never to everyone a public server reaches.
  const local = isLocalUrl(config.PUBLIC_URL);
  const wantsDemo = config.QUICKBOOKS_DEMO === 'on' || (config.QUICKBOOKS_DEMO === 'auto' && !hasId && local);
  if (wantsDemo) {
    if (config.DUELY_ROLE !== 'all') {
      return {
        mode: 'unconfigured',
        note:
          'The demo company needs the single-process mode (`duely serve` with role all): with separate web and ' +
          'worker processes the worker cannot reach it. Set QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET to ' +
          'connect a real company.',
      };
    }
    const notes = [
      ...(hasId && config.QUICKBOOKS_DEMO === 'on'
        ? ['QUICKBOOKS_DEMO=on: the QuickBooks credentials are ignored.']
        : []),
      ...(local
        ? []
        : [
            `QUICKBOOKS_DEMO=on at ${config.PUBLIC_URL}: anyone who opens /connect/quickbooks there signs in as the demo company's admin.`,
          ]),
    ];
    return { mode: 'demo', note: notes.length > 0 ? notes.join(' ') : null };
  }
  if (hasId && config.QUICKBOOKS_CLIENT_SECRET) return { mode: 'live', note: null };
  return {
    mode: 'unconfigured',
    note: hasId
      ? 'QuickBooks is not configured: QUICKBOOKS_CLIENT_SECRET is missing.'
      : config.QUICKBOOKS_DEMO === 'auto'
        ? `QuickBooks is not configured: set QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET. The demo company runs only on a local PUBLIC_URL (${config.PUBLIC_URL} is not), since whoever tries it signs in as its admin; QUICKBOOKS_DEMO=on runs it anyway.`
        : 'QuickBooks is not configured: set QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET (QUICKBOOKS_DEMO=off).',
  };
}

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
 * The demo's consent page, as the browser sees it: served by Duely itself (src/http/routes/demo-authorize.ts forwards it
 * to the sandbox), because the sandbox listens on this machine's loopback, which a browser elsewhere cannot reach.
 * Token, API and webhook calls are server to server and go to the sandbox directly.
 */
export const DEMO_AUTHORIZE_PATH = '/connect/quickbooks/demo/authorize';

/**
 * The demo company's pay links (its invoices' InvoiceLink) lead here, `<path>/<realm id>/<invoice id>`: a page that
 * says it is a demo pay link (a real company's opens QuickBooks' payment page) and which invoice it is for.
 */
export const DEMO_PAY_PATH = '/connect/quickbooks/demo/pay';

/** A demo connection's status reason after a restart (the sandbox, in memory, forgot its tokens). */
export const DEMO_RESTARTED = 'the demo company started afresh with the server';

/** The provider the demo company is a company of (the connect routes it goes through). */
export const DEMO_PROVIDER = { provider: 'quickbooks', name: 'QuickBooks' } as const;

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
    // The connect callback (src/sync/connect-flow.ts callbackUrl), the only registered redirect.
    redirectUris: [`${config.PUBLIC_URL}/connect/quickbooks/callback`],
    // Pay links lead to Duely's demo pay page: a link in a previewed reminder opens, and says what it stands for.
    payLinkBase: `${config.PUBLIC_URL}${DEMO_PAY_PATH}`,
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

/** How any registered connector can be connected with this configuration (GET /api/v1/integrations). */
export interface ConnectorAvailability {
  provider: string;
  displayName: string;
  mode: 'live' | 'demo' | 'unconfigured';
  /** Connect methods this configuration supports ('oauth': the browser flow at connectUrl; 'credentials': a form). */
  methods: ('oauth' | 'credentials')[];
  connectUrl: string | null;
  /** The credential form (POST /api/v1/tenants/:tenant/connections), its `type` choices limited to what is set up. */
  credentialFields: CredentialField[];
  /** What an admin grants Duely's role at the provider. */
  permissions: string[];
  /** Whether the connector polls (no webhooks) and how often, in minutes. */
  pollMinutes: number | null;
  note: string | null;
}

/** A registered connector's availability, from its contract only. */
export function connectorAvailability(config: Config, c: AnyConnector): ConnectorAvailability {
  const oauth = Boolean(c.oauth && c.connect?.methods.includes('oauth') && c.credentials?.(config));
  const types = c.connect?.credentialTypes?.(config);
  const credentials =
    Boolean(c.connect?.methods.includes('credentials') && c.connect.connectWithCredentials) &&
    (types === undefined || types.length > 0);
  const methods = [
    ...(oauth ? (['oauth'] as const) : []),
    ...(credentials ? (['credentials'] as const) : []),
  ];
  const credentialFields = credentials
    ? (c.connect?.credentialFields ?? [])
        .map((f) =>
          f.choices && types ? { ...f, choices: f.choices.filter((x) => types.includes(x)) } : { ...f },
        )
        .filter((f) => !f.forTypes || !types || f.forTypes.some((t) => types.includes(t)))
    : [];
  return {
    provider: c.provider,
    displayName: c.displayName,
    mode: methods.length > 0 ? 'live' : 'unconfigured',
    methods,
    connectUrl: oauth ? `/connect/${c.provider}` : null,
    credentialFields,
    permissions: [...(c.connect?.permissions ?? [])],
    pollMinutes: c.poll ? c.poll.everyMinutes(config) : null,
    note: methods.length > 0 ? null : (c.configHint ?? null),
  };
}

/**
 * GET /api/v1/integrations, keyed by provider:
 *   { quickbooks: { mode: 'live' | 'demo' | 'unconfigured', connectUrl, demo: {realmId, customers, invoices}, note } }
 */
export function integrationsView(
  config: Config,
  demo: DemoCompany | null,
): { quickbooks: QuickbooksAvailability & ConnectorAvailability } & Record<string, ConnectorAvailability> {
  const view: Record<string, ConnectorAvailability> = {};
  for (const c of registeredConnectors) view[c.provider] = connectorAvailability(config, c);
  const qb = quickbooksAvailability(config, demo);
  return {
    ...view,
    quickbooks: {
      ...view.quickbooks!,
      ...qb,
      methods: qb.connectUrl ? ['oauth'] : [],
    },
  };
}

/** The sign-in buttons /login offers: Sign in with Intuit when this server can connect QuickBooks (live or demo). */
export function signInOptions(
  config: Config,
  demo: DemoCompany | null,
): { path: string; label: string; intro: string; method: 'intuit_openid' }[] {
  const signIn = connectors.quickbooks.connect.signIn;
  if (quickbooksAvailability(config, demo).connectUrl === null) return [];
  return [
    {
      path: signIn.path,
      label: signIn.buttonLabel,
      intro: 'QuickBooks users sign in with their Intuit account:',
      method: signIn.sessionMethod,
    },
  ];
}
