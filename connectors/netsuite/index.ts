/**
 * The NetSuite connector: the parts today's contract has (OAuth 2.0 code flow, client factory, sync), plus named
 * exports for the parts the extended contract will take (config schema, identify/probe, live read of invoices,
 * credential connects, disconnect). Not registered in connectors/index.ts yet: the lead wires it.
 */
import type { Connector, OAuthEndpoints } from '../types';
import { NetsuiteClient } from './client';
import { anyAccountAuthorizeUrl, type NetsuiteConfig, netsuiteEndpoints } from './config';
import {
  buildAuthorizeUrl,
  exchangeCode,
  NETSUITE_CALLBACK_PARAMS,
  NETSUITE_SCOPES,
  parseCallback,
  refreshTokens,
  revokeToken,
} from './oauth2';
import { type NetsuiteCursor, netsuitePages } from './resources';

/**
 * Endpoints without an account (the contract's `endpoints(config)`): authorize goes to system.netsuite.com, which
 * routes the user to their account; token/revoke/API URLs are per account, so use `netsuiteEndpoints(config,
 * accountId)` for those (the callback's `company` says which account).
 */
function endpointsWithoutAccount(config: NetsuiteConfig): OAuthEndpoints {
  const placeholder = netsuiteEndpoints(config, 'ACCOUNT');
  return {
    authorizeUrl: anyAccountAuthorizeUrl(config),
    tokenUrl: placeholder.tokenUrl,
    revokeUrl: placeholder.revokeUrl,
    userInfoUrl: '',
    apiBaseUrl: placeholder.restUrl,
  };
}

export const netsuite = {
  provider: 'netsuite',
  displayName: 'Oracle NetSuite',
  oauth: {
    scopes: NETSUITE_SCOPES,
    callbackParams: NETSUITE_CALLBACK_PARAMS,
    endpoints: endpointsWithoutAccount,
    buildAuthorizeUrl,
    parseCallback,
    exchangeCode,
    refresh: refreshTokens,
    revoke: revokeToken,
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
  sync: { pages: netsuitePages },
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
export { parsePing, PING_TOLERANCE_S, signPing, verifyPing } from './ping';
export { AccountPool, poolForAccount } from './pool';
export {
  accountClock,
  NETSUITE_OVERLAP_MINUTES,
  type NetsuiteCursor,
  type NetsuiteSyncOptions,
  netsuitePages,
  readInvoices,
} from './resources';
export { authorizeTba, signTba, type TbaCredentials } from './tba';
