/**
 * The NetSuite connector (registered in connectors/index.ts): OAuth 2.0 code flow with PKCE, credential connects
 * (TBA token pair, M2M certificate), token refresh per stored credential, client factory, polled sync, live read.
 */
import { ConnectorError, isConnectorError } from '../errors';
import type {
  ClientCredentials,
  Connector,
  ConnectorLogger,
  ConnectRefusal,
  CredentialConnectResult,
  CredentialField,
  LimiterLookup,
  OAuthEndpoints,
  RequestLimiter,
} from '../types';
import { NetsuiteClient } from './client';
import {
  anyAccountAuthorizeUrl,
  type NetsuiteConfig,
  netsuiteConfigSchema,
  netsuiteEndpoints,
  netsuiteMethods,
  realmAccountId,
} from './config';
import {
  connectWithM2m,
  connectWithTba,
  disconnect as disconnectAccount,
  m2mAccessToken,
  NETSUITE_PERMISSIONS,
  probe,
} from './connect';
import { fetchNetsuiteInvoicePdf } from './invoice-pdf';
import {
  buildAuthorizeUrl,
  exchangeCode,
  NETSUITE_CALLBACK_PARAMS,
  NETSUITE_SCOPES,
  parseCallback,
  refreshTokens,
  revokeToken,
} from './oauth2';
import { accountPingSecret, parsePing, verifyAccountPing } from './ping';
import { AccountPool } from './pool';
import { type NetsuiteCursor, netsuitePages, readInvoices } from './resources';

/**
 * The endpoints of an account; without one (a connect before the admin said which account), authorize goes to
 * system.netsuite.com, which routes the user to their account, and the callback's `company` names it.
 */
function endpointsFor(config: NetsuiteConfig, accountId?: string): OAuthEndpoints {
  const e = netsuiteEndpoints(config, accountId ?? 'ACCOUNT');
  return {
    authorizeUrl: accountId ? e.authorizeUrl : anyAccountAuthorizeUrl(config),
    tokenUrl: e.tokenUrl,
    revokeUrl: e.revokeUrl,
    userInfoUrl: '',
    apiBaseUrl: e.restUrl,
  };
}

/**
 * What the vault's `refreshToken` slot holds for credentials that are not OAuth refresh tokens: a TBA token pair
 * never refreshes (its marker is refused with invalid_grant: the token was revoked, reconnect); an M2M connection
 * keeps its certificate id and mints a new client-credentials token with it.
 */
const TBA_MARKER = 'netsuite-tba';
const M2M_PREFIX = 'netsuite-m2m:';
/** A TBA token does not expire: the stored access token is valid until NetSuite answers 401 (~100 years). */
const NEVER_S = 100 * 365 * 24 * 3600;

function clientFor(
  config: NetsuiteConfig,
  accountId: string,
  accessToken: string,
  limiter: RequestLimiter | undefined,
): NetsuiteClient {
  return new NetsuiteClient({
    restUrl: netsuiteEndpoints(config, accountId).restUrl,
    accountId,
    concurrency: config.NETSUITE_CONCURRENCY,
    limiter,
    auth: {
      type: 'stored',
      getAccessToken: async () => accessToken,
      onUnauthorized: async () => accessToken,
    },
  });
}

function requiredOauthClient(config: NetsuiteConfig): ClientCredentials {
  if (!config.NETSUITE_CLIENT_ID || !config.NETSUITE_CLIENT_SECRET) {
    throw new ConnectorError({
      code: 'validation',
      message: `NetSuite OAuth 2.0 is not configured: ${CONFIG_HINT}`,
    });
  }
  return { clientId: config.NETSUITE_CLIENT_ID, clientSecret: config.NETSUITE_CLIENT_SECRET };
}

const CONFIG_HINT = 'set NETSUITE_CLIENT_ID and NETSUITE_CLIENT_SECRET';

/** The credential form: POST /api/v1/tenants/:tenant/connections, `duely connect netsuite`, the web form. */
const CREDENTIAL_FIELDS = [
  { name: 'accountId', label: 'Account ID (Setup > Company > Company Information)' },
  { name: 'type', label: 'Authentication', choices: ['tba', 'm2m'] },
  { name: 'tokenId', label: 'Token ID', forTypes: ['tba'] },
  { name: 'tokenSecret', label: 'Token secret', secret: true, forTypes: ['tba'] },
  { name: 'certificateId', label: 'Certificate ID', forTypes: ['m2m'] },
] as const satisfies readonly CredentialField[];

async function connectWithCredentials(options: {
  config: NetsuiteConfig;
  fields: Record<string, string>;
  logger: ConnectorLogger;
  signal?: AbortSignal;
  limiterFor?: LimiterLookup;
}): Promise<CredentialConnectResult | ConnectRefusal> {
  const { config, fields, logger, signal } = options;
  const type = fields.type || 'tba';
  const missing = (names: string[]) => names.filter((n) => !fields[n]);
  const need = type === 'm2m' ? ['accountId', 'certificateId'] : ['accountId', 'tokenId', 'tokenSecret'];
  if (type !== 'tba' && type !== 'm2m') {
    return { ok: false, status: 400, title: 'validation', message: 'auth.type must be "tba" or "m2m".' };
  }
  if (missing(need).length > 0) {
    return { ok: false, status: 400, title: 'validation', message: `Missing: ${missing(need).join(', ')}.` };
  }
  try {
    // The probe counts against the account's process pool, like every other call to the account.
    const limiter = options.limiterFor?.(realmAccountId(fields.accountId!));
    const result =
      type === 'm2m'
        ? await connectWithM2m({
            config,
            accountId: fields.accountId!,
            certificateId: fields.certificateId!,
            logger,
            limiter,
            signal,
          })
        : await connectWithTba({
            config,
            accountId: fields.accountId!,
            tokenId: fields.tokenId!,
            tokenSecret: fields.tokenSecret!,
            logger,
            limiter,
            signal,
          });
    return {
      externalId: result.externalId,
      displayName: result.companyName,
      missingPermissions: result.missingPermissions,
      tokens: {
        accessToken: result.secret,
        refreshToken: type === 'm2m' ? `${M2M_PREFIX}${fields.certificateId}` : TBA_MARKER,
        tokenType: type === 'm2m' ? 'Bearer' : 'TBA',
        expiresIn: result.expiresIn ?? NEVER_S,
        refreshTokenExpiresIn: null,
        idToken: null,
      },
    };
  } catch (err) {
    if (
      isConnectorError(err) &&
      (err.code === 'unauthorized' || err.code === 'validation' || err.code === 'invalid_grant')
    ) {
      return {
        ok: false,
        status: err.code === 'validation' ? 400 : 422,
        title: err.providerCode ?? (err.code === 'unauthorized' ? 'INVALID_LOGIN' : err.code),
        message: err.userMessage,
      };
    }
    throw err;
  }
}

/** A stored credential rejected for good: the connection needs reconnecting (src/ marks it reconnect_needed). */
const rejected = (message: string) => new ConnectorError({ code: 'invalid_grant', message });

export const netsuite = {
  provider: 'netsuite',
  displayName: 'Oracle NetSuite',
  // The NetSuite UI only (<account>.app.netsuite.com): other *.netsuite.com hosts serve pages NetSuite's customers
  // write themselves (public Suitelets on *.extforms.netsuite.com, web stores), which share netsuite.com's cookie
  // partition and could frame a signed-in Duely page to clickjack it.
  frameAncestors: ['https://*.app.netsuite.com'],
  configSchema: netsuiteConfigSchema,
  credentials: (config: NetsuiteConfig) =>
    config.NETSUITE_CLIENT_ID && config.NETSUITE_CLIENT_SECRET
      ? { clientId: config.NETSUITE_CLIENT_ID, clientSecret: config.NETSUITE_CLIENT_SECRET }
      : null,
  configHint: CONFIG_HINT,
  connect: {
    methods: ['oauth', 'credentials'],
    shortName: 'NetSuite',
    stateCookie: 'duely_netsuite_oauth',
    credentialFields: CREDENTIAL_FIELDS,
    credentialTypeOf: (refreshToken: string) =>
      refreshToken === TBA_MARKER ? 'tba' : refreshToken.startsWith(M2M_PREFIX) ? 'm2m' : null,
    credentialTypes: (config: NetsuiteConfig) => netsuiteMethods(config).filter((m) => m !== 'oauth2'),
    permissions: NETSUITE_PERMISSIONS.map((p) => `${p.tab} > ${p.permission} (${p.level})`),
    connectWithCredentials,
    probe: async (client: unknown, signal?: AbortSignal) => {
      const p = await probe(client as NetsuiteClient, signal);
      return {
        externalId: p.externalId,
        displayName: p.companyName,
        missingPermissions: p.missingPermissions,
        details: { clock: p.clock, subsidiaries: p.subsidiaries },
      };
    },
  },
  refreshTokens: async ({ config, refreshToken, externalId, signal }) => {
    if (refreshToken === TBA_MARKER) {
      throw rejected('NetSuite refused the access token (revoked, expired, or its role changed)');
    }
    if (refreshToken.startsWith(M2M_PREFIX)) {
      try {
        const fresh = await m2mAccessToken(config, externalId, refreshToken.slice(M2M_PREFIX.length), {
          signal,
        });
        return { ...fresh, refreshToken, refreshTokenExpiresIn: null };
      } catch (err) {
        if (isConnectorError(err) && err.code !== 'provider_unavailable' && err.code !== 'network') {
          throw rejected(`NetSuite refused the client-credentials grant: ${err.message}`);
        }
        throw err;
      }
    }
    return refreshTokens({
      tokenUrl: netsuiteEndpoints(config, externalId).tokenUrl,
      ...requiredOauthClient(config),
      refreshToken,
      signal,
    });
  },
  disconnect: async ({ config, refreshToken, externalId, signal }) => {
    // TBA tokens and M2M mappings are revoked by an admin in NetSuite (see `disconnect` in connect.ts).
    if (refreshToken === TBA_MARKER || refreshToken.startsWith(M2M_PREFIX)) {
      const r = await disconnectAccount({
        config,
        accountId: externalId,
        authType: refreshToken === TBA_MARKER ? 'tba' : 'm2m',
      });
      return r.revoked ? undefined : { revoked: false as const, adminAction: r.adminAction };
    }
    await revokeToken({
      revokeUrl: netsuiteEndpoints(config, externalId).revokeUrl,
      ...requiredOauthClient(config),
      token: refreshToken,
      signal,
    });
  },
  oauth: {
    scopes: NETSUITE_SCOPES,
    callbackParams: NETSUITE_CALLBACK_PARAMS,
    endpoints: endpointsFor,
    pkce: true,
    buildAuthorizeUrl,
    parseCallback,
    exchangeCode,
    refresh: refreshTokens,
    revoke: revokeToken,
    /** The callback's `company` is proven by a probe of that account with the new token. */
    identify: async ({ config, tokens, claimedExternalId, signal, limiterFor }) => {
      if (!claimedExternalId) {
        return {
          ok: false,
          status: 400,
          title: 'NetSuite was not connected',
          message: 'NetSuite did not say which account.',
        };
      }
      const accountId = realmAccountId(claimedExternalId);
      const client = clientFor(config, accountId, tokens.accessToken, limiterFor?.(accountId));
      let companyName: string | null = null;
      try {
        companyName = (await probe(client, signal)).companyName;
      } catch (err) {
        if (isConnectorError(err) && err.code === 'unauthorized') {
          return { ok: false, status: 403, title: 'NetSuite was not connected', message: err.userMessage };
        }
        throw err;
      }
      return { ok: true, externalId: accountId, user: null, displayName: async () => companyName };
    },
  },
  /**
   * The vault's access token is either an OAuth 2.0 bearer token (code flow or M2M) or a TBA token pair written by
   * `connectWithTba` (`encodeTbaSecret`); both work through getAccessToken/onUnauthorized.
   */
  createClient: ({ config, externalId, getAccessToken, onUnauthorized, logger, limiter }) =>
    new NetsuiteClient({
      restUrl: netsuiteEndpoints(config, externalId).restUrl,
      accountId: externalId,
      concurrency: config.NETSUITE_CONCURRENCY,
      payLinkField: config.NETSUITE_PAY_LINK_FIELD,
      auth: {
        type: 'stored',
        consumerKey: config.NETSUITE_CONSUMER_KEY,
        consumerSecret: config.NETSUITE_CONSUMER_SECRET,
        getAccessToken,
        onUnauthorized,
      },
      logger,
      limiter,
    }),
  /** One pool per account and process, built by the composition root: NETSUITE_CONCURRENCY in flight, no rate. */
  createLimiter: (config: NetsuiteConfig) => new AccountPool(config.NETSUITE_CONCURRENCY),
  /** NetSuite's pool is concurrency, not a rate: a generous per-minute window, NETSUITE_CONCURRENCY in flight. */
  requestBudget: (config: NetsuiteConfig) => ({ concurrency: config.NETSUITE_CONCURRENCY, perMinute: 6000 }),
  poll: { everyMinutes: (config: NetsuiteConfig) => config.NETSUITE_POLL_MINUTES },
  sync: { pages: netsuitePages },
  /** No webhooks: the optional signed ping (ping.ts) only makes the next poll happen now. */
  webhooks: {
    verify: (raw, headers, secret) => verifyAccountPing(raw, headers, secret),
    parse: parsePing,
    secret: (config: NetsuiteConfig) => config.NETSUITE_PING_SECRET,
    companySecret: (config: NetsuiteConfig, externalId: string) =>
      config.NETSUITE_PING_SECRET ? accountPingSecret(config.NETSUITE_PING_SECRET, externalId) : undefined,
    secretName: 'NETSUITE_PING_SECRET',
    signatureHeader: 'x-duely-signature',
  },
  /** The invoice as NetSuite prints it, through Duely's RESTlet (NETSUITE_PDF_RESTLET; unset: no PDF links). */
  invoicePdf: fetchNetsuiteInvoicePdf,
  invoicePdfAvailable: (config: NetsuiteConfig) => config.NETSUITE_PDF_RESTLET !== undefined,
  read: {
    invoices: async (ctx, ids) => {
      const { invoices, missing } = await readInvoices(ctx.client, ids, ctx.signal);
      return { invoices, deleted: missing.map((externalId) => ({ externalId })) };
    },
  },
} satisfies Connector<NetsuiteConfig, NetsuiteClient, NetsuiteCursor>;

export {
  decodeTbaSecret,
  encodeTbaSecret,
  type NetsuiteAuth,
  NetsuiteClient,
  type NetsuiteClientOptions,
  type SuiteqlPage,
  type SuiteqlRow,
} from './client';
export {
  anyAccountAuthorizeUrl,
  hostAccountId,
  isAccountId,
  type NetsuiteConfig,
  type NetsuiteEndpoints,
  netsuiteConfigSchema,
  netsuiteEndpoints,
  netsuiteMethods,
  parseNetsuiteConfig,
  realmAccountId,
} from './config';
export {
  type ConnectResult,
  connectWithM2m,
  connectWithTba,
  type DisconnectResult,
  disconnect,
  m2mAccessToken,
  NETSUITE_PERMISSIONS,
  type NetsuiteProbe,
  type NetsuiteSubsidiary,
  probe,
  probe as identify,
} from './connect';
export { errorFromResponse, LOGIN_AUDIT_TRAIL } from './faults';
export {
  clientCredentialsToken,
  createPkce,
  NETSUITE_REFRESH_TOKEN_LIFETIME_S,
  type Pkce,
  type RefreshTokenHealth,
  refreshTokenExpiresAt,
  refreshTokenHealth,
} from './oauth2';
export {
  accountPingSecret,
  PING_TOLERANCE_S,
  parsePing,
  signPing,
  verifyAccountPing,
  verifyPing,
} from './ping';
export { AccountPool } from './pool';
export {
  accountClock,
  NETSUITE_OVERLAP_MINUTES,
  type NetsuiteCursor,
  type NetsuiteSyncOptions,
  netsuitePages,
  readInvoices,
} from './resources';
export { authorizeTba, signTba, type TbaCredentials } from './tba';
