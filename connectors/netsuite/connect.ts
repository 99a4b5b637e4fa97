/**
 * Connecting an account without a browser (TBA token pair or M2M certificate), probing it, and disconnecting.
 *
 * probe: one SuiteQL round that proves the credentials (401 -> INVALID_LOGIN, pointing at the Login Audit Trail),
 * reads the account's clock and subsidiaries (the tenant is named after the parent subsidiary) and tries each
 * record the sync reads, so a role missing a permission is reported by name before the first sync fails.
 */
import { ConnectorError, isConnectorError } from '../errors';
import { encodeTbaSecret, NetsuiteClient, type NetsuiteClientOptions } from './client';
import { type NetsuiteConfig, netsuiteEndpoints, realmAccountId } from './config';
import { clientCredentialsToken, revokeToken } from './oauth2';
import { accountClock } from './resources';

/** What an admin gives Duely's role (Setup > Users/Roles > Manage Roles), checked by the probe where it can be. */
export const NETSUITE_PERMISSIONS = [
  { key: 'rest', tab: 'Setup', permission: 'REST Web Services', level: 'Full' },
  {
    key: 'tokens',
    tab: 'Setup',
    permission: 'Log in using Access Tokens (TBA) / OAuth 2.0 Access Tokens',
    level: 'Full',
  },
  { key: 'customers', tab: 'Lists', permission: 'Customers', level: 'View' },
  { key: 'invoices', tab: 'Transactions', permission: 'Invoice', level: 'View' },
  { key: 'payments', tab: 'Transactions', permission: 'Customer Payment', level: 'View' },
  { key: 'creditMemos', tab: 'Transactions', permission: 'Credit Memo', level: 'View' },
  // Journal entries to A/R (resources.ts journalRound): without it they are not read, and balances miss them.
  { key: 'journals', tab: 'Transactions', permission: 'Make Journal Entry', level: 'View' },
  { key: 'subsidiaries', tab: 'Lists', permission: 'Subsidiaries', level: 'View' },
  { key: 'currencies', tab: 'Lists', permission: 'Currency', level: 'View' },
  // Oracle help section_N3497592 (getDeleted): "Permissions > Setup subtab", Deleted Records.
  { key: 'deletions', tab: 'Setup', permission: 'Deleted Records', level: 'Full' },
] as const;
export type NetsuitePermissionKey = (typeof NETSUITE_PERMISSIONS)[number]['key'];

const CHECKS: Array<{ key: NetsuitePermissionKey; q: string }> = [
  { key: 'customers', q: 'SELECT id FROM customer' },
  { key: 'invoices', q: "SELECT id FROM transaction WHERE type = 'CustInvc'" },
  { key: 'payments', q: "SELECT id FROM transaction WHERE type = 'CustPymt'" },
  { key: 'creditMemos', q: "SELECT id FROM transaction WHERE type = 'CustCred'" },
  { key: 'journals', q: "SELECT id FROM transaction WHERE type = 'Journal'" },
  { key: 'currencies', q: 'SELECT id, symbol FROM currency' },
  { key: 'deletions', q: 'SELECT recordid FROM DeletedRecord' },
];

export interface NetsuiteSubsidiary {
  id: string;
  name: string;
  parentId: string | null;
  currency: string | null;
}

export interface NetsuiteProbe {
  /** Account id in realm form: the tenant's external id. */
  externalId: string;
  /** The parent (top-level) subsidiary's name: what the tenant is called. */
  companyName: string;
  subsidiaries: NetsuiteSubsidiary[];
  /** Account clock at the probe (`YYYY-MM-DD HH:MM:SS`, account time zone). */
  clock: string;
  /** Permissions the role lacks (names as NetSuite's role page shows them). */
  missingPermissions: string[];
}

/** Probes an account through a built client. Throws the typed error on bad credentials (INVALID_LOGIN). */
export async function probe(client: NetsuiteClient, signal?: AbortSignal): Promise<NetsuiteProbe> {
  // First call proves the login; its error (unauthorized with the Login Audit Trail hint) goes to the caller.
  const clock = await accountClock(client, signal);
  const missing = new Set<NetsuitePermissionKey>();
  let subsidiaries: NetsuiteSubsidiary[] = [];
  try {
    const rows = await client.suiteqlAll(
      'SELECT s.id, s.name, s.parent, cur.symbol AS currency FROM subsidiary s ' +
        'LEFT JOIN currency cur ON cur.id = s.currency ORDER BY s.id',
      signal,
    );
    subsidiaries = rows.map((r) => ({
      id: r.id ?? '',
      name: r.name ?? '',
      parentId: r.parent ?? null,
      currency: r.currency ?? null,
    }));
  } catch (e) {
    if (!isPermissionError(e)) throw e;
    missing.add('subsidiaries');
  }
  for (const check of CHECKS) {
    try {
      await client.suiteql(check.q, { limit: 1 }, signal);
    } catch (e) {
      if (!isPermissionError(e)) throw e;
      missing.add(check.key);
    }
  }
  const parent = subsidiaries.find((s) => s.parentId === null) ?? subsidiaries[0];
  return {
    externalId: client.accountId,
    companyName: parent?.name || `NetSuite ${client.accountId}`,
    subsidiaries,
    clock,
    missingPermissions: NETSUITE_PERMISSIONS.filter((p) => missing.has(p.key)).map(
      (p) => `${p.tab} > ${p.permission} (${p.level})`,
    ),
  };
}

/** A record the role may not see answers 403, or 400 naming an unknown/forbidden record in the query. */
function isPermissionError(e: unknown): boolean {
  return isConnectorError(e) && (e.code === 'forbidden' || e.code === 'invalid_query');
}

type ClientExtras = Pick<NetsuiteClientOptions, 'fetch' | 'limiter' | 'logger' | 'sleep' | 'random' | 'now'>;

export interface TbaConnectInput extends ClientExtras {
  config: NetsuiteConfig;
  accountId: string;
  tokenId: string;
  tokenSecret: string;
  signal?: AbortSignal;
}

export interface ConnectResult extends NetsuiteProbe {
  /** What to seal in the vault as the connection's access token (`createClient` reads it back). */
  secret: string;
  /** Access-token lifetime in seconds (M2M), null when the credential does not expire (TBA). */
  expiresIn: number | null;
  authType: 'tba' | 'm2m';
}

/** POST /api/v1/tenants/:tenant/connections {auth: {type: "tba", tokenId, tokenSecret}}: probe, then store. */
export async function connectWithTba(input: TbaConnectInput): Promise<ConnectResult> {
  const { config } = input;
  if (!config.NETSUITE_CONSUMER_KEY || !config.NETSUITE_CONSUMER_SECRET) {
    throw new ConnectorError({
      code: 'validation',
      message:
        'NETSUITE_CONSUMER_KEY and NETSUITE_CONSUMER_SECRET are required for Token-Based Authentication',
      userMessage:
        'This Duely installation is not set up for NetSuite Token-Based Authentication: its operator sets ' +
        "NETSUITE_CONSUMER_KEY and NETSUITE_CONSUMER_SECRET (Duely's integration record in NetSuite) and restarts Duely.",
    });
  }
  const accountId = realmAccountId(input.accountId);
  const client = new NetsuiteClient({
    ...extras(input),
    restUrl: netsuiteEndpoints(config, accountId).restUrl,
    accountId,
    concurrency: config.NETSUITE_CONCURRENCY,
    auth: {
      type: 'tba',
      consumerKey: config.NETSUITE_CONSUMER_KEY,
      consumerSecret: config.NETSUITE_CONSUMER_SECRET,
      tokenId: input.tokenId,
      tokenSecret: input.tokenSecret,
    },
  });
  const result = await probe(client, input.signal).catch((e: unknown) => {
    // NetSuite answers a token presented at the wrong account with the same INVALID_LOGIN, and that account's Login
    // Audit Trail then shows nothing: say so, or the admin searches an empty trail.
    if (!(e instanceof ConnectorError) || e.code !== 'unauthorized') throw e;
    throw new ConnectorError({
      code: e.code,
      status: e.status,
      providerCode: e.providerCode,
      message: e.message,
      cause: e,
      userMessage:
        `${e.userMessage} If the trail shows no attempt, check the account id ${accountId} ` +
        '(Setup > Company > Company Information): NetSuite refuses a token presented at any other account.',
    });
  });
  return {
    ...result,
    secret: encodeTbaSecret({ tokenId: input.tokenId, tokenSecret: input.tokenSecret }),
    expiresIn: null,
    authType: 'tba',
  };
}

export interface M2mConnectInput extends ClientExtras {
  config: NetsuiteConfig;
  accountId: string;
  certificateId: string;
  signal?: AbortSignal;
}

/** {auth: {type: "m2m", certificateId}}: a client-credentials token, then the probe. */
export async function connectWithM2m(input: M2mConnectInput): Promise<ConnectResult> {
  const { config } = input;
  if (!config.NETSUITE_CLIENT_ID || !config.NETSUITE_M2M_PRIVATE_KEY) {
    throw new ConnectorError({
      code: 'validation',
      message:
        'NETSUITE_CLIENT_ID and NETSUITE_M2M_PRIVATE_KEY are required for the client-credentials grant',
      userMessage:
        'This Duely installation is not set up for NetSuite machine-to-machine connections: its operator sets ' +
        'NETSUITE_CLIENT_ID and NETSUITE_M2M_PRIVATE_KEY (the certificate mapped in NetSuite) and restarts Duely.',
    });
  }
  const accountId = realmAccountId(input.accountId);
  const endpoints = netsuiteEndpoints(config, accountId);
  const token = await m2mAccessToken(config, accountId, input.certificateId, input);
  const client = new NetsuiteClient({
    ...extras(input),
    restUrl: endpoints.restUrl,
    accountId,
    concurrency: config.NETSUITE_CONCURRENCY,
    auth: {
      type: 'stored',
      getAccessToken: async () => token.accessToken,
      onUnauthorized: async () =>
        (await m2mAccessToken(config, accountId, input.certificateId, input)).accessToken,
    },
  });
  const result = await probe(client, input.signal);
  return { ...result, secret: token.accessToken, expiresIn: token.expiresIn, authType: 'm2m' };
}

/** A fresh M2M access token (also what the app's token refresher calls for an m2m connection). */
export function m2mAccessToken(
  config: NetsuiteConfig,
  accountId: string,
  certificateId: string,
  options: { fetch?: typeof fetch; signal?: AbortSignal; now?: () => number } = {},
) {
  if (!config.NETSUITE_CLIENT_ID || !config.NETSUITE_M2M_PRIVATE_KEY) {
    throw new ConnectorError({ code: 'validation', message: 'NetSuite M2M is not configured' });
  }
  const now = options.now;
  return clientCredentialsToken({
    tokenUrl: netsuiteEndpoints(config, accountId).tokenUrl,
    clientId: config.NETSUITE_CLIENT_ID,
    certificateId,
    privateKey: config.NETSUITE_M2M_PRIVATE_KEY,
    fetch: options.fetch,
    signal: options.signal,
    now: now ? () => new Date(now()) : undefined,
  });
}

function extras(input: ClientExtras): ClientExtras {
  return {
    fetch: input.fetch,
    limiter: input.limiter,
    logger: input.logger,
    sleep: input.sleep,
    random: input.random,
    now: input.now,
  };
}

export type DisconnectResult =
  | { revoked: true }
  | { revoked: false; reason: string; adminAction: string | null };

/**
 * Ends a connection at NetSuite where an API allows it: OAuth 2.0 refresh tokens are revoked. A TBA token cannot
 * be revoked through the API (an admin revokes it in NetSuite); an M2M access token simply lapses (the
 * certificate mapping stays until an admin removes it). The caller deletes the sealed secret in every case.
 */
export async function disconnect(input: {
  config: NetsuiteConfig;
  accountId: string;
  authType: 'tba' | 'oauth2' | 'm2m';
  /** OAuth 2.0: the refresh token. */
  token?: string;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}): Promise<DisconnectResult> {
  if (input.authType === 'oauth2') {
    const { NETSUITE_CLIENT_ID: clientId, NETSUITE_CLIENT_SECRET: clientSecret } = input.config;
    if (!clientId || !clientSecret || !input.token) {
      return { revoked: false, reason: 'OAuth 2.0 client or token missing', adminAction: null };
    }
    await revokeToken({
      clientId,
      clientSecret,
      revokeUrl: netsuiteEndpoints(input.config, input.accountId).revokeUrl,
      token: input.token,
      signal: input.signal,
      fetch: input.fetch,
    });
    return { revoked: true };
  }
  if (input.authType === 'tba') {
    return {
      revoked: false,
      reason: 'NetSuite access tokens cannot be revoked through the API',
      adminAction: 'In NetSuite: Setup > Users/Roles > Access Tokens, open the Duely token and revoke it.',
    };
  }
  return {
    revoked: false,
    reason: 'Client-credentials access tokens lapse within 60 minutes',
    adminAction:
      'To stop new tokens: Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup, revoke the Duely mapping.',
  };
}
